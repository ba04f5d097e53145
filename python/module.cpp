// Extension entry point of tsunagu._tsunagu: every module except the LibTorch ones (module_nn.cpp). Errors:
// errors.cpp.
#include "bindings.hpp"
#include "tsunagu/core/version.hpp"

namespace py = pybind11;

PYBIND11_MODULE(_tsunagu, m) {
  m.doc() = "tsunagu C++ core (use the `tsunagu` package rather than this module directly)";
  m.attr("__version__") = tsunagu::version();

  tsunagu::python::define_errors(m);

  auto core = m.def_submodule("core", "tables, HDF5, progress");
  tsunagu::python::bind_core(core);
  auto sparse = m.def_submodule("sparse", "penalised regression, cross-validation, exhaustive search");
  tsunagu::python::bind_sparse(sparse);
  auto spectra = m.def_submodule("spectra", "photoelectron spectra: readers, peak fitting, selection, batch maps");
  tsunagu::python::bind_spectra(spectra);
  auto bayesopt = m.def_submodule("bayesopt", "Gaussian processes, acquisitions, Bayesian optimisation");
  tsunagu::python::bind_bayesopt(bayesopt);
  auto campaign = m.def_submodule("campaign", "autonomous experiment campaigns");
  tsunagu::python::bind_campaign(campaign);
  auto structure = m.def_submodule("structure", "crystal structures (CIF, POSCAR, JSON, XYZ) and spglib symmetry");
  tsunagu::python::bind_structure(structure);
  auto magnetic = m.def_submodule("magnetic", "cluster-multipole magnetic structures, DFT inputs, pw.x workflow");
  tsunagu::python::bind_magnetic(magnetic);
  auto features = m.def_submodule("features", "structure descriptors: composition, Coulomb, partial RDF, site-centred");
  tsunagu::python::bind_features(features);
  auto fragmd = m.def_submodule("fragmd", "EFP2 fragment potentials: energies, gradients, rigid-body MD, analysis");
  tsunagu::python::bind_fragmd(fragmd);
}
