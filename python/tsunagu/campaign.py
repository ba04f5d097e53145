"""Autonomous experiment campaigns: the closed loop between the Bayesian optimiser and an instrument.

>>> from tsunagu.campaign import Campaign
>>> c = Campaign.create("examples/campaign/sputter.toml", "lab.sqlite")
>>> c.run("command:python examples/campaign/sputter_robot.py", max_experiments=10)
>>> c.status()["best"]

State lives in one SQLite file (see docs/campaign.md); every transition is committed before it is acted on, so a
campaign killed at any moment resumes with :meth:`Campaign.run` (or ``tsunagu campaign run``) without losing or
repeating an experiment. The CLI, the dashboard and this class share one implementation.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Union

import numpy as np

from ._tsunagu import InvalidArgument
from ._tsunagu import campaign as _cp

__all__ = ["Campaign"]

PathLike = Union[str, os.PathLike]


class Campaign:
    """A campaign database. ``Campaign(db)`` opens an existing one; :meth:`create` starts a new one."""

    def __init__(self, db: PathLike):
        self._store = _cp.Store.open(str(db))

    @classmethod
    def create(cls, spec: Union[PathLike, str], db: PathLike) -> "Campaign":
        """New campaign from a TOML spec file (or TOML text containing a newline) stored in a new database."""
        text, source = _read_spec(spec)
        self = cls.__new__(cls)
        self._store = _cp.Store.create(str(db), text, source)
        return self

    # ---- information ------------------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self._store.name

    @property
    def path(self) -> Path:
        return Path(self._store.path)

    @property
    def parameter_names(self) -> List[str]:
        return self._store.parameter_names

    @property
    def objective_names(self) -> List[str]:
        return self._store.objective_names

    def status(self) -> Dict[str, Any]:
        """The status document (counts, best, best_so_far, experiments, events) that the dashboard shows."""
        return json.loads(self._store.status_json())

    def status_text(self) -> str:
        return self._store.status_text()

    def best_so_far(self) -> np.ndarray:
        return np.asarray(self._store.best_so_far(), dtype=float)

    def experiments(self) -> List[Dict[str, Any]]:
        return self.status()["experiments"]

    def observations(self):
        """(X, Y, pending) as the optimiser sees them: final proposals (failed ones as NaN rows) and pending points."""
        return self._store.observations()

    def stop_rule_met(self):
        """(met, reason) for the spec's stopping rule."""
        return self._store.stop_rule_met()

    # ---- actions ----------------------------------------------------------------------------------------------
    def run(self, adapter: str, *, max_experiments: Optional[int] = None, wait_for_manual: bool = False,
            timeout: Optional[float] = None, poll_interval: Optional[float] = None) -> Dict[str, Any]:
        """Run (or resume) the loop with an adapter: ``"command:CMD"``, ``"http://host:port"`` or ``"manual"``.
        Returns a summary (started, done, failed, requeued, repolled, stop_reason)."""
        if max_experiments is not None and int(max_experiments) < 1:
            raise InvalidArgument(f"max_experiments: must be >= 1, got {max_experiments}")
        return self._store.run(str(adapter), -1 if max_experiments is None else int(max_experiments),
                               bool(wait_for_manual), 0.0 if timeout is None else float(timeout),
                               0.0 if poll_interval is None else float(poll_interval))

    def record(self, experiment: int, value: Union[float, Mapping[str, float], None] = None, *,
               failed: Optional[str] = None) -> None:
        """Record a measured result (a number for a single objective, or {objective: value}) or a failure."""
        if failed is not None:
            if value is not None:
                raise InvalidArgument("record: give either a value or failed=, not both")
            self._store.record_failure(int(experiment), str(failed), True)
            return
        if value is None:
            raise InvalidArgument("record: a value (or failed='why') is required")
        if isinstance(value, Mapping):
            values = {str(k): float(v) for k, v in value.items()}
        else:
            names = self.objective_names
            if len(names) != 1:
                raise InvalidArgument(f"record: {len(names)} objectives ({', '.join(names)}); pass a dict")
            values = {names[0]: float(value)}
        self._store.record_result(int(experiment), values)

    def control(self, action: Optional[str] = None) -> str:
        """Current control state, or set it: "pause", "resume" or "stop"."""
        if action is not None:
            mapping = {"pause": "paused", "resume": "running", "stop": "stopped"}
            if action not in mapping:
                raise InvalidArgument(f"control: unknown action '{action}' (pause, resume, stop)")
            self._store.set_control(mapping[action])
        return self._store.control()

    def export(self, path: PathLike) -> None:
        """All experiments as CSV (written atomically)."""
        self._store.export_csv(str(path))

    def plot(self, path: Optional[PathLike] = None) -> str:
        """Best-so-far SVG; written to ``path`` when given."""
        svg = self._store.best_so_far_svg()
        if path is not None:
            tmp = Path(f"{path}.tmp.{os.getpid()}")  # atomic: never a half-written SVG under the final name
            tmp.write_text(svg)
            os.replace(tmp, path)
        return svg


def _read_spec(spec: Union[PathLike, str]):
    if isinstance(spec, str) and "\n" in spec:
        return spec, "<string>"
    p = Path(spec)
    try:
        return p.read_text(), str(p)
    except OSError as e:
        from ._tsunagu import IoError
        raise IoError(f"{p}: cannot read campaign spec ({e.strerror})") from None
