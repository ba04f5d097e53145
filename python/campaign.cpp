// Bindings of tsunagu::campaign. Documents (status, snapshots) cross as JSON text, so the CLI, the dashboard and
// Python show the same thing; runs release the GIL (a campaign can take hours).
#include <pybind11/eigen.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include "bindings.hpp"
#include "tsunagu/campaign/adapter.hpp"
#include "tsunagu/campaign/report.hpp"
#include "tsunagu/campaign/runner.hpp"
#include "tsunagu/campaign/spec.hpp"
#include "tsunagu/campaign/store.hpp"
#include "tsunagu/core/plot.hpp"

namespace py = pybind11;
using namespace tsunagu::campaign;

namespace tsunagu::python {

void bind_campaign(py::module_& m) {
  m.def(
      "check_spec", [](const std::string& text, const std::string& source) { parse_campaign_spec(text, source); },
      py::arg("text"), py::arg("source") = "<string>");

  py::class_<Store>(m, "Store")
      .def_static(
          "create",
          [](const std::filesystem::path& db, const std::string& toml, const std::string& source) {
            return Store::create(db, parse_campaign_spec(toml, source));
          },
          py::arg("db"), py::arg("toml"), py::arg("source") = "<string>")
      .def_static("open", &Store::open, py::arg("db"))
      .def_property_readonly("path", &Store::path)
      .def_property_readonly("name", [](const Store& s) { return s.spec().name; })
      .def_property_readonly("spec_toml", [](const Store& s) { return s.spec().toml; })
      .def_property_readonly("parameter_names", [](const Store& s) { return s.spec().space.parameter_names(); })
      .def_property_readonly("objective_names", [](const Store& s) { return s.spec().space.objective_names(); })
      .def("control", &Store::control)
      .def("set_control", &Store::set_control, py::arg("control"))
      .def("record_result", &Store::record_result, py::arg("experiment"), py::arg("values"), py::arg("raw") = "")
      .def("record_failure", &Store::record_failure, py::arg("experiment"), py::arg("error"), py::arg("retry") = true)
      .def("status_json", [](const Store& s) { return status_json(s).dump(); })
      .def("status_text", [](const Store& s) { return status_text(s); })
      .def("best_so_far", [](const Store& s) { return best_so_far(s); })
      .def("best_so_far_svg", [](const Store& s) { return best_so_far_svg(s); })
      .def("parameter_svg", [](const Store& s, const std::string& p) { return parameter_svg(s, p); },
           py::arg("parameter"))
      .def("export_csv", [](const Store& s, const std::filesystem::path& p) { export_csv(s, p); }, py::arg("path"))
      .def("observations",
           [](const Store& s) {
             const auto o = s.observations();
             return py::make_tuple(o.X, o.Y, o.pending);
           })
      .def(
          "run",
          [](Store& s, const std::string& adapter, int max_experiments, bool wait_for_manual, double timeout,
             double poll_interval) {
            AdapterOptions ao;
            ao.timeout_s = timeout > 0 ? timeout : s.spec().retry.timeout_s;
            ao.poll_interval_s = poll_interval > 0 ? poll_interval : s.spec().retry.poll_interval_s;
            ao.database = s.path().string();
            auto a = make_adapter(adapter, ao);
            RunOptions ro;
            ro.max_experiments = max_experiments;
            ro.wait_for_manual = wait_for_manual;
            RunSummary r;
            {
              py::gil_scoped_release release;
              r = run(s, *a, ro);
            }
            py::dict d;
            d["started"] = r.started;
            d["done"] = r.done;
            d["failed"] = r.failed;
            d["requeued"] = r.requeued;
            d["repolled"] = r.repolled;
            d["stop_reason"] = r.stop_reason;
            return d;
          },
          py::arg("adapter"), py::arg("max_experiments") = -1, py::arg("wait_for_manual") = false,
          py::arg("timeout") = 0.0, py::arg("poll_interval") = 0.0)
      .def("stop_rule_met", [](const Store& s) {
        std::string reason;
        const bool met = stop_rule_met(s, &reason);
        return py::make_tuple(met, reason);
      });
}

}  // namespace tsunagu::python
