#!/usr/bin/env bash
# Retrains the shipped baseline models on the committed sample and writes their model cards:
# Models/ss7/baseline/NAME.json and NAME.card.html for each NAME.args (the training options, one
# per line). The weights come out bit for bit the same with the same BLAS (a test checks it).
# Usage: scripts/train-baselines.sh [path/to/riskloop]   (or: make baselines)
set -euo pipefail
cd "$(dirname "$0")/.."
riskloop="$(cd "$(dirname "${1:-.build/release/riskloop}")" && pwd)/$(basename "${1:-.build/release/riskloop}")"
baseline="$PWD/Models/ss7/baseline"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The files under the names the artifacts record as their sources.
gunzip -c Datasets/sample/events.jsonl.gz > "$work/events.jsonl"
cp Datasets/sample/labels.csv Models/ss7/feature-spec.json Models/ss7/policy.json "$work/"
cd "$work"
# The shipped baselines are signed with the committed sample key (trusted only while no
# RISKLOOP_TRUSTED_KEYS is set); a deployment re-signs what it adopts with its own.
export RISKLOOP_SIGNING_KEY="$OLDPWD/Models/keys/sample-signing.key"
for args in "$baseline"/*.args; do
    name=$(basename "$args" .args)
    mapfile -t options < "$args"
    "$riskloop" train --data events.jsonl --labels labels.csv --spec feature-spec.json "${options[@]}" \
        --out "$baseline/$name.json" > /dev/null
    "$riskloop" export "$baseline/$name.json" --format card --policy policy.json --out "$baseline/$name.card.html"
    echo "$baseline/$name.json: $(grep -m1 '"id"' "$baseline/$name.json")"
done
