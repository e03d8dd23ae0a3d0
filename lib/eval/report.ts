/**
 * The evaluation's outputs for people: a terminal table and a self-contained HTML report (inline
 * SVG charts and images, no script, nothing fetched).
 */
import * as path from 'node:path';
import { escapeHtml, imageDataUri, page, table, tileRow } from '../report/html';
import type { CaptionDataset } from './datasets';
import type { RetrievalReport } from './retrieval';

const pct = (x: number | undefined): string => (x === undefined ? '–' : (x * 100).toFixed(1));

/** Recall@K of a rank list for K = 1..maxK. */
export function recallCurve(ranks: Int32Array, maxK: number): number[] {
  const counts = new Float64Array(maxK + 1);
  for (const r of ranks) if (r <= maxK) counts[r]! += 1;
  const curve: number[] = [];
  let hits = 0;
  for (let k = 1; k <= maxK; k++) {
    hits += counts[k] as number;
    curve.push(hits / ranks.length);
  }
  return curve;
}

/** The plain-text table printed by `crossmodal eval`. */
export function textReport(report: RetrievalReport): string {
  const ks = Object.keys(report.textToImage.recall).map(Number);
  const lines = [
    `${report.images} images, ${report.captions} captions (exact search)`,
    `direction      ${ks.map((k) => `R@${k}`.padStart(7)).join('')}  median rank  mean rank     mAP`,
  ];
  for (const [name, m] of [
    ['text → image', report.textToImage],
    ['image → text', report.imageToText],
  ] as const) {
    lines.push(
      `${name.padEnd(13)}  ${ks.map((k) => pct(m.recall[k]).padStart(7)).join('')}  ${String(m.medianRank).padStart(11)}  ${m.meanRank.toFixed(1).padStart(9)}  ${m.mAP.toFixed(4).padStart(6)}`,
    );
  }
  lines.push(
    `CLIPScore (w = ${report.clipScore.weight}) mean ${report.clipScore.mean.toFixed(4)}${report.clipScore.refMean === null ? '' : `, RefCLIPScore mean ${report.clipScore.refMean.toFixed(4)}`}`,
  );
  const c = report.calibration;
  if (c) {
    lines.push(
      `match threshold: cos ≥ ${c.threshold.toFixed(4)} → accuracy ${pct(c.accuracy)}%, precision ${pct(c.precision)}%, recall ${pct(c.recall)}%; ROC-AUC ${c.rocAuc.toFixed(4)}`,
    );
    if (c.atTargetPrecision) {
      lines.push(
        `  at precision ≥ ${pct(c.atTargetPrecision.target)}%: cos ≥ ${c.atTargetPrecision.threshold.toFixed(4)} (recall ${pct(c.atTargetPrecision.recall)}%)`,
      );
    }
  }
  const a = report.approximate;
  if (a)
    lines.push(
      `${a.type}: recall@${a.k} against exact search ${a.recallVsExact.toFixed(4)}; text→image ${Object.entries(
        a.textToImageRecall,
      )
        .map(([k, v]) => `R@${k} ${pct(v)}`)
        .join(' ')}`,
    );
  const d = report.precisionDrift;
  if (d) {
    lines.push(
      `${d.precision} vs loaded: image cosine mean ${d.imageCosine.mean.toFixed(5)} min ${d.imageCosine.min.toFixed(5)}; text cosine mean ${d.textCosine.mean.toFixed(5)} min ${d.textCosine.min.toFixed(5)}`,
    );
    lines.push(
      `  Recall@K change: text→image ${ks.map((k) => `R@${k} ${signed((d.textToImageRecall[k] ?? 0) - (report.textToImage.recall[k] ?? 0))}`).join(' ')}; image→text ${ks.map((k) => `R@${k} ${signed((d.imageToTextRecall[k] ?? 0) - (report.imageToText.recall[k] ?? 0))}`).join(' ')}`,
    );
  }
  return lines.join('\n');
}

function signed(x: number): string {
  return `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}`;
}

const W = 520;
const H = 260;
const PAD = { left: 48, right: 16, top: 16, bottom: 36 };

function axes(
  xLabel: string,
  yLabel: string,
  xTicks: { at: number; label: string }[],
  yTicks: { at: number; label: string }[],
): string {
  const x0 = PAD.left;
  const y0 = H - PAD.bottom;
  const parts = [
    `<line x1="${x0}" y1="${y0}" x2="${W - PAD.right}" y2="${y0}" stroke="#555"/>`,
    `<line x1="${x0}" y1="${PAD.top}" x2="${x0}" y2="${y0}" stroke="#555"/>`,
    ...xTicks.map(
      (t) =>
        `<text x="${t.at.toFixed(1)}" y="${y0 + 14}" font-size="10" text-anchor="middle">${escapeHtml(t.label)}</text>`,
    ),
    ...yTicks.map(
      (t) =>
        `<text x="${x0 - 6}" y="${(t.at + 3).toFixed(1)}" font-size="10" text-anchor="end">${escapeHtml(t.label)}</text>` +
        `<line x1="${x0}" y1="${t.at.toFixed(1)}" x2="${W - PAD.right}" y2="${t.at.toFixed(1)}" stroke="#e3e6eb"/>`,
    ),
    `<text x="${(x0 + W - PAD.right) / 2}" y="${H - 4}" font-size="11" text-anchor="middle">${escapeHtml(xLabel)}</text>`,
    `<text x="12" y="${(PAD.top + y0) / 2}" font-size="11" text-anchor="middle" transform="rotate(-90 12 ${(PAD.top + y0) / 2})">${escapeHtml(yLabel)}</text>`,
  ];
  return parts.join('');
}

/** Recall@K against K for both directions. */
export function recallChart(report: RetrievalReport): string {
  const maxK = Math.min(50, report.images);
  const curves = [
    { name: 'text → image', color: '#364fc7', values: recallCurve(report.textToImage.ranks, maxK) },
    { name: 'image → text', color: '#e8590c', values: recallCurve(report.imageToText.ranks, maxK) },
  ];
  const x = (k: number): number => PAD.left + ((k - 1) / Math.max(maxK - 1, 1)) * (W - PAD.left - PAD.right);
  const y = (v: number): number => H - PAD.bottom - v * (H - PAD.top - PAD.bottom);
  const xTicks = [1, 5, 10, 20, 30, 40, 50].filter((k) => k <= maxK).map((k) => ({ at: x(k), label: String(k) }));
  const yTicks = [0, 0.25, 0.5, 0.75, 1].map((v) => ({ at: y(v), label: `${v * 100}%` }));
  const lines = curves.map(
    (c) =>
      `<polyline class="curve" fill="none" stroke="${c.color}" stroke-width="2" points="${c.values.map((v, i) => `${x(i + 1).toFixed(1)},${y(v).toFixed(1)}`).join(' ')}"/>`,
  );
  const legend = curves.map(
    (c, i) =>
      `<rect x="${W - 150}" y="${PAD.top + 8 + i * 16}" width="10" height="10" fill="${c.color}"/><text x="${W - 135}" y="${PAD.top + 17 + i * 16}" font-size="11">${c.name}</text>`,
  );
  return `<svg class="chart" role="img" aria-label="Recall at K" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" xmlns="http://www.w3.org/2000/svg">${axes('K', 'Recall@K', xTicks, yTicks)}${lines.join('')}${legend.join('')}</svg>`;
}

/** Overlaid histograms of matching and non-matching pair cosines, with the calibrated threshold. */
export function scoreHistogram(report: RetrievalReport, bins = 40): string {
  const { matching, nonMatching } = report.pairScores;
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of [...matching, ...nonMatching]) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  if (!(hi > lo)) hi = lo + 1e-6;
  const count = (values: Float32Array): number[] => {
    const h = new Array<number>(bins).fill(0);
    for (const v of values) h[Math.min(bins - 1, Math.floor(((v - lo) / (hi - lo)) * bins))]! += 1 / values.length;
    return h;
  };
  const series = [
    { name: 'matching pairs', color: '#2f9e44', h: count(matching) },
    { name: 'non-matching pairs', color: '#e03131', h: count(nonMatching) },
  ];
  const top = Math.max(...series.flatMap((s) => s.h));
  const bw = (W - PAD.left - PAD.right) / bins;
  const x = (v: number): number => PAD.left + ((v - lo) / (hi - lo)) * (W - PAD.left - PAD.right);
  const y = (f: number): number => H - PAD.bottom - (f / top) * (H - PAD.top - PAD.bottom);
  const bars = series
    .map((s) =>
      s.h
        .map(
          (f, i) =>
            `<rect class="bar" x="${(PAD.left + i * bw).toFixed(1)}" y="${y(f).toFixed(1)}" width="${Math.max(bw - 1, 1).toFixed(1)}" height="${(H - PAD.bottom - y(f)).toFixed(1)}" fill="${s.color}" fill-opacity="0.55"/>`,
        )
        .join(''),
    )
    .join('');
  const t = report.calibration?.threshold;
  const marker =
    t !== undefined && t >= lo && t <= hi
      ? `<line x1="${x(t).toFixed(1)}" y1="${PAD.top}" x2="${x(t).toFixed(1)}" y2="${H - PAD.bottom}" stroke="#1d2330" stroke-dasharray="4 3"/><text x="${(x(t) + 4).toFixed(1)}" y="${PAD.top + 10}" font-size="10">threshold ${t.toFixed(3)}</text>`
      : '';
  const xTicks = [0, 0.25, 0.5, 0.75, 1].map((f) => ({
    at: PAD.left + f * (W - PAD.left - PAD.right),
    label: (lo + f * (hi - lo)).toFixed(2),
  }));
  const yTicks = [0, 0.5, 1].map((f) => ({ at: y(f * top), label: `${(f * top * 100).toFixed(0)}%` }));
  const legend = series.map(
    (s, i) =>
      `<rect x="${PAD.left + 8}" y="${PAD.top + 8 + i * 16}" width="10" height="10" fill="${s.color}" fill-opacity="0.55"/><text x="${PAD.left + 23}" y="${PAD.top + 17 + i * 16}" font-size="11">${s.name}</text>`,
  );
  return `<svg class="chart" role="img" aria-label="Pair score histogram" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" xmlns="http://www.w3.org/2000/svg">${axes('cosine similarity', 'share of pairs', xTicks, yTicks)}${bars}${marker}${legend.join('')}</svg>`;
}

/** The whole HTML report. */
export function htmlReport(report: RetrievalReport, dataset: CaptionDataset, title: string): string {
  const ks = Object.keys(report.textToImage.recall).map(Number);
  const recallRows = [
    [
      'text → image',
      ...ks.map((k) => pct(report.textToImage.recall[k])),
      report.textToImage.medianRank,
      report.textToImage.meanRank.toFixed(1),
      report.textToImage.mAP.toFixed(4),
    ],
    [
      'image → text',
      ...ks.map((k) => pct(report.imageToText.recall[k])),
      report.imageToText.medianRank,
      report.imageToText.meanRank.toFixed(1),
      report.imageToText.mAP.toFixed(4),
    ],
  ];
  const parts = [
    `<p class="note">${report.images} images, ${report.captions} captions; exact search; CLIPScore weight ${report.clipScore.weight}. Text report:</p>`,
    `<pre>${escapeHtml(textReport(report))}</pre>`,
    table(['direction', ...ks.map((k) => `R@${k} %`), 'median rank', 'mean rank', 'mAP'], recallRows),
    '<h2>Recall@K</h2>',
    recallChart(report),
    '<h2>Scores of matching and non-matching pairs</h2>',
    scoreHistogram(report),
  ];
  if (report.worstTextToImage.length > 0) {
    parts.push(
      '<h2>Worst text → image misses</h2><p class="note">Each caption with its own image (left) and the image ranked first instead (right).</p>',
    );
    for (const miss of report.worstTextToImage) {
      const caption = dataset.captions[miss.caption] ?? '';
      parts.push(
        tileRow(`“${caption}” — own image ranked ${miss.rank}`, [
          {
            image: imageDataUri(dataset.images[miss.image] as string),
            caption: `own: ${path.basename(dataset.images[miss.image] as string)}`,
            correct: true,
          },
          {
            image: imageDataUri(dataset.images[miss.retrieved] as string),
            caption: `ranked first: ${path.basename(dataset.images[miss.retrieved] as string)}`,
            correct: false,
          },
        ]),
      );
    }
  }
  return page(title, parts.join('\n'));
}
