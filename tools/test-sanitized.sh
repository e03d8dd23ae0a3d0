#!/usr/bin/env bash
# Builds the C++ unit tests of crossmodal_core (test/native) with ASan + UBSan + LeakSanitizer and
# runs them through CTest (issue #16, docs/fuzzing.md). The tests include the fuzz replay test,
# so every committed regression input and every fuzz seed runs sanitized here too.
#
#   tools/test-sanitized.sh [ctest arguments...]       e.g. -R Exif, --verbose
#
# Shares build-sanitized/ with tools/fuzz.sh (tools/sanitized-build.sh). UBSan findings are fatal
# (-fno-sanitize-recover=undefined); LeakSanitizer reports any definite leak at each test process's
# exit, with suppressions for third-party libraries only (test/fuzz/lsan.supp). Exits with CTest's
# status.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=tools/sanitized-build.sh
. "$root/tools/sanitized-build.sh"

echo "test-sanitized: building crossmodal_core_tests in ${sanitized_dir#$root/} (ASan + UBSan)"
sanitized_build crossmodal_core_tests
nice -n 19 ctest --test-dir "$sanitized_dir" --output-on-failure --parallel "$sanitized_jobs" "$@"
