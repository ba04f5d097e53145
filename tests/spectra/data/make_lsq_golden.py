#!/usr/bin/env python3
"""Golden numbers for tests/spectra/lsq_test.cpp, from independent tools (lmfit 1.3, scipy).

Writes tests/spectra/data/lsq_golden.json with
  * "spectra": synthetic C 1s-like spectra (300 points, 280..295 eV, 3 pseudo-Voigt peaks + linear background,
    Poisson noise with fixed numpy seeds) at three count levels, each fitted with lmfit (Poisson weighting:
    weights 1/sqrt(max(y,1)), scale_covar=False) and one fitted with unit weights (scale_covar=True);
    the starting values given to lmfit are stored so the C++ fitter starts from the same point;
  * "nist_gauss1_sd": standard deviations of NIST Gauss1 from scipy.optimize.least_squares with the analytic
    Jacobian, (JᵀJ)⁻¹·RSS/(n−8) (the certified ones were not available offline).

Parametrisation: tsunagu's pvoigt is (1−η)·G(fwhm) + η·L(fwhm), area-normalised, value = area·profile; lmfit's
PseudoVoigtModel uses the same FWHM for both parts with sigma = fwhm/2, amplitude = area, fraction = η.
The background is a + b·(x − mean(x)), tsunagu's linear background.
lmfit is run without bounds (the solutions are interior), so its covariance is the plain (JᵀWJ)⁻¹.

    .venv/bin/python tests/spectra/data/make_lsq_golden.py            # write the JSON
    .venv/bin/python tests/spectra/data/make_lsq_golden.py --time 200 # also time lmfit per fit (default tolerances)
"""
import argparse
import json
import os
import time

import numpy as np
from lmfit import Model
from lmfit.models import PseudoVoigtModel
from scipy.optimize import least_squares

HERE = os.path.dirname(os.path.abspath(__file__))

TRUTH = [  # center (eV), fwhm (eV), relative area, eta
    (284.5, 1.0, 1.00, 0.3),
    (285.9, 1.2, 0.45, 0.5),
    (288.8, 1.5, 0.30, 0.2),
]
X = np.linspace(280.0, 295.0, 300)
XBAR = float(X.mean())


def pvoigt(x, c, f, a, eta):
    g = np.sqrt(4 * np.log(2) / np.pi) / f * np.exp(-4 * np.log(2) * (x - c) ** 2 / f**2)
    h = f / 2
    lor = h / np.pi / ((x - c) ** 2 + h**2)
    return a * ((1 - eta) * g + eta * lor)


def make_spectrum(height, seed):
    """Truth scaled so that the main peak is ~`height` counts above a background of 0.15·height."""
    area = height / 0.848  # peak height of a unit-area pvoigt (fwhm 1, eta 0.3) is 0.848
    peaks = [(c, f, area * r, eta) for c, f, r, eta in TRUTH]
    bg = (0.15 * height, 0.004 * height)  # a, b of a + b(x − x̄)
    mean = bg[0] + bg[1] * (X - XBAR)
    for p in peaks:
        mean = mean + pvoigt(X, *p)
    rng = np.random.default_rng(seed)
    y = rng.poisson(mean).astype(float)
    return peaks, bg, y


def initial_guess(peaks, bg):
    """Deliberately off: centres ±0.15 eV, widths ×1.15, areas ×0.8, eta 0.5."""
    shifts = [0.15, -0.15, 0.1]
    return [(c + s, f * 1.15, a * 0.8, 0.5) for (c, f, a, _), s in zip(peaks, shifts)], (bg[0] * 1.2, 0.0)


def line(x, a, b):
    return a + b * (x - XBAR)


def build_model():
    model = Model(line, prefix="bg_")
    for k in range(3):
        model = model + PseudoVoigtModel(prefix=f"p{k}_")
    return model


def make_params(model, init_peaks, init_bg):
    pars = model.make_params()
    for k, (c, f, a, eta) in enumerate(init_peaks):
        pars[f"p{k}_center"].set(value=c, min=-np.inf, max=np.inf)
        pars[f"p{k}_sigma"].set(value=f / 2, min=-np.inf, max=np.inf)
        pars[f"p{k}_amplitude"].set(value=a, min=-np.inf, max=np.inf)
        pars[f"p{k}_fraction"].set(value=eta, min=-np.inf, max=np.inf)
    pars["bg_a"].set(value=init_bg[0])
    pars["bg_b"].set(value=init_bg[1])
    return pars


def lmfit_fit(model, y, init_peaks, init_bg, weighting, tight=True):
    pars = make_params(model, init_peaks, init_bg)
    kws = {"xtol": 1e-12, "ftol": 1e-12} if tight else {}
    if weighting == "poisson":
        w = 1 / np.sqrt(np.maximum(y, 1.0))
        return model.fit(y, pars, x=X, weights=w, scale_covar=False, method="leastsq", fit_kws=kws)
    return model.fit(y, pars, x=X, scale_covar=True, method="leastsq", fit_kws=kws)


def result_dict(res):
    peaks, errs = [], []
    for k in range(3):
        v = [res.params[f"p{k}_{n}"] for n in ("center", "sigma", "amplitude", "fraction")]
        peaks.append([v[0].value, 2 * v[1].value, v[2].value, v[3].value])
        errs.append([v[0].stderr, 2 * v[1].stderr, v[2].stderr, v[3].stderr])
    return {
        "peaks": peaks,
        "stderr": errs,
        "background": [res.params["bg_a"].value, res.params["bg_b"].value],
        "background_stderr": [res.params["bg_a"].stderr, res.params["bg_b"].stderr],
        "chisqr": res.chisqr,
        "nfev": res.nfev,
    }


def nist_gauss1_sd():
    d = np.loadtxt(os.path.join(HERE, "nist", "Gauss1.dat"))
    y, x = d[:, 0], d[:, 1]

    def f(b):
        return b[0] * np.exp(-b[1] * x) + b[2] * np.exp(-((x - b[3]) ** 2) / b[4] ** 2) + b[5] * np.exp(
            -((x - b[6]) ** 2) / b[7] ** 2)

    def jac(b):  # of the residual y − f
        e1 = np.exp(-b[1] * x)
        d2, d3 = x - b[3], x - b[6]
        e2, e3 = np.exp(-d2**2 / b[4] ** 2), np.exp(-d3**2 / b[7] ** 2)
        J = np.column_stack([e1, -b[0] * x * e1, e2, b[2] * e2 * 2 * d2 / b[4] ** 2, b[2] * e2 * 2 * d2**2 / b[4] ** 3,
                             e3, b[5] * e3 * 2 * d3 / b[7] ** 2, b[5] * e3 * 2 * d3**2 / b[7] ** 3])
        return -J

    start = [97.0, 0.009, 100.0, 65.0, 20.0, 70.0, 178.0, 16.5]
    r = least_squares(lambda b: y - f(b), start, jac=jac, xtol=1e-15, ftol=1e-15, gtol=1e-15, method="lm")
    rss = float(np.sum(r.fun**2))
    cov = np.linalg.inv(r.jac.T @ r.jac) * rss / (len(x) - 8)
    return list(np.sqrt(np.diag(cov))), list(r.x), rss


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--time", type=int, default=0, help="time this many lmfit fits (default tolerances)")
    args = ap.parse_args()

    model = build_model()
    cases = [("poisson_low", 100.0, 11, "poisson"), ("poisson_mid", 1000.0, 12, "poisson"),
             ("poisson_high", 10000.0, 13, "poisson"), ("gaussian_mid", 1000.0, 14, "gaussian")]
    spectra = []
    for name, height, seed, weighting in cases:
        # The lmfit fit is unbounded, tsunagu keeps eta in [0, 1]: take the first seed (from the base one) whose
        # solution is inside the bounds, so both solve the same problem.
        while True:
            peaks, bg, y = make_spectrum(height, seed)
            init_peaks, init_bg = initial_guess(peaks, bg)
            res = lmfit_fit(model, y, init_peaks, init_bg, weighting)
            assert res.success, name
            if all(0.02 < res.params[f"p{k}_fraction"].value < 0.98 for k in range(3)):
                break
            seed += 100
        spectra.append({
            "name": name, "seed": seed, "weighting": weighting,
            "x": list(X), "y": list(y),
            "truth": {"peaks": [list(p) for p in peaks], "background": list(bg)},
            "initial": {"peaks": [list(p) for p in init_peaks], "background": list(init_bg)},
            "lmfit": result_dict(res),
        })
    sd, b, rss = nist_gauss1_sd()
    print("NIST Gauss1 scipy sd:", ", ".join(f"{v:.10e}" for v in sd), " rss", rss)
    out = {
        "generator": "tests/spectra/data/make_lsq_golden.py",
        "lmfit_version": __import__("lmfit").__version__,
        "parametrisation": "peaks [center, fwhm, area, eta]; background [a, b] of a + b(x - mean(x))",
        "spectra": spectra,
        "nist_gauss1_sd": sd,
    }
    with open(os.path.join(HERE, "lsq_golden.json"), "w") as fh:
        json.dump(out, fh, indent=1)

    if args.time:
        # Same problem as the C++ benchmark: 3 pvoigt + linear, 300 points, Poisson weights, default tolerances;
        # the model is built once, as a user fitting many spectra would do.
        ys, inits = [], []
        for i in range(args.time):
            peaks, bg, y = make_spectrum(1000.0, 1000 + i)
            ys.append(y)
            inits.append(initial_guess(peaks, bg))
        t0 = time.perf_counter()
        nfev = 0
        for y, (ip, ib) in zip(ys, inits):
            res = lmfit_fit(model, y, ip, ib, "poisson", tight=False)
            nfev += res.nfev
        dt = (time.perf_counter() - t0) / args.time
        print(f"lmfit: {dt * 1e3:.2f} ms per fit ({args.time} fits, mean nfev {nfev / args.time:.0f})")


if __name__ == "__main__":
    main()
