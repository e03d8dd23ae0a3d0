// The example HTTP service (examples/server) end to end over loopback: every route against the
// library's own results, bad inputs, limits, readiness, overload (429), client disconnects,
// deadlines, Prometheus metrics, and SIGTERM during load in a child process.
// The service imports the package by name ('crossmodal', resolved to dist/ by the package's
// self-reference), so this file does too: one copy of the library in the process.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createRequire } from 'node:module';
import type * as Crossmodal from 'crossmodal';

// Node's own loader, not Vite's: vitest would transform the package's ESM entry (it is not under
// node_modules) into a second, broken copy. require() of ES modules is built into Node >= 20.19
// (and >= 22.12); on older versions the suite is skipped with a message.
const nodeRequire = createRequire(__filename);
const canRequireEsm = (process.features as { require_module?: boolean }).require_module === true;
if (!canRequireEsm)
  console.warn(`example-server tests skipped: Node ${process.version} cannot require() ES modules (needs >= 20.19)`);
const { load, openCollection } = nodeRequire('crossmodal') as typeof Crossmodal;
type Model = Crossmodal.Model;
const { buildServer } = canRequireEsm ? nodeRequire('../examples/server/app.mjs') : { buildServer: undefined };
const { parseConfig } = canRequireEsm ? nodeRequire('../examples/server/config.mjs') : { parseConfig: undefined };

const repoRoot = path.resolve(__dirname, '..');
const tinyBundle = path.join(repoRoot, 'test', 'fixtures', 'tiny-clip');
const imageDir = path.join(repoRoot, 'test', 'fixtures', 'images');
const mainScript = path.join(repoRoot, 'examples', 'server', 'main.mjs');
const smallJpeg = fs.readFileSync(path.join(imageDir, 'jpeg_baseline_640x427.jpg'));
const smallPng = fs.readFileSync(path.join(imageDir, 'png_rgb_333x217.png'));
// 12 megapixels: decoding a few of these keeps a request busy long enough to act during it.
const bigJpeg = fs.readFileSync(path.join(imageDir, 'jpeg_4000x3000.jpg'));

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'crossmodal-server-'));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

interface Server {
  app: {
    inject(options: object): Promise<InjectResponse>;
    listen(options: object): Promise<string>;
    close(): Promise<void>;
  };
  started: Promise<void>;
}
interface InjectResponse {
  statusCode: number;
  headers: Record<string, string | undefined>;
  body: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- untyped JSON bodies, checked by the assertions
  json(): any;
}

function config(overrides: Record<string, unknown> = {}) {
  return { ...parseConfig(['--model', tinyBundle, '--log-level', 'silent'], {}), ...overrides };
}

async function startServer(overrides: Record<string, unknown> = {}, seams: object = {}): Promise<Server> {
  const server = buildServer(config(overrides), seams) as Server;
  await server.started;
  return server;
}

function postJson(server: Server, url: string, payload: unknown): Promise<InjectResponse> {
  return server.app.inject({
    method: 'POST',
    url,
    payload: payload as object,
    headers: { 'content-type': 'application/json' },
  });
}

/** A multipart/form-data body with files and text fields. */
function multipart(
  files: { field: string; name: string; type: string; data: Buffer }[],
  fields: [string, string][] = [],
) {
  const boundary = `----crossmodal${Math.random().toString(16).slice(2)}`;
  const chunks: Buffer[] = [];
  for (const [name, value] of fields) {
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`));
  }
  for (const file of files) {
    chunks.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${file.field}"; filename="${file.name}"\r\nContent-Type: ${file.type}\r\n\r\n`,
      ),
    );
    chunks.push(file.data, Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(chunks), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

function expectClose(actual: number[], expected: ArrayLike<number>, tolerance = 1e-5): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < actual.length; i++)
    expect(Math.abs((actual[i] as number) - (expected[i] as number))).toBeLessThan(tolerance);
}

/** Prometheus text format → samples (name, labels, value); throws on a line that is not valid. */
function parsePrometheus(text: string): { name: string; labels: Record<string, string>; value: number }[] {
  const samples = [];
  const line = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (-?[0-9.e+-]+|[Nn]a[Nn]|\+Inf|-Inf)(?: \d+)?$/;
  for (const raw of text.split('\n')) {
    if (raw === '' || raw.startsWith('# HELP ') || raw.startsWith('# TYPE ')) continue;
    const match = line.exec(raw);
    if (!match) throw new Error(`not a Prometheus sample line: ${raw}`);
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[pair[1] as string] = pair[2] as string;
    samples.push({ name: match[1] as string, labels, value: Number(match[3]) });
  }
  return samples;
}

function sampleValue(
  samples: ReturnType<typeof parsePrometheus>,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

/** One HTTP request on its own connection (no keep-alive), resolving with status and body. */
function request(url: string, method: string, body?: Buffer | string, headers: Record<string, string> = {}) {
  let clientRequest!: http.ClientRequest;
  const response = new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>(
    (resolve, reject) => {
      clientRequest = http.request(url, { method, headers, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      });
      clientRequest.on('error', reject);
      clientRequest.end(body);
    },
  );
  return { response, clientRequest };
}

/** Polls `check` every 10 ms until it returns true, failing after `timeoutMs`. */
async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe.skipIf(!canRequireEsm)('example server', () => {
  let model: Model;
  beforeAll(async () => {
    model = await load(tinyBundle, { warmup: false });
  });
  afterAll(() => model?.dispose());

  describe('routes', () => {
    let server: Server;
    const collectionDir = path.join(scratch, 'routes-collection');
    let storedIds: Record<string, string>;

    beforeAll(async () => {
      // A collection with two albums, written by the library directly, then served.
      const collection = await openCollection(collectionDir, { model });
      const added = await collection.addImages(
        [smallJpeg, smallPng, bigJpeg],
        [{ album: 'a' }, { album: 'b' }, { album: 'b' }],
      );
      await collection.addTexts(['a caption'], [{ album: 'a' }]);
      storedIds = { smallJpeg: String(added.ids[0]), smallPng: String(added.ids[1]), bigJpeg: String(added.ids[2]) };
      await collection.close();
      server = await startServer({ collection: collectionDir, bodyLimit: 1024 * 1024, maxTexts: 8, maxImages: 3 });
    });
    afterAll(async () => server?.app.close());

    test('GET /health reports ready, the providers and the fingerprint', async () => {
      const res = await server.app.inject({ method: 'GET', url: '/health' });
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body.ready).toBe(true);
      expect(body.status).toBe('ready');
      expect(body.model.fingerprint).toBe(model.fingerprint);
      expect(body.model.dim).toBe(model.dim);
      expect(body.model.visionProvider).toBe(model.info.visionProvider.provider);
      expect(body.model.textProvider).toBe(model.info.textProvider.provider);
      expect(body.queue.inflightRows).toEqual({ text: 0, image: 0 });
      expect(body.collection.dir).toBe(collectionDir);
    });

    test("POST /embed/text returns the library's embeddings", async () => {
      const texts = ['a dog on a beach', 'two cats'];
      const res = await postJson(server, '/embed/text', { texts });
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body).toMatchObject({ model: model.fingerprint, dim: model.dim, count: 2 });
      const expected = await model.embedTexts(texts);
      body.embeddings.forEach((row: number[], i: number) => expectClose(row, expected.row(i)));
    });

    test('POST /embed/image takes a raw body, multipart files or base64 JSON', async () => {
      const expected = await model.embedImages([smallJpeg, smallPng]);
      const raw = await server.app.inject({
        method: 'POST',
        url: '/embed/image',
        payload: smallJpeg,
        headers: { 'content-type': 'image/jpeg' },
      });
      expect(raw.statusCode).toBe(200);
      expect(raw.json().count).toBe(1);
      expectClose(raw.json().embeddings[0], expected.row(0));

      const form = multipart([
        { field: 'file', name: 'a.jpg', type: 'image/jpeg', data: smallJpeg },
        { field: 'file', name: 'b.png', type: 'image/png', data: smallPng },
      ]);
      const parts = await server.app.inject({ method: 'POST', url: '/embed/image', ...form });
      expect(parts.statusCode).toBe(200);
      expect(parts.json().count).toBe(2);
      expectClose(parts.json().embeddings[1], expected.row(1));

      const json = await postJson(server, '/embed/image', {
        images: [smallPng.toString('base64'), `data:image/jpeg;base64,${smallJpeg.toString('base64')}`],
      });
      expect(json.statusCode).toBe(200);
      expectClose(json.json().embeddings[0], expected.row(1));
      expectClose(json.json().embeddings[1], expected.row(0));
    });

    test('POST /search finds by text and by image, with k and where', async () => {
      const byText = await postJson(server, '/search', { text: 'a photo', k: 2 });
      expect(byText.statusCode).toBe(200);
      const hits = byText.json().hits;
      expect(hits).toHaveLength(2);
      expect(hits[0].score).toBeGreaterThanOrEqual(hits[1].score);
      expect(typeof hits[0].id).toBe('string');

      const filtered = await postJson(server, '/search', { text: 'a photo', k: 10, where: { album: 'b' } });
      expect(filtered.statusCode).toBe(200);
      expect(
        filtered
          .json()
          .hits.map((h: { id: string }) => h.id)
          .sort(),
      ).toEqual([storedIds.smallPng, storedIds.bigJpeg].sort());
      for (const hit of filtered.json().hits) expect(hit.metadata).toEqual({ album: 'b' });

      // The stored image itself is its own nearest neighbour (cosine 1).
      const byImage = await postJson(server, '/search', { image: smallPng.toString('base64'), k: 1 });
      expect(byImage.statusCode).toBe(200);
      expect(byImage.json().hits[0].id).toBe(storedIds.smallPng);
      expect(byImage.json().hits[0].score).toBeCloseTo(1, 4);
    });

    test('POST /classify ranks labels with probabilities (JSON and multipart)', async () => {
      const labels = ['cat', 'dog', 'car'];
      const res = await postJson(server, '/classify', {
        image: smallJpeg.toString('base64'),
        labels,
        templates: ['a photo of a {}.', 'a drawing of a {}.'],
      });
      expect(res.statusCode).toBe(200);
      const [scores] = res.json().results;
      expect(scores.map((s: { label: string }) => s.label).sort()).toEqual([...labels].sort());
      expect(scores.reduce((sum: number, s: { probability: number }) => sum + s.probability, 0)).toBeCloseTo(1, 5);
      const [expected] = await model.classify([smallJpeg], labels, {
        templates: ['a photo of a {}.', 'a drawing of a {}.'],
      });
      expect(scores.map((s: { label: string }) => s.label)).toEqual(expected!.map((s) => s.label));

      const form = multipart(
        [{ field: 'image', name: 'a.png', type: 'image/png', data: smallPng }],
        [
          ['labels', 'cat'],
          ['labels', 'dog'],
          ['topK', '1'],
        ],
      );
      const parts = await server.app.inject({ method: 'POST', url: '/classify', ...form });
      expect(parts.statusCode).toBe(200);
      expect(parts.json().results[0]).toHaveLength(1);
    });

    test('POST /score returns cosines and CLIPScore = 2.5 · max(cos, 0)', async () => {
      const texts = ['a dog', 'a red car', 'a bowl of soup'];
      const res = await postJson(server, '/score', { image: smallJpeg.toString('base64'), texts });
      expect(res.statusCode).toBe(200);
      const [row] = res.json().results;
      const imageEmbedding = (await model.embedImages([smallJpeg])).row(0);
      const textEmbeddings = await model.embedTexts(texts);
      row.forEach((entry: { text: string; cosine: number; clipScore: number }, j: number) => {
        const cosine = textEmbeddings.row(j).reduce((sum, v, d) => sum + v * (imageEmbedding[d] as number), 0);
        expect(entry.text).toBe(texts[j]);
        expect(entry.cosine).toBeCloseTo(cosine, 5);
        expect(entry.clipScore).toBeCloseTo(2.5 * Math.max(cosine, 0), 5);
      });
    });

    test.each([
      ['texts is a string', '/embed/text', { texts: 'a dog' }, 400, 'ERR_INVALID_ARGUMENT'],
      ['texts holds a number', '/embed/text', { texts: ['a', 1] }, 400, 'ERR_INVALID_ARGUMENT'],
      ['texts is empty', '/embed/text', { texts: [] }, 400, 'ERR_INVALID_ARGUMENT'],
      ['texts is missing', '/embed/text', {}, 400, 'ERR_INVALID_ARGUMENT'],
      ['more texts than --max-texts', '/embed/text', { texts: Array(9).fill('x') }, 400, 'ERR_BATCH_TOO_LARGE'],
      ['images is empty', '/embed/image', { images: [] }, 400, 'ERR_INVALID_ARGUMENT'],
      [
        'more images than --max-images',
        '/embed/image',
        { images: Array(4).fill(smallPng.toString('base64')) },
        400,
        'ERR_BATCH_TOO_LARGE',
      ],
      ['image is not base64', '/embed/image', { image: 'not base64!' }, 400, 'ERR_INVALID_ARGUMENT'],
      [
        'image bytes are not an image',
        '/embed/image',
        { image: Buffer.from('hello world').toString('base64') },
        400,
        'ERR_IMAGE_FORMAT',
      ],
      [
        'image is a truncated JPEG',
        '/embed/image',
        { image: smallJpeg.subarray(0, 2000).toString('base64') },
        400,
        'ERR_IMAGE_DECODE',
      ],
      [
        'search has text and image',
        '/search',
        { text: 'a', image: smallPng.toString('base64') },
        400,
        'ERR_INVALID_ARGUMENT',
      ],
      ['search has neither', '/search', { k: 3 }, 400, 'ERR_INVALID_ARGUMENT'],
      ['search k is 0', '/search', { text: 'a', k: 0 }, 400, 'ERR_INVALID_ARGUMENT'],
      ['search k is a string', '/search', { text: 'a', k: '3' }, 400, 'ERR_INVALID_ARGUMENT'],
      [
        'search where has an unknown operator',
        '/search',
        { text: 'a', where: { album: { $like: 'a%' } } },
        400,
        'ERR_INVALID_ARGUMENT',
      ],
      [
        'search where names a bad field',
        '/search',
        { text: 'a', where: { "x') OR 1=1 --": 1 } },
        400,
        'ERR_INVALID_ARGUMENT',
      ],
      [
        'classify labels are empty',
        '/classify',
        { image: smallPng.toString('base64'), labels: [] },
        400,
        'ERR_INVALID_ARGUMENT',
      ],
      [
        'classify template lacks {}',
        '/classify',
        { image: smallPng.toString('base64'), labels: ['cat'], templates: ['a photo'] },
        400,
        'ERR_INVALID_ARGUMENT',
      ],
      [
        'classify labels × templates over the limit',
        '/classify',
        { image: smallPng.toString('base64'), labels: ['a', 'b', 'c'], templates: ['{}', 'x {}', 'y {}'] },
        400,
        'ERR_BATCH_TOO_LARGE',
      ],
      ['score texts are missing', '/score', { image: smallPng.toString('base64') }, 400, 'ERR_INVALID_ARGUMENT'],
      ['score image is missing', '/score', { texts: ['a'] }, 400, 'ERR_INVALID_ARGUMENT'],
    ])('bad input: %s → %i %s', async (_name, url, payload, status, code) => {
      const res = await postJson(server, url as string, payload);
      expect(res.statusCode).toBe(status);
      expect(res.json().error.code).toBe(code);
      expect(typeof res.json().error.message).toBe('string');
    });

    test('bad bodies: invalid JSON, wrong content type, oversize body, too many files, unknown route', async () => {
      const invalidJson = await server.app.inject({
        method: 'POST',
        url: '/embed/text',
        payload: '{"texts": [',
        headers: { 'content-type': 'application/json' },
      });
      expect([invalidJson.statusCode, invalidJson.json().error.code]).toEqual([400, 'ERR_INVALID_ARGUMENT']);

      const wrongType = await server.app.inject({
        method: 'POST',
        url: '/embed/image',
        payload: 'hello',
        headers: { 'content-type': 'text/plain' },
      });
      expect([wrongType.statusCode, wrongType.json().error.code]).toEqual([415, 'ERR_UNSUPPORTED_MEDIA_TYPE']);

      const oversize = Buffer.alloc(1024 * 1024 + 1, 0xff);
      const rawTooLarge = await server.app.inject({
        method: 'POST',
        url: '/embed/image',
        payload: oversize,
        headers: { 'content-type': 'image/jpeg' },
      });
      expect([rawTooLarge.statusCode, rawTooLarge.json().error.code]).toEqual([413, 'ERR_BODY_TOO_LARGE']);
      const jsonTooLarge = await postJson(server, '/embed/image', { image: oversize.toString('base64') });
      expect([jsonTooLarge.statusCode, jsonTooLarge.json().error.code]).toEqual([413, 'ERR_BODY_TOO_LARGE']);
      const fileTooLarge = await server.app.inject({
        method: 'POST',
        url: '/embed/image',
        ...multipart([{ field: 'f', name: 'x.jpg', type: 'image/jpeg', data: oversize }]),
      });
      expect([fileTooLarge.statusCode, fileTooLarge.json().error.code]).toEqual([413, 'ERR_BODY_TOO_LARGE']);

      const tooManyFiles = multipart(
        Array.from({ length: 4 }, (_, i) => ({ field: 'f', name: `${i}.png`, type: 'image/png', data: smallPng })),
      );
      const files = await server.app.inject({ method: 'POST', url: '/embed/image', ...tooManyFiles });
      expect([files.statusCode, files.json().error.code]).toEqual([400, 'ERR_BATCH_TOO_LARGE']);

      const noFiles = await server.app.inject({
        method: 'POST',
        url: '/embed/image',
        ...multipart([], [['labels', 'x']]),
      });
      expect([noFiles.statusCode, noFiles.json().error.code]).toEqual([400, 'ERR_INVALID_ARGUMENT']);

      const missing = await server.app.inject({ method: 'GET', url: '/nope' });
      expect([missing.statusCode, missing.json().error.code]).toEqual([404, 'ERR_NOT_FOUND']);
    });

    test('GET /metrics is Prometheus text with per-route, per-stage, error, memory and event-loop metrics', async () => {
      await postJson(server, '/embed/text', { texts: ['metrics'] });
      await postJson(server, '/embed/image', { image: Buffer.from('nope').toString('base64') });
      const res = await server.app.inject({ method: 'GET', url: '/metrics' });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
      const samples = parsePrometheus(res.body);
      const embedTextCount = sampleValue(samples, 'crossmodal_http_request_duration_seconds_count', {
        route: '/embed/text',
        status_code: '200',
      });
      expect(embedTextCount).toBeGreaterThanOrEqual(1);
      for (const stage of ['embed_text', 'embed_image', 'search', 'classify', 'similarity']) {
        expect(sampleValue(samples, 'crossmodal_stage_duration_seconds_count', { stage })).toBeGreaterThanOrEqual(1);
      }
      expect(sampleValue(samples, 'crossmodal_request_items_count', { kind: 'text' })).toBeGreaterThanOrEqual(1);
      expect(sampleValue(samples, 'crossmodal_errors_total', { code: 'ERR_IMAGE_FORMAT' })).toBeGreaterThanOrEqual(1);
      expect(sampleValue(samples, 'crossmodal_inflight_rows', { tower: 'image' })).toBe(0);
      // The library's native counters (model.stats()), read at scrape time.
      for (const stage of ['queue_wait', 'tokenize', 'fill', 'inference']) {
        expect(
          sampleValue(samples, 'crossmodal_native_stage_seconds_count', { tower: 'text', stage }),
          stage,
        ).toBeGreaterThanOrEqual(1);
      }
      for (const stage of ['decode', 'preprocess', 'inference'])
        expect(
          sampleValue(samples, 'crossmodal_native_stage_seconds_count', { tower: 'image', stage }),
        ).toBeGreaterThanOrEqual(1);
      const textBatches = sampleValue(samples, 'crossmodal_native_batch_rows_count', { tower: 'text' });
      expect(textBatches).toBeGreaterThanOrEqual(1);
      expect(sampleValue(samples, 'crossmodal_native_batch_rows_bucket', { tower: 'text', le: '+Inf' })).toBe(
        textBatches,
      );
      expect(sampleValue(samples, 'crossmodal_native_queue_rows', { tower: 'text' })).toBe(0);
      expect(
        sampleValue(samples, 'crossmodal_native_requests', { tower: 'image', outcome: 'failed' }),
      ).toBeGreaterThanOrEqual(1);
      expect(sampleValue(samples, 'crossmodal_ready')).toBe(1);
      expect(sampleValue(samples, 'crossmodal_model_info', { fingerprint: model.fingerprint })).toBe(1);
      for (const type of ['rss', 'external', 'arrayBuffers'])
        expect(sampleValue(samples, 'crossmodal_process_memory_bytes', { type })).toBeGreaterThan(0);
      for (const name of [
        'nodejs_eventloop_lag_p99_seconds',
        'process_cpu_seconds_total',
        'nodejs_heap_size_used_bytes',
      ]) {
        expect(
          samples.some((s) => s.name === name),
          name,
        ).toBe(true);
      }
    });
    test('crossmodal_event_loop_delay_seconds reports how late the loop ran, without the sampling interval', async () => {
      const scrape = async () => parsePrometheus((await server.app.inject({ method: 'GET', url: '/metrics' })).body);
      const delay = (samples: ReturnType<typeof parsePrometheus>, quantile: string) =>
        sampleValue(samples, 'crossmodal_event_loop_delay_seconds', { quantile });
      await scrape(); // resets the window
      // After a reset the monitor's next sample only sets its reference time: block after it.
      await new Promise((resolve) => setTimeout(resolve, 25));
      const blockedUntil = performance.now() + 80;
      while (performance.now() < blockedUntil); // block the loop for 80 ms
      await new Promise((resolve) => setTimeout(resolve, 40)); // let the sampler fire after the block
      const blocked = await scrape();
      expect(delay(blocked, '1')).toBeGreaterThanOrEqual(0.06);
      expect(delay(blocked, '1')).toBeLessThan(1);
      // Each scrape starts a new window; an idle loop reads near 0, where prom-client's own
      // nodejs_eventloop_lag_* read its 10 ms interval.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const idle = await scrape();
      expect(delay(idle, '1')).toBeLessThan(delay(blocked, '1')!);
      expect(delay(idle, '0.5')).toBeLessThan(0.005);
      expect(sampleValue(idle, 'nodejs_eventloop_lag_min_seconds')).toBeGreaterThanOrEqual(0.009);
    });
  });

  test('the service answers 503 with Retry-After until the model is ready', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const server = buildServer(config(), {
      load: async (dir: string, options: object) => (await gate, load(dir, options)),
    }) as Server;
    try {
      const health = await server.app.inject({ method: 'GET', url: '/health' });
      expect(health.statusCode).toBe(503);
      expect(health.json()).toMatchObject({ ready: false, status: 'loading', model: null });
      const early = await postJson(server, '/embed/text', { texts: ['too early'] });
      expect(early.statusCode).toBe(503);
      expect(early.headers['retry-after']).toBe('1');
      expect(early.json().error.code).toBe('ERR_NOT_READY');
      release();
      await server.started;
      expect((await server.app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
      expect((await postJson(server, '/embed/text', { texts: ['now'] })).statusCode).toBe(200);
    } finally {
      release();
      await server.app.close();
    }
  });

  test('overload: a full queue answers 429 with Retry-After, and every request settles', async () => {
    const server = await startServer({ maxQueueSize: 2, retryAfter: 3 });
    try {
      const payload = { images: Array(4).fill(smallJpeg.toString('base64')) };
      const responses = await Promise.all(Array.from({ length: 48 }, () => postJson(server, '/embed/image', payload)));
      const statuses = responses.map((r) => r.statusCode);
      expect(
        statuses.every((s) => s === 200 || s === 429),
        `statuses ${statuses.join(',')}`,
      ).toBe(true);
      const rejected = responses.filter((r) => r.statusCode === 429);
      expect(rejected.length).toBeGreaterThan(0);
      expect(rejected.length).toBeLessThan(responses.length);
      for (const r of rejected) {
        expect(r.headers['retry-after']).toBe('3');
        expect(r.json().error.code).toBe('ERR_QUEUE_FULL');
      }
      for (const r of responses.filter((x) => x.statusCode === 200)) expect(r.json().count).toBe(4);
      const health = (await server.app.inject({ method: 'GET', url: '/health' })).json();
      expect(health.queue.inflightRows).toEqual({ text: 0, image: 0 });
    } finally {
      await server.app.close();
    }
  });

  test('a request past its deadline answers 504 ERR_DEADLINE_EXCEEDED', async () => {
    const server = await startServer({ timeoutMs: 1 });
    try {
      const res = await postJson(server, '/embed/image', { images: Array(3).fill(bigJpeg.toString('base64')) });
      expect(res.statusCode).toBe(504);
      expect(res.json().error.code).toBe('ERR_DEADLINE_EXCEEDED');
    } finally {
      await server.app.close();
    }
  });

  test('a client that disconnects aborts its work (ERR_ABORTED is counted)', async () => {
    const server = await startServer();
    try {
      const url = await server.app.listen({ host: '127.0.0.1', port: 0 });
      const body = JSON.stringify({ images: Array(12).fill(bigJpeg.toString('base64')) });
      const { response, clientRequest } = request(`${url}/embed/image`, 'POST', body, {
        'content-type': 'application/json',
      });
      response.catch(() => undefined);
      const health = async () => JSON.parse((await request(`${url}/health`, 'GET').response).body);
      await until('the request to reach the model', async () => (await health()).queue.inflightRows.image === 12);
      clientRequest.destroy();
      await expect(response).rejects.toThrow();
      const aborted = async () =>
        sampleValue(
          parsePrometheus((await request(`${url}/metrics`, 'GET').response).body),
          'crossmodal_errors_total',
          { code: 'ERR_ABORTED' },
        );
      await until('ERR_ABORTED to be counted', async () => (await aborted()) === 1);
      const after = await health();
      expect(after.queue.inflightRows.image).toBe(0);
      const durations = parsePrometheus((await request(`${url}/metrics`, 'GET').response).body);
      expect(
        sampleValue(durations, 'crossmodal_http_request_duration_seconds_count', {
          route: '/embed/image',
          status_code: '499',
        }),
      ).toBe(1);
    } finally {
      await server.app.close();
    }
  });

  describe('process', () => {
    function spawnServer(args: string[]): {
      child: ChildProcess;
      url: Promise<string>;
      exit: Promise<number | null>;
      output: () => string;
    } {
      const child = spawn(process.execPath, [mainScript, '--model', tinyBundle, '--port', '0', ...args], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      const url = new Promise<string>((resolve, reject) => {
        child.stdout!.on('data', (chunk: Buffer) => {
          output += chunk.toString();
          const match = /\{"event":"listening","url":"([^"]+)"\}/.exec(output);
          if (match) resolve(match[1] as string);
        });
        child.once('exit', (code) => reject(new Error(`exited with ${code} before listening: ${output}`)));
      });
      child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      return { child, url, exit, output: () => output };
    }

    test('invalid flags exit 2 with the usage', async () => {
      const { exit, output, url } = spawnServer(['--port', 'eighty']);
      url.catch(() => undefined);
      expect(await exit).toBe(2);
      expect(output()).toContain('--port (PORT) must be an integer');
      expect(output()).toContain('Usage:');
    });

    test("a model that fails to load exits 1 with the library's error code", async () => {
      const child = spawn(
        process.execPath,
        [mainScript, '--model', path.join(scratch, 'no-such-model'), '--port', '0'],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let output = '';
      child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
      child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
      const code = await new Promise((resolve) => child.once('exit', resolve));
      expect(code).toBe(1);
      expect(output).toContain('"code":"ERR_MODEL_LOAD"');
      expect(output).toContain('the model failed to load');
    });

    test(
      'SIGTERM during load: in-flight requests complete, new connections are refused, the collection is closed, exit 0',
      { timeout: 90_000 },
      async () => {
        const collectionDir = path.join(scratch, 'sigterm-collection');
        // A generous drain bound: 12-megapixel decodes on a busy shared machine take up to ~0.5 s each.
        const server = spawnServer([
          '--collection',
          collectionDir,
          '--log-level',
          'info',
          '--shutdown-timeout-ms',
          '60000',
        ]);
        try {
          const url = await server.url;
          await until(
            'ready',
            async () => (await request(`${url}/health`, 'GET').response.catch(() => ({ status: 0 }))).status === 200,
          );
          const body = JSON.stringify({ images: Array(2).fill(bigJpeg.toString('base64')) });
          const inflight = Array.from(
            { length: 3 },
            () => request(`${url}/embed/image`, 'POST', body, { 'content-type': 'application/json' }).response,
          );
          await until(
            'all requests to reach the model',
            async () =>
              JSON.parse((await request(`${url}/health`, 'GET').response).body).queue.inflightRows.image === 6,
          );
          const signalledAt = Date.now();
          server.child.kill('SIGTERM');

          // New connections are refused once the listener has closed (it closes first thing).
          await until(
            'new connections to be refused',
            async () => {
              try {
                await request(`${url}/health`, 'GET').response;
                return false;
              } catch (error) {
                return (error as NodeJS.ErrnoException).code === 'ECONNREFUSED';
              }
            },
            5_000,
          );

          const responses = await Promise.all(inflight);
          for (const r of responses) {
            expect(r.status).toBe(200);
            expect(JSON.parse(r.body).count).toBe(2);
          }
          expect(await server.exit).toBe(0);
          expect(Date.now() - signalledAt).toBeLessThan(45_000);
          expect(server.output()).toContain('"msg":"shut down"');
          // The lock is released and the index snapshot written: the collection opens again at once.
          const reopened = await openCollection(collectionDir, { model });
          await reopened.close();
        } finally {
          if (server.child.exitCode === null) server.child.kill('SIGKILL');
        }
      },
    );
  });
});
