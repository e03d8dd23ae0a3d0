// Argument checks shared by both collection stores (Collection and PostgresCollection), run before
// anything is read, embedded or written: a call refused here leaves the collection untouched, and
// one that passes cannot fail halfway through a batch on something its arguments could have shown.
import { checkArray, checkFunction, checkInteger, checkOptions, checkPath, toJson } from '../checks';
import { CrossmodalError, invalidArgument } from '../errors';
import type { AddOptions } from './types';

type Metadata = Record<string, unknown> | Record<string, unknown>[] | undefined;

/** Images of addImages / searchImage: paths (checked as paths) or encoded bytes. */
export function checkImageInputs(images: unknown, name = 'images'): asserts images is (string | Uint8Array)[] {
  if (!Array.isArray(images)) throw invalidArgument(`${name} must be an array of paths or buffers`);
  checkArray(images, name);
  for (let i = 0; i < images.length; i++) checkImageInput(images[i], `${name}[${i}]`);
}

export function checkImageInput(image: unknown, name: string): asserts image is string | Uint8Array {
  if (image instanceof Uint8Array) return;
  if (typeof image !== 'string') throw invalidArgument(`${name} must be a file path or a Buffer/Uint8Array`);
  checkPath(image, name);
}

/** Texts of addTexts, keys of addVectors: a real array of strings. */
export function checkStrings(values: unknown, name: string): asserts values is string[] {
  if (!Array.isArray(values)) throw invalidArgument(`${name} must be an array of strings`);
  checkArray(values, name);
  for (let i = 0; i < values.length; i++)
    if (typeof values[i] !== 'string') throw invalidArgument(`${name}[${i}] must be a string`);
}

/** One metadata object: a plain (non-array) object that JSON can hold, as its JSON text. */
export function metadataJson(value: unknown, name: string): string {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw invalidArgument(`${name} must be an object`);
  return toJson(value, name);
}

/**
 * The metadata argument of an add call as one JSON text per input: one object for all, one per
 * input, or none (`{}`). Serialised up front, so a BigInt or a cycle in input 900 refuses the call
 * before batch 1 is committed.
 */
export function metadataTexts(metadata: Metadata, total: number): string[] {
  if (metadata === undefined) return new Array<string>(total).fill('{}');
  if (Array.isArray(metadata)) {
    if (metadata.length !== total) throw invalidArgument('metadata must be one object, or one per input');
    const out: string[] = [];
    for (let i = 0; i < total; i++)
      out.push(metadata[i] === undefined ? '{}' : metadataJson(metadata[i], `metadata[${i}]`));
    return out;
  }
  return new Array<string>(total).fill(metadataJson(metadata, 'metadata'));
}

/** The options of an add call. */
export function checkAddOptions(options: AddOptions | undefined): AddOptions {
  const o = checkOptions(options);
  checkInteger(o.batchSize, 'options.batchSize', [1, 2 ** 31 - 1]);
  checkFunction(o.onProgress, 'options.onProgress');
  return o;
}

/**
 * Vectors about to be stored: exactly `count × dim` finite floats. A NaN or an infinity would be
 * committed to the store and then refused by the index, leaving the two out of step (and the
 * collection unable to rebuild its index on the next open).
 */
export function checkVectors(data: unknown, count: number, dim: number, what: string): Float32Array {
  if (!(data instanceof Float32Array)) throw invalidArgument(`${what} must be a Float32Array`);
  if (data.length !== count * dim)
    throw invalidArgument(
      `${what} hold ${data.length} values, expected ${count} × ${dim} (the collection is ${dim}-d)`,
    );
  for (let i = 0; i < data.length; i++)
    if (!Number.isFinite(data[i]))
      throw invalidArgument(`${what}: value ${i} (of vector ${Math.floor(i / dim)}) is not finite`);
  return data;
}

/** What a model's embed call returned, checked before it is stored. */
export function checkEmbedded(embedded: unknown, count: number, dim: number): { data: Float32Array; dim: number } {
  const e = embedded as { data?: unknown; dim?: unknown } | null;
  if (e === null || typeof e !== 'object') throw invalidArgument('the model returned no embeddings');
  if (e.dim !== dim)
    throw new CrossmodalError(
      'ERR_DIMENSION_MISMATCH',
      `the model produced ${String(e.dim)}-d vectors, the collection holds ${dim}-d`,
    );
  if (e.data instanceof Float32Array && e.data.length !== count * dim)
    throw new CrossmodalError(
      'ERR_DIMENSION_MISMATCH',
      `the model returned ${e.data.length} values for ${count} inputs of ${dim} dimensions`,
    );
  return { data: checkVectors(e.data, count, dim, 'the model’s embeddings'), dim };
}
