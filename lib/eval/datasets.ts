/**
 * Caption data sets for retrieval evaluation: an image folder with captions as CSV
 * (`image,caption`), COCO captions JSON, or the Karpathy split JSON used for Flickr30k and COCO.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'csv-parse/sync';
import { checkInteger, checkOneOf, checkOptionalPath, checkOptions, checkPath, guarded } from '../checks';
import { CrossmodalError } from '../errors';

/** Images and their captions, each caption belonging to exactly one image. */
export interface CaptionDataset {
  /** Absolute image paths, in a stable order. */
  images: string[];
  captions: string[];
  /** `captionImage[c]` is the index in `images` of caption `c`'s image. */
  captionImage: Int32Array;
}

export type CaptionFormat = 'csv' | 'coco' | 'karpathy';

export interface LoadDatasetOptions {
  /** Folder the image names are relative to (default: the captions file's folder, then its `images/`). */
  images?: string;
  /** File format (default: from the extension and, for JSON, the content). */
  format?: CaptionFormat;
  /** Karpathy split to keep (`test`, `val`, `train`, `restval`); default `test`. */
  split?: string;
  /** Keep only the first this many images (and their captions), for quick runs. */
  limit?: number;
}

function invalid(message: string): CrossmodalError {
  return new CrossmodalError('ERR_INVALID_ARGUMENT', message);
}

/** Reads a caption data set and checks that every image exists. */
export function loadCaptionDataset(captionsFile: string, options?: LoadDatasetOptions): CaptionDataset {
  return guarded(() => readDataset(captionsFile, options));
}

const FORMATS: readonly CaptionFormat[] = ['csv', 'coco', 'karpathy'];

function readDataset(captionsFile: string, given: LoadDatasetOptions | undefined): CaptionDataset {
  checkPath(captionsFile, 'captionsFile');
  const options = checkOptions(given);
  checkOptionalPath(options.images, 'options.images');
  checkOneOf(options.format, 'options.format', FORMATS);
  if (options.split !== undefined && (typeof options.split !== 'string' || options.split === ''))
    throw invalid('options.split must be a non-empty string');
  checkInteger(options.limit, 'options.limit', [1, Number.MAX_SAFE_INTEGER]);
  let text: string;
  try {
    text = fs.readFileSync(captionsFile, 'utf8');
  } catch (error) {
    throw new CrossmodalError('ERR_IO', `cannot read ${captionsFile}: ${(error as Error).message}`, { cause: error });
  }
  const format = options.format ?? detectFormat(captionsFile, text);
  let pairs: { image: string; caption: string }[];
  if (format === 'csv') pairs = csvPairs(text, captionsFile);
  else {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw invalid(`${captionsFile} is not valid JSON: ${(error as Error).message}`);
    }
    pairs =
      format === 'coco' ? cocoPairs(json, captionsFile) : karpathyPairs(json, captionsFile, options.split ?? 'test');
  }
  if (pairs.length === 0)
    throw invalid(
      `${captionsFile} has no captions${format === 'karpathy' ? ` in split '${options.split ?? 'test'}'` : ''}`,
    );

  const root = imageRoot(captionsFile, options.images, pairs[0]!.image);
  const images: string[] = [];
  const indexOf = new Map<string, number>();
  const captions: string[] = [];
  const owners: number[] = [];
  for (const { image, caption } of pairs) {
    let i = indexOf.get(image);
    if (i === undefined) {
      if (options.limit !== undefined && images.length >= options.limit) continue;
      i = images.length;
      indexOf.set(image, i);
      images.push(path.resolve(root, image));
    }
    captions.push(caption);
    owners.push(i);
  }
  const missing = images.filter((f) => !fs.existsSync(f));
  if (missing.length > 0) {
    throw new CrossmodalError(
      'ERR_IO',
      `${missing.length} of ${images.length} images are missing, e.g. ${missing[0]} (use --images to name their folder)`,
    );
  }
  return { images, captions, captionImage: Int32Array.from(owners) };
}

function detectFormat(file: string, text: string): CaptionFormat {
  if (file.toLowerCase().endsWith('.csv')) return 'csv';
  const head = text.slice(0, 4096);
  if (/"annotations"\s*:/.test(text) && /"image_id"\s*:/.test(text)) return 'coco';
  if (/"sentences"\s*:/.test(head) || /"dataset"\s*:/.test(text.slice(-4096))) return 'karpathy';
  if (head.trimStart().startsWith('{') || head.trimStart().startsWith('[')) {
    throw invalid(`${file}: not COCO captions ("images"/"annotations") or Karpathy split ("images"[].sentences) JSON`);
  }
  return 'csv';
}

/**
 * `image,caption` rows after a header. Quoted fields follow RFC 4180; an unquoted caption is
 * everything after the first comma (Flickr8k's captions.csv has unquoted commas in captions).
 */
function csvPairs(text: string, file: string): { image: string; caption: string }[] {
  let rows: string[][];
  try {
    rows = parse(text, {
      relax_column_count: true,
      relax_quotes: true,
      skip_empty_lines: true,
      bom: true,
    }) as string[][];
  } catch (error) {
    throw invalid(`${file}: ${(error as Error).message}`);
  }
  const header = rows.shift()?.map((h) => h.trim().toLowerCase());
  if (!header || header[0] !== 'image' || header[1] !== 'caption')
    throw invalid(`${file}: the first line must be the header 'image,caption'`);
  return rows.map((row, i) => {
    if (row.length < 2 || !row[0]) throw invalid(`${file}: line ${i + 2} has no caption`);
    return { image: row[0].trim(), caption: row.slice(1).join(',').trim() };
  });
}

function cocoPairs(json: unknown, file: string): { image: string; caption: string }[] {
  const j = json as {
    images?: { id: unknown; file_name?: unknown }[];
    annotations?: { image_id: unknown; caption?: unknown }[];
  };
  if (!Array.isArray(j.images) || !Array.isArray(j.annotations))
    throw invalid(`${file}: COCO captions JSON needs "images" and "annotations" arrays`);
  const names = new Map<unknown, string>();
  for (const image of j.images) {
    if (typeof image?.file_name !== 'string') throw invalid(`${file}: image ${String(image?.id)} has no file_name`);
    names.set(image.id, image.file_name);
  }
  return j.annotations.map((a) => {
    if (a === null || typeof a !== 'object') throw invalid(`${file}: an annotation is not an object`);
    const name = names.get(a.image_id);
    if (name === undefined) throw invalid(`${file}: annotation for unknown image_id ${String(a.image_id)}`);
    if (typeof a.caption !== 'string')
      throw invalid(`${file}: annotation for image ${String(a.image_id)} has no caption`);
    return { image: name, caption: a.caption.trim() };
  });
}

function karpathyPairs(json: unknown, file: string, split: string): { image: string; caption: string }[] {
  const j = json as {
    images?: { filename?: unknown; filepath?: unknown; split?: unknown; sentences?: { raw?: unknown }[] }[];
  };
  if (!Array.isArray(j.images)) throw invalid(`${file}: Karpathy split JSON needs an "images" array`);
  const pairs: { image: string; caption: string }[] = [];
  for (const image of j.images) {
    if (image === null || typeof image !== 'object') throw invalid(`${file}: an image entry is not an object`);
    if (image.split !== split) continue;
    if (typeof image.filename !== 'string' || !Array.isArray(image.sentences))
      throw invalid(`${file}: an image entry lacks filename or sentences`);
    // COCO's entries carry their folder (train2014/, val2014/) in filepath; Flickr30k's do not.
    const name = typeof image.filepath === 'string' ? path.join(image.filepath, image.filename) : image.filename;
    for (const s of image.sentences) {
      if (typeof s?.raw !== 'string') throw invalid(`${file}: ${image.filename} has a sentence without "raw" text`);
      pairs.push({ image: name, caption: s.raw.trim() });
    }
  }
  return pairs;
}

/** Where image names resolve: the option, else beside the captions file, else its `images/`. */
function imageRoot(captionsFile: string, explicit: string | undefined, firstImage: string): string {
  if (explicit) return path.resolve(explicit);
  const dir = path.dirname(path.resolve(captionsFile));
  if (fs.existsSync(path.join(dir, firstImage))) return dir;
  if (fs.existsSync(path.join(dir, 'images', firstImage))) return path.join(dir, 'images');
  return dir;
}
