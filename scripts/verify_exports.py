"""Checks RiskLoop's PMML and ONNX exports with independent evaluators.

Takes the shipped baseline models (Models/ss7/baseline: logistic regression and naive Bayes) and
trains a standardised, Platt-calibrated logistic regression on the committed sample (so that the
folding of both into the linear terms is checked), exports each as PMML (and the logistic ones as
ONNX), and scores the same expanded rows three ways: RiskLoop itself (`riskloop score --columns`),
the JPMML evaluator (jpmml_evaluator, on Java) and onnxruntime. Fails unless the probabilities agree within
1e-9 for PMML and 1e-5 for ONNX (which computes in float32).

Usage: python scripts/verify_exports.py --riskloop .build/release/riskloop [--workdir DIR]
"""

import argparse
import gzip
import pathlib
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime
import pandas as pd
from jpmml_evaluator import make_evaluator

PMML_TOLERANCE = 1e-9
ONNX_TOLERANCE = 1e-5
# Every fraud row plus every STRIDE-th row: enough rows to exercise every column, quick on the JVM.
STRIDE = 10

ROOT = pathlib.Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "Datasets" / "sample"
SPEC = ROOT / "Models" / "ss7" / "feature-spec.json"

BASELINES = ROOT / "Models" / "ss7" / "baseline"
# A model file to check as it is, or the training options of one to train first.
MODELS = {
    "baseline-lr": BASELINES / "logistic-regression.json",
    "baseline-nb": BASELINES / "naive-bayes.json",
    "lr-standardised-platt": ["--algorithm", "logistic", "--standardize", "--c", "0.5", "--calibration", "platt"],
}


def run(*arguments):
    subprocess.run([str(a) for a in arguments], check=True, stdout=subprocess.DEVNULL)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--riskloop", required=True)
    parser.add_argument("--workdir")
    options = parser.parse_args()
    riskloop = pathlib.Path(options.riskloop).resolve()
    work = pathlib.Path(options.workdir or tempfile.mkdtemp(prefix="riskloop-verify-"))
    work.mkdir(parents=True, exist_ok=True)
    events = work / "events.jsonl"
    with gzip.open(SAMPLE / "events.jsonl.gz", "rb") as source, open(events, "wb") as target:
        shutil.copyfileobj(source, target)
    labels = SAMPLE / "labels.csv"

    failures = []
    for name, source in MODELS.items():
        model = work / f"{name}.json"
        if isinstance(source, pathlib.Path):
            shutil.copyfile(source, model)
        else:
            run(riskloop, "train", "--data", events, "--labels", labels, "--spec", SPEC,
                "--holdout-fraction", "0.2", "--out", model, *source)
        rows_file = work / f"{name}-rows.csv"
        run(riskloop, "score", "--model", model, events, "--labels", labels, "--columns", "--out", rows_file)
        rows = pd.read_csv(rows_file)
        expected = rows.pop("probability").to_numpy()
        chosen = np.flatnonzero((np.arange(len(rows)) % STRIDE == 0) | (expected > 0.5))
        rows, expected = rows.iloc[chosen].reset_index(drop=True), expected[chosen]

        pmml = work / f"{name}.pmml"
        run(riskloop, "export", model, "--format", "pmml", "--out", pmml)
        evaluator = make_evaluator(str(pmml)).verify()
        evaluated = evaluator.evaluateAll(rows)["probability_fraud"].to_numpy()
        difference = float(np.max(np.abs(evaluated - expected)))
        print(f"{name}: PMML (JPMML) on {len(rows)} rows: max |difference| {difference:.3e} (tolerance {PMML_TOLERANCE:g})")
        if not difference <= PMML_TOLERANCE:
            failures.append(f"{name} PMML differs by {difference:.3e}")

        if "lr" in name:
            path = work / f"{name}.onnx"
            run(riskloop, "export", model, "--format", "onnx", "--out", path)
            onnx.checker.check_model(onnx.load(str(path)))
            session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
            probabilities = session.run(["probabilities"], {"features": rows.to_numpy(dtype=np.float32)})[0][:, 1]
            difference = float(np.max(np.abs(probabilities - expected)))
            print(f"{name}: ONNX (onnxruntime) on {len(rows)} rows: max |difference| {difference:.3e} (tolerance {ONNX_TOLERANCE:g})")
            if not difference <= ONNX_TOLERANCE:
                failures.append(f"{name} ONNX differs by {difference:.3e}")

    if failures:
        print("FAILED: " + "; ".join(failures), file=sys.stderr)
        sys.exit(1)
    print("exports verified: PMML and ONNX agree with RiskLoop's probabilities")


if __name__ == "__main__":
    main()
