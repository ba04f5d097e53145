"""Penalised regression paths (tsunagu.sparse.PenalizedRegression / MCP / SCAD / Lasso).

Truths used: scikit-learn's lasso_path and R glmnet on the standardised / original problem; the KKT optimality
conditions of MCP/SCAD (lasso, elastic net) computed plainly in numpy; the unique MCP minimiser of a strictly
convex problem from an independent coordinate-descent solver (and skglm when asked for); the definition of
λ_max and the log-spaced λ grid; sklearn's L1 logistic regression; dense grid search for the univariate
thresholding operator.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import warnings

import numpy as np
import pytest

import tsunagu
from tsunagu import sparse

from _util import correlated_problem, kkt_residual, penalty_value, standardise

TIGHT = dict(cv=None, eps=1e-12, max_iter=10**7)


def _path(penalty="lasso", **kw):
    opts = dict(TIGHT)
    opts.update(kw)
    return sparse.PenalizedRegression(penalty=penalty, **opts)


# ------------------------------------------------------------------------------------------------------------------
# lasso vs scikit-learn / glmnet
def _assert_lasso_matches_sklearn(X, y, path):
    lasso_path = pytest.importorskip("sklearn.linear_model").lasso_path

    Xs, _, _ = standardise(X)
    yc = y - y.mean()
    lam = np.asarray(path.lambda_)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning at tol=1e-14 is harmless; agreement is checked below
        _, coefs, _ = lasso_path(Xs, yc, alphas=lam, tol=1e-14, max_iter=10**6)
    B = np.asarray(path.beta_std)
    assert B.shape == coefs.shape
    scale = np.abs(coefs).max()
    np.testing.assert_allclose(B, coefs, rtol=1e-6, atol=1e-6 * scale)
    # the active sets agree wherever sklearn's coefficient is clearly away from zero
    clear = np.abs(coefs) > 1e-6 * scale
    assert np.all(B[clear] != 0)


def test_lasso_path_equals_sklearn_lasso_path_on_prostate(prostate):
    X, y, _, _ = prostate
    est = sparse.Lasso(**TIGHT)
    path = est.path(X, y)
    assert path.status == "converged"
    assert len(path.lambda_) == 100
    _assert_lasso_matches_sklearn(X, y, path)


@pytest.mark.parametrize("n,p,seed", [(150, 12, 1), (200, 30, 2), (40, 80, 3), (25, 60, 4)])
def test_lasso_path_equals_sklearn_lasso_path_on_random_correlated_problems(n, p, seed):
    X, y = correlated_problem(n, p, seed, rho=0.6)
    path = sparse.Lasso(**TIGHT).path(X, y)
    assert path.status == "converged"
    _assert_lasso_matches_sklearn(X, y, path)


@pytest.mark.parametrize("penalty", ["lasso", "mcp", "scad"])
@pytest.mark.parametrize("n,p", [(80, 10), (30, 50)])
def test_original_scale_coefficients_are_standardised_ones_divided_by_population_sd(penalty, n, p):
    X, y = correlated_problem(n, p, 7, rho=0.4)
    Xs, m, s = standardise(X)
    est = _path(penalty, eps=1e-8)
    path = est.path(X, y)
    Bs = np.asarray(path.beta_std)
    B = np.asarray(path.beta)
    np.testing.assert_allclose(np.asarray(path.center), m, rtol=1e-12)
    np.testing.assert_allclose(np.asarray(path.scale), s, rtol=1e-12)  # population SD, ddof=0
    np.testing.assert_allclose(B, Bs / s[:, None], rtol=1e-12, atol=0)
    np.testing.assert_allclose(np.asarray(path.intercept), y.mean() - m @ B, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(np.asarray(path.intercept_std), 0.0, atol=0)  # gaussian: y centred
    assert path.y_mean == pytest.approx(y.mean(), rel=1e-14)
    assert path.y_sd == pytest.approx(y.std(), rel=1e-12)
    # predictions on the original scale: X @ beta + intercept, and the standardised model gives the same
    P = np.asarray(path.predict(X))
    np.testing.assert_allclose(P, X @ B + np.asarray(path.intercept), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(P, y.mean() + Xs @ Bs, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(est.predict_path(X), P, rtol=0, atol=0)
    # the loss reported is RSS/(2n) of those predictions
    rss = ((y[:, None] - P) ** 2).sum(axis=0) / (2 * len(y))
    np.testing.assert_allclose(np.asarray(path.loss), rss, rtol=1e-8, atol=1e-12)
    # df counts the nonzero coefficients
    np.testing.assert_array_equal(np.asarray(path.df), (B != 0).sum(axis=0))


_GLMNET_SCRIPT = r"""
if (!requireNamespace("glmnet", quietly = TRUE)) quit(status = 77)
suppressMessages(library(glmnet))
args <- commandArgs(trailingOnly = TRUE)
d <- as.matrix(read.csv(args[1]))
lam <- scan(args[2], quiet = TRUE)
x <- d[, -ncol(d)]
y <- d[, ncol(d)]
fit <- glmnet(x, y, lambda = lam, standardize = TRUE, thresh = 1e-14, maxit = 1e7)
B <- as.matrix(coef(fit))
write.csv(t(B), args[3], row.names = FALSE)
"""


def test_lasso_path_equals_R_glmnet_on_prostate(prostate, prostate_csv, tmp_path):
    rscript = shutil.which("Rscript")
    if rscript is None:
        pytest.skip("Rscript is not available")
    X, y, names, _ = prostate
    path = sparse.Lasso(**TIGHT).path(X, y)
    lam_file = tmp_path / "lambda.txt"
    np.savetxt(lam_file, np.asarray(path.lambda_), fmt="%.17g")
    script = tmp_path / "glmnet.R"
    script.write_text(_GLMNET_SCRIPT)
    out = tmp_path / "glmnet_coef.csv"
    r = subprocess.run([rscript, str(script), str(prostate_csv), str(lam_file), str(out)], capture_output=True,
                       text=True, timeout=300)
    if r.returncode == 77:
        pytest.skip("the R package glmnet is not installed")
    assert r.returncode == 0, r.stderr
    G = np.loadtxt(out, delimiter=",", skiprows=1)  # (L, 1 + p): intercept, coefficients (original scale)
    assert G.shape == (100, 1 + X.shape[1])
    B = np.asarray(path.beta).T
    b0 = np.asarray(path.intercept)
    s = X.std(axis=0)
    m = X.mean(axis=0)
    # compare per SD of each feature (the features have very different units), relative to the largest coefficient
    scale = np.abs(G[:, 1:] * s).max()
    np.testing.assert_allclose(B * s, G[:, 1:] * s, rtol=1e-6, atol=1e-6 * scale)
    # intercepts relative to the size of the terms that make them up
    b0_scale = abs(y.mean()) + np.abs(G[:, 1:] * m).sum(axis=1)
    assert np.all(np.abs(b0 - G[:, 0]) <= 1e-6 * b0_scale)


# ------------------------------------------------------------------------------------------------------------------
# KKT conditions of MCP and SCAD
@pytest.mark.parametrize("penalty", ["mcp", "scad"])
@pytest.mark.parametrize("n,p", [(120, 20), (30, 60)])
@pytest.mark.parametrize("alpha", [1.0, 0.5])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mcp_scad_solutions_satisfy_kkt_conditions_at_every_lambda(penalty, n, p, alpha, seed):
    X, y = correlated_problem(n, p, 100 + seed, rho=0.5)
    pf = np.ones(p)
    pf[[0, 3]] = 0.0  # never penalised
    pf[5] = 2.0
    pf[7] = 0.5
    est = sparse.PenalizedRegression(penalty=penalty, alpha=alpha, penalty_factor=pf, eps=1e-10, max_iter=10**6,
                                     cv=None)
    path = est.path(X, y)
    assert path.status == "converged"
    assert all(path.converged)
    Xs, _, _ = standardise(X)
    yc = y - y.mean()
    B = np.asarray(path.beta_std)
    gamma = 3.0 if penalty == "mcp" else 3.7
    assert path.gamma == gamma
    mine = np.array([kkt_residual(penalty, Xs, yc - Xs @ B[:, k], B[:, k], lam, alpha, pf, gamma)
                     for k, lam in enumerate(path.lambda_)])
    tol = 1e-6 * y.std()
    assert mine.max() < tol, f"KKT residual {mine.max():.3g} at lambda index {mine.argmax()}"
    # tsunagu's own kkt_violation computes the same quantity
    theirs = est.kkt_violation(X, y)
    np.testing.assert_allclose(theirs, mine, rtol=1e-6, atol=1e-9 * y.std())
    # unpenalised features are in the model from λ_max on
    assert np.all(B[[0, 3], :] != 0)


def test_kkt_violation_detects_a_non_optimal_path():
    """The check is not vacuous: a path fitted with a loose tolerance and a perturbed one violate it."""
    X, y = correlated_problem(100, 10, 11)
    est = sparse.MCP(cv=None, eps=1e-10)
    est.path(X, y)
    good = est.kkt_violation(X, y).max()
    other = sparse.MCP(cv=None, eps=1e-10).path(X + 0.3 * np.random.default_rng(0).standard_normal(X.shape), y)
    bad = sparse.kkt_violation(other, X, y).max()
    assert good < 1e-6 * y.std() < bad


# ------------------------------------------------------------------------------------------------------------------
# uniqueness of MCP when the problem is strictly convex
def _mcp_coordinate_descent(Xs, yc, lam, gamma, tol=1e-14, max_sweeps=100000):
    """Plain cyclic coordinate descent for (1/2n)||yc − Xs b||² + Σ MCP(|b_j|; λ, γ), columns with x'x/n = 1."""
    n, p = Xs.shape
    b = np.zeros(p)
    r = yc.copy()
    for _ in range(max_sweeps):
        delta = 0.0
        for j in range(p):
            z = Xs[:, j] @ r / n + b[j]
            if abs(z) <= gamma * lam:
                new = np.sign(z) * max(abs(z) - lam, 0.0) / (1.0 - 1.0 / gamma)
            else:
                new = z
            if new != b[j]:
                r -= (new - b[j]) * Xs[:, j]
                delta = max(delta, abs(new - b[j]))
                b[j] = new
        if delta < tol:
            return b
    raise AssertionError("reference coordinate descent did not converge")


def _strictly_convex_mcp_problem():
    X, y = correlated_problem(400, 6, 3, rho=0.2, k=3)
    Xs, _, _ = standardise(X)
    gamma = 3.0
    assert np.linalg.eigvalsh(Xs.T @ Xs / len(y)).min() > 1 / gamma  # strictly convex objective
    return X, y, gamma


def test_mcp_solution_equals_independent_solver_when_problem_is_strictly_convex():
    X, y, gamma = _strictly_convex_mcp_problem()
    Xs, _, _ = standardise(X)
    yc = y - y.mean()
    path = sparse.MCP(gamma=gamma, nlambda=30, **TIGHT).path(X, y)
    B = np.asarray(path.beta_std)
    for k in range(0, 30, 3):
        ref = _mcp_coordinate_descent(Xs, yc, path.lambda_[k], gamma)
        np.testing.assert_allclose(B[:, k], ref, rtol=1e-8, atol=1e-9 * np.abs(B).max())


@pytest.mark.skipif(not os.environ.get("TSUNAGU_SLOW_TESTS"),
                    reason="skglm's numba compilation takes ~25 s; set TSUNAGU_SLOW_TESTS=1 to run")
def test_mcp_solution_equals_skglm_when_problem_is_strictly_convex():
    skglm = pytest.importorskip("skglm")
    X, y, gamma = _strictly_convex_mcp_problem()
    Xs, _, _ = standardise(X)
    yc = y - y.mean()
    path = sparse.MCP(gamma=gamma, nlambda=20, **TIGHT).path(X, y)
    B = np.asarray(path.beta_std)
    for k in range(1, 20, 3):
        r = skglm.MCPRegression(alpha=path.lambda_[k], gamma=gamma, fit_intercept=False, tol=1e-12,
                                max_iter=10000).fit(Xs, yc)
        np.testing.assert_allclose(B[:, k], r.coef_, rtol=1e-8, atol=1e-9 * np.abs(B).max())


# ------------------------------------------------------------------------------------------------------------------
# λ path conventions
def test_lambda_path_default_is_100_log_spaced_values_from_lambda_max_down_to_ratio_0_001_when_n_gt_p():
    X, y = correlated_problem(60, 8, 21)
    Xs, _, _ = standardise(X)
    yc = y - y.mean()
    path = sparse.MCP(cv=None).path(X, y)
    lam = np.asarray(path.lambda_)
    lam_max = np.max(np.abs(Xs.T @ yc)) / len(y)
    assert len(lam) == 100
    assert lam[0] == pytest.approx(lam_max, rel=1e-12)
    assert lam[-1] == pytest.approx(0.001 * lam_max, rel=1e-10)
    steps = np.diff(np.log(lam))
    np.testing.assert_allclose(steps, steps[0], rtol=1e-9)
    assert np.all(steps < 0)
    # all coefficients are zero at λ_max
    assert np.all(np.asarray(path.beta)[:, 0] == 0)


@pytest.mark.parametrize("n,p", [(30, 60), (10, 10)])
def test_lambda_path_default_ratio_is_0_05_unless_n_gt_p(n, p):
    X, y = correlated_problem(n, p, 22)
    path = sparse.Lasso(cv=None).path(X, y)
    lam = np.asarray(path.lambda_)
    assert lam[-1] / lam[0] == pytest.approx(0.05, rel=1e-10)


@pytest.mark.parametrize("alpha", [1.0, 0.4])
def test_lambda_max_is_max_abs_correlation_over_n_alpha_pf_and_first_coefficient_enters_just_below(alpha):
    X, y = correlated_problem(50, 7, 23)
    Xs, _, _ = standardise(X)
    yc = y - y.mean()
    pf = np.array([1.0, 2.0, 0.5, 1.0, 3.0, 1.0, 0.7])
    lam_max = np.max(np.abs(Xs.T @ yc) / (len(y) * alpha * pf))
    path = sparse.MCP(cv=None, alpha=alpha, penalty_factor=pf, nlambda=5).path(X, y)
    assert path.lambda_[0] == pytest.approx(lam_max, rel=1e-12)
    # exactly at λ_max nothing is selected, slightly below the feature attaining the max enters (alone)
    below = sparse.MCP(cv=None, alpha=alpha, penalty_factor=pf, lambdas=[lam_max, lam_max * 0.999]).path(X, y)
    B = np.asarray(below.beta)
    assert np.all(B[:, 0] == 0)
    j = int(np.argmax(np.abs(Xs.T @ yc) / (len(y) * alpha * pf)))
    assert B[j, 1] != 0
    assert np.count_nonzero(B[:, 1]) == 1


def test_lambda_max_with_unpenalised_features_uses_the_residual_after_fitting_them():
    X, y = correlated_problem(60, 6, 24, rho=0.7)
    Xs, _, _ = standardise(X)
    yc = y - y.mean()
    pf = np.array([0.0, 1.0, 1.0, 0.0, 1.0, 1.0])
    U = Xs[:, pf == 0]
    r = yc - U @ np.linalg.lstsq(U, yc, rcond=None)[0]
    lam_max = np.max(np.abs(Xs[:, pf > 0].T @ r) / len(y))
    path = sparse.MCP(cv=None, penalty_factor=pf, eps=1e-12).path(X, y)
    assert path.lambda_[0] == pytest.approx(lam_max, rel=1e-6)
    B = np.asarray(path.beta)
    assert np.all(B[pf > 0, 0] == 0)  # penalised: zero at λ_max
    assert np.all(B[pf == 0, 0] != 0)  # unpenalised: nonzero at λ_max
    np.testing.assert_allclose(np.asarray(path.beta_std)[pf == 0, 0], np.linalg.lstsq(U, yc, rcond=None)[0],
                               rtol=1e-6)


def test_nlambda_2_and_custom_nlambda_and_ratio():
    X, y = correlated_problem(40, 5, 25)
    path = sparse.MCP(cv=None, nlambda=2).path(X, y)
    assert len(path.lambda_) == 2
    assert path.lambda_[1] / path.lambda_[0] == pytest.approx(0.001, rel=1e-10)
    path = sparse.MCP(cv=None, nlambda=7, lambda_min_ratio=0.2).path(X, y)
    lam = np.asarray(path.lambda_)
    assert len(lam) == 7
    np.testing.assert_allclose(lam, lam[0] * 0.2 ** (np.arange(7) / 6), rtol=1e-10)


def test_user_lambdas_are_used_exactly():
    X, y = correlated_problem(40, 5, 26)
    user = [2.0, 1.0, 0.5, 0.11, 0.01]
    path = sparse.SCAD(cv=None, lambdas=user).path(X, y)
    np.testing.assert_array_equal(np.asarray(path.lambda_), user)
    assert np.asarray(path.beta).shape == (5, 5)


@pytest.mark.parametrize("bad", [[1.0, 2.0], [1.0, 1.0], [1.0, -0.5], [1.0, 0.0]])
def test_user_lambdas_must_be_strictly_decreasing_and_positive(bad):
    X, y = correlated_problem(20, 3, 27)
    with pytest.raises(ValueError, match="lambda"):
        sparse.MCP(cv=None, lambdas=bad).path(X, y)


# ------------------------------------------------------------------------------------------------------------------
# constant columns, unpenalised features, dfmax
def test_constant_columns_are_dropped_with_a_runtime_warning_and_get_coefficient_zero():
    X, y = correlated_problem(50, 5, 28)
    X = np.column_stack([X[:, :2], np.full(50, 3.5), X[:, 2:], np.zeros(50)])
    est = sparse.MCP(cv=None)
    with pytest.warns(RuntimeWarning, match="constant") as rec:
        path = est.path(X, y)
    messages = " ".join(str(w.message) for w in rec)
    assert "column 2" in messages and "column 6" in messages
    assert list(path.dropped_constant) == [2, 6]
    B = np.asarray(path.beta)
    assert np.all(B[[2, 6], :] == 0)
    assert np.all(np.asarray(path.beta_std)[[2, 6], :] == 0)
    assert np.asarray(path.scale)[2] == 0 and np.asarray(path.scale)[6] == 0
    # the other coefficients are those of the problem without the constant columns
    ref = sparse.MCP(cv=None, lambdas=path.lambda_).path(np.delete(X, [2, 6], axis=1), y)
    np.testing.assert_allclose(np.delete(B, [2, 6], axis=0), np.asarray(ref.beta), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(np.asarray(path.intercept), np.asarray(ref.intercept), rtol=1e-12)
    # predictions still work with the full column set
    assert np.all(np.isfinite(est.predict(X)))


def test_all_columns_constant_is_an_error():
    with pytest.raises(ValueError, match="constant"):
        sparse.MCP(cv=None).path(np.ones((10, 3)), np.arange(10.0))


def test_dfmax_truncates_the_path_with_status_truncated_dfmax():
    X, y = correlated_problem(80, 20, 29, k=10, noise=0.5)
    est = sparse.Lasso(cv=None, dfmax=3)
    with pytest.warns(RuntimeWarning, match="dfmax"):
        path = est.path(X, y)
    assert path.status == "truncated_dfmax"
    df = np.asarray(path.df)
    assert len(path.lambda_) < 100
    assert df[-1] > 3
    assert np.all(df[:-1] <= 3)
    assert np.asarray(path.beta).shape == (20, len(path.lambda_))
    full = sparse.Lasso(cv=None).path(X, y)
    np.testing.assert_allclose(np.asarray(path.lambda_), np.asarray(full.lambda_)[:len(path.lambda_)], rtol=0)


# ------------------------------------------------------------------------------------------------------------------
# binomial family
def _logistic_problem(n=150, p=8, seed=5):
    rng = np.random.default_rng(seed)
    X, _ = correlated_problem(n, p, seed, rho=0.3)
    Xs, _, _ = standardise(X)
    eta = 0.3 + 1.2 * Xs[:, 0] - 0.8 * Xs[:, 2] + 0.5 * Xs[:, 5]
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
    return X, y


@pytest.mark.parametrize("penalty", ["lasso", "mcp", "scad"])
@pytest.mark.parametrize("alpha", [1.0, 0.6])
def test_binomial_path_satisfies_logistic_kkt_conditions_at_every_lambda(penalty, alpha):
    X, y = _logistic_problem()
    p = X.shape[1]
    pf = np.ones(p)
    pf[4] = 0.0
    est = sparse.PenalizedRegression(penalty=penalty, family="binomial", alpha=alpha, penalty_factor=pf,
                                     eps=1e-10, max_iter=10**6, cv=None)
    path = est.path(X, y)
    assert path.status == "converged"
    Xs, m, _ = standardise(X)
    B = np.asarray(path.beta_std)
    b0 = np.asarray(path.intercept_std)
    worst = 0.0
    for k, lam in enumerate(path.lambda_):
        prob = 1 / (1 + np.exp(-(b0[k] + Xs @ B[:, k])))
        worst = max(worst, abs(np.mean(y - prob)))  # intercept stationarity
        worst = max(worst, kkt_residual(penalty, Xs, y - prob, B[:, k], lam, alpha, pf, path.gamma))
    assert worst < 1e-7
    assert np.asarray(est.kkt_violation(X, y)).max() < 1e-7
    # original-scale intercept
    np.testing.assert_allclose(np.asarray(path.intercept), b0 - m @ np.asarray(path.beta), rtol=1e-12, atol=1e-12)


def test_lasso_binomial_equals_sklearn_l1_logistic_regression():
    LogisticRegression = pytest.importorskip("sklearn.linear_model").LogisticRegression

    X, y = _logistic_problem()
    n = len(y)
    path = sparse.Lasso(family="binomial", eps=1e-10, max_iter=10**6, cv=None).path(X, y)
    Xs, _, _ = standardise(X)
    B = np.asarray(path.beta_std)
    b0 = np.asarray(path.intercept_std)
    for k in (5, 20, 45, 80):
        lam = path.lambda_[k]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # saga does not penalise the intercept (liblinear would)
            lr = LogisticRegression(penalty="l1", C=1 / (n * lam), solver="saga", tol=1e-12,
                                    max_iter=100000).fit(Xs, y)
        np.testing.assert_allclose(B[:, k], lr.coef_[0], rtol=0, atol=1e-4)
        assert b0[k] == pytest.approx(lr.intercept_[0], abs=1e-4)


def test_binomial_predict_returns_labels_and_predict_proba_rows_sum_to_one():
    X, y = _logistic_problem()
    est = sparse.MCP(family="binomial", cv=5, seed=2).fit(X, y)
    labels = est.predict(X)
    assert set(np.unique(labels)) <= {0.0, 1.0}
    proba = est.predict_proba(X)
    assert proba.shape == (len(y), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-15)
    assert np.all((proba >= 0) & (proba <= 1))
    eta = X @ est.coef_ + est.intercept_
    np.testing.assert_allclose(proba[:, 1], 1 / (1 + np.exp(-eta)), rtol=1e-12)
    np.testing.assert_array_equal(labels, (eta > 0).astype(float))
    assert est.score(X, y) == pytest.approx(np.mean(labels == y))
    assert est.score(X, y) > 0.6


def test_binomial_lambda_max_intercept_and_loss_at_the_null_model():
    X, y = _logistic_problem()
    Xs, _, _ = standardise(X)
    path = sparse.MCP(family="binomial", cv=None).path(X, y)
    ybar = y.mean()
    assert path.lambda_[0] == pytest.approx(np.max(np.abs(Xs.T @ (y - ybar))) / len(y), rel=1e-12)
    assert path.lambda_[-1] / path.lambda_[0] == pytest.approx(0.001, rel=1e-10)
    assert np.all(np.asarray(path.beta)[:, 0] == 0)
    assert path.intercept[0] == pytest.approx(np.log(ybar / (1 - ybar)), rel=1e-12)
    # loss = −(1/n) log-likelihood = deviance / (2n) at every λ
    P = np.asarray(path.predict(X))
    nll = -np.mean(y[:, None] * np.log(P) + (1 - y[:, None]) * np.log(1 - P), axis=0)
    np.testing.assert_allclose(np.asarray(path.loss), nll, rtol=1e-10)


def test_binomial_requires_0_1_outcomes_with_two_classes():
    X, _ = _logistic_problem(n=30)
    with pytest.raises(ValueError, match="0/1"):
        sparse.MCP(family="binomial", cv=None).path(X, np.linspace(0, 2, 30))
    with pytest.raises(ValueError, match="one class"):
        sparse.MCP(family="binomial", cv=None).path(X, np.ones(30))


# ------------------------------------------------------------------------------------------------------------------
# univariate thresholding operator
def _grid_minimum(penalty, u, v, l1, l2, gamma):
    """Dense-grid minimum of (a/2)b² − ub + P(|b|), a = v + l2: (f, grid minimiser, minimum, unique?)."""
    a = v + l2
    f = lambda b: 0.5 * a * b * b - u * b + penalty_value(penalty, b, l1, gamma)  # noqa: E731
    hi = abs(u) / a + gamma * l1 + 1.0
    grid = np.linspace(-hi, hi, 100001)
    step = grid[1] - grid[0]
    fg = f(grid)
    i = int(np.argmin(fg))
    fine = np.linspace(grid[i] - step, grid[i] + step, 2001)
    ff = f(fine)
    b_min, f_min = float(fine[np.argmin(ff)]), float(ff.min())
    # unique: no grid point far from the minimiser comes within a small margin of the minimum value
    far = np.abs(grid - b_min) > 0.05 * (1 + abs(b_min))
    unique = not np.any(fg[far] <= f_min + 1e-6 * (1 + abs(f_min)))
    return f, b_min, f_min, unique


def _threshold_cases():
    rng = np.random.default_rng(12345)
    cases = []
    for penalty in ("lasso", "mcp", "scad"):
        for _ in range(40):
            u = rng.uniform(-4, 4)
            v = rng.choice([1.0, 0.25, rng.uniform(0.02, 0.3)])  # small v: nonconvex 1-D problems
            l1 = rng.uniform(0.05, 2.0)
            l2 = rng.choice([0.0, rng.uniform(0.0, 0.5)])
            gamma = rng.uniform(1.2, 6.0) if penalty == "mcp" else rng.uniform(2.1, 7.0)
            cases.append((penalty, u, v, l1, l2, gamma))
        # hand-picked nonconvex / boundary cases
        cases += [(penalty, 0.9, 0.1, 1.0, 0.0, 3.0), (penalty, 0.5, 0.05, 1.0, 0.0, 3.0),
                  (penalty, -0.3, 0.1, 0.5, 0.0, 4.0), (penalty, 3.0, 0.2, 1.0, 0.0, 2.5),
                  (penalty, 1.5, 1.0, 1.0, 0.0, 3.0), (penalty, -2.5, 1.0, 1.0, 0.1, 3.0)]
    return cases


@pytest.mark.parametrize("penalty,u,v,l1,l2,gamma", _threshold_cases())
def test_threshold_returns_global_minimiser_of_univariate_problem(penalty, u, v, l1, l2, gamma):
    b = sparse.threshold(penalty, u, v, l1, l2, gamma)
    f, b_grid, f_grid, unique = _grid_minimum(penalty, u, v, l1, l2, gamma)
    fb = float(f(np.array(b)))
    # never worse than the best grid point (global, not just local, optimality) ...
    assert fb <= f_grid + 1e-10 * (1 + abs(f_grid)), (b, b_grid, fb, f_grid)
    # ... and equal to the grid minimiser when the minimum is unique
    if unique:
        assert b == pytest.approx(b_grid, abs=1e-4 * (1 + abs(b_grid)))


def test_threshold_closed_forms():
    # lasso: soft thresholding divided by the curvature
    assert sparse.threshold("lasso", 3.0, 1.0, 1.0, 0.0, 3.0) == pytest.approx(2.0)
    assert sparse.threshold("lasso", -3.0, 2.0, 1.0, 0.0, 3.0) == pytest.approx(-1.0)
    assert sparse.threshold("lasso", 0.5, 1.0, 1.0, 0.0, 3.0) == 0.0
    # MCP (v = 1): firm thresholding; beyond γλ no shrinkage
    assert sparse.threshold("mcp", 2.0, 1.0, 1.0, 0.0, 3.0) == pytest.approx(1.0 / (1 - 1 / 3))
    assert sparse.threshold("mcp", 5.0, 1.0, 1.0, 0.0, 3.0) == pytest.approx(5.0)
    # SCAD (v = 1): soft up to 2λ, no shrinkage beyond γλ
    assert sparse.threshold("scad", 1.5, 1.0, 1.0, 0.0, 3.7) == pytest.approx(0.5)
    assert sparse.threshold("scad", 5.0, 1.0, 1.0, 0.0, 3.7) == pytest.approx(5.0)
    # no penalty: u / (v + l2)
    assert sparse.threshold("mcp", 2.0, 0.5, 0.0, 0.5, 3.0) == pytest.approx(2.0)


def test_threshold_rejects_unknown_penalty():
    with pytest.raises(ValueError, match="penalty"):
        sparse.threshold("ridge", 1.0, 1.0, 1.0, 0.0, 3.0)
    with pytest.raises(tsunagu.InvalidArgument):
        sparse.threshold("ridge", 1.0, 1.0, 1.0, 0.0, 3.0)
