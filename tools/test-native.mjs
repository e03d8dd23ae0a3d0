#!/usr/bin/env node
// Builds and runs the C++ unit tests of crossmodal_core (test/native, GoogleTest) through CTest.
//
// The tests get their own CMake build directory, build-native-tests/ (CROSSMODAL_BUILD_TESTS=ON,
// CROSSMODAL_BUILD_ADDON=OFF), so the addon's build in build-native/ stays lean and both stay
// incremental. Exits with CTest's status, so `npm test` fails when a C++ test fails.
//
//   node tools/test-native.mjs [ctest arguments...]     e.g. -R Exif, --verbose
//   CROSSMODAL_BUILD_JOBS=2                             parallel compile jobs (default: all cores)
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const buildDir = join(root, 'build-native-tests');
const jobs = process.env.CROSSMODAL_BUILD_JOBS ?? String(Math.max(1, availableParallelism()));

function run(command, args) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (result.error) {
    console.error(`test-native: cannot run ${command}: ${result.error.message} (tools/setup-native.sh installs it)`);
    process.exit(1);
  }
  if (result.status !== 0) process.exit(result.status ?? 1);
}

// npm test runs vitest after this script, and .ci/run prints vitest's counts from
// build/test-results.json: drop the previous run's file so a C++ failure (which stops npm test
// before vitest) cannot be reported with stale counts.
rmSync(join(root, 'build', 'test-results.json'), { force: true });

const defines = ['-DCROSSMODAL_BUILD_TESTS=ON', '-DCROSSMODAL_BUILD_ADDON=OFF', '-DCMAKE_BUILD_TYPE=Release'];
if (process.env.CROSSMODAL_ORT_INCLUDE_DIR)
  defines.push(`-DCROSSMODAL_ORT_INCLUDE_DIR=${process.env.CROSSMODAL_ORT_INCLUDE_DIR}`);
// Ninja when available (faster no-op rebuilds), else CMake's default generator.
const generator =
  spawnSync('ninja', ['--version']).status === 0 && !existsSync(join(buildDir, 'Makefile')) ? ['-G', 'Ninja'] : [];
run('cmake', ['-S', root, '-B', buildDir, '--log-level=WARNING', ...generator, ...defines]);
run('cmake', ['--build', buildDir, '--parallel', jobs]);
run('ctest', ['--test-dir', buildDir, '--output-on-failure', '--parallel', jobs, ...process.argv.slice(2)]);
