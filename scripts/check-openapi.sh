#!/usr/bin/env bash
# Checks the committed openapi.yaml against a running `riskloop serve` with schemathesis, every
# check on (`--checks all`): requests generated from the spec, valid ones included, must get the
# statuses, headers and bodies the spec describes. The server runs on a fresh store with the
# shipped logistic baseline as champion and an admin key.
# Usage: scripts/check-openapi.sh [path/to/riskloop] [seconds]   (CI passes the debug binary)
set -euo pipefail
cd "$(dirname "$0")/.."
riskloop="${1:-$(swift build --show-bin-path)/riskloop}"
seconds="${2:-120}"
venv=.venv-schemathesis
if [ ! -x "$venv/bin/schemathesis" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet -r scripts/openapi-requirements.txt
fi
work=$(mktemp -d)
server=""
cleanup() {
    [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
db="$work/openapi.sqlite"
key=$("$riskloop" keys create --role admin --name schemathesis --db "$db")
port=$((20000 + RANDOM % 20000))
"$riskloop" serve --db "$db" --port "$port" --model Models/ss7/baseline/logistic-regression.json \
    --policy Models/ss7/policy.json > "$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 1 300); do
    "$venv/bin/python" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/healthz', timeout=1)" \
        2> /dev/null && break
    sleep 0.1
done
"$venv/bin/schemathesis" run "http://127.0.0.1:$port/openapi.yaml" --url "http://127.0.0.1:$port" \
    -H "Authorization: Bearer $key" --checks all --max-time "$seconds" --seed 19 --no-color
