// Configuration of the example service: command-line flags win over environment variables, which
// win over the defaults. Every value is validated here so the rest of the service can trust it.
import { parseArgs } from 'node:util';

/** Flag name → [environment variable, kind, default]. `undefined` defaults mean "not set". */
const SPEC = {
  model: ['CROSSMODAL_MODEL_DIR', 'string', undefined], // default: crossmodal's demoModelDir
  collection: ['CROSSMODAL_COLLECTION_DIR', 'string', undefined],
  host: ['HOST', 'string', '127.0.0.1'],
  port: ['PORT', 'integer', 0],
  'body-limit': ['BODY_LIMIT_BYTES', 'integer', 16 * 1024 * 1024],
  'max-texts': ['MAX_TEXTS', 'integer', 256],
  'max-images': ['MAX_IMAGES', 'integer', 32],
  'timeout-ms': ['REQUEST_TIMEOUT_MS', 'integer', 30_000],
  'retry-after': ['RETRY_AFTER_SECONDS', 'integer', 1],
  'shutdown-timeout-ms': ['SHUTDOWN_TIMEOUT_MS', 'integer', 10_000],
  'max-queue-size': ['CROSSMODAL_MAX_QUEUE_SIZE', 'integer', undefined],
  'intra-op-threads': ['CROSSMODAL_INTRA_OP_THREADS', 'integer', undefined],
  'log-level': ['LOG_LEVEL', 'string', 'info'],
};

export const USAGE = `Usage: node examples/server/main.mjs [options]

Options (environment variable in brackets):
  --model DIR               model bundle [CROSSMODAL_MODEL_DIR] (default: crossmodal's demo model)
  --collection DIR          collection searched by POST /search, created if missing [CROSSMODAL_COLLECTION_DIR]
  --host HOST               [HOST] (default 127.0.0.1)
  --port N                  [PORT] (default 0: an ephemeral port, printed at start)
  --body-limit BYTES        largest request body, and largest file in a multipart body [BODY_LIMIT_BYTES] (default 16 MiB)
  --max-texts N             texts per request, and labels × templates for /classify [MAX_TEXTS] (default 256)
  --max-images N            images per request [MAX_IMAGES] (default 32)
  --timeout-ms N            deadline of each request's model work [REQUEST_TIMEOUT_MS] (default 30000)
  --retry-after S           Retry-After sent with 429 and 503 [RETRY_AFTER_SECONDS] (default 1)
  --shutdown-timeout-ms N   how long SIGTERM waits for in-flight requests [SHUTDOWN_TIMEOUT_MS] (default 10000)
  --max-queue-size N        rows per tower that may wait before 429 [CROSSMODAL_MAX_QUEUE_SIZE] (default: the library's)
  --intra-op-threads N      ONNX Runtime threads per inference [CROSSMODAL_INTRA_OP_THREADS] (default: the library's)
  --log-level LEVEL         fatal, error, warn, info, debug, silent [LOG_LEVEL] (default info)
`;

function camel(flag) {
  return flag.replace(/-([a-z])/g, (_, c) => c.toUpperCase());
}

/**
 * Parses argv and env into a config object.
 * @param {string[]} argv - arguments after the script name
 * @param {Record<string, string | undefined>} env - usually process.env
 */
export function parseConfig(argv = [], env = {}) {
  const options = Object.fromEntries(Object.keys(SPEC).map((flag) => [flag, { type: 'string' }]));
  options.help = { type: 'boolean' };
  const { values } = parseArgs({ args: argv, options, strict: true, allowPositionals: false });
  const config = { help: values.help === true };
  for (const [flag, [envName, kind, fallback]] of Object.entries(SPEC)) {
    const raw = values[flag] ?? env[envName];
    let value = fallback;
    if (raw !== undefined && raw !== '') {
      if (kind === 'integer') {
        value = Number(raw);
        const min = flag === 'port' ? 0 : 1;
        if (!Number.isSafeInteger(value) || value < min)
          throw new Error(`--${flag} (${envName}) must be an integer >= ${min}, got '${raw}'`);
      } else {
        value = raw;
      }
    }
    config[camel(flag)] = value;
  }
  return config;
}
