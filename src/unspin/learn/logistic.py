"""Logistic regression by Newton steps (numpy): the calibration's and the span scorer's fitter.

Small problems (a handful of features, thousands of rows), so exact Newton steps with a small ridge
(separable data still gives finite weights); optionally with non-negative weights, for scores that must
be monotone in every piece of evidence.
"""

from __future__ import annotations

import numpy as np


def fit_logistic(
    xs: np.ndarray, ys: np.ndarray, iters: int = 100, nonneg: bool = False, ridge: float = 1e-2
) -> tuple[np.ndarray, float]:
    """(weights, bias) maximising the penalised likelihood of labels ``ys`` (0/1) given ``xs``."""
    n, k = xs.shape
    x = np.hstack([xs, np.ones((n, 1))])
    w = np.zeros(k + 1)
    pen = np.diag([ridge] * k + [1e-6])
    for _ in range(iters):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ w, -60, 60)))
        grad = x.T @ (p - ys) + pen @ w
        hess = (x * (p * (1 - p))[:, None]).T @ x + pen
        step = np.linalg.solve(hess, grad)
        w = w - step
        if nonneg:
            w[:k] = np.maximum(w[:k], 0.0)
        if np.abs(step).sum() < 1e-9:
            break
    return w[:k], float(w[k])
