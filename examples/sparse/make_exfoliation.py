#!/usr/bin/env python3
"""Generate the sparse-modelling demo data: liquid-phase exfoliation of MoS2 in binary solvent mixtures.

Descriptors are REAL: Hansen solubility parameters (dispersion dD, polar dP, hydrogen-bonding dH, MPa^0.5) and molar
volumes V (cm^3/mol) of the pure solvents as tabulated in C. M. Hansen, "Hansen Solubility Parameters: A User's
Handbook", 2nd ed. (CRC Press, 2007), mixed by volume fraction (the standard mixing rule). Ra is the Hansen distance
to MoS2 (dD 17.8, dP 9.0, dH 7.5; Cunningham et al., ACS Nano 6, 3468 (2012)).

The RESPONSE is SYNTHETIC: `yield` (mg/L of dispersed nanosheets) is generated from a known sparse formula plus
noise, so that the demo has a known answer to recover:

    yield = 60 - 2.5*Ra + 0.8*dP - 0.05*V + N(0, 1.5^2)

Run:  python3 examples/sparse/make_exfoliation.py   (writes exfoliation.csv and candidates.csv next to itself)
"""
import csv
import itertools
import math
import os

import numpy as np

# name: (dD, dP, dH, V)
SOLVENTS = {
    "acetone": (15.5, 10.4, 7.0, 73.8),
    "acetonitrile": (15.3, 18.0, 6.1, 52.6),
    "benzyl_alcohol": (18.4, 6.3, 13.7, 103.6),
    "1-butanol": (16.0, 5.7, 15.8, 91.5),
    "chloroform": (17.8, 3.1, 5.7, 80.7),
    "cyclohexanone": (17.8, 6.3, 5.1, 104.0),
    "dichloromethane": (18.2, 6.3, 6.1, 63.9),
    "DMF": (17.4, 13.7, 11.3, 77.0),
    "DMSO": (18.4, 16.4, 10.2, 71.3),
    "ethanol": (15.8, 8.8, 19.4, 58.5),
    "ethyl_acetate": (15.8, 5.3, 7.2, 98.5),
    "ethylene_glycol": (17.0, 11.0, 26.0, 55.8),
    "isopropanol": (15.8, 6.1, 16.4, 76.8),
    "methanol": (14.7, 12.3, 22.3, 40.7),
    "NMP": (18.0, 12.3, 7.2, 96.5),
    "pyridine": (19.0, 8.8, 5.9, 80.9),
    "THF": (16.8, 5.7, 8.0, 81.7),
    "toluene": (18.0, 1.4, 2.0, 106.8),
    "water": (15.5, 16.0, 42.3, 18.0),
    "cyclohexane": (16.8, 0.0, 0.2, 108.7),
}
MOS2 = (17.8, 9.0, 7.5)


def mixture(a, b, phi):
    sa, sb = np.array(SOLVENTS[a]), np.array(SOLVENTS[b])
    dD, dP, dH, V = phi * sa + (1 - phi) * sb
    ra = math.sqrt(4 * (dD - MOS2[0]) ** 2 + (dP - MOS2[1]) ** 2 + (dH - MOS2[2]) ** 2)
    dT = math.sqrt(dD ** 2 + dP ** 2 + dH ** 2)
    return {"dD": dD, "dP": dP, "dH": dH, "dT": dT, "V": V, "Ra": ra, "phi_a": phi,
            "dP_dH": dP / max(dH, 0.1), "dD2": dD ** 2, "dP2": dP ** 2, "dH2": dH ** 2}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    rng = np.random.default_rng(20261124)
    pairs = list(itertools.combinations(sorted(SOLVENTS), 2))
    order = rng.permutation(len(pairs))
    fractions = (0.25, 0.5, 0.75)
    rows = []
    for k in order:
        a, b = pairs[k]
        for phi in fractions:
            rows.append((a, b, phi))
    tested, untested = rows[:48], rows[48:248]
    cols = ["solvent_a", "solvent_b", "phi_a", "dD", "dP", "dH", "dT", "V", "Ra", "dP_dH", "dD2", "dP2", "dH2"]
    fmt = lambda v: f"{v:.4g}" if isinstance(v, float) else str(v)

    with open(os.path.join(here, "exfoliation.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(cols + ["yield"])
        for a, b, phi in tested:
            m = mixture(a, b, phi)
            y = 60 - 2.5 * m["Ra"] + 0.8 * m["dP"] - 0.05 * m["V"] + rng.normal(0, 1.5)
            w.writerow([a, b] + [fmt(m[c]) for c in cols[2:]] + [f"{y:.2f}"])
    with open(os.path.join(here, "candidates.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(cols)
        for a, b, phi in untested:
            m = mixture(a, b, phi)
            w.writerow([a, b] + [fmt(m[c]) for c in cols[2:]])
    print(f"wrote {len(tested)} experiments and {len(untested)} candidates to {here}")


if __name__ == "__main__":
    main()
