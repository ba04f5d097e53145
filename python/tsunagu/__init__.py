"""tsunagu: materials informatics connecting experiment, theory, computation and data science.

Modules
-------
tsunagu.sparse  penalised regression (MCP/SCAD/lasso) paths, cross-validation, exhaustive subset search
tsunagu.spectra photoelectron spectra: readers, EM / least-squares / Bayesian peak fitting, batch maps
tsunagu.bayesopt Gaussian processes, acquisitions, Bayesian optimisation (suggest, batches, pools)
tsunagu.campaign autonomous experiment campaigns (SQLite state, instrument adapters, resume)
tsunagu.structure crystal structures (CIF, POSCAR, pymatgen JSON, XYZ) and spglib (magnetic) symmetry
tsunagu.magnetic cluster-multipole magnetic structures, DFT inputs (VASP, pw.x, magCIF), pw.x results database
tsunagu.features structure descriptors: composition/element statistics, Coulomb eigenvalues, partial RDFs, site-centred
tsunagu.nn       multilayer perceptrons on LibTorch (MLPRegressor, MLPClassifier) with deterministic seeds
tsunagu.xas      X-ray absorption spectra: dataset loaders, structure -> spectrum networks with BO tuning, evaluation
tsunagu.bio      molecules -> measured response: RDKit descriptors, ANN ensembles, Garson/Olden/permutation importance
tsunagu.fragmd   EFP2 fragment potentials: energies and gradients, rigid-body MD, liquid properties, descriptors
tsunagu.io      CSV and HDF5 helpers

Errors raised by the C++ library are subclasses of :class:`tsunagu.Error`; bad input raises
:class:`tsunagu.InvalidArgument` / :class:`tsunagu.ParseError` (both ``ValueError``), file problems
:class:`tsunagu.IoError` (``OSError``), numerical failures :class:`tsunagu.NumericalError` (``ArithmeticError``).
"""
from ._tsunagu import (  # noqa: F401
    Error,
    InvalidArgument,
    IoError,
    NumericalError,
    ParseError,
    __version__,
)

# Submodules are imported on first use (``tsunagu.sparse``, ``import tsunagu.sparse``, ``from tsunagu import
# sparse``), so that ``import tsunagu`` costs ~10 ms: tsunagu.sparse imports scikit-learn (~0.7 s) to make its
# estimators real sklearn estimators, and nn, xas and bio live in a second extension module that loads LibTorch and
# RDKit (~0.35 s, ~250 shared libraries).
_LAZY = ("bayesopt", "bio", "campaign", "features", "fragmd", "io", "magnetic", "nn", "sparse", "spectra", "structure",
         "xas")


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'tsunagu' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))


__all__ = ["Error", "InvalidArgument", "IoError", "NumericalError", "ParseError", "__version__", *_LAZY]
