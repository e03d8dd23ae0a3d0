/**
 * `pull('org/name')`: downloads the files a model bundle needs from the Hugging Face hub into the
 * shared cache, and `resolveModel('org/name')`: finds a pulled snapshot without any network access.
 *
 * The order of a pull keeps the cache consistent at every moment:
 * 1. the model API names the revision's commit and files; only the bundle's files are chosen
 *    (configs, tokenizer files, one precision of the ONNX towers and their external data);
 * 2. each file not yet in the snapshot is described by a HEAD on `resolve/<commit>/<file>` (so
 *    every file comes from the same commit even if the branch moves meanwhile);
 * 3. missing blobs are downloaded into `blobs/<etag>.incomplete` (resumable), checked for size and
 *    hash, and renamed into place;
 * 4. only when every blob is present are the snapshot's symlinks created, then `refs/<revision>`.
 * A failed pull therefore leaves at most verified blobs and `.incomplete` files (resumed next time),
 * never a snapshot entry pointing at a missing or wrong file.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { native, packageRoot, type NativeDirectoryLock } from '../binding';
import { checkBoolean, checkPath, guarded } from '../checks';
import { CrossmodalError, fromNative, invalidArgument } from '../errors';
import {
  checkRepoId,
  checkRevision,
  COMMIT_HASH,
  hfHome,
  hubCacheDir,
  isSafeRelativePath,
  listSnapshotFiles,
  offlineMode,
  RepoCache,
} from './cache';
import {
  cacheError,
  downloadResumable,
  fileMetadata,
  getJson,
  isFileSystemError,
  verifyBlob,
  type HubRequestOptions,
} from './download';

export type PullPrecision = 'fp32' | 'fp16' | 'int8' | 'q4';

export interface PullProgress {
  /** The file being downloaded (as named on the hub, e.g. `onnx/vision_model.onnx`). */
  file: string;
  /** Bytes of `file` on disk so far, and its size when the hub announced it. */
  fileBytes: number;
  fileSize: number | undefined;
  /** Bytes on disk of all the files this pull downloads, and their announced total. */
  bytes: number;
  totalBytes: number;
  /** 1-based position of `file` among the `fileCount` files to download. */
  fileIndex: number;
  fileCount: number;
}

export interface ResolveOptions {
  /** Branch, tag or commit (default `main`). */
  revision?: string;
  /** Which ONNX variant must be present (default: any, preferring fp32, then int8, fp16, q4). */
  precision?: PullPrecision;
  /** The cache folder (default: `$HF_HUB_CACHE`, else `$HF_HOME/hub`, else `~/.cache/huggingface/hub`). */
  cacheDir?: string;
}

export interface PullOptions extends ResolveOptions {
  /** Access token (default: `$HF_TOKEN`, else the token file huggingface_hub's login writes); `false` sends none. */
  token?: string | false;
  /** The hub (default: `$HF_ENDPOINT`, else `https://huggingface.co`). */
  endpoint?: string;
  /** Use the cache only, never the network (default: `$HF_HUB_OFFLINE`). */
  offline?: boolean;
  /** Called as bytes arrive. */
  onProgress?: (progress: PullProgress) => void;
  signal?: AbortSignal;
  /** Per request: fail when the server sends nothing for this long (default `$HF_HUB_DOWNLOAD_TIMEOUT` s, else 10 s). */
  timeoutMs?: number;
  /** Further attempts after a dropped connection, a stall or a 429/5xx answer (default 3); downloads resume where they stopped. */
  retries?: number;
}

/** What a pull did. */
export interface PullResult {
  /** The snapshot directory: load it with `load(dir)`. */
  dir: string;
  repoId: string;
  revision: string;
  commit: string;
  precision: PullPrecision;
  /** The bundle's files, as named on the hub. */
  files: string[];
  /** Files and bytes fetched by this pull (0 when everything was cached). */
  downloadedFiles: string[];
  downloadedBytes: number;
}

const PRECISIONS: readonly PullPrecision[] = ['fp32', 'fp16', 'int8', 'q4'];
// File-name suffixes of each precision, in the order the native loader (model_bundle.cc) prefers them.
const VARIANT_SUFFIXES: Record<PullPrecision, string[]> = {
  fp32: [''],
  fp16: ['_fp16'],
  int8: ['_quantized', '_int8', '_uint8'],
  q4: ['_q4'],
};
// The loader's CPU preference when no precision is asked for.
const DEFAULT_ORDER: PullPrecision[] = ['fp32', 'int8', 'fp16', 'q4'];

// Every non-ONNX file the loader or a tokenizer may read, at the bundle's root (model_bundle.cc,
// tokenizer_factory.cc), plus special_tokens_map.json that Transformers.js exports carry.
const BUNDLE_FILES = new Set([
  'config.json',
  'preprocessor_config.json',
  'preprocess_cfg.json',
  'open_clip_config.json',
  'visual/preprocess_cfg.json',
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'vocab.json',
  'merges.txt',
  'spiece.model',
  'sentencepiece.bpe.model',
  'tokenizer.model',
  'bpe_simple_vocab_16e6.txt',
  'bpe_simple_vocab_16e6.txt.gz',
]);

/** The ONNX file of `stem` (e.g. `onnx/vision_model`) at `precision`, if the list has one. */
function findVariant(present: Set<string>, stem: string, precision: PullPrecision): string | undefined {
  for (const suffix of VARIANT_SUFFIXES[precision]) {
    const name = `${stem}${suffix}.onnx`;
    if (present.has(name)) return name;
  }
  return undefined;
}

function presentPrecisions(present: Set<string>, stems: string[]): PullPrecision[] {
  return PRECISIONS.filter((p) => stems.every((stem) => findVariant(present, stem, p) !== undefined));
}

/**
 * The files of a bundle among `files` (a repository's or a snapshot's), at `precision` (default:
 * the loader's CPU preference). Mirrors the native loader's layouts: open_clip's
 * `visual/` + `textual/model*.onnx`, Transformers.js' `onnx/vision_model*` + `onnx/text_model*`,
 * else a combined `onnx/model*.onnx`; each with its external-data files.
 * @throws {CrossmodalError} `ERR_MODEL_LOAD` when there is no config.json, no ONNX export, or not the precision asked for
 */
export function selectBundleFiles(
  files: string[],
  precision: PullPrecision | undefined,
  where: string,
): { files: string[]; precision: PullPrecision; available: PullPrecision[] } {
  const present = new Set(files);
  if (!present.has('config.json')) {
    throw new CrossmodalError(
      'ERR_MODEL_LOAD',
      `${where} has no config.json: it is not a model bundle crossmodal can load`,
    );
  }
  let stems: string[];
  if (present.has('visual/model.onnx') || present.has('textual/model.onnx')) stems = ['visual/model', 'textual/model'];
  else if (presentPrecisions(present, ['onnx/vision_model', 'onnx/text_model']).length > 0)
    stems = ['onnx/vision_model', 'onnx/text_model'];
  else stems = ['onnx/model'];
  const available = presentPrecisions(present, stems);
  if (available.length === 0) {
    throw new CrossmodalError(
      'ERR_MODEL_LOAD',
      `${where} has no ONNX export crossmodal can load (onnx/vision_model.onnx + onnx/text_model.onnx, onnx/model.onnx, ` +
        'or visual/model.onnx + textual/model.onnx); pick an ONNX export such as Xenova/clip-vit-base-patch32',
    );
  }
  let chosen: PullPrecision;
  if (precision !== undefined) {
    if (!available.includes(precision)) {
      throw new CrossmodalError(
        'ERR_MODEL_LOAD',
        `${where} has no ${precision} variant (available: ${available.join(', ')})`,
      );
    }
    chosen = precision;
  } else {
    chosen = DEFAULT_ORDER.find((p) => available.includes(p)) as PullPrecision;
  }
  const selected = files.filter((f) => BUNDLE_FILES.has(f));
  for (const stem of stems) {
    const model = findVariant(present, stem, chosen) as string;
    selected.push(model);
    // External data ONNX writes beside a model over 2 GB: <model>.onnx_data, _data_1, .data.
    const externalData = new RegExp(`^${escapeRegExp(model)}(_data(_\\d+)?|\\.data)$`);
    selected.push(...files.filter((f) => externalData.test(f)));
  }
  return { files: [...new Set(selected)], precision: chosen, available };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function checkPrecision(precision: unknown): PullPrecision | undefined {
  if (precision === undefined) return undefined;
  if (!PRECISIONS.includes(precision as PullPrecision))
    throw invalidArgument(`precision must be one of ${PRECISIONS.join(', ')}`);
  return precision as PullPrecision;
}

function checkOptions(
  repoId: unknown,
  options: unknown,
): { repoId: string; revision: string; precision: PullPrecision | undefined; cache: RepoCache } {
  if (options === null || typeof options !== 'object' || Array.isArray(options))
    throw invalidArgument('options must be an object');
  const o = options as ResolveOptions;
  const id = checkRepoId(repoId);
  const revision = checkRevision(o.revision ?? 'main');
  const precision = checkPrecision(o.precision);
  if (o.cacheDir !== undefined) checkPath(o.cacheDir, 'cacheDir');
  return {
    repoId: id,
    revision,
    precision,
    cache: new RepoCache(o.cacheDir ? path.resolve(o.cacheDir) : hubCacheDir(), id),
  };
}

/** The cached snapshot of `revision` with a loadable bundle, or undefined when it is not cached. */
function cachedSnapshot(
  cache: RepoCache,
  revision: string,
  precision: PullPrecision | undefined,
): PullResult | undefined {
  const commit = cache.readRef(revision);
  if (!commit) return undefined;
  const dir = cache.snapshotDir(commit);
  // Entries whose blob is missing (a half-deleted cache) do not count.
  const files = listSnapshotFiles(dir).filter((f) => fs.existsSync(path.join(dir, f)));
  // The loader follows the snapshot's symlinks: each must stay inside the repository's folder
  // (huggingface_hub's links go to ../../blobs/<etag>; on Windows its entries are plain copies).
  // A planted link to /etc/passwd or another user's files is refused, not read as a model file.
  const repoRoot = realpathOr(cache.dir);
  const snapshot = path.relative(cache.dir, dir);
  for (const f of [snapshot, ...files.map((file) => path.join(snapshot, file))]) {
    const real = realpathOr(path.join(cache.dir, f));
    if (real !== repoRoot && !real.startsWith(repoRoot + path.sep))
      throw new CrossmodalError(
        'ERR_HUB',
        `refusing the cached snapshot of ${cache.repoId}: ${f} leads out of the repository's cache folder (to ${real})`,
      );
  }
  if (files.length === 0) return undefined;
  const selection = selectBundleFiles(files, precision, `the cached snapshot ${dir} of ${cache.repoId}@${revision}`);
  return {
    dir,
    repoId: cache.repoId,
    revision,
    commit,
    precision: selection.precision,
    files: selection.files,
    downloadedFiles: [],
    downloadedBytes: 0,
  };
}

function realpathOr(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

/**
 * The snapshot directory of a model pulled before (by crossmodal or by Python's huggingface_hub),
 * without any network access.
 * @param repoId - `org/name`
 * @returns the directory, ready for `load(dir)`
 * @throws {CrossmodalError} `ERR_MODEL_LOAD` when it is not cached (the message says to run
 *   `crossmodal pull org/name`) or the cached files are not a loadable bundle; `ERR_INVALID_ARGUMENT`
 * @example
 * const model = await load(resolveModel('Xenova/clip-vit-base-patch32'));
 */
export function resolveModel(repoId: string, options: ResolveOptions = {}): string {
  return guarded(() => resolveCached(repoId, options));
}

function resolveCached(repoId: string, options: ResolveOptions): string {
  const { repoId: id, revision, precision, cache } = checkOptions(repoId, options);
  const found = cachedSnapshot(cache, revision, precision);
  if (!found) {
    const rev = revision === 'main' ? '' : ` --revision ${revision}`;
    throw new CrossmodalError(
      'ERR_MODEL_LOAD',
      `${id}${revision === 'main' ? '' : `@${revision}`} is not in the Hugging Face cache (${cache.cacheDir}): run \`crossmodal pull ${id}${rev}\` first`,
    );
  }
  return found.dir;
}

/**
 * Downloads a model bundle from the Hugging Face hub into the shared cache (huggingface_hub's
 * layout) and returns its snapshot directory. Files already cached are not downloaded again;
 * interrupted downloads resume; every file is checked against the hub's size and hash.
 * @param repoId - `org/name`, e.g. `Xenova/clip-vit-base-patch32`
 * @returns the snapshot directory, ready for `load(dir)`
 * @throws {CrossmodalError} `ERR_UNAUTHORIZED` (private or gated: set `HF_TOKEN`), `ERR_NOT_FOUND`
 *   (no such repository, revision or file; or offline and not cached), `ERR_HUB` (a bad answer, a
 *   file failing its check, an unsafe file name), `ERR_MODEL_LOAD` (not an ONNX bundle, or not the
 *   precision asked for), `ERR_IO`, `ERR_DEADLINE_EXCEEDED`, `ERR_ABORTED`, `ERR_LOCKED` (another
 *   pull of the same model is running), `ERR_INVALID_ARGUMENT`
 * @example
 * const dir = await pull('Xenova/clip-vit-base-patch32', { precision: 'int8' });
 * const model = await load(dir);
 */
export async function pull(repoId: string, options: PullOptions = {}): Promise<string> {
  return (await pullSnapshot(repoId, options)).dir;
}

/** {@link pull}, returning what was done (the command line prints it). */
export async function pullSnapshot(repoId: string, options: PullOptions = {}): Promise<PullResult> {
  return guarded(async () => {
    try {
      return await pullInto(repoId, options);
    } catch (error) {
      throw isFileSystemError(error) ? cacheError(error) : error;
    }
  });
}

async function pullInto(repoId: string, options: PullOptions): Promise<PullResult> {
  const { repoId: id, revision, precision, cache } = checkOptions(repoId, options);
  const http = requestOptions(options);
  checkBoolean(options.offline, 'options.offline');
  const offline = options.offline ?? offlineMode();
  if (offline) {
    const found = cachedSnapshot(cache, revision, precision);
    if (!found) {
      throw new CrossmodalError(
        'ERR_NOT_FOUND',
        `offline mode (HF_HUB_OFFLINE) and ${id}@${revision} is not in the cache (${cache.cacheDir})`,
      );
    }
    return found;
  }

  const what = `${id}@${revision}`;
  const info = await getJson(`${http.endpoint}/api/models/${id}/revision/${encodeURIComponent(revision)}`, what, http);
  const { commit, siblings } = parseModelInfo(info, what);
  const unsafe = siblings.find((name) => !isSafeRelativePath(name));
  if (unsafe !== undefined) {
    throw new CrossmodalError(
      'ERR_HUB',
      `refusing ${what}: the hub lists the file name ${JSON.stringify(unsafe)}, which would leave the cache`,
    );
  }
  const selection = selectBundleFiles(siblings, precision, what);

  fs.mkdirSync(cache.blobsDir, { recursive: true });
  const lock = lockRepo(cache);
  try {
    // Which files need a blob, and which blobs need downloading.
    const toLink: { file: string; etag: string }[] = [];
    const toDownload: { file: string; etag: string; size: number | undefined; url: string }[] = [];
    for (const file of selection.files) {
      cache.pointerPath(commit, file); // refuses unsafe paths before any network work
      if (cache.cachedBlob(commit, file)) continue;
      const url = resolveUrl(http.endpoint, id, commit, file);
      const meta = await fileMetadata(url, `${id}/${file}@${commit.slice(0, 12)}`, http);
      if (meta.commit !== undefined && meta.commit !== commit) {
        throw new CrossmodalError(
          'ERR_HUB',
          `${id}/${file}: asked for commit ${commit}, the hub answered for ${meta.commit}`,
        );
      }
      const blob = cache.blobPath(meta.etag);
      toLink.push({ file, etag: meta.etag });
      if (!existingBlobMatches(blob, meta.size) && !toDownload.some((d) => d.etag === meta.etag)) {
        toDownload.push({ file, etag: meta.etag, size: meta.size, url });
      }
    }

    const totalBytes = toDownload.reduce((sum, d) => sum + (d.size ?? 0), 0);
    let doneBytes = 0;
    let downloadedBytes = 0;
    for (const [i, item] of toDownload.entries()) {
      const blob = cache.blobPath(item.etag);
      const report = (fileBytes: number): void =>
        options.onProgress?.({
          file: item.file,
          fileBytes,
          fileSize: item.size,
          bytes: doneBytes + fileBytes,
          totalBytes,
          fileIndex: i + 1,
          fileCount: toDownload.length,
        });
      const size = await downloadBlob(blob, item, `${id}/${item.file}`, http, report);
      doneBytes += item.size ?? size;
      downloadedBytes += size;
    }

    for (const { file, etag } of toLink) cache.placePointer(commit, file, etag);
    cache.writeRef(revision, commit);
    return {
      dir: cache.snapshotDir(commit),
      repoId: id,
      revision,
      commit,
      precision: selection.precision,
      files: selection.files,
      downloadedFiles: toDownload.map((d) => d.file),
      downloadedBytes,
    };
  } finally {
    lock.release();
  }
}

/** Downloads one blob into `<blob>.incomplete`, verifies it and renames it into place. */
async function downloadBlob(
  blob: string,
  item: { etag: string; size: number | undefined; url: string },
  what: string,
  http: HubRequestOptions,
  onBytes: (bytes: number) => void,
): Promise<number> {
  const incomplete = `${blob}.incomplete`;
  // A resumed file whose hash fails may hold stale bytes from an older attempt: one fresh try.
  for (let fresh = false; ; fresh = true) {
    const { size, resumed } = await downloadResumable(item.url, incomplete, item.size, what, http, onBytes);
    let problem =
      item.size !== undefined && size !== item.size ? `${size} bytes, the hub announced ${item.size}` : undefined;
    problem ??= await verifyBlob(incomplete, item.etag);
    if (!problem) {
      fs.renameSync(incomplete, blob);
      return size;
    }
    fs.rmSync(incomplete, { force: true });
    if (!resumed || fresh)
      throw new CrossmodalError('ERR_HUB', `${what} failed its check and was discarded: ${problem}`);
  }
}

function existingBlobMatches(blob: string, size: number | undefined): boolean {
  try {
    const stat = fs.statSync(blob);
    return stat.isFile() && (size === undefined || stat.size === size);
  } catch {
    return false;
  }
}

function parseModelInfo(info: unknown, what: string): { commit: string; siblings: string[] } {
  const body = info as { sha?: unknown; siblings?: unknown };
  if (typeof body?.sha !== 'string' || !COMMIT_HASH.test(body.sha)) {
    throw new CrossmodalError('ERR_HUB', `${what}: the model API sent no commit hash ("sha")`);
  }
  if (!Array.isArray(body.siblings))
    throw new CrossmodalError('ERR_HUB', `${what}: the model API sent no file list ("siblings")`);
  const siblings = body.siblings.map((s: unknown) => {
    const name = (s as { rfilename?: unknown })?.rfilename;
    if (typeof name !== 'string')
      throw new CrossmodalError('ERR_HUB', `${what}: the model API sent a file without "rfilename"`);
    return name;
  });
  return { commit: body.sha, siblings };
}

/** `{endpoint}/{repo}/resolve/{revision}/{file}`, quoted as huggingface_hub's hf_hub_url does. */
function resolveUrl(endpoint: string, repoId: string, revision: string, file: string): string {
  return `${endpoint}/${repoId}/resolve/${encodeURIComponent(revision)}/${file.split('/').map(encodeURIComponent).join('/')}`;
}

function requestOptions(options: PullOptions): HubRequestOptions & { endpoint: string } {
  if (options.endpoint !== undefined && typeof options.endpoint !== 'string')
    throw invalidArgument('endpoint must be a URL string');
  const endpoint = (options.endpoint ?? process.env.HF_ENDPOINT ?? 'https://huggingface.co').replace(/\/+$/, '');
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw invalidArgument(`endpoint "${endpoint}" is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw invalidArgument(`endpoint must be an http(s) URL, got "${endpoint}"`);
  let timeoutMs = options.timeoutMs;
  if (timeoutMs === undefined && process.env.HF_HUB_DOWNLOAD_TIMEOUT)
    timeoutMs = Number(process.env.HF_HUB_DOWNLOAD_TIMEOUT) * 1000;
  timeoutMs ??= 10_000;
  if (!(Number.isFinite(timeoutMs) && timeoutMs > 0))
    throw invalidArgument('timeoutMs (or HF_HUB_DOWNLOAD_TIMEOUT) must be a positive number');
  const retries = options.retries ?? 3;
  if (!Number.isInteger(retries) || retries < 0) throw invalidArgument('retries must be a non-negative integer');
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal))
    throw invalidArgument('signal must be an AbortSignal');
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function')
    throw invalidArgument('onProgress must be a function');
  if (options.token !== undefined && options.token !== false && typeof options.token !== 'string')
    throw invalidArgument('token must be a string or false');
  return {
    endpoint,
    token: resolveToken(options.token),
    timeoutMs,
    retries,
    signal: options.signal,
    userAgent: userAgent(),
  };
}

/** huggingface_hub's order: the argument, `$HF_TOKEN`, `$HUGGING_FACE_HUB_TOKEN`, then the file `huggingface-cli login` writes. */
function resolveToken(token: string | false | undefined): string | undefined {
  if (token === false) return undefined;
  if (token) return token;
  const fromEnv = process.env.HF_TOKEN || process.env.HUGGING_FACE_HUB_TOKEN;
  if (fromEnv) return fromEnv.trim();
  try {
    return fs.readFileSync(process.env.HF_TOKEN_PATH || path.join(hfHome(), 'token'), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

let cachedUserAgent: string | undefined;
function userAgent(): string {
  if (!cachedUserAgent) {
    let version = 'unknown';
    try {
      version = (JSON.parse(fs.readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { version: string })
        .version;
    } catch {
      // keep "unknown"
    }
    cachedUserAgent = `crossmodal/${version}; node/${process.versions.node}`;
  }
  return cachedUserAgent;
}

/** One pull per repository at a time (an flock the kernel drops if the process dies). */
function lockRepo(cache: RepoCache): NativeDirectoryLock {
  fs.mkdirSync(cache.lockDir, { recursive: true });
  try {
    return new (native().DirectoryLock)(cache.lockDir, 'download lock');
  } catch (error) {
    const typed = fromNative(error);
    if (typed.code !== 'ERR_LOCKED') throw typed;
    throw new CrossmodalError('ERR_LOCKED', `another pull of ${cache.repoId} is running (${typed.message})`);
  }
}
