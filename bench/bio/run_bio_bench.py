#!/usr/bin/python3
"""Benchmark tsunagu::bio (issue 7): molecular descriptors of 10^5 SMILES against RDKit in Python, and the training
of an ensemble of 20 small networks on 1,000 molecules.

    cmake --preset bench && cmake --build --preset bench --target tsunagu_bench_bio
    /usr/bin/python3 bench/bio/run_bio_bench.py [--binary build/bench/bench/tsunagu_bench_bio] [--write]

Builds nothing; runs with the system Python (python3-rdkit and numpy; RDKit 2022.09.3, the release the C++ library
links). In one run it
  1. writes the SMILES file once into --workdir (smiles_<n>.txt, one per line): the SMILES of ESOL
     (../shared/data/bio/esol.csv, 1,128) followed by those of FreeSolv (../shared/data/bio/freesolv.csv, 642), this
     list of 1,770 real molecules repeated in order up to --n-smiles (10^5) lines; both tools read this file;
  2. checks that both tools compute the same numbers: tsunagu_bench_bio --check-out and bench/bio/rdkit_peer.py
     --check-out describe the first 1,770 lines (each molecule once) with the "physchem + Morgan 2048 + 2 SMARTS"
     columns, and every column and canonical SMILES is compared;
  3. runs --reps interleaved rounds; each round runs every configuration once, each in its own process (the order
     reverses from round to round), so that slow drifts of the machine hit all alike:
       * tsunagu_bench_bio BM_Describe: one bio::describe_many call over all SMILES (physchem; physchem + Morgan
         radius 2 / 2048 bits + SMARTS counts of C(=O)N and [OX2H]), DescriptorOptions::threads 1 and 2;
       * RDKit Python (/usr/bin/python3 bench/bio/rdkit_peer.py): the same columns with RDKit's Python functions, in one
         process and with multiprocessing.Pool(2);
       * tsunagu_bench_bio BM_Train: bio::Model::train of an ensemble of --ensemble networks (TrainOptions defaults:
         one hidden layer of 16 tanh units, Adam, early stopping) on the first --n-train ESOL molecules, physchem
         descriptors -> measured logS, with folds = 0 (only the final networks: the issue's target) on 1 and 2
         threads; and, for information, the default repeated CV (folds 5, repeats 3) on --cv-threads;
     a configuration whose first-round time exceeded --max-seconds is not repeated (keeps the run within ~10 minutes
     on a 2-core machine: the 10^5-molecule RDKit runs and the CV row run once);
  4. prints a Markdown report; with --write replaces the section between <!-- bio:begin --> and <!-- bio:end --> in
     bench/RESULTS.md (appending the markers at the end when absent).

Timings: the minimum over the rounds a configuration ran (--stat median for the median), the same statistic for every
tool, measured inside each process around the computation only (process start, library/interpreter start, imports and
reading the SMILES file excluded for both; tsunagu's output matrix and RDKit Python's numpy matrix included). Targets
(issue) are reported, never asserted.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import re
import shlex
import statistics
import sys
import time
from pathlib import Path

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS")

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import benchinfo  # noqa: E402
from benchinfo import dpkg_version, fmt_r, fmt_rate, fmt_t, gbench, rel, rel_arg, run  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
DEFAULT_BINARY = REPO / "build" / "bench" / "bench" / "tsunagu_bench_bio"
DEFAULT_WORKDIR = REPO / "build" / "bio-bench"
DEFAULT_ESOL = REPO.parent / "shared" / "data" / "bio" / "esol.csv"
DEFAULT_FREESOLV = REPO.parent / "shared" / "data" / "bio" / "freesolv.csv"
PEER = REPO / "bench" / "bio" / "rdkit_peer.py"
RESULTS = REPO / "bench" / "RESULTS.md"
BEGIN, END = "<!-- bio:begin -->", "<!-- bio:end -->"
FULL_LABEL = "physchem+morgan2048+smarts2"
N_PHYSCHEM = 17
INTEGER_COLUMNS = {"hbd", "hba", "rotatable_bonds", "heavy_atoms", "rings", "aromatic_rings", "eg_units", "cationic",
                   "anionic", "zwitterionic", "net_charge", "chain_length"}
STAT = "min"


# ----------------------------------------------------------------------------------------------------------------
# data


def read_smiles(path: Path) -> list[str]:
    with open(path, newline="") as f:
        return [r["smiles"].strip() for r in csv.DictReader(f)]


def write_smiles_file(work: Path, esol: Path, freesolv: Path, n: int, log) -> tuple[Path, list[str]]:
    """smiles_<n>.txt: the ESOL then FreeSolv SMILES, cycled up to n lines (rewritten only when it differs)."""
    base = read_smiles(esol) + read_smiles(freesolv)
    if not base or any(not s or any(c.isspace() for c in s) for s in base):
        raise SystemExit("empty SMILES or SMILES with blanks in the input files")
    text = "\n".join(base[i % len(base)] for i in range(n)) + "\n"
    path = work / f"smiles_{n}.txt"
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
        log(f"wrote {rel(path)} ({n:,} lines)")
    return path, base


# ----------------------------------------------------------------------------------------------------------------
# runs


def env_threads(t):
    env = dict(os.environ)
    for v in THREAD_VARS:
        env[v] = str(t)
    env.pop("TSUNAGU_NUM_THREADS", None)
    return env


def summarise(values):
    return min(values) if STAT == "min" else statistics.median(values)


# ----------------------------------------------------------------------------------------------------------------
# agreement check


def check_agreement(binary, peer_python, smiles_file, rows, work, env, log):
    """Both tools describe the first `rows` SMILES (full columns); returns a summary dict."""
    import numpy as np
    ours, theirs = work / "check_tsunagu.f64", work / "check_rdkit.f64"
    out, _ = run([binary, f"--smiles={smiles_file}", f"--check-rows={rows}", f"--check-out={ours}"], env)
    n, w = map(int, out.split())
    run([peer_python, PEER, "--smiles", smiles_file, "--columns", "full", "--check-rows", str(rows),
         "--check-out", theirs], env)
    A = np.fromfile(ours, dtype="<f8").reshape(n, w)
    B = np.fromfile(theirs, dtype="<f8")
    if B.size != A.size:
        raise SystemExit(f"agreement check: tsunagu wrote {A.shape}, RDKit Python {B.size} values")
    B = B.reshape(n, w)
    names = Path(str(ours) + ".names").read_text().split()
    canon_a = Path(str(ours) + ".canonical").read_text().splitlines()
    canon_b = Path(str(theirs) + ".canonical").read_text().splitlines()
    res = {"rows": n, "width": w, "canonical_equal": sum(a == b for a, b in zip(canon_a, canon_b)),
           "columns": {}}
    for j, name in enumerate(names):
        a, b = A[:, j], B[:, j]
        d = np.abs(a - b)
        relerr = d / np.maximum(np.abs(b), 1e-300)
        res["columns"][name] = {"exact": int((a == b).sum()), "max_abs": float(d.max()),
                                "max_rel": float(np.where(d > 0, relerr, 0).max())}
    morgan = [c for c in names if c.startswith("morgan_")]
    res["morgan_rows_equal"] = int((A[:, N_PHYSCHEM + 2:] == B[:, N_PHYSCHEM + 2:]).all(axis=1).sum()) if morgan else 0
    res["morgan_bits"] = len(morgan)
    non_exact = {k: v for k, v in res["columns"].items() if v["exact"] < n}
    res["max_rel_float"] = max((v["max_rel"] for v in non_exact.values()), default=0.0)
    if "heavy_atoms" in names:
        res["mean_heavy_atoms"] = float(A[:, names.index("heavy_atoms")].mean())
    res["non_exact"] = non_exact
    log(f"agreement: {n} rows x {w} columns; canonical equal {res['canonical_equal']}; "
        f"columns not bitwise equal: {sorted(non_exact)} (max rel {res['max_rel_float']:.2g})")
    return res


# ----------------------------------------------------------------------------------------------------------------
# formatting


def fmt_busy(v):
    return "–" if v is None else f"{v:.2f}"


def machine_info(binary):
    info = benchinfo.machine()
    info["build"] = benchinfo.build(binary)
    info["commit"] = benchinfo.commit(("src", "include"))
    info["binary_mtime"] = benchinfo.binary_mtime(binary)
    info["python"] = platform.python_version()
    info["librdkit"] = dpkg_version("librdkit-dev")
    info["python3_rdkit"] = dpkg_version("python3-rdkit")
    info["libtorch"] = dpkg_version("libtorch-dev")
    return info


# ----------------------------------------------------------------------------------------------------------------


def main():
    global STAT
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", type=Path, default=DEFAULT_BINARY, help="tsunagu_bench_bio (default: %(default)s)")
    ap.add_argument("--write", action="store_true", help="update the bio section of bench/RESULTS.md")
    ap.add_argument("--reps", type=int, default=3, help="interleaved timing rounds (default %(default)s)")
    ap.add_argument("--stat", choices=("min", "median"), default="min",
                    help="statistic over the rounds, the same for every tool (default %(default)s)")
    ap.add_argument("--max-seconds", type=float, default=20.0,
                    help="a configuration whose first-round time exceeded this is not repeated (default %(default)s)")
    ap.add_argument("--n-smiles", type=int, default=10**5, help="SMILES per descriptor run (default 10^5)")
    ap.add_argument("--check-rows", type=int, default=1770,
                    help="rows of the tsunagu/RDKit agreement check (default: one cycle of ESOL + FreeSolv)")
    ap.add_argument("--n-train", type=int, default=1000, help="ESOL molecules of the training runs (default 1,000)")
    ap.add_argument("--ensemble", type=int, default=20, help="networks per ensemble (default %(default)s)")
    ap.add_argument("--cv-threads", default="2",
                    help="threads of the default-CV training row, comma-separated; '' or 'none' skips it "
                         "(default %(default)s)")
    ap.add_argument("--esol", type=Path, default=DEFAULT_ESOL, help="ESOL csv (default: %(default)s)")
    ap.add_argument("--freesolv", type=Path, default=DEFAULT_FREESOLV, help="FreeSolv csv (default: %(default)s)")
    ap.add_argument("--rdkit-python", default="/usr/bin/python3", help="Python with rdkit (default %(default)s)")
    ap.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR, help="data and outputs (default: %(default)s)")
    args = ap.parse_args()
    STAT = args.stat
    cv_threads = [int(t) for t in re.split(r"[,\s]+", args.cv_threads.strip()) if t and t != "none"]

    t_start = time.time()

    def log(msg):
        print(f"[{time.time() - t_start:6.1f} s] {msg}", file=sys.stderr, flush=True)

    binary = args.binary.resolve()
    if not binary.exists():
        sys.exit(f"tsunagu_bench_bio not found: {binary}\n"
                 "build it: cmake --preset bench && cmake --build --preset bench --target tsunagu_bench_bio")
    for p in (args.esol, args.freesolv):
        if not p.exists():
            sys.exit(f"{p} not found (the benchmark needs the real ESOL and FreeSolv SMILES)")
    work = args.workdir.resolve()
    work.mkdir(parents=True, exist_ok=True)
    info = machine_info(binary)
    load_before = os.getloadavg()
    notes = []

    smiles_file, base = write_smiles_file(work, args.esol.resolve(), args.freesolv.resolve(), args.n_smiles, log)
    n_esol = len(read_smiles(args.esol))
    check_rows = min(args.check_rows, args.n_smiles)
    log(f"agreement check on the first {check_rows:,} SMILES")
    agree = check_agreement(binary, args.rdkit_python, smiles_file, check_rows, work, env_threads(2), log)

    # ---------------------------------------------------------------- configurations
    # key -> (kind, columns/cv, threads)
    configs = []
    for cols in ("physchem", FULL_LABEL):
        for t in (1, 2):
            configs.append(("tsunagu", cols, t))
            configs.append(("rdkit", cols, t))
    for t in (1, 2):
        configs.append(("train", "folds:0", t))
    for t in cv_threads:
        configs.append(("train", "folds:5x3", t))

    results = {}   # config -> [result dicts]
    cmds = {}
    context = None
    slow = set()
    desc_args = [f"--smiles={smiles_file}"]
    train_args = [f"--esol={args.esol.resolve()}", f"--n-train={args.n_train}", f"--ensemble={args.ensemble}"]
    for rnd in range(args.reps):
        order = configs if rnd % 2 == 0 else list(reversed(configs))
        for cfg in order:
            if cfg in slow:
                continue
            kind, what, t = cfg
            log(f"round {rnd + 1}/{args.reps}: {kind} {what} {t} thread(s)/process(es)")
            if kind == "rdkit":
                cmd = [args.rdkit_python, str(PEER), "--smiles", str(smiles_file), "--procs", str(t), "--columns",
                       "physchem" if what == "physchem" else "full"]
                out, wall = run(cmd, env_threads(1))
                r = json.loads(out.strip().splitlines()[-1])
                r["wall"] = wall
                prefix = "OMP_NUM_THREADS=1"
            else:
                if kind == "tsunagu":
                    flt = "^" + re.escape(f"BM_Describe/{what}/threads:{t}") + "/"
                    extra = desc_args
                else:
                    flt = "^" + re.escape(f"BM_Train/ensemble:{args.ensemble}/{what}/threads:{t}") + "/"
                    extra = train_args
                res, ctx, wall, cmd = gbench(binary, flt, extra, env_threads(t))
                if kind == "train":
                    context = context or ctx
                (b,) = res.values()
                r = dict(b)
                r["wall"] = wall
                prefix = f"OMP_NUM_THREADS={t}"
            cmds.setdefault(cfg, (prefix, cmd))
            results.setdefault(cfg, []).append(r)
            log(f"    {fmt_t(r['seconds'])} (cores busy {r.get('cores_busy', float('nan')):.2f}, "
                f"process {wall:.1f} s)")
            if rnd == 0 and args.reps > 1 and r["seconds"] > args.max_seconds:
                slow.add(cfg)
    load_mid = os.getloadavg()

    # ---------------------------------------------------------------- report
    def best(cfg):
        v = results.get(cfg)
        if not v:
            return None
        s = summarise([r["seconds"] for r in v])
        return min(v, key=lambda r: abs(r["seconds"] - s))

    def secs(cfg):
        b = best(cfg)
        return b["seconds"] if b else None

    total = time.time() - t_start
    load_after = os.getloadavg()
    bi = info["build"]
    ns = args.n_smiles
    peer0 = next((v[0] for k, v in results.items() if k[0] == "rdkit"), {})
    n_train = int(float(context.get("train_rows", args.n_train))) if context else args.n_train
    features = context.get("train_features", "?").split(",") if context else []
    n_dropped = context.get("train_constant_columns_dropped", "?") if context else "?"
    rounds_of = {cfg: len(v) for cfg, v in results.items()}

    cmdline = " ".join(shlex.quote(rel_arg(a)) for a in [rel(__file__)] + sys.argv[1:])
    L = []
    L.append(f"Generated {info['date']} by `/usr/bin/python3 {cmdline}` (run from the repository root; "
             f"{total:.0f} s wall).  ")
    L.append("Reproduce with the preset build: `cmake --preset bench && cmake --build --preset bench --target "
             "tsunagu_bench_bio && /usr/bin/python3 bench/bio/run_bio_bench.py --write` (the system Python: it has "
             "python3-rdkit; reads `../shared/data/bio/esol.csv` and `freesolv.csv`; `--binary` points at another "
             "build).")
    L.append("")
    L.append(f"- Machine: {info['nproc']} cores, {info['cpu']}, Linux {info['kernel']}; load average "
             f"{load_before[0]:.2f} before / {load_mid[0]:.2f} after the timing rounds / {load_after[0]:.2f} at the "
             "end (other jobs share the machine, so treat absolute times as indicative; ratios were taken in the "
             "same run). *Cores busy* = CPU time of the process (and of its pool workers) / wall time: well below "
             "the thread count means the machine did not give the run its second core.")
    L.append(f"- tsunagu: commit {info['commit']} (`{rel(binary)}` built {info['binary_mtime']}), "
             f"{bi.get('compiler', '?')}, CMAKE_BUILD_TYPE={bi.get('CMAKE_BUILD_TYPE', '?')} (flags "
             f"`{bi.get('CMAKE_CXX_FLAGS_RELEASE', '?')}`, TSUNAGU_NATIVE={bi.get('TSUNAGU_NATIVE', '?')}), "
             f"Debian librdkit-dev {info['librdkit']}, libtorch {info['libtorch']} (CPU).")
    L.append(f"- Peer: RDKit {peer0.get('rdkit', '?')} from Debian python3-rdkit {info['python3_rdkit']} (Python "
             f"{peer0.get('python', '?')}, numpy {peer0.get('numpy', '?')}, `{args.rdkit_python}`), "
             "`bench/bio/rdkit_peer.py`: per molecule `Chem.MolFromSmiles`, `Chem.MolToSmiles` (tsunagu returns the "
             "canonical SMILES with every row), then the documented RDKit functions (`CalcNumHBD` = `NumHDonors`, "
             "`CalcNumHBA` = `NumHAcceptors`, `CalcTPSA`, `CalcCrippenDescriptors` = `MolLogP`/`MolMR` in one call "
             "as tsunagu, strict `CalcNumRotatableBonds`, `MolWt`, heavy atoms, rings, aromatic rings, "
             "`CalcFractionCSP3`, the EG SMARTS count) and tsunagu's charge and chain-length definitions written in "
             "Python (chain length by the same tree DP); the option adds `len(GetSubstructMatches(...))` of the two "
             "SMARTS and `GetMorganFingerprintAsBitVect(mol, 2, nBits=2048)` → `ConvertToNumpyArray`. Output: one "
             "float64 numpy matrix like tsunagu's. 2 processes: `multiprocessing.Pool(2)` (fork) over chunks of "
             "500 SMILES, results copied into the matrix in order (pool start-up and transfer timed).")
    L.append(f"- SMILES: `{rel(smiles_file)}`, {ns:,} lines = the {len(base):,} real SMILES of ESOL "
             f"(`{rel(args.esol)}`, {n_esol:,}) followed by FreeSolv (`{rel(args.freesolv)}`, "
             f"{len(base) - n_esol:,}), repeated in order ({ns / len(base):.1f} cycles; neither tool caches "
             "anything between molecules). Mean heavy atoms "
             f"{agree.get('mean_heavy_atoms', float('nan')):.1f}.")
    L.append(f"- Times: {STAT} over the rounds each configuration ran ({args.reps} interleaved rounds, order reversed "
             f"every other round; a configuration slower than `--max-seconds {args.max_seconds:g}` in round 1 ran "
             "once), measured inside each process around the computation only: process start, RDKit/LibTorch "
             "library start, Python imports and reading the SMILES file are excluded for both tools.")
    L.append("")

    # ---- summary
    d = {(k, c, t): secs((k, c, t)) for (k, c, t) in configs}
    S = ["### Summary (issue targets; ratios in the same run, same SMILES)", "",
         "| target | measured | required | status |", "|---|---|---|---|"]
    for cols, label, target in (("physchem", "physchem columns (17)", 60.0),
                                (FULL_LABEL, "physchem + Morgan 2048 bits + 2 SMARTS (2,067 columns)", None)):
        t1, t2 = d.get(("tsunagu", cols, 1)), d.get(("tsunagu", cols, 2))
        p1, p2 = d.get(("rdkit", cols, 1)), d.get(("rdkit", cols, 2))
        meas = (f"tsunagu 2 threads **{fmt_t(t2)}** (1 thread {fmt_t(t1)}); RDKit Python 2 processes "
                f"{fmt_t(p2)} (1 process {fmt_t(p1)}); tsunagu is **{fmt_r(p2 / t2) if p2 and t2 else '–'}** "
                f"faster at 2 cores, {fmt_r(p1 / t1) if p1 and t1 else '–'} at 1")
        if target:
            scaled = "" if ns == 10**5 else " (for 10⁵ SMILES)"
            status = "met" if t2 is not None and t2 < target else "**missed**"
            S.append(f"| descriptors of {ns:,} SMILES, {label}, 2 cores | {meas} | < {target:.0f} s{scaled} | "
                     f"{status} |")
        else:
            S.append(f"| descriptors of {ns:,} SMILES, {label}, 2 cores | {meas} | reported | – |")
    e1, e2 = d.get(("train", "folds:0", 1)), d.get(("train", "folds:0", 2))
    S.append(f"| ensemble of {args.ensemble} small nets on {n_train:,} molecules (`Model::train`, folds = 0) | "
             f"2 threads **{fmt_t(e2)}** (1 thread {fmt_t(e1)}) | < 30 s"
             f"{'' if (args.ensemble, n_train) == (20, 1000) else ' (for 20 nets, 1,000 molecules)'} | "
             f"{'met' if e2 is not None and e2 < 30 else '**missed**'} |")
    S.append("")

    # ---- 1. descriptors
    T = [f"### 1. Descriptors of {ns:,} SMILES: `bio::describe_many` vs RDKit in Python", "",
         "| columns | tool | 1 thread / process | 2 threads / processes | speed-up | cores busy (1 / 2) | "
         "molecules/s (2) | rounds | tsunagu faster (1 / 2) |", "|---|---|---|---|---|---|---|---|---|"]
    for cols in ("physchem", FULL_LABEL):
        for tool in ("tsunagu", "rdkit"):
            b1, b2 = best((tool, cols, 1)), best((tool, cols, 2))
            t1, t2 = (b1 or {}).get("seconds"), (b2 or {}).get("seconds")
            width = int((b1 or b2 or {}).get("width", 0))
            if tool == "tsunagu":
                p1, p2 = d.get(("rdkit", cols, 1)), d.get(("rdkit", cols, 2))
                vs = (f"{fmt_r(p1 / t1) if p1 and t1 else '–'} / **{fmt_r(p2 / t2) if p2 and t2 else '–'}**")
                name = "tsunagu `describe_many`"
            else:
                vs = ""
                name = "RDKit Python (`rdkit_peer.py`)"
            T.append(f"| {cols} ({width:,}) | {name} | {fmt_t(t1)} | **{fmt_t(t2)}** | "
                     f"{fmt_r(t1 / t2) if t1 and t2 else '–'} | "
                     f"{fmt_busy((b1 or {}).get('cores_busy'))} / {fmt_busy((b2 or {}).get('cores_busy'))} | "
                     f"{fmt_rate(ns / t2) if t2 else '–'} | {rounds_of.get((tool, cols, 1), 0)} / "
                     f"{rounds_of.get((tool, cols, 2), 0)} | {vs} |")
    T.append("")
    sums = [r["checksum"] for k, v in results.items() if k[0] in ("tsunagu", "rdkit") for r in v if "checksum" in r]
    same = bool(sums) and (max(sums) - min(sums)) <= 1e-9 * max(abs(x) for x in sums)
    T.append(f"- Same numbers: on the first {agree['rows']:,} SMILES (every molecule once) both tools' "
             f"{agree['width']:,} columns were compared. Canonical SMILES identical for {agree['canonical_equal']:,} "
             f"of {agree['rows']:,}; Morgan bits identical for {agree['morgan_rows_equal']:,} of {agree['rows']:,} "
             "molecules; " + (
                 "every column bitwise equal." if not agree["non_exact"] else
                 "columns not bitwise equal: " + ", ".join(
                     f"`{k}` ({agree['rows'] - v['exact']:,} rows differ, max rel. {v['max_rel']:.1e})"
                     for k, v in sorted(agree["non_exact"].items())) +
                 " — tsunagu sums atom contributions in canonical atom order (docs/bio.md), RDKit Python in "
                 "input order, so floating-point sums differ in the last bits.") +
             f" Over the whole runs the sum of the 17 physchem columns was "
             f"{'the same (to 1e-9 relative) in every run of both tools and thread counts' if same else 'NOT the same in every run: ' + ', '.join(f'{x:.10g}' for x in sums)}.")
    T.append("- Each tsunagu time is one `describe_many(smiles, options)` call (`DescriptorOptions::threads` = 1 or "
             "2; workers take molecules one at a time from a shared counter): parse + sanitise, canonical SMILES and "
             "atom renumbering, the descriptors, the (n, columns) double matrix.")
    T.append("")

    # ---- 2. training
    Tr = [f"### 2. Ensemble training: `bio::Model::train`, {args.ensemble} networks, {n_train:,} ESOL molecules", "",
          "| configuration | threads | time | networks fitted | per network (wall × threads / networks) | mean epochs (final "
          "nets) | cores busy | rounds | fit |", "|---|---|---|---|---|---|---|---|---|"]
    for what in ["folds:0"] + (["folds:5x3"] if cv_threads else []):
        for t in (1, 2):
            b = best(("train", what, t))
            if not b:
                continue
            nf = b.get("networks_fitted", args.ensemble)
            fit = (f"train RMSE {b['train_rmse']:.3f}" if what == "folds:0" else
                   f"CV R² ensemble {b.get('cv_r2', float('nan')):.3f} (lasso {b.get('cv_r2_lasso', float('nan')):.3f}, "
                   f"kNN {b.get('cv_r2_knn', float('nan')):.3f}), CV RMSE {b.get('cv_rmse', float('nan')):.3f}")
            label = ("final ensemble only (folds = 0): the issue's target" if what == "folds:0" else
                     "default: 5-fold CV × 3 repeats, then the final ensemble")
            Tr.append(f"| {label} | {t} | **{fmt_t(b['seconds'])}** | {nf:.0f} | "
                      f"{fmt_t(b['seconds'] * t / nf)} | {b['mean_epochs']:.0f} | {fmt_busy(b['cores_busy'])} | "
                      f"{rounds_of.get(('train', what, t), 0)} | {fit} |")
    Tr.append("")
    Tr.append(f"- Data: the first {n_train:,} rows of `{rel(args.esol)}`, tsunagu's physchem descriptors (computed "
              f"once, untimed), {n_dropped} constant columns dropped as `bio::dataset_from_table` would, leaving "
              f"{len(features)} inputs ({', '.join(f'`{f}`' for f in features)}); target `logS_measured_mol_L`.")
    Tr.append("- Networks: `TrainOptions` defaults (`default_mlp()`: one hidden layer of 16 tanh units, weight decay "
              "1e-3, Adam 3e-3, batch 16, up to 2000 epochs, early stopping with patience 200 on a 20 % hold-out), "
              "seeds 0, 1000003, …; members trained in parallel over `TrainOptions::threads`, each network on one "
              "thread. The time includes Garson/Olden importances of the final members; the CV row also fits the "
              "lasso and kNN baselines and the permutation importances per fold (15 folds × "
              f"{args.ensemble} networks + {args.ensemble} final = {16 * args.ensemble} networks).")
    b2 = best(("train", "folds:0", 2))
    if b2 and "chunk_epoch_imbalance" in b2:
        Tr.append(f"- Load balance at 2 threads: `TrainOptions::threads` hands each thread a fixed contiguous half of "
                  "the members (`core::parallel_for` in `fit_members`, src/bio/model.cpp), while early stopping makes "
                  "the members' epoch counts differ; in this run the larger half had "
                  f"{b2['chunk_epoch_imbalance']:.2f}× the mean epochs per half (1.00 = balanced), so the ensemble's "
                  f"2-thread time is at best {b2['chunk_epoch_imbalance']:.2f}/2 of the 1-thread time even on two "
                  "free cores.")
    low = [f"{k[0]} {k[1]} ({best(k)['cores_busy']:.2f})" for k in configs
           if k[2] == 2 and best(k) and best(k).get("cores_busy", 2.0) < 1.5]
    if low:
        Tr.append("- 2-thread/2-process results that kept fewer than 1.5 cores busy (other jobs held a core; their "
                  "times overstate what two free cores give): " + ", ".join(low) + ".")
    Tr.append("")

    detail = ["<details><summary>timing repetitions (per round) and commands</summary>", ""]
    for cfg in configs:
        v = results.get(cfg)
        if not v:
            continue
        kind, what, t = cfg
        detail.append(f"- {kind} {what}, {t}: " + ", ".join(fmt_t(r["seconds"]) for r in v) + " (process wall "
                      + ", ".join(f"{r['wall']:.1f} s" for r in v) + "; cores busy "
                      + ", ".join(fmt_busy(r.get("cores_busy")) for r in v) + ")")
    detail.append("")
    detail.append("Commands (first round; OPENBLAS/MKL/BLIS_NUM_THREADS are set like OMP_NUM_THREADS; the paths are "
                  "this run's):")
    detail.append("")
    for cfg, (prefix, cmd) in cmds.items():
        detail.append(f"- {cfg[0]} {cfg[1]}, {cfg[2]}: `{prefix} {shlex.join(rel_arg(a) for a in cmd)}`")
    if notes:
        detail.append("")
        detail.extend(f"- Note: {n}" for n in notes)
    detail += ["", "</details>", ""]

    report = "\n".join(L + S + T + Tr + detail)
    print(report)
    (work / "results.json").write_text(json.dumps(
        {"results": {"|".join(map(str, k)): v for k, v in results.items()}, "agreement": agree,
         "context": context}, indent=1, default=str) + "\n")
    if args.write:
        body = "## bio\n\n" + report
        text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n\n"
        section = f"{BEGIN}\n{body}{END}"
        if BEGIN in text and END in text:
            text = text[:text.index(BEGIN)] + section + text[text.index(END) + len(END):]
        else:
            text = text.rstrip("\n") + "\n\n" + section + "\n"
        RESULTS.write_text(text)
        log(f"wrote {RESULTS}")
    log("done")


if __name__ == "__main__":
    main()
