/** Turning command-line arguments into files: directories (recursive), files and globs. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { glob, isDynamicPattern } from 'tinyglobby';
import { CrossmodalError } from '../errors';
import { Embeddings, type Model } from '../model';
import { UsageError } from './output';

/** Extensions the `index` command picks up inside directories (files named explicitly are always tried). */
export const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.gif']);

export interface ExpandedInputs {
  /** Files to process, absolute, sorted, without duplicates. */
  files: string[];
  /** Arguments or entries that could not be listed, with why. */
  unreadable: { path: string; reason: string }[];
}

/**
 * Expands `dir | file | glob` arguments: directories recursively (image extensions only, hidden
 * entries skipped, symlinked directories not followed, so a link loop cannot hang it), globs
 * through tinyglobby, files as given.
 */
export async function expandImageInputs(args: string[]): Promise<ExpandedInputs> {
  if (args.length === 0) throw new UsageError('no inputs given', 'name image files, directories or globs');
  const files = new Set<string>();
  const unreadable: ExpandedInputs['unreadable'] = [];
  for (const arg of args) {
    if (isDynamicPattern(arg)) {
      const matches = await glob(arg, { absolute: true, onlyFiles: true, dot: false, followSymbolicLinks: false });
      if (matches.length === 0) unreadable.push({ path: arg, reason: 'the pattern matched no file' });
      for (const m of matches) files.add(path.resolve(m));
      continue;
    }
    const full = path.resolve(arg);
    let stat: fs.Stats;
    try {
      stat = fs.statSync(full);
    } catch (error) {
      unreadable.push({ path: arg, reason: (error as NodeJS.ErrnoException).code ?? String(error) });
      continue;
    }
    if (stat.isDirectory()) walk(full, files, unreadable);
    else files.add(full);
  }
  return { files: [...files].sort(), unreadable };
}

function walk(dir: string, files: Set<string>, unreadable: ExpandedInputs['unreadable']): void {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (error) {
    unreadable.push({ path: dir, reason: (error as NodeJS.ErrnoException).code ?? String(error) });
    return;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(full, files, unreadable);
    else if ((entry.isFile() || entry.isSymbolicLink()) && IMAGE_EXTENSIONS.has(path.extname(entry.name).toLowerCase()))
      files.add(full);
  }
}

/** Parses a positive integer option, or throws a usage error naming it. */
export function positiveInt(name: string, value: string, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1 || n > max) {
    throw new UsageError(`${name} must be a whole number from 1 to ${max} (got '${value}')`);
  }
  return n;
}

/** Parses a JSON option (e.g. `--where`), or throws a usage error naming it. */
export function jsonObject(name: string, value: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (error) {
    throw new UsageError(`${name} is not valid JSON: ${(error as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new UsageError(`${name} must be a JSON object`);
  return parsed as Record<string, unknown>;
}

/** Errors that belong to one input image (skip it with --skip-errors) rather than to the run. */
export const PER_IMAGE_CODES: ReadonlySet<string> = new Set([
  'ERR_IO',
  'ERR_IMAGE_FORMAT',
  'ERR_IMAGE_DECODE',
  'ERR_IMAGE_TOO_LARGE',
]);

/**
 * Embeds image files. Without `skipErrors` one bad file fails the call (its message names it);
 * with it, every file is submitted as its own call — the model's dynamic batcher still coalesces
 * them into full batches — and the files that fail with a per-image error are dropped and
 * returned in `skipped`.
 */
export async function embedImageFiles(
  model: Model,
  files: string[],
  skipErrors: boolean,
): Promise<{ embeddings: Embeddings; files: string[]; skipped: { path: string; reason: string }[] }> {
  if (!skipErrors) return { embeddings: await model.embedImages(files), files, skipped: [] };
  const settled = await Promise.allSettled(files.map((file) => model.embedImages([file])));
  const kept: string[] = [];
  const rows: Float32Array[] = [];
  const skipped: { path: string; reason: string }[] = [];
  settled.forEach((result, i) => {
    if (result.status === 'fulfilled') {
      kept.push(files[i] as string);
      rows.push(result.value.row(0));
      return;
    }
    const error = result.reason as unknown;
    if (!(error instanceof CrossmodalError) || !PER_IMAGE_CODES.has(error.code)) throw error;
    skipped.push({ path: files[i] as string, reason: `${error.code}: ${error.message}` });
  });
  const dim = model.dim;
  const data = new Float32Array(rows.length * dim);
  rows.forEach((row, i) => data.set(row, i * dim));
  return { embeddings: new Embeddings(data, rows.length, dim), files: kept, skipped };
}
