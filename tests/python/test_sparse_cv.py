"""Cross-validation of penalised paths (PenalizedRegression.fit with cv / loocv / repeats / fold_ids).

Truth used: an independent numpy re-computation from the returned fold labels — every fold refitted with
PenalizedRegression(lambdas=<full-data λ path>, cv=None) on the training rows, squared errors (gaussian) or
deviances (binomial) of the held-out rows averaged over observations; se = SD(per-observation losses, ddof=1)/√n;
λ_min = argmin; λ_1se = the largest λ whose mean is ≤ mean_min + se_min.
"""
from __future__ import annotations

import numpy as np
import pytest

from tsunagu import sparse

from _util import correlated_problem


def _problem(n=60, p=10, seed=31):
    return correlated_problem(n, p, seed, rho=0.5, k=4, noise=1.5)


def _refit_folds(est, X, y, fold_ids):
    """Out-of-fold predictions (n, L) by refitting each fold with the full-data λ sequence."""
    lam = np.asarray(est.path_.lambda_)
    params = est.get_params()
    params.update(cv=None, lambdas=lam, loocv=False, repeats=1)
    oof = np.full((len(y), len(lam)), np.nan)
    for f in np.unique(fold_ids):
        te = fold_ids == f
        m = type(est)(**params)
        path = m.path(X[~te], y[~te])
        assert len(path.lambda_) == len(lam)
        oof[te] = np.asarray(path.predict(X[te]))
    return oof


def _summary(losses, lam):
    """mean, se, index_min, index_1se from per-observation losses (n, L)."""
    n = losses.shape[0]
    mean = losses.mean(axis=0)
    se = losses.std(axis=0, ddof=1) / np.sqrt(n)
    i_min = int(np.argmin(mean))
    ok = np.flatnonzero(mean <= mean[i_min] + se[i_min])
    i_1se = int(ok[np.argmax(lam[ok])])  # the largest λ within one SE
    return mean, se, i_min, i_1se


def _check_against_numpy(est, X, y, losses):
    cv = est.cv_
    lam = np.asarray(cv.lambda_)
    np.testing.assert_array_equal(lam, np.asarray(est.path_.lambda_))
    mean, se, i_min, i_1se = _summary(losses, lam)
    np.testing.assert_allclose(np.asarray(cv.mean), mean, rtol=1e-10)
    np.testing.assert_allclose(np.asarray(cv.se), se, rtol=1e-8)
    assert cv.index_min == i_min
    assert cv.index_1se == i_1se
    assert cv.lambda_min == lam[i_min]
    assert cv.lambda_1se == lam[i_1se]
    assert cv.lambda_1se >= cv.lambda_min


@pytest.mark.parametrize("penalty", ["mcp", "lasso", "scad"])
def test_cv_mean_se_lambda_min_1se_equal_numpy_recomputation_from_fold_ids(penalty):
    X, y = _problem()
    est = sparse.PenalizedRegression(penalty=penalty, cv=5, seed=3, nlambda=40).fit(X, y)
    ids = np.asarray(est.cv_.fold_ids)
    assert ids.shape == (len(y),)
    assert sorted(np.unique(ids)) == list(range(5))
    assert np.bincount(ids).max() - np.bincount(ids).min() <= 1  # balanced folds
    assert est.cv_.folds == 5 and est.cv_.repeats == 1
    oof = _refit_folds(est, X, y, ids)
    # out-of-fold predictions equal the fold refits' predictions
    np.testing.assert_allclose(np.asarray(est.cv_.oof), oof, rtol=1e-12, atol=1e-12)
    _check_against_numpy(est, X, y, (y[:, None] - oof) ** 2)


def test_cv_binomial_uses_mean_deviance_of_out_of_fold_probabilities():
    rng = np.random.default_rng(8)
    X, _ = _problem(n=80, p=6, seed=33)
    eta = (X - X.mean(0)) / X.std(0) @ np.array([1.0, -1.0, 0.5, 0, 0, 0])
    y = (rng.random(80) < 1 / (1 + np.exp(-eta))).astype(float)
    est = sparse.Lasso(family="binomial", cv=4, seed=1, nlambda=30).fit(X, y)
    ids = np.asarray(est.cv_.fold_ids)
    # binary outcomes: folds are stratified, so each fold has the class ratio (±1 per class)
    for f in range(4):
        assert abs(y[ids == f].sum() - y.sum() / 4) <= 1
    prob = _refit_folds(est, X, y, ids)
    np.testing.assert_allclose(np.asarray(est.cv_.oof), prob, rtol=1e-12, atol=1e-12)
    pc = np.clip(prob, 1e-15, 1 - 1e-15)
    dev = -2 * (y[:, None] * np.log(pc) + (1 - y[:, None]) * np.log(1 - pc))
    _check_against_numpy(est, X, y, dev)


def test_loocv_uses_n_folds_of_one_observation():
    X, y = _problem(n=20, p=5, seed=34)
    est = sparse.MCP(loocv=True, nlambda=20).fit(X, y)
    assert est.cv_.folds == 20
    np.testing.assert_array_equal(np.sort(np.asarray(est.cv_.fold_ids)), np.arange(20))
    oof = _refit_folds(est, X, y, np.asarray(est.cv_.fold_ids))
    _check_against_numpy(est, X, y, (y[:, None] - oof) ** 2)


def test_user_fold_ids_are_respected():
    X, y = _problem(n=30, p=6, seed=35)
    ids = np.arange(30) % 3
    est = sparse.MCP(cv=10, nlambda=20).fit(X, y, fold_ids=ids)
    np.testing.assert_array_equal(np.asarray(est.cv_.fold_ids), ids)
    assert est.cv_.folds == 3
    oof = _refit_folds(est, X, y, ids)
    _check_against_numpy(est, X, y, (y[:, None] - oof) ** 2)
    # fold_ids also switch CV on when cv=None
    est2 = sparse.MCP(cv=None, nlambda=20).fit(X, y, fold_ids=ids)
    np.testing.assert_array_equal(np.asarray(est2.cv_.mean), np.asarray(est.cv_.mean))


def test_repeated_cv_averages_per_observation_losses_over_repeats():
    X, y = _problem(n=40, p=6, seed=36)
    est = sparse.MCP(cv=4, seed=10, repeats=3, nlambda=25).fit(X, y)
    assert est.cv_.repeats == 3
    losses, oofs = [], []
    for r in range(3):  # repeat r uses seed + r
        single = sparse.MCP(cv=4, seed=10 + r, nlambda=25).fit(X, y)
        if r == 0:
            np.testing.assert_array_equal(np.asarray(est.cv_.fold_ids), np.asarray(single.cv_.fold_ids))
        oof = np.asarray(single.cv_.oof)
        oofs.append(oof)
        losses.append((y[:, None] - oof) ** 2)
    np.testing.assert_allclose(np.asarray(est.cv_.oof), np.mean(oofs, axis=0), rtol=1e-12, atol=1e-12)
    _check_against_numpy(est, X, y, np.mean(losses, axis=0))


def test_same_seed_gives_identical_results_and_different_seed_different_folds():
    X, y = _problem(n=50, p=8, seed=37)
    a = sparse.MCP(cv=5, seed=42).fit(X, y)
    b = sparse.MCP(cv=5, seed=42, threads=1).fit(X, y)
    c = sparse.MCP(cv=5, seed=43).fit(X, y)
    np.testing.assert_array_equal(np.asarray(a.cv_.fold_ids), np.asarray(b.cv_.fold_ids))
    np.testing.assert_array_equal(np.asarray(a.cv_.mean), np.asarray(b.cv_.mean))
    np.testing.assert_array_equal(np.asarray(a.cv_.se), np.asarray(b.cv_.se))
    np.testing.assert_array_equal(a.coef_, b.coef_)
    assert not np.array_equal(np.asarray(a.cv_.fold_ids), np.asarray(c.cv_.fold_ids))
    assert not np.array_equal(np.asarray(a.cv_.mean), np.asarray(c.cv_.mean))


def test_cv_selected_coefficients_are_the_path_columns_at_lambda_min_and_1se():
    X, y = _problem()
    est = sparse.MCP(cv=5, seed=0).fit(X, y)
    k = est.cv_.index_min
    assert est.lambda_ == est.cv_.lambda_min
    np.testing.assert_array_equal(est.coef_, np.asarray(est.path_.beta)[:, k])
    est1 = sparse.MCP(cv=5, seed=0, lambda_select="1se").fit(X, y)
    assert est1.lambda_ == est1.cv_.lambda_1se
    np.testing.assert_array_equal(est1.coef_, np.asarray(est1.path_.beta)[:, est1.cv_.index_1se])


# ------------------------------------------------------------------------------------------------------------------
# bad input
@pytest.mark.parametrize("kwargs,fold_ids,field", [
    (dict(cv=11), None, "folds"),          # more folds than rows
    (dict(cv=1), None, "cv"),
    (dict(repeats=0), None, "repeats"),
    (dict(cv=3), np.array([0, 0, 0, 0, 2, 2, 2, 2, 0, 2]), "fold_ids"),  # fold 1 is empty
    (dict(cv=3), np.array([0, 1] * 4), "fold_ids"),                     # wrong length
    (dict(cv=3), np.zeros(10, dtype=int), "fold_ids"),                  # a single fold
    (dict(cv=3), np.array([0, 1, -1, 0, 1, 0, 1, 0, 1, 0]), "fold_ids"),  # negative label
    (dict(cv=3), np.array([0, 1, 0.5, 0, 1, 0, 1, 0, 1, 0]), "fold_ids"),  # non-integer
])
def test_bad_cv_settings_raise_value_error_naming_the_field(kwargs, fold_ids, field):
    X, y = _problem(n=10, p=3, seed=38)
    with pytest.raises(ValueError, match=field):
        sparse.MCP(**kwargs).fit(X, y, fold_ids=fold_ids)
