"""Structure -> X-ray absorption spectrum prediction (the same code as ``tsunagu xas``).

:meth:`Model.train` reads a dataset (Materials Project XAS documents, XANESNET-style xyz + FDMNES folders, or a
descriptor table), describes each structure around its absorbing atom, fits a neural network whose outputs are the
spectrum on an energy mesh (optionally tuned by Bayesian optimisation) and reports grouped cross-validation next to
two baselines (mean training spectrum, k nearest neighbours). :meth:`Model.predict` gives spectra of new structures
in milliseconds; :meth:`Model.evaluate` scores a model on held-out data. See docs/xas.md.

Example
-------
>>> from tsunagu.xas import Model
>>> m = Model.train("fe_k_edge/xyz_train", format="xanesnet", epochs=300, seed=0)
>>> m.evaluate("fe_k_edge/xyz_test")["pearson_median"]
>>> spectra = m.predict(["new_complex.xyz"])
"""
from __future__ import annotations

import json
import os
from typing import List, Optional, Sequence

import numpy as np

from ._tsunagu import InvalidArgument
from ._tsunagu_nn import xas as _C
from .features import _crystals

__all__ = ["Model"]

_LOAD_KEYS = {"format", "absorber", "table_mesh", "spectrum_prefix", "feature_prefix", "group_column", "id_column"}
_NETWORK_KEYS = set(json.loads(_C.default_network()))


def _split(options: dict):
    load = {k: v for k, v in options.items() if k in _LOAD_KEYS}
    rest = {k: v for k, v in options.items() if k not in _LOAD_KEYS}
    return load, rest


class Model:
    """A trained spectrum predictor. Create with :meth:`train` or :meth:`load`."""

    def __init__(self, _model):
        self._m = _model

    @classmethod
    def train(cls, data, *, mesh: Optional[str] = None, normalization: str = "none",
              align_edge_to: Optional[float] = None, kinds: Optional[str] = None, site_cutoff: Optional[float] = None, tune: int = 0,
              folds: int = 5, validation_fraction: float = 0.15, knn_k: int = 5, seed: int = 0, threads: int = 0,
              progress: bool = False, **options) -> "Model":
        """Train on a dataset path.

        data : MP XAS JSON/JSON-lines file or folder, XANESNET xyz folder, or descriptor table CSV
        mesh : "LO:HI:N" in eV (default: the range every spectrum covers)
        normalization : "none" | "max" | "area" | "edge"; align_edge_to : eV
        site_cutoff : Å, neighbourhood of the absorbing atom for the site/acsf descriptors (default 6)
        kinds : descriptors for structure data, e.g. "acsf" (the default), "site,composition"; see docs/features.md
        tune : Bayesian-optimisation trials over layers/width/learning rate/dropout/weight decay
        folds : grouped K-fold report (0 = none)
        options : dataset options (format, absorber, table_mesh, spectrum_prefix, feature_prefix, group_column,
            id_column) and network options (hidden, activation, epochs, learning_rate, dropout, weight_decay,
            batch_size, patience, schedule, ...; see docs/nn.md)
        """
        load, rest = _split(options)
        unknown = set(rest) - _NETWORK_KEYS
        if unknown:
            raise InvalidArgument(f"unknown option(s) {', '.join(sorted(unknown))}")
        if "hidden" in rest:
            rest["hidden"] = [int(h) for h in rest["hidden"]]
        train = {"mesh": mesh, "normalization": normalization, "align_edge_to": align_edge_to, "kinds": kinds,
                 **({} if site_cutoff is None else {"site_cutoff": float(site_cutoff)}),
                 "tune_trials": int(tune), "cv_folds": int(folds), "validation_fraction": float(validation_fraction),
                 "knn_k": int(knn_k), "seed": int(seed), "threads": int(threads), "progress": bool(progress),
                 "network": rest}
        return cls(_C.Model.train(os.fspath(data), json.dumps(load), json.dumps(train)))

    @classmethod
    def load(cls, path) -> "Model":
        return cls(_C.Model.load(os.fspath(path)))

    def save(self, path) -> None:
        self._m.save(os.fspath(path))

    @property
    def mesh(self) -> np.ndarray:
        """(n_points,) energies of the predicted spectra in eV."""
        return np.asarray(self._m.mesh)

    @property
    def absorber(self) -> str:
        return self._m.absorber

    @property
    def feature_names(self) -> list:
        """Descriptor (network input) column names."""
        return list(self._m.feature_names)

    @property
    def uses_structures(self) -> bool:
        """True when the model describes structures itself; False when it was trained on a descriptor table."""
        return bool(self._m.uses_structures)

    @property
    def summary(self) -> dict:
        """Training summary: records, groups, descriptors, network settings, tuning trials, CV metrics."""
        return json.loads(self._m.summary())

    def predict(self, structures, absorbers: Optional[Sequence[int]] = None) -> np.ndarray:
        """(n_structures, n_points) spectra; absorbers: 0-based absorbing-atom index per structure (default: the
        first atom of the model's absorbing element)."""
        cs = _crystals(structures)
        return np.asarray(self._m.predict([c._args() for c in cs], [int(a) for a in (absorbers or [])]))

    def predict_features(self, X) -> np.ndarray:
        """Spectra from a descriptor matrix (models trained on a descriptor table)."""
        return np.asarray(self._m.predict_features(np.asarray(X, dtype=np.float64)))

    def evaluate(self, data, *, plot: Optional[str] = None, per_spectrum: bool = False, **options) -> dict:
        """Metrics on a dataset next to the baselines: keys mse, pearson_median, frac_pearson_gt_0.95,
        peak_position_mae, ..., and baselines {mean, knn}. ``plot``: SVG of predicted vs reference spectra."""
        load, rest = _split(options)
        if rest:
            raise InvalidArgument(f"unknown option(s) {', '.join(sorted(rest))}")
        e = self._m.evaluate(os.fspath(data), json.dumps(load))
        report = json.loads(e["report"])
        if per_spectrum:
            per = json.loads(e["per_spectrum"])
            for p, i in zip(per, e["ids"]):
                p["id"] = i
            report["per_spectrum"] = per
        report["ids"] = list(e["ids"])
        report["reference"] = np.asarray(e["reference"])
        report["predicted"] = np.asarray(e["predicted"])
        if plot is not None:
            _C.plot_spectra(self.mesh, list(e["ids"]), report["predicted"], report["reference"], 12, os.fspath(plot))
        return report
