#!/usr/bin/env bash
# Vendor pinned front-end libraries from the npm registry into src/linia/static/vendor/ (no CDN at run time).
# Re-run after changing a version below; commit the copied files and VERSIONS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
HTMX_VERSION=2.0.8
DEST=src/linia/static/vendor
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

npm install --silent --no-audit --no-fund --ignore-scripts --prefix "$TMP" "htmx.org@$HTMX_VERSION"
PKG="$TMP/node_modules/htmx.org"
got=$(node -p "require('$PKG/package.json').version")
[ "$got" = "$HTMX_VERSION" ] || { echo "expected htmx.org $HTMX_VERSION, npm installed $got" >&2; exit 1; }
license=$(node -p "require('$PKG/package.json').license")

mkdir -p "$DEST/htmx"
cp "$PKG/dist/htmx.min.js" "$DEST/htmx/htmx.min.js"
cp "$PKG/LICENSE" "$DEST/htmx/LICENSE"
sha=$(sha256sum "$DEST/htmx/htmx.min.js" | cut -d' ' -f1)

cat > "$DEST/VERSIONS.md" <<MD
# Vendored front-end libraries

Written by scripts/vendor_frontend.sh; do not edit by hand.

| Package | Version | License | Source file | Vendored as | SHA-256 |
|---|---|---|---|---|---|
| htmx.org (npm) | $HTMX_VERSION | $license | dist/htmx.min.js | htmx/htmx.min.js | \`$sha\` |
MD
echo "vendored htmx.org $HTMX_VERSION ($license) into $DEST/htmx/"
