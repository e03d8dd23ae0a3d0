// Child process for the collection crash test's checkpoint part: adds a batch, then snapshots the
// index by one of the three ways a collection does it (compact(), checkpoint(), close() + reopen,
// which also checkpoints SQLite's WAL into the database), in turn, until killed.
// argv: dir, iteration. Prints "ready", then "op <name>" before and "done <name> <ms>" after each.
'use strict';
const path = require('node:path');
const { openCollection } = require(path.join(__dirname, '..', '..', 'dist', 'cjs', 'index.js'));
const { fakeModel } = require('./fake-model.cjs');

(async () => {
  const [dir, iteration] = process.argv.slice(2);
  const open = () => openCollection(dir, { model: fakeModel(), checkpointEvery: 1000 });
  let collection = await open();
  process.stdout.write('ready\n');
  const ops = ['compact', 'checkpoint', 'close'];
  for (let b = 0; b < 1000; b++) {
    const texts = Array.from({ length: 8 }, (_, j) => `ck${iteration}-b${b}-t${j}`);
    await collection.addTexts(texts, { batch: `ck${iteration}-${b}`, ck: true }, { batchSize: 8 });
    const op = ops[(b + Number(iteration)) % ops.length];
    process.stdout.write(`op ${op}\n`);
    const t = performance.now();
    if (op === 'compact') await collection.compact();
    else if (op === 'checkpoint') await collection.checkpoint();
    else {
      await collection.close();
      collection = await open();
    }
    process.stdout.write(`done ${op} ${(performance.now() - t).toFixed(2)}\n`);
  }
  await collection.close();
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
