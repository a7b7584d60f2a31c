#!/usr/bin/env python3
"""Scoring latency with enrichment against the stub operator (docs/operators.md).

Starts `riskloop operator-stub` with --latency-ms (default 20) on the demo's operator view, and
`riskloop serve` with the shipped logistic baseline, once without --operators and once with
(acquisition `always`), then sends events one at a time and reports p50/p99 per case:
  plain  - events with their telco signals, no operators configured (the reference);
  miss   - events naming a line the server has not asked about yet: every call a miss;
  warm   - events of lines already asked within the cache's time to live: every answer cached
           (but a 404 or 422 answer, which is not cached);
  carried - events carrying exactly the signals the operator answered for their line (read from
           the misses as stored), sent to the server with operators in pairs with the warm ones
           (which goes first alternates): the reference for what cached answers add, on the same
           server and store.
Usage: scripts/enrichment_latency.py RISKLOOP VIEW.jsonl [--latency-ms 20] [--events 300]
"""
import argparse, json, os, sqlite3, statistics, subprocess, sys, tempfile, time, urllib.request

def wait_port(port):
    import socket
    for _ in range(600):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nothing listens on {port}")

def wait(url):
    for _ in range(300):
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except Exception:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not answer")

def post(url, key, body):
    request = urllib.request.Request(url, data=body.encode(), headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=30) as response:
        answer = json.loads(response.read())
    return (time.perf_counter() - started) * 1000, answer

def quantiles(values):
    values = sorted(values)
    return values[len(values) // 2], values[min(len(values) - 1, int(len(values) * 0.99))]

def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("riskloop"); parser.add_argument("view")
    parser.add_argument("--latency-ms", type=float, default=20); parser.add_argument("--events", type=int, default=300)
    args = parser.parse_args()
    work = tempfile.mkdtemp()
    lines = {}
    with open(args.view) as f:
        for line in f:
            item = json.loads(line)
            lines.setdefault(item["phone_number"], item)
    numbers = list(lines)[: args.events]
    subprocess.run(["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", f"{work}/client.pem"], check=True)
    subprocess.run(["openssl", "ec", "-in", f"{work}/client.pem", "-pubout", "-out", f"{work}/client.pub"], check=True, capture_output=True)
    processes = []
    try:
        stub_port, port = 19400, 19401
        processes.append(subprocess.Popen([args.riskloop, "operator-stub", "--port", str(stub_port), "--truth", args.view,
            "--client", f"bench={work}/client.pub", "--latency-ms", str(args.latency_ms)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_port(stub_port)
        base = f"http://127.0.0.1:{stub_port}"
        apis = {api: {"price": 0.01} for api in ["sim_swap", "device_swap", "call_forwarding", "roaming", "reachability", "number_recycling"]}
        config = {"deadline_ms": 150, "acquisition": "always", "operators": [{"name": "stub", "prefixes": ["+"], "base_url": base,
            "token_url": base + "/oauth/token", "client_id": "bench", "credentials_file": "client.pem", "apis": apis}]}
        json.dump(config, open(f"{work}/operators.json", "w"))
        results = {}
        for case in ["plain", "enriched"]:
            db = f"{work}/{case}.sqlite"
            key = subprocess.run([args.riskloop, "keys", "create", "--role", "score", "--db", db], check=True, capture_output=True, text=True).stdout.strip()
            command = [args.riskloop, "serve", "--db", db, "--port", str(port), "--model", "Models/ss7/baseline/logistic-regression.json",
                "--policy", "Models/ss7/policy.json"]
            if case == "enriched":
                command += ["--operators", f"{work}/operators.json"]
            server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            processes.append(server)
            wait(f"http://127.0.0.1:{port}/healthz")
            now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            answered = {}
            def event(i, number, telco):
                customer = {"phone_number": number}
                if lines[number].get("subscriber_since"):
                    customer["enrolled_at"] = lines[number]["subscriber_since"]
                item = {"id": f"{case}-{i}", "occurred_at": now, "customer_id": "c" + number[-6:], "kind": "payment", "amount": 50,
                        "otp": {"channel": "sms"}, "customer": customer}
                if telco == "answered":
                    item["telco"] = answered[number]
                elif telco:
                    item["telco"] = dict(lines[number]["telco"], number_recycled=False)
                return json.dumps(item)
            url = f"http://127.0.0.1:{port}/v1/score"
            if case == "plain":
                results["plain"] = [post(url, key, event(i, n, True))[0] for i, n in enumerate(numbers)]
            else:
                miss = [post(url, key, event(i, n, False)) for i, n in enumerate(numbers)]
                reasons = {}
                for _, answer in miss:
                    for origin in answer["signals"].values():
                        if isinstance(origin, dict):
                            reason = origin.get("reason", origin["source"])
                            reasons[reason] = reasons.get(reason, 0) + 1
                unknown = reasons
                results["miss"] = [t for t, _ in miss]
                # What the operator answered for each line, as the server stored it.
                stored = sqlite3.connect(db)
                for i, n in enumerate(numbers):
                    (payload,) = stored.execute("SELECT payload FROM events WHERE id = ?", (f"{case}-{i}",)).fetchone()
                    answered[n] = json.loads(payload).get("telco", {})
                stored.close()
                # In pairs, one of each for the same line, so that both see the server in the same
                # state; which goes first alternates (the first of a pair is about 0.1 ms slower,
                # whichever it is).
                results["warm"], results["carried"] = [], []
                for i, n in enumerate(numbers):
                    pair = [("warm", event(len(numbers) + i, n, False)), ("carried", event(2 * len(numbers) + i, n, "answered"))]
                    for name, body in (pair if i % 2 == 0 else reversed(pair)):
                        results[name].append(post(url, key, body)[0])
                results["timeouts"] = unknown
            server.terminate(); server.wait()
        for case in ["plain", "miss", "warm", "carried"]:
            p50, p99 = quantiles(results[case])
            print(f"{case:7s} p50 {p50:7.2f} ms   p99 {p99:7.2f} ms   ({len(results[case])} events)")
        added = quantiles(results["warm"])[0] - quantiles(results["carried"])[0]
        print(f"warm minus carried, p50: {added * 1000:.0f} µs (HTTP and the client's timing included; make bench measures the step alone)")
        print(f"origins of the misses' signals: {results['timeouts']}")
    finally:
        for process in processes:
            process.terminate()

if __name__ == "__main__":
    main()
