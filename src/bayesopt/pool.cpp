// Pool-based optimisation runs (Liang et al., npj Comput. Mater. 7, 188 (2021)).
#include "tsunagu/bayesopt/pool.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <limits>
#include <set>
#include <string>
#include <unordered_map>

#include "tsunagu/core/error.hpp"
#include "tsunagu/core/progress.hpp"
#include "tsunagu/core/random.hpp"

namespace tsunagu::bayesopt {
namespace {

// Hash of a parameter row by its bit patterns (-0 is folded onto +0 by the caller, so == and hashing agree).
struct RowHash {
  std::size_t operator()(const std::vector<double>& v) const noexcept {
    std::size_t h = 1469598103934665603ULL;
    for (double x : v) {
      std::uint64_t b = 0;
      std::memcpy(&b, &x, sizeof b);
      h ^= b + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    }
    return h;
  }
};

}  // namespace

PoolData load_pool(const core::Table& table, const std::string& objective, const std::vector<std::string>& parameters) {
  if (objective.empty()) throw InvalidArgument("objective: empty column name");
  table.column_index(objective);  // names the file and the available columns when absent
  PoolData d;
  d.objective = objective;
  if (parameters.empty()) {
    for (const auto& c : table.columns)
      if (c != objective) d.parameters.push_back(c);
  } else {
    std::set<std::string> seen;
    for (const auto& p : parameters) {
      if (p == objective)
        throw InvalidArgument(table.source + ": parameter column '" + p + "' is the objective column");
      if (!seen.insert(p).second) throw InvalidArgument(table.source + ": parameter column '" + p + "' listed twice");
      table.column_index(p);
    }
    d.parameters = parameters;
  }
  if (d.parameters.empty())
    throw InvalidArgument(table.source + ": no parameter columns (the table has only the objective '" + objective +
                          "')");
  const auto X = table.numeric(d.parameters).values;
  const auto y = table.numeric({objective}).values;
  d.n_rows = table.n_rows();

  std::unordered_map<std::vector<double>, std::size_t, RowHash> index;
  index.reserve(d.n_rows);
  std::vector<double> sum;
  std::vector<std::size_t> count;
  std::vector<std::size_t> rep;  // data row of each unique row's first copy
  std::vector<double> key(static_cast<std::size_t>(X.cols()));
  for (Eigen::Index i = 0; i < X.rows(); ++i) {
    for (Eigen::Index j = 0; j < X.cols(); ++j) key[static_cast<std::size_t>(j)] = X(i, j) == 0 ? 0.0 : X(i, j);
    auto [it, inserted] = index.emplace(key, rep.size());
    if (inserted) {
      rep.push_back(static_cast<std::size_t>(i));
      sum.push_back(0);
      count.push_back(0);
    }
    sum[it->second] += y(i, 0);
    count[it->second] += 1;
  }
  const auto m = static_cast<Eigen::Index>(rep.size());
  d.X.resize(m, X.cols());
  d.y.resize(m);
  for (Eigen::Index u = 0; u < m; ++u) {
    const auto s = static_cast<std::size_t>(u);
    d.X.row(u) = X.row(static_cast<Eigen::Index>(rep[s]));
    d.y(u) = sum[s] / static_cast<double>(count[s]);
  }
  d.first_row = std::move(rep);
  return d;
}

OptimizerOptions pool_optimizer_defaults() {
  OptimizerOptions o;
  o.acquisition = Acquisition::UCB;
  o.kappa = 1.0;
  o.input_warp = InputWarp::Rank;
  o.gp.kernel = KernelType::Matern32;
  // A few dozen observations cannot tell a lengthscale of 0.05 of the box from one of 0.3: the marginal likelihood
  // often prefers the short one, the GP then forgets everything between the measured rows and UCB degenerates into
  // space filling. A floor of 0.3 (ranks span [0, 1]) keeps the model interpolating (bench/RESULTS.md).
  o.gp.lengthscale_min = 0.3;
  return o;
}

void PoolRunOptions::validate() const {
  if (initial < 1) throw InvalidArgument("initial: must be >= 1 (got " + std::to_string(initial) + ")");
  if (iterations < 0) throw InvalidArgument("iterations: must be >= 0 (got " + std::to_string(iterations) + ")");
  if (batch < 1) throw InvalidArgument("batch: must be >= 1 (got " + std::to_string(batch) + ")");
  optimizer.validate();
}

PoolTrace run_pool(const PoolData& pool, const PoolRunOptions& options) {
  options.validate();
  const auto m = static_cast<std::size_t>(pool.X.rows());
  if (pool.y.size() != pool.X.rows() || pool.first_row.size() != m ||
      pool.parameters.size() != static_cast<std::size_t>(pool.X.cols()))
    throw InvalidArgument("pool: inconsistent shapes (X, y, first_row, parameters)");
  if (!pool.y.allFinite()) throw InvalidArgument("pool: the objective has non-finite values");
  if (static_cast<std::size_t>(options.initial) > m)
    throw InvalidArgument("initial: " + std::to_string(options.initial) + " rows requested but the pool has only " +
                          std::to_string(m) + " distinct candidates");
  Space space = Space::from_columns(pool.X, pool.parameters);
  space.objectives.push_back({pool.objective, options.minimize ? Direction::Minimize : Direction::Maximize, ""});
  space.validate();

  PoolTrace t;
  double best = options.minimize ? std::numeric_limits<double>::infinity() : -std::numeric_limits<double>::infinity();
  auto record = [&](std::size_t i) {
    const double v = pool.y(static_cast<Eigen::Index>(i));
    best = options.minimize ? std::min(best, v) : std::max(best, v);
    t.pool_index.push_back(i);
    t.order.push_back(pool.first_row[i]);
    t.values.push_back(v);
    t.best_so_far.push_back(best);
  };
  auto rng = core::make_rng(options.optimizer.seed);
  const auto perm = core::permutation(m, rng);
  for (int i = 0; i < options.initial; ++i) record(perm[static_cast<std::size_t>(i)]);

  core::Progress progress("bo pool", static_cast<std::size_t>(options.iterations));
  for (int it = 0; it < options.iterations && t.pool_index.size() < m; ++it) {
    const auto t0 = std::chrono::steady_clock::now();
    const int q =
        static_cast<int>(std::min<std::size_t>(static_cast<std::size_t>(options.batch), m - t.pool_index.size()));
    OptimizerOptions oo = options.optimizer;
    oo.seed = options.optimizer.seed + 1 + static_cast<std::uint64_t>(it);  // fresh draws every iteration
    const Optimizer opt(space, oo);
    Eigen::MatrixXd Y(static_cast<Eigen::Index>(t.values.size()), 1);
    for (std::size_t i = 0; i < t.values.size(); ++i) Y(static_cast<Eigen::Index>(i), 0) = t.values[i];
    const auto s = opt.suggest_pool(pool.X, t.pool_index, Y, q);
    for (auto i : s.indices) record(i);
    t.seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    progress.tick();
  }
  progress.finish();
  return t;
}

}  // namespace tsunagu::bayesopt
