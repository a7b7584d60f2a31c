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
# # 02 — Logistic regression against naive Bayes, raw and calibrated
#
# Four models trained by `riskloop train` on the committed sample through the default SS7 spec,
# with the same out-of-time holdout (events from 2026-01-29 on): logistic regression and naive
# Bayes, each raw and calibrated (Platt for LR, isotonic for NB; calibration is fitted on the
# earlier half of the holdout). All four are compared on the later half of the holdout, which no
# model saw: ROC and precision–recall curves, calibration, precision@k and training time. The
# scores come from `riskloop score`; the curves and metrics are scikit-learn's.

# %%
import json
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.calibration import calibration_curve
from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score, roc_curve

import riskloop_notebook as rl

out = rl.workdir("02_train_compare")
events_file = rl.sample_events(out)
labels_file = rl.SAMPLE / "labels.csv"
HOLDOUT_AFTER = "2026-01-29"
MODELS = {
    "LR": ["--algorithm", "logistic"],
    "LR + Platt": ["--algorithm", "logistic", "--calibration", "platt"],
    "NB": ["--algorithm", "naive-bayes"],
    "NB + isotonic": ["--algorithm", "naive-bayes", "--calibration", "isotonic"],
}

# %%
artifacts, wall = {}, {}
for name, options in MODELS.items():
    path = out / (name.replace(" + ", "-").replace(" ", "-").lower() + ".json")
    started = time.perf_counter()
    rl.riskloop(
        "train", "--data", events_file, "--labels", labels_file, "--spec", rl.SPEC, "--holdout-after", HOLDOUT_AFTER,
        "--out", path, *options, capture=True)
    wall[name] = time.perf_counter() - started
    artifacts[name] = (path, json.loads(path.read_text()))

# %% [markdown]
# ## The same rows for every model
#
# Each event's label is its latest version; the holdout is the labelled events from the holdout
# date on, in file order; the evaluation rows are its later half.

# %%
with open(events_file) as lines:
    events = pd.DataFrame([json.loads(line) for line in lines])[["id", "occurred_at"]]
labels = pd.read_csv(labels_file).sort_values("reported_at", kind="stable").groupby("event_id").last()
events["label"] = events["id"].map(labels["outcome"].eq("fraud").astype(float))
holdout = events.index[(events.occurred_at >= HOLDOUT_AFTER) & events.label.notna()]
evaluation = holdout[len(holdout) // 2 :]
y = events.label[evaluation].to_numpy()
print(f"holdout {len(holdout)} labelled events; evaluating on {len(evaluation)} ({int(y.sum())} fraud)")

scores = {}
for name, (path, artifact) in artifacts.items():
    scored = out / f"{path.stem}-scores.csv"
    rl.riskloop("score", "--model", path, events_file, "--labels", labels_file, "--out", scored)
    scores[name] = pd.read_csv(scored)["probability"].to_numpy()[evaluation]

# %% [markdown]
# Cross-check: for the calibrated models, RiskLoop's own holdout metrics were computed on
# exactly these rows; scikit-learn must agree.

# %%
rows = []
for name, p in scores.items():
    artifact = artifacts[name][1]
    rows.append(
        {
            "model": name,
            "ROC AUC": roc_auc_score(y, p),
            "average precision": average_precision_score(y, p),
            "precision@50": y[np.argsort(-p, kind="stable")[:50]].mean(),
            "precision@200": y[np.argsort(-p, kind="stable")[:200]].mean(),
            "training s (lineage)": artifact["training"]["duration_seconds"],
            "train command s": wall[name],
        }
    )
    if artifact.get("calibration") is not None:
        riskloop_ap = artifact["metrics"]["holdout"]["average_precision"]
        assert abs(riskloop_ap - rows[-1]["average precision"]) < 1e-9, (name, riskloop_ap, rows[-1]["average precision"])
comparison = pd.DataFrame(rows).set_index("model")
print(comparison.round(4))

# %%
colors = {"LR": "#1b6ac9", "LR + Platt": "#6aa3e8", "NB": "#c0392b", "NB + isotonic": "#e8856f"}
figure, (roc_axes, pr_axes) = plt.subplots(1, 2, figsize=(11, 4.5))
for name, p in scores.items():
    fpr, tpr, _ = roc_curve(y, p)
    roc_axes.plot(fpr, tpr, color=colors[name], label=f"{name} (AUC {roc_auc_score(y, p):.3f})")
    precision, recall, _ = precision_recall_curve(y, p)
    pr_axes.step(recall, precision, where="post", color=colors[name], label=f"{name} (AP {average_precision_score(y, p):.3f})")
roc_axes.plot([0, 1], [0, 1], "--", color="#999")
roc_axes.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC")
pr_axes.axhline(y.mean(), ls="--", color="#999")
pr_axes.set(xlabel="recall", ylabel="precision", title="Precision–recall")
roc_axes.legend(fontsize=8)
pr_axes.legend(fontsize=8)
rl.save(figure, out, "roc_pr")

# %%
figure, axes = plt.subplots(figsize=(6, 5))
for name, p in scores.items():
    fraction, mean_predicted = calibration_curve(y, p, n_bins=10, strategy="quantile")
    axes.plot(mean_predicted, fraction, "o-", color=colors[name], label=name)
axes.plot([0, 1], [0, 1], "--", color="#999", label="perfect")
axes.set(xlabel="mean predicted probability (deciles)", ylabel="fraud share", title="Calibration on the evaluation rows")
axes.legend(fontsize=8)
rl.save(figure, out, "calibration")

# %%
figure, (k_axes, time_axes) = plt.subplots(1, 2, figsize=(11, 3.8))
comparison[["precision@50", "precision@200"]].plot.bar(ax=k_axes, color=["#1b6ac9", "#999"], rot=0)
k_axes.set(ylabel="fraud share among the top k", title="Precision at k", ylim=(0, 1))
comparison[["training s (lineage)"]].plot.bar(ax=time_axes, color="#2e8b57", rot=0, legend=False)
time_axes.set(ylabel="seconds", title="Fitting time (from each model's lineage)")
rl.save(figure, out, "precision_at_k_and_time")
