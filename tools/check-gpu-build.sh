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
#   tools/check-gpu-build.sh            fetch if needed, then check
#   tools/check-gpu-build.sh --fetch    only fetch
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
deps="$root/deps"
faiss_src="$deps/faiss-src/faiss-1.7.3"
cuda_inc="$deps/cuda/usr/include"
log() { printf 'check-gpu-build: %s\n' "$*"; }

fetch() {
  [ -f "$faiss_src/faiss/gpu/GpuCloner.h" ] && [ -f "$cuda_inc/cuda_runtime_api.h" ] && [ -f "$cuda_inc/cublas_v2.h" ] && return
  local apt_dir="$deps/.apt-gpu"
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
  # The mirror this machine already uses for bookworm (as tools/setup-native.sh does).
  local mirror
  mirror=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -E '^URIs:' | awk '{print $2}' \
             | grep -v security | head -n1 || true)
  if [ -z "$mirror" ]; then
    mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | grep -E '^deb ' \
               | sed -E 's/\[[^]]*\]//' | awk '{print $2}' | grep -v security | head -n1 || true)
  fi
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
[ "${1:-}" = "--fetch" ] && exit 0

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
