// The SQLite store's worker thread: owns the database and answers requests one at a time, in
// arrival order (so the event loop's order of calls is the order of transactions).
import { parentPort, workerData } from 'node:worker_threads';
import { SqliteDatabase, type DatabaseConstructor } from './database';
import { toWireError } from './errors';
import { transferables, type Request, type Response, type Startup, type WorkerData } from './protocol';

const port = parentPort;
if (!port) throw new Error('lib/collection/sqlite/worker.js runs as a worker thread only');

let database: SqliteDatabase | undefined;
try {
  let Driver: DatabaseConstructor;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    Driver = require('better-sqlite3') as DatabaseConstructor;
  } catch (error) {
    throw Object.assign(new Error(`collections need the better-sqlite3 package: ${(error as Error).message}`), {
      code: 'ERR_NATIVE_BINDING',
    });
  }
  database = new SqliteDatabase(Driver, (workerData as WorkerData).file);
  port.postMessage({ ready: true } satisfies Startup);
} catch (error) {
  port.postMessage({ ready: false, error: toWireError(error) } satisfies Startup);
}

port.on('message', (request: Request) => {
  let response: Response;
  let transfer: ArrayBuffer[] = [];
  try {
    if (!database) throw Object.assign(new Error('the collection database is not open'), { code: 'ERR_DISPOSED' });
    const operation = database[request.op] as (...args: unknown[]) => unknown;
    const result = operation.apply(database, request.args) as never;
    if (request.op === 'close') database = undefined;
    response = { seq: request.seq, ok: true, result };
    transfer = transferables(result);
  } catch (error) {
    response = { seq: request.seq, ok: false, error: toWireError(error) };
  }
  port.postMessage(response, transfer);
  // After close, nothing keeps the thread alive: it exits once this message is out.
  if (request.op === 'close' && response.ok) port.close();
});
