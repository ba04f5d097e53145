// Ensemble MLP property models with repeated K-fold CV next to lasso and kNN baselines, and weight analysis
// (include/tsunagu/bio/model.hpp; docs/bio.md).
#include "tsunagu/bio/model.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <map>
#include <mutex>
#include <numeric>
#include <optional>
#include <set>
#include <sstream>
#include <utility>

#include "tsunagu/core/error.hpp"
#include "tsunagu/core/io.hpp"
#include "tsunagu/core/plot.hpp"
#include "tsunagu/core/progress.hpp"
#include "tsunagu/core/thread_pool.hpp"
#include "tsunagu/nn/importance.hpp"
#include "tsunagu/nn/knn.hpp"
#include "tsunagu/sparse/cv.hpp"
#include "tsunagu/sparse/model.hpp"
#include "tsunagu/sparse/penalized.hpp"

namespace tsunagu::bio {

using json = nlohmann::json;
using Eigen::Index;
using Eigen::MatrixXd;
using Eigen::VectorXd;

namespace {

constexpr const char* kFormat = "tsunagu.bio.model/1";

MatrixXd rows_of(const MatrixXd& M, const std::vector<Index>& idx) {
  MatrixXd out(static_cast<Index>(idx.size()), M.cols());
  for (std::size_t i = 0; i < idx.size(); ++i) out.row(static_cast<Index>(i)) = M.row(idx[i]);
  return out;
}

VectorXd rows_of(const VectorXd& v, const std::vector<Index>& idx) {
  VectorXd out(static_cast<Index>(idx.size()));
  for (std::size_t i = 0; i < idx.size(); ++i) out(static_cast<Index>(i)) = v(idx[i]);
  return out;
}

// 1 - SS_res / SS_tot about the fold's own mean (scikit-learn's r2_score on the fold); -inf-safe for a constant fold.
double r2_score(const VectorXd& y, const VectorXd& p) {
  const double ss_res = (y - p).squaredNorm();
  const double ss_tot = (y.array() - y.mean()).square().sum();
  if (!(ss_tot > 0)) return ss_res == 0 ? 1.0 : std::numeric_limits<double>::quiet_NaN();
  return 1.0 - ss_res / ss_tot;
}

double rmse(const VectorXd& y, const VectorXd& p) { return std::sqrt((y - p).squaredNorm() / static_cast<double>(y.size())); }

Spread spread_of(const std::vector<double>& v) {
  std::vector<double> f;
  for (double x : v)
    if (std::isfinite(x)) f.push_back(x);
  Spread s;
  if (f.empty()) return {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::quiet_NaN()};
  s.mean = std::accumulate(f.begin(), f.end(), 0.0) / static_cast<double>(f.size());
  double ss = 0;
  for (double x : f) ss += (x - s.mean) * (x - s.mean);
  s.sd = f.size() > 1 ? std::sqrt(ss / static_cast<double>(f.size() - 1)) : 0.0;
  return s;
}

json spread_json(const Spread& s) { return json{{"mean", s.mean}, {"sd", s.sd}}; }

// Members are trained in parallel; each network uses one LibTorch thread so that results do not depend on the
// number of members running at once.
nn::MlpOptions member_options(const TrainOptions& o, int member) {
  nn::MlpOptions m = o.mlp;
  m.seed = o.seed + 1000003ULL * static_cast<std::uint64_t>(member);
  m.threads = 1;
  m.progress = false;
  return m;
}

std::vector<nn::Mlp> fit_members(const MatrixXd& X, const VectorXd& y, const TrainOptions& o) {
  std::vector<std::optional<nn::Mlp>> out(static_cast<std::size_t>(o.ensemble));
  const MatrixXd Y = y;
  std::mutex error_mutex;
  std::string error;
  // Members are handed out one at a time (early stopping makes their cost differ); each member's seed is fixed, so
  // which thread fits it does not matter.
  std::atomic<std::size_t> next{0};
  const unsigned workers =
      static_cast<unsigned>(std::min<std::size_t>(out.size(), o.threads ? o.threads : core::default_threads()));
  core::parallel_for(workers, workers, [&](std::size_t, std::size_t, unsigned) {
    for (std::size_t k = next++; k < out.size(); k = next++) {
      try {
        out[k] = nn::Mlp::fit(X, Y, member_options(o, static_cast<int>(k)));
      } catch (const std::exception& e) {
        const std::lock_guard<std::mutex> lock(error_mutex);
        if (error.empty()) error = e.what();
      }
    }
  });
  if (!error.empty()) throw NumericalError("bio train: a network failed: " + error);
  std::vector<nn::Mlp> members;
  for (auto& m : out) members.push_back(std::move(*m));
  return members;
}

VectorXd ensemble_mean(const std::vector<nn::Mlp>& members, const MatrixXd& X) {
  VectorXd s = VectorXd::Zero(X.rows());
  for (const auto& m : members) s += m.predict_reference(X).col(0);
  return s / static_cast<double>(members.size());
}

// Lasso with λ chosen by an inner CV on the training rows (λ_min), as a user of tsunagu::sparse would fit it.
VectorXd sparse_baseline(const MatrixXd& Xtr, const VectorXd& ytr, const MatrixXd& Xte, std::uint64_t seed) {
  sparse::PathOptions po;
  po.penalty = sparse::Penalty::Lasso;
  const sparse::Path path = sparse::fit_path(Xtr, ytr, po);
  sparse::CvOptions co;
  co.folds = static_cast<int>(std::min<Index>(5, Xtr.rows()));
  co.seed = seed;
  co.progress = false;
  co.threads = 1;
  const sparse::CvResult cv = sparse::cross_validate(Xtr, ytr, po, co, &path);
  std::vector<std::string> names(static_cast<std::size_t>(Xtr.cols()), "x");
  return sparse::model_at(path, cv.index_min, names, "y").predict(Xte);
}

Importance make_importance(const std::string& method, const std::vector<std::string>& features, MatrixXd members) {
  Importance imp;
  imp.method = method;
  imp.features = features;
  const nn::ImportanceSummary s = nn::summarize_importance(members);
  imp.mean = s.mean;
  imp.ci_low = s.ci_low;
  imp.ci_high = s.ci_high;
  imp.members = std::move(members);
  return imp;
}

json matrix_json(const MatrixXd& M) {
  json rows = json::array();
  for (Index i = 0; i < M.rows(); ++i) {
    std::vector<double> r(static_cast<std::size_t>(M.cols()));
    for (Index j = 0; j < M.cols(); ++j) r[static_cast<std::size_t>(j)] = M(i, j);
    rows.push_back(std::move(r));
  }
  return rows;
}

MatrixXd matrix_from_json(const json& j) {
  MatrixXd M(static_cast<Index>(j.size()), j.empty() ? 0 : static_cast<Index>(j[0].size()));
  for (std::size_t i = 0; i < j.size(); ++i) {
    if (static_cast<Index>(j[i].size()) != M.cols()) throw InvalidArgument("ragged matrix");
    for (std::size_t k = 0; k < j[i].size(); ++k) M(static_cast<Index>(i), static_cast<Index>(k)) = j[i][k].get<double>();
  }
  return M;
}


}  // namespace

// ---------------------------------------------------------------- data

json Dataset::report_json() const {
  json ex = json::array();
  for (const auto& e : excluded) ex.push_back(json{{"what", e.what}, {"reason", e.reason}});
  json dup = json::array();
  for (const auto& g : duplicates) {
    json ids_j = json::array();
    for (std::size_t i : g) ids_j.push_back(i < ids.size() ? ids[i] : "row " + std::to_string(i + 1));
    dup.push_back(std::move(ids_j));
  }
  return json{{"n", X.rows()}, {"p", X.cols()}, {"excluded", std::move(ex)}, {"duplicates", std::move(dup)}};
}

Dataset dataset_from_table(const core::Table& table, const std::string& target, const std::vector<std::string>& exclude,
                           const std::string& id_column) {
  if (target.empty()) throw InvalidArgument("bio: no target column given");
  const std::size_t t = table.column_index(target);  // names the file and lists the columns when missing
  std::set<std::string> skip(exclude.begin(), exclude.end());
  for (const auto& e : exclude) table.column_index(e);  // an unknown --exclude is an error, not ignored
  skip.insert(target);
  const bool has_id = table.has_column(id_column);
  if (has_id) skip.insert(id_column);

  Dataset d;
  d.target = target;
  // Rows with a usable target.
  std::vector<std::size_t> rows;
  std::vector<double> yv;
  for (std::size_t r = 0; r < table.n_rows(); ++r) {
    const std::string& cell = table.rows[r][t];
    const std::string label = has_id ? table.rows[r][table.column_index(id_column)]
                                     : "row " + std::to_string(r + 1);
    char* end = nullptr;
    const double v = cell.empty() ? std::nan("") : std::strtod(cell.c_str(), &end);
    if (cell.empty() || end == cell.c_str() || *end != '\0' || !std::isfinite(v)) {
      d.excluded.push_back({label, cell.empty() ? "empty target" : "non-numeric target '" + cell + "'"});
      continue;
    }
    rows.push_back(r);
    yv.push_back(v);
    d.ids.push_back(label);
  }
  // Input columns: every column not skipped; non-numeric cells are a ParseError naming the cell.
  if (rows.size() < 4)
    throw InvalidArgument(table.source + ": " + std::to_string(rows.size()) + " rows with a numeric '" + target +
                          "'; at least 4 are needed");
  // Text columns (names, SMILES: no cell parses as a number) are not inputs; they are reported, not an error. A
  // column that mixes numbers and text is an error naming the cell (numeric() below).
  auto is_number = [](const std::string& c) {
    char* end = nullptr;
    std::strtod(c.c_str(), &end);
    return !c.empty() && end != c.c_str() && *end == '\0';
  };
  std::vector<std::string> candidates;
  for (std::size_t c = 0; c < table.columns.size(); ++c) {
    if (skip.count(table.columns[c])) continue;
    bool any_number = false;
    for (std::size_t r : rows) any_number = any_number || is_number(table.rows[r][c]);
    if (!any_number) {
      d.excluded.push_back({"column " + table.columns[c], "text (not an input)"});
      continue;
    }
    candidates.push_back(table.columns[c]);
  }
  if (candidates.empty()) throw InvalidArgument(table.source + ": no numeric input columns besides the target");
  core::Table kept = table;
  kept.rows.clear();
  kept.line_numbers.clear();
  for (std::size_t r : rows) {
    kept.rows.push_back(table.rows[r]);
    kept.line_numbers.push_back(table.line_numbers[r]);
  }
  const core::NumericData num = kept.numeric(candidates);
  std::vector<Index> cols;
  for (std::size_t j = 0; j < candidates.size(); ++j) {
    const auto c = num.values.col(static_cast<Index>(j));
    if (c.maxCoeff() == c.minCoeff()) {
      d.excluded.push_back({"column " + candidates[j], "constant (all " + core::format_double(c(0)) + ")"});
      continue;
    }
    cols.push_back(static_cast<Index>(j));
    d.features.push_back(candidates[j]);
  }
  if (cols.empty()) throw InvalidArgument(table.source + ": every input column is constant");
  d.X.resize(num.values.rows(), static_cast<Index>(cols.size()));
  for (std::size_t j = 0; j < cols.size(); ++j) d.X.col(static_cast<Index>(j)) = num.values.col(cols[j]);
  d.y = Eigen::Map<const VectorXd>(yv.data(), static_cast<Index>(yv.size()));
  // Duplicate input rows (the same molecule twice): reported.
  std::map<std::vector<double>, std::vector<std::size_t>> seen;
  for (Index i = 0; i < d.X.rows(); ++i) {
    std::vector<double> key;
    for (Index j = 0; j < d.X.cols(); ++j) key.push_back(d.X(i, j));
    seen[key].push_back(static_cast<std::size_t>(i));
  }
  for (auto& [key, g] : seen)
    if (g.size() > 1) d.duplicates.push_back(g);
  std::sort(d.duplicates.begin(), d.duplicates.end());
  return d;
}

Dataset dataset_from_smiles(const core::Table& table, const std::string& smiles_column, const std::string& target,
                            const DescriptorOptions& descriptors, const std::vector<std::string>& exclude,
                            const std::string& id_column) {
  const DescriptorTable described = descriptor_table(table, smiles_column, descriptors, /*skip_invalid=*/false);
  std::vector<std::string> ex = exclude;
  for (auto& e : ex)  // a user column renamed next to a clashing descriptor keeps its new name
    for (const auto& [from, to] : described.renamed)
      if (e == from) e = to;
  Dataset d = dataset_from_table(described.table(), target, ex, id_column);
  d.descriptors = descriptors;
  d.smiles_column = smiles_column;
  return d;
}

// ---------------------------------------------------------------- options

nn::MlpOptions TrainOptions::default_mlp() {
  nn::MlpOptions o;
  o.hidden = {16};
  o.activation = nn::Activation::Tanh;
  o.weight_decay = 1e-3;
  o.learning_rate = 3e-3;
  o.batch_size = 16;
  o.epochs = 2000;
  o.patience = 200;
  o.lr_patience = 100;
  o.validation_fraction = 0.2;
  o.clip_inputs = true;
  return o;
}

void TrainOptions::validate() const {
  mlp.validate();
  if (mlp.task != nn::Task::Regression) throw InvalidArgument("mlp.task: bio models are regressions");
  if (ensemble < 1 || ensemble > 10000) throw InvalidArgument("ensemble: must be in 1..10000, got " + std::to_string(ensemble));
  if (folds == 1 || folds < 0) throw InvalidArgument("folds: must be 0 (no CV) or >= 2, got " + std::to_string(folds));
  if (repeats < 1) throw InvalidArgument("repeats: must be >= 1, got " + std::to_string(repeats));
  if (knn_k < 1) throw InvalidArgument("knn_k: must be >= 1, got " + std::to_string(knn_k));
  if (permutation_repeats < 1)
    throw InvalidArgument("permutation_repeats: must be >= 1, got " + std::to_string(permutation_repeats));
}

json TrainOptions::to_json() const {
  return json{{"mlp", mlp.to_json()},     {"ensemble", ensemble}, {"folds", folds},
              {"repeats", repeats},       {"knn_k", knn_k},       {"permutation_repeats", permutation_repeats},
              {"seed", seed},             {"threads", threads},   {"progress", progress}};
}

TrainOptions TrainOptions::from_json(const json& j) {
  if (!j.is_object()) throw InvalidArgument("bio options: expected a JSON object");
  TrainOptions o;
  auto get_int = [&](const std::string& k, const json& v) {
    if (!v.is_number_integer()) throw InvalidArgument("bio option '" + k + "': expected an integer, got " + v.dump());
    return v.get<std::int64_t>();
  };
  for (const auto& [k, v] : j.items()) {
    if (k == "mlp") {
      json merged = o.mlp.to_json();  // the bio defaults, overridden key by key
      if (!v.is_object()) throw InvalidArgument("bio option 'mlp': expected an object");
      for (const auto& [mk, mv] : v.items()) merged[mk] = mv;
      o.mlp = nn::MlpOptions::from_json(merged);
    } else if (k == "ensemble") {
      o.ensemble = static_cast<int>(get_int(k, v));
    } else if (k == "folds") {
      o.folds = static_cast<int>(get_int(k, v));
    } else if (k == "repeats") {
      o.repeats = static_cast<int>(get_int(k, v));
    } else if (k == "knn_k") {
      o.knn_k = static_cast<int>(get_int(k, v));
    } else if (k == "permutation_repeats") {
      o.permutation_repeats = static_cast<int>(get_int(k, v));
    } else if (k == "seed") {
      if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<std::int64_t>() >= 0))
        throw InvalidArgument("bio option 'seed': expected a non-negative integer, got " + v.dump());
      o.seed = v.get<std::uint64_t>();
    } else if (k == "threads") {
      const auto t = get_int(k, v);
      if (t < 0) throw InvalidArgument("bio option 'threads': must be >= 0");
      o.threads = static_cast<unsigned>(t);
    } else if (k == "progress") {
      if (!v.is_boolean()) throw InvalidArgument("bio option 'progress': expected true/false");
      o.progress = v.get<bool>();
    } else {
      throw InvalidArgument("unknown bio option '" + k +
                            "' (known: mlp, ensemble, folds, repeats, knn_k, permutation_repeats, seed, threads, "
                            "progress)");
    }
  }
  o.validate();
  return o;
}

// ---------------------------------------------------------------- scores and importances

Spread CvScores::r2_spread() const { return spread_of(r2); }
Spread CvScores::rmse_spread() const { return spread_of(rmse); }

json CvScores::to_json() const {
  return json{{"cv_r2", spread_json(r2_spread())}, {"cv_rmse", spread_json(rmse_spread())},
              {"cv_q2", spread_json(spread_of(q2))}, {"folds_r2", r2}, {"folds_rmse", rmse}, {"repeats_q2", q2}};
}

json Importance::to_json() const {
  json out = json::array();
  for (std::size_t j = 0; j < features.size(); ++j) {
    const auto i = static_cast<Index>(j);
    out.push_back(json{{"feature", features[j]}, {"mean", mean(i)}, {"ci_low", ci_low(i)}, {"ci_high", ci_high(i)}});
  }
  return out;
}

// ---------------------------------------------------------------- training

Model Model::train(const Dataset& data, const TrainOptions& options) {
  options.validate();
  const Index n = data.X.rows(), p = data.X.cols();
  if (n < 4) throw InvalidArgument("bio train: need at least 4 rows, got " + std::to_string(n));
  if (data.y.size() != n) throw InvalidArgument("bio train: X has " + std::to_string(n) + " rows but y has " +
                                                std::to_string(data.y.size()));
  if (static_cast<Index>(data.features.size()) != p)
    throw InvalidArgument("bio train: " + std::to_string(data.features.size()) + " feature names for " +
                          std::to_string(p) + " columns");
  if (!data.X.allFinite() || !data.y.allFinite()) throw InvalidArgument("bio train: non-finite values in X or y");
  if (!data.ids.empty() && static_cast<Index>(data.ids.size()) != n)
    throw InvalidArgument("bio train: " + std::to_string(data.ids.size()) + " row ids for " + std::to_string(n) +
                          " rows");
  for (const auto& g : data.duplicates)
    for (std::size_t i : g)
      if (i >= static_cast<std::size_t>(n)) throw InvalidArgument("bio train: duplicate group names row " +
                                                                  std::to_string(i) + " of " + std::to_string(n));
  if (options.folds > n)
    throw InvalidArgument("bio train: folds = " + std::to_string(options.folds) + " exceeds the " + std::to_string(n) +
                          " rows");

  Model m;
  m.options_ = options;
  m.features_ = data.features;
  m.target_ = data.target;
  m.data_report_ = data.report_json();
  m.descriptors_ = data.descriptors;
  m.smiles_column_ = data.smiles_column;
  m.predictors_ = {"model", "sparse", "knn"};
  m.cv_.assign(3, CvScores{});

  const int n_folds_total = options.folds > 0 ? options.folds * options.repeats : 0;
  std::optional<core::Progress> bar;
  if (options.progress) bar.emplace("bio train", static_cast<std::size_t>(n_folds_total + 1));

  // Permutation importance per member, summed over held-out folds (then averaged): (ensemble, p).
  MatrixXd perm = MatrixXd::Zero(options.ensemble, p);
  int perm_folds = 0;
  for (int r = 0; r < options.repeats && options.folds > 0; ++r) {
    const std::vector<int> fold = sparse::make_folds(static_cast<std::size_t>(n), options.folds,
                                                     options.seed + 7919ULL * static_cast<std::uint64_t>(r));
    MatrixXd oof(n, 3);  // out-of-fold predictions of this repeat: model, sparse, knn
    for (int f = 0; f < options.folds; ++f) {
      std::vector<Index> tr, te;
      for (Index i = 0; i < n; ++i) (fold[static_cast<std::size_t>(i)] == f ? te : tr).push_back(i);
      const MatrixXd Xtr = rows_of(data.X, tr), Xte = rows_of(data.X, te);
      const VectorXd ytr = rows_of(data.y, tr), yte = rows_of(data.y, te);
      TrainOptions fo = options;
      fo.seed = options.seed + 104729ULL * static_cast<std::uint64_t>(r * options.folds + f + 1);
      const std::vector<nn::Mlp> members = fit_members(Xtr, ytr, fo);
      const VectorXd pm = ensemble_mean(members, Xte);
      const VectorXd ps = sparse_baseline(Xtr, ytr, Xte, fo.seed);
      const VectorXd pk = nn::KnnRegressor(Xtr, ytr, options.knn_k).predict(Xte).col(0);
      const VectorXd* preds[3] = {&pm, &ps, &pk};
      for (int k = 0; k < 3; ++k) {
        m.cv_[static_cast<std::size_t>(k)].r2.push_back(r2_score(yte, *preds[k]));
        m.cv_[static_cast<std::size_t>(k)].rmse.push_back(rmse(yte, *preds[k]));
        for (std::size_t i = 0; i < te.size(); ++i) oof(te[i], k) = (*preds[k])(static_cast<Index>(i));
      }
      // Permuting needs at least two held-out rows (leave-one-out folds have one).
      if (te.size() >= 2) {
        nn::PermutationOptions po;
        po.repeats = options.permutation_repeats;
        for (std::size_t k = 0; k < members.size(); ++k) {
          po.seed = fo.seed + k;
          perm.row(static_cast<Index>(k)) += nn::permutation_importance(members[k], Xte, yte, po).mean.transpose();
        }
        ++perm_folds;
      }
      if (bar) bar->tick();
    }
    for (int k = 0; k < 3; ++k) m.cv_[static_cast<std::size_t>(k)].q2.push_back(r2_score(data.y, oof.col(k)));
  }

  // The final ensemble on every row, and its weight analysis.
  m.members_ = fit_members(data.X, data.y, options);
  MatrixXd garson(options.ensemble, p), olden(options.ensemble, p);
  for (std::size_t k = 0; k < m.members_.size(); ++k) {
    garson.row(static_cast<Index>(k)) = nn::garson_importance(m.members_[k]).transpose();
    olden.row(static_cast<Index>(k)) = nn::olden_importance(m.members_[k]).transpose();
  }
  m.importances_.push_back(make_importance("garson", m.features_, garson));
  m.importances_.push_back(make_importance("olden", m.features_, olden));
  if (perm_folds > 0) m.importances_.push_back(make_importance("permutation", m.features_, perm / perm_folds));
  if (bar) bar->tick();
  return m;
}

// ---------------------------------------------------------------- prediction and reports

Prediction Model::predict(const MatrixXd& X) const {
  if (members_.empty()) throw InvalidArgument("bio model: empty (train or load one)");
  if (X.cols() != static_cast<Index>(features_.size()))
    throw InvalidArgument("bio predict: " + std::to_string(X.cols()) + " columns, the model expects " +
                          std::to_string(features_.size()));
  if (!X.allFinite()) throw InvalidArgument("bio predict: non-finite input values");
  MatrixXd P(X.rows(), static_cast<Index>(members_.size()));
  for (std::size_t k = 0; k < members_.size(); ++k) P.col(static_cast<Index>(k)) = members_[k].predict_reference(X).col(0);
  Prediction out;
  out.mean = P.rowwise().mean();
  out.sd = VectorXd::Zero(X.rows());
  if (P.cols() > 1)
    out.sd = ((P.colwise() - out.mean).array().square().rowwise().sum() / static_cast<double>(P.cols() - 1)).sqrt();
  return out;
}

Prediction Model::predict(const core::Table& table) const {
  if (descriptors_ && table.has_column(smiles_column_)) {
    const DescriptorTable described = descriptor_table(table, smiles_column_, *descriptors_, /*skip_invalid=*/false);
    return predict(described.table().numeric(features_).values);
  }
  const core::NumericData num = table.numeric(features_);  // a missing column names itself and lists the columns
  return predict(num.values);
}

const CvScores& Model::cv(const std::string& predictor) const {
  for (std::size_t k = 0; k < predictors_.size(); ++k)
    if (predictors_[k] == predictor) return cv_[k];
  throw InvalidArgument("unknown predictor '" + predictor + "' (model, sparse, knn)");
}

json Model::agreement() const {
  json a = json::object();
  for (std::size_t i = 0; i < importances_.size(); ++i)
    for (std::size_t j = i + 1; j < importances_.size(); ++j)
      a[importances_[i].method + "_" + importances_[j].method] =
          nn::rank_agreement(importances_[i].mean, importances_[j].mean);
  return a;
}

json Model::report() const {
  json j{{"n", data_report_.value("n", 0)}, {"features", features_}, {"target", target_},
         {"options", options_.to_json()}, {"data", data_report_}, {"agreement", agreement()}};
  if (descriptors_) j["descriptors"] = {{"options", descriptors_->to_json()}, {"smiles_column", smiles_column_}};
  if (!cv_.empty() && !cv_[0].r2.empty()) {
    const CvScores& s = cv_[0];
    j["cv_r2"] = spread_json(s.r2_spread());
    j["cv_rmse"] = spread_json(s.rmse_spread());
    j["cv_q2"] = spread_json(spread_of(s.q2));
    j["folds_r2"] = s.r2;
    j["folds_rmse"] = s.rmse;
    j["repeats_q2"] = s.q2;
    j["baselines"] = json{{"sparse", cv_[1].to_json()}, {"knn", cv_[2].to_json()}};
    j["baselines"]["sparse"]["method"] = "lasso, lambda_min of a 5-fold inner CV (tsunagu::sparse)";
    j["baselines"]["knn"]["method"] = "k nearest neighbours, standardised Euclidean, k = " + std::to_string(options_.knn_k);
  }
  return j;
}

json Model::importance_json() const {
  json j = json::object();
  for (const auto& imp : importances_) j[imp.method] = imp.to_json();
  j["agreement"] = agreement();
  j["interval"] = "2.5-97.5 percentile over the ensemble members";
  return j;
}

// ---------------------------------------------------------------- persistence

void Model::save(const std::filesystem::path& path) const {
  if (members_.empty()) throw InvalidArgument("bio model: nothing to save (train one first)");
  json members = json::array();
  for (const auto& mm : members_) members.push_back(mm.to_json());
  json cv = json::array();
  for (std::size_t k = 0; k < predictors_.size(); ++k)
    cv.push_back(json{{"predictor", predictors_[k]}, {"r2", cv_[k].r2}, {"rmse", cv_[k].rmse}, {"q2", cv_[k].q2}});
  json imps = json::array();
  for (const auto& imp : importances_) imps.push_back(json{{"method", imp.method}, {"members", matrix_json(imp.members)}});
  json j{{"format", kFormat}, {"options", options_.to_json()}, {"features", features_}, {"target", target_},
         {"members", std::move(members)}, {"cv", std::move(cv)}, {"importances", std::move(imps)},
         {"data", data_report_}};
  if (descriptors_) j["descriptors"] = {{"options", descriptors_->to_json()}, {"smiles_column", smiles_column_}};
  const std::vector<std::uint8_t> bytes = json::to_cbor(j);
  core::write_file_atomic(path, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

Model Model::load(const std::filesystem::path& path) {
  const std::string bytes = core::read_file(path);
  json j;
  try {
    j = json::from_cbor(bytes);
  } catch (const json::exception&) {
    throw ParseError(path.string(), 0, "", "not a tsunagu bio model (invalid or truncated CBOR)");
  }
  if (!j.is_object() || !j.contains("format") || j["format"] != kFormat)
    throw ParseError(path.string(), 0, "", std::string("not a tsunagu bio model (expected format ") + kFormat + ")");
  Model m;
  try {
    m.options_ = TrainOptions::from_json(j.at("options"));
    m.features_ = j.at("features").get<std::vector<std::string>>();
    m.target_ = j.at("target").get<std::string>();
    for (const auto& mj : j.at("members")) m.members_.push_back(nn::Mlp::from_json(mj));
    for (const auto& c : j.at("cv")) {
      m.predictors_.push_back(c.at("predictor").get<std::string>());
      CvScores s;
      s.r2 = c.at("r2").get<std::vector<double>>();
      s.rmse = c.at("rmse").get<std::vector<double>>();
      s.q2 = c.at("q2").get<std::vector<double>>();
      m.cv_.push_back(std::move(s));
    }
    for (const auto& ij : j.at("importances"))
      m.importances_.push_back(
          make_importance(ij.at("method").get<std::string>(), m.features_, matrix_from_json(ij.at("members"))));
    m.data_report_ = j.at("data");
    if (j.contains("descriptors")) {
      m.descriptors_ = DescriptorOptions::from_json(j["descriptors"].at("options"));
      m.smiles_column_ = j["descriptors"].at("smiles_column").get<std::string>();
    }
  } catch (const Error& e) {
    throw ParseError(path.string(), 0, "", e.what());
  } catch (const json::exception& e) {
    throw ParseError(path.string(), 0, "", std::string("malformed bio model: ") + e.what());
  }
  if (m.members_.empty()) throw ParseError(path.string(), 0, "", "the model has no networks");
  for (const auto& mm : m.members_)
    if (mm.n_inputs() != static_cast<int>(m.features_.size()) || mm.n_outputs() != 1)
      throw ParseError(path.string(), 0, "", "a network has " + std::to_string(mm.n_inputs()) + " inputs and " +
                       std::to_string(mm.n_outputs()) + " outputs for " + std::to_string(m.features_.size()) +
                       " features");
  for (const auto& imp : m.importances_)
    if (imp.members.cols() != static_cast<Index>(m.features_.size()))
      throw ParseError(path.string(), 0, "", "importance '" + imp.method + "' does not match the features");
  return m;
}

// ---------------------------------------------------------------- plot

void plot_importance(const std::vector<Importance>& importances, const std::filesystem::path& path,
                     const std::string& title) {
  namespace plot = core::plot;
  if (importances.empty()) throw InvalidArgument("plot_importance: no importances");
  const std::size_t p = importances.front().features.size();
  // Order: by |mean| of the first method, largest first.
  std::vector<std::size_t> order(p);
  std::iota(order.begin(), order.end(), 0);
  const VectorXd& ref = importances.front().mean;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return std::abs(ref(static_cast<Index>(a))) > std::abs(ref(static_cast<Index>(b)));
  });
  double label_w = 0;
  for (const auto& f : importances.front().features) label_w = std::max(label_w, plot::text_width(f, 11));
  const double bar_h = 14, gap = 4, panel_w = 220, left = label_w + 16, top = title.empty() ? 30 : 48;
  const double height = top + static_cast<double>(p) * (bar_h + gap) + 30;
  const double width = left + static_cast<double>(importances.size()) * (panel_w + 30) + 10;
  std::ostringstream s;
  s << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << plot::svg_px(width) << "\" height=\""
    << plot::svg_px(height) << "\" font-family=\"sans-serif\" font-size=\"11\">\n"
    << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  if (!title.empty())
    s << "<text x=\"" << plot::svg_px(width / 2) << "\" y=\"20\" text-anchor=\"middle\" font-size=\"14\">"
      << plot::xml_escape(title) << "</text>\n";
  for (std::size_t r = 0; r < p; ++r) {
    const double y = top + static_cast<double>(r) * (bar_h + gap);
    s << "<text x=\"" << plot::svg_px(left - 6) << "\" y=\"" << plot::svg_px(y + bar_h - 3)
      << "\" text-anchor=\"end\">" << plot::xml_escape(importances.front().features[order[r]]) << "</text>\n";
  }
  for (std::size_t m = 0; m < importances.size(); ++m) {
    const Importance& imp = importances[m];
    const double x0 = left + static_cast<double>(m) * (panel_w + 30);
    double lo = 0, hi = 0;
    for (Index j = 0; j < imp.mean.size(); ++j) {
      lo = std::min({lo, imp.ci_low(j), imp.mean(j)});
      hi = std::max({hi, imp.ci_high(j), imp.mean(j)});
    }
    if (!(hi > lo)) hi = lo + 1;
    auto X = [&](double v) { return x0 + (v - lo) / (hi - lo) * panel_w; };
    s << "<text x=\"" << plot::svg_px(x0 + panel_w / 2) << "\" y=\"" << plot::svg_px(top - 10)
      << "\" text-anchor=\"middle\" font-weight=\"bold\">" << plot::xml_escape(imp.method) << "</text>\n";
    s << "<line x1=\"" << plot::svg_px(X(0)) << "\" x2=\"" << plot::svg_px(X(0)) << "\" y1=\"" << plot::svg_px(top - 4)
      << "\" y2=\"" << plot::svg_px(height - 26) << "\" stroke=\"#888\"/>\n";
    for (std::size_t r = 0; r < p; ++r) {
      const auto j = static_cast<Index>(order[r]);
      const double y = top + static_cast<double>(r) * (bar_h + gap);
      const double a = X(std::min(0.0, imp.mean(j))), b = X(std::max(0.0, imp.mean(j)));
      s << "<rect x=\"" << plot::svg_px(a) << "\" y=\"" << plot::svg_px(y) << "\" width=\"" << plot::svg_px(b - a)
        << "\" height=\"" << plot::svg_px(bar_h) << "\" fill=\"" << (imp.mean(j) < 0 ? "#d6604d" : "#4393c3")
        << "\"/>\n";
      const double yc = y + bar_h / 2;
      s << "<line x1=\"" << plot::svg_px(X(imp.ci_low(j))) << "\" x2=\"" << plot::svg_px(X(imp.ci_high(j)))
        << "\" y1=\"" << plot::svg_px(yc) << "\" y2=\"" << plot::svg_px(yc) << "\" stroke=\"black\"/>\n";
    }
    s << "<text x=\"" << plot::svg_px(x0) << "\" y=\"" << plot::svg_px(height - 10) << "\">"
      << plot::xml_escape(core::format_double(std::round(lo * 1000) / 1000)) << "</text>\n"
      << "<text x=\"" << plot::svg_px(x0 + panel_w) << "\" y=\"" << plot::svg_px(height - 10)
      << "\" text-anchor=\"end\">" << plot::xml_escape(core::format_double(std::round(hi * 1000) / 1000))
      << "</text>\n";
  }
  s << "</svg>\n";
  plot::save_svg(path, s.str());
}

}  // namespace tsunagu::bio
