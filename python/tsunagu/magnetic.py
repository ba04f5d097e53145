"""Magnetic structures by cluster multipoles, their DFT inputs and a pw.x results database.

* :func:`generate` — the complete orthonormal basis of all q = 0 magnetic structures of a crystal (Suzuki et al.,
  PRB 95, 094406 (2017)), each vector labelled by irrep, multipole (M_l / T_l) and the magnetic space group spglib
  finds for it; the [100]/[110]/[111]-type combinations of multi-dimensional irreps; DFT candidates; optionally
  written as basis JSON, VASP, Quantum ESPRESSO and magCIF files. The same function as ``tsunagu magnetic
  generate``, returning the same information as its basis JSON.
* :func:`run` — pw.x for every candidate of a basis JSON (or only its inputs, or a Slurm array script), results in
  SQLite; :func:`collect` parses finished outputs later; :func:`results` ranks them.
* :func:`multipole_pattern` — the moment pattern of M_lm or T_lm at given points.

Conventions: moments are Cartesian (the crystal's frame: lattice rows a, b, c in Å) with one row per magnetic
atom; basis vectors have unit norm over all magnetic atoms; DFT candidates carry moments in μB (the largest site
``moment`` μB). The work is done by the C++ library (``tsunagu._tsunagu.magnetic``).

Example
-------
>>> import tsunagu.magnetic as tm
>>> b = tm.generate("Mn3GaN.cif", ["Mn"])
>>> b["decomposition"]
'2T1g + T2g'
"""
from __future__ import annotations

import json
import os
from typing import Optional, Sequence, Union

import numpy as np

from ._tsunagu import InvalidArgument
from ._tsunagu import magnetic as _C
from .structure import Crystal, read as _read_structure

__all__ = ["generate", "read_basis", "run", "collect", "results", "multipole_pattern"]

_PathLike = Union[str, os.PathLike]


def _crystal(structure, min_distance: float) -> Crystal:
    if isinstance(structure, Crystal):
        return structure
    if isinstance(structure, (str, os.PathLike)):
        return _read_structure(structure, min_distance=min_distance)
    raise InvalidArgument(f"structure: expected a tsunagu.structure.Crystal or a file path, got {type(structure).__name__}")


def _arrays(basis: dict) -> dict:
    """Moments and cluster points as numpy arrays (the JSON holds nested lists)."""
    for key in ("basis", "directions"):
        for e in basis.get(key, []):
            e["moments"] = np.asarray(e["moments"], dtype=np.float64).reshape(-1, 3)
    for e in basis.get("candidates", []):
        e["moments_muB"] = np.asarray(e["moments_muB"], dtype=np.float64).reshape(-1, 3)
    for o in basis.get("orbits", []):
        o["cluster"] = np.asarray(o["cluster"], dtype=np.float64).reshape(-1, 3)
    s = basis.get("structure")
    if s:
        s["lattice"] = np.asarray(s["lattice"], dtype=np.float64).reshape(3, 3)
        s["frac"] = np.asarray(s["frac"], dtype=np.float64).reshape(-1, 3)
    return basis


def generate(structure, magnetic_atoms: Union[str, Sequence[str]], *, max_rank: int = 0, order: str = "rank",
             moment: float = 3.0, symprec: float = 1e-3, mag_symprec: float = -1.0, tolerance: float = 1e-6,
             directions: bool = True, output: Optional[_PathLike] = None, vasp: Optional[_PathLike] = None,
             qe: Optional[_PathLike] = None, mcif: Optional[_PathLike] = None, svg: Optional[_PathLike] = None,
             pseudo_dir: Optional[_PathLike] = None, qe_options: Optional[dict] = None,
             min_distance: float = 0.5) -> dict:
    """Cluster-multipole basis of the q = 0 magnetic structures of ``structure``.

    structure : :class:`tsunagu.structure.Crystal` or a structure file (CIF, POSCAR, pymatgen JSON)
    magnetic_atoms : element symbols and/or site labels ("Mn", ["Mn1", "Fe"])
    max_rank : highest multipole rank l (0: as high as needed for a complete basis)
    order : "rank" (M1, M2, T1, M3, T2, ...: M_l before T_{l-1}) or "power" (M1, T1, M2, T2, ...)
    moment : μB on the largest site of each DFT candidate; symprec : Å; mag_symprec : μB (-1: symprec)
    output / vasp / qe / mcif : also write the basis JSON / DIR/<candidate>/{POSCAR,INCAR} / DIR/<candidate>/pw.in /
        DIR/<candidate>.mcif (pseudo_dir: the pseudopotential directory named in pw.in; qe_options: further
        pw.x settings, see :func:`run`); svg : a picture of every basis vector and direction

    Returns the basis JSON's content as a dict: ``point_group``, ``decomposition`` (e.g. "2T1g + T2g"), ``dimension``
    (3N), ``complete``, ``irreps``, ``orbits``, ``magnetic_atoms``, ``basis`` (entries with ``irrep``,
    ``multipole`` ("M3"), ``type`` ("M"/"T"), ``rank``, ``moments`` (n_magnetic, 3) array, ``magnetic_space_group``
    {uni, bns, bns_symbol, type} and ``ahe_allowed``), ``directions`` and ``candidates`` (``moments_muB``).
    """
    c = _crystal(structure, min_distance)
    if isinstance(magnetic_atoms, str):
        magnetic_atoms = [s for s in magnetic_atoms.split(",") if s]
    text = _C.generate(*c._args(), [str(s) for s in magnetic_atoms], int(max_rank), str(order), float(moment),
                       float(symprec), float(mag_symprec), float(tolerance), bool(directions),
                       os.fspath(output) if output else "", os.fspath(vasp) if vasp else "",
                       os.fspath(qe) if qe else "", os.fspath(mcif) if mcif else "",
                       os.fspath(svg) if svg else "", _qe_dict(pseudo_dir, qe_options))
    return _arrays(json.loads(text))


def _qe_dict(pseudo_dir, qe_options: Optional[dict]) -> dict:
    d = dict(qe_options or {})
    if pseudo_dir is not None:
        d["pseudo_dir"] = os.fspath(pseudo_dir)
    return d


def read_basis(path: _PathLike) -> dict:
    """A basis JSON written by :func:`generate` / ``tsunagu magnetic generate``, with numpy moment arrays."""
    with open(path, encoding="utf-8") as f:
        return _arrays(json.load(f))


def multipole_pattern(kind: str, l: int, m: int, points) -> np.ndarray:
    """Moment pattern of the magnetic (kind "M": ∇(r^l Y_lm)) or toroidal (kind "T": r × ∇(r^l Y_lm)) multipole
    at ``points`` (k, 3) Cartesian; real harmonics, m > 0 cosine-like, m < 0 sine-like. Returns (k, 3)."""
    P = np.asarray(points, dtype=np.float64)
    if P.ndim != 2 or P.shape[1] != 3:
        raise InvalidArgument(f"points: expected shape (k, 3), got {P.shape}")
    return np.asarray(_C.multipole_pattern(str(kind), int(l), int(m), P)).reshape(-1, 3)


def run(basis: _PathLike, pseudo_dir: _PathLike, *, work_dir: _PathLike = "magnetic_runs",
        database: Optional[_PathLike] = None, name: str = "", only: Sequence[str] = (), dry_run: bool = False,
        slurm: Optional[dict] = None, pw_command: str = "pw.x", mpi_prefix: str = "", timeout_s: float = 0.0,
        force: bool = False, retry_failed: bool = True, omp_threads: int = 1, **qe_options) -> dict:
    """pw.x for every DFT candidate of a basis JSON (``tsunagu magnetic run``), results in a SQLite database.

    basis : basis JSON from :func:`generate` (``output=``) or ``tsunagu magnetic generate -o``
    pseudo_dir : pseudopotential directory; ``pseudopotentials={"Mn": "Mn.pbe-....UPF"}`` picks files (default:
        the one file starting with the element symbol)
    work_dir : one sub-directory per candidate (pw.in, pw.out); database : default ``work_dir/results.sqlite``
    dry_run : only write the inputs and register the candidates; slurm : a dict of Slurm settings (job_name,
        partition, account, time_limit, nodes, ntasks, cpus_per_task, max_parallel, extra_directives, setup,
        script_name) to write an array script instead of running — then :func:`collect`
    qe_options : pw.x settings — ecutwfc, ecutrho (Ry), k_spacing (1/Å incl. 2π) or k_mesh, k_shift, smearing,
        degauss (Ry), conv_thr (Ry), mixing_beta, electron_maxstep, starting_magnetization, lspinorb,
        constrained_magnetization, lambda, prefix, outdir, report; unknown names raise InvalidArgument

    Returns counts (candidates, written, ran, skipped, done, failed) and ``database`` (and ``script`` with slurm).
    Rerunning resumes: done candidates are skipped, ones a crash left running are rerun.
    """
    qe = _qe_dict(pseudo_dir, qe_options)
    wf = {"work_dir": os.fspath(work_dir), "database": os.fspath(database) if database else "",
          "pw_command": pw_command, "mpi_prefix": mpi_prefix, "timeout_s": float(timeout_s), "force": bool(force),
          "retry_failed": bool(retry_failed), "dry_run": bool(dry_run), "omp_threads": int(omp_threads)}
    return dict(_C.run(os.fspath(basis), qe, wf, str(name), [str(s) for s in only], slurm))


def collect(work_dir: _PathLike, database: Optional[_PathLike] = None, force: bool = False) -> dict:
    """Parse the finished pw.x outputs under ``work_dir`` (e.g. of a Slurm array) into the database."""
    db = os.fspath(database) if database else os.path.join(os.fspath(work_dir), "results.sqlite")
    if not os.path.exists(db):
        raise FileNotFoundError(f"no results database {db} (run tsunagu.magnetic.run first)")
    return dict(_C.collect({"work_dir": os.fspath(work_dir), "database": db, "force": bool(force)}))


def results(database: _PathLike, structure: str = "") -> list:
    """Candidates ranked by energy (``tsunagu magnetic results``): dicts with structure, candidate, irrep,
    multipole, direction, bns_symbol, status, converged, energy_ry/energy_ev, delta_mev_per_magnetic_atom (above the
    lowest converged candidate of the structure), total_magnetization (3,) μB/cell, site_moments (n_atoms, 3) μB,
    initial_moments, n_iterations, wall_time_s, output_path, attempts, message. None where a number is unknown
    (NaN inside the arrays). The same rows as ``tsunagu magnetic results --json``."""
    if not os.path.exists(database):
        raise FileNotFoundError(f"no results database {os.fspath(database)}")
    rows = json.loads(_C.results(os.fspath(database), str(structure)))
    for r in rows:
        r["total_magnetization"] = np.array(r["total_magnetization"], dtype=np.float64)  # null -> nan
        for key in ("site_moments", "initial_moments"):
            r[key] = np.array(r[key], dtype=np.float64).reshape(-1, 3)
    return rows
