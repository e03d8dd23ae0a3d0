// The image pipeline on its own: decoded, oriented, resized, cropped and normalised tensors,
// exactly what the image tower receives.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { native, type NativeImageInput, type NativePreprocessResult } from './binding';
import { checkArray, checkOptions, checkPath, guarded, toJson } from './checks';
import { callNative, CrossmodalError, invalidArgument, type ErrorCode } from './errors';
import type { ImageOptions } from './types';

/** Decoded pixels, interleaved row by row. `channels`: 1 (gray), 3 (RGB) or 4 (RGBA; alpha is dropped). */
export interface RawImage {
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
  channels: 1 | 3 | 4;
}

/**
 * An already preprocessed image: `3 × height × width` float32 values in the model's layout
 * (planar RGB, normalised), copied straight into the batch. `width`/`height`, when given, are
 * checked against the model's input size.
 */
export interface TensorImage {
  tensor: Float32Array;
  width?: number;
  height?: number;
}

/**
 * An image: a file path, encoded bytes (JPEG, PNG, WebP, GIF; recognised by their magic bytes),
 * decoded pixels, or a preprocessed tensor.
 */
export type ImageInput = string | Uint8Array | RawImage | TensorImage;

export interface PreprocessOptions extends ImageOptions {
  /**
   * `throw` (default): the call rejects with the first failing input's error (its message names
   * the input). `skip`: the call resolves; failed rows are zero and listed in `failures`.
   */
  onError?: 'throw' | 'skip';
}

export interface StandalonePreprocessOptions extends PreprocessOptions {
  /** Threads decoding and preprocessing, 1..256 (default: one per CPU, at most 256). */
  threads?: number;
}

/** One input that could not be preprocessed. */
export interface ImageFailure {
  index: number;
  code: ErrorCode;
  message: string;
}

/** `count` preprocessed images as one NCHW float32 tensor over native memory. */
export interface PreprocessedImages {
  /** `count × 3 × height × width` values; image `i` starts at `i * 3 * height * width`. */
  data: Float32Array;
  count: number;
  channels: 3;
  height: number;
  width: number;
  /** Inputs that failed (only with `onError: 'skip'`; their rows are zero). */
  failures: ImageFailure[];
}

/** @internal */
export function checkImages(images: unknown): asserts images is ImageInput[] {
  if (!Array.isArray(images)) throw invalidArgument('images must be an array');
  checkArray(images, 'images');
  // Indexed, not forEach: a hole (a sparse array) is a missing image, not one to skip.
  for (let i = 0; i < images.length; i++) checkImage(images[i], i);
}

function checkImage(image: unknown, i: number): void {
  if (typeof image === 'string') {
    checkPath(image, `images[${i}]`);
    return;
  }
  if (image instanceof Uint8Array) return;
  const tensor = image as Partial<TensorImage> | null;
  if (tensor && typeof tensor === 'object' && 'tensor' in tensor) {
    if (!(tensor.tensor instanceof Float32Array)) throw invalidArgument(`images[${i}].tensor must be a Float32Array`);
    for (const key of ['width', 'height'] as const) {
      const v = tensor[key];
      if (v !== undefined && (!Number.isInteger(v) || v <= 0))
        throw invalidArgument(`images[${i}].${key} must be a positive integer`);
    }
    if (
      tensor.width !== undefined &&
      tensor.height !== undefined &&
      tensor.tensor.length !== 3 * tensor.width * tensor.height
    ) {
      throw invalidArgument(`images[${i}]: tensor has ${tensor.tensor.length} values, expected 3 × height × width`);
    }
    return;
  }
  const raw = image as Partial<RawImage> | null;
  if (raw && typeof raw === 'object' && (raw.data instanceof Uint8Array || raw.data instanceof Uint8ClampedArray)) {
    const { width, height, channels } = raw;
    if (!Number.isInteger(width) || !Number.isInteger(height) || (width as number) <= 0 || (height as number) <= 0) {
      throw invalidArgument(`images[${i}]: width and height must be positive integers`);
    }
    if (channels !== 1 && channels !== 3 && channels !== 4) {
      throw invalidArgument(`images[${i}]: channels must be 1, 3 or 4`);
    }
    if (raw.data.length !== (width as number) * (height as number) * channels) {
      throw invalidArgument(`images[${i}]: data has ${raw.data.length} bytes, expected width × height × channels`);
    }
    return;
  }
  throw invalidArgument(
    `images[${i}] must be a file path, a Buffer/Uint8Array, { data, width, height, channels } or { tensor }`,
  );
}

/** @internal */
export function toNativeImage(image: ImageInput): NativeImageInput {
  if (typeof image === 'string') return path.resolve(image);
  if (image instanceof Uint8Array) return image;
  if ('tensor' in image) return { tensor: image.tensor, width: image.width, height: image.height };
  const data =
    image.data instanceof Uint8Array
      ? image.data
      : new Uint8Array(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  return { data, width: image.width, height: image.height, channels: image.channels };
}

/** @internal Validates the options shared by load() and the preprocess calls. */
export function checkImageOptions(options: ImageOptions): void {
  for (const key of ['maxPixels', 'maxFileBytes'] as const) {
    const v = options[key];
    if (v !== undefined && !(Number.isSafeInteger(v) && v >= 1))
      throw invalidArgument(`options.${key} must be a positive integer`);
  }
  for (const key of ['exifOrientation', 'dctScaling'] as const) {
    const v = options[key];
    if (v !== undefined && typeof v !== 'boolean') throw invalidArgument(`options.${key} must be a boolean`);
  }
}

/** @internal */
export function nativeImageOptions(options: ImageOptions): ImageOptions {
  const { maxPixels, maxFileBytes, exifOrientation, dctScaling } = options;
  return { maxPixels, maxFileBytes, exifOrientation, dctScaling };
}

/** @internal Turns the native result into PreprocessedImages, applying `onError`. */
export function fromNativePreprocess(result: NativePreprocessResult, onError: 'throw' | 'skip'): PreprocessedImages {
  const failures = result.failures.map((f) => ({ index: f.index, code: f.code as ErrorCode, message: f.message }));
  if (onError === 'throw' && failures.length > 0) {
    const first = failures[0] as ImageFailure;
    throw new CrossmodalError(first.code, first.message);
  }
  return {
    data: new Float32Array(result.buffer),
    count: result.count,
    channels: 3,
    height: result.height,
    width: result.width,
    failures,
  };
}

/** @internal */
export function checkOnError(onError: unknown): 'throw' | 'skip' {
  if (onError === undefined) return 'throw';
  if (onError !== 'throw' && onError !== 'skip') throw invalidArgument("options.onError must be 'throw' or 'skip'");
  return onError;
}

/**
 * Decodes and preprocesses images with a Hugging Face `preprocessor_config.json`, without a model:
 * the same native pipeline (Pillow-exact resampling) the image tower is fed by.
 * @param images - file paths, encoded bytes, decoded pixels or tensors
 * @param config - the parsed `preprocessor_config.json`, or the path of one
 * @param options - limits, `exifOrientation`, `dctScaling`, `threads`, `onError`
 * @returns an NCHW float32 tensor
 * @throws {CrossmodalError} `ERR_INVALID_ARGUMENT` (bad input or config, or a config without a
 *   fixed output size), `ERR_IO`, `ERR_IMAGE_FORMAT`, `ERR_IMAGE_DECODE`, `ERR_IMAGE_TOO_LARGE`
 * @example
 * const t = await preprocessImages(['cat.jpg'], 'models/clip/preprocessor_config.json');
 * t.data.length; // 3 * 224 * 224
 */
export async function preprocessImages(
  images: ImageInput[],
  config: string | Record<string, unknown>,
  options?: StandalonePreprocessOptions,
): Promise<PreprocessedImages> {
  return guarded(() => preprocessWith(images, config, options));
}

async function preprocessWith(
  images: ImageInput[],
  config: string | Record<string, unknown>,
  options: StandalonePreprocessOptions | undefined,
): Promise<PreprocessedImages> {
  checkImages(images);
  options = checkOptions(options);
  checkImageOptions(options);
  const onError = checkOnError(options.onError);
  if (
    options.threads !== undefined &&
    !(Number.isInteger(options.threads) && options.threads >= 1 && options.threads <= 256)
  ) {
    throw invalidArgument('options.threads must be an integer in 1..256');
  }
  let json: string;
  if (typeof config === 'string') {
    checkPath(config, 'config');
    try {
      json = await fs.readFile(config, 'utf8');
    } catch (error) {
      throw new CrossmodalError('ERR_IO', `cannot read ${config}: ${(error as Error).message}`, { cause: error });
    }
  } else if (config !== null && typeof config === 'object' && !Array.isArray(config)) {
    json = toJson(config, 'config');
  } else {
    throw invalidArgument('config must be a preprocessor_config.json object or path');
  }
  const inputs = images.map(toNativeImage);
  const result = await callNative(() =>
    native().preprocessImages(inputs, json, { ...nativeImageOptions(options), threads: options.threads }),
  );
  return fromNativePreprocess(result, onError);
}
