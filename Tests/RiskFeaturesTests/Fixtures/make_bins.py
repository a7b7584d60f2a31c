#!/usr/bin/env python3
"""Writes the numpy reference for learnt bin edges that FeatureLanguageTests check against.

    pip install numpy==2.4.6
    python3 Tests/RiskFeaturesTests/Fixtures/make_bins.py

A spec's quantile bins are numpy's linear quantiles of the training rows at i / k for
i = 1 … k − 1, equal edges merged (the first one's quantile kept). Every edge in bins.json comes
from numpy.quantile; floats are written with Python's repr, which round-trips exactly.
"""
import json
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def case(name, values, k):
    q = np.arange(1, k) / k
    raw = np.quantile(np.asarray(values, dtype=float), q)  # method="linear", numpy's default
    edges, positions = [], []
    for edge, position in zip(raw.tolist(), q.tolist()):
        if edges and edges[-1] == edge:
            continue
        edges.append(edge)
        positions.append(position)
    return {"name": name, "values": [float(v) for v in values], "quantiles": k, "edges": edges, "edge_quantiles": positions}


rng = np.random.default_rng(24)
cases = [
    # Card amounts: skewed, no ties.
    case("lognormal amounts, deciles", np.round(rng.lognormal(3.5, 1.0, 1000), 2).tolist(), 10),
    case("lognormal amounts, quartiles", np.round(rng.lognormal(3.5, 1.0, 250), 2).tolist(), 4),
    # Counts: many ties, so edges merge.
    case("counts with ties, deciles", rng.poisson(0.8, 500).tolist(), 10),
    # Fewer values than bins.
    case("three values, deciles", [5.0, 1.0, 3.0], 10),
    case("one value, quintiles", [7.5], 5),
]
with open(os.path.join(HERE, "bins.json"), "w") as out:
    json.dump({"numpy": np.__version__, "cases": cases}, out, indent=1)
    out.write("\n")
