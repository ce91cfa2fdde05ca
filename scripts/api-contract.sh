#!/usr/bin/env bash
# API contract test: start a node on loopback (fresh temporary data directory, the example genesis) and run
# schemathesis against its own /openapi.json with every check on, bounded in time.
#
#   bash scripts/api-contract.sh PATH_TO_STAKEWORK_BINARY [SECONDS]
#
# SECONDS (default 180) bounds the test run: schemathesis gets SECONDS-10 as its `--max-time` budget, and
# `timeout` stops it (SIGINT, then SIGKILL 20 s later) if it is still running after SECONDS+30. The one-time
# install of schemathesis into target/schemathesis-venv (pinned below, from PyPI) is not counted.
# Options live in scripts/schemathesis.toml. The node is always stopped on exit. Exits non-zero if
# schemathesis finds any failure (exit 1), cannot run (2) or is cut off by the backstop (124/137).
set -euo pipefail

SCHEMATHESIS_VERSION=4.32.5

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: bash scripts/api-contract.sh PATH_TO_STAKEWORK_BINARY [SECONDS]" >&2
  exit 2
fi
bin="$(realpath "$1")"
budget="${2:-180}"
if [ ! -x "$bin" ]; then
  echo "api-contract: $1 is not an executable" >&2
  exit 2
fi
case "$budget" in '' | *[!0-9]*) echo "api-contract: SECONDS must be a whole number" >&2; exit 2 ;; esac
if [ "$budget" -lt 30 ]; then
  echo "api-contract: SECONDS must be at least 30" >&2
  exit 2
fi

cd "$(dirname "$0")/.."
root="$PWD"
venv="$root/target/schemathesis-venv"
state="$root/target/schemathesis" # cwd of the run: hypothesis' example database and the JUnit report

step() { printf '[api-contract %s] %s\n' "$(date +%H:%M:%S)" "$*"; }

if [ "$("$venv/bin/schemathesis" --version 2>/dev/null || true)" != "schemathesis, version $SCHEMATHESIS_VERSION" ]; then
  step "installing schemathesis $SCHEMATHESIS_VERSION into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi
"$venv/bin/schemathesis" --version

work="$(mktemp -d "${TMPDIR:-/tmp}/stakework-api-contract.XXXXXX")"
node_pid=""
cleanup() {
  if [ -n "$node_pid" ] && kill -0 "$node_pid" 2>/dev/null; then
    kill -TERM "$node_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
      kill -0 "$node_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$node_pid" 2>/dev/null || true
    wait "$node_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"$bin" genesis example >"$work/genesis.toml"
# Port 0: the node picks a free port and prints `stakework node listening on http://ADDR …`.
"$bin" node --data "$work/data" --listen 127.0.0.1:0 --genesis "$work/genesis.toml" --block-ms 100 \
  >"$work/node.log" 2>&1 &
node_pid=$!

base=""
for _ in $(seq 1 300); do
  base="$(sed -n 's/^stakework node listening on \(http:\/\/[^ ]*\).*/\1/p' "$work/node.log" | head -n 1)"
  [ -n "$base" ] && break
  if ! kill -0 "$node_pid" 2>/dev/null; then
    echo "api-contract: the node exited before listening:" >&2
    cat "$work/node.log" >&2
    exit 2
  fi
  sleep 0.1
done
if [ -z "$base" ]; then
  echo "api-contract: the node did not start listening within 30 s:" >&2
  cat "$work/node.log" >&2
  exit 2
fi

if ! "$venv/bin/python" - "$base/health" <<'PY'; then
import json, sys, time, urllib.request
url = sys.argv[1]
deadline = time.monotonic() + 30
while True:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            if r.status == 200 and json.load(r).get("status") == "ok":
                sys.exit(0)
    except Exception:
        pass
    if time.monotonic() > deadline:
        sys.exit(1)
    time.sleep(0.2)
PY
  echo "api-contract: $base/health did not answer ok within 30 s:" >&2
  cat "$work/node.log" >&2
  exit 2
fi
step "node up at $base (pid $node_pid); schemathesis for $((budget - 10)) s"

mkdir -p "$state"
rc=0
(
  cd "$state"
  exec timeout --signal=INT --kill-after=20 "$((budget + 30))" \
    "$venv/bin/schemathesis" --config-file "$root/scripts/schemathesis.toml" --no-color \
    run "$base/openapi.json" \
    --checks all \
    --max-time "$((budget - 10))" \
    --report junit --report-junit-path "$state/junit.xml"
) || rc=$?

if ! kill -0 "$node_pid" 2>/dev/null; then
  echo "api-contract: the node died during the run; its log:" >&2
  tail -n 50 "$work/node.log" >&2
  [ "$rc" -ne 0 ] || rc=1
fi
case "$rc" in
  0) step "no failures" ;;
  1) step "schemathesis found failures (exit 1)" ;;
  124 | 137) step "schemathesis overran its budget and was stopped (exit $rc)" ;;
  *) step "schemathesis could not complete the run (exit $rc)" ;;
esac
exit "$rc"
