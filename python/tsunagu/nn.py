"""Neural networks (multi-layer perceptrons) trained with LibTorch, behind a scikit-learn-like interface.

:class:`MLPRegressor` fits vector targets (e.g. spectra on an energy mesh) and :class:`MLPClassifier` binary labels,
with feature/target scaling, Adam, learning-rate schedules, dropout, weight decay, early stopping on a validation
split and deterministic seeds. Networks can be saved and loaded (CBOR) and their weights read for analysis. The
work is done by the C++ library (``tsunagu._tsunagu_nn.nn``); options are documented in docs/nn.md.

Example
-------
>>> from tsunagu.nn import MLPRegressor
>>> net = MLPRegressor(hidden=(64, 64), epochs=300, seed=0).fit(X, Y)
>>> net.predict(X_new)
"""
from __future__ import annotations

import json
import os
from typing import Optional, Sequence

import numpy as np

from ._tsunagu import InvalidArgument
from ._tsunagu_nn import nn as _C

__all__ = ["MLPRegressor", "MLPClassifier", "cuda_available"]

cuda_available = _C.cuda_available
_DEFAULTS = json.loads(_C.default_options())


def _matrix(a, name: str) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 1:
        a = a.reshape(-1, 1)
    if a.ndim != 2:
        raise InvalidArgument(f"{name}: expected a 1-D or 2-D array, got {a.ndim} dimensions")
    return a


class _Base:
    _task = "regression"

    def __init__(self, hidden: Sequence[int] = (128, 128), **options):
        unknown = set(options) - set(_DEFAULTS)
        if unknown:
            raise InvalidArgument(f"unknown option(s) {', '.join(sorted(unknown))} (known: {', '.join(sorted(_DEFAULTS))})")
        self.hidden = tuple(int(h) for h in hidden)
        self.options = dict(options)
        self._net: Optional[_C.Mlp] = None
        self._y_1d = False

    def get_params(self, deep: bool = True) -> dict:
        return {"hidden": self.hidden, **self.options}

    def set_params(self, **params):
        if "hidden" in params:
            self.hidden = tuple(int(h) for h in params.pop("hidden"))
        unknown = set(params) - set(_DEFAULTS)
        if unknown:
            raise InvalidArgument(f"unknown option(s) {', '.join(sorted(unknown))}")
        self.options.update(params)
        return self

    def _options_json(self) -> str:
        o = dict(_DEFAULTS)
        o.update(self.options)
        o["hidden"] = list(self.hidden)
        o["task"] = self._task
        return json.dumps(o)

    def fit(self, X, y, X_val=None, y_val=None):
        X = _matrix(X, "X")
        y_arr = np.asarray(y, dtype=np.float64)
        self._y_1d = y_arr.ndim == 1
        Y = _matrix(y_arr, "y")
        Xv = None if X_val is None else _matrix(X_val, "X_val")
        Yv = None if y_val is None else _matrix(y_val, "y_val")
        self._net = _C.Mlp.fit(X, Y, self._options_json(), Xv, Yv)
        return self

    def _require(self) -> "_C.Mlp":
        if self._net is None:
            raise InvalidArgument("the network is not fitted yet (call fit or load)")
        return self._net

    def _raw_predict(self, X) -> np.ndarray:
        return np.asarray(self._require().predict(_matrix(X, "X")))

    @property
    def history(self) -> dict:
        """Per-epoch training/validation loss, best epoch, device, throughput (samples/s), message."""
        return self._require().history

    @property
    def weights(self):
        """Layer weight matrices (out, in), in the scaled space the network sees (see docs/nn.md)."""
        return [np.asarray(w) for w in self._require().weights]

    @property
    def biases(self):
        return [np.asarray(b) for b in self._require().biases]

    def save(self, path) -> None:
        self._require().save(os.fspath(path))

    @classmethod
    def load(cls, path):
        net = _C.Mlp.load(os.fspath(path))
        o = json.loads(net.options)
        self = cls(hidden=o.pop("hidden"))
        task = o.pop("task", None)
        if task != cls._task:
            raise InvalidArgument(f"{os.fspath(path)}: holds a {task} network, not one for {cls.__name__}")
        self.options = o
        self._net = net
        # The file does not record whether y was 1-D; a single-output network predicts 1-D, as scikit-learn does.
        self._y_1d = net.n_outputs == 1
        return self


class MLPRegressor(_Base):
    """MLP regression; ``y`` may be (n,) or (n, n_outputs). Options: see docs/nn.md (activation, dropout,
    weight_decay, learning_rate, schedule, epochs, batch_size, patience, validation_fraction, seed, device, ...)."""

    _task = "regression"

    def predict(self, X) -> np.ndarray:
        Y = self._raw_predict(X)
        return Y[:, 0] if self._y_1d and Y.shape[1] == 1 else Y

    def score(self, X, y) -> float:
        """R² of the prediction (averaged over outputs)."""
        y = _matrix(y, "y")
        p = _matrix(self._raw_predict(X), "p")
        ss_res = ((y - p) ** 2).sum(axis=0)
        ss_tot = ((y - y.mean(axis=0)) ** 2).sum(axis=0)
        return float(np.mean(1.0 - ss_res / ss_tot))


class MLPClassifier(_Base):
    """Binary MLP classifier: labels 0/1; :meth:`predict_proba` gives P(y = 1)."""

    _task = "binary"

    def predict_proba(self, X) -> np.ndarray:
        return self._raw_predict(X)[:, 0]

    def predict(self, X) -> np.ndarray:
        return (self.predict_proba(X) >= 0.5).astype(np.int64)
