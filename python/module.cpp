// Extension entry point and the single place where C++ errors become Python exceptions:
//   tsunagu.InvalidArgument, tsunagu.ParseError -> subclasses of ValueError
//   tsunagu.IoError -> subclass of OSError; tsunagu.NumericalError -> subclass of ArithmeticError
// all also subclasses of tsunagu.Error, so `except tsunagu.Error` catches every library error.
#include <new>

#include "bindings.hpp"
#include "tsunagu/core/error.hpp"
#include "tsunagu/core/version.hpp"

namespace py = pybind11;

namespace {
PyObject* make_exception(py::module_& m, const char* name, PyObject* base, PyObject* extra_base) {
  PyObject* bases = extra_base ? PyTuple_Pack(2, base, extra_base) : PyTuple_Pack(1, base);
  const std::string qualified = std::string("tsunagu.") + name;
  PyObject* type = PyErr_NewException(qualified.c_str(), bases, nullptr);
  Py_DECREF(bases);
  if (!type) throw py::error_already_set();
  m.add_object(name, py::handle(type));  // module keeps a reference
  return type;
}
}  // namespace

PYBIND11_MODULE(_tsunagu, m) {
  m.doc() = "tsunagu C++ core (use the `tsunagu` package rather than this module directly)";
  m.attr("__version__") = tsunagu::version();

  static PyObject* error = make_exception(m, "Error", PyExc_Exception, nullptr);
  static PyObject* invalid = make_exception(m, "InvalidArgument", error, PyExc_ValueError);
  static PyObject* parse = make_exception(m, "ParseError", error, PyExc_ValueError);
  static PyObject* io = make_exception(m, "IoError", error, PyExc_OSError);
  static PyObject* numerical = make_exception(m, "NumericalError", error, PyExc_ArithmeticError);

  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const tsunagu::ParseError& e) {
      PyErr_SetString(parse, e.what());
    } catch (const tsunagu::InvalidArgument& e) {
      PyErr_SetString(invalid, e.what());
    } catch (const tsunagu::IoError& e) {
      PyErr_SetString(io, e.what());
    } catch (const tsunagu::NumericalError& e) {
      PyErr_SetString(numerical, e.what());
    } catch (const tsunagu::Error& e) {
      PyErr_SetString(error, e.what());
    }
  });

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
  auto nn = m.def_submodule("nn", "multilayer perceptrons on LibTorch");
  tsunagu::python::bind_nn(nn);
  auto xas = m.def_submodule("xas", "X-ray absorption spectra: datasets, structure -> spectrum networks, evaluation");
  tsunagu::python::bind_xas(xas);
  auto bio = m.def_submodule("bio", "molecular descriptors (RDKit), ANN ensembles with weight analysis");
  tsunagu::python::bind_bio(bio);
  auto fragmd = m.def_submodule("fragmd", "EFP2 fragment potentials: energies, gradients, rigid-body MD, analysis");
  tsunagu::python::bind_fragmd(fragmd);
}
