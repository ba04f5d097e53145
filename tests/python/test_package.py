"""The package's top level (python/tsunagu/__init__.py): submodules are imported on first use, so `import tsunagu`
loads neither scikit-learn (tsunagu.sparse) nor LibTorch and RDKit (nn, xas and bio, in the second extension module
_tsunagu_nn); using one of them must load what it needs."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

import tsunagu

HAVE_PROC = os.path.exists("/proc/self/maps")


def _run(code: str) -> str:
    """Run code in a fresh interpreter (this one has long since loaded everything) and return its stdout."""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=dict(os.environ), timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


LOADED = ("import sys\n"
          "def torch():\n"
          "    return any('libtorch' in l for l in open('/proc/self/maps'))\n")


@pytest.mark.skipif(not HAVE_PROC, reason="/proc/self/maps is needed to see which libraries are loaded")
@pytest.mark.parametrize("use", ["tsunagu.xas.Model", "tsunagu.nn.MLPRegressor", "tsunagu.bio.Model"])
def test_import_tsunagu_does_not_load_libtorch_until_an_nn_module_is_used(use):
    out = _run(LOADED + "import tsunagu\n"
                        "before = torch()\n"
                        "tsunagu.bayesopt.GaussianProcess  # the rest of the package is there without it\n"
                        f"{use}\n"
                        "print(before, torch(), 'tsunagu._tsunagu_nn' in sys.modules)")
    assert out == "False True True"


def test_import_tsunagu_loads_no_submodule_and_no_scikit_learn():
    # (the C++ core's own submodules, tsunagu._tsunagu.*, are loaded with it: they are one shared object)
    out = _run("import sys, tsunagu\n"
               "print(sorted(k for k in sys.modules if k.startswith(('tsunagu.', 'sklearn'))\n"
               "             and not k.startswith('tsunagu._tsunagu')))")
    assert out == "[]"


@pytest.mark.parametrize("stmt", ["import tsunagu.xas as m", "from tsunagu import bio as m", "import tsunagu.nn as m",
                                  "from tsunagu import sparse as m", "import tsunagu; m = tsunagu.spectra"])
def test_every_import_form_reaches_the_submodules(stmt):
    assert _run(f"{stmt}\nprint(m.__name__)").startswith("tsunagu.")


def test_star_import_gives_every_public_name():
    out = _run("from tsunagu import *\nimport tsunagu\n"
               "print(all(n in globals() for n in tsunagu.__all__), len(tsunagu.__all__))")
    assert out == "True 18"


def test_unknown_attribute_is_an_attribute_error_and_dir_lists_the_lazy_modules():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        tsunagu.nope  # noqa: B018
    assert {"bio", "nn", "xas", "bayesopt", "Error"} <= set(dir(tsunagu))
    assert set(tsunagu.__all__) <= set(dir(tsunagu))


def test_errors_from_the_nn_extension_are_the_package_error_classes(tmp_path):
    # raised in C++ inside _tsunagu_nn, translated with the classes _tsunagu defined
    with pytest.raises(tsunagu.IoError, match="missing.pt"):
        tsunagu.xas.Model.load(tmp_path / "missing.pt")
    from tsunagu import _tsunagu_nn
    with pytest.raises(tsunagu.InvalidArgument, match="nope") as exc:
        _tsunagu_nn.nn.Mlp.fit([[0.0], [1.0]], [[0.0], [1.0]], '{"nope": 1}')
    assert isinstance(exc.value, ValueError) and isinstance(exc.value, tsunagu.Error)
