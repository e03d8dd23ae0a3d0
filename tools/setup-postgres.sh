#!/usr/bin/env bash
# Installs what the PostgreSQL collection store's tests and benchmarks need on Debian 12:
# PostgreSQL 15 (server + server headers) from bookworm, and the pgvector extension built from
# Debian's own `pgvector` source package (trixie ships 0.8.0; bookworm has no binary package).
# The source is fetched with a private apt configuration holding one deb-src line, so the
# system's sources are never touched and no trixie binary is installed. Idempotent; run as root.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=tools/debian-mirror.sh
. "$here/tools/debian-mirror.sh"
# shellcheck source=tools/debian-packages.sh
. "$here/tools/debian-packages.sh"
pg_version=15
pg_config="/usr/lib/postgresql/$pg_version/bin/pg_config"
work="${CROSSMODAL_DEPS_DIR:-$here/deps}/pgvector"

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then sudo_cmd=(sudo); else
    echo "setup-postgres: run as root (apt-get install is needed)" >&2; exit 1
  fi
fi

install_missing_debs setup-postgres "postgresql-$pg_version" "postgresql-server-dev-$pg_version" make gcc dpkg-dev

sharedir=$("$pg_config" --sharedir)
if [ -f "$sharedir/extension/vector.control" ]; then
  echo "setup-postgres: ready (pgvector $(sed -n "s/^default_version = '\(.*\)'/\1/p" "$sharedir/extension/vector.control"))"
  exit 0
fi

echo "setup-postgres: building pgvector from Debian's source package"
mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/src"
mirror=$(debian_mirror)
[ -n "$mirror" ] || { echo "setup-postgres: cannot find the configured Debian mirror" >&2; exit 1; }
echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror trixie main" > "$work/sources.list"
apt_opts=(-o "Dir::Etc::SourceList=$work/sources.list" -o Dir::Etc::SourceParts=/dev/null
          -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache" -o APT::Sandbox::User=root)
apt-get "${apt_opts[@]}" update -qq
(cd "$work/src" && apt-get "${apt_opts[@]}" source --download-only pgvector >/dev/null)
dsc=$(ls "$work"/src/pgvector_*.dsc | head -n1)
rm -rf "$work/build"
# --no-check: the .dsc's uploader signature needs debian-keyring; apt has already checked every file
# against the signed Sources index it downloaded.
dpkg-source --no-check -x "$dsc" "$work/build" >/dev/null
make -s -C "$work/build" PG_CONFIG="$pg_config" >/dev/null
"${sudo_cmd[@]}" make -s -C "$work/build" PG_CONFIG="$pg_config" install >/dev/null
rm -rf "$work/lists" "$work/cache"
[ -f "$sharedir/extension/vector.control" ] || { echo "setup-postgres: pgvector did not install" >&2; exit 1; }
echo "setup-postgres: ready (pgvector built from $(basename "$dsc"))"
