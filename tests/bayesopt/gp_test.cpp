// GaussianProcess against scikit-learn (golden values from tests/bayesopt/data/gp_golden.py, scikit-learn 1.9:
// GaussianProcessRegressor with the same kernel and fixed hyperparameters), against finite differences of its
// own likelihood and predictions, against a full refit for the incremental update, and (input warping) against a
// plain GP on inputs warped by hand.
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

/// The analytic gradient of the log marginal likelihood at theta against central differences (step 1e-5).
void expect_gradient_matches_central_differences(const GaussianProcess& gp, const Eigen::VectorXd& theta) {
  Eigen::VectorXd g;
  const double v = gp.log_marginal_likelihood(theta, &g);
  EXPECT_NEAR(v, gp.log_marginal_likelihood(theta, nullptr), 1e-10 * std::abs(v));
  ASSERT_EQ(g.size(), theta.size());
  for (Eigen::Index i = 0; i < theta.size(); ++i) {
    const double h = 1e-5;
    Eigen::VectorXd tp = theta, tm = theta;
    tp[i] += h;
    tm[i] -= h;
    const double fd = (gp.log_marginal_likelihood(tp, nullptr) - gp.log_marginal_likelihood(tm, nullptr)) / (2 * h);
    EXPECT_NEAR(g[i], fd, 1e-6 * std::max(1.0, std::abs(fd))) << "theta[" << i << "]";
  }
}

/// predict_with_gradient at x: mean and variance equal predict's, gradients equal central differences (step 1e-6).
void expect_prediction_gradient_matches_predict(const GaussianProcess& gp, const Eigen::VectorXd& x) {
  double m = 0, v = 0;
  Eigen::VectorXd dm, dv;
  gp.predict_with_gradient(x, m, v, dm, dv);
  const auto p = gp.predict(x.transpose());
  EXPECT_NEAR(m, p.mean[0], 1e-10 * std::abs(m));
  EXPECT_NEAR(v, p.variance[0], 1e-10 * v);
  for (Eigen::Index d = 0; d < x.size(); ++d) {
    const double step = 1e-6;
    Eigen::VectorXd xp = x, xm = x;
    xp[d] += step;
    xm[d] -= step;
    const auto pp = gp.predict(xp.transpose()), pm = gp.predict(xm.transpose());
    EXPECT_NEAR(dm[d], (pp.mean[0] - pm.mean[0]) / (2 * step), 1e-5 * std::max(1.0, std::abs(dm[d]))) << d;
    EXPECT_NEAR(dv[d], (pp.variance[0] - pm.variance[0]) / (2 * step), 1e-5 * std::max(1e-2, std::abs(dv[d]))) << d;
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
        for (Prior prior : {Prior::None, Prior::Gamma, Prior::DimScaled})
          for (bool warp : {false, true}) {
            SCOPED_TRACE(kernel_name(k) + (ard ? " ard" : " iso") + (learn ? " learned" : " fixed") + " prior " +
                         prior_name(prior) + (warp ? " warped" : ""));
            GpOptions o;
            o.kernel = k;
            o.ard = ard;
            o.learn_noise = learn;
            o.noise = 3e-3;
            o.prior = prior;
            o.warp_inputs = warp;  // normalize_x puts training points on the clamp edges x = 0 and x = 1
            o.optimize = false;
            GaussianProcess gp(o);
            gp.fit(X, y);
            Eigen::VectorXd theta = gp.theta();
            ASSERT_EQ(theta.size(), 1 + (ard ? 3 : 1) + (learn ? 1 : 0) + (warp ? 6 : 0));
            // move away from the defaults so every component has a sizeable gradient
            for (Eigen::Index i = 0; i < theta.size(); ++i) theta[i] += 0.3 * std::sin(1.7 * i + 0.4);
            expect_gradient_matches_central_differences(gp, theta);
          }
}

TEST(GaussianProcess, GradientOfLargeProblemEqualsFiniteDifferences) {
  // Several blocks of the blocked inverse (n > 96) and threads > 1; with and without warp parameters far from the
  // identity.
  Eigen::MatrixXd X;
  Eigen::VectorXd y;
  make_data(300, 4, 5, X, y);
  for (bool warp : {false, true}) {
    SCOPED_TRACE(warp ? "warped" : "plain");
    GpOptions o;
    o.optimize = false;
    o.threads = 2;
    o.warp_inputs = warp;
    GaussianProcess gp(o);
    gp.fit(X, y);
    Eigen::VectorXd theta = gp.theta();
    theta[0] += 0.2;
    theta[5] = std::log(1e-3);  // noise: the 1e-6 start makes warped K ill-conditioned, differences inaccurate
    for (Eigen::Index i = 6; i < theta.size(); ++i) theta[i] = (i % 2 ? 0.6 : -0.7);
    expect_gradient_matches_central_differences(gp, theta);
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
  for (Prior prior : {Prior::Gamma, Prior::DimScaled}) {
    SCOPED_TRACE(prior_name(prior));
    Eigen::MatrixXd X;
    Eigen::VectorXd y;
    make_data(25, 2, 8, X, y);
    GpOptions o;
    o.prior = prior;
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
    // Both priors keep lengthscales finite on the unit box (Gamma: mean 0.5; dimscaled: median 5.8 at dim 2): no
    // runaway to the 1e3 bound.
    EXPECT_LT(gp.hyperparameters().lengthscales.maxCoeff(), 100.0);
  }
}

TEST(GaussianProcess, DimScaledPriorAddsTheLogNormalDensitiesOfScipy) {
  // Golden: scipy 1.17.1, sum(lognorm(s=sqrt(3), scale=exp(sqrt(2) + log(3)/2)).logpdf(l) for l in (0.2, 0.7, 3))
  // + lognorm(s=1, scale=exp(-4)).logpdf(2e-3) = -3.8433741156332255; without the noise term (fixed noise)
  // -6.686799166052166.
  Eigen::MatrixXd X;
  Eigen::VectorXd y;
  make_data(20, 3, 31, X, y);
  Hyperparameters h;
  h.signal_variance = 1.7;
  h.lengthscales = Eigen::Vector3d(0.2, 0.7, 3.0);
  h.noise_variance = 2e-3;
  for (bool learn : {true, false}) {
    SCOPED_TRACE(learn ? "learned noise" : "fixed noise");
    GpOptions o;
    o.optimize = false;
    o.learn_noise = learn;
    o.noise = 2e-3;
    GaussianProcess plain(o);
    o.prior = Prior::DimScaled;
    GaussianProcess map(o);
    plain.set_hyperparameters(h);
    map.set_hyperparameters(h);
    plain.fit(X, y);
    map.fit(X, y);
    const double expected = learn ? -3.8433741156332255 : -6.686799166052166;
    EXPECT_NEAR(map.log_marginal_likelihood() - plain.log_marginal_likelihood(), expected, 1e-10);
    EXPECT_NEAR(map.log_marginal_likelihood(map.theta(), nullptr) - plain.log_marginal_likelihood(), expected, 1e-10);
  }
}

TEST(GaussianProcess, FittedLengthscalesRespectTheLowerBound) {
  // Rough data (lengthscale 0.1 of the box) would pull the fit below 0.4: the bound holds it there.
  tsunagu::core::Rng rng = tsunagu::core::make_rng(5);
  Eigen::MatrixXd X(40, 2);
  Eigen::VectorXd y(40);
  for (Eigen::Index i = 0; i < 40; ++i) {
    X(i, 0) = tsunagu::core::uniform01(rng);
    X(i, 1) = tsunagu::core::uniform01(rng);
    y[i] = std::sin(60 * X(i, 0)) + 0.1 * X(i, 1);
  }
  GpOptions o;
  GaussianProcess free_fit(o);
  free_fit.fit(X, y);
  EXPECT_LT(free_fit.hyperparameters().lengthscales[0], 0.4);
  o.lengthscale_min = 0.4;
  GaussianProcess bounded(o);
  bounded.fit(X, y);
  EXPECT_GE(bounded.hyperparameters().lengthscales.minCoeff(), 0.4 * (1 - 1e-12));
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
    expect_prediction_gradient_matches_predict(gp, Eigen::Vector3d(0.37, 1.9, 0.61));
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

// ---- input warping (Kumaraswamy CDF, Snoek et al. 2014) ----

/// The header's warp written out independently: clamp to [0, 1], map to [eps, 1 - eps], 1 - (1 - x^a)^b.
double kumaraswamy_reference(double x, double a, double b) {
  const double eps = 1e-7;
  const double xe = eps + (1 - 2 * eps) * std::min(1.0, std::max(0.0, x));
  return 1 - std::pow(1 - std::pow(xe, a), b);
}

/// log N(log p; 0, 0.75) summed over the warp parameters (the prior the header documents).
double warp_prior_reference(const Eigen::VectorXd& a, const Eigen::VectorXd& b) {
  double v = 0;
  for (const auto* w : {&a, &b})
    for (Eigen::Index i = 0; i < w->size(); ++i) {
      const double l = std::log((*w)[i]);
      v += -0.5 * l * l / 0.75 - 0.5 * std::log(2 * M_PI * 0.75);
    }
  return v;
}

TEST(GaussianProcessWarp, WarpedGpEqualsPlainGpOnKumaraswamyTransformedInputs) {
  Eigen::MatrixXd X;
  Eigen::VectorXd y;
  make_data(25, 2, 31, X, y);
  X.col(1) = 4 * X.col(1).array() + 1;  // normalize_x maps it to [0, 1] before the warp
  Hyperparameters h;
  h.signal_variance = 1.4;
  h.lengthscales = Eigen::Vector2d(0.35, 0.6);
  h.noise_variance = 2e-3;
  h.warp_a = Eigen::Vector2d(0.3, 2.5);
  h.warp_b = Eigen::Vector2d(1.7, 0.6);
  GpOptions o;
  o.kernel = KernelType::Matern52;
  o.optimize = false;
  o.warp_inputs = true;
  GaussianProcess warped(o);
  warped.set_hyperparameters(h);
  warped.fit(X, y);
  // The same model built by hand: normalise with the training min/max, warp, plain GP on the unit box.
  const Eigen::RowVectorXd lo = X.colwise().minCoeff(), span = X.colwise().maxCoeff() - lo;
  auto by_hand = [&](const Eigen::MatrixXd& A) {
    Eigen::MatrixXd W(A.rows(), A.cols());
    for (Eigen::Index i = 0; i < A.rows(); ++i)
      for (Eigen::Index d = 0; d < A.cols(); ++d)
        W(i, d) = kumaraswamy_reference((A(i, d) - lo[d]) / span[d], h.warp_a[d], h.warp_b[d]);
    return W;
  };
  GpOptions po = o;
  po.warp_inputs = false;
  po.normalize_x = false;
  GaussianProcess plain(po);
  Hyperparameters hp = h;
  hp.warp_a.resize(0);
  hp.warp_b.resize(0);
  plain.set_hyperparameters(hp);
  plain.fit(by_hand(X), y);
  Eigen::MatrixXd Xs(5, 2);
  Xs << 0.5, 2.0, 0.01, 4.9, 0.99, 1.2, 0.2, 3.3, 1.2, 0.5;  // the last row lies outside: clamped to the box
  const auto a = warped.predict(Xs), b = plain.predict(by_hand(Xs));
  for (Eigen::Index i = 0; i < Xs.rows(); ++i) {
    EXPECT_NEAR(a.mean[i], b.mean[i], 1e-10 * std::abs(b.mean[i])) << i;
    EXPECT_NEAR(a.variance[i], b.variance[i], 1e-10 * b.variance[i]) << i;
  }
  // The log posterior is the plain marginal likelihood plus the documented prior on log a and log b.
  const double expected = plain.log_marginal_likelihood() + warp_prior_reference(h.warp_a, h.warp_b);
  EXPECT_NEAR(warped.log_marginal_likelihood(), expected, 1e-10 * std::abs(expected));
  EXPECT_NEAR(warped.log_marginal_likelihood(warped.theta(), nullptr), expected, 1e-10 * std::abs(expected));
  // Gradients with respect to the original inputs go through the warp (inside the box).
  expect_prediction_gradient_matches_predict(warped, Eigen::Vector2d(0.4, 2.2));
  // Incremental update with the warp equals a refit with the same hyperparameters and scaling.
  GpOptions io = o;
  io.normalize_x = false;  // add_observation keeps the scaling of the first fit by contract; a refit would not
  io.standardize_y = false;
  GaussianProcess inc(io), full(io);
  inc.set_hyperparameters(h);
  full.set_hyperparameters(h);
  const Eigen::MatrixXd U = ((X.rowwise() - lo).array().rowwise() / span.array()).matrix();
  inc.fit(U.topRows(20), y.head(20));
  for (int i = 20; i < 25; ++i) inc.add_observation(U.row(i).transpose(), y[i]);
  full.fit(U, y);
  const auto ia = inc.predict(U), fa = full.predict(U);
  for (Eigen::Index i = 0; i < U.rows(); ++i) EXPECT_NEAR(ia.mean[i], fa.mean[i], 1e-9 * std::abs(fa.mean[i])) << i;
}

TEST(GaussianProcessWarp, LearnedWarpStretchesACrowdedColumnAndIsAStationaryPoint) {
  // y varies only through x0^0.25: on the raw column all the structure sits near 0, so the evidence favours a warp
  // with a < 1 (stretching the low end); the second column is irrelevant noise.
  tsunagu::core::Rng rng = tsunagu::core::make_rng(5);
  const int n = 40;
  Eigen::MatrixXd X(n, 2);
  Eigen::VectorXd y(n);
  for (int i = 0; i < n; ++i) {
    X(i, 0) = tsunagu::core::uniform01(rng);
    X(i, 1) = tsunagu::core::uniform01(rng);
    y[i] = std::sin(6.0 * std::pow(X(i, 0), 0.25)) + 0.01 * (tsunagu::core::uniform01(rng) - 0.5);
  }
  GpOptions o;
  o.normalize_x = false;
  o.seed = 3;
  GaussianProcess plain(o);
  plain.fit(X, y);
  o.warp_inputs = true;
  GaussianProcess warped(o);
  warped.fit(X, y);
  const auto& hw = warped.hyperparameters();
  ASSERT_EQ(hw.warp_a.size(), 2);
  EXPECT_LT(hw.warp_a[0], 0.6);
  // The warped model explains the data better even after paying for its prior.
  EXPECT_GT(warped.log_marginal_likelihood(), plain.log_marginal_likelihood() + 5);
  // Optimality: the gradient vanishes at the fitted theta in every coordinate not held by a bound.
  Eigen::VectorXd g;
  const Eigen::VectorXd t = warped.theta();
  warped.log_marginal_likelihood(t, &g);
  const double lo_l = std::log(o.lengthscale_min) + 1e-6, hi_l = std::log(o.lengthscale_max) - 1e-6;
  for (Eigen::Index i = 0; i < t.size(); ++i) {
    const bool at_bound = (i >= 1 && i <= 2 && (t[i] < lo_l || t[i] > hi_l)) ||
                          (i >= 4 && (t[i] < std::log(o.warp_min) + 1e-6 || t[i] > std::log(o.warp_max) - 1e-6));
    if (!at_bound) {
      EXPECT_LT(std::abs(g[i]), 0.05) << "theta[" << i << "] = " << t[i];
    }
  }
}

TEST(GaussianProcessWarp, BadWarpInputThrowsInvalidArgumentNamingTheField) {
  GpOptions o;
  o.warp_min = 1.5;
  try {
    o.validate();
    FAIL();
  } catch (const tsunagu::InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("warp_min"), std::string::npos);
  }
  o = GpOptions{};
  o.warp_max = 0.9;
  EXPECT_THROW(o.validate(), tsunagu::InvalidArgument);
  Hyperparameters h;
  h.lengthscales = Eigen::VectorXd::Constant(2, 0.5);
  h.warp_a = Eigen::VectorXd::Ones(2);
  h.warp_b = Eigen::VectorXd::Ones(2);
  GaussianProcess unwarped;  // warp_inputs = false
  try {
    unwarped.set_hyperparameters(h);
    FAIL();
  } catch (const tsunagu::InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("warp_inputs"), std::string::npos) << e.what();
  }
  o = GpOptions{};
  o.warp_inputs = true;
  GaussianProcess gp(o);
  h.warp_b = Eigen::VectorXd::Ones(3);
  EXPECT_THROW(gp.set_hyperparameters(h), tsunagu::InvalidArgument);
  h.warp_b = Eigen::Vector2d(1.0, -0.5);
  try {
    gp.set_hyperparameters(h);
    FAIL();
  } catch (const tsunagu::InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("warp_b: entry 1"), std::string::npos) << e.what();
  }
  // Warp parameters for 3 inputs are refused when the data have 2, at fit time (not silently reset to identity).
  GaussianProcess early(o);
  h.warp_a = h.warp_b = Eigen::VectorXd::Ones(3);
  h.lengthscales = Eigen::VectorXd::Constant(1, 0.5);
  early.set_hyperparameters(h);
  try {
    early.fit(Eigen::MatrixXd::Random(6, 2), Eigen::VectorXd::LinSpaced(6, 0, 1));
    FAIL();
  } catch (const tsunagu::InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("warp_a: expected 2"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(early.fitted());  // refused before anything was stored
  h.lengthscales = Eigen::VectorXd::Constant(2, 0.5);
  h.warp_a = h.warp_b = Eigen::VectorXd::Ones(2);
  gp.set_hyperparameters(h);
  gp.fit(Eigen::MatrixXd::Random(6, 2), Eigen::VectorXd::LinSpaced(6, 0, 1));
  // A refit on data of another dimension starts afresh, as for the lengthscales.
  GpOptions iso = o;
  iso.ard = false;
  GaussianProcess refit(iso);
  refit.fit(Eigen::MatrixXd::Random(6, 2), Eigen::VectorXd::LinSpaced(6, 0, 1));
  refit.fit(Eigen::MatrixXd::Random(6, 3), Eigen::VectorXd::LinSpaced(6, 0, 1));
  EXPECT_EQ(refit.hyperparameters().warp_a.size(), 3);
  h.warp_a = Eigen::VectorXd::Ones(3);
  h.warp_b = Eigen::VectorXd::Ones(3);
  EXPECT_THROW(gp.set_hyperparameters(h), tsunagu::InvalidArgument);
  EXPECT_THROW(gp.log_marginal_likelihood(Eigen::VectorXd::Zero(4), nullptr), tsunagu::InvalidArgument);
}

}  // namespace
