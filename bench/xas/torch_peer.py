#!/usr/bin/python3
"""PyTorch twin of tsunagu's benchmark network, for bench/xas/run_xas_bench.py (run with Debian's /usr/bin/python3,
which has python3-torch).

    OMP_NUM_THREADS=T /usr/bin/python3 bench/xas/torch_peer.py --data DIR --threads T [--out result.json]

DIR/manifest.json (written by the driver) names raw little-endian float64 row-major X (n x p) and Y (n x q) and the
settings; tsunagu_bench_xas trains on the very same bytes. What is done here mirrors nn::Mlp::fit with the benchmark
options (src/nn/mlp.cpp, src/nn/torch_backend.cpp):
  * features and targets standardised per column in float64 (population SD; a column constant up to 1e-12 relative
    gets scale 1), then cast to float32 -- as tsunagu, outside the timed loop;
  * nn.Sequential(Linear(p, h1), SiLU, Linear(h1, h2), SiLU, Linear(h2, q)), torch's default Linear initialisation
    (U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases, tsunagu draws the same distribution);
  * torch.optim.Adam(lr, betas 0.9/0.999, eps 1e-8, no weight decay), MSE loss, constant learning rate, no dropout,
    no validation split, no early stopping;
  * every epoch: a seeded random permutation, minibatches of `batch_size` rows gathered with index_select, forward,
    loss, zero_grad, backward, step, and the epoch's mean loss read back once (loss.item-like sync as tsunagu's).
Timed: the epoch loop only (perf_counter), like tsunagu's TrainHistory::samples_per_second; the interpreter start,
the import of torch, reading and scaling the data are excluded. cores_busy = process CPU time / wall time of the loop.
Prints one JSON object (and writes it to --out).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True, help="directory with manifest.json, X and Y")
    ap.add_argument("--threads", type=int, required=True, help="torch.set_num_threads")
    ap.add_argument("--epochs", type=int, help="override the manifest's epochs")
    ap.add_argument("--out", type=Path, help="also write the JSON result here")
    args = ap.parse_args()

    t_import = time.perf_counter()
    import numpy as np
    import torch
    import torch.nn.functional as F
    t_import = time.perf_counter() - t_import

    torch.set_num_threads(args.threads)
    m = json.loads((args.data / "manifest.json").read_text())
    n, p, q = int(m["n"]), int(m["p"]), int(m["q"])
    epochs = int(args.epochs or m["epochs"])
    batch = min(int(m["batch_size"]), n)
    hidden = [int(h) for h in m["hidden"]]
    lr = float(m["learning_rate"])
    seed = int(m.get("seed", 0))

    X = np.fromfile(args.data / m["X"], dtype="<f8").reshape(n, p)
    Y = np.fromfile(args.data / m["Y"], dtype="<f8").reshape(n, q)

    def standardise(A):
        mean = A.mean(axis=0)
        sd = np.sqrt(((A - mean) ** 2).mean(axis=0))
        scale = np.where(sd > 1e-12 * np.maximum(1.0, np.abs(mean)), sd, 1.0)
        return (A - mean) / scale

    Xt = torch.from_numpy(np.ascontiguousarray(standardise(X), dtype=np.float32))
    Yt = torch.from_numpy(np.ascontiguousarray(standardise(Y), dtype=np.float32))

    torch.manual_seed(seed)
    layers = []
    fan_in = p
    for h in hidden:
        layers += [torch.nn.Linear(fan_in, h), torch.nn.SiLU()]
        fan_in = h
    layers.append(torch.nn.Linear(fan_in, q))
    model = torch.nn.Sequential(*layers)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
    gen = torch.Generator().manual_seed(seed + 1)

    epoch_seconds, train_loss = [], []
    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    for _ in range(epochs):
        te = time.perf_counter()
        perm = torch.randperm(n, generator=gen)
        loss_sum = torch.zeros((), dtype=torch.float64)
        for s in range(0, n, batch):
            idx = perm[s:s + batch]
            xb, yb = Xt.index_select(0, idx), Yt.index_select(0, idx)
            loss = F.mse_loss(model(xb), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss_sum += loss.detach().double() * idx.numel()
        train_loss.append(loss_sum.item() / n)
        epoch_seconds.append(time.perf_counter() - te)
    loop = time.perf_counter() - t0
    ru1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)

    cfg = torch.__config__.show()
    blas = next((tok.split("=", 1)[1].rstrip(",") for tok in cfg.split() if tok.startswith("BLAS_INFO=")), "?")
    out = {
        "tool": "pytorch",
        "torch": torch.__version__,
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "blas_info": blas,
        "mkldnn": bool(torch.backends.mkldnn.is_available()),
        "threads": torch.get_num_threads(),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "n": n, "p": p, "q": q, "epochs": epochs, "batch_size": batch, "hidden": hidden,
        "loop_seconds": loop,
        "cores_busy": cpu / loop,
        "samples_per_s": n * epochs / loop,
        "epoch_seconds": epoch_seconds,
        "best_epoch_samples_per_s": n / min(epoch_seconds),
        "first_loss": train_loss[0],
        "final_loss": train_loss[-1],
        "import_seconds": t_import,
        "cuda_available": bool(torch.cuda.is_available()),
    }
    text = json.dumps(out)
    if args.out:
        args.out.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
