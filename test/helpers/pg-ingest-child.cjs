// Child process for the PostgreSQL collection tests: ingests texts into one collection beside
// another process. argv: url, collection, worker index, batch size. Writes the add result as JSON.
// With worker 'loop': adds batches of `batch size` texts forever, printing "batch N" after each
// commit (for the kill -9 test).
'use strict';
const path = require('node:path');
const { openCollection } = require(path.join(__dirname, '..', '..', 'dist', 'cjs', 'index.js'));
const { fakeModel } = require('./fake-model.cjs');

(async () => {
  const [url, collection, worker, batchSize] = process.argv.slice(2);
  const c = await openCollection(url, { model: fakeModel(), collection });
  if (worker === 'loop') {
    for (let b = 0; ; b++) {
      const texts = Array.from({ length: Number(batchSize) }, (_, j) => `loop ${b} ${j}`);
      await c.addTexts(texts, { batch: b }, { batchSize: texts.length });
      process.stdout.write(`batch ${b}\n`);
    }
  }
  // 300 texts both workers add (in opposite orders, so their batches race on the same hashes),
  // and 100 of this worker's own.
  const shared = Array.from({ length: 300 }, (_, i) => `shared ${i}`);
  if (worker === '1') shared.reverse();
  const own = Array.from({ length: 100 }, (_, i) => `worker ${worker} item ${i}`);
  const texts = shared.flatMap((t, i) => (i % 3 === 0 && own[i / 3] !== undefined ? [t, own[i / 3]] : [t]));
  const result = await c.addTexts(texts, { worker: Number(worker) }, { batchSize: Number(batchSize) });
  process.stdout.write(
    JSON.stringify({ texts, ids: result.ids.map(String), added: result.added, duplicates: result.duplicates }),
  );
  await c.close();
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
