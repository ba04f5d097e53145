#include "tsunagu/xas/model.hpp"

#include <algorithm>
#include <limits>
#include <chrono>
#include <cmath>
#include <map>
#include <set>
#include <sstream>

#include "tsunagu/bayesopt/optimizer.hpp"
#include "tsunagu/core/error.hpp"
#include "tsunagu/core/io.hpp"
#include "tsunagu/core/progress.hpp"
#include "tsunagu/core/version.hpp"
#include "tsunagu/structure/crystal.hpp"

namespace tsunagu::xas {
namespace {

constexpr const char* kFormat = "tsunagu.xas.model/1";

using nlohmann::json;

json matrix_json(const Eigen::MatrixXd& m) {
  std::vector<double> v(static_cast<std::size_t>(m.size()));
  for (Eigen::Index i = 0; i < m.rows(); ++i)
    for (Eigen::Index j = 0; j < m.cols(); ++j) v[static_cast<std::size_t>(i * m.cols() + j)] = m(i, j);
  return json{{"rows", m.rows()}, {"cols", m.cols()}, {"data", std::move(v)}};
}

Eigen::MatrixXd matrix_from_json(const json& j, const std::string& what) {
  if (!j.is_object() || !j.contains("rows") || !j.contains("cols") || !j.contains("data"))
    throw ParseError("", 0, "", "model field '" + what + "': expected {rows, cols, data}");
  const auto rows = j.at("rows").get<Eigen::Index>(), cols = j.at("cols").get<Eigen::Index>();
  const auto& d = j.at("data");
  if (rows < 0 || cols < 0 || !d.is_array() || d.size() != static_cast<std::size_t>(rows * cols))
    throw ParseError("", 0, "", "model field '" + what + "': data length does not match rows x cols");
  Eigen::MatrixXd m(rows, cols);
  for (Eigen::Index i = 0; i < rows; ++i)
    for (Eigen::Index j2 = 0; j2 < cols; ++j2) m(i, j2) = d[static_cast<std::size_t>(i * cols + j2)].get<double>();
  return m;
}

std::vector<std::string> record_groups(const std::vector<Record>& records) {
  std::vector<std::string> g;
  g.reserve(records.size());
  for (const auto& r : records) g.push_back(r.group.empty() ? r.id : r.group);
  return g;
}

Eigen::MatrixXd rows_of(const Eigen::MatrixXd& m, const std::vector<Eigen::Index>& idx) {
  Eigen::MatrixXd out(static_cast<Eigen::Index>(idx.size()), m.cols());
  for (std::size_t i = 0; i < idx.size(); ++i) out.row(static_cast<Eigen::Index>(i)) = m.row(idx[i]);
  return out;
}

/// Train one network with early stopping on an explicit grouped hold-out.
nn::Mlp fit_network(const Eigen::MatrixXd& X, const Eigen::MatrixXd& Y, const std::vector<std::string>& groups,
                    const nn::MlpOptions& mlp, double validation_fraction, std::uint64_t seed) {
  const auto holdout = grouped_split(groups, validation_fraction, seed);
  std::vector<Eigen::Index> tr, va;
  for (std::size_t i = 0; i < holdout.size(); ++i) (holdout[i] ? va : tr).push_back(static_cast<Eigen::Index>(i));
  if (va.empty() || tr.size() < 2) return nn::Mlp::fit(X, Y, mlp);  // too few groups: the network's own split
  const Eigen::MatrixXd Xv = rows_of(X, va), Yv = rows_of(Y, va);
  return nn::Mlp::fit(rows_of(X, tr), rows_of(Y, tr), mlp, &Xv, &Yv);
}

struct Candidate {
  int layers, width;
  double lr, dropout, weight_decay;
};

nn::MlpOptions apply(nn::MlpOptions o, const Candidate& c) {
  o.hidden.assign(static_cast<std::size_t>(c.layers), c.width);
  o.learning_rate = c.lr;
  o.dropout = c.dropout;
  o.weight_decay = c.weight_decay;
  return o;
}

bayesopt::Space tuning_space() {
  bayesopt::Space s;
  auto add = [&](std::string name, bayesopt::ParamKind kind, double lo, double hi, bool log) {
    bayesopt::Parameter p;
    p.name = std::move(name);
    p.kind = kind;
    p.lower = lo;
    p.upper = hi;
    p.log_scale = log;
    s.parameters.push_back(p);
  };
  add("layers", bayesopt::ParamKind::Integer, 1, 4, false);
  add("width", bayesopt::ParamKind::Integer, 32, 512, true);
  add("learning_rate", bayesopt::ParamKind::Continuous, 1e-4, 1e-2, true);
  add("dropout", bayesopt::ParamKind::Continuous, 0.0, 0.5, false);
  add("weight_decay", bayesopt::ParamKind::Continuous, 1e-7, 1e-2, true);
  bayesopt::Objective obj;
  obj.name = "validation_mse";
  obj.direction = bayesopt::Direction::Minimize;
  obj.log_scale = true;
  s.objectives.push_back(obj);
  s.validate();
  return s;
}

double mse(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) { return (a - b).array().square().mean(); }

double metric_value(const json& j, const std::string& key) {
  if (!j.contains(key)) throw InvalidArgument("unknown metric '" + key + "'");
  const auto& v = j.at(key);
  return v.is_number() ? v.get<double>() : std::nan("");
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

// ---------------------------------------------------------------- options

features::DescriptorSpec TrainOptions::default_descriptors() {
  features::DescriptorSpec s;
  // The weighted ACSFs of the absorbing site alone: on the 100 Fe K-edge complexes (grouped 5-fold CV) they beat
  // site+composition (1,075 columns, mostly element-resolved RDFs of rare elements) and the k-NN baseline; see
  // docs/xas.md "Results on the real data".
  s.kinds = {features::DescriptorKind::Acsf};
  return s;
}

nn::MlpOptions TrainOptions::default_mlp() {
  nn::MlpOptions o;
  o.hidden = {256, 256};
  o.activation = nn::Activation::Silu;
  o.learning_rate = 1e-3;
  o.schedule = nn::LrSchedule::Plateau;
  o.lr_factor = 0.5;
  o.lr_patience = 25;
  o.epochs = 600;
  o.batch_size = 32;
  o.patience = 80;
  o.weight_decay = 1e-5;
  o.dropout = 0.2;         // ~100-1,000 spectra: dropout was the regulariser that mattered on the Fe K-edge set
  o.clip_inputs = true;    // a structure unlike every training one must not drive the network off its range
  return o;
}

void TrainOptions::validate() const {
  if (mesh) mesh->validate();
  if (align_edge_to && !std::isfinite(*align_edge_to))
    throw InvalidArgument("align_edge_to: must be finite");
  descriptors.validate();
  mlp.validate();
  if (tune_trials < 0) throw InvalidArgument("tune_trials: must be >= 0, got " + std::to_string(tune_trials));
  if (cv_folds < 0 || cv_folds == 1)
    throw InvalidArgument("cv_folds: must be 0 (none) or >= 2, got " + std::to_string(cv_folds));
  if (!(validation_fraction > 0.0 && validation_fraction <= 0.5))
    throw InvalidArgument("validation_fraction: must be in (0, 0.5], got " + std::to_string(validation_fraction));
  if (knn_k < 1) throw InvalidArgument("knn_k: must be >= 1, got " + std::to_string(knn_k));
  if (!(peaks.min_prominence >= 0 && peaks.min_prominence < 1))
    throw InvalidArgument("peaks.min_prominence: must be in [0, 1)");
  if (!(peaks.window > 0)) throw InvalidArgument("peaks.window: must be > 0 eV");
}

json TuneTrial::to_json() const {
  return json{{"layers", layers},           {"width", width},         {"learning_rate", learning_rate},
              {"dropout", dropout},         {"weight_decay", weight_decay}, {"validation_mse", validation_mse},
              {"epochs_run", epochs_run},   {"seconds", seconds}};
}

FoldSpread CvReport::spread(std::size_t predictor, const std::string& metric) const {
  const auto& folds_m = per_fold.at(predictor);
  std::vector<double> v;
  for (const auto& m : folds_m) {
    const double x = metric_value(m, metric);
    if (std::isfinite(x)) v.push_back(x);
  }
  FoldSpread s;
  if (v.empty()) return FoldSpread{std::nan(""), std::nan("")};
  for (double x : v) s.mean += x;
  s.mean /= static_cast<double>(v.size());
  if (v.size() > 1) {
    double ss = 0;
    for (double x : v) ss += (x - s.mean) * (x - s.mean);
    s.sd = std::sqrt(ss / static_cast<double>(v.size() - 1));
  }
  return s;
}

json CvReport::to_json() const {
  json j{{"folds", folds}};
  static const std::vector<std::string> keys = {"mse",  "pearson_median", "spearman_median", "frac_pearson_gt_0.9",
                                                "frac_pearson_gt_0.95", "peak_position_mae", "peak_intensity_mae",
                                                "peak_match_fraction"};
  for (std::size_t p = 0; p < predictors.size(); ++p) {
    json pj;
    for (const auto& k : keys) {
      const auto s = spread(p, k);
      pj[k] = json{{"mean", s.mean}, {"sd", s.sd}};
    }
    j[predictors[p]] = pj;
  }
  return j;
}

json Evaluation::to_json() const {
  json j = model.to_json(false);
  j["baselines"] = json{{"mean", mean.to_json(false)}, {"knn", knn.to_json(false)}};
  return j;
}

// ---------------------------------------------------------------- data helpers

Eigen::MatrixXd spectra_on_mesh(const std::vector<Record>& records, const SpectrumOptions& options) {
  options.mesh.validate();
  Eigen::MatrixXd Y(static_cast<Eigen::Index>(records.size()), options.mesh.n);
  for (std::size_t i = 0; i < records.size(); ++i) {
    const auto& r = records[i];
    Y.row(static_cast<Eigen::Index>(i)) =
        prepare_spectrum(r.energy, r.mu, options, r.source.empty() ? r.id : r.source).transpose();
  }
  return Y;
}

// ---------------------------------------------------------------- training

Model Model::train(const Dataset& data, const TrainOptions& options) {
  options.validate();
  const auto& recs = data.records;
  if (recs.empty()) throw InvalidArgument("xas train: the dataset has no records");
  const bool structures = recs.front().structure.has_value();
  for (const auto& r : recs) {
    if (r.structure.has_value() != structures)
      throw InvalidArgument("xas train: " + r.source +
                            ": records mix structures and descriptor-table rows; use one kind");
    if (!structures && r.features.size() != recs.front().features.size())
      throw InvalidArgument("xas train: " + r.source + ": " + std::to_string(r.features.size()) +
                            " features, the first record has " + std::to_string(recs.front().features.size()));
  }
  const auto groups = record_groups(recs);
  {
    std::set<std::string> distinct(groups.begin(), groups.end());
    if (distinct.size() < 4)
      throw InvalidArgument("xas train: need records of at least 4 materials (groups), got " +
                            std::to_string(distinct.size()));
    if (options.cv_folds > 0 && distinct.size() < static_cast<std::size_t>(options.cv_folds))
      throw InvalidArgument("xas train: " + std::to_string(distinct.size()) + " groups are fewer than cv_folds " +
                            std::to_string(options.cv_folds));
  }

  Model m;
  m.uses_structures_ = structures;
  if (options.mesh) {
    m.mesh_ = *options.mesh;
  } else if (options.align_edge_to) {
    // The default mesh must be the range every spectrum covers after its edge is moved to align_edge_to.
    std::vector<Record> shifted;
    shifted.reserve(recs.size());
    for (const auto& r : recs) {
      Record c;
      c.source = r.source;
      c.mu = r.mu;
      c.energy = r.energy.array() + (*options.align_edge_to - edge_energy(r.energy, r.mu));
      shifted.push_back(std::move(c));
    }
    m.mesh_ = common_mesh(shifted);
  } else {
    m.mesh_ = common_mesh(recs);
  }
  m.spectrum_.mesh = m.mesh_;
  m.spectrum_.normalization = options.normalization;
  m.spectrum_.align_edge_to = options.align_edge_to;
  const Eigen::MatrixXd Y = spectra_on_mesh(recs, m.spectrum_);

  // Absorbing element and edge: what the records say, else the element at the absorbing site.
  {
    std::set<std::string> elements, edges;
    for (const auto& r : recs) {
      std::string e = r.element;
      if (e.empty() && r.structure && r.absorber < r.structure->n_sites())
        e = structure::element_symbol(r.structure->numbers[r.absorber]);
      if (!e.empty()) elements.insert(e);
      if (!r.edge.empty()) edges.insert(r.edge);
    }
    if (elements.size() > 1) {
      std::string list;
      for (const auto& e : elements) list += (list.empty() ? "" : ", ") + e;
      throw InvalidArgument("xas train: the records have different absorbing elements (" + list +
                            "); train one model per element (e.g. --absorber Fe)");
    }
    if (!elements.empty()) m.absorber_ = *elements.begin();
    if (edges.size() == 1) m.edge_ = *edges.begin();
  }

  Eigen::MatrixXd X;
  if (structures) {
    std::vector<structure::Crystal> cs;
    std::vector<std::size_t> sites;
    cs.reserve(recs.size());
    for (const auto& r : recs) {
      cs.push_back(*r.structure);
      sites.push_back(r.absorber);
    }
    const bool site = features::needs_site(options.descriptors.kinds);
    m.spec_ = features::fit_spec(options.descriptors, cs, site ? sites : std::vector<std::size_t>{});
    std::optional<core::Progress> bar;
    if (options.progress) bar.emplace("xas descriptors", cs.size());
    X = features::describe_many(m.spec_, cs, site ? sites : std::vector<std::size_t>{}, options.threads,
                                bar ? &*bar : nullptr);
    m.feature_names_ = m.spec_.names();
  } else {
    X.resize(static_cast<Eigen::Index>(recs.size()), recs.front().features.size());
    for (std::size_t i = 0; i < recs.size(); ++i) X.row(static_cast<Eigen::Index>(i)) = recs[i].features.transpose();
    m.feature_names_ = data.summary.feature_names;
    if (m.feature_names_.size() != static_cast<std::size_t>(X.cols())) {
      m.feature_names_.clear();
      for (Eigen::Index k = 0; k < X.cols(); ++k) m.feature_names_.push_back("f" + std::to_string(k));
    }
  }

  nn::MlpOptions mlp = options.mlp;
  mlp.seed = options.seed;
  mlp.threads = static_cast<int>(options.threads);
  mlp.progress = false;

  // --- Bayesian optimisation of the architecture and training settings on a grouped hold-out.
  if (options.tune_trials > 0) {
    const auto space = tuning_space();
    bayesopt::OptimizerOptions bo;
    bo.acquisition = bayesopt::Acquisition::LogEI;
    bo.seed = options.seed;
    bo.threads = options.threads;
    const bayesopt::Optimizer opt(space, bo);
    bayesopt::Observations obs;
    obs.X.resize(0, 5);
    obs.Y.resize(0, 1);
    const auto holdout = grouped_split(groups, options.validation_fraction, options.seed + 7919);
    std::vector<Eigen::Index> tr, va;
    for (std::size_t i = 0; i < holdout.size(); ++i) (holdout[i] ? va : tr).push_back(static_cast<Eigen::Index>(i));
    if (va.empty()) throw InvalidArgument("xas train --tune: the validation hold-out is empty; raise validation_fraction");
    const Eigen::MatrixXd Xtr = rows_of(X, tr), Ytr = rows_of(Y, tr), Xva = rows_of(X, va), Yva = rows_of(Y, va);
    std::vector<std::string> gtr;
    for (auto i : tr) gtr.push_back(groups[static_cast<std::size_t>(i)]);
    std::optional<core::Progress> bar;
    if (options.progress) bar.emplace("xas tune", static_cast<std::size_t>(options.tune_trials));
    for (int t = 0; t < options.tune_trials; ++t) {
      Candidate c{};
      if (t == 0) {  // the starting settings are always tried first
        c = Candidate{static_cast<int>(mlp.hidden.size()), mlp.hidden.empty() ? 64 : mlp.hidden.front(),
                      mlp.learning_rate, mlp.dropout, std::max(mlp.weight_decay, 1e-7)};
        c.layers = std::clamp(c.layers, 1, 4);
        c.width = std::clamp(c.width, 32, 512);
        c.lr = std::clamp(c.lr, 1e-4, 1e-2);
        c.dropout = std::clamp(c.dropout, 0.0, 0.5);
        c.weight_decay = std::clamp(c.weight_decay, 1e-7, 1e-2);
      } else {
        const auto s = opt.suggest(obs, 1);
        const Eigen::RowVectorXd p = s.points.row(0);
        c = Candidate{static_cast<int>(std::lround(p(0))), static_cast<int>(std::lround(p(1))), p(2), p(3), p(4)};
      }
      const auto start = std::chrono::steady_clock::now();
      nn::MlpOptions o = apply(mlp, c);
      o.seed = options.seed + static_cast<std::uint64_t>(t);
      // Early stopping inside a trial uses a split of the training part, so the hold-out that scores the trial
      // never steers its training.
      // A setting that diverges (non-finite loss) is a failed trial with an infinite score, not the end of tuning.
      double v = std::numeric_limits<double>::infinity();
      int epochs_run = 0;
      try {
        const nn::Mlp net = fit_network(Xtr, Ytr, gtr, o, options.validation_fraction, options.seed + 31 + t);
        v = mse(net.predict(Xva), Yva);
        epochs_run = net.history().epochs_run;
      } catch (const NumericalError&) {
      }
      if (!std::isfinite(v)) v = std::numeric_limits<double>::infinity();
      TuneTrial trial;
      trial.layers = c.layers;
      trial.width = c.width;
      trial.learning_rate = c.lr;
      trial.dropout = c.dropout;
      trial.weight_decay = c.weight_decay;
      trial.validation_mse = v;
      trial.epochs_run = epochs_run;
      trial.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      m.tuning_.push_back(trial);
      obs.X.conservativeResize(obs.X.rows() + 1, Eigen::NoChange);
      obs.X.row(obs.X.rows() - 1) << c.layers, c.width, c.lr, c.dropout, c.weight_decay;
      obs.Y.conservativeResize(obs.Y.rows() + 1, Eigen::NoChange);
      obs.Y(obs.Y.rows() - 1, 0) = std::isfinite(v) && v > 0 ? v : std::nan("");
      if (bar) bar->tick();
    }
    const auto best = std::min_element(m.tuning_.begin(), m.tuning_.end(), [](const TuneTrial& a, const TuneTrial& b) {
      return a.validation_mse < b.validation_mse;  // failed trials are +inf, never NaN
    });
    if (!std::isfinite(best->validation_mse))
      throw NumericalError("xas train: every tuning trial diverged (non-finite validation loss)");
    mlp = apply(mlp, Candidate{best->layers, best->width, best->learning_rate, best->dropout, best->weight_decay});
  }

  // --- Grouped K-fold report of the chosen settings next to the baselines.
  if (options.cv_folds > 0) {
    CvReport cv;
    cv.folds = options.cv_folds;
    cv.predictors = {"model", "mean", "knn"};
    cv.per_fold.assign(3, {});
    const auto fold = grouped_kfold(groups, options.cv_folds, options.seed);
    const Eigen::VectorXd mesh = m.mesh_.points();
    std::optional<core::Progress> bar;
    if (options.progress) bar.emplace("xas cv", static_cast<std::size_t>(options.cv_folds));
    for (int f = 0; f < options.cv_folds; ++f) {
      std::vector<Eigen::Index> tr, te;
      std::vector<std::string> gtr;
      for (std::size_t i = 0; i < fold.size(); ++i) {
        if (fold[i] == f) {
          te.push_back(static_cast<Eigen::Index>(i));
        } else {
          tr.push_back(static_cast<Eigen::Index>(i));
          gtr.push_back(groups[i]);
        }
      }
      const Eigen::MatrixXd Xtr = rows_of(X, tr), Ytr = rows_of(Y, tr), Xte = rows_of(X, te), Yte = rows_of(Y, te);
      nn::MlpOptions o = mlp;
      o.seed = options.seed + 1000 + static_cast<std::uint64_t>(f);
      const nn::Mlp net = fit_network(Xtr, Ytr, gtr, o, options.validation_fraction, options.seed + 2000 + f);
      cv.per_fold[0].push_back(evaluate_spectra(mesh, Yte, net.predict(Xte), options.peaks).to_json(false));
      cv.per_fold[1].push_back(
          evaluate_spectra(mesh, Yte, mean_baseline(Ytr, Yte.rows()), options.peaks).to_json(false));
      cv.per_fold[2].push_back(
          evaluate_spectra(mesh, Yte, KnnBaseline(Xtr, Ytr, options.knn_k).predict(Xte), options.peaks).to_json(false));
      if (bar) bar->tick();
    }
    m.cv_ = std::move(cv);
  }

  // --- The final network on all records (early stopping on a grouped hold-out of them).
  {
    nn::MlpOptions o = mlp;
    o.progress = options.progress;
    m.mlp_ = fit_network(X, Y, groups, o, options.validation_fraction, options.seed + 4242);
  }
  m.mean_spectrum_ = Y.colwise().mean();
  m.knn_ = KnnBaseline(X, Y, options.knn_k);
  m.peaks_ = options.peaks;
  {
    std::set<std::string> distinct(groups.begin(), groups.end());
    m.info_ = json{{"records", recs.size()},
                   {"groups", distinct.size()},
                   {"features", X.cols()},
                   {"format", data_format_name(data.format)},
                   {"seed", options.seed},
                   {"validation_fraction", options.validation_fraction}};
  }
  return m;
}

// ---------------------------------------------------------------- prediction

Eigen::MatrixXd Model::featurize(const std::vector<Record>& records, unsigned threads) const {
  if (mlp_.empty()) throw InvalidArgument("xas model: empty (not trained or loaded)");
  if (!uses_structures_) {
    Eigen::MatrixXd X(static_cast<Eigen::Index>(records.size()), static_cast<Eigen::Index>(feature_names_.size()));
    for (std::size_t i = 0; i < records.size(); ++i) {
      const auto& r = records[i];
      if (r.structure && r.features.size() == 0)
        throw InvalidArgument(r.source + ": the model was trained on a descriptor table (" +
                              std::to_string(feature_names_.size()) + " columns); give it table rows, not structures");
      if (r.features.size() != X.cols())
        throw InvalidArgument(r.source + ": " + std::to_string(r.features.size()) + " descriptor columns, the model expects " +
                              std::to_string(X.cols()));
      X.row(static_cast<Eigen::Index>(i)) = r.features.transpose();
    }
    return X;
  }
  std::vector<structure::Crystal> cs;
  std::vector<std::size_t> sites;
  for (const auto& r : records) {
    if (!r.structure)
      throw InvalidArgument(r.source + ": the model predicts from structures; this record has none (a table row?)");
    cs.push_back(*r.structure);
    sites.push_back(r.absorber);
  }
  return predict_descriptors_(cs, sites, threads);
}

Eigen::MatrixXd Model::predict_descriptors_(const std::vector<structure::Crystal>& cs,
                                            const std::vector<std::size_t>& sites, unsigned threads) const {
  for (std::size_t i = 0; i < cs.size(); ++i) {
    if (sites[i] >= cs[i].n_sites())
      throw InvalidArgument(cs[i].source + ": absorbing site " + std::to_string(sites[i]) + " out of range (" +
                            std::to_string(cs[i].n_sites()) + " sites)");
    if (!absorber_.empty() && lower(structure::element_symbol(cs[i].numbers[sites[i]])) != lower(absorber_))
      throw InvalidArgument(cs[i].source + ": absorbing site " + std::to_string(sites[i]) + " is " +
                            structure::element_symbol(cs[i].numbers[sites[i]]) + ", the model predicts " +
                            absorber_ + " spectra");
  }
  const bool site = features::needs_site(spec_.kinds);
  return features::describe_many(spec_, cs, site ? sites : std::vector<std::size_t>{}, threads);
}

Eigen::MatrixXd Model::predict_features(const Eigen::MatrixXd& X) const {
  if (mlp_.empty()) throw InvalidArgument("xas model: empty (not trained or loaded)");
  return mlp_.predict(X);
}

Eigen::MatrixXd Model::predict(const std::vector<structure::Crystal>& structures,
                               const std::vector<std::size_t>& absorbers) const {
  if (!uses_structures_)
    throw InvalidArgument("xas predict: the model was trained on a descriptor table; it cannot describe structures");
  if (!absorbers.empty() && absorbers.size() != structures.size())
    throw InvalidArgument("xas predict: " + std::to_string(absorbers.size()) + " absorber indices for " +
                          std::to_string(structures.size()) + " structures");
  std::vector<std::size_t> sites = absorbers;
  if (sites.empty()) {
    for (const auto& c : structures) {
      if (absorber_.empty()) {
        sites.push_back(0);
        continue;
      }
      const auto idx = c.select_element(absorber_);
      if (idx.empty())
        throw InvalidArgument((c.source.empty() ? std::string("structure") : c.source) + ": no " + absorber_ +
                              " atom, the model's absorbing element");
      sites.push_back(idx.front());
    }
  }
  return predict_features(predict_descriptors_(structures, sites, 0));
}

Evaluation Model::evaluate(const Dataset& data) const {
  if (data.records.empty()) throw InvalidArgument("xas evaluate: the dataset has no records");
  Evaluation e;
  e.mesh = mesh_.points();
  const Eigen::MatrixXd X = featurize(data.records);  // first: a table given to a structure model says so
  e.reference = spectra_on_mesh(data.records, spectrum_);
  e.predicted = predict_features(X);
  e.model = evaluate_spectra(e.mesh, e.reference, e.predicted, peaks_);
  e.mean = evaluate_spectra(e.mesh, e.reference, mean_spectrum_.replicate(e.reference.rows(), 1), peaks_);
  e.knn = evaluate_spectra(e.mesh, e.reference, knn_.predict(X), peaks_);
  for (const auto& r : data.records) e.ids.push_back(r.id);
  return e;
}

// ---------------------------------------------------------------- persistence

json Model::summary() const {
  json j = info_;
  j["mesh"] = mesh_.to_json();
  j["normalization"] = normalization_name(spectrum_.normalization);
  j["align_edge_to"] = spectrum_.align_edge_to ? json(*spectrum_.align_edge_to) : json(nullptr);
  j["absorber"] = absorber_;
  j["edge"] = edge_;
  j["input"] = uses_structures_ ? "structures" : "table";
  if (uses_structures_) j["descriptors"] = spec_.to_json();
  j["n_features"] = feature_names_.size();
  j["network"] = mlp_.options().to_json();
  const auto& h = mlp_.history();
  j["training"] = json{{"epochs_run", h.epochs_run}, {"best_epoch", h.best_epoch}, {"early_stopped", h.early_stopped},
                       {"device", h.device},         {"seconds", h.seconds},       {"message", h.message}};
  json t = json::array();
  for (const auto& x : tuning_) t.push_back(x.to_json());
  j["tuning"] = t;
  j["cv"] = cv_ ? cv_->to_json() : json(nullptr);
  return j;
}

void Model::save(const std::filesystem::path& path) const {
  if (mlp_.empty()) throw InvalidArgument("xas model: nothing to save (not trained)");
  json j;
  j["format"] = kFormat;
  j["tsunagu_version"] = tsunagu::version();
  j["mesh"] = mesh_.to_json();
  j["normalization"] = normalization_name(spectrum_.normalization);
  j["align_edge_to"] = spectrum_.align_edge_to ? json(*spectrum_.align_edge_to) : json(nullptr);
  j["input"] = uses_structures_ ? "structures" : "table";
  if (uses_structures_) j["descriptors"] = spec_.to_json();
  j["feature_names"] = feature_names_;
  j["absorber"] = absorber_;
  j["edge"] = edge_;
  j["network"] = mlp_.to_json();
  j["knn"] = json{{"k", knn_.k()}, {"X", matrix_json(knn_.X_train())}, {"Y", matrix_json(knn_.Y_train())}};
  j["mean_spectrum"] = matrix_json(mean_spectrum_);
  j["peaks"] = json{{"min_prominence", peaks_.min_prominence}, {"window", peaks_.window}};
  json t = json::array();
  for (const auto& x : tuning_) t.push_back(x.to_json());
  j["tuning"] = t;
  j["cv"] = cv_ ? cv_->to_json() : json(nullptr);
  if (cv_) {
    json folds = json::array();
    for (std::size_t p = 0; p < cv_->predictors.size(); ++p) {
      json pf = json::array();
      for (const auto& mm : cv_->per_fold[p]) pf.push_back(mm);
      folds.push_back(json{{"predictor", cv_->predictors[p]}, {"folds", pf}});
    }
    j["cv_folds"] = folds;
  }
  j["info"] = info_;
  const auto bytes = json::to_cbor(j);
  core::write_file_atomic(path, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

Model Model::load(const std::filesystem::path& path) {
  const std::string text = core::read_file(path);
  json j;
  try {
    j = json::from_cbor(text);
  } catch (const std::exception&) {
    throw ParseError(path.string(), 0, "", "not a tsunagu XAS model (not CBOR, or truncated)");
  }
    if (!j.is_object() || !j.contains("format") || !j.at("format").is_string())
    throw ParseError(path.string(), 0, "", "not a tsunagu XAS model (no 'format' field)");
  if (j.at("format").get<std::string>() != kFormat)
    throw ParseError(path.string(), 0, "", "model format '" + j.at("format").get<std::string>() + "', this tsunagu reads '" +
                     kFormat + "'");
  Model m;
  try {
    m.mesh_ = Mesh::from_json(j.at("mesh"));
    m.spectrum_.mesh = m.mesh_;
    m.spectrum_.normalization = parse_normalization(j.at("normalization").get<std::string>());
    if (!j.at("align_edge_to").is_null()) m.spectrum_.align_edge_to = j.at("align_edge_to").get<double>();
    const std::string input = j.at("input").get<std::string>();
    if (input != "structures" && input != "table") throw ParseError("", 0, "", "field 'input': '" + input + "'");
    m.uses_structures_ = input == "structures";
    if (m.uses_structures_) m.spec_ = features::DescriptorSpec::from_json(j.at("descriptors"));
    m.feature_names_ = j.at("feature_names").get<std::vector<std::string>>();
    m.absorber_ = j.at("absorber").get<std::string>();
    m.edge_ = j.at("edge").get<std::string>();
    m.mlp_ = nn::Mlp::from_json(j.at("network"));
    const auto& k = j.at("knn");
    m.knn_ = KnnBaseline(matrix_from_json(k.at("X"), "knn.X"), matrix_from_json(k.at("Y"), "knn.Y"),
                         k.at("k").get<int>());
    m.mean_spectrum_ = matrix_from_json(j.at("mean_spectrum"), "mean_spectrum").row(0);
    m.peaks_.min_prominence = j.at("peaks").at("min_prominence").get<double>();
    m.peaks_.window = j.at("peaks").at("window").get<double>();
    for (const auto& t : j.at("tuning")) {
      TuneTrial x;
      x.layers = t.at("layers").get<int>();
      x.width = t.at("width").get<int>();
      x.learning_rate = t.at("learning_rate").get<double>();
      x.dropout = t.at("dropout").get<double>();
      x.weight_decay = t.at("weight_decay").get<double>();
      x.validation_mse = t.at("validation_mse").is_number() ? t.at("validation_mse").get<double>() : std::nan("");
      x.epochs_run = t.at("epochs_run").get<int>();
      x.seconds = t.at("seconds").get<double>();
      m.tuning_.push_back(x);
    }
    m.info_ = j.at("info");
    if (j.contains("cv_folds")) {
      CvReport cv;
      for (const auto& p : j.at("cv_folds")) {
        cv.predictors.push_back(p.at("predictor").get<std::string>());
        cv.per_fold.push_back(p.at("folds").get<std::vector<json>>());
      }
      cv.folds = cv.per_fold.empty() ? 0 : static_cast<int>(cv.per_fold.front().size());
      m.cv_ = std::move(cv);
    }
  } catch (const Error& e) {
    throw ParseError(path.string(), 0, "", e.what());
  } catch (const json::exception& e) {
    throw ParseError(path.string(), 0, "", std::string("malformed model: ") + e.what());
  }
  // A model whose parts disagree would predict garbage silently.
  if (m.mlp_.n_outputs() != m.mesh_.n)
    throw ParseError(path.string(), 0, "", "network has " + std::to_string(m.mlp_.n_outputs()) + " outputs, mesh has " +
                     std::to_string(m.mesh_.n) + " points");
  if (m.knn_.X_train().cols() != static_cast<Eigen::Index>(m.feature_names_.size()) ||
      m.knn_.Y_train().cols() != m.mesh_.n || m.mean_spectrum_.size() != m.mesh_.n)
    throw ParseError(path.string(), 0, "", "baselines do not match the model (" +
                     std::to_string(m.knn_.X_train().cols()) + " kNN descriptor columns, " +
                     std::to_string(m.knn_.Y_train().cols()) + " kNN and " + std::to_string(m.mean_spectrum_.size()) +
                     " mean-spectrum points for " + std::to_string(m.feature_names_.size()) + " descriptors and " +
                     std::to_string(m.mesh_.n) + " mesh points)");
  if (m.mlp_.n_inputs() != static_cast<int>(m.feature_names_.size()) ||
      (m.uses_structures_ && m.spec_.size() != m.feature_names_.size()))
    throw ParseError(path.string(), 0, "", "network inputs (" + std::to_string(m.mlp_.n_inputs()) +
                     ") do not match the descriptor specification (" + std::to_string(m.feature_names_.size()) + ")");
  return m;
}

}  // namespace tsunagu::xas
