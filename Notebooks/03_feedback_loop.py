# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 03 — The feedback loop when fraudsters change tactics
#
# `riskloop demo` simulates a bank whose fraudsters change tactics half-way, trains a first
# champion, then replays the remaining days in order: every event is scored by the adapting
# champion and by a frozen copy of the first model, labels are stored as they are reported, and
# a retraining cycle runs at midnight when the retraining policy's trigger holds. Each run writes
# `report.json` (weeks graded against ground truth, and every cycle).
#
# Four runs on the same simulated bank:
# - **weekly**: the shipped policy `Models/ss7/retrain.json` (2,000 new labels or 7 days);
# - **slow labels**: the same policy, every label reported 7 days later than it was;
# - **every 3 days**: a cycle every 72 hours, whatever the label count;
# - **no analyst**: the shipped policy, but nobody works the review queue.
#
# In every run but the last, each review decision opens a case that a simulated analyst resolves
# with the ground truth two days after the event: a label the loop learns from.

# %%
import json

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import riskloop_notebook as rl

out = rl.workdir("03_feedback_loop")
SETTINGS = (
    {"customers": 300, "days": 36, "drift_day": 21, "train_days": 14}
    if rl.FAST
    else {"customers": 1000, "days": 90, "drift_day": 45, "train_days": 30}
)
print("settings:", SETTINGS, "(fast)" if rl.FAST else "")

every_three_days = json.loads(rl.RETRAIN.read_text())
every_three_days.update({"min_new_labels": None, "interval_hours": 72})
(out / "retrain-72h.json").write_text(json.dumps(every_three_days, indent=2))
RUNS = {
    "weekly": {"retrain": rl.RETRAIN, "delay": 0},
    "slow labels (+7 d)": {"retrain": rl.RETRAIN, "delay": 7},
    "every 3 days": {"retrain": out / "retrain-72h.json", "delay": 0},
    "no analyst": {"retrain": rl.RETRAIN, "delay": 0, "analyst_days": 0},
}

# %%
# The three runs are independent: they run side by side.
processes = {}
for name, run in RUNS.items():
    directory = out / name.split(" ")[0]
    processes[name] = (directory, rl.start(
        "demo", "--dir", directory, "--customers", SETTINGS["customers"], "--days", SETTINGS["days"],
        "--drift-day", SETTINGS["drift_day"], "--train-days", SETTINGS["train_days"], "--retrain-policy", run["retrain"],
        "--label-delay-days", run["delay"], "--analyst-days", run.get("analyst_days", 2)))
reports = {}
for name, (directory, process) in processes.items():
    rl.finish(process)
    reports[name] = json.loads((directory / "report.json").read_text())

weeks = {name: pd.DataFrame(report["report"]["weeks"]) for name, report in reports.items()}
drift_at = pd.Timestamp(reports["weekly"]["drift_at"])
for frame in weeks.values():
    frame["start"] = pd.to_datetime(frame["start"])
print(weeks["weekly"][["start", "events", "fraud", "caught", "missed", "frozen_missed", "adapting_ap", "frozen_ap",
                       "reviews", "cases_resolved", "cases_open", "fraud_label_days"]])

# %% [markdown]
# ## Adapting against frozen, week by week (the shipped policy)

# %%
weekly = weeks["weekly"]
figure, (ap_axes, missed_axes) = plt.subplots(1, 2, figsize=(12, 4))
ap_axes.plot(weekly.start, weekly.adapting_ap, "o-", color="#1b6ac9", label="adapting champion")
ap_axes.plot(weekly.start, weekly.frozen_ap, "o-", color="#c0392b", label="frozen first model")
missed_axes.plot(weekly.start, weekly.missed, "o-", color="#1b6ac9", label="adapting champion")
missed_axes.plot(weekly.start, weekly.frozen_missed, "o-", color="#c0392b", label="frozen first model")
for axes in (ap_axes, missed_axes):
    axes.axvline(drift_at, ls="--", color="#888", label="tactics change")
    axes.tick_params(axis="x", rotation=30)
    axes.legend(fontsize=8)
ap_axes.set(ylabel="average precision (ground truth)", ylim=(0, 1), title="Average precision per week")
missed_axes.set(ylabel="fraud events allowed", title="Fraud missed per week")
rl.save(figure, out, "adapting_vs_frozen")

# %% [markdown]
# ## What label delay and the retraining trigger change

# %%
figure, axes = plt.subplots(figsize=(9, 4))
styles = {"weekly": "#1b6ac9", "slow labels (+7 d)": "#e69f00", "every 3 days": "#2e8b57", "no analyst": "#7f7f7f"}
for name, frame in weeks.items():
    axes.plot(frame.start, frame.adapting_ap, "o-", color=styles[name], label=name)
axes.plot(weekly.start, weekly.frozen_ap, "o--", color="#c0392b", label="frozen first model (weekly run)")
axes.axvline(drift_at, ls="--", color="#888")
axes.set(ylabel="average precision (ground truth)", ylim=(0, 1), title="Adapting champion's AP per week, by run")
axes.tick_params(axis="x", rotation=30)
axes.legend(fontsize=8)
rl.save(figure, out, "label_delay_and_trigger")

# %%
rows = []
for name, report in reports.items():
    frame = weeks[name]
    after = frame[frame.start >= drift_at]
    cycles = report["report"]["cycles"]
    rows.append(
        {
            "run": name,
            "cycles": len(cycles),
            "promoted": sum(cycle["outcome"] == "promoted" for cycle in cycles),
            "mean AP after the change": after.adapting_ap.mean(),
            "frozen AP after the change": after.frozen_ap.mean(),
            "missed after the change": int(after.missed.sum()),
            "frozen missed after the change": int(after.frozen_missed.sum()),
            "false alarms after the change": int(after.false_alarms.sum()),
            "reviews a week": frame.reviews.mean(),
            "median days to a fraud label": frame.fraud_label_days.median(),
        }
    )
summary = pd.DataFrame(rows).set_index("run")
print(summary.round(3))

# %% [markdown]
# ## Analysts in the loop: review load and how fast fraud is labelled
#
# Every review decision opens a case; the simulated analyst resolves each two days after its
# event. The left panel is the analysts' weekly load; the right one, the median days from a fraud
# event to its first label, with the analyst and without (customer reports and chargebacks only).

# %%
figure, (load_axes, latency_axes) = plt.subplots(1, 2, figsize=(12, 4))
load_axes.bar(weekly.start, weekly.reviews, width=5, color="#1b6ac9", label="reviews (cases opened)")
load_axes.plot(weekly.start, weekly.cases_open, "o-", color="#c0392b", label="cases open at the end of the week")
load_axes.set(ylabel="cases", title="Review load per week (weekly run)")
for name in ("weekly", "no analyst"):
    frame = weeks[name]
    latency_axes.plot(frame.start, frame.fraud_label_days, "o-", color=styles[name], label=name)
latency_axes.set(ylabel="median days to the first label", title="How fast fraud is labelled")
for axes in (load_axes, latency_axes):
    axes.axvline(drift_at, ls="--", color="#888")
    axes.tick_params(axis="x", rotation=30)
    axes.legend(fontsize=8)
rl.save(figure, out, "analysts_in_the_loop")

# %% [markdown]
# Each run's frozen model is its own first champion, trained on the labels known by the end of
# its training days: with slower labels it has seen fewer of them. Read the rows side by side:
# a challenger is promoted only when it is not worse on the most recent labelled days, so when
# labels come late the holdout is thin and old, the gate keeps the champion more often, and
# the adaptation after the change comes later — or, in a short run, not at all.

# %%
for name, row in summary.iterrows():
    gain = row["mean AP after the change"] - row["frozen AP after the change"]
    print(f"{name:>20}: {int(row['promoted'])} of {int(row['cycles'])} cycles promoted; AP after the change {gain:+.3f} against its frozen model")
