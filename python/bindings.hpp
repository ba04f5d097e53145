#pragma once
// Shared declarations of the pybind11 extensions `tsunagu._tsunagu` (every module except the LibTorch ones) and
// `tsunagu._tsunagu_nn` (nn, xas, bio: LibTorch and RDKit, loaded only when one of them is imported).
#include <string>
#include <vector>

#include <Eigen/Core>
#include <pybind11/pybind11.h>

#include "tsunagu/structure/crystal.hpp"

namespace tsunagu::python {
/// Create tsunagu.Error and its subclasses in m (the _tsunagu module) and translate C++ errors raised by m's
/// functions into them (errors.cpp).
void define_errors(pybind11::module_& m);
/// Translate C++ errors raised by the calling module's functions into the classes defined by module_name (already
/// created there by define_errors).
void use_errors_of(const char* module_name);

void bind_core(pybind11::module_& m);
void bind_sparse(pybind11::module_& m);
void bind_spectra(pybind11::module_& m);
void bind_bayesopt(pybind11::module_& m);
void bind_campaign(pybind11::module_& m);
void bind_structure(pybind11::module_& m);
void bind_magnetic(pybind11::module_& m);
void bind_features(pybind11::module_& m);
void bind_nn(pybind11::module_& m);
void bind_xas(pybind11::module_& m);
void bind_bio(pybind11::module_& m);
void bind_fragmd(pybind11::module_& m);

/// A Crystal from the arrays the Python Crystal class passes (tsunagu/structure.py Crystal._args()); validated.
structure::Crystal make_crystal(const Eigen::Matrix3d& lattice, const Eigen::MatrixXd& frac,
                                const std::vector<int>& numbers, const std::vector<std::string>& labels,
                                const Eigen::VectorXd& occupancies, bool periodic, const std::string& source);
/// A Crystal from a tuple of those arrays (Crystal._args()), for bindings that take lists of crystals.
structure::Crystal crystal_from_args(const pybind11::tuple& args);
}  // namespace tsunagu::python
