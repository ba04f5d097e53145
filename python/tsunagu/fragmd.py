"""EFP2 fragment-potential energies, gradients and per-molecule descriptors (the same code as ``tsunagu fragmd``).

* :func:`load` — read an efpmd-style input (the libefp ``.in`` format: fragments by centre + Euler angles or by three
  atoms, terms, damping, periodic box, cutoff, point charges) and the GAMESS MAKEFP fragment files it names.
* :func:`energy` — the EFP2 energy per term and in total (hartree), optionally with the gradient per fragment:
  rows ``(dE/dx, dE/dy, dE/dz, dE/dθx, dE/dθy, dE/dθz)`` = −force on the centre of mass (hartree/bohr) and −torque
  about it (hartree/radian).
* :func:`run` — rigid-body MD (NVE; NVT with Nosé–Hoover chains; NPT with the MTK barostat), writing an HDF5
  trajectory and a restart file; :func:`read_trajectory` loads one back.
* :func:`analyze` — density, g(r), MSD and self-diffusion, heat of vaporisation, Green–Kubo viscosity, with SVG plots.
* :func:`descriptors` — charge, dipole, quadrupole, polarisability and C6 of each fragment type, as a table for
  :mod:`tsunagu.sparse` / :mod:`tsunagu.nn` models across liquids.

Units and formulas are in docs/fragmd.md. Everything here is atomic units unless a name says otherwise.

Example
-------
>>> import tsunagu.fragmd as fm
>>> s = fm.load("total_1a.in")
>>> e = fm.energy(s)
>>> e.total, e.terms["dispersion"]
"""
from __future__ import annotations

import json
import os
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np

from ._tsunagu import InvalidArgument
from ._tsunagu import fragmd as _C

__all__ = ["System", "Energy", "load", "energy", "run", "read_trajectory", "analyze", "mixing", "descriptors",
           "descriptor_names", "BOHR_ANGSTROM"]

BOHR_ANGSTROM = 0.52917721092  #: Å per bohr (the value libefp uses)

System = _C.System

class Energy(NamedTuple):
    total: float                       #: hartree
    terms: Dict[str, float]            #: hartree, one entry per EFP2 term
    gradient: Optional[np.ndarray]     #: (n_fragments, 6): hartree/bohr, hartree/radian; None unless requested
    pol_iterations: int


def _options_json(options: dict, what: str) -> str:
    # JSON has no NaN/inf: name the option here instead of failing inside the C++ JSON parser.
    for k, v in options.items():
        if isinstance(v, float) and not np.isfinite(v):
            raise InvalidArgument(f"{what}: option '{k}' must be finite, got {v}")
    return json.dumps(options)


def load(path: Union[str, os.PathLike], fraglib: Optional[Union[str, os.PathLike]] = None) -> System:
    """Read an efpmd-style input. ``fraglib`` is the directory of ``NAME_l`` fragments when the input has no
    ``fraglib_path`` (else $TSUNAGU_FRAGLIB). The input's ``ref_energy`` (if any) is ``System.info['ref_energy']``."""
    system, info = _C.read_input(os.fspath(path), os.fspath(fraglib) if fraglib is not None else "")
    system.info = info  # type: ignore[attr-defined]
    return system


def energy(system: Union[System, str, os.PathLike], gradient: bool = False, threads: int = 0,
           fraglib: Optional[Union[str, os.PathLike]] = None) -> Energy:
    """EFP2 energy of ``system`` (a :class:`System` or a path to an input)."""
    if not isinstance(system, System):
        system = load(system, fraglib)
    d = _C.compute(system, bool(gradient), int(threads))
    g = d.get("gradient")
    return Energy(total=d["total"], terms=dict(d["terms"]), gradient=None if g is None else np.asarray(g),
                  pol_iterations=int(d["pol_iterations"]))


def mixing(mixture: Union[str, os.PathLike], pure_a: Union[str, os.PathLike], pure_b: Union[str, os.PathLike],
           first_frame: int = 0, pressure_bar: float = 1.0) -> dict:
    """Excess enthalpy (kJ/mol) and volume (cm³/mol) of a binary mixture from three NPT trajectories (the same code
    as ``tsunagu fragmd mixing``): pure A and pure B hold one fragment type each, the mixture those two; x_a is
    counted from the mixture. ``first_frame`` skips equilibration in all three; ``pressure_bar`` is the runs'
    external pressure."""
    if first_frame < 0:
        raise InvalidArgument(f"mixing: first_frame must be non-negative, got {first_frame}")
    if not np.isfinite(pressure_bar):
        raise InvalidArgument(f"mixing: pressure_bar must be finite, got {pressure_bar}")
    return json.loads(_C.mixing(os.fspath(mixture), os.fspath(pure_a), os.fspath(pure_b), int(first_frame),
                                float(pressure_bar)))


def descriptor_names() -> List[str]:
    return list(_C.descriptor_names())


def descriptors(files: Sequence[Union[str, os.PathLike]]) -> Tuple[List[str], np.ndarray, List[str]]:
    """(fragment names, matrix (n_fragments, n_descriptors), column names) for MAKEFP files."""
    names, X = _C.descriptors([os.fspath(f) for f in files])
    return list(names), np.asarray(X), descriptor_names()


def run(system: Union[System, str, os.PathLike], trajectory: Union[str, os.PathLike], *,
        restart: Optional[Union[str, os.PathLike]] = None, resume: Optional[Union[str, os.PathLike]] = None,
        fraglib: Optional[Union[str, os.PathLike]] = None, quiet: bool = True, **options):
    """Run rigid-body EFP2 MD (the same code as ``tsunagu fragmd run``). Returns ``(log, ns_per_day, last_step)``;
    ``log`` is a list of dicts (step, time_fs, potential and kinetic in hartree, temperature_K, pressure_bar,
    volume_A3, density_g_cm3, conserved). The trajectory (HDF5) and restart (JSON, default TRAJECTORY.restart.json)
    are written atomically.

    The input's MD keys (ensemble, time_step, max_steps, temperature, …) and velocity blocks are the defaults;
    keyword options override them: ensemble ("nve"|"nvt"|"npt"), steps, time_step_fs, temperature_K, pressure_bar,
    thermostat_tau_fs, barostat_tau_fs, chain_length, seed, init_velocities, print_every, frame_every, write_every,
    write_atoms, threads. Unknown options raise :class:`tsunagu.InvalidArgument`."""
    if not isinstance(system, System):
        system = load(system, fraglib)
    opts = dict(options)
    opts.update({"quiet": bool(quiet), "trajectory_path": os.fspath(trajectory),
                 "restart_path": os.fspath(restart) if restart is not None else os.fspath(trajectory) + ".restart.json"})
    if resume is not None:
        opts["resume_path"] = os.fspath(resume)
    info = getattr(system, "info", {}) or {}
    log, ns_day, step = _C.run_md(system, _options_json(opts, "run"), info.get("path", ""),
                                  os.fspath(fraglib) if fraglib is not None else "")
    return list(log), float(ns_day), int(step)


def read_trajectory(path: Union[str, os.PathLike]) -> dict:
    """Arrays of a trajectory: time_fs, com_A (frames, 3·n_fragments), box_A, potential, kinetic (hartree),
    temperature_K, pressure_bar, conserved, fragment_types."""
    d = dict(_C.read_trajectory(os.fspath(path)))
    for k in ("time_fs", "com_A", "box_A", "potential", "kinetic", "temperature_K", "pressure_bar", "conserved"):
        d[k] = np.asarray(d[k])
    return d


def analyze(trajectory: Union[str, os.PathLike], plots: Optional[Union[str, os.PathLike]] = None, **options) -> dict:
    """Liquid properties of a trajectory (the same code as ``tsunagu fragmd analyze``). Options: density, rdf, msd,
    hvap, viscosity (booleans; none = everything available), rdf_pairs (["com", "O,O"]), rdf_max, rdf_bin (Å),
    first_frame, temperature_K, max_lag_fs, fit_start_fs, fit_end_fs. With ``plots`` the SVGs are written there."""
    text, svgs = _C.analyze(os.fspath(trajectory), _options_json(options, "analyze"))
    summary = json.loads(text)
    if plots is not None:
        os.makedirs(plots, exist_ok=True)
        for name, svg in svgs:  # atomic: write a temporary file, then rename over the target
            target = os.path.join(plots, name)
            tmp = target + ".tmp"
            with open(tmp, "w") as f:
                f.write(svg)
            os.replace(tmp, target)
    return summary
