#!/usr/bin/env bash
# API contract test: start a node on loopback (fresh temporary data directory, a genesis written here),
# give it something to serve with the CLI (registered nodes, requests, a task, a training job, a proposal,
# transfers, a nomination), then run schemathesis against the node's own /openapi.json with every check on, bounded in time.
#
#   bash scripts/api-contract.sh PATH_TO_STAKEWORK_BINARY [SECONDS]
#
# SECONDS (default 180) bounds the test run: schemathesis gets SECONDS-10 as its `--max-time` budget, and
# `timeout` stops it (SIGINT, then SIGKILL 20 s later) if it is still running after SECONDS+30. The one-time
# install of schemathesis into target/schemathesis-venv (pinned below, from PyPI) is not counted, nor is the
# setup (a few seconds; it is stopped after 60 s).
# Options live in scripts/schemathesis.toml; the script runs a copy of it with the ids the setup made appended
# as `[dictionaries.*]`, so that the routes that read one record (GET /v1/nodes/{id}, /v1/tasks/{id}…) answer
# 200 for part of the generated requests instead of 404 for all of them. The node is always stopped on exit.
# Exits non-zero if schemathesis finds any failure (exit 1), the setup fails or schemathesis cannot run (2)
# or it is cut off by the backstop (124/137).
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

# CPython 3.11.0 to 3.11.7 can crash when two threads parse code at once (gh-106905, fixed in 3.11.8), which
# schemathesis does with two workers ("SystemError: AST constructor recursion depth mismatch"): prefer a
# newer interpreter, and run one worker if only an affected one is here.
python=""
pyenv_root="${PYENV_ROOT:-$HOME/.pyenv}"
for candidate in python3.13 python3.12 "$pyenv_root"/versions/3.13*/bin/python3 "$pyenv_root"/versions/3.12*/bin/python3 python3; do
  if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
    python="$(command -v "$candidate")"
    break
  fi
done
if [ -z "$python" ]; then
  echo "api-contract: needs Python 3.10 or newer" >&2
  exit 2
fi
if "$python" -c 'import sys; sys.exit(not ((3, 11, 0) <= sys.version_info[:3] < (3, 11, 8)))'; then
  workers=1
else
  workers=2
fi
wanted="schemathesis, version $SCHEMATHESIS_VERSION"
if [ "$("$venv/bin/schemathesis" --version 2>/dev/null || true)" != "$wanted" ] ||
  [ "$("$venv/bin/python" -c 'import sys; print(sys.version)' 2>/dev/null || true)" != "$("$python" -c 'import sys; print(sys.version)')" ]; then
  step "installing schemathesis $SCHEMATHESIS_VERSION into $venv ($("$python" --version))"
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi
"$venv/bin/schemathesis" --version
step "$("$venv/bin/python" --version), $workers worker(s)"

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
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 141' PIPE
trap 'exit 143' TERM

# fail MESSAGE: the run could not be made (the setup went wrong): exit 2.
fail() {
  echo "api-contract: $*" >&2
  exit 2
}
# field FILE KEY…: one value out of a JSON file (object keys and array indexes, in order).
field() {
  "$venv/bin/python" -c 'import json, sys
value = json.load(open(sys.argv[1]))
for key in sys.argv[2:]:
    value = value[int(key)] if isinstance(value, list) else value[key]
print(value)' "$@"
}

# The setup's accounts: a client (requests, a task, the training job's query client, a proposal), a
# coordinator (GDS), a data owner, an MPC node and five miners on service 1 (a task draws its creator, then
# its k = 3 miners, from them). Their keys live in the temporary directory only.
export STAKEWORK_HOME="$work"
names=(client gds do1 mpc1 m1 m2 m3 m4 m5)
registered=(gds do1 mpc1 m1 m2 m3 m4 m5)
declare -A ids=()
for name in "${names[@]}"; do
  "$bin" --keys-dir "$work/keys" --json keys new "$name" >"$work/key.json" || fail "could not create key $name"
  ids[$name]="$(field "$work/key.json" account)" || fail "no account id for key $name"
done
# name_of ID: the key name of an account id.
name_of() {
  local name
  for name in "${names[@]}"; do
    [ "${ids[$name]}" = "$1" ] && echo "$name" && return 0
  done
  return 1
}

# Genesis: every account funded (1,000 SWK free, 10 SWK bonded), every role's stake minimum 1 SWK, the
# default minimum fee (1,000 base units, what the CLI pays unless told otherwise), and every deadline and
# period 100,000 blocks (almost three hours of 100 ms blocks), so that nothing the setup makes expires,
# settles or is forgotten during the run: the miners stay ready, the second request assigned, the task
# requested, the job dispatched, the proposal open, the unbonding chunk unbonding. Unlisted parameters
# keep their defaults (`stakework genesis example`).
{
  cat <<'TOML'
[params]
chain_id = "stakework-api-contract"
min_fee = "1000"
miner_stake_min = "1000000000"
oracle_stake_min = "1000000000"
router_stake_min = "1000000000"
data_owner_stake_min = "1000000000"
mpc_stake_min = "1000000000"
coordinator_stake_min = "1000000000"
unbonding_period = 200000
heartbeat_timeout = 100000
request_timeout = 100000
rating_window = 100000
voting_period = 100000
job_dispute_window = 200000
task_deadline_requested = 100000
task_deadline_created = 100000
task_deadline_started = 100000
task_deadline_precommitted = 100000
task_deadline_committed = 100000
job_heartbeat_timeout = 100000
job_dispatch_timeout = 100000

[[services]]
name = "text-generation"
weight = 1
price = "10000000"

[[services]]
name = "image-generation"
weight = 4
price = "50000000"
TOML
  for name in "${names[@]}"; do
    printf '\n[[accounts]]\nid = "%s"\nname = "%s"\nfree = "1000000000000"\nbonded = "10000000000"\n' \
      "${ids[$name]}" "$name"
  done
} >"$work/genesis.toml"
# Port 0: the node picks a free port and prints `stakework node listening on http://ADDR …`. The log is
# created first: the background job opens it only when it gets to run, and the loop below must not read a
# file that is not there yet (under `set -e` and `pipefail`, sed's exit 2 would end the script silently).
: >"$work/node.log"
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
step "node up at $base (pid $node_pid); setting up"

# Setup, through the CLI as a user would, every transaction waited for (`--wait`): the CLI exits non-zero
# when a transaction is refused at the door or rejected in its block, and the setup stops there. At most
# 60 s in all (it takes a few seconds: about one 100 ms block per transaction).
setup_start=$SECONDS
setup_end=$((SECONDS + 60))
# sw WHAT ARGS…: one CLI command against the node; its JSON answer is left in $work/out.json.
sw() {
  local what="$1" left=$((setup_end - SECONDS))
  shift
  [ "$left" -gt 0 ] || fail "setup took more than 60 s (stopped before: $what)"
  if ! timeout "$left" "$bin" --node "$base" --keys-dir "$work/keys" --json "$@" \
    >"$work/out.json" 2>"$work/err.txt"; then
    echo "api-contract: setup failed: $what (stakework $*):" >&2
    cat "$work/out.json" "$work/err.txt" >&2
    tail -n 20 "$work/node.log" >&2
    exit 2
  fi
}
# tx WHAT ARGS…: sw for a command that sends a transaction (ARGS include `--wait`); checks the receipt
# and keeps the transaction's hash and block height.
hashes=()
heights=()
tx() {
  sw "$@"
  if [ "$(field "$work/out.json" receipt code 2>/dev/null)" != ok ]; then
    cat "$work/out.json" >&2
    fail "setup failed: $1: the transaction is not committed with code ok"
  fi
  hashes+=("$(field "$work/out.json" hash)")
  heights+=("$(field "$work/out.json" receipt height)")
}
# event KEY: a field of the first event of the last transaction.
event() {
  field "$work/out.json" receipt events 0 "$1"
}

# Registered nodes; the endpoints are never called.
for name in m1 m2 m3 m4 m5; do
  tx "register miner $name" node register --from "$name" --role miner --service 1 \
    --endpoint "http://127.0.0.1:9/$name" --wait
done
tx "register the data owner" node register --from do1 --role data-owner --endpoint http://127.0.0.1:9/do1 --wait
tx "register the coordinator" node register --from gds --role coordinator --endpoint http://127.0.0.1:9/gds --wait
tx "register the MPC node" node register --from mpc1 --role mpc --endpoint http://127.0.0.1:9/mpc1 --wait

# Two inference requests: the first completed by its miner and rated, the second left assigned.
tx "submit a request" request submit --from client --service 1 --wait
request_done="$(event request)" || fail "setup failed: no request id"
miner="$(name_of "$(event miner)")" || fail "setup failed: request $request_done went to an unknown miner"
tx "complete request $request_done" request complete --from "$miner" --request "$request_done" \
  --result "contract" --wait
tx "rate request $request_done" request rate --from client --request "$request_done" good --wait
tx "submit a second request" request submit --from client --service 1 --wait
request_open="$(event request)" || fail "setup failed: no request id"

# A Proof-of-Useful-Work task (k = 3); it waits for its creator.
tx "submit a task" task submit --from client --service 1 --redundancy 3 --wait
task="$(event task)" || fail "setup failed: no task id"

# A training job, ordered, staked, given its MPC node, deposited by both members and dispatched, with one
# status update.
job="$("$venv/bin/python" -c 'import uuid; print(uuid.uuid4())')" || fail "could not make a job id"
tx "order job $job" job order --from gds --id "$job" --qc client --do do1 --price "1 SWK" --epochs 4 \
  --quote "3 SWK" --wait
tx "stake the job's StakeIn" job query "$job" --from client --wait
tx "select the job's MPC node" job select-mpcs "$job" --from gds --mpc mpc1 --wait
tx "the data owner's deposit" job accept "$job" --from do1 --wait
tx "the MPC node's deposit" job accept "$job" --from mpc1 --wait
tx "a job status" job status "$job" --from do1 --type training --epoch 1 --status in-progress --wait

# A governance proposal with one vote.
tx "propose" gov propose --from client --wait set-weight --service 1 --weight 2
proposal="$(event proposal)" || fail "setup failed: no proposal id"
tx "vote on proposal $proposal" gov vote --from m1 --proposal "$proposal" yes --wait

# Plain transfers and an unbonding.
tx "transfer client to m1" tx transfer --from client --to m1 --amount "1.5 SWK" --wait
tx "transfer gds to do1" tx transfer --from gds --to do1 --amount 1000 --wait
tx "unbond" tx unbond --from client --amount "1 SWK" --wait
# A nomination with part of it unbonding and a pending commission: the node and account views carry them.
tx "nominate m1" tx nominate --from client --to m1 --amount "3 SWK" --wait
tx "unnominate part" tx nominate --from client --to m1 --amount "1 SWK" --undo --wait
tx "set m1's commission" tx commission --from m1 --commission 50000000 --wait
sw "read block ${heights[-1]}" query block "${heights[-1]}"
block_hash="$(field "$work/out.json" hash)" || fail "setup failed: no block hash"
step "setup done in $((SECONDS - setup_start)) s: ${#hashes[@]} transactions up to height ${heights[-1]}"

# The ids the setup made, appended to a copy of scripts/schemathesis.toml as the dictionaries its
# `[[operations]]` blocks bind to path parameters. Ids and hashes are also given in their other accepted
# spellings (a job id without dashes, a hash in capitals).
dict() {
  local name="$1"
  shift
  printf '\n[dictionaries.%s]\nvalues = [%s]\n' "$name" "$(IFS=,; echo "$*")"
}
q() {
  printf '"%s" ' "$@"
}
{
  cat "$root/scripts/schemathesis.toml"
  printf '\n# Appended by scripts/api-contract.sh: the ids its setup made.\n'
  accounts=()
  for name in "${names[@]}"; do accounts+=("${ids[$name]}"); done
  nodes=()
  for name in "${registered[@]}"; do nodes+=("${ids[$name]}"); done
  dict account-ids $(q "${accounts[@]}")
  dict node-ids $(q "${nodes[@]}")
  dict request-ids "$request_done" "$request_open"
  dict task-ids "$task"
  dict job-ids $(q "$job" "${job//-/}")
  dict proposal-ids "$proposal"
  dict tx-hashes $(q "${hashes[@]}" "${hashes[0]^^}")
  dict block-ids 0 "${heights[@]}" $(q "$block_hash" "${block_hash^^}")
} >"$work/schemathesis.toml"

step "schemathesis for $((budget - 10)) s"

mkdir -p "$state"
rc=0
(
  cd "$state"
  exec timeout --signal=INT --kill-after=20 "$((budget + 30))" \
    "$venv/bin/schemathesis" --config-file "$work/schemathesis.toml" --no-color \
    run "$base/openapi.json" \
    --checks all \
    --workers "$workers" \
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
