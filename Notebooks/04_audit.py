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
# # 04 — Reading a model as an auditor
#
# A small `riskloop demo` run leaves a database with a champion, its ancestors, every decision
# and the audit log. This notebook reads the exported champion (`riskloop export`): its weights
# with their meaning, its lineage back to the first model, the model card, and checks that every
# logged decision replays exactly (`riskloop replay`).

# %%
import json

import matplotlib.pyplot as plt
import pandas as pd

import riskloop_notebook as rl

out = rl.workdir("04_audit")
SETTINGS = (
    {"customers": 150, "days": 35, "drift_day": 20, "train_days": 14}
    if rl.FAST
    else {"customers": 1000, "days": 70, "drift_day": 40, "train_days": 30}
)
rl.riskloop(
    "demo", "--dir", out, "--customers", SETTINGS["customers"], "--days", SETTINGS["days"], "--drift-day", SETTINGS["drift_day"],
    "--train-days", SETTINGS["train_days"], capture=True)
db = out / "demo.sqlite"
models = pd.DataFrame(rl.riskloop_json("models", "list", "--db", db, "--json"))
print(models[["id", "status", "parent_id", "created_at"]])
champion = models.loc[models.status == "champion", "id"].item()

# %% [markdown]
# ## The weights, with what each column means
#
# `--format csv`: one row per column — the feature, its encoding, its meaning, and the weight in
# log-odds per unit as extracted (`raw_weight`).

# %%
rl.riskloop("export", champion, "--db", db, "--format", "csv", "--out", out / "champion.csv")
columns = pd.read_csv(out / "champion.csv")
weights = columns[columns.column != "(intercept)"].set_index("column")
top = weights.reindex(weights.raw_weight.abs().sort_values(ascending=False).index).head(15)
print(top[["meaning", "raw_weight"]])
figure, axes = plt.subplots(figsize=(10, 5.5))
axes.barh(top.meaning.str.slice(0, 70), top.raw_weight, color=["#c0392b" if w > 0 else "#2e8b57" for w in top.raw_weight])
axes.invert_yaxis()
axes.set(xlabel="log-odds of fraud per unit (indicators: when on)", title=f"{champion}: the 15 largest weights")
rl.save(figure, out, "champion_weights")

# %% [markdown]
# ## Lineage: from the first model to the champion
#
# Each artifact names its parent; the JSON export is the artifact exactly as stored, with its
# SHA-256. The holdout AP of each generation, and the training window it saw.

# %%
chain, current = [], champion
while current:
    path = out / f"{current}.json"
    rl.riskloop("export", current, "--db", db, "--format", "json", "--out", path)
    artifact = json.loads(path.read_text())
    chain.append(
        {
            "id": artifact["id"],
            "window start": artifact["training"].get("window_start"),
            "window end": artifact["training"].get("window_end"),
            "labels known at": artifact["training"].get("labels_known_at"),
            "rows": artifact["training"]["rows"],
            "holdout AP": artifact["metrics"]["holdout"]["average_precision"],
            "sha256": artifact["sha256"][:16] + "…",
        }
    )
    current = artifact.get("parent_id")
lineage = pd.DataFrame(chain[::-1])
print(lineage)
figure, axes = plt.subplots(figsize=(8, 3.5))
axes.plot(range(len(lineage)), lineage["holdout AP"], "o-", color="#1b6ac9")
axes.set_xticks(range(len(lineage)), [f"{row.id}\n…{row['window end'][5:10]}" for _, row in lineage.iterrows()], fontsize=7)
axes.set(ylabel="holdout AP", ylim=(0, 1), title="Holdout AP of each generation (training window end)")
rl.save(figure, out, "lineage")

# %% [markdown]
# ## The model card, and the decisions replayed

# %%
rl.riskloop("export", champion, "--db", db, "--format", "card", "--policy", rl.POLICY, "--out", out / "champion-card.html")
print(f"model card: {(out / 'champion-card.html').relative_to(rl.ROOT)}")
replay = rl.riskloop_json("replay", "--db", db, "--from", "2020-01-01", "--to", "2100-01-01", "--json")
print(f"{replay['decisions']:,} decisions replayed, {replay['reproduced']:,} reproduced, {len(replay['differences'])} differ; "
      f"largest score difference {replay['max_score_difference']}")
for versions in replay["versions"]:
    print(f"  {versions['decisions']:>6} decided by {versions['model_id']} with policy {versions['policy_version']}")
assert not replay["differences"], "every logged decision must replay exactly"

# %% [markdown]
# The decisions table read directly (sqlite3): what each model decided, and the same counts as
# the replay's.

# %%
import sqlite3

with sqlite3.connect(db) as connection:
    decisions = pd.read_sql_query(
        "SELECT model_id, policy_version, decision, COUNT(*) AS n FROM decisions GROUP BY model_id, policy_version, decision",
        connection)
table = decisions.pivot_table(index="model_id", columns="decision", values="n", fill_value=0)
print(table)
by_model = decisions.groupby("model_id")["n"].sum()
assert all(by_model[v["model_id"]] == v["decisions"] for v in replay["versions"]), "the replay covers every logged decision"

# %%
audit = pd.DataFrame(json.loads(rl.riskloop("audit", "--db", db, "--format", "json", capture=True)))
print(audit.groupby("action").size())
print(audit[audit.action.isin(["model.promote", "retrain.cycle"])][["at", "actor", "action", "subject", "reason"]].head(10))
