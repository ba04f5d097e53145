#!/usr/bin/env python3
"""Acceleration factor of tsunagu `bo pool` configurations on the Liang et al. (2021) pools, tsunagu only.

    .venv/bin/python bench/bayesopt/pool_variants.py [--binary build/release/cli/tsunagu] [--reps 50]
        [--datasets AgNP,P3HT] -- [bo pool options, e.g. --input-warp none --acq logei --kernel matern52]

The protocol, budgets, seeds (2021 + repetition) and metrics are those of run_bo_bench.py's pool part (imported
from it), so a configuration's AF here is the number that part would report for it; the peers are not run (their
AFs are in bench/RESULTS.md). Used to choose the pool defaults (bo::pool_optimizer_defaults); RESULTS.md lists the
configurations compared. Two tsunagu processes run at once, one thread each.
"""
import argparse
import concurrent.futures as cf
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run_bo_bench as B  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", type=Path, default=B.REPO / "build" / "release" / "cli" / "tsunagu")
    ap.add_argument("--data", type=Path, default=B.DEFAULT_DATA)
    ap.add_argument("--datasets", default=",".join(B.DATASETS))
    ap.add_argument("--reps", type=int, default=50)
    ap.add_argument("--seed", type=int, default=2021)
    ap.add_argument("extra", nargs=argparse.REMAINDER, help="-- then bo pool options")
    a = ap.parse_args()
    extra = a.extra[1:] if a.extra[:1] == ["--"] else a.extra
    if not a.data.is_dir():
        sys.exit(f"{a.data}: the Liang et al. datasets are absent (../shared/data/bo)")
    with tempfile.TemporaryDirectory() as tmp:
        for name in a.datasets.split(","):
            if name not in B.DATASETS:
                sys.exit(f"--datasets: unknown {name!r}; choose from {', '.join(B.DATASETS)}")
            ds = B.load_dataset(a.data / f"{name}.csv")
            iters = min(B.DATASETS[name][0], ds["m"] - B.N_INITIAL)

            def one(rep):
                out = Path(tmp) / f"{name}_{rep}.json"
                return B.run_tsunagu_pool(a.binary, ds, iters, a.seed + rep, out, ["--threads", "1", *extra])[0]

            with cf.ThreadPoolExecutor(2) as ex:
                orders = list(ex.map(one, range(a.reps)))
            r = B.pool_metrics(ds, B.top_curves(orders, ds["top"], iters + B.N_INITIAL))
            print(f"{name:15s} AF {B.fmt_af(r):24s} Top% at the end {r['final']:.2f}   {' '.join(extra)}", flush=True)


if __name__ == "__main__":
    main()
