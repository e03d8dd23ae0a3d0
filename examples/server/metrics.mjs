// Prometheus metrics through prom-client, on a registry of the service's own (not the global one,
// so two services in one process — as in tests — do not collide).
//
// What is measured where: request durations per route come from Fastify's hooks; stage durations
// (embedding, similarity, search) are timed in JS around each library call, so they include the
// time a call waits in the library's batching queue. The library does not (yet) expose its
// native per-stage counters (decode, preprocess, tokenize, inference) or the batches it forms, so
// those are not here; `crossmodal_inflight_rows` is this process's count of rows submitted and
// not yet settled, the closest JS-side view of the native queue depth.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export function createMetrics() {
  const registry = new Registry();
  // Includes nodejs_eventloop_lag_{min,max,mean,stddev,p50,p90,p99}_seconds, measured with
  // perf_hooks.monitorEventLoopDelay, plus process CPU, heap, handles and GC.
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 10 });

  const requestDuration = new Histogram({
    name: 'crossmodal_http_request_duration_seconds',
    help: 'Time from request received to response sent, per route and status',
    labelNames: ['method', 'route', 'status_code'],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const stageDuration = new Histogram({
    name: 'crossmodal_stage_duration_seconds',
    help: 'Duration of each library call made by a request (embed_text, embed_image include queueing, decode and preprocessing; similarity; search)',
    labelNames: ['stage'],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const requestItems = new Histogram({
    name: 'crossmodal_request_items',
    help: 'Texts or images submitted by one request (the library batches rows of concurrent requests together)',
    labelNames: ['kind'],
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
    registers: [registry],
  });
  const errors = new Counter({
    name: 'crossmodal_errors_total',
    help: "Failed requests by error code (library codes such as ERR_QUEUE_FULL or ERR_ABORTED, and the service's own)",
    labelNames: ['code'],
    registers: [registry],
  });
  const inflightRows = new Gauge({
    name: 'crossmodal_inflight_rows',
    help: 'Rows (texts or images) this process has submitted to the model and not yet received back',
    labelNames: ['tower'],
    registers: [registry],
  });
  const inflightRequests = new Gauge({
    name: 'crossmodal_inflight_requests',
    help: 'Requests being handled',
    registers: [registry],
  });
  const ready = new Gauge({
    name: 'crossmodal_ready',
    help: '1 once the model has loaded and warmed up',
    registers: [registry],
  });
  const modelInfo = new Gauge({
    name: 'crossmodal_model_info',
    help: 'The loaded model (value 1): fingerprint, precision and the execution provider of each tower',
    labelNames: ['fingerprint', 'precision', 'vision_provider', 'text_provider'],
    registers: [registry],
  });
  const memory = new Gauge({
    name: 'crossmodal_process_memory_bytes',
    help: 'process.memoryUsage() at scrape time: rss includes ONNX Runtime and FAISS native memory; external and arrayBuffers include embeddings handed to JS',
    labelNames: ['type'],
    registers: [registry],
    collect() {
      const usage = process.memoryUsage();
      for (const type of ['rss', 'heapTotal', 'heapUsed', 'external', 'arrayBuffers']) this.set({ type }, usage[type]);
    },
  });
  for (const tower of ['text', 'image']) inflightRows.set({ tower }, 0);
  ready.set(0);
  void memory;

  return {
    registry,
    requestDuration,
    stageDuration,
    requestItems,
    errors,
    inflightRows,
    inflightRequests,
    ready,
    modelInfo,
  };
}
