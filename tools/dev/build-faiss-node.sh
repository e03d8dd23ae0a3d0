#!/usr/bin/env bash
# Builds the npm package faiss-node (the peer library bench/search compares against) offline,
# against the system FAISS 1.7.3 from Debian's libfaiss-dev, into bench/.cache/faiss-node/
# (git-ignored). faiss-node is NOT a dependency of crossmodal: the benchmark loads it from
#
#   bench/.cache/faiss-node/node_modules/faiss-node
#
# Why a script: faiss-node's install script runs prebuild-install (downloads a prebuilt binary) or
# `git clone`s FAISS v1.7.4 into deps/faiss and builds it; neither works without internet. Here the
# package is installed with --ignore-scripts, tools/dev/faiss-node-system-faiss.patch makes it link the
# system FAISS (see the patch's header for what it changes and why), and cmake-js builds it.
#
# Idempotent: when the addon exists and was built from the same faiss-node version, patch and
# libfaiss-dev version, it only checks that the addon loads and prints where it is.
#
#   tools/dev/build-faiss-node.sh           build if needed, verify, print the require path
#   tools/dev/build-faiss-node.sh --force   rebuild from a fresh copy of the package
#
# Needs: node/npm with the npm registry, cmake, g++, patch, libfaiss-dev, OpenMP and BLAS/LAPACK
# (`sudo tools/setup-native.sh` installs them). cmake-js is taken from the repo's node_modules
# (it is one of crossmodal's own dependencies) or, if absent there, installed into the cache too.
set -euo pipefail

FAISS_NODE_VERSION=0.5.1
CMAKE_JS_FALLBACK_VERSION=8.0.0

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cache="$repo/bench/.cache/faiss-node"
pkg="$cache/node_modules/faiss-node"
addon="$pkg/build/Release/faiss-node.node"
patch_file="$repo/tools/dev/faiss-node-system-faiss.patch"
stamp="$cache/.crossmodal-build-stamp"
log="$cache/build.log"

force=0
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    -h|--help) sed -n '2,21p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-faiss-node: unknown argument $arg" >&2; exit 2 ;;
  esac
done

faiss_pkg_version="$(dpkg-query -W -f='${Version}' libfaiss-dev 2>/dev/null || echo unknown)"
want_stamp="faiss-node@$FAISS_NODE_VERSION patch=$(sha256sum "$patch_file" | cut -c1-16) libfaiss-dev=$faiss_pkg_version"

# Loads the addon and checks exact search results: a hand-made case plus random vectors compared
# with a brute-force scan (distances compared with a tolerance, so float ties cannot fail it).
verify() {
  node - "$pkg" <<'EOF'
const { IndexFlatIP, IndexFlatL2 } = require(process.argv[2]);
const fail = (msg) => { console.error(`build-faiss-node: verification failed: ${msg}`); process.exit(1); };

const ip = new IndexFlatIP(4);
ip.add([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0.6, 0.8, 0, 0]);
const r = ip.search([0, 1, 0, 0, 0.7, 0.7, 0, 0], 2);
if (ip.ntotal() !== 4 || r.labels.join() !== '1,3,3,1') fail(`IndexFlatIP labels ${r.labels}`);
const l2 = new IndexFlatL2(2);
l2.add([0, 0, 3, 4, 1, 1]);
if (l2.search([3, 3], 3).labels.join() !== '1,2,0') fail('IndexFlatL2 labels');

let seed = 12345;
const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
const d = 32, n = 2000, nq = 20, k = 10;
const xb = Array.from({ length: n * d }, rand);
const xq = Array.from({ length: nq * d }, rand);
const index = new IndexFlatIP(d);
index.add(xb);
const res = index.search(xq, k);
const dot = (q, i) => { let s = 0; for (let j = 0; j < d; j++) s += xq[q * d + j] * xb[i * d + j]; return s; };
for (let q = 0; q < nq; q++) {
  const best = Array.from({ length: n }, (_, i) => dot(q, i)).sort((a, b) => b - a).slice(0, k);
  for (let j = 0; j < k; j++) {
    const label = res.labels[q * k + j], dist = res.distances[q * k + j];
    if (Math.abs(dist - best[j]) > 1e-4) fail(`query ${q} rank ${j}: distance ${dist}, expected ${best[j]}`);
    if (Math.abs(dot(q, label) - dist) > 1e-4) fail(`query ${q} rank ${j}: label ${label} has score ${dot(q, label)}`);
  }
}
EOF
}

if [ "$force" = 0 ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want_stamp" ] && [ -f "$addon" ] &&
   node -e 'new (require(process.argv[1]).IndexFlatIP)(4)' "$pkg" 2>/dev/null; then
  echo "build-faiss-node: up to date: $addon"
  echo "build-faiss-node: require('$pkg')"
  exit 0
fi

missing=()
for cmd in node npm cmake c++ patch; do command -v "$cmd" >/dev/null || missing+=("$cmd"); done
[ -f /usr/include/faiss/IndexFlat.h ] || missing+=("libfaiss-dev")
if [ ${#missing[@]} -gt 0 ]; then
  echo "build-faiss-node: missing ${missing[*]} (sudo tools/setup-native.sh installs them)" >&2
  exit 1
fi

start=$SECONDS
# Start from a pristine copy so the patch always applies to upstream's files.
case "$cache" in */bench/.cache/faiss-node) rm -rf "$cache" ;; *) exit 1 ;; esac
mkdir -p "$cache"

cmake_js="$(cd "$repo" && node -p "require('path').join(require('path').dirname(require.resolve('cmake-js/package.json')), 'bin', 'cmake-js')" 2>/dev/null || true)"
npm_packages=("faiss-node@$FAISS_NODE_VERSION")
[ -n "$cmake_js" ] && [ -f "$cmake_js" ] || { cmake_js=""; npm_packages+=("cmake-js@$CMAKE_JS_FALLBACK_VERSION"); }

echo "build-faiss-node: installing ${npm_packages[*]} into $cache (install scripts not run)"
# --ignore-scripts: upstream's install script would try to download a prebuilt binary or git-clone FAISS.
npm install --prefix "$cache" --ignore-scripts --no-save --no-audit --no-fund --loglevel=error \
  "${npm_packages[@]}" 2>&1 | { grep -v 'Unknown user config "nodedir"' || true; }
[ -f "$pkg/package.json" ] || { echo "build-faiss-node: npm install failed" >&2; exit 1; }
[ -n "$cmake_js" ] || cmake_js="$cache/node_modules/cmake-js/bin/cmake-js"

echo "build-faiss-node: patching faiss-node for the system FAISS ($faiss_pkg_version)"
patch -p1 --batch --forward --quiet -d "$pkg" < "$patch_file"

echo "build-faiss-node: building with $(node "$cmake_js" --version 2>/dev/null | tail -n1 | sed 's/^/cmake-js /') (log: $log)"
if ! node "$cmake_js" build --directory "$pkg" --parallel "$(nproc)" >"$log" 2>&1; then
  tail -n 40 "$log" >&2
  echo "build-faiss-node: build failed (full log: $log)" >&2
  exit 1
fi
[ -f "$addon" ] || { echo "build-faiss-node: build produced no $addon" >&2; exit 1; }

verify
echo "$want_stamp" > "$stamp"
echo "build-faiss-node: built and verified in $((SECONDS - start)) s: $addon"
echo "build-faiss-node: require('$pkg')"
