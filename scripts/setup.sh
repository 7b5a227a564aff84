#!/usr/bin/env bash
# Install Linia and its pinned dependencies into .venv/ (idempotent; safe to run again).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip 2>&1 | grep -v "is ignored" || true
# constraints.txt pins every package (the lock); pyproject.toml names the direct ones.
.venv/bin/python -m pip install --quiet -c constraints.txt -e ".[dev]" 2>&1 | grep -v "is ignored" || true
.venv/bin/python -c "import linia, django; assert django.VERSION[:2] == (5, 2)" \
  || { echo "setup failed: linia did not install into .venv" >&2; exit 1; }
