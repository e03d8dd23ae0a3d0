// Child process for the collection crash test: ingests batches into a collection until killed.
// argv: dir, iteration. Prints "ready" once the collection is open.
'use strict';
const path = require('node:path');
const { openCollection } = require(path.join(__dirname, '..', '..', 'dist', 'cjs', 'index.js'));
const { fakeModel } = require('./fake-model.cjs');

(async () => {
  const [dir, iteration] = process.argv.slice(2);
  const collection = await openCollection(dir, {
    model: fakeModel(),
    checkpointEvery: 3,
    index: { type: process.argv[4] || 'flat' },
  });
  process.stdout.write('ready\n');
  for (let b = 0; b < 1000; b++) {
    const texts = Array.from({ length: 8 }, (_, j) => `it${iteration}-b${b}-t${j}`);
    await collection.addTexts(texts, { batch: `${iteration}-${b}` }, { batchSize: 8 });
    if (b % 5 === 4) {
      // Remove one item of an earlier batch: removals must survive crashes too.
      const [victim] = await collection.find({ batch: `${iteration}-${b - 4}` });
      if (victim !== undefined) await collection.remove([victim]);
    }
  }
  await collection.close();
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
