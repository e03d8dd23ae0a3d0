// Deterministic vectors and exact references for the search suites.

/** Standard-normal vectors (xorshift + Box-Muller), optionally normalised, so failures reproduce. */
export function gaussianVectors(count: number, dim: number, seed: number, normalize = true): Float32Array {
  const out = new Float32Array(count * dim);
  let s = seed >>> 0 || 1;
  const next = (): number => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
  for (let i = 0; i < out.length; i += 2) {
    const r = Math.sqrt(-2 * Math.log(next() + 1e-12));
    const a = 2 * Math.PI * next();
    out[i] = r * Math.cos(a);
    if (i + 1 < out.length) out[i + 1] = r * Math.sin(a);
  }
  if (normalize) {
    for (let i = 0; i < count; i++) {
      let n = 0;
      for (let d = 0; d < dim; d++) n += (out[i * dim + d] as number) ** 2;
      n = Math.sqrt(n);
      for (let d = 0; d < dim; d++) out[i * dim + d] = (out[i * dim + d] as number) / n;
    }
  }
  return out;
}

/** Indices of the k best rows of `data` for `query` (inner product, or squared L2). */
export function exactTopK(
  data: Float32Array,
  query: Float32Array,
  dim: number,
  k: number,
  metric: 'ip' | 'l2' = 'ip',
  allowed?: (i: number) => boolean,
): number[] {
  const scores: { i: number; s: number }[] = [];
  for (let i = 0; i < data.length / dim; i++) {
    if (allowed && !allowed(i)) continue;
    let s = 0;
    for (let d = 0; d < dim; d++) {
      const a = data[i * dim + d] as number,
        b = query[d] as number;
      s += metric === 'ip' ? a * b : (a - b) * (a - b);
    }
    scores.push({ i, s });
  }
  scores.sort((x, y) => (metric === 'ip' ? y.s - x.s : x.s - y.s));
  return scores.slice(0, k).map((x) => x.i);
}

export function row(data: Float32Array, i: number, dim: number): Float32Array {
  return data.subarray(i * dim, (i + 1) * dim);
}
