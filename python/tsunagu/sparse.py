"""Sparse modelling for small experimental datasets.

* :class:`PenalizedRegression` (and the shorthands :class:`MCP`, :class:`SCAD`, :class:`Lasso`): penalised
  linear/logistic regression paths by coordinate descent with ncvreg's conventions, K-fold / LOO / repeated
  cross-validation, λ_min and λ_1se, a readable formula, screening of candidates.
* :class:`ExhaustiveSearch`: every descriptor subset up to size ``max_k`` fitted by OLS and scored by K-fold CV,
  with the density of states of CV errors and a weight diagram.

All heavy lifting happens in C++ (``tsunagu._tsunagu.sparse``) with the GIL released; this module only converts
arguments and keeps scikit-learn conventions (``fit``/``predict``/``coef_``/``intercept_``/``get_params``).
"""
from __future__ import annotations

import inspect
import math
import os
import warnings
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from ._tsunagu import InvalidArgument
from ._tsunagu import sparse as _sp

__all__ = ["PenalizedRegression", "MCP", "SCAD", "Lasso", "ExhaustiveSearch", "load_csv", "kkt_violation",
           "threshold"]


# ----------------------------------------------------------------------------------------------------------------
def _as_matrix(X, name="X") -> tuple[np.ndarray, Optional[List[str]]]:
    names = None
    if hasattr(X, "columns") and hasattr(X, "to_numpy"):  # pandas DataFrame
        names = [str(c) for c in X.columns]
        X = X.to_numpy()
    try:
        A = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise InvalidArgument(f"{name}: not convertible to a float64 array ({e})") from None
    if A.ndim != 2:
        raise InvalidArgument(f"{name}: expected a 2-D array (n_samples, n_features), got shape {A.shape}")
    if A.shape[0] == 0 or A.shape[1] == 0:
        raise InvalidArgument(f"{name}: empty array of shape {A.shape}")
    bad = ~np.isfinite(A)
    if bad.any():
        i, j = map(int, np.argwhere(bad)[0])
        raise InvalidArgument(f"{name}: non-finite value {A[i, j]} at row {i}, column {j}")
    return A, names


def _as_vector(y, n: int, name="y") -> np.ndarray:
    if hasattr(y, "to_numpy"):
        y = y.to_numpy()
    try:
        v = np.asarray(y, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise InvalidArgument(f"{name}: not convertible to a float64 array ({e})") from None
    if v.ndim == 2 and v.shape[1] == 1:
        v = v[:, 0]
    if v.ndim != 1:
        raise InvalidArgument(f"{name}: expected a 1-D array of length {n}, got shape {v.shape}")
    if v.shape[0] != n:
        raise InvalidArgument(f"{name}: has {v.shape[0]} values but X has {n} rows")
    bad = ~np.isfinite(v)
    if bad.any():
        i = int(np.argwhere(bad)[0][0])
        raise InvalidArgument(f"{name}: non-finite value {v[i]} at row {i}")
    return v


def load_csv(path: str | os.PathLike, target: Optional[str] = None, features: Optional[Sequence[str]] = None,
             exclude: Optional[Sequence[str]] = None, drop_missing: bool = False):
    """Load ``(X, y, feature_names)`` from a CSV file exactly as the CLI does (``y`` is None without a target)."""
    X, y, names, _rows = _sp.load_csv(os.fspath(path), target or "", list(features or []), list(exclude or []),
                                      bool(drop_missing))
    return np.asarray(X), (None if y is None else np.asarray(y)), list(names)


def kkt_violation(path, X, y) -> np.ndarray:
    """Largest KKT violation at each λ of a fitted :class:`Path` (≈ 0 at a local optimum)."""
    A, _ = _as_matrix(X)
    return np.asarray(_sp.kkt_violation(path, A, _as_vector(y, A.shape[0])))


def threshold(penalty: str, u: float, v: float, l1: float, l2: float, gamma: float) -> float:
    """Univariate minimiser of (v/2)b² − ub + P(|b|; l1, γ) + (l2/2)b²."""
    return _sp.threshold(penalty, u, v, l1, l2, gamma)


try:  # scikit-learn is optional; with it the estimators are real sklearn estimators (clone, pipelines, tags)
    from sklearn.base import BaseEstimator as _SkBase
except ImportError:  # pragma: no cover - exercised only without scikit-learn
    _SkBase = object


def _int(name: str, value, minimum: int) -> int:
    """An integer parameter, refusing fractional values and values below `minimum` with a ValueError."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        if isinstance(value, (float, np.floating)) and float(value).is_integer():
            value = int(value)
        else:
            raise InvalidArgument(f"{name}: expected an integer (got {value!r})")
    if value < minimum:
        raise InvalidArgument(f"{name}: must be >= {minimum} (got {value})")
    return int(value)


class _Params(_SkBase):
    """get_params/set_params from the constructor signature (scikit-learn's convention)."""

    @classmethod
    def _param_names(cls) -> List[str]:
        sig = inspect.signature(cls.__init__)
        return [p.name for p in sig.parameters.values() if p.name != "self" and p.kind != p.VAR_KEYWORD]

    def get_params(self, deep: bool = True) -> Dict[str, Any]:
        return {k: getattr(self, k) for k in self._param_names()}

    def set_params(self, **params) -> "_Params":
        valid = set(self._param_names())  # shorthands (MCP, ...) have no `penalty` parameter to change
        for k, v in params.items():
            if k not in valid:
                raise InvalidArgument(f"{type(self).__name__}: unknown parameter '{k}' (valid: {', '.join(sorted(valid))})")
            setattr(self, k, v)
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={getattr(self, k)!r}" for k in self._param_names())
        return f"{type(self).__name__}({args})"


# ----------------------------------------------------------------------------------------------------------------
class PenalizedRegression(_Params):
    """Penalised linear (``family="gaussian"``) or logistic (``"binomial"``) regression path + cross-validation.

    Objective (ncvreg's): (1/2n)‖y − β0 − Xβ‖² + Σ_j P(|β_j|; λ·α·pf_j, γ) + λ(1−α)pf_j β_j²/2 on columns
    centred and scaled by their population SD; coefficients are reported on the original scale.

    Parameters
    ----------
    penalty : "mcp" | "scad" | "lasso"
    gamma : concavity, default 3 (MCP, must be > 1) or 3.7 (SCAD, > 2)
    alpha : elastic-net mixing in (0, 1]
    family : "gaussian" or "binomial" (0/1 outcomes; ``predict`` returns labels, ``predict_proba`` probabilities)
    nlambda, lambda_min_ratio, lambdas : the λ path (``lambdas`` overrides; strictly decreasing)
    eps, max_iter, dfmax : convergence max|Δβ| < eps·sd(y); sweeps over the whole path; max selected features
    penalty_factor : per-feature multipliers of λ (0 = never penalised), shape (p,)
    cv : number of folds (None or 0: no cross-validation); loocv, repeats, seed : CV design
    lambda_select : "min" or "1se" — which λ ``coef_``/``predict`` use after ``fit``
    threads : 0 = all cores; verbose : progress line on stderr
    """

    _fixed_penalty: Optional[str] = None

    def __init__(self, penalty: str = "mcp", gamma: Optional[float] = None, alpha: float = 1.0,
                 family: str = "gaussian", nlambda: int = 100, lambda_min_ratio: Optional[float] = None,
                 lambdas: Optional[Sequence[float]] = None, eps: float = 1e-4, max_iter: int = 10000,
                 dfmax: Optional[int] = None, penalty_factor: Optional[Sequence[float]] = None,
                 cv: Optional[int] = 10, loocv: bool = False, repeats: int = 1, seed: int = 0,
                 lambda_select: str = "min", threads: int = 0, verbose: bool = False):
        self.penalty = penalty
        self.gamma = gamma
        self.alpha = alpha
        self.family = family
        self.nlambda = nlambda
        self.lambda_min_ratio = lambda_min_ratio
        self.lambdas = lambdas
        self.eps = eps
        self.max_iter = max_iter
        self.dfmax = dfmax
        self.penalty_factor = penalty_factor
        self.cv = cv
        self.loocv = loocv
        self.repeats = repeats
        self.seed = seed
        self.lambda_select = lambda_select
        self.threads = threads
        self.verbose = verbose

    # -- options ---------------------------------------------------------------------------------------------
    def _options(self, n: int, p: int):
        o = _sp.PathOptions()
        o.family = self.family
        o.penalty = self._fixed_penalty or self.penalty
        gamma = getattr(self, "gamma", None)
        o.gamma = math.nan if gamma is None else float(gamma)
        o.alpha = float(self.alpha)
        o.nlambda = _int("nlambda", self.nlambda, 2)
        o.lambda_min_ratio = math.nan if self.lambda_min_ratio is None else float(self.lambda_min_ratio)
        o.lambda_ = [] if self.lambdas is None else [float(v) for v in np.asarray(self.lambdas, dtype=float).ravel()]
        o.eps = float(self.eps)
        o.max_iter = _int("max_iter", self.max_iter, 1)
        o.dfmax = -1 if self.dfmax is None else _int("dfmax", self.dfmax, 0)
        o.penalty_factor = [] if self.penalty_factor is None else [float(v) for v in np.asarray(self.penalty_factor, dtype=float).ravel()]
        o.validate(n, p)
        return o

    def _cv_options(self, n: int, fold_ids):
        c = _sp.CvOptions()
        c.folds = _int("cv", self.cv, 2) if self.cv else 10
        c.loocv = bool(self.loocv)
        c.repeats = _int("repeats", self.repeats, 1)
        c.seed = _int("seed", self.seed, 0)
        c.threads = _int("threads", self.threads, 0)
        c.progress = bool(self.verbose)
        if fold_ids is not None:
            ids = np.asarray(fold_ids)
            if ids.shape != (n,):
                raise InvalidArgument(f"fold_ids: expected shape ({n},), got {ids.shape}")
            if not np.all(ids == np.round(ids)) or (ids.size and ids.min() < 0):
                raise InvalidArgument("fold_ids: labels must be integers 0..K-1")
            c.fold_ids = [int(v) for v in ids]
        return c

    # -- fitting ---------------------------------------------------------------------------------------------
    def path(self, X, y, feature_names: Optional[Sequence[str]] = None):
        """Fit the whole λ path only (no CV). Returns the C++ :class:`Path` (also stored as ``path_``)."""
        A, names = _as_matrix(X)
        v = _as_vector(y, A.shape[0])
        self.path_ = _sp.fit_path(A, v, self._options(*A.shape))
        self._warn(self.path_.warnings)
        self._set_names(feature_names if feature_names is not None else names, A.shape[1])
        self.cv_ = None
        self._select()
        return self.path_

    def fit(self, X, y, fold_ids=None, feature_names: Optional[Sequence[str]] = None):
        """Fit the path and (unless ``cv`` is None/0) cross-validate; ``coef_`` is taken at λ_min or λ_1se.

        ``fold_ids`` (n,) gives user folds 0..K-1; ``feature_names`` names the columns of a plain array.
        """
        A, names = _as_matrix(X)
        v = _as_vector(y, A.shape[0])
        o = self._options(*A.shape)
        do_cv = bool(self.cv) or self.loocv or fold_ids is not None
        c = self._cv_options(A.shape[0], fold_ids) if do_cv else None
        self.path_ = _sp.fit_path(A, v, o)
        self._warn(self.path_.warnings)
        self.cv_ = _sp.cross_validate(A, v, o, c, self.path_) if do_cv else None
        if self.cv_ is not None:
            self._warn(self.cv_.warnings)
        self._set_names(feature_names if feature_names is not None else names, A.shape[1])
        self._select()
        return self

    @staticmethod
    def _warn(messages):
        for msg in messages:
            warnings.warn(msg, RuntimeWarning, stacklevel=3)

    def _set_names(self, names, p):
        self.n_features_in_ = p
        if names is not None:
            names = [str(s) for s in names]
            if len(names) != p:
                raise InvalidArgument(f"feature_names: {len(names)} names for {p} columns")
            self.feature_names_in_ = np.asarray(names, dtype=object)
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_

    def _index(self, lambda_=None) -> int:
        self._check_fitted()
        if lambda_ is None:
            if self.cv_ is None:
                return len(self.path_.lambda_) - 1
            which = self.lambda_select
            if which not in ("min", "1se"):
                raise InvalidArgument(f"lambda_select: expected 'min' or '1se' (got {which!r})")
            return int(self.cv_.index_min if which == "min" else self.cv_.index_1se)
        if isinstance(lambda_, str):
            if lambda_ in ("min", "1se"):
                if self.cv_ is None:
                    raise InvalidArgument(f"lambda: '{lambda_}' needs cross-validation (fit with cv > 0)")
                return int(self.cv_.index_min if lambda_ == "min" else self.cv_.index_1se)
            raise InvalidArgument(f"lambda: expected 'min', '1se' or a number (got {lambda_!r})")
        return int(self.path_.nearest_lambda(float(lambda_)))

    def _select(self):
        k = self._index()
        self.lambda_ = float(self.path_.lambda_[k])
        self.coef_ = np.array(self.path_.beta[:, k])
        self.intercept_ = float(self.path_.intercept[k])

    def _check_fitted(self):
        if not hasattr(self, "path_"):
            raise InvalidArgument(f"{type(self).__name__} is not fitted yet: call fit(X, y) first")

    def _check_X(self, X):
        A, names = _as_matrix(X)
        fitted = getattr(self, "feature_names_in_", None)
        if names is not None and fitted is not None and list(names) != [str(s) for s in fitted]:
            raise InvalidArgument(f"X: columns {names} do not match the features seen in fit {list(fitted)} "
                                  "(same names in the same order required)")
        if A.shape[1] != self.n_features_in_:
            raise InvalidArgument(f"X: has {A.shape[1]} features but the model was fitted with {self.n_features_in_}")
        return A

    # -- prediction ------------------------------------------------------------------------------------------
    def decision_function(self, X, lambda_=None) -> np.ndarray:
        """Linear predictor β0 + Xβ at the selected λ (or ``lambda_``: 'min', '1se', or a value)."""
        self._check_fitted()
        A = self._check_X(X)
        k = self._index(lambda_)
        return A @ np.asarray(self.path_.beta[:, k]) + float(self.path_.intercept[k])

    def predict(self, X, lambda_=None) -> np.ndarray:
        """Predicted response (gaussian) or class label 0/1 (binomial)."""
        eta = self.decision_function(X, lambda_)
        if self.path_.family == "binomial":
            return (eta > 0).astype(np.float64)
        return eta

    def predict_proba(self, X, lambda_=None) -> np.ndarray:
        """(n, 2) class probabilities for the binomial family."""
        if self.family != "binomial":
            raise InvalidArgument("predict_proba: only for family='binomial'")
        p1 = 1.0 / (1.0 + np.exp(-self.decision_function(X, lambda_)))
        return np.column_stack([1 - p1, p1])

    def predict_path(self, X) -> np.ndarray:
        """Predictions at every λ: (n, L)."""
        self._check_fitted()
        return np.asarray(self.path_.predict(self._check_X(X)))

    def score(self, X, y) -> float:
        """R² (gaussian) or accuracy (binomial) at the selected λ."""
        A = self._check_X(X)
        v = _as_vector(y, A.shape[0])
        pred = self.predict(A)
        if self.path_.family == "binomial":
            return float(np.mean(pred == v))
        return float(1 - np.sum((v - pred) ** 2) / np.sum((v - v.mean()) ** 2))

    # -- reporting -------------------------------------------------------------------------------------------
    def _names(self) -> List[str]:
        if hasattr(self, "feature_names_in_"):
            return [str(s) for s in self.feature_names_in_]
        return [f"x{j}" for j in range(self.n_features_in_)]

    def formula(self, lambda_=None, target: str = "y", digits: int = 4) -> str:
        """The model as a readable formula in original units, e.g. ``y = 12.3 + 4.5*dP - 0.81*V``."""
        k = self._index(lambda_)
        return _sp.formula(self.path_.family, target, self._names(), float(self.path_.intercept[k]),
                           np.asarray(self.path_.beta[:, k]), digits)

    def screen(self, X, lambda_=None, maximize: bool = True):
        """Rank candidates: returns ``(order, prediction)`` with ``order`` best-first row indices."""
        pred = self.decision_function(X, lambda_) if self.family == "gaussian" else self.predict_proba(X, lambda_)[:, 1]
        order = np.argsort(-pred if maximize else pred, kind="stable")
        return order, pred

    def kkt_violation(self, X, y) -> np.ndarray:
        """Largest KKT violation at each λ of the fitted path (optimality check)."""
        self._check_fitted()
        return kkt_violation(self.path_, X, y)

    def save(self, file: str | os.PathLike, target: str = "y") -> None:
        """Write model.json in the CLI's format (readable by ``tsunagu sparse predict``)."""
        self._check_fitted()
        _sp.save_fit(os.fspath(file), self.path_, self.cv_, self._names(), target)

    @classmethod
    def load(cls, file: str | os.PathLike) -> "PenalizedRegression":
        """Read a model.json written by ``save`` or by ``tsunagu sparse fit``."""
        path, cv, features, _target = _sp.load_fit(os.fspath(file))
        if cls._fixed_penalty not in (None, path.penalty):
            raise InvalidArgument(f"{os.fspath(file)}: holds a {path.penalty} model, not {cls._fixed_penalty}; "
                                  "use PenalizedRegression.load")
        kw = dict(alpha=path.alpha, family=path.family, cv=None if cv is None else cv.folds)
        if cls._fixed_penalty is None:
            kw["penalty"] = path.penalty
        if cls._fixed_penalty != "lasso":
            kw["gamma"] = path.gamma
        est = cls(**kw)
        est.path_, est.cv_ = path, cv
        est.n_features_in_ = len(features)
        est.feature_names_in_ = np.asarray(features, dtype=object)
        est._select()
        return est

    def plot_cv(self, file: Optional[str | os.PathLike] = None) -> str:
        """SVG of CV error ± SE against λ (λ_min, λ_1se marked); written atomically to ``file`` if given."""
        if getattr(self, "cv_", None) is None:
            raise InvalidArgument("plot_cv: the model was fitted without cross-validation")
        svg = _sp.cv_plot_svg(self.cv_)
        if file is not None:
            _sp.write_text(os.fspath(file), svg)
        return svg

    def plot_path(self, file: Optional[str | os.PathLike] = None) -> str:
        """SVG of the standardised coefficient paths."""
        self._check_fitted()
        svg = _sp.path_plot_svg(self.path_, self._names())
        if file is not None:
            _sp.write_text(os.fspath(file), svg)
        return svg


_COMMON = ("alpha", "family", "nlambda", "lambda_min_ratio", "lambdas", "eps", "max_iter", "dfmax", "penalty_factor",
           "cv", "loocv", "repeats", "seed", "lambda_select", "threads", "verbose")


class MCP(PenalizedRegression):
    """:class:`PenalizedRegression` with the minimax concave penalty (γ default 3, > 1)."""
    _fixed_penalty = "mcp"

    def __init__(self, gamma: Optional[float] = None, alpha: float = 1.0, family: str = "gaussian",
                 nlambda: int = 100, lambda_min_ratio: Optional[float] = None,
                 lambdas: Optional[Sequence[float]] = None, eps: float = 1e-4, max_iter: int = 10000,
                 dfmax: Optional[int] = None, penalty_factor: Optional[Sequence[float]] = None,
                 cv: Optional[int] = 10, loocv: bool = False, repeats: int = 1, seed: int = 0,
                 lambda_select: str = "min", threads: int = 0, verbose: bool = False):
        super().__init__("mcp", gamma, alpha, family, nlambda, lambda_min_ratio, lambdas, eps, max_iter, dfmax,
                         penalty_factor, cv, loocv, repeats, seed, lambda_select, threads, verbose)
        del self.penalty  # fixed by the class; not a parameter


class SCAD(PenalizedRegression):
    """:class:`PenalizedRegression` with the SCAD penalty (γ default 3.7, > 2)."""
    _fixed_penalty = "scad"

    def __init__(self, gamma: Optional[float] = None, alpha: float = 1.0, family: str = "gaussian",
                 nlambda: int = 100, lambda_min_ratio: Optional[float] = None,
                 lambdas: Optional[Sequence[float]] = None, eps: float = 1e-4, max_iter: int = 10000,
                 dfmax: Optional[int] = None, penalty_factor: Optional[Sequence[float]] = None,
                 cv: Optional[int] = 10, loocv: bool = False, repeats: int = 1, seed: int = 0,
                 lambda_select: str = "min", threads: int = 0, verbose: bool = False):
        super().__init__("scad", gamma, alpha, family, nlambda, lambda_min_ratio, lambdas, eps, max_iter, dfmax,
                         penalty_factor, cv, loocv, repeats, seed, lambda_select, threads, verbose)
        del self.penalty


class Lasso(PenalizedRegression):
    """:class:`PenalizedRegression` with the lasso (ℓ1) penalty."""
    _fixed_penalty = "lasso"

    def __init__(self, alpha: float = 1.0, family: str = "gaussian", nlambda: int = 100,
                 lambda_min_ratio: Optional[float] = None, lambdas: Optional[Sequence[float]] = None,
                 eps: float = 1e-4, max_iter: int = 10000, dfmax: Optional[int] = None,
                 penalty_factor: Optional[Sequence[float]] = None, cv: Optional[int] = 10, loocv: bool = False,
                 repeats: int = 1, seed: int = 0, lambda_select: str = "min", threads: int = 0,
                 verbose: bool = False):
        super().__init__("lasso", None, alpha, family, nlambda, lambda_min_ratio, lambdas, eps, max_iter, dfmax,
                         penalty_factor, cv, loocv, repeats, seed, lambda_select, threads, verbose)
        del self.penalty
        del self.gamma

    gamma = None  # unused by the lasso; kept readable for code that inspects it


# ----------------------------------------------------------------------------------------------------------------
class ExhaustiveSearch(_Params):
    """Exhaustive search over descriptor subsets (all subsets of size ≤ ``max_k``; ``max_k=None`` = all 2^p − 1).

    Each subset is fitted by OLS with an intercept and scored by K-fold CV (root mean squared out-of-fold error).
    After ``fit``: ``models_`` (list of dicts, best first: features, coef, intercept, cv_error, r2, formula),
    ``dos_`` (histogram of CV error over all subsets), ``cv_errors_`` (all subsets), ``n_subsets_``.
    """

    def __init__(self, max_k: Optional[int] = 3, folds: int = 5, seed: int = 0, top: int = 20, bins: int = 60,
                 threads: int = 0, time_limit: float = 600.0, verbose: bool = False):
        self.max_k = max_k
        self.folds = folds
        self.seed = seed
        self.top = top
        self.bins = bins
        self.threads = threads
        self.time_limit = time_limit
        self.verbose = verbose

    def _options(self, p: int, fold_ids=None):
        o = _sp.ExhaustiveOptions()
        o.max_k = p if self.max_k is None else _int("max_k", self.max_k, 1)
        o.folds = _int("folds", self.folds, 2)
        o.seed = _int("seed", self.seed, 0)
        o.top = _int("top", self.top, 1)
        o.dos_bins = _int("bins", self.bins, 1)
        o.threads = _int("threads", self.threads, 0)
        o.time_limit = float(self.time_limit)
        o.progress = bool(self.verbose)
        if fold_ids is not None:
            ids = np.asarray(fold_ids).ravel()
            if not np.all(ids == np.round(ids)) or (ids.size and ids.min() < 0):
                raise InvalidArgument("fold_ids: labels must be integers 0..K-1")
            o.fold_ids = [int(v) for v in ids]
        return o

    def estimate_seconds(self, n: int, p: int) -> float:
        """Predicted run time for an (n, p) problem with these settings."""
        return float(_sp.estimate_exhaustive_seconds(int(n), int(p), self._options(int(p))))

    def fit(self, X, y, feature_names: Optional[Sequence[str]] = None, fold_ids=None, target: str = "y"):
        A, names = _as_matrix(X)
        v = _as_vector(y, A.shape[0])
        if feature_names is not None:
            names = [str(s) for s in feature_names]
            if len(names) != A.shape[1]:
                raise InvalidArgument(f"feature_names: {len(names)} names for {A.shape[1]} columns")
        self.feature_names_ = names or [f"x{j}" for j in range(A.shape[1])]
        self.result_ = _sp.exhaustive_search(A, v, self._options(A.shape[1], fold_ids))
        r = self.result_
        self.models_ = []
        for m in r.models:
            feats = [self.feature_names_[j] for j in m.features]
            coef = np.asarray(m.coef)
            self.models_.append({
                "features": feats, "indices": list(m.features), "intercept": m.intercept, "coef": coef,
                "coef_std": np.asarray(m.coef_std), "cv_error": m.cv_error, "r2": m.r2,
                "formula": _sp.subset_formula(m, self.feature_names_, target)})
        self.target_ = target
        self.dos_ = {"edges": np.asarray(r.dos_edges), "counts": np.asarray(r.dos_counts),
                     "counts_by_k": np.asarray(r.dos_counts_by_k)}
        self.cv_errors_ = np.asarray(r.all_cv_errors)
        self.n_subsets_ = r.n_subsets
        self.n_rank_deficient_ = r.n_rank_deficient
        self.fold_ids_ = np.asarray(r.fold_ids)
        self.fits_per_second_ = r.fits_per_second
        return self

    def save(self, file: str | os.PathLike) -> None:
        """Write es.json in the CLI's format (ranked models, DOS histogram), atomically."""
        if not hasattr(self, "result_"):
            raise InvalidArgument("ExhaustiveSearch is not fitted yet")
        _sp.save_exhaustive(os.fspath(file), self.result_, self.feature_names_, self.target_)

    def weight_diagram(self, file: Optional[str | os.PathLike] = None, top: int = 50) -> str:
        """SVG weight diagram (rows: best models, columns: features, colour: coefficient per SD)."""
        if not hasattr(self, "result_"):
            raise InvalidArgument("ExhaustiveSearch is not fitted yet")
        svg = _sp.weight_diagram_svg(self.result_, self.feature_names_, int(top))
        if file is not None:
            _sp.write_text(os.fspath(file), svg)
        return svg

    def plot_dos(self, file: Optional[str | os.PathLike] = None) -> str:
        """SVG histogram of CV error over all subsets (density of states)."""
        if not hasattr(self, "result_"):
            raise InvalidArgument("ExhaustiveSearch is not fitted yet")
        svg = _sp.dos_svg(self.result_)
        if file is not None:
            _sp.write_text(os.fspath(file), svg)
        return svg
