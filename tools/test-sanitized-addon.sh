#!/usr/bin/env bash
# Builds the Node addon (crossmodal.node) with ASan + UBSan and runs vitest suites that drive it
# (issue #16, docs/fuzzing.md, "The sanitized addon"): the N-API layer and the core as the
# TypeScript API calls them, which the C++ unit tests and the fuzzers do not reach.
#
#   tools/test-sanitized-addon.sh                 the test files in SUITES below (CI runs this)
#   tools/test-sanitized-addon.sh test/x.test.ts  chosen files (any vitest arguments)
#   tools/test-sanitized-addon.sh --build-only    only (re)build the addon
#
# The addon is built in build-sanitized-addon/ (CROSSMODAL_SANITIZED_ADDON_DIR) with the same
# toolchain setup as build-sanitized/ (tools/sanitized-build.sh), but without the fuzzers'
# coverage instrumentation, and linked against the shared ASan runtime (-shared-libasan): node is
# not instrumented, so the runtime cannot be linked into it and must be preloaded instead
# (LD_PRELOAD), before anything allocates. UBSan's handlers are part of that runtime.
# lib/binding.ts loads the addon named by CROSSMODAL_ADDON_PATH instead of node-gyp-build's pick;
# before the tests, a node process with their environment must have the sanitized file and the
# runtime mapped.
# Any sanitizer report aborts the test process and fails the run (see ASAN_OPTIONS below).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=tools/sanitized-build.sh
. "$root/tools/sanitized-build.sh"
addon_dir="${CROSSMODAL_SANITIZED_ADDON_DIR:-$root/build-sanitized-addon}"

# Files that exercise the native code broadly (every index type, hostile and crafted inputs,
# image decoding and preprocessing, all tokenizers, models, their failures, cancellation and
# stats, Workers, 10,000 concurrent calls) and finish in 3.5 to 6 minutes under ASan on 2 cores
# (docs/fuzzing.md has the measurements). Left out: index-recall (minutes of flat/HNSW searches),
# load-dispose-cycles (over 5 minutes, and its RSS bounds do not hold with ASan's quarantine),
# the soak and kill tests, the model-quality checks and the files that mostly test TypeScript
# (CLI, collection stores, evaluation metrics).
SUITES=(
  test/index-concurrency.test.ts
  test/index-flat.test.ts
  test/index-hnsw-search.test.ts
  test/index-ops.test.ts
  test/index-persistence.test.ts
  test/index-safety.test.ts
  test/hostile-input.test.ts
  test/image-safety.test.ts
  test/image-bombs.test.ts
  test/image-probe.test.ts
  test/special-files.test.ts
  test/bundle-limits.test.ts
  test/embeddings.test.ts
  test/encoder-runtime.test.ts
  test/model-stats.test.ts
  test/tokenizer-clip.test.ts
  test/tokenizer-sentencepiece.test.ts
  test/preprocess.test.ts
  test/model-runtime-failures.test.ts
  test/worker-threads.test.ts
  test/stress-10k-calls.test.ts
)

build_only=0
args=()
case "${1:-}" in
  --build-only) build_only=1 ;;
  "") args=("${SUITES[@]}") ;;
  *) args=("$@") ;;
esac

echo "test-sanitized-addon: building crossmodal.node in ${addon_dir#$root/} (ASan + UBSan)"
napi_include=$(node -p "require('node-api-headers').include_dir")
addon_api_include=$(node -p "require('node-addon-api').include_dir")
case "$addon_api_include" in /*) ;; *) addon_api_include="$root/$addon_api_include" ;; esac
# What cmake-js would pass (tools/build-native.mjs): the Node-API and node-addon-api headers and
# BUILDING_NODE_EXTENSION; CMAKE_JS_SRC and CMAKE_JS_LIB are empty on Linux.
sanitized_configure "$addon_dir" -DCROSSMODAL_BUILD_ADDON=ON -DCROSSMODAL_BUILD_TESTS=OFF -DCROSSMODAL_FUZZ=OFF \
  "-DCMAKE_JS_INC=$napi_include;$addon_api_include" -DCMAKE_CXX_FLAGS=-DBUILDING_NODE_EXTENSION \
  -DCMAKE_SHARED_LINKER_FLAGS=-shared-libasan
nice -n 19 cmake --build "$addon_dir" --parallel "$sanitized_jobs" --target crossmodal
addon="$addon_dir/crossmodal.node"
[ "$build_only" -eq 1 ] && exit 0

# worker-threads and index-hnsw-search load dist/cjs in their Workers and child processes, so the
# compiled TypeScript must be current (and honour CROSSMODAL_ADDON_PATH) too.
if [ ! -f dist/cjs/index.js ] || [ -n "$(find lib -name '*.ts' -newer dist/cjs/index.js -print -quit)" ]; then
  echo "test-sanitized-addon: compiling the TypeScript (npm run build:ts)"
  nice -n 19 npm run build:ts --silent
fi

# node and everything it starts (vitest's forks, the tests' child processes and Workers) inherit
# these. The runtime comes first so that it initialises before node allocates anything.
asan_runtime=$(clang-14 -print-file-name=libclang_rt.asan-x86_64.so)
[ -f "$asan_runtime" ] || { echo "test-sanitized-addon: $asan_runtime not found" >&2; exit 1; }
logs="$addon_dir/sanitizer-logs"
rm -rf "$logs"
mkdir -p "$logs"
export LD_PRELOAD="$asan_runtime${LD_PRELOAD:+:$LD_PRELOAD}"
export CROSSMODAL_ADDON_PATH="$addon"
# detect_leaks=0: node does not free everything at exit, and most of what LeakSanitizer would
#   report here is V8's and node's; leaks in the core are covered by tools/test-sanitized.sh.
# abort_on_error=1: a report ends the process with SIGABRT, which a test's child process or
#   vitest's fork cannot mistake for a normal exit.
# log_path: reports go to files, report.<pid>, which fail the run below and are printed then,
#   even when the process that wrote one had its stderr captured (execFileSync) or vitest missed
#   its death. UBSan reads the option too: with the same value, its reports land there as well.
# The remaining checks are tools/sanitized-build.sh's.
export ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1:log_path=$logs/report"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:abort_on_error=1:log_path=$logs/report"

# The sanitized addon must be what the package loads: nativeInfo() names it, and the process has
# both it and the ASan runtime mapped (not build/Release's addon).
node -e '
  const info = require("./dist/cjs/index.js").nativeInfo();
  const maps = require("node:fs").readFileSync("/proc/self/maps", "utf8");
  const [addon, runtime] = process.argv.slice(1);
  const problems = [];
  if (info.path !== addon) problems.push(`nativeInfo().path is ${info.path}`);
  if (!maps.includes(addon)) problems.push(`${addon} is not mapped`);
  if (!maps.includes(runtime)) problems.push(`${runtime} is not mapped`);
  if (problems.length) {
    console.error(`test-sanitized-addon: the sanitized addon is not the one loaded: ${problems.join("; ")}`);
    process.exit(1);
  }
' "$addon" "$asan_runtime"
nm -D --undefined-only "$addon" | grep -q ' __asan_init' ||
  { echo "test-sanitized-addon: $addon is not built with ASan" >&2; exit 1; }

echo "test-sanitized-addon: vitest with $(basename "$addon") from ${addon_dir#$root/} (LD_PRELOAD=$asan_runtime)"
start=$(date +%s)
status=0
# The JSON report goes next to the addon, not to build/test-results.json (npm test's, which
# .ci/run summarises).
rm -f "$addon_dir/test-results.json"
nice -n 19 npx vitest run --outputFile.json="$addon_dir/test-results.json" "${args[@]}" || status=$?
[ "$status" -eq 0 ] || echo "test-sanitized-addon: vitest failed (exit status $status)" >&2
if [ -n "$(find "$logs" -type f -print -quit)" ]; then
  echo "test-sanitized-addon: sanitizer reports:" >&2
  for report in "$logs"/*; do
    echo "--- $report" >&2
    cat "$report" >&2
  done
  status=1
fi
if [ -f "$addon_dir/test-results.json" ]; then
  node -e 'const r = require(process.argv[1]);
    console.log(`test-sanitized-addon: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ` +
      `${r.numPendingTests + r.numTodoTests} skipped in ${r.testResults.length} files`);' "$addon_dir/test-results.json"
fi
echo "test-sanitized-addon: vitest took $(($(date +%s) - start)) s"
exit "$status"
