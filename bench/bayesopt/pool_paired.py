#!/usr/bin/env python3
"""Paired bootstrap of the pool goal (tsunagu's AF ≥ both peers' AF) from the orders run_bo_bench.py's pool part saved.

    .venv/bin/python bench/bayesopt/pool_paired.py ORDERS.json [ORDERS.json ...] [--datasets P3HT,Perovskite]

ORDERS.json is the `pool_orders.json` a pool run leaves in its --workdir (measured row groups per method and
repetition). Several files (runs with different --seed blocks) are concatenated per dataset, so 2 runs of 50
repetitions give a 100-repetition estimate; a dataset takes the repetitions of every file that holds it. Repetitions are resampled jointly for the three methods (they share the
initial rows of a repetition), and for each resample the AFs are recomputed exactly as the pool part computes them.
Prints, per dataset: the point AFs, the 5-95 % interval of AF(tsunagu) − AF(peer) and the fraction of resamples in
which tsunagu ≥ that peer, and the fraction in which tsunagu ≥ both peers.
"""
import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run_bo_bench as B  # noqa: E402

METHODS = ("tsunagu", "gp", "rf")


def af_of(curves, m):
    i = B.evals_to_reach(curves.mean(0), B.AF_LEVEL)
    return B.AF_LEVEL * m / i if i is not None else 0.0  # 0: Top% = 0.5 not reached within the budget


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("orders", nargs="+", type=Path)
    ap.add_argument("--data", type=Path, default=B.DEFAULT_DATA)
    ap.add_argument("--datasets", default="")
    ap.add_argument("--resamples", type=int, default=2000)
    a = ap.parse_args()
    if a.resamples < 1:
        sys.exit(f"--resamples: must be >= 1 (got {a.resamples})")
    runs = []
    for p in a.orders:
        try:
            runs.append(json.loads(p.read_text()))
        except (OSError, json.JSONDecodeError) as e:
            sys.exit(f"{p}: cannot read the pool orders ({e})")
        if not isinstance(runs[-1], dict):
            sys.exit(f"{p}: not a pool_orders.json (expected an object keyed by dataset)")
    unknown = [n for n in a.datasets.split(",") if n and n not in B.DATASETS]
    if unknown:
        sys.exit(f"--datasets: unknown {', '.join(unknown)}; choose from {', '.join(B.DATASETS)}")
    # a dataset's repetitions are those of every file that holds it (seed blocks may be split by dataset)
    names = a.datasets.split(",") if a.datasets else [n for n in B.DATASETS if any(n in r for r in runs)]
    if not names:
        sys.exit(f"no dataset of {', '.join(B.DATASETS)} in {', '.join(map(str, a.orders))}")
    for name in names:
        held = [(p, r) for p, r in zip(a.orders, runs) if name in r]
        if not held:
            sys.exit(f"{name}: in none of {', '.join(map(str, a.orders))}")
        missing = [str(p) for p, r in held if any(k not in r[name] for k in METHODS)]
        if missing:
            sys.exit(f"{name}: no tsunagu/gp/rf orders in {', '.join(missing)}")
        ds = B.load_dataset(a.data / f"{name}.csv")
        orders = {k: [o for _, r in held for o in r[name][k]] for k in METHODS}
        n_eval = max(len(o) for k in METHODS for o in orders[k])
        C = {k: B.top_curves(orders[k], ds["top"], n_eval) for k in METHODS}
        reps = len(C["tsunagu"])
        if any(len(C[k]) != reps for k in METHODS):
            sys.exit(f"{name}: the methods have different numbers of repetitions")
        point = {k: af_of(C[k], ds["m"]) for k in METHODS}
        rng = np.random.default_rng(12345)
        d = {"gp": [], "rf": []}
        both = 0
        for _ in range(a.resamples):
            idx = rng.integers(0, reps, reps)
            t, g, r = (af_of(C[k][idx], ds["m"]) for k in METHODS)
            d["gp"].append(t - g)
            d["rf"].append(t - r)
            both += t >= g and t >= r
        parts = [f"{name:15s} {reps} reps  AF tsunagu {point['tsunagu']:.2f}  GP {point['gp']:.2f}  "
                 f"RF {point['rf']:.2f}"]
        for k, label in (("gp", "GP"), ("rf", "RF")):
            v = np.asarray(d[k])
            parts.append(f"tsunagu−{label} [{np.percentile(v, 5):+.2f}, {np.percentile(v, 95):+.2f}] "
                         f"P(≥) {np.mean(v >= 0):.2f}")
        parts.append(f"P(≥ both) {both / a.resamples:.2f}")
        print("  ".join(parts), flush=True)


if __name__ == "__main__":
    main()
