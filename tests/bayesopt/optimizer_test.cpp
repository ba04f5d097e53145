// Optimizer::suggest / suggest_pool. Truths: the acquisition re-evaluated independently (a GP rebuilt from the
// reported hyperparameters + the closed forms of acquisition.hpp) at many random points is never higher than at
// the suggestion; symmetry of minimisation and maximisation; the space's own feasibility check; brute-force
// arg-max over a pool; Branin's known minimum 0.397887 (regret vs random search).
#include "tsunagu/bayesopt/optimizer.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <set>
#include <tuple>

#include "tsunagu/core/error.hpp"
#include "tsunagu/core/random.hpp"

using namespace tsunagu;
using namespace tsunagu::bayesopt;
using Eigen::MatrixXd;
using Eigen::VectorXd;

namespace {

Parameter cont(const std::string& name, double lo, double hi) {
  Parameter p;
  p.name = name;
  p.lower = lo;
  p.upper = hi;
  return p;
}

Space space_1d(Direction dir = Direction::Maximize) {
  Space s;
  s.parameters = {cont("x", 0, 10)};
  s.objectives = {{"y", dir, ""}};
  return s;
}

double f1(double x) { return std::sin(x) + 0.1 * x; }

Observations data_1d() {
  Observations d;
  const std::vector<double> xs = {0.5, 2.0, 3.1, 5.0, 7.7, 9.5};
  d.X.resize(static_cast<Eigen::Index>(xs.size()), 1);
  d.Y.resize(static_cast<Eigen::Index>(xs.size()), 1);
  for (std::size_t i = 0; i < xs.size(); ++i) {
    d.X(static_cast<Eigen::Index>(i), 0) = xs[i];
    d.Y(static_cast<Eigen::Index>(i), 0) = f1(xs[i]);
  }
  return d;
}

double branin(double x1, double x2) {
  const double a = 1, b = 5.1 / (4 * M_PI * M_PI), c = 5 / M_PI, r = 6, s = 10, t = 1 / (8 * M_PI);
  return a * std::pow(x2 - b * x1 * x1 + c * x1 - r, 2) + s * (1 - t) * std::cos(x1) + s;
}

Space space_branin() {
  Space s;
  s.parameters = {cont("x1", -5, 10), cont("x2", 0, 15)};
  s.objectives = {{"f", Direction::Minimize, ""}};
  return s;
}

// The surrogate the optimiser used, rebuilt from its reported hyperparameters (encoded inputs, no x rescaling).
GaussianProcess rebuild(const OptimizerOptions& o, const Hyperparameters& h, const MatrixXd& E, const VectorXd& y) {
  GpOptions g = o.gp;
  g.normalize_x = false;
  g.optimize = false;
  GaussianProcess gp(g);
  gp.set_hyperparameters(h);
  gp.fit(E, y);
  return gp;
}

double acq_value(Acquisition a, double mu, double sd, double best, const OptimizerOptions& o, double y_scale) {
  switch (a) {
    case Acquisition::EI:
      return expected_improvement(mu, sd, best, o.xi * y_scale);
    case Acquisition::LogEI:
      return log_expected_improvement(mu, sd, best, o.xi * y_scale);
    case Acquisition::PI:
      return probability_of_improvement(mu, sd, best, o.xi * y_scale);
    default:
      return upper_confidence_bound(mu, sd, o.kappa);
  }
}

// A 1-D pool x = 0 .. 10 on `rows` rows with one objective y, its space and encoding.
struct Pool1D {
  MatrixXd pool, Ep;
  Space space;
};
Pool1D pool_1d(int rows, Direction dir) {
  Pool1D g;
  g.pool.resize(rows, 1);
  for (int i = 0; i < rows; ++i) g.pool(i, 0) = 10.0 * i / (rows - 1);
  g.space = Space::from_columns(g.pool, {"x"});
  g.space.objectives = {{"y", dir, ""}};
  g.Ep = g.space.encode(g.pool);
  return g;
}

// Rows `idx` of E.
MatrixXd rows_of(const MatrixXd& E, const std::vector<std::size_t>& idx) {
  MatrixXd out(static_cast<Eigen::Index>(idx.size()), E.cols());
  for (std::size_t a = 0; a < idx.size(); ++a)
    out.row(static_cast<Eigen::Index>(a)) = E.row(static_cast<Eigen::Index>(idx[a]));
  return out;
}

// Exhaustive arg-max of log EI over the rows not in `taken`: (row, value).
std::pair<std::size_t, double> argmax_log_ei(const GaussianProcess::Prediction& p, const std::set<std::size_t>& taken,
                                             double best) {
  double top = -1e300;
  std::size_t arg = 0;
  for (Eigen::Index i = 0; i < p.mean.size(); ++i) {
    if (taken.count(static_cast<std::size_t>(i))) continue;
    const double v = log_expected_improvement(p.mean(i), std::sqrt(p.variance(i)), best);
    if (v > top) {
      top = v;
      arg = static_cast<std::size_t>(i);
    }
  }
  return {arg, top};
}

}  // namespace

TEST(Optimizer, SuggestionMaximisesTheAcquisitionOverManyRandomPoints1D) {
  const auto d = data_1d();
  for (auto a : {Acquisition::EI, Acquisition::LogEI, Acquisition::PI, Acquisition::UCB}) {
    OptimizerOptions o;
    o.acquisition = a;
    o.xi = a == Acquisition::PI ? 0.01 : 0.0;
    o.seed = 3;
    const Optimizer opt(space_1d(), o);
    const auto s = opt.suggest(d, 1);
    ASSERT_EQ(s.points.rows(), 1);
    ASSERT_EQ(s.models.size(), 1u);
    const Space sp = space_1d();
    const auto gp = rebuild(o, s.models[0], sp.encode(d.X), d.Y.col(0));
    const double best = d.Y.maxCoeff();
    // reported mean/sd are the rebuilt surrogate's, and the acquisition is the closed form of them
    const auto at = gp.predict(sp.encode(s.points));
    EXPECT_NEAR(s.mean(0, 0), at.mean(0), 1e-9);
    EXPECT_NEAR(s.sd(0, 0), std::sqrt(at.variance(0)), 1e-9);
    const double a_star = acq_value(a, at.mean(0), std::sqrt(at.variance(0)), best, o, gp.y_scale());
    EXPECT_NEAR(s.acquisition(0), a_star, 1e-9 * std::max(1.0, std::abs(a_star))) << acquisition_name(a);
    // no random point does better
    const MatrixXd U = VectorXd::LinSpaced(5001, 0.0, 1.0);
    const auto p = gp.predict(U);
    for (Eigen::Index i = 0; i < U.rows(); ++i) {
      const double v = acq_value(a, p.mean(i), std::sqrt(p.variance(i)), best, o, gp.y_scale());
      ASSERT_LE(v, a_star + 1e-9 * std::max(1.0, std::abs(a_star)))
          << acquisition_name(a) << " at x = " << 10 * U(i, 0);
    }
  }
}

TEST(Optimizer, SuggestionMaximisesTheAcquisitionOverManyRandomPoints2D) {
  const Space sp = space_branin();
  auto rng = core::make_rng(11);
  Observations d;
  d.X = sp.sample(8, rng);
  d.Y.resize(8, 1);
  for (int i = 0; i < 8; ++i) d.Y(i, 0) = branin(d.X(i, 0), d.X(i, 1));
  for (auto a : {Acquisition::EI, Acquisition::LogEI, Acquisition::UCB}) {
    OptimizerOptions o;
    o.acquisition = a;
    o.seed = 5;
    const auto s = Optimizer(sp, o).suggest(d, 1);
    // minimisation: the surrogate models -f
    const auto gp = rebuild(o, s.models[0], sp.encode(d.X), -d.Y.col(0));
    const double best = -d.Y.minCoeff();
    const auto at = gp.predict(sp.encode(s.points));
    const double a_star = acq_value(a, at.mean(0), std::sqrt(at.variance(0)), best, o, gp.y_scale());
    EXPECT_NEAR(s.mean(0, 0), -at.mean(0), 1e-9 * std::max(1.0, std::abs(at.mean(0))));
    std::mt19937_64 g(1);
    std::uniform_real_distribution<double> u(0, 1);
    MatrixXd U(20000, 2);
    for (Eigen::Index i = 0; i < U.rows(); ++i) U.row(i) << u(g), u(g);
    const auto p = gp.predict(U);
    double worst_gap = -1e300;
    for (Eigen::Index i = 0; i < U.rows(); ++i)
      worst_gap =
          std::max(worst_gap, acq_value(a, p.mean(i), std::sqrt(p.variance(i)), best, o, gp.y_scale()) - a_star);
    EXPECT_LE(worst_gap, 1e-9 * std::max(1.0, std::abs(a_star))) << acquisition_name(a);
  }
}

TEST(Optimizer, MinimisingFEqualsMaximisingMinusF) {
  const auto d = data_1d();
  Observations neg = d;
  neg.Y = -d.Y;
  OptimizerOptions o;
  o.seed = 9;
  const auto smax = Optimizer(space_1d(Direction::Maximize), o).suggest(d, 2);
  const auto smin = Optimizer(space_1d(Direction::Minimize), o).suggest(neg, 2);
  EXPECT_EQ(smax.points, smin.points);
  EXPECT_EQ(smax.mean, -smin.mean);
  EXPECT_EQ(smax.sd, smin.sd);
  EXPECT_EQ(smax.acquisition, smin.acquisition);
}

TEST(Optimizer, LogScaleObjectiveIsModelledAsLogYAndReportedAsLogNormalMoments) {
  // resistivity-like values over four decades, minimised
  Space sp = space_1d(Direction::Minimize);
  sp.objectives[0].log_scale = true;
  Observations d = data_1d();
  for (Eigen::Index i = 0; i < d.Y.rows(); ++i) d.Y(i, 0) = std::pow(10.0, 2 + 2 * std::sin(d.X(i, 0)));
  OptimizerOptions o;
  o.acquisition = Acquisition::EI;
  const auto s = Optimizer(sp, o).suggest(d, 1);
  const auto gp = rebuild(o, s.models[0], sp.encode(d.X), -d.Y.col(0).array().log().matrix());
  const auto at = gp.predict(sp.encode(s.points));
  const double m = -at.mean(0), v = at.variance(0);
  EXPECT_NEAR(s.mean(0, 0), std::exp(m + v / 2), 1e-9 * s.mean(0, 0));
  EXPECT_NEAR(s.sd(0, 0), std::exp(m + v / 2) * std::sqrt(std::expm1(v)), 1e-9 * s.mean(0, 0) + 1e-12);
  // EI is computed on -log(y): the incumbent is -log(min y)
  EXPECT_NEAR(s.acquisition(0), expected_improvement(at.mean(0), std::sqrt(v), -std::log(d.Y.minCoeff())), 1e-9);
  d.Y(2, 0) = -1.0;
  EXPECT_THROW(Optimizer(sp, o).suggest(d, 1), InvalidArgument);
}

TEST(Optimizer, BatchPointsAreDistinctAndFeasibleForEveryBatchMethod) {
  const Space sp = space_branin();
  auto rng = core::make_rng(2);
  Observations d;
  d.X = sp.sample(10, rng);
  d.Y.resize(10, 1);
  for (int i = 0; i < 10; ++i) d.Y(i, 0) = branin(d.X(i, 0), d.X(i, 1));
  for (auto bm : {BatchMethod::KrigingBeliever, BatchMethod::LocalPenalization, BatchMethod::Thompson}) {
    for (auto a : {Acquisition::LogEI, Acquisition::UCB, Acquisition::NoisyEI, Acquisition::TS}) {
      OptimizerOptions o;
      o.acquisition = a;
      o.batch_method = bm;
      o.candidates = 300;
      const auto s = Optimizer(sp, o).suggest(d, 4);
      ASSERT_EQ(s.points.rows(), 4);
      for (int i = 0; i < 4; ++i) {
        EXPECT_TRUE(sp.feasible(s.points.row(i).transpose())) << batch_method_name(bm);
        EXPECT_TRUE(std::isfinite(s.acquisition(i))) << batch_method_name(bm) << " " << acquisition_name(a);
        for (int j = 0; j < i; ++j)
          EXPECT_GT((s.points.row(i) - s.points.row(j)).norm(), 1e-6)
              << batch_method_name(bm) << " " << acquisition_name(a) << " members " << j << ", " << i;
      }
    }
  }
}

TEST(Optimizer, PendingPointIsNotProposedAgain) {
  const auto d = data_1d();
  OptimizerOptions o;
  o.seed = 4;
  const Optimizer opt(space_1d(), o);
  const auto first = opt.suggest(d, 1);
  Observations with = d;
  with.pending = first.points;
  const auto second = opt.suggest(with, 1);
  EXPECT_GT(std::abs(second.points(0, 0) - first.points(0, 0)), 0.05)
      << "first " << first.points(0, 0) << " second " << second.points(0, 0);
  EXPECT_NE(second.method.find("pending"), std::string::npos);
  // a batch of 2 without pending starts with the same point as the single suggestion
  EXPECT_DOUBLE_EQ(opt.suggest(d, 2).points(0, 0), first.points(0, 0));
}

TEST(Optimizer, LinearConstraintIsRespectedWhereTheUnconstrainedOptimumViolatesIt) {
  Space sp;
  sp.parameters = {cont("a", 0, 1), cont("b", 0, 1)};
  sp.constraints = {{{{"a", 1.0}, {"b", 1.0}}, 1.0}};  // a + b <= 1
  sp.objectives = {{"y", Direction::Maximize, ""}};
  // y = a + 2 b grows towards the infeasible corner (1, 1)
  auto rng = core::make_rng(3);
  Observations d;
  d.X = sp.sample(8, rng);
  d.Y = (d.X.col(0) + 2 * d.X.col(1)).eval();
  OptimizerOptions o;
  o.acquisition = Acquisition::UCB;
  const auto s = Optimizer(sp, o).suggest(d, 3);
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(sp.feasible(s.points.row(i).transpose())) << s.points.row(i);
    EXPECT_LE(s.points(i, 0) + s.points(i, 1), 1.0 + 1e-9);
  }
  // and the first one is pushed against the constraint (the best feasible UCB lies on a + b = 1)
  EXPECT_GT(s.points(0, 0) + s.points(0, 1), 0.9);
}

TEST(Optimizer, MixedSpaceSuggestionsDecodeToValidIntegersAndCategories) {
  Space sp;
  Parameter n = cont("n", 1, 6);
  n.kind = ParamKind::Integer;
  Parameter c;
  c.name = "metal";
  c.kind = ParamKind::Categorical;
  c.choices = {"Ti", "Nb", "Ta"};
  Parameter fixed;
  fixed.name = "chamber";
  fixed.kind = ParamKind::Fixed;
  fixed.value = 2;
  Parameter p = cont("p", 0.1, 10);
  p.log_scale = true;
  sp.parameters = {n, c, fixed, p};
  sp.objectives = {{"y", Direction::Minimize, ""}};
  auto rng = core::make_rng(8);
  Observations d;
  d.X = sp.sample(10, rng);
  d.Y.resize(10, 1);
  for (int i = 0; i < 10; ++i)
    d.Y(i, 0) = std::pow(d.X(i, 0) - 3, 2) + (d.X(i, 1) == 1 ? 0.0 : 2.0) + std::pow(std::log(d.X(i, 3)), 2);
  for (auto a : {Acquisition::LogEI, Acquisition::TS}) {
    OptimizerOptions o;
    o.acquisition = a;
    o.candidates = 300;
    const auto s = Optimizer(sp, o).suggest(d, 3);
    for (int i = 0; i < 3; ++i) {
      const VectorXd x = s.points.row(i).transpose();
      EXPECT_TRUE(sp.feasible(x)) << x.transpose();
      EXPECT_EQ(x(0), std::round(x(0)));
      EXPECT_TRUE(x(1) == 0 || x(1) == 1 || x(1) == 2);
      EXPECT_EQ(x(2), 2.0);
      for (int j = 0; j < i; ++j) EXPECT_NE(s.points.row(i), s.points.row(j));
    }
  }
}

TEST(Optimizer, FailedExperimentsLowerTheFeasibilityAndSteerAwayFromThem) {
  // Two symmetric promising regions around x = 5 (the left one slightly better), but the experiments at
  // x = 3.6, 4.0, 4.4 failed (e.g. the film peeled off): the proposal moves away from them.
  const std::vector<double> xs = {1, 2, 3, 7, 8, 9, 3.6, 4.0, 4.4};
  Observations d;
  d.X.resize(9, 1);
  d.Y.resize(9, 1);
  for (int i = 0; i < 9; ++i) {
    const double x = xs[static_cast<std::size_t>(i)];
    d.X(i, 0) = x;
    d.Y(i, 0) = i >= 6 ? std::nan("") : -(x - 5) * (x - 5) + (x < 5 ? 0.3 : 0.0);
  }
  auto distance_to_failures = [](double x) {
    return std::min({std::abs(x - 3.6), std::abs(x - 4.0), std::abs(x - 4.4)});
  };
  for (auto a : {Acquisition::EI, Acquisition::LogEI, Acquisition::PI}) {
    OptimizerOptions o;
    o.acquisition = a;
    const auto s = Optimizer(space_1d(), o).suggest(d, 1);
    EXPECT_LT(s.p_feasible(0), 1.0);
    EXPECT_NE(s.method.find("P(success)"), std::string::npos);
    // without the classifier the failed rows are simply dropped and the proposal lies closer to them
    o.feasibility_model = false;
    const auto blind = Optimizer(space_1d(), o).suggest(d, 1);
    EXPECT_EQ(blind.p_feasible(0), 1.0);
    EXPECT_GT(distance_to_failures(s.points(0, 0)), distance_to_failures(blind.points(0, 0)) + 0.5)
        << acquisition_name(a) << ": with classifier " << s.points(0, 0) << ", without " << blind.points(0, 0);
  }
}

TEST(Optimizer, FewerThanTwoResultsGiveARandomFeasibleDesign) {
  const Space sp = space_branin();
  const auto s = Optimizer(sp, {}).suggest({}, 5);
  ASSERT_EQ(s.points.rows(), 5);
  EXPECT_NE(s.method.find("random"), std::string::npos);
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(sp.feasible(s.points.row(i).transpose()));
    EXPECT_TRUE(std::isnan(s.mean(i, 0)));
  }
  // one result and one failure are still too few
  Observations d;
  d.X = s.points.topRows(2);
  d.Y.resize(2, 1);
  d.Y << 3.0, std::nan("");
  EXPECT_NE(Optimizer(sp, {}).suggest(d, 1).method.find("random"), std::string::npos);
}

TEST(Optimizer, BadShapesAndValuesAreRefusedNamingTheArray) {
  const Space sp = space_branin();
  const Optimizer opt(sp, {});
  Observations d;
  d.X = MatrixXd::Ones(3, 2);
  d.Y = MatrixXd::Ones(3, 1);
  auto msg = [&](const Observations& o, int q = 1) -> std::string {
    try {
      opt.suggest(o, q);
    } catch (const InvalidArgument& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_NE(msg(d, 0).find("batch"), std::string::npos);
  Observations bad = d;
  bad.X = MatrixXd::Ones(3, 3);
  EXPECT_NE(msg(bad).find("X"), std::string::npos);
  bad = d;
  bad.X(1, 0) = std::nan("");
  EXPECT_NE(msg(bad).find("X"), std::string::npos);
  bad = d;
  bad.Y = MatrixXd::Ones(2, 1);
  EXPECT_NE(msg(bad).find("Y"), std::string::npos);
  Space two = sp;
  two.objectives.push_back({"g", Direction::Minimize, ""});
  Observations d2 = d;
  d2.Y = MatrixXd::Ones(3, 2);
  d2.Y(0, 1) = std::nan("");
  try {
    Optimizer(two, {}).suggest(d2, 1);
    ADD_FAILURE() << "partly NaN row accepted";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("partly NaN"), std::string::npos);
  }
  OptimizerOptions o;
  o.candidates = 0;
  EXPECT_THROW(Optimizer(sp, o), InvalidArgument);
  o = {};
  o.reference_point = {1.0};
  EXPECT_THROW(Optimizer(two, o).suggest(d2, 1), InvalidArgument);
  EXPECT_THROW(parse_batch_method("qei"), InvalidArgument);
  EXPECT_EQ(batch_method_name(parse_batch_method("lp")), "lp");
}

TEST(Optimizer, EhviProposesPointsInsideTheParetoSetOfTwoObjectives) {
  // f1 = -(x - 0.2)^2, f2 = -(x - 0.8)^2, both maximised on [0, 1]: the Pareto set is [0.2, 0.8]
  Space sp;
  sp.parameters = {cont("x", 0, 1)};
  sp.objectives = {{"f1", Direction::Maximize, ""}, {"f2", Direction::Maximize, ""}};
  Observations d;
  const std::vector<double> xs = {0.0, 0.05, 0.95, 1.0, 0.5};
  d.X.resize(5, 1);
  d.Y.resize(5, 2);
  for (int i = 0; i < 5; ++i) {
    d.X(i, 0) = xs[static_cast<std::size_t>(i)];
    d.Y(i, 0) = -std::pow(xs[static_cast<std::size_t>(i)] - 0.2, 2);
    d.Y(i, 1) = -std::pow(xs[static_cast<std::size_t>(i)] - 0.8, 2);
  }
  OptimizerOptions o;
  o.reference_point = {-1.0, -1.0};
  o.candidates = 200;
  const auto s = Optimizer(sp, o).suggest(d, 2);
  EXPECT_NE(s.method.find("ehvi"), std::string::npos);
  for (int i = 0; i < 2; ++i) {
    EXPECT_GT(s.points(i, 0), 0.15);
    EXPECT_LT(s.points(i, 0), 0.85);
  }
  EXPECT_GT(std::abs(s.points(0, 0) - s.points(1, 0)), 1e-6);
  // the reported EHVI of the first member against an independent Monte-Carlo estimate with many more draws from
  // the reported (independent) posteriors
  MatrixXd front = d.Y;
  const VectorXd ref = (VectorXd(2) << -1.0, -1.0).finished();
  const double hv0 = hypervolume(front, ref);
  std::mt19937_64 g(7);
  std::normal_distribution<double> z;
  double acc = 0;
  const int n = 20000;
  MatrixXd F(front.rows() + 1, 2);
  F.topRows(front.rows()) = front;
  for (int r = 0; r < n; ++r) {
    F(front.rows(), 0) = s.mean(0, 0) + s.sd(0, 0) * z(g);
    F(front.rows(), 1) = s.mean(0, 1) + s.sd(0, 1) * z(g);
    acc += hypervolume(F, ref) - hv0;
  }
  const double ehvi = acc / n;
  EXPECT_NEAR(s.acquisition(0), ehvi, 0.25 * ehvi + 1e-12);
}

TEST(Optimizer, PoolSuggestionIsTheBruteForceArgmaxOverUnmeasuredRows) {
  // pool: a 2-D grid; measured a few rows; EI over every row by the rebuilt surrogate
  MatrixXd pool(21 * 21, 2);
  for (int i = 0; i < 21; ++i)
    for (int j = 0; j < 21; ++j) pool.row(i * 21 + j) << -5 + 15.0 * i / 20, 15.0 * j / 20;
  const Space sp = Space::from_columns(pool, {"x1", "x2"});
  Space s2 = sp;
  s2.objectives = {{"f", Direction::Minimize, ""}};
  const std::vector<std::size_t> measured = {3, 50, 120, 200, 333, 400, 17, 260};
  MatrixXd Y(static_cast<Eigen::Index>(measured.size()), 1);
  for (std::size_t a = 0; a < measured.size(); ++a)
    Y(static_cast<Eigen::Index>(a), 0) =
        branin(pool(static_cast<Eigen::Index>(measured[a]), 0), pool(static_cast<Eigen::Index>(measured[a]), 1));
  OptimizerOptions o;
  o.acquisition = Acquisition::EI;
  const Optimizer opt(s2, o);
  const std::vector<std::size_t> pending = {100};
  const auto s = opt.suggest_pool(pool, measured, Y, 3, pending);
  ASSERT_EQ(s.indices.size(), 3u);
  std::set<std::size_t> forbidden(measured.begin(), measured.end());
  forbidden.insert(100);
  for (auto i : s.indices) EXPECT_EQ(forbidden.count(i), 0u) << i;
  EXPECT_EQ(std::set<std::size_t>(s.indices.begin(), s.indices.end()).size(), 3u);
  // without pending, the first row is the exhaustive EI arg-max
  const auto s1 = opt.suggest_pool(pool, measured, Y, 1);
  MatrixXd E(static_cast<Eigen::Index>(measured.size()), 2);
  const MatrixXd Ep = s2.encode(pool);
  for (std::size_t a = 0; a < measured.size(); ++a)
    E.row(static_cast<Eigen::Index>(a)) = Ep.row(static_cast<Eigen::Index>(measured[a]));
  // hyperparameters: refit exactly as the optimiser does (same options and seed) to get the same surrogate
  GpOptions g = o.gp;
  g.normalize_x = false;
  g.seed = o.seed;
  GaussianProcess gp(g);
  gp.fit(E, -Y.col(0));
  const auto p = gp.predict(Ep, true);  // pools: the spread of a new measurement (Spread::Auto)
  const double best = -Y.minCoeff();
  double top = -1;
  std::size_t arg = 0;
  for (Eigen::Index i = 0; i < Ep.rows(); ++i) {
    if (forbidden.count(static_cast<std::size_t>(i)) && i != 100) continue;
    const double v = expected_improvement(p.mean(i), std::sqrt(p.variance(i)), best);
    if (v > top) {
      top = v;
      arg = static_cast<std::size_t>(i);
    }
  }
  EXPECT_EQ(s1.indices[0], arg);
  EXPECT_NEAR(s1.acquisition(0), top, 1e-9 * top);
  EXPECT_THROW(opt.suggest_pool(pool, measured, Y, static_cast<int>(pool.rows())), InvalidArgument);
  EXPECT_THROW(opt.suggest_pool(pool, {1, 1}, MatrixXd::Ones(2, 1), 1), InvalidArgument);
}

TEST(Optimizer, RankColumnsGiveMidRanksOnTheUnitIntervalAndKeepBinaryColumns) {
  // column 0: skewed values with a tie; column 1: one-hot 0/1; column 2: constant
  MatrixXd E(6, 3);
  E << 0.0, 1, 5,  //
      0.01, 0, 5,  //
      0.01, 0, 5,  //
      0.02, 1, 5,  //
      0.9, 0, 5,   //
      1.0, 0, 5;
  const MatrixXd R = rank_columns(E);
  // ranks 0, 1.5, 1.5, 3, 4, 5 (ties share their mid-rank) / 5
  const double want0[] = {0.0, 0.3, 0.3, 0.6, 0.8, 1.0};
  for (int i = 0; i < 6; ++i) EXPECT_DOUBLE_EQ(R(i, 0), want0[i]) << i;
  for (int i = 0; i < 6; ++i) EXPECT_DOUBLE_EQ(R(i, 1), E(i, 1)) << i;  // binary columns stay 0/1
  EXPECT_TRUE(R.col(2).isZero());
  // monotone and invariant to a monotone transform of the column
  MatrixXd F = E;
  F.col(0) = E.col(0).array().exp() * 3.0 + 7.0;
  EXPECT_EQ(rank_columns(F), R);
  EXPECT_EQ(parse_input_warp(input_warp_name(InputWarp::Auto)), InputWarp::Auto);
  EXPECT_THROW(parse_input_warp("quantile"), InvalidArgument);
}

TEST(Optimizer, ContinuousSuggestRefusesTheRankEncodingsAndTakesTheLearnedWarp) {
  // A continuous suggestion has no pool to rank against: the rank encodings are refused, not ignored.
  Space sp;
  sp.parameters = {cont("x", 0, 1)};
  sp.objectives = {{"y", Direction::Maximize, ""}};
  Observations obs;
  obs.X.resize(3, 1);
  obs.X << 0.1, 0.5, 0.9;
  obs.Y.resize(3, 1);
  obs.Y << 1.0, 2.0, 1.5;
  for (auto w : {InputWarp::Rank, InputWarp::Auto, InputWarp::RankLearned}) {
    OptimizerOptions o;
    o.input_warp = w;
    try {
      Optimizer(sp, o).suggest(obs, 1);
      ADD_FAILURE() << input_warp_name(w);
    } catch (const InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find("input_warp: '" + input_warp_name(w) + "' needs a candidate pool"),
                std::string::npos)
          << e.what();
    }
  }
  OptimizerOptions o;
  o.input_warp = InputWarp::Learned;
  EXPECT_EQ(Optimizer(sp, o).suggest(obs, 1).points.rows(), 1);
}

TEST(Optimizer, RankWarpedPoolSuggestionIsTheArgmaxOfAGpFittedOnRankEncodedRows) {
  // A pool whose x crowds near 0 (x = 10 t^3): rank warping spreads those rows out. Truth: a GP fitted
  // independently on the rank-encoded measured rows, UCB over every unmeasured row; Auto keeps whichever of the two
  // encodings has the higher log marginal likelihood.
  const int rows = 120;
  MatrixXd pool(rows, 1);
  for (int i = 0; i < rows; ++i) pool(i, 0) = 10.0 * std::pow(i / (rows - 1.0), 3);
  Space sp = Space::from_columns(pool, {"x"});
  sp.objectives = {{"y", Direction::Maximize, ""}};
  const MatrixXd Ep = sp.encode(pool), Rp = rank_columns(Ep);
  std::vector<std::size_t> measured;
  MatrixXd Y(12, 1);
  for (int a = 0; a < 12; ++a) {
    measured.push_back(static_cast<std::size_t>(a * 10 + 3));
    Y(a, 0) = std::sin(6.0 * Rp(a * 10 + 3, 0)) + 0.05 * std::cos(11.0 * a);  // smooth in rank, not in x
  }
  const std::set<std::size_t> taken(measured.begin(), measured.end());
  OptimizerOptions o;
  o.acquisition = Acquisition::UCB;
  o.kappa = 1.0;
  auto truth = [&](const MatrixXd& enc, bool learned = false) {
    GpOptions go = o.gp;
    go.normalize_x = false;
    go.warp_inputs = learned;
    go.seed = o.seed;
    GaussianProcess gp(go);
    gp.fit(rows_of(enc, measured), Y.col(0));
    const auto p = gp.predict(enc, true);
    double top = -1e300;
    std::size_t arg = 0;
    for (Eigen::Index i = 0; i < p.mean.size(); ++i) {
      if (taken.count(static_cast<std::size_t>(i))) continue;
      const double v = upper_confidence_bound(p.mean(i), std::sqrt(p.variance(i)), o.kappa);
      if (v > top) {
        top = v;
        arg = static_cast<std::size_t>(i);
      }
    }
    return std::tuple{arg, top, gp.log_marginal_likelihood()};
  };
  const auto [arg_rank, top_rank, lml_rank] = truth(Rp);
  const auto [arg_plain, top_plain, lml_plain] = truth(Ep);
  ASSERT_NE(arg_rank, arg_plain) << "the test needs the two encodings to disagree";
  ASSERT_GT(lml_rank, lml_plain + 1.0) << "the data are smooth in rank: the evidence should say so";
  for (auto w : {InputWarp::None, InputWarp::Rank, InputWarp::Auto}) {
    o.input_warp = w;
    const auto s = Optimizer(sp, o).suggest_pool(pool, measured, Y, 1);
    const bool rank = w != InputWarp::None;
    EXPECT_EQ(s.indices[0], rank ? arg_rank : arg_plain) << input_warp_name(w);
    EXPECT_NEAR(s.acquisition(0), rank ? top_rank : top_plain, 1e-9) << input_warp_name(w);
    EXPECT_EQ(s.method.find("rank-warped") != std::string::npos, rank) << s.method;
  }
  // Learned warps: the same exhaustive UCB over a GP that learns a Kumaraswamy warp of the plain (Learned) or the
  // rank encoding (RankLearned).
  for (auto w : {InputWarp::Learned, InputWarp::RankLearned}) {
    o.input_warp = w;
    const auto [arg, top, lml] = truth(w == InputWarp::Learned ? Ep : Rp, true);
    const auto s = Optimizer(sp, o).suggest_pool(pool, measured, Y, 1);
    EXPECT_EQ(s.indices[0], arg) << input_warp_name(w);
    EXPECT_NEAR(s.acquisition(0), top, 1e-9) << input_warp_name(w);
    EXPECT_NE(s.method.find(w == InputWarp::Learned ? "learned input warp" : "rank-warped inputs with a learned warp"),
              std::string::npos)
        << s.method;
    EXPECT_EQ(parse_input_warp(input_warp_name(w)), w);
  }
  o.input_warp = InputWarp::Rank;
  // reversed evidence: data smooth in x, not in rank -> Auto keeps the plain encoding
  for (int a = 0; a < 12; ++a) Y(a, 0) = std::sin(0.9 * pool(a * 10 + 3, 0)) + 0.05 * std::cos(11.0 * a);
  const auto [arg_rank2, top_rank2, lml_rank2] = truth(Rp);
  const auto [arg_plain2, top_plain2, lml_plain2] = truth(Ep);
  ASSERT_GT(lml_plain2, lml_rank2 + 1.0);
  o.input_warp = InputWarp::Auto;
  const auto s = Optimizer(sp, o).suggest_pool(pool, measured, Y, 1);
  EXPECT_EQ(s.indices[0], arg_plain2);
  EXPECT_NEAR(s.acquisition(0), top_plain2, 1e-9);
  EXPECT_NE(s.method.find("plain inputs by evidence"), std::string::npos) << s.method;
}

TEST(Optimizer, PoolAcquisitionSeesTheMeasurementSpreadByDefaultAndTheLatentOneOnRequest) {
  // Noisy observations on a 1-D pool, so the fitted noise variance is material. Truth: log EI over every row from
  // an independently refitted surrogate with sd = sqrt(latent variance [+ noise variance]); Auto must equal
  // Measurement for pools, and continuous suggestions must keep the latent spread under Auto.
  const Pool1D g = pool_1d(201, Direction::Maximize);
  std::vector<std::size_t> measured;
  MatrixXd Y(40, 1);
  for (int a = 0; a < 40; ++a) {
    measured.push_back(static_cast<std::size_t>(a * 5 + 1));
    Y(a, 0) = f1(g.pool(a * 5 + 1, 0)) + 0.3 * std::sin(17.0 * a);  // deterministic "noise", sd ~0.2
  }
  const MatrixXd E = rows_of(g.Ep, measured);
  const std::set<std::size_t> taken(measured.begin(), measured.end());
  std::vector<std::size_t> chosen;
  std::vector<double> values;
  for (auto spread : {Spread::Auto, Spread::Measurement, Spread::Latent}) {
    OptimizerOptions o;
    o.spread = spread;
    const auto s = Optimizer(g.space, o).suggest_pool(g.pool, measured, Y, 1);
    GpOptions go = o.gp;
    go.normalize_x = false;
    go.seed = o.seed;
    GaussianProcess gp(go);
    gp.fit(E, Y.col(0));
    ASSERT_GT(gp.hyperparameters().noise_variance, 1e-3) << "the test needs a material noise variance";
    const auto [arg, top] = argmax_log_ei(gp.predict(g.Ep, spread != Spread::Latent), taken, Y.maxCoeff());
    EXPECT_EQ(s.indices[0], arg) << spread_name(spread);
    EXPECT_NEAR(s.acquisition(0), top, 1e-9 * std::max(1.0, std::abs(top))) << spread_name(spread);
    chosen.push_back(s.indices[0]);
    values.push_back(s.acquisition(0));
  }
  EXPECT_EQ(chosen[0], chosen[1]);
  EXPECT_GT(values[1], values[2] + 0.01);  // the wider spread raises log EI: the option is in effect
  // continuous: Auto is Latent
  Observations d;
  d.X = g.pool(Eigen::seq(1, 196, 5), Eigen::all);
  d.Y = Y;
  OptimizerOptions oa, ol;
  ol.spread = Spread::Latent;
  const auto sa = Optimizer(g.space, oa).suggest(d, 1), sl = Optimizer(g.space, ol).suggest(d, 1);
  EXPECT_EQ(sa.points(0, 0), sl.points(0, 0));
  EXPECT_EQ(sa.acquisition(0), sl.acquisition(0));
  EXPECT_THROW(parse_spread("noisy"), InvalidArgument);
  EXPECT_EQ(parse_spread(spread_name(Spread::Measurement)), Spread::Measurement);
}

TEST(Optimizer, LargePoolSearchedByBoundsFindsTheBruteForceArgmaxForEiPiUcbAndKbBatches) {
  // 30,000 rows (above the size where the optimiser bounds rows by their mean and the prior sd instead of computing
  // every posterior variance): the chosen rows equal an exhaustive evaluation with the same surrogate.
  auto rng = core::make_rng(12);
  const Space box = space_branin();
  const MatrixXd pool = box.sample(30000, rng);
  Space sp = Space::from_columns(pool, {"x1", "x2"});
  sp.objectives = {{"f", Direction::Minimize, ""}};
  std::vector<std::size_t> measured;
  MatrixXd Y(12, 1);
  for (int a = 0; a < 12; ++a) {
    measured.push_back(static_cast<std::size_t>(a) * 2477);
    Y(a, 0) = branin(pool(a * 2477, 0), pool(a * 2477, 1));
  }
  const MatrixXd Ep = sp.encode(pool);
  MatrixXd E(12, 2);
  for (int a = 0; a < 12; ++a) E.row(a) = Ep.row(static_cast<Eigen::Index>(measured[static_cast<std::size_t>(a)]));
  for (auto a : {Acquisition::EI, Acquisition::PI, Acquisition::UCB}) {
    OptimizerOptions o;
    o.acquisition = a;
    o.xi = a == Acquisition::PI ? 0.01 : 0.0;
    const Optimizer opt(sp, o);
    const auto s = opt.suggest_pool(pool, measured, Y, a == Acquisition::EI ? 2 : 1);
    GpOptions g = o.gp;
    g.normalize_x = false;
    g.seed = o.seed;
    GaussianProcess gp(g);
    gp.fit(E, -Y.col(0));
    std::set<std::size_t> taken(measured.begin(), measured.end());
    double best = -Y.minCoeff();
    for (std::size_t q = 0; q < s.indices.size(); ++q) {
      const auto p = gp.predict(Ep, true);  // pools: the spread of a new measurement (Spread::Auto)
      double top = -1e300;
      std::size_t arg = 0;
      for (Eigen::Index i = 0; i < Ep.rows(); ++i) {
        if (taken.count(static_cast<std::size_t>(i))) continue;
        const double v = acq_value(a, p.mean(i), std::sqrt(p.variance(i)), best, o, gp.y_scale());
        if (v > top) {
          top = v;
          arg = static_cast<std::size_t>(i);
        }
      }
      EXPECT_EQ(s.indices[q], arg) << acquisition_name(a) << " member " << q;
      EXPECT_NEAR(s.acquisition(static_cast<Eigen::Index>(q)), top, 1e-9 * std::max(1.0, std::abs(top)));
      // kriging believer: condition on the mean at the chosen row
      const double m = p.mean(static_cast<Eigen::Index>(arg));
      gp.add_observation(Ep.row(static_cast<Eigen::Index>(arg)).transpose(), m);
      best = std::max(best, m);
      taken.insert(arg);
    }
  }
}

TEST(Optimizer, PowerTransformedPoolSuggestionEqualsTheArgmaxOfAGpOnWarpedValues) {
  // y spanning decades, minimised: the optimiser signs y, warps it (Yeo-Johnson, ML lambda) and fits its GP there.
  // Truth: the same steps done here with the public pieces, then log EI over every unmeasured row; the reported
  // mean is the back-transformed posterior median in natural units.
  const Pool1D g = pool_1d(151, Direction::Minimize);
  std::vector<std::size_t> measured;
  MatrixXd Y(12, 1);
  for (int a = 0; a < 12; ++a) {
    measured.push_back(static_cast<std::size_t>(a * 12 + 5));
    const double x = g.pool(a * 12 + 5, 0);
    Y(a, 0) = std::exp(2.0 * std::cos(0.7 * x) + 0.3 * x);
  }
  OptimizerOptions o;
  o.y_transform = YTransform::Power;
  const auto s = Optimizer(g.space, o).suggest_pool(g.pool, measured, Y, 1);
  const VectorXd signed_y = -Y.col(0);
  const PowerTransform w = PowerTransform::fit(signed_y);
  ASSERT_GT(std::abs(w.lambda - 1), 0.3) << "lambda " << w.lambda << ": the test wants a real warp";
  VectorXd t(12);
  for (int a = 0; a < 12; ++a) t[a] = w.forward(signed_y[a]);
  GpOptions go = o.gp;
  go.normalize_x = false;
  go.seed = o.seed;
  GaussianProcess gp(go);
  gp.fit(rows_of(g.Ep, measured), t);
  const auto [arg, top] =
      argmax_log_ei(gp.predict(g.Ep, true), std::set<std::size_t>(measured.begin(), measured.end()), t.maxCoeff());
  EXPECT_EQ(s.indices[0], arg);
  EXPECT_NEAR(s.acquisition(0), top, 1e-9 * std::max(1.0, std::abs(top)));
  const auto lat = gp.predict(g.Ep.row(static_cast<Eigen::Index>(arg)));
  EXPECT_NEAR(s.mean(0, 0), -w.inverse(lat.mean(0)), 1e-9 * std::abs(s.mean(0, 0)));
  EXPECT_NEAR(s.sd(0, 0), std::abs(w.inverse_derivative(lat.mean(0))) * std::sqrt(lat.variance(0)),
              1e-9 * std::max(1.0, s.sd(0, 0)));
}

TEST(Optimizer, ShortRunBeatsRandomSearchOnBraninInMedianRegret) {
  const Space sp = space_branin();
  const double fmin = 0.397887357729739;
  const int n_init = 5, n_iter = 20, reps = 5;
  std::vector<double> bo_regret, rs_regret;
  for (int rep = 0; rep < reps; ++rep) {
    OptimizerOptions o;
    o.seed = static_cast<std::uint64_t>(100 + rep);
    o.candidates = 500;
    o.gp.restarts = 1;
    Observations d;
    d.X = Optimizer(sp, o).suggest({}, n_init).points;
    d.Y.resize(n_init, 1);
    for (int i = 0; i < n_init; ++i) d.Y(i, 0) = branin(d.X(i, 0), d.X(i, 1));
    for (int it = 0; it < n_iter; ++it) {
      o.seed += 1000;
      const auto s = Optimizer(sp, o).suggest(d, 1);
      d.X.conservativeResize(d.X.rows() + 1, Eigen::NoChange);
      d.Y.conservativeResize(d.Y.rows() + 1, Eigen::NoChange);
      d.X.row(d.X.rows() - 1) = s.points.row(0);
      d.Y(d.Y.rows() - 1, 0) = branin(s.points(0, 0), s.points(0, 1));
    }
    bo_regret.push_back(d.Y.minCoeff() - fmin);
    auto rng = core::make_rng(static_cast<std::uint64_t>(200 + rep));
    const MatrixXd R = sp.sample(n_init + n_iter, rng);
    double best = 1e300;
    for (Eigen::Index i = 0; i < R.rows(); ++i) best = std::min(best, branin(R(i, 0), R(i, 1)));
    rs_regret.push_back(best - fmin);
  }
  std::sort(bo_regret.begin(), bo_regret.end());
  std::sort(rs_regret.begin(), rs_regret.end());
  EXPECT_LT(bo_regret[reps / 2], rs_regret[reps / 2]);
  EXPECT_LT(bo_regret[reps / 2], 0.1);  // 25 evaluations get close to one of the three global minima
}
