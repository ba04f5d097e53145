// k-nearest-neighbour regression (src/nn/knn.cpp).
#include "tsunagu/nn/knn.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "tsunagu/core/error.hpp"

using namespace tsunagu;
using namespace tsunagu::nn;

namespace {

// Straightforward reference: standardise (population sd, constant columns dropped), clamp, sort all distances.
Eigen::MatrixXd brute_force_knn(const Eigen::MatrixXd& X, const Eigen::MatrixXd& Y, const Eigen::MatrixXd& Q, int k) {
  const Eigen::RowVectorXd mean = X.colwise().mean();
  const Eigen::RowVectorXd sd = ((X.rowwise() - mean).array().square().colwise().sum() / double(X.rows())).sqrt();
  Eigen::MatrixXd out(Q.rows(), Y.cols());
  for (Eigen::Index q = 0; q < Q.rows(); ++q) {
    std::vector<std::pair<double, Eigen::Index>> d;
    for (Eigen::Index t = 0; t < X.rows(); ++t) {
      double s = 0;
      for (Eigen::Index j = 0; j < X.cols(); ++j) {
        // queries are clamped to the training range of each column before the distance
        const double qj = std::clamp(Q(q, j), X.col(j).minCoeff(), X.col(j).maxCoeff());
        if (sd(j) > 1e-9) s += std::pow((X(t, j) - qj) / sd(j), 2);
      }
      d.emplace_back(s, t);
    }
    std::sort(d.begin(), d.end());
    out.row(q).setZero();
    for (int m = 0; m < k; ++m) out.row(q) += Y.row(d[static_cast<std::size_t>(m)].second) / double(k);
  }
  return out;
}

}  // namespace

TEST(KnnRegressor, matches_brute_force_and_reproduces_training_spectra) {
  std::mt19937_64 rng(5);
  std::normal_distribution<double> g;
  Eigen::MatrixXd X(40, 6), Y(40, 12), Q(15, 6);
  for (Eigen::Index i = 0; i < X.size(); ++i) X.data()[i] = g(rng);
  for (Eigen::Index i = 0; i < Y.size(); ++i) Y.data()[i] = g(rng);
  for (Eigen::Index i = 0; i < Q.size(); ++i) Q.data()[i] = g(rng);
  X.col(1) *= 100.0;  // scales differ: standardisation matters
  Q.col(1) *= 100.0;
  X.col(4).setConstant(3.0);  // constant column: dropped
  Q.col(4).setConstant(-7.0);
  for (int k : {1, 3, 5}) {
    const KnnRegressor knn(X, Y, k);
    EXPECT_EQ(knn.k(), k);
    const Eigen::MatrixXd P = knn.predict(Q);
    EXPECT_LT((P - brute_force_knn(X, Y, Q, k)).cwiseAbs().maxCoeff(), 1e-12) << k;
  }
  // the constant column's value in the query does not matter
  const KnnRegressor knn1(X, Y, 1);
  Eigen::MatrixXd Q2 = Q;
  Q2.col(4).setConstant(3.0);
  EXPECT_EQ(knn1.predict(Q), knn1.predict(Q2));
  // k = 1 on the training set gives the training spectra exactly
  EXPECT_EQ(knn1.predict(X), Y);
  EXPECT_EQ(knn1.X_train(), X);
  EXPECT_EQ(knn1.Y_train(), Y);
  // k clipped to the training size: every prediction is the mean target row
  const KnnRegressor all(X, Y, 1000);
  EXPECT_EQ(all.k(), 40);
  EXPECT_LT((all.predict(Q) - Y.colwise().mean().replicate(15, 1)).cwiseAbs().maxCoeff(), 1e-12);
}

TEST(KnnRegressor, ties_go_to_the_lower_index_and_bad_input_is_refused) {
  Eigen::MatrixXd X(3, 2), Y(3, 1);
  X << 1, 2, 1, 2, 5, 0;
  Y << 10, 20, 30;
  const KnnRegressor knn(X, Y, 1);
  EXPECT_EQ(knn.predict(X.row(1))(0, 0), 10.0);
  EXPECT_THROW(KnnRegressor(X, Y.topRows(2), 1), InvalidArgument);
  EXPECT_THROW(KnnRegressor(X, Y, 0), InvalidArgument);
  EXPECT_THROW(knn.predict(Eigen::MatrixXd(1, 3)), InvalidArgument);
  EXPECT_THROW(KnnRegressor().predict(X), InvalidArgument);
}
