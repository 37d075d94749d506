#!/usr/bin/env bash
# Runs a command against a throwaway PostgreSQL cluster, then stops the cluster and removes it.
#
#   scripts/with-postgres.sh npm run test:db
#   scripts/with-postgres.sh npx vitest run --project db test/services/plan-import.test.ts
#
# The command gets DATABASE_URL=postgres://postgres@127.0.0.1:<port>/postgres (plus PGHOST, PGPORT,
# PGUSER for psql). The cluster lives in a fresh temporary folder, listens on 127.0.0.1 only, trusts
# every local connection and runs with fsync off: it is for tests, never for data you want to keep.
#
# Settings (environment):
#   PG_BIN   folder with initdb, pg_ctl, pg_isready (default: /usr/lib/postgresql/15/bin)
#   PG_PORT  first port to try (default: 54329; the next free one up to +50 is used)
# As root, the cluster runs as the `postgres` user, because PostgreSQL refuses to run as root.
set -euo pipefail

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_PORT=${PG_PORT:-54329}

if [[ $# -eq 0 ]]; then
  echo "usage: $0 <command> [args...]" >&2
  exit 2
fi

for tool in initdb pg_ctl pg_isready; do
  if [[ ! -x "$PG_BIN/$tool" ]]; then
    echo "with-postgres: $PG_BIN/$tool not found." >&2
    echo "  Install PostgreSQL 15 (Debian: apt-get install -y postgresql) or set PG_BIN." >&2
    exit 1
  fi
done

# Run a PostgreSQL tool as the cluster's owner.
as_owner() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

if [[ $(id -u) -eq 0 ]] && ! id postgres >/dev/null 2>&1; then
  echo "with-postgres: running as root, but there is no 'postgres' user to own the cluster." >&2
  exit 1
fi

# True when nothing listens on 127.0.0.1:$1 and we may bind it.
port_is_free() {
  node -e '
    const server = require("node:net").createServer();
    server.once("error", () => process.exit(1));
    server.listen(Number(process.argv[1]), "127.0.0.1", () => server.close(() => process.exit(0)));
  ' "$1" 2>/dev/null
}

port=""
for candidate in $(seq "$PG_PORT" $((PG_PORT + 50))); do
  if port_is_free "$candidate"; then
    port=$candidate
    break
  fi
done
if [[ -z $port ]]; then
  echo "with-postgres: no free port in $PG_PORT-$((PG_PORT + 50)) on 127.0.0.1." >&2
  exit 1
fi

cluster_dir=$(mktemp -d "${TMPDIR:-/tmp}/pp-postgres.XXXXXX")
if [[ $(id -u) -eq 0 ]]; then
  chown postgres: "$cluster_dir"
fi
data_dir="$cluster_dir/data"
log_file="$cluster_dir/log"
command_status=0
started=false

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
  local status=$?
  # Nothing may stop the clean-up half way: not a failed step, nor a reader that went away (`| head`).
  set +e
  trap '' PIPE
  if [[ $started == true ]]; then
    as_owner "$PG_BIN/pg_ctl" stop -D "$data_dir" -m fast -w -t 60 >/dev/null 2>&1 ||
      as_owner "$PG_BIN/pg_ctl" stop -D "$data_dir" -m immediate -w -t 30 >/dev/null 2>&1
  fi
  if [[ $status -ne 0 || $command_status -ne 0 ]] && [[ -f $log_file ]]; then
    echo "---- PostgreSQL server log ($log_file) ----" >&2
    cat "$log_file" >&2
    echo "---- end of PostgreSQL server log ----" >&2
  fi
  rm -rf "$cluster_dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "with-postgres: creating a PostgreSQL cluster in $cluster_dir"
as_owner "$PG_BIN/initdb" -D "$data_dir" --auth=trust -U postgres --encoding=UTF8 --locale=C.UTF-8 \
  --no-sync >"$cluster_dir/initdb.log" 2>&1 || {
  cat "$cluster_dir/initdb.log" >&2
  exit 1
}

echo "with-postgres: starting PostgreSQL on 127.0.0.1:$port"
started=true
as_owner "$PG_BIN/pg_ctl" start -D "$data_dir" -l "$log_file" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -k $cluster_dir -p $port -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
  >/dev/null

ready=false
for _ in $(seq 1 60); do
  if "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres; then
    ready=true
    break
  fi
  sleep 0.5
done
if [[ $ready != true ]]; then
  echo "with-postgres: PostgreSQL did not accept connections within 30 s." >&2
  exit 1
fi
echo "with-postgres: PostgreSQL is ready; running: $*"

export DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
export PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres
# In the background, so that a TERM or INT (a CI time-out, Ctrl-C) is passed on to the command at
# once and the cluster is still stopped and removed afterwards.
"$@" &
child=$!
# shellcheck disable=SC2317 # called by the INT and TERM traps
stop_child() {
  kill -TERM "$child" 2>/dev/null || true
  wait "$child" 2>/dev/null || true
  exit "$1"
}
trap 'stop_child 130' INT
trap 'stop_child 143' TERM
wait "$child" || command_status=$?
exit "$command_status"
