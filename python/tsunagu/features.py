"""Structure descriptors for machine learning (the same code as ``tsunagu features``).

* :func:`describe` — a (n_structures, n_descriptors) matrix of composition statistics, partial radial distribution
  functions, (sine-)Coulomb-matrix eigenvalues and descriptors of an absorbing site, with column names and the
  fitted specification (keep it to describe new structures the same way).
* :func:`neighbor_list` — neighbours within a cutoff under periodic boundary conditions (cell lists).
* :func:`coulomb_matrix`, :func:`partial_rdf` — the individual descriptors.
* :func:`element_properties` / :func:`element_table` — the shipped elemental-property table.

Formulas, units and options are in docs/features.md. Structures are :class:`tsunagu.structure.Crystal` objects or
file paths (CIF, POSCAR, pymatgen/MP JSON, XYZ).

Example
-------
>>> import tsunagu.features as tf
>>> d = tf.describe(["Mn3GaN.cif"], kind="composition,prdf")
>>> d.X.shape, d.names[:2]
"""
from __future__ import annotations

import json
import os
from typing import List, NamedTuple, Optional, Sequence, Union

import numpy as np

from ._tsunagu import InvalidArgument
from ._tsunagu import features as _C
from .structure import Crystal, read as _read_structure

__all__ = ["Descriptors", "describe", "neighbor_list", "coulomb_matrix", "partial_rdf", "element_properties",
           "element_table", "default_spec"]

_SPEC_KEYS = set(json.loads(_C.spec_default()))


def _crystal(s) -> Crystal:
    if isinstance(s, Crystal):
        return s
    if isinstance(s, (str, os.PathLike)):
        return _read_structure(s)
    raise InvalidArgument(f"structure: expected a tsunagu.structure.Crystal or a file path, got {type(s).__name__}")


def _crystals(structures) -> List[Crystal]:
    if isinstance(structures, (Crystal, str, os.PathLike)):
        structures = [structures]
    return [_crystal(s) for s in structures]


class Descriptors(NamedTuple):
    X: np.ndarray      #: (n_structures, n_descriptors)
    names: List[str]   #: column names
    spec: dict         #: the fitted specification; pass as ``spec=`` to describe other structures identically


def default_spec() -> dict:
    """The default descriptor specification (every field documented in docs/features.md)."""
    return json.loads(_C.spec_default())


def describe(structures, kind: Optional[str] = None, *, site=None, absorber: Optional[str] = None,
             spec: Optional[dict] = None, threads: int = 0, **options) -> Descriptors:
    """Descriptors of one or more structures.

    kind : "composition", "prdf", "coulomb", "site", "acsf" or a comma-separated combination (default "composition")
    site : absorbing atom for ``site`` descriptors: one 0-based index for every structure, or one per structure
    absorber : instead of ``site``, the element whose first atom is the absorbing atom
    spec : a fitted specification from an earlier call (``Descriptors.spec``); then ``kind`` and options must not be
        given
    options : specification fields, e.g. rdf_cutoff=8.0 (Å), rdf_step=0.1 (Å), rdf_sigma=0.1 (Å), site_cutoff=6.0
        (Å), properties=["electronegativity", ...]; unknown names raise :class:`tsunagu.InvalidArgument`
    """
    cs = _crystals(structures)
    if spec is not None:
        if kind is not None or options:
            raise InvalidArgument("describe: give either spec= or kind/options, not both")
        s = dict(spec)
    else:
        s = default_spec()
        if kind is not None:
            s["kinds"] = [k.strip() for k in kind.split(",")] if isinstance(kind, str) else list(kind)
        for k, v in options.items():
            if k not in _SPEC_KEYS:
                raise InvalidArgument(f"describe: unknown option '{k}' (known: {', '.join(sorted(_SPEC_KEYS))})")
            s[k] = list(v) if isinstance(v, (list, tuple, np.ndarray)) else v
    kinds = s.get("kinds", [])
    sites: List[int] = []
    if "site" in kinds or "acsf" in kinds:
        if site is not None and absorber is not None:
            raise InvalidArgument("describe: give site= or absorber=, not both")
        if site is not None:
            sites = [int(site)] * len(cs) if np.isscalar(site) else [int(x) for x in site]
        elif absorber is not None:
            for c in cs:
                idx = c.select(element=absorber)
                if len(idx) == 0:
                    raise InvalidArgument(f"{c.source or 'structure'}: no {absorber} atom (absorber=)")
                sites.append(int(idx[0]))
        else:
            raise InvalidArgument("describe: kind 'site' needs site= (0-based index) or absorber= (element)")
        if len(sites) != len(cs):
            raise InvalidArgument(f"describe: {len(sites)} sites for {len(cs)} structures")
    elif site is not None or absorber is not None:
        raise InvalidArgument("describe: site=/absorber= only apply to kind 'site'")
    args = [c._args() for c in cs]
    text = json.dumps(s)
    fitted = _C.fit_spec(text, args, sites) if spec is None else text
    X = _C.describe(fitted, args, sites, int(threads))
    return Descriptors(np.asarray(X), list(_C.spec_names(fitted)), json.loads(fitted))


def neighbor_list(structure, cutoff: float, threads: int = 0) -> dict:
    """Neighbours within ``cutoff`` Å: compressed rows ``start`` (n+1), ``index`` (pairs), ``distance`` (pairs, Å),
    ``vector`` (pairs, 3; r_j + T - r_i in Å), ``image`` (pairs, 3; lattice translation T in cells)."""
    d = _C.neighbor_list(_crystal(structure)._args(), float(cutoff), int(threads))
    return {k: np.asarray(v) for k, v in d.items()}


def coulomb_matrix(structure, variant: str = "auto") -> np.ndarray:
    """The (n, n) Coulomb matrix (molecules, distances in bohr) or sine-Coulomb matrix (periodic crystals)."""
    return np.asarray(_C.coulomb_matrix(_crystal(structure)._args(), variant))


def partial_rdf(structure, elements: Sequence[Union[str, int]], cutoff: float = 8.0, step: float = 0.1,
                sigma: float = 0.1) -> np.ndarray:
    """Partial RDFs per unordered element pair, pair-major, per atom (1/Å) on r_k = (k + 1/2) step."""
    from .structure import atomic_number
    zs = [int(e) if isinstance(e, (int, np.integer)) else atomic_number(str(e)) for e in elements]
    return np.asarray(_C.partial_rdf(_crystal(structure)._args(), zs, float(cutoff), float(step), float(sigma)))


def element_properties() -> List[dict]:
    """The columns of the element table: name, unit, source."""
    return [{"name": n, "unit": u, "source": s} for n, u, s in _C.element_properties()]


def element_table(imputed: bool = False) -> np.ndarray:
    """(118, n_properties) values for Z = 1..118 (NaN where the source has none, unless ``imputed``)."""
    return np.asarray(_C.element_table(bool(imputed)))
