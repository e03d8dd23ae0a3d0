// Hostile input at every public entry point (issue #16): each function, class method, index
// method, collection method, hub and eval entry of lib/index.ts is called with the classes of
// values an outside probe found leaking through — null options, non-string or NUL-carrying paths,
// array-likes with a huge length, unserialisable metadata and configs, bad ids, mistyped
// boolean/string/enum options, vectors of the wrong dimension — and must throw or reject with a
// CrossmodalError of the stated code: never a TypeError, RangeError, SyntaxError or SqliteError,
// never a crash or a hang. Damaged collection databases, corrupt rows and hostile hub caches
// follow the table.
import * as os from 'node:os';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  calibrateThreshold,
  clipScore,
  createIndex,
  CrossmodalError,
  Embeddings,
  evaluateRetrieval,
  load,
  loadCaptionDataset,
  loadIndex,
  loadRuntime,
  loadTokenizer,
  openCollection,
  precisionAtK,
  preprocessImages,
  exportClipRetrieval,
  exportToPostgres,
  pull,
  rankingMetrics,
  recallAgainstExact,
  recommendIndex,
  refClipScore,
  resolveModel,
  rowIds,
  similarity,
  topK,
  type Collection,
  type ErrorCode,
  type Model,
  type SearchResults,
  type Tokenizer,
  type VectorIndex,
} from '../lib/index';
import { FakeHub, readBundle } from './helpers/fake-hub';
import { rejection, scratchDirs, tinyBundle, tinyReferenceDir } from './helpers';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { fakeModel } = require('./helpers/fake-model.cjs') as {
  fakeModel: (dim?: number, fingerprint?: string) => Parameters<typeof openCollection>[1]['model'];
};

let haveSqlite = true;
try {
  require.resolve('better-sqlite3');
} catch {
  haveSqlite = false;
  console.warn('hostile-input: collection cases skipped (better-sqlite3 is not installed)');
}

const scratch = scratchDirs('crossmodal-hostile-');
const DIM = 16;

// ---- The hostile values, by class ----------------------------------------------------------

const cyclic: Record<string, unknown> = { a: 1 };
cyclic.self = cyclic;

/** Options arguments that are not objects (null first: the probe's dozen TypeErrors). */
const BAD_OPTIONS: [string, unknown][] = [
  ['null', null],
  ['a number', 42],
  ['a string', 'fast'],
  ['an array', []],
];
/** Paths that must not reach path.resolve or the OS. */
const BAD_PATHS: [string, unknown][] = [
  ['a number', 42],
  ['an object', {}],
  ['a Buffer', Buffer.from('/tmp')],
  ['a URL', new URL('file:///tmp')],
  ['null', null],
  ['an empty string', ''],
  ['a string with NUL', 'models/a\0b'],
];
/** Lists that are not real arrays, or are sparse. */
const BAD_LISTS: [string, unknown][] = [
  ['{ length: 2 ** 32 }', { length: 2 ** 32 }],
  ['{ length: 2 ** 53 }', { length: 2 ** 53 }],
  ['{ length: -1 }', { length: -1 }],
  ['a string', 'abc'],
  ['null', null],
  ['a sparse array', new Array(3)],
];
/** Values JSON cannot hold. */
const UNSERIALISABLE: [string, Record<string, unknown>][] = [
  ['a BigInt', { n: 1n }],
  ['a cycle', cyclic],
];
/** Not booleans, for boolean options (`'no'` used to mean on). */
const NOT_BOOLEANS: [string, unknown][] = [
  ["'no'", 'no'],
  ['1', 1],
  ['null', null],
];
/** Item ids that cannot be ids. */
const BAD_IDS: [string, unknown][] = [
  ['1.5', 1.5],
  ['NaN', NaN],
  ['2 ** 64', 2 ** 64],
  ['2n ** 64n', 2n ** 64n],
  ["'1'", '1'],
  ['{}', {}],
  ['null', null],
];

// ---- The objects whose methods are called --------------------------------------------------

let model: Model;
let tokenizer: Tokenizer;
let index: VectorIndex;
let results: SearchResults;
let collection: Collection | undefined;
let embeddings: Embeddings;
const collectionDir = scratch();
const captionsFile = path.join(scratch(), 'captions.csv');
const imageFile = path.join(
  tinyReferenceDir,
  fs.readdirSync(tinyReferenceDir).find((f) => /\.png$/i.test(f)) as string,
);

beforeAll(async () => {
  model = await load(tinyBundle, { warmup: false });
  tokenizer = await loadTokenizer(tinyBundle);
  embeddings = await model.embedTexts(['a', 'b']);
  index = createIndex({ dim: 4 });
  await index.add(new Float32Array([1, 0, 0, 0, 0, 1, 0, 0]));
  results = await index.search(new Float32Array([1, 0, 0, 0]), 1);
  if (haveSqlite) {
    collection = await openCollection(collectionDir, { model: fakeModel(DIM) });
    await collection.addTexts(['one', 'two']);
  }
  fs.mkdirSync(path.dirname(captionsFile), { recursive: true });
  fs.copyFileSync(imageFile, path.join(path.dirname(captionsFile), 'a.png'));
  fs.copyFileSync(imageFile, path.join(path.dirname(captionsFile), 'b.png'));
  fs.writeFileSync(captionsFile, 'image,caption\na.png,a thing\nb.png,another thing\n');
});

afterAll(async () => {
  await collection?.close();
  index?.dispose();
  tokenizer?.dispose();
  model?.dispose();
});

// ---- The table -----------------------------------------------------------------------------

interface Case {
  entry: string;
  value: string;
  run: () => unknown;
  code: ErrorCode;
  needsSqlite?: boolean;
}
const cases: Case[] = [];

/**
 * A hostile value as the entry point's parameter type: the point of every case is to break the
 * declared type, as untyped JavaScript callers do.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Hostile = any;

function add(
  entry: string,
  values: [string, unknown][],
  run: (v: Hostile) => unknown,
  code: ErrorCode = 'ERR_INVALID_ARGUMENT',
): void {
  for (const [value, v] of values) cases.push({ entry, value, run: () => run(v), code });
}
function addCollection(
  entry: string,
  values: [string, unknown][],
  run: (c: Collection, v: Hostile) => unknown,
  code: ErrorCode = 'ERR_INVALID_ARGUMENT',
): void {
  for (const [value, v] of values)
    cases.push({ entry, value, run: () => run(collection as Collection, v), code, needsSqlite: true });
}

const vec4 = (): Float32Array => new Float32Array([0, 0, 1, 0]);
const scores = { data: new Float32Array([1, 0, 0, 1]), rows: 2, cols: 2 };
const dataset = () => ({ images: [imageFile, imageFile], captions: ['a', 'b'], captionImage: Int32Array.of(0, 1) });

// load, the runtime, tokenizers
add('load(dir)', BAD_PATHS, (v) => load(v));
add('load(dir, options)', BAD_OPTIONS, (v) => load(tinyBundle, v));
add('load({ warmup })', NOT_BOOLEANS, (v) => load(tinyBundle, { warmup: v }));
add('load({ trimTextPadding })', NOT_BOOLEANS, (v) => load(tinyBundle, { trimTextPadding: v }));
add('load({ exifOrientation })', NOT_BOOLEANS, (v) => load(tinyBundle, { exifOrientation: v }));
add(
  'load({ device })',
  [
    ['5', 5],
    ["'gpu0'", 'gpu0'],
  ],
  (v) => load(tinyBundle, { device: v }),
);
add(
  'load({ ortLibrary })',
  BAD_PATHS.filter(([, v]) => v !== null),
  (v) => load(tinyBundle, { ortLibrary: v }),
);
add(
  'load({ trtCacheDir })',
  BAD_PATHS.filter(([, v]) => v !== null),
  (v) => load(tinyBundle, { trtCacheDir: v }),
);
add('loadRuntime(options)', BAD_OPTIONS, (v) => loadRuntime(v));
add(
  'loadRuntime({ ortLibrary })',
  BAD_PATHS.filter(([, v]) => v !== null),
  (v) => loadRuntime({ ortLibrary: v }),
);
add('loadTokenizer(dir)', BAD_PATHS, (v) => loadTokenizer(v));
add('loadTokenizer(dir, options)', BAD_OPTIONS, (v) => loadTokenizer(tinyBundle, v));
add('tokenizer.tokenize(texts)', BAD_LISTS, (v) => tokenizer.tokenize(v));
add('tokenizer.tokenize(texts, options)', BAD_OPTIONS, (v) => tokenizer.tokenize(['a'], v));
add('tokenizer.tokenize({ int64 })', NOT_BOOLEANS, (v) => tokenizer.tokenize(['a'], { int64: v }));
add('tokenizer.decode(ids)', BAD_LISTS, (v) => tokenizer.decode(v));
add('tokenizer.decode(ids, options)', BAD_OPTIONS, (v) => tokenizer.decode([1], v));
add('tokenizer.decode({ skipSpecialTokens })', NOT_BOOLEANS, (v) => tokenizer.decode([1], { skipSpecialTokens: v }));
add(
  'tokenizer.idToToken(id)',
  [
    ["'1'", '1'],
    ['NaN', NaN],
  ],
  (v) => tokenizer.idToToken(v),
);
add(
  'tokenizer.tokenToId(token)',
  [
    ['5', 5],
    ['null', null],
  ],
  (v) => tokenizer.tokenToId(v),
);
add(
  'rowIds(tokens)',
  [
    ['null', null],
    ['{}', {}],
    ['{ ids: [] }', { ids: [] }],
  ],
  (v) => rowIds(v, 0),
);

// Model methods
add('model.embedTexts(texts)', BAD_LISTS, (v) => model.embedTexts(v));
add('model.embedTexts(texts, options)', BAD_OPTIONS, (v) => model.embedTexts(['a'], v));
add('model.embedTexts({ normalize })', NOT_BOOLEANS, (v) => model.embedTexts(['a'], { normalize: v }));
add('model.embedImages(images)', BAD_LISTS, (v) => model.embedImages(v));
/** Paths where a Buffer is not a path but an image's bytes (refused later, as not an image). */
const BAD_IMAGE_PATHS = BAD_PATHS.filter(([, v]) => !Buffer.isBuffer(v));
add('model.embedImages([path])', BAD_IMAGE_PATHS, (v) => model.embedImages([v]));
add('model.embedImages(images, options)', BAD_OPTIONS, (v) => model.embedImages([imageFile], v));
add('model.embedImages({ dctScaling })', NOT_BOOLEANS, (v) => model.embedImages([imageFile], { dctScaling: v }));
add('model.preprocess(images)', BAD_LISTS, (v) => model.preprocess(v));
add('model.preprocess([path])', BAD_IMAGE_PATHS, (v) => model.preprocess([v]));
add('model.preprocess(images, options)', BAD_OPTIONS, (v) => model.preprocess([imageFile], v));
add(
  'model.preprocess({ onError })',
  [
    ["'ignore'", 'ignore'],
    ['true', true],
  ],
  (v) => model.preprocess([imageFile], { onError: v }),
);
add('model.tokenize(texts)', BAD_LISTS, (v) => model.tokenize(v));
add('model.decode(ids)', BAD_LISTS, (v) => model.decode(v));
add('model.decode(ids, options)', BAD_OPTIONS, (v) => model.decode([1], v));
add('model.score(images, texts, options)', BAD_OPTIONS, (v) => model.score(embeddings, embeddings, v));
add('model.score({ softmax })', NOT_BOOLEANS, (v) => model.score(embeddings, embeddings, { softmax: v }));
add('model.score({ scale })', NOT_BOOLEANS, (v) => model.score(embeddings, embeddings, { scale: v }));
add('model.score(images)', BAD_LISTS, (v) => model.score(v, embeddings));
add('model.classify(images, labels)', BAD_LISTS, (v) => model.classify(embeddings, v));
add('model.classify(images, labels, options)', BAD_OPTIONS, (v) => model.classify(embeddings, ['x'], v));
add('model.classify({ templates })', BAD_LISTS, (v) => model.classify(embeddings, ['x'], { templates: v }));
add('model.match(images, texts, options)', BAD_OPTIONS, (v) => model.match(embeddings, embeddings, v));
add('model.match(images)', BAD_LISTS, (v) => model.match(v, ['a'], { threshold: 0.2 }));
add(
  'new Embeddings(data, count, dim)',
  [
    ['null', null],
    ['an array', [1, 2]],
    ['{ length: 2 ** 32 }', { length: 2 ** 32 }],
  ],
  (v) => new Embeddings(v, 1, 2),
);
add(
  'embeddings.row(index)',
  [
    ["'0'", '0'],
    ['NaN', NaN],
  ],
  (v) => embeddings.row(v),
);
add('similarity(a, b, options)', BAD_OPTIONS, (v) => similarity(embeddings, embeddings, v));
add('similarity({ softmax })', NOT_BOOLEANS, (v) => similarity(embeddings, embeddings, { softmax: v }));
add('similarity(a)', BAD_LISTS, (v) => similarity(v, embeddings));
add('preprocessImages(images)', BAD_LISTS, (v) =>
  preprocessImages(v, path.join(tinyBundle, 'preprocessor_config.json')),
);
add(
  'preprocessImages(images, configPath)',
  BAD_PATHS.filter(([, v]) => typeof v !== 'object'),
  (v) => preprocessImages([imageFile], v),
);
add('preprocessImages(images, config)', UNSERIALISABLE, (v) => preprocessImages([imageFile], v));
add('preprocessImages(images, config, options)', BAD_OPTIONS, (v) =>
  preprocessImages([imageFile], path.join(tinyBundle, 'preprocessor_config.json'), v),
);

// Indexes
add('createIndex(options)', BAD_OPTIONS, (v) => createIndex(v));
add('createIndex(options)', UNSERIALISABLE, (v) => createIndex({ dim: 4, ...v }));
add('createIndex({ factory })', [['5', 5]], (v) => createIndex({ dim: 4, factory: v }));
add(
  'createIndex({ metric })',
  [
    ['5', 5],
    ['null', null],
  ],
  (v) => createIndex({ dim: 4, metric: v }),
);
add(
  'recommendIndex(n, dim)',
  [
    ["'1000'", '1000'],
    ['NaN', NaN],
  ],
  (v) => recommendIndex(v, 4),
);
add('loadIndex(file)', BAD_PATHS, (v) => loadIndex(v));
add('loadIndex(file, options)', BAD_OPTIONS, (v) => loadIndex('missing.index', v));
add(
  'loadIndex({ mmap })',
  [
    ["'yes'", 'yes'],
    ['1', 1],
  ],
  (v) => loadIndex('missing.index', { mmap: v }),
);
add(
  'loadIndex({ fingerprint })',
  [
    ['5', 5],
    ['{}', {}],
  ],
  (v) => loadIndex('missing.index', { fingerprint: v }),
);
add(
  'loadIndex({ dim })',
  [
    ['2 ** 40', 2 ** 40],
    ["'4'", '4'],
  ],
  (v) => loadIndex('missing.index', { dim: v }),
);
add(
  'index.add(vectors, ids)',
  BAD_LISTS.filter(([, v]) => v !== null),
  (v) => index.add(vec4(), v),
);
add(
  'index.add(vectors)',
  [
    ['null', null],
    ['an array', [1, 2, 3, 4]],
    ['{ length: 2 ** 32 }', { length: 2 ** 32 }],
  ],
  (v) => index.add(v),
);
add(
  'index.add(vectors of another dim)',
  [['3 floats', new Float32Array(3)]],
  (v) => index.add(v),
  'ERR_DIMENSION_MISMATCH',
);
add('index.upsert(vectors, ids)', BAD_LISTS, (v) => index.upsert(vec4(), v));
add('index.remove(ids)', BAD_LISTS, (v) => index.remove(v));
add('index.has(ids)', BAD_LISTS, (v) => index.has(v));
add('index.reconstruct(id)', BAD_IDS, (v) => index.reconstruct(v));
add(
  'index.search(queries, k, options)',
  BAD_OPTIONS.filter(([, v]) => !Array.isArray(v)),
  (v) => index.search(vec4(), 1, v),
);
add('index.search({ filter: { allow } })', BAD_LISTS, (v) => index.search(vec4(), 1, { filter: { allow: v } }));
add(
  'index.search(queries, k)',
  [
    ["'1'", '1'],
    ['NaN', NaN],
    ['2 ** 40', 2 ** 40],
  ],
  (v) => index.search(vec4(), v),
);
add(
  'index.rangeSearch(queries, threshold, options)',
  BAD_OPTIONS.filter(([, v]) => !Array.isArray(v)),
  (v) => index.rangeSearch(vec4(), 0.5, v),
);
add('index.save(file)', BAD_PATHS, (v) => index.save(v));
add('index.save(file, options)', BAD_OPTIONS, (v) => index.save(path.join(scratch(), 'x.index'), v));
add('index.save({ fingerprint })', [['5', 5]], (v) => index.save(path.join(scratch(), 'x.index'), { fingerprint: v }));
add(
  'index.train(sample)',
  [
    ['null', null],
    ['an array', [1, 2, 3, 4]],
  ],
  (v) => index.train(v),
);
add(
  'rangeResults.get(query)',
  [
    ["'0'", '0'],
    ['-1', -1],
  ],
  async (v) => (await index.rangeSearch(vec4(), 0.5)).get(v),
);
add(
  'results.get(query)',
  [
    ["'0'", '0'],
    ['-1', -1],
  ],
  (v) => results.get(v),
);

// Collections
add('openCollection(dir)', BAD_PATHS, (v) => openCollection(v, { model: fakeModel(DIM) }));
add('openCollection(dir, options)', BAD_OPTIONS, (v) => openCollection(scratch(), v));
add(
  'openCollection({ model })',
  [
    ['{}', {}],
    ['null', null],
    ['{ dim: 4 }', { dim: 4 }],
  ],
  (v) => openCollection(scratch(), { model: v }),
);
add(
  'openCollection({ reembed })',
  NOT_BOOLEANS.filter(([, v]) => v !== null),
  (v) => openCollection(scratch(), { model: fakeModel(DIM), reembed: v }),
);
add('openCollection({ index })', [...UNSERIALISABLE, ['null', null], ['{ type: 5 }', { type: 5 }]], (v) =>
  openCollection(scratch(), { model: fakeModel(DIM), index: v }),
);
add(
  'openCollection({ checkpointEvery })',
  [
    ["'5'", '5'],
    ['0', 0],
  ],
  (v) => openCollection(scratch(), { model: fakeModel(DIM), checkpointEvery: v }),
);
add('openCollection({ fingerprint })', [['5', 5]], (v) =>
  openCollection(scratch(), { model: fakeModel(DIM), fingerprint: v }),
);
add('openCollection(postgres, { halfvec })', [["'yes'", 'yes']], (v) =>
  openCollection('postgres://127.0.0.1:1/none', { model: fakeModel(DIM), halfvec: v }),
);
addCollection('collection.addTexts(texts)', BAD_LISTS, (c, v) => c.addTexts(v));
addCollection('collection.addTexts(texts, metadata)', UNSERIALISABLE, (c, v) => c.addTexts(['m'], v));
addCollection('collection.addTexts(texts, [metadata])', UNSERIALISABLE, (c, v) => c.addTexts(['m', 'n'], [{}, v]));
addCollection(
  'collection.addTexts(texts, metadata)',
  [
    ['a string', 'x'],
    ['a number', 5],
  ],
  (c, v) => c.addTexts(['m'], v),
);
addCollection('collection.addTexts(texts, metadata, options)', BAD_OPTIONS, (c, v) => c.addTexts(['m'], undefined, v));
addCollection(
  'collection.addTexts({ batchSize })',
  [
    ["'5'", '5'],
    ['0', 0],
  ],
  (c, v) => c.addTexts(['m'], undefined, { batchSize: v }),
);
addCollection('collection.addTexts({ onProgress })', [["'log'", 'log']], (c, v) =>
  c.addTexts(['m'], undefined, { onProgress: v }),
);
addCollection('collection.addImages(images)', BAD_LISTS, (c, v) => c.addImages(v));
addCollection('collection.addImages([path])', BAD_IMAGE_PATHS, (c, v) => c.addImages([v]));
addCollection('collection.addVectors(vectors, keys)', BAD_LISTS, (c, v) => c.addVectors(new Float32Array(DIM), v));
addCollection(
  'collection.addVectors(non-finite)',
  [
    ['NaN', NaN],
    ['Infinity', Infinity],
  ],
  (c, v) => c.addVectors(new Float32Array(DIM).fill(v), ['k']),
);
addCollection(
  'collection.addVectors(vectors of another dim)',
  [
    ['dim - 1 floats', new Float32Array(DIM - 1)],
    ['dim + 1 floats', new Float32Array(DIM + 1)],
  ],
  (c, v) => c.addVectors(v, ['k']),
);
addCollection('collection.searchText(query, options)', BAD_OPTIONS, (c, v) => c.searchText('a', v));
addCollection('collection.searchImage(image)', BAD_IMAGE_PATHS, (c, v) => c.searchImage(v));
addCollection('collection.searchVector(vector, options)', BAD_OPTIONS, (c, v) =>
  c.searchVector(new Float32Array(DIM), v),
);
addCollection(
  'collection.searchText({ where })',
  [
    ['a BigInt past 64 bits', { n: 2n ** 70n }],
    ['NaN', { n: NaN }],
  ],
  (c, v) => c.searchText('a', { where: v }),
);
addCollection('collection.get(id)', BAD_IDS, (c, v) => c.get(v));
addCollection('collection.remove(ids)', BAD_LISTS, (c, v) => c.remove(v));
addCollection('collection.remove([id])', [...BAD_IDS, ['-1', -1]], (c, v) => c.remove([v]));
addCollection('collection.updateMetadata(id)', BAD_IDS, (c, v) => c.updateMetadata(v, {}));
addCollection(
  'collection.updateMetadata(id, metadata)',
  [...UNSERIALISABLE, ['null', null], ['an array', [1]]],
  (c, v) => c.updateMetadata(1, v),
);
addCollection('collection.updateMetadata(id, metadata, options)', BAD_OPTIONS, (c, v) => c.updateMetadata(1, {}, v));
addCollection('collection.updateMetadata({ merge })', NOT_BOOLEANS, (c, v) => c.updateMetadata(1, {}, { merge: v }));
addCollection(
  'collection.find(where)',
  [
    ['null', null],
    ['a BigInt past 64 bits', { id: 2n ** 70n }],
    ['Infinity', { n: Infinity }],
    ['$in: { length: 2 ** 32 }', { n: { $in: { length: 2 ** 32 } } }],
    ['$in: a sparse array', { n: { $in: new Array(2) } }],
  ],
  (c, v) => c.find(v),
);

// Exports
add('exportClipRetrieval(dir)', BAD_PATHS, (v) => exportClipRetrieval(v as string, os.tmpdir()));
add('exportClipRetrieval(dir, outDir)', BAD_PATHS, (v) => exportClipRetrieval(os.tmpdir(), v as string));
add('exportClipRetrieval(dir, outDir, options)', BAD_OPTIONS, (v) => exportClipRetrieval(os.tmpdir(), os.tmpdir(), v));
add('exportClipRetrieval({ overwrite })', NOT_BOOLEANS, (v) =>
  exportClipRetrieval(os.tmpdir(), os.tmpdir(), { overwrite: v as boolean }),
);
add(
  'exportClipRetrieval({ shardSize })',
  [
    ['0', 0],
    ['1.5', 1.5],
    ["'10'", '10'],
  ],
  (v) => exportClipRetrieval(os.tmpdir(), os.tmpdir(), { shardSize: v as number }),
);
add('exportToPostgres(dir)', BAD_PATHS, (v) => exportToPostgres(v as string, 'postgres://localhost/x'));
add(
  'exportToPostgres(dir, url)',
  [
    ['5', 5],
    ['null', null],
    ["'mysql://x'", 'mysql://x'],
  ],
  (v) => exportToPostgres(os.tmpdir(), v as string),
);
add('exportToPostgres(dir, url, options)', BAD_OPTIONS, (v) =>
  exportToPostgres(os.tmpdir(), 'postgres://localhost/x', v),
);
add('exportToPostgres({ halfvec })', NOT_BOOLEANS, (v) =>
  exportToPostgres(os.tmpdir(), 'postgres://localhost/x', { halfvec: v as boolean }),
);

// The hub
add(
  'pull(repoId)',
  [
    ['5', 5],
    ['null', null],
    ["'../x'", '../x'],
  ],
  (v) => pull(v, { offline: true }),
);
add('pull(repoId, options)', BAD_OPTIONS, (v) => pull('org/name', v));
add(
  'pull({ offline })',
  [
    ["'no'", 'no'],
    ['1', 1],
  ],
  (v) => pull('org/name', { offline: v }),
);
add(
  'pull({ cacheDir })',
  BAD_PATHS.filter(([, v]) => v !== null),
  (v) => pull('org/name', { cacheDir: v, offline: true }),
);
add(
  'pull({ endpoint })',
  [
    ['5', 5],
    ["'file:///etc'", 'file:///etc'],
  ],
  (v) => pull('org/name', { endpoint: v }),
);
add(
  'pull({ revision })',
  [
    ["'../../x'", '../../x'],
    ["'/etc'", '/etc'],
    ['5', 5],
  ],
  (v) => pull('org/name', { revision: v, offline: true }),
);
add(
  'resolveModel(repoId)',
  [
    ['5', 5],
    ["'a/b/c'", 'a/b/c'],
  ],
  (v) => resolveModel(v),
);
add('resolveModel(repoId, options)', BAD_OPTIONS, (v) => resolveModel('org/name', v));
add(
  'resolveModel({ cacheDir })',
  BAD_PATHS.filter(([, v]) => v !== null),
  (v) => resolveModel('org/name', { cacheDir: v }),
);

// Evaluation
add('loadCaptionDataset(file)', BAD_PATHS, (v) => loadCaptionDataset(v));
add('loadCaptionDataset(file, options)', BAD_OPTIONS, (v) => loadCaptionDataset(captionsFile, v));
add(
  'loadCaptionDataset({ format })',
  [
    ['5', 5],
    ["'tsv'", 'tsv'],
  ],
  (v) => loadCaptionDataset(captionsFile, { format: v }),
);
add(
  'loadCaptionDataset({ limit })',
  [
    ["'1'", '1'],
    ['0', 0],
  ],
  (v) => loadCaptionDataset(captionsFile, { limit: v }),
);
add(
  'loadCaptionDataset({ images })',
  BAD_PATHS.filter(([, v]) => v !== null && v !== ''),
  (v) => loadCaptionDataset(captionsFile, { images: v }),
);
add(
  'evaluateRetrieval(model)',
  [
    ['null', null],
    ['{}', {}],
  ],
  (v) => evaluateRetrieval(v, dataset()),
);
add(
  'evaluateRetrieval(model, dataset)',
  [
    ['null', null],
    ['{}', {}],
    ['{ images: { length: 2 ** 32 } }', { ...dataset(), images: { length: 2 ** 32 } }],
  ],
  (v) => evaluateRetrieval(model, v),
);
add('evaluateRetrieval(model, dataset, options)', BAD_OPTIONS, (v) => evaluateRetrieval(model, dataset(), v));
add(
  'evaluateRetrieval({ calibrate })',
  NOT_BOOLEANS.filter(([, v]) => v !== null),
  (v) => evaluateRetrieval(model, dataset(), { calibrate: v }),
);
add(
  'evaluateRetrieval({ ks })',
  BAD_LISTS.filter(([, v]) => v !== null),
  (v) => evaluateRetrieval(model, dataset(), { ks: v }),
);
add(
  'rankingMetrics(scores)',
  [
    ['null', null],
    ['{}', {}],
  ],
  (v) => rankingMetrics(v, () => [0]),
);
add(
  'rankingMetrics(scores, relevant)',
  [['a string', 'x'], ...BAD_LISTS.map(([n, l]): [string, unknown] => [`returning ${n}`, () => l])],
  (v) => rankingMetrics(scores, v),
);
add(
  'rankingMetrics(scores, relevant, ks)',
  BAD_LISTS.filter(([, v]) => v !== null),
  (v) => rankingMetrics(scores, (q) => [q], v),
);
add('topK(scores)', [['null', null]], (v) => topK(v, 0, 1));
add(
  'precisionAtK(scores, isRelevant)',
  [
    ['a string', 'x'],
    ['null', null],
  ],
  (v) => precisionAtK(scores, v, 1),
);
add(
  'clipScore(cosine)',
  [
    ["'0.3'", '0.3'],
    ['NaN', NaN],
  ],
  (v) => clipScore(v),
);
add('refClipScore(cosine, references)', BAD_LISTS, (v) => refClipScore(0.3, v));
add('calibrateThreshold(positives)', BAD_LISTS, (v) => calibrateThreshold(v, [0.1]));
add('calibrateThreshold(positives, negatives)', BAD_LISTS, (v) => calibrateThreshold([0.5], v));
add('recallAgainstExact(approximate)', BAD_LISTS, (v) => recallAgainstExact(v, [0n], 1, 1));
add('recallAgainstExact(approximate, exact, queries)', [['2 ** 53', 2 ** 53]], (v) =>
  recallAgainstExact([0n], [0n], v, 1),
);

/** What `run` throws or rejects with, within `ms` (a hang fails the test). */
async function outcome(run: () => unknown, ms = 20_000): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      (async () => run())(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
      }),
    ]);
  } catch (error) {
    return error;
  } finally {
    clearTimeout(timer);
  }
  return undefined;
}

/** Public functions and methods that take no arguments: nothing hostile to pass them. */
const NO_ARGUMENTS = new Set([
  'nativeInfo',
  'model.stats',
  'model.dispose',
  'tokenizer.dispose',
  'index.rebuild',
  'index.info',
  'index.dispose',
  'collection.compact',
  'collection.checkpoint',
  'collection.stats',
  'collection.close',
]);

describe('every public entry point refuses hostile values with a typed error', () => {
  it('the table names every public function and every method that takes arguments', async () => {
    const api = await import('../lib/index');
    const covered = new Set(cases.map((c) => c.entry.split('(')[0]));
    const missing: string[] = [];
    for (const [name, value] of Object.entries(api))
      if (typeof value === 'function' && /^[a-z]/.test(name) && !covered.has(name) && !NO_ARGUMENTS.has(name))
        missing.push(name);
    // PostgresCollection needs a server; its argument checks are the functions of
    // lib/collection/arguments.ts that Collection's cases exercise, and the guard test below covers it.
    const classes = {
      model: api.Model,
      tokenizer: api.Tokenizer,
      index: api.VectorIndex,
      collection: api.Collection,
      embeddings: api.Embeddings,
      results: api.SearchResults,
      rangeResults: api.RangeResults,
    };
    for (const [prefix, cls] of Object.entries(classes))
      for (const key of Object.getOwnPropertyNames(cls.prototype)) {
        const method = Object.getOwnPropertyDescriptor(cls.prototype, key)?.value as unknown;
        const entry = `${prefix}.${key}`;
        if (key !== 'constructor' && typeof method === 'function' && !covered.has(entry) && !NO_ARGUMENTS.has(entry))
          missing.push(entry);
      }
    expect(missing).toEqual([]);
  });

  it('every method and getter of every public class throws only CrossmodalErrors (called on a foreign object)', async () => {
    const api = await import('../lib/index');
    const classes = [
      api.Model,
      api.Tokenizer,
      api.VectorIndex,
      api.Collection,
      api.PostgresCollection,
      api.Embeddings,
      api.SearchResults,
      api.RangeResults,
    ];
    let calls = 0;
    for (const cls of classes)
      for (const key of Object.getOwnPropertyNames(cls.prototype)) {
        if (key === 'constructor') continue;
        const descriptor = Object.getOwnPropertyDescriptor(cls.prototype, key) as PropertyDescriptor;
        const call = descriptor.get
          ? () => (descriptor.get as () => unknown).call({})
          : () => (descriptor.value as (...args: unknown[]) => unknown).call({}, ['a'], {});
        const error = await outcome(call);
        calls++;
        // A method with nothing to check and no state to touch may simply return.
        if (error !== undefined) expect(error, `${cls.name}.${key}: ${String(error)}`).toBeInstanceOf(CrossmodalError);
      }
    expect(calls).toBeGreaterThan(50);
  });

  it(`the table covers the entry points (${cases.length} cases)`, () => {
    expect(cases.length).toBeGreaterThan(290);
  });

  it.each(cases.map((c) => [`${c.entry} with ${c.value}`, c] as const))('%s', async (_, c) => {
    if (c.needsSqlite && !haveSqlite) return;
    const error = await outcome(c.run);
    if (!(error instanceof CrossmodalError))
      throw new Error(`expected a CrossmodalError ${c.code}, got ${error === undefined ? 'success' : String(error)}`);
    expect(error.code, error.message).toBe(c.code);
  });
});

// ---- The last line of defence: whatever else goes wrong is still a CrossmodalError -----------

describe('errors from outside crossmodal become ERR_INTERNAL (or ERR_IO) with the cause attached', () => {
  it.skipIf(!haveSqlite)(
    'a model that throws a TypeError: addTexts rejects with ERR_INTERNAL, cause kept',
    async () => {
      const cause = new TypeError('the model broke');
      const broken = {
        ...fakeModel(DIM),
        embedTexts: async () => {
          throw cause;
        },
      };
      const c = await openCollection(scratch(), { model: broken });
      try {
        const error = await rejection(c.addTexts(['x']));
        expect(error.code).toBe('ERR_INTERNAL');
        expect(error.cause).toBe(cause);
        expect((await c.stats()).count).toBe(0);
      } finally {
        await c.close();
      }
    },
  );

  it('a callback that throws a RangeError: evaluateRetrieval rejects with ERR_INTERNAL, cause kept', async () => {
    const cause = new RangeError('progress bar overflow');
    const error = await rejection(
      evaluateRetrieval(model, dataset(), {
        onProgress: () => {
          throw cause;
        },
      }),
    );
    expect(error.code).toBe('ERR_INTERNAL');
    expect(error.cause).toBe(cause);
  });

  it.skipIf(!haveSqlite)('a collection directory removed under it: stats() rejects with ERR_IO', async () => {
    const dir = scratch();
    const c = await openCollection(dir, { model: fakeModel(DIM) });
    try {
      fs.rmSync(dir, { recursive: true, force: true });
      const error = await rejection(c.stats());
      expect(error.code).toBe('ERR_IO');
      expect((error.cause as NodeJS.ErrnoException).code).toBe('ENOENT');
    } finally {
      await c.close().catch(() => undefined);
    }
  });
});

// ---- Damaged and foreign collection databases ----------------------------------------------

// eslint-disable-next-line @typescript-eslint/no-require-imports
const Database = haveSqlite ? (require('better-sqlite3') as new (file: string) => SqliteHandle) : undefined;
interface SqliteHandle {
  exec(sql: string): void;
  prepare(sql: string): { run(...args: unknown[]): unknown };
  close(): void;
}

let template: string | undefined;

/**
 * A closed collection with three texts (ids 1, 2, 3), and its database file: a copy of one made
 * once (each open and close costs seconds on a loaded machine).
 */
async function closedCollection(): Promise<{ dir: string; db: string }> {
  if (template === undefined) {
    const dir = scratch();
    const c = await openCollection(dir, { model: fakeModel(DIM) });
    await c.addTexts(['one', 'two', 'three'], [{ n: 1 }, { n: 2 }, { n: 3 }]);
    await c.close();
    template = dir;
  }
  const dir = scratch();
  fs.cpSync(template, dir, { recursive: true });
  fs.rmSync(path.join(dir, 'LOCK'), { force: true });
  return { dir, db: path.join(dir, 'collection.db') };
}

function tamper(db: string, sql: string, ...args: unknown[]): void {
  const handle = new (Database as NonNullable<typeof Database>)(db);
  try {
    handle.prepare(sql).run(...args);
  } finally {
    handle.close();
  }
}

describe.skipIf(!haveSqlite)('damaged and foreign collection databases give typed errors', { timeout: 300_000 }, () => {
  it('random bytes as collection.db: ERR_INDEX_CORRUPT', async () => {
    const dir = scratch();
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(
      path.join(dir, 'collection.db'),
      Buffer.from(Array.from({ length: 8192 }, (_, i) => (i * 7919) % 256)),
    );
    const error = await rejection(openCollection(dir, { model: fakeModel(DIM) }));
    expect(error.code).toBe('ERR_INDEX_CORRUPT');
  });

  it('a truncated collection.db: ERR_INDEX_CORRUPT', async () => {
    for (const keep of [50, 1024 + 512]) {
      const { dir, db } = await closedCollection();
      fs.truncateSync(db, keep);
      fs.rmSync(path.join(dir, 'index.faiss'), { force: true });
      const error = await rejection(openCollection(dir, { model: fakeModel(DIM) }));
      expect(error.code, `${keep} bytes: ${error.message}`).toBe('ERR_INDEX_CORRUPT');
    }
  });

  it('another application’s SQLite database: ERR_STORE, and its file is left as it was', async () => {
    const dir = scratch();
    fs.mkdirSync(dir, { recursive: true });
    const db = path.join(dir, 'collection.db');
    const handle = new (Database as NonNullable<typeof Database>)(db);
    handle.exec("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO users (name) VALUES ('ada');");
    handle.close();
    const before = fs.readFileSync(db);
    const error = await rejection(openCollection(dir, { model: fakeModel(DIM) }));
    expect(error.code).toBe('ERR_STORE');
    expect(error.message).toContain('not a crossmodal collection');
    expect(fs.readFileSync(db).equals(before)).toBe(true);

    // Same table names, other columns.
    const dir2 = scratch();
    fs.mkdirSync(dir2, { recursive: true });
    const other = new (Database as NonNullable<typeof Database>)(path.join(dir2, 'collection.db'));
    other.exec('CREATE TABLE meta (k TEXT, v TEXT); CREATE TABLE items (id INTEGER PRIMARY KEY, body TEXT);');
    other.close();
    expect((await rejection(openCollection(dir2, { model: fakeModel(DIM) }))).code).toBe('ERR_STORE');
  });

  it('corrupt settings rows: ERR_INDEX_CORRUPT', async () => {
    for (const [key, value] of [
      ['index', '{not json'],
      ['index', '[1, 2]'],
      ['index_seq', 'many'],
    ] as const) {
      const { dir, db } = await closedCollection();
      tamper(db, 'UPDATE meta SET value = ? WHERE key = ?', value, key);
      const error = await rejection(openCollection(dir, { model: fakeModel(DIM) }));
      expect(error.code, `${key} = ${value}: ${error.message}`).toBe('ERR_INDEX_CORRUPT');
    }
  });

  it('a metadata row that is not JSON: ERR_INDEX_CORRUPT from get, find and a merge; the other items still work', async () => {
    const { dir, db } = await closedCollection();
    tamper(db, "UPDATE items SET metadata = '{broken' WHERE id = 2");
    const c = await openCollection(dir, { model: fakeModel(DIM) });
    try {
      expect((await rejection(c.get(2))).code).toBe('ERR_INDEX_CORRUPT');
      expect((await rejection(c.find({ n: 1 }))).code).toBe('ERR_INDEX_CORRUPT');
      expect((await rejection(c.updateMetadata(2, { m: 1 }, { merge: true }))).code).toBe('ERR_INDEX_CORRUPT');
      expect((await rejection(c.searchText('two', { k: 3 }))).code).toBe('ERR_INDEX_CORRUPT');
      expect((await c.get(1))?.metadata).toEqual({ n: 1 });
      // Replacing the damaged metadata repairs the item.
      expect(await c.updateMetadata(2, { n: 2 })).toBe(true);
      expect((await c.get(2))?.metadata).toEqual({ n: 2 });
    } finally {
      await c.close();
    }
  });

  it('a stored vector of the wrong dimension is detected when the index is rebuilt, never zero-padded', async () => {
    for (const floats of [DIM - 1, DIM + 3, 0]) {
      const { dir, db } = await closedCollection();
      tamper(db, 'UPDATE items SET vector = ? WHERE id = 2', Buffer.alloc(floats * 4));
      // With the snapshot gone, opening rebuilds the index from the stored vectors.
      fs.rmSync(path.join(dir, 'index.faiss'));
      const error = await rejection(openCollection(dir, { model: fakeModel(DIM) }));
      expect(error.code, `${floats} floats: ${error.message}`).toBe('ERR_INDEX_CORRUPT');
    }
    // compact() rebuilds too.
    const { dir, db } = await closedCollection();
    tamper(db, 'UPDATE items SET vector = ? WHERE id = 3', Buffer.alloc((DIM - 2) * 4));
    const c = await openCollection(dir, { model: fakeModel(DIM) });
    try {
      expect((await rejection(c.compact())).code).toBe('ERR_INDEX_CORRUPT');
      expect((await c.searchVector(new Float32Array(DIM).fill(0.25), { k: 3 })).length).toBe(3); // the old index still serves
    } finally {
      await c.close();
    }
  });

  it('a model returning vectors of the wrong size or non-finite values stores nothing', async () => {
    const base = fakeModel(DIM);
    for (const [what, broken, code] of [
      ['short', (data: Float32Array) => data.subarray(0, data.length - 1), 'ERR_DIMENSION_MISMATCH'],
      ['NaN', (data: Float32Array) => data.map((x, i) => (i === 3 ? NaN : x)), 'ERR_INVALID_ARGUMENT'],
    ] as const) {
      const m = {
        ...base,
        embedTexts: async (t: string[]) => {
          const e = await base.embedTexts(t);
          return { data: broken(e.data), dim: e.dim };
        },
      };
      const dir = scratch();
      const c = await openCollection(dir, { model: m });
      try {
        expect((await rejection(c.addTexts(['x', 'y']))).code, what).toBe(code);
        expect((await c.stats()).count).toBe(0);
      } finally {
        await c.close();
      }
      // And the collection reopens cleanly.
      await (await openCollection(dir, { model: m })).close();
    }
  });

  it('a refused metadata value in input 3 refuses the whole call: nothing is committed', async () => {
    const c = await openCollection(scratch(), { model: fakeModel(DIM) });
    try {
      const error = await rejection(c.addTexts(['a', 'b', 'c'], [{}, {}, { big: 1n }], { batchSize: 1 }));
      expect(error.code).toBe('ERR_INVALID_ARGUMENT');
      expect(error.message).toContain('metadata[2]');
      expect((await c.stats()).count).toBe(0);
    } finally {
      await c.close();
    }
  });
});

// ---- Hostile hub caches and repository listings --------------------------------------------

describe('nothing in the hub cache or a repository listing reads or writes outside the cache', () => {
  const REPO = 'test-org/tiny-clip';
  const bundle = readBundle(tinyBundle);
  const commit = 'a'.repeat(40);

  /** A cache with `REPO` at `commit`, each bundle file a symlink into blobs/ as huggingface_hub writes it. */
  function plantedCache(): { cacheDir: string; snapshot: string } {
    const cacheDir = scratch();
    const repo = path.join(cacheDir, 'models--test-org--tiny-clip');
    const snapshot = path.join(repo, 'snapshots', commit);
    fs.mkdirSync(path.join(repo, 'blobs'), { recursive: true });
    fs.mkdirSync(path.join(repo, 'refs'), { recursive: true });
    fs.writeFileSync(path.join(repo, 'refs', 'main'), commit);
    let n = 0;
    for (const [file, bytes] of bundle) {
      const blob = path.join(repo, 'blobs', `blob${n++}`);
      fs.writeFileSync(blob, bytes);
      const pointer = path.join(snapshot, ...file.split('/'));
      fs.mkdirSync(path.dirname(pointer), { recursive: true });
      fs.symlinkSync(path.relative(path.dirname(pointer), blob), pointer);
    }
    return { cacheDir, snapshot };
  }

  it('an intact cache resolves (the baseline of the cases below)', () => {
    const { cacheDir, snapshot } = plantedCache();
    expect(resolveModel(REPO, { cacheDir })).toBe(snapshot);
  });

  it('a snapshot entry symlinked outside the repository folder: ERR_HUB', () => {
    const outside = path.join(scratch(), 'secret.json');
    fs.mkdirSync(path.dirname(outside), { recursive: true });
    fs.writeFileSync(outside, '{}');
    for (const file of ['config.json', 'onnx/vision_model.onnx']) {
      const { cacheDir, snapshot } = plantedCache();
      const pointer = path.join(snapshot, ...file.split('/'));
      fs.rmSync(pointer);
      fs.symlinkSync(outside, pointer);
      let error: unknown;
      try {
        resolveModel(REPO, { cacheDir });
      } catch (e) {
        error = e;
      }
      expect(error, file).toBeInstanceOf(CrossmodalError);
      expect((error as CrossmodalError).code).toBe('ERR_HUB');
      expect((error as CrossmodalError).message).toContain('leads out');
    }
  });

  it('a snapshot folder that is itself a symlink out of the cache: ERR_HUB', () => {
    const { cacheDir, snapshot } = plantedCache();
    const elsewhere = scratch();
    fs.renameSync(snapshot, elsewhere);
    fs.symlinkSync(elsewhere, snapshot);
    expect(() => resolveModel(REPO, { cacheDir })).toThrow(expect.objectContaining({ code: 'ERR_HUB' }));
  });

  it('a ref naming no commit, or a path, is not followed', () => {
    const { cacheDir } = plantedCache();
    fs.writeFileSync(path.join(cacheDir, 'models--test-org--tiny-clip', 'refs', 'main'), '../../../../etc');
    expect(() => resolveModel(REPO, { cacheDir })).toThrow(expect.objectContaining({ code: 'ERR_MODEL_LOAD' }));
  });

  describe('pull with crafted repository listings', () => {
    const hub = new FakeHub();
    beforeAll(async () => {
      await hub.start();
      hub.publish(REPO, bundle);
    });
    afterAll(() => hub.stop());

    it.each([
      '../../evil',
      '/etc/passwd',
      'onnx/../../../evil',
      'onnx\\..\\..\\evil',
      'C:/evil',
      'a\0b',
      './config.json',
    ])('refuses the sibling %j with ERR_HUB, writing nothing outside the cache', async (name) => {
      hub.reset();
      hub.faults = { extraSiblings: [name] };
      const cacheDir = scratch();
      const error = await rejection(pull(REPO, { cacheDir, endpoint: hub.endpoint, token: false, timeoutMs: 5000 }));
      expect(error.code).toBe('ERR_HUB');
      expect(fs.existsSync(path.join(path.dirname(cacheDir), 'evil'))).toBe(false);
    });
  });
});
