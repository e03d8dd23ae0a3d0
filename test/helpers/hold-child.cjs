// Child process for the collection lock test: opens a collection, adds a few texts, prints
// "ready" and keeps it open until killed. argv: dir.
'use strict';
const path = require('node:path');
const { openCollection } = require(path.join(__dirname, '..', '..', 'dist', 'cjs', 'index.js'));
const { fakeModel } = require('./fake-model.cjs');

(async () => {
  const collection = await openCollection(process.argv[2], { model: fakeModel() });
  await collection.addTexts(['held 1', 'held 2', 'held 3']);
  process.stdout.write('ready\n');
  setInterval(() => undefined, 1 << 30);
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
