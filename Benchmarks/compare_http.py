#!/usr/bin/env python3
"""Side-by-side HTTP load: `riskloop serve` against a FastAPI + scikit-learn reference, one run.

Both serve the same model (Tests/RiskScoringEmbeddingTests/Resources/ss7-sample-model.json) and
policy; wrk posts single events (a different id each time) for --seconds to each in turn, from
this machine, and the script prints requests/s, latency percentiles, the ratio, and riskloop's
resident memory at the start and end of its load. Each riskloop decision is also written to its
SQLite store; the reference writes nothing.

A third server, HTTPFloor (Benchmarks/Sources/HTTPFloor), takes the same load first: Hummingbird
alone, reading the same bodies and answering a decision of the same size with no other work. Its
figure is the most any Hummingbird service reaches on this machine under this load (wrk shares
the cores), and riskloop's is also given as a share of it.

    python3 Benchmarks/compare_http.py --riskloop .build/release/riskloop [--seconds 30]
"""
import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
MODEL = os.path.join(ROOT, "Tests/RiskScoringEmbeddingTests/Resources/ss7-sample-model.json")
POLICY = os.path.join(ROOT, "Models/ss7/policy.json")
EVENT = ('{"id":"wrk-\' .. counter .. \'","occurred_at":"2026-02-10T13:05:00Z",'
         '"customer_id":"c\' .. (counter % 500) .. \'","kind":"payment","amount":42.5,"currency":"GBP","channel":"app",'
         '"payee":{"id":"p1","new":false},"device":{"id":"d1","new_for_customer":false,"os":"ios","rooted":false},'
         '"otp":{"channel":"sms"},"telco":{"sim_swap":{"latest_change":null,"monitored_period_days":90},'
         '"call_forwarding":["inactive"],"roaming":{"roaming":false,"country_codes":[]},'
         '"reachability":{"reachable":true,"connectivity":["DATA","SMS"]},"location_verification":"TRUE",'
         '"ss7":{"foreign_location_updates_24h":0,"sri_for_sm_requests_24h":1}}}')


def wait_for(url, seconds=30):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except Exception:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        return int(re.search(r"VmRSS:\s+(\d+)", status.read()).group(1))


def wrk(port, key, seconds, directory, connections=32):
    script = os.path.join(directory, f"score-{port}.lua")
    with open(script, "w") as file:
        # Each wrk thread has its own Lua state: give each its own id range so events never repeat.
        file.write('local counter = 0\nlocal threads = 0\n')
        file.write('function setup(thread) threads = threads + 1; thread:set("id", threads) end\n')
        file.write('function init(args) counter = id * 1000000000 end\n')
        file.write('wrk.method = "POST"\n')
        file.write(f'wrk.headers["Authorization"] = "Bearer {key}"\nwrk.headers["Content-Type"] = "application/json"\n')
        file.write(f"request = function()\n  counter = counter + 1\n  local body = '{EVENT}'\n")
        file.write('  return wrk.format(nil, "/v1/score", nil, body)\nend\n')
    output = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", script, f"http://127.0.0.1:{port}"],
                            check=True, capture_output=True, text=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    latencies = dict(re.findall(r"\s+(50|90|99)%\s+([\d.]+\w+)", output))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return rate, latencies, int(errors.group(1)) if errors else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--riskloop", default=os.path.join(ROOT, ".build/release/riskloop"))
    parser.add_argument("--floor", default=os.path.join(HERE, ".build/release/HTTPFloor"))
    parser.add_argument("--seconds", type=int, default=30)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="riskloop-http-") as directory:
        floor_server = subprocess.Popen([arguments.floor, "18183"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for("http://127.0.0.1:18183/healthz")
            floor = wrk(18183, "none", arguments.seconds, directory)
        finally:
            floor_server.send_signal(signal.SIGTERM)
            floor_server.wait(timeout=30)
        database = os.path.join(directory, "serve.sqlite")
        key = subprocess.run([arguments.riskloop, "keys", "create", "--role", "score", "--name", "bench", "--db", database],
                             check=True, capture_output=True, text=True).stdout.strip()
        server = subprocess.Popen([arguments.riskloop, "serve", "--db", database, "--model", MODEL, "--policy", POLICY,
                                   "--port", "18181"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for("http://127.0.0.1:18181/healthz")
            start_rss = rss_kib(server.pid)
            ours = wrk(18181, key, arguments.seconds, directory)
            end_rss = rss_kib(server.pid)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
        environment = dict(os.environ, RISKLOOP_MODEL=MODEL, RISKLOOP_POLICY=POLICY)
        reference = subprocess.Popen([sys.executable, "-m", "uvicorn", "reference_service:app", "--port", "18182", "--workers", "2",
                                      "--log-level", "warning"], cwd=HERE, env=environment,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for("http://127.0.0.1:18182/docs")
            theirs = wrk(18182, key, arguments.seconds, directory)
        finally:
            reference.send_signal(signal.SIGTERM)
            reference.wait(timeout=30)
    print(f"single-event scoring, wrk -t2 -c32 for {arguments.seconds} s each, on this machine:")
    services = (("Hummingbird alone (floor)", floor), ("riskloop serve", ours), ("FastAPI + scikit-learn", theirs))
    for name, (rate, latencies, errors) in services:
        print(f"  {name:<26} {rate:>9,.0f} requests/s   p50 {latencies.get('50')}  p90 {latencies.get('90')}  p99 {latencies.get('99')}"
              f"   non-2xx {errors}")
    print(f"  ratio riskloop / reference: {ours[0] / theirs[0]:.1f}x   (target: riskloop ≥ 15,000 requests/s, p99 < 5 ms)")
    print(f"  riskloop / floor: {ours[0] / floor[0]:.2f}   (the share of the framework's own ceiling that riskloop reaches)")
    print(f"  riskloop resident memory: {start_rss / 1024:.0f} MiB at the start, {end_rss / 1024:.0f} MiB after the load")


if __name__ == "__main__":
    main()
