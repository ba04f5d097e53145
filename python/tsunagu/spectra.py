"""Photoelectron spectra: readers, peak fitting (EM / least squares / Bayesian), peak-count selection, batch maps.

numpy arrays in, numpy arrays and plain dicts out. Every function calls the same C++ library functions as the
``tsunagu spectra`` CLI, and the result dicts have the same keys as the CLI's JSON files.

Energies are in eV; ``energy="binding"`` (default) fits and reports on binding energy, ``"kinetic"`` on kinetic
energy. A peak's ``area`` is in counts·eV (model value at a channel = area × area-normalised profile).

Example
-------
>>> import tsunagu.spectra as ts
>>> s = ts.read("PET_C1s.csv")[0]
>>> r = ts.fit(s, peaks=3, shape="pvoigt", background="shirley")
>>> [round(p["center"], 2) for p in r["peaks"]]
"""
from __future__ import annotations

import json
import math
import os
import warnings
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import numpy as np

from . import _tsunagu

_C = _tsunagu.spectra

__all__ = ["Spectrum", "read", "describe", "fit", "select_peaks", "fit_batch", "fit_cube", "save_map_image",
           "map_names"]


@dataclass
class Spectrum:
    """One spectrum: ``energy`` (n,) eV on ``scale`` ("binding"|"kinetic"), ``counts`` (n,)."""

    energy: np.ndarray
    counts: np.ndarray
    scale: str = "binding"
    photon_energy: float = math.nan
    name: str = ""
    source: str = ""
    work_function: float = 0.0
    metadata: dict = field(default_factory=dict)


def read(path: str | os.PathLike, *, scale: str | None = None) -> list[Spectrum]:
    """All blocks of a VAMAS file or the columns of a CSV/TXT file, as :class:`Spectrum` objects.

    ``scale`` overrides the energy scale of a CSV/TXT file whose header does not name it.
    """
    out = []
    for d in _C.read(os.fspath(path), scale or ""):
        out.append(Spectrum(energy=d["energy"], counts=d["counts"], scale=d["scale"],
                            photon_energy=d["photon_energy"], name=d["name"], source=d["source"],
                            work_function=d["work_function"], metadata=dict(d["metadata"])))
    return out


def describe(path: str | os.PathLike) -> list[dict]:
    """What ``tsunagu spectra info --json`` prints: blocks, points, energy range, photon energy."""
    return json.loads(_C.describe(os.fspath(path)))


_OPTION_KEYS = {"method", "n_peaks", "centers", "shape", "background", "poly_degree", "weighting", "doublets",
                "energy", "region", "seed", "max_iter", "restarts", "min_fwhm", "max_fwhm", "tougaard",
                "replicas", "sweeps", "burn_in", "threads", "shirley"}


def _options(peaks: int | None, peaks_at: Sequence[float] | None, kw: dict[str, Any]) -> str:
    unknown = set(kw) - _OPTION_KEYS
    if unknown:
        raise TypeError(f"unknown option(s): {', '.join(sorted(unknown))}; valid: {', '.join(sorted(_OPTION_KEYS))}")
    o = {k: v for k, v in kw.items() if v is not None}
    if peaks is not None:
        o["n_peaks"] = peaks
    if peaks_at is not None:
        o["centers"] = [float(c) for c in peaks_at]
    if "region" in o:
        o["region"] = [float(x) for x in o["region"]]
    if "doublets" in o:  # "I:J:SPLIT:RATIO[:free]" strings or dicts; the library parses and checks both
        o["doublets"] = [d if isinstance(d, str) else dict(d) for d in o["doublets"]]
    try:
        # numpy scalars become plain numbers; NaN/inf are refused here (JSON has no NaN) with the option's name
        return json.dumps(o, allow_nan=False, default=_plain)
    except ValueError:
        bad = [k for k, v in o.items() if isinstance(v, float) and not math.isfinite(v)]
        raise ValueError(f"option(s) {', '.join(bad) or '?'} must be finite numbers") from None


def _plain(v):
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return float(v)
    raise TypeError(f"option value {v!r} of type {type(v).__name__} is not a number, string or list")


def _arrays(spectrum, counts, scale, photon_energy):
    if isinstance(spectrum, Spectrum):
        if counts is not None:
            raise TypeError("pass either a Spectrum or (energy, counts), not both")
        return (np.ascontiguousarray(spectrum.energy, dtype=float), np.ascontiguousarray(spectrum.counts, dtype=float),
                spectrum.scale if scale is None else scale,
                spectrum.photon_energy if photon_energy is None else photon_energy)
    if counts is None:
        raise TypeError("fit(energy, counts, ...) needs counts (or pass a Spectrum)")
    return (np.ascontiguousarray(spectrum, dtype=float), np.ascontiguousarray(counts, dtype=float),
            scale or "binding", math.nan if photon_energy is None else float(photon_energy))


def _with_arrays(d: dict) -> dict:
    for key in ("energy", "counts", "model", "residual"):
        if key in d:
            d[key] = np.asarray(d[key], dtype=float)
    if "background" in d and isinstance(d["background"], dict) and "values" in d["background"]:
        d["background"]["values"] = np.asarray(d["background"]["values"], dtype=float)
    if "components" in d:
        d["components"] = [np.asarray(c, dtype=float) for c in d["components"]]
    return d


def fit(spectrum, counts=None, *, peaks: int | None = None, peaks_at: Sequence[float] | None = None,
        scale: str | None = None, photon_energy: float | None = None, plot: str | os.PathLike | None = None,
        **options) -> dict:
    """Fit peaks + background to one spectrum.

    ``spectrum`` is a :class:`Spectrum` or an energy array (then ``counts`` is required). Options (as the CLI):
    ``method`` ("lsq" | "em" | "bayes"), ``shape`` ("gauss" | "lorentz" | "voigt" | "pvoigt" | "ds" | "ds_gauss"),
    ``background`` ("none" | "constant" | "linear" | "polynomial" | "shirley" | "active-shirley" | "tougaard"),
    ``energy`` ("binding" | "kinetic"), ``region`` ((lo, hi) eV), ``weighting`` ("poisson" | "gaussian"),
    ``doublets`` (["1:2:13.6:0.5"] or dicts), ``seed``, ``max_iter``, ``restarts``, ``min_fwhm``, ``max_fwhm``,
    ``replicas``/``sweeps``/``burn_in`` (Bayes). Returns the result.json dict with numpy arrays for the curves;
    ``plot`` writes the SVG picture.
    """
    e, c, sc, hv = _arrays(spectrum, counts, scale, photon_energy)
    text, svg = _C.fit(e, c, sc, hv, _options(peaks, peaks_at, options), plot is not None,
                       getattr(spectrum, "name", "") or "")
    if plot is not None:
        _write_text(plot, svg)
    return _with_arrays(json.loads(text))


def select_peaks(spectrum, counts=None, *, max_peaks: int, method: str = "bic", scale: str | None = None,
                 photon_energy: float | None = None, plot: str | os.PathLike | None = None, **options) -> dict:
    """Choose the number of peaks: ``method`` "bayes" (Bayes free energy F(K) by replica exchange), "bic" or "aic".

    Returns ``{"criterion", "k", "free_energy" | "bic" | "aic", "n_peaks", "fits"}`` as ``spectra select`` writes.
    """
    if "n_peaks" in options or "centers" in options:
        raise TypeError("select_peaks tries K = 1..max_peaks; do not pass n_peaks/centers")
    e, c, sc, hv = _arrays(spectrum, counts, scale, photon_energy)
    options.setdefault("method", "bayes" if method == "bayes" else "lsq")
    text, svg = _C.select_peaks(e, c, sc, hv, int(max_peaks), method, _options(None, None, options),
                                plot is not None, getattr(spectrum, "name", "") or "")
    if plot is not None:
        _write_text(plot, svg)
    return json.loads(text)


def fit_batch(energy, spectra, *, peaks: int | None = None, peaks_at: Sequence[float] | None = None,
              scale: str = "binding", photon_energy: float = math.nan, threads: int = 0, warm_start: bool = True,
              **options) -> dict[str, np.ndarray]:
    """Fit every spectrum of an array ``spectra`` with shape (..., n_energy) in parallel.

    Returns maps ``{"peak1/center": array(...), ..., "chi2": ..., "status": ...}`` shaped like ``spectra.shape[:-1]``
    (status 0 ok, 1 not converged, 2 bad spectrum, 3 failed). One bad spectrum never stops the batch.
    """
    e = np.ascontiguousarray(energy, dtype=float)
    s = np.ascontiguousarray(spectra, dtype=float)
    if s.ndim < 1 or e.ndim != 1 or s.shape[-1] != e.shape[0]:
        raise ValueError(f"spectra must have shape (..., {e.shape[0] if e.ndim == 1 else '?'}) matching energy; "
                         f"got {s.shape}")
    maps, messages = _C.fit_batch(e, s.reshape(-1, e.shape[0]), scale, float(photon_energy),
                                  _options(peaks, peaks_at, options), int(threads), bool(warm_start))
    shape = s.shape[:-1]
    out = {k: np.asarray(v).reshape(shape) for k, v in maps.items()}
    if messages:  # bad pixels do not stop the batch, but the user hears why (the first few)
        bad = int(np.count_nonzero(out["status"] >= 2))
        warnings.warn(f"{bad} spectra could not be fitted (status 2/3 in the maps); first: " + "; ".join(messages[:3]),
                      RuntimeWarning, stacklevel=2)
    return out


def fit_cube(cube: str | os.PathLike, out: str | os.PathLike, *, spectra: str = "spectra", energy: str = "energy",
             peaks: int | None = None, peaks_at: Sequence[float] | None = None, threads: int = 0,
             warm_start: bool = True, chunk_size: int = 4096, restart: bool = False, **options) -> dict:
    """``tsunagu spectra batch`` from Python: HDF5 cube in, maps HDF5 out (chunked, resumable). Returns a summary."""
    return _C.fit_batch_file(os.fspath(cube), spectra, energy, os.fspath(out), _options(peaks, peaks_at, options),
                             int(threads), bool(warm_start), int(chunk_size), bool(restart))


def map_names(*, peaks: int | None = None, peaks_at: Sequence[float] | None = None, **options) -> list[str]:
    """Names of the maps a batch fit produces for these options."""
    return list(_C.map_names(_options(peaks, peaks_at, options)))


def save_map_image(maps_file: str | os.PathLike, name: str, image: str | os.PathLike) -> None:
    """Render one map of a maps HDF5 file as PNG or SVG (by the image's extension)."""
    _C.save_map_image(os.fspath(maps_file), name, os.fspath(image))


def _write_text(path, text: str) -> None:
    # Atomic like the CLI: write a sibling temp file, then rename.
    path = os.fspath(path)
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)
