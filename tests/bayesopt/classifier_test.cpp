// GpClassifier against scikit-learn's GaussianProcessClassifier (golden values from
// tests/bayesopt/data/gp_golden.py, scikit-learn 1.9): probabilities and Laplace marginal likelihood with the same
// fixed kernel, and the fitted likelihood against scikit-learn's optimum with 10 restarts and the same bounds.
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

json load_golden() {
  std::ifstream in(std::string(TSUNAGU_SOURCE_DIR) + "/tests/bayesopt/data/classifier_golden.json");
  EXPECT_TRUE(in.good());
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

Eigen::VectorXi to_labels(const json& j) {
  Eigen::VectorXi v(j.size());
  for (std::size_t i = 0; i < j.size(); ++i) v[i] = j[i].get<int>();
  return v;
}

TEST(GpClassifier, ProbabilitiesAndLikelihoodEqualScikitLearnTo1e6) {
  const json golden = load_golden();
  ASSERT_EQ(golden.at("cases").size(), 3u);
  for (const json& c : golden.at("cases")) {
    SCOPED_TRACE(c.at("kernel").get<std::string>());
    const Eigen::VectorXd ls = to_vector(c.at("lengthscales"));
    ClassifierOptions o;
    o.kernel = parse_kernel(c.at("kernel"));
    o.ard = c.at("ard");
    o.optimize = false;
    o.signal_variance = c.at("signal_variance");
    o.lengthscale = ls[0];
    GpClassifier gpc(o);
    gpc.fit(to_matrix(c.at("X")), to_labels(c.at("labels")));
    const Eigen::VectorXd p = gpc.probability(to_matrix(c.at("Xs")));
    const Eigen::VectorXd want = to_vector(c.at("probability"));
    for (Eigen::Index i = 0; i < p.size(); ++i) EXPECT_NEAR(p[i], want[i], 1e-6) << i;
    const double lml = c.at("lml");
    EXPECT_NEAR(gpc.log_marginal_likelihood(), lml, 1e-6 * std::abs(lml));
  }
}

TEST(GpClassifier, FitReachesScikitLearnOptimumWithTheSameBounds) {
  // scikit-learn: n_restarts_optimizer=10, s2 and lengthscales bounded to [1e-2, 1e2], start s2 = 1, l = 0.3.
  const json golden = load_golden();
  for (const json& c : golden.at("cases")) {
    SCOPED_TRACE(c.at("kernel").get<std::string>());
    ClassifierOptions o;
    o.kernel = parse_kernel(c.at("kernel"));
    o.ard = c.at("ard");
    o.restarts = 5;
    GpClassifier gpc(o);
    const Eigen::MatrixXd X = to_matrix(c.at("X"));
    gpc.fit(X, to_labels(c.at("labels")));
    const double sk = c.at("fitted_lml");
    EXPECT_GE(gpc.log_marginal_likelihood(), sk - 1e-3);
    EXPECT_LT(gpc.log_marginal_likelihood(), sk + 0.05);  // same optimum, not a different model
    // At the optimum, probabilities equal scikit-learn's fitted model's within the optimiser tolerance.
    const Eigen::VectorXd theta = to_vector(c.at("fitted_theta"));
    const Hyperparameters& h = gpc.hyperparameters();
    EXPECT_NEAR(std::log(h.signal_variance), theta[0], 0.05);
    for (Eigen::Index d = 0; d < h.lengthscales.size(); ++d)
      EXPECT_NEAR(std::log(h.lengthscales[d]), theta[1 + d], 0.05) << d;
  }
}

TEST(GpClassifier, FittedHyperparametersAreALocalMaximumOfTheLaplaceLikelihood) {
  // The analytic gradient (R&W Alg. 5.1) drives the fit: if it were wrong, L-BFGS would stop away from the
  // maximum and a small step in some direction would raise the likelihood.
  const json golden = load_golden();
  const json& c = golden.at("cases").at(1);  // ARD Matern 5/2
  const Eigen::MatrixXd X = to_matrix(c.at("X"));
  const Eigen::VectorXi t = to_labels(c.at("labels"));
  ClassifierOptions o;
  o.kernel = KernelType::Matern52;
  o.ard = false;
  o.restarts = 3;
  GpClassifier fitted(o);
  fitted.fit(X, t);
  const double best = fitted.log_marginal_likelihood();
  for (double ds : {-0.05, 0.0, 0.05})
    for (double dl : {-0.05, 0.0, 0.05}) {
      ClassifierOptions f = o;
      f.optimize = false;
      f.signal_variance = fitted.hyperparameters().signal_variance * std::exp(ds);
      f.lengthscale = fitted.hyperparameters().lengthscales[0] * std::exp(dl);
      GpClassifier g(f);
      g.fit(X, t);
      EXPECT_LE(g.log_marginal_likelihood(), best + 1e-6) << ds << " " << dl;
    }
}

TEST(GpClassifier, SingleClassPredictsTheSmoothedRateEverywhere) {
  Eigen::MatrixXd X = Eigen::MatrixXd::Random(8, 2);
  GpClassifier gpc;
  gpc.fit(X, Eigen::VectorXi::Ones(8));
  const Eigen::VectorXd p = gpc.probability(Eigen::MatrixXd::Random(5, 2));
  for (Eigen::Index i = 0; i < p.size(); ++i) EXPECT_DOUBLE_EQ(p[i], 9.0 / 10.0);
  gpc.fit(X.topRows(3), Eigen::VectorXi::Zero(3));
  EXPECT_DOUBLE_EQ(gpc.probability(X)[0], 1.0 / 5.0);
}

TEST(GpClassifier, ProbabilitiesFollowTheLabelsAndStayInsideTheUnitInterval) {
  // Failures on the left half, successes on the right.
  const int n = 30;
  Eigen::MatrixXd X(n, 1);
  Eigen::VectorXi t(n);
  for (int i = 0; i < n; ++i) {
    X(i, 0) = (i + 0.5) / n;
    t[i] = X(i, 0) > 0.5 ? 1 : 0;
  }
  GpClassifier gpc;
  gpc.fit(X, t);
  Eigen::MatrixXd Xs(3, 1);
  Xs << 0.05, 0.5, 0.95;
  const Eigen::VectorXd p = gpc.probability(Xs);
  EXPECT_LT(p[0], 0.2);
  EXPECT_NEAR(p[1], 0.5, 0.2);
  EXPECT_GT(p[2], 0.8);
  EXPECT_GT(p.minCoeff(), 0.0);
  EXPECT_LT(p.maxCoeff(), 1.0);
}

TEST(GpClassifier, BadInputThrowsInvalidArgument) {
  ClassifierOptions o;
  o.lengthscale = 0;
  EXPECT_THROW(GpClassifier{o}, tsunagu::InvalidArgument);
  GpClassifier gpc;
  EXPECT_THROW(gpc.probability(Eigen::MatrixXd::Zero(1, 2)), tsunagu::InvalidArgument);
  Eigen::VectorXi t(3);
  t << 0, 2, 1;
  try {
    gpc.fit(Eigen::MatrixXd::Zero(3, 1), t);
    FAIL();
  } catch (const tsunagu::InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("row 1"), std::string::npos) << e.what();
  }
  EXPECT_THROW(gpc.fit(Eigen::MatrixXd::Zero(2, 1), t), tsunagu::InvalidArgument);
}

}  // namespace
