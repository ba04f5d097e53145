#!/usr/bin/env python3
"""Synthetic scanning-photoemission datacube of a graphene flake (C 1s), with its ground truth.

Why synthetic: real 10^8-spectrum nano-ESCA cubes are not redistributable; this one has the same structure (a C 1s
spectrum per pixel) and known answers, so a batch fit can be checked against the truth map by map.

Model per pixel (binding energy 280-296 eV, 0.08 eV steps, 200 points):
  - sp2 C 1s at 284.45 eV (FWHM 0.75 eV) inside an elliptical flake, weaker outside;
  - C-O contamination at 286.3 eV (FWHM 1.2 eV), growing toward the lower-right corner;
  - O-C=O at 288.8 eV (FWHM 1.3 eV), a weak patch;
  - a 0.4 eV rigid shift of all peaks in a "charged" stripe (tests position maps);
  - flat background 40 counts + a Shirley-like step (5 % of each peak's area, shaped as its cumulative);
  - Poisson counting noise.
Writes HDF5: /spectra (ny, nx, 200), /energy (200) with attribute energy_scale = "binding", and /truth/* maps.

Usage: python make_cube.py OUT.h5 [--nx 64 --ny 64 --seed 1]
"""
import argparse
import math

import numpy as np


def gauss(x, c, fwhm):
    s = fwhm / (2 * math.sqrt(2 * math.log(2)))
    return np.exp(-0.5 * ((x - c) / s) ** 2) / (s * math.sqrt(2 * math.pi))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--nx", type=int, default=64)
    ap.add_argument("--ny", type=int, default=64)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    import h5py  # imported here so --help works without it

    rng = np.random.default_rng(a.seed)
    e = np.round(280.0 + 0.08 * np.arange(200), 6)
    yy, xx = np.mgrid[0:a.ny, 0:a.nx]
    u, v = (xx - a.nx / 2) / (a.nx / 2), (yy - a.ny / 2) / (a.ny / 2)
    flake = ((u / 0.7) ** 2 + (v / 0.5) ** 2 < 1).astype(float)
    area_sp2 = 1500.0 * (0.25 + 0.75 * flake)                       # counts·eV
    area_co = 300.0 + 500.0 * np.clip((u + v + 1) / 3, 0, 1)
    area_coo = 150.0 + 250.0 * np.exp(-(((u + 0.5) / 0.3) ** 2 + ((v - 0.5) / 0.3) ** 2))
    shift = np.where(np.abs(v + 0.6) < 0.12, 0.4, 0.0)             # charged stripe, eV
    comps = [(284.45, 0.75, area_sp2), (286.3, 1.2, area_co), (288.8, 1.3, area_coo)]
    peaks = np.zeros((a.ny, a.nx, e.size))
    step = np.zeros_like(peaks)
    for c, w, area in comps:
        centre = c + shift[..., None]
        peaks += area[..., None] * gauss(e[None, None, :], centre, w)
        # Shirley-like step: inelastic losses rise toward higher binding energy, 5 % of the area per peak
        s = w / (2 * math.sqrt(2 * math.log(2)))
        cdf = 0.5 * (1 + np.vectorize(math.erf)((e[None, None, :] - centre) / (s * math.sqrt(2))))
        step += 0.05 * area[..., None] * cdf
    mean = 40.0 + step + peaks * 1.0
    counts = rng.poisson(mean).astype(np.float64)
    with h5py.File(a.out + ".tmp", "w") as f:
        f["spectra"] = counts
        f["energy"] = e
        f.attrs["energy_scale"] = "binding"
        f.attrs["description"] = "synthetic graphene C 1s datacube (tsunagu examples/spectra/make_cube.py)"
        t = f.create_group("truth")
        for k, (c, w, area) in enumerate(comps, start=1):
            t[f"peak{k}/center"] = c + shift
            t[f"peak{k}/fwhm"] = np.full(shift.shape, w)
            t[f"peak{k}/area"] = area
        total = sum(area for _, _, area in comps)
        for k, (_, _, area) in enumerate(comps, start=1):
            t[f"peak{k}/fraction"] = area / total
    import os
    os.replace(a.out + ".tmp", a.out)
    print(f"wrote {a.out}: {a.ny}x{a.nx} spectra x {e.size} points")


if __name__ == "__main__":
    main()
