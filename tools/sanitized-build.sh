#!/usr/bin/env bash
# Sourced by tools/fuzz.sh and tools/test-sanitized.sh: configures and builds the sanitizer build
# directory both share (docs/fuzzing.md), build-sanitized/ (CROSSMODAL_SANITIZED_BUILD_DIR):
# clang 14, CROSSMODAL_SANITIZE=address,undefined, CROSSMODAL_FUZZ=ON (libFuzzer targets) and
# CROSSMODAL_BUILD_TESTS=ON (the C++ unit tests), no addon. -O1 -g without NDEBUG, so asserts stay.
# FAISS is linked against GCC's OpenMP (libgomp), so clang is told to use it too rather than LLVM's
# libomp: two OpenMP runtimes in one process do not mix. FAISS's headers include <omp.h>, which
# only GCC ships here: a copy of it, minus the GCC-only `__malloc__ (deallocator)` attribute
# argument clang 14 rejects, goes alone into a directory on CPLUS_INCLUDE_PATH (GCC's whole include
# directory would shadow clang's own intrinsics headers).
#
#   sanitized_build <cmake target>...    configure (once) and build those targets
#   sanitized_configure <dir> <cmake args>...
#                                        the same toolchain and sanitizers for another build
#                                        directory: tools/test-sanitized-addon.sh builds the Node
#                                        addon this way in build-sanitized-addon/
#
# Environment: CROSSMODAL_BUILD_JOBS (default 2), CROSSMODAL_SANITIZED_BUILD_DIR.
sanitized_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
sanitized_dir="${CROSSMODAL_SANITIZED_BUILD_DIR:-$sanitized_root/build-sanitized}"
sanitized_jobs="${CROSSMODAL_BUILD_JOBS:-2}"

# Sanitizer runtime options for everything run from the build (the fuzzers, the tests).
# LeakSanitizer's suppressions cover third-party libraries only (see the file's comments).
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1:allocator_may_return_null=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$sanitized_root/test/fuzz/lsan.supp:print_suppressions=0}"
if [ -z "${ASAN_SYMBOLIZER_PATH:-}" ] && [ -x /usr/lib/llvm-14/bin/llvm-symbolizer ]; then
  export ASAN_SYMBOLIZER_PATH=/usr/lib/llvm-14/bin/llvm-symbolizer
fi
export CROSSMODAL_FIXTURES="$sanitized_root/test/fixtures"
# Single allocations above this many MB throw std::bad_alloc in the index_file fuzzer and the
# sanitized unit tests (test/fuzz/allocation_cap.cc): FAISS sizes arrays from counts in the file,
# so a few KB of crafted index can ask for gigabytes (a known FAISS limitation, docs/fuzzing.md);
# the cap keeps each such input fast and lets the fuzzer look for other bugs.
export CROSSMODAL_FUZZ_ALLOC_CAP_MB="${CROSSMODAL_FUZZ_ALLOC_CAP_MB:-256}"

# Installs clang 14 when missing, prepares <dir>/omp-include/omp.h and puts it on
# CPLUS_INCLUDE_PATH, then configures <dir> once (later runs keep its cache) with clang 14,
# -O1 -g with asserts, CROSSMODAL_SANITIZE=address,undefined, libgomp as the OpenMP runtime, and
# the extra cmake arguments given.
sanitized_configure() {
  local dir="$1"
  shift
  bash "$sanitized_root/tools/setup-fuzz.sh"
  local gomp
  gomp=$(g++ -print-file-name=libgomp.so)
  mkdir -p "$dir/omp-include"
  sed -E 's/__malloc__ \(omp_free\),? ?//g' "$(g++ -print-file-name=include/omp.h)" >"$dir/omp-include/omp.h.new"
  # Replaced only when it changed, so the objects that include it are not rebuilt every time.
  if cmp -s "$dir/omp-include/omp.h.new" "$dir/omp-include/omp.h"; then
    rm "$dir/omp-include/omp.h.new"
  else
    mv "$dir/omp-include/omp.h.new" "$dir/omp-include/omp.h"
  fi
  export CPLUS_INCLUDE_PATH="$dir/omp-include${CPLUS_INCLUDE_PATH:+:$CPLUS_INCLUDE_PATH}"
  if [ ! -f "$dir/build.ninja" ] && [ ! -f "$dir/Makefile" ]; then
    local generator=()
    command -v ninja >/dev/null && generator=(-G Ninja)
    local ort=()
    [ -n "${CROSSMODAL_ORT_INCLUDE_DIR:-}" ] && ort=("-DCROSSMODAL_ORT_INCLUDE_DIR=$CROSSMODAL_ORT_INCLUDE_DIR")
    cmake -S "$sanitized_root" -B "$dir" --log-level=WARNING "${generator[@]}" "${ort[@]}" \
      -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 \
      -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -g" "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g" \
      -DCROSSMODAL_SANITIZE=address,undefined \
      -DOpenMP_C_FLAGS=-fopenmp=libgomp -DOpenMP_CXX_FLAGS=-fopenmp=libgomp \
      -DOpenMP_C_LIB_NAMES=gomp -DOpenMP_CXX_LIB_NAMES=gomp "-DOpenMP_gomp_LIBRARY=$gomp" "$@"
  fi
}

sanitized_build() {
  sanitized_configure "$sanitized_dir" -DCROSSMODAL_BUILD_ADDON=OFF -DCROSSMODAL_BUILD_TESTS=ON -DCROSSMODAL_FUZZ=ON
  cmake --build "$sanitized_dir" --parallel "$sanitized_jobs" --target "$@"
}
