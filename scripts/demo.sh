#!/usr/bin/env bash
# Install everything into .venv/, seed the demo tenants and serve the web UI on http://127.0.0.1:8000
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/linia demo "$@"
