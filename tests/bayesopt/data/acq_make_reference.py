"""Reference values for tests/bayesopt/acquisition_test.cpp, independent of tsunagu.

EI, PI, UCB from their closed forms with scipy.stats.norm (Jones et al. 1998):
    z = (mu - best - xi) / sigma,  EI = sigma (z Phi(z) + phi(z)),  PI = Phi(z),  UCB = mu + kappa sigma.
log EI far in the tail (where EI underflows or loses all digits to cancellation) from a different formula without
cancellation: for z = -x < 0,
    h(z) = phi(z) + z Phi(z) = phi(x) * I(x),   I(x) = int_0^inf u exp(-u x - u^2/2) du
(substitute t = u - x in h(-x) = int_{-inf}^{-x} Phi(t) dt = int_0^inf u phi(u + x) du), so
    log EI = log sigma - x^2/2 - log sqrt(2 pi) + log I(x),
with I(x) by scipy.integrate.quad (for x > 1 after v = u x: I = x^-2 int_0^inf v exp(-v - v^2/(2 x^2)) dv).
Run: python acq_make_reference.py  (writes acq_reference.csv next to this script).
"""
import csv
import math
from pathlib import Path

import numpy as np
from scipy import integrate
from scipy.stats import norm


def log_I(x):
    if x <= 1:
        val = integrate.quad(lambda u: u * math.exp(-u * x - u * u / 2), 0, np.inf, epsabs=0, epsrel=1e-13,
                             limit=200)[0]
        return math.log(val)
    val = integrate.quad(lambda v: v * math.exp(-v - v * v / (2 * x * x)), 0, np.inf, epsabs=0, epsrel=1e-13,
                         limit=200)[0]
    return math.log(val) - 2 * math.log(x)


rows = []
# moderate cases: EI/PI/UCB by the closed form, log EI = log of it
for mu, sigma, best, xi in [(0.0, 1.0, 0.0, 0.0), (1.3, 0.7, 0.2, 0.0), (-0.4, 2.5, 1.1, 0.1), (5.0, 0.01, 4.9, 0.0),
                            (2.0, 3.0, -1.0, 0.5), (-3.0, 1.0, 0.0, 0.0), (0.3, 0.2, 1.0, 0.05), (10.0, 4.0, 12.0, 0.0),
                            (-1.0, 0.5, 0.5, 0.01), (7.5, 1e-3, 7.5, 0.0)]:
    z = (mu - best - xi) / sigma
    ei = sigma * (z * norm.cdf(z) + norm.pdf(z))
    rows.append(dict(mu=mu, sigma=sigma, best=best, xi=xi, kappa=2.0, ei=ei, pi=norm.cdf(z), ucb=mu + 2.0 * sigma,
                     log_ei=math.log(ei)))
# the tail: z from -2 to -1000 (EI underflows to 0 below z ~ -38)
for z in [-2.0, -5.0, -10.0, -20.0, -37.0, -40.0, -100.0, -300.0, -1000.0]:
    sigma = 0.5
    mu, best, xi = 0.0, -z * sigma, 0.0
    x = -z
    log_ei = math.log(sigma) - x * x / 2 - 0.5 * math.log(2 * math.pi) + log_I(x)
    ei = sigma * (z * norm.cdf(z) + norm.pdf(z)) if z > -6 else float("nan")  # closed form only where accurate
    rows.append(dict(mu=mu, sigma=sigma, best=best, xi=xi, kappa=2.0, ei=ei, pi=norm.cdf(z), ucb=mu + 2.0 * sigma,
                     log_ei=log_ei))

out = Path(__file__).with_name("acq_reference.csv")
with open(out, "w", newline="") as fh:
    w = csv.DictWriter(fh, fieldnames=list(rows[0]))
    w.writeheader()
    for r in rows:
        w.writerow({k: repr(float(v)) for k, v in r.items()})
print(f"wrote {out} ({len(rows)} rows)")
