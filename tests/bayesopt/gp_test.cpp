// GaussianProcess against scikit-learn (golden values from tests/bayesopt/data/gp_golden.py, scikit-learn 1.9:
// GaussianProcessRegressor with the same kernel and fixed hyperparameters), against finite differences of its
// own likelihood and predictions, and against a full refit for the incremental update.
#include "tsunagu/bayesopt/gp.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "tsunagu/core/error.hpp"

namespace {

using namespace tsunagu::bayesopt;
using nlohmann::json;

json load_golden(const std::string& name) {
  std::ifstream in(std::string(TSUNAGU_SOURCE_DIR) + "/tests/bayesopt/data/" + name);
  EXPECT_TRUE(in.good()) << name;
  return json::parse(in);
}

Eigen::MatrixXd to_matrix(const json& j) {
  Eigen::MatrixXd M(j.size(), j.at(0).size());
  for (std::size_t i = 0; i < j.size(); ++i)
    for (std::size_t k = 0; k < j[i].size(); ++k) M(i, k) = j[i][k].get<double>();
  return M;
}

Eigen::VectorXd to_vector(const json& j) {
  Eigen::VectorXd v(j.size());
  for (std::size_t i = 0; i < j.size(); ++i) v[i] = j[i].get<double>();
  return v;
}

/// Smooth test data on [0,1]^dim.
void make_data(int n, int dim, std::uint64_t seed, Eigen::MatrixXd& X, Eigen::VectorXd& y, double noise = 0.05) {
  tsunagu::core::Rng rng = tsunagu::core::make_rng(seed);
  X.resize(n, dim);
  y.resize(n);
  for (int i = 0; i < n; ++i) {
    for (int d = 0; d < dim; ++d) X(i, d) = tsunagu::core::uniform01(rng);
    double s = 0;
    for (int d = 0; d < dim; ++d) s += std::sin(3.0 * X(i, d) * (d + 1)) / (d + 1);
    y[i] = 5 + 2 * s + noise * (tsunagu::core::uniform01(rng) - 0.5);
  }
}

TEST(GaussianProcess, PosteriorAndLikelihoodEqualScikitLearnTo1e8) {
  const json golden = load_golden("gp_golden.json");
  ASSERT_EQ(golden.at("regression").size(), 7u);
  int index = 0;
  for (const json& c : golden.at("regression")) {
    SCOPED_TRACE("case " + std::to_string(index++) + " kernel " + c.at("kernel").get<std::string>());
    GpOptions o;
    o.kernel = parse_kernel(c.at("kernel"));
    o.ard = c.at("ard");
    o.normalize_x = c.at("normalize_x");
    o.standardize_y = c.at("standardize_y");
    o.optimize = false;
    GaussianProcess gp(o);
    Hyperparameters h;
    h.signal_variance = c.at("signal_variance");
    h.lengthscales = to_vector(c.at("lengthscales"));
    h.noise_variance = c.at("noise_variance");
    gp.set_hyperparameters(h);
    gp.fit(to_matrix(c.at("X")), to_vector(c.at("y")));
    EXPECT_EQ(gp.jitter(), 0.0);
    // WhiteKernel: scikit-learn's predictive variance includes the noise; alpha: it does not.
    const bool with_noise = c.at("noise_mode") == "white";
    const auto pred = gp.predict(to_matrix(c.at("Xs")), with_noise);
    const Eigen::VectorXd mean = to_vector(c.at("mean")), var = to_vector(c.at("variance"));
    for (Eigen::Index i = 0; i < mean.size(); ++i) {
      EXPECT_NEAR(pred.mean[i], mean[i], 1e-8 * std::abs(mean[i])) << i;
      EXPECT_NEAR(pred.variance[i], var[i], 1e-8 * var[i]) << i;
    }
    const double lml = c.at("lml");
    EXPECT_NEAR(gp.log_marginal_likelihood(), lml, 1e-8 * std::abs(lml));
    EXPECT_NEAR(gp.log_marginal_likelihood(gp.theta(), nullptr), lml, 1e-8 * std::abs(lml));
  }
}

struct GradCase {
  KernelType kernel;
  bool ard, learn_noise;
  Prior prior;
};

TEST(GaussianProcess, LikelihoodGradientEqualsCentralFiniteDifferences) {
  Eigen::MatrixXd X;
  Eigen::VectorXd y;
  make_data(30, 3, 11, X, y);
  for (KernelType k : {KernelType::RBF, KernelType::Matern32, KernelType::Matern52})
    for (bool ard : {true, false})
      for (bool learn : {true, false})
        for (Prior prior : {Prior::None, Prior::Gamma}) {
          SCOPED_TRACE(kernel_name(k) + (ard ? " ard" : " iso") + (learn ? " learned" : " fixed") +
                       (prior == Prior::Gamma ? " MAP" : " ML"));
          GpOptions o;
          o.kernel = k;
          o.ard = ard;
          o.learn_noise = learn;
          o.noise = 3e-3;
          o.prior = prior;
          o.optimize = false;
          GaussianProcess gp(o);
          gp.fit(X, y);
          Eigen::VectorXd theta = gp.theta();
          // move away from the defaults so every component has a sizeable gradient
          for (Eigen::Index i = 0; i < theta.size(); ++i) theta[i] += 0.3 * std::sin(1.7 * i + 0.4);
          Eigen::VectorXd g;
          const double v = gp.log_marginal_likelihood(theta, &g);
          EXPECT_NEAR(v, gp.log_marginal_likelihood(theta, nullptr), 1e-10 * std::abs(v));
          ASSERT_EQ(g.size(), theta.size());
          for (Eigen::Index i = 0; i < theta.size(); ++i) {
            const double h = 1e-5;
            Eigen::VectorXd tp = theta, tm = theta;
            tp[i] += h;
            tm[i] -= h;
            const double fd =
                (gp.log_marginal_likelihood(tp, nullptr) - gp.log_marginal_likelihood(tm, nullptr)) / (2 * h);
            EXPECT_NEAR(g[i], fd, 1e-6 * std::max(1.0, std::abs(fd))) << "theta[" << i << "]";
          }
        }
}

TEST(GaussianProcess, GradientOfLargeProblemEqualsFiniteDifferences) {
  // Several blocks of the blocked inverse (n > 96) and threads > 1.
  Eigen::MatrixXd X;
  Eigen::VectorXd y;
  make_data(300, 4, 5, X, y);
  GpOptions o;
  o.optimize = false;
  o.threads = 2;
  GaussianProcess gp(o);
  gp.fit(X, y);
  Eigen::VectorXd theta = gp.theta(), g;
  theta[0] += 0.2;
  gp.log_marginal_likelihood(theta, &g);
  for (Eigen::Index i = 0; i < theta.size(); ++i) {
    const double h = 1e-5;
    Eigen::VectorXd tp = theta, tm = theta;
    tp[i] += h;
    tm[i] -= h;
    const double fd = (gp.log_marginal_likelihood(tp, nullptr) - gp.log_marginal_likelihood(tm, nullptr)) / (2 * h);
    EXPECT_NEAR(g[i], fd, 1e-6 * std::max(1.0, std::abs(fd))) << i;
  }
}

TEST(GaussianProcess, FitReachesScikitLearnOptimumWithTheSameBounds) {
  // scikit-learn: 10 restarts, bounds s2 [1e-6, 1e6], l [1e-3, 1e3], noise [1e-9, 10], normalize_y=True.
  const json golden = load_golden("gp_golden.json");
  ASSERT_EQ(golden.at("fitted").size(), 3u);
  for (const json& c : golden.at("fitted")) {
    SCOPED_TRACE(c.at("kernel").get<std::string>());
    GpOptions o;
    o.kernel = parse_kernel(c.at("kernel"));
    o.ard = c.at("ard");
    o.normalize_x = false;
    o.standardize_y = true;
    o.restarts = 5;
    GaussianProcess gp(o);
    const Eigen::MatrixXd X = to_matrix(c.at("X"));
    const Eigen::VectorXd y = to_vector(c.at("y"));
    gp.fit(X, y);
    const double sk = c.at("sklearn_lml");
    // Our likelihood at scikit-learn's optimum is scikit-learn's value...
    EXPECT_NEAR(gp.log_marginal_likelihood(to_vector(c.at("sklearn_theta")), nullptr), sk, 1e-7 * std::abs(sk));
    // ...and the fit gets at least as high.
    EXPECT_GE(gp.log_marginal_likelihood(), sk - 1e-3);
    const Eigen::VectorXd t = gp.theta();
    EXPECT_NEAR(gp.log_marginal_likelihood(), gp.log_marginal_likelihood(t, nullptr), 1e-9);
  }
}

TEST(GaussianProcess, ResultsDoNotDependOnTheThreadCount) {
  Eigen::MatrixXd X;
  Eigen::VectorXd y;
  make_data(150, 3, 3, X, y);
  for (int restarts : {0, 2}) {  // threads inside one evaluation, then starts side by side
    GpOptions o;
    o.restarts = restarts;
    o.max_iterations = 30;
    o.threads = 1;
    GaussianProcess a(o);
    a.fit(X, y);
    o.threads = 3;
    GaussianProcess b(o);
    b.fit(X, y);
    EXPECT_EQ(a.theta(), b.theta());
    EXPECT_EQ(a.predict(X.topRows(5)).mean, b.predict(X.topRows(5)).mean);
  }
}

TEST(GaussianProcess, LargeDataFitIsAStationaryPointOfTheFullLikelihood) {
  // n = 500: the multi-start search runs on a subset and one L-BFGS run polishes on all data; the result must
  // still be a maximum of the full-data likelihood, and the same for any thread count.
  Eigen::MatrixXd X;
  Eigen::VectorXd y;
  make_data(500, 3, 17, X, y, 0.3);
  GpOptions o;
  o.threads = 1;
  GaussianProcess gp(o);
  gp.fit(X, y);
  Eigen::VectorXd g;
  const double best = gp.log_marginal_likelihood(gp.theta(), &g);
  EXPECT_LT(g.lpNorm<Eigen::Infinity>(), 0.05);
  for (Eigen::Index i = 0; i < g.size(); ++i)
    for (double step : {-0.1, 0.1}) {
      Eigen::VectorXd t = gp.theta();
      t[i] += step;
      EXPECT_LE(gp.log_marginal_likelihood(t, nullptr), best + 1e-6) << i;
    }
  o.threads = 2;
  GaussianProcess gp2(o);
  gp2.fit(X, y);
  EXPECT_EQ(gp.theta(), gp2.theta());
}

TEST(GaussianProcess, MapFitMaximisesLogPosteriorIncludingPriors) {
  Eigen::MatrixXd X;
  Eigen::VectorXd y;
  make_data(25, 2, 8, X, y);
  GpOptions o;
  o.prior = Prior::Gamma;
  GaussianProcess gp(o);
  gp.fit(X, y);
  const Eigen::VectorXd t = gp.theta();
  const double at_opt = gp.log_marginal_likelihood();
  EXPECT_NEAR(at_opt, gp.log_marginal_likelihood(t, nullptr), 1e-9 * std::abs(at_opt));
  // A local maximum: no coordinate step improves the log posterior, and the gradient is ~0.
  Eigen::VectorXd g;
  gp.log_marginal_likelihood(t, &g);
  for (Eigen::Index i = 0; i < t.size(); ++i) {
    for (double step : {-0.05, 0.05}) {
      Eigen::VectorXd tp = t;
      tp[i] += step;
      EXPECT_LE(gp.log_marginal_likelihood(tp, nullptr), at_opt + 1e-6) << i;
    }
    EXPECT_LT(std::abs(g[i]), 0.05) << i;
  }
  // The Gamma prior keeps lengthscales finite on the unit box (mean 0.5): no runaway to the 1e3 bound.
  EXPECT_LT(gp.hyperparameters().lengthscales.maxCoeff(), 20.0);
}

TEST(GaussianProcess, AddObservationEqualsRefitWithTheSameHyperparameters) {
  Eigen::MatrixXd X;
  Eigen::VectorXd y;
  make_data(40, 3, 21, X, y);
  GpOptions o;
  o.optimize = false;
  o.normalize_x = false;  // a refit would rescale; add_observation keeps the scaling by contract
  o.standardize_y = false;
  o.kernel = KernelType::Matern32;
  Hyperparameters h;
  h.signal_variance = 2.0;
  h.lengthscales = Eigen::Vector3d(0.3, 0.5, 0.8);
  h.noise_variance = 1e-3;
  GaussianProcess inc(o), full(o);
  inc.set_hyperparameters(h);
  full.set_hyperparameters(h);
  inc.fit(X.topRows(30), y.head(30));
  for (int i = 30; i < 40; ++i) inc.add_observation(X.row(i).transpose(), y[i]);
  full.fit(X, y);
  ASSERT_EQ(inc.n(), 40u);
  Eigen::MatrixXd Xs;
  Eigen::VectorXd ys;
  make_data(25, 3, 99, Xs, ys);
  const auto a = inc.predict(Xs), b = full.predict(Xs);
  for (Eigen::Index i = 0; i < Xs.rows(); ++i) {
    EXPECT_NEAR(a.mean[i], b.mean[i], 1e-10 * std::max(1.0, std::abs(b.mean[i])));
    EXPECT_NEAR(a.variance[i], b.variance[i], 1e-10 * std::max(1e-3, b.variance[i]));
  }
  EXPECT_NEAR(inc.log_marginal_likelihood(), full.log_marginal_likelihood(), 1e-9);
}

TEST(GaussianProcess, PredictWithGradientEqualsPredictAndFiniteDifferences) {
  Eigen::MatrixXd X;
  Eigen::VectorXd y;
  make_data(30, 3, 4, X, y);
  X.col(1) = 10 * X.col(1).array() - 3;  // original units differ from model units
  for (KernelType k : {KernelType::RBF, KernelType::Matern32, KernelType::Matern52}) {
    SCOPED_TRACE(kernel_name(k));
    GpOptions o;
    o.kernel = k;
    o.optimize = false;
    GaussianProcess gp(o);
    Hyperparameters h;
    h.signal_variance = 1.3;
    h.lengthscales = Eigen::Vector3d(0.3, 0.4, 0.6);
    h.noise_variance = 1e-3;
    gp.set_hyperparameters(h);
    gp.fit(X, y);
    const Eigen::Vector3d x(0.37, 1.9, 0.61);
    double m = 0, v = 0;
    Eigen::VectorXd dm, dv;
    gp.predict_with_gradient(x, m, v, dm, dv);
    const auto p = gp.predict(x.transpose());
    EXPECT_NEAR(m, p.mean[0], 1e-10 * std::abs(m));
    EXPECT_NEAR(v, p.variance[0], 1e-10 * v);
    for (int d = 0; d < 3; ++d) {
      const double hstep = 1e-6;
      Eigen::Vector3d xp = x, xm = x;
      xp[d] += hstep;
      xm[d] -= hstep;
      const auto pp = gp.predict(xp.transpose()), pm = gp.predict(xm.transpose());
      EXPECT_NEAR(dm[d], (pp.mean[0] - pm.mean[0]) / (2 * hstep), 1e-5 * std::max(1.0, std::abs(dm[d]))) << d;
      EXPECT_NEAR(dv[d], (pp.variance[0] - pm.variance[0]) / (2 * hstep), 1e-5 * std::max(1e-2, std::abs(dv[d])))
          << d;
    }
  }
}

TEST(GaussianProcess, CovarianceDiagonalIsPredictiveVarianceAndSamplesFollowIt) {
  Eigen::MatrixXd X;
  Eigen::VectorXd y;
  make_data(20, 2, 6, X, y);
  GpOptions o;
  o.optimize = false;
  GaussianProcess gp(o);
  gp.fit(X, y);
  Eigen::MatrixXd Xs(3, 2);
  Xs << 0.1, 0.2, 0.15, 0.22, 0.9, 0.5;
  const auto p = gp.predict(Xs);
  const Eigen::MatrixXd C = gp.predict_covariance(Xs);
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(C(i, i), p.variance[i], 1e-10 * std::max(1e-6, p.variance[i]));
  tsunagu::core::Rng rng = tsunagu::core::make_rng(1);
  const int N = 20000;
  const Eigen::MatrixXd S = gp.sample_posterior(Xs, N, rng);
  ASSERT_EQ(S.rows(), 3);
  ASSERT_EQ(S.cols(), N);
  const Eigen::VectorXd mean = S.rowwise().mean();
  const Eigen::MatrixXd centred = S.colwise() - mean;
  const Eigen::MatrixXd cov = centred * centred.transpose() / (N - 1);
  for (int i = 0; i < 3; ++i) {
    EXPECT_NEAR(mean[i], p.mean[i], 5 * std::sqrt(p.variance[i] / N));
    for (int j = 0; j < 3; ++j)
      EXPECT_NEAR(cov(i, j), C(i, j), 0.05 * std::sqrt(C(i, i) * C(j, j)) + 1e-12) << i << "," << j;
  }
}

TEST(GaussianProcess, DuplicateInputsWithoutNoiseGetJitterInsteadOfFailing) {
  Eigen::MatrixXd X(4, 1);
  X << 0.1, 0.5, 0.5, 0.9;
  Eigen::VectorXd y(4);
  y << 1, 2, 2, 0;
  GpOptions o;
  o.optimize = false;
  o.learn_noise = false;
  o.noise = 1e-300;
  o.standardize_y = false;
  GaussianProcess gp(o);
  gp.fit(X, y);
  EXPECT_GT(gp.jitter(), 0.0);
  const auto p = gp.predict(X);
  EXPECT_NEAR(p.mean[1], 2.0, 1e-3);
  EXPECT_TRUE(p.variance.allFinite());
}

TEST(GaussianProcess, ConstantTargetsAndSinglePointFitWithoutError) {
  Eigen::MatrixXd X(1, 2);
  X << 0.3, 0.4;
  Eigen::VectorXd y(1);
  y << 7.0;
  GaussianProcess gp;
  gp.fit(X, y);
  const auto p = gp.predict(X);
  EXPECT_NEAR(p.mean[0], 7.0, 1e-9);
  Eigen::MatrixXd X2(3, 2);
  X2 << 0, 0, 1, 1, 0.5, 0.2;
  gp.fit(X2, Eigen::VectorXd::Constant(3, 4.0));
  EXPECT_NEAR(gp.predict(X2).mean[2], 4.0, 1e-9);
}

TEST(GaussianProcess, BadInputThrowsInvalidArgumentNamingTheField) {
  EXPECT_EQ(parse_kernel("matern32"), KernelType::Matern32);
  EXPECT_EQ(kernel_name(parse_kernel("rbf")), "rbf");
  EXPECT_THROW(parse_kernel("laplace"), tsunagu::InvalidArgument);
  GpOptions o;
  o.restarts = -1;
  EXPECT_THROW(GaussianProcess{o}, tsunagu::InvalidArgument);
  o = GpOptions{};
  o.noise_max = o.noise_min;
  try {
    o.validate();
    FAIL();
  } catch (const tsunagu::InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("noise_max"), std::string::npos);
  }
  GaussianProcess gp;
  EXPECT_THROW(gp.predict(Eigen::MatrixXd::Zero(1, 2)), tsunagu::InvalidArgument);
  Eigen::MatrixXd X = Eigen::MatrixXd::Random(5, 2);
  X(3, 1) = std::nan("");
  try {
    gp.fit(X, Eigen::VectorXd::Zero(5));
    FAIL();
  } catch (const tsunagu::InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("row 3"), std::string::npos) << e.what();
  }
  X(3, 1) = 0;
  EXPECT_THROW(gp.fit(X, Eigen::VectorXd::Zero(4)), tsunagu::InvalidArgument);
  gp.fit(X, Eigen::VectorXd::LinSpaced(5, 0, 1));
  EXPECT_THROW(gp.predict(Eigen::MatrixXd::Zero(1, 3)), tsunagu::InvalidArgument);
  EXPECT_THROW(gp.log_marginal_likelihood(Eigen::VectorXd::Zero(2), nullptr), tsunagu::InvalidArgument);
  Hyperparameters h;
  h.lengthscales = Eigen::VectorXd::Constant(2, -1.0);
  EXPECT_THROW(gp.set_hyperparameters(h), tsunagu::InvalidArgument);
}

}  // namespace
