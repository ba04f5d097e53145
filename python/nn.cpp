// tsunagu._tsunagu.nn: the LibTorch MLP. Options travel as JSON text (MlpOptions::to_json / from_json, which
// refuses unknown keys), so the Python wrapper and the C++ library validate the same way.
#include <pybind11/eigen.h>
#include <pybind11/stl.h>

#include <nlohmann/json.hpp>

#include "bindings.hpp"
#include "tsunagu/core/error.hpp"
#include "tsunagu/nn/mlp.hpp"

namespace py = pybind11;

namespace tsunagu::python {

void bind_nn(py::module_& m) {
  m.def("default_options", [] { return nn::MlpOptions{}.to_json().dump(); });
  m.def("cuda_available", &nn::cuda_available);

  py::class_<nn::Mlp>(m, "Mlp")
      .def_static("fit",
                  [](const Eigen::MatrixXd& X, const Eigen::MatrixXd& Y, const std::string& options,
                     std::optional<Eigen::MatrixXd> X_val, std::optional<Eigen::MatrixXd> Y_val) {
                    const auto o = nn::MlpOptions::from_json(nlohmann::json::parse(options));
                    if (X_val.has_value() != Y_val.has_value())
                      throw InvalidArgument("validation data: give both X_val and y_val, or neither");
                    py::gil_scoped_release release;
                    return nn::Mlp::fit(X, Y, o, X_val ? &*X_val : nullptr, Y_val ? &*Y_val : nullptr);
                  },
                  py::arg("X"), py::arg("Y"), py::arg("options"), py::arg("X_val") = py::none(),
                  py::arg("Y_val") = py::none())
      .def("predict", [](const nn::Mlp& n, const Eigen::MatrixXd& X) {
        py::gil_scoped_release release;
        return n.predict(X);
      }, py::arg("X"))
      .def("predict_reference", &nn::Mlp::predict_reference, py::arg("X"))
      .def("loss", [](const nn::Mlp& n, const Eigen::MatrixXd& X, const Eigen::MatrixXd& Y) {
        Eigen::VectorXd g;
        const double l = n.loss(X, Y, &g);
        return std::make_pair(l, g);
      }, py::arg("X"), py::arg("Y"))
      .def("parameters", &nn::Mlp::parameters)
      .def("set_parameters", &nn::Mlp::set_parameters, py::arg("theta"))
      .def_property_readonly("n_inputs", &nn::Mlp::n_inputs)
      .def_property_readonly("n_outputs", &nn::Mlp::n_outputs)
      .def_property_readonly("weights", &nn::Mlp::weights)
      .def_property_readonly("biases", &nn::Mlp::biases)
      .def_property_readonly("feature_mean", [](const nn::Mlp& n) { return n.feature_scaler().mean; })
      .def_property_readonly("feature_scale", [](const nn::Mlp& n) { return n.feature_scaler().scale; })
      .def_property_readonly("options", [](const nn::Mlp& n) { return n.options().to_json().dump(); })
      .def_property_readonly("history", [](const nn::Mlp& n) {
        const auto& h = n.history();
        py::dict d;
        d["train_loss"] = h.train_loss;
        d["val_loss"] = h.val_loss;
        d["learning_rate"] = h.learning_rate;
        d["epochs_run"] = h.epochs_run;
        d["best_epoch"] = h.best_epoch;
        d["early_stopped"] = h.early_stopped;
        d["device"] = h.device;
        d["seconds"] = h.seconds;
        d["samples_per_second"] = h.samples_per_second;
        d["message"] = h.message;
        return d;
      })
      .def("save", [](const nn::Mlp& n, const std::string& path) { n.save(path); }, py::arg("path"))
      .def_static("load", [](const std::string& path) { return nn::Mlp::load(path); }, py::arg("path"));
}

}  // namespace tsunagu::python
