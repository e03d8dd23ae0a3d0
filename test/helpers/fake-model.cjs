// A deterministic stand-in for a CLIP model: vectors derived from a hash of the input, so any
// process computes the same embedding for the same text or bytes. Used by the collection suites.
'use strict';
const { createHash } = require('node:crypto');
const fs = require('node:fs');

function vectorFor(key, dim) {
  const out = new Float32Array(dim);
  let seed = createHash('sha256').update(key).digest();
  let norm = 0;
  for (let i = 0; i < dim; i++) {
    if (i % 8 === 0 && i > 0) seed = createHash('sha256').update(seed).digest();
    out[i] = seed.readInt32LE((i % 8) * 4) / 2 ** 31;
    norm += out[i] * out[i];
  }
  norm = Math.sqrt(norm);
  for (let i = 0; i < dim; i++) out[i] /= norm;
  return out;
}

function fakeModel(dim = 16, fingerprint = 'fake-model-v1') {
  const embed = (keys) => {
    const data = new Float32Array(keys.length * dim);
    keys.forEach((k, i) => data.set(vectorFor(k, dim), i * dim));
    return { data, dim, count: keys.length };
  };
  return {
    fingerprint,
    dim,
    calls: 0,
    async embedTexts(texts) {
      this.calls++;
      return embed(texts.map((t) => `text:${t}`));
    },
    async embedImages(images) {
      this.calls++;
      return embed(
        images.map(
          (img) =>
            `image:${createHash('sha256')
              .update(typeof img === 'string' ? fs.readFileSync(img) : img)
              .digest('hex')}`,
        ),
      );
    },
  };
}

module.exports = { fakeModel, vectorFor };
