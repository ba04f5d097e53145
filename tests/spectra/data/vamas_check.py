"""Independent cross-check of the numbers in tests/spectra/{vamas,readers}_test.cpp.

Reads the VAMAS files of ../shared/data/xps by hand, walking the ISO 14976 items for the case these files use
(experiment mode NORM, no inclusion list, REGULAR or IRREGULAR scan), and the CSV files with numpy; prints per
block: points, first/last energy, min/max energy, first/last counts, photon energy, abscissa label, sum of counts.
Run: .venv/bin/python tests/spectra/data/vamas_check.py [DIR]
"""
import sys
from pathlib import Path

import numpy as np


def vamas(path):
    L = [l.rstrip("\r\n") for l in open(path, encoding="latin-1")]
    assert L[0].startswith("VAMAS Surface Chemical Analysis Standard"), path
    p = 5
    p += 1 + int(L[p])                       # file comment
    mode, scan = L[p], L[p + 1]; p += 2
    assert mode == "NORM"
    p += 1                                    # number of spectral regions
    nexp = int(L[p]); p += 1 + 2 * nexp
    assert int(L[p]) == 0; p += 1              # inclusion list
    p += 1 + int(L[p])                        # manually entered items
    nfe, nfb = int(L[p]), int(L[p + 1]); p += 2 + nfe
    nblocks = int(L[p]); p += 1
    out = []
    for _ in range(nblocks):
        p += 2 + 7                            # ids, date
        p += 1 + int(L[p])                    # block comment
        p += 1 + nexp                         # technique, exp variable values
        label = L[p]; hv = float(L[p + 1]); p += 2
        p += 1 + 2 + 1 + 1 + 1 + 1 + 1        # strength, beam w, polar, azimuth, mode, pass energy, magnif.
        wf = float(L[p]); p += 1
        p += 1 + 2 + 2                         # bias, analysis width, take-off
        species, trans = L[p].strip(), L[p + 1].strip(); p += 3
        if scan == "REGULAR":
            xlabel, start, step = L[p], float(L[p + 2]), float(L[p + 3]); p += 4
        nvar = int(L[p]); labels = [L[p + 1 + 2 * i] for i in range(nvar)]; p += 1 + 2 * nvar
        if scan == "IRREGULAR":
            xlabel = labels[0]
        p += 4 + 2 + 1                         # signal mode, time, scans, correction, tilt, rotation
        npar = int(L[p]); p += 1 + 3 * npar + nfb
        nval = int(L[p]); p += 1 + 2 * nvar
        v = np.array([float(x) for x in L[p:p + nval]]).reshape(-1, nvar); p += nval
        if scan == "REGULAR":
            e, c = start + step * np.arange(len(v)), v[:, 0]
        else:
            e, c = v[:, 0], v[:, 1]
        out.append(dict(name=(species + " " + trans).strip(), n=len(e), e0=e[0], e1=e[-1], emin=e.min(),
                        emax=e.max(), c0=c[0], c1=c[-1], csum=c.sum(), hv=hv, wf=wf, xlabel=xlabel))
    assert L[p].strip() == "end of experiment", L[p]
    return out


def main():
    d = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[4] / "shared/data/xps")
    for f in sorted(d.glob("*.vms")):
        try:
            blocks = vamas(f)
        except Exception as ex:  # fragments and truncated files
            print(f"{f.name}: not a complete VAMAS file ({type(ex).__name__})")
            continue
        for i, b in enumerate(blocks):
            print(f"{f.name} block {i}: " + ", ".join(f"{k}={v!r}" for k, v in b.items()))
    for f in sorted(d.glob("*.csv")):
        a = np.loadtxt(f, delimiter=",", skiprows=1)
        print(f"{f.name}: n={len(a)} e0={a[0,0]!r} e1={a[-1,0]!r} c0={a[0,1]!r} c1={a[-1,1]!r} csum={a[:,1].sum()!r}"
              f" header={open(f).readline().strip()!r}")


main()
