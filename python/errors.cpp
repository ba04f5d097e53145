// The single place where C++ errors become Python exceptions:
//   tsunagu.InvalidArgument, tsunagu.ParseError -> subclasses of ValueError
//   tsunagu.IoError -> subclass of OSError; tsunagu.NumericalError -> subclass of ArithmeticError
// all also subclasses of tsunagu.Error, so `except tsunagu.Error` catches every library error.
// The classes are created once, by _tsunagu; the LibTorch module (_tsunagu_nn) imports them from there, so an error
// raised by tsunagu.xas is the same tsunagu.InvalidArgument as one raised by tsunagu.sparse.
#include "bindings.hpp"
#include "tsunagu/core/error.hpp"

namespace py = pybind11;

namespace tsunagu::python {
namespace {

struct ErrorTypes {
  PyObject* error = nullptr;
  PyObject* invalid = nullptr;
  PyObject* parse = nullptr;
  PyObject* io = nullptr;
  PyObject* numerical = nullptr;
};

// Each extension module is its own shared object, so each has its own copy of this (filled once, at import).
ErrorTypes& types() {
  static ErrorTypes t;
  return t;
}

PyObject* make_exception(py::module_& m, const char* name, PyObject* base, PyObject* extra_base) {
  PyObject* bases = extra_base ? PyTuple_Pack(2, base, extra_base) : PyTuple_Pack(1, base);
  const std::string qualified = std::string("tsunagu.") + name;
  PyObject* type = PyErr_NewException(qualified.c_str(), bases, nullptr);
  Py_DECREF(bases);
  if (!type) throw py::error_already_set();
  m.add_object(name, py::handle(type));  // module keeps a reference
  return type;
}

void translate(std::exception_ptr p) {
  const ErrorTypes& t = types();
  try {
    if (p) std::rethrow_exception(p);
  } catch (const tsunagu::ParseError& e) {
    PyErr_SetString(t.parse, e.what());
  } catch (const tsunagu::InvalidArgument& e) {
    PyErr_SetString(t.invalid, e.what());
  } catch (const tsunagu::IoError& e) {
    PyErr_SetString(t.io, e.what());
  } catch (const tsunagu::NumericalError& e) {
    PyErr_SetString(t.numerical, e.what());
  } catch (const tsunagu::Error& e) {
    PyErr_SetString(t.error, e.what());
  }
}

}  // namespace

void define_errors(py::module_& m) {
  ErrorTypes& t = types();
  t.error = make_exception(m, "Error", PyExc_Exception, nullptr);
  t.invalid = make_exception(m, "InvalidArgument", t.error, PyExc_ValueError);
  t.parse = make_exception(m, "ParseError", t.error, PyExc_ValueError);
  t.io = make_exception(m, "IoError", t.error, PyExc_OSError);
  t.numerical = make_exception(m, "NumericalError", t.error, PyExc_ArithmeticError);
  py::register_local_exception_translator(translate);
}

void use_errors_of(const char* module_name) {
  py::module_ core = py::module_::import(module_name);
  ErrorTypes& t = types();
  // new references, held for the life of the process (as the module's own objects are)
  t.error = py::object(core.attr("Error")).release().ptr();
  t.invalid = py::object(core.attr("InvalidArgument")).release().ptr();
  t.parse = py::object(core.attr("ParseError")).release().ptr();
  t.io = py::object(core.attr("IoError")).release().ptr();
  t.numerical = py::object(core.attr("NumericalError")).release().ptr();
  py::register_local_exception_translator(translate);
}

}  // namespace tsunagu::python
