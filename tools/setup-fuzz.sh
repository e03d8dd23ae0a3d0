#!/usr/bin/env bash
# Installs what the sanitizer and fuzzing builds need on Debian 12 (docs/fuzzing.md), on top of
# tools/setup-native.sh: clang 14, its sanitizer and libFuzzer runtimes (libclang-rt-14-dev:
# libclang_rt.fuzzer/asan/ubsan*.a), llvm-symbolizer (llvm-14) for symbolised reports, and Ninja.
# Idempotent: re-running it only fills in what is missing. Root (or sudo) is needed the first time.
set -euo pipefail

packages=(clang-14 libclang-rt-14-dev llvm-14 ninja-build)

missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo_cmd=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null; then sudo_cmd=(sudo); else
      echo "setup-fuzz: run as root (apt-get install ${missing[*]} is needed)" >&2; exit 1
    fi
  fi
  echo "setup-fuzz: installing ${missing[*]}"
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

rt_dir=$(clang-14 -print-resource-dir)/lib/linux
for lib in libclang_rt.fuzzer-x86_64.a libclang_rt.asan-x86_64.a libclang_rt.ubsan_standalone-x86_64.a; do
  [ -f "$rt_dir/$lib" ] || { echo "setup-fuzz: $rt_dir/$lib is missing after installing libclang-rt-14-dev" >&2; exit 1; }
done
