// tsunagu bo suggest | pool — argument parsing and formatting only; the work is tsunagu::bayesopt.
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "common.hpp"
#include "tsunagu/bayesopt/optimizer.hpp"
#include "tsunagu/bayesopt/pool.hpp"
#include "tsunagu/bayesopt/space.hpp"
#include "tsunagu/core/error.hpp"
#include "tsunagu/core/io.hpp"
#include "tsunagu/core/table.hpp"

namespace tsunagu::cli {
namespace {

namespace bo = tsunagu::bayesopt;
using core::format_double;

std::string sig(double v, int d = 4) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g", d, v);
  return buf;
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r"), e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

// A CSV that may hold only its header (no experiment done yet): core::parse_csv refuses a table without rows, so
// the header is parsed on its own and the table comes back empty.
core::Table read_observations(const std::string& path) {
  const std::string text = core::read_file(path);
  std::istringstream in(text);
  std::string line, header;
  bool has_header = false, has_rows = false;
  while (std::getline(in, line)) {
    const std::string t = trim(line);
    if (t.empty() || (!has_header && t[0] == '#')) continue;
    if (!has_header) {
      header = line;
      has_header = true;
    } else {
      has_rows = true;
      break;
    }
  }
  if (has_header && !has_rows) {
    if (!header.empty() && header.back() == '\r') header.pop_back();
    auto t = core::parse_csv(header + "\n" + header + "\n", path);
    t.rows.clear();
    t.line_numbers.clear();
    return t;
  }
  return core::parse_csv(text, path);
}

bool missing_cell(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s.empty() || s == "na" || s == "n/a" || s == "nan" || s == "null";
}

// Objective columns: a missing cell (empty, NA, NaN, null) marks a failed experiment; a row must be all measured or
// all missing.
Eigen::MatrixXd objectives_from_table(const core::Table& t, const bo::Space& space) {
  const auto k = space.objectives.size();
  std::vector<std::size_t> cols;
  for (const auto& o : space.objectives) cols.push_back(t.column_index(o.name));
  Eigen::MatrixXd Y(static_cast<Eigen::Index>(t.n_rows()), static_cast<Eigen::Index>(k));
  for (std::size_t i = 0; i < t.n_rows(); ++i) {
    const auto line = i < t.line_numbers.size() ? t.line_numbers[i] : 0;
    std::size_t n_missing = 0;
    for (std::size_t j = 0; j < k; ++j) {
      const std::string& cell = t.rows[i][cols[j]];
      double v = std::numeric_limits<double>::quiet_NaN();
      if (missing_cell(cell)) {
        ++n_missing;
      } else {
        const char* b = cell.data();
        const char* e = cell.data() + cell.size();
        if (b != e && *b == '+') ++b;
        auto [p, ec] = std::from_chars(b, e, v);
        if (ec != std::errc() || p != e)
          throw ParseError(t.source, line, space.objectives[j].name, "non-numeric value '" + cell + "'");
        if (!std::isfinite(v))
          throw ParseError(t.source, line, space.objectives[j].name, "non-finite value '" + cell + "'");
        if (space.objectives[j].log_scale && !(v > 0))
          throw ParseError(
              t.source, line, space.objectives[j].name,
              "the objective is modelled on a log scale (log = true) and needs values > 0, got '" + cell + "'");
      }
      Y(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) = v;
    }
    if (n_missing > 0 && n_missing < k)
      throw ParseError(t.source, line, space.objectives[0].name,
                       "some objectives are missing and others not (a failed experiment leaves all of them empty)");
  }
  return Y;
}

// The same CSV text goes to the file (atomically) or to stdout.
void write_rows(const std::string& output, const std::vector<std::string>& cols,
                const std::vector<std::vector<std::string>>& rows) {
  const std::string text = core::format_csv(cols, rows);
  if (!output.empty())
    core::write_file_atomic(output, text);
  else
    std::cout << text;
}

struct ModelArgs {
  std::string acq = "logei", batch_method = "kb", kernel = "matern52", spread = "auto", y_transform = "none",
              prior = "none";
  double xi = 0, kappa = 2, lengthscale_min = bo::GpOptions{}.lengthscale_min;
  int candidates = 1000, restarts = 3;
  std::uint64_t seed = 0;
  unsigned threads = 0;
};

void add_model_args(CLI::App* c, ModelArgs& m) {
  c->add_option("--acq", m.acq, "acquisition: ei | logei | pi | ucb | ts | nei")->capture_default_str();
  c->add_option("--batch-method", m.batch_method, "batch (q > 1): kb (kriging believer) | lp (local penalization) | ts")
      ->capture_default_str();
  c->add_option("--kernel", m.kernel, "GP kernel: rbf | matern32 | matern52 (ARD)")->capture_default_str();
  c->add_option("--xi", m.xi, "EI/PI improvement margin, standardised-y units (>= 0)")->capture_default_str();
  c->add_option("--kappa", m.kappa, "UCB exploration weight, posterior sd units (>= 0)")->capture_default_str();
  c->add_option("--spread", m.spread,
                "sd the acquisition sees: latent (f) | measurement (f + noise) | auto (measurement for pools)")
      ->capture_default_str();
  c->add_option("--y-transform", m.y_transform,
                "objective warping before the GP fit: none | power (Yeo-Johnson, lambda by maximum likelihood)")
      ->capture_default_str();
  c->add_option("--prior", m.prior,
                "GP hyperparameters: none (maximum marginal likelihood) | gamma (MAP with BoTorch's Gamma priors) | "
                "dimscaled (MAP with BoTorch's dimension-scaled log-normal priors)")
      ->capture_default_str();
  c->add_option("--lengthscale-min", m.lengthscale_min,
                "lower bound of the GP lengthscales, in units of the encoded unit box (> 0)")
      ->capture_default_str();
  c->add_option("--restarts", m.restarts, "random restarts of the GP hyperparameter fit")
      ->check(non_negative())
      ->capture_default_str();
  c->add_option("--seed", m.seed, "random seed (same seed and data: same suggestion)")
      ->check(non_negative())
      ->capture_default_str();
  c->add_option("--threads", m.threads, "threads (0 = all cores or $TSUNAGU_NUM_THREADS)")
      ->check(non_negative())
      ->capture_default_str();
}

bo::OptimizerOptions optimizer_options(const ModelArgs& m) {
  bo::OptimizerOptions o;
  o.acquisition = bo::parse_acquisition(m.acq);
  o.batch_method = bo::parse_batch_method(m.batch_method);
  o.gp.kernel = bo::parse_kernel(m.kernel);
  o.gp.restarts = m.restarts;
  o.gp.prior = bo::parse_prior(m.prior);
  o.gp.lengthscale_min = m.lengthscale_min;
  o.xi = m.xi;
  o.kappa = m.kappa;
  o.spread = bo::parse_spread(m.spread);
  o.y_transform = bo::parse_y_transform(m.y_transform);
  o.candidates = m.candidates;
  o.seed = m.seed;
  o.threads = m.threads;
  o.validate();
  return o;
}

// ---------------------------------------------------------------------------------------------------------------
struct SuggestArgs {
  std::string space, data, pending, output, input_warp = "none";
  int batch = 1;
  ModelArgs m;
};

void run_suggest(const SuggestArgs& a) {
  auto o = optimizer_options(a.m);
  o.input_warp = bo::parse_input_warp(a.input_warp);  // the rank encodings are refused by Optimizer::suggest
  const bo::Space space = bo::read_space_toml(a.space);
  if (space.objectives.empty())
    throw ParseError(a.space, 0, "objective", "no [[objective]] table: bo suggest needs at least one objective");
  bo::Observations obs;
  obs.X.resize(0, static_cast<Eigen::Index>(space.n_parameters()));
  obs.Y.resize(0, static_cast<Eigen::Index>(space.objectives.size()));
  if (!a.data.empty()) {
    const auto t = read_observations(a.data);
    obs.Y = objectives_from_table(t, space);  // checks the objective columns first: the clearer message
    obs.X = space.points_from_table(t);
  }
  if (!a.pending.empty()) obs.pending = space.points_from_table(read_observations(a.pending));
  const bo::Optimizer opt(space, o);
  const auto s = opt.suggest(obs, a.batch);

  std::vector<std::string> cols = space.parameter_names();
  for (const auto& ob : space.objectives) {
    cols.push_back(ob.name + "_mean");
    cols.push_back(ob.name + "_sd");
  }
  cols.push_back("acquisition");
  cols.push_back("p_feasible");
  auto cell = [](double v) { return std::isfinite(v) ? format_double(v) : std::string(); };
  std::vector<std::vector<std::string>> rows;
  for (Eigen::Index q = 0; q < s.points.rows(); ++q) {
    auto r = space.format_point(s.points.row(q).transpose());
    for (Eigen::Index k = 0; k < s.mean.cols(); ++k) {
      r.push_back(cell(s.mean(q, k)));
      r.push_back(cell(s.sd(q, k)));
    }
    r.push_back(cell(s.acquisition(q)));
    r.push_back(cell(s.p_feasible(q)));
    rows.push_back(std::move(r));
  }
  std::size_t failed = 0;
  for (Eigen::Index i = 0; i < obs.Y.rows(); ++i) failed += obs.Y.row(i).array().isNaN().all() ? 1 : 0;
  note("bo suggest: " + std::to_string(obs.X.rows()) + " observations (" + std::to_string(failed) + " failed), " +
       std::to_string(obs.pending.rows()) + " pending; " + s.method);
  for (std::size_t k = 0; k < s.models.size(); ++k) {
    const auto& h = s.models[k];
    std::string ls;
    for (Eigen::Index j = 0; j < h.lengthscales.size(); ++j) ls += (j ? " " : "") + sig(h.lengthscales(j), 3);
    note("model '" + space.objectives[k].name + "': signal variance " + sig(h.signal_variance, 3) +
         ", noise variance " + sig(h.noise_variance, 3) + ", lengthscales [" + ls + "] (unit box), log ML " +
         sig(s.log_marginal_likelihood[k], 5));
  }
  write_rows(a.output, cols, rows);
  if (!a.output.empty()) note("wrote " + a.output);
}

// ---------------------------------------------------------------------------------------------------------------
struct PoolArgs {
  std::string file, objective, parameters, output;
  std::string input_warp = bo::input_warp_name(bo::pool_optimizer_defaults().input_warp);
  bool minimize = false;
  int initial = 0, iterations = 0, batch = 1;
  ModelArgs m;
};

void run_pool_cmd(const PoolArgs& a) {
  bo::PoolRunOptions ro;
  ro.initial = a.initial;
  ro.iterations = a.iterations;
  ro.batch = a.batch;
  ro.minimize = a.minimize;
  ro.optimizer = optimizer_options(a.m);
  ro.optimizer.input_warp = bo::parse_input_warp(a.input_warp);
  ro.validate();
  const auto table = core::read_csv(a.file);
  const auto pool = bo::load_pool(table, a.objective, split_list(a.parameters));
  const auto t0 = std::chrono::steady_clock::now();
  const auto t = bo::run_pool(pool, ro);
  const double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  nlohmann::json j;
  j["file"] = a.file;
  j["objective"] = pool.objective;
  j["minimize"] = a.minimize;
  j["parameters"] = pool.parameters;
  j["n_rows"] = pool.n_rows;
  j["n_candidates"] = pool.X.rows();
  j["settings"] = {{"initial", a.initial},
                   {"iterations", a.iterations},
                   {"batch", a.batch},
                   {"acquisition", a.m.acq},
                   {"batch_method", a.m.batch_method},
                   {"kernel", a.m.kernel},
                   {"xi", a.m.xi},
                   {"kappa", a.m.kappa},
                   {"spread", a.m.spread},
                   {"y_transform", a.m.y_transform},
                   {"restarts", a.m.restarts},
                   {"prior", a.m.prior},
                   {"lengthscale_min", a.m.lengthscale_min},
                   {"input_warp", a.input_warp},
                   {"seed", a.m.seed},
                   {"threads", a.m.threads}};
  j["order"] = t.order;
  j["values"] = t.values;
  j["best_so_far"] = t.best_so_far;
  j["timings"] = {{"total_seconds", total}, {"iteration_seconds", t.seconds}};
  core::write_json(a.output, j);

  const auto best = a.minimize ? std::min_element(t.values.begin(), t.values.end())
                               : std::max_element(t.values.begin(), t.values.end());
  const auto at = static_cast<std::size_t>(best - t.values.begin());
  std::cout << "bo pool: " << t.order.size() << " of " << pool.X.rows() << " candidates measured (" << pool.n_rows
            << " rows); best " << pool.objective << " = " << sig(*best, 6) << " at data row " << t.order[at]
            << " (measurement " << at + 1 << "); " << sig(total, 3) << " s\n";
  note("wrote " + a.output);
}

}  // namespace

void register_bo(CLI::App& app) {
  auto* b = app.add_subcommand("bo", "Bayesian optimisation: next experiments from observations, pool benchmarks");
  b->require_subcommand(1);

  static SuggestArgs sa;
  auto* sug = b->add_subcommand("suggest", "propose the next experiment(s) from a space and the observations so far");
  sug->add_option("--space", sa.space, "search space (TOML: [[parameter]], [[constraint]], [[objective]])")
      ->required()
      ->check(CLI::ExistingFile);
  sug->add_option("--data", sa.data,
                  "observations CSV: parameter columns + objective column(s); an empty/NaN objective = failed run; "
                  "header-only or absent = random initial design")
      ->check(CLI::ExistingFile);
  sug->add_option("--pending", sa.pending, "CSV of proposed/running experiments (parameter columns), not to repeat")
      ->check(CLI::ExistingFile);
  sug->add_option("--batch", sa.batch, "number of experiments to propose")
      ->check(non_negative(true))
      ->capture_default_str();
  sug->add_option("--candidates", sa.m.candidates, "random points screened before the L-BFGS-B refinement")
      ->check(non_negative(true))
      ->capture_default_str();
  add_model_args(sug, sa.m);
  sug->add_option("--input-warp", sa.input_warp,
                  "parameter columns as the GP sees them: none (min-max over the bounds) | learned (a Kumaraswamy "
                  "CDF warp per column, learned with the GP hyperparameters)")
      ->capture_default_str();
  sug->add_option("-o,--output", sa.output, "CSV of the proposals (default: stdout)");
  sug->callback([] { run_suggest(sa); });

  static PoolArgs pa;
  {  // the library's pool defaults, so --help shows what a run without options does
    const auto d = bo::pool_optimizer_defaults();
    pa.m.acq = bo::acquisition_name(d.acquisition);
    pa.m.kappa = d.kappa;
    pa.m.kernel = bo::kernel_name(d.gp.kernel);
    pa.m.lengthscale_min = d.gp.lengthscale_min;
  }
  auto* pool = b->add_subcommand("pool", "pool-based benchmark: reveal the objective of the rows the optimiser picks");
  pool->add_option("pool", pa.file, "CSV of candidates with measured objective")->required()->check(CLI::ExistingFile);
  pool->add_option("--objective", pa.objective, "objective column")->required();
  pool->add_option("--parameters", pa.parameters, "comma-separated parameter columns (default: all others)");
  pool->add_flag("--minimize", pa.minimize, "minimise the objective (default: maximise)");
  pool->add_option("--initial", pa.initial, "random initial rows")->required()->check(non_negative(true));
  pool->add_option("--iterations", pa.iterations, "optimisation iterations after the initial rows")
      ->required()
      ->check(non_negative());
  pool->add_option("--batch", pa.batch, "rows proposed per iteration")
      ->check(non_negative(true))
      ->capture_default_str();
  add_model_args(pool, pa.m);
  pool->add_option("--input-warp", pa.input_warp,
                   "parameter columns as the GP sees them: none (min-max) | rank (mid-rank among the pool's rows, "
                   "in [0, 1]) | auto (whichever of the two fits the observations with the higher marginal "
                   "likelihood) | learned (a Kumaraswamy CDF warp per column, learned with the GP hyperparameters) | "
                   "rank+learned (the learned warp on the rank encoding)")
      ->capture_default_str();
  pool->add_option("-o,--output", pa.output, "trace JSON to write (order, best_so_far, settings, timings)")->required();
  pool->callback([] { run_pool_cmd(pa); });
}

}  // namespace tsunagu::cli
