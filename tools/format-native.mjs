#!/usr/bin/env node
// Formats (--write) or checks (--check) the C++ sources with clang-format and the repository's
// .clang-format. Only files tracked by git are touched, so generated sources, deps/ and build trees
// never are. Uses Debian's clang-format (installed by tools/setup-native.sh); CLANG_FORMAT overrides
// the binary.
//
//   node tools/format-native.mjs --check   exit 1 and list the files whose formatting differs
//   node tools/format-native.mjs --write   rewrite them in place
import { execFileSync, spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const mode = process.argv[2];
if (mode !== '--check' && mode !== '--write') {
  console.error('usage: node tools/format-native.mjs --check|--write');
  process.exit(2);
}
const clangFormat = process.env.CLANG_FORMAT || 'clang-format';

// The C++ code lives in native/ (addon and core library), test/native/ (GoogleTest), and a few
// standalone programs under bench/ and tools/; pathspecs keep vendored or generated code out.
// Tracked files and new ones git does not ignore (`--others --exclude-standard`): a file created
// in the same change as it is formatted and committed was otherwise skipped and landed unformatted.
const pathspecs = ['*.cc', '*.h', '*.cpp', '*.hpp'];
const listing = ['ls-files', '-z', '--cached', '--others', '--exclude-standard', '--', ...pathspecs];
const files = execFileSync('git', listing, { cwd: root, encoding: 'utf8' })
  .split('\0')
  .filter((file) => file.length > 0);

const version = spawnSync(clangFormat, ['--version'], { encoding: 'utf8' });
if (version.error || version.status !== 0) {
  console.error(`format-native: ${clangFormat} not found; run tools/setup-native.sh (installs Debian's clang-format)`);
  process.exit(2);
}

// clang-format takes many files per call; batches keep the command line well under ARG_MAX.
const batchSize = 100;
let failed = false;
for (let i = 0; i < files.length; i += batchSize) {
  const batch = files.slice(i, i + batchSize);
  const args =
    mode === '--write' ? ['-i', '--style=file', ...batch] : ['--dry-run', '--Werror', '--style=file', ...batch];
  const result = spawnSync(clangFormat, args, { cwd: root, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    failed = true;
    if (mode === '--check') {
      // Each violation is reported as "file:line:col: error: code should be clang-formatted";
      // print one line per file rather than every hunk.
      const offenders = new Set([...result.stderr.matchAll(/^(.+?):\d+:\d+: error:/gm)].map((match) => match[1]));
      for (const file of offenders) console.error(`format-native: not formatted: ${file}`);
      if (offenders.size === 0) process.stderr.write(result.stderr);
    } else {
      process.stderr.write(result.stderr);
    }
  }
}
if (failed && mode === '--check') {
  console.error('format-native: run `npm run format` to fix');
  process.exit(1);
}
if (failed) process.exit(1);
console.log(`format-native: ${files.length} C++ files ${mode === '--write' ? 'formatted' : 'formatted correctly'}`);
