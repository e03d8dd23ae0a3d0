// The `crossmodal` command line as a user runs it: the built bin in a child process.
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createIndex } from '../lib/index';
import { repoRoot, scratchDirs, tinyBundle, tinyReferenceDir } from './helpers';

const bin = path.join(repoRoot, 'dist', 'cjs', 'cli', 'main.js');
const newDir = scratchDirs('crossmodal-cli-');

function cli(args: string[], options: { cwd?: string } = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    cwd: options.cwd ?? repoRoot,
    timeout: 120_000,
  });
}

/** The single error line the CLI prints, asserting there is exactly one and it has the house form. */
function errorLine(result: SpawnSyncReturns<string>): string {
  const lines = result.stderr.split('\n').filter((l) => l.startsWith('crossmodal: '));
  expect(lines, result.stderr).toHaveLength(1);
  return lines[0] as string;
}

const referenceImages = fs
  .readdirSync(tinyReferenceDir)
  .filter((f) => /\.(png|jpe?g|webp|gif)$/i.test(f))
  .map((f) => path.join(tinyReferenceDir, f));

/** `count` distinct JPEG files: one fixture with a different trailing byte each (decoders stop at EOI). */
function distinctJpegs(dir: string, count: number): string[] {
  const jpeg = referenceImages.find((f) => /\.jpe?g$/i.test(f));
  if (!jpeg) throw new Error('no JPEG among the reference images');
  const bytes = fs.readFileSync(jpeg);
  fs.mkdirSync(dir, { recursive: true });
  return Array.from({ length: count }, (_, i) => {
    const file = path.join(dir, `copy-${String(i).padStart(4, '0')}.jpg`);
    fs.writeFileSync(file, Buffer.concat([bytes, Buffer.from(`${i}`)]));
    return file;
  });
}

describe('crossmodal command line', () => {
  it('prints help for the program and every command, exit 0', () => {
    const top = cli(['--help']);
    expect(top.status).toBe(0);
    for (const command of ['demo', 'index', 'search', 'classify', 'score', 'embed', 'export', 'info']) {
      expect(top.stdout).toContain(command);
      const help = cli([command, '--help']);
      expect(help.status, command).toBe(0);
      expect(help.stdout).toContain(`Usage: crossmodal ${command}`);
    }
    expect(top.stdout).toMatch(/Exit codes: 0 success, 1 .*2 wrong command line, 3/);
  });

  it('rejects wrong command lines with one error line and exit 2', () => {
    const cases: string[][] = [
      ['no-such-command'],
      ['search'],
      ['index', 'x.jpg'], // --collection missing
      ['search', tinyReferenceDir, 'a cat'], // not a collection
      ['classify', referenceImages[0] as string, '--labels', 'cat'],
      ['classify', referenceImages[0] as string, '--labels', 'cat,dog', '--template', 'no placeholder'],
      ['score', referenceImages[0] as string, 'a cat', '--threshold', 'high'],
      ['embed', referenceImages[0] as string, '--out', 'x.csv'],
      ['index', 'x.jpg', '--collection', 'c', '--batch-size', '0'],
    ];
    for (const args of cases) {
      const r = cli(args);
      expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(errorLine(r)).toMatch(/^crossmodal: /);
    }
  });

  it('indexes recursively, skips unreadable files with a summary (exit 3), resumes without re-adding, and searches', () => {
    const dir = newDir();
    const images = path.join(dir, 'images');
    const nested = path.join(images, 'nested', 'deeper');
    fs.mkdirSync(nested, { recursive: true });
    for (const f of referenceImages) fs.copyFileSync(f, path.join(nested, path.basename(f)));
    fs.writeFileSync(path.join(images, 'broken.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]));
    fs.writeFileSync(path.join(images, 'notes.txt'), 'not an image');
    const collection = path.join(dir, 'collection');

    const first = cli([
      'index',
      images,
      path.join(dir, 'missing.jpg'),
      '--collection',
      collection,
      '--model',
      tinyBundle,
      '--batch-size',
      '4',
      '--json',
    ]);
    expect(first.status, first.stderr).toBe(3);
    const summary = JSON.parse(first.stdout);
    expect(summary.files).toBe(referenceImages.length + 1); // the .txt is not picked up from a directory
    expect(summary.added + summary.duplicates).toBe(referenceImages.length);
    expect(summary.skipped.map((s: { path: string }) => path.basename(s.path)).sort()).toEqual([
      'broken.jpg',
      'missing.jpg',
    ]);
    expect(summary.skipped.find((s: { path: string }) => s.path.endsWith('broken.jpg')).reason).toMatch(/^ERR_IMAGE_/);

    const again = cli(['index', nested, '--collection', collection, '--json']);
    expect(again.status, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ added: 0, duplicates: referenceImages.length });

    const search = cli([
      'search',
      collection,
      'a photo of a cat',
      '-k',
      '3',
      '--json',
      '--html',
      path.join(dir, 'hits.html'),
    ]);
    expect(search.status, search.stderr).toBe(0);
    const hits = JSON.parse(search.stdout).hits as { source: string; score: number }[];
    expect(hits).toHaveLength(3);
    expect(hits[0]!.score).toBeGreaterThanOrEqual(hits[1]!.score);
    for (const h of hits) expect(fs.existsSync(h.source)).toBe(true);
    const html = fs.readFileSync(path.join(dir, 'hits.html'), 'utf8');
    expect(html.match(/<img src="data:image\//g)).toHaveLength(3);

    const byImage = cli(['search', collection, '--image', referenceImages[0] as string, '-k', '1', '--json']);
    expect(byImage.status, byImage.stderr).toBe(0);
    expect(JSON.parse(byImage.stdout).hits[0].source).toBe(
      path.join(nested, path.basename(referenceImages[0] as string)),
    );

    const filtered = cli(['search', collection, 'x', '--where', '{"kind":"text"}', '--json']);
    expect(filtered.status).toBe(0);
    expect(JSON.parse(filtered.stdout).hits).toEqual([]);

    const info = cli(['info', collection, '--json']);
    expect(info.status, info.stderr).toBe(0);
    expect(JSON.parse(info.stdout).collection.images).toBe(referenceImages.length);
  });

  it('stops cleanly on Ctrl-C and a rerun completes the collection', async () => {
    const dir = newDir();
    const files = distinctJpegs(path.join(dir, 'many'), 600);
    const collection = path.join(dir, 'c');
    const child = spawn(
      process.execPath,
      [
        bin,
        'index',
        path.join(dir, 'many'),
        '--collection',
        collection,
        '--model',
        tinyBundle,
        '--batch-size',
        '2',
        '--json',
      ],
      { cwd: repoRoot },
    );
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    // Interrupt once the collection exists (the first batch is being embedded or committed).
    const deadline = Date.now() + 30_000;
    while (!fs.existsSync(path.join(collection, 'collection.db')) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 150));
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    const summary = JSON.parse(stdout);
    if (code === 130) {
      expect(summary.interrupted).toBe(true);
      expect(summary.added).toBeLessThan(files.length);
    } else {
      expect(code).toBe(0); // a fast machine may finish first: then nothing to resume
    }
    const rerun = cli(['index', path.join(dir, 'many'), '--collection', collection, '--json']);
    expect(rerun.status, rerun.stderr).toBe(0);
    const second = JSON.parse(rerun.stdout);
    expect(second.added).toBe(files.length - summary.added);
    expect(second.duplicates).toBe(summary.added);
  });

  it('classifies, scores with CLIPScore and a threshold, and embeds to .npy and .jsonl', () => {
    const image = referenceImages[0] as string;
    const classify = cli(['classify', image, '--labels', 'cat,dog,car', '--top', '3', '--model', tinyBundle, '--json']);
    expect(classify.status, classify.stderr).toBe(0);
    const labels = JSON.parse(classify.stdout)[0].labels as { label: string; probability: number }[];
    expect(labels.map((l) => l.label).sort()).toEqual(['car', 'cat', 'dog']);
    expect(labels.reduce((s, l) => s + l.probability, 0)).toBeCloseTo(1, 5);

    const score = cli(['score', image, 'a cat', 'a dog', '--model', tinyBundle, '--json']);
    expect(score.status, score.stderr).toBe(0);
    const scores = JSON.parse(score.stdout).scores as { cosine: number; clipScore: number }[];
    for (const s of scores) expect(s.clipScore).toBeCloseTo(2.5 * Math.max(s.cosine, 0), 10);
    const threshold = Math.max(...scores.map((s) => s.cosine));
    const flagged = cli([
      'score',
      image,
      'a cat',
      'a dog',
      '--model',
      tinyBundle,
      '--threshold',
      String(threshold),
      '--json',
    ]);
    const matches = JSON.parse(flagged.stdout).scores.map((s: { match: boolean }) => s.match);
    expect(matches.filter((m: boolean) => m)).toHaveLength(1);
    expect(flagged.status).toBe(3); // one text flagged as a mismatch

    const dir = newDir();
    fs.mkdirSync(dir, { recursive: true });
    const npy = path.join(dir, 'e.npy');
    const embed = cli(['embed', ...referenceImages.slice(0, 3), '--out', npy, '--model', tinyBundle]);
    expect(embed.status, embed.stderr).toBe(0);
    const bytes = fs.readFileSync(npy);
    expect(bytes.subarray(0, 6).toString('latin1')).toBe('\x93NUMPY');
    const headerLength = bytes.readUInt16LE(8);
    expect((10 + headerLength) % 64).toBe(0);
    const header = bytes.subarray(10, 10 + headerLength).toString('latin1');
    const [, rows, cols] = /'shape': \((\d+), (\d+)\)/.exec(header) ?? [];
    expect(Number(rows)).toBe(3);
    expect(bytes.length).toBe(10 + headerLength + 3 * Number(cols) * 4);

    const jsonl = path.join(dir, 't.jsonl');
    const texts = cli(['embed', '--texts', 'a cat', 'a dog', '--out', jsonl, '--model', tinyBundle]);
    expect(texts.status, texts.stderr).toBe(0);
    const lines = fs
      .readFileSync(jsonl, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.input)).toEqual(['a cat', 'a dog']);
    expect(lines[0].embedding).toHaveLength(Number(cols));
    const python = spawnSync(
      '/usr/bin/python3',
      ['-c', `import numpy; a = numpy.load(${JSON.stringify(npy)}); print(a.shape, a.dtype)`],
      { encoding: 'utf8' },
    );
    if (python.status === 0) expect(python.stdout.trim()).toBe(`(3, ${cols}) float32`);
  });

  it('fails on an unreadable image with a one-line hint, and leaves it out with --skip-errors (exit 3)', () => {
    const dir = newDir();
    fs.mkdirSync(dir, { recursive: true });
    const broken = path.join(dir, 'broken.jpg');
    fs.writeFileSync(broken, Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]));
    const good = referenceImages.slice(0, 2);
    const out = path.join(dir, 'e.npy');

    const failing = cli(['embed', good[0] as string, broken, good[1] as string, '--out', out, '--model', tinyBundle]);
    expect(failing.status).toBe(1);
    expect(errorLine(failing)).toMatch(/^crossmodal: ERR_IMAGE_\w+: .*broken\.jpg.* — use --skip-errors/);
    expect(fs.existsSync(out)).toBe(false);

    const skipping = cli([
      'embed',
      good[0] as string,
      broken,
      good[1] as string,
      '--out',
      out,
      '--model',
      tinyBundle,
      '--skip-errors',
      '--json',
    ]);
    expect(skipping.status, skipping.stderr).toBe(3);
    const summary = JSON.parse(skipping.stdout);
    expect(summary).toMatchObject({ rows: 2, inputs: good });
    expect(summary.skipped.map((s: { path: string }) => s.path)).toEqual([broken]);
    const headerLength = fs.readFileSync(out).readUInt16LE(8);
    expect(fs.statSync(out).size).toBe(10 + headerLength + 2 * summary.dim * 4);

    const classify = cli([
      'classify',
      good[0] as string,
      broken,
      '--labels',
      'cat,dog',
      '--model',
      tinyBundle,
      '--skip-errors',
      '--json',
    ]);
    expect(classify.status, classify.stderr).toBe(3);
    const classified = JSON.parse(classify.stdout);
    expect(classified.results.map((r: { file: string }) => r.file)).toEqual([good[0]]);
    expect(classified.skipped).toHaveLength(1);
  });

  it('describes a bundle and an index file', async () => {
    const index = createIndex({ dim: 4 });
    await index.add(new Float32Array([1, 0, 0, 0, 0, 1, 0, 0]));
    const file = path.join(newDir(), 'vectors.index');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    await index.save(file);
    index.dispose();
    const described = cli(['info', file, '--json']);
    expect(described.status, described.stderr).toBe(0);
    expect(JSON.parse(described.stdout).index).toMatchObject({ file, dim: 4, size: 2 });

    const bundle = cli(['info', tinyBundle, '--json']);
    expect(bundle.status, bundle.stderr).toBe(0);
    expect(JSON.parse(bundle.stdout).model.modelType).toBe('clip');
    const missing = cli(['info', path.join(repoRoot, 'no-such-thing')]);
    expect(missing.status).toBe(2);
    expect(errorLine(missing)).toContain('does not exist');
  });
});
