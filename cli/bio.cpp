// tsunagu bio descriptors | train | importance | predict — argument parsing and formatting only; the work is
// tsunagu::bio.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common.hpp"
#include "tsunagu/bio/descriptors.hpp"
#include "tsunagu/bio/model.hpp"
#include "tsunagu/core/error.hpp"
#include "tsunagu/core/io.hpp"
#include "tsunagu/core/progress.hpp"
#include "tsunagu/core/table.hpp"
#include "tsunagu/nn/mlp.hpp"

namespace tsunagu::cli {
namespace {

using nlohmann::json;

// ---------------------------------------------------------------- descriptors

struct DescriptorArgs {
  std::string input, smiles_col = "smiles", output;
  std::vector<std::string> smarts;
  int morgan_bits = 0, morgan_radius = 2;
  bool skip_invalid = false;
  unsigned threads = 0;
};

void run_descriptors(const DescriptorArgs& a) {
  bio::DescriptorOptions o;
  for (const auto& s : a.smarts) o.smarts.push_back(bio::parse_smarts_arg(s));
  o.morgan_bits = a.morgan_bits;
  o.morgan_radius = a.morgan_radius;
  o.threads = a.threads;
  o.validate();
  const core::Table t = core::read_csv(a.input);
  std::optional<core::Progress> bar;
  if (!quiet()) bar.emplace("bio descriptors", t.n_rows());
  const auto r = bio::descriptor_table(t, a.smiles_col, o, a.skip_invalid, bar ? &*bar : nullptr);
  for (const auto& e : r.excluded) note("excluded: " + e.reason);
  for (const auto& [from, to] : r.renamed)
    note(a.input + ": column '" + from + "' is written as '" + to + "' (a descriptor has its name)");
  for (const auto& d : r.duplicates)
    note(a.input + ": rows " + std::to_string(d.first_row) + " and " + std::to_string(d.row) + " are the same molecule (" +
         d.canonical + "); both kept");
  r.write_csv(std::filesystem::path(a.output));
  note("wrote " + a.output + " (" + std::to_string(r.n_rows()) + " molecules x " +
       std::to_string(r.molecules.names.size()) + " descriptors)");
}

// ---------------------------------------------------------------- train

struct TrainArgs {
  std::string data, target, exclude, id_col = "id", output, report, hidden, activation, smiles_col;
  std::vector<std::string> smarts;
  int morgan_bits = 0, morgan_radius = 2;
  int ensemble = 10, folds = 5, repeats = 3, knn_k = 5, epochs = -1, permutation_repeats = 10;
  std::optional<double> lr, weight_decay, dropout;
  unsigned long long seed = 0;
  unsigned threads = 0;
};

std::string spread(const json& s) {
  if (!s.at("mean").is_number() || !s.at("sd").is_number()) return "-";  // e.g. per-fold R2 of 1-row folds
  char buf[96];
  std::snprintf(buf, sizeof buf, "%.3f +- %.3f", s.at("mean").get<double>(), s.at("sd").get<double>());
  return buf;
}

void run_train(const TrainArgs& a) {
  bio::TrainOptions o;
  o.ensemble = a.ensemble;
  o.folds = a.folds;
  o.repeats = a.repeats;
  o.knn_k = a.knn_k;
  o.permutation_repeats = a.permutation_repeats;
  o.seed = a.seed;
  o.threads = a.threads;
  o.progress = !quiet();
  if (!a.hidden.empty()) o.mlp.hidden = parse_int_list("--hidden", a.hidden);
  if (!a.activation.empty()) o.mlp.activation = nn::parse_activation(a.activation);
  if (a.epochs >= 0) o.mlp.epochs = a.epochs;
  if (a.lr) o.mlp.learning_rate = *a.lr;
  if (a.weight_decay) o.mlp.weight_decay = *a.weight_decay;
  if (a.dropout) o.mlp.dropout = *a.dropout;
  o.validate();

  const core::Table t = core::read_csv(a.data);
  bio::Dataset d;
  if (a.smiles_col.empty()) {
    d = bio::dataset_from_table(t, a.target, split_list(a.exclude), a.id_col);
  } else {
    bio::DescriptorOptions dopt;
    for (const auto& s : a.smarts) dopt.smarts.push_back(bio::parse_smarts_arg(s));
    dopt.morgan_bits = a.morgan_bits;
    dopt.morgan_radius = a.morgan_radius;
    dopt.validate();
    d = bio::dataset_from_smiles(t, a.smiles_col, a.target, dopt, split_list(a.exclude), a.id_col);
  }
  for (const auto& e : d.excluded) note("left out " + e.what + ": " + e.reason);
  if (!d.duplicates.empty())
    note(std::to_string(d.duplicates.size()) + " groups of rows with identical inputs (kept; see the report)");
  const bio::Model m = bio::Model::train(d, o);
  m.save(a.output);
  const json r = m.report();
  if (!a.report.empty()) core::write_json(a.report, r);

  std::printf("model: %s, %zu rows x %zu inputs -> %s, ensemble of %d\n", a.output.c_str(),
              static_cast<std::size_t>(d.X.rows()), d.features.size(), d.target.c_str(), o.ensemble);
  if (r.contains("cv_r2")) {
    std::printf("%d x %d-fold cross-validation (mean +- sd over folds):\n", o.repeats, o.folds);
    std::printf("%-8s %18s %18s %18s\n", "", "R2 (per fold)", "RMSE", "Q2 (pooled)");
    std::printf("%-8s %18s %18s %18s\n", "ann", spread(r["cv_r2"]).c_str(), spread(r["cv_rmse"]).c_str(),
                spread(r["cv_q2"]).c_str());
    for (const char* b : {"sparse", "knn"})
      std::printf("%-8s %18s %18s %18s\n", b, spread(r["baselines"][b]["cv_r2"]).c_str(),
                  spread(r["baselines"][b]["cv_rmse"]).c_str(), spread(r["baselines"][b]["cv_q2"]).c_str());
  }
  std::fflush(stdout);
}

// ---------------------------------------------------------------- importance

struct ImportanceArgs {
  std::string model, output, plot;
  int top = 15;
};

void run_importance(const ImportanceArgs& a) {
  const bio::Model m = bio::Model::load(a.model);
  const json j = m.importance_json();
  if (!a.output.empty()) core::write_json(a.output, j);
  if (!a.plot.empty()) bio::plot_importance(m.importances(), a.plot, m.target());
  // Table on stdout: inputs ranked by the first method.
  const auto& imps = m.importances();
  std::vector<std::size_t> order(m.features().size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) {
    return std::abs(imps[0].mean(static_cast<Eigen::Index>(x))) > std::abs(imps[0].mean(static_cast<Eigen::Index>(y)));
  });
  std::printf("%-24s", "input");
  for (const auto& imp : imps) std::printf(" %28s", (imp.method + " [95% interval]").c_str());
  std::printf("\n");
  for (std::size_t r = 0; r < order.size() && static_cast<int>(r) < a.top; ++r) {
    const auto j2 = static_cast<Eigen::Index>(order[r]);
    std::printf("%-24s", m.features()[order[r]].c_str());
    for (const auto& imp : imps) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.3g [%.3g, %.3g]", imp.mean(j2), imp.ci_low(j2), imp.ci_high(j2));
      std::printf(" %28s", buf);
    }
    std::printf("\n");
  }
  const json ag = m.agreement();
  std::printf("agreement (Spearman of |importance|):");
  for (const auto& [k, v] : ag.items()) std::printf(" %s %.2f", k.c_str(), v.get<double>());
  std::printf("\n");
  std::fflush(stdout);
}

// ---------------------------------------------------------------- predict

struct PredictArgs {
  std::string model, input, output, id_col = "id";
  bool minimize = false;
};

void run_predict(const PredictArgs& a) {
  const bio::Model m = bio::Model::load(a.model);
  const core::Table t = core::read_csv(a.input);
  const bio::Prediction p = m.predict(t);
  std::vector<std::string> ids;
  if (t.has_column(a.id_col)) {
    ids = t.text_column(a.id_col);
  } else {
    for (std::size_t i = 0; i < t.n_rows(); ++i) ids.push_back("row " + std::to_string(i + 1));
  }
  // Rank: best first (largest prediction, or smallest with --minimize).
  std::vector<std::size_t> order(ids.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) {
    const double px = p.mean(static_cast<Eigen::Index>(x)), py = p.mean(static_cast<Eigen::Index>(y));
    return a.minimize ? px < py : px > py;
  });
  std::vector<std::vector<std::string>> rows;
  for (std::size_t r = 0; r < order.size(); ++r) {
    const auto i = static_cast<Eigen::Index>(order[r]);
    rows.push_back({std::to_string(r + 1), ids[order[r]], core::format_double(p.mean(i)), core::format_double(p.sd(i))});
  }
  const std::vector<std::string> cols = {"rank", a.id_col, m.target() + "_pred", m.target() + "_sd"};
  if (a.output.empty()) {
    std::fputs(core::format_csv(cols, rows).c_str(), stdout);
  } else {
    core::write_csv(a.output, cols, rows);
    note("wrote " + a.output + " (" + std::to_string(rows.size()) + " candidates ranked)");
  }
}

}  // namespace

void register_bio(CLI::App& app) {
  auto* b = app.add_subcommand("bio", kBioSummary);
  b->require_subcommand(1);

  static DescriptorArgs da;
  auto* d = b->add_subcommand("descriptors", "RDKit descriptors of the SMILES in a CSV (other columns kept)");
  d->add_option("input", da.input, "CSV with a SMILES column")->required()->check(CLI::ExistingFile);
  d->add_option("--smiles-col", da.smiles_col, "column holding the SMILES")->capture_default_str();
  d->add_option("--smarts", da.smarts, "NAME=PATTERN: count substructure matches (repeatable)");
  d->add_option("--morgan-bits", da.morgan_bits, "Morgan fingerprint bits (0 = none; 64..4096, power of 2)")
      ->capture_default_str();
  d->add_option("--morgan-radius", da.morgan_radius, "Morgan radius")->capture_default_str();
  d->add_flag("--skip-invalid", da.skip_invalid, "drop unparseable SMILES (reported) instead of failing");
  d->add_option("--threads", da.threads, "threads (0 = all cores)")->check(non_negative())->capture_default_str();
  d->add_option("-o,--output", da.output, "descriptor CSV to write")->required();
  d->callback([] { run_descriptors(da); });

  static TrainArgs ta;
  auto* t = b->add_subcommand("train", "ANN ensemble with repeated K-fold CV next to lasso and kNN baselines");
  t->add_option("data", ta.data, "CSV: numeric inputs + the target (e.g. from bio descriptors)")
      ->required()
      ->check(CLI::ExistingFile);
  t->add_option("--target", ta.target, "column to predict")->required();
  t->add_option("--smiles-col", ta.smiles_col,
                "describe this SMILES column first (RDKit descriptors join the numeric columns; predict then takes "
                "SMILES)");
  t->add_option("--smarts", ta.smarts, "with --smiles-col: NAME=PATTERN substructure counts (repeatable)");
  t->add_option("--morgan-bits", ta.morgan_bits, "with --smiles-col: Morgan fingerprint bits (0 = none)")
      ->capture_default_str();
  t->add_option("--morgan-radius", ta.morgan_radius, "with --smiles-col: Morgan radius")->capture_default_str();
  t->add_option("--exclude", ta.exclude, "comma-separated columns that are not inputs");
  t->add_option("--id-col", ta.id_col, "column naming the rows (optional)")->capture_default_str();
  t->add_option("--ensemble", ta.ensemble, "networks over seeds")->check(CLI::PositiveNumber)->capture_default_str();
  t->add_option("--folds", ta.folds, "K of the repeated K-fold CV (0 = no CV)")->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  t->add_option("--repeats", ta.repeats, "CV repeats")->check(CLI::PositiveNumber)->capture_default_str();
  t->add_option("--knn-k", ta.knn_k, "k of the kNN baseline")->check(CLI::PositiveNumber)->capture_default_str();
  t->add_option("--permutation-repeats", ta.permutation_repeats, "permutations per input and held-out fold")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  t->add_option("--hidden", ta.hidden, "hidden layer widths (default 16)");
  t->add_option("--activation", ta.activation, "relu | tanh | sigmoid | silu | gelu | leaky_relu (default tanh)");
  t->add_option("--epochs", ta.epochs, "maximum epochs (default 2000, early stopping)")->check(CLI::PositiveNumber);
  t->add_option("--lr", ta.lr, "Adam learning rate (default 3e-3)");
  t->add_option("--weight-decay", ta.weight_decay, "L2 weight decay (default 1e-3)");
  t->add_option("--dropout", ta.dropout, "dropout probability (default 0)");
  t->add_option("--seed", ta.seed, "random seed")->capture_default_str();
  t->add_option("--threads", ta.threads, "networks trained at once (0 = all cores)")->check(non_negative())
      ->capture_default_str();
  t->add_option("--report", ta.report, "report JSON: cv_r2, cv_rmse ({mean, sd}) and the baselines'");
  t->add_option("-o,--output", ta.output, "model file to write (.tsb)")->required();
  t->callback([] { run_train(ta); });

  static ImportanceArgs ia;
  auto* i = b->add_subcommand("importance", "Garson, Olden and permutation importance with ensemble intervals");
  i->add_option("model", ia.model, "model file (.tsb)")->required()->check(CLI::ExistingFile);
  i->add_option("-o,--output", ia.output, "importance JSON (per method a list of {feature, mean, ci_low, ci_high})");
  i->add_option("--plot", ia.plot, "SVG bar chart with intervals");
  i->add_option("--top", ia.top, "rows printed")->check(CLI::PositiveNumber)->capture_default_str();
  i->callback([] { run_importance(ia); });

  static PredictArgs pa;
  auto* p = b->add_subcommand("predict", "predict and rank candidates (ensemble mean and spread)");
  p->add_option("model", pa.model, "model file (.tsb)")->required()->check(CLI::ExistingFile);
  p->add_option("input", pa.input,
                "CSV with the model's input columns (e.g. from bio descriptors), or SMILES for a model trained "
                "with --smiles-col")
      ->required()
      ->check(CLI::ExistingFile);
  p->add_option("--id-col", pa.id_col, "column naming the candidates")->capture_default_str();
  p->add_flag("--minimize", pa.minimize, "rank smallest predictions first");
  p->add_option("-o,--output", pa.output, "CSV: rank, id, prediction, sd (default: stdout)");
  p->callback([] { run_predict(pa); });
}

}  // namespace tsunagu::cli
