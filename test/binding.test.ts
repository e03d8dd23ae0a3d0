// Packaging: the prebuilt addon loads, both module systems work, ONNX Runtime is found at run time.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRuntime, nativeInfo } from '../lib/index';
import { repoRoot, tinyBundle } from './helpers';

const distCjs = path.join(repoRoot, 'dist', 'cjs', 'index.js');
const distEsm = path.join(repoRoot, 'dist', 'esm', 'index.mjs');

function runNode(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, args, {
    cwd: repoRoot,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 60_000,
  });
}

describe('native addon', () => {
  it('loads the stripped prebuilt binary from prebuilds/ when PREBUILDS_ONLY=1', () => {
    const dir = path.join(repoRoot, 'prebuilds', `${process.platform}-${process.arch}`);
    const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.node')) : [];
    expect(files.length, `no prebuilt binary in ${dir}: run npm run prebuild`).toBeGreaterThan(0);
    const out = runNode(
      ['-e', `const m = require(${JSON.stringify(distCjs)}); console.log(JSON.stringify(m.nativeInfo()))`],
      // CROSSMODAL_ADDON_PATH (set by tools/test-sanitized-addon.sh) would override prebuilds/.
      { PREBUILDS_ONLY: '1', CROSSMODAL_ADDON_PATH: '' },
    );
    expect(out.status, out.stderr).toBe(0);
    const info = JSON.parse(out.stdout) as { path: string; napiVersion: number };
    expect(path.relative(dir, info.path).startsWith('..')).toBe(false);
    expect(info.napiVersion).toBe(8);
    // Stripped: no symbol table left.
    const symbols = spawnSync('nm', [info.path], { encoding: 'utf8' });
    expect(symbols.stderr + symbols.stdout).toMatch(/no symbols/);
  });

  it('does not link ONNX Runtime at build time', () => {
    const deps = execFileSync('ldd', [nativeInfo().path], { encoding: 'utf8' });
    expect(deps).not.toMatch(/onnxruntime/);
    expect(deps).not.toMatch(/not found/);
  });

  it('works through require() and import', () => {
    const cjs = runNode([
      '-e',
      `const m = require(${JSON.stringify(distCjs)}); console.log(typeof m.load, typeof m.createIndex)`,
    ]);
    expect(cjs.status, cjs.stderr).toBe(0);
    expect(cjs.stdout.trim()).toBe('function function');
    const esm = runNode([
      '--input-type=module',
      '-e',
      `import { load, createIndex, CrossmodalError } from ${JSON.stringify(distEsm)};
       const index = createIndex({ dim: 2 });
       await index.add(new Float32Array([1, 0]));
       try { createIndex({ dim: -1 }); } catch (e) { console.log(e instanceof CrossmodalError, e.code, typeof load, index.size); }`,
    ]);
    expect(esm.status, esm.stderr).toBe(0);
    expect(esm.stdout.trim()).toBe('true ERR_INVALID_ARGUMENT function 1');
  });
});

describe('ONNX Runtime loading', () => {
  it("loads onnxruntime-node's library by default and reports its version and path", async () => {
    const info = await loadRuntime();
    const expectedVersion = (
      JSON.parse(fs.readFileSync(require.resolve('onnxruntime-node/package.json'), 'utf8')) as { version: string }
    ).version;
    expect(info.version).toBe(expectedVersion);
    expect(info.path).toContain(path.join('onnxruntime-node', 'bin'));
    expect(info.availableProviders).toContain('CPUExecutionProvider');
  });

  it('honours CROSSMODAL_ORT_LIBRARY and fails clearly for a bad path', () => {
    const out = runNode(
      [
        '-e',
        `require(${JSON.stringify(distCjs)}).load(${JSON.stringify(tinyBundle)}).then(() => console.log('loaded'), (e) => console.log(e.code, e.message))`,
      ],
      { CROSSMODAL_ORT_LIBRARY: '/nonexistent/libonnxruntime.so.1' },
    );
    expect(out.status, out.stderr).toBe(0);
    expect(out.stdout).toMatch(/^ERR_RUNTIME_UNAVAILABLE .*\/nonexistent\/libonnxruntime\.so\.1/);
  });

  it('refuses a library that is not ONNX Runtime', () => {
    const notOrt = execFileSync('sh', ['-c', 'ldconfig -p | grep -m1 -o "/[^ ]*libz.so.1$"'], {
      encoding: 'utf8',
    }).trim();
    const out = runNode(
      [
        '-e',
        `require(${JSON.stringify(distCjs)}).loadRuntime().then(() => console.log('loaded'), (e) => console.log(e.code, e.message))`,
      ],
      { CROSSMODAL_ORT_LIBRARY: notOrt },
    );
    expect(out.stdout).toMatch(/^ERR_RUNTIME_UNAVAILABLE .*OrtGetApiBase/);
  });
});

describe('load failures', () => {
  it('names the platform and what to install when no binary fits', () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'crossmodal-nobinary-'));
    fs.copyFileSync(path.join(repoRoot, 'package.json'), path.join(tmp, 'package.json'));
    fs.cpSync(path.join(repoRoot, 'dist'), path.join(tmp, 'dist'), { recursive: true });
    fs.symlinkSync(path.join(repoRoot, 'node_modules'), path.join(tmp, 'node_modules'));
    // A copy of the package without build/ or prebuilds/.
    const res = spawnSync(
      process.execPath,
      [
        '-e',
        `try { require('./dist/cjs/index.js').nativeInfo(); console.log('loaded'); } catch (e) { console.log(e.code); console.log(e.message); }`,
      ],
      {
        cwd: tmp,
        encoding: 'utf8',
        env: { ...process.env, CROSSMODAL_ADDON_PATH: '' },
      },
    );
    expect(res.status, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/^ERR_NATIVE_BINDING/);
    expect(res.stdout).toContain(`${process.platform}-${process.arch}`);
    expect(res.stdout).toMatch(/apt-get install/);
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  // tools/test-sanitized-addon.sh relies on this to run the suites against the sanitized build.
  it('loads the addon file named by CROSSMODAL_ADDON_PATH instead of the default', () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'crossmodal-addon-path-'));
    const copy = path.join(tmp, 'other.node');
    fs.copyFileSync(nativeInfo().path, copy);
    const script =
      `const info = require(${JSON.stringify(distCjs)}).nativeInfo();` +
      `const maps = require('node:fs').readFileSync('/proc/self/maps', 'utf8');` +
      `console.log(JSON.stringify({ path: info.path, mapped: maps.includes(${JSON.stringify(copy)}) }));`;
    const res = runNode(['-e', script], { CROSSMODAL_ADDON_PATH: copy });
    expect(res.status, res.stderr).toBe(0);
    expect(JSON.parse(res.stdout)).toEqual({ path: copy, mapped: process.platform === 'linux' });
    const missing = path.join(tmp, 'missing.node');
    const failed = runNode(
      ['-e', `try { require(${JSON.stringify(distCjs)}).nativeInfo(); } catch (e) { console.log(e.code, e.message); }`],
      { CROSSMODAL_ADDON_PATH: missing },
    );
    expect(failed.stdout).toMatch(/^ERR_NATIVE_BINDING /);
    expect(failed.stdout).toContain(missing);
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('uses the ONNX Runtime library named by CROSSMODAL_ORT_LIBRARY', () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'crossmodal-ort-'));
    const link = path.join(tmp, 'libonnxruntime.so.1');
    const shipped = path.join(
      path.dirname(require.resolve('onnxruntime-node/package.json')),
      'bin',
      'napi-v6',
      'linux',
      'x64',
      'libonnxruntime.so.1',
    );
    fs.symlinkSync(shipped, link);
    const out = runNode(
      [
        '-e',
        `require(${JSON.stringify(distCjs)}).loadRuntime().then((i) => console.log(i.path), (e) => console.log(e.code))`,
      ],
      {
        CROSSMODAL_ORT_LIBRARY: link,
      },
    );
    expect(out.stdout.trim()).toBe(link);
    fs.rmSync(tmp, { recursive: true, force: true });
  });
});
