#!/usr/bin/env python3
"""Benchmark the XAS pipeline (issue 6): structure descriptors, training throughput of tsunagu's LibTorch MLP against
the same network in PyTorch, and the latency of one structure -> spectrum prediction.

    cmake --preset bench && cmake --build --preset bench --target tsunagu_bench_xas
    .venv/bin/python bench/xas/run_xas_bench.py [--binary build/bench/bench/tsunagu_bench_xas] [--write]

Builds nothing. In one run it
  1. writes the training data once per run into --workdir: the V K-edge descriptor table
     (../shared/data/xas/v_k_edge_tmqm_descriptors.csv: 1,439 rows, d0..d96 -> s0..s225) when present, else seeded
     synthetic data of the same shape, as raw float64 files + manifest.json that tsunagu_bench_xas (--train-data) and
     bench/xas/torch_peer.py both read -- the very same bytes;
  2. runs --reps interleaved rounds; each round runs every configuration once (the order of the tools alternates
     from round to round), so that slow drifts of the machine hit all alike:
       * tsunagu_bench_xas BM_Describe: features::describe_many on 10^4 generated structures of 40-60 atoms
         (periodic crystals and molecules; see bench/xas/xas_benchmark.cpp) with the XAS default descriptor kinds,
         site+composition, composition, prdf and coulomb, on 1 and 2 threads;
       * tsunagu_bench_xas BM_Predict*: xas::Model::predict on one structure at a time (descriptors included) for the
         XANESNET Fe K-edge test complexes (model trained in the benchmark's setup on xyz_train) and for 50-atom
         generated crystals/molecules, with its descriptor and network parts timed alone;
       * training, 1 and 2 threads: tsunagu (BM_Train: nn::Mlp::fit, Eigen kernels = the default), tsunagu with
         TSUNAGU_NN_KERNELS=torch (LibTorch's own Linear/Adam: the same libtorch_cpu.so as Debian's PyTorch), and
         PyTorch from Python (/usr/bin/python3 bench/xas/torch_peer.py): the same network (97 -> 256 -> 256 -> 226,
         SiLU), Adam (lr 1e-3), MSE, batch 32, --epochs epochs, no dropout/weight decay/validation, float32,
         standardised inputs and targets, OMP_NUM_THREADS and the library's thread count = the configuration's;
  3. prints a Markdown report; with --write replaces the section between <!-- xas:begin --> and <!-- xas:end --> in
     bench/RESULTS.md (appending the markers at the end when absent).

Timings: the minimum over the rounds (--stat median for the median), the same statistic for every tool; training
rates are samples x epochs / time of the epoch loop, measured inside each process (tsunagu: the library's own
TrainHistory::samples_per_second; PyTorch: perf_counter around its loop), so interpreter/process start, the torch
import, reading and scaling the data are excluded for both. Targets (issue) are reported as ratios, never asserted.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS")

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import benchinfo  # noqa: E402
from benchinfo import base_name, dpkg_version, fmt_r, fmt_rate, fmt_t, gbench, rel, rel_arg, run  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
DEFAULT_BINARY = REPO / "build" / "bench" / "bench" / "tsunagu_bench_xas"
DEFAULT_WORKDIR = REPO / "build" / "xas-bench"
DEFAULT_FE = REPO.parent / "shared" / "data" / "xas" / "fe_k_edge"
DEFAULT_V = REPO.parent / "shared" / "data" / "xas" / "v_k_edge_tmqm_descriptors.csv"
PEER = REPO / "bench" / "xas" / "torch_peer.py"
RESULTS = REPO / "bench" / "RESULTS.md"
BEGIN, END = "<!-- xas:begin -->", "<!-- xas:end -->"
HIDDEN = [256, 256]
BATCH = 32
LR = 1e-3
STAT = "min"


# ----------------------------------------------------------------------------------------------------------------
# training data


def write_train_data(work: Path, v_table: Path, epochs: int, seed: int, log) -> dict:
    """X.f64 / Y.f64 (row-major little-endian float64) + manifest.json; returns the manifest."""
    import numpy as np
    d = work / "train"
    d.mkdir(parents=True, exist_ok=True)
    if v_table.exists():
        with open(v_table, newline="") as f:
            r = csv.reader(f)
            head = next(r)
            rows = [row for row in r]
        dcol = [i for i, h in enumerate(head) if h.startswith("d") and h[1:].isdigit()]
        scol = [i for i, h in enumerate(head) if h.startswith("s") and h[1:].isdigit()]
        dcol.sort(key=lambda i: int(head[i][1:]))
        scol.sort(key=lambda i: int(head[i][1:]))
        A = np.array([[float(row[i]) for i in dcol + scol] for row in rows])
        X, Y = A[:, :len(dcol)], A[:, len(dcol):]
        source = (f"V K-edge descriptor table `{rel(v_table)}` ({X.shape[0]:,} rows, {X.shape[1]} descriptors "
                  f"d0..d{X.shape[1] - 1} -> {Y.shape[1]} spectrum points)")
    else:
        rng = np.random.default_rng(seed)
        X = rng.normal(size=(1439, 97))
        Z = np.tanh(X @ rng.normal(size=(97, 8)) / np.sqrt(97))
        e = np.linspace(0, 1, 226)[None, :]
        Y = (1 / (1 + np.exp(-(e - 0.3 - 0.05 * Z[:, :1]) * 40)) + 0.3 * Z[:, 1:2] *
             np.exp(-((e - 0.35 - 0.05 * Z[:, 2:3]) / 0.05) ** 2) + 0.01 * rng.normal(size=(1439, 226)))
        source = f"seeded synthetic data of the V table's shape (1,439 x 97 -> 226; `--seed {seed}`; table absent)"
        log(f"{v_table} not found: synthetic training data")
    if not (np.isfinite(X).all() and np.isfinite(Y).all()):
        raise SystemExit("training data has non-finite values")
    X.astype("<f8").tofile(d / "X.f64")
    Y.astype("<f8").tofile(d / "Y.f64")
    m = {"n": int(X.shape[0]), "p": int(X.shape[1]), "q": int(Y.shape[1]), "X": "X.f64", "Y": "Y.f64",
         "epochs": epochs, "batch_size": BATCH, "hidden": HIDDEN, "learning_rate": LR, "seed": 0,
         "threads": [1, 2], "source": source}
    (d / "manifest.json").write_text(json.dumps(m, indent=1) + "\n")
    m["dir"] = d
    return m


# ----------------------------------------------------------------------------------------------------------------
# runs


def env_threads(t, extra=None):
    env = dict(os.environ)
    for v in THREAD_VARS:
        env[v] = str(t)
    env.pop("TSUNAGU_NN_KERNELS", None)
    if extra:
        env.update(extra)
    return env


def summarise(values):
    return min(values) if STAT == "min" else statistics.median(values)


def summarise_rate(values):
    return max(values) if STAT == "min" else statistics.median(values)


# ----------------------------------------------------------------------------------------------------------------
# formatting


def machine_info(binary):
    info = benchinfo.machine()
    info["build"] = benchinfo.build(binary)
    info["commit"] = benchinfo.commit(("src", "include"))
    info["binary_mtime"] = benchinfo.binary_mtime(binary)
    info["python"] = platform.python_version()
    info["libtorch"] = dpkg_version("libtorch-dev")
    info["python3_torch"] = dpkg_version("python3-torch")
    blas = Path("/usr/lib/x86_64-linux-gnu/libblas.so.3")
    info["blas"] = rel(blas.resolve()) if blas.exists() else "?"
    try:
        owner = subprocess.run(["dpkg", "-S", str(blas.resolve())], capture_output=True, text=True).stdout
        info["blas_pkg"] = owner.split(":")[0].strip() or "?"
    except Exception:
        info["blas_pkg"] = "?"
    try:
        info["gpu"] = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True).stdout.strip() or None
    except Exception:
        info["gpu"] = None
    return info


# ----------------------------------------------------------------------------------------------------------------


def main():
    global STAT
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", type=Path, default=DEFAULT_BINARY, help="tsunagu_bench_xas (default: %(default)s)")
    ap.add_argument("--write", action="store_true", help="update the xas section of bench/RESULTS.md")
    ap.add_argument("--reps", type=int, default=3, help="interleaved timing rounds (default %(default)s)")
    ap.add_argument("--stat", choices=("min", "median"), default="min",
                    help="statistic over the rounds, the same for every tool (default %(default)s)")
    ap.add_argument("--epochs", type=int, default=10, help="training epochs, every tool (default %(default)s)")
    ap.add_argument("--max-seconds", type=float, default=30.0,
                    help="a configuration whose first-round process took longer is not repeated (keeps a run on a "
                         "busy machine within minutes; default %(default)s)")
    ap.add_argument("--n-structures", type=int, default=10**4, help="structures per descriptor set (default 10^4)")
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--fe-data", type=Path, default=DEFAULT_FE, help="XANESNET Fe K-edge folder (default: %(default)s)")
    ap.add_argument("--v-table", type=Path, default=DEFAULT_V, help="V K-edge table (default: %(default)s)")
    ap.add_argument("--torch-python", default="/usr/bin/python3", help="Python with torch (default %(default)s)")
    ap.add_argument("--no-torch-kernels", action="store_true",
                    help="skip the tsunagu rows with TSUNAGU_NN_KERNELS=torch")
    ap.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR, help="data and outputs (default: %(default)s)")
    args = ap.parse_args()
    STAT = args.stat

    t_start = time.time()

    def log(msg):
        print(f"[{time.time() - t_start:6.1f} s] {msg}", file=sys.stderr, flush=True)

    binary = args.binary.resolve()
    if not binary.exists():
        sys.exit(f"tsunagu_bench_xas not found: {binary}\n"
                 "build it: cmake --preset bench && cmake --build --preset bench --target tsunagu_bench_xas")
    work = args.workdir.resolve()
    work.mkdir(parents=True, exist_ok=True)
    info = machine_info(binary)
    load_before = os.getloadavg()
    notes = []

    manifest = write_train_data(work, args.v_table.resolve(), args.epochs, args.seed, log)
    have_fe = (args.fe_data / "xyz_train").is_dir() and (args.fe_data / "xyz_test").is_dir()
    if not have_fe:
        notes.append(f"{rel(args.fe_data)} not found: no Fe-complex prediction benchmark")
    common = [f"--n-structures={args.n_structures}", f"--seed={args.seed}"]
    predict_args = common + ([f"--fe-data={args.fe_data.resolve()}"] if have_fe else [])
    train_args = [f"--train-data={manifest['dir']}"]
    torch_ok = shutil.which(args.torch_python) is not None or Path(args.torch_python).exists()
    if not torch_ok:
        notes.append(f"{args.torch_python} not found: no PyTorch peer")

    # ---------------------------------------------------------------- rounds
    desc, pred = {}, {}            # base name -> [seconds per round]
    busy = {}                      # base name -> [cores busy per round] (descriptors)
    desc_meta, pred_meta = {}, {}  # base name -> benchmark dict (first round)
    train = {}                     # (tool, threads) -> [result dicts]
    context, cmds = None, {}
    slow = set()                   # (tool, threads) not repeated after round 1 (--max-seconds)
    tools = ["tsunagu"] + ([] if args.no_torch_kernels else ["tsunagu-torch-kernels"]) + \
        (["pytorch"] if torch_ok else [])
    for rnd in range(args.reps):
        log(f"round {rnd + 1}/{args.reps}: descriptors ({args.n_structures:,} structures per set)")
        res, ctx, wall, cmd = gbench(binary, "BM_Describe", common, env_threads(2))
        context = context or ctx
        cmds.setdefault("descriptors", ("OMP_NUM_THREADS=2", cmd))
        for name, b in res.items():
            k = base_name(name)
            desc.setdefault(k, []).append(b["seconds"])
            busy.setdefault(k, []).append(b["cores_busy"])
            desc_meta.setdefault(k, b)
        log(f"round {rnd + 1}/{args.reps}: single-structure prediction")
        res, _, wall, cmd = gbench(binary, "BM_Predict", predict_args, env_threads(1))
        cmds.setdefault("prediction", ("OMP_NUM_THREADS=1", cmd))
        for name, b in res.items():
            k = base_name(name)
            pred.setdefault(k, []).append(b["seconds"])
            pred_meta.setdefault(k, b)
        for t in (1, 2):
            order = tools if rnd % 2 == 0 else list(reversed(tools))
            for tool in order:
                if (tool, t) in slow:
                    continue
                log(f"round {rnd + 1}/{args.reps}: training, {tool}, {t} thread(s), {args.epochs} epochs")
                if tool == "pytorch":
                    cmd = [args.torch_python, str(PEER), "--data", str(manifest["dir"]), "--threads", str(t)]
                    out, wall = run(cmd, env_threads(t))
                    r = json.loads(out.strip().splitlines()[-1])
                    r["wall"] = wall
                    prefix = f"OMP_NUM_THREADS={t}"
                else:
                    extra = {"TSUNAGU_NN_KERNELS": "torch"} if tool == "tsunagu-torch-kernels" else None
                    res, _, wall, cmd = gbench(binary, f"BM_Train/threads:{t}/", train_args, env_threads(t, extra))
                    (b,) = res.values()
                    r = {"samples_per_s": b["samples_per_s"], "fit_samples_per_s": b["fit_samples_per_s"],
                         "epochs": int(b["epochs"]), "first_loss": b["first_loss"], "final_loss": b["final_loss"],
                         "loop_seconds": b["n_train"] * b["epochs"] / b["samples_per_s"], "wall": wall,
                         "cores_busy": b["cores_busy"]}
                    prefix = f"OMP_NUM_THREADS={t}" + (" TSUNAGU_NN_KERNELS=torch" if extra else "")
                cmds.setdefault((tool, t), (prefix, cmd))
                train.setdefault((tool, t), []).append(r)
                if rnd == 0 and args.reps > 1 and r["wall"] > args.max_seconds:
                    slow.add((tool, t))
                    notes.append(f"training {tool}, {t} thread(s): the first round's process took {r['wall']:.0f} s "
                                 f"(> --max-seconds {args.max_seconds:g}), so it ran in round 1 only")
    load_mid = os.getloadavg()

    # ---------------------------------------------------------------- report
    D = {k: summarise(v) for k, v in desc.items()}
    P = {k: summarise(v) for k, v in pred.items()}
    R = {k: summarise_rate([r["samples_per_s"] for r in v]) for k, v in train.items()}
    total = time.time() - t_start
    load_after = os.getloadavg()
    bi = info["build"]
    peer0 = train.get(("pytorch", 1), [{}])[0]
    n_train, n_epochs = manifest["n"], args.epochs

    # descriptor rows: (set, label) -> {threads: seconds}
    drows = {}
    for k, s in D.items():
        _, dset, label, th = k.split("/")
        drows.setdefault((dset, label), {})[int(th.split(":")[1])] = s
    default_label = next((lab for (_, lab) in drows if lab.startswith("default:")), None)
    ns = args.n_structures

    def dtime(dset, label, t):
        return drows.get((dset, label), {}).get(t)

    cmdline = " ".join(shlex.quote(a) for a in [rel(__file__)] + [
        a if not a.startswith("/") else rel(a) for a in sys.argv[1:]])
    L = []
    L.append(f"Generated {info['date']} by `.venv/bin/python {cmdline}` (run from the repository root; "
             f"{total:.0f} s wall).  ")
    L.append("Reproduce with the preset build: `cmake --preset bench && cmake --build --preset bench --target "
             "tsunagu_bench_xas && .venv/bin/python bench/xas/run_xas_bench.py --write` (reads "
             "`../shared/data/xas/` when present; `--binary` points at another build).")
    L.append("")
    L.append(f"- Machine: {info['nproc']} cores, {info['cpu']}, Linux {info['kernel']}; load average "
             f"{load_before[0]:.2f} before / {load_mid[0]:.2f} after the timing rounds / {load_after[0]:.2f} at the "
             "end (other jobs share the machine, so treat absolute times as indicative; ratios were taken in the "
             "same run). **No GPU at hand** (" + (info["gpu"] or "no nvidia-smi device") +
             f"; LibTorch CUDA: {context.get('nn_cuda', '?') if context else '?'}, torch.cuda.is_available(): "
             f"{peer0.get('cuda_available', '?')}): the GPU targets were not measured.")
    L.append(f"- tsunagu: commit {info['commit']} (`{rel(binary)}` built {info['binary_mtime']}), "
             f"{bi.get('compiler', '?')}, CMAKE_BUILD_TYPE={bi.get('CMAKE_BUILD_TYPE', '?')} (flags "
             f"`{bi.get('CMAKE_CXX_FLAGS_RELEASE', '?')}`, TSUNAGU_NATIVE={bi.get('TSUNAGU_NATIVE', '?')}), "
             f"Debian libtorch {info['libtorch']} (CPU-only).")
    if torch_ok:
        L.append(f"- Peer: PyTorch {peer0.get('torch', '?')} from Debian python3-torch {info['python3_torch']} "
                 f"(Python {peer0.get('python', '?')}, `{args.torch_python}`), the same libtorch_cpu.so as tsunagu; "
                 f"its BLAS_INFO={peer0.get('blas_info', '?')}: dense products go to `libblas.so.3` = "
                 f"`{info['blas']}` ({info['blas_pkg']}, the reference BLAS unless an optimised one is installed "
                 "as the alternative). A pip wheel of PyTorch (MKL) would be faster than this peer.")
    L.append(f"- Training data: {manifest['source']}; written once as raw float64 that both tools read.")
    L.append(f"- Descriptor structures (`--seed {args.seed}`): {ns:,} per set, 40–60 atoms (mean "
             f"{desc_meta[next(iter(desc_meta))]['mean_atoms']:.1f} / "
             f"{next(b['mean_atoms'] for k, b in desc_meta.items() if '/molecule/' in k):.1f}); *crystal*: "
             "periodic triclinic cells (a, b, c ± 20 %, angles 90° ± 15°), 10–16 Å³/atom, atoms on a jittered grid, "
             "Fe + O (≈ 55 %) + 1–2 of Li/Mg/Ti/Mn/Co (7 elements); *molecule*: Fe at the origin, the rest uniform in "
             "an ellipsoid at 0.08 atoms/Å³ with distances ≥ 1.0 Å, H/C/N/O/S/Cl/P (8 elements). Absorbing site = "
             "the Fe at site 0. The spec is fitted on the set (fit_spec, untimed); times are one describe_many call "
             "over all structures, output matrix included.")
    L.append(f"- Times: {STAT} over {args.reps} interleaved rounds (each round runs every configuration once; the "
             "order of the training tools alternates). Training: samples/s = rows × epochs / time of the epoch "
             "loop, measured inside each process (process start, torch import, data reading and scaling excluded "
             "for both).")
    L.append("")

    # ---- summary
    S = ["### Summary (issue targets; ratios in the same run, same data)", "",
         "| target | measured | required | status |", "|---|---|---|---|"]
    for label in [default_label, "site+composition"]:
        if label is None or not any(lab == label for (_, lab) in drows):
            continue
        c2, m2 = dtime("crystal", label, 2), dtime("molecule", label, 2)
        c1, m1 = dtime("crystal", label, 1), dtime("molecule", label, 1)
        worst = max(x for x in (c2, m2) if x is not None)
        what = f"XAS default kinds ({label.split(':', 1)[1]})" if label.startswith("default:") else label
        S.append(f"| descriptors of {ns:,} structures × ~50 atoms, {what}, 2 cores | crystals **{fmt_t(c2)}**, "
                 f"molecules **{fmt_t(m2)}** (1 thread: {fmt_t(c1)}, {fmt_t(m1)}) | < 10 s"
                 f"{'' if ns == 10**4 else ' (for 10⁴ structures)'} | {'met' if worst < 10 else '**missed**'} |")
    if torch_ok:
        parts = []
        for t in (1, 2):
            a, b = R.get(("tsunagu", t)), R.get(("pytorch", t))
            parts.append(f"{t} thread{'s' if t > 1 else ''}: **{fmt_r(a / b)}** ({fmt_rate(a)} vs {fmt_rate(b)})")
        S.append(f"| training throughput vs PyTorch, same network/optimizer/batch/data/epochs | tsunagu / PyTorch "
                 f"samples/s: {'; '.join(parts)} | reported | – |")
    pk = [k for k in P if k.startswith("BM_Predict/")]
    worst_p = max(P[k] for k in pk) if pk else None
    S.append("| single-structure prediction (structure → spectrum, descriptors included) | " + ", ".join(
        f"{k.split('/')[1].replace('_', ' ')} **{fmt_t(P[k])}**" for k in pk) + " | < 10 ms | "
        + ("met" if worst_p is not None and worst_p < 0.01 else "**missed**") + " |")
    S.append("| GPU | no GPU at hand (CPU-only LibTorch and PyTorch) | – | not measured |")
    S.append("")

    # ---- 1. descriptors
    T = [f"### 1. Descriptors: `features::describe_many` on {ns:,} structures", "",
         "| set | kinds | length | 1 thread | 2 threads | speed-up | cores busy (2 threads) | per structure "
         "(2 threads) | structures/s (2 threads) |", "|---|---|---|---|---|---|---|---|---|"]
    for (dset, label), v in drows.items():
        meta = desc_meta.get(f"BM_Describe/{dset}/{label}/threads:1") or desc_meta.get(
            f"BM_Describe/{dset}/{label}/threads:2")
        t1, t2 = v.get(1), v.get(2)
        k2 = f"BM_Describe/{dset}/{label}/threads:2"
        b2 = busy[k2][desc[k2].index(t2)] if t2 else None
        T.append(f"| {dset} | {label.replace('default:', 'XAS default: ')} | {meta['width']:,.0f} | {fmt_t(t1)} | "
                 f"**{fmt_t(t2)}** | {fmt_r(t1 / t2) if t1 and t2 else '–'} | "
                 f"{f'{b2:.2f}' if b2 is not None else '–'} | {fmt_t(t2 / ns) if t2 else '–'} | "
                 f"{fmt_rate(ns / t2) if t2 else '–'} |")
    T.append("")
    T.append("Library default parameters (site cutoff 6 Å, PRDF to 8 Å in 0.1 Å steps, Coulomb eigenvalues padded to "
             "the largest structure). The 2-thread split is `core::parallel_for`'s: two equal contiguous halves of "
             "the structure list. Cores busy = process CPU time / wall time of the reported round; well below 2 "
             "means the machine did not give the run its second core (other jobs).")
    T.append("")

    # ---- 2. training
    Tr = [f"### 2. Training throughput ({n_train:,} samples × {n_epochs} epochs, "
          f"{manifest['p']} → {' → '.join(map(str, HIDDEN))} → {manifest['q']} SiLU, Adam lr {LR:g}, batch {BATCH}, "
          "float32, CPU)", "",
          "| tool | threads | samples/s (epoch loop) | s per epoch | samples/s incl. fit() overhead | vs PyTorch "
          "| cores busy | training loss, epoch 1 → last |", "|---|---|---|---|---|---|---|---|"]
    labels = {"tsunagu": "tsunagu `nn::Mlp::fit` (Eigen kernels, default)",
              "tsunagu-torch-kernels": "tsunagu, `TSUNAGU_NN_KERNELS=torch` (LibTorch Linear + torch::optim::Adam)",
              "pytorch": "PyTorch from Python (`torch_peer.py`)"}
    for tool in tools:
        for t in (1, 2):
            v = train.get((tool, t))
            if not v:
                continue
            rate = R[(tool, t)]
            best = max(v, key=lambda r: r["samples_per_s"])
            fit = best.get("fit_samples_per_s")
            peer = R.get(("pytorch", t))
            Tr.append(f"| {labels[tool]} | {t} | **{fmt_rate(rate)}** | {fmt_t(n_train / rate)} | "
                      f"{fmt_rate(fit) if fit else '–'} | {fmt_r(rate / peer) if peer else '–'} | "
                      f"{best.get('cores_busy', float('nan')):.2f} | "
                      f"{best['first_loss']:.4f} → {best['final_loss']:.4f} |")
    Tr.append("")
    if torch_ok:
        pe = [r for r in train.get(("pytorch", 1), [])]
        best_epoch = max(r["best_epoch_samples_per_s"] for r in pe) if pe else None
        Tr.append("- Same for every tool: the data bytes, standardisation (population SD), architecture, "
                  "U(±1/√fan_in) initialisation (different random streams, so the losses agree in trend, not "
                  "digit for digit), Adam (β 0.9/0.999, ε 1e-8, no weight decay), MSE, constant learning rate, "
                  f"batch {BATCH} drawn by a fresh permutation each epoch, {n_epochs} epochs, no validation/early "
                  "stopping/dropout, threads = `torch.set_num_threads` / `MlpOptions::threads` and OMP_NUM_THREADS. "
                  f"PyTorch's best single epoch: {fmt_rate(best_epoch)} at 1 thread (the rate above is over all "
                  "epochs, like tsunagu's).")
        a1, k1 = R.get(("tsunagu", 1)), R.get(("tsunagu-torch-kernels", 1))
        p1 = R.get(("pytorch", 1))
        if k1 and p1:
            Tr.append(f"- Where the difference comes from (1 thread): tsunagu with LibTorch's own kernels runs "
                      f"{fmt_r(k1 / p1)} PyTorch's rate (same kernels, C++ instead of Python dispatch), its Eigen "
                      f"GEMM + fused Adam path {fmt_r(a1 / k1)} that — i.e. most of the gap is the BLAS behind "
                      "Debian's LibTorch, not the framework.")
        t2 = train.get(("tsunagu", 2))
        if t2:
            b2 = max(t2, key=lambda r: r["samples_per_s"]).get("cores_busy", 2.0)
            if b2 < 1.3:
                Tr.append(f"- tsunagu's 2-thread run kept {b2:.2f} cores busy, i.e. it ran on one core: the split of "
                          "its Eigen products over LibTorch's intra-op threads (`at::parallel_for` in "
                          "src/nn/torch_backend.cpp) is serial in this build, because that translation unit is "
                          "compiled without `-fopenmp` (ATen's header then defines no INTRA_OP_PARALLEL). "
                          "`MlpOptions::threads` therefore only affects the LibTorch-kernel path.")
        low = [f"{tool} ({max(v, key=lambda r: r['samples_per_s']).get('cores_busy', 2.0):.2f})"
               for (tool, t), v in train.items() if t == 2 and tool != "tsunagu"
               and max(v, key=lambda r: r["samples_per_s"]).get("cores_busy", 2.0) < 1.5]
        if low:
            Tr.append("- 2-thread runs of LibTorch's OpenMP kernels that kept fewer than 1.5 cores busy: "
                      + ", ".join(low) + ". With another job on the second core, OpenMP's barrier spin-waiting "
                      "makes such runs much slower than 1 thread; compare their 2-thread rates only with that in "
                      "mind.")
        Tr.append("")

    # ---- 3. prediction
    Pr = ["### 3. Single-structure prediction (`xas::Model::predict` on one structure, descriptors included)", "",
          "| structures | atoms (mean) | network inputs → mesh | Model::predict | descriptors alone (`describe`) | "
          "network alone, LibTorch (`Mlp::predict`, 1 row) | network alone, Eigen (`predict_reference`) |",
          "|---|---|---|---|---|---|---|"]
    for k in pk:
        dset = k.split("/")[1]
        meta = pred_meta[k]
        what = {"fe_complex": f"Fe complexes, XANESNET test set (`{rel(args.fe_data)}/xyz_test`)",
                "crystal": "generated crystals, 50 atoms", "molecule": "generated molecules, 50 atoms"}.get(dset, dset)
        Pr.append(f"| {what} | {meta['mean_atoms']:.1f} | {meta['features']:.0f} → {meta['mesh_points']:.0f} | "
                  f"**{fmt_t(P[k])}** | {fmt_t(P.get('BM_PredictDescribe/' + dset))} | "
                  f"{fmt_t(P.get('BM_PredictNetwork/' + dset))} | {fmt_t(P.get('BM_PredictNetworkEigen/' + dset))} |")
    Pr.append("")
    Pr.append("Models: trained in the benchmark's setup with `xas::TrainOptions` defaults except `cv_folds = 0`, "
              "`tune_trials = 0`, threads 1 and 40 epochs without early stopping (the network's size, not its "
              "accuracy, sets the latency): on the 100 Fe complexes of xyz_train, and on 300 generated structures "
              "with synthetic spectra for the crystal/molecule rows. Latency = mean wall time per call over ≥ 0.5 s "
              "of calls cycling through the structures, each call a fresh `std::vector` of one structure; 1 thread.")
    Pr.append("")

    detail = ["<details><summary>timing repetitions (per round)</summary>", ""]
    for k, v in desc.items():
        detail.append(f"- {k}: " + ", ".join(fmt_t(s) for s in v))
    for k, v in pred.items():
        detail.append(f"- {k}: " + ", ".join(fmt_t(s) for s in v))
    for (tool, t), v in train.items():
        detail.append(f"- train {tool}, {t} thread(s): " + ", ".join(fmt_rate(r["samples_per_s"]) for r in v)
                      + " (process wall " + ", ".join(f"{r['wall']:.1f} s" for r in v) + "; cores busy "
                      + ", ".join(f"{r.get('cores_busy', float('nan')):.2f}" for r in v) + ")")
    detail.append("")
    detail.append("Commands (first round; OPENBLAS/MKL/BLIS_NUM_THREADS are set like OMP_NUM_THREADS; the paths are "
                  "this run's):")
    detail.append("")
    for key, (prefix, cmd) in cmds.items():
        name = key if isinstance(key, str) else f"train {key[0]}, {key[1]} thread(s)"
        detail.append(f"- {name}: `{prefix} {shlex.join(rel_arg(a) for a in cmd)}`")
    if notes:
        detail.append("")
        detail.extend(f"- Note: {n}" for n in notes)
    detail += ["", "</details>", ""]

    report = "\n".join(L + S + T + Tr + Pr + detail)
    print(report)
    if args.write:
        body = "## xas\n\n" + report
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
