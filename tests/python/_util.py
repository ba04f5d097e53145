"""Plain numpy helpers shared by the tests (independent of tsunagu's own implementation)."""
from __future__ import annotations

import numpy as np


def standardise(X):
    """Columns centred and scaled by their population SD (ddof=0): (Xs, mean, sd)."""
    X = np.asarray(X, dtype=float)
    m = X.mean(axis=0)
    s = X.std(axis=0)
    return (X - m) / s, m, s


def correlated_problem(n, p, seed, rho=0.5, k=5, noise=1.0):
    """Random regression with AR(1)-correlated features of mixed scales/offsets and a sparse true β."""
    rng = np.random.default_rng(seed)
    C = rho ** np.abs(np.subtract.outer(np.arange(p), np.arange(p)))
    X = rng.standard_normal((n, p)) @ np.linalg.cholesky(C).T
    X = X * rng.uniform(0.5, 5.0, p) + rng.uniform(-3.0, 3.0, p)
    beta = np.zeros(p)
    k = min(k, p)
    idx = rng.choice(p, k, replace=False)
    beta[idx] = rng.uniform(0.5, 2.0, k) * rng.choice([-1.0, 1.0], k) / X[:, idx].std(axis=0)
    y = X @ beta + noise * rng.standard_normal(n) + 4.0
    return X, y


def penalty_derivative(penalty, t, l1, gamma):
    """P'(t) for t > 0 of lasso/MCP/SCAD with level l1 (= λ·α·pf)."""
    t = np.asarray(t, dtype=float)
    l1 = np.broadcast_to(np.asarray(l1, dtype=float), t.shape)
    if penalty == "lasso":
        return l1.copy()
    if penalty == "mcp":
        return np.maximum(l1 - t / gamma, 0.0)
    if penalty == "scad":
        return np.where(t <= l1, l1, np.where(t <= gamma * l1, (gamma * l1 - t) / (gamma - 1.0), 0.0))
    raise ValueError(penalty)


def penalty_value(penalty, t, l1, gamma):
    """P(t) for t >= 0."""
    t = np.abs(np.asarray(t, dtype=float))
    if penalty == "lasso":
        return l1 * t
    if penalty == "mcp":
        return np.where(t <= gamma * l1, l1 * t - t * t / (2 * gamma), 0.5 * gamma * l1 * l1)
    if penalty == "scad":
        return np.where(t <= l1, l1 * t,
                        np.where(t <= gamma * l1, (2 * gamma * l1 * t - t * t - l1 * l1) / (2 * (gamma - 1)),
                                 0.5 * l1 * l1 * (gamma + 1)))
    raise ValueError(penalty)


def kkt_residual(penalty, Xs, r, beta, lam, alpha, pf, gamma):
    """Largest KKT violation on the standardised scale, given the residual r (gaussian: yc − Xsβ;
    binomial: y − p). Nonzero β_j: |−g_j + sign(β_j)P'(|β_j|) + λ(1−α)pf_j β_j|; zero: max(|g_j| − λαpf_j, 0)."""
    n = Xs.shape[0]
    g = Xs.T @ r / n
    l1 = lam * alpha * pf
    l2 = lam * (1 - alpha) * pf
    nz = beta != 0
    v_nz = np.abs(-g[nz] + np.sign(beta[nz]) * penalty_derivative(penalty, np.abs(beta[nz]), l1[nz], gamma)
                  + l2[nz] * beta[nz])
    v_z = np.maximum(np.abs(g[~nz]) - l1[~nz], 0.0)
    return float(np.max(np.concatenate([v_nz, v_z, [0.0]])))
