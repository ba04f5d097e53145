// Bindings of tsunagu::sparse. Long computations release the GIL; inputs are checked in the Pythonic layer
// (tsunagu/sparse.py) and again by the library, whose errors reach Python through module.cpp's translator.
#include <pybind11/eigen.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include "bindings.hpp"
#include "tsunagu/core/io.hpp"
#include "tsunagu/core/table.hpp"
#include "tsunagu/sparse/cv.hpp"
#include "tsunagu/sparse/exhaustive.hpp"
#include "tsunagu/sparse/model.hpp"
#include "tsunagu/sparse/penalized.hpp"
#include "tsunagu/sparse/plots.hpp"

namespace py = pybind11;
using namespace tsunagu::sparse;

namespace tsunagu::python {

void bind_sparse(py::module_& m) {
  py::class_<PathOptions>(m, "PathOptions")
      .def(py::init<>())
      .def_property(
          "family", [](const PathOptions& o) { return to_string(o.family); },
          [](PathOptions& o, const std::string& s) { o.family = parse_family(s); })
      .def_property(
          "penalty", [](const PathOptions& o) { return to_string(o.penalty); },
          [](PathOptions& o, const std::string& s) { o.penalty = parse_penalty(s); })
      .def_readwrite("gamma", &PathOptions::gamma)
      .def_readwrite("alpha", &PathOptions::alpha)
      .def_readwrite("nlambda", &PathOptions::nlambda)
      .def_readwrite("lambda_min_ratio", &PathOptions::lambda_min_ratio)
      .def_readwrite("lambda_", &PathOptions::lambda)
      .def_readwrite("eps", &PathOptions::eps)
      .def_readwrite("max_iter", &PathOptions::max_iter)
      .def_readwrite("dfmax", &PathOptions::dfmax)
      .def_readwrite("penalty_factor", &PathOptions::penalty_factor)
      .def("resolved_gamma", &PathOptions::resolved_gamma)
      .def("validate", &PathOptions::validate, py::arg("n"), py::arg("p"));

  py::class_<Path>(m, "Path")
      .def_property_readonly("family", [](const Path& p) { return to_string(p.family); })
      .def_property_readonly("penalty", [](const Path& p) { return to_string(p.penalty); })
      .def_readonly("gamma", &Path::gamma)
      .def_readonly("alpha", &Path::alpha)
      .def_readonly("lambda_", &Path::lambda)
      .def_readonly("intercept", &Path::intercept)
      .def_readonly("beta", &Path::beta)
      .def_readonly("beta_std", &Path::beta_std)
      .def_readonly("intercept_std", &Path::intercept_std)
      .def_readonly("center", &Path::center)
      .def_readonly("scale", &Path::scale)
      .def_readonly("penalty_factor", &Path::penalty_factor)
      .def_readonly("y_mean", &Path::y_mean)
      .def_readonly("y_sd", &Path::y_sd)
      .def_readonly("loss", &Path::loss)
      .def_readonly("df", &Path::df)
      .def_readonly("iterations", &Path::iterations)
      .def_readonly("converged", &Path::converged)
      .def_readonly("dropped_constant", &Path::dropped_constant)
      .def_readonly("warnings", &Path::warnings)
      .def_readonly("status", &Path::status)
      .def_readonly("message", &Path::message)
      .def("linear_predictor", &Path::linear_predictor, py::arg("X"))
      .def("predict", &Path::predict, py::arg("X"))
      .def("nearest_lambda", &Path::nearest_lambda, py::arg("value"));

  py::class_<CvOptions>(m, "CvOptions")
      .def(py::init<>())
      .def_readwrite("folds", &CvOptions::folds)
      .def_readwrite("fold_ids", &CvOptions::fold_ids)
      .def_readwrite("loocv", &CvOptions::loocv)
      .def_readwrite("seed", &CvOptions::seed)
      .def_readwrite("repeats", &CvOptions::repeats)
      .def_readwrite("threads", &CvOptions::threads)
      .def_readwrite("progress", &CvOptions::progress);

  py::class_<CvResult>(m, "CvResult")
      .def_readonly("lambda_", &CvResult::lambda)
      .def_readonly("mean", &CvResult::mean)
      .def_readonly("se", &CvResult::se)
      .def_readonly("index_min", &CvResult::index_min)
      .def_readonly("index_1se", &CvResult::index_1se)
      .def_readonly("lambda_min", &CvResult::lambda_min)
      .def_readonly("lambda_1se", &CvResult::lambda_1se)
      .def_readonly("oof", &CvResult::oof)
      .def_readonly("fold_ids", &CvResult::fold_ids)
      .def_readonly("folds", &CvResult::folds)
      .def_readonly("repeats", &CvResult::repeats)
      .def_readonly("warnings", &CvResult::warnings);

  m.def("fit_path", &fit_path, py::arg("X"), py::arg("y"), py::arg("options"),
        py::call_guard<py::gil_scoped_release>());
  m.def(
      "cross_validate",
      [](const Eigen::MatrixXd& X, const Eigen::VectorXd& y, const PathOptions& o, const CvOptions& c,
         const Path* full) { return cross_validate(X, y, o, c, full); },
      py::arg("X"), py::arg("y"), py::arg("options"), py::arg("cv"), py::arg("full") = nullptr,
      py::call_guard<py::gil_scoped_release>());
  m.def("kkt_violation", &kkt_violation, py::arg("path"), py::arg("X"), py::arg("y"));
  m.def(
      "threshold",
      [](const std::string& pen, double u, double v, double l1, double l2, double gamma) {
        return threshold(parse_penalty(pen), u, v, l1, l2, gamma);
      },
      py::arg("penalty"), py::arg("u"), py::arg("v"), py::arg("l1"), py::arg("l2"), py::arg("gamma"));
  m.def("make_folds", [](std::size_t n, int k, std::uint64_t seed) { return make_folds(n, k, seed); },
        py::arg("n"), py::arg("k"), py::arg("seed"));

  m.def(
      "formula",
      [](const std::string& family, const std::string& target, const std::vector<std::string>& features,
         double intercept, const Eigen::VectorXd& coef, int digits) {
        LinearModel lm;
        lm.family = parse_family(family);
        lm.target = target;
        lm.features = features;
        lm.intercept = intercept;
        lm.coef = coef;
        return lm.formula(digits);
      },
      py::arg("family"), py::arg("target"), py::arg("features"), py::arg("intercept"), py::arg("coef"),
      py::arg("digits") = 4);

  m.def(
      "save_fit",
      [](const std::filesystem::path& file, const Path& path, const CvResult* cv,
         const std::vector<std::string>& features, const std::string& target) {
        SavedFit s;
        s.path = path;
        if (cv) s.cv = *cv;
        s.features = features;
        s.target = target;
        core::write_json(file, to_json(s));
      },
      py::arg("file"), py::arg("path"), py::arg("cv"), py::arg("features"), py::arg("target"));
  m.def(
      "load_fit",
      [](const std::filesystem::path& file) {
        auto s = saved_fit_from_json(core::read_json(file), file.string());
        return py::make_tuple(s.path, s.cv ? py::cast(*s.cv) : py::none(), s.features, s.target);
      },
      py::arg("file"));

  m.def(
      "load_csv",
      [](const std::filesystem::path& file, const std::string& target, const std::vector<std::string>& features,
         const std::vector<std::string>& exclude, bool drop_missing) {
        const auto t = core::read_csv(file);
        auto d = dataset_from_table(t, target, features, exclude,
                                    drop_missing ? core::MissingPolicy::Drop : core::MissingPolicy::Error);
        return py::make_tuple(d.X, target.empty() ? py::none() : py::cast(d.y), d.features, d.rows);
      },
      py::arg("file"), py::arg("target") = "", py::arg("features") = std::vector<std::string>{},
      py::arg("exclude") = std::vector<std::string>{}, py::arg("drop_missing") = false);

  py::class_<ExhaustiveOptions>(m, "ExhaustiveOptions")
      .def(py::init<>())
      .def_readwrite("max_k", &ExhaustiveOptions::max_k)
      .def_readwrite("folds", &ExhaustiveOptions::folds)
      .def_readwrite("fold_ids", &ExhaustiveOptions::fold_ids)
      .def_readwrite("seed", &ExhaustiveOptions::seed)
      .def_readwrite("top", &ExhaustiveOptions::top)
      .def_readwrite("dos_bins", &ExhaustiveOptions::dos_bins)
      .def_readwrite("threads", &ExhaustiveOptions::threads)
      .def_readwrite("time_limit", &ExhaustiveOptions::time_limit)
      .def_readwrite("progress", &ExhaustiveOptions::progress);

  py::class_<SubsetModel>(m, "SubsetModel")
      .def_readonly("features", &SubsetModel::features)
      .def_readonly("cv_error", &SubsetModel::cv_error)
      .def_readonly("intercept", &SubsetModel::intercept)
      .def_readonly("coef", &SubsetModel::coef)
      .def_readonly("coef_std", &SubsetModel::coef_std)
      .def_readonly("r2", &SubsetModel::r2);

  py::class_<ExhaustiveResult>(m, "ExhaustiveResult")
      .def_readonly("models", &ExhaustiveResult::models)
      .def_readonly("dos_edges", &ExhaustiveResult::dos_edges)
      .def_readonly("dos_counts", &ExhaustiveResult::dos_counts)
      .def_readonly("dos_counts_by_k", &ExhaustiveResult::dos_counts_by_k)
      .def_readonly("all_cv_errors", &ExhaustiveResult::all_cv_errors)
      .def_readonly("n_subsets", &ExhaustiveResult::n_subsets)
      .def_readonly("n_rank_deficient", &ExhaustiveResult::n_rank_deficient)
      .def_readonly("seconds", &ExhaustiveResult::seconds)
      .def_readonly("fits_per_second", &ExhaustiveResult::fits_per_second)
      .def_readonly("max_k", &ExhaustiveResult::max_k)
      .def_readonly("folds", &ExhaustiveResult::folds)
      .def_readonly("fold_ids", &ExhaustiveResult::fold_ids);

  m.def(
      "save_exhaustive",
      [](const std::filesystem::path& file, const ExhaustiveResult& r, const std::vector<std::string>& features,
         const std::string& target) { core::write_json(file, to_json(r, features, target)); },
      py::arg("file"), py::arg("result"), py::arg("features"), py::arg("target"));
  m.def(
      "subset_formula",
      [](const SubsetModel& sm, const std::vector<std::string>& features, const std::string& target) {
        return subset_model(sm, features, target).formula();
      },
      py::arg("model"), py::arg("features"), py::arg("target"));
  m.def("exhaustive_search", &exhaustive_search, py::arg("X"), py::arg("y"), py::arg("options"),
        py::call_guard<py::gil_scoped_release>());
  m.def("count_subsets", &count_subsets, py::arg("p"), py::arg("max_k"));
  m.def("estimate_exhaustive_seconds", &estimate_exhaustive_seconds, py::arg("n"), py::arg("p"), py::arg("options"));

  m.def("cv_plot_svg", &cv_plot_svg, py::arg("cv"), py::arg("title") = "cross-validation");
  m.def("path_plot_svg", &path_plot_svg, py::arg("path"), py::arg("features"), py::arg("title") = "coefficient paths");
  m.def("weight_diagram_svg", &weight_diagram_svg, py::arg("result"), py::arg("features"), py::arg("top") = 50);
  m.def("dos_svg", &dos_svg, py::arg("result"));
  m.def("write_text", [](const std::filesystem::path& p, const std::string& s) { core::write_file_atomic(p, s); },
        py::arg("path"), py::arg("text"));
}

}  // namespace tsunagu::python
