"""EFP2 fragment-potential energies, gradients and per-molecule descriptors (the same code as ``tsunagu fragmd``).

* :func:`load` — read an efpmd-style input (the libefp ``.in`` format: fragments by centre + Euler angles or by three
  atoms, terms, damping, periodic box, cutoff, point charges) and the GAMESS MAKEFP fragment files it names.
* :func:`energy` — the EFP2 energy per term and in total (hartree), optionally with the gradient per fragment:
  rows ``(dE/dx, dE/dy, dE/dz, dE/dθx, dE/dθy, dE/dθz)`` = −force on the centre of mass (hartree/bohr) and −torque
  about it (hartree/radian).
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

import os
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np

from ._tsunagu import fragmd as _C

__all__ = ["System", "Energy", "load", "energy", "descriptors", "descriptor_names", "BOHR_ANGSTROM"]

BOHR_ANGSTROM = 0.52917721092  #: Å per bohr (the value libefp uses)

System = _C.System

_TERMS = ("electrostatic", "charge_penetration", "electrostatic_point_charges", "polarization", "dispersion",
          "exchange_repulsion", "restraint")


class Energy(NamedTuple):
    total: float                       #: hartree
    terms: Dict[str, float]            #: hartree, one entry per EFP2 term
    gradient: Optional[np.ndarray]     #: (n_fragments, 6): hartree/bohr, hartree/radian; None unless requested
    pol_iterations: int


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
    return Energy(total=d["total"], terms={k: d[k] for k in _TERMS}, gradient=None if g is None else np.asarray(g),
                  pol_iterations=int(d["pol_iterations"]))


def descriptor_names() -> List[str]:
    return list(_C.descriptor_names())


def descriptors(files: Sequence[Union[str, os.PathLike]]) -> Tuple[List[str], np.ndarray, List[str]]:
    """(fragment names, matrix (n_fragments, n_descriptors), column names) for MAKEFP files."""
    names, X = _C.descriptors([os.fspath(f) for f in files])
    return list(names), np.asarray(X), descriptor_names()
