/**
 * `crossmodal export <collection> --to postgres://…` copies a local collection into a PostgreSQL
 * collection (incrementally: items already there, by content hash, are skipped);
 * `crossmodal export <collection> --format clip-retrieval --out DIR` writes its embeddings as
 * .npy shards and its metadata as Parquet in clip-retrieval's layout. Neither needs the model:
 * the stored vectors are copied.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Option, type Command } from 'commander';
import { exportClipRetrieval, exportToPostgres } from '../../collection/index';
import { positiveInt } from '../inputs';
import { progress, toJson, UsageError } from '../output';

interface ExportOptions {
  to?: string;
  format?: 'clip-retrieval';
  out?: string;
  collection?: string;
  schema?: string;
  halfvec?: boolean;
  batchSize: string;
  shardSize: string;
  overwrite?: boolean;
  json?: boolean;
}

/** Checks the combination of options commander cannot express; returns which export to run. */
function chooseTarget(options: ExportOptions): 'postgres' | 'clip-retrieval' {
  if (options.to !== undefined && options.format !== undefined)
    throw new UsageError('give either --to URL or --format clip-retrieval, not both');
  if (options.to !== undefined) {
    if (!/^postgres(ql)?:\/\//i.test(options.to))
      throw new UsageError(
        `--to must be a postgres:// or postgresql:// URL (got '${options.to}')`,
        'to write files, use --format clip-retrieval --out DIR',
      );
    for (const flag of ['out', 'overwrite'] as const)
      if (options[flag] !== undefined) throw new UsageError(`--${flag} belongs to --format clip-retrieval, not --to`);
    return 'postgres';
  }
  if (options.format !== undefined) {
    if (options.out === undefined) throw new UsageError('--format clip-retrieval needs --out DIR');
    for (const flag of ['collection', 'schema', 'halfvec'] as const)
      if (options[flag] !== undefined) throw new UsageError(`--${flag} belongs to --to URL, not --format`);
    return 'clip-retrieval';
  }
  throw new UsageError('nothing to export to', 'pass --to postgres://… or --format clip-retrieval --out DIR');
}

export function registerExport(program: Command): void {
  program
    .command('export')
    .description('copy a collection into PostgreSQL (incremental) or write it as clip-retrieval .npy + Parquet')
    .argument('<collection>', 'local collection directory')
    .option('--to <url>', 'PostgreSQL collection to copy into (postgres://…); only items not there yet are copied')
    .option('--collection <name>', 'with --to: target table name (default crossmodal)')
    .option('--schema <name>', 'with --to: target schema (default public)')
    .option('--halfvec', 'with --to: a new target stores 16-bit floats (halfvec)')
    .option('--batch-size <n>', 'with --to: items per transaction', '1000')
    .addOption(new Option('--format <format>', 'write files in this layout').choices(['clip-retrieval']))
    .option('--out <dir>', 'with --format: output directory')
    .option('--shard-size <n>', 'with --format: rows per .npy/.parquet shard', '1000000')
    .option('--overwrite', 'with --format: write into a non-empty directory, replacing its shards')
    .option('--json', 'print the summary as JSON')
    .action(async (collection: string, options: ExportOptions) => {
      const target = chooseTarget(options);
      const batchSize = positiveInt('--batch-size', options.batchSize, 100_000);
      const shardSize = positiveInt('--shard-size', options.shardSize, 100_000_000);
      if (!fs.existsSync(path.join(path.resolve(collection), 'collection.db')))
        throw new UsageError(
          `${collection} is not a collection`,
          'create one with `crossmodal index <images…> --collection DIR`',
        );
      let bar: ReturnType<typeof progress> | undefined;
      const update = (p: { done: number; total: number }): void => {
        bar ??= progress('export', p.total, { quiet: options.json });
        bar.update(p.done);
      };
      let summary: string;
      try {
        if (target === 'postgres') {
          const r = await exportToPostgres(collection, options.to as string, {
            collection: options.collection,
            schema: options.schema,
            halfvec: options.halfvec,
            batchSize,
            onProgress: update,
          });
          summary = options.json
            ? toJson(r)
            : `exported ${r.total} items to ${r.table}: ${r.added} copied, ${r.present} already there`;
        } else {
          const out = path.resolve(options.out as string);
          const r = await exportClipRetrieval(collection, out, {
            shardSize,
            overwrite: options.overwrite,
            onProgress: update,
          });
          summary = options.json
            ? toJson({ ...r, out })
            : `wrote ${r.count} ${r.dim}-d embeddings to ${out} (${r.files.length / 2} shards)`;
        }
      } finally {
        bar?.stop();
      }
      process.stdout.write(`${summary}\n`);
    });
}
