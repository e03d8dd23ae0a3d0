// The benchmarks' data: the Flickr8k sample (1,000 photos, 5 captions each) in
// ../shared/data/flickr8k-1k or $CROSSMODAL_FLICKR_DIR. Never committed; benchmarks that need it
// skip with a message when it is absent.
import { parse } from 'csv-parse/sync';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const defaultFlickrDir = process.env.CROSSMODAL_FLICKR_DIR || path.resolve(root, '../shared/data/flickr8k-1k');

/** Whether `dir` holds the sample (images/ and captions.csv). */
export function hasFlickr(dir) {
  return fs.existsSync(path.join(dir, 'images')) && fs.existsSync(path.join(dir, 'captions.csv'));
}

/** The first `limit` JPEG paths, sorted by name. */
export function flickrPhotos(dir, limit = Infinity) {
  return fs
    .readdirSync(path.join(dir, 'images'))
    .filter((f) => /\.jpe?g$/i.test(f))
    .sort()
    .slice(0, limit)
    .map((f) => path.join(dir, 'images', f));
}

/** The first `limit` captions, in file order (captions.csv is quoted CSV: `image,caption`). */
export function flickrCaptions(dir, limit = Infinity) {
  const rows = parse(fs.readFileSync(path.join(dir, 'captions.csv')), { columns: true, skip_empty_lines: true });
  return rows
    .map((r) => String(r.caption ?? '').trim())
    .filter((c) => c.length > 0)
    .slice(0, limit);
}
