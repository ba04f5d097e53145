"""Molecular structure -> measured response (the same code as ``tsunagu bio``).

:func:`descriptors` turns SMILES into RDKit descriptors (H-bond donors/acceptors, ethylene-glycol units, charged
groups, alkyl chain length, TPSA, logP, rotatable bonds, Morgan bits, SMARTS counts); :class:`Model` trains an
ensemble of small neural networks with repeated K-fold cross-validation next to a lasso and a k-nearest-neighbour
baseline, and reads the trained weights (Garson, Olden) and held-out permutations to rank the inputs, with
intervals over the ensemble. See docs/bio.md.

Example
-------
>>> import tsunagu.bio as tb
>>> d = tb.descriptors(["OCCOCCO", "CCCCCCCCCCCCS"])
>>> m = tb.Model.train(X, y, features=names, target="adsorption", ensemble=10, folds=5, seed=0)
>>> m.report["cv_r2"], m.report["baselines"]["knn"]["cv_r2"]
>>> m.importance["olden"][:3]
>>> mean, sd = m.predict(X_new)
"""
from __future__ import annotations

import json
import os
from typing import List, NamedTuple, Optional, Sequence

import numpy as np

from ._tsunagu import InvalidArgument
from ._tsunagu_nn import bio as _C

__all__ = ["Descriptors", "descriptors", "descriptor_names", "mixture_descriptors", "Model"]

_DESC_DEFAULTS = json.loads(_C.default_descriptor_options())
_TRAIN_DEFAULTS = json.loads(_C.default_train_options())
_TRAIN_KEYS = set(_TRAIN_DEFAULTS) - {"mlp"}
_MLP_KEYS = set(_TRAIN_DEFAULTS["mlp"])


class Descriptors(NamedTuple):
    X: np.ndarray            # (n_kept, n_descriptors)
    names: List[str]
    rows: List[int]          # 0-based input index of each kept row
    canonical: List[str]     # canonical SMILES of each kept row
    excluded: list           # [(row, smiles, reason)] (skip_invalid=True)


def _desc_options(smarts=None, morgan_bits: int = 0, morgan_radius: int = 2, threads: int = 0, physchem: bool = True):
    pats = []
    for name, pattern in (smarts or {}).items():
        pats.append({"name": str(name), "smarts": str(pattern)})
    o = dict(_DESC_DEFAULTS)
    o.update({"smarts": pats, "morgan_bits": int(morgan_bits), "morgan_radius": int(morgan_radius),
              "threads": int(threads), "physchem": bool(physchem)})
    return json.dumps(o)


def descriptor_names(smarts: Optional[dict] = None, morgan_bits: int = 0, morgan_radius: int = 2,
                     physchem: bool = True) -> List[str]:
    return list(_C.descriptor_names(_desc_options(smarts, morgan_bits, morgan_radius, 0, physchem)))


def descriptors(smiles: Sequence[str], *, smarts: Optional[dict] = None, morgan_bits: int = 0, morgan_radius: int = 2,
                physchem: bool = True, skip_invalid: bool = False, threads: int = 0) -> Descriptors:
    """RDKit descriptors of each SMILES. smarts: {"name": "SMARTS"} -> column ``smarts_<name>`` (match counts).
    An unparseable SMILES raises InvalidArgument naming its row, or with skip_invalid=True is listed in
    ``excluded``."""
    if isinstance(smiles, str):
        raise InvalidArgument("descriptors: pass a list of SMILES, not one string")
    X, names, rows, canon, excluded = _C.describe([str(s) for s in smiles],
                                                  _desc_options(smarts, morgan_bits, morgan_radius, threads, physchem),
                                                  bool(skip_invalid))
    return Descriptors(np.asarray(X), list(names), list(rows), list(canon), list(excluded))


def mixture_descriptors(weights, components) -> np.ndarray:
    """(n_mixtures, n_descriptors): rows of `weights` (fractions, normalised to 1) times component descriptors."""
    return np.asarray(_C.mixture_descriptors(np.asarray(weights, dtype=float), np.asarray(components, dtype=float)))


def _train_options(options: dict) -> str:
    o = {k: v for k, v in options.items() if k in _TRAIN_KEYS}
    mlp = {k: v for k, v in options.items() if k in _MLP_KEYS and k not in _TRAIN_KEYS}
    unknown = set(options) - _TRAIN_KEYS - _MLP_KEYS
    if unknown:
        raise InvalidArgument(f"unknown option(s) {', '.join(sorted(unknown))}")
    if "hidden" in mlp:
        mlp["hidden"] = [int(h) for h in mlp["hidden"]]
    if mlp:
        o["mlp"] = mlp
    return json.dumps(o)


class Model:
    """An ensemble of MLPs with its cross-validation report and input importances. Create with :meth:`train`,
    :meth:`train_csv` or :meth:`load`."""

    def __init__(self, _model):
        self._m = _model

    @classmethod
    def train(cls, X, y, *, features: Optional[Sequence[str]] = None, target: str = "y",
              ids: Optional[Sequence[str]] = None, **options) -> "Model":
        """X (n, p), y (n,). options: ensemble, folds, repeats, knn_k, permutation_repeats, seed, threads, progress
        and network options (hidden, activation, epochs, learning_rate, weight_decay, dropout, ...; docs/nn.md)."""
        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64).ravel()
        if X.ndim != 2:
            raise InvalidArgument(f"X: expected a 2-D array, got {X.ndim} dimensions")
        feats = [f"x{j}" for j in range(X.shape[1])] if features is None else [str(f) for f in features]
        rows = [f"row {i + 1}" for i in range(X.shape[0])] if ids is None else [str(i) for i in ids]
        return cls(_C.Model.train(X, y, feats, str(target), rows, _train_options(options)))

    @classmethod
    def train_csv(cls, path, target: str, *, exclude: Sequence[str] = (), id_column: str = "id",
                  smiles_column: Optional[str] = None, smarts: Optional[dict] = None, morgan_bits: int = 0,
                  morgan_radius: int = 2, **options) -> "Model":
        """Train on a CSV as ``tsunagu bio train`` does (text and constant columns left out and reported). With
        smiles_column, that column is described first (RDKit descriptors next to the numeric columns) and the model
        can then :meth:`predict_csv` a CSV of candidate SMILES."""
        dopt = _desc_options(smarts, morgan_bits, morgan_radius) if smiles_column else "{}"
        return cls(_C.Model.train_csv(os.fspath(path), target, list(exclude), id_column, _train_options(options),
                                      smiles_column or "", dopt))

    def predict_csv(self, path):
        """(mean, sd) for the rows of a CSV (the model's columns by name, or SMILES for a model trained from
        SMILES)."""
        mean, sd = self._m.predict_csv(os.fspath(path))
        return np.asarray(mean), np.asarray(sd)

    @classmethod
    def load(cls, path) -> "Model":
        return cls(_C.Model.load(os.fspath(path)))

    def save(self, path) -> None:
        self._m.save(os.fspath(path))

    def predict(self, X):
        """(mean, sd) over the ensemble members, each (m,)."""
        mean, sd = self._m.predict(np.asarray(X, dtype=np.float64))
        return np.asarray(mean), np.asarray(sd)

    @property
    def report(self) -> dict:
        """cv_r2 / cv_rmse ({mean, sd} over folds) and the same for baselines.sparse and baselines.knn."""
        return json.loads(self._m.report())

    @property
    def importance(self) -> dict:
        """{"garson"|"olden"|"permutation": [{feature, mean, ci_low, ci_high}], "agreement": {...}}."""
        return json.loads(self._m.importance())

    def plot_importance(self, path) -> None:
        self._m.plot_importance(os.fspath(path))

    @property
    def features(self) -> List[str]:
        return list(self._m.features)

    @property
    def target(self) -> str:
        return self._m.target
