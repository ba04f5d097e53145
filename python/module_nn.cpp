// Extension entry point of tsunagu._tsunagu_nn: the modules built on LibTorch (nn, xas) and RDKit (bio). Kept out of
// _tsunagu because loading Debian's LibTorch pulls in ~250 shared libraries and takes ~0.35 s, which `import tsunagu`
// should not pay unless one of these is used; the Python package imports this module on first use of tsunagu.nn,
// tsunagu.xas or tsunagu.bio.
#include "bindings.hpp"
#include "tsunagu/core/version.hpp"

namespace py = pybind11;

PYBIND11_MODULE(_tsunagu_nn, m) {
  m.doc() = "tsunagu C++ core, LibTorch/RDKit part (use the `tsunagu` package rather than this module directly)";
  m.attr("__version__") = tsunagu::version();

  // same tsunagu.Error classes as every other module
  tsunagu::python::use_errors_of("tsunagu._tsunagu");

  auto nn = m.def_submodule("nn", "multilayer perceptrons on LibTorch");
  tsunagu::python::bind_nn(nn);
  auto xas = m.def_submodule("xas", "X-ray absorption spectra: datasets, structure -> spectrum networks, evaluation");
  tsunagu::python::bind_xas(xas);
  auto bio = m.def_submodule("bio", "molecular descriptors (RDKit), ANN ensembles with weight analysis");
  tsunagu::python::bind_bio(bio);
}
