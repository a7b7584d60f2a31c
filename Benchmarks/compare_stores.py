#!/usr/bin/env python3
"""Decisions logged per second into SQLite and into PostgreSQL under the same HTTP load, and the
history lag between two replicas on one PostgreSQL database.

In one run, interleaved (sqlite, postgres, postgres ×2, then again for each --rounds): wrk posts
single events with new ids (the load of compare_http.py) to `riskloop serve` on a fresh SQLite
file, on a fresh PostgreSQL database, and to two replicas on one fresh PostgreSQL database (wrk
split between them, half the connections each). Each decision is committed before its answer, so
decisions logged per second are the stored rows over the load's seconds. HTTPFloor
(Hummingbird alone) takes the same load first, as the ceiling of this machine in this run.

For the two replicas, each one's `riskloop_history_lag_seconds` histogram (from the other
replica's decision to its event in this one's history) is read after the load: the share of
events applied within each bound, and the bound the 99th percentile falls under.

The PostgreSQL cluster it starts keeps fsync on with synchronous_commit off: as durable as
RiskLoop's SQLite (WAL, synchronous=NORMAL), so the two are compared at the same promise.

On two cores, two replicas share the cores with each other, wrk and PostgreSQL: the figure
measures the overhead of a second replica, not scale.

    python3 Benchmarks/compare_stores.py --riskloop .build/release/riskloop [--seconds 20] [--rounds 2]
        [--postgres postgres://USER@HOST:PORT/DB]   (default: a throwaway cluster on port 55436)
"""
import argparse
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

from compare_http import MODEL, POLICY, ROOT, HERE, wait_for, wrk

SCRIPTS = os.path.join(ROOT, "scripts")


def psql(url, sql):
    return subprocess.run(["psql", url, "-tAqc", sql], check=True, capture_output=True, text=True).stdout.strip()


def fresh_postgres(base, name):
    """A new empty database beside `base`'s, and its URL."""
    psql(base, f"DROP DATABASE IF EXISTS {name}")
    psql(base, f"CREATE DATABASE {name}")
    return base.rsplit("/", 1)[0] + "/" + name


def count_decisions(database):
    if database.startswith("postgres://"):
        return int(psql(database, "SELECT COUNT(*) FROM decisions"))
    import sqlite3
    with sqlite3.connect(database) as connection:
        return connection.execute("SELECT COUNT(*) FROM decisions").fetchone()[0]


def lag_histogram(port):
    """The cumulative buckets of riskloop_history_lag_seconds on /metrics, as {bound: count}."""
    import urllib.request
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    buckets = {}
    for bound, count in re.findall(r'riskloop_history_lag_seconds_bucket\{le="([^"]+)"\} (\d+)', text):
        buckets[float("inf") if bound == "+Inf" else float(bound)] = int(count)
    return buckets


def serve_and_load(riskloop, database, ports, seconds, directory):
    """Starts one replica per port on `database`, loads them together, returns (decisions/s, wrk results, lag buckets)."""
    key = subprocess.run([riskloop, "keys", "create", "--role", "score", "--name", "bench", "--db", database],
                         check=True, capture_output=True, text=True).stdout.strip()
    servers = []
    try:
        for index, port in enumerate(ports):
            servers.append(subprocess.Popen(
                [riskloop, "serve", "--db", database, "--model", MODEL, "--policy", POLICY, "--port", str(port),
                 "--replica", f"replica-{index + 1}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            wait_for(f"http://127.0.0.1:{port}/healthz")
        before = count_decisions(database)
        started = time.time()
        if len(ports) == 1:
            results = [wrk(ports[0], key, seconds, directory)]
        else:
            # Two wrk processes at once, each with half of compare_http.py's connections.
            from concurrent.futures import ThreadPoolExecutor
            with ThreadPoolExecutor(len(ports)) as pool:
                results = list(pool.map(lambda port: wrk(port, key, seconds, directory, connections=32 // len(ports)), ports))
        elapsed = time.time() - started
        time.sleep(0.5)  # the last follow of the log
        lags = [lag_histogram(port) for port in ports] if len(ports) > 1 else []
        logged = count_decisions(database) - before
    finally:
        for server in servers:
            server.send_signal(signal.SIGTERM)
        for server in servers:
            server.wait(timeout=60)
    return logged / elapsed, results, lags


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--riskloop", default=os.path.join(ROOT, ".build/release/riskloop"))
    parser.add_argument("--floor", default=os.path.join(HERE, ".build/release/HTTPFloor"))
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--postgres", help="a server where databases may be created (default: a throwaway cluster)")
    arguments = parser.parse_args()
    cluster = None
    with tempfile.TemporaryDirectory(prefix="riskloop-stores-") as directory:
        base = arguments.postgres
        if not base:
            cluster = tempfile.mkdtemp(prefix="riskloop-stores-pg-", dir="/tmp")
            # fsync on, synchronous_commit off: as durable as RiskLoop's SQLite (WAL, synchronous=NORMAL).
            base = subprocess.run([os.path.join(SCRIPTS, "postgres-cluster.sh"), "start", cluster, "55436"],
                                  check=True, capture_output=True, text=True, env=dict(os.environ, RISKLOOP_PG_DURABLE="1")).stdout.strip()
        try:
            floor_server = subprocess.Popen([arguments.floor, "18193"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                wait_for("http://127.0.0.1:18193/healthz")
                floor = wrk(18193, "none", arguments.seconds, directory)
            finally:
                floor_server.send_signal(signal.SIGTERM)
                floor_server.wait(timeout=30)
            runs = []
            for round_index in range(arguments.rounds):
                for name, ports in (("sqlite", [18191]), ("postgres", [18191]), ("postgres ×2", [18191, 18192])):
                    if name == "sqlite":
                        database = os.path.join(directory, f"bench-{round_index}.sqlite")
                    else:
                        database = fresh_postgres(base, f"riskloop_bench_{round_index}_{len(ports)}")
                    rate, results, lags = serve_and_load(arguments.riskloop, database, ports, arguments.seconds, directory)
                    runs.append((round_index + 1, name, rate, results, lags))
        finally:
            if cluster:
                subprocess.run([os.path.join(SCRIPTS, "postgres-cluster.sh"), "stop", cluster], check=False,
                               capture_output=True)
                shutil.rmtree(cluster, ignore_errors=True)
    blas = "n/a (no BLAS on the scoring path of a single event beyond the dot product)"
    print(f"decisions logged per second, wrk -c32 for {arguments.seconds} s per run, HTTPFloor {floor[0]:,.0f} requests/s "
          f"in the same run; BLAS: {blas}")
    for round_index, name, rate, results, lags in runs:
        requests = sum(result[0] for result in results)
        p99 = " / ".join(str(result[1].get("99")) for result in results)
        errors = sum(result[2] for result in results)
        print(f"  round {round_index} {name:<12} {rate:>8,.0f} decisions/s   {requests:>8,.0f} requests/s "
              f"({requests / floor[0]:.2f} of the floor)   p99 {p99}   non-2xx {errors}")
        for replica, buckets in enumerate(lags, start=1):
            total = buckets.get(float("inf"), 0)
            if not total:
                print(f"      replica-{replica}: no events of the other replica applied")
                continue
            shares = "  ".join(f"≤{bound * 1000:g} ms {count / total:.3f}" for bound, count in sorted(buckets.items())
                               if bound != float("inf"))
            p99_bound = next((bound for bound, count in sorted(buckets.items()) if count >= 0.99 * total), float("inf"))
            print(f"      replica-{replica} history lag over {total:,} events: {shares}   p99 ≤ {p99_bound * 1000:g} ms")
    for name in ("postgres", "postgres ×2"):
        ratios = [rate / next(r for i, n, r, _, _ in runs if i == round_index and n == "sqlite")
                  for round_index, n, rate, _, _ in runs if n == name]
        print(f"  {name} ÷ sqlite, decisions/s, per round: " + ", ".join(f"{ratio:.2f}" for ratio in ratios))


if __name__ == "__main__":
    main()
