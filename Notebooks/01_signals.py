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
# # 01 — The signals: what separates fraud from its look-alikes
#
# The committed sample (`Datasets/sample`, 30 simulated days, 1,250 customers) with its ground
# truth (`truth.csv.gz`: the scenario behind each event, and the look-alike pattern of genuine
# events that resemble fraud). Ground truth is for analysis only; no model ever sees it.
#
# Questions: how much fraud of each scenario, and how well each telco signal — alone and in
# combination — separates fraud from genuine events, in particular from the genuine customers
# who travel, replace phones or forward calls.

# %%
import json

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import riskloop_notebook as rl

out = rl.workdir("01_signals")
with open(rl.sample_events(out)) as lines:
    events = pd.json_normalize([json.loads(line) for line in lines])
truth = pd.read_csv(rl.SAMPLE / "truth.csv.gz")
data = events.merge(truth, left_on="id", right_on="event_id")
data["fraud"] = data["scenario"] != "benign"
data["look_alike"] = data["look_alike"].fillna("none")
data["occurred_at"] = pd.to_datetime(data["occurred_at"])
print(f"{len(data):,} events, {data.fraud.sum():,} fraud ({data.fraud.mean():.2%})")

# %% [markdown]
# ## Fraud by scenario, before and after the change of tactics

# %%
by_scenario = data[data.fraud].groupby(["scenario", "after_drift"]).size().unstack(fill_value=0)
by_scenario.columns = ["before the drift", "after the drift"]
print(by_scenario)
figure, axes = plt.subplots(figsize=(7, 3.5))
by_scenario.plot.barh(ax=axes, color=["#1b6ac9", "#c0392b"])
axes.set_xlabel("fraud events")
axes.set_title("Fraud events by scenario")
rl.save(figure, out, "fraud_by_scenario")

# %% [markdown]
# ## Each signal alone
#
# A missing signal means *unknown*, never *safe*; here a signal counts as present only when the
# operator reported it.

# %%
occurred = data["occurred_at"]
sim_swap = pd.to_datetime(data["telco.sim_swap.latest_change"], errors="coerce", utc=True)
hours_since_swap = (occurred - sim_swap).dt.total_seconds() / 3600
connectivity = data["telco.reachability.connectivity"]
signals = pd.DataFrame(
    {
        "SIM swap < 24 h": hours_since_swap < 24,
        "SIM swap < 7 d": hours_since_swap < 24 * 7,
        "unconditional forwarding": data["telco.call_forwarding"].apply(lambda v: isinstance(v, list) and "unconditional" in v),
        "roaming": data["telco.roaming.roaming"] == True,  # noqa: E712 (missing stays False)
        "SMS unreachable": connectivity.apply(lambda v: isinstance(v, list) and "SMS" not in v),
        "location check FALSE": data["telco.location_verification"] == "FALSE",
        "SS7 foreign updates": data["telco.ss7.foreign_location_updates_24h"].fillna(0) > 0,
        "SS7 SRI lookups ≥ 3": data["telco.ss7.sri_for_sm_requests_24h"].fillna(0) >= 3,
        "new payee": data["payee.new"] == True,  # noqa: E712
        "new device": data["device.new_for_customer"] == True,  # noqa: E712
    }
)
groups = {
    "fraud": data.fraud,
    "look-alikes": (~data.fraud) & (data.look_alike != "none"),
    "other genuine": (~data.fraud) & (data.look_alike == "none"),
}
rates = pd.DataFrame({name: signals[mask].mean() for name, mask in groups.items()})
rates["lift (fraud ÷ look-alikes)"] = rates["fraud"] / rates["look-alikes"].replace(0, np.nan)
print(rates.round(3))

figure, axes = plt.subplots(figsize=(8, 4.5))
rates[list(groups)].plot.barh(ax=axes, color=["#c0392b", "#e69f00", "#2e8b57"])
axes.set_xlabel("share of events with the signal")
axes.set_title("How often each signal is present, by group")
axes.invert_yaxis()
rl.save(figure, out, "signals_alone")

# %% [markdown]
# ## Pairs of signals
#
# The fraud rate among events where both signals are present. A combination can separate what
# neither signal does alone: a traveller roams, a fraudster roams *and* has a fresh SIM swap.

# %%
names = list(signals.columns)
pair_rate = pd.DataFrame(index=names, columns=names, dtype=float)
pair_count = pd.DataFrame(index=names, columns=names, dtype=float)
for first in names:
    for second in names:
        both = signals[first] & signals[second]
        pair_count.loc[first, second] = both.sum()
        pair_rate.loc[first, second] = data.fraud[both].mean() if both.sum() >= 20 else np.nan
figure, axes = plt.subplots(figsize=(8.5, 7))
image = axes.imshow(pair_rate.to_numpy(dtype=float), cmap="Reds", vmin=0, vmax=1)
axes.set_xticks(range(len(names)), names, rotation=60, ha="right")
axes.set_yticks(range(len(names)), names)
for i in range(len(names)):
    for j in range(len(names)):
        value = pair_rate.iloc[i, j]
        if not np.isnan(value):
            axes.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=7)
figure.colorbar(image, ax=axes, label="fraud rate (blank: fewer than 20 events)")
axes.set_title("Fraud rate where both signals are present")
rl.save(figure, out, "signal_pairs")

# %%
best = (
    pair_rate.where(np.triu(np.ones(pair_rate.shape, dtype=bool), k=1))
    .stack()
    .sort_values(ascending=False)
    .head(8)
)
print("Most telling pairs (fraud rate where both are present):")
for (first, second), rate in best.items():
    print(f"  {first} + {second}: {rate:.2f} over {int(pair_count.loc[first, second])} events")
print(f"Base fraud rate: {data.fraud.mean():.4f}")
