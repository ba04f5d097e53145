#!/usr/bin/env python3
"""Reference values for tests/spectra/em_test.cpp: a plain, textbook intensity-weighted EM written with numpy/scipy.

Model (Matsumura et al., STAM 20, 733 (2019)): channel weights w_i = y_i dx_i (dx = midpoint-rule channel width,
full spacing at both ends), mixture density sum_c pi_c g_c(x), weighted log-likelihood L = sum_i w_i log(sum_c ...).
Peak densities g = f / M with f the Gaussian / Lorentzian / pseudo-Voigt profile and M its mass inside the window
[x_0 - dx_0/2, x_{n-1} + dx_{n-1}/2] (M = 1 in the paper's plain form, "normalised": false). Backgrounds: uniform
1/W, linear (1 + s(x - xbar))/W, or uniform + step (cumulative trapezoid integral of the peak sum, normalised).

M steps, written the textbook way (two-pass moments, scipy quadrature and root finding):
  gauss:   truncated-data EM (Dempster, Laird & Rubin 1977, sec. 4.2): the complete sample = the weighted channels
           (responsibilities r) + the expected unobserved mass outside the window, m (1 - M) with m = N / M, whose
           moments are integrated numerically (scipy.integrate.quad);  mu = first moment / m, sigma^2 = second / m
  lorentz: Cauchy = Student t with nu = 1 (Liu & Rubin 1995), latent precision with E[tau|x] = 2 g^2/(g^2 + d^2):
           mu = sum a x / sum a, g^2 = sum a (x - mu)^2 / m with a = r E[tau|x] (+ the same integrals outside)
  pvoigt:  the peak is a two-part mixture (1 - eta) G + eta L with a shared FWHM: location weights
           a = r^G / cG^2 + r^L E[tau|x] / cL^2 (fwhm units), fwhm^2 = sum a (x - mu)^2 / m, eta = complete L mass / m
  linear:  s maximises sum r log(1 + s d) on the admissible interval (scipy.optimize.brentq on the derivative)
Centres are clamped to the window and widths to [min_fwhm, max_fwhm] (never active in these cases).

For every case the script records (a) the parameters after exactly N_FIXED iterations from the given start (tests
the iteration map), (b) the converged parameters (no parameter moves by more than 1e-12 in an iteration; the number
of iterations is stored so the C++ test can run exactly as many), and, where the fixed point is a maximum of L
(all but the tied step background), checks them against scipy.optimize.minimize (L-BFGS-B on -L from the same
start, an independent optimiser) and stores that optimum as well.

Run:  .venv/bin/python tests/spectra/data/em_reference.py   (writes tests/spectra/data/em_reference.json)
"""
import json
import os

import numpy as np
from scipy.integrate import quad
from scipy.optimize import brentq, minimize
from scipy.stats import cauchy, norm

CG = 1.0 / (2.0 * np.sqrt(2.0 * np.log(2.0)))  # sigma / FWHM
CL = 0.5                                       # gamma / FWHM
N_FIXED = 30


def channel_widths(x):
    dx = np.empty_like(x)
    dx[0] = x[1] - x[0]
    dx[-1] = x[-1] - x[-2]
    dx[1:-1] = 0.5 * (x[2:] - x[:-2])
    return dx


def gauss(x, mu, fwhm):
    s = CG * fwhm
    return np.exp(-0.5 * ((x - mu) / s) ** 2) / (s * np.sqrt(2 * np.pi))


def lorentz(x, mu, fwhm):
    g = CL * fwhm
    return g / np.pi / ((x - mu) ** 2 + g ** 2)


def tail_integral(fun, a, b):
    """integral of fun over (-inf, a) and (b, inf)"""
    lo = quad(fun, -np.inf, a, epsabs=0, epsrel=1e-13, limit=200)[0]
    hi = quad(fun, b, np.inf, epsabs=0, epsrel=1e-13, limit=200)[0]
    return lo + hi


class Problem:
    def __init__(self, x, y, shape, background, min_fwhm, max_fwhm, fit_eta=True, normalised=True):
        self.x, self.y, self.shape, self.bg = x, y, shape, background
        self.dx = channel_widths(x)
        self.w = y * self.dx
        self.A = self.w.sum()
        self.W = self.dx.sum()
        self.a, self.b = x[0] - 0.5 * self.dx[0], x[-1] + 0.5 * self.dx[-1]
        self.xbar = (self.dx * x).sum() / self.W
        self.d = x - self.xbar
        margin = 1 - 1e-6
        self.s_lo, self.s_hi = -margin / self.d.max(), -margin / self.d.min()
        self.min_fwhm, self.max_fwhm, self.fit_eta, self.normalised = min_fwhm, max_fwhm, fit_eta, normalised

    def eta(self, th, k):
        return {"gauss": 0.0, "lorentz": 1.0}.get(self.shape, th["eta"][k] if self.shape == "pvoigt" else 0.0)

    def masses(self, mu, fwhm, eta):
        """(M_G, M_L): in-window masses of the Gaussian and Lorentzian profiles (scipy.stats cdfs)"""
        if not self.normalised:
            return 1.0, 1.0
        s, g = CG * fwhm, CL * fwhm
        MG = norm.cdf(self.b, mu, s) - norm.cdf(self.a, mu, s)
        ML = cauchy.cdf(self.b, mu, g) - cauchy.cdf(self.a, mu, g)
        return MG, ML

    def peak_mass(self, th, k):
        e = self.eta(th, k)
        MG, ML = self.masses(th["mu"][k], th["fwhm"][k], e)
        return (1 - e) * MG + e * ML

    def components(self, th):
        """normalised component densities and, for each peak, its Gaussian part"""
        x = self.x
        K = len(th["mu"])
        peaks, gparts = [], []
        for k in range(K):
            e = self.eta(th, k)
            M = self.peak_mass(th, k)
            g = (1 - e) * gauss(x, th["mu"][k], th["fwhm"][k]) / M
            f = g + e * lorentz(x, th["mu"][k], th["fwhm"][k]) / M
            peaks.append(f); gparts.append(g)
        comps = list(peaks)
        if self.bg == "uniform":
            comps.append(np.full_like(x, 1 / self.W))
        elif self.bg == "linear":
            comps.append((1 + th["s"] * self.d) / self.W)
        elif self.bg == "step":
            comps.append(np.full_like(x, 1 / self.W))
            P = sum(th["pi"][k] * peaks[k] for k in range(K))
            S = np.concatenate([[0.0], np.cumsum(0.5 * (P[1:] + P[:-1]) * np.diff(x))])
            comps.append(S / (self.dx * S).sum())
        return comps, gparts

    def loglik(self, th):
        comps, _ = self.components(th)
        p = sum(pc * c for pc, c in zip(th["pi"], comps))
        return float((self.w * np.log(p)).sum())

    def step(self, th):
        comps, gparts = self.components(th)
        K = len(th["mu"])
        weighted = [pc * c for pc, c in zip(th["pi"], comps)]
        p = sum(weighted)
        R = [self.w * f / p for f in weighted]           # responsibilities x weights
        N = np.array([r.sum() for r in R])
        new = {k: (list(v) if isinstance(v, list) else v) for k, v in th.items()}
        for k in range(K):
            r = R[k]; Nk = N[k]; mu0 = th["mu"][k]; fw0 = th["fwhm"][k]; e = self.eta(th, k)
            s0, g0 = CG * fw0, CL * fw0
            M = self.peak_mass(th, k)
            MG, ML = self.masses(mu0, fw0, e)
            m = Nk / M                                   # complete (untruncated) mass of this peak
            rG = self.w * th["pi"][k] * gparts[k] / p
            rL = r - rG
            u = 2 * g0 ** 2 / (g0 ** 2 + (self.x - mu0) ** 2)
            a_in = rG / CG ** 2 + rL * u / CL ** 2
            # density of the location weights outside the window (per unit of complete mass)
            a_out = lambda z: ((1 - e) * gauss(z, mu0, fw0) / CG ** 2
                               + e * lorentz(z, mu0, fw0) * 2 * g0 ** 2 / (g0 ** 2 + (z - mu0) ** 2) / CL ** 2)
            if self.normalised:
                o0 = m * tail_integral(a_out, self.a, self.b)
                o1 = m * tail_integral(lambda z: a_out(z) * z, self.a, self.b)
            else:
                o0 = o1 = 0.0
            mu = ((a_in * self.x).sum() + o1) / (a_in.sum() + o0)
            mu = min(max(mu, self.a), self.b)
            o2 = m * tail_integral(lambda z: a_out(z) * (z - mu) ** 2, self.a, self.b) if self.normalised else 0.0
            fwhm = np.sqrt(((a_in * (self.x - mu) ** 2).sum() + o2) / m)
            if self.shape == "pvoigt" and self.fit_eta:
                new["eta"][k] = float((rL.sum() + m * e * (1 - ML)) / m)
            new["mu"][k] = float(mu)
            new["fwhm"][k] = float(np.clip(fwhm, self.min_fwhm, self.max_fwhm))
        if self.bg == "linear":
            r = R[K]
            gfun = lambda s: (r * self.d / (1 + s * self.d)).sum()
            if gfun(self.s_lo) <= 0:
                new["s"] = self.s_lo
            elif gfun(self.s_hi) >= 0:
                new["s"] = self.s_hi
            else:
                new["s"] = float(brentq(gfun, self.s_lo, self.s_hi, xtol=1e-16, rtol=4 * np.finfo(float).eps,
                                        maxiter=500))
        new["pi"] = list(N / N.sum())
        return new

    def run(self, th, n_iter=None, tol=1e-12, max_iter=30000):
        """n_iter iterations, or (n_iter None) until no parameter moves by more than tol in one iteration"""
        it = 0
        while it != (n_iter if n_iter is not None else max_iter):
            new = self.step(th); it += 1
            change = max(abs(a - b) for key in ("mu", "fwhm", "eta", "pi")
                         for a, b in zip(new[key], th[key]))
            change = max(change, abs(new["s"] - th["s"]))
            th = new
            if n_iter is None and change <= tol:
                break
        return th, self.loglik(th), it

    def report(self, th, L):
        K = len(th["mu"])
        out = {"center": th["mu"], "fwhm": th["fwhm"],
               "area": [th["pi"][k] * self.A / self.peak_mass(th, k) for k in range(K)], "L": L}
        if self.shape == "pvoigt":
            out["eta"] = th["eta"]
        if self.bg == "uniform":
            out["bg_params"] = [self.A * th["pi"][K] / self.W]
        elif self.bg == "linear":
            a = self.A * th["pi"][K] / self.W
            out["bg_params"] = [a, a * th["s"]]
        elif self.bg == "step":
            comps, _ = self.components(th)
            vals = self.A * (th["pi"][K] * comps[K] + th["pi"][K + 1] * comps[K + 1])
            out["bg_params"] = [float(vals[0]), float(vals[-1])]
        else:
            out["bg_params"] = []
        return out

    # independent check: maximise L directly with scipy over unconstrained parameters
    def polish(self, th):
        K = len(th["mu"])
        nbg = {"none": 0, "uniform": 1, "linear": 1, "step": 2}[self.bg]
        C = K + nbg

        def unpack(z):
            t = {"mu": list(z[:K]), "fwhm": list(np.exp(z[K:2 * K]))}
            logits = np.concatenate([[0.0], z[2 * K:2 * K + C - 1]])
            e = np.exp(logits - logits.max())
            t["pi"] = list(e / e.sum())
            j = 2 * K + C - 1
            t["eta"] = list(1 / (1 + np.exp(-z[j:j + K]))) if self.shape == "pvoigt" else th.get("eta", [0.5] * K)
            if self.shape == "pvoigt":
                j += K
            t["s"] = float(z[j]) if self.bg == "linear" else 0.0
            return t

        logit = np.log(np.array(th["pi"][1:]) / th["pi"][0])
        z0 = list(th["mu"]) + list(np.log(th["fwhm"])) + list(logit)
        if self.shape == "pvoigt":
            z0 += list(np.log(np.array(th["eta"]) / (1 - np.array(th["eta"]))))
        if self.bg == "linear":
            z0 += [th["s"]]
        bounds = [(None, None)] * (len(z0) - 1) + [(self.s_lo, self.s_hi) if self.bg == "linear" else (None, None)]
        res = minimize(lambda z: -self.loglik(unpack(z)) / self.A, np.array(z0), method="L-BFGS-B", bounds=bounds,
                       options={"ftol": 1e-15, "gtol": 1e-10, "maxiter": 20000, "maxcor": 30})
        t = unpack(res.x)
        return t, self.loglik(t), res.nit


def make_case(name, shape, bg, x, truth, bg_level, bg_slope, step_frac, seed, init, fit_eta=True,
              min_fwhm=0.05, max_fwhm=20.0, normalised=True):
    """Poisson counts from the true model; init = dict(mu, fwhm, eta, pi_peaks, s) in component order."""
    rng = np.random.default_rng(seed)
    m = np.full_like(x, bg_level) + bg_slope * (x - x.mean())
    peaks = np.zeros_like(x)
    for (c, f, a, e) in truth:
        if shape == "gauss":
            prof = gauss(x, c, f)
        elif shape == "lorentz":
            prof = lorentz(x, c, f)
        else:
            prof = (1 - e) * gauss(x, c, f) + e * lorentz(x, c, f)
        peaks += a * prof
    m += peaks
    if step_frac > 0:
        S = np.concatenate([[0.0], np.cumsum(0.5 * (peaks[1:] + peaks[:-1]) * np.diff(x))])
        m += step_frac * S
    y = rng.poisson(m).astype(float)
    pr = Problem(x, y, shape, bg, min_fwhm, max_fwhm, fit_eta, normalised)
    th0 = {"mu": list(init["mu"]), "fwhm": list(init["fwhm"]), "eta": list(init.get("eta", [0.5] * len(init["mu"]))),
           "s": init.get("s", 0.0)}
    K = len(th0["mu"])
    pk = list(init["pi_peaks"])
    rest = 1 - sum(pk)
    if bg == "none":
        th0["pi"] = pk
    elif bg == "step":
        th0["pi"] = pk + [0.7 * rest, 0.3 * rest]
    else:
        th0["pi"] = pk + [rest]
    fixed, Lf, _ = pr.run(th0, n_iter=N_FIXED)
    conv, Lc, it = pr.run(th0)
    case = {"name": name, "shape": shape, "background": bg, "fit_eta": fit_eta, "normalised": normalised,
            "min_fwhm": min_fwhm, "max_fwhm": max_fwhm, "x": list(x), "y": list(y), "A": pr.A, "W": pr.W,
            "xbar": pr.xbar,
            "init": {"center": th0["mu"], "fwhm": th0["fwhm"], "eta": th0["eta"], "pi": th0["pi"], "s": th0["s"],
                     "area": [th0["pi"][k] * pr.A / pr.peak_mass(th0, k) for k in range(K)], "L": pr.loglik(th0)},
            "n_fixed": N_FIXED, "fixed": pr.report(fixed, Lf),
            "converged_iterations": it, "converged": pr.report(conv, Lc)}
    if bg != "step":
        # scipy from the same start (not from EM's answer), so it is an independent route to the maximum
        pol, Lp, nit = pr.polish(th0)
        case["scipy"] = pr.report(pol, Lp)
        dmu = max(abs(a - b) for a, b in zip(pol["mu"], conv["mu"]))
        dfw = max(abs(a - b) for a, b in zip(pol["fwhm"], conv["fwhm"]))
        print(f"{name}: EM {it} iterations, L = {Lc:.10f}; scipy ({nit} it) L = {Lp:.10f}, "
              f"max |dmu| = {dmu:.2e}, max |dfwhm| = {dfw:.2e}")
        assert Lp <= Lc + 1e-9 * pr.A, "scipy found a better optimum than EM's fixed point"
        assert dmu < 1e-5 and dfw < 1e-5, "EM's fixed point differs from scipy's maximum"
    else:
        print(f"{name}: EM {it} iterations, L = {Lc:.10f}")
    return case


def main():
    cases = []
    x = np.linspace(280.0, 292.0, 241)
    cases.append(make_case("gauss2_uniform", "gauss", "uniform", x, [(284.5, 1.2, 8000, 0), (287.0, 1.0, 3000, 0)],
                           200.0, 0.0, 0.0, 1,
                           {"mu": [284.0, 287.5], "fwhm": [1.5, 1.5], "pi_peaks": [0.3, 0.2]}))
    cases.append(make_case("gauss2_uniform_plain", "gauss", "uniform", x,
                           [(284.5, 1.2, 8000, 0), (287.0, 1.0, 3000, 0)], 200.0, 0.0, 0.0, 1,
                           {"mu": [284.0, 287.5], "fwhm": [1.5, 1.5], "pi_peaks": [0.3, 0.2]}, normalised=False))
    # a peak 1 FWHM from the low edge: a third of it lies outside the window
    cases.append(make_case("gauss2_edge_uniform", "gauss", "uniform", x,
                           [(280.6, 1.2, 8000, 0), (285.0, 1.0, 3000, 0)], 100.0, 0.0, 0.0, 8,
                           {"mu": [281.0, 285.5], "fwhm": [1.5, 1.5], "pi_peaks": [0.4, 0.2]}))
    cases.append(make_case("gauss3_linear", "gauss", "linear", np.linspace(280.0, 295.0, 300),
                           [(284.0, 1.0, 6000, 0), (285.6, 1.1, 4000, 0), (289.0, 1.4, 2000, 0)],
                           150.0, 8.0, 0.0, 2,
                           {"mu": [283.5, 286.0, 289.5], "fwhm": [1.2, 1.2, 1.2], "pi_peaks": [0.25, 0.2, 0.1],
                            "s": 0.01}))
    cases.append(make_case("gauss2_none", "gauss", "none", np.linspace(-5.0, 5.0, 101),
                           [(-1.0, 1.5, 5000, 0), (1.5, 2.0, 2500, 0)], 0.0, 0.0, 0.0, 3,
                           {"mu": [-1.5, 2.0], "fwhm": [1.0, 1.0], "pi_peaks": [0.5, 0.5]}))
    # irregular axis: channel widths differ (tests dx weighting)
    xi = np.sort(np.concatenate([np.linspace(0.0, 10.0, 120), np.linspace(3.05, 6.95, 40)]))
    cases.append(make_case("gauss1_uniform_irregular", "gauss", "uniform", xi, [(5.0, 1.3, 5000, 0)],
                           100.0, 0.0, 0.0, 4, {"mu": [4.0], "fwhm": [2.0], "pi_peaks": [0.6]}))
    cases.append(make_case("lorentz2_uniform", "lorentz", "uniform", np.linspace(0.0, 20.0, 301),
                           [(8.0, 1.0, 6000, 1), (11.0, 1.5, 3000, 1)], 80.0, 0.0, 0.0, 5,
                           {"mu": [7.5, 11.5], "fwhm": [1.2, 1.2], "pi_peaks": [0.35, 0.25]}))
    cases.append(make_case("pvoigt2_linear", "pvoigt", "linear", np.linspace(525.0, 540.0, 301),
                           [(531.0, 1.3, 9000, 0.3), (533.2, 1.6, 4000, 0.3)], 300.0, -5.0, 0.0, 6,
                           {"mu": [530.5, 533.5], "fwhm": [1.5, 1.5], "eta": [0.5, 0.5], "pi_peaks": [0.3, 0.15],
                            "s": 0.0}))
    cases.append(make_case("gauss2_step", "gauss", "step", np.linspace(280.0, 292.0, 241),
                           [(284.5, 1.2, 8000, 0), (287.0, 1.0, 3000, 0)], 150.0, 0.0, 0.03, 7,
                           {"mu": [284.0, 287.5], "fwhm": [1.5, 1.5], "pi_peaks": [0.3, 0.2]}))
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "em_reference.json")
    with open(out, "w") as f:
        json.dump({"generator": "tests/spectra/data/em_reference.py", "cases": cases}, f, indent=1)
    print("wrote", out)


if __name__ == "__main__":
    main()
