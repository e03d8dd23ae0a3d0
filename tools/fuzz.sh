#!/usr/bin/env bash
# Fuzzes crossmodal_core with libFuzzer under ASan + UBSan (issue #16, docs/fuzzing.md).
#
#   tools/fuzz.sh [seconds-per-target] [target...]      default: 60 s, every target
#   targets: image clip_bpe sentencepiece bundle_config index_file (test/fuzz/<target>_fuzzer.cc)
#
# Idempotent: installs clang's runtimes if needed (tools/setup-fuzz.sh), configures and builds
# build-sanitized/ (tools/sanitized-build.sh), derives the seed corpora from test/fixtures
# (build-sanitized/fuzz-seeds/), then runs each target for the given time on its working corpus
# (build-sanitized/fuzz-corpus/<target>/, kept between runs), the seeds and the committed
# regression inputs (test/fuzz/regressions/<target>/). A crash, leak, timeout or out-of-memory
# input is written to test/fuzz/regressions/<target>/ -- commit it with the fix: the replay test
# (test/native/fuzz_regression_test.cc) then runs it in every `npm test`.
#
# Prints per target the executions, libFuzzer's final coverage (cov: edges, ft: features) and the
# crashes with their reproducer paths; exits 1 when any target crashed (or failed to run).
#
# Environment: CROSSMODAL_BUILD_JOBS (default 2), CROSSMODAL_FUZZ_RSS_MB (default 2048),
# CROSSMODAL_FUZZ_TIMEOUT (seconds per input, default 30), CROSSMODAL_FUZZ_ARGS (extra libFuzzer flags),
# CROSSMODAL_FUZZ_PREBUILT=<dir> (run the crossmodal_fuzz_* binaries in <dir>, skipping the build).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=tools/sanitized-build.sh
. "$root/tools/sanitized-build.sh"

all_targets=(image clip_bpe sentencepiece bundle_config index_file)
seconds=60
if [ $# -gt 0 ] && [[ "$1" =~ ^[0-9]+$ ]]; then
  seconds=$1
  shift
fi
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")
for target in "${targets[@]}"; do
  [[ " ${all_targets[*]} " == *" $target "* ]] || {
    echo "fuzz: unknown target '$target' (targets: ${all_targets[*]})" >&2
    exit 2
  }
done

build_targets=(crossmodal_fuzz_seeds)
for target in "${targets[@]}"; do build_targets+=("crossmodal_fuzz_$target"); done
bin_dir="${CROSSMODAL_FUZZ_PREBUILT:-$sanitized_dir/test/fuzz}"
if [ -z "${CROSSMODAL_FUZZ_PREBUILT:-}" ]; then
  echo "fuzz: building ${build_targets[*]} in ${sanitized_dir#$root/}"
  sanitized_build "${build_targets[@]}"
fi

seeds="$sanitized_dir/fuzz-seeds"
rm -rf "$seeds"
"$bin_dir/crossmodal_fuzz_seeds" "$seeds"

status=0
summary=()
for target in "${targets[@]}"; do
  binary="$bin_dir/crossmodal_fuzz_$target"
  corpus="$sanitized_dir/fuzz-corpus/$target"
  regressions="$root/test/fuzz/regressions/$target"
  log="$sanitized_dir/fuzz-logs/$target.log"
  mkdir -p "$corpus" "$regressions" "$(dirname "$log")"
  before=$(find "$regressions" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | sort)
  echo "fuzz: $target for ${seconds} s (log: ${log#$root/})"
  rc=0
  # The working corpus comes first: libFuzzer adds new inputs to the first directory.
  # shellcheck disable=SC2086
  nice -n 19 "$binary" -max_total_time="$seconds" -print_final_stats=1 \
    -timeout="${CROSSMODAL_FUZZ_TIMEOUT:-30}" -rss_limit_mb="${CROSSMODAL_FUZZ_RSS_MB:-2048}" \
    -artifact_prefix="$regressions/" ${CROSSMODAL_FUZZ_ARGS:-} \
    "$corpus" "$seeds/$target" "$regressions" >"$log" 2>&1 || rc=$?
  execs=$(grep -E '^stat::number_of_executed_units:' "$log" | tail -n1 | awk '{print $2}')
  cov_line=$(grep -E '^#[0-9]+.* cov: [0-9]+' "$log" | tail -n1 || true)
  cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$cov_line")
  ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$cov_line")
  corpus_size=$(find "$corpus" -type f | wc -l)
  after=$(find "$regressions" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | sort)
  new=$(comm -13 <(printf '%s\n' "$before") <(printf '%s\n' "$after") | sed '/^$/d' || true)
  crashes=$(printf '%s' "$new" | grep -c . || true)
  if [ "$rc" -ne 0 ] && [ "$crashes" -eq 0 ]; then
    # A crash on an input already committed (an unfixed regression) writes no new artifact.
    reproducer=$(grep -E 'Test unit written to|^Running: ' "$log" | tail -n1 | sed -E 's/.*(written to|Running:) //' || true)
    crashes=1
    new=${reproducer:-"(see ${log#$root/})"}
  fi
  line=$(printf '%-14s executions %-10s cov %-6s ft %-7s corpus %-6s crashes %s' \
    "$target" "${execs:-?}" "${cov:-?}" "${ft:-?}" "$corpus_size" "$crashes")
  summary+=("$line")
  if [ "$crashes" -gt 0 ] || [ "$rc" -ne 0 ]; then
    status=1
    echo "fuzz: $target FAILED (exit $rc); the reproducer(s):" >&2
    while IFS= read -r file; do
      [ -n "$file" ] || continue
      echo "  $file" >&2
      echo "    reproduce: $binary $file" >&2
    done <<<"$new"
    grep -E '^==[0-9]+==ERROR|^SUMMARY:|runtime error:|invariant violated|uncaught exception|terminate called' "$log" \
      | head -n 5 | sed 's/^/    /' >&2 || true
  fi
done

echo "fuzz: summary (${seconds} s per target, ASan + UBSan)"
printf '  %s\n' "${summary[@]}"
if [ "$status" -ne 0 ]; then
  echo "fuzz: FAILED: crashes were written to test/fuzz/regressions/<target>/ (fix them, then commit the inputs)" >&2
fi
exit "$status"
