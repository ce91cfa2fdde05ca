#!/usr/bin/env bash
# A throwaway PostgreSQL for the indexer's tests: a fresh cluster in DIR, run by an unprivileged user,
# listening on a Unix socket in DIR only (no TCP port), trust authentication for the local user.
#
#   bash scripts/postgres.sh start DIR   # prints the connection URL on stdout (the last line)
#   bash scripts/postgres.sh stop DIR
#
# The binaries: `initdb`/`pg_ctl` on PATH, else /usr/lib/postgresql/*/bin; if neither, and we are root with
# apt-get, Debian's `postgresql` package is installed (apt-get install -y --no-install-recommends
# postgresql) unless STAKEWORK_PG_NO_INSTALL=1 (the tests set it outside CI: they skip instead). Exit status
# 3: no PostgreSQL. PostgreSQL refuses to run as root: as root the cluster belongs to the system user
# `postgres` (created with useradd if missing) and runs through `runuser -u postgres --`; DIR and its
# parents must be reachable by that user (a directory under /tmp is). fsync is off: the tests kill the
# indexer, never PostgreSQL, and a test cluster need not survive a power cut.
set -euo pipefail

usage() {
  echo "usage: bash scripts/postgres.sh start|stop DIR" >&2
  exit 2
}
[ $# -eq 2 ] || usage
action="$1"
mkdir -p "$2"
dir="$(realpath "$2")"
os_user=postgres

find_bin() {
  if command -v pg_ctl >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1; then
    dirname "$(command -v pg_ctl)"
    return 0
  fi
  local d
  for d in /usr/lib/postgresql/*/bin; do
    if [ -x "$d/pg_ctl" ] && [ -x "$d/initdb" ]; then
      echo "$d"
      return 0
    fi
  done
  return 1
}

bin="$(find_bin || true)"
if [ -z "$bin" ]; then
  if [ "${STAKEWORK_PG_NO_INSTALL:-0}" != 1 ] && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "postgres.sh: installing Debian's postgresql" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >&2
    bin="$(find_bin || true)"
  fi
  if [ -z "$bin" ]; then
    echo "postgres.sh: no PostgreSQL found (initdb and pg_ctl on PATH or in /usr/lib/postgresql/*/bin)" >&2
    exit 3
  fi
fi

# As root, run PostgreSQL's commands as the unprivileged user; otherwise as ourselves.
as_user=()
db_user="$(id -un)"
if [ "$(id -u)" -eq 0 ]; then
  if ! id "$os_user" >/dev/null 2>&1; then
    useradd --system --user-group --no-create-home --shell /usr/sbin/nologin "$os_user"
  fi
  as_user=(runuser -u "$os_user" --)
  db_user="$os_user"
fi

case "$action" in
  start)
    mkdir -p "$dir/sock"
    if [ "$(id -u)" -eq 0 ]; then
      chown -R "$os_user" "$dir"
    fi
    # PostgreSQL's tools read the working directory, which the unprivileged user may not be able to.
    cd "$dir"
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      "${as_user[@]}" "$bin/initdb" -D "$dir/data" -U "$db_user" --auth=trust -E UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    "${as_user[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
      -o "-c listen_addresses='' -k $dir/sock -c fsync=off -c full_page_writes=off" start >&2 \
      || { cat "$dir/postgres.log" >&2; exit 1; }
    # The socket directory as the URL's host, percent-encoded.
    echo "postgresql://$db_user@${dir//\//%2F}%2Fsock/postgres"
    ;;
  stop)
    cd "$dir"
    if [ -f "$dir/data/postmaster.pid" ]; then
      "${as_user[@]}" "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >&2
    fi
    ;;
  *) usage ;;
esac
