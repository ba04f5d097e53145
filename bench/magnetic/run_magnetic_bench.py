#!/usr/bin/env python3
"""Benchmark tsunagu's cluster-multipole magnetic basis (CLI `tsunagu magnetic generate`, Python
`tsunagu.magnetic.generate`) on the issue targets, beside MultiPie where it runs.

    cmake --preset bench && cmake --build --preset bench --target tsunagu_cli   (or any Release build)
    .venv/bin/python bench/magnetic/run_magnetic_bench.py [--binary build/lead/cli/tsunagu]
        [--python-path build/dev/python] [--peer-python /tmp/venv312/bin/python] [--write]

Builds nothing. Issue targets: "Basis for a cell with 64 magnetic atoms in < 1 s; a test set spanning all 230 space
groups in < 1 min on 2 cores."

1. 64 MAGNETIC ATOMS. (a) Gadolinium iron garnet Gd3Fe5O12 in its conventional cubic cell (bench/magnetic/data/
   Gd3Fe5O12.cif, Ia-3d: 160 atoms, 64 magnetic: Gd 24c + Fe 16a + Fe 24d; `--magnetic-atoms Gd,Fe`); (b) the same
   crystal in its spglib primitive cell (80 atoms, 32 magnetic); (c) the worst case: a P1 cell with 64 Fe at seeded
   random positions (no symmetry: 192 one-dimensional vectors). Each timed end to end through the CLI (process
   start, reading, spglib, basis, magnetic space groups, JSON; best of --reps, with and without --no-directions)
   and in-process (`time.perf_counter` around `tsunagu.magnetic.generate` on an already read Crystal, best of
   --reps).
2. 230 SPACE GROUPS. For every IT number 1..230 a CIF with the asymmetric unit Fe (0.1871, 0.0454, 0.3303) and O
   (0.4657, 0.1036, 0.315) (general positions, the O keeps spglib from finding a higher group) in the cell of
   tests/magnetic/basis_test.cpp `crystal_for`, expanded by tsunagu's CIF reader (min_distance 0.05). Full product
   (magnetic space groups and directions on). Timed: the CLI once per file, sequentially (total wall time), and the
   in-process loop over (i) the conventional cells as read and (ii) their spglib primitive cells (the cells of the
   C++ test). Every result is checked complete (dimension == number of vectors, `complete` true); failures are
   listed.
3. PEER. MultiPie (PyPI `multipie`, Kusunose/Oiwa; symmetry-adapted multipole basis): `Group(n).
   multipole_cluster_samb("M", 1, site)` (magnetic dipoles on the Wyckoff cluster of `site`, the same
   cluster-multipole construction) + `combined_object` for every component, run with --peer-python (MultiPie 2.3
   needs Python >= 3.12 and sympy; its package metadata says >= 3.11). Timed in-process, best of --reps, each rep
   loading the Group anew (module import excluded). Skipped with a note when --peer-python is not given or fails.

Prints a Markdown report; with --write replaces the section between <!-- magnetic:begin --> and <!-- magnetic:end -->
in bench/RESULTS.md.
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import benchinfo  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
RESULTS = REPO / "bench" / "RESULTS.md"
BEGIN, END = "<!-- magnetic:begin -->", "<!-- magnetic:end -->"
GARNET = HERE / "data" / "Gd3Fe5O12.cif"
MN3GAN = REPO / "examples" / "magnetic" / "Mn3GaN.cif"
FE_GENERAL, O_GENERAL = (0.1871, 0.0454, 0.3303), (0.4657, 0.1036, 0.315)
T_START = time.time()


def log(msg):
    print(f"[{time.time() - T_START:7.1f} s] {msg}", file=sys.stderr, flush=True)


def default_binary():
    """The first of build/{bench,lead,dev}/cli/tsunagu that has the `magnetic` subcommand."""
    for b in ("bench", "lead", "dev"):
        p = REPO / "build" / b / "cli" / "tsunagu"
        if p.exists() and "--magnetic-atoms" in subprocess.run([str(p), "magnetic", "generate", "--help"],
                                                               capture_output=True, text=True).stdout:
            return p
    return REPO / "build" / "bench" / "cli" / "tsunagu"


def fmt_t(s):
    if s is None:
        return "–"
    if s >= 1:
        return f"{s:.2f} s"
    return f"{s * 1e3:.3g} ms"


def short_error(e):
    s = str(e).strip().splitlines()[-1] if str(e).strip() else repr(e)
    return s.split(": ", 1)[1] if s.startswith(("/", "error: /")) and ": " in s else s


# ----------------------------------------------------------------------------------------------------------------
# Structures


def cell_for(n):
    """Cell parameters per crystal system, as tests/magnetic/basis_test.cpp crystal_for."""
    a, b, c, al, be, ga = 7, 8, 9, 90, 90, 90
    if n <= 2:
        al, be, ga = 81, 86, 97
    elif n <= 15:
        be = 103
    elif n <= 74:
        pass
    elif n <= 142:
        b = a
    elif n <= 194:
        b, ga = a, 120
    else:
        a = b = c = 9
    return a, b, c, al, be, ga


def sg_cif(n):
    a, b, c, al, be, ga = cell_for(n)
    rows = "".join(f"{lab} {x:.6f} {y:.6f} {z:.6f}\n" for lab, (x, y, z) in (("Fe1", FE_GENERAL), ("O1", O_GENERAL)))
    return (f"data_sg{n}\n_symmetry_Int_Tables_number {n}\n_cell_length_a {a}\n_cell_length_b {b}\n"
            f"_cell_length_c {c}\n_cell_angle_alpha {al}\n_cell_angle_beta {be}\n_cell_angle_gamma {ga}\nloop_\n"
            f"_atom_site_label\n_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\n{rows}")


def random_p1(ts, seed, n=64, a=16.0, dmin=2.0):
    """n Fe at seeded random positions in a triclinic-ish cell, at least dmin apart (no symmetry beyond P1)."""
    rng = np.random.default_rng(seed)
    lat = np.array([[a, 0, 0], [0.3, 1.05 * a, 0], [0.2, -0.4, 0.95 * a]])
    pts = []
    while len(pts) < n:
        p = rng.random(3)
        if all(np.linalg.norm((d := p - q) - np.round(d)) * a >= dmin for q in pts):
            pts.append(p)
    return ts.Crystal(lattice=lat, frac=np.array(pts), numbers=[26] * n, labels=[f"Fe{i + 1}" for i in range(n)])


# ----------------------------------------------------------------------------------------------------------------
# tsunagu runs


def run_cli(binary, path, atoms, out, extra=(), min_distance=None):
    cmd = [str(binary), "magnetic", "generate", str(path), "--magnetic-atoms", atoms, "-o", str(out), "--quiet",
           *extra]
    if min_distance is not None:
        cmd += ["--min-distance", str(min_distance)]
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        return None, (r.stderr.strip() or r.stdout.strip()).splitlines()[-1], cmd
    return wall, json.loads(Path(out).read_text()), cmd


def best_cli(binary, path, atoms, out, reps, extra=()):
    times, res, cmd = [], None, None
    for _ in range(reps):
        t, res, cmd = run_cli(binary, path, atoms, out, extra)
        if t is None:
            return None, res, cmd
        times.append(t)
    return min(times), res, cmd


def best_inproc(tm, crystal, atoms, reps, directions=True, min_distance=0.5):
    times, res = [], None
    for _ in range(reps):
        t0 = time.perf_counter()
        try:
            res = tm.generate(crystal, atoms, directions=directions, min_distance=min_distance)
        except Exception as e:  # noqa: BLE001 -- reported
            return None, short_error(e)
        times.append(time.perf_counter() - t0)
    return min(times), res


def complete(res):
    return isinstance(res, dict) and res.get("complete") and res.get("dimension") == len(res.get("basis", []))


# ----------------------------------------------------------------------------------------------------------------
# Peer: MultiPie in its own interpreter

PEER_SCRIPT = r"""
import json, sys, time
import multipie
from multipie import Group
jobs, reps = json.loads(sys.argv[1]), int(sys.argv[2])
out = {"version": getattr(multipie, "__version__", "?")}
for name, (sg, sites) in jobs.items():
    best, first, info = None, None, None
    for _ in range(reps):
        t0 = time.perf_counter()
        g = Group(int(sg))
        info = []
        for s in sites:
            samb, wp, pts = g.multipole_cluster_samb("M", 1, s)
            objs = [g.combined_object(wp, "M", c) for v in samb.values() for c in v[0]]
            irreps = {}
            for k, v in samb.items():
                irreps[k[2]] = irreps.get(k[2], 0) + 1
            info.append({"site": s, "wyckoff": wp, "cluster": len(pts), "functions": len(samb),
                         "components": len(objs), "irreps": irreps})
        dt = time.perf_counter() - t0
        best = dt if best is None else min(best, dt)
        first = dt if first is None else first
    out[name] = {"seconds": best, "first": first, "orbits": info}
print(json.dumps(out))
"""

PEER_JOBS = {
    "Mn3GaN": (221, ["[0,1/2,1/2]"]),
    "Gd3Fe5O12": (230, ["[1/8,0,1/4]", "[0,0,0]", "[3/8,0,1/4]"]),
}


def run_peer(python, reps):
    if not python:
        return None, "not run (no --peer-python given)"
    cmd = [python, "-c", PEER_SCRIPT, json.dumps(PEER_JOBS), str(reps)]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    except Exception as e:  # noqa: BLE001
        return None, f"{python}: {e}"
    if r.returncode != 0:
        return None, f"{python}: exited {r.returncode}: {r.stderr.strip().splitlines()[-1] if r.stderr.strip() else ''}"
    return json.loads(r.stdout.strip().splitlines()[-1]), None


# ----------------------------------------------------------------------------------------------------------------


def ranges(nums):
    out, nums = [], sorted(nums)
    i = 0
    while i < len(nums):
        j = i
        while j + 1 < len(nums) and nums[j + 1] == nums[j] + 1:
            j += 1
        out.append(str(nums[i]) if i == j else f"{nums[i]}–{nums[j]}")
        i = j + 1
    return ", ".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--binary", type=Path, default=default_binary())
    ap.add_argument("--python-path", type=Path, default=REPO / "build" / "dev" / "python",
                    help="folder holding the tsunagu Python package (built)")
    ap.add_argument("--peer-python", default=None, help="Python >= 3.12 with multipie and sympy installed")
    ap.add_argument("--workdir", type=Path, default=REPO / "build" / "magnetic-bench")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--seed", type=int, default=64)
    ap.add_argument("--write", action="store_true", help="update the magnetic section of bench/RESULTS.md")
    args = ap.parse_args()

    sys.path.insert(0, str(args.python_path.resolve()))
    import tsunagu.magnetic as tm
    import tsunagu.structure as ts

    binary = args.binary.resolve()
    if not binary.exists():
        sys.exit(f"{binary}: not found (build the CLI first)")
    work = args.workdir.resolve()
    (work / "sg").mkdir(parents=True, exist_ok=True)
    out_json = work / "basis.json"
    load_before = os.getloadavg()
    info = benchinfo.machine()
    info["build"] = benchinfo.build(binary)
    info["commit"] = benchinfo.commit(("src", "include", "cli", "python"))
    info["binary_mtime"] = benchinfo.binary_mtime(binary)
    ext = sorted(Path(tm.__file__).parent.glob("_tsunagu*.so"))
    info["module_mtime"] = benchinfo.binary_mtime(ext[0]) if ext else "?"
    stale = bool(ext) and ext[0].stat().st_mtime < binary.stat().st_mtime - 60
    wall0 = time.time()
    notes = []

    # ---- Part 1: 64 magnetic atoms
    log("part 1: garnet and P1")
    garnet = ts.read(GARNET)
    garnet_prim = ts.symmetry(garnet)["primitive"]
    prim_path = work / "Gd3Fe5O12_primitive.vasp"
    ts.write_poscar(prim_path, garnet_prim, comment="Gd3Fe5O12 primitive cell (spglib) of " + GARNET.name)
    p1 = random_p1(ts, args.seed)
    p1_path = work / f"P1_64Fe_seed{args.seed}.vasp"
    ts.write_poscar(p1_path, p1, comment=f"64 Fe at random positions, seed {args.seed}")
    cases = [("Gd3Fe5O12, conventional cell (Ia-3d)", GARNET, garnet, "Gd,Fe"),
             ("Gd3Fe5O12, primitive cell", prim_path, garnet_prim, "Gd,Fe"),
             (f"P1, 64 Fe at random positions (seed {args.seed})", p1_path, p1, "Fe")]
    part1 = []
    for name, path, crystal, atoms in cases:
        nmag = int(sum(1 for s in crystal.symbols if s in atoms.split(",")))
        row = {"name": name, "path": path, "atoms": len(crystal), "magnetic": nmag, "magnetic_atoms": atoms}
        row["cli"], res, row["cmd"] = best_cli(binary, path, atoms, out_json, args.reps)
        row["cli_nodir"], _, _ = best_cli(binary, path, atoms, out_json, args.reps, ["--no-directions"])
        row["py"], pres = best_inproc(tm, crystal, atoms.split(","), args.reps)
        row["py_nodir"], _ = best_inproc(tm, crystal, atoms.split(","), args.reps, directions=False)
        good = res if isinstance(res, dict) else pres if isinstance(pres, dict) else None
        if good is not None:
            row.update(dimension=good["dimension"], vectors=len(good["basis"]), complete=complete(good),
                       directions=len(good.get("directions", [])), decomposition=good["decomposition"],
                       group=good["space_group"]["symbol"])
        else:
            row["error"] = res if isinstance(res, str) else pres
        if row["cli"] is not None and row["py"] is None:
            row["py_error"] = pres
        part1.append(row)
        log(f"  {name}: cli {fmt_t(row['cli'])}, in-process {fmt_t(row['py'])} {row.get('error', '')}")

    # ---- Part 2: 230 space groups
    log("part 2: 230 space groups")
    files = []
    for n in range(1, 231):
        p = work / "sg" / f"sg{n:03d}.cif"
        p.write_text(sg_cif(n))
        files.append(p)
    crystals = [ts.read(p, min_distance=0.05) for p in files]
    prims = [ts.symmetry(c)["primitive"] for c in crystals]
    sg = {"conv": {}, "prim": {}, "cli": {}}
    for key, cells in (("conv", crystals), ("prim", prims)):
        t0 = time.perf_counter()
        for n, c in enumerate(cells, start=1):
            t = time.perf_counter()
            try:
                r = tm.generate(c, ["Fe"], min_distance=0.05)
                sg[key][n] = {"s": time.perf_counter() - t, "atoms": len(c), "dim": r["dimension"],
                              "vectors": len(r["basis"]), "complete": complete(r),
                              "directions": len(r.get("directions", [])), "group": r["space_group"]["symbol"]}
            except Exception as e:  # noqa: BLE001
                sg[key][n] = {"s": time.perf_counter() - t, "atoms": len(c), "error": short_error(e)}
        sg[key + "_total"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    for n, p in enumerate(files, start=1):
        t, r, _ = run_cli(binary, p, "Fe", work / "sg" / f"sg{n:03d}.json", min_distance=0.05)
        sg["cli"][n] = {"s": t, "ok": t is not None and complete(r), "error": r if t is None else None}
    sg["cli_total"] = time.perf_counter() - t0
    log(f"  conventional {sg['conv_total']:.2f} s, primitive {sg['prim_total']:.2f} s, CLI {sg['cli_total']:.2f} s")

    # ---- Part 3: peer
    log("part 3: MultiPie")
    peer, peer_err = run_peer(args.peer_python, args.reps)
    mn3gan = ts.read(MN3GAN)
    mn_py, mn_res = best_inproc(tm, mn3gan, ["Mn"], args.reps, directions=False)
    mn_cli, _, _ = best_cli(binary, MN3GAN, "Mn", out_json, args.reps, ["--no-directions"])
    load_after = os.getloadavg()
    wall = time.time() - wall0

    # ---- Report
    cmdline = "python3 " + " ".join(shlex.quote(a) for a in [os.path.relpath(__file__, REPO)] + sys.argv[1:])
    L = [BEGIN, "## magnetic", ""]
    L.append(f"Generated {info['date']} by `{cmdline}` (run from the repository root; {wall:.0f} s wall).  ")
    L.append("Reproduce: build the CLI and the Python module (any Release build; this run: `--binary "
             f"{os.path.relpath(binary, REPO)} --python-path {os.path.relpath(args.python_path.resolve(), REPO)}`), "
             "then `.venv/bin/python bench/magnetic/run_magnetic_bench.py --peer-python PY312 --write`, where PY312 "
             "is a Python ≥ 3.12 with `pip install multipie sympy` (throwaway venv).")
    L.append("")
    b = info["build"]
    L.append(f"- Machine: {info['nproc']} cores, {info['cpu']}, Linux {info['kernel']}; load average "
             f"{load_before[0]:.2f} before / {load_after[0]:.2f} after the run (other jobs share the machine, so "
             "treat absolute times as indicative).")
    L.append(f"- tsunagu: commit {info['commit']} (CLI built {info['binary_mtime']}), {b.get('compiler', '?')}, "
             f"CMAKE_BUILD_TYPE={b.get('CMAKE_BUILD_TYPE', '?')} (flags `{b.get('CMAKE_CXX_FLAGS_RELEASE', '')}`, "
             f"TSUNAGU_NATIVE={b.get('TSUNAGU_NATIVE', '?')}); Python module `{os.path.relpath(Path(tm.__file__).parent, REPO)}` "
             f"built {info['module_mtime']}"
             + (" — **older than the CLI**: in-process numbers come from an older library and may differ" if stale
                else "") + "; every run is one process, sequential.")
    if peer:
        L.append(f"- Peer: MultiPie {peer['version']} (PyPI `multipie`, with sympy; own Python ≥ 3.12 venv).")
    L.append(f"- Times: best of {args.reps}. CLI = process wall time end to end (start, read, spglib, basis, magnetic "
             "space group of every vector, JSON written); in-process = `time.perf_counter` around "
             "`tsunagu.magnetic.generate` on a Crystal already read.")
    L.append("")

    g, gp, pr = part1
    L.append("### Summary (issue targets)")
    L.append("")
    L.append("| target | tsunagu | required | status |")
    L.append("|---|---|---|---|")
    if g.get("error"):
        L.append(f"| basis for 64 magnetic atoms: Gd3Fe5O12 conventional cell (160 atoms) | **fails**: `{g['error']}` "
                 "| < 1 s | **missed** (no basis) |")
    else:
        ok = (g["cli"] or 1e9) < 1 and g["complete"]
        L.append(f"| basis for 64 magnetic atoms: Gd3Fe5O12 conventional cell (160 atoms) | **{fmt_t(g['cli'])}** CLI "
                 f"end to end ({fmt_t(g['py'])} in-process) | < 1 s | {'met' if ok else '**missed**'} |")
    if pr.get("error"):
        L.append(f"| basis for 64 magnetic atoms: P1, no symmetry | fails: `{pr['error']}` | < 1 s | **missed** |")
    else:
        ok = (pr["cli"] or 1e9) < 1 and pr["complete"]
        L.append(f"| basis for 64 magnetic atoms: P1, no symmetry ({pr['dimension']} vectors) | **{fmt_t(pr['cli'])}** "
                 f"CLI ({fmt_t(pr['py'])} in-process) | < 1 s | {'met' if ok else '**missed**'} |")
    conv_fail = sorted(n for n, r in sg["conv"].items() if "error" in r or not r["complete"])
    prim_fail = sorted(n for n, r in sg["prim"].items() if "error" in r or not r["complete"])
    cli_fail = sorted(n for n, r in sg["cli"].items() if not r["ok"])
    st = "met" if sg["cli_total"] < 60 and not cli_fail else ("**missed**" if cli_fail else "met")
    L.append(f"| 230 space groups (conventional cells as a CIF gives them), full product | {fmt_t(sg['cli_total'])} CLI "
             f"({fmt_t(sg['conv_total'])} in-process); **{len(cli_fail)} of 230 fail** | < 1 min on 2 cores, all "
             f"complete | {st}{' (time met, but failures)' if cli_fail and sg['cli_total'] < 60 else ''}"
             + (f"; in-process {len(conv_fail)} fail" if conv_fail else "") + " |")
    st = "met" if sg["prim_total"] < 60 and not prim_fail else "**missed**"
    L.append(f"| 230 space groups, spglib primitive cells, full product | {fmt_t(sg['prim_total'])} in-process; "
             f"{230 - len(prim_fail)} of 230 complete | < 1 min on 2 cores | {st} |")
    if peer and mn_py:
        ratio = peer["Mn3GaN"]["seconds"] / mn_py
        L.append(f"| peer: Mn3GaN basis vs MultiPie (in-process) | {fmt_t(mn_py)} | time only | MultiPie "
                 f"{fmt_t(peer['Mn3GaN']['seconds'])}, **{ratio:.0f}×** slower |")
    L.append("")

    L.append("### 1. 64 magnetic atoms")
    L.append("")
    L.append("Gd3Fe5O12 (bench/magnetic/data/Gd3Fe5O12.cif): a = 12.471 Å, Gd 24c, Fe 16a + 24d, O 96h at approximately "
             "(−0.027, 0.057, 0.150) — iron-garnet values, approximate (see the provenance comment in the file; O is "
             "non-magnetic and does not change the symmetry). Primitive cell: spglib's, written as POSCAR. P1: 64 Fe, "
             f"seeded (`--seed {args.seed}`) random positions ≥ 2 Å apart in a 16 Å triclinic cell.")
    L.append("")
    L.append("| structure | atoms (magnetic) | `--magnetic-atoms` | CLI | CLI `--no-directions` | in-process | "
             "in-process, no directions | basis |")
    L.append("|---|---|---|---|---|---|---|---|")
    for r in part1:
        if r.get("error"):
            basis = f"**error**: `{r['error']}`"
        else:
            basis = (f"{r['group']}: {r['vectors']} vectors = dimension {r['dimension']} "
                     f"({'complete' if r['complete'] else '**incomplete**'}), {r['directions']} directions")
            if r.get("py_error"):
                basis += f"; in-process **error**: `{r['py_error']}`"
        L.append(f"| {r['name']} | {r['atoms']} ({r['magnetic']}) | {r['magnetic_atoms']} | {fmt_t(r['cli'])} | "
                 f"{fmt_t(r['cli_nodir'])} | {fmt_t(r['py'])} | {fmt_t(r['py_nodir'])} | {basis} |")
    L.append("")
    if g.get("error"):
        L.append("The garnet fails in both cells, for every magnetic orbit alone as well (Gd 24c, Fe 16a, Fe 24d): "
                 "the virtual cluster is built by the point-group rotations about one of a few trial centres (standard "
                 "origin, half-lattice points, orbit centroid), and for these special positions of a non-symmorphic "
                 "group no trial centre gives each atom its own cluster points. MultiPie builds the same basis for "
                 "all three orbits (part 3), so it exists; the 64-atom target is met only on the P1 cell.")
        L.append("")

    L.append("### 2. All 230 space groups (Fe + O at general positions)")
    L.append("")
    L.append(f"Conventional cells as tsunagu's CIF reader expands them; total over 230 groups, one process per group "
             f"for the CLI, sequential. Magnetic atoms per cell: 1 (P1) to 192 (F groups).")
    L.append("")
    L.append("| cells | tool | total | complete | failed |")
    L.append("|---|---|---|---|---|")
    L.append(f"| conventional | CLI | {fmt_t(sg['cli_total'])} | {230 - len(cli_fail)} | {len(cli_fail)}"
             f"{': ' + ranges(cli_fail) if cli_fail else ''} |")
    L.append(f"| conventional | in-process | {fmt_t(sg['conv_total'])} | {230 - len(conv_fail)} | {len(conv_fail)} |")
    L.append(f"| spglib primitive | in-process | {fmt_t(sg['prim_total'])} | {230 - len(prim_fail)} | {len(prim_fail)}"
             f"{': ' + ranges(prim_fail) if prim_fail else ''} |")
    L.append("")
    if conv_fail:
        errs = {}
        for n in conv_fail:
            e = sg["conv"][n].get("error", "incomplete basis")
            e = e.split(" the ", 1)[0] if e.startswith("no virtual cluster") else e
            errs.setdefault(e, []).append(n)
        for e, ns in errs.items():
            L.append(f"- Conventional cells failing in-process with `{e} …`: {len(ns)} groups ({ranges(ns)}).")
        lat = {}
        for n in conv_fail:
            lat.setdefault(ts.symmetry(crystals[n - 1])["international"][0], []).append(n)
        L.append(f"- Failing groups by lattice letter: " + ", ".join(f"{k}: {len(v)}" for k, v in sorted(lat.items()))
                 + ("; every failing group is centred" if "P" not in lat else "")
                 + ("; all 230 primitive cells are complete." if not prim_fail else "."))
    okc = sorted(((r["s"], n) for n, r in sg["cli"].items() if r["s"] is not None), reverse=True)[:5]
    L.append("- Slowest conventional cells (CLI, end to end): " + ", ".join(f"{n} {fmt_t(s)}" for s, n in okc) + ".")
    for key, label in (("prim", "primitive"), ("conv", "conventional")):
        ok = sorted(((r["s"], n) for n, r in sg[key].items() if "error" not in r), reverse=True)[:5]
        L.append(f"- Slowest {label} cells (in-process): " + ", ".join(
            f"{n} {sg[key][n]['group']} ({sg[key][n]['atoms']} atoms, {sg[key][n]['vectors']} vectors, "
            f"{sg[key][n]['directions']} directions) {fmt_t(s)}" for s, n in ok) + ".")
    L.append("")

    L.append("### 3. Peer: MultiPie")
    L.append("")
    if peer:
        mp, mg = peer["Mn3GaN"], peer["Gd3Fe5O12"]
        L.append("MultiPie `Group(n).multipole_cluster_samb(\"M\", 1, site)` + `combined_object` (magnetic dipole "
                 "M_1 on each site of the Wyckoff cluster, symmetry-adapted; no magnetic space groups, no "
                 "directions); each rep constructs the Group anew, module import excluded; MultiPie caches its group tables in the "
                 "process, so the first rep (in brackets: reading the tables from disk) is slower than the best. tsunagu in-process with "
                 "`directions=False` (its magnetic-space-group labelling still included).")
        L.append("")
        L.append("| structure | tsunagu | MultiPie | MultiPie / tsunagu | basis (MultiPie) |")
        L.append("|---|---|---|---|---|")
        desc = lambda m: "; ".join(f"{o['wyckoff']}: {o['components']} components "
                                  f"({', '.join(f'{v} {k}' for k, v in o['irreps'].items())})" for o in m["orbits"])
        L.append(f"| Mn3GaN (Mn 3c) | {fmt_t(mn_py)} (CLI {fmt_t(mn_cli)}) | {fmt_t(mp['seconds'])} (first {fmt_t(mp['first'])}) | "
                 f"**{mp['seconds'] / mn_py:.0f}×** | {desc(mp)}; tsunagu: {mn_res['decomposition']} |")
        gt, glab = g.get("py_nodir"), ""
        if gt is None and g.get("cli_nodir"):
            gt, glab = g["cli_nodir"], " (CLI `--no-directions`, end to end: the in-process call failed)"
        gratio = f"{mg['seconds'] / gt:.1f}×" if gt else "–"
        L.append(f"| Gd3Fe5O12 (Gd 24c, Fe 16a, Fe 24d) | {fmt_t(gt) + glab if gt else 'fails (see 1.)'} | "
                 f"{fmt_t(mg['seconds'])} (first {fmt_t(mg['first'])}) | {gratio} | {desc(mg)} |")
    else:
        L.append(f"MultiPie {peer_err}.")
    L.append("")
    L.append("Other peers not tried within the time box: isodistort/ISOTROPY, BasIreps (FullProf), SARAh, MAXMAGN "
             "(web or Windows tools, not on PyPI).")
    L.append("")
    L.append(END)
    body = "\n".join(L) + "\n"
    print(body)
    (work / "results.json").write_text(json.dumps({"part1": [{k: (str(v) if isinstance(v, Path) else v)
                                                              for k, v in r.items() if k != "cmd"} for r in part1],
                                                   "sg": {k: v for k, v in sg.items()}, "peer": peer},
                                                  default=str, indent=1))
    if args.write:
        text = RESULTS.read_text()
        if BEGIN in text and END in text:
            text = text[:text.index(BEGIN)] + body.rstrip("\n") + text[text.index(END) + len(END):]
        else:
            text = text.rstrip("\n") + "\n\n" + body
        RESULTS.write_text(text)
        log(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
