#!/usr/bin/env bash
# Regenerates Datasets/sample exactly (same bytes): the committed ~50,000-event sample.
# Usage: Datasets/regenerate.sh [path/to/riskloop]   (or: make dataset)
set -euo pipefail
cd "$(dirname "$0")/.."
riskloop="${1:-.build/release/riskloop}"
out=Datasets/sample
rm -rf "$out"
"$riskloop" simulate --customers 1250 --days 30 --start 2026-01-05 --seed 20260105 \
    --fraud-rate 0.01 --drift-date 2026-01-20 --out "$out" --json > "$out.summary.json"
mv "$out.summary.json" "$out/summary.json"
# -n: no name or time stamp in the header, so the archives are byte-for-byte reproducible.
gzip -n -9 "$out/events.jsonl" "$out/truth.csv"
ls -l "$out"
