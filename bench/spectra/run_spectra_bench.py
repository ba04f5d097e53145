#!/usr/bin/env python3
"""Benchmark tsunagu's spectra batch engine (CLI `tsunagu spectra batch`) against lmfit on the very same spectra.

    cmake --preset bench && cmake --build --preset bench --target tsunagu_cli
    .venv/bin/python bench/spectra/run_spectra_bench.py [--binary build/bench/cli/tsunagu] [--write]

Builds nothing. In one run it
  1. generates (once; cached in --workdir) seeded synthetic HDF5 cubes of 300-point spectra on a binding-energy axis
     280..295 eV: 3 peaks (C 1s-like: 284.5, 286.3, 288.8 eV, FWHM 1.0/1.3/1.6 eV) whose centres, widths, areas and
     pseudo-Voigt mixing vary smoothly over the pixel grid (plus small random jitter), on a linear background, with
     Poisson noise. Counts are integers, so they are stored losslessly as float32 (the reader converts). The "em"
     cube has Gaussian peaks, the "lm" cube pseudo-Voigt peaks; the truth of every pixel is stored in the file;
  2. times the CLI on the 10^5-spectrum cubes: EM (Gaussian + linear background) and LM (`--method lsq --shape
     pvoigt --background linear`, warm start on/off) on 1 and 2 threads, and on 2 MPI ranks x 1 thread when
     mpirun works; every tool-run reads the same cube file and is started from the nominal centres (--peaks-at);
  3. fits a subset (--lmfit-n, evenly spaced pixels) of the LM cube with lmfit (PseudoVoigtModel x3 + LinearModel,
     default leastsq, same Poisson weights 1/sqrt(max(y,1)), so both tools minimise the same chi2), started from the
     truth perturbed (centre +- 0.1 eV, FWHM and area +- 10 % / 20 %, background +- 20 %, eta = 0.3 = tsunagu's
     starting value) -- an easier start than tsunagu's, which gets only the nominal centres; accuracy (parameter
     errors vs truth, chi2 of tsunagu vs lmfit on each spectrum) is compared on that subset;
  4. measures the peak RSS (wait4) of EM runs on cubes of 10^4, 10^5 (and 10^6 unless --no-1e6) spectra;
  5. prints a Markdown report; with --write replaces the section between <!-- spectra:begin --> and
     <!-- spectra:end --> in bench/RESULTS.md.

Timings: --reps interleaved rounds; each round runs every configuration once, so that slow drifts of the machine
hit all alike; reported is the minimum over the rounds (--stat median for the median), the same statistic for every
tool. tsunagu's rate is the CLI's own "spectra/s" (streaming: reading chunks, fitting, writing part files; process
start and the final assembly of the maps file excluded), the end-to-end wall time of the process is reported beside
it. lmfit runs single-threaded in this process (OMP/OpenBLAS/MKL threads = 1). Targets (issue) are reported as
ratios, never asserted.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS",
               "NUMBA_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")
if __name__ == "__main__":  # peers single-threaded; must be set before numpy is imported
    for _v in THREAD_VARS:
        os.environ.setdefault(_v, "1")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import benchinfo  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
DEFAULT_BINARY = REPO / "build" / "bench" / "cli" / "tsunagu"
DEFAULT_WORKDIR = REPO / "build" / "spectra-bench"
RESULTS = REPO / "bench" / "RESULTS.md"
BEGIN, END = "<!-- spectra:begin -->", "<!-- spectra:end -->"

# Synthetic model (binding energy, eV; areas in counts*eV; model value = area * unit-area profile, as tsunagu).
GEN_VERSION = 1  # bump when the generator changes (cached cubes are keyed by it)
E_LO, E_HI, N_E = 280.0, 295.0, 300
CENTERS = (284.5, 286.3, 288.8)
FWHMS = (1.0, 1.3, 1.6)
AREAS = (3000.0, 1500.0, 1000.0)
ETAS = (0.2, 0.5, 0.35)
BG_A, BG_B = 200.0, 8.0  # a + b (E - mean(E)): counts, counts/eV
SHAPES = {10**4: (100, 100), 10**5: (250, 400), 10**6: (1000, 1000)}
LN2 = np.log(2.0)


# ----------------------------------------------------------------------------------------------------------------
# Synthetic cubes


def grid_shape(n):
    if n in SHAPES:
        return SHAPES[n]
    r = int(np.sqrt(n))
    while n % r:
        r -= 1
    return (r, n // r)


def truth_block(shape, rows, rng):
    """Truth of the pixels in grid rows [rows[0], rows[1]): dict of (m, 3) / (m,) arrays, m = pixels."""
    R, C = shape
    r = np.arange(rows[0], rows[1])
    u = np.repeat(r / max(R - 1, 1), C)
    v = np.tile(np.arange(C) / max(C - 1, 1), len(r))
    m = len(u)
    shift = 0.15 * np.sin(2 * np.pi * u) * np.cos(np.pi * v)  # common (charging / band-bending) shift
    center = np.asarray(CENTERS)[None, :] + shift[:, None] + rng.normal(0, 0.02, (m, 3))
    fwhm = np.asarray(FWHMS)[None, :] * (1 + 0.1 * np.sin(2 * np.pi * (u + v)))[:, None] * \
        np.exp(rng.normal(0, 0.03, (m, 3)))
    f = np.stack([0.6 + 0.8 * u, 0.6 + 0.8 * v, 0.6 + 0.8 * (1 - u) * v], axis=1)
    area = np.asarray(AREAS)[None, :] * f * np.exp(rng.normal(0, 0.05, (m, 3)))
    eta = np.clip(np.asarray(ETAS)[None, :] + 0.1 * np.sin(np.pi * (u - v))[:, None] + rng.normal(0, 0.02, (m, 3)),
                  0.0, 1.0)
    bg_a = BG_A * (0.8 + 0.4 * v) * np.exp(rng.normal(0, 0.05, m))
    bg_b = BG_B * (0.8 + 0.4 * u) * np.exp(rng.normal(0, 0.05, m))
    return {"center": center, "fwhm": fwhm, "area": area, "eta": eta, "bg_a": bg_a, "bg_b": bg_b}


def gauss(E, c, w):
    return np.sqrt(4 * LN2 / np.pi) / w * np.exp(-4 * LN2 * (E - c) ** 2 / w ** 2)


def lorentz(E, c, w):
    return (w / 2) / np.pi / ((E - c) ** 2 + (w / 2) ** 2)


def model_counts(E, t, kind):
    """Expected counts (m, n_E) of the pixels in truth block t; kind "em" = Gaussian, "lm" = pseudo-Voigt."""
    Ec = E[None, :]
    y = t["bg_a"][:, None] + t["bg_b"][:, None] * (Ec - E.mean())
    for k in range(3):
        c, w, a = t["center"][:, k:k + 1], t["fwhm"][:, k:k + 1], t["area"][:, k:k + 1]
        if kind == "em":
            y = y + a * gauss(Ec, c, w)
        else:
            e = t["eta"][:, k:k + 1]
            y = y + a * ((1 - e) * gauss(Ec, c, w) + e * lorentz(Ec, c, w))
    return y


def cube_path(work, kind, n, seed):
    return work / f"cube_{kind}_{n}_s{seed}_v{GEN_VERSION}.h5"


def make_cube(work, kind, n, seed, log):
    """Write (or reuse) the cube; returns its path. Generated in row blocks, so memory stays bounded."""
    import h5py
    path = cube_path(work, kind, n, seed)
    if path.exists():
        return path
    log(f"generating {path.name} ({n:,} spectra x {N_E} points)")
    R, C = grid_shape(n)
    E = np.linspace(E_LO, E_HI, N_E)
    rng = np.random.default_rng([seed, n, 0 if kind == "em" else 1])
    tmp = path.with_suffix(".tmp")
    rows_per = max(1, 20000 // C)
    with h5py.File(tmp, "w") as f:
        f.attrs["energy_scale"] = "binding"
        f.attrs["generator"] = (f"bench/spectra/run_spectra_bench.py v{GEN_VERSION}: kind={kind} "
                                f"({'Gaussian' if kind == 'em' else 'pseudo-Voigt'} peaks), seed={seed}")
        f.create_dataset("energy", data=E)
        ds = f.create_dataset("spectra", shape=(R, C, N_E), dtype="f4")  # contiguous
        tr = {k: f.create_dataset(f"truth/{k}", shape=(R, C, 3) if k in ("center", "fwhm", "area", "eta") else (R, C),
                                  dtype="f8") for k in ("center", "fwhm", "area", "eta", "bg_a", "bg_b")}
        f["truth"].attrs["background"] = "bg_a + bg_b * (E - mean(E)), mean(E) = %.6g eV" % E.mean()
        for r0 in range(0, R, rows_per):
            r1 = min(R, r0 + rows_per)
            t = truth_block((R, C), (r0, r1), rng)
            lam = model_counts(E, t, kind)
            ds[r0:r1] = rng.poisson(lam).astype(np.float32).reshape(r1 - r0, C, N_E)
            for k, d in tr.items():
                d[r0:r1] = t[k].reshape((r1 - r0, C) + t[k].shape[1:])
    tmp.rename(path)
    return path


def read_truth(path, idx=None):
    import h5py
    with h5py.File(path, "r") as f:
        out = {}
        for k in ("center", "fwhm", "area", "eta", "bg_a", "bg_b"):
            a = f[f"truth/{k}"][...]
            a = a.reshape(-1, 3) if a.ndim == 3 else a.reshape(-1)
            out[k] = a if idx is None else a[idx]
        return out


def read_spectra(path, idx):
    import h5py
    with h5py.File(path, "r") as f:
        ds = f["spectra"]
        R, C, _ = ds.shape
        return np.stack([ds[i // C, i % C, :] for i in idx]).astype(np.float64), f["energy"][...]


# ----------------------------------------------------------------------------------------------------------------
# tsunagu CLI


def mpirun_cmd():
    exe = shutil.which("mpirun")
    if not exe:
        return None
    return [exe, "--allow-run-as-root", "--oversubscribe", "-np", "2"]


def run_cli(binary, cube, out, method, shape, threads, warm=True, ranks=1, chunk=4096, timeout=900):
    """One batch run: {"rate", "wall", "rss_mb", "n", "status", "cmd"}; raises on a non-zero exit."""
    args = [str(binary), "spectra", "batch", str(cube), "--spectra", "spectra", "--energy", "energy",
            "--peaks-at", ",".join(f"{c:g}" for c in CENTERS), "--method", method, "--shape", shape,
            "--background", "linear", "--threads", str(threads), "--chunk-size", str(chunk), "--restart",
            "-o", str(out)]
    if not warm:
        args.append("--no-warm-start")
    if ranks > 1:
        args = mpirun_cmd() + args
    out = Path(out)
    out.unlink(missing_ok=True)
    shutil.rmtree(str(out) + ".parts", ignore_errors=True)
    # Peak RSS: GNU time's %M (ru_maxrss of its child). wait4 on our own child would not do: a child forked from
    # this Python process keeps the forked image's high-water mark across exec.
    gnu_time = shutil.which("time", path="/usr/bin:/bin")
    with tempfile.TemporaryFile("w+") as so, tempfile.TemporaryFile("w+") as se, \
            tempfile.NamedTemporaryFile("r", suffix=".rss") as rf:
        full = [gnu_time, "-f", "%M %U %S", "-o", rf.name] + args if gnu_time else args
        t0 = time.perf_counter()
        p = subprocess.Popen(full, stdout=so, stderr=se, start_new_session=True)
        if gnu_time:
            try:
                p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, 9)  # the session started for this run only (mpirun and its ranks)
                p.wait()
                raise RuntimeError(f"{shlex.join(args)} did not finish within {timeout} s")
        else:
            _, status, ru = os.wait4(p.pid, 0)
            p.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - t0
        so.seek(0)
        se.seek(0)
        stdout, stderr = so.read(), se.read()
        rss_kb, cpu = float("nan"), float("nan")
        try:
            if gnu_time:
                f = rf.read().strip().splitlines()[-1].split()
                rss_kb, cpu = float(f[0]), float(f[1]) + float(f[2])
            else:
                rss_kb, cpu = float(ru.ru_maxrss), ru.ru_utime + ru.ru_stime
        except (ValueError, IndexError):
            pass
    if p.returncode != 0:
        raise RuntimeError(f"{shlex.join(args)} exited with {p.returncode}:\n{stdout[-2000:]}\n{stderr[-2000:]}")
    m = re.search(r"batch: (\d+) spectra \(([^)]*)\) in ([0-9.]+) s, ([0-9.eE+-]+) spectra/s on (\d+) rank", stdout)
    if not m:
        raise RuntimeError(f"cannot parse the CLI output of {shlex.join(args)}:\n{stdout}")
    st = re.search(r"status: (\d+) ok, (\d+) not converged, (\d+) bad spectra, (\d+) failed", stdout)
    return {"n": int(m.group(1)), "seconds": float(m.group(3)), "rate": float(m.group(4)),
            "ranks": int(m.group(5)), "wall": wall, "rss_mb": rss_kb / 1024.0, "cpu": cpu,
            "status": tuple(int(g) for g in st.groups()) if st else None, "cmd": args,
            "messages": [ln.strip() for ln in stderr.splitlines() if ln.strip().startswith("pixel")][:5]}


def read_maps(path, shape_name):
    import h5py
    with h5py.File(path, "r") as f:
        g = lambda k: f[k][...].reshape(-1)  # noqa: E731
        out = {k: np.stack([g(f"peak{j}/{k}") for j in (1, 2, 3)], axis=1) for k in ("center", "fwhm", "area")}
        if shape_name == "pvoigt":
            out["eta"] = np.stack([g(f"peak{j}/eta") for j in (1, 2, 3)], axis=1)
        for k in ("chi2", "reduced_chi2", "n_iter", "status"):
            out[k] = g(k)
    return out


def sort_by_center(est):
    """Peaks of each pixel in ascending centre order (the truth's order)."""
    order = np.argsort(np.where(np.isfinite(est["center"]), est["center"], np.inf), axis=1)
    out = dict(est)
    for k in ("center", "fwhm", "area", "eta"):
        if k in est:
            out[k] = np.take_along_axis(est[k], order, axis=1)
    return out


def accuracy(est, truth, idx=None):
    """Per-peak errors vs truth: medians of |dc| (eV), |dw|/w, |dA|/A, |d eta|; gross failures (|dc| > 0.3 eV)."""
    est = sort_by_center(est)
    sel = (lambda a: a) if idx is None else (lambda a: a[idx])
    dc = np.abs(sel(est["center"]) - truth["center"])
    dw = np.abs(sel(est["fwhm"]) - truth["fwhm"]) / truth["fwhm"]
    da = np.abs(sel(est["area"]) - truth["area"]) / truth["area"]
    res = {"dc": np.nanmedian(dc, axis=0), "dc95": np.nanpercentile(dc, 95, axis=0),
           "dw": np.nanmedian(dw, axis=0), "da": np.nanmedian(da, axis=0),
           "gross": float(np.mean(~(np.max(np.where(np.isfinite(dc), dc, np.inf), axis=1) <= 0.3))),
           "nan": int(np.sum(~np.isfinite(sel(est["center"])).all(axis=1))),
           "rchi2": float(np.nanmedian(sel(est["reduced_chi2"]))),
           "iters": float(np.nanmedian(sel(est["n_iter"]))) if "n_iter" in est else float("nan")}
    if "eta" in est:
        res["deta"] = np.nanmedian(np.abs(sel(est["eta"]) - truth["eta"]), axis=0)
    return res


# ----------------------------------------------------------------------------------------------------------------
# lmfit peer


def lmfit_setup():
    from lmfit.models import LinearModel, PseudoVoigtModel
    model = LinearModel(prefix="bg_")
    for k in (1, 2, 3):
        model = model + PseudoVoigtModel(prefix=f"p{k}_")
    return model


def lmfit_starts(truth, E, seed):
    """Truth perturbed (documented in the report): one parameter dict per spectrum."""
    rng = np.random.default_rng(seed)
    n = len(truth["bg_a"])
    starts = []
    for i in range(n):
        b = truth["bg_b"][i] * (1 + rng.normal(0, 0.2))
        a = truth["bg_a"][i] * (1 + rng.normal(0, 0.2))
        p = {"bg_slope": b, "bg_intercept": a - b * E.mean()}
        for k in range(3):
            p[f"p{k + 1}_center"] = truth["center"][i, k] + rng.normal(0, 0.1)
            p[f"p{k + 1}_sigma"] = 0.5 * truth["fwhm"][i, k] * (1 + rng.normal(0, 0.1))  # lmfit: fwhm = 2 sigma
            p[f"p{k + 1}_amplitude"] = truth["area"][i, k] * (1 + rng.normal(0, 0.2))
            p[f"p{k + 1}_fraction"] = 0.3
        starts.append(p)
    return starts


def lmfit_run(model, E, Y, starts):
    """Fit every row of Y; returns (seconds, estimates dict, chi2 (n), n_fail, n_nfev)."""
    n = len(Y)
    est = {k: np.full((n, 3), np.nan) for k in ("center", "fwhm", "area", "eta")}
    chi2, nfev, fails = np.full(n, np.nan), np.zeros(n), 0
    base = model.make_params()
    t0 = time.perf_counter()
    for i in range(n):
        y = Y[i]
        params = base.copy()
        for k, v in starts[i].items():
            params[k].set(value=v)
        r = model.fit(y, params, x=E, weights=1.0 / np.sqrt(np.maximum(y, 1.0)))
        fails += not r.success
        chi2[i], nfev[i] = r.chisqr, r.nfev
        for k in range(3):
            pv = r.params
            est["center"][i, k] = pv[f"p{k + 1}_center"].value
            est["fwhm"][i, k] = 2 * pv[f"p{k + 1}_sigma"].value
            est["area"][i, k] = pv[f"p{k + 1}_amplitude"].value
            est["eta"][i, k] = pv[f"p{k + 1}_fraction"].value
    sec = time.perf_counter() - t0
    est["reduced_chi2"] = chi2 / (Y.shape[1] - 14)
    return sec, est, chi2, fails, float(np.median(nfev))


# ----------------------------------------------------------------------------------------------------------------
# Report helpers


STAT = "min"


def summarise(values):
    """Times (seconds): min or median over the rounds."""
    return float(np.min(values) if STAT == "min" else np.median(values))


def summarise_rate(rates):
    """Rates: the same statistic applied to the time per spectrum (min time = max rate)."""
    return 1.0 / summarise([1.0 / r for r in rates])


def fmt_t(s):
    if s is None:
        return "–"
    if s < 1e-3:
        return f"{s * 1e6:.0f} µs"
    if s < 1:
        return f"{s * 1e3:.3g} ms"
    if s < 120:
        return f"{s:.3g} s"
    if s < 7200:
        return f"{s / 60:.3g} min"
    if s < 2 * 86400:
        return f"{s / 3600:.3g} h"
    if s < 2 * 365 * 86400:
        return f"{s / 86400:.3g} days"
    return f"{s / (365.25 * 86400):.3g} years"


def sci(n):
    """10⁵ for powers of ten, else 12,345."""
    e = int(round(np.log10(n))) if n > 0 else 0
    if n == 10 ** e:
        return "10" + "".join("⁰¹²³⁴⁵⁶⁷⁸⁹"[int(d)] for d in str(e))
    return f"{n:,}"


def fmt_rate(r):
    return "–" if r is None else f"{r:,.0f}/s"


def fmt_r(v):
    if v is None:
        return "–"
    return f"{v:,.0f}×" if v >= 100 else f"{v:.1f}×" if v >= 10 else f"{v:.2f}×"


def fmt3(a, f="{:.3f}"):
    return " / ".join(f.format(x) for x in a)


def machine_info(binary):
    info = benchinfo.machine()
    try:
        import lmfit
        import scipy
        info["lmfit"], info["scipy"] = lmfit.__version__, scipy.__version__
    except ImportError:
        info["lmfit"] = "not installed"
    info["numpy"], info["python"] = np.__version__, platform.python_version()
    try:
        v = subprocess.run(["mpirun", "--version"], capture_output=True, text=True)
        info["mpi"] = v.stdout.splitlines()[0].strip()
    except Exception:
        info["mpi"] = "mpirun not found"
    info["build"] = benchinfo.build(binary, ("CMAKE_BUILD_TYPE", "CMAKE_CXX_COMPILER", "CMAKE_CXX_FLAGS_RELEASE",
                                             "TSUNAGU_NATIVE", "MPI_C_LIB_NAMES", "MPI_C_LIBRARIES"))
    info["commit"] = benchinfo.commit(("src", "include", "cli"))
    info["binary_mtime"] = benchinfo.binary_mtime(binary)
    return info


def rel(p):
    try:
        return str(Path(p).resolve().relative_to(REPO))
    except ValueError:
        return str(p)


# ----------------------------------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", type=Path, default=DEFAULT_BINARY, help="tsunagu CLI (default: %(default)s)")
    ap.add_argument("--write", action="store_true", help="update the spectra section of bench/RESULTS.md")
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--n", type=int, default=10**5, help="spectra in the timed cubes (default %(default)s)")
    ap.add_argument("--reps", type=int, default=3, help="interleaved timing rounds (default %(default)s)")
    ap.add_argument("--stat", choices=("min", "median"), default="min",
                    help="statistic over the rounds, the same for every tool (default %(default)s)")
    ap.add_argument("--lmfit-n", type=int, default=300, help="spectra fitted by lmfit per round (default %(default)s)")
    ap.add_argument("--chunk-size", type=int, default=4096, help="--chunk-size passed to the CLI")
    ap.add_argument("--no-mpi", action="store_true", help="skip the 2-rank MPI runs")
    ap.add_argument("--no-1e6", action="store_true", help="skip the 10^6-spectrum memory run (1.2 GB cube)")
    ap.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR,
                    help="cubes (cached between runs, keyed by seed/size/generator version) and outputs "
                         "(default: %(default)s)")
    args = ap.parse_args()

    global STAT
    STAT = args.stat
    t_start = time.time()
    binary = args.binary.resolve()
    if not binary.exists():
        sys.exit(f"tsunagu CLI not found: {binary}\n"
                 "build it: cmake --preset bench && cmake --build --preset bench --target tsunagu_cli")
    work = args.workdir.resolve()
    work.mkdir(parents=True, exist_ok=True)
    outdir = work / "out"
    outdir.mkdir(exist_ok=True)
    info = machine_info(binary)
    load_before = os.getloadavg()
    notes = []

    def log(msg):
        print(f"[{time.time() - t_start:6.1f} s] {msg}", file=sys.stderr, flush=True)

    # ---------------------------------------------------------------- 1. data
    N = args.n
    cube_em = make_cube(work, "em", N, args.seed, log)
    cube_lm = make_cube(work, "lm", N, args.seed, log)
    mem_sizes = sorted({10**4, N} | (set() if args.no_1e6 else {10**6}))
    mem_cubes = {n: make_cube(work, "em", n, args.seed, log) for n in mem_sizes}
    E = np.linspace(E_LO, E_HI, N_E)
    truth_em, truth_lm = read_truth(cube_em), read_truth(cube_lm)
    sub = np.unique(np.linspace(0, N - 1, min(args.lmfit_n, N)).round().astype(int))
    Y_sub, E_file = read_spectra(cube_lm, sub)
    assert np.allclose(E_file, E)
    truth_sub = {k: v[sub] for k, v in truth_lm.items()}

    # ---------------------------------------------------------------- MPI check
    have_mpi = False
    mpi_why = None
    if args.no_mpi:
        mpi_why = "skipped (--no-mpi)"
    elif mpirun_cmd() is None:
        mpi_why = "mpirun not found"
    else:
        try:
            r = run_cli(binary, mem_cubes[10**4], outdir / "mpi_check.h5", "em", "gauss", 1, ranks=2,
                        chunk=args.chunk_size, timeout=300)
            have_mpi = r["ranks"] == 2
            if not have_mpi:
                mpi_why = (f"mpirun started, but the CLI reported {r['ranks']} rank(s): the binary was built without "
                           "MPI (configure output lacks 'spectra batch with MPI')")
        except Exception as ex:  # report why, do not abort the benchmark
            mpi_why = "mpirun failed: " + str(ex).strip().splitlines()[-1][:300]
    if mpi_why:
        notes.append(f"MPI: {mpi_why}")

    # ---------------------------------------------------------------- 2-3. timing (interleaved rounds)
    configs = [  # key, cube, method, shape, threads, warm, ranks
        ("em_t1", cube_em, "em", "gauss", 1, True, 1),
        ("em_t2", cube_em, "em", "gauss", 2, True, 1),
        ("em_t2_cold", cube_em, "em", "gauss", 2, False, 1),
        ("lm_t1", cube_lm, "lsq", "pvoigt", 1, True, 1),
        ("lm_t2", cube_lm, "lsq", "pvoigt", 2, True, 1),
        ("lm_t2_cold", cube_lm, "lsq", "pvoigt", 2, False, 1),
    ]
    if have_mpi:
        configs += [("em_r2", cube_em, "em", "gauss", 1, True, 2), ("lm_r2", cube_lm, "lsq", "pvoigt", 1, True, 2)]
    raw = {}      # key -> list of run dicts
    acc = {}      # key -> accuracy on the whole cube (first round)
    acc_sub = {}  # key -> accuracy on the lmfit subset
    est_sub = {}  # key -> estimates on the subset (for chi2 comparisons)
    lm_raw, lm_est = [], None
    model = lmfit_setup()
    starts = lmfit_starts(truth_sub, E, args.seed + 11)
    for rnd in range(args.reps):
        for key, cube, method, shape, threads, warm, ranks in configs:
            log(f"round {rnd + 1}/{args.reps}: tsunagu {key}")
            out = outdir / f"{key}.h5"
            r = run_cli(binary, cube, out, method, shape, threads, warm, ranks, args.chunk_size)
            raw.setdefault(key, []).append(r)
            if rnd == 0:
                maps = read_maps(out, shape)
                truth = truth_em if method == "em" else truth_lm
                acc[key] = accuracy(maps, truth)
                if method == "lsq":
                    acc_sub[key] = accuracy(maps, truth_sub, sub)
                    est_sub[key] = {k: v[sub] for k, v in sort_by_center(maps).items()}
                if r["status"] and r["status"][0] != r["n"]:
                    notes.append(f"tsunagu {key}: status ok/not converged/bad/failed = "
                                 f"{'/'.join(map(str, r['status']))}"
                                 + (f" (e.g. {r['messages'][0]})" if r["messages"] else ""))
        log(f"round {rnd + 1}/{args.reps}: lmfit on {len(sub)} spectra")
        sec, est, chi2, fails, nfev = lmfit_run(model, E, Y_sub, starts)
        lm_raw.append(sec / len(sub))
        if lm_est is None:
            lm_est = (est, chi2, fails, nfev)
    load_mid = os.getloadavg()

    # ---------------------------------------------------------------- 4. memory
    mem = {}
    for n, cube in mem_cubes.items():
        if n == N and "em_t2" in raw:
            mem[n] = max(raw["em_t2"], key=lambda r: r["rss_mb"])
            continue
        log(f"memory: EM on {n:,} spectra (2 threads)")
        mem[n] = run_cli(binary, cube, outdir / f"mem_{n}.h5", "em", "gauss", 2, True, 1, args.chunk_size,
                         timeout=1800)
    for n in mem_sizes:  # the maps files are not needed: keep the work dir small
        (outdir / f"mem_{n}.h5").unlink(missing_ok=True)
    lm_mem = max(raw["lm_t2"], key=lambda r: r["rss_mb"])["rss_mb"]

    # ---------------------------------------------------------------- report
    rate = {k: summarise_rate([r["rate"] for r in v]) for k, v in raw.items()}
    wall = {k: summarise([r["wall"] for r in v]) for k, v in raw.items()}
    t_lmfit = summarise(lm_raw)
    r_lmfit = 1.0 / t_lmfit
    total = time.time() - t_start
    load_after = os.getloadavg()
    bi = info["build"]
    cmdline = "python3 " + " ".join(shlex.quote(a) for a in [rel(__file__)] + [
        a if not a.startswith("/") else rel(a) for a in sys.argv[1:]])
    L = []
    L.append(f"Generated {info['date']} by `{cmdline.replace('python3', '.venv/bin/python', 1)}` "
             f"(run from the repository root; {total:.0f} s wall).  ")
    L.append("Reproduce with the preset build: `cmake --preset bench && cmake --build --preset bench --target "
             "tsunagu_cli && .venv/bin/python bench/spectra/run_spectra_bench.py --write` (the cubes are generated "
             "once into `build/spectra-bench/`, ≈ 1.5 GB with the 10⁶ one; `--no-1e6` skips it).")
    L.append("")
    L.append(f"- Machine: {info['nproc']} cores, {info['cpu'].split(' ')[0]} {info['cpu'].split(' ')[1] if len(info['cpu'].split(' ')) > 1 else ''}, "
             f"Linux {info['kernel']}; load average {load_before[0]:.2f} before / {load_mid[0]:.2f} after the "
             f"timing rounds / {load_after[0]:.2f} at the end (other jobs share the machine, so treat absolute "
             "rates as indicative; ratios were taken in the same run).")
    L.append(f"- tsunagu: commit {info['commit']} (CLI built {info['binary_mtime']}), {bi.get('compiler', '?')}, "
             f"CMAKE_BUILD_TYPE={bi.get('CMAKE_BUILD_TYPE', '?')} (flags `{bi.get('CMAKE_CXX_FLAGS_RELEASE', '?')}`"
             f", TSUNAGU_NATIVE={bi.get('TSUNAGU_NATIVE', '?')}), {info['mpi']}.")
    L.append(f"- Peer: lmfit {info.get('lmfit')} (scipy {info.get('scipy')}, numpy {info['numpy']}, Python "
             f"{info['python']}), single process, single-threaded.")
    L.append(f"- Data (`--seed {args.seed}`): {N:,} spectra × {N_E} points ({E_LO:g}–{E_HI:g} eV binding, "
             f"{grid_shape(N)[0]} × {grid_shape(N)[1]} pixels), 3 peaks at {', '.join(f'{c:g}' for c in CENTERS)} eV "
             f"(FWHM {', '.join(f'{w:g}' for w in FWHMS)} eV, areas {', '.join(f'{a:g}' for a in AREAS)} counts·eV, "
             "peak heights ≈ 1,100–2,800 counts) on a linear background (≈ 200 counts), Poisson noise; centres "
             "(±0.15 eV), widths (±10 %), areas (0.6–1.4×) and pseudo-Voigt η vary smoothly over the pixel grid plus "
             "random jitter (σ: 0.02 eV, 3 %, 5 %). EM cube: Gaussian peaks; LM cube: pseudo-Voigt peaks (η ≈ "
             f"{', '.join(f'{e:g}' for e in ETAS)}). Stored as float32 (integer counts, lossless); every run gets "
             f"`--peaks-at {','.join(f'{c:g}' for c in CENTERS)} --background linear` (default Poisson weighting, "
             f"chunks of {args.chunk_size}).")
    L.append(f"- Times: {STAT} time over {args.reps} interleaved rounds (each round runs every configuration once; "
             f"{'min time = best rate' if STAT == 'min' else 'rates = 1 / median time'}). "
             "tsunagu rate = the CLI's own `spectra/s` (reading chunks, fitting, writing part files; process start "
             "and final assembly excluded); the end-to-end rate (spectra / process wall time, incl. assembly of "
             "the maps file) is given beside it.")
    L.append("")

    def row_acc(a, with_eta):
        s = (f"{fmt3(a['dc'])} | {fmt3(100 * a['dw'], '{:.1f}')} | {fmt3(100 * a['da'], '{:.1f}')} | ")
        if with_eta:
            s += f"{fmt3(a['deta'], '{:.3f}')} | "
        return s + f"{a['rchi2']:.3f} | {100 * a['gross']:.2g} % |"

    S = ["### Summary (issue targets; ratios in the same run, same data)", "",
         "| target | measured | required | status |", "|---|---|---|---|"]
    em2 = rate.get("em_t2")
    S.append(f"| EM throughput, 2 threads, {sci(N)} × 300, Gaussian ×3 + linear | **{fmt_rate(em2)}** "
             f"(1 thread {fmt_rate(rate.get('em_t1'))}) | ≥ 20,000/s | {'met' if em2 and em2 >= 2e4 else '**missed**'} |")
    lm2, lm1 = rate.get("lm_t2"), rate.get("lm_t1")
    ratio2 = lm2 / r_lmfit if lm2 else None
    S.append(f"| LM (pseudo-Voigt ×3 + linear) vs lmfit at equal accuracy | **{fmt_r(ratio2)}** (tsunagu 2 threads "
             f"{fmt_rate(lm2)} vs lmfit 1 process {r_lmfit:.1f}/s); per core {fmt_r(lm1 / r_lmfit if lm1 else None)} "
             f"| ≥ 1,000× | {'met' if ratio2 and ratio2 >= 1000 else '**missed**'} |")
    rss = [mem[n]["rss_mb"] for n in mem_sizes]
    S.append(f"| memory bounded whatever the cube size | peak RSS " + ", ".join(
        f"{mem[n]['rss_mb']:.0f} MB ({sci(n)} spectra)" for n in mem_sizes)
             + f" (EM); {lm_mem:.0f} MB (LM, {sci(N)}) | < 1 GB, ~constant | "
             + ("met" if max(rss) < 1024 and max(rss) < 2 * min(rss) + 50 else "**missed**") + " |")
    scal = [f"threads: EM {fmt_r(rate['em_t2'] / rate['em_t1'])}, LM {fmt_r(rate['lm_t2'] / rate['lm_t1'])}"]
    if have_mpi:
        scal.append(f"2 MPI ranks × 1 thread: EM {fmt_r(rate['em_r2'] / rate['em_t1'])}, "
                    f"LM {fmt_r(rate['lm_r2'] / rate['lm_t1'])}")
    else:
        scal.append(f"MPI: {mpi_why}")
    S.append(f"| scaling 1 → 2 (speed-up) | {'; '.join(scal)} | shown | – |")
    S.append(f"| 10⁸ spectra | EM {fmt_t(1e8 / em2)} on 2 cores ({fmt_t(1e8 / rate['em_t1'])} on 1); "
             f"LM {fmt_t(1e8 / lm2)} on 2 cores ({fmt_t(1e8 / lm1)} on 1); "
             f"lmfit {fmt_t(1e8 * t_lmfit)} on 1 core | stated | – |")
    S.append("")

    T = [f"### 1. Throughput ({sci(N)} spectra × 300 points, 3 peaks + linear background)", ""]
    T.append("| method | threads × ranks | warm start | rate (CLI) | end-to-end (wall) | 10⁸ spectra at this rate "
             "| per core: 10⁸ spectra | peak RSS | status ok / not conv. / bad / failed |")
    T.append("|---|---|---|---|---|---|---|---|---|")
    labels = {"em": "EM (Gaussian)", "lsq": "LM (pseudo-Voigt)"}
    for key, cube, method, shape, threads, warm, ranks in configs:
        v = raw[key]
        cores = threads * ranks
        st = v[0]["status"]
        T.append(f"| {labels[method]} | {threads} × {ranks} | {'on' if warm else 'off'} | **{fmt_rate(rate[key])}** | "
                 f"{fmt_rate(N / wall[key])} ({fmt_t(wall[key])}) | {fmt_t(1e8 / rate[key])} | "
                 f"{fmt_t(1e8 / rate[key] * cores)} | {max(r['rss_mb'] for r in v):.0f} MB | "
                 f"{' / '.join(map(str, st)) if st else '?'} |")
    T.append(f"| lmfit (pseudo-Voigt) | 1 process | – | **{r_lmfit:.1f}/s** ({fmt_t(t_lmfit)} per spectrum, "
             f"{len(sub)} spectra) | – | {fmt_t(1e8 * t_lmfit)} | {fmt_t(1e8 * t_lmfit)} | – | "
             f"{len(sub) - lm_est[2]} / {lm_est[2]} (success flag) / – / – |")
    T.append("")
    T.append("- 10⁸ spectra: at the rate of the row (\"per core\": the row's rate divided by the cores it used, "
             "i.e. what one core of this machine would need). Scaling: 1 → 2 threads EM "
             f"{fmt_r(rate['em_t2'] / rate['em_t1'])}, LM {fmt_r(rate['lm_t2'] / rate['lm_t1'])}"
             + (f"; 1 thread → 2 MPI ranks × 1 thread EM {fmt_r(rate['em_r2'] / rate['em_t1'])}, LM "
                f"{fmt_r(rate['lm_r2'] / rate['lm_t1'])}" if have_mpi else f"; MPI: {mpi_why}") + ".")
    T.append("")

    A = ["### 2. Accuracy vs the truth (all pixels; EM on the Gaussian cube, LM on the pseudo-Voigt cube; "
         "per peak 1 / 2 / 3)", ""]
    A.append("| method | warm start | median abs centre error (eV) | median abs FWHM error (%) | median abs area error (%) "
             "| median abs η error | median reduced χ² | pixels with a centre off by > 0.3 eV | median iterations |")
    A.append("|---|---|---|---|---|---|---|---|---|")
    for key, cube, method, shape, threads, warm, ranks in configs:
        if key.endswith("_t1") or ranks > 1:
            continue  # same fits as the 2-thread runs up to the warm-start chain boundaries
        a = acc[key]
        s = (f"| {labels[method]} | {'on' if warm else 'off'} | {fmt3(a['dc'])} | {fmt3(100 * a['dw'], '{:.1f}')} | "
             f"{fmt3(100 * a['da'], '{:.1f}')} | {fmt3(a['deta']) if 'deta' in a else '–'} | {a['rchi2']:.3f} | "
             f"{100 * a['gross']:.2g} % | {a['iters']:.0f} |")
        A.append(s)
    A.append("")
    A.append("Reduced χ² = Σ (y − m)² / max(y, 1) / dof; ≈ 1 when the model fits to the Poisson noise. EM maximises "
             "the intensity-weighted likelihood of a Gaussian mixture, not χ², so its χ² is not minimal by "
             "construction. Iterations: EM iterations, or LM iterations (cold start: after the EM fit that gives "
             "the starting point).")
    A.append("")

    # LM vs lmfit on the subset
    est_l, chi2_l, fails_l, nfev_l = lm_est
    acc_l = accuracy(est_l, truth_sub)
    C = [f"### 3. LM vs lmfit on the same {len(sub)} spectra (evenly spaced pixels of the LM cube)", ""]
    C.append("lmfit: `LinearModel + PseudoVoigtModel ×3` (fwhm = 2σ, amplitude = area, fraction = η: the same "
             "area-normalised (1−η)·G + η·L as tsunagu), `Model.fit` with its default `leastsq`, weights "
             "1/√max(y, 1) so that its `chisqr` is tsunagu's χ². Started from the truth perturbed (centre ± 0.1 eV, "
             "FWHM ± 10 %, area ± 20 %, background ± 20 %, η = 0.3 = tsunagu's starting η, seeded) — a better start "
             "than tsunagu's, which gets only the nominal centres (`--peaks-at`; cold start: an EM fit, warm start: "
             f"the previous pixel's result). lmfit's median function evaluations per fit: {nfev_l:.0f}.")
    C.append("")
    C.append("| tool | median abs centre error (eV) | median abs FWHM error (%) | median abs area error (%) | "
             "median abs η error | median reduced χ² | centre off by > 0.3 eV |")
    C.append("|---|---|---|---|---|---|---|")
    C.append(f"| lmfit | {row_acc(acc_l, True)}")
    for key in ("lm_t2", "lm_t2_cold"):
        C.append(f"| tsunagu, warm start {'on' if key == 'lm_t2' else 'off'} | {row_acc(acc_sub[key], True)}")
    C.append("")
    for key in ("lm_t2", "lm_t2_cold"):
        c_t = est_sub[key]["chi2"]
        d = (c_t - chi2_l) / chi2_l
        ok = np.isfinite(d)
        worse = int(np.sum(d[ok] > 1e-6))
        better = int(np.sum(d[ok] < -1e-6))
        dc = np.abs(est_sub[key]["center"] - est_l["center"])
        C.append(f"- tsunagu (warm start {'on' if key == 'lm_t2' else 'off'}) vs lmfit, spectrum by spectrum: χ² "
                 f"relative difference median {np.median(d[ok]):+.1e}, max {np.max(d[ok]):+.1e}, min "
                 f"{np.min(d[ok]):+.1e}; tsunagu's χ² higher by > 1e-6 on {worse}, lower on {better} of "
                 f"{int(ok.sum())} spectra; centres agree to median {np.median(dc):.1e} eV (max {np.max(dc):.2g}).")
    C.append(f"- Ratio (LM throughput / lmfit's): 2 threads {fmt_r(ratio2)}, 1 thread {fmt_r(lm1 / r_lmfit)}; "
             f"with warm start off: 2 threads {fmt_r(rate['lm_t2_cold'] / r_lmfit)}.")
    C.append("")

    M = ["### 4. Memory (peak RSS of the CLI process, EM, 2 threads)", ""]
    M.append("| spectra | cube file (float32) | peak RSS | rate |")
    M.append("|---|---|---|---|")
    for n in mem_sizes:
        size = mem_cubes[n].stat().st_size
        M.append(f"| {n:,} | {size / 1e6:,.0f} MB | **{mem[n]['rss_mb']:.0f} MB** | {fmt_rate(mem[n]['rate'])} |")
    M.append("")
    M.append(f"Peak RSS = GNU time's `%M` (ru_maxrss) of the CLI process (for MPI runs: the largest process); LM on {sci(N)} spectra: {lm_mem:.0f} MB. "
             "The batch engine holds one chunk of spectra (chunk size × 300 × 8 B) and its maps at a time, "
             "so memory does not grow with the cube.")
    if notes:
        M.append("")
        M.extend(f"- Note: {n}" for n in notes)
    M.append("")

    detail = ["<details><summary>timing repetitions (rate per round)</summary>", "",
              "\"cores busy\" well below the threads × ranks of a run means the machine did not give it that many "
              "cores during that round (other jobs); the reported statistic picks the best round.", ""]
    for key, v in raw.items():
        detail.append(f"- tsunagu {key}: " + ", ".join(fmt_rate(r["rate"]) for r in v)
                      + " (wall " + ", ".join(f"{r['wall']:.2f} s" for r in v) + "; cores busy = CPU time / wall: "
                      + ", ".join(f"{r['cpu'] / r['wall']:.2f}" for r in v) + ")")
    detail.append(f"- lmfit: " + ", ".join(f"{1 / t:.1f}/s" for t in lm_raw))
    detail.append("")
    detail.append("Commands (first round):")
    detail.append("")
    for key, v in raw.items():
        detail.append(f"- {key}: `{shlex.join(rel(a) if a.startswith('/work') else a for a in v[0]['cmd'])}`")
    detail += ["", "</details>", ""]

    report = "\n".join(L + S + T + A + C + M + detail)
    print(report)
    if args.write:
        body = "## spectra\n\n" + report
        text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n\n"
        section = f"{BEGIN}\n{body}{END}"
        if BEGIN in text and END in text:
            text = text[:text.index(BEGIN)] + section + text[text.index(END) + len(END):]
        else:
            text = text.rstrip("\n") + "\n\n" + section + "\n"
        RESULTS.write_text(text)
        log(f"wrote {RESULTS}")
    for f in outdir.glob("*.h5"):  # maps of the last round: not needed any more
        f.unlink()
    log("done")


if __name__ == "__main__":
    main()
