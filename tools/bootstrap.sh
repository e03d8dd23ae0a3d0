#!/usr/bin/env bash
# Brings a checkout to a runnable state: system packages, npm dependencies, the native addon,
# its prebuilt copy under prebuilds/, and the TypeScript build. Every step is skipped or
# incremental when already done, so `npm test` and `npm run demo` can call it every time.
#
#   tools/bootstrap.sh            what the library, its tests and the demo need
#   tools/bootstrap.sh --python   also the Python packages the benchmarks' model generators use
#                                 (python3-torch, python3-onnx, python3-regex, ...)
set -euo pipefail
native_args=()
for arg in "$@"; do
  case "$arg" in
    --python) native_args+=(--python) ;;
    *) echo "bootstrap: unknown argument $arg" >&2; exit 2 ;;
  esac
done
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
log() { printf 'bootstrap: %s\n' "$*"; }

# 1. System packages and ONNX Runtime headers (needs root the first time; a no-op afterwards);
#    PostgreSQL 15 + pgvector for the PostgreSQL collection store's tests.
bash tools/setup-native.sh "${native_args[@]}"
bash tools/setup-postgres.sh

# 2. npm dependencies, exactly as package-lock.json pins them. This also runs our own install
#    script (node-gyp-build), which builds the addon from source through binding.gyp when no
#    prebuilt binary fits: the same path a user's `npm install` takes.
#    `npm install` rather than `npm ci`: npm 11's `ci` insists that every platform variant of
#    rollup's optional native packages is in the lock file, and the registry reachable here does
#    not serve the non-Linux ones, so no lock file written here can satisfy it. With a lock file
#    present, `npm install` installs the locked versions just the same.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "npm install (locked versions)"
  npm install --no-audit --no-fund
fi

# 3. Native addon (incremental CMake build in build-native/).
log "native build"
node tools/build-native.mjs

# 4. Prebuilt binary, as published: prebuildify drives node-gyp, whose only target delegates to
#    CMake again (a no-op build here), then strips and tags the result.
log "prebuild"
mkdir -p build
if ! npx --no-install prebuildify --napi --strip --tag-libc --name crossmodal >build/prebuild.log 2>&1; then
  cat build/prebuild.log >&2
  exit 1
fi

# 5. TypeScript.
log "typescript"
# From a clean dist/: a module that was renamed or became a folder (collection.ts → collection/)
# would otherwise leave a stale .js that `require` still finds.
rm -rf dist
npx --no-install tsc -p tsconfig.json
node tools/write-esm-entry.mjs >/dev/null
log "ready"
