// tsunagu xas train | predict | evaluate — argument parsing and formatting only; the work is tsunagu::xas.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common.hpp"
#include "tsunagu/core/error.hpp"
#include "tsunagu/core/io.hpp"
#include "tsunagu/core/plot.hpp"
#include "tsunagu/structure/formats.hpp"
#include "tsunagu/xas/model.hpp"
#include "tsunagu/xas/plots.hpp"

namespace tsunagu::cli {
namespace {

using nlohmann::json;

struct DataArgs {
  std::string path, format = "auto", absorber, table_mesh;
  std::string spectrum_prefix = "s", feature_prefix = "d", group_column = "group", id_column = "id";
};

void add_data_options(CLI::App* c, DataArgs& d) {
  c->add_option("data", d.path,
                "dataset: MP XAS JSON/JSON-lines file or folder, XANESNET xyz folder (spectra in the sibling "
                "xanes folder), or a descriptor table (CSV)")
      ->required()
      ->check(CLI::ExistingPath);
  c->add_option("--format", d.format, "auto | mp | xanesnet | table")->capture_default_str();
  c->add_option("--absorber", d.absorber, "absorbing element (MP: keep these documents; XANESNET: its first atom)");
  c->add_option("--table-mesh", d.table_mesh, "table: energies LO:HI:N of the spectrum columns (eV)");
  c->add_option("--spectrum-prefix", d.spectrum_prefix, "table: spectrum columns are PREFIX0..")->capture_default_str();
  c->add_option("--feature-prefix", d.feature_prefix, "table: descriptor columns are PREFIX0..")->capture_default_str();
  c->add_option("--group-column", d.group_column, "table: column naming the material (grouped splits)")
      ->capture_default_str();
  c->add_option("--id-column", d.id_column, "table: column of record ids")->capture_default_str();
}

xas::Dataset load(const DataArgs& d) {
  xas::LoadOptions o;
  o.format = xas::parse_data_format(d.format);
  o.absorber = d.absorber;
  o.spectrum_prefix = d.spectrum_prefix;
  o.feature_prefix = d.feature_prefix;
  o.group_column = d.group_column;
  o.id_column = d.id_column;
  if (!d.table_mesh.empty()) o.table_mesh = xas::parse_mesh(d.table_mesh);
  auto data = xas::load_dataset(d.path, o);
  for (const auto& n : data.summary.notes) note(d.path + ": " + n);
  note("read " + std::to_string(data.records.size()) + " spectra from " + d.path + " (" +
       xas::data_format_name(data.format) + ")");
  return data;
}

std::string fmt(double v, int digits = 4) {
  if (!std::isfinite(v)) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g", digits, v);
  return buf;
}

void print_metrics_table(const std::vector<std::pair<std::string, json>>& rows) {
  std::printf("%-8s %12s %10s %10s %10s %12s %12s\n", "", "mse", "pearson", "spearman", "r>0.95", "peak_dE_eV",
              "peak_dI");
  for (const auto& [name, m] : rows) {
    auto g = [&](const char* k) { return m.contains(k) && m.at(k).is_number() ? m.at(k).get<double>() : NAN; };
    std::printf("%-8s %12s %10s %10s %10s %12s %12s\n", name.c_str(), fmt(g("mse")).c_str(),
                fmt(g("pearson_median")).c_str(), fmt(g("spearman_median")).c_str(),
                fmt(g("frac_pearson_gt_0.95")).c_str(), fmt(g("peak_position_mae")).c_str(),
                fmt(g("peak_intensity_mae")).c_str());
  }
  std::fflush(stdout);
}

// ---------------------------------------------------------------- train

struct TrainArgs {
  DataArgs data;
  std::string mesh, normalize = "none", kinds, hidden, activation, schedule, output, report;
  std::optional<double> align_edge;
  int tune = 0, epochs = -1, batch_size = -1, patience = -1, folds = 5, knn_k = 5;
  std::optional<double> lr, dropout, weight_decay;
  double validation_fraction = 0.15, site_cutoff = 6.0;
  unsigned long long seed = 0;
  unsigned threads = 0;
};

void run_train(const TrainArgs& a) {
  xas::TrainOptions o;
  if (!a.mesh.empty()) o.mesh = xas::parse_mesh(a.mesh);
  o.normalization = xas::parse_normalization(a.normalize);
  o.align_edge_to = a.align_edge;
  if (!a.kinds.empty()) o.descriptors.kinds = features::parse_descriptor_kinds(a.kinds);
  o.descriptors.site_cutoff = a.site_cutoff;
  if (!a.hidden.empty()) o.mlp.hidden = parse_int_list("--hidden", a.hidden);
  if (!a.activation.empty()) o.mlp.activation = nn::parse_activation(a.activation);
  if (!a.schedule.empty()) o.mlp.schedule = nn::parse_lr_schedule(a.schedule);
  if (a.epochs >= 0) o.mlp.epochs = a.epochs;
  if (a.batch_size >= 0) o.mlp.batch_size = a.batch_size;
  if (a.patience >= 0) o.mlp.patience = a.patience;
  if (a.lr) o.mlp.learning_rate = *a.lr;
  if (a.dropout) o.mlp.dropout = *a.dropout;
  if (a.weight_decay) o.mlp.weight_decay = *a.weight_decay;
  o.tune_trials = a.tune;
  o.cv_folds = a.folds;
  o.validation_fraction = a.validation_fraction;
  o.knn_k = a.knn_k;
  o.seed = a.seed;
  o.threads = a.threads;
  o.progress = !quiet();
  o.validate();  // before the (possibly long) load, so a typo fails at once

  const auto data = load(a.data);
  const auto model = xas::Model::train(data, o);
  model.save(a.output);
  const json s = model.summary();
  if (!a.report.empty()) core::write_json(a.report, s);

  std::printf("model: %s, %zu spectra of %zu materials, %d descriptors -> %d points on %s eV\n",
              a.output.c_str(), s["records"].get<std::size_t>(), s["groups"].get<std::size_t>(),
              model.network().n_inputs(), model.mesh().n, model.mesh().str().c_str());
  std::printf("network: hidden %s, lr %s, dropout %s, weight decay %s; %s\n",
              s["network"]["hidden"].dump().c_str(), fmt(model.network().options().learning_rate).c_str(),
              fmt(model.network().options().dropout).c_str(), fmt(model.network().options().weight_decay).c_str(),
              model.network().history().message.c_str());
  if (!model.tuning().empty()) {
    std::printf("tuning: %zu trials, best validation mse %s\n", model.tuning().size(),
                fmt(std::min_element(model.tuning().begin(), model.tuning().end(),
                                     [](const auto& x, const auto& y) { return x.validation_mse < y.validation_mse; })
                        ->validation_mse)
                    .c_str());
  }
  if (model.cv()) {
    const auto& cv = *model.cv();
    std::printf("grouped %d-fold cross-validation (mean +- sd over folds):\n", cv.folds);
    std::printf("%-8s %22s %22s %22s\n", "", "mse", "pearson_median", "frac_pearson_gt_0.95");
    for (std::size_t p = 0; p < cv.predictors.size(); ++p) {
      auto ms = [&](const char* k) {
        const auto sp = cv.spread(p, k);
        return fmt(sp.mean) + " +- " + fmt(sp.sd, 2);
      };
      std::printf("%-8s %22s %22s %22s\n", cv.predictors[p].c_str(), ms("mse").c_str(), ms("pearson_median").c_str(),
                  ms("frac_pearson_gt_0.95").c_str());
    }
    std::fflush(stdout);
  }
  note("wrote " + a.output + (a.report.empty() ? "" : " and " + a.report));
}

// ---------------------------------------------------------------- predict

struct PredictArgs {
  std::string model, format = "auto", output, plot;
  std::vector<std::string> files;
  long absorber_index = -1;
};

void run_predict(const PredictArgs& a) {
  const auto model = xas::Model::load(a.model);
  structure::ReadOptions ro;
  ro.format = structure::parse_format(a.format);
  std::vector<structure::Crystal> cs;
  for (const auto& f : a.files) cs.push_back(structure::read_structure(f, ro));
  std::vector<std::size_t> sites;
  if (a.absorber_index < -1)
    throw InvalidArgument("--absorber-index: must be a 0-based site index, got " + std::to_string(a.absorber_index));
  if (a.absorber_index >= 0) sites.assign(cs.size(), static_cast<std::size_t>(a.absorber_index));
  const Eigen::MatrixXd Y = model.predict(cs, sites);
  const Eigen::VectorXd e = model.mesh().points();
  std::ostringstream out;
  out.precision(9);  // enough to round-trip the network's float32 outputs
  out << "energy_eV";
  for (const auto& f : a.files) out << "," << (f.find_first_of(",\"") == std::string::npos ? f : "\"" + f + "\"");
  out << "\n";
  for (Eigen::Index k = 0; k < e.size(); ++k) {
    out << e(k);
    for (Eigen::Index i = 0; i < Y.rows(); ++i) out << "," << Y(i, k);
    out << "\n";
  }
  if (a.output.empty()) {
    std::cout << out.str();
  } else {
    core::write_file_atomic(a.output, out.str());
    note("wrote " + a.output + " (" + std::to_string(Y.rows()) + " spectra, " + std::to_string(e.size()) +
         " energies)");
  }
  if (!a.plot.empty()) {
    core::plot::save_svg(a.plot, xas::plot_spectra(e, a.files, Y));
    note("wrote " + a.plot);
  }
}

// ---------------------------------------------------------------- evaluate

struct EvaluateArgs {
  std::string model, output, plot;
  DataArgs data;
  bool per_spectrum = false;
};

void run_evaluate(const EvaluateArgs& a) {
  const auto model = xas::Model::load(a.model);
  const auto data = load(a.data);
  const auto ev = model.evaluate(data);
  json report = ev.to_json();
  if (a.per_spectrum) {
    json per = json::array();
    const json full = ev.model.to_json(true);
    if (full.contains("per_spectrum")) {
      for (std::size_t i = 0; i < full["per_spectrum"].size(); ++i) {
        json x = full["per_spectrum"][i];
        x["id"] = ev.ids[i];
        per.push_back(x);
      }
    }
    report["per_spectrum"] = per;
  }
  report["model"] = a.model;
  report["data"] = a.data.path;
  if (!a.output.empty()) {
    core::write_json(a.output, report);
    note("wrote " + a.output);
  }
  std::printf("%zu spectra, mesh %s eV\n", ev.model.n, model.mesh().str().c_str());
  print_metrics_table({{"model", ev.model.to_json(false)}, {"mean", ev.mean.to_json(false)},
                       {"knn", ev.knn.to_json(false)}});
  if (!a.plot.empty()) {
    core::plot::save_svg(a.plot, xas::plot_spectra(ev.mesh, ev.ids, ev.predicted, &ev.reference));
    note("wrote " + a.plot);
  }
}

}  // namespace

void register_xas(CLI::App& app) {
  auto* x = app.add_subcommand("xas", kXasSummary);
  x->require_subcommand(1);

  static TrainArgs ta;
  auto* t = x->add_subcommand("train", "train a spectrum predictor (optionally tuned by Bayesian optimisation)");
  add_data_options(t, ta.data);
  t->add_option("--mesh", ta.mesh, "energy mesh LO:HI:N in eV (default: the range every spectrum covers)");
  t->add_option("--normalize", ta.normalize, "none | max | area | edge")->capture_default_str();
  t->add_option("--align-edge", ta.align_edge, "shift every spectrum so its edge lies at this energy (eV)");
  t->add_option("--kind", ta.kinds, "descriptors for structure data: any of composition,prdf,coulomb,site,acsf (default acsf)")
      ->capture_default_str();
  t->add_option("--site-cutoff", ta.site_cutoff, "neighbourhood of the absorbing atom (A)")->capture_default_str();
  t->add_option("--tune", ta.tune, "Bayesian-optimisation trials over layers/width/lr/dropout/weight decay (0 = off)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  t->add_option("--epochs", ta.epochs, "maximum epochs per network (default 600)")->check(CLI::PositiveNumber);
  t->add_option("--hidden", ta.hidden, "hidden layer widths, e.g. 256,256 (default; tuned with --tune)");
  t->add_option("--activation", ta.activation, "relu | tanh | sigmoid | silu | gelu | leaky_relu (default silu)");
  t->add_option("--lr", ta.lr, "Adam learning rate (default 1e-3)");
  t->add_option("--dropout", ta.dropout, "dropout probability (default 0.2)");
  t->add_option("--weight-decay", ta.weight_decay, "L2 weight decay (default 1e-5)");
  t->add_option("--schedule", ta.schedule, "constant | step | cosine | plateau (default plateau)");
  t->add_option("--batch-size", ta.batch_size, "minibatch size (default 32)")->check(CLI::PositiveNumber);
  t->add_option("--patience", ta.patience, "early-stopping patience in epochs (0 = off; default 80)")
      ->check(CLI::NonNegativeNumber);
  t->add_option("--folds", ta.folds, "grouped K-fold report next to the baselines (0 = skip)")->capture_default_str();
  t->add_option("--validation-fraction", ta.validation_fraction, "materials held out for early stopping and tuning")
      ->capture_default_str();
  t->add_option("--knn-k", ta.knn_k, "k of the k-nearest-neighbour baseline")->capture_default_str();
  t->add_option("--seed", ta.seed, "random seed")->capture_default_str();
  t->add_option("--threads", ta.threads, "threads (0 = all cores)")->check(non_negative())->capture_default_str();
  t->add_option("--report", ta.report, "training summary JSON (settings, tuning trials, CV metrics)");
  t->add_option("-o,--output", ta.output, "model file to write (.tsx)")->required();
  t->callback([] { run_train(ta); });

  static PredictArgs pa;
  auto* p = x->add_subcommand("predict", "predict spectra of structures with a trained model");
  p->add_option("model", pa.model, "model file (.tsx)")->required()->check(CLI::ExistingFile);
  p->add_option("structures", pa.files, "structure files (CIF, POSCAR, JSON, XYZ)")->required()->check(CLI::ExistingFile);
  p->add_option("--format", pa.format, "structure format: auto | cif | poscar | json | xyz")->capture_default_str();
  p->add_option("--absorber-index", pa.absorber_index,
                "absorbing atom (0-based, every file; default: first atom of the model's element)");
  p->add_option("-o,--output", pa.output, "CSV: energy_eV then one column per structure (default: stdout)");
  p->add_option("--plot", pa.plot, "SVG of the predicted spectra");
  p->callback([] { run_predict(pa); });

  static EvaluateArgs ea;
  auto* e = x->add_subcommand("evaluate", "score a model on a dataset next to the mean and k-NN baselines");
  e->add_option("model", ea.model, "model file (.tsx)")->required()->check(CLI::ExistingFile);
  add_data_options(e, ea.data);
  e->add_option("-o,--output", ea.output, "report JSON (mse, pearson_median, ..., baselines)");
  e->add_option("--plot", ea.plot, "SVG of predicted vs reference spectra (first 12)");
  e->add_flag("--per-spectrum", ea.per_spectrum, "include every spectrum's scores in the report");
  e->callback([] { run_evaluate(ea); });
}

}  // namespace tsunagu::cli
