/**
 * Text tokenizers: the exact token ids a model bundle's text tower expects, computed natively.
 *
 * {@link loadTokenizer} reads only the tokenizer files of a bundle (no ONNX Runtime needed) and
 * picks the family from them: OpenAI CLIP byte-level BPE (`vocab.json` + `merges.txt`,
 * `tokenizer.json`, or `bpe_simple_vocab_16e6.txt[.gz]`), SentencePiece (`spiece.model` for
 * SigLIP, `sentencepiece.bpe.model` for XLM-R / multilingual CLIP, `tokenizer.model` for Gemma /
 * SigLIP 2) or a `tokenizer.json` Unigram model.
 * @packageDocumentation
 */
import * as path from 'node:path';
import { native, type NativeTextTokenizer, type NativeTokens } from './binding';
import {
  checkArray,
  checkBoolean,
  checkInteger,
  checkOptions,
  checkPath,
  guardClass,
  guarded,
  type IntegerRange,
} from './checks';
import { callNative, CrossmodalError, fromNative, invalidArgument } from './errors';
import type { LoadTokenizerOptions, TokenizeOptions, TokenizerInfo } from './types';

/** Token ids as the text tower receives them. */
export interface TokenizedTexts<Ids extends Int32Array | BigInt64Array = Int32Array> {
  /** `count × contextLength` ids, each row `[start?, ...tokens, end?, pad...]`. */
  ids: Ids;
  /** Number of real ids per text (start and end tokens included), i.e. where the padding starts. */
  lengths: Int32Array;
  contextLength: number;
  count: number;
}

export interface DecodeOptions {
  /** Drop start/end/pad ids (default true). For CLIP, pad id 0 is the ordinary token "!": slice rows to their length. */
  skipSpecialTokens?: boolean;
}

/** Token ids accepted by `decode`. */
export type TokenIds = Int32Array | BigInt64Array | readonly number[];

/** @internal */
export function checkTexts(texts: unknown, name = 'texts'): asserts texts is string[] {
  if (!Array.isArray(texts)) throw invalidArgument(`${name} must be an array of strings`);
  checkArray(texts, name);
  // Indexed, not forEach: a hole (a sparse array) is a missing text, not one to skip.
  for (let i = 0; i < texts.length; i++)
    if (typeof texts[i] !== 'string') throw invalidArgument(`${name}[${i}] must be a string`);
}

// The addon's bounds (native/text_tokenizer.cc: kMaxThreads, kMaxContext).
const THREADS: IntegerRange = [1, 256];
const CONTEXT_LENGTH: IntegerRange = [1, 2 ** 20];

/** @internal */
export function checkIds(ids: unknown): asserts ids is TokenIds {
  if (ids instanceof Int32Array || ids instanceof BigInt64Array) return;
  if (Array.isArray(ids)) {
    checkArray(ids, 'ids');
    let ok = true;
    for (let i = 0; ok && i < ids.length; i++) ok = Number.isInteger(ids[i]);
    if (ok) return;
  }
  throw invalidArgument('ids must be an Int32Array, a BigInt64Array or an array of integers');
}

/** @internal */
/** Decodes `ids` with a native tokenizer or model session (validated here, converted errors). */
export function decodeIds(
  target: { decode(ids: Int32Array | BigInt64Array | number[], skipSpecialTokens: boolean): string },
  ids: TokenIds,
  options: DecodeOptions,
): string {
  checkIds(ids);
  checkBoolean(options.skipSpecialTokens, 'options.skipSpecialTokens');
  try {
    return target.decode(ids as Int32Array | BigInt64Array | number[], options.skipSpecialTokens ?? true);
  } catch (error) {
    throw fromNative(error);
  }
}

export function tokensFromNative(result: NativeTokens): TokenizedTexts<Int32Array | BigInt64Array> {
  return {
    ids: result.int64 ? new BigInt64Array(result.ids) : new Int32Array(result.ids),
    lengths: new Int32Array(result.lengths),
    contextLength: result.contextLength,
    count: result.count,
  };
}

/**
 * The ids of text `index` without padding: `ids[index × contextLength ..][0 .. lengths[index]]`.
 * @example
 * const t = await tokenizer.tokenize(['a dog']);
 * tokenizer.decode(rowIds(t, 0)); // "a dog "
 */
export function rowIds<Ids extends Int32Array | BigInt64Array>(tokens: TokenizedTexts<Ids>, index: number): Ids {
  return guarded(() => rowOf(tokens, index));
}

function rowOf<Ids extends Int32Array | BigInt64Array>(tokens: TokenizedTexts<Ids>, index: number): Ids {
  if (
    tokens === null ||
    typeof tokens !== 'object' ||
    !(tokens.ids instanceof Int32Array || tokens.ids instanceof BigInt64Array) ||
    !(tokens.lengths instanceof Int32Array) ||
    !Number.isSafeInteger(tokens.count) ||
    !Number.isSafeInteger(tokens.contextLength)
  )
    throw invalidArgument('tokens must be the result of tokenize()');
  if (!Number.isInteger(index) || index < 0 || index >= tokens.count) {
    throw invalidArgument(`row index ${index} is out of range 0..${tokens.count - 1}`);
  }
  const start = index * tokens.contextLength;
  return tokens.ids.subarray(start, start + (tokens.lengths[index] as number)) as Ids;
}

/** A tokenizer loaded on its own with {@link loadTokenizer}. Thread-safe; release with {@link Tokenizer.dispose}. */
export class Tokenizer {
  #native: NativeTextTokenizer | undefined;
  /** Static facts: family, vocabulary file, context length, special ids, padding policy. */
  readonly info: TokenizerInfo;

  /** @internal */
  constructor(handle: NativeTextTokenizer) {
    this.#native = handle;
    this.info = handle.info();
  }

  #live(): NativeTextTokenizer {
    if (!this.#native) throw new CrossmodalError('ERR_DISPOSED', 'the tokenizer has been disposed');
    return this.#native;
  }

  /**
   * Token ids of each text, framed, truncated (the end token stays last) and padded to the
   * context length, computed off the event loop on `threads` native threads.
   * @throws {CrossmodalError} `ERR_INVALID_ARGUMENT`, `ERR_DISPOSED`
   * @example
   * const { ids, lengths } = await tokenizer.tokenize(['a dog', 'a cat']);
   */
  tokenize(texts: string[], options: TokenizeOptions & { int64: true }): Promise<TokenizedTexts<BigInt64Array>>;
  tokenize(texts: string[], options?: TokenizeOptions & { int64?: false }): Promise<TokenizedTexts<Int32Array>>;
  tokenize(texts: string[], options?: TokenizeOptions): Promise<TokenizedTexts<Int32Array | BigInt64Array>>;
  async tokenize(texts: string[], options?: TokenizeOptions): Promise<TokenizedTexts<Int32Array | BigInt64Array>> {
    checkTexts(texts);
    options = checkOptions(options);
    checkBoolean(options.int64, 'options.int64');
    checkInteger(options.contextLength, 'contextLength', CONTEXT_LENGTH);
    checkInteger(options.threads, 'threads', THREADS);
    const result = await callNative(() =>
      this.#live().tokenize(texts, {
        contextLength: options.contextLength,
        threads: options.threads,
        int64: options.int64 === true,
      }),
    );
    return tokensFromNative(result);
  }

  /**
   * Text of a sequence of ids (one text; slice padded rows with {@link rowIds}).
   * For CLIP this is OpenAI's `SimpleTokenizer.decode`: every word ends with a space.
   * @throws {CrossmodalError} `ERR_INVALID_ARGUMENT` for an id outside the vocabulary
   */
  decode(ids: TokenIds, options?: DecodeOptions): string {
    return decodeIds(this.#live(), ids, checkOptions(options));
  }

  /** Id of a vocabulary entry (e.g. `"dog</w>"` for CLIP, `"▁dog"` for SentencePiece), or -1. */
  tokenToId(token: string): number {
    if (typeof token !== 'string') throw invalidArgument('token must be a string');
    return this.#live().tokenToId(token);
  }

  /** Vocabulary entry of an id. @throws {CrossmodalError} `ERR_INVALID_ARGUMENT` when out of range */
  idToToken(id: number): string {
    if (!Number.isInteger(id)) throw invalidArgument('id must be an integer');
    try {
      return this.#live().idToToken(id);
    } catch (error) {
      throw fromNative(error);
    }
  }

  /** @internal Test hook: the raw native handle. */
  get nativeHandle(): NativeTextTokenizer {
    return this.#live();
  }

  /** Releases the tokenizer. Idempotent; calls made afterwards fail with `ERR_DISPOSED`. */
  dispose(): void {
    this.#native?.dispose();
    this.#native = undefined;
  }
}

/**
 * Loads the tokenizer of a model bundle (or of any directory holding tokenizer files) without
 * loading the model. The family is chosen from `tokenizer_config.json`'s `tokenizer_class`, else
 * `config.json`'s `model_type`, else the files present.
 * @throws {CrossmodalError} `ERR_MODEL_LOAD` (no or malformed files), `ERR_TOKENIZER` (an
 *   unsupported tokenizer type, named in the message)
 * @example
 * const tokenizer = await loadTokenizer('models/clip-vit-base-patch32', { threads: 4 });
 * const { ids, lengths } = await tokenizer.tokenize(['a photo of a cat']);
 */
export async function loadTokenizer(dir: string, options?: LoadTokenizerOptions): Promise<Tokenizer> {
  return guarded(() => openTokenizer(dir, options));
}

async function openTokenizer(dir: string, options: LoadTokenizerOptions | undefined): Promise<Tokenizer> {
  checkPath(dir, 'dir');
  options = checkOptions(options);
  checkInteger(options.threads, 'threads', THREADS);
  checkInteger(options.contextLength, 'contextLength', CONTEXT_LENGTH);
  const handle = await callNative(() =>
    native().TextTokenizer.load(path.resolve(dir), { threads: options.threads, contextLength: options.contextLength }),
  );
  return new Tokenizer(handle);
}

// Every method and getter throws or rejects with CrossmodalErrors only.
guardClass(Tokenizer);
