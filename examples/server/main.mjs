#!/usr/bin/env node
// Entry point: parse the configuration, listen, load the model, and shut down cleanly on SIGTERM
// or SIGINT (stop accepting, drain in-flight requests, close the collection, dispose the model,
// exit 0; exit 1 if draining takes longer than --shutdown-timeout-ms).
import { parseConfig, USAGE } from './config.mjs';
import { buildServer } from './app.mjs';

let config;
try {
  config = parseConfig(process.argv.slice(2), process.env);
} catch (error) {
  process.stderr.write(`${error.message}\n\n${USAGE}`);
  process.exit(2);
}
if (config.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}

const { app, started } = buildServer(config);

let stopping = false;
async function shutdown(signal) {
  if (stopping) return;
  stopping = true;
  app.log.info({ signal }, 'shutting down: draining in-flight requests');
  const deadline = setTimeout(() => {
    app.log.error({ timeoutMs: config.shutdownTimeoutMs }, 'in-flight requests did not finish in time');
    process.exit(1);
  }, config.shutdownTimeoutMs);
  deadline.unref();
  try {
    await app.close();
    app.log.info('shut down');
    process.exit(0);
  } catch (error) {
    app.log.error({ err: error }, 'shutdown failed');
    process.exit(1);
  }
}
process.once('SIGTERM', () => void shutdown('SIGTERM'));
process.once('SIGINT', () => void shutdown('SIGINT'));

try {
  const address = await app.listen({ host: config.host, port: config.port });
  // One machine-readable line, so scripts (and the tests) learn the ephemeral port.
  process.stdout.write(`${JSON.stringify({ event: 'listening', url: address })}\n`);
} catch (error) {
  app.log.fatal({ err: error }, 'could not listen');
  process.exit(1);
}

try {
  await started;
} catch (error) {
  // A service that cannot load its model is of no use: fail loudly and let the supervisor decide.
  app.log.fatal({ err: error }, 'the model failed to load');
  await app.close().catch(() => undefined);
  process.exit(1);
}
