// Export of a local collection in clip-retrieval's embedding-folder layout, which autofaiss,
// clip-retrieval's back end and bulk importers of other vector engines read:
//
//   OUT/embeddings/img_emb/img_emb_<i>.npy   float32 [n_i, dim], NumPy format 1.0
//   OUT/metadata/metadata_<i>.parquet         n_i rows, row j describing row j of img_emb_<i>
//
// Every item goes to img_emb whatever its kind (a collection is one index over images, texts and
// vectors alike); the metadata's `kind` tells them apart, `image_path` holds an image's file and
// `caption` a text item's text, as clip-retrieval names them. Shards are written one at a time
// (vectors streamed to disk, one shard's metadata in memory), each to a temporary name then
// renamed, so a shard that exists is complete.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkBoolean, checkFunction, checkInteger, checkOptions, checkPath, guarded } from '../../checks';
import { CrossmodalError, invalidArgument } from '../../errors';
import { float32LE, npyHeader } from '../../npy';
import type { CollectionItem } from '../types';
import { openLocalSource } from './local';
import { writeParquet } from './parquet';

export interface ClipRetrievalExportOptions {
  /** Rows per shard (default 1,000,000, about 2 GB of 512-d vectors). */
  shardSize?: number;
  /** Allow writing into a non-empty directory (existing shards of this layout are replaced). */
  overwrite?: boolean;
  onProgress?: (progress: { done: number; total: number }) => void;
}

export interface ClipRetrievalExportResult {
  count: number;
  dim: number;
  /** The files written, relative to the output directory. */
  files: string[];
}

const READ_BATCH = 4096;

/**
 * Writes the collection in `dir` to `outDir` in clip-retrieval's layout.
 * @throws {CrossmodalError} `ERR_INVALID_ARGUMENT` (bad options, not a collection, a non-empty `outDir` without `overwrite`), `ERR_LOCKED`, `ERR_IO`
 */
export async function exportClipRetrieval(
  dir: string,
  outDir: string,
  options?: ClipRetrievalExportOptions,
): Promise<ClipRetrievalExportResult> {
  return guarded(() => writeClipRetrieval(dir, outDir, options));
}

async function writeClipRetrieval(
  dir: string,
  outDir: string,
  rawOptions: ClipRetrievalExportOptions | undefined,
): Promise<ClipRetrievalExportResult> {
  checkPath(dir, 'dir');
  checkPath(outDir, 'outDir');
  const options = checkOptions(rawOptions);
  checkInteger(options.shardSize, 'options.shardSize', [1, 2 ** 31 - 1]);
  checkBoolean(options.overwrite, 'options.overwrite');
  checkFunction(options.onProgress, 'options.onProgress');
  const shardSize = options.shardSize ?? 1_000_000;
  const out = path.resolve(outDir);
  if (!options.overwrite && fs.existsSync(out) && fs.readdirSync(out).length > 0)
    throw invalidArgument(`${outDir} is not empty (overwrite to replace the shards in it)`);
  const source = await openLocalSource(dir);
  try {
    const embDir = path.join(out, 'embeddings', 'img_emb');
    const metaDir = path.join(out, 'metadata');
    try {
      fs.mkdirSync(embDir, { recursive: true });
      fs.mkdirSync(metaDir, { recursive: true });
      // Shards of an earlier, larger export would otherwise stay beside the new ones.
      for (const [d, pattern] of [
        [embDir, /^img_emb_\d+\.npy$/],
        [metaDir, /^metadata_\d+\.parquet$/],
      ] as const)
        for (const f of fs.readdirSync(d)) if (pattern.test(f)) fs.rmSync(path.join(d, f));
    } catch (error) {
      throw new CrossmodalError('ERR_IO', `cannot prepare ${outDir}: ${(error as Error).message}`, { cause: error });
    }
    const files: string[] = [];
    const total = source.count;
    let shard: Shard | undefined;
    let shards = 0;
    let done = 0;
    const finish = async (s: Shard): Promise<void> => {
      files.push(...(await s.finish()));
    };
    for await (const batch of source.batches(READ_BATCH)) {
      for (let start = 0; start < batch.items.length;) {
        if (!shard || shard.full) {
          if (shard) await finish(shard);
          // The store is locked: the count read at open is the count scanned.
          shard = new Shard(out, shards, Math.min(shardSize, total - shards * shardSize), source.dim);
          shards++;
        }
        const take = Math.min(batch.items.length - start, shard.room);
        shard.add(
          batch.items.slice(start, start + take),
          batch.vectors.subarray(start * source.dim, (start + take) * source.dim),
        );
        start += take;
        done += take;
      }
      options.onProgress?.({ done, total });
    }
    if (shard) await finish(shard);
    if (done !== total)
      throw new CrossmodalError('ERR_INTERNAL', `scanned ${done} items where the collection counted ${total}`);
    return { count: done, dim: source.dim, files };
  } finally {
    await source.close();
  }
}

/** One shard being written: the .npy streamed to a temporary file, the metadata gathered. */
class Shard {
  readonly #out: string;
  readonly #npy: string;
  readonly #parquet: string;
  readonly #fd: number;
  readonly #rows: number;
  readonly #items: CollectionItem[] = [];

  constructor(out: string, index: number, rows: number, dim: number) {
    this.#npy = path.join('embeddings', 'img_emb', `img_emb_${index}.npy`);
    this.#parquet = path.join('metadata', `metadata_${index}.parquet`);
    this.#rows = rows;
    this.#out = out;
    const file = path.join(out, `${this.#npy}.tmp`);
    try {
      this.#fd = fs.openSync(file, 'w');
      fs.writeSync(this.#fd, npyHeader(rows, dim));
    } catch (error) {
      throw new CrossmodalError('ERR_IO', `cannot write ${file}: ${(error as Error).message}`, { cause: error });
    }
  }

  get room(): number {
    return this.#rows - this.#items.length;
  }
  get full(): boolean {
    return this.room === 0;
  }

  add(items: CollectionItem[], vectors: Float32Array): void {
    fs.writeSync(this.#fd, float32LE(vectors));
    this.#items.push(...items);
  }

  /** Closes the .npy, writes the Parquet, renames both into place; returns their relative paths. */
  async finish(): Promise<string[]> {
    fs.closeSync(this.#fd);
    const items = this.#items;
    const parquetTemp = path.join(this.#out, `${this.#parquet}.tmp`);
    await writeParquet(parquetTemp, [
      { name: 'image_path', type: 'STRING', data: items.map((i) => (i.kind === 'image' ? i.source : null)) },
      { name: 'caption', type: 'STRING', data: items.map((i) => (i.kind === 'text' ? i.source : null)) },
      { name: 'source', type: 'STRING', data: items.map((i) => i.source) },
      { name: 'id', type: 'INT64', data: items.map((i) => i.id), nullable: false },
      { name: 'kind', type: 'STRING', data: items.map((i) => i.kind), nullable: false },
      { name: 'hash', type: 'STRING', data: items.map((i) => i.hash), nullable: false },
      { name: 'width', type: 'INT32', data: items.map((i) => i.width) },
      { name: 'height', type: 'INT32', data: items.map((i) => i.height) },
      { name: 'metadata', type: 'JSON', data: items.map((i) => i.metadata), nullable: false },
      { name: 'added_at', type: 'TIMESTAMP', data: items.map((i) => i.addedAt), nullable: false },
    ]);
    for (const rel of [this.#npy, this.#parquet])
      fs.renameSync(path.join(this.#out, `${rel}.tmp`), path.join(this.#out, rel));
    return [this.#npy, this.#parquet];
  }
}
