#pragma once
/// Pool-based optimisation runs (the benchmark protocol of Liang et al., npj Comput. Mater. 7, 188 (2021)): a table
/// of already-measured candidates stands in for the laboratory; starting from N random rows, each iteration the
/// optimiser proposes rows from the pool and their objective is "measured" by revealing it.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "tsunagu/bayesopt/optimizer.hpp"
#include "tsunagu/core/table.hpp"

namespace tsunagu::bayesopt {

struct PoolData {
  std::vector<std::string> parameters;  ///< parameter column names
  std::string objective;                ///< objective column name
  Eigen::MatrixXd X;                    ///< (m, n_parameters) unique parameter rows, in order of first appearance
  Eigen::VectorXd y;                    ///< (m) objective, averaged over duplicate parameter rows
  std::vector<std::size_t> first_row;   ///< (m) 0-based data row (header excluded) of each unique row's first copy
  std::size_t n_rows = 0;               ///< data rows in the file
};

/// Build a pool from a table: `objective` is the objective column; `parameters` the parameter columns (empty = every
/// other column). All cells must be numeric (ParseError naming file, line, column otherwise).
PoolData load_pool(const core::Table& table, const std::string& objective,
                   const std::vector<std::string>& parameters = {});

/// Optimiser settings a pool run starts from (PoolRunOptions, `tsunagu bo pool`, tsunagu.bayesopt.run_pool): the
/// OptimizerOptions defaults except UCB with kappa = 1 on the measurement spread, rank-warped inputs
/// (InputWarp::Rank), the Matérn 3/2 kernel (ARD) and lengthscales of at least 0.3 of the unit box
/// (gp.lengthscale_min; the general default 1e-3 lets the marginal likelihood pick lengthscales that a few dozen
/// observations cannot resolve). Chosen on the five pool benchmarks of Liang et al. 2021
/// (bench/RESULTS.md, section bayesopt, which lists the configurations compared), so they are tuned to those
/// datasets rather than proven in general.
OptimizerOptions pool_optimizer_defaults();

struct PoolRunOptions {
  int initial = 5;        ///< random initial rows; >= 1
  int iterations = 50;    ///< optimisation iterations after the initial rows; >= 0 (stops early if the pool runs out)
  int batch = 1;          ///< rows proposed per iteration; >= 1
  bool minimize = false;  ///< direction of the objective
  OptimizerOptions optimizer = pool_optimizer_defaults();  ///< its seed also draws the initial rows
  void validate() const;
};

struct PoolTrace {
  std::vector<std::size_t> order;    ///< measured rows as file data-row indices (PoolData::first_row), initial first
  std::vector<std::size_t> pool_index;  ///< the same as indices into PoolData::X
  std::vector<double> values;        ///< objective of each measured row (averaged over duplicates)
  std::vector<double> best_so_far;   ///< best value after each measurement (min or max per direction)
  std::vector<double> seconds;       ///< wall time of each optimisation iteration (model fit + acquisition)
};

/// Run the loop. Deterministic for a seed. Shows a progress line (core::Progress).
PoolTrace run_pool(const PoolData& pool, const PoolRunOptions& options);

}  // namespace tsunagu::bayesopt
