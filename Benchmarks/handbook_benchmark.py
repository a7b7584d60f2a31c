#!/usr/bin/env python3
"""A public benchmark: card transactions in the manner of the Fraud-Detection Handbook.

The data come from a generator written here from the handbook's published description of its
transaction simulator (Le Borgne et al., "Reproducible Machine Learning for Credit Card Fraud
Detection - Practical Handbook", chapter 3.2 "Transaction data simulator"); the protocol is its
baseline (chapter 3.4): train on 7 days from 2018-07-25, wait 7 days for the labels, test on the
next 7 days without the customers already known to be defrauded, and report AUC ROC, average
precision and card precision among the 100 riskiest cards a day (CP@100).

One run reports, on the same transactions:

- scikit-learn's logistic regression on the handbook's 15 features, computed here with numpy as
  the handbook computes them with pandas (the reference);
- RiskLoop computing features itself from the raw transactions through a spec, trained with
  `riskloop train` (logistic regression and naive Bayes): Models/handbook/baseline-spec.json (the
  handbook's features as a spec), Models/handbook/feature-spec.json (bins, ratios to the
  customer's usual, spreads and crosses; for logistic regression) and
  Models/handbook/naive-bayes-spec.json (every number in bins; for naive Bayes).

RiskLoop sees events `{"id": "tx<N>", "occurred_at", "customer_id": "c<N>", "kind": "payment",
"amount", "terminal_id": "t<N>"}` and label versions reported 7 days after each transaction
(`--label-history`, every label, for the terminals' fraud rates); it is trained on the labels of the
training week only (`--labels`).

    python3 Benchmarks/handbook_benchmark.py --riskloop .build/release/riskloop [--json out.json]
"""
import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.preprocessing import StandardScaler

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DAY = 86_400
START = dt.datetime(2018, 4, 1, tzinfo=dt.timezone.utc)
# The handbook's baseline protocol.
TRAIN_START_DAY = (dt.datetime(2018, 7, 25, tzinfo=dt.timezone.utc) - START).days
TRAIN_DAYS, DELAY_DAYS, TEST_DAYS = 7, 7, 7
# The handbook's published baseline for logistic regression, as issue 24 quotes it.
PUBLISHED = {"auc": 0.870, "ap": 0.606, "cp100": 0.291}


# MARK: The generator, from the chapter's description


def generate(seed, customers, terminals, days, radius):
    """Transactions as (seconds since START, customer, terminal, amount, fraud), in time order."""
    rng = np.random.default_rng(seed)
    # Customers: a home on a 100 × 100 grid, a mean amount U(5, 100) with half of it as spread,
    # and U(0, 4) transactions a day. Terminals: a place on the same grid.
    home = rng.uniform(0, 100, (customers, 2))
    mean_amount = rng.uniform(5, 100, customers)
    std_amount = mean_amount / 2
    per_day = rng.uniform(0, 4, customers)
    place = rng.uniform(0, 100, (terminals, 2))
    # Each customer pays only at terminals within `radius` of home.
    reachable = []
    for first in range(0, customers, 500):
        distance = np.linalg.norm(home[first:first + 500, None, :] - place[None, :, :], axis=2)
        reachable += [np.flatnonzero(row < radius) for row in distance]

    times, owners, used, amounts = [], [], [], []
    for customer in range(customers):
        if len(reachable[customer]) == 0:
            continue
        counts = rng.poisson(per_day[customer], days)
        total = int(counts.sum())
        if total == 0:
            continue
        day = np.repeat(np.arange(days), counts)
        # The time of day: normal around noon (sd 20,000 s); times outside the day are dropped.
        second = np.rint(rng.normal(DAY / 2, 20_000, total))
        amount = rng.normal(mean_amount[customer], std_amount[customer], total)
        negative = amount < 0
        amount[negative] = rng.uniform(0, 2 * mean_amount[customer], int(negative.sum()))
        terminal = rng.choice(reachable[customer], total)
        keep = (second > 0) & (second < DAY)
        times.append(day[keep] * DAY + second[keep].astype(np.int64))
        owners.append(np.full(int(keep.sum()), customer))
        used.append(terminal[keep])
        amounts.append(np.round(amount[keep], 2))
    time_s = np.concatenate(times)
    order = np.argsort(time_s, kind="stable")
    time_s = time_s[order]
    customer = np.concatenate(owners)[order]
    terminal = np.concatenate(used)[order]
    amount = np.concatenate(amounts)[order]
    day = time_s // DAY

    # Scenario 1: any amount above 220 is fraud.
    fraud = amount > 220
    # Scenario 2: two terminals a day are compromised; their next 28 days of transactions are fraud.
    compromised = np.zeros((terminals, days + 1), dtype=bool)
    for start in range(days):
        for t in rng.choice(terminals, 2, replace=False):
            compromised[t, start:start + 28] = True
    fraud |= compromised[terminal, day]
    # Scenario 3: three customers a day have their credentials stolen; over the next 14 days a
    # third of their transactions are fraud, at five times the amount.
    by_customer = np.argsort(customer, kind="stable")
    sorted_customer = customer[by_customer]
    for start in range(days):
        for victim in rng.choice(customers, 3, replace=False):
            lo, hi = np.searchsorted(sorted_customer, [victim, victim + 1])
            rows = by_customer[lo:hi]
            rows = rows[(day[rows] >= start) & (day[rows] < start + 14)]
            if len(rows) == 0:
                continue
            chosen = rng.choice(rows, len(rows) // 3, replace=False)
            amount[chosen] = np.round(amount[chosen] * 5, 2)
            fraud[chosen] = True
    return time_s, customer, terminal, amount, fraud


# MARK: The handbook's 15 features, as its pandas code computes them


def windowed(key, time_s, values, seconds):
    """For each row, the sum of `values` over its key's rows in (t − seconds, t], rows taken in
    order (pandas' time-based rolling sum by group, the current row included)."""
    order = np.lexsort((np.arange(len(key)), time_s, key))
    combined = key[order].astype(np.float64) * 1e9 + time_s[order]
    cumulative = np.concatenate([[0.0], np.cumsum(values[order])])
    first = np.searchsorted(combined, combined - seconds, side="right")
    out = np.empty(len(key))
    out[order] = cumulative[np.arange(1, len(key) + 1)] - cumulative[first]
    return out


def handbook_features(time_s, customer, terminal, amount, fraud):
    ones = np.ones(len(time_s))
    columns = [amount]
    weekday = (START.weekday() + time_s // DAY) % 7
    columns.append((weekday >= 5).astype(float))
    columns.append(((time_s % DAY) // 3600 <= 6).astype(float))
    for days in (1, 7, 30):
        count = windowed(customer, time_s, ones, days * DAY)
        total = windowed(customer, time_s, amount, days * DAY)
        columns += [count, total / count]
    delay = DELAY_DAYS * DAY
    tx_delay = windowed(terminal, time_s, ones, delay)
    fraud_delay = windowed(terminal, time_s, fraud.astype(float), delay)
    for days in (1, 7, 30):
        tx = windowed(terminal, time_s, ones, delay + days * DAY) - tx_delay
        frauds = windowed(terminal, time_s, fraud.astype(float), delay + days * DAY) - fraud_delay
        columns += [tx, np.divide(frauds, tx, out=np.zeros(len(tx)), where=tx > 0)]
    return np.column_stack(columns)


# MARK: The protocol


def split(time_s, customer, fraud):
    """Training rows, and test rows without the customers known to be defrauded by then."""
    day = time_s // DAY
    train = np.flatnonzero((day >= TRAIN_START_DAY) & (day < TRAIN_START_DAY + TRAIN_DAYS))
    known = set(customer[train][fraud[train]].tolist())
    test = []
    for offset in range(TEST_DAYS):
        # Frauds found during the delay, up to the day before, are known by then.
        delay_day = TRAIN_START_DAY + TRAIN_DAYS + offset - 1
        known |= set(customer[(day == delay_day) & fraud].tolist())
        rows = np.flatnonzero(day == TRAIN_START_DAY + TRAIN_DAYS + DELAY_DAYS + offset)
        test.append(rows[~np.isin(customer[rows], list(known))])
    return train, np.concatenate(test)


def card_precision_at(k, day, customer, fraud, scores):
    """CP@k: each test day, the k customers with the highest score among their transactions; the
    share of them defrauded; customers found on an earlier day left out; the mean over days."""
    found, precisions = set(), []
    for today in np.unique(day):
        rows = np.flatnonzero(day == today)
        rows = rows[~np.isin(customer[rows], list(found))]
        best, defrauded = {}, {}
        for row in rows:
            c = int(customer[row])
            best[c] = max(best.get(c, -1.0), scores[row])
            defrauded[c] = defrauded.get(c, False) or bool(fraud[row])
        top = sorted(best, key=lambda c: -best[c])[:k]
        hits = [c for c in top if defrauded[c]]
        precisions.append(len(hits) / k)
        found |= set(hits)
    return float(np.mean(precisions))


def metrics(rows, time_s, customer, fraud, scores):
    return {
        "auc": roc_auc_score(fraud[rows], scores),
        "ap": average_precision_score(fraud[rows], scores),
        "cp100": card_precision_at(100, time_s[rows] // DAY, customer[rows], fraud[rows], scores),
    }


# MARK: RiskLoop's side


def iso(seconds):
    return (START + dt.timedelta(seconds=int(seconds))).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_files(directory, rows, train, time_s, customer, terminal, amount, fraud):
    """The events RiskLoop reads (`rows`, in time order), every label reported 7 days after its
    transaction, and the labels of the training week."""
    events = os.path.join(directory, "events.jsonl")
    history = os.path.join(directory, "labels.csv")
    training = os.path.join(directory, "train-labels.csv")
    in_train = np.zeros(len(time_s), dtype=bool)
    in_train[train] = True
    with open(events, "w") as e, open(history, "w") as h, open(training, "w") as t:
        h.write("event_id,outcome,reported_at,source\n")
        t.write("event_id,outcome,reported_at,source\n")
        for row in rows:
            e.write(
                f'{{"id":"tx{row}","occurred_at":"{iso(time_s[row])}","customer_id":"c{customer[row]}",'
                f'"kind":"payment","amount":{amount[row]:.2f},"terminal_id":"t{terminal[row]}"}}\n')
            label = f"tx{row},{'fraud' if fraud[row] else 'genuine'},{iso(time_s[row] + DELAY_DAYS * DAY)},handbook\n"
            h.write(label)
            if in_train[row]:
                t.write(label)
    return events, history, training


def riskloop(binary, directory, spec, algorithm, events, history, training):
    model = os.path.join(directory, f"{os.path.basename(spec)}.{algorithm}.json")
    scores = os.path.join(directory, f"{os.path.basename(spec)}.{algorithm}.csv")
    started = time.perf_counter()
    train = [binary, "train", "--data", events, "--spec", spec, "--labels", training, "--label-history", history,
             "--holdout-fraction", "0", "--algorithm", algorithm, "--out", model, "--allow-unsigned", "--json"]
    if algorithm == "logistic":
        # scikit-learn's fit on StandardScaler'd columns, C = 1.
        train += ["--standardize"]
    subprocess.run(train, check=True, stdout=subprocess.DEVNULL)
    subprocess.run([binary, "score", "--model", model, events, "--labels", history, "--out", scores, "--allow-unsigned"],
                   check=True)
    seconds = time.perf_counter() - started
    with open(scores) as f:
        next(f)
        return np.array([float(line) for line in f]), seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--riskloop", default=os.path.join(ROOT, ".build/release/riskloop"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--customers", type=int, default=5000)
    parser.add_argument("--terminals", type=int, default=10000)
    parser.add_argument("--days", type=int, default=183)
    parser.add_argument("--radius", type=float, default=5)
    parser.add_argument("--spec", action="append", help="specs to run (default: baseline-spec.json and feature-spec.json)")
    parser.add_argument("--json", help="also write the figures here")
    parser.add_argument("--keep", help="keep the generated files in this directory")
    args = parser.parse_args()
    specs = args.spec or [os.path.join(ROOT, "Models/handbook", name)
                          for name in ("baseline-spec.json", "feature-spec.json", "naive-bayes-spec.json")]

    started = time.perf_counter()
    time_s, customer, terminal, amount, fraud = generate(args.seed, args.customers, args.terminals, args.days, args.radius)
    print(f"{len(time_s):,} transactions, {fraud.mean():.4f} fraud, generated in {time.perf_counter() - started:.1f} s")
    train, test = split(time_s, customer, fraud)
    print(f"training week {len(train):,} rows ({fraud[train].sum()} fraud), test week {len(test):,} rows ({fraud[test].sum()} fraud)")

    results = {"published": PUBLISHED, "scikit-learn": sklearn.__version__, "transactions": int(len(time_s)), "runs": {}}
    features = handbook_features(time_s, customer, terminal, amount, fraud)
    scaler = StandardScaler().fit(features[train])
    reference = LogisticRegression(random_state=0).fit(scaler.transform(features[train]), fraud[train])
    scores = reference.predict_proba(scaler.transform(features[test]))[:, 1]
    results["runs"]["scikit-learn logistic (handbook features)"] = metrics(test, time_s, customer, fraud, scores)

    # RiskLoop reads the 30 days of history (and the terminals' 7-day delay) before the training
    # week, up to the end of the test week.
    first = (TRAIN_START_DAY - 40) * DAY
    last = (TRAIN_START_DAY + TRAIN_DAYS + DELAY_DAYS + TEST_DAYS) * DAY
    rows = np.flatnonzero((time_s >= first) & (time_s < last))
    position = np.full(len(time_s), -1)
    position[rows] = np.arange(len(rows))
    directory = args.keep or tempfile.mkdtemp(prefix="riskloop-handbook-")
    os.makedirs(directory, exist_ok=True)
    files = write_files(directory, rows, train, time_s, customer, terminal, amount, fraud)
    for spec in specs:
        for algorithm in ("logistic", "naive-bayes"):
            all_scores, seconds = riskloop(args.riskloop, directory, spec, algorithm, *files)
            name = f"RiskLoop {algorithm} ({os.path.basename(spec)})"
            results["runs"][name] = metrics(test, time_s, customer, fraud, all_scores[position[test]])
            results["runs"][name]["seconds"] = seconds

    reference_ap = results["runs"]["scikit-learn logistic (handbook features)"]["ap"]
    print(f"\n{'':58} {'AUC':>6} {'AP':>6} {'CP@100':>7} {'AP ratio':>9}")
    print(f"{'published (handbook baseline, logistic regression)':58} {PUBLISHED['auc']:6.3f} {PUBLISHED['ap']:6.3f} {PUBLISHED['cp100']:7.3f}")
    for name, run in results["runs"].items():
        print(f"{name:58} {run['auc']:6.3f} {run['ap']:6.3f} {run['cp100']:7.3f} {run['ap'] / reference_ap:9.3f}")
    print("\n(AP ratio: against scikit-learn on the handbook's features, same transactions, same run)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
