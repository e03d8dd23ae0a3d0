// The published package, installed the way the README tells CPU servers to install it: packed with
// `npm pack`, installed into an empty project whose package.json denies onnxruntime-node's
// download script (npm 11 allowScripts), then used through its bin.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { repoRoot, scratchDirs } from './helpers';

const newDir = scratchDirs('crossmodal-pack-');
const npm = 'npm';

/** Runs a command without blocking the test worker's event loop (vitest talks to it meanwhile). */
async function run(
  cmd: string,
  args: string[],
  options: { cwd: string; timeout: number },
): Promise<{ status: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(cmd, args, {
      ...options,
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    });
    return { status: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: unknown; stdout?: string; stderr?: string };
    return {
      status: typeof e.code === 'number' ? e.code : 1,
      stdout: e.stdout ?? '',
      stderr: e.stderr ?? String(error),
    };
  }
}

describe('installed from the packed tarball', () => {
  it('installs without onnxruntime-node downloading, and runs the demo and a search', async () => {
    const dir = newDir();
    fs.mkdirSync(dir, { recursive: true });
    const packing = await run(npm, ['pack', '--json', '--pack-destination', dir], { cwd: repoRoot, timeout: 300_000 });
    expect(packing.status, packing.stderr).toBe(0);
    const packed = JSON.parse(packing.stdout)[0];
    const tarball = path.join(dir, packed.filename as string);
    const files = (packed.files as { path: string }[]).map((f) => f.path);
    // What a user's install needs is in the tarball; what only maintainers need is not.
    for (const needed of [
      'dist/cjs/index.js',
      'dist/cjs/cli/main.js',
      'models/shapes-clip/config.json',
      'models/shapes-gallery/gallery.json',
      'tools/setup-native.sh',
      'tools/debian-mirror.sh',
      'tools/debian-packages.sh',
      'CMakeLists.txt',
      'binding.gyp',
    ]) {
      expect(files, needed).toContain(needed);
    }
    expect(files.some((f) => f.startsWith('prebuilds/') && f.endsWith('.node'))).toBe(true);
    expect(files.some((f) => f.startsWith('test/'))).toBe(false);
    expect(files.some((f) => f.startsWith('models/training/'))).toBe(false);

    const project = path.join(dir, 'app');
    fs.mkdirSync(project);
    fs.writeFileSync(
      path.join(project, 'package.json'),
      JSON.stringify(
        { name: 'app', version: '1.0.0', private: true, allowScripts: { 'onnxruntime-node': false } },
        null,
        2,
      ),
    );
    // This machine reaches the npm registry and nothing else, like a locked-down server: the CUDA
    // download onnxruntime-node's script would attempt fails here, so a passing install shows it
    // did not run. --prefer-offline: packages come from the npm cache when they are there.
    const install = await run(npm, ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], {
      cwd: project,
      timeout: 600_000,
    });
    expect(install.status, `${install.stdout}\n${install.stderr}`).toBe(0);
    const ortBin = path.join(project, 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6', 'linux', 'x64');
    expect(fs.existsSync(path.join(ortBin, 'libonnxruntime.so.1'))).toBe(true);
    expect(fs.existsSync(path.join(ortBin, 'libonnxruntime_providers_cuda.so'))).toBe(false);

    const demo = await run(
      'npx',
      ['--no-install', 'crossmodal', 'demo', '--json', '--out', path.join(project, 'results.html')],
      { cwd: project, timeout: 240_000 },
    );
    expect(demo.status, demo.stderr).toBe(0);
    const report = JSON.parse(demo.stdout);
    // The installed package runs its own bundled model and gallery, not the repository's.
    expect(fs.existsSync(path.join(project, 'results.html'))).toBe(true);
    const correct = report.queries
      .flatMap((q: { hits: { correct: boolean }[] }) => q.hits)
      .filter((h: { correct: boolean }) => h.correct).length;
    const total = report.queries.flatMap((q: { hits: unknown[] }) => q.hits).length;
    // Far above chance (a random scene fits a query about one time in ten), as the model card says.
    expect(correct / total).toBeGreaterThan(0.4);
    expect(report.recall.textToImage['10']).toBeGreaterThanOrEqual(0.8);

    const gallery = path.join(project, 'node_modules', 'crossmodal', 'models', 'shapes-gallery');
    const index = await run(
      'npx',
      ['--no-install', 'crossmodal', 'index', gallery, '--collection', 'shapes', '--json'],
      { cwd: project, timeout: 240_000 },
    );
    expect(index.status, index.stderr).toBe(0);
    expect(JSON.parse(index.stdout).added).toBeGreaterThan(100);
    const search = await run(
      'npx',
      ['--no-install', 'crossmodal', 'search', 'shapes', 'a red circle', '-k', '3', '--json'],
      { cwd: project, timeout: 120_000 },
    );
    expect(search.status, search.stderr).toBe(0);
    expect(JSON.parse(search.stdout).hits).toHaveLength(3);
  }, 900_000);
});
