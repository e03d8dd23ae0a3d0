#!/usr/bin/env node
/**
 * crossmodal command line.
 *
 *   crossmodal demo                       index the bundled demo images and search them by text
 *   crossmodal search --model DIR --images DIR [--k N] QUERY...
 *   crossmodal info --model DIR           what the bundle is and where it runs
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { createIndex, CrossmodalError, demoModelDir, load, loadRuntime, nativeInfo } from './index';

const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.gif']);

function listImages(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((name) => IMAGE_EXTENSIONS.has(path.extname(name).toLowerCase()))
    .sort()
    .map((name) => path.join(dir, name));
}

async function searchImages(modelDir: string, imageDir: string, queries: string[], k: number): Promise<void> {
  const started = process.hrtime.bigint();
  const runtime = await loadRuntime();
  const model = await load(modelDir);
  const files = listImages(imageDir);
  if (files.length === 0) throw new CrossmodalError('ERR_INVALID_ARGUMENT', `no images in ${imageDir}`);
  const binding = nativeInfo();
  console.log(`addon:   ${path.relative(process.cwd(), binding.path) || binding.path} (N-API ${binding.napiVersion})`);
  console.log(`runtime: ONNX Runtime ${runtime.version} from ${runtime.path}`);
  console.log(`model:   ${model.info.root} (${model.info.modelType}, dim ${model.dim}, ` +
    `vision on ${model.info.visionProvider.provider}, text on ${model.info.textProvider.provider})`);

  const index = createIndex({ dim: model.dim });
  const imageEmbeddings = await model.embedImages(files);
  await index.add(imageEmbeddings);
  console.log(`indexed: ${index.size} images from ${imageDir}`);

  const queryEmbeddings = await model.embedTexts(queries);
  const results = await index.search(queryEmbeddings, Math.min(k, files.length));
  queries.forEach((query, q) => {
    console.log(`\n"${query}"`);
    for (const hit of results.get(q)) {
      console.log(`  ${hit.score.toFixed(4)}  ${path.basename(files[Number(hit.id)] as string)}`);
    }
  });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  console.log(`\ndone in ${ms.toFixed(0)} ms`);
  model.dispose();
  index.dispose();
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      model: { type: 'string' },
      images: { type: 'string' },
      k: { type: 'string', default: '3' },
    },
  });
  const k = Number(values.k);
  if (!Number.isInteger(k) || k < 1) throw new CrossmodalError('ERR_INVALID_ARGUMENT', '--k must be a positive integer');
  switch (command) {
    case 'demo': {
      const imageDir = path.join(path.dirname(demoModelDir), 'tiny-clip-reference');
      const queries = positionals.length ? positionals : ['a bright landscape with a blue sky', 'a small gray square'];
      console.log('crossmodal demo: the bundled model has random weights, so rankings show the pipeline ' +
        'working end to end, not semantic quality. Point `crossmodal search --model` at a real CLIP export for that.\n');
      await searchImages(demoModelDir, imageDir, queries, k);
      return 0;
    }
    case 'search': {
      if (!values.model || !values.images || positionals.length === 0) {
        throw new CrossmodalError('ERR_INVALID_ARGUMENT', 'usage: crossmodal search --model DIR --images DIR [--k N] QUERY...');
      }
      await searchImages(values.model, values.images, positionals, k);
      return 0;
    }
    case 'info': {
      const model = await load(values.model ?? demoModelDir);
      console.log(JSON.stringify({ runtime: await loadRuntime(), model: model.info, addon: nativeInfo() }, null, 2));
      model.dispose();
      return 0;
    }
    default:
      console.error('usage: crossmodal demo | search --model DIR --images DIR QUERY... | info --model DIR');
      return command === undefined || command === 'help' || command === '--help' ? 0 : 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const code = error instanceof CrossmodalError ? error.code : 'ERR_INTERNAL';
    console.error(`crossmodal: ${code}: ${(error as Error).message ?? String(error)}`);
    process.exitCode = 1;
  },
);
