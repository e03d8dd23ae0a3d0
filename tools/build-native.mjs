#!/usr/bin/env node
// Builds the addon with cmake-js (CMakeLists.txt is the single source of truth) and places the
// result at build/Release/crossmodal.node, where node-gyp-build and prebuildify look for it.
//
// binding.gyp calls this script from its only target, so `node-gyp rebuild` (node-gyp-build's
// build-from-source fallback, prebuildify) and `npm run build:native` produce the same binary.
// CMake's own build tree lives in build-native/, outside node-gyp's build/ (which `node-gyp
// rebuild` deletes), so repeated builds stay incremental.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, existsSync, renameSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const args = process.argv.slice(2);
const debug = args.includes('--debug') || process.env.CROSSMODAL_DEBUG_BUILD === '1';
const outIndex = args.indexOf('--out');
const out = outIndex >= 0 ? resolve(args[outIndex + 1]) : join(root, 'build', 'Release', 'crossmodal.node');

const cmakeJs = join(dirname(require.resolve('cmake-js/package.json')), 'bin', 'cmake-js');
const cmakeArgs = [cmakeJs, 'build', '--directory', root, '--out', join(root, 'build-native')];
if (debug) cmakeArgs.push('--debug');
const jobs = process.env.CROSSMODAL_BUILD_JOBS ?? String(Math.max(1, (await import('node:os')).availableParallelism()));
cmakeArgs.push('--parallel', jobs);
for (const [env, define] of [
  ['CROSSMODAL_ORT_INCLUDE_DIR', 'CROSSMODAL_ORT_INCLUDE_DIR'],
  ['CROSSMODAL_NATIVE_ARCH', 'CROSSMODAL_NATIVE_ARCH'],
  ['CROSSMODAL_WITH_FAISS_GPU', 'CROSSMODAL_WITH_FAISS_GPU'],
]) {
  if (process.env[env]) cmakeArgs.push(`--CD${define}=${process.env[env]}`);
}

const result = spawnSync(process.execPath, cmakeArgs, { cwd: root, stdio: 'inherit' });
if (result.status !== 0) {
  console.error(
    '\ncrossmodal: the native build failed. On Debian/Ubuntu, `sudo tools/setup-native.sh` installs ' +
      'what it needs (cmake, g++, FAISS, OpenBLAS, image codecs, ONNX Runtime headers).',
  );
  process.exit(result.status ?? 1);
}

const built = join(root, 'build-native', debug ? 'Debug' : 'Release', 'crossmodal.node');
const fallback = join(root, 'build-native', 'crossmodal.node');
const source = existsSync(built) ? built : fallback;
mkdirSync(dirname(out), { recursive: true });
// Copy then rename: a process that has the previous addon loaded keeps its mapping of the old
// file; overwriting the file in place would change code under it (SIGBUS or worse).
const temp = `${out}.${process.pid}.tmp`;
copyFileSync(source, temp);
renameSync(temp, out);
console.log(`crossmodal: built ${out}`);
