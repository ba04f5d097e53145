// tsunagu::nn importance: Garson and Olden against hand arithmetic on fixed networks (built with Mlp::from_json),
// permutation importance against an analytic stub and a hand-built network's loss, recovery of planted importances
// by trained networks, rank agreement, ensemble summaries and input validation messages.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>
#include <utility>
#include <vector>

#include "tsunagu/core/error.hpp"
#include "tsunagu/core/random.hpp"
#include "tsunagu/nn/importance.hpp"
#include "tsunagu/nn/mlp.hpp"

using namespace tsunagu;
using namespace tsunagu::nn;
using Eigen::MatrixXd;
using Eigen::VectorXd;
using json = nlohmann::json;

namespace {

json empty_history() {
  return json{{"train_loss", json::array()}, {"val_loss", json::array()}, {"learning_rate", json::array()},
              {"epochs_run", 0},           {"best_epoch", -1},          {"early_stopped", false},
              {"device", "cpu"},           {"seconds", 0.0},            {"samples_per_second", 0.0},
              {"message", ""}};
}

json rows_of(const MatrixXd& W) {
  json rows = json::array();
  for (Eigen::Index i = 0; i < W.rows(); ++i) {
    json r = json::array();
    for (Eigen::Index j = 0; j < W.cols(); ++j) r.push_back(W(i, j));
    rows.push_back(r);
  }
  return rows;
}

// A network with the given layer weights (hidden layers then output), zero biases unless given, identity scalers
// unless given (x_scale: feature scales; y_scale: target scales).
Mlp make_net(const std::vector<MatrixXd>& W, const std::string& activation = "tanh", const std::string& task = "regression",
             std::vector<double> x_scale = {}, std::vector<double> y_scale = {}, std::vector<VectorXd> b = {}) {
  MlpOptions o;
  o.hidden.clear();
  for (std::size_t l = 0; l + 1 < W.size(); ++l) o.hidden.push_back(static_cast<int>(W[l].rows()));
  o.activation = parse_activation(activation);
  o.task = parse_task(task);
  const auto n_in = static_cast<std::size_t>(W.front().cols()), n_out = static_cast<std::size_t>(W.back().rows());
  if (x_scale.empty()) x_scale.assign(n_in, 1.0);
  if (y_scale.empty()) y_scale.assign(n_out, 1.0);
  json layers = json::array();
  for (std::size_t l = 0; l < W.size(); ++l) {
    const VectorXd bias = l < b.size() ? b[l] : VectorXd::Zero(W[l].rows());
    layers.push_back(json{{"weight", rows_of(W[l])}, {"bias", std::vector<double>(bias.data(), bias.data() + bias.size())}});
  }
  return Mlp::from_json(json{{"format", "tsunagu-mlp"},
                             {"version", 1},
                             {"options", o.to_json()},
                             {"feature_scaler", {{"mean", std::vector<double>(n_in, 0.0)}, {"scale", x_scale}}},
                             {"target_scaler", {{"mean", std::vector<double>(n_out, 0.0)}, {"scale", y_scale}}},
                             {"layers", layers},
                             {"history", empty_history()}});
}

MatrixXd mat(int r, int c, std::initializer_list<double> v) {
  MatrixXd M(r, c);
  auto it = v.begin();
  for (int i = 0; i < r; ++i)
    for (int j = 0; j < c; ++j) M(i, j) = *it++;
  return M;
}

VectorXd vec(std::initializer_list<double> v) {
  VectorXd x(static_cast<Eigen::Index>(v.size()));
  Eigen::Index i = 0;
  for (double d : v) x(i++) = d;
  return x;
}

// 3 inputs -> 2 hidden -> 1 output (see the arithmetic in the first tests).
//   w (hidden x input) = [[1, -2, 1], [3, 0, -1]],  v (output x hidden) = [[2, -1]]
MatrixXd w_3_2() { return mat(2, 3, {1, -2, 1, 3, 0, -1}); }

template <class E, class F>
std::string message_of(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  ADD_FAILURE() << "no exception";
  return "";
}

double normal(core::Rng& rng) {  // Box-Muller
  const double u1 = 1.0 - core::uniform01(rng), u2 = core::uniform01(rng);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

MatrixXd normal_matrix(Eigen::Index n, Eigen::Index p, core::Rng& rng) {
  MatrixXd X(n, p);
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index j = 0; j < p; ++j) X(i, j) = normal(rng);
  return X;
}

// The planted-importance networks. Weight decay 1e-2 matters for Garson: without it the weights from the irrelevant
// inputs keep their initial size (U(-1/sqrt(5), 1/sqrt(5))) and, being summed as absolute values, give the noise
// inputs Garson shares near that of x2 (0.5 x2 is 0.14 SD of y): with 1e-3, 7 of 20 seeds ranked a noise input above
// x2; with 1e-2, 0 of 20 (smallest margin 0.067), while permutation and Olden ranked correctly in all 20 either way.
MlpOptions planted_options(std::uint64_t seed) {
  MlpOptions o;
  o.hidden = {16};
  o.activation = Activation::Tanh;
  o.epochs = 200;
  o.patience = 0;
  o.validation_fraction = 0.0;
  o.learning_rate = 3e-3;
  o.schedule = LrSchedule::Constant;
  o.batch_size = 32;
  o.weight_decay = 1e-2;
  o.device = "cpu";
  o.threads = 1;
  o.seed = seed;
  return o;
}

}  // namespace

// ---- Garson --------------------------------------------------------------------------------------------------------

TEST(Garson, OneHiddenLayerIsFiveTwelfthsOneThirdOneQuarter) {
  // Shares of each hidden unit's absolute input:
  //   h0: |1|, |-2|, |1| of 4 -> (0.25, 0.5, 0.25);   h1: |3|, |0|, |-1| of 4 -> (0.75, 0, 0.25)
  // weighted by |v| = (2, 1) and divided by sum |v| = 3:
  //   x0: (2*0.25 + 1*0.75)/3 = 1.25/3 = 5/12;  x1: (2*0.5 + 0)/3 = 1/3;  x2: (2*0.25 + 1*0.25)/3 = 0.75/3 = 1/4.
  const Mlp net = make_net({w_3_2(), mat(1, 2, {2, -1})});
  const VectorXd g = garson_importance(net);
  ASSERT_EQ(g.size(), 3);
  EXPECT_NEAR(g(0), 5.0 / 12.0, 1e-15);
  EXPECT_NEAR(g(1), 1.0 / 3.0, 1e-15);
  EXPECT_NEAR(g(2), 0.25, 1e-15);
  EXPECT_NEAR(g.sum(), 1.0, 1e-15);
  const MatrixXd G = garson_importance_per_output(net);
  ASSERT_EQ(G.rows(), 3);
  ASSERT_EQ(G.cols(), 1);
  EXPECT_LT((G.col(0) - g).cwiseAbs().maxCoeff(), 1e-15);
}

TEST(Garson, TwoOutputsGivePerOutputColumnsAndTheirMean) {
  // Output 0 as above (5/12, 1/3, 1/4); output 1 has v = (0, 4): only h1 counts -> (0.75, 0, 0.25).
  // Mean: (5/12 + 3/4)/2 = 7/12, (1/3 + 0)/2 = 1/6, (1/4 + 1/4)/2 = 1/4.
  const Mlp net = make_net({w_3_2(), mat(2, 2, {2, -1, 0, 4})});
  const MatrixXd G = garson_importance_per_output(net);
  ASSERT_EQ(G.rows(), 3);
  ASSERT_EQ(G.cols(), 2);
  const MatrixXd expected = mat(3, 2, {5.0 / 12, 0.75, 1.0 / 3, 0.0, 0.25, 0.25});
  EXPECT_LT((G - expected).cwiseAbs().maxCoeff(), 1e-15);
  const VectorXd g = garson_importance(net);
  EXPECT_NEAR(g(0), 7.0 / 12.0, 1e-15);
  EXPECT_NEAR(g(1), 1.0 / 6.0, 1e-15);
  EXPECT_NEAR(g(2), 0.25, 1e-15);
}

TEST(Garson, TwoHiddenLayersPropagateSharesToOneThirdTwoThirds) {
  // 2 -> 2 -> 2 -> 1. Share matrices (rows = receiving unit):
  //   P0 from W0 = [[1, -3], [2, 2]]:  [[1/4, 3/4], [1/2, 1/2]]
  //   P1 from W1 = [[1, 1], [-3, 1]]:  [[1/2, 1/2], [3/4, 1/4]]
  //   P2 from W2 = [[1, -2]]:          [[1/3, 2/3]]
  //   P2 P1 = [1/3*1/2 + 2/3*3/4, 1/3*1/2 + 2/3*1/4] = [2/3, 1/3]
  //   P2 P1 P0 = [2/3*1/4 + 1/3*1/2, 2/3*3/4 + 1/3*1/2] = [1/3, 2/3]
  const Mlp net = make_net({mat(2, 2, {1, -3, 2, 2}), mat(2, 2, {1, 1, -3, 1}), mat(1, 2, {1, -2})});
  const VectorXd g = garson_importance(net);
  EXPECT_NEAR(g(0), 1.0 / 3.0, 1e-15);
  EXPECT_NEAR(g(1), 2.0 / 3.0, 1e-15);
}

TEST(Garson, LinearModelIsNormalisedAbsoluteWeightsHalfQuarterQuarter) {
  // No hidden layer, W = [[2, -1, 1]]: |W| / 4 = (0.5, 0.25, 0.25).
  const Mlp net = make_net({mat(1, 3, {2, -1, 1})});
  const VectorXd g = garson_importance(net);
  EXPECT_NEAR(g(0), 0.5, 1e-15);
  EXPECT_NEAR(g(1), 0.25, 1e-15);
  EXPECT_NEAR(g(2), 0.25, 1e-15);
}

TEST(Garson, ADisconnectedOutputGetsAZeroColumn) {
  const Mlp net = make_net({w_3_2(), mat(2, 2, {2, -1, 0, 0})});
  const MatrixXd G = garson_importance_per_output(net);
  EXPECT_EQ(G.col(1), VectorXd::Zero(3));
  EXPECT_NEAR(G.col(0).sum(), 1.0, 1e-15);
  EXPECT_NEAR(garson_importance(net).sum(), 0.5, 1e-15);
}

// ---- Olden ---------------------------------------------------------------------------------------------------------

TEST(Olden, OneHiddenLayerIsMinusOneMinusFourThree) {
  // C_i = sum_j w_ji v_j with v = (2, -1):
  //   x0: 1*2 + 3*(-1) = -1;  x1: (-2)*2 + 0*(-1) = -4;  x2: 1*2 + (-1)*(-1) = 3.
  const Mlp net = make_net({w_3_2(), mat(1, 2, {2, -1})});
  const VectorXd c = olden_importance(net);
  ASSERT_EQ(c.size(), 3);
  EXPECT_NEAR(c(0), -1.0, 1e-15);
  EXPECT_NEAR(c(1), -4.0, 1e-15);
  EXPECT_NEAR(c(2), 3.0, 1e-15);
}

TEST(Olden, TwoOutputsGivePerOutputColumnsAndTheirMean) {
  // Output 1 with v = (0, 4): 4 * (3, 0, -1) = (12, 0, -4). Mean with (-1, -4, 3): (5.5, -2, -0.5).
  const Mlp net = make_net({w_3_2(), mat(2, 2, {2, -1, 0, 4})});
  const MatrixXd C = olden_importance_per_output(net);
  const MatrixXd expected = mat(3, 2, {-1, 12, -4, 0, 3, -4});
  EXPECT_LT((C - expected).cwiseAbs().maxCoeff(), 1e-15);
  const VectorXd c = olden_importance(net);
  EXPECT_NEAR(c(0), 5.5, 1e-15);
  EXPECT_NEAR(c(1), -2.0, 1e-15);
  EXPECT_NEAR(c(2), -0.5, 1e-15);
}

TEST(Olden, TwoHiddenLayersAreTheWeightProductFiveMinusTwentyThree) {
  // W2 W1 = [1, -2] [[1, 1], [-3, 1]] = [1 + 6, 1 - 2] = [7, -1];
  // (W2 W1) W0 = [7, -1] [[1, -3], [2, 2]] = [7 - 2, -21 - 2] = [5, -23].
  const Mlp net = make_net({mat(2, 2, {1, -3, 2, 2}), mat(2, 2, {1, 1, -3, 1}), mat(1, 2, {1, -2})});
  const VectorXd c = olden_importance(net);
  EXPECT_NEAR(c(0), 5.0, 1e-14);
  EXPECT_NEAR(c(1), -23.0, 1e-14);
}

TEST(Olden, LinearModelIsTheWeights) {
  const Mlp net = make_net({mat(1, 3, {2, -1, 1})});
  EXPECT_EQ(olden_importance(net), vec({2, -1, 1}));
}

TEST(Olden, WeightsAreInTheStandardisedSpaceSoScalersDoNotChangeThem) {
  // The same weights with other scalers: Garson and Olden read the scaled-space weights unchanged (one SD of input).
  const Mlp a = make_net({w_3_2(), mat(1, 2, {2, -1})});
  const Mlp b = make_net({w_3_2(), mat(1, 2, {2, -1})}, "tanh", "regression", {10.0, 0.1, 3.0}, {5.0});
  EXPECT_EQ(olden_importance(a), olden_importance(b));
  EXPECT_EQ(garson_importance(a), garson_importance(b));
}

// ---- permutation importance ------------------------------------------------------------------------------------------

TEST(Permutation, StubPredictorColumnZeroIncreasesMseByTwiceItsVarianceOthersExactlyZero) {
  // predict(X) = X.col(0), Y = X.col(0): baseline 0. Permuting column 0 gives mean((x_pi - x)^2), whose expectation
  // over uniform permutations is 2 (mean(x^2) - mean(x)^2) = 2 Var_pop(x0). Other columns are never read: exactly 0.
  core::Rng rng = core::make_rng(11);
  const MatrixXd X = normal_matrix(1000, 3, rng);
  const MatrixXd Y = X.col(0);
  const Predictor stub = [](const MatrixXd& A) -> MatrixXd { return A.col(0); };
  PermutationOptions o;
  o.repeats = 50;
  o.seed = 3;
  const PermutationImportance r = permutation_importance(stub, X, Y, o);
  const double var = (X.col(0).array() - X.col(0).mean()).square().mean();
  EXPECT_EQ(r.baseline_loss, 0.0);
  EXPECT_NEAR(r.mean(0), 2.0 * var, 0.05 * 2.0 * var);  // ~8 standard errors of the mean of 50 repeats
  EXPECT_GT(r.sd(0), 0.0);
  EXPECT_EQ(r.mean(1), 0.0);
  EXPECT_EQ(r.mean(2), 0.0);
  EXPECT_EQ(r.sd(1), 0.0);
  EXPECT_EQ(r.sd(2), 0.0);
  // Deterministic for a seed, different for another seed.
  const PermutationImportance again = permutation_importance(stub, X, Y, o);
  EXPECT_EQ(again.mean, r.mean);
  EXPECT_EQ(again.sd, r.sd);
  o.seed = 4;
  EXPECT_NE(permutation_importance(stub, X, Y, o).mean(0), r.mean(0));
}

TEST(Permutation, MlpBaselineIsTheTrainingLossInOriginalUnitsAndMatchesThePredictorVersion) {
  // Regression: baseline = MSE in original units = Mlp::loss (scaled units) * s_y^2 for one output.
  const Mlp net = make_net({w_3_2(), mat(1, 2, {2, -1})}, "tanh", "regression", {2.0, 0.5, 1.0}, {3.0},
                           {vec({0.1, -0.2}), vec({0.3})});
  core::Rng rng = core::make_rng(5);
  const MatrixXd X = normal_matrix(40, 3, rng);
  MatrixXd Y = net.predict_reference(X);
  for (Eigen::Index i = 0; i < Y.rows(); ++i) Y(i, 0) += normal(rng);
  PermutationOptions o;
  o.repeats = 4;
  const PermutationImportance r = permutation_importance(net, X, Y, o);
  EXPECT_NEAR(r.baseline_loss, net.loss(X, Y) * 9.0, 1e-10 * r.baseline_loss);
  const PermutationImportance s =
      permutation_importance([&](const MatrixXd& A) -> MatrixXd { return net.predict_reference(A); }, X, Y, o);
  EXPECT_EQ(r.mean, s.mean);
  EXPECT_EQ(r.sd, s.sd);
  EXPECT_EQ(r.baseline_loss, s.baseline_loss);
  // Binary: the log loss equals Mlp::loss (binary cross-entropy).
  const Mlp clf = make_net({w_3_2(), mat(1, 2, {2, -1})}, "tanh", "binary");
  MatrixXd labels(40, 1);
  for (Eigen::Index i = 0; i < 40; ++i) labels(i, 0) = X(i, 0) + 0.5 * X(i, 2) > 0 ? 1.0 : 0.0;
  const PermutationImportance b = permutation_importance(clf, X, labels, o);
  EXPECT_NEAR(b.baseline_loss, clf.loss(X, labels), 1e-12);
}

TEST(Permutation, PlantedLinearRankingIsRecoveredByPermutationOldenAndGarson) {
  // y = 3 x0 - 2 x1 + 0.5 x2 + 0 x3 + 0 x4 + 0.1 noise, x ~ N(0, 1): ranking x0 > x1 > x2 > {x3, x4}.
  core::Rng rng = core::make_rng(2024);
  const MatrixXd X = normal_matrix(400, 5, rng), Xt = normal_matrix(200, 5, rng);
  auto target = [&](const MatrixXd& A) {
    MatrixXd y(A.rows(), 1);
    for (Eigen::Index i = 0; i < A.rows(); ++i)
      y(i, 0) = 3 * A(i, 0) - 2 * A(i, 1) + 0.5 * A(i, 2) + 0.1 * normal(rng);
    return y;
  };
  const MatrixXd Y = target(X), Yt = target(Xt);
  const Mlp net = Mlp::fit(X, Y, planted_options(7));
  const PermutationImportance perm = permutation_importance(net, Xt, Yt, {});
  const VectorXd olden = olden_importance(net), garson = garson_importance(net);
  for (const auto& [name, v] : {std::pair<std::string, VectorXd>{"permutation", perm.mean},
                                {"|olden|", olden.cwiseAbs()}, {"garson", garson}}) {
    EXPECT_GT(v(0), v(1)) << name << ": " << v.transpose();
    EXPECT_GT(v(1), v(2)) << name << ": " << v.transpose();
    EXPECT_GT(v(2), std::max(v(3), v(4))) << name << ": " << v.transpose();
  }
  // Olden keeps the sign of the effect: x1 acts negatively.
  EXPECT_GT(olden(0), 0.0);
  EXPECT_LT(olden(1), 0.0);
  EXPECT_GT(olden(2), 0.0);
  EXPECT_GT(rank_agreement(perm.mean, olden), 0.8);
  EXPECT_GT(rank_agreement(perm.mean, garson), 0.8);
}

TEST(Permutation, PlantedNonlinearInputsSin2x0AndX1SquaredRankAboveNoise) {
  // y = sin(2 x0) + x1^2 + 0.1 noise with three noise inputs. x1^2 is even, so its weight paths cancel in Olden's
  // signed sum (over 20 seeds |Olden(x1)| < |Olden(x0)| in all, below a noise input's in 3); permutation importance
  // sees both effects (x1 about 2.5-5, x0 about 0.65-1.05, noise inputs below 0.04 over 20 seeds).
  core::Rng rng = core::make_rng(99);
  const MatrixXd X = normal_matrix(400, 5, rng), Xt = normal_matrix(200, 5, rng);
  auto target = [&](const MatrixXd& A) {
    MatrixXd y(A.rows(), 1);
    for (Eigen::Index i = 0; i < A.rows(); ++i)
      y(i, 0) = std::sin(2 * A(i, 0)) + A(i, 1) * A(i, 1) + 0.1 * normal(rng);
    return y;
  };
  const MatrixXd Y = target(X), Yt = target(Xt);
  MlpOptions o = planted_options(8);
  o.epochs = 300;
  const Mlp net = Mlp::fit(X, Y, o);
  const PermutationImportance perm = permutation_importance(net, Xt, Yt, {});
  const double noise_max = perm.mean.tail(3).maxCoeff();
  EXPECT_GT(perm.mean(0), noise_max) << perm.mean.transpose();
  EXPECT_GT(perm.mean(1), noise_max) << perm.mean.transpose();
  EXPECT_GT(perm.mean(0), 0.2) << perm.mean.transpose();
  EXPECT_GT(perm.mean(1), 0.2) << perm.mean.transpose();
}

// ---- rank agreement ------------------------------------------------------------------------------------------------

TEST(RankAgreement, IdenticalIsOneReversedIsMinusOneSignsIgnored) {
  const VectorXd a = vec({0.1, 0.5, 0.3, 0.9});
  EXPECT_DOUBLE_EQ(rank_agreement(a, a), 1.0);
  EXPECT_DOUBLE_EQ(rank_agreement(a, vec({0.9, 0.1, 0.3, 0.05})), -1.0);
  // |.| is ranked: (-3, 1, 2) ranks as (3, 1, 2).
  EXPECT_DOUBLE_EQ(rank_agreement(vec({-3, 1, 2}), vec({3, 1, 2})), 1.0);
  // Scale does not matter.
  EXPECT_DOUBLE_EQ(rank_agreement(a, 7.0 * a), 1.0);
}

TEST(RankAgreement, TiesShareTheAverageRankGiving0point9487) {
  // a = (1, 2, 2, 3) -> ranks (1, 2.5, 2.5, 4); b = (1, 2, 3, 4) -> ranks (1, 2, 3, 4); both have mean 2.5.
  // Deviations (-1.5, 0, 0, 1.5) and (-1.5, -0.5, 0.5, 1.5): sum of products 4.5, sums of squares 4.5 and 5,
  // r = 4.5 / sqrt(22.5) = 0.9486833.
  EXPECT_NEAR(rank_agreement(vec({1, 2, 2, 3}), vec({1, 2, 3, 4})), 4.5 / std::sqrt(22.5), 1e-15);
  // All tied: no ranking, NaN.
  EXPECT_TRUE(std::isnan(rank_agreement(vec({1, 1, 1}), vec({1, 2, 3}))));
}

// ---- summaries -----------------------------------------------------------------------------------------------------

TEST(Summary, PercentileIntervalByHand) {
  // Column 0 = (1..5): mean 3; q(0.025): h = 4 * 0.025 = 0.1 -> 1 + 0.1 = 1.1; q(0.975): h = 3.9 -> 4 + 0.9 = 4.9.
  // Column 1 sorted (-5, 0, 5, 10, 20): mean 6; q(0.025) = -5 + 0.1*5 = -4.5; q(0.975) = 10 + 0.9*10 = 19.
  const MatrixXd M = mat(5, 2, {1, 10, 2, 0, 3, 5, 4, 20, 5, -5});
  const ImportanceSummary s = summarize_importance(M);
  EXPECT_NEAR(s.mean(0), 3.0, 1e-15);
  EXPECT_NEAR(s.mean(1), 6.0, 1e-15);
  EXPECT_NEAR(s.ci_low(0), 1.1, 1e-14);
  EXPECT_NEAR(s.ci_high(0), 4.9, 1e-14);
  EXPECT_NEAR(s.ci_low(1), -4.5, 1e-14);
  EXPECT_NEAR(s.ci_high(1), 19.0, 1e-14);
  EXPECT_NEAR(s.sd(0), std::sqrt(2.5), 1e-15);
  // level 0.5: quartiles, h = 1 and 3 exactly -> 2 and 4.
  const ImportanceSummary q = summarize_importance(M, 0.5);
  EXPECT_NEAR(q.ci_low(0), 2.0, 1e-15);
  EXPECT_NEAR(q.ci_high(0), 4.0, 1e-15);
  // One member: a zero-width interval at its value.
  const ImportanceSummary one = summarize_importance(mat(1, 2, {0.3, 0.7}));
  EXPECT_EQ(one.ci_low, vec({0.3, 0.7}));
  EXPECT_EQ(one.ci_high, vec({0.3, 0.7}));
  EXPECT_EQ(one.sd, vec({0.0, 0.0}));
}

TEST(Summary, StudentTIntervalUsesTheTQuantile) {
  // Column 0 = (1..5): sd = sqrt(2.5), t_{0.975, 4} = 2.7764451051977934, half width = t sd / sqrt(5).
  const MatrixXd M = mat(5, 2, {1, 10, 2, 0, 3, 5, 4, 20, 5, -5});
  const ImportanceSummary s = summarize_importance(M, 0.95, IntervalMethod::StudentT);
  const double half = 2.7764451051977934 * std::sqrt(2.5) / std::sqrt(5.0);
  EXPECT_NEAR(s.ci_low(0), 3.0 - half, 1e-12);
  EXPECT_NEAR(s.ci_high(0), 3.0 + half, 1e-12);
  // Reference values from scipy.stats.t.ppf (SciPy 1.x).
  EXPECT_NEAR(student_t_quantile(0.975, 1), 12.706204736174694, 1e-10);
  EXPECT_NEAR(student_t_quantile(0.975, 9), 2.262157162798205, 1e-12);
  EXPECT_NEAR(student_t_quantile(0.95, 30), 1.697260886593957, 1e-12);
  EXPECT_NEAR(student_t_quantile(0.025, 4), -2.7764451051977934, 1e-12);
  EXPECT_NEAR(student_t_quantile(0.995, 2.5), 7.163728138948783, 1e-10);
  EXPECT_EQ(student_t_quantile(0.5, 3), 0.0);
}

// ---- validation ----------------------------------------------------------------------------------------------------

TEST(ImportanceInput, BadInputsAreRefusedWithMessagesNamingTheProblem) {
  const Mlp empty;
  std::string m = message_of<InvalidArgument>([&] { garson_importance(empty); });
  EXPECT_NE(m.find("empty"), std::string::npos) << m;
  m = message_of<InvalidArgument>([&] { olden_importance(empty); });
  EXPECT_NE(m.find("empty"), std::string::npos) << m;
  m = message_of<InvalidArgument>([&] { permutation_importance(empty, MatrixXd::Zero(3, 3), MatrixXd::Zero(3, 1)); });
  EXPECT_NE(m.find("empty"), std::string::npos) << m;

  const Mlp net = make_net({w_3_2(), mat(1, 2, {2, -1})});
  m = message_of<InvalidArgument>([&] { permutation_importance(net, MatrixXd::Zero(3, 4), MatrixXd::Zero(3, 1)); });
  EXPECT_NE(m.find("X has 4 columns but the network has 3 inputs"), std::string::npos) << m;
  m = message_of<InvalidArgument>([&] { permutation_importance(net, MatrixXd::Zero(3, 3), MatrixXd::Zero(2, 1)); });
  EXPECT_NE(m.find("X has 3 rows but Y has 2"), std::string::npos) << m;
  m = message_of<InvalidArgument>([&] { permutation_importance(net, MatrixXd::Zero(3, 3), MatrixXd::Zero(3, 2)); });
  EXPECT_NE(m.find("Y has 2 columns but the network has 1 outputs"), std::string::npos) << m;
  m = message_of<InvalidArgument>([&] { permutation_importance(net, MatrixXd::Zero(1, 3), MatrixXd::Zero(1, 1)); });
  EXPECT_NE(m.find("at least 2 rows"), std::string::npos) << m;
  PermutationOptions bad;
  bad.repeats = 0;
  m = message_of<InvalidArgument>([&] { permutation_importance(net, MatrixXd::Zero(3, 3), MatrixXd::Zero(3, 1), bad); });
  EXPECT_NE(m.find("'repeats' = 0"), std::string::npos) << m;
  MatrixXd X = MatrixXd::Zero(3, 3);
  X(1, 2) = NAN;
  m = message_of<InvalidArgument>([&] { permutation_importance(net, X, MatrixXd::Zero(3, 1)); });
  EXPECT_NE(m.find("X: non-finite value nan at row 1, column 2"), std::string::npos) << m;
  MatrixXd Y = MatrixXd::Zero(3, 1);
  Y(2, 0) = INFINITY;
  m = message_of<InvalidArgument>([&] { permutation_importance(net, MatrixXd::Zero(3, 3), Y); });
  EXPECT_NE(m.find("Y: non-finite value inf at row 2, column 0"), std::string::npos) << m;
  const Mlp clf = make_net({w_3_2(), mat(1, 2, {2, -1})}, "tanh", "binary");
  m = message_of<InvalidArgument>([&] { permutation_importance(clf, MatrixXd::Zero(3, 3), MatrixXd::Constant(3, 1, 2.0)); });
  EXPECT_NE(m.find("labels must be in [0, 1]"), std::string::npos) << m;

  // Predictors returning the wrong shape or non-finite values.
  const Predictor wrong = [](const MatrixXd& A) -> MatrixXd { return MatrixXd::Zero(A.rows(), 2); };
  m = message_of<InvalidArgument>([&] { permutation_importance(wrong, MatrixXd::Zero(3, 3), MatrixXd::Zero(3, 1)); });
  EXPECT_NE(m.find("expected (3, 1)"), std::string::npos) << m;
  const Predictor nan = [](const MatrixXd& A) -> MatrixXd { return MatrixXd::Constant(A.rows(), 1, NAN); };
  EXPECT_THROW(permutation_importance(nan, MatrixXd::Zero(3, 3), MatrixXd::Zero(3, 1)), NumericalError);
  m = message_of<InvalidArgument>([&] { permutation_importance(Predictor{}, MatrixXd::Zero(3, 3), MatrixXd::Zero(3, 1)); });
  EXPECT_NE(m.find("predictor is empty"), std::string::npos) << m;

  m = message_of<InvalidArgument>([&] { rank_agreement(vec({1, 2, 3}), vec({1, 2})); });
  EXPECT_NE(m.find("a has 3 values but b has 2"), std::string::npos) << m;
  m = message_of<InvalidArgument>([&] { rank_agreement(vec({1}), vec({1})); });
  EXPECT_NE(m.find("at least 2 values"), std::string::npos) << m;
  m = message_of<InvalidArgument>([&] { rank_agreement(vec({1, NAN}), vec({1, 2})); });
  EXPECT_NE(m.find("non-finite"), std::string::npos) << m;

  m = message_of<InvalidArgument>([&] { summarize_importance(MatrixXd(0, 3)); });
  EXPECT_NE(m.find("no members"), std::string::npos) << m;
  m = message_of<InvalidArgument>([&] { summarize_importance(MatrixXd::Zero(3, 2), 1.5); });
  EXPECT_NE(m.find("level = 1.5"), std::string::npos) << m;
  m = message_of<InvalidArgument>([&] { summarize_importance(MatrixXd::Zero(1, 2), 0.95, IntervalMethod::StudentT); });
  EXPECT_NE(m.find("at least 2 members"), std::string::npos) << m;
  MatrixXd P = MatrixXd::Zero(2, 2);
  P(0, 1) = NAN;
  m = message_of<InvalidArgument>([&] { summarize_importance(P); });
  EXPECT_NE(m.find("non-finite"), std::string::npos) << m;
}
