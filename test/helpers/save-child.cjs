// Child process for test/index-save-kill.test.ts: saves an index to the same path in a loop until
// killed. argv: file, dim, base (rows of the first generation).
//
// Generation g holds `base + g` vectors (row base+i is vectorFor(`gen-${i}`), id base+i) and is
// saved with the fingerprint `gen-g`, so a file on disk names its own generation and the parent
// can check that its contents match. A run continues from the file left by the previous (killed)
// run. Prints "ready", then "saving g" before and "saved g <ms>" after every save.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
// search.js rather than index.js: the child starts faster, and there are 50 of them.
const { createIndex, loadIndex } = require(path.join(__dirname, '..', '..', 'dist', 'cjs', 'search.js'));
const { vectorFor } = require('./fake-model.cjs');

(async () => {
  const [file, dimArg, baseArg] = process.argv.slice(2);
  const dim = Number(dimArg);
  const base = Number(baseArg);
  let index;
  let gen = 0;
  if (fs.existsSync(file)) {
    index = await loadIndex(file);
    gen = Number((await index.info()).fingerprint.slice(4));
  } else {
    index = createIndex({ dim });
    const rows = new Float32Array(base * dim);
    for (let i = 0; i < base; i++) rows.set(vectorFor(`base-${i}`, dim), i * dim);
    await index.add(
      rows,
      BigInt64Array.from({ length: base }, (_, i) => BigInt(i)),
    );
  }
  process.stdout.write('ready\n');
  for (;;) {
    gen++;
    await index.add(vectorFor(`gen-${gen}`, dim), BigInt64Array.of(BigInt(base + gen)));
    process.stdout.write(`saving ${gen}\n`);
    const t = performance.now();
    await index.save(file, { fingerprint: `gen-${gen}` });
    process.stdout.write(`saved ${gen} ${(performance.now() - t).toFixed(2)}\n`);
  }
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
