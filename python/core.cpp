// Bindings of tsunagu::core used from Python: CSV tables, HDF5 named arrays, the progress switch.
#include <pybind11/eigen.h>
#include <pybind11/numpy.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include "bindings.hpp"
#include "tsunagu/core/error.hpp"
#include "tsunagu/core/hdf5.hpp"
#include "tsunagu/core/progress.hpp"
#include "tsunagu/core/table.hpp"

namespace py = pybind11;

namespace tsunagu::python {

namespace {
py::array_t<double> to_numpy(const core::NdArray& a) {
  std::vector<py::ssize_t> shape(a.shape.begin(), a.shape.end());
  py::array_t<double> out(shape);
  std::copy(a.data.begin(), a.data.end(), out.mutable_data());
  return out;
}
core::NdArray from_numpy(const py::handle& obj, const std::string& name) {
  py::array_t<double, py::array::c_style | py::array::forcecast> arr;
  try {
    arr = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(obj);
  } catch (const py::error_already_set&) {
    arr = {};
  }
  if (!arr) throw InvalidArgument("h5_write: array '" + name + "' is not convertible to float64");
  core::NdArray a;
  for (py::ssize_t d = 0; d < arr.ndim(); ++d) a.shape.push_back(static_cast<std::size_t>(arr.shape(d)));
  a.data.assign(arr.data(), arr.data() + arr.size());
  return a;
}
}  // namespace

void bind_core(py::module_& m) {
  m.def("set_progress_enabled", &core::set_progress_enabled, py::arg("enabled"),
        "Globally allow (True) or silence (False) progress lines on stderr.");
  m.def("progress_enabled", &core::progress_enabled);

  m.def(
      "read_csv",
      [](const std::filesystem::path& path) {
        const auto t = core::read_csv(path);
        return py::make_tuple(t.columns, t.rows);
      },
      py::arg("path"), "Read a CSV file with a header: (columns, rows of text cells). Errors name file/line/column.");

  m.def(
      "read_csv_numeric",
      [](const std::filesystem::path& path, const std::vector<std::string>& columns, bool drop_missing) {
        const auto t = core::read_csv(path);
        const auto cols = columns.empty() ? t.columns : columns;
        const auto nd = t.numeric(cols, drop_missing ? core::MissingPolicy::Drop : core::MissingPolicy::Error);
        return py::make_tuple(nd.columns, nd.values, nd.kept_rows);
      },
      py::arg("path"), py::arg("columns") = std::vector<std::string>{}, py::arg("drop_missing") = false);

  m.def(
      "h5_write",
      [](const std::filesystem::path& path, const py::dict& arrays, const std::map<std::string, std::string>& attrs) {
        std::map<std::string, core::NdArray> a;
        for (auto item : arrays) {
          const auto name = py::str(item.first).cast<std::string>();
          a.emplace(name, from_numpy(item.second, name));
        }
        py::gil_scoped_release release;
        core::h5_write(path, a, attrs);
      },
      py::arg("path"), py::arg("arrays"), py::arg("attributes") = std::map<std::string, std::string>{},
      "Write {name: array} as float64 datasets (atomic replace).");
  m.def(
      "h5_read", [](const std::filesystem::path& path, const std::string& name) { return to_numpy(core::h5_read(path, name)); },
      py::arg("path"), py::arg("name"));
  m.def("h5_list", &core::h5_list, py::arg("path"));
  m.def("h5_attributes", &core::h5_attributes, py::arg("path"));
}

}  // namespace tsunagu::python
