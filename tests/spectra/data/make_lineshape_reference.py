#!/usr/bin/env python3
"""Golden numbers for tests/spectra/lineshape_test.cpp and background_test.cpp (independent of the C++ code).

Run:  .venv/bin/python tests/spectra/data/make_lineshape_reference.py
Prints C++ initialisers that are pasted into the tests.

- Voigt: scipy.special.voigt_profile (Faddeeva w(z) from the Faddeeva package, not libcerf's build) and the
  Olivero-Longbothum parametrisation (f, rho) -> (sigma, gamma) written out here again.
- Doniach-Sunjic: the closed form in numpy, maximum located by scipy.optimize (and the analytic gamma*cot(pi/(2-a))).
- DS (x) Gauss: the convolution integral by scipy.integrate.quad in direct space, cross-checked against a second,
  different quadrature (the Fourier/Laplace form, also by quad); the script asserts they agree to 1e-10.
- Shirley: the Proctor-Sherwood fixed point on a 5-point spectrum by a plain numpy loop.
- Tougaard: the sum of the background.hpp definition written out term by term for 4 points.
"""
import math

import numpy as np
from scipy import integrate, optimize, special

LN2 = math.log(2.0)


def voigt_widths(f, rho):
    # Olivero-Longbothum with 0.2166 written as (1 - 0.5346)^2 = 0.21659716 so that rho = 1 is exactly Lorentzian
    fl = rho * f
    fg2 = (f - 0.5346 * fl) ** 2 - (1 - 0.5346) ** 2 * fl**2
    fg = math.sqrt(max(fg2, 0.0))
    return fg / (2 * math.sqrt(2 * LN2)), fl / 2


def ds(e, alpha, gamma):
    """DS with e = center - x (tail toward +x), normalised as gamma^-alpha times the textbook form."""
    r = e / gamma
    return (special.gamma(1 - alpha) / (math.pi * gamma) * math.cos(math.pi * alpha / 2 + (1 - alpha) * math.atan(r))
            / (1 + r * r) ** ((1 - alpha) / 2))


def ds_gauss_direct(e, alpha, gamma, sigma):
    """(DS * N(0, sigma))(e) = int DS(e - t) phi_sigma(t) dt by adaptive quadrature with breakpoints at the DS core."""
    lo, hi = -14 * sigma, 14 * sigma
    pts = sorted({min(max(e + k * gamma, lo), hi) for k in (-20, -5, -1, 0, 1, 5, 20)} - {lo, hi})

    def f(t):
        return ds(e - t, alpha, gamma) * math.exp(-0.5 * (t / sigma) ** 2) / (sigma * math.sqrt(2 * math.pi))

    val, err = integrate.quad(f, lo, hi, points=pts, epsabs=0, epsrel=1e-13, limit=2000)
    return val


def ds_gauss_fourier(e, alpha, gamma, sigma):
    """Same quantity from P = gamma^-a sigma^(a-1)/pi * int_0^inf v^-a exp(-b v - v^2/2) cos(pi a/2 + eps v) dv,
    with v = w^(1/(1-a)) removing the v^-a singularity."""
    b, eps, p = gamma / sigma, e / sigma, 1.0 / (1 - alpha)

    def f(w):
        v = w**p
        return p * math.exp(-b * v - 0.5 * v * v) * math.cos(math.pi * alpha / 2 + eps * v)

    wmax = 12.0 ** (1 - alpha)
    val, err = integrate.quad(f, 0, wmax, epsabs=0, epsrel=1e-13, limit=4000)
    return gamma**-alpha * sigma ** (alpha - 1) / math.pi * val


def arr(name, values):
    body = ", ".join(f"{v:.17g}" for v in values)
    print(f"const std::vector<double> {name} = {{{body}}};")


def main():
    print("// ---- Voigt: scipy.special.voigt_profile(x, sigma, gamma) ----")
    cases = [(0.0, 1.0, 0.5), (0.3, 1.0, 0.5), (2.5, 0.7, 0.05), (-4.0, 0.2, 1.3), (15.0, 0.8, 0.3),
             (0.1, 1e-3, 0.4), (1.7, 0.6, 0.0)]
    print("struct VoigtCase { double x, sigma, gamma, value; };")
    print("const std::vector<VoigtCase> kVoigtCases = {")
    for x, s, g in cases:
        print(f"    {{{x!r}, {s!r}, {g!r}, {special.voigt_profile(x, s, g):.17g}}},")
    print("};")
    print("// (f, rho) -> profile via voigt_widths() + voigt_profile; center 0.2, fwhm 0.9")
    print("struct VoigtParamCase { double rho, x, value; };")
    print("const std::vector<VoigtParamCase> kVoigtParamCases = {")
    for rho in (0.0, 0.25, 0.6, 1.0):
        s, g = voigt_widths(0.9, rho)
        for x in (0.2, 0.65, 2.0):
            v = special.voigt_profile(x - 0.2, s, g) if s > 0 else g / math.pi / ((x - 0.2) ** 2 + g * g)
            print(f"    {{{rho!r}, {x!r}, {v:.17g}}},")
    print("};")

    print("// ---- DS (numpy closed form), center 0, fwhm 0.6 (gamma 0.3) ----")
    print("struct DsCase { double alpha, x, value; };")
    print("const std::vector<DsCase> kDsCases = {")
    for a in (0.0, 0.12, 0.35):
        for x in (-1.0, -0.2, 0.0, 0.25, 1.5, 6.0):
            print(f"    {{{a!r}, {x!r}, {ds(0.0 - x, a, 0.3):.17g}}},")
    print("};")
    print("// DS maximum (x_max - center) by scipy.optimize.minimize_scalar; analytic: gamma*|cot(pi/(2-a))|")
    for a in (0.12, 0.35):
        res = optimize.minimize_scalar(lambda x: -ds(-x, a, 0.3), bracket=(-0.1, 0.0, 0.3), tol=1e-12)
        print(f"//   alpha {a}: numeric {res.x:.12f} analytic {0.3 * abs(1 / math.tan(math.pi / (2 - a))):.12f}")

    print("// ---- DS (x) Gauss: scipy.integrate.quad convolution; center 0.1, fwhm 0.4 (gamma 0.2) ----")
    print("struct DsGaussCase { double alpha, gauss_fwhm, x, value; };")
    print("const std::vector<DsGaussCase> kDsGaussCases = {")
    worst = 0.0
    fwhm_per_sigma = 2 * math.sqrt(2 * LN2)
    for a in (0.0, 0.1, 0.3, 0.5):
        for gf in (0.004, 0.3, 1.2, 8.0):  # gauss_fwhm << gamma, ~ gamma, > gamma, >> gamma
            s = gf / fwhm_per_sigma
            for x in (0.1, -0.35, 0.6, 3.0, -5.0, 40.0):
                e = 0.1 - x
                v1 = ds_gauss_direct(e, a, 0.2, s)
                v2 = ds_gauss_fourier(e, a, 0.2, s)
                worst = max(worst, abs(v1 - v2) / abs(v1))
                print(f"    {{{a!r}, {gf!r}, {x!r}, {v1:.17g}}},")
    print("};")
    print(f"// max relative difference direct vs Fourier quadrature: {worst:.3g}")
    assert worst < 1e-9, worst

    print("// ---- Shirley, 5 points, end_points = 1 (Proctor-Sherwood loop in numpy) ----")
    x = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    y = np.array([10.0, 12.0, 30.0, 22.0, 20.0])
    b = np.full(5, y[0])
    for _ in range(500):
        d = y - b
        q = np.concatenate([[0.0], np.cumsum(0.5 * (d[1:] + d[:-1]) * np.diff(x))])
        nb = y[0] + (y[-1] - y[0]) * q / q[-1]
        if np.max(np.abs(nb - b)) < 1e-15:
            b = nb
            break
        b = nb
    arr("kShirley5", b)

    print("// ---- Tougaard, 4 points, B = 1000, C = 1643, fit_B = false, end_points = 1 ----")
    x = [0.0, 2.0, 5.0, 9.0]
    y = [3.0, 50.0, 20.0, 10.0]
    K = lambda T: 1000.0 * T / (1643.0 + T * T) ** 2
    y0 = y[0]
    tb = []
    for i in range(4):
        s = sum(K(x[i] - x[j]) * (y[j] - y0) * (x[j + 1] - x[j]) for j in range(i))
        tb.append(y0 + s)
    arr("kTougaard4", tb)
    # three-parameter form, C = 551, D = 436, B = 1000
    K3 = lambda T: 1000.0 * T / ((551.0 - T * T) ** 2 + 436.0 * T * T)
    tb3 = [y0 + sum(K3(x[i] - x[j]) * (y[j] - y0) * (x[j + 1] - x[j]) for j in range(i)) for i in range(4)]
    arr("kTougaard4U3", tb3)


if __name__ == "__main__":
    main()
