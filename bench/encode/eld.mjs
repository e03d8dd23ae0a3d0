// Event-loop delay over many short rounds. perf_hooks.monitorEventLoopDelay() histograms cannot be
// added together (histogram.add() takes only RecordableHistograms), and a monitor must be reset
// between rounds (see worker.mjs), so each round is kept as a quantile sketch of 1,000 points read
// from the histogram with percentile() (exact to the histogram's precision), weighted by the
// round's sample count; the merged percentiles are read from the union of the sketches.
const POINTS = 1000;

export function sketch(h) {
  const count = h.count;
  const points = [];
  if (count > 0) for (let k = 0; k < POINTS; k++) points.push(h.percentile(((k + 0.5) / POINTS) * 100) / 1e6);
  return { count, max: count > 0 ? h.max / 1e6 : 0, mean: count > 0 ? h.mean / 1e6 : 0, points };
}

export function merge(sketches) {
  const weighted = [];
  let count = 0;
  let max = 0;
  let sum = 0;
  for (const s of sketches) {
    count += s.count;
    max = Math.max(max, s.max);
    sum += s.mean * s.count;
    for (const v of s.points) weighted.push([v, s.count / s.points.length]);
  }
  weighted.sort((a, b) => a[0] - b[0]);
  const at = (p) => {
    const target = (p / 100) * count;
    let acc = 0;
    for (const [v, w] of weighted) {
      acc += w;
      if (acc >= target) return v;
    }
    return weighted.length ? weighted[weighted.length - 1][0] : 0;
  };
  return { p50: at(50), p99: at(99), max, mean: count ? sum / count : 0, samples: count, rounds: sketches.length };
}
