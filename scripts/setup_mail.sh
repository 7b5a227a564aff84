#!/usr/bin/env bash
# Mail servers for the email tests: Debian's dovecot-imapd (IMAP intake tests start their own throw-away
# instance on a free port; the system service is not used). Safe to run repeatedly; the tests skip when absent.
set -uo pipefail

if ! command -v dovecot >/dev/null 2>&1 && [ ! -x /usr/sbin/dovecot ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    # policy-rc.d 101: do not start the system dovecot service on install (tests run their own instance).
    policy=/usr/sbin/policy-rc.d
    created_policy=0
    if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && created_policy=1; fi
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends dovecot-imapd >/dev/null; } \
      || echo "setup_mail: could not install dovecot-imapd; IMAP tests will be skipped" >&2
    if [ "$created_policy" = "1" ]; then rm -f "$policy"; fi
  else
    echo "setup_mail: dovecot missing and not root; IMAP tests will be skipped" >&2
  fi
fi
exit 0
