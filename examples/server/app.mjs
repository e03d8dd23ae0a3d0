// The example service: a Fastify app over one crossmodal model (and optionally one collection).
//
// Request lifecycle. Every model route gets an AbortController that fires when the client
// disconnects before its response is written; its signal and the configured deadline go to every
// library call, so abandoned or overdue work is dropped from the batching queue instead of being
// computed for nobody. Library errors become HTTP statuses in errors.mjs only.
//
// Lifecycle of the process. buildServer() returns at once and loads the model in the background:
// /health and the model routes answer 503 until the model has loaded and warmed up (model.ready),
// so a load balancer can route to the instance as soon as it reports ready. app.close() (called on
// SIGTERM by main.mjs) stops accepting connections, lets in-flight requests finish, then closes the
// collection (which writes its index snapshot) and disposes the model.
import Fastify from 'fastify';
import multipart from '@fastify/multipart';
import { demoModelDir, load as loadModel, openCollection, similarity } from 'crossmodal';
import { badRequest, batchTooLarge, describeError, notReady, ServiceError, shuttingDown } from './errors.mjs';
import { createMetrics } from './metrics.mjs';

const DATA_URL_PREFIX = /^data:[\w.+/-]+;base64,/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Bytes of a base64 image (optionally a `data:` URL). Images from clients are always bytes, never
 * strings handed to the library: the library reads a string as a file path.
 */
function imageBytes(value, field) {
  if (typeof value !== 'string' || value.length === 0) throw badRequest(`${field} must be a non-empty base64 string`);
  const encoded = value.replace(DATA_URL_PREFIX, '');
  if (!BASE64.test(encoded) || encoded.length % 4 === 1) throw badRequest(`${field} is not valid base64`);
  const bytes = Buffer.from(encoded, 'base64');
  if (bytes.length === 0) throw badRequest(`${field} is empty`);
  return bytes;
}

/** A non-empty array of strings of at most `max` items. */
function stringList(value, field, max) {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string'))
    throw badRequest(`${field} must be an array of strings`);
  if (value.length === 0) throw badRequest(`${field} must not be empty`);
  if (value.length > max) throw batchTooLarge(`${field} has ${value.length} items; at most ${max} per request`);
  return value;
}

function positiveInteger(value, field, fallback, max) {
  if (value === undefined) return fallback;
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (!Number.isSafeInteger(n) || n < 1) throw badRequest(`${field} must be a positive integer`);
  if (n > max) throw batchTooLarge(`${field} is ${n}; at most ${max}`);
  return n;
}

function rows(embeddings) {
  const out = new Array(embeddings.count);
  for (let i = 0; i < embeddings.count; i++) out[i] = Array.from(embeddings.row(i));
  return out;
}

/**
 * Builds the service. The model starts loading immediately; `started` settles when it is ready
 * (or failed to load).
 * @param {ReturnType<import('./config.mjs').parseConfig>} config
 * @param {{ load?: typeof loadModel }} [seams] - `load` replaces crossmodal's load() (tests delay it)
 */
export function buildServer(config, seams = {}) {
  const load = seams.load ?? loadModel;
  // The model's native counters are exported once it has loaded (state is defined below).
  const metrics = createMetrics(() => state.model);
  const app = Fastify({
    logger: { level: config.logLevel ?? 'info' },
    bodyLimit: config.bodyLimit,
    // Wrong types are errors, not something to coerce ("5" is not a number, 5 is not ["5"]).
    ajv: { customOptions: { coerceTypes: false } },
    // Idle keep-alive connections are closed at shutdown; busy ones finish their request first.
    forceCloseConnections: 'idle',
    return503OnClosing: true,
  });

  const state = {
    /** @type {import('crossmodal').Model | undefined} */ model: undefined,
    /** @type {import('crossmodal').Collection | undefined} */ collection: undefined,
    ready: false,
    closing: false,
    inflightRows: { text: 0, image: 0 },
    inflightRequests: 0,
  };

  const modelDir = config.model ?? demoModelDir;
  const loadOptions = {};
  if (config.maxQueueSize !== undefined) loadOptions.maxQueueSize = config.maxQueueSize;
  if (config.intraOpThreads !== undefined) loadOptions.intraOpThreads = config.intraOpThreads;
  const started = (async () => {
    const model = await load(modelDir, loadOptions);
    state.model = model;
    const { info } = model;
    metrics.modelInfo.set(
      {
        fingerprint: info.fingerprint,
        precision: info.precision,
        vision_provider: info.visionProvider.provider,
        text_provider: info.textProvider.provider,
      },
      1,
    );
    if (config.collection) state.collection = await openCollection(config.collection, { model });
    await model.ready;
    state.ready = !state.closing;
    metrics.ready.set(state.ready ? 1 : 0);
    app.log.info({ modelDir, fingerprint: info.fingerprint, collection: config.collection ?? null }, 'model ready');
  })();
  // main.mjs reports a failed start; here it only must not become an unhandled rejection.
  started.catch(() => undefined);

  // --- request bookkeeping -------------------------------------------------------------------
  app.decorateRequest('work', null);
  app.decorateRequest('settle', null);
  app.decorateRequest('settled', false);
  app.addHook('onRequest', async (request, reply) => {
    state.inflightRequests++;
    metrics.inflightRequests.inc();
    const controller = new AbortController();
    request.work = { signal: controller.signal, timeoutMs: config.timeoutMs };
    // Settled exactly once: by onResponse when the response was written, or by the raw 'close'
    // event when the client went away first (then the status is recorded as 499).
    request.settle = (statusCode) => {
      if (request.settled) return;
      request.settled = true;
      state.inflightRequests--;
      metrics.inflightRequests.dec();
      metrics.requestDuration.observe(
        { method: request.method, route: request.routeOptions.url ?? 'unmatched', status_code: String(statusCode) },
        reply.elapsedTime / 1000,
      );
    };
    reply.raw.once('close', () => {
      if (reply.raw.writableFinished) return;
      controller.abort(new Error('the client disconnected'));
      request.settle(499);
    });
    if (request.routeOptions.config?.needsModel) {
      if (state.closing) throw shuttingDown();
      if (!state.ready) throw notReady();
    }
  });
  app.addHook('onResponse', async (request, reply) => {
    request.settle?.(reply.statusCode);
  });
  app.addHook('preClose', async () => {
    state.closing = true;
    state.ready = false;
    metrics.ready.set(0);
  });
  app.addHook('onClose', async () => {
    // Runs after in-flight requests completed. A load still under way is waited for, so its model
    // is disposed rather than leaked.
    await started.catch(() => undefined);
    try {
      await state.collection?.close();
    } finally {
      state.model?.dispose();
      metrics.close();
    }
  });

  app.setErrorHandler(async (error, request, reply) => {
    const { statusCode, code, message } = describeError(error);
    metrics.errors.inc({ code });
    if (statusCode === 500) request.log.error({ err: error }, 'request failed');
    if (statusCode === 429 || statusCode === 503) reply.header('retry-after', String(config.retryAfter));
    return reply.code(statusCode).send({ error: { code, message } });
  });
  app.setNotFoundHandler(async (request, reply) => {
    metrics.errors.inc({ code: 'ERR_NOT_FOUND' });
    return reply
      .code(404)
      .send({ error: { code: 'ERR_NOT_FOUND', message: `no route ${request.method} ${request.url}` } });
  });

  // --- body parsers ----------------------------------------------------------------------------
  // Raw image bodies: any image/* type, or octet-stream. The JSON parser keeps the same body limit.
  // Plain text is no input of any route: refusing it at parse time gives a clear 415.
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser(
    [/^image\/[\w.+-]+$/, 'application/octet-stream'],
    { parseAs: 'buffer' },
    (_request, body, done) => done(null, body),
  );
  app.register(multipart, {
    limits: {
      fileSize: config.bodyLimit,
      files: config.maxImages,
      fields: 2 * config.maxTexts + 8,
      fieldSize: 64 * 1024,
    },
  });

  /**
   * Images and fields of a request: multipart files and fields, a raw image body, or, for JSON,
   * the base64 `image` / `images` fields.
   * @returns {Promise<{ images: Buffer[], fields: Record<string, unknown> }>}
   */
  async function imagesAndFields(request, { raw }) {
    if (request.isMultipart()) {
      const images = [];
      /** @type {Record<string, string[]>} */
      const fields = {};
      for await (const part of request.parts()) {
        if (part.type === 'file') images.push(await part.toBuffer());
        else (fields[part.fieldname] ??= []).push(String(part.value));
      }
      if (images.length === 0) throw badRequest('the multipart body has no file');
      return { images, fields };
    }
    const body = request.body;
    if (Buffer.isBuffer(body)) {
      if (!raw) throw new ServiceError(415, 'ERR_UNSUPPORTED_MEDIA_TYPE', 'send JSON or multipart/form-data');
      if (body.length === 0) throw badRequest('the image body is empty');
      return { images: [body], fields: {} };
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body))
      throw badRequest('the body must be a JSON object, multipart/form-data or an image');
    if (body.image !== undefined && body.images !== undefined) throw badRequest('give image or images, not both');
    if (body.images !== undefined) {
      if (!Array.isArray(body.images) || body.images.length === 0)
        throw badRequest('images must be a non-empty array of base64 strings');
      if (body.images.length > config.maxImages)
        throw batchTooLarge(`images has ${body.images.length} items; at most ${config.maxImages} per request`);
      return { images: body.images.map((v, i) => imageBytes(v, `images[${i}]`)), fields: body };
    }
    return { images: [imageBytes(body.image, 'image')], fields: body };
  }

  // --- library calls, timed and counted --------------------------------------------------------
  async function timed(stage, run) {
    const end = metrics.stageDuration.startTimer({ stage });
    try {
      return await run();
    } finally {
      end();
    }
  }
  async function tracked(tower, count, run) {
    state.inflightRows[tower] += count;
    metrics.inflightRows.inc({ tower }, count);
    try {
      return await run();
    } finally {
      state.inflightRows[tower] -= count;
      metrics.inflightRows.dec({ tower }, count);
    }
  }
  function embedTexts(request, texts) {
    metrics.requestItems.observe({ kind: 'text' }, texts.length);
    return tracked('text', texts.length, () => timed('embed_text', () => state.model.embedTexts(texts, request.work)));
  }
  function embedImages(request, images) {
    metrics.requestItems.observe({ kind: 'image' }, images.length);
    return tracked('image', images.length, () =>
      timed('embed_image', () => state.model.embedImages(images, request.work)),
    );
  }
  const modelRoute = { config: { needsModel: true } };

  // --- routes ------------------------------------------------------------------------------------
  app.post(
    '/embed/text',
    {
      ...modelRoute,
      schema: {
        body: {
          type: 'object',
          required: ['texts'],
          properties: { texts: { type: 'array', items: { type: 'string' } } },
        },
      },
    },
    async (request) => {
      const texts = stringList(request.body.texts, 'texts', config.maxTexts);
      const embeddings = await embedTexts(request, texts);
      return {
        model: state.model.fingerprint,
        dim: embeddings.dim,
        count: embeddings.count,
        embeddings: rows(embeddings),
      };
    },
  );

  app.post('/embed/image', modelRoute, async (request) => {
    const { images } = await imagesAndFields(request, { raw: true });
    if (images.length > config.maxImages)
      throw batchTooLarge(`${images.length} images; at most ${config.maxImages} per request`);
    const embeddings = await embedImages(request, images);
    return {
      model: state.model.fingerprint,
      dim: embeddings.dim,
      count: embeddings.count,
      embeddings: rows(embeddings),
    };
  });

  const searchSchema = {
    type: 'object',
    properties: {
      text: { type: 'string' },
      image: { type: 'string' },
      k: { type: 'integer' },
      where: { type: 'object' },
    },
    additionalProperties: false,
  };
  app.post('/search', { ...modelRoute, schema: { body: searchSchema } }, async (request) => {
    if (!state.collection)
      throw new ServiceError(404, 'ERR_NO_COLLECTION', 'the service was started without --collection');
    const { text, image, where } = request.body;
    if ((text === undefined) === (image === undefined)) throw badRequest('give exactly one of text or image');
    const k = positiveInteger(request.body.k, 'k', 10, 1000);
    const query =
      text !== undefined ? await embedTexts(request, [text]) : await embedImages(request, [imageBytes(image, 'image')]);
    const hits = await timed('search', () => state.collection.searchVector(query.row(0), { k, where }));
    return {
      model: state.model.fingerprint,
      hits: hits.map((hit) => ({
        id: hit.id.toString(),
        score: hit.score,
        kind: hit.kind,
        source: hit.source,
        width: hit.width,
        height: hit.height,
        metadata: hit.metadata,
        addedAt: hit.addedAt.toISOString(),
      })),
    };
  });

  app.post('/classify', modelRoute, async (request) => {
    const { images, fields } = await imagesAndFields(request, { raw: false });
    const labels = stringList(fields.labels, 'labels', config.maxTexts);
    const templates =
      fields.templates === undefined ? undefined : stringList(fields.templates, 'templates', config.maxTexts);
    const prompts = labels.length * (templates?.length ?? 1);
    if (prompts > config.maxTexts)
      throw batchTooLarge(`labels × templates is ${prompts}; at most ${config.maxTexts} per request`);
    // A topK above the number of labels simply returns them all.
    const topK = Math.min(
      positiveInteger(
        Array.isArray(fields.topK) ? fields.topK[0] : fields.topK,
        'topK',
        labels.length,
        Number.MAX_SAFE_INTEGER,
      ),
      labels.length,
    );
    metrics.requestItems.observe({ kind: 'image' }, images.length);
    metrics.requestItems.observe({ kind: 'text' }, prompts);
    const results = await tracked('image', images.length, () =>
      tracked('text', prompts, () =>
        timed('classify', () => state.model.classify(images, labels, { templates, topK, ...request.work })),
      ),
    );
    return { model: state.model.fingerprint, results };
  });

  app.post('/score', modelRoute, async (request) => {
    const { images, fields } = await imagesAndFields(request, { raw: false });
    const texts = stringList(fields.texts, 'texts', config.maxTexts);
    const [imageEmbeddings, textEmbeddings] = await Promise.all([
      embedImages(request, images),
      embedTexts(request, texts),
    ]);
    // Both are unit-normalised, so the dot products are cosines.
    const cosines = await timed('similarity', () => similarity(imageEmbeddings, textEmbeddings));
    const results = images.map((_, i) =>
      texts.map((text, j) => {
        const cosine = cosines.get(i, j);
        // CLIPScore (Hessel et al. 2021): w · max(cos, 0) with w = 2.5.
        return { text, cosine, clipScore: 2.5 * Math.max(cosine, 0) };
      }),
    );
    return { model: state.model.fingerprint, results };
  });

  app.get('/health', async (_request, reply) => {
    const info = state.model?.info;
    const body = {
      ready: state.ready,
      status: state.closing ? 'shutting-down' : state.ready ? 'ready' : 'loading',
      model: info
        ? {
            dir: info.root,
            fingerprint: info.fingerprint,
            precision: info.precision,
            dim: info.dim,
            visionProvider: info.visionProvider.provider,
            textProvider: info.textProvider.provider,
            batching: info.batching,
          }
        : null,
      queue: { inflightRows: { ...state.inflightRows }, inflightRequests: state.inflightRequests },
      collection: state.collection ? { dir: state.collection.dir } : null,
    };
    if (!state.ready) reply.code(503).header('retry-after', String(config.retryAfter));
    return body;
  });

  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  return { app, started, state };
}
