#include "tsunagu/sparse/model.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "tsunagu/core/error.hpp"
#include "tsunagu/core/version.hpp"

namespace tsunagu::sparse {

using Eigen::Index;
using Eigen::MatrixXd;
using Eigen::VectorXd;
using nlohmann::json;

namespace {
std::string sig(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g", digits, v);
  return buf;
}
// Names with spaces or operators are quoted so the formula stays unambiguous.
std::string name_term(const std::string& s) {
  const bool plain = !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.';
  });
  return plain ? s : "`" + s + "`";
}
}  // namespace

VectorXd LinearModel::predict(const MatrixXd& X) const {
  if (X.cols() != coef.size())
    throw InvalidArgument("X: has " + std::to_string(X.cols()) + " columns but the model has " +
                          std::to_string(coef.size()) + " features");
  VectorXd eta = (X * coef).array() + intercept;
  if (family == Family::Binomial) eta = (1.0 / (1.0 + (-eta.array()).exp())).matrix();
  return eta;
}

std::string LinearModel::formula(int digits) const {
  std::string out = family == Family::Binomial ? "logit P(" + (target.empty() ? std::string("y") : target) + "=1)"
                                               : (target.empty() ? std::string("y") : target);
  out += " = " + sig(intercept, digits);
  for (Index j = 0; j < coef.size(); ++j) {
    if (coef(j) == 0) continue;
    out += coef(j) < 0 ? " - " : " + ";
    out += sig(std::abs(coef(j)), digits) + "*" +
           name_term(static_cast<std::size_t>(j) < features.size() ? features[static_cast<std::size_t>(j)]
                                                                   : "x" + std::to_string(j));
  }
  return out;
}

LinearModel model_at(const Path& path, std::size_t index, const std::vector<std::string>& features,
                     const std::string& target) {
  if (index >= path.n_lambda())
    throw InvalidArgument("lambda index " + std::to_string(index) + " out of range (path has " +
                          std::to_string(path.n_lambda()) + " values)");
  LinearModel m;
  m.family = path.family;
  m.target = target;
  m.features = features;
  m.intercept = path.intercept(static_cast<Index>(index));
  m.coef = path.beta.col(static_cast<Index>(index));
  m.lambda = path.lambda(static_cast<Index>(index));
  return m;
}

LinearModel SavedFit::select(const std::string& which) const {
  if (which == "min" || which == "1se") {
    if (!cv) throw InvalidArgument("lambda: '" + which + "' needs cross-validation results (model fitted with --no-cv)");
    return model_at(path, which == "min" ? cv->index_min : cv->index_1se, features, target);
  }
  double v = 0;
  try {
    std::size_t pos = 0;
    v = std::stod(which, &pos);
    if (pos != which.size()) throw std::invalid_argument("junk");
  } catch (const std::exception&) {
    throw InvalidArgument("lambda: expected 'min', '1se' or a number (got '" + which + "')");
  }
  return model_at(path, path.nearest_lambda(v), features, target);
}

namespace {
json vec(const VectorXd& v) { return json(std::vector<double>(v.data(), v.data() + v.size())); }
json cols(const MatrixXd& m) {
  json a = json::array();
  for (Index k = 0; k < m.cols(); ++k) a.push_back(vec(m.col(k)));
  return a;
}
}  // namespace

json to_json(const SavedFit& fit) {
  const Path& p = fit.path;
  json j;
  j["format"] = "tsunagu.sparse.path/1";
  j["tsunagu_version"] = tsunagu::version();
  j["target"] = fit.target;
  j["features"] = fit.features;
  j["family"] = to_string(p.family);
  j["penalty"] = to_string(p.penalty);
  j["gamma"] = p.gamma;
  j["alpha"] = p.alpha;
  j["lambda"] = vec(p.lambda);
  j["intercept"] = vec(p.intercept);
  j["coef"] = cols(p.beta);
  j["center"] = vec(p.center);
  j["scale"] = vec(p.scale);
  j["penalty_factor"] = vec(p.penalty_factor);
  j["y_mean"] = p.y_mean;
  j["y_sd"] = p.y_sd;
  j["df"] = p.df;
  j["iterations"] = p.iterations;
  j["converged"] = p.converged;
  j["loss"] = vec(p.loss);
  j["status"] = p.status;
  j["message"] = p.message;
  j["warnings"] = p.warnings;
  if (fit.cv) {
    const CvResult& c = *fit.cv;
    j["cv"] = {{"mean", vec(c.mean)},
               {"se", vec(c.se)},
               {"lambda", vec(c.lambda)},
               {"lambda_min", c.lambda_min},
               {"lambda_1se", c.lambda_1se},
               {"index_min", c.index_min},
               {"index_1se", c.index_1se},
               {"folds", c.folds},
               {"repeats", c.repeats},
               {"fold_ids", c.fold_ids}};
    j["formula"] = model_at(p, c.index_min, fit.features, fit.target).formula();
    j["formula_1se"] = model_at(p, c.index_1se, fit.features, fit.target).formula();
  }
  return j;
}

namespace {
template <class T>
T field(const json& j, const char* name, const std::string& src) {
  if (!j.contains(name)) throw ParseError(src, 0, "", std::string("missing field '") + name + "'");
  try {
    return j.at(name).get<T>();
  } catch (const json::exception&) {
    throw ParseError(src, 0, "", std::string("field '") + name + "' has the wrong type");
  }
}
VectorXd to_vec(const std::vector<double>& v) { return Eigen::Map<const VectorXd>(v.data(), static_cast<Index>(v.size())); }
}  // namespace

SavedFit saved_fit_from_json(const json& j, const std::string& src) {
  if (!j.is_object()) throw ParseError(src, 0, "", "model file is not a JSON object");
  SavedFit s;
  s.target = j.value("target", std::string("y"));
  s.features = field<std::vector<std::string>>(j, "features", src);
  Path& p = s.path;
  try {
    p.family = parse_family(j.value("family", std::string("gaussian")));
    p.penalty = parse_penalty(field<std::string>(j, "penalty", src));
  } catch (const InvalidArgument& e) {
    throw ParseError(src, 0, "", e.what());
  }
  p.gamma = field<double>(j, "gamma", src);
  p.alpha = j.value("alpha", 1.0);
  p.lambda = to_vec(field<std::vector<double>>(j, "lambda", src));
  p.intercept = to_vec(field<std::vector<double>>(j, "intercept", src));
  const auto coef = field<std::vector<std::vector<double>>>(j, "coef", src);
  const Index L = p.lambda.size(), P = static_cast<Index>(s.features.size());
  if (p.intercept.size() != L || static_cast<Index>(coef.size()) != L)
    throw ParseError(src, 0, "", "'lambda', 'intercept' and 'coef' must have the same length");
  p.beta.resize(P, L);
  for (Index k = 0; k < L; ++k) {
    if (static_cast<Index>(coef[static_cast<std::size_t>(k)].size()) != P)
      throw ParseError(src, 0, "", "coef[" + std::to_string(k) + "] has " +
                                       std::to_string(coef[static_cast<std::size_t>(k)].size()) + " values for " +
                                       std::to_string(P) + " features");
    p.beta.col(k) = to_vec(coef[static_cast<std::size_t>(k)]);
  }
  p.center = j.contains("center") ? to_vec(field<std::vector<double>>(j, "center", src)) : VectorXd::Zero(P);
  p.scale = j.contains("scale") ? to_vec(field<std::vector<double>>(j, "scale", src)) : VectorXd::Ones(P);
  p.penalty_factor = j.contains("penalty_factor") ? to_vec(field<std::vector<double>>(j, "penalty_factor", src))
                                                  : VectorXd::Ones(P);
  p.beta_std = p.beta.array().colwise() * p.scale.array();
  p.intercept_std = VectorXd::Zero(L);
  p.y_mean = j.value("y_mean", 0.0);
  p.y_sd = j.value("y_sd", 1.0);
  p.status = j.value("status", std::string("converged"));
  p.message = j.value("message", std::string());
  if (j.contains("cv") && !j["cv"].is_null()) {
    const json& c = j["cv"];
    CvResult cv;
    cv.mean = to_vec(field<std::vector<double>>(c, "mean", src));
    cv.se = to_vec(field<std::vector<double>>(c, "se", src));
    cv.lambda = c.contains("lambda") ? to_vec(field<std::vector<double>>(c, "lambda", src)) : p.lambda.head(cv.mean.size());
    cv.lambda_min = field<double>(c, "lambda_min", src);
    cv.lambda_1se = field<double>(c, "lambda_1se", src);
    cv.index_min = c.contains("index_min") ? field<std::size_t>(c, "index_min", src) : p.nearest_lambda(cv.lambda_min);
    cv.index_1se = c.contains("index_1se") ? field<std::size_t>(c, "index_1se", src) : p.nearest_lambda(cv.lambda_1se);
    if (cv.index_min >= static_cast<std::size_t>(L) || cv.index_1se >= static_cast<std::size_t>(L))
      throw ParseError(src, 0, "cv", "index_min/index_1se out of range");
    cv.folds = c.value("folds", 0);
    cv.repeats = c.value("repeats", 1);
    cv.fold_ids = c.value("fold_ids", std::vector<int>{});
    s.cv = std::move(cv);
  }
  return s;
}

LinearModel subset_model(const SubsetModel& m, const std::vector<std::string>& features, const std::string& target) {
  LinearModel lm;
  lm.target = target;
  for (int f : m.features) {
    if (f < 0 || static_cast<std::size_t>(f) >= features.size())
      throw InvalidArgument("subset_model: feature index " + std::to_string(f) + " out of range (" +
                            std::to_string(features.size()) + " names)");
    lm.features.push_back(features[static_cast<std::size_t>(f)]);
  }
  lm.intercept = m.intercept;
  lm.coef = m.coef;
  return lm;
}

json to_json(const ExhaustiveResult& r, const std::vector<std::string>& features, const std::string& target) {
  json models = json::array();
  for (std::size_t i = 0; i < r.models.size(); ++i) {
    const auto& m = r.models[i];
    const LinearModel lm = subset_model(m, features, target);
    models.push_back({{"rank", i + 1},
                      {"features", lm.features},
                      {"intercept", m.intercept},
                      {"coefficients", vec(m.coef)},
                      {"coefficients_std", vec(m.coef_std)},
                      {"cv_error", m.cv_error},
                      {"r2", m.r2},
                      {"formula", lm.formula()}});
  }
  return {{"format", "tsunagu.sparse.exhaustive/1"},
          {"tsunagu_version", tsunagu::version()},
          {"target", target},
          {"features", features},
          {"max_k", r.max_k},
          {"folds", r.folds},
          {"cv_error", "root mean squared out-of-fold error"},
          {"n_subsets", r.n_subsets},
          {"n_rank_deficient", r.n_rank_deficient},
          {"seconds", r.seconds},
          {"fits_per_second", r.fits_per_second},
          {"models", models},
          {"dos", {{"edges", r.dos_edges}, {"counts", r.dos_counts}, {"counts_by_k", r.dos_counts_by_k}}}};
}

Screening screen(const LinearModel& model, const MatrixXd& X, bool maximize) {
  Screening s;
  s.prediction = model.predict(X);
  s.order.resize(static_cast<std::size_t>(X.rows()));
  std::iota(s.order.begin(), s.order.end(), std::size_t{0});
  std::stable_sort(s.order.begin(), s.order.end(), [&](std::size_t a, std::size_t b) {
    const double pa = s.prediction(static_cast<Index>(a)), pb = s.prediction(static_cast<Index>(b));
    return maximize ? pa > pb : pa < pb;
  });
  return s;
}

}  // namespace tsunagu::sparse

namespace tsunagu::sparse {

Dataset dataset_from_table(const core::Table& table, const std::string& target,
                           const std::vector<std::string>& features, const std::vector<std::string>& exclude,
                           core::MissingPolicy missing) {
  Dataset d;
  d.target = target;
  if (!target.empty()) table.column_index(target);  // throws naming the file and the available columns
  for (const auto& e : exclude) table.column_index(e);
  const bool automatic = features.empty();
  if (automatic) {
    for (const auto& c : table.columns)
      if (c != target && std::find(exclude.begin(), exclude.end(), c) == exclude.end()) d.features.push_back(c);
  } else {
    d.features = features;
    for (const auto& f : features) {
      table.column_index(f);
      if (f == target) throw InvalidArgument("features: the target column '" + target + "' cannot also be a feature");
    }
    for (std::size_t i = 0; i < features.size(); ++i)
      for (std::size_t k = i + 1; k < features.size(); ++k)
        if (features[i] == features[k]) throw InvalidArgument("features: column '" + features[i] + "' listed twice");
  }
  if (d.features.empty()) throw InvalidArgument(table.source + ": no feature columns left to use");
  std::vector<std::string> cols = d.features;
  if (!target.empty()) cols.push_back(target);
  core::NumericData nd;
  try {
    nd = table.numeric(cols, missing);
  } catch (const ParseError& e) {
    if (e.message() == "missing value")
      throw ParseError(e.file(), e.line(), e.column(), "missing value (drop such rows with --drop-missing / drop_missing=True)");
    if (!automatic || e.message().rfind("non-numeric", 0) != 0) throw;
    throw ParseError(e.file(), e.line(), e.column(),
                     e.message() + " (choose numeric columns with --features / features= or leave identifiers out "
                                   "with --exclude / exclude=)");
  }
  const auto p = static_cast<Index>(d.features.size());
  d.X = nd.values.leftCols(p);
  if (!target.empty()) d.y = nd.values.col(p);
  d.rows = nd.kept_rows;
  d.dropped = nd.dropped;
  return d;
}

}  // namespace tsunagu::sparse
