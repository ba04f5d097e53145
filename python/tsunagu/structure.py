"""Crystal structures and their symmetry.

* :func:`read` — a CIF (asymmetric unit expanded by its operations or its space-group name), VASP POSCAR/CONTCAR,
  pymatgen/Materials Project ``Structure.as_dict()`` JSON or (extended) XYZ file as a :class:`Crystal`.
* :func:`symmetry` — space group, Wyckoff positions, orbits, standardised and primitive cells through spglib.
* :func:`magnetic_symmetry` — magnetic space group (UNI/BNS/OG numbers, type) of a crystal with moments, and whether
  its magnetic point group allows a net (ferromagnetic) moment.

Conventions: ``lattice`` rows are a, b, c in Å; ``frac`` (n, 3) fractional coordinates; Cartesian positions are
``frac @ lattice`` in Å; moments (n, 3) Cartesian in μB. Operations act as x' = R x + t on fractional column
vectors. The work is done by the C++ library (``tsunagu._tsunagu.structure``), the same code as ``tsunagu
structure info``.

Example
-------
>>> import tsunagu.structure as ts
>>> c = ts.read("Mn3GaN.cif")
>>> ts.symmetry(c)["international"]
'Pm-3m'
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import List, Optional, Sequence

import numpy as np

from ._tsunagu import InvalidArgument
from ._tsunagu import structure as _C

__all__ = ["Crystal", "read", "symmetry", "magnetic_symmetry", "describe", "write_poscar", "atomic_number",
           "element_symbol", "lattice_from_parameters", "spglib_version"]

atomic_number = _C.atomic_number
element_symbol = _C.element_symbol
lattice_from_parameters = _C.lattice_from_parameters
spglib_version = _C.spglib_version


@dataclass
class Crystal:
    """A crystal (or, with ``periodic=False``, a molecule in a bounding box).

    lattice : (3, 3) rows a, b, c in Å
    frac : (n, 3) fractional coordinates
    numbers : (n,) atomic numbers
    labels : site labels (CIF ``_atom_site_label``; "Mn1", ... for other formats)
    occupancies : (n,) in (0, 1]
    """

    lattice: np.ndarray
    frac: np.ndarray
    numbers: np.ndarray
    labels: List[str] = field(default_factory=list)
    occupancies: Optional[np.ndarray] = None
    periodic: bool = True
    source: str = ""

    def __post_init__(self):
        self.lattice = np.asarray(self.lattice, dtype=np.float64).reshape(3, 3)
        self.frac = np.asarray(self.frac, dtype=np.float64).reshape(-1, 3)
        self.numbers = np.asarray(
            [n if isinstance(n, (int, np.integer)) else _C.atomic_number(str(n)) for n in np.ravel(self.numbers)],
            dtype=np.int64)
        if not self.labels:
            seen: dict = {}
            self.labels = []
            for z in self.numbers:
                seen[z] = seen.get(z, 0) + 1
                self.labels.append(f"{_C.element_symbol(int(z))}{seen[z]}")
        self.labels = [str(x) for x in self.labels]
        n = len(self.numbers)
        self.occupancies = (np.ones(n) if self.occupancies is None
                            else np.asarray(self.occupancies, dtype=np.float64).reshape(-1))
        if self.frac.shape[0] != n or len(self.labels) != n or self.occupancies.shape[0] != n:
            raise InvalidArgument(f"Crystal: frac {self.frac.shape}, {n} numbers, {len(self.labels)} labels and "
                                  f"{self.occupancies.shape[0]} occupancies do not agree")

    # -- derived quantities ---------------------------------------------------------------------------------
    @property
    def symbols(self) -> List[str]:
        return [_C.element_symbol(int(z)) for z in self.numbers]

    def __len__(self) -> int:
        return len(self.numbers)

    def cartesian(self) -> np.ndarray:
        """(n, 3) Cartesian positions in Å."""
        return self.frac @ self.lattice

    @property
    def volume(self) -> float:
        """Cell volume in Å^3."""
        return float(abs(np.linalg.det(self.lattice)))

    def reciprocal_lattice(self) -> np.ndarray:
        """Rows a*, b*, c* in 1/Å with a_i · b*_j = δ_ij (no 2π)."""
        return np.linalg.inv(self.lattice).T

    def select(self, element: Optional[str] = None, label: Optional[str] = None, prefix: bool = False) -> np.ndarray:
        """Indices of the sites of an element ("Mn", "mn3+") and/or with a label (exact, or starting with it when
        ``prefix``)."""
        keep = np.ones(len(self), dtype=bool)
        if element is not None:
            keep &= self.numbers == _C.atomic_number(element)
        if label is not None:
            keep &= np.array([(lab.startswith(label) if prefix else lab == label) for lab in self.labels], dtype=bool)
        return np.flatnonzero(keep)

    def validate(self, min_distance: float = 0.5) -> None:
        """The library's checks (shapes, finite values, non-singular lattice, overlapping atoms); raises
        :class:`tsunagu.InvalidArgument`."""
        _C.validate(*self._args(), float(min_distance))

    def _args(self):
        return (self.lattice, self.frac, [int(z) for z in self.numbers], list(self.labels), self.occupancies,
                bool(self.periodic), self.source)

    @classmethod
    def _from_dict(cls, d) -> "Crystal":
        return cls(lattice=d["lattice"], frac=d["frac"], numbers=d["numbers"], labels=list(d["labels"]),
                   occupancies=d["occupancies"], periodic=d["periodic"], source=d["source"])


def read(path, format: Optional[str] = None, *, block: str = "", species: Sequence[str] = (),
         min_distance: float = 0.5) -> Crystal:
    """Read a structure file.

    format : None/"auto" (by extension, then content), "cif", "poscar", "json", "xyz"
    block : CIF data block (default: the first); species : POSCAR (VASP 4) species names
    min_distance : refuse atoms closer than this (Å; 0 disables)
    """
    d = _C.read(os.fspath(path), format or "auto", block, list(species), float(min_distance))
    return Crystal._from_dict(d)


def _moments(moments, n: int) -> np.ndarray:
    try:
        M = np.asarray(moments, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise InvalidArgument(f"moments: not convertible to a float64 array ({e})") from None
    if M.shape != (n, 3):
        raise InvalidArgument(f"moments: expected shape ({n}, 3), got {M.shape}")
    return M


def symmetry(crystal: Crystal, symprec: float = 1e-3, angle_tolerance: float = -1.0) -> dict:
    """Space-group analysis (spglib). symprec in Å; angle_tolerance in degrees (-1: spglib's default).

    Keys: number, international, hall_symbol, hall_number, choice, point_group, rotations (list of (3, 3) int),
    translations (n_ops, 3), wyckoffs, site_symmetry_symbols, equivalent_atoms, orbits, transformation_matrix,
    origin_shift, standardized and primitive (:class:`Crystal`), symprec, angle_tolerance.
    """
    d = _C.symmetry(*crystal._args(), float(symprec), float(angle_tolerance))
    d["rotations"] = np.array(d["rotations"], dtype=np.int64).reshape(-1, 3, 3)
    d["standardized"] = Crystal._from_dict(d["standardized"])
    d["primitive"] = Crystal._from_dict(d["primitive"])
    return d


def magnetic_symmetry(crystal: Crystal, moments, symprec: float = 1e-3, mag_symprec: float = -1.0) -> dict:
    """Magnetic space group of ``crystal`` with ``moments`` (n, 3) Cartesian μB (zeros on non-magnetic sites).

    Keys: uni_number, bns_number, og_number, litvin_number, type (1-4), family_number, hall_number, rotations,
    translations, time_reversals, equivalent_atoms, transformation_matrix, origin_shift, ferromagnetic_basis
    ((k, 3) orthonormal rows: allowed directions of a net moment), admits_ferromagnetism, symprec, mag_symprec.
    """
    d = _C.magnetic_symmetry(*crystal._args(), _moments(moments, len(crystal)), float(symprec), float(mag_symprec))
    d["rotations"] = np.array(d["rotations"], dtype=np.int64).reshape(-1, 3, 3)
    d["time_reversals"] = np.asarray(d["time_reversals"], dtype=bool)
    d["ferromagnetic_basis"] = np.asarray(d["ferromagnetic_basis"]).reshape(-1, 3)
    return d


def describe(crystal: Crystal, symprec: float = 1e-3, angle_tolerance: float = -1.0) -> dict:
    """The JSON description printed by ``tsunagu structure info --json`` (formula, lattice, sites, symmetry with
    Wyckoff orbits; ``symmetry`` is None with a ``symmetry_note`` for molecules and disordered structures)."""
    return json.loads(_C.describe(*crystal._args(), float(symprec), float(angle_tolerance)))


def write_poscar(path, crystal: Crystal, *, comment: str = "", cartesian: bool = False) -> None:
    """Write a VASP 5 POSCAR atomically (atoms grouped by species in order of first appearance)."""
    lat, frac, numbers, labels, occ, periodic, _ = crystal._args()
    _C.write_poscar(os.fspath(path), lat, frac, numbers, labels, occ, periodic, comment, bool(cartesian))
