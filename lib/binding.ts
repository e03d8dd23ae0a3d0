// Private: the raw addon's shape, and how it is found and loaded. Not exported from the package.
import * as path from 'node:path';
import * as fs from 'node:fs';
import { CrossmodalError } from './errors';
import type {
  ImageOptions,
  IndexInfo,
  LoadIndexOptions,
  LoadOptions,
  LoadTokenizerOptions,
  ModelInfo,
  ModelStats,
  TokenizeOptions,
  TokenizerInfo,
} from './types';

export interface NativeEmbeddings {
  buffer: ArrayBuffer;
  count: number;
  dim: number;
}

export interface NativeTokens {
  ids: ArrayBuffer;
  lengths: ArrayBuffer;
  contextLength: number;
  count: number;
  /** `ids` holds int64 values (else int32). */
  int64: boolean;
}

export type NativeTokenizerInfo = Omit<TokenizerInfo, 'threads'>;

export type NativeTokenIds = Int32Array | BigInt64Array | number[];

export interface NativeTextTokenizer {
  tokenize(texts: string[], options: TokenizeOptions): Promise<NativeTokens>;
  decode(ids: NativeTokenIds, skipSpecialTokens: boolean): string;
  tokenToId(token: string): number;
  idToToken(id: number): string;
  /** Test hook (CLIP BPE only): BPE of one pre-token given as raw bytes, last symbol + "</w>". */
  bpeWordBytes(bytes: Uint8Array): Int32Array;
  info(): NativeTokenizerInfo & { threads: number };
  dispose(): void;
}

/** load()'s options as the addon reads them: `warmup` is handled in TS, the library path is resolved. */
export type NativeLoadOptions = Omit<LoadOptions, 'warmup' | 'ortLibrary'> & { ortLibrary: string };

/** An opaque handle on a queued call, for cancel(). Null when the call was rejected at once. */
export type NativeCallHandle = object | null;

export type NativeImageInput =
  | string
  | Uint8Array
  | { data: Uint8Array; width: number; height: number; channels: number }
  | { tensor: Float32Array; width?: number; height?: number };

/** The image pipeline's options, plus the decoding thread count of the standalone preprocessImages(). */
export type NativeImageOptions = ImageOptions & { threads?: number };

export interface NativePreprocessResult {
  buffer: ArrayBuffer;
  count: number;
  height: number;
  width: number;
  failures: { index: number; code: string; message: string }[];
}

export interface NativeEncoderSession {
  embedTexts(texts: string[], normalize: boolean, timeoutMs?: number): [Promise<NativeEmbeddings>, NativeCallHandle];
  embedImages(
    images: NativeImageInput[],
    normalize: boolean,
    timeoutMs?: number,
    imageOptions?: NativeImageOptions,
  ): [Promise<NativeEmbeddings>, NativeCallHandle];
  cancel(handle: NativeCallHandle, code: 'ERR_ABORTED' | 'ERR_DEADLINE_EXCEEDED'): void;
  preprocess(images: NativeImageInput[], options: NativeImageOptions): Promise<NativePreprocessResult>;
  tokenize(texts: string[]): Promise<NativeTokens>;
  decode(ids: NativeTokenIds, skipSpecialTokens: boolean): string;
  tokenizerInfo(): NativeTokenizerInfo;
  info(): ModelInfo;
  stats(): ModelStats;
  dispose(): void;
}

// --- Vector search ---
export interface NativeRangeResult {
  offsets: ArrayBuffer;
  ids: ArrayBuffer;
  scores: ArrayBuffer;
  queries: number;
}

/** info() as the addon reports it: the creation spec as JSON, from which TS derives type, metric, dim and params. */
export type NativeIndexInfo = Omit<IndexInfo, 'type' | 'metric' | 'dim' | 'params'> & { spec: string };

/**
 * Search parameters, passed positionally after the fixed arguments: reading an options object's
 * properties through N-API costs a key string per property and call.
 */
export type NativeSearchArguments = [
  efSearch: number | undefined,
  nprobe: number | undefined,
  allow: BigInt64Array | undefined,
  deny: BigInt64Array | undefined,
];

export interface NativeVectorIndex {
  train(vectors: Float32Array): Promise<void>;
  add(vectors: Float32Array, ids: BigInt64Array | undefined, upsert: boolean): Promise<number>;
  remove(ids: BigInt64Array): Promise<number>;
  has(ids: BigInt64Array): Promise<ArrayBuffer>;
  reconstruct(id: bigint): Promise<ArrayBuffer | null>;
  /** Resolves to one buffer: queries × k int64 ids, then queries × k float32 scores. */
  search(queries: Float32Array, k: number, ...options: NativeSearchArguments): Promise<ArrayBuffer>;
  rangeSearch(queries: Float32Array, threshold: number, ...options: NativeSearchArguments): Promise<NativeRangeResult>;
  save(path: string, fingerprint: string): Promise<void>;
  rebuild(): Promise<number>;
  info(): Promise<NativeIndexInfo>;
  size(): number;
  dim(): number;
  dispose(): void;
}

export type NativeLoadIndexOptions = LoadIndexOptions;

export interface NativeVectorIndexClass {
  new (specJson: string): NativeVectorIndex;
  load(path: string, options: NativeLoadIndexOptions): Promise<NativeVectorIndex>;
  recommend(n: number, dim: number): string;
}
// --- end vector search ---

export interface NativeRuntimeInfo {
  path: string;
  version: string;
  apiVersion: number;
  availableProviders: string[];
}

export interface NativeSimilarityOptions {
  scale: number;
  softmax: boolean;
}

/** An exclusive flock on `<dir>/LOCK`; the kernel drops it when the process dies. */
export interface NativeDirectoryLock {
  /** Idempotent. Collecting the handle without it releases the lock too. */
  release(): void;
  held(): boolean;
}

/** What probeImage() reads from an encoded image's headers (no pixels are decoded). */
export interface NativeImageHeader {
  format: 'jpeg' | 'png' | 'webp' | 'gif';
  /** As stored in the file, before any EXIF orientation is applied. */
  width: number;
  height: number;
  /** The EXIF Orientation tag (1..8), or 0 when there is none; 5..8 swap width and height. */
  orientation: number;
}

export interface NativeAddon {
  EncoderSession: { load(dir: string, options: NativeLoadOptions): Promise<NativeEncoderSession> };
  VectorIndex: NativeVectorIndexClass;
  TextTokenizer: { load(dir: string, options: LoadTokenizerOptions): Promise<NativeTextTokenizer> };
  loadRuntime(libraryPath: string): Promise<NativeRuntimeInfo>;
  runtimeInfo(): NativeRuntimeInfo | null;
  similarity(a: Float32Array, b: Float32Array, dim: number, options: NativeSimilarityOptions): Promise<ArrayBuffer>;
  groupMeans(rows: Float32Array, dim: number, group: number): Promise<ArrayBuffer>;
  /** Throws ERR_LOCKED ("<what> <dir> is open in another process (pid N) or already open in this one") or ERR_IO. */
  DirectoryLock: new (dir: string, what?: string) => NativeDirectoryLock;
  preprocessImages(
    images: NativeImageInput[],
    configJson: string,
    options: NativeImageOptions,
  ): Promise<NativePreprocessResult>;
  /**
   * Format and size from the headers of a JPEG, PNG, WebP or GIF, synchronously (headers only, the
   * native decoders' own parsing); null for anything else or a header cut short. Throws
   * ERR_INVALID_ARGUMENT unless given a Uint8Array.
   */
  probeImage(bytes: Uint8Array): NativeImageHeader | null;
  napiVersion: number;
}

/**
 * The package root (where package.json, build/ and prebuilds/ are): the nearest directory above
 * this file whose package.json is crossmodal's. Works from dist/cjs/ and from lib/ (tests).
 */
export const packageRoot = ((): string => {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string };
      if (pkg.name === 'crossmodal') return dir;
    } catch {
      // no package.json here; keep walking up
    }
    if (path.dirname(dir) === dir) return path.resolve(__dirname, '..', '..');
  }
})();

let addon: NativeAddon | undefined;

interface NodeGypBuild {
  (dir: string): unknown;
  path(dir: string): string;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const nodeGypBuild = (): NodeGypBuild => require('node-gyp-build') as NodeGypBuild;

/**
 * CROSSMODAL_ADDON_PATH names an addon file to load instead of node-gyp-build's pick: for
 * sanitizer and debug builds, which live outside prebuilds/ and build/Release
 * (tools/test-sanitized-addon.sh loads the ASan + UBSan build this way, docs/fuzzing.md). Unset or
 * empty, the default applies.
 */
function explicitAddonPath(): string | undefined {
  const fromEnv = process.env.CROSSMODAL_ADDON_PATH;
  return fromEnv ? path.resolve(fromEnv) : undefined;
}

/**
 * The addon file that is loaded: CROSSMODAL_ADDON_PATH when set, else node-gyp-build's pick
 * (prebuilds/<platform>-<arch>/ first, then build/Release).
 */
export function nativePath(): string {
  return explicitAddonPath() ?? nodeGypBuild().path(packageRoot);
}

/** Loads the addon on first use (CROSSMODAL_ADDON_PATH, else prebuilt binary first, then a local build). */
export function native(): NativeAddon {
  if (addon) return addon;
  // Vector search: FAISS's OpenMP threads otherwise spin after every parallel region, starving
  // OpenBLAS's threads (batched flat search 5× slower on 2 cores) and burning idle CPU. Only a
  // default (an explicit setting wins); it must be in place before libgomp loads with the addon.
  process.env.OMP_WAIT_POLICY ??= 'passive';
  try {
    const explicit = explicitAddonPath();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    addon = (explicit ? require(explicit) : nodeGypBuild()(packageRoot)) as NativeAddon;
  } catch (error) {
    const platform = `${process.platform}-${process.arch}`;
    throw new CrossmodalError(
      'ERR_NATIVE_BINDING',
      `crossmodal: could not load the native addon for ${platform} (Node ${process.versions.node}, ` +
        `N-API ${process.versions.napi}). ${(error as Error).message}\n` +
        `Prebuilt binaries exist for linux-x64 (glibc); they need libgomp1, a BLAS (libopenblas0), ` +
        `libsentencepiece0, libjpeg62-turbo and libpng16-16 installed: on Debian/Ubuntu run ` +
        `\`apt-get install libgomp1 libopenblas0-pthread libsentencepiece0 libjpeg62-turbo libpng16-16\`. ` +
        `To build from source instead, install cmake, g++ and the libraries listed by ` +
        `tools/setup-native.sh, then run \`npm rebuild crossmodal\`.`,
      { cause: error },
    );
  }
  return addon;
}

/**
 * Where ONNX Runtime's shared library is: the `ortLibrary` option, else CROSSMODAL_ORT_LIBRARY,
 * else the library shipped by the `onnxruntime-node` package.
 */
export function resolveOrtLibrary(explicit?: string): string {
  if (explicit) return path.resolve(explicit);
  const fromEnv = process.env.CROSSMODAL_ORT_LIBRARY;
  if (fromEnv) return path.resolve(fromEnv);
  let ortRoot: string;
  try {
    ortRoot = path.dirname(require.resolve('onnxruntime-node/package.json'));
  } catch (error) {
    throw new CrossmodalError(
      'ERR_RUNTIME_UNAVAILABLE',
      'ONNX Runtime not found: install the onnxruntime-node package, or set CROSSMODAL_ORT_LIBRARY ' +
        'to a libonnxruntime shared library',
      { cause: error },
    );
  }
  const names: Record<string, string> = {
    linux: 'libonnxruntime.so.1',
    darwin: 'libonnxruntime.1.dylib',
    win32: 'onnxruntime.dll',
  };
  const name = names[process.platform] ?? 'libonnxruntime.so.1';
  const dir = path.join(ortRoot, 'bin', 'napi-v6', process.platform, process.arch);
  const candidate = path.join(dir, name);
  if (fs.existsSync(candidate)) return candidate;
  // onnxruntime-node names the macOS library with its full version; take whichever is there.
  if (fs.existsSync(dir)) {
    const found = fs.readdirSync(dir).find((f) => /^(lib)?onnxruntime[.\d]*\.(so[.\d]*|dylib|dll)$/.test(f));
    if (found) return path.join(dir, found);
  }
  throw new CrossmodalError(
    'ERR_RUNTIME_UNAVAILABLE',
    `onnxruntime-node ships no ONNX Runtime library for ${process.platform}-${process.arch} (looked in ${dir}); ` +
      'set CROSSMODAL_ORT_LIBRARY to one',
  );
}
