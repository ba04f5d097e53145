"""Bayesian optimisation: Gaussian-process surrogates, acquisitions, batch and pool-based suggestions.

* :class:`GaussianProcess` — GP regression (RBF, Matérn 3/2, 5/2; ARD; learned or fixed noise; MAP priors) with a
  scikit-learn-like ``fit``/``predict`` interface.
* :class:`Space` — a search space from a TOML file/text or from Python dictionaries (same validation as the CLI).
* :class:`Optimizer` — ``Optimizer(space).suggest(X, y, batch=q)`` returns the next experiments.
* :func:`run_pool` — a pool-based benchmark run on a CSV table (the protocol of ``tsunagu bo pool``).

Points are in natural units, one column per parameter in declaration order; a categorical parameter is given by the
index of its choice (``Space.parameters[j]["choices"]``) or, in a pandas DataFrame, by its label.
The numerical work is done by the C++ library (``tsunagu._tsunagu.bayesopt``) with the GIL released.
"""
from __future__ import annotations

import math
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Union

import numpy as np

from ._tsunagu import InvalidArgument
from ._tsunagu import bayesopt as _bo

__all__ = ["GaussianProcess", "Space", "Optimizer", "run_pool", "pareto_front", "hypervolume",
           "expected_improvement", "log_expected_improvement", "probability_of_improvement", "upper_confidence_bound"]

pareto_front = _bo.pareto_front
hypervolume = _bo.hypervolume
expected_improvement = _bo.expected_improvement
log_expected_improvement = _bo.log_expected_improvement
probability_of_improvement = _bo.probability_of_improvement
upper_confidence_bound = _bo.upper_confidence_bound


def _matrix(A, name: str, cols: Optional[int] = None, allow_nan: bool = False) -> np.ndarray:
    try:
        M = np.asarray(A, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise InvalidArgument(f"{name}: not convertible to a float64 array ({e})") from None
    if M.ndim == 1:
        M = M.reshape(-1, 1) if cols in (None, 1) else M.reshape(1, -1)
    if M.ndim != 2:
        raise InvalidArgument(f"{name}: expected a 2-D array, got shape {M.shape}")
    if cols is not None and M.shape[0] > 0 and M.shape[1] != cols:
        raise InvalidArgument(f"{name}: expected {cols} columns, got shape {M.shape}")
    bad = ~np.isfinite(M) if not allow_nan else np.isinf(M)
    if bad.any():
        i, j = map(int, np.argwhere(bad)[0])
        raise InvalidArgument(f"{name}: non-finite value {M[i, j]} at row {i}, column {j}")
    return np.ascontiguousarray(M)


# ------------------------------------------------------------------------------------------------------------------
class GaussianProcess:
    """Gaussian-process regression.

    Parameters
    ----------
    kernel : "matern52" | "matern32" | "rbf"
    ard : one lengthscale per input dimension
    noise : None to learn the noise variance, or a fixed noise variance (model units: standardised y)
    normalize_x, standardize_y : input scaling to [0, 1] by the training min/max; y centred and scaled
    prior : None, "gamma" (MAP with BoTorch's former default Gamma priors) or "dimscaled" (MAP with the
        dimension-scaled log-normal priors of Hvarfner et al. 2024, BoTorch's default since 0.12)
    lengthscale_min, lengthscale_max : bounds of the fitted lengthscales (model units of x, the unit box with
        normalize_x); None keeps the library's (1e-3, 1e3)
    optimize : False keeps the hyperparameters given to :meth:`set_hyperparameters`
    warp_inputs : learn a Kumaraswamy CDF warp 1 - (1 - x^a)^b of each input (Snoek et al. 2014) with the other
        hyperparameters; inputs in model units must lie in [0, 1] (normalize_x does that for the training range;
        points outside are clamped). A normal prior on log a and log b (mean 0, variance 0.75) is part of the
        objective.
    restarts, seed, threads : multi-start L-BFGS-B settings (threads 0 = all cores)
    """

    def __init__(self, kernel: str = "matern52", *, ard: bool = True, noise: Optional[float] = None,
                 normalize_x: bool = True, standardize_y: bool = True, prior: Optional[str] = None,
                 optimize: bool = True, warp_inputs: bool = False, restarts: int = 3, seed: int = 0,
                 threads: int = 0, lengthscale_min: Optional[float] = None,
                 lengthscale_max: Optional[float] = None):
        o = _bo.GpOptions()
        if lengthscale_min is not None:
            o.lengthscale_min = float(lengthscale_min)
        if lengthscale_max is not None:
            o.lengthscale_max = float(lengthscale_max)
        o.kernel = kernel
        o.ard = bool(ard)
        if noise is not None:
            o.learn_noise = False
            o.noise = float(noise)
        o.normalize_x = bool(normalize_x)
        o.standardize_y = bool(standardize_y)
        o.prior = "none" if prior is None else prior
        o.optimize = bool(optimize)
        o.warp_inputs = bool(warp_inputs)
        o.restarts = int(restarts)
        o.seed = int(seed)
        o.threads = int(threads)
        o.validate()
        self._gp = _bo.GaussianProcess(o)

    def set_hyperparameters(self, signal_variance: float, lengthscales, noise_variance: float, warp_a=None,
                            warp_b=None) -> "GaussianProcess":
        """Fix hyperparameters in model units (used as given when ``optimize=False``, else as the first start).
        warp_a, warp_b: Kumaraswamy parameters per input dimension (``warp_inputs=True`` only; None = identity)."""
        vec = (lambda v: None if v is None else np.atleast_1d(np.asarray(v, float)))
        self._gp.set_hyperparameters(float(signal_variance), np.atleast_1d(np.asarray(lengthscales, float)),
                                     float(noise_variance), vec(warp_a), vec(warp_b))
        return self

    def fit(self, X, y) -> "GaussianProcess":
        X = _matrix(X, "X")
        y = np.asarray(y, dtype=np.float64).ravel()
        if y.shape[0] != X.shape[0]:
            raise InvalidArgument(f"y: {y.shape[0]} values for {X.shape[0]} rows of X")
        self._gp.fit(X, _matrix(y, "y")[:, 0])
        return self

    def predict(self, X, return_std: bool = False, include_noise: bool = False):
        """Posterior mean (and standard deviation) of f at X (m, d), original units of y."""
        mean, var = self._gp.predict(_matrix(X, "X", self._gp.dim), include_noise)
        if return_std:
            return mean, np.sqrt(np.maximum(var, 0.0))
        return mean

    def predict_covariance(self, X) -> np.ndarray:
        return self._gp.predict_covariance(_matrix(X, "X", self._gp.dim))

    def sample(self, X, n_samples: int = 1, seed: int = 0) -> np.ndarray:
        """Joint posterior draws of f at X: (m, n_samples)."""
        return self._gp.sample_posterior(_matrix(X, "X", self._gp.dim), int(n_samples), int(seed))

    def add_observation(self, x, y: float) -> None:
        self._gp.add_observation(np.asarray(x, float).ravel(), float(y))

    def log_marginal_likelihood(self, theta=None, eval_gradient: bool = False):
        """At the fitted hyperparameters, or at ``theta`` = [log s2, log l..., (log noise), (log a..., log b...)]
        with its gradient."""
        if theta is None:
            return self._gp.log_marginal_likelihood()
        value, grad = self._gp.log_marginal_likelihood_at(np.asarray(theta, float).ravel())
        return (value, grad) if eval_gradient else value

    @property
    def hyperparameters(self) -> Dict[str, Any]:
        return self._gp.hyperparameters

    @property
    def theta(self) -> np.ndarray:
        return self._gp.theta


# ------------------------------------------------------------------------------------------------------------------
def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        if not math.isfinite(float(v)):
            raise InvalidArgument(f"space: non-finite number {v}")
        return repr(float(v))
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    if isinstance(v, Mapping):
        return "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(x)}" for k, x in v.items()) + " }"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise InvalidArgument(f"space: unsupported value {v!r} of type {type(v).__name__}")


def _toml_key(k) -> str:
    k = str(k)
    return k if k.replace("_", "").replace("-", "").isalnum() else _toml_value(k)


class Space:
    """A search space.

    ``Space.from_file("space.toml")``, ``Space.from_toml(text)`` or
    ``Space(parameters=[{"name": "power", "low": 50, "high": 300, "unit": "W"}, ...],
    objectives=[{"name": "resistivity", "direction": "minimize"}], constraints=[{"coefficients": {...}, "upper": 1}])``
    — the dictionaries use exactly the keys of the TOML format (docs/bayesopt.md) and are validated by the same code.
    """

    def __init__(self, parameters: Sequence[Mapping[str, Any]] = (), objectives: Sequence[Mapping[str, Any]] = (),
                 constraints: Sequence[Mapping[str, Any]] = (), *, _native=None):
        if _native is not None:
            self._s = _native
            return
        parts = []
        for kind, items in (("parameter", parameters), ("constraint", constraints), ("objective", objectives)):
            for item in items:
                if not isinstance(item, Mapping):
                    raise InvalidArgument(f"space: each {kind} must be a dict, got {type(item).__name__}")
                parts.append(f"[[{kind}]]\n" + "".join(f"{_toml_key(k)} = {_toml_value(v)}\n" for k, v in item.items()))
        self._s = _bo.Space.from_toml("\n".join(parts), "<python space>")

    @classmethod
    def from_toml(cls, text: str, source: str = "<string>") -> "Space":
        return cls(_native=_bo.Space.from_toml(text, source))

    @classmethod
    def from_file(cls, path) -> "Space":
        return cls(_native=_bo.Space.read(str(path)))

    @property
    def parameters(self) -> List[Dict[str, Any]]:
        return self._s.parameters

    @property
    def objectives(self) -> List[Dict[str, Any]]:
        return self._s.objectives

    @property
    def parameter_names(self) -> List[str]:
        return self._s.parameter_names

    @property
    def objective_names(self) -> List[str]:
        return self._s.objective_names

    @property
    def dim(self) -> int:
        return self._s.dim

    def sample(self, n: int, seed: int = 0) -> np.ndarray:
        """n feasible points (Latin-hypercube strata), natural units, shape (n, n_parameters)."""
        return self._s.sample(int(n), int(seed))

    def encode(self, points) -> np.ndarray:
        return self._s.encode(self.points(points))

    def feasible(self, point) -> bool:
        return bool(self._s.feasible(np.asarray(point, float).ravel()))

    def points(self, X, name: str = "X") -> np.ndarray:
        """X as a numeric (n, n_parameters) array; a pandas DataFrame is matched by column names and categorical
        labels are converted to choice indices."""
        if hasattr(X, "columns") and hasattr(X, "to_csv"):
            return self._s.points_from_csv(X[[c for c in X.columns]].to_csv(index=False), f"<{name} DataFrame>")
        return _matrix(X, name, len(self.parameter_names))

    def rows(self, points) -> List[Dict[str, Any]]:
        """Points as dictionaries {name: value} with categories by label (for printing or a robot)."""
        out = []
        for p in np.atleast_2d(np.asarray(points, float)):
            cells = self._s.format_point(p)
            row = {}
            for spec, cell in zip(self.parameters, cells):
                if spec["type"] == "categorical" or (spec["type"] == "fixed" and isinstance(spec.get("value"), str)):
                    row[spec["name"]] = cell
                elif spec["type"] == "integer":
                    row[spec["name"]] = int(cell)
                else:
                    row[spec["name"]] = float(cell)
            out.append(row)
        return out


# ------------------------------------------------------------------------------------------------------------------
class Optimizer:
    """Proposes the next experiments.

    Parameters
    ----------
    space : :class:`Space` (its objectives give the columns of y and their directions)
    acquisition : "logei" (default) | "ei" | "pi" | "ucb" | "ts" | "nei"
    batch_method : "kb" (kriging believer) | "lp" (local penalisation) | "ts" (Thompson)
    kernel, ard, noise, prior, restarts, lengthscale_min : surrogate settings (see :class:`GaussianProcess`)
    kappa, xi : UCB weight, EI/PI margin
    spread : sd the acquisition sees: "latent" (of f), "measurement" (of a new measurement, f + noise) or
        "auto" (default: measurement for :meth:`suggest_pool`, latent for :meth:`suggest`)
    y_transform : "none" (default) | "power": Yeo-Johnson warping of each objective before the GP fit (lambda by
        maximum likelihood); reported means become back-transformed medians
    input_warp : "none" (default; columns min-max over the space) | "learned" (the GP learns a Kumaraswamy warp of
        each column, see :class:`GaussianProcess` ``warp_inputs``); for :meth:`suggest_pool` only (:meth:`suggest`
        refuses them): "rank" (each column replaced by the mid-rank of its value among the pool's rows, in [0, 1]) |
        "auto" (whichever of none and rank fits the observations with the higher marginal likelihood, decided at
        each call) | "rank+learned" (the learned warp on top of the rank encoding)
    candidates, starts : random candidates and L-BFGS-B refinements of the acquisition
    reference_point : multi-objective hypervolume reference (natural units), default automatic
    seed, threads
    """

    def __init__(self, space: Space, *, acquisition: str = "logei", batch_method: str = "kb",
                 kernel: str = "matern52", ard: bool = True, noise: Optional[float] = None, prior: Optional[str] = None,
                 restarts: int = 3, kappa: float = 2.0, xi: float = 0.0, spread: str = "auto",
                 y_transform: str = "none", input_warp: str = "none", candidates: int = 1000, starts: int = 5,
                 rff_features: int = 1000, reference_point: Optional[Sequence[float]] = None,
                 feasibility_model: bool = True, seed: int = 0, threads: int = 0,
                 lengthscale_min: Optional[float] = None):
        if not isinstance(space, Space):
            raise InvalidArgument(f"space: expected a tsunagu.bayesopt.Space, got {type(space).__name__}")
        o = _bo.OptimizerOptions()
        o.acquisition = acquisition
        o.batch_method = batch_method
        o.spread = spread
        o.y_transform = y_transform
        o.input_warp = input_warp
        g = o.gp
        g.kernel = kernel
        g.ard = bool(ard)
        if noise is not None:
            g.learn_noise = False
            g.noise = float(noise)
        g.prior = "none" if prior is None else prior
        g.restarts = int(restarts)
        if lengthscale_min is not None:
            g.lengthscale_min = float(lengthscale_min)
        g.seed = int(seed)
        g.threads = int(threads)
        o.gp = g
        o.kappa = float(kappa)
        o.xi = float(xi)
        o.candidates = int(candidates)
        o.starts = int(starts)
        o.rff_features = int(rff_features)
        o.reference_point = [] if reference_point is None else [float(v) for v in reference_point]
        o.feasibility_model = bool(feasibility_model)
        o.seed = int(seed)
        o.threads = int(threads)
        o.validate()
        self.space = space
        self._opt = _bo.Optimizer(space._s, o)

    def _y(self, y, n: int) -> np.ndarray:
        k = len(self.space.objective_names)
        if k == 0:
            raise InvalidArgument("space: no objectives; add at least one [[objective]]")
        if hasattr(y, "columns") and hasattr(y, "to_numpy"):
            y = y[self.space.objective_names].to_numpy()
        Y = np.asarray(y, dtype=np.float64)
        if Y.ndim == 1:
            Y = Y.reshape(-1, 1)
        if Y.shape != (n, k):
            raise InvalidArgument(f"y: expected shape ({n}, {k}) for {n} observations of {k} objective(s), "
                                  f"got {Y.shape}")
        if np.isinf(Y).any():
            raise InvalidArgument("y: infinite value (use NaN for a failed experiment)")
        return Y

    def suggest(self, X=None, y=None, batch: int = 1, pending=None) -> Dict[str, Any]:
        """Next ``batch`` points given observations X (n, n_parameters) and y (n,) or (n, n_objectives); a row of
        y that is all NaN marks a failed experiment. ``pending``: points proposed but not yet measured.

        Returns a dict with ``points`` (q, n_parameters natural units), ``rows`` (the same as dicts with labels),
        ``acquisition``, ``mean``/``sd`` (q, n_objectives), ``p_feasible``, ``method`` and the fitted ``models``.
        """
        p = len(self.space.parameter_names)
        Xm = np.zeros((0, p)) if X is None else self.space.points(X)
        Y = self._y(np.zeros((0, len(self.space.objective_names))) if y is None else y, Xm.shape[0])
        P = np.zeros((0, p)) if pending is None else self.space.points(pending, "pending")
        if int(batch) < 1:
            raise InvalidArgument(f"batch: must be >= 1, got {batch}")
        out = self._opt.suggest(Xm, Y, P, int(batch))
        out["rows"] = self.space.rows(out["points"])
        return out

    def suggest_pool(self, pool, measured: Sequence[int], y, batch: int = 1,
                     pending: Sequence[int] = ()) -> Dict[str, Any]:
        """Choose ``batch`` rows of ``pool`` (m, n_parameters) not measured/pending; y holds the measured rows'
        objectives."""
        P = self.space.points(pool, "pool")
        measured = [int(i) for i in measured]
        Y = self._y(y, len(measured))
        return self._opt.suggest_pool(P, measured, Y, int(batch), [int(i) for i in pending])


def run_pool(csv, objective: str, *, parameters: Sequence[str] = (), initial: int = 5, iterations: int = 50,
             batch: int = 1, minimize: bool = False, acquisition: Optional[str] = None,
             kappa: Optional[float] = None, input_warp: Optional[str] = None, kernel: Optional[str] = None,
             prior: Optional[str] = None, spread: str = "auto", y_transform: str = "none", seed: int = 0,
             threads: int = 0, lengthscale_min: Optional[float] = None) -> Dict[str, Any]:
    """Pool-based benchmark run on a CSV table (duplicate parameter rows averaged). Returns ``order`` (0-based data
    rows of the file, initial random rows first), ``best_so_far``, ``values`` and per-iteration ``seconds``.

    acquisition, kappa, input_warp, kernel : None takes the pool defaults of the library (the same as
        ``tsunagu bo pool``): "ucb" with kappa 1 on rank-warped inputs, "matern32" (ARD). input_warp: "none"
        (min-max) | "rank" (mid-rank of each column among the pool's rows, in [0, 1]) | "auto" (whichever encoding
        gives the higher marginal likelihood) | "learned" (a Kumaraswamy warp per column learned with the GP) |
        "rank+learned".
    prior : None, "gamma" or "dimscaled" (MAP priors of the GP hyperparameters, see :class:`GaussianProcess`)
    lengthscale_min : None takes the pool default (0.3 of the unit box); the lower bound of the GP lengthscales
    """
    o = _bo.pool_optimizer_defaults()
    if acquisition is not None:
        o.acquisition = acquisition
    if kappa is not None:
        o.kappa = float(kappa)
    if input_warp is not None:
        o.input_warp = input_warp
    o.spread = spread
    o.y_transform = y_transform
    g = o.gp
    if kernel is not None:
        g.kernel = kernel
    g.prior = "none" if prior is None else prior
    if lengthscale_min is not None:
        g.lengthscale_min = float(lengthscale_min)
    g.seed = int(seed)
    g.threads = int(threads)
    o.gp = g
    o.seed = int(seed)
    o.threads = int(threads)
    return _bo.run_pool(str(csv), objective, list(parameters), int(initial), int(iterations), int(batch),
                        bool(minimize), o)
