// RandomFeatures: the feature inner products approximate the GP kernel (Monte Carlo error ~ 1/sqrt(D)), the
// Bayesian linear model on them reproduces the GP posterior mean for many features, and weight draws scatter
// around the posterior-mean weights.
#include <gtest/gtest.h>

#include <cmath>

#include "tsunagu/bayesopt/gp.hpp"
#include "tsunagu/core/error.hpp"

namespace {

using namespace tsunagu::bayesopt;

void make_data(int n, int dim, std::uint64_t seed, Eigen::MatrixXd& X, Eigen::VectorXd& y) {
  tsunagu::core::Rng rng = tsunagu::core::make_rng(seed);
  X.resize(n, dim);
  y.resize(n);
  for (int i = 0; i < n; ++i) {
    for (int d = 0; d < dim; ++d) X(i, d) = 4 * tsunagu::core::uniform01(rng) - 1;  // original units [-1, 3]
    y[i] = 100 + 5 * std::sin(2 * X(i, 0)) + 3 * X(i, dim - 1);
  }
}

GaussianProcess fitted_gp(KernelType k, const Eigen::MatrixXd& X, const Eigen::VectorXd& y) {
  GpOptions o;
  o.kernel = k;
  o.optimize = false;
  GaussianProcess gp(o);
  Hyperparameters h;
  h.signal_variance = 1.5;
  h.lengthscales = Eigen::Vector2d(0.25, 0.4);
  h.noise_variance = 1e-2;
  gp.set_hyperparameters(h);
  gp.fit(X, y);
  return gp;
}

TEST(RandomFeatures, FeatureInnerProductsApproximateTheKernelBetterWithMoreFeatures) {
  Eigen::MatrixXd X;
  Eigen::VectorXd y;
  make_data(30, 2, 1, X, y);
  for (KernelType k : {KernelType::RBF, KernelType::Matern32, KernelType::Matern52}) {
    SCOPED_TRACE(kernel_name(k));
    const GaussianProcess gp = fitted_gp(k, X, y);
    const Eigen::MatrixXd Kexact = gp.kernel(gp.train_x(), gp.train_x());
    double err[2];
    int idx = 0;
    for (int D : {100, 1600}) {
      tsunagu::core::Rng rng = tsunagu::core::make_rng(7);
      RandomFeatures rf(gp, D, rng);
      const Eigen::MatrixXd Phi = rf.features(X);
      ASSERT_EQ(Phi.cols(), D);
      err[idx++] = (Phi * Phi.transpose() - Kexact).cwiseAbs().mean();
    }
    // sd of the estimate ~ s2 / sqrt(D): 16x the features, ~4x smaller error
    EXPECT_LT(err[1], err[0] / 2.5);
    EXPECT_LT(err[1], 0.03 * 1.5);
  }
}

TEST(RandomFeatures, PosteriorMeanWeightsReproduceTheGpMeanInOriginalUnits) {
  Eigen::MatrixXd X;
  Eigen::VectorXd y;
  make_data(25, 2, 2, X, y);
  const GaussianProcess gp = fitted_gp(KernelType::Matern52, X, y);
  tsunagu::core::Rng rng = tsunagu::core::make_rng(3);
  RandomFeatures rf(gp, 2500, rng);
  Eigen::MatrixXd Xs;
  Eigen::VectorXd ys;
  make_data(40, 2, 9, Xs, ys);
  const Eigen::VectorXd exact = gp.predict(Xs).mean;
  const Eigen::VectorXd approx = rf.evaluate(Xs, rf.mean_weights());
  const double spread = y.maxCoeff() - y.minCoeff();
  // y is around 100: without the conversion to original units the error would be ~100.
  EXPECT_LT((approx - exact).cwiseAbs().maxCoeff(), 0.05 * spread);
  EXPECT_LT((approx - exact).cwiseAbs().mean(), 0.015 * spread);
}

TEST(RandomFeatures, MeanOfWeightDrawsConvergesToThePosteriorMean) {
  Eigen::MatrixXd X;
  Eigen::VectorXd y;
  make_data(20, 2, 4, X, y);
  const GaussianProcess gp = fitted_gp(KernelType::RBF, X, y);
  tsunagu::core::Rng rng = tsunagu::core::make_rng(5);
  RandomFeatures rf(gp, 300, rng);
  const int N = 4000;
  Eigen::MatrixXd Xs;
  Eigen::VectorXd ys;
  make_data(10, 2, 6, Xs, ys);
  Eigen::VectorXd sum = Eigen::VectorXd::Zero(Xs.rows()), sumsq = Eigen::VectorXd::Zero(Xs.rows());
  for (int s = 0; s < N; ++s) {
    const Eigen::VectorXd f = rf.evaluate(Xs, rf.sample_weights(rng));
    sum += f;
    sumsq += f.cwiseProduct(f);
  }
  const Eigen::VectorXd mean = sum / N;
  const Eigen::VectorXd var = sumsq / N - mean.cwiseProduct(mean);
  const Eigen::VectorXd expected = rf.evaluate(Xs, rf.mean_weights());
  const Eigen::VectorXd gp_var = gp.predict(Xs).variance;
  for (Eigen::Index i = 0; i < Xs.rows(); ++i) {
    EXPECT_NEAR(mean[i], expected[i], 5 * std::sqrt(var[i] / N) + 1e-9) << i;
    // the draws' spread is the (approximate) GP posterior spread
    EXPECT_NEAR(std::sqrt(var[i]), std::sqrt(gp_var[i]), 0.35 * std::sqrt(gp_var[i]) + 0.05) << i;
  }
}

TEST(RandomFeatures, BadArgumentsThrowInvalidArgument) {
  GaussianProcess unfitted;
  tsunagu::core::Rng rng = tsunagu::core::make_rng(1);
  EXPECT_THROW(RandomFeatures(unfitted, 10, rng), tsunagu::InvalidArgument);
  Eigen::MatrixXd X;
  Eigen::VectorXd y;
  make_data(10, 2, 1, X, y);
  const GaussianProcess gp = fitted_gp(KernelType::RBF, X, y);
  EXPECT_THROW(RandomFeatures(gp, 0, rng), tsunagu::InvalidArgument);
  RandomFeatures rf(gp, 16, rng);
  EXPECT_THROW(rf.evaluate(X, Eigen::VectorXd::Zero(15)), tsunagu::InvalidArgument);
  EXPECT_THROW(rf.features(Eigen::MatrixXd::Zero(2, 3)), tsunagu::InvalidArgument);
}

}  // namespace
