// tsunagu._tsunagu.xas: structure -> spectrum models. Options arrive as JSON text whose keys are checked here
// (unknown keys refused), so the Python wrapper holds no defaults or logic of its own.
#include <pybind11/eigen.h>
#include <pybind11/stl.h>

#include <set>

#include <nlohmann/json.hpp>

#include "bindings.hpp"
#include "tsunagu/core/error.hpp"
#include "tsunagu/core/plot.hpp"
#include "tsunagu/xas/model.hpp"
#include "tsunagu/xas/plots.hpp"

namespace py = pybind11;
using nlohmann::json;

namespace tsunagu::python {
namespace {

void refuse_unknown(const json& j, const std::set<std::string>& known, const std::string& what) {
  if (!j.is_object()) throw InvalidArgument(what + ": expected a dict");
  for (const auto& [k, v] : j.items())
    if (!known.count(k)) {
      std::string list;
      for (const auto& x : known) list += (list.empty() ? "" : ", ") + x;
      throw InvalidArgument(what + ": unknown option '" + k + "' (known: " + list + ")");
    }
}

xas::LoadOptions load_options(const std::string& text) {
  const json j = json::parse(text);
  refuse_unknown(j, {"format", "absorber", "table_mesh", "spectrum_prefix", "feature_prefix", "group_column",
                     "id_column"},
                 "load options");
  xas::LoadOptions o;
  if (j.contains("format")) o.format = xas::parse_data_format(j["format"].get<std::string>());
  if (j.contains("absorber")) o.absorber = j["absorber"].get<std::string>();
  if (j.contains("table_mesh") && !j["table_mesh"].is_null())
    o.table_mesh = xas::parse_mesh(j["table_mesh"].get<std::string>());
  if (j.contains("spectrum_prefix")) o.spectrum_prefix = j["spectrum_prefix"].get<std::string>();
  if (j.contains("feature_prefix")) o.feature_prefix = j["feature_prefix"].get<std::string>();
  if (j.contains("group_column")) o.group_column = j["group_column"].get<std::string>();
  if (j.contains("id_column")) o.id_column = j["id_column"].get<std::string>();
  return o;
}

xas::TrainOptions train_options(const std::string& text) {
  const json j = json::parse(text);
  refuse_unknown(j, {"mesh", "normalization", "align_edge_to", "kinds", "site_cutoff", "network", "tune_trials",
                     "cv_folds", "validation_fraction", "knn_k", "seed", "threads", "progress"},
                 "train options");
  xas::TrainOptions o;
  if (j.contains("mesh") && !j["mesh"].is_null()) o.mesh = xas::parse_mesh(j["mesh"].get<std::string>());
  if (j.contains("normalization")) o.normalization = xas::parse_normalization(j["normalization"].get<std::string>());
  if (j.contains("align_edge_to") && !j["align_edge_to"].is_null()) o.align_edge_to = j["align_edge_to"].get<double>();
  if (j.contains("kinds") && !j["kinds"].is_null()) o.descriptors.kinds = features::parse_descriptor_kinds(j["kinds"].get<std::string>());
  if (j.contains("site_cutoff")) o.descriptors.site_cutoff = j["site_cutoff"].get<double>();
  if (j.contains("network")) {
    json net = o.mlp.to_json();  // the XAS defaults, overridden key by key
    if (!j["network"].is_object()) throw InvalidArgument("network: expected a dict of MLP options");
    for (const auto& [k, v] : j["network"].items()) {
      if (!net.contains(k)) throw InvalidArgument("network: unknown option '" + k + "'");
      net[k] = v;
    }
    o.mlp = nn::MlpOptions::from_json(net);
  }
  if (j.contains("tune_trials")) o.tune_trials = j["tune_trials"].get<int>();
  if (j.contains("cv_folds")) o.cv_folds = j["cv_folds"].get<int>();
  if (j.contains("validation_fraction")) o.validation_fraction = j["validation_fraction"].get<double>();
  if (j.contains("knn_k")) o.knn_k = j["knn_k"].get<int>();
  if (j.contains("seed")) o.seed = j["seed"].get<std::uint64_t>();
  if (j.contains("threads")) o.threads = j["threads"].get<unsigned>();
  if (j.contains("progress")) o.progress = j["progress"].get<bool>();
  o.validate();
  return o;
}

}  // namespace

void bind_xas(py::module_& m) {
  m.def("default_network", [] { return xas::TrainOptions::default_mlp().to_json().dump(); });

  m.def("load_dataset_info", [](const std::string& path, const std::string& options) {
    const auto o = load_options(options);
    xas::Dataset d;
    {
      py::gil_scoped_release release;
      d = xas::load_dataset(path, o);
    }
    py::dict out;
    std::vector<std::string> ids, groups;
    for (const auto& r : d.records) {
      ids.push_back(r.id);
      groups.push_back(r.group);
    }
    out["ids"] = ids;
    out["groups"] = groups;
    out["format"] = xas::data_format_name(d.format);
    out["notes"] = d.summary.notes;
    out["feature_names"] = d.summary.feature_names;
    return out;
  }, py::arg("path"), py::arg("options"));

  py::class_<xas::Model>(m, "Model")
      .def_static("train", [](const std::string& path, const std::string& load, const std::string& train) {
        const auto lo = load_options(load);
        const auto to = train_options(train);
        py::gil_scoped_release release;
        const auto data = xas::load_dataset(path, lo);
        return xas::Model::train(data, to);
      }, py::arg("path"), py::arg("load_options"), py::arg("train_options"))
      .def_static("load", [](const std::string& path) { return xas::Model::load(path); }, py::arg("path"))
      .def("save", [](const xas::Model& mo, const std::string& path) { mo.save(path); }, py::arg("path"))
      .def("summary", [](const xas::Model& mo) { return mo.summary().dump(); })
      .def_property_readonly("mesh", [](const xas::Model& mo) { return mo.mesh().points(); })
      .def_property_readonly("feature_names", &xas::Model::feature_names)
      .def_property_readonly("absorber", &xas::Model::absorber)
      .def_property_readonly("uses_structures", &xas::Model::uses_structures)
      .def("predict", [](const xas::Model& mo, const std::vector<py::tuple>& crystals,
                         const std::vector<std::size_t>& absorbers) {
        std::vector<structure::Crystal> cs;
        for (const auto& t : crystals) cs.push_back(crystal_from_args(t));
        py::gil_scoped_release release;
        return mo.predict(cs, absorbers);
      }, py::arg("crystals"), py::arg("absorbers"))
      .def("predict_features", [](const xas::Model& mo, const Eigen::MatrixXd& X) {
        py::gil_scoped_release release;
        return mo.predict_features(X);
      }, py::arg("X"))
      .def("evaluate", [](const xas::Model& mo, const std::string& path, const std::string& options) {
        const auto lo = load_options(options);
        xas::Evaluation e;
        {
          py::gil_scoped_release release;
          e = mo.evaluate(xas::load_dataset(path, lo));
        }
        json report = e.to_json();
        py::dict out;
        out["report"] = report.dump();
        out["per_spectrum"] = e.model.to_json(true)["per_spectrum"].dump();
        out["ids"] = e.ids;
        out["mesh"] = e.mesh;
        out["reference"] = e.reference;
        out["predicted"] = e.predicted;
        return out;
      }, py::arg("path"), py::arg("options"));

  m.def("plot_spectra", [](const Eigen::VectorXd& mesh, const std::vector<std::string>& names,
                           const Eigen::MatrixXd& predicted, std::optional<Eigen::MatrixXd> reference, int max_panels,
                           const std::string& path) {
    const std::string svg = xas::plot_spectra(mesh, names, predicted, reference ? &*reference : nullptr, max_panels);
    if (!path.empty()) core::plot::save_svg(path, svg);  // atomic
    return svg;
  }, py::arg("mesh"), py::arg("names"), py::arg("predicted"), py::arg("reference"), py::arg("max_panels"),
     py::arg("path") = "");
}

}  // namespace tsunagu::python
