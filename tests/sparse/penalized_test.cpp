// Truths: R glmnet's lasso path (recorded, see data/make_glmnet_reference.R); the KKT optimality conditions of
// MCP/SCAD/lasso (computed plainly here, independently of the library's kkt_violation); grid search for the
// univariate thresholding operator; the definition of λ_max.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "test_util.hpp"
#include "tsunagu/core/error.hpp"
#include "tsunagu/core/table.hpp"
#include "tsunagu/sparse/penalized.hpp"

using namespace tsunagu;
using namespace tsunagu::sparse;
using Eigen::MatrixXd;
using Eigen::VectorXd;

namespace {

// Plain KKT residual of the gaussian objective at λ index k, standardised scale (independent implementation).
double plain_kkt(const Path& path, const MatrixXd& X, const VectorXd& y, Eigen::Index k) {
  const auto n = static_cast<double>(X.rows());
  const double lam = path.lambda(k);
  MatrixXd Xs = X;
  for (Eigen::Index j = 0; j < X.cols(); ++j) {
    const double m = X.col(j).mean();
    const double sd = std::sqrt((X.col(j).array() - m).square().sum() / n);
    if (sd > 0) Xs.col(j) = (X.col(j).array() - m) / sd;
    else Xs.col(j).setZero();
  }
  const VectorXd r = (y.array() - y.mean()).matrix() - Xs * path.beta_std.col(k);
  double worst = 0;
  for (Eigen::Index j = 0; j < X.cols(); ++j) {
    const double g = Xs.col(j).dot(r) / n;
    const double pf = path.penalty_factor(j), l1 = lam * path.alpha * pf, l2 = lam * (1 - path.alpha) * pf;
    const double b = path.beta_std(j, k), t = std::abs(b), gam = path.gamma;
    if (b == 0) {
      worst = std::max(worst, std::abs(g) - l1);
      continue;
    }
    double dp = l1;
    if (path.penalty == Penalty::MCP) dp = t <= gam * l1 ? l1 - t / gam : 0;
    if (path.penalty == Penalty::SCAD) dp = t <= l1 ? l1 : (t <= gam * l1 ? (gam * l1 - t) / (gam - 1) : 0);
    worst = std::max(worst, std::abs(-g + (b > 0 ? dp : -dp) + l2 * b));
  }
  return worst;
}

double pop_sd(const VectorXd& v) { return std::sqrt((v.array() - v.mean()).square().mean()); }

}  // namespace

TEST(LassoPath, MatchesGlmnetReferencePath) {
  const auto dir = test::source_dir() / "tests/sparse/data";
  const auto prob = core::read_csv(dir / "lasso_problem.csv");
  const auto ref = core::read_csv(dir / "lasso_glmnet_path.csv");
  std::vector<std::string> xs;
  for (int j = 1; j <= 10; ++j) xs.push_back("x" + std::to_string(j));
  const MatrixXd X = prob.numeric(xs).values;
  const VectorXd y = prob.numeric({"y"}).values.col(0);
  const VectorXd lam = ref.numeric({"lambda"}).values.col(0);
  const VectorXd b0 = ref.numeric({"intercept"}).values.col(0);
  const MatrixXd B = ref.numeric(xs).values;  // (L, p)

  PathOptions o;
  o.penalty = Penalty::Lasso;
  o.lambda.assign(lam.data(), lam.data() + lam.size());
  o.eps = 1e-13;
  o.max_iter = 1000000;
  const Path path = fit_path(X, y, o);
  ASSERT_EQ(path.n_lambda(), static_cast<std::size_t>(lam.size()));
  const double scale = B.cwiseAbs().maxCoeff();
  for (Eigen::Index k = 0; k < lam.size(); ++k) {
    for (Eigen::Index j = 0; j < 10; ++j) EXPECT_NEAR(path.beta(j, k), B(k, j), 1e-6 * scale) << "lambda " << k;
    EXPECT_NEAR(path.intercept(k), b0(k), 1e-6 * std::abs(b0(k)) + 1e-6 * scale) << "lambda " << k;
  }
}

struct KktCase {
  Penalty penalty;
  int n, p;
  double alpha;
  bool unpenalised;
};

class KktOnRandomProblems : public ::testing::TestWithParam<KktCase> {};

TEST_P(KktOnRandomProblems, SolutionSatisfiesKktAtEveryLambda) {
  const auto c = GetParam();
  for (unsigned seed : {1u, 2u, 3u}) {
    auto pr = test::random_problem(c.n, c.p, 5, 0.6, seed);
    PathOptions o;
    o.penalty = c.penalty;
    o.alpha = c.alpha;
    o.eps = 1e-10;
    o.max_iter = 1000000;
    if (c.unpenalised) {
      o.penalty_factor.assign(static_cast<std::size_t>(c.p), 1.0);
      o.penalty_factor[1] = 0;
      o.penalty_factor[2] = 2.5;
    }
    const Path path = fit_path(pr.X, pr.y, o);
    ASSERT_EQ(path.status, "converged") << path.message;
    const double tol = 1e-7 * pop_sd(pr.y);
    const VectorXd lib = kkt_violation(path, pr.X, pr.y);
    for (Eigen::Index k = 0; k < path.lambda.size(); ++k) {
      const double mine = plain_kkt(path, pr.X, pr.y, k);
      EXPECT_LT(mine, tol) << "seed " << seed << " lambda index " << k;
      EXPECT_NEAR(lib(k), mine, 1e-9 * pop_sd(pr.y));
    }
    if (c.unpenalised) {
      EXPECT_NE(path.beta(1, 0), 0.0) << "unpenalised feature must be fitted at lambda_max";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Penalties, KktOnRandomProblems,
    ::testing::Values(KktCase{Penalty::MCP, 120, 30, 1.0, false}, KktCase{Penalty::MCP, 40, 150, 1.0, false},
                      KktCase{Penalty::MCP, 80, 20, 0.5, true}, KktCase{Penalty::SCAD, 120, 30, 1.0, false},
                      KktCase{Penalty::SCAD, 40, 150, 1.0, true}, KktCase{Penalty::SCAD, 60, 60, 0.7, false},
                      KktCase{Penalty::Lasso, 120, 30, 1.0, true}, KktCase{Penalty::Lasso, 40, 150, 0.5, false}));

// MCP/SCAD make the logistic objective nonconvex along a coordinate wherever x_j'Wx_j/n < 1/γ (resp. 1/(γ−1));
// with w <= 1/4 that is every coordinate for γ = 3. The KKT check therefore uses γ = 8 (convex coordinate-wise
// while fitted probabilities stay away from 0/1, as with this noisy outcome), and skips a final saturated λ.
TEST(BinomialPath, SatisfiesLogisticKktAtEveryLambda) {
  for (auto pen : {Penalty::Lasso, Penalty::MCP, Penalty::SCAD}) {
    auto pr = test::random_problem(150, 20, 4, 0.4, 11, 4.0);
    VectorXd yb(pr.y.size());
    for (Eigen::Index i = 0; i < yb.size(); ++i) yb(i) = pr.y(i) > pr.y.mean() ? 1 : 0;
    PathOptions o;
    o.family = Family::Binomial;
    o.penalty = pen;
    o.gamma = 8;
    o.eps = 1e-10;
    o.max_iter = 1000000;
    o.nlambda = 40;
    const Path path = fit_path(pr.X, yb, o);
    ASSERT_TRUE(path.status == "converged" || path.status == "saturated") << to_string(pen) << ": " << path.message;
    const VectorXd v = kkt_violation(path, pr.X, yb);
    const Eigen::Index last = path.status == "saturated" ? v.size() - 1 : v.size();
    for (Eigen::Index k = 0; k < last; ++k) EXPECT_LT(v(k), 1e-7) << to_string(pen) << " lambda index " << k;
    const MatrixXd prob = path.predict(pr.X);
    EXPECT_GE(prob.minCoeff(), 0.0);
    EXPECT_LE(prob.maxCoeff(), 1.0);
  }
}

TEST(BinomialPath, SeparableDataStopsAsSaturated) {
  auto pr = test::random_problem(40, 5, 1, 0.0, 3, 0.0);
  VectorXd yb(40);
  for (Eigen::Index i = 0; i < 40; ++i) yb(i) = pr.y(i) > pr.y.mean() ? 1 : 0;  // perfectly separable by x0
  PathOptions o;
  o.family = Family::Binomial;
  const Path path = fit_path(pr.X, yb, o);
  EXPECT_EQ(path.status, "saturated") << path.message;
  EXPECT_LT(path.n_lambda(), 100u);
}

TEST(Threshold, IsTheGlobalMinimiserOfTheUnivariateProblem) {
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> U(-3, 3), V(0.05, 1.5), L(0.0, 1.0);
  for (int trial = 0; trial < 300; ++trial) {  // the grid is expensive; 300 cases cover every branch
    const Penalty pen = trial % 3 == 0 ? Penalty::Lasso : (trial % 3 == 1 ? Penalty::MCP : Penalty::SCAD);
    const double u = U(rng), v = V(rng), l1 = L(rng), l2 = 0.3 * L(rng);
    const double gamma = pen == Penalty::SCAD ? 2.2 + 3 * L(rng) : 1.1 + 3 * L(rng);
    auto P = [&](double t) {
      if (pen == Penalty::Lasso) return l1 * t;
      if (pen == Penalty::MCP) return t <= gamma * l1 ? l1 * t - t * t / (2 * gamma) : gamma * l1 * l1 / 2;
      if (t <= l1) return l1 * t;
      if (t <= gamma * l1) return (2 * gamma * l1 * t - t * t - l1 * l1) / (2 * (gamma - 1));
      return l1 * l1 * (gamma + 1) / 2;
    };
    auto f = [&](double b) { return 0.5 * (v + l2) * b * b - u * b + P(std::abs(b)); };
    double fbest = f(0);
    for (int g = -200000; g <= 200000; ++g) fbest = std::min(fbest, f(g * 1e-4 * 2.0));  // grid on [-40, 40]
    const double b = threshold(pen, u, v, l1, l2, gamma);
    EXPECT_LE(f(b), fbest + 1e-7) << "trial " << trial << " u=" << u << " v=" << v << " l1=" << l1;
  }
}

TEST(LambdaPath, FollowsNcvregConventions) {
  auto pr = test::random_problem(60, 8, 3, 0.3, 4);
  PathOptions o;  // MCP, nlambda 100, ratio 0.001 (n > p)
  const Path path = fit_path(pr.X, pr.y, o);
  ASSERT_EQ(path.n_lambda(), 100u);
  // λ_max = max_j |x_j'(y − ȳ)| / n on the standardised scale.
  double lmax = 0;
  const double n = 60;
  for (int j = 0; j < 8; ++j) {
    const double m = pr.X.col(j).mean(), sd = std::sqrt((pr.X.col(j).array() - m).square().sum() / n);
    lmax = std::max(lmax, std::abs(((pr.X.col(j).array() - m) / sd).matrix().dot((pr.y.array() - pr.y.mean()).matrix())) / n);
  }
  EXPECT_NEAR(path.lambda(0), lmax, 1e-12 * lmax);
  EXPECT_NEAR(path.lambda(99), 0.001 * lmax, 1e-12 * lmax);
  for (int k = 1; k < 100; ++k) EXPECT_NEAR(std::log(path.lambda(k - 1) / path.lambda(k)), std::log(1000.0) / 99, 1e-9);
  EXPECT_EQ(path.beta.col(0).cwiseAbs().maxCoeff(), 0.0);
  EXPECT_GT(path.beta.col(1).cwiseAbs().maxCoeff(), 0.0);
  EXPECT_NEAR(path.intercept(0), pr.y.mean(), 1e-12);

  auto wide = test::random_problem(20, 40, 3, 0.3, 4);
  const Path pw = fit_path(wide.X, wide.y, o);
  EXPECT_NEAR(pw.lambda(pw.n_lambda() - 1) / pw.lambda(0), 0.05, 1e-12);  // ratio 0.05 when n <= p
}

TEST(PathPreprocessing, ConstantColumnIsDroppedWithWarning) {
  auto pr = test::random_problem(50, 6, 2, 0.2, 8);
  pr.X.col(3).setConstant(7.5);
  PathOptions o;
  const Path path = fit_path(pr.X, pr.y, o);
  ASSERT_EQ(path.dropped_constant.size(), 1u);
  EXPECT_EQ(path.dropped_constant[0], 3u);
  EXPECT_EQ(path.beta.row(3).cwiseAbs().maxCoeff(), 0.0);
  ASSERT_FALSE(path.warnings.empty());
  EXPECT_NE(path.warnings[0].find("constant"), std::string::npos);
}

TEST(PathPreprocessing, OriginalScaleCoefficientsReproduceStandardisedPredictions) {
  auto pr = test::random_problem(70, 9, 3, 0.5, 21);
  PathOptions o;
  o.penalty = Penalty::SCAD;
  const Path path = fit_path(pr.X, pr.y, o);
  const MatrixXd pred = path.predict(pr.X);
  for (Eigen::Index k = 0; k < path.lambda.size(); k += 9) {
    for (Eigen::Index i = 0; i < 70; i += 7) {
      double s = pr.y.mean();
      for (Eigen::Index j = 0; j < 9; ++j)
        s += path.beta_std(j, k) * (pr.X(i, j) - path.center(j)) / path.scale(j);
      EXPECT_NEAR(pred(i, k), s, 1e-10);
    }
  }
}

TEST(PathLimits, DfmaxTruncatesThePath) {
  auto pr = test::random_problem(80, 30, 10, 0.3, 3);
  PathOptions o;
  o.dfmax = 4;
  const Path path = fit_path(pr.X, pr.y, o);
  EXPECT_EQ(path.status, "truncated_dfmax");
  EXPECT_LT(path.n_lambda(), 100u);
  EXPECT_GT(path.df.back(), 4);
  for (std::size_t k = 0; k + 1 < path.df.size(); ++k) EXPECT_LE(path.df[k], 4);
}

TEST(PathLimits, MaxIterStopsWithStatus) {
  auto pr = test::random_problem(80, 30, 10, 0.8, 3);
  PathOptions o;
  o.max_iter = 5;
  o.eps = 1e-12;
  const Path path = fit_path(pr.X, pr.y, o);
  EXPECT_EQ(path.status, "max_iter");
  EXPECT_FALSE(path.converged.back());
}

TEST(PathOptionsValidation, NamesTheBadField) {
  auto pr = test::random_problem(20, 4, 2, 0.2, 1);
  auto expect_msg = [&](PathOptions o, const std::string& field) {
    try {
      fit_path(pr.X, pr.y, o);
      ADD_FAILURE() << "no error for " << field;
    } catch (const InvalidArgument& e) {
      EXPECT_EQ(std::string(e.what()).rfind(field, 0), 0u) << e.what();
    }
  };
  PathOptions o;
  o.gamma = 1.0;
  expect_msg(o, "gamma");
  o = {};
  o.penalty = Penalty::SCAD;
  o.gamma = 2.0;
  expect_msg(o, "gamma");
  o = {};
  o.alpha = 0;
  expect_msg(o, "alpha");
  o = {};
  o.nlambda = 1;
  expect_msg(o, "nlambda");
  o = {};
  o.lambda_min_ratio = 1.5;
  expect_msg(o, "lambda_min_ratio");
  o = {};
  o.lambda = {0.5, 1.0};
  expect_msg(o, "lambda");
  o = {};
  o.penalty_factor = {1, 1};
  expect_msg(o, "penalty_factor");
  o = {};
  o.penalty_factor = {0, 0, 0, 0};
  expect_msg(o, "penalty_factor");
  o = {};
  o.eps = -1;
  expect_msg(o, "eps");
  EXPECT_THROW(parse_penalty("ridge"), InvalidArgument);
  EXPECT_EQ(parse_penalty("MCP"), Penalty::MCP);
}

TEST(PathInputValidation, RejectsNonFiniteShortAndMismatchedData) {
  auto pr = test::random_problem(20, 4, 2, 0.2, 1);
  PathOptions o;
  MatrixXd X = pr.X;
  X(3, 2) = std::nan("");
  try {
    fit_path(X, pr.y, o);
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("row 3, column 2"), std::string::npos) << e.what();
  }
  VectorXd y = pr.y;
  y(5) = INFINITY;
  EXPECT_THROW(fit_path(pr.X, y, o), InvalidArgument);
  EXPECT_THROW(fit_path(pr.X.topRows(2), pr.y.head(2), o), InvalidArgument);
  EXPECT_THROW(fit_path(pr.X, pr.y.head(10), o), InvalidArgument);
  EXPECT_THROW(fit_path(pr.X, VectorXd::Constant(20, 3.0), o), InvalidArgument);
  PathOptions b;
  b.family = Family::Binomial;
  EXPECT_THROW(fit_path(pr.X, pr.y, b), InvalidArgument);  // not 0/1
}
