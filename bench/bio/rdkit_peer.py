#!/usr/bin/python3
"""RDKit-in-Python peer of tsunagu's bio::describe_many (bench/bio/run_bio_bench.py runs it; needs python3-rdkit).

    /usr/bin/python3 bench/bio/rdkit_peer.py --smiles build/bio-bench/smiles_100000.txt [--procs 2] [--columns full]
    /usr/bin/python3 bench/bio/rdkit_peer.py --smiles FILE --columns full --check-rows 1770 --check-out peer.f64

Per molecule it does what tsunagu does (docs/bio.md), with the RDKit Python functions the documentation names:
Chem.MolFromSmiles (sanitised), Chem.MolToSmiles (the canonical SMILES tsunagu returns with every row), then the 17
physico-chemical columns in tsunagu's order -- CalcNumHBD (= Lipinski.NumHDonors), CalcNumHBA (= NumHAcceptors),
CalcTPSA, CalcCrippenDescriptors (MolLogP and MolMR from one call, as the C++ code), CalcNumRotatableBonds (default =
strict), Descriptors.MolWt, CalcNumHeavyAtoms, CalcNumRings, CalcNumAromaticRings, CalcFractionCSP3, eg_units (unique
matches of [OX2][CH2X4][CH2X4][OX2]), and tsunagu's own cationic / anionic / zwitterionic / net_charge / chain_length
written in Python after the documented definitions (chain_length by the same tree DP as the C++ code). --columns full
adds the SMARTS counts of C(=O)N and [OX2H] (len(GetSubstructMatches(.., maxMatches=10**6))) and the Morgan bits
(GetMorganFingerprintAsBitVect(mol, 2, nBits=2048) -> DataStructs.ConvertToNumpyArray). The result is one float64
matrix (n, columns) like tsunagu's, plus the list of canonical SMILES.

--procs 1 runs in this process; --procs N uses multiprocessing.Pool(N) (fork) over chunks of --chunk SMILES, the
chunks' matrices sent back to the parent and stacked (pool start-up and the transfer are inside the timing). The time
excludes the interpreter start, the imports and reading the SMILES file. Prints one JSON line: seconds,
molecules_per_s, n, width, cores_busy (CPU time of this process and its reaped pool workers / wall time), rdkit and
python versions.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import time

import numpy as np
from rdkit import Chem, DataStructs, RDLogger, rdBase
from rdkit.Chem import AllChem, Descriptors
from rdkit.Chem import rdMolDescriptors as rd

RDLogger.DisableLog("rdApp.*")

EG = Chem.MolFromSmarts("[OX2][CH2X4][CH2X4][OX2]")
SMARTS = [("amide", "C(=O)N"), ("hydroxyl", "[OX2H]")]  # the same as kSmarts in bio_benchmark.cpp
PATTERNS = [Chem.MolFromSmarts(s) for _, s in SMARTS]
MORGAN_RADIUS, MORGAN_BITS = 2, 2048
N_PHYSCHEM = 17
SP3 = Chem.HybridizationType.SP3

FULL = False  # set in main() before the pool forks


def charges(mol):
    """(cationic, anionic, net): formal charges, monatomic counter-ions left out, bonded opposite charges cancelled."""
    size = {}
    for f in Chem.GetMolFrags(mol):
        for a in f:
            size[a] = len(f)
    res = {}
    net = 0
    for a in mol.GetAtoms():
        q = a.GetFormalCharge()
        i = a.GetIdx()
        if q != 0 and size[i] == 1:
            continue
        res[i] = q
        net += q
    pairs = sorted(
        (min(b.GetBeginAtomIdx(), b.GetEndAtomIdx()), max(b.GetBeginAtomIdx(), b.GetEndAtomIdx()))
        for b in mol.GetBonds()
        if res.get(b.GetBeginAtomIdx(), 0) * res.get(b.GetEndAtomIdx(), 0) < 0)
    for i, j in pairs:
        if res[i] * res[j] >= 0:
            continue
        u = min(abs(res[i]), abs(res[j]))
        res[i] -= u if res[i] > 0 else -u
        res[j] -= u if res[j] > 0 else -u
    cat = sum(1 for q in res.values() if q > 0)
    an = sum(1 for q in res.values() if q < 0)
    return cat, an, net


def chain_length(mol):
    """Longest path of acyclic sp3 carbons whose interior carbons have only C/H neighbours (tree DP, as the C++)."""
    kind = {}
    for a in mol.GetAtoms():
        if a.GetAtomicNum() == 6 and not a.GetIsAromatic() and a.GetHybridization() == SP3 and not a.IsInRing():
            kind[a.GetIdx()] = 1 if all(n.GetAtomicNum() in (1, 6) for n in a.GetNeighbors()) else 2
    if not kind:
        return 0
    nbrs = {i: [n.GetIdx() for n in mol.GetAtomWithIdx(i).GetNeighbors() if n.GetIdx() in kind] for i in kind}
    best = 1
    for i, k in kind.items():
        if k == 2 and any(kind[j] == 2 for j in nbrs[i]):
            best = max(best, 2)
    down, visited = {}, set()
    for root, k in kind.items():
        if k != 1 or root in visited:
            continue
        visited.add(root)
        stack, order = [(root, -1)], []
        while stack:
            v, parent = stack.pop()
            order.append((v, parent))
            for w in nbrs[v]:
                if kind[w] == 1 and w not in visited:
                    visited.add(w)
                    stack.append((w, v))
        for v, parent in reversed(order):
            t1 = t2 = 0
            for w in nbrs[v]:
                if w == parent:
                    continue
                b = down[w] if kind[w] == 1 else 1
                if b > t1:
                    t1, t2 = b, t1
                elif b > t2:
                    t2 = b
            down[v] = 1 + t1
            best = max(best, 1 + t1 + t2)
    return best


def width():
    return N_PHYSCHEM + (len(SMARTS) + MORGAN_BITS if FULL else 0)


def describe_chunk(smiles):
    """(matrix (len(smiles), width) float64, canonical SMILES); a SMILES RDKit refuses raises ValueError."""
    out = np.empty((len(smiles), width()))
    canon = []
    fp_arr = np.zeros((0,), dtype=np.float64)
    for r, s in enumerate(smiles):
        mol = Chem.MolFromSmiles(s)
        if mol is None:
            raise ValueError(f"unparseable SMILES {s!r}")
        canon.append(Chem.MolToSmiles(mol))
        logp, mr = rd.CalcCrippenDescriptors(mol)
        cat, an, net = charges(mol)
        row = out[r]
        row[:N_PHYSCHEM] = (
            rd.CalcNumHBD(mol), rd.CalcNumHBA(mol), rd.CalcTPSA(mol), logp, mr, rd.CalcNumRotatableBonds(mol),
            Descriptors.MolWt(mol), rd.CalcNumHeavyAtoms(mol), rd.CalcNumRings(mol), rd.CalcNumAromaticRings(mol),
            rd.CalcFractionCSP3(mol), len(mol.GetSubstructMatches(EG, maxMatches=10**6)), cat, an,
            1 if (cat > 0 and an > 0) else 0, net, chain_length(mol))
        if FULL:
            k = N_PHYSCHEM
            for p in PATTERNS:
                row[k] = len(mol.GetSubstructMatches(p, maxMatches=10**6))
                k += 1
            fp = AllChem.GetMorganFingerprintAsBitVect(mol, MORGAN_RADIUS, nBits=MORGAN_BITS)
            DataStructs.ConvertToNumpyArray(fp, fp_arr)
            row[k:] = fp_arr
    return out, canon


def describe_all(smiles, procs, chunk):
    if procs <= 1:
        return describe_chunk(smiles)
    chunks = [smiles[i:i + chunk] for i in range(0, len(smiles), chunk)]
    X = np.empty((len(smiles), width()))
    canon = []
    pool = multiprocessing.get_context("fork").Pool(procs)
    try:
        row = 0
        for part, c in pool.imap(describe_chunk, chunks):  # in order
            X[row:row + len(c)] = part
            canon.extend(c)
            row += len(c)
        pool.close()
    finally:
        pool.terminate()
        pool.join()  # reaped workers: their CPU time is in os.times().children_*
    return X, canon


def main():
    global FULL
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--smiles", required=True, help="one SMILES per line")
    ap.add_argument("--procs", type=int, default=1, help="1 = this process; N = multiprocessing.Pool(N)")
    ap.add_argument("--chunk", type=int, default=500, help="SMILES per pool task (default %(default)s)")
    ap.add_argument("--columns", choices=("physchem", "full"), default="physchem",
                    help="physchem (17 columns) or full (+ 2 SMARTS counts + Morgan 2048 bits)")
    ap.add_argument("--check-rows", type=int, default=0, help="describe only the first rows (no timing use)")
    ap.add_argument("--check-out", help="write the matrix (row-major float64) and PATH.canonical")
    args = ap.parse_args()
    FULL = args.columns == "full"
    with open(args.smiles) as f:
        smiles = [line.strip() for line in f if line.strip()]
    if args.check_rows:
        smiles = smiles[:args.check_rows]
    c0, t0 = os.times(), time.perf_counter()
    X, canon = describe_all(smiles, args.procs, args.chunk)
    seconds = time.perf_counter() - t0
    c1 = os.times()
    cpu = sum(getattr(c1, f) - getattr(c0, f) for f in ("user", "system", "children_user", "children_system"))
    if args.check_out:
        np.ascontiguousarray(X, dtype="<f8").tofile(args.check_out)
        with open(args.check_out + ".canonical", "w") as f:
            f.write("\n".join(canon) + "\n")
    print(json.dumps({"seconds": seconds, "molecules_per_s": len(smiles) / seconds, "n": len(smiles),
                      "width": int(X.shape[1]), "procs": args.procs, "columns": args.columns,
                      "finite": bool(np.isfinite(X).all()), "checksum": float(X[:, :N_PHYSCHEM].sum()),
                      "rdkit": rdBase.rdkitVersion, "python": sys.version.split()[0],
                      "numpy": np.__version__, "cpu_seconds": cpu, "cores_busy": cpu / seconds}))


if __name__ == "__main__":
    main()
