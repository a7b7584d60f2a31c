#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests and the cluster demo, run as an unprivileged user
# on a local port (never the system's own cluster):
#   scripts/postgres-cluster.sh start DIR [PORT]   installs Debian's postgresql when missing, creates
#                                                   the cluster in DIR, starts it on 127.0.0.1:PORT
#                                                   (default 55432), creates the database `riskloop`
#                                                   and prints its URL on stdout
#   scripts/postgres-cluster.sh stop DIR            stops it (DIR can then be removed)
# The cluster trusts local connections and runs with fsync off: it holds test data only. With
# RISKLOOP_PG_DURABLE=1 (the benchmarks) it keeps fsync on and synchronous_commit off, which is
# as durable as RiskLoop's SQLite (WAL, synchronous=NORMAL): nothing committed is lost when a
# process dies, the last commits may be lost when the machine does.
set -euo pipefail

command=${1:-}
dir=${2:-}
port=${3:-55432}
if [ -z "$command" ] || [ -z "$dir" ]; then
    echo "usage: $0 start DIR [PORT] | stop DIR" >&2
    exit 2
fi

bin_dir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }
if [ -z "$(bin_dir)" ]; then
    "$(dirname "$0")/install-deps.sh" postgresql >&2
fi
bin=$(bin_dir)
if [ -z "$bin" ]; then
    echo "error: no PostgreSQL server under /usr/lib/postgresql after installing postgresql" >&2
    exit 1
fi

# PostgreSQL refuses to run as root: as root, the cluster belongs to the `postgres` user that
# Debian's package creates.
as_owner=()
if [ "$(id -u)" -eq 0 ]; then
    as_owner=(runuser -u postgres --)
fi

case "$command" in
start)
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if [ "$(id -u)" -eq 0 ]; then chown postgres "$dir"; fi
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        "${as_owner[@]}" "$bin/initdb" -D "$dir/data" -U riskloop -A trust --no-sync -E UTF8 >"$dir/initdb.log" 2>&1 || {
            cat "$dir/initdb.log" >&2
            exit 1
        }
    fi
    durability="-c fsync=off -c synchronous_commit=off"
    if [ "${RISKLOOP_PG_DURABLE:-}" = 1 ]; then durability="-c fsync=on -c synchronous_commit=off"; fi
    "${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=400 $durability" >&2 || {
        cat "$dir/server.log" >&2
        exit 1
    }
    "$bin/psql" -h 127.0.0.1 -p "$port" -U riskloop -d postgres -tAq \
        -c "SELECT 1 FROM pg_database WHERE datname = 'riskloop'" | grep -q 1 ||
        "$bin/createdb" -h 127.0.0.1 -p "$port" -U riskloop riskloop
    echo "postgres://riskloop@127.0.0.1:$port/riskloop"
    ;;
stop)
    if [ -f "$dir/data/postmaster.pid" ]; then
        "${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >&2
    fi
    ;;
*)
    echo "usage: $0 start DIR [PORT] | stop DIR" >&2
    exit 2
    ;;
esac
