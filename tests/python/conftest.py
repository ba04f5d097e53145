"""Fixtures for the tsunagu Python test suite.

* ``cli``: path of the ``tsunagu`` executable — ``$TSUNAGU_CLI`` if set, else ``tsunagu`` on PATH; the test *fails*
  (it does not skip) when neither exists, because the CLI is part of the installed package.
* ``shared_dir``: the reference data folder ``../shared`` next to the repository root; tests that need it skip
  when it is absent.
* ``prostate``: the Stamey et al. prostate data from ``../shared/data/sparse/prostate.csv`` read plainly with numpy.
"""
from __future__ import annotations

import csv
import os
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
SHARED_DIR = (REPO_ROOT / ".." / "shared").resolve()

if str(HERE) not in sys.path:  # makes `import _util` work whatever the rootdir/import mode
    sys.path.insert(0, str(HERE))


@pytest.fixture(scope="session")
def cli() -> str:
    """Path of the tsunagu CLI executable."""
    env = os.environ.get("TSUNAGU_CLI")
    if env:
        if not (os.path.isfile(env) and os.access(env, os.X_OK)):
            pytest.fail(f"TSUNAGU_CLI={env!r} is not an executable file")
        return env
    found = shutil.which("tsunagu")
    if not found:
        pytest.fail("tsunagu CLI not found: set TSUNAGU_CLI=/path/to/tsunagu or install the package so that "
                    "`tsunagu` is on PATH")
    return found


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """../shared relative to the repository root (reference data); skips when absent."""
    if not SHARED_DIR.is_dir():
        pytest.skip(f"../shared not present: reference data expected at {SHARED_DIR}")
    return SHARED_DIR


@pytest.fixture(scope="session")
def prostate_csv(shared_dir) -> Path:
    path = shared_dir / "data" / "sparse" / "prostate.csv"
    if not path.is_file():
        pytest.skip(f"../shared not present: {path} is missing")
    return path


@pytest.fixture(scope="session")
def prostate(prostate_csv):
    """(X (97, 8), y (97,), feature names, target name) of the prostate data, read with the csv module."""
    with open(prostate_csv, newline="") as fh:
        rows = list(csv.reader(fh))
    header = rows[0]
    data = np.array([[float(v) for v in r] for r in rows[1:]])
    assert header[-1] == "lpsa"
    return data[:, :-1], data[:, -1], header[:-1], header[-1]
