// Prometheus metrics through prom-client, on a registry of the service's own (not the global one,
// so two services in one process — as in tests — do not collide).
//
// What is measured where: request durations per route come from Fastify's hooks; stage durations
// (embedding, similarity, search) are timed in JS around each library call, so they include the
// time a call waits in the library's batching queue. Inside the library, `model.stats()` gives
// the native counters (kept with atomics by the worker threads): per-stage histograms (queue wait,
// decode, preprocess, tokenize, tensor fill, inference), rows per batch and queue depth per tower.
// They are read at scrape time only (`crossmodal_native_*`), so collecting them costs the event
// loop microseconds and nothing between scrapes.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

// perf_hooks.monitorEventLoopDelay records the whole interval between two firings of its
// `resolution`-ms timer, so an idle loop reads `resolution` (prom-client's nodejs_eventloop_lag_*
// with its 10 ms precision: p99 ≈ 10.2 ms on an idle process; prometheus/client_js#370). The
// service's own gauge subtracts the resolution: what remains is how late the loop ran.
const EVENT_LOOP_RESOLUTION_MS = 10;

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * A Prometheus histogram whose buckets come from a native StatsHistogram (`{bounds, counts, count,
 * sum}`, non-cumulative counts) at scrape time, one series per label set. prom-client's Histogram
 * can only observe values one by one, so this is a custom collector in its metric-object shape.
 * @param {string} name
 * @param {string} help
 * @param {() => Array<{labels: Record<string, string>, histogram: import('crossmodal').StatsHistogram}>} series
 */
function nativeHistogram(name, help, series) {
  return {
    name,
    help,
    type: 'histogram',
    aggregator: 'sum',
    get() {
      const values = [];
      for (const { labels, histogram } of series()) {
        let cumulative = 0;
        histogram.bounds.forEach((bound, i) => {
          cumulative += histogram.counts[i];
          values.push({ metricName: `${name}_bucket`, labels: { ...labels, le: bound }, value: cumulative });
        });
        values.push({ metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: histogram.count });
        values.push({ metricName: `${name}_sum`, labels, value: histogram.sum });
        values.push({ metricName: `${name}_count`, labels, value: histogram.count });
      }
      return { name, help, type: 'histogram', aggregator: 'sum', values };
    },
  };
}

/**
 * @param {() => import('crossmodal').Model | undefined} [currentModel] - the loaded model, if any,
 *   whose native counters are exported
 */
export function createMetrics(currentModel = () => undefined) {
  const registry = new Registry();
  // Includes nodejs_eventloop_lag_{min,max,mean,stddev,p50,p90,p99}_seconds, measured with
  // perf_hooks.monitorEventLoopDelay, plus process CPU, heap, handles and GC.
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: EVENT_LOOP_RESOLUTION_MS });

  const loopMonitor = monitorEventLoopDelay({ resolution: EVENT_LOOP_RESOLUTION_MS });
  loopMonitor.enable();
  new Gauge({
    name: 'crossmodal_event_loop_delay_seconds',
    help: `How late the event loop ran its timers since the previous scrape (perf_hooks.monitorEventLoopDelay with its ${EVENT_LOOP_RESOLUTION_MS} ms sampling interval subtracted; 0 on an idle loop): quantile 0.5, 0.99 and 1 (max)`,
    labelNames: ['quantile'],
    registers: [registry],
    collect() {
      const late = (ns) => Math.max(0, ns / 1e9 - EVENT_LOOP_RESOLUTION_MS / 1e3);
      const sampled = loopMonitor.count > 0;
      this.set({ quantile: '0.5' }, sampled ? late(loopMonitor.percentile(50)) : 0);
      this.set({ quantile: '0.99' }, sampled ? late(loopMonitor.percentile(99)) : 0);
      this.set({ quantile: '1' }, sampled ? late(loopMonitor.max) : 0);
      loopMonitor.reset();
    },
  });

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
  // Native counters of the model (model.stats()), read once per scrape.
  let scrape = { at: -1, stats: undefined };
  const nativeStats = () => {
    // One registry.metrics() call reads every native metric below within the same tick: share one read.
    const now = performance.now();
    if (now - scrape.at > 5) {
      const model = currentModel();
      let stats;
      try {
        stats = model?.stats();
      } catch {
        stats = undefined; // disposed during shutdown
      }
      scrape = { at: now, stats };
    }
    return scrape.stats;
  };
  const STAGES = {
    image: {
      queue_wait: 'queueWaitSeconds',
      decode: 'decodeSeconds',
      preprocess: 'preprocessSeconds',
      fill: 'fillSeconds',
      inference: 'inferenceSeconds',
    },
    text: {
      queue_wait: 'queueWaitSeconds',
      tokenize: 'tokenizeSeconds',
      fill: 'fillSeconds',
      inference: 'inferenceSeconds',
    },
  };
  registry.registerMetric(
    nativeHistogram(
      'crossmodal_native_stage_seconds',
      'Time in each stage inside the library, per tower: queue_wait and tokenize per call, decode and preprocess per image, fill (input tensor) and inference per batch',
      () => {
        const stats = nativeStats();
        if (!stats) return [];
        return Object.entries(STAGES).flatMap(([tower, stages]) =>
          Object.entries(stages).map(([stage, key]) => ({ labels: { tower, stage }, histogram: stats[tower][key] })),
        );
      },
    ),
  );
  registry.registerMetric(
    nativeHistogram(
      'crossmodal_native_batch_rows',
      'Rows per batch the dynamic batcher ran, per tower (rows of concurrent calls are coalesced)',
      () => {
        const stats = nativeStats();
        return stats
          ? ['image', 'text'].map((tower) => ({ labels: { tower }, histogram: stats[tower].batchRows }))
          : [];
      },
    ),
  );
  new Gauge({
    name: 'crossmodal_native_queue_rows',
    help: "Rows waiting in each tower's native queue at scrape time",
    labelNames: ['tower'],
    registers: [registry],
    collect() {
      const stats = nativeStats();
      if (stats) for (const tower of ['image', 'text']) this.set({ tower }, stats[tower].queuedRows);
    },
  });
  new Gauge({
    name: 'crossmodal_native_requests',
    help: 'Calls submitted to each tower since load (outcome=failed: errors, aborts and deadlines); a counter read from the library',
    labelNames: ['tower', 'outcome'],
    registers: [registry],
    collect() {
      const stats = nativeStats();
      if (!stats) return;
      for (const tower of ['image', 'text']) {
        this.set({ tower, outcome: 'all' }, stats[tower].requests);
        this.set({ tower, outcome: 'failed' }, stats[tower].failedRequests);
      }
    },
  });

  for (const tower of ['text', 'image']) inflightRows.set({ tower }, 0);
  ready.set(0);
  void memory;

  return {
    registry,
    /** Stops the event-loop sampler (its timer keeps no process alive, but a closed service should not sample). */
    close: () => loopMonitor.disable(),
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
