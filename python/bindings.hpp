#pragma once
// Shared declarations of the pybind11 extension `tsunagu._tsunagu`.
#include <pybind11/pybind11.h>

namespace tsunagu::python {
void bind_core(pybind11::module_& m);
void bind_sparse(pybind11::module_& m);
void bind_spectra(pybind11::module_& m);
void bind_bayesopt(pybind11::module_& m);
void bind_campaign(pybind11::module_& m);
void bind_structure(pybind11::module_& m);
}  // namespace tsunagu::python
