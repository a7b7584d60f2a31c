#!/usr/bin/env bash
# make demo-cluster: the demo's replay through two `riskloop serve` replicas sharing a throwaway
# PostgreSQL cluster (installed when missing), which is stopped and removed at the end.
#   scripts/demo-cluster.sh RISKLOOP DIR [PG_PORT] [FIRST_REPLICA_PORT]
set -euo pipefail

riskloop=${1:?usage: $0 RISKLOOP DIR [PG_PORT] [FIRST_REPLICA_PORT]}
dir=${2:?usage: $0 RISKLOOP DIR [PG_PORT] [FIRST_REPLICA_PORT]}
pg_port=${3:-55440}
replica_port=${4:-8181}
scripts=$(cd "$(dirname "$0")" && pwd)

pg_dir=$(mktemp -d /tmp/riskloop-demo-pg.XXXXXX)
trap '"$scripts/postgres-cluster.sh" stop "$pg_dir" || true; rm -rf "$pg_dir"' EXIT
echo "Starting a PostgreSQL cluster on 127.0.0.1:$pg_port (in $pg_dir)"
url=$("$scripts/postgres-cluster.sh" start "$pg_dir" "$pg_port")
"$riskloop" demo --dir "$dir" --db "$url" --replicas 2 --port "$replica_port"
