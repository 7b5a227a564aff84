#!/usr/bin/env bash
# Browser for the Playwright tests: Debian's chromium (Playwright's own browser downloads are not used)
# and the playwright pip package pinned in constraints.txt. Safe to run repeatedly.
set -uo pipefail
cd "$(dirname "$0")/.."

if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null \
      || echo "setup_browser: could not install chromium; browser tests will be skipped" >&2
  else
    echo "setup_browser: /usr/bin/chromium missing and not root; browser tests will be skipped" >&2
  fi
fi

if [ -x .venv/bin/pip ] && ! .venv/bin/python -c "import playwright" 2>/dev/null; then
  pin="$(grep -i '^playwright==' constraints.txt || echo playwright)"
  .venv/bin/pip install -q "$pin" -c constraints.txt \
    || echo "setup_browser: could not install $pin; browser tests will be skipped" >&2
fi
exit 0
