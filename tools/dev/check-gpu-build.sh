#!/usr/bin/env bash
# Compile-checks crossmodal's GPU search path (CROSSMODAL_WITH_FAISS_GPU) on a machine that has no
# GPU, no CUDA toolkit and no CUDA-enabled FAISS. It cannot link or run that path; it proves that
# the code is valid C++ against the real headers it will be built with:
#
#   - FAISS 1.7.3's own GPU headers (faiss/gpu/*.h), from Debian's source package `faiss`
#     (bookworm, 1.7.3-2; Debian builds it CPU-only, but the upstream tarball carries faiss/gpu/);
#   - the CUDA 11.8 runtime and cuBLAS headers from Debian's `nvidia-cuda-dev` (bookworm non-free;
#     a ~775 MB download of which only usr/include, ~14 MB, is kept).
#
# Both are fetched once with a private apt configuration into deps/ (git-ignored), the way
# tools/setup-native.sh fetches the ONNX Runtime headers: nothing is installed system-wide.
#
# Then every native source is compiled (-fsyntax-only, -Werror) with CROSSMODAL_WITH_FAISS_GPU=1,
# since the definition changes AnnIndex's layout for every file that includes it, plus
# native/search/gpu_replica.cc, which only GPU builds compile. gpu_replica.cc is also compiled to an
# object whose undefined faiss::gpu symbols are each looked up in FAISS's GPU sources, a stand-in
# for the link that needs a real CUDA-enabled libfaiss.
#
# --run-without-device goes one step further where a CUDA runtime library (libcudart.so) is on
# disk, even without a GPU or driver: it links a GPU-mode addon (every source compiled with
# CROSSMODAL_WITH_FAISS_GPU=1, Debian's CPU-only libfaiss, the real libcudart, and TEST-ONLY stubs
# for the faiss::gpu symbols, tools/dev/gpu-check/faiss_gpu_link_stubs.cc, which abort if ever called)
# and runs the index test suites against it in build/gpu-check/pkg/. That executes the GPU build's
# device discovery and CPU fallback for real; the replica itself still needs a CUDA device.
#
#   tools/dev/check-gpu-build.sh                        fetch if needed, then compile-check
#   tools/dev/check-gpu-build.sh --fetch                only fetch
#   tools/dev/check-gpu-build.sh --run-without-device   compile-check, then link and run as above
set -euo pipefail
mode="${1:-}"
case "$mode" in
  ""|--fetch|--run-without-device) ;;
  *) echo "check-gpu-build: unknown argument $mode" >&2; exit 2 ;;
esac

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=tools/debian-mirror.sh
. "$root/tools/debian-mirror.sh"
cd "$root"
deps="$root/deps"
faiss_src="$deps/faiss-src/faiss-1.7.3"
cuda_inc="$deps/cuda/usr/include"
log() { printf 'check-gpu-build: %s\n' "$*"; }

fetch() {
  [ -f "$faiss_src/faiss/gpu/GpuCloner.h" ] && [ -f "$cuda_inc/cuda_runtime_api.h" ] && [ -f "$cuda_inc/cublas_v2.h" ] && return
  local apt_dir="$deps/.apt-gpu"
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
  # The mirror this machine already uses for bookworm.
  local mirror
  mirror=$(debian_mirror)
  [ -n "$mirror" ] || { echo "check-gpu-build: cannot find the configured Debian mirror" >&2; exit 1; }
  local keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  cat >"$apt_dir/sources.list" <<EOF
deb [signed-by=$keyring] $mirror bookworm main contrib non-free
deb-src [signed-by=$keyring] $mirror bookworm main
EOF
  local apt_opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
                  -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache" -o APT::Sandbox::User=root)
  log "updating a private apt index (bookworm main/contrib/non-free + sources)"
  apt-get "${apt_opts[@]}" update -qq

  if [ ! -f "$faiss_src/faiss/gpu/GpuCloner.h" ]; then
    log "fetching the FAISS source package ($(apt-cache "${apt_opts[@]}" showsrc faiss | awk '/^Version:/ {print $2; exit}'))"
    mkdir -p "$deps/faiss-src"
    (cd "$deps/faiss-src" && apt-get "${apt_opts[@]}" source --download-only faiss >/dev/null)
    tar xzf "$(ls "$deps"/faiss-src/faiss_1.7.3.orig.tar.gz)" -C "$deps/faiss-src"
  fi
  if [ ! -f "$cuda_inc/cuda_runtime_api.h" ] || [ ! -f "$cuda_inc/cublas_v2.h" ]; then
    log "fetching CUDA headers (nvidia-cuda-dev $(apt-cache "${apt_opts[@]}" show nvidia-cuda-dev | awk '/^Version:/ {print $2; exit}'); only usr/include is kept)"
    (cd "$apt_dir" && apt-get "${apt_opts[@]}" download nvidia-cuda-dev >/dev/null)
    mkdir -p "$deps/cuda"
    dpkg-deb --fsys-tarfile "$(ls "$apt_dir"/nvidia-cuda-dev_*.deb | head -n1)" | tar x -C "$deps/cuda" --wildcards './usr/include/*'
    rm -f "$apt_dir"/nvidia-cuda-dev_*.deb
  fi
  rm -rf "$apt_dir/lists" "$apt_dir/cache"
  [ -f "$faiss_src/faiss/gpu/GpuCloner.h" ] || { echo "check-gpu-build: FAISS GPU headers missing after download" >&2; exit 1; }
  [ -f "$cuda_inc/cuda_runtime_api.h" ] || { echo "check-gpu-build: CUDA headers missing after download" >&2; exit 1; }
}

fetch
[ "$mode" = "--fetch" ] && exit 0

# The include paths of the real build (CMakeLists.txt), with FAISS's source tree in front of the
# system FAISS (same 1.7.3 headers, plus faiss/gpu/) and the CUDA headers after it.
napi_dir=$(node -p "require('path').resolve(require('node-addon-api').include_dir)")
napi_headers=$(node -p "require('node-api-headers').include_dir")
ort_inc="${CROSSMODAL_ORT_INCLUDE_DIR:-$deps/onnxruntime/usr/include/onnxruntime}"
[ -f "$ort_inc/onnxruntime_cxx_api.h" ] || { echo "check-gpu-build: ONNX Runtime headers missing: run tools/setup-native.sh" >&2; exit 1; }
flags=(-std=c++17 -fopenmp -fexceptions -Wall -Wextra -Wno-unused-parameter -Werror
       -DCROSSMODAL_WITH_FAISS_GPU=1 -DNAPI_VERSION=8 -DNODE_ADDON_API_DISABLE_DEPRECATED -DNAPI_CPP_EXCEPTIONS
       -DNODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS -DORT_API_MANUAL_INIT -DBUILDING_NODE_EXTENSION
       -I"$root/native" -I"$napi_headers" -I"$napi_dir"
       -isystem "$faiss_src" -isystem "$cuda_inc" -isystem "$ort_inc")

mapfile -t sources < <(find native -name '*.cc' | sort)
log "compiling ${#sources[@]} sources with CROSSMODAL_WITH_FAISS_GPU=1 (-fsyntax-only -Werror)"
failed=0
jobs=$(nproc)
printf '%s\n' "${sources[@]}" | xargs -P "$jobs" -I{} sh -c 'g++ "$@" -fsyntax-only {} || { echo "FAILED: {}" >&2; exit 255; }' _ "${flags[@]}" || failed=1
[ "$failed" = 0 ] || { echo "check-gpu-build: compile errors (above)" >&2; exit 1; }
# The files the GPU path adds, by name, so a rename cannot silently shrink the check.
for f in native/search/gpu_replica.cc native/search/ann_index.cc; do
  printf '%s\n' "${sources[@]}" | grep -qx "$f" || { echo "check-gpu-build: $f is missing" >&2; exit 1; }
done

# Every faiss::gpu / CUDA symbol gpu_replica.cc needs from the libraries must exist there.
obj=$(mktemp --suffix=.o)
trap 'rm -f "$obj"' EXIT
g++ "${flags[@]}" -O1 -c native/search/gpu_replica.cc -o "$obj"
missing=0
while IFS= read -r sym; do
  case "$sym" in
    faiss::gpu::*)
      # e.g. "faiss::gpu::index_cpu_to_gpu(...)" → look for the definition "index_cpu_to_gpu(" or
      # "Class::method(" in FAISS's GPU sources.
      name=${sym%%(*}
      short=${name#faiss::gpu::}
      if ! grep -rqsF -- "${short}(" "$faiss_src/faiss/gpu" --include='*.cpp' --include='*.cu'; then
        echo "check-gpu-build: no definition of $sym in FAISS's GPU sources" >&2
        missing=1
      else
        log "  defined in FAISS 1.7.3 GPU sources: $name"
      fi ;;
    cuda*)
      grep -qsw -- "${sym%%(*}" "$cuda_inc/cuda_runtime_api.h" || { echo "check-gpu-build: $sym not in cuda_runtime_api.h" >&2; missing=1; }
      log "  declared by the CUDA runtime API: ${sym%%(*}" ;;
  esac
done < <(nm -uC "$obj" | awk '{ $1=""; sub(/^ /, ""); print }' | grep -E '^(faiss::gpu::|cuda)' | sort -u)
[ "$missing" = 0 ] || exit 1
log "ok: the GPU path compiles against FAISS $(basename "$faiss_src" | sed 's/faiss-//') GPU headers and CUDA $(awk '/#define CUDART_VERSION/ {print $3}' "$cuda_inc/cuda_runtime_api.h")"

[ "$mode" = "--run-without-device" ] || exit 0

cudart=""
for dir in ${CUDA_HOME:+"$CUDA_HOME/lib64" "$CUDA_HOME/lib"} /usr/local/cuda/lib64 /usr/local/cuda/lib \
           /usr/local/cuda-*/lib64 /usr/local/cuda-*/lib /usr/lib/x86_64-linux-gnu; do
  if [ -e "$dir/libcudart.so" ]; then cudart="$dir"; break; fi
done
if [ -z "$cudart" ]; then
  log "no CUDA runtime library (libcudart.so) on this machine: nothing to run (set CUDA_HOME to use one)"
  exit 0
fi
out="$root/build/gpu-check"
rm -rf "$out"
mkdir -p "$out/obj" "$out/pkg/build/Release" "$out/pkg/test"
log "building a GPU-mode addon with TEST-ONLY faiss::gpu link stubs and $cudart/libcudart.so"
printf '%s\n' "${sources[@]}" tools/dev/gpu-check/faiss_gpu_link_stubs.cc |
  xargs -P "$jobs" -I{} sh -c 'o="$0/obj/$(echo "{}" | sed "s|/|__|g").o"; g++ "$@" -O2 -fPIC -fvisibility=hidden -fvisibility-inlines-hidden -c {} -o "$o" || exit 255' "$out" "${flags[@]}"
find_static() { for d in /usr/lib/x86_64-linux-gnu /usr/lib; do [ -f "$d/lib$1.a" ] && { echo "$d/lib$1.a"; return; }; done; echo "-l$1"; }
g++ -shared -fopenmp -o "$out/pkg/build/Release/crossmodal.node" "$out"/obj/*.o \
  -Wl,--exclude-libs,ALL -Wl,--as-needed \
  -lsentencepiece "$(find_static faiss)" "$(find_static webp)" "$(find_static gif)" "$(find_static utf8proc)" \
  -ljpeg -lpng16 -lz -ldl -lpthread -lblas -llapack \
  -L"$cudart" -lcudart -Wl,-rpath,"$cudart"
# Node provides napi_* at load time, so the link cannot use --no-undefined; check our own symbols
# and FAISS's instead (the CPU parts come from libfaiss.a, faiss::gpu from the stubs).
unresolved=$(nm -uC "$out/pkg/build/Release/crossmodal.node" | grep -E 'crossmodal::|faiss::' || true)
[ -z "$unresolved" ] || { echo "check-gpu-build: unresolved symbols in the GPU-mode addon:" >&2; echo "$unresolved" >&2; exit 1; }
# A package root of its own, so node-gyp-build loads this addon and not the repository's.
cp package.json vitest.config.mts "$out/pkg/"
cp -r lib "$out/pkg/lib"
cp test/*.ts "$out/pkg/test/"
cp -r test/helpers "$out/pkg/test/helpers"
ln -s "$root/test/fixtures" "$out/pkg/test/fixtures"
ln -s "$root/node_modules" "$out/pkg/node_modules"
log "running the index suites against it (the GPU block of index-device.test.ts stays skipped without a device)"
(cd "$out/pkg" && npx --no-install vitest run test/index-*.test.ts)
log "ok: a GPU-mode build runs the index suites on a machine without a usable CUDA device"
