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
from . import bayesopt, bio, campaign, features, fragmd, io, magnetic, nn, sparse, spectra, structure, xas  # noqa: F401

__all__ = ["Error", "InvalidArgument", "IoError", "NumericalError", "ParseError", "bayesopt", "bio", "campaign", "features", "io",
           "magnetic", "nn", "sparse", "spectra", "structure", "xas",
           "__version__"]
