#!/usr/bin/env python3
"""Side-by-side ingest: RiskLoop against a plain Python reference, in the same run.

Both load the same 100,000 simulated events (JSON lines, ~670 bytes each) into a fresh SQLite
file in WAL mode with synchronous=NORMAL, the same table and the same three indexes, in
transactions of 10,000 lines. The reference only checks that each line is a JSON object with the
four required fields (json.loads + key lookups); RiskLoop validates the whole event contract.

    python3 Benchmarks/compare_ingest.py --riskloop .build/release/riskloop
"""
import argparse
import json
import os
import sqlite3
import subprocess
import tempfile
import time

SCHEMA = """
CREATE TABLE events (id TEXT NOT NULL PRIMARY KEY, occurred_at TEXT NOT NULL, customer_id TEXT NOT NULL,
                     kind TEXT NOT NULL, payload TEXT NOT NULL, batch_id INTEGER);
CREATE INDEX events_by_time ON events(occurred_at);
CREATE INDEX events_by_customer ON events(customer_id, occurred_at);
"""
TARGET_EVENTS_PER_SECOND = 100_000


def python_reference(path, database, batch_size=10_000):
    connection = sqlite3.connect(database, isolation_level=None)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = NORMAL")
    connection.executescript(SCHEMA)
    started = time.perf_counter()
    batch = []
    inserted = 0

    def flush():
        nonlocal inserted
        connection.execute("BEGIN IMMEDIATE")
        cursor = connection.executemany(
            "INSERT INTO events VALUES (?, ?, ?, ?, ?, 1) ON CONFLICT(id) DO NOTHING", batch)
        inserted += cursor.rowcount
        connection.execute("COMMIT")
        batch.clear()

    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            line = line.rstrip("\n")
            event = json.loads(line)
            for field in ("id", "occurred_at", "customer_id", "kind"):
                if field not in event:
                    raise ValueError(f"{path}:{number}: missing {field}")
            batch.append((event["id"], event["occurred_at"], event["customer_id"], event["kind"], line))
            if len(batch) == batch_size:
                flush()
    if batch:
        flush()
    elapsed = time.perf_counter() - started
    connection.close()
    return inserted, elapsed


def riskloop_ingest(riskloop, path, database):
    started = time.perf_counter()
    output = subprocess.run([riskloop, "ingest", "--db", database, path, "--json"],
                            check=True, capture_output=True, text=True).stdout
    elapsed = time.perf_counter() - started
    return json.loads(output)[0]["inserted"], elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--riskloop", default=".build/release/riskloop")
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3, help="runs of each; the best is reported")
    arguments = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="riskloop-compare-") as directory:
        subprocess.run([arguments.riskloop, "simulate", "--customers", "2600", "--days", "30", "--seed", "1",
                        "--out", directory, "--json"], check=True, capture_output=True)
        path = os.path.join(directory, "events-sample.jsonl")
        with open(os.path.join(directory, "events.jsonl"), encoding="utf-8") as source, \
                open(path, "w", encoding="utf-8") as sample:
            for _, line in zip(range(arguments.events), source):
                sample.write(line)

        results = {}
        for name, run in (("riskloop", lambda db: riskloop_ingest(arguments.riskloop, path, db)),
                          ("python json+sqlite3", lambda db: python_reference(path, db))):
            best = None
            for attempt in range(arguments.runs):
                database = os.path.join(directory, f"{name.split()[0]}-{attempt}.sqlite")
                inserted, elapsed = run(database)
                assert inserted == arguments.events, f"{name} stored {inserted} events"
                best = elapsed if best is None else min(best, elapsed)
            results[name] = arguments.events / best

    print(f"ingest of {arguments.events:,} events into a fresh WAL database (best of {arguments.runs}):")
    for name, rate in results.items():
        print(f"  {name:<22} {rate:>10,.0f} events/s")
    ratio = results["riskloop"] / results["python json+sqlite3"]
    print(f"  riskloop / python reference: {ratio:.2f}x")
    print(f"  riskloop / target {TARGET_EVENTS_PER_SECOND:,} events/s: {results['riskloop'] / TARGET_EVENTS_PER_SECOND:.2f}x")


if __name__ == "__main__":
    main()
