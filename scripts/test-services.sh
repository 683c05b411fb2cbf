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

# The suite starts real servers (beacon workers, the dashboard, the MCP server and its
# clients) beside the test process, each with its own connection pool: Debian's default
# of 100 connections leaves too little room. A local cluster gets 300 (once, as root).
if [ -z "${BEACON_TEST_PG_URL:-}" ] && [ "$(id -u)" = 0 ] && command -v pg_ctlcluster >/dev/null \
    && [ -d /etc/postgresql ] && pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  max=$(psql -h 127.0.0.1 -U postgres -tAc "SHOW max_connections" 2>/dev/null || echo 0)
  if [ "${max:-0}" -lt 300 ]; then
    echo "PostgreSQL: max_connections ${max} -> 300 (restart)"
    psql -h 127.0.0.1 -U postgres -qc "ALTER SYSTEM SET max_connections = 300"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main restart
    for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
  fi
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
