#!/usr/bin/env python3
"""Side-by-side training: RiskLoop against scikit-learn on the same synthetic data, one run.

1,000,000 rows × 128 dense columns, about 1% positives, written once as raw float64 so both
sides read identical bytes. Reports wall time, AUC (on the training rows), peak memory and the
ratios the trainers issue asks for:

- logistic regression (lbfgs, C=1, the same tol): RiskLoop's time / scikit-learn's (target ≤ 0.5);
- Gaussian naive Bayes: scikit-learn's time / RiskLoop's (target ≥ 5);
- peak resident memory of RiskLoop during a fit / size of the matrix (target ≤ 1.5);
- scoring the matrix: RiskLoop's time / scikit-learn's predict_proba (target ≤ 1).

RiskLoop runs once per BLAS found on the machine — Debian's reference (netlib) and OpenBLAS —
chosen with LD_LIBRARY_PATH over the libblas.so.3 each installs, whatever Debian's alternatives
select; the report says which library each run mapped.

    python3 Benchmarks/compare_training.py [--rows 1000000] [--columns 128] [--tol 1e-5]
"""
import argparse
import json
import os
import resource
import subprocess
import tempfile
import time

import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.naive_bayes import GaussianNB

HERE = os.path.dirname(os.path.abspath(__file__))


def synthetic(rows, columns, seed=20261123):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((rows, columns))
    weights = rng.normal(0, 0.15, columns)
    z = X @ weights - 5.6  # about 1% positives
    y = (rng.random(rows) < 1 / (1 + np.exp(-z))).astype(np.float64)
    return X, y


def timed(body):
    start = time.perf_counter()
    result = body()
    return result, time.perf_counter() - start


def numpy_blas():
    try:
        info = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{info.get('name')} {info.get('version', '')}".strip()
    except Exception:  # older numpy
        return "unknown"


# Where Debian's BLAS packages put their libblas.so.3.
BLAS_DIRECTORIES = {
    "netlib": "/usr/lib/x86_64-linux-gnu/blas",
    "OpenBLAS": "/usr/lib/x86_64-linux-gnu/openblas-pthread",
}


def run_riskloop(arguments, matrix, labels, library_directory):
    environment = dict(os.environ)
    if library_directory:
        environment["LD_LIBRARY_PATH"] = library_directory
    return json.loads(subprocess.run(
        [arguments.binary, "--matrix", matrix, "--labels", labels, "--rows", str(arguments.rows),
         "--columns", str(arguments.columns), "--tol", str(arguments.tol)],
        check=True, capture_output=True, text=True, env=environment).stdout)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--columns", type=int, default=128)
    parser.add_argument("--tol", type=float, default=1e-5)
    parser.add_argument("--binary", default=os.path.join(HERE, ".build/release/TrainingComparison"))
    arguments = parser.parse_args()

    X, y = synthetic(arguments.rows, arguments.columns)
    with tempfile.TemporaryDirectory(prefix="riskloop-train-") as directory:
        matrix, labels = os.path.join(directory, "X.f64"), os.path.join(directory, "y.f64")
        X.astype("<f8").tofile(matrix)
        y.astype("<f8").tofile(labels)
        present = {name: path for name, path in BLAS_DIRECTORIES.items()
                   if os.path.exists(os.path.join(path, "libblas.so.3"))}
        runs = {name: run_riskloop(arguments, matrix, labels, path) for name, path in present.items()}
        if not runs:
            runs = {"default": run_riskloop(arguments, matrix, labels, None)}

    lr, lr_seconds = timed(lambda: LogisticRegression(C=1.0, tol=arguments.tol, max_iter=1000).fit(X, y))
    nb, nb_seconds = timed(lambda: GaussianNB().fit(X, y))
    probabilities, score_seconds = timed(lambda: lr.predict_proba(X)[:, 1])
    sk_lr_auc = roc_auc_score(y, probabilities)
    sk_nb_auc = roc_auc_score(y, nb.predict_proba(X)[:, 1])
    python_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    first = next(iter(runs.values()))
    matrix_bytes = first["matrix_bytes"]
    print(f"training on {arguments.rows:,} × {arguments.columns} float64 ({matrix_bytes / 2**30:.2f} GiB), "
          f"{y.mean():.2%} positives, tol {arguments.tol}")
    print(f"  scikit-learn {sklearn.__version__}, numpy BLAS: {numpy_blas()}")
    print(f"  scikit-learn: logistic regression {lr_seconds:7.2f} s ({lr.n_iter_[0]} iterations), "
          f"Gaussian naive Bayes {nb_seconds:7.2f} s, predict_proba {score_seconds:7.3f} s, "
          f"AUC LR {sk_lr_auc:.6f} NB {sk_nb_auc:.6f}")
    for name, riskloop in runs.items():
        print(f"  RiskLoop with {name}: {riskloop['blas']}")
        print(f"    logistic regression   {riskloop['lr_seconds']:7.2f} s ({riskloop['lr_iterations']} iterations, "
              f"converged={riskloop['lr_converged']})")
        print(f"      ratio RiskLoop / scikit-learn: {riskloop['lr_seconds'] / lr_seconds:.3f}  (target ≤ 0.5, aim ≤ 0.33)")
        print(f"      AUC RiskLoop {riskloop['lr_auc']:.6f}   scikit-learn {sk_lr_auc:.6f}   "
              f"equal to 4 decimals: {round(riskloop['lr_auc'], 4) == round(sk_lr_auc, 4)}")
        print(f"    Gaussian naive Bayes  {riskloop['nb_seconds']:7.2f} s   "
              f"speed-up scikit-learn / RiskLoop: {nb_seconds / riskloop['nb_seconds']:.2f}x  (target ≥ 5)")
        print(f"    scoring the matrix    {riskloop['score_seconds']:7.3f} s   "
              f"ratio RiskLoop / scikit-learn: {riskloop['score_seconds'] / score_seconds:.3f}  (target ≤ 1)")
        print(f"    peak memory           LR fit {riskloop['peak_rss_lr_bytes'] / matrix_bytes:.3f}× the matrix, "
              f"NB fit {riskloop['peak_rss_nb_bytes'] / matrix_bytes:.3f}× (whole process, matrix included; target ≤ 1.5)")
    print(f"  scikit-learn process peak {python_peak / matrix_bytes:.3f}× the matrix (data generation included)")


if __name__ == "__main__":
    main()
