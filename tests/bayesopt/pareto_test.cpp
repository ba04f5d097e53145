// Pareto front and hypervolume. Truths: hand-computed boxes, brute-force dominance, the inclusion-exclusion
// formula (exact: HV = sum over non-empty subsets S of (-1)^(|S|+1) vol([r, min_S])) and a Monte-Carlo estimate.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "tsunagu/bayesopt/optimizer.hpp"
#include "tsunagu/core/error.hpp"

namespace tb = tsunagu::bayesopt;
using Eigen::MatrixXd;
using Eigen::VectorXd;

namespace {

double inclusion_exclusion(const MatrixXd& P, const VectorXd& r) {
  const auto n = P.rows();
  double hv = 0;
  for (unsigned long mask = 1; mask < (1UL << n); ++mask) {
    VectorXd m = VectorXd::Constant(r.size(), std::numeric_limits<double>::infinity());
    int bits = 0;
    for (Eigen::Index i = 0; i < n; ++i)
      if (mask & (1UL << i)) {
        m = m.cwiseMin(P.row(i).transpose());
        ++bits;
      }
    const double vol = (m - r).cwiseMax(0.0).prod();
    hv += (bits % 2 ? 1.0 : -1.0) * vol;
  }
  return hv;
}

MatrixXd random_points(int n, int k, unsigned seed, bool integer_grid) {
  std::mt19937 g(seed);
  std::uniform_real_distribution<double> u(0, 1);
  MatrixXd P(n, k);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < k; ++j) P(i, j) = integer_grid ? std::floor(u(g) * 4) : u(g);
  return P;
}

}  // namespace

TEST(Pareto, FrontOfHandExampleKeepsNonDominatedRowsAndDuplicates) {
  MatrixXd Y(6, 2);
  Y << 1, 5,  //
      2, 4,   //
      2, 4,   // duplicate: both kept
      1, 4,   // dominated by (1,5) and (2,4)
      3, 1,   //
      0, 0;   // dominated
  const auto f = tb::pareto_front(Y);
  EXPECT_EQ(f, (std::vector<std::size_t>{0, 1, 2, 4}));
}

TEST(Pareto, FrontEqualsBruteForceDominanceOnRandomTies) {
  for (unsigned seed = 0; seed < 20; ++seed) {
    const int k = 2 + static_cast<int>(seed % 3);
    const MatrixXd Y = random_points(25, k, seed, true);
    std::vector<std::size_t> expect;
    for (int i = 0; i < Y.rows(); ++i) {
      bool dominated = false;
      for (int j = 0; j < Y.rows(); ++j)
        if ((Y.row(j).array() >= Y.row(i).array()).all() && (Y.row(j).array() > Y.row(i).array()).any())
          dominated = true;
      if (!dominated) expect.push_back(static_cast<std::size_t>(i));
    }
    EXPECT_EQ(tb::pareto_front(Y), expect) << "seed " << seed;
  }
}

TEST(Pareto, HypervolumeOfHandComputed2DAnd3DCases) {
  MatrixXd P(3, 2);
  P << 1, 3,  //
      2, 2,   //
      3, 1;
  // staircase above (0,0): 3*1 + 2*1 + 1*1 = 6
  EXPECT_DOUBLE_EQ(tb::hypervolume(P, VectorXd::Zero(2)), 6.0);
  // reference (1, 0): the first point is not strictly better in x and contributes nothing: 1*2 + 2*1... = 3
  EXPECT_DOUBLE_EQ(tb::hypervolume(P, (VectorXd(2) << 1, 0).finished()), 3.0);
  MatrixXd Q(2, 3);
  Q << 2, 1, 1,  //
      1, 2, 2;
  // union of boxes 2*1*1 + 1*2*2 - overlap 1*1*1 = 5
  EXPECT_DOUBLE_EQ(tb::hypervolume(Q, VectorXd::Zero(3)), 5.0);
  MatrixXd one(1, 1);
  one << 4;
  EXPECT_DOUBLE_EQ(tb::hypervolume(one, (VectorXd(1) << 1.5).finished()), 2.5);
  EXPECT_DOUBLE_EQ(tb::hypervolume(MatrixXd(0, 2), VectorXd::Zero(2)), 0.0);
}

TEST(Pareto, HypervolumeEqualsInclusionExclusionIn2DTo4D) {
  for (unsigned seed = 0; seed < 30; ++seed) {
    const int k = 2 + static_cast<int>(seed % 3);
    const MatrixXd P = random_points(9, k, 100 + seed, seed % 2 == 0);
    VectorXd r = VectorXd::Constant(k, seed % 2 == 0 ? 0.0 : 0.1);
    EXPECT_NEAR(tb::hypervolume(P, r), inclusion_exclusion(P, r), 1e-12) << "seed " << seed << " k " << k;
  }
}

TEST(Pareto, HypervolumeAgreesWithMonteCarloEstimateIn3D) {
  const MatrixXd P = random_points(30, 3, 7, false);
  const VectorXd r = VectorXd::Zero(3);
  std::mt19937_64 g(3);
  std::uniform_real_distribution<double> u(0, 1);
  const int n = 400000;
  int hit = 0;
  for (int s = 0; s < n; ++s) {
    const Eigen::RowVector3d x(u(g), u(g), u(g));
    for (int i = 0; i < P.rows(); ++i)
      if ((P.row(i).array() >= x.array()).all()) {
        ++hit;
        break;
      }
  }
  const double p = static_cast<double>(hit) / n;
  EXPECT_NEAR(tb::hypervolume(P, r), p, 5 * std::sqrt(p * (1 - p) / n));
}

TEST(Pareto, NonFiniteRowsAndShapeMismatchAreRefused) {
  MatrixXd Y(2, 2);
  Y << 1, std::nan(""), 2, 3;
  EXPECT_THROW(tb::pareto_front(Y), tsunagu::InvalidArgument);
  EXPECT_THROW(tb::hypervolume(Y, VectorXd::Zero(2)), tsunagu::InvalidArgument);
  EXPECT_THROW(tb::hypervolume(MatrixXd::Ones(2, 3), VectorXd::Zero(2)), tsunagu::InvalidArgument);
}
