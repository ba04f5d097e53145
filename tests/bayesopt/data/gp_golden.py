#!/usr/bin/env python3
"""Golden values for tests/bayesopt/gp_test.cpp and classifier_test.cpp, computed with scikit-learn.

Run from the repository root with the project venv:
    .venv/bin/python tests/bayesopt/data/gp_golden.py
Writes gp_golden.json and classifier_golden.json next to this script.

Conventions shared with tsunagu::bayesopt (include/tsunagu/bayesopt/gp.hpp):
  * kernel = ConstantKernel(s2) * {RBF, Matern(nu=1.5), Matern(nu=2.5)}(length_scale) [+ WhiteKernel(noise)];
    scikit-learn's theta = log of (s2, length scales, noise) is exactly tsunagu's theta layout.
  * the noise enters either as a WhiteKernel (then scikit-learn's predictive variance includes it:
    tsunagu predict(include_noise=true)) or as alpha on the diagonal (variance of f only: include_noise=false).
  * normalize_y=True is tsunagu's standardize_y (mean and population sd); the likelihood is then in
    standardised units, tsunagu's model units.
  * "normalize_x" cases feed scikit-learn the inputs min/max-scaled onto [0, 1] (tsunagu's normalize_x).
"""
import json
import pathlib

import numpy as np
import sklearn
from sklearn.gaussian_process import GaussianProcessClassifier, GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, ConstantKernel, Matern, WhiteKernel

HERE = pathlib.Path(__file__).resolve().parent


def base_kernel(name, length_scale, bounds="fixed"):
    if name == "rbf":
        return RBF(length_scale=length_scale, length_scale_bounds=bounds)
    nu = {"matern32": 1.5, "matern52": 2.5}[name]
    return Matern(length_scale=length_scale, length_scale_bounds=bounds, nu=nu)


def test_function(X):
    # smooth, anisotropic, non-additive
    x1 = X[:, 1] if X.shape[1] > 1 else X[:, 0]
    return np.sin(3.0 * X[:, 0]) + 0.5 * np.cos(5.0 * x1 * X[:, -1]) + 2.0 * X[:, -1] ** 2


def regression_cases():
    rng = np.random.default_rng(20240611)
    cases = []
    specs = [
        # kernel, ard, noise_mode, normalize_y, normalize_x, dim
        ("rbf", True, "white", False, False, 3),
        ("rbf", False, "alpha", True, False, 2),
        ("matern32", True, "white", True, False, 3),
        ("matern32", False, "white", False, False, 2),
        ("matern52", True, "alpha", False, False, 3),
        ("matern52", True, "white", True, True, 3),
        ("matern52", False, "alpha", True, False, 1),
    ]
    for kernel, ard, noise_mode, normalize_y, normalize_x, dim in specs:
        n, m = 25, 15
        lo = rng.uniform(-2.0, 1.0, dim)
        hi = lo + rng.uniform(1.0, 4.0, dim)
        X = lo + (hi - lo) * rng.uniform(size=(n, dim))
        Xs = lo + (hi - lo) * rng.uniform(size=(m, dim))
        unit = (X - lo) / (hi - lo)
        y = 3.0 + 2.0 * test_function(unit) + 0.05 * rng.normal(size=n)
        if normalize_x:
            xmin, xmax = X.min(axis=0), X.max(axis=0)
            Xf, Xsf = (X - xmin) / (xmax - xmin), (Xs - xmin) / (xmax - xmin)
            ls_scale = np.ones(dim)
        else:
            Xf, Xsf = X, Xs
            ls_scale = hi - lo
        s2 = float(rng.uniform(0.5, 2.0)) * (1.0 if normalize_y else 4.0)
        if ard:
            ls = ls_scale * rng.uniform(0.2, 0.6, dim)
        else:
            ls = float(np.mean(ls_scale) * rng.uniform(0.2, 0.6))
        noise = float(10 ** rng.uniform(-3, -1.5)) * (1.0 if normalize_y else 4.0)
        k = ConstantKernel(s2, constant_value_bounds="fixed") * base_kernel(kernel, ls)
        if noise_mode == "white":
            k = k + WhiteKernel(noise, noise_level_bounds="fixed")
            gpr = GaussianProcessRegressor(k, alpha=0.0, optimizer=None, normalize_y=normalize_y)
        else:
            gpr = GaussianProcessRegressor(k, alpha=noise, optimizer=None, normalize_y=normalize_y)
        gpr.fit(Xf, y)
        mean, std = gpr.predict(Xsf, return_std=True)
        lml = gpr.log_marginal_likelihood_value_
        cases.append(
            dict(
                kernel=kernel,
                ard=ard,
                noise_mode=noise_mode,
                standardize_y=normalize_y,
                normalize_x=normalize_x,
                X=X.tolist(),
                y=y.tolist(),
                Xs=Xs.tolist(),
                signal_variance=s2,
                lengthscales=np.atleast_1d(ls).tolist(),
                noise_variance=noise,
                mean=mean.tolist(),
                variance=(std**2).tolist(),
                lml=float(lml),
            )
        )
    return cases


def fitted_cases():
    """scikit-learn's best hyperparameters (10 restarts) with tsunagu's bounds; tsunagu must reach this LML."""
    rng = np.random.default_rng(7)
    cases = []
    for kernel, ard, dim, n in [("matern52", True, 3, 40), ("rbf", False, 2, 30), ("matern32", True, 2, 35)]:
        X = rng.uniform(size=(n, dim))
        y = 10.0 + 3.0 * test_function(X) + 0.1 * rng.normal(size=n)
        # normalize_y=True: model-unit variance of y is 1, so tsunagu's s2 bounds are [1e-6, 1e6].
        k = ConstantKernel(1.0, constant_value_bounds=(1e-6, 1e6)) * base_kernel(
            kernel, np.full(dim, 0.5) if ard else 0.5, bounds=(1e-3, 1e3)
        ) + WhiteKernel(1e-2, noise_level_bounds=(1e-9, 10.0))
        gpr = GaussianProcessRegressor(k, alpha=0.0, normalize_y=True, n_restarts_optimizer=10, random_state=0)
        gpr.fit(X, y)
        cases.append(
            dict(
                kernel=kernel,
                ard=ard,
                X=X.tolist(),
                y=y.tolist(),
                sklearn_theta=gpr.kernel_.theta.tolist(),
                sklearn_lml=float(gpr.log_marginal_likelihood_value_),
            )
        )
    return cases


def classifier_cases():
    rng = np.random.default_rng(99)
    cases = []
    for kernel, ard, dim, n in [("rbf", False, 2, 30), ("matern52", True, 2, 40), ("matern32", False, 3, 35)]:
        X = rng.uniform(size=(n, dim))
        Xs = rng.uniform(size=(20, dim))
        # success where a smooth function is positive, with label noise
        score = np.sin(4 * X[:, 0]) - X[:, 1] + 0.3
        labels = (score + 0.3 * rng.normal(size=n) > 0).astype(int)
        s2 = float(rng.uniform(0.5, 4.0))
        # ClassifierOptions has one initial/fixed lengthscale for all dimensions: with ARD the fixed-kernel case
        # repeats it per dimension (the fitted case below has distinct ones).
        ls0 = float(rng.uniform(0.15, 0.5))
        ls = np.full(dim, ls0) if ard else ls0
        k = ConstantKernel(s2, constant_value_bounds="fixed") * base_kernel(kernel, ls)
        gpc = GaussianProcessClassifier(k, optimizer=None).fit(X, labels)
        proba = gpc.predict_proba(Xs)[:, 1]
        # fitted with the bounds tsunagu's classifier uses (s2 and lengthscales in [1e-2, 1e2])
        kf = ConstantKernel(1.0, constant_value_bounds=(1e-2, 1e2)) * base_kernel(
            kernel, np.full(dim, 0.3) if ard else 0.3, bounds=(1e-2, 1e2)
        )
        gpcf = GaussianProcessClassifier(kf, n_restarts_optimizer=10, random_state=0).fit(X, labels)
        cases.append(
            dict(
                kernel=kernel,
                ard=ard,
                X=X.tolist(),
                labels=labels.tolist(),
                Xs=Xs.tolist(),
                signal_variance=s2,
                lengthscales=np.atleast_1d(ls).tolist(),
                probability=proba.tolist(),
                lml=float(gpc.log_marginal_likelihood_value_),
                fitted_theta=gpcf.kernel_.theta.tolist(),
                fitted_lml=float(gpcf.log_marginal_likelihood_value_),
            )
        )
    return cases


def main():
    meta = dict(generator="tests/bayesopt/data/gp_golden.py", sklearn=sklearn.__version__, numpy=np.__version__)
    with open(HERE / "gp_golden.json", "w") as f:
        json.dump(dict(meta=meta, regression=regression_cases(), fitted=fitted_cases()), f, indent=1)
    with open(HERE / "classifier_golden.json", "w") as f:
        json.dump(dict(meta=meta, cases=classifier_cases()), f, indent=1)


if __name__ == "__main__":
    main()
