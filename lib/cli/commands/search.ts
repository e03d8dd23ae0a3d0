/** `crossmodal search <collection> "text" | --image FILE`: nearest items of a collection. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import type { CollectionHit } from '../../collection/index';
import { openExistingCollection } from '../context';
import { imageDataUri, page, tileRow } from '../../report/html';
import { jsonObject, positiveInt } from '../inputs';
import { toJson, UsageError } from '../output';

interface SearchOptions {
  image?: string;
  k: string;
  where?: string;
  model?: string;
  json?: boolean;
  html?: string;
}

export function registerSearch(program: Command): void {
  program
    .command('search')
    .description('search a collection by text or by an image')
    .argument('<collection>', 'collection directory (made by `crossmodal index`)')
    .argument('[text]', 'the text query')
    .option('--image <file>', 'search by this image instead of a text')
    .option('-k, --k <n>', 'hits to return', '10')
    .option('--where <json>', 'metadata filter, e.g. \'{"album":"summer"}\' or \'{"width":{"$gt":1000}}\'')
    .option('--model <dir>', 'model bundle (default: the one the collection was indexed with)')
    .option('--json', 'print JSON')
    .option('--html <file>', 'also write a self-contained HTML page of the hits')
    .action(async (dir: string, text: string | undefined, options: SearchOptions) => {
      if ((text === undefined) === (options.image === undefined)) {
        throw new UsageError('give either a text query or --image FILE (not both)');
      }
      const k = positiveInt('--k', options.k, 10_000);
      const where = options.where === undefined ? undefined : jsonObject('--where', options.where);
      const { collection, model } = await openExistingCollection(dir, options.model);
      let hits: CollectionHit[];
      try {
        hits =
          text !== undefined
            ? await collection.searchText(text, { k, where })
            : await collection.searchImage(path.resolve(options.image as string), { k, where });
      } finally {
        await collection.close();
        model.dispose();
      }
      const query = text ?? `image ${options.image}`;
      if (options.html) {
        const tiles = hits.map((h) => ({
          image: h.kind === 'image' && h.source ? imageDataUri(h.source) : null,
          caption: h.source ? path.basename(h.source) : String(h.id),
          score: h.score,
        }));
        fs.writeFileSync(options.html, page(`crossmodal search: ${query}`, tileRow(query, tiles)));
      }
      if (options.json) {
        process.stdout.write(`${toJson({ query, hits })}\n`);
        return;
      }
      process.stdout.write(`${query}\n`);
      if (hits.length === 0) process.stdout.write('  (no hits)\n');
      for (const hit of hits) {
        process.stdout.write(`  ${hit.score.toFixed(4)}  ${hit.source ?? hit.id}\n`);
      }
    });
}
