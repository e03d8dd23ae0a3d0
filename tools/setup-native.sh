#!/usr/bin/env bash
# Installs what crossmodal's native build (and its fixture generators) need on Debian 12.
# Idempotent: re-running it only fills in what is missing. Run as root (or through sudo).
#
#   tools/setup-native.sh            build dependencies + ONNX Runtime headers
#   tools/setup-native.sh --python   also the Python packages the fixture generators use
#
# ONNX Runtime headers come from Debian trixie's libonnxruntime-dev, downloaded with a private
# apt configuration and unpacked under deps/ (git-ignored): trixie packages are never installed
# system-wide, because trixie's runtime library would pull in a newer libc. Set
# CROSSMODAL_ORT_ROOT to an existing ONNX Runtime distribution (include/ + lib/) to skip that.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=tools/debian-mirror.sh
. "$here/tools/debian-mirror.sh"
# shellcheck source=tools/debian-packages.sh
. "$here/tools/debian-packages.sh"
deps="$here/deps"
want_python=0
for arg in "$@"; do
  case "$arg" in
    --python) want_python=1 ;;
    *) echo "setup-native: unknown argument $arg" >&2; exit 2 ;;
  esac
done

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then sudo_cmd=(sudo); else
    echo "setup-native: run as root (apt-get install is needed)" >&2; exit 1
  fi
fi

build_packages=(
  cmake g++ make pkg-config
  libfaiss-dev libopenblas-dev libopenblas0-pthread libgomp1
  libturbojpeg0-dev libjpeg62-turbo-dev libpng-dev zlib1g-dev libwebp-dev libgif-dev
  nlohmann-json3-dev libutf8proc-dev libsentencepiece-dev
)
# Pillow + numpy: the image fidelity tests regenerate Pillow references for real photos with them
# (tools/dev/pillow_preprocess.py); GoogleTest: the C++ unit tests of the core (test/native,
# tools/test-native.mjs); python3-cairo: the demo model's second, independent renderer (its
# quality test); Chromium: the tests that open generated HTML pages (demo, eval report) headless.
test_packages=(python3-numpy python3-pil python3-cairo libgtest-dev chromium fonts-dejavu-core)
# clang-format: `npm run format` / `npm run check` (and CI) format and check the C++ sources with
# Debian's build, so every checkout formats identically (see .clang-format).
dev_packages=(clang-format)
python_packages=(python3-torch python3-onnx python3-numpy python3-pil python3-regex python3-sentencepiece python3-protobuf python3-cairo)

wanted=("${build_packages[@]}" "${test_packages[@]}" "${dev_packages[@]}")
[ "$want_python" = 1 ] && wanted+=("${python_packages[@]}")
install_missing_debs setup-native "${wanted[@]}"

# FAISS links libblas.so.3 through Debian's alternatives; make sure they point at OpenBLAS rather
# than the reference BLAS, which is several times slower.
blas_alt=libblas.so.3-x86_64-linux-gnu
if update-alternatives --query "$blas_alt" >/dev/null 2>&1; then
  current=$(update-alternatives --query "$blas_alt" | awk '/^Value:/ {print $2}')
  case "$current" in
    *openblas*) ;;
    *) openblas=$(update-alternatives --list "$blas_alt" | grep openblas | head -n1 || true)
       [ -n "$openblas" ] && "${sudo_cmd[@]}" update-alternatives --set "$blas_alt" "$openblas" ;;
  esac
fi

if [ -n "${CROSSMODAL_ORT_ROOT:-}" ]; then
  [ -f "$CROSSMODAL_ORT_ROOT/include/onnxruntime_c_api.h" ] || [ -f "$CROSSMODAL_ORT_ROOT/include/onnxruntime/onnxruntime_c_api.h" ] || {
    echo "setup-native: CROSSMODAL_ORT_ROOT=$CROSSMODAL_ORT_ROOT has no include/onnxruntime_c_api.h" >&2; exit 1; }
  echo "setup-native: using ONNX Runtime headers from $CROSSMODAL_ORT_ROOT"
  exit 0
fi

ort_include="$deps/onnxruntime/usr/include/onnxruntime"
if [ ! -f "$ort_include/onnxruntime_cxx_api.h" ]; then
  echo "setup-native: fetching ONNX Runtime headers (Debian trixie libonnxruntime-dev)"
  apt_dir="$deps/.apt-trixie"
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$deps/onnxruntime"
  # Reuse the mirror this machine already uses for bookworm.
  mirror=$(debian_mirror)
  [ -n "$mirror" ] || { echo "setup-native: cannot find the configured Debian mirror" >&2; exit 1; }
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror trixie main" > "$apt_dir/sources.list"
  apt_opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
            -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache"
            -o APT::Sandbox::User=root)
  apt-get "${apt_opts[@]}" update -qq
  (cd "$apt_dir" && apt-get "${apt_opts[@]}" download libonnxruntime-dev >/dev/null)
  deb=$(ls "$apt_dir"/libonnxruntime-dev_*.deb | head -n1)
  dpkg -x "$deb" "$deps/onnxruntime"
  rm -rf "$apt_dir/lists" "$apt_dir/cache"
fi
[ -f "$ort_include/onnxruntime_cxx_api.h" ] || { echo "setup-native: ONNX Runtime headers missing after download" >&2; exit 1; }
echo "setup-native: ready (ONNX Runtime headers in ${ort_include#$here/})"
