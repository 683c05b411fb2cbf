#!/usr/bin/env bash
# What the test suite needs besides Python packages: a running PostgreSQL server,
# Debian's Chromium for the browser tests and Debian's nginx for the log import test.
# Installs/starts them when missing (as root).
set -euo pipefail

if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    echo "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
  else
    echo "PostgreSQL is not installed: install it or set BEACON_TEST_PG_URL" >&2
  fi
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
fi

need=()
command -v chromium >/dev/null || need+=(chromium)
command -v wrk >/dev/null || need+=(wrk)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx)   # the log import test
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "installing ${need[*]} from Debian"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "missing ${need[*]}: the browser tests will be skipped (run as root to install)" >&2
  fi
fi

# The tracker's pinned build tool, so the test that rebuilds the tracker and compares it
# with the committed build runs too (it is skipped without it).
if command -v npm >/dev/null && [ ! -d tracker/node_modules/terser ]; then
  (cd tracker && npm ci --no-audit --no-fund --loglevel=error) \
    || echo "npm ci in tracker/ failed: the tracker rebuild test will be skipped" >&2
fi
