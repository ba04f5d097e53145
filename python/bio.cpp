// tsunagu._tsunagu.bio: molecular descriptors (RDKit) and ensemble property models with weight analysis. Options
// travel as JSON text checked by the library (unknown keys refused); the Python wrapper holds no logic.
#include <pybind11/eigen.h>
#include <pybind11/stl.h>

#include <optional>

#include <nlohmann/json.hpp>

#include "bindings.hpp"
#include "tsunagu/bio/descriptors.hpp"
#include "tsunagu/bio/model.hpp"
#include "tsunagu/core/error.hpp"
#include "tsunagu/core/table.hpp"

namespace py = pybind11;
using nlohmann::json;

namespace tsunagu::python {

void bind_bio(py::module_& m) {
  m.def("default_descriptor_options", [] { return bio::DescriptorOptions{}.to_json().dump(); });
  m.def("default_train_options", [] { return bio::TrainOptions{}.to_json().dump(); });
  m.def("descriptor_names", [](const std::string& options) {
    return bio::descriptor_names(bio::DescriptorOptions::from_json(json::parse(options)));
  }, py::arg("options"));
  m.def("describe", [](const std::vector<std::string>& smiles, const std::string& options, bool skip_invalid) {
    const auto o = bio::DescriptorOptions::from_json(json::parse(options));
    bio::MoleculeDescriptors r;
    {
      py::gil_scoped_release release;
      r = bio::describe_many(smiles, o, skip_invalid);
    }
    py::list excluded;
    for (const auto& e : r.excluded) excluded.append(py::make_tuple(e.row, e.smiles, e.reason));
    return py::make_tuple(r.X, r.names, r.rows, r.canonical, excluded);
  }, py::arg("smiles"), py::arg("options"), py::arg("skip_invalid") = false);
  m.def("mixture_descriptors", &bio::mixture_descriptors, py::arg("weights"), py::arg("components"));

  py::class_<bio::Model>(m, "Model")
      .def_static("train",
                  [](const Eigen::MatrixXd& X, const Eigen::VectorXd& y, const std::vector<std::string>& features,
                     const std::string& target, const std::vector<std::string>& ids, const std::string& options) {
                    bio::Dataset d;
                    d.X = X;
                    d.y = y;
                    d.features = features;
                    d.target = target;
                    d.ids = ids;
                    const auto o = bio::TrainOptions::from_json(json::parse(options));
                    py::gil_scoped_release release;
                    return bio::Model::train(d, o);
                  },
                  py::arg("X"), py::arg("y"), py::arg("features"), py::arg("target"), py::arg("ids"),
                  py::arg("options"))
      .def_static("train_csv",
                  [](const std::string& path, const std::string& target, const std::vector<std::string>& exclude,
                     const std::string& id_column, const std::string& options, const std::string& smiles_column,
                     const std::string& descriptor_options) {
                    const auto o = bio::TrainOptions::from_json(json::parse(options));
                    std::optional<bio::DescriptorOptions> dopt;
                    if (!smiles_column.empty())
                      dopt = bio::DescriptorOptions::from_json(json::parse(descriptor_options));
                    py::gil_scoped_release release;
                    const core::Table t = core::read_csv(path);
                    const auto d = dopt ? bio::dataset_from_smiles(t, smiles_column, target, *dopt, exclude, id_column)
                                        : bio::dataset_from_table(t, target, exclude, id_column);
                    return bio::Model::train(d, o);
                  },
                  py::arg("path"), py::arg("target"), py::arg("exclude"), py::arg("id_column"), py::arg("options"),
                  py::arg("smiles_column"), py::arg("descriptor_options"))
      .def("predict_csv", [](const bio::Model& mo, const std::string& path) {
        py::gil_scoped_release release;
        const auto p = mo.predict(core::read_csv(path));
        return std::make_pair(p.mean, p.sd);
      }, py::arg("path"))
      .def_static("load", [](const std::string& path) { return bio::Model::load(path); }, py::arg("path"))
      .def("save", [](const bio::Model& mo, const std::string& path) { mo.save(path); }, py::arg("path"))
      .def("predict", [](const bio::Model& mo, const Eigen::MatrixXd& X) {
        py::gil_scoped_release release;
        const auto p = mo.predict(X);
        return std::make_pair(p.mean, p.sd);
      }, py::arg("X"))
      .def("report", [](const bio::Model& mo) { return mo.report().dump(); })
      .def("importance", [](const bio::Model& mo) { return mo.importance_json().dump(); })
      .def("plot_importance", [](const bio::Model& mo, const std::string& path) {
        bio::plot_importance(mo.importances(), path, mo.target());
      }, py::arg("path"))
      .def_property_readonly("features", &bio::Model::features)
      .def_property_readonly("target", &bio::Model::target)
      .def_property_readonly("n_members", [](const bio::Model& mo) { return mo.members().size(); });
}

}  // namespace tsunagu::python
