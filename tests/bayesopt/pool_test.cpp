// Pool-based runs. Truths: hand-made tables (duplicate rows and their first data row), the protocol's invariants
// (initial rows first, no row measured twice, best-so-far is the running best), determinism per seed.
#include "tsunagu/bayesopt/pool.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <string>

#include "tsunagu/core/error.hpp"

using namespace tsunagu;
using namespace tsunagu::bayesopt;

namespace {

// A smooth 2-D landscape on a 15 x 15 grid (maximum 1 at (0.6, 0.3)), shuffled rows.
core::Table grid_table() {
  std::string csv = "a,b,y\n";
  for (int k = 0; k < 225; ++k) {
    const int i = (k * 37) % 225;  // a fixed permutation of the grid
    const double a = (i / 15) / 14.0, b = (i % 15) / 14.0;
    const double y = std::exp(-((a - 0.6) * (a - 0.6) + (b - 0.3) * (b - 0.3)) / 0.08);
    csv += core::format_double(a) + "," + core::format_double(b) + "," + core::format_double(y) + "\n";
  }
  return core::parse_csv(csv, "grid.csv");
}

PoolRunOptions quick(int initial, int iterations, int batch = 1) {
  PoolRunOptions o;
  o.initial = initial;
  o.iterations = iterations;
  o.batch = batch;
  o.optimizer.gp.restarts = 1;
  o.optimizer.seed = 21;
  return o;
}

}  // namespace

TEST(Pool, DuplicateParameterRowsAreAveragedAndIndexedByTheirFirstRow) {
  const auto t = core::parse_csv(
      "name_x,name_z,target\n"
      "1,2,10\n"  // row 0
      "3,4,1\n"   // row 1
      "1,2,20\n"  // row 2: duplicate of row 0
      "5,6,7\n"   // row 3
      "3,4,2\n"   // row 4: duplicate of row 1
      "1,2,30\n"  // row 5: duplicate of row 0
      "-0,6,5\n"  // row 6
      "0,6,9\n",  // row 7: duplicate of row 6 (-0 == 0)
      "dup.csv");
  const auto p = load_pool(t, "target");
  EXPECT_EQ(p.n_rows, 8u);
  EXPECT_EQ(p.parameters, (std::vector<std::string>{"name_x", "name_z"}));
  ASSERT_EQ(p.X.rows(), 4);
  EXPECT_EQ(p.first_row, (std::vector<std::size_t>{0, 1, 3, 6}));
  EXPECT_DOUBLE_EQ(p.y(0), 20.0);
  EXPECT_DOUBLE_EQ(p.y(1), 1.5);
  EXPECT_DOUBLE_EQ(p.y(2), 7.0);
  EXPECT_DOUBLE_EQ(p.y(3), 7.0);
  EXPECT_EQ(p.X.row(1), Eigen::RowVector2d(3, 4));
  // an explicit parameter subset merges rows that differ only elsewhere
  const auto q = load_pool(t, "target", {"name_z"});
  EXPECT_EQ(q.X.rows(), 3);
}

TEST(Pool, BadTablesAreRefusedNamingFileLineAndColumn) {
  const auto t = core::parse_csv("x,y\n1,2\nabc,3\n", "bad.csv");
  try {
    load_pool(t, "y");
    ADD_FAILURE() << "non-numeric accepted";
  } catch (const ParseError& e) {
    EXPECT_EQ(e.file(), "bad.csv");
    EXPECT_EQ(e.line(), 3u);
    EXPECT_EQ(e.column(), "x");
  }
  const auto u = core::parse_csv("x,y\n1,2\n2,\n", "missing.csv");
  EXPECT_THROW(load_pool(u, "y"), ParseError);
  EXPECT_THROW(load_pool(u, "nope"), InvalidArgument);
  EXPECT_THROW(load_pool(u, "y", {"y"}), InvalidArgument);
  EXPECT_THROW(load_pool(core::parse_csv("y\n1\n", "one.csv"), "y"), InvalidArgument);
}

TEST(Pool, RunMeasuresEachRowAtMostOnceWithInitialRowsFirstAndRunningBest) {
  const auto pool = load_pool(grid_table(), "y");
  const auto t = run_pool(pool, quick(5, 10, 2));
  ASSERT_EQ(t.order.size(), 25u);
  EXPECT_EQ(std::set<std::size_t>(t.pool_index.begin(), t.pool_index.end()).size(), 25u);
  // the first 5 are the initial random rows: a run without iterations measures exactly those
  const auto init = run_pool(pool, quick(5, 0));
  ASSERT_EQ(init.order.size(), 5u);
  EXPECT_TRUE(std::equal(init.order.begin(), init.order.end(), t.order.begin()));
  double best = -1e300;
  for (std::size_t i = 0; i < t.order.size(); ++i) {
    EXPECT_EQ(t.order[i], pool.first_row[t.pool_index[i]]);
    EXPECT_DOUBLE_EQ(t.values[i], pool.y(static_cast<Eigen::Index>(t.pool_index[i])));
    best = std::max(best, t.values[i]);
    EXPECT_DOUBLE_EQ(t.best_so_far[i], best);
  }
  EXPECT_EQ(t.seconds.size(), 10u);
  // a smooth single peak is found within 25 of 225 rows (the top 2 % of the pool)
  std::vector<double> ys(pool.y.data(), pool.y.data() + pool.y.size());
  std::sort(ys.rbegin(), ys.rend());
  EXPECT_GE(t.best_so_far.back(), ys[4]);
}

TEST(Pool, RunIsDeterministicPerSeedAndMinimisesWhenAsked) {
  const auto pool = load_pool(grid_table(), "y");
  auto o = quick(3, 4);
  o.minimize = true;
  const auto a = run_pool(pool, o);
  const auto b = run_pool(pool, o);
  EXPECT_EQ(a.order, b.order);
  for (std::size_t i = 1; i < a.best_so_far.size(); ++i) EXPECT_LE(a.best_so_far[i], a.best_so_far[i - 1]);
  o.optimizer.seed = 22;
  EXPECT_NE(run_pool(pool, o).order, a.order);
}

TEST(Pool, RunStopsWhenThePoolIsExhaustedAndValidatesOptions) {
  const auto t = core::parse_csv("x,y\n0,1\n1,3\n2,2\n3,5\n4,4\n5,0\n", "small.csv");
  const auto pool = load_pool(t, "y");
  const auto r = run_pool(pool, quick(2, 50, 3));
  EXPECT_EQ(r.order.size(), 6u);
  EXPECT_EQ(std::set<std::size_t>(r.order.begin(), r.order.end()).size(), 6u);
  EXPECT_DOUBLE_EQ(r.best_so_far.back(), 5.0);
  EXPECT_THROW(run_pool(pool, quick(0, 1)), InvalidArgument);
  EXPECT_THROW(run_pool(pool, quick(7, 1)), InvalidArgument);
  EXPECT_THROW(run_pool(pool, quick(1, -1)), InvalidArgument);
  EXPECT_THROW(run_pool(pool, quick(1, 1, 0)), InvalidArgument);
}

TEST(Pool, RunsStartFromThePoolDefaultsAndRankWarpingIsInEffect) {
  const PoolRunOptions d;
  EXPECT_EQ(d.optimizer.acquisition, Acquisition::UCB);
  EXPECT_DOUBLE_EQ(d.optimizer.kappa, 1.0);
  EXPECT_EQ(d.optimizer.input_warp, InputWarp::Rank);
  EXPECT_EQ(d.optimizer.gp.kernel, KernelType::Matern32);
  EXPECT_DOUBLE_EQ(d.optimizer.gp.lengthscale_min, 0.3);
  EXPECT_EQ(OptimizerOptions{}.input_warp, InputWarp::None);  // suggest/suggest_pool keep their own defaults
  EXPECT_DOUBLE_EQ(OptimizerOptions{}.gp.lengthscale_min, GpOptions{}.lengthscale_min);
  // Rank warping of a grid with equally spaced values is the identity up to the min-max scaling, so a run on the
  // grid must not depend on it; on a cubed grid (rows crowding one end) it must, and rank warping must then equal
  // the plain run on the uncubed grid (the encoding the ranks restore).
  const auto grid = load_pool(grid_table(), "y");
  auto o = quick(3, 8);
  o.optimizer.input_warp = InputWarp::None;
  const auto plain = run_pool(grid, o);
  o.optimizer.input_warp = InputWarp::Rank;
  EXPECT_EQ(run_pool(grid, o).order, plain.order);
  PoolData cubed = grid;
  cubed.X = grid.X.array().cube();
  const auto rank_cubed = run_pool(cubed, o);
  EXPECT_EQ(rank_cubed.order, plain.order);
  o.optimizer.input_warp = InputWarp::None;
  EXPECT_NE(run_pool(cubed, o).order, plain.order);
}
