"""CSV and HDF5 helpers backed by tsunagu's C++ core (the same readers the CLI uses)."""
from __future__ import annotations

import os
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from ._tsunagu import core as _core

__all__ = ["read_csv", "read_csv_numeric", "h5_write", "h5_read", "h5_list", "h5_attributes"]


def read_csv(path: str | os.PathLike) -> Tuple[List[str], List[List[str]]]:
    """Read a CSV file with a header row; returns ``(columns, rows)`` of text cells.

    Malformed files raise :class:`tsunagu.ParseError` naming the file, line and column.
    """
    return _core.read_csv(os.fspath(path))


def read_csv_numeric(path: str | os.PathLike, columns: Optional[Sequence[str]] = None,
                     drop_missing: bool = False) -> Tuple[List[str], np.ndarray, List[int]]:
    """Numeric columns of a CSV file: ``(names, values (n, k) float64, kept_row_indices)``."""
    return _core.read_csv_numeric(os.fspath(path), list(columns or []), bool(drop_missing))


def h5_write(path: str | os.PathLike, arrays: Mapping[str, np.ndarray],
             attributes: Optional[Mapping[str, str]] = None) -> None:
    """Write named float64 arrays (any shape; ``"group/name"`` creates groups) to an HDF5 file, atomically."""
    _core.h5_write(os.fspath(path), dict(arrays), dict(attributes or {}))


def h5_read(path: str | os.PathLike, name: str) -> np.ndarray:
    """Read one dataset as a float64 array."""
    return _core.h5_read(os.fspath(path), name)


def h5_list(path: str | os.PathLike) -> List[str]:
    """Names of all datasets in the file."""
    return _core.h5_list(os.fspath(path))


def h5_attributes(path: str | os.PathLike) -> Dict[str, str]:
    """String attributes of the root group."""
    return _core.h5_attributes(os.fspath(path))
