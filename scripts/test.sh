#!/usr/bin/env bash
# Install everything into .venv/ and run the whole check: ruff, mypy, pytest on SQLite and on PostgreSQL.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1
bash scripts/setup_browser.sh  # Debian chromium + playwright for tests/desk_rt (skipped when absent)
bash scripts/setup_mail.sh  # Debian dovecot-imapd for the IMAP intake tests (they start their own instance)
# Redis carries websocket pushes between processes in the browser tests; start it when installed but down.
if command -v redis-server >/dev/null && ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /tmp --logfile /tmp/linia-redis.log >/dev/null 2>&1 || true
fi
export LINIA_HOME="${LINIA_HOME:-$(mktemp -d /tmp/linia-test-XXXXXX)}"
export LINIA_FAST_PASSWORDS=1
status=0

step() { echo; echo "=== $*"; }

# pytest exit 5 means "no tests collected": that is a failure here, never a silent pass.
run_pytest() {
  .venv/bin/python -m pytest "$@"
  local rc=$?
  if [ $rc -eq 5 ]; then echo "pytest collected no tests: failing" >&2; return 1; fi
  return $rc
}

step "ruff"
.venv/bin/ruff check src tests benchmarks || status=1

step "mypy"
.venv/bin/mypy || status=1

step "pytest on SQLite"
DATABASE_URL="" run_pytest -n 2 tests || status=1

step "pytest on PostgreSQL"
if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start 2>/dev/null || true
  sleep 2
fi
if pg_isready -h 127.0.0.1 -p 5432 -q; then
  db="linia_ci_$$_$(date +%s)"
  # pytest-django creates (and drops) test_<name> databases, fresh for every run.
  DATABASE_URL="postgres://postgres@127.0.0.1:5432/$db" run_pytest -n 2 tests || status=1
else
  echo "PostgreSQL is not reachable on 127.0.0.1:5432" >&2
  status=1
fi

step "result"
if [ $status -eq 0 ]; then echo "all checks passed"; else echo "some checks FAILED"; fi
exit $status
