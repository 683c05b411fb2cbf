#!/usr/bin/env bash
# pip-audit of the installed environment. A known vulnerability fails (exit 1); not
# reaching the advisory service only warns, so an outage elsewhere cannot block CI.
set -uo pipefail
BIN="${1:-.venv/bin}"
out="$("$BIN/pip-audit" --progress-spinner off --skip-editable 2>&1)"
rc=$?
echo "$out" | tail -n 20
if [ $rc -eq 0 ]; then
  exit 0
fi
if echo "$out" | grep -qiE "Found [0-9]+ known vulnerabilit"; then
  echo "pip-audit: known vulnerabilities in the installed packages" >&2
  exit 1
fi
echo "pip-audit: could not check (advisory service unreachable?); not failing" >&2
exit 0
