// Bindings of tsunagu::bayesopt. Option structs are bound field by field (enums as their CLI names, parsed by the
// library so unknown names are refused in one place); heavy calls release the GIL. The Pythonic layer
// (tsunagu/bayesopt.py) converts arrays and builds spaces from dictionaries via the library's TOML parser.
#include <pybind11/eigen.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include "bindings.hpp"
#include "tsunagu/bayesopt/gp.hpp"
#include "tsunagu/core/error.hpp"
#include "tsunagu/bayesopt/optimizer.hpp"
#include "tsunagu/bayesopt/pool.hpp"
#include "tsunagu/bayesopt/space.hpp"
#include "tsunagu/core/io.hpp"
#include "tsunagu/core/table.hpp"

namespace py = pybind11;
using namespace tsunagu::bayesopt;

namespace tsunagu::python {
namespace {

py::dict hyper_dict(const Hyperparameters& h) {
  py::dict d;
  d["signal_variance"] = h.signal_variance;
  d["lengthscales"] = Eigen::VectorXd(h.lengthscales);
  d["noise_variance"] = h.noise_variance;
  if (h.warp_a.size() > 0) {
    d["warp_a"] = Eigen::VectorXd(h.warp_a);
    d["warp_b"] = Eigen::VectorXd(h.warp_b);
  }
  return d;
}

const char* kind_str(ParamKind k) {
  switch (k) {
    case ParamKind::Continuous: return "continuous";
    case ParamKind::Integer: return "integer";
    case ParamKind::Categorical: return "categorical";
    case ParamKind::Fixed: return "fixed";
  }
  return "?";
}

}  // namespace

void bind_bayesopt(py::module_& m) {
  py::class_<GpOptions>(m, "GpOptions")
      .def(py::init<>())
      .def_property(
          "kernel", [](const GpOptions& o) { return kernel_name(o.kernel); },
          [](GpOptions& o, const std::string& s) { o.kernel = parse_kernel(s); })
      .def_readwrite("ard", &GpOptions::ard)
      .def_readwrite("learn_noise", &GpOptions::learn_noise)
      .def_readwrite("noise", &GpOptions::noise)
      .def_readwrite("normalize_x", &GpOptions::normalize_x)
      .def_readwrite("standardize_y", &GpOptions::standardize_y)
      .def_readwrite("optimize", &GpOptions::optimize)
      .def_property(
          "prior", [](const GpOptions& o) { return prior_name(o.prior); },
          [](GpOptions& o, const std::string& s) { o.prior = parse_prior(s); })
      .def_readwrite("warp_inputs", &GpOptions::warp_inputs)
      .def_readwrite("warp_min", &GpOptions::warp_min)
      .def_readwrite("warp_max", &GpOptions::warp_max)
      .def_readwrite("lengthscale_min", &GpOptions::lengthscale_min)
      .def_readwrite("lengthscale_max", &GpOptions::lengthscale_max)
      .def_readwrite("restarts", &GpOptions::restarts)
      .def_readwrite("max_iterations", &GpOptions::max_iterations)
      .def_readwrite("seed", &GpOptions::seed)
      .def_readwrite("threads", &GpOptions::threads)
      .def("validate", &GpOptions::validate);

  py::class_<GaussianProcess>(m, "GaussianProcess")
      .def(py::init<GpOptions>(), py::arg("options"))
      .def(
          "set_hyperparameters",
          [](GaussianProcess& gp, double s2, const Eigen::VectorXd& l, double noise,
             const std::optional<Eigen::VectorXd>& warp_a, const std::optional<Eigen::VectorXd>& warp_b) {
            Hyperparameters h;
            h.signal_variance = s2;
            h.lengthscales = l;
            h.noise_variance = noise;
            if (warp_a) h.warp_a = *warp_a;
            if (warp_b) h.warp_b = *warp_b;
            gp.set_hyperparameters(h);
          },
          py::arg("signal_variance"), py::arg("lengthscales"), py::arg("noise_variance"),
          py::arg("warp_a") = py::none(), py::arg("warp_b") = py::none())
      .def("fit", &GaussianProcess::fit, py::arg("X"), py::arg("y"), py::call_guard<py::gil_scoped_release>())
      .def("add_observation", &GaussianProcess::add_observation, py::arg("x"), py::arg("y"))
      .def_property_readonly("n", &GaussianProcess::n)
      .def_property_readonly("dim", &GaussianProcess::dim)
      .def_property_readonly("jitter", &GaussianProcess::jitter)
      .def_property_readonly("hyperparameters", [](const GaussianProcess& gp) { return hyper_dict(gp.hyperparameters()); })
      .def_property_readonly("theta", &GaussianProcess::theta)
      .def_property_readonly("y_shift", &GaussianProcess::y_shift)
      .def_property_readonly("y_scale", &GaussianProcess::y_scale)
      .def("log_marginal_likelihood", py::overload_cast<>(&GaussianProcess::log_marginal_likelihood, py::const_))
      .def("log_marginal_likelihood_at",
           [](const GaussianProcess& gp, const Eigen::VectorXd& theta) {
             Eigen::VectorXd g;
             const double v = gp.log_marginal_likelihood(theta, &g);
             return py::make_tuple(v, g);
           })
      .def(
          "predict",
          [](const GaussianProcess& gp, const Eigen::MatrixXd& X, bool include_noise) {
            GaussianProcess::Prediction p;
            {
              py::gil_scoped_release release;
              p = gp.predict(X, include_noise);
            }
            return py::make_tuple(p.mean, p.variance);
          },
          py::arg("X"), py::arg("include_noise") = false)
      .def("predict_covariance", &GaussianProcess::predict_covariance, py::arg("X"))
      .def(
          "sample_posterior",
          [](const GaussianProcess& gp, const Eigen::MatrixXd& X, int n, std::uint64_t seed) {
            auto rng = core::make_rng(seed);
            return gp.sample_posterior(X, n, rng);
          },
          py::arg("X"), py::arg("n_samples"), py::arg("seed"));

  py::class_<Space>(m, "Space")
      .def_static(
          "from_toml",
          [](const std::string& text, const std::string& source) { return parse_space_toml(text, source); },
          py::arg("text"), py::arg("source") = "<string>")
      .def_static(
          "read", [](const std::filesystem::path& p) { return read_space_toml(p); }, py::arg("path"))
      .def_property_readonly("dim", &Space::dim)
      .def_property_readonly("parameter_names", &Space::parameter_names)
      .def_property_readonly("objective_names", &Space::objective_names)
      .def_property_readonly("parameters",
                             [](const Space& s) {
                               py::list out;
                               for (const auto& p : s.parameters) {
                                 py::dict d;
                                 d["name"] = p.name;
                                 d["type"] = kind_str(p.kind);
                                 if (p.kind == ParamKind::Continuous || p.kind == ParamKind::Integer) {
                                   d["low"] = p.lower;
                                   d["high"] = p.upper;
                                   d["log"] = p.log_scale;
                                 }
                                 if (p.kind == ParamKind::Categorical) d["choices"] = p.choices;
                                 if (p.kind == ParamKind::Fixed) {
                                   if (p.label.empty()) d["value"] = p.value;
                                   else d["value"] = p.label;
                                 }
                                 d["unit"] = p.unit;
                                 out.append(d);
                               }
                               return out;
                             })
      .def_property_readonly("objectives",
                             [](const Space& s) {
                               py::list out;
                               for (const auto& o : s.objectives) {
                                 py::dict d;
                                 d["name"] = o.name;
                                 d["direction"] = o.direction == Direction::Minimize ? "minimize" : "maximize";
                                 d["unit"] = o.unit;
                                 out.append(d);
                               }
                               return out;
                             })
      .def("encode", &Space::encode, py::arg("points"))
      .def("decode", &Space::decode, py::arg("encoded"))
      .def("feasible", &Space::feasible, py::arg("point"))
      .def(
          "sample",
          [](const Space& s, std::size_t n, std::uint64_t seed) {
            auto rng = core::make_rng(seed);
            return s.sample(n, rng);
          },
          py::arg("n"), py::arg("seed") = 0)
      .def("format_point", &Space::format_point, py::arg("point"))
      .def(
          "points_from_csv",
          [](const Space& s, const std::string& text, const std::string& source) {
            return s.points_from_table(core::parse_csv(text, source));
          },
          py::arg("text"), py::arg("source") = "<string>");

  py::class_<OptimizerOptions>(m, "OptimizerOptions")
      .def(py::init<>())
      .def_property(
          "acquisition", [](const OptimizerOptions& o) { return acquisition_name(o.acquisition); },
          [](OptimizerOptions& o, const std::string& s) { o.acquisition = parse_acquisition(s); })
      .def_property(
          "spread", [](const OptimizerOptions& o) { return spread_name(o.spread); },
          [](OptimizerOptions& o, const std::string& s) { o.spread = parse_spread(s); })
      .def_property(
          "y_transform", [](const OptimizerOptions& o) { return y_transform_name(o.y_transform); },
          [](OptimizerOptions& o, const std::string& s) { o.y_transform = parse_y_transform(s); })
      .def_property(
          "input_warp", [](const OptimizerOptions& o) { return input_warp_name(o.input_warp); },
          [](OptimizerOptions& o, const std::string& s) { o.input_warp = parse_input_warp(s); })
      .def_property(
          "batch_method", [](const OptimizerOptions& o) { return batch_method_name(o.batch_method); },
          [](OptimizerOptions& o, const std::string& s) { o.batch_method = parse_batch_method(s); })
      .def_readwrite("xi", &OptimizerOptions::xi)
      .def_readwrite("kappa", &OptimizerOptions::kappa)
      .def_readwrite("gp", &OptimizerOptions::gp)
      .def_readwrite("candidates", &OptimizerOptions::candidates)
      .def_readwrite("starts", &OptimizerOptions::starts)
      .def_readwrite("rff_features", &OptimizerOptions::rff_features)
      .def_readwrite("nei_samples", &OptimizerOptions::nei_samples)
      .def_readwrite("mc_samples", &OptimizerOptions::mc_samples)
      .def_readwrite("reference_point", &OptimizerOptions::reference_point)
      .def_readwrite("feasibility_model", &OptimizerOptions::feasibility_model)
      .def_readwrite("seed", &OptimizerOptions::seed)
      .def_readwrite("threads", &OptimizerOptions::threads)
      .def("validate", &OptimizerOptions::validate);

  py::class_<Optimizer>(m, "Optimizer")
      .def(py::init<Space, OptimizerOptions>(), py::arg("space"), py::arg("options"))
      .def(
          "suggest",
          [](const Optimizer& opt, const Eigen::MatrixXd& X, const Eigen::MatrixXd& Y, const Eigen::MatrixXd& pending,
             int batch) {
            Observations obs{X, Y, pending};
            Suggestion s;
            {
              py::gil_scoped_release release;
              s = opt.suggest(obs, batch);
            }
            py::dict d;
            d["points"] = s.points;
            d["acquisition"] = s.acquisition;
            d["mean"] = s.mean;
            d["sd"] = s.sd;
            d["p_feasible"] = s.p_feasible;
            d["method"] = s.method;
            py::list models;
            for (const auto& h : s.models) models.append(hyper_dict(h));
            d["models"] = models;
            d["log_marginal_likelihood"] = s.log_marginal_likelihood;
            return d;
          },
          py::arg("X"), py::arg("Y"), py::arg("pending"), py::arg("batch"))
      .def(
          "suggest_pool",
          [](const Optimizer& opt, const Eigen::MatrixXd& pool, const std::vector<std::size_t>& measured,
             const Eigen::MatrixXd& Y, int batch, const std::vector<std::size_t>& pending) {
            PoolSuggestion s;
            {
              py::gil_scoped_release release;
              s = opt.suggest_pool(pool, measured, Y, batch, pending);
            }
            py::dict d;
            d["indices"] = s.indices;
            d["acquisition"] = s.acquisition;
            d["mean"] = s.mean;
            d["sd"] = s.sd;
            d["method"] = s.method;
            return d;
          },
          py::arg("pool"), py::arg("measured"), py::arg("Y"), py::arg("batch"), py::arg("pending"));

  m.def("pareto_front", &pareto_front, py::arg("Y"));
  m.def("hypervolume", &hypervolume, py::arg("points"), py::arg("reference"));
  m.def("expected_improvement", &expected_improvement, py::arg("mu"), py::arg("sigma"), py::arg("best"),
        py::arg("xi") = 0.0);
  m.def("log_expected_improvement", &log_expected_improvement, py::arg("mu"), py::arg("sigma"), py::arg("best"),
        py::arg("xi") = 0.0);
  m.def("probability_of_improvement", &probability_of_improvement, py::arg("mu"), py::arg("sigma"),
        py::arg("best"), py::arg("xi") = 0.0);
  m.def("upper_confidence_bound", &upper_confidence_bound, py::arg("mu"), py::arg("sigma"), py::arg("kappa"));

  m.def("pool_optimizer_defaults", &pool_optimizer_defaults,
        "OptimizerOptions a pool run starts from (UCB, kappa 1, rank-warped inputs, Matern 3/2)");
  m.def(
      "run_pool",
      [](const std::filesystem::path& csv, const std::string& objective, const std::vector<std::string>& parameters,
         int initial, int iterations, int batch, bool minimize, const OptimizerOptions& opt) {
        const auto table = core::read_csv(csv);
        const PoolData pool = load_pool(table, objective, parameters);
        PoolRunOptions ro;
        ro.initial = initial;
        ro.iterations = iterations;
        ro.batch = batch;
        ro.minimize = minimize;
        ro.optimizer = opt;
        PoolTrace t;
        {
          py::gil_scoped_release release;
          t = run_pool(pool, ro);
        }
        py::dict d;
        d["order"] = t.order;
        d["pool_index"] = t.pool_index;
        d["values"] = t.values;
        d["best_so_far"] = t.best_so_far;
        d["seconds"] = t.seconds;
        d["n_unique"] = pool.X.rows();
        d["n_rows"] = pool.n_rows;
        d["parameters"] = pool.parameters;
        return d;
      },
      py::arg("csv"), py::arg("objective"), py::arg("parameters"), py::arg("initial"), py::arg("iterations"),
      py::arg("batch"), py::arg("minimize"), py::arg("options"));
}

}  // namespace tsunagu::python
