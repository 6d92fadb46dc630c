#!/usr/bin/env bash
# Builds pgvector from Debian's source package against the machine's PostgreSQL (Debian 12 ships no
# binary pgvector package). Idempotent: does nothing when the extension is already installed.
set -euo pipefail
pg_major=$(pg_config --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')
sharedir=$(pg_config --sharedir)
if [ -f "$sharedir/extension/vector.control" ]; then
  echo "pgvector: already installed for PostgreSQL $pg_major"
  exit 0
fi
echo "pgvector: building from Debian source for PostgreSQL $pg_major"
export DEBIAN_FRONTEND=noninteractive
src_list=/etc/apt/sources.list.d/widgetdc-trixie-src.sources
if [ ! -f "$src_list" ]; then
  cat > "$src_list" <<SRC
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends "postgresql-server-dev-$pg_major" build-essential dpkg-dev >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
apt-get source -qq --download-only pgvector >/dev/null
dpkg-source -x --no-check ./pgvector_*.dsc src >/dev/null
make -s -C src PG_CONFIG="$(command -v pg_config)" >/dev/null
make -s -C src PG_CONFIG="$(command -v pg_config)" install >/dev/null
echo "pgvector: installed $(grep default_version "$sharedir/extension/vector.control")"
