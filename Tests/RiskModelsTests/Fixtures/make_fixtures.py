#!/usr/bin/env python3
"""Writes the scikit-learn reference fixtures that RiskModelsTests check against.

    pip install scikit-learn==1.9.1 numpy==2.4.6 scipy==1.17.1
    python3 Tests/RiskModelsTests/Fixtures/make_fixtures.py

Every number in the JSON files comes from scikit-learn (or, where scikit-learn has no public
function, from numpy/scipy code written here from the definition). Floats are written with
Python's repr, which round-trips exactly.
"""
import json
import os

import numpy as np
import scipy
import sklearn
from scipy.optimize import minimize
from scipy.special import expit
from sklearn.calibration import _sigmoid_calibration, calibration_curve
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (average_precision_score, brier_score_loss, log_loss, precision_score,
                             recall_score, roc_auc_score, roc_curve)
from sklearn.naive_bayes import BernoulliNB, CategoricalNB, GaussianNB
from sklearn.preprocessing import StandardScaler

HERE = os.path.dirname(os.path.abspath(__file__))
VERSIONS = {"scikit-learn": sklearn.__version__, "numpy": np.__version__, "scipy": scipy.__version__}


def write(name, payload):
    payload = {"generator": "make_fixtures.py", "versions": VERSIONS, **payload}
    with open(os.path.join(HERE, name), "w") as file:
        json.dump(payload, file, indent=None, separators=(",", ":"))
        file.write("\n")


def datasets():
    rng = np.random.default_rng(20261123)
    out = {}

    n, d = 400, 5
    X = rng.normal(size=(n, d))
    w = np.array([1.5, -2.0, 0.5, 0.0, 1.0])
    y = (rng.random(n) < expit(X @ w - 0.3)).astype(float)
    out["well"] = (X, y, None)

    # Badly conditioned: scales from 1e-3 to 1e3 and two nearly collinear columns.
    n = 400
    base = rng.normal(size=(n, 4))
    X = np.column_stack([base[:, 0] * 1e-3, base[:, 1] * 1e3, base[:, 2], base[:, 2] + 1e-3 * base[:, 3], base[:, 3]])
    y = (rng.random(n) < expit(2 * base[:, 0] - base[:, 1] + base[:, 2])).astype(float)
    out["ill"] = (X, y, None)

    # Imbalanced about 1:100.
    n, d = 3000, 4
    X = rng.normal(size=(n, d))
    y = (rng.random(n) < expit(X @ np.array([1.0, 1.5, -1.0, 0.5]) - 6.0)).astype(float)
    out["imbalanced"] = (X, y, None)

    # Weighted rows.
    n, d = 300, 4
    X = rng.normal(size=(n, d)) + np.array([0.5, -1.0, 2.0, 0.0])
    y = (rng.random(n) < expit(X @ np.array([0.8, -0.4, 0.3, 1.2]) - 0.5)).astype(float)
    sw = rng.uniform(0.1, 3.0, size=n)
    out["weighted"] = (X, y, sw)
    return out


def lr_objective(X, y, s, C, fit_intercept, l1_ratio=0.0):
    """C·Σ sᵢ·logloss + (1-ρ)/2‖w‖² + ρ‖w‖₁, the objective RiskLoop and scikit-learn minimise."""
    def f(theta):
        w, b = (theta[:-1], theta[-1]) if fit_intercept else (theta, 0.0)
        z = X @ w + b
        loss = np.sum(s * (np.logaddexp(0, z) - y * z))
        return C * loss + 0.5 * (1 - l1_ratio) * w @ w + l1_ratio * np.abs(w).sum()
    return f


def balanced(y, sw):
    """scikit-learn's 'balanced' class weight: total weight / (2 · weight of the class)."""
    w = np.ones(len(y)) if sw is None else sw
    totals = np.array([w[y == 0].sum(), w[y == 1].sum()])
    return (w.sum() / (2 * totals))[y.astype(int)]


def newton_polish(X, y, s, C, fit_intercept, theta):
    """Exact Newton steps from scikit-learn's solution until the gradient vanishes.

    scikit-learn's lbfgs stops when the relative change of the loss falls below 64·ε, which on
    badly conditioned data leaves a gradient far from zero (and coefficients off by more than
    1e-5). Newton's method with the exact Hessian converges quadratically from there.
    """
    A = np.column_stack([X, np.ones(len(y))]) if fit_intercept else X
    penalty = np.ones(A.shape[1])
    if fit_intercept:
        penalty[-1] = 0.0
    for _ in range(100):
        p = expit(A @ theta)
        g = C * A.T @ (s * (p - y)) + penalty * theta
        if np.max(np.abs(g)) < 1e-11 * max(1.0, C):
            break
        H = C * (A.T * (s * p * (1 - p))) @ A + np.diag(penalty)
        theta = theta - np.linalg.solve(H, g)
    p = expit(A @ theta)
    g = C * A.T @ (s * (p - y)) + penalty * theta
    return theta, float(np.max(np.abs(g)))


def logistic_fixtures(data):
    cases = []
    for name, (X, y, sw) in data.items():
        for C in (0.01, 1.0, 100.0):
            for fit_intercept in ((True, False) if name in ("well", "weighted") else (True,)):
                for class_weight in ((None, "balanced") if name in ("imbalanced", "weighted") else (None,)):
                    model = LogisticRegression(C=C, solver="lbfgs", tol=1e-12, max_iter=100000,
                                               fit_intercept=fit_intercept, class_weight=class_weight)
                    model.fit(X, y, sample_weight=sw)
                    s = np.ones(len(y)) if sw is None else sw.copy()
                    if class_weight == "balanced":
                        s = s * balanced(y, sw)
                    theta = np.concatenate([model.coef_[0], model.intercept_]) if fit_intercept else model.coef_[0].copy()
                    polished, gradient_max = newton_polish(X, y, s, C, fit_intercept, theta.copy())
                    coef = polished[:-1] if fit_intercept else polished
                    scale = max(1.0, np.max(np.abs(coef)))
                    cases.append({
                        "dataset": name, "c": C, "fit_intercept": fit_intercept,
                        "class_weight": class_weight or "none", "l1_ratio": 0.0,
                        "sklearn_coef": model.coef_[0].tolist(),
                        "sklearn_intercept": float(model.intercept_[0]) if fit_intercept else 0.0,
                        "sklearn_n_iter": int(model.n_iter_[0]),
                        # scikit-learn's own answer is within 1e-6 of the optimum: the tests hold ours to it.
                        "sklearn_converged": bool(np.max(np.abs(theta - polished)) <= 1e-6 * scale),
                        "coef": coef.tolist(), "intercept": float(polished[-1]) if fit_intercept else 0.0,
                        "gradient_max": gradient_max,
                        "objective": float(lr_objective(X, y, s, C, fit_intercept)(polished)),
                        "predict_proba": expit(X[:20] @ coef + (polished[-1] if fit_intercept else 0.0)).tolist(),
                    })
    # L1 and elastic net through saga at a tight tolerance, on the well-conditioned set.
    X, y, _ = data["well"]
    for l1_ratio, C in ((1.0, 0.05), (0.5, 0.1), (1.0, 1.0)):
        model = LogisticRegression(C=C, solver="saga", l1_ratio=l1_ratio, tol=1e-13, max_iter=1_000_000, random_state=0)
        model.fit(X, y)
        theta = np.concatenate([model.coef_[0], model.intercept_])
        cases.append({
            "dataset": "well", "c": C, "fit_intercept": True, "class_weight": "none", "l1_ratio": l1_ratio,
            "sklearn_coef": model.coef_[0].tolist(), "sklearn_intercept": float(model.intercept_[0]),
            "sklearn_n_iter": int(model.n_iter_[0]), "sklearn_converged": True,
            "coef": model.coef_[0].tolist(), "intercept": float(model.intercept_[0]), "gradient_max": None,
            "objective": float(lr_objective(X, y, np.ones(len(y)), C, True, l1_ratio)(theta)),
            "predict_proba": model.predict_proba(X[:20])[:, 1].tolist(),
        })
    # Standardised columns: a StandardScaler + LogisticRegression pipeline on the badly conditioned set.
    X, y, _ = data["ill"]
    scaler = StandardScaler().fit(X)
    model = LogisticRegression(C=1.0, tol=1e-12, max_iter=100000).fit(scaler.transform(X), y)
    theta = np.concatenate([model.coef_[0], model.intercept_])
    polished, gradient_max = newton_polish(scaler.transform(X), y, np.ones(len(y)), 1.0, True, theta.copy())
    standardized = {
        "dataset": "ill", "c": 1.0, "mean": scaler.mean_.tolist(), "scale": scaler.scale_.tolist(),
        "sklearn_coef": model.coef_[0].tolist(), "sklearn_intercept": float(model.intercept_[0]),
        "coef": polished[:-1].tolist(), "intercept": float(polished[-1]), "gradient_max": gradient_max,
    }
    write("logistic_regression.json", {
        "standardized": standardized,
        "datasets": {name: {"x": X.tolist(), "y": y.tolist(), "sample_weight": None if sw is None else sw.tolist()}
                     for name, (X, y, sw) in data.items()},
        "cases": cases,
    })


def naive_bayes_fixtures():
    rng = np.random.default_rng(7)
    n = 500
    y = (rng.random(n) < 0.3).astype(int)
    gaussian = np.column_stack([rng.normal(loc=1.0 + 2 * y, scale=1.0 + y), rng.normal(loc=100.0, scale=5.0, size=n),
                                rng.normal(loc=-3 * y, scale=0.5)])
    bernoulli = (rng.random((n, 3)) < np.where(y[:, None] == 1, [0.7, 0.2, 0.5], [0.1, 0.3, 0.5])).astype(float)
    categorical = np.column_stack([rng.integers(0, 4, size=n) * (1 - y) + rng.integers(2, 5, size=n) * y,
                                   rng.integers(0, 3, size=n)]).astype(float)
    sw = rng.uniform(0.2, 2.0, size=n)
    test = slice(0, 60)

    g = GaussianNB(var_smoothing=1e-9).fit(gaussian, y, sample_weight=sw)
    b = BernoulliNB(alpha=1.0, binarize=None).fit(bernoulli, y, sample_weight=sw)
    c = CategoricalNB(alpha=1.0).fit(categorical.astype(int), y, sample_weight=sw)
    # One model over all columns: each sklearn estimator's joint log-likelihood includes the log
    # prior once, and the three priors are equal (same y and weights), so subtract it twice.
    log_prior = np.log(g.class_prior_)
    jll = (g.predict_joint_log_proba(gaussian[test]) + b.predict_joint_log_proba(bernoulli[test])
           + c.predict_joint_log_proba(categorical[test].astype(int)) - 2 * log_prior)
    mixed = np.exp(jll - np.logaddexp.reduce(jll, axis=1, keepdims=True))[:, 1]
    write("naive_bayes.json", {
        "y": y.tolist(), "sample_weight": sw.tolist(),
        "gaussian": gaussian.tolist(), "bernoulli": bernoulli.tolist(), "categorical": categorical.tolist(),
        "test_rows": 60,
        "gaussian_only": {"predict_proba": g.predict_proba(gaussian[test])[:, 1].tolist(),
                          "theta": g.theta_.tolist(), "var": g.var_.tolist(), "epsilon": float(g.epsilon_),
                          "class_prior": g.class_prior_.tolist()},
        "bernoulli_only": {"predict_proba": b.predict_proba(bernoulli[test])[:, 1].tolist(),
                           "feature_log_prob": b.feature_log_prob_.tolist()},
        "categorical_only": {"predict_proba": c.predict_proba(categorical[test].astype(int))[:, 1].tolist()},
        "mixed": {"predict_proba": mixed.tolist()},
    })


def metric_fixtures():
    rng = np.random.default_rng(11)
    cases = []
    for name, n, ties in (("continuous", 300, False), ("tie_heavy", 400, True), ("imbalanced", 2000, True)):
        y = (rng.random(n) < (0.02 if name == "imbalanced" else 0.3)).astype(int)
        score = np.clip(rng.normal(0.3 + 0.3 * y, 0.2), 0.0, 1.0)
        if ties:
            score = np.round(score * 10) / 10  # eleven distinct values
        for weighted in (False, True):
            sw = rng.uniform(0.1, 3.0, size=n) if weighted else None
            weights = np.ones(n) if sw is None else sw
            threshold = 0.5
            order = np.argsort(-score, kind="stable")
            k = 50
            # precision@k: share (by weight) of positives among the k highest scores; ties at the
            # k-th score are all included, as in RiskLoop's definition.
            cutoff = score[order[k - 1]]
            top = score >= cutoff
            fpr, tpr, _ = roc_curve(y, score, sample_weight=sw)
            frac_pos, mean_pred = calibration_curve(y, score, n_bins=10, strategy="uniform")
            cases.append({
                "name": name, "weighted": weighted, "y": y.tolist(), "score": score.tolist(),
                "sample_weight": None if sw is None else sw.tolist(),
                "roc_auc": roc_auc_score(y, score, sample_weight=sw),
                "average_precision": average_precision_score(y, score, sample_weight=sw),
                "log_loss": log_loss(y, score, sample_weight=sw),
                "brier": brier_score_loss(y, score, sample_weight=sw),
                "ks": float(np.max(tpr - fpr)),
                "threshold": threshold,
                "precision_at_threshold": precision_score(y, score >= threshold, sample_weight=sw, zero_division=0),
                "recall_at_threshold": recall_score(y, score >= threshold, sample_weight=sw, zero_division=0),
                "k": k,
                "precision_at_k": float(np.sum(weights[top] * y[top]) / np.sum(weights[top])),
                "calibration_unweighted": {"fraction_positive": frac_pos.tolist(), "mean_predicted": mean_pred.tolist()},
            })
    write("metrics.json", {"cases": cases})


def calibration_fixtures():
    rng = np.random.default_rng(5)
    n = 600
    raw = rng.normal(size=n)
    y = (rng.random(n) < expit(2.0 * raw - 1.0)).astype(float)
    sw = rng.uniform(0.5, 2.0, size=n)
    cases = []
    for weighted in (False, True):
        w = sw if weighted else None
        ww = np.ones(n) if w is None else w
        prior1, prior0 = ww[y > 0].sum(), ww[y <= 0].sum()
        t = np.where(y > 0, (prior1 + 1) / (prior1 + 2), 1 / (prior0 + 2))

        def loss(ab):  # Platt: p = 1 / (1 + exp(a·f + b)), prior-corrected targets t
            z = -(ab[0] * raw + ab[1])
            return np.sum(ww * (np.logaddexp(0, z) - t * z))
        tight = minimize(loss, np.array([0.0, np.log((prior0 + 1) / (prior1 + 1))]), method="BFGS",
                         options={"gtol": 1e-12, "maxiter": 10000}).x
        # Newton steps with the exact Hessian finish what BFGS leaves at its precision limit.
        A = np.column_stack([raw, np.ones(n)])
        for _ in range(50):
            p = expit(-(A @ tight))
            g = -A.T @ (ww * (p - t))
            H = (A.T * (ww * p * (1 - p))) @ A
            tight = tight - np.linalg.solve(H, g)
            if np.max(np.abs(g)) < 1e-13 * ww.sum():
                break
        a, b = _sigmoid_calibration(raw, y, sample_weight=w)
        scores = expit(raw)
        iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(scores, y, sample_weight=w)
        grid = np.linspace(-0.1, 1.1, 49)
        cases.append({
            "weighted": weighted, "platt_a": float(tight[0]), "platt_b": float(tight[1]),
            "sklearn_platt_a": float(a), "sklearn_platt_b": float(b),
            "isotonic_grid": grid.tolist(), "isotonic_predict": iso.predict(grid).tolist(),
            "isotonic_thresholds_x": iso.X_thresholds_.tolist(), "isotonic_thresholds_y": iso.y_thresholds_.tolist(),
        })
    write("calibration.json", {"raw": raw.tolist(), "y": y.tolist(), "sample_weight": sw.tolist(), "cases": cases})


if __name__ == "__main__":
    logistic_fixtures(datasets())
    naive_bayes_fixtures()
    metric_fixtures()
    calibration_fixtures()
