// tsunagu sparse fit|predict|screen|exhaustive — argument parsing and formatting only; every computation is a
// call into tsunagu::sparse.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>

#include "common.hpp"
#include "tsunagu/core/error.hpp"
#include "tsunagu/core/io.hpp"
#include "tsunagu/core/table.hpp"
#include "tsunagu/sparse/cv.hpp"
#include "tsunagu/sparse/exhaustive.hpp"
#include "tsunagu/sparse/model.hpp"
#include "tsunagu/sparse/penalized.hpp"
#include "tsunagu/sparse/plots.hpp"

namespace tsunagu::cli {
namespace {

using core::format_double;

struct DataArgs {
  std::string file, target, features, exclude;
  bool drop_missing = false;
};

void add_data_args(CLI::App* c, DataArgs& d, bool need_target) {
  c->add_option("data", d.file, "CSV file with a header row")->required()->check(CLI::ExistingFile);
  auto* t = c->add_option("-t,--target", d.target, "response column");
  if (need_target) t->required();
  c->add_option("--features", d.features, "comma-separated feature columns (default: all but target/excluded)");
  c->add_option("--exclude", d.exclude, "comma-separated columns to leave out (e.g. sample names)");
  c->add_flag("--drop-missing", d.drop_missing, "drop rows with empty/NA cells instead of failing");
}

sparse::Dataset load(const DataArgs& d, const std::string& also_exclude = "") {
  const auto table = core::read_csv(d.file);
  auto exclude = split_list(d.exclude);
  if (!also_exclude.empty()) {
    for (const auto& f : split_list(d.features))
      if (f == also_exclude)
        throw InvalidArgument("--features: '" + f + "' is the fold column and cannot be a feature");
    if (std::find(exclude.begin(), exclude.end(), also_exclude) == exclude.end()) exclude.push_back(also_exclude);
  }
  auto ds = sparse::dataset_from_table(table, d.target, split_list(d.features), exclude,
                                       d.drop_missing ? core::MissingPolicy::Drop : core::MissingPolicy::Error);
  if (ds.dropped) note("note: dropped " + std::to_string(ds.dropped) + " rows with missing values");
  return ds;
}

std::string sig(double v, int d = 4) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g", d, v);
  return buf;
}

// ---------------------------------------------------------------------------------------------------------------
struct FitArgs {
  DataArgs data;
  std::string penalty = "mcp", family = "gaussian", output, plot_prefix, penalty_factor, fold_col;
  double gamma = std::nan(""), alpha = 1, lambda_min_ratio = std::nan(""), eps = 1e-4;
  int nlambda = 100, folds = 10, repeats = 1, max_iter = 10000, dfmax = -1;
  unsigned threads = 0;
  std::uint64_t seed = 0;
  bool no_cv = false, loocv = false;
};

void run_fit(const FitArgs& a) {
  auto ds = load(a.data, a.fold_col);
  sparse::PathOptions o;
  o.family = sparse::parse_family(a.family);
  o.penalty = sparse::parse_penalty(a.penalty);
  o.gamma = a.gamma;
  o.alpha = a.alpha;
  o.nlambda = a.nlambda;
  o.lambda_min_ratio = a.lambda_min_ratio;
  o.eps = a.eps;
  o.max_iter = a.max_iter;
  o.dfmax = a.dfmax;
  if (!a.penalty_factor.empty()) {
    o.penalty_factor.assign(ds.features.size(), 1.0);
    for (const auto& item : split_list(a.penalty_factor)) {
      const auto eq = item.find('=');
      if (eq == std::string::npos)
        throw InvalidArgument("--penalty-factor: expected NAME=VALUE entries (got '" + item + "')");
      const auto name = item.substr(0, eq);
      std::size_t j = 0;
      while (j < ds.features.size() && ds.features[j] != name) ++j;
      if (j == ds.features.size()) throw InvalidArgument("--penalty-factor: '" + name + "' is not a feature");
      try {
        o.penalty_factor[j] = std::stod(item.substr(eq + 1));
      } catch (const std::exception&) {
        throw InvalidArgument("--penalty-factor: '" + item.substr(eq + 1) + "' is not a number");
      }
    }
  }
  o.validate(static_cast<std::size_t>(ds.X.rows()), static_cast<std::size_t>(ds.X.cols()));
  sparse::CvOptions cvo;
  cvo.folds = a.folds;
  cvo.loocv = a.loocv;
  cvo.repeats = a.repeats;
  cvo.seed = a.seed;
  cvo.threads = a.threads;
  if (!a.fold_col.empty()) {
    const auto t = core::read_csv(a.data.file);
    const auto fd = t.numeric({a.fold_col}, core::MissingPolicy::Error);
    std::vector<int> ids;
    int k = 0;
    for (auto r : ds.rows) {
      const double v = fd.values(static_cast<Eigen::Index>(r), 0);
      if (v != std::floor(v) || v < 1 || v > static_cast<double>(ds.rows.size()))
        throw InvalidArgument("--fold-col: column '" + a.fold_col + "' must hold fold labels 1..K (got " +
                              format_double(v) + ")");
      ids.push_back(static_cast<int>(v) - 1);
      k = std::max(k, ids.back() + 1);
    }
    std::vector<int> count(static_cast<std::size_t>(k), 0);
    for (int f : ids) ++count[static_cast<std::size_t>(f)];
    for (int f = 0; f < k; ++f)
      if (count[static_cast<std::size_t>(f)] == 0)
        throw InvalidArgument("--fold-col: column '" + a.fold_col + "' has no row in fold " + std::to_string(f + 1) +
                              " (labels must be 1..K with every fold used)");
    cvo.fold_ids = ids;
  }
  if (!a.no_cv) cvo.validate(static_cast<std::size_t>(ds.X.rows()));

  sparse::SavedFit fit;
  fit.features = ds.features;
  fit.target = ds.target;
  fit.path = sparse::fit_path(ds.X, ds.y, o);
  for (const auto& w : fit.path.warnings) note("warning: " + w);
  if (!a.no_cv) {
    fit.cv = sparse::cross_validate(ds.X, ds.y, o, cvo, &fit.path);
    for (const auto& w : fit.cv->warnings) note("warning: " + w);
  }

  // All outputs are written together at the end: a failure leaves none of them behind.
  std::vector<std::pair<std::filesystem::path, std::string>> outputs{{a.output, sparse::to_json(fit).dump(2) + "\n"}};
  if (!a.plot_prefix.empty()) {
    outputs.emplace_back(a.plot_prefix + "_path.svg", sparse::path_plot_svg(fit.path, fit.features));
    if (fit.cv) outputs.emplace_back(a.plot_prefix + "_cv.svg", sparse::cv_plot_svg(*fit.cv));
  }
  core::write_files_atomic(outputs);

  std::cout << "data: " << ds.X.rows() << " rows, " << ds.X.cols() << " features; " << sparse::to_string(o.penalty)
            << " path of " << fit.path.n_lambda() << " lambda values (" << fit.path.status << ")\n";
  if (fit.cv) {
    const auto& c = *fit.cv;
    const auto mmin = sparse::model_at(fit.path, c.index_min, fit.features, fit.target);
    std::cout << "cv: " << c.folds << "-fold" << (c.repeats > 1 ? " x" + std::to_string(c.repeats) : "")
              << ", lambda_min = " << sig(c.lambda_min) << " (CV " << (o.family == sparse::Family::Gaussian ? "MSE " : "deviance ")
              << sig(c.mean(static_cast<Eigen::Index>(c.index_min)))
              << " ± " << sig(c.se(static_cast<Eigen::Index>(c.index_min))) << "), lambda_1se = " << sig(c.lambda_1se)
              << "\n";
    std::cout << "formula (lambda_min): " << mmin.formula() << "\n";
    std::cout << "formula (lambda_1se): "
              << sparse::model_at(fit.path, c.index_1se, fit.features, fit.target).formula() << "\n";
  } else {
    std::cout << "formula (smallest lambda): "
              << sparse::model_at(fit.path, fit.path.n_lambda() - 1, fit.features, fit.target).formula() << "\n";
  }
  std::cout << "wrote " << a.output;
  if (!a.plot_prefix.empty())
    std::cout << ", " << a.plot_prefix << "_path.svg" << (fit.cv ? ", " + a.plot_prefix + "_cv.svg" : "");
  std::cout << "\n";
}

// ---------------------------------------------------------------------------------------------------------------
struct PredictArgs {
  std::string model, data, lambda = "min", output, id_cols;
  bool minimize = false;
  int top = 0;
};

// Loads model + data and predicts; shared by predict and screen.
struct Predicted {
  core::Table table;
  sparse::LinearModel model;
  sparse::Dataset ds;
  Eigen::VectorXd prediction;
};

Predicted predict_common(const PredictArgs& a) {
  Predicted p;
  const auto fit = sparse::saved_fit_from_json(core::read_json(a.model), a.model);
  p.model = fit.select(a.lambda);
  p.table = core::read_csv(a.data);
  p.ds = sparse::dataset_from_table(p.table, "", p.model.features, {}, core::MissingPolicy::Error);
  p.prediction = p.model.predict(p.ds.X);
  return p;
}

// The same CSV text goes to the file (atomically) or to stdout.
void write_rows(const std::string& output, const std::vector<std::string>& cols,
                const std::vector<std::vector<std::string>>& rows) {
  const std::string text = core::format_csv(cols, rows);
  if (!output.empty()) core::write_file_atomic(output, text);
  else std::cout << text;
}

void run_predict(const PredictArgs& a) {
  auto p = predict_common(a);
  auto cols = p.table.columns;
  const std::string pred_name = "predicted_" + (p.model.target.empty() ? std::string("y") : p.model.target);
  cols.push_back(pred_name);
  std::vector<std::vector<std::string>> rows;
  for (std::size_t i = 0; i < p.table.n_rows(); ++i) {
    auto r = p.table.rows[i];
    r.push_back(format_double(p.prediction(static_cast<Eigen::Index>(i))));
    rows.push_back(std::move(r));
  }
  note("model at lambda = " + sig(p.model.lambda) + ": " + p.model.formula());
  write_rows(a.output, cols, rows);
  if (!a.output.empty()) note("wrote " + a.output);
}

void run_screen(const PredictArgs& a) {
  auto p = predict_common(a);
  const auto s = sparse::screen(p.model, p.ds.X, !a.minimize);
  const std::string pred_name = "predicted_" + (p.model.target.empty() ? std::string("y") : p.model.target);
  std::vector<std::string> cols{"rank"};
  cols.insert(cols.end(), p.table.columns.begin(), p.table.columns.end());
  cols.push_back(pred_name);
  std::vector<std::vector<std::string>> rows;
  const std::size_t m = a.top > 0 ? std::min<std::size_t>(static_cast<std::size_t>(a.top), s.order.size()) : s.order.size();
  for (std::size_t r = 0; r < m; ++r) {
    const auto i = s.order[r];
    std::vector<std::string> row{std::to_string(r + 1)};
    row.insert(row.end(), p.table.rows[i].begin(), p.table.rows[i].end());
    row.push_back(format_double(s.prediction(static_cast<Eigen::Index>(i))));
    rows.push_back(std::move(row));
  }
  note("model at lambda = " + sig(p.model.lambda) + ": " + p.model.formula());
  note(std::string("ranking ") + std::to_string(s.order.size()) + " candidates by " + pred_name +
       (a.minimize ? " (smallest first)" : " (largest first)"));
  write_rows(a.output, cols, rows);
  if (!a.output.empty()) note("wrote " + a.output);
}

// ---------------------------------------------------------------------------------------------------------------
struct ExhaustiveArgs {
  DataArgs data;
  sparse::ExhaustiveOptions o;
  std::string output, plot, dos_plot;
  std::string max_k;
};

void run_exhaustive(ExhaustiveArgs& a) {
  auto ds = load(a.data);
  const auto p = static_cast<std::size_t>(ds.X.cols());
  if (a.max_k == "all") a.o.max_k = static_cast<int>(p);
  else {
    try {
      std::size_t pos = 0;
      a.o.max_k = std::stoi(a.max_k, &pos);
      if (pos != a.max_k.size()) throw std::invalid_argument("junk");
    } catch (const std::exception&) {
      throw InvalidArgument("--max-k: expected a positive integer or 'all' (got '" + a.max_k + "')");
    }
  }
  const auto r = sparse::exhaustive_search(ds.X, ds.y, a.o);
  std::vector<std::pair<std::filesystem::path, std::string>> outputs;
  if (!a.output.empty()) outputs.emplace_back(a.output, sparse::to_json(r, ds.features, ds.target).dump(2) + "\n");
  if (!a.plot.empty()) outputs.emplace_back(a.plot, sparse::weight_diagram_svg(r, ds.features, a.o.top));
  if (!a.dos_plot.empty()) outputs.emplace_back(a.dos_plot, sparse::dos_svg(r));
  core::write_files_atomic(outputs);
  std::cout << "exhaustive search: " << r.n_subsets << " subsets of " << p << " features (k <= " << r.max_k << "), "
            << r.folds << "-fold CV, " << sig(r.seconds, 3) << " s (" << sig(r.fits_per_second, 3)
            << " subset-fold fits/s)";
  if (r.n_rank_deficient) std::cout << "; " << r.n_rank_deficient << " rank-deficient subsets skipped";
  std::cout << "\n";
  const std::size_t show = std::min<std::size_t>(r.models.size(), 5);
  for (std::size_t i = 0; i < show; ++i) {
    const auto& m = r.models[i];
    std::cout << "#" << i + 1 << "  cv_rmse " << sig(m.cv_error) << "  "
              << sparse::subset_model(m, ds.features, ds.target).formula() << "\n";
  }
  if (!a.output.empty()) note("wrote " + a.output);
}

}  // namespace

void register_sparse(CLI::App& app) {
  auto* sp = app.add_subcommand("sparse", "sparse modelling for small data: MCP/SCAD/lasso paths, CV, exhaustive search");
  sp->require_subcommand(1);

  static FitArgs fa;
  auto* fit = sp->add_subcommand("fit", "fit a penalised regression path (+ cross-validation) and write model.json");
  add_data_args(fit, fa.data, true);
  fit->add_option("--penalty", fa.penalty, "mcp | scad | lasso")->capture_default_str();
  fit->add_option("--family", fa.family, "gaussian | binomial (0/1 outcome)")->capture_default_str();
  fit->add_option("--gamma", fa.gamma, "concavity (MCP default 3, > 1; SCAD default 3.7, > 2)");
  fit->add_option("--alpha", fa.alpha, "elastic-net mixing in (0, 1]; < 1 adds a ridge term")->capture_default_str();
  fit->add_option("--nlambda", fa.nlambda, "number of lambda values")->capture_default_str();
  fit->add_option("--lambda-min-ratio", fa.lambda_min_ratio, "lambda_min / lambda_max (default 0.001 if n > p else 0.05)");
  fit->add_option("--eps", fa.eps, "convergence: max |change| < eps * sd(y)")->capture_default_str();
  fit->add_option("--max-iter", fa.max_iter, "coordinate-descent sweeps over the whole path")->capture_default_str();
  fit->add_option("--dfmax", fa.dfmax, "stop the path when more than this many features are selected (-1: no limit)")->capture_default_str();
  fit->add_option("--penalty-factor", fa.penalty_factor, "per-feature lambda multipliers NAME=VALUE,... (0 = always kept)");
  fit->add_option("--folds", fa.folds, "cross-validation folds")->capture_default_str();
  fit->add_flag("--loocv", fa.loocv, "leave-one-out cross-validation");
  fit->add_option("--fold-col", fa.fold_col, "column with user fold labels 1..K");
  fit->add_option("--repeats", fa.repeats, "repeat CV with seeds seed, seed+1, ...")->capture_default_str();
  fit->add_option("--seed", fa.seed, "seed of the fold assignment")->check(non_negative())->capture_default_str();
  fit->add_option("--threads", fa.threads, "threads (0 = all cores or $TSUNAGU_NUM_THREADS)")->capture_default_str();
  fit->add_flag("--no-cv", fa.no_cv, "fit the path only");
  fit->add_option("-o,--output", fa.output, "model JSON to write")->required();
  fit->add_option("--plot-prefix", fa.plot_prefix, "write PREFIX_path.svg and PREFIX_cv.svg");
  fit->callback([] { run_fit(fa); });

  static PredictArgs pa;
  auto* pred = sp->add_subcommand("predict", "predict with a saved model");
  pred->add_option("model", pa.model, "model.json from 'sparse fit'")->required()->check(CLI::ExistingFile);
  pred->add_option("data", pa.data, "CSV with the model's feature columns")->required()->check(CLI::ExistingFile);
  pred->add_option("--lambda", pa.lambda, "min | 1se | a lambda value (nearest on the path)")->capture_default_str();
  pred->add_option("-o,--output", pa.output, "CSV to write (default: stdout)");
  pred->callback([] { run_predict(pa); });

  static PredictArgs sa;
  auto* scr = sp->add_subcommand("screen", "rank untested candidates by their predicted response");
  scr->add_option("model", sa.model, "model.json from 'sparse fit'")->required()->check(CLI::ExistingFile);
  scr->add_option("candidates", sa.data, "CSV of candidates with the model's feature columns")->required()->check(CLI::ExistingFile);
  scr->add_option("--lambda", sa.lambda, "min | 1se | a lambda value")->capture_default_str();
  scr->add_flag("--minimize", sa.minimize, "rank smallest predictions first (default: largest first)");
  scr->add_option("--top", sa.top, "keep only the best N rows (0 = all)")->capture_default_str();
  scr->add_option("-o,--output", sa.output, "CSV to write (default: stdout)");
  scr->callback([] { run_screen(sa); });

  static ExhaustiveArgs ea;
  auto* ex = sp->add_subcommand("exhaustive", "exhaustive search over feature subsets scored by K-fold CV");
  add_data_args(ex, ea.data, true);
  ex->add_option("--max-k", ea.max_k, "largest subset size, or 'all' (all 2^p - 1 subsets)")->required();
  ex->add_option("--folds", ea.o.folds, "cross-validation folds")->capture_default_str();
  ex->add_option("--seed", ea.o.seed, "seed of the fold assignment")->check(non_negative())->capture_default_str();
  ex->add_option("--top", ea.o.top, "models reported with coefficients")->capture_default_str();
  ex->add_option("--bins", ea.o.dos_bins, "histogram bins of the density of states")->capture_default_str();
  ex->add_option("--threads", ea.o.threads, "threads (0 = all cores)")->capture_default_str();
  ex->add_option("--time-limit", ea.o.time_limit, "refuse searches estimated to take longer (seconds)")->capture_default_str();
  ex->add_option("-o,--output", ea.output, "JSON with ranked models and the DOS histogram");
  ex->add_option("--plot", ea.plot, "weight diagram SVG of the top models");
  ex->add_option("--dos-plot", ea.dos_plot, "density-of-states histogram SVG");
  ex->callback([] { run_exhaustive(ea); });
}

}  // namespace tsunagu::cli
