// tsunagu::nn training through LibTorch. Truths: central finite differences of loss() and the closed-form gradient
// of a linear model (autograd), the Eigen reference forward pass (predict), LibTorch's own torch::linear (the Eigen
// GEMM kernels), recomputation of the schedules and of the early-stopping rule from the recorded history, and
// learning sanity checks on a smooth function and a separable classification problem.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <thread>

#include "../../src/nn/torch_backend.hpp"
#include "tsunagu/core/error.hpp"
#include "tsunagu/core/random.hpp"
#include "tsunagu/nn/mlp.hpp"

using namespace tsunagu;
using namespace tsunagu::nn;
using Eigen::MatrixXd;
using Eigen::VectorXd;

namespace {

MatrixXd uniform(int n, int p, double lo, double hi, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> U(lo, hi);
  MatrixXd X(n, p);
  for (int j = 0; j < p; ++j)
    for (int i = 0; i < n; ++i) X(i, j) = U(rng);
  return X;
}

// y = sin(x1) + x2^2 (+ a second output 0.5 x1 - x3 when q = 2).
MatrixXd smooth_targets(const MatrixXd& X, int q = 1) {
  MatrixXd Y(X.rows(), q);
  for (int i = 0; i < X.rows(); ++i) {
    Y(i, 0) = std::sin(X(i, 0)) + X(i, 1) * X(i, 1);
    if (q > 1) Y(i, 1) = 0.5 * X(i, 0) - X(i, 2);
  }
  return Y;
}

MlpOptions quick(std::vector<int> hidden, int epochs, Activation a = Activation::Tanh) {
  MlpOptions o;
  o.hidden = std::move(hidden);
  o.activation = a;
  o.epochs = epochs;
  o.threads = 1;
  o.device = "cpu";
  return o;
}

double max_rel(const MatrixXd& a, const MatrixXd& b) {
  return (a - b).cwiseAbs().maxCoeff() / std::max(1.0, b.cwiseAbs().maxCoeff());
}

// Central differences of loss() in every parameter; returns max |analytic - fd| / max(1, max |fd|).
double fd_gradient_error(Mlp& m, const MatrixXd& X, const MatrixXd& Y, double h = 1e-6) {
  VectorXd g;
  m.loss(X, Y, &g);
  const VectorXd theta = m.parameters();
  EXPECT_EQ(g.size(), theta.size());
  VectorXd fd(theta.size());
  for (Eigen::Index k = 0; k < theta.size(); ++k) {
    VectorXd t = theta;
    t(k) += h;
    m.set_parameters(t);
    const double lp = m.loss(X, Y);
    t(k) -= 2 * h;
    m.set_parameters(t);
    const double lm = m.loss(X, Y);
    fd(k) = (lp - lm) / (2 * h);
  }
  m.set_parameters(theta);
  return (g - fd).cwiseAbs().maxCoeff() / std::max(1.0, fd.cwiseAbs().maxCoeff());
}

}  // namespace

// ---- gradients -------------------------------------------------------------------------------------------------------

TEST(MlpGradient, MatchesFiniteDifferencesTanh) {
  const MatrixXd X = uniform(25, 3, -2, 2, 1);
  const MatrixXd Y = smooth_targets(X, 2);
  Mlp m = Mlp::fit(X, Y, quick({4}, 3));
  ASSERT_EQ(m.parameters().size(), 3 * 4 + 4 + 4 * 2 + 2);
  EXPECT_LT(fd_gradient_error(m, X, Y), 1e-7);
  // Two hidden layers, other smooth activations.
  for (Activation a : {Activation::Silu, Activation::Gelu, Activation::Sigmoid}) {
    Mlp m2 = Mlp::fit(X, Y, quick({5, 3}, 2, a));
    EXPECT_LT(fd_gradient_error(m2, X, Y), 1e-7) << activation_name(a);
  }
}

TEST(MlpGradient, MatchesFiniteDifferencesReluAwayFromKinks) {
  const MatrixXd X = uniform(30, 3, -2, 2, 2);
  const MatrixXd Y = smooth_targets(X, 1);
  for (Activation a : {Activation::Relu, Activation::LeakyRelu}) {
    Mlp m = Mlp::fit(X, Y, quick({6, 4}, 2, a));
    // Every pre-activation must be farther from 0 than the finite-difference step can move it.
    MatrixXd A = m.feature_scaler().transform(X);
    for (std::size_t l = 0; l + 1 < m.weights().size(); ++l) {
      MatrixXd Z = A * m.weights()[l].transpose();
      Z.rowwise() += m.biases()[l].transpose();
      ASSERT_GT(Z.cwiseAbs().minCoeff(), 1e-4) << "data set hits a kink; pick another seed";
      A = a == Activation::Relu ? MatrixXd(Z.cwiseMax(0.0)) : MatrixXd((Z.array() > 0).select(Z, 0.01 * Z));
    }
    EXPECT_LT(fd_gradient_error(m, X, Y), 1e-7) << activation_name(a);
  }
}

TEST(MlpGradient, BinaryCrossEntropyMatchesFiniteDifferences) {
  const MatrixXd X = uniform(40, 2, -1, 1, 3);
  MatrixXd y(40, 1);
  for (int i = 0; i < 40; ++i) y(i, 0) = X(i, 0) + 0.3 * X(i, 1) > 0 ? 1.0 : 0.0;
  MlpOptions o = quick({4}, 3);
  o.task = Task::Binary;
  Mlp m = Mlp::fit(X, y, o);
  EXPECT_LT(fd_gradient_error(m, X, y), 1e-7);
  // The loss is the mean BCE of the reference probabilities.
  const MatrixXd p = m.predict_reference(X);
  double bce = 0;
  for (int i = 0; i < 40; ++i) bce -= y(i, 0) * std::log(p(i, 0)) + (1 - y(i, 0)) * std::log(1 - p(i, 0));
  EXPECT_NEAR(m.loss(X, y), bce / 40, 1e-12);
}

TEST(MlpGradient, LinearModelMatchesClosedForm) {
  const MatrixXd X = uniform(30, 4, -1, 3, 4);
  const MatrixXd Y = uniform(30, 3, -2, 2, 5);
  MlpOptions o = quick({}, 5);
  o.scale_features = false;  // scaled space = original units, so the closed form uses X and Y directly
  o.scale_targets = false;
  Mlp m = Mlp::fit(X, Y, o);
  ASSERT_EQ(m.weights().size(), 1u);
  const MatrixXd& W = m.weights()[0];
  const VectorXd& b = m.biases()[0];
  MatrixXd R = X * W.transpose();
  R.rowwise() += b.transpose();
  R -= Y;
  const double nq = 30.0 * 3.0;
  const MatrixXd gW = 2.0 / nq * R.transpose() * X;  // d/dW mean((XW^T + b - Y)^2)
  const VectorXd gb = 2.0 / nq * R.colwise().sum().transpose();
  VectorXd g;
  const double loss = m.loss(X, Y, &g);
  EXPECT_NEAR(loss, R.squaredNorm() / nq, 1e-13);
  ASSERT_EQ(g.size(), 4 * 3 + 3);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 4; ++j) EXPECT_NEAR(g(i * 4 + j), gW(i, j), 1e-13) << i << "," << j;
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(g(12 + i), gb(i), 1e-13);
}

TEST(MlpGradient, EigenKernelsAgreeWithLibTorchKernels) {
  // The default CPU kernels (Eigen GEMM Linear layers, fused Adam) against torch::linear and torch::optim::Adam.
  ASSERT_EQ(detail::cpu_kernels(), detail::CpuKernels::Eigen);
  const MatrixXd X = uniform(50, 6, -2, 2, 6);
  const MatrixXd Y = uniform(50, 3, -1, 1, 7);
  MlpOptions o = quick({8, 5}, 3, Activation::Silu);
  o.weight_decay = 0.05;
  const Mlp m = Mlp::fit(X, Y, o);
  VectorXd ge, gt;
  const double le = m.loss(X, Y, &ge);
  const MatrixXd pe = m.predict(X);
  detail::set_cpu_kernels(detail::CpuKernels::Torch);
  const double lt = m.loss(X, Y, &gt);
  const MatrixXd pt = m.predict(X);
  const Mlp mt = Mlp::fit(X, Y, o);
  detail::set_cpu_kernels(detail::CpuKernels::Eigen);
  EXPECT_NEAR(le, lt, 1e-14 * std::abs(lt));
  EXPECT_LT((ge - gt).cwiseAbs().maxCoeff(), 1e-13);
  EXPECT_LT(max_rel(pe, pt), 1e-6);
  // Training through the LibTorch kernels reaches the same network up to float32 rounding.
  MlpOptions frozen = o;  // same seed, lr ~ 0: the initial weights
  frozen.learning_rate = 1e-12;
  frozen.epochs = 1;
  EXPECT_GT((m.parameters() - Mlp::fit(X, Y, frozen).parameters()).cwiseAbs().maxCoeff(), 1e-3);
  EXPECT_LT((m.parameters() - mt.parameters()).cwiseAbs().maxCoeff(), 1e-5);
  EXPECT_EQ(m.history().val_loss.size(), mt.history().val_loss.size());
  EXPECT_NEAR(m.history().val_loss.back(), mt.history().val_loss.back(), 1e-5);
}

// ---- forward pass ----------------------------------------------------------------------------------------------------

TEST(MlpPredict, AgreesWithTheEigenReferenceForEveryActivation) {
  const MatrixXd X = uniform(300, 12, -3, 3, 8);
  MatrixXd Y(300, 5);
  for (int k = 0; k < 5; ++k) Y.col(k) = (X.col(k).array() * (k + 1)).sin().matrix() * 10.0 + X.col(k + 5) * 100.0;
  for (Activation a : {Activation::Relu, Activation::Tanh, Activation::Sigmoid, Activation::Silu, Activation::Gelu,
                       Activation::LeakyRelu}) {
    MlpOptions o = quick({32, 16}, 3, a);
    o.dropout = 0.3;  // off in predict
    const Mlp m = Mlp::fit(X, Y, o);
    const MatrixXd P = m.predict(X), R = m.predict_reference(X);
    ASSERT_EQ(P.rows(), 300);
    ASSERT_EQ(P.cols(), 5);
    EXPECT_LT(max_rel(P, R), 1e-5) << activation_name(a);
  }
}

TEST(MlpPredict, BatchesLargeInputs) {
  const MatrixXd X = uniform(10000, 3, -1, 1, 9);  // more rows than one inference chunk
  const MatrixXd Y = smooth_targets(X.topRows(100));
  const Mlp m = Mlp::fit(X.topRows(100), Y, quick({8}, 2));
  EXPECT_LT(max_rel(m.predict(X), m.predict_reference(X)), 1e-5);
}

// ---- determinism -----------------------------------------------------------------------------------------------------

TEST(MlpTraining, SameSeedGivesBitIdenticalNetworksDifferentSeedDoesNot) {
  const MatrixXd X = uniform(120, 3, -2, 2, 10);
  const MatrixXd Y = smooth_targets(X);
  MlpOptions o = quick({16, 8}, 15, Activation::Relu);
  o.dropout = 0.2;  // masks come from the model's generator
  o.seed = 5;
  const Mlp a = Mlp::fit(X, Y, o), b = Mlp::fit(X, Y, o);
  ASSERT_EQ(a.parameters().size(), b.parameters().size());
  EXPECT_EQ(a.parameters(), b.parameters());
  EXPECT_EQ(a.predict(X), b.predict(X));
  EXPECT_EQ(a.history().train_loss, b.history().train_loss);
  EXPECT_EQ(a.history().val_loss, b.history().val_loss);
  o.seed = 6;
  const Mlp c = Mlp::fit(X, Y, o);
  EXPECT_NE(a.parameters(), c.parameters());
  EXPECT_NE(a.predict(X), c.predict(X));
}

TEST(MlpTraining, ConcurrentFitsInThreadsMatchSequentialOnes) {
  const MatrixXd X = uniform(100, 4, -2, 2, 11);
  const MatrixXd Y = smooth_targets(X);
  MlpOptions o = quick({16}, 10, Activation::Silu);
  o.dropout = 0.1;
  std::vector<VectorXd> sequential, parallel(4);
  for (int s = 0; s < 4; ++s) {
    o.seed = static_cast<std::uint64_t>(s);
    sequential.push_back(Mlp::fit(X, Y, o).parameters());
  }
  std::vector<std::thread> threads;
  for (int s = 0; s < 4; ++s)
    threads.emplace_back([&, s] {
      MlpOptions os = o;
      os.seed = static_cast<std::uint64_t>(s);
      parallel[static_cast<std::size_t>(s)] = Mlp::fit(X, Y, os).parameters();
    });
  for (auto& t : threads) t.join();
  for (int s = 0; s < 4; ++s) EXPECT_EQ(parallel[static_cast<std::size_t>(s)], sequential[static_cast<std::size_t>(s)]);
}

TEST(MlpTraining, InitialWeightsFollowTorchLinearDefault) {
  // Adam moves each weight by about lr per step, so with lr = 1e-12 the trained weights are the initial ones.
  const MatrixXd X = uniform(40, 50, -1, 1, 12);
  const MatrixXd Y = uniform(40, 2, -1, 1, 13);
  MlpOptions o = quick({100}, 1);
  o.learning_rate = 1e-12;
  const Mlp m = Mlp::fit(X, Y, o);
  for (std::size_t l = 0; l < 2; ++l) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(m.weights()[l].cols()));
    EXPECT_LE(m.weights()[l].cwiseAbs().maxCoeff(), bound * (1 + 1e-6));
    EXPECT_LE(m.biases()[l].cwiseAbs().maxCoeff(), bound * (1 + 1e-6));
    EXPECT_GT(m.weights()[l].cwiseAbs().maxCoeff(), 0.9 * bound);
    // Uniform on [-bound, bound]: variance bound^2 / 3.
    const double var = m.weights()[l].squaredNorm() / static_cast<double>(m.weights()[l].size());
    EXPECT_NEAR(var, bound * bound / 3, 0.15 * bound * bound / 3);
  }
}

// ---- learning ------------------------------------------------------------------------------------------------------

TEST(MlpTraining, LearnsASmoothFunction) {
  const MatrixXd X = uniform(200, 2, -2, 2, 14);
  const MatrixXd Y = smooth_targets(X);
  MlpOptions o = quick({32, 32}, 300, Activation::Tanh);
  o.learning_rate = 3e-3;
  o.schedule = LrSchedule::Cosine;
  o.lr_factor = 0.05;
  o.validation_fraction = 0.2;
  const Mlp m = Mlp::fit(X, Y, o);
  const TrainHistory& h = m.history();
  // Scaled targets have unit variance: the best validation loss is the fraction of variance left unexplained.
  ASSERT_FALSE(h.val_loss.empty());
  EXPECT_LT(h.val_loss[static_cast<std::size_t>(h.best_epoch)], 0.02) << h.message;
  const MatrixXd Xt = uniform(500, 2, -2, 2, 15);
  const MatrixXd Yt = smooth_targets(Xt);
  const double var = (Yt.array() - Yt.mean()).square().mean();
  const double mse = (m.predict(Xt) - Yt).squaredNorm() / 500.0;
  EXPECT_LT(mse, 0.03 * var) << "mse " << mse << " var " << var;
}

TEST(MlpTraining, SeparatesALinearlySeparableBinaryProblem) {
  const MatrixXd X = uniform(300, 2, -1, 1, 16);
  MatrixXd y(300, 1);
  for (int i = 0; i < 300; ++i) y(i, 0) = X(i, 0) + 0.5 * X(i, 1) > 0.1 ? 1.0 : 0.0;
  MlpOptions o = quick({16}, 150);
  o.task = Task::Binary;
  o.learning_rate = 1e-2;
  o.scale_targets = true;  // ignored for Binary
  const Mlp m = Mlp::fit(X, y, o);
  EXPECT_EQ(m.target_scaler().mean(0), 0.0);
  EXPECT_EQ(m.target_scaler().scale(0), 1.0);
  const MatrixXd p = m.predict(X);
  EXPECT_GE(p.minCoeff(), 0.0);
  EXPECT_LE(p.maxCoeff(), 1.0);
  int correct = 0;
  for (int i = 0; i < 300; ++i) correct += (p(i, 0) >= 0.5) == (y(i, 0) == 1.0);
  EXPECT_GT(correct / 300.0, 0.95);
  EXPECT_LT((p - m.predict_reference(X)).cwiseAbs().maxCoeff(), 1e-5);
}

// ---- scalers, validation split, early stopping, schedules ------------------------------------------------------------

TEST(MlpTraining, ScalersStandardiseTheTrainingRowsAndKeepConstantColumns) {
  MatrixXd X = uniform(60, 3, -1, 5, 17);
  X.col(1).setConstant(4.0);
  MatrixXd Y = smooth_targets(X) * 50.0;
  Y.array() += 7.0;
  MlpOptions o = quick({4}, 1);
  o.validation_fraction = 0;  // scalers fitted on all rows
  const Mlp m = Mlp::fit(X, Y, o);
  const Scaler& xs = m.feature_scaler();
  EXPECT_NEAR(xs.mean(0), X.col(0).mean(), 1e-12);
  EXPECT_NEAR(xs.scale(0), std::sqrt((X.col(0).array() - X.col(0).mean()).square().mean()), 1e-12);
  EXPECT_EQ(xs.mean(1), 4.0);
  EXPECT_EQ(xs.scale(1), 1.0);
  EXPECT_NEAR(m.target_scaler().mean(0), Y.mean(), 1e-10);
  o.scale_features = false;
  o.scale_targets = false;
  const Mlp raw = Mlp::fit(X, Y, o);
  EXPECT_EQ(raw.feature_scaler().mean, Eigen::RowVectorXd::Zero(3));
  EXPECT_EQ(raw.target_scaler().scale, Eigen::RowVectorXd::Ones(1));
}

TEST(MlpTraining, HistoryIsFilled) {
  const MatrixXd X = uniform(50, 3, -2, 2, 18);
  const MatrixXd Y = smooth_targets(X);
  MlpOptions o = quick({8}, 12);
  o.patience = 0;
  const Mlp m = Mlp::fit(X, Y, o);
  const TrainHistory& h = m.history();
  EXPECT_EQ(h.epochs_run, 12);
  EXPECT_EQ(h.train_loss.size(), 12u);
  EXPECT_EQ(h.val_loss.size(), 12u);
  EXPECT_EQ(h.learning_rate.size(), 12u);
  EXPECT_FALSE(h.early_stopped);
  EXPECT_EQ(h.device, "cpu");
  EXPECT_GT(h.seconds, 0.0);
  EXPECT_GT(h.samples_per_second, 0.0);
  EXPECT_FALSE(h.message.empty());
  ASSERT_GE(h.best_epoch, 0);
  EXPECT_EQ(*std::min_element(h.val_loss.begin(), h.val_loss.end()), h.val_loss[static_cast<std::size_t>(h.best_epoch)]);
  for (double v : h.train_loss) EXPECT_TRUE(std::isfinite(v));

  o.validation_fraction = 0;
  const Mlp n = Mlp::fit(X, Y, o);
  EXPECT_TRUE(n.history().val_loss.empty());
  EXPECT_EQ(n.history().best_epoch, 11);
  EXPECT_NE(n.history().message.find("no validation"), std::string::npos) << n.history().message;
}

TEST(MlpTraining, EarlyStoppingKeepsTheBestEpochsWeights) {
  // Pure-noise targets: a wide network overfits, the validation loss turns up, training stops `patience` epochs after
  // its minimum and the kept weights reproduce the minimum.
  const MatrixXd X = uniform(60, 5, -1, 1, 19), Xv = uniform(40, 5, -1, 1, 20);
  const MatrixXd Y = uniform(60, 2, -1, 1, 21), Yv = uniform(40, 2, -1, 1, 22);
  MlpOptions o = quick({64, 64}, 400, Activation::Relu);
  o.learning_rate = 1e-2;
  o.schedule = LrSchedule::Constant;
  o.patience = 8;
  o.batch_size = 16;
  const Mlp m = Mlp::fit(X, Y, o, &Xv, &Yv);
  const TrainHistory& h = m.history();
  ASSERT_TRUE(h.early_stopped) << h.message;
  EXPECT_LT(h.epochs_run, 400);
  EXPECT_EQ(h.epochs_run, h.best_epoch + 1 + o.patience);
  const auto best = static_cast<std::size_t>(h.best_epoch);
  for (std::size_t e = 0; e < h.val_loss.size(); ++e) EXPECT_GE(h.val_loss[e], h.val_loss[best]);
  EXPECT_NEAR(m.loss(Xv, Yv), h.val_loss[best], 1e-5 * h.val_loss[best]);
  EXPECT_NE(h.message.find("early stop"), std::string::npos) << h.message;
}

TEST(MlpTraining, ValidationSplitIsTheSeededPermutationsHead) {
  const MatrixXd X = uniform(40, 3, -2, 2, 23);
  const MatrixXd Y = smooth_targets(X);
  MlpOptions o = quick({8}, 5);
  o.validation_fraction = 0.25;
  o.seed = 42;
  const Mlp m = Mlp::fit(X, Y, o);
  // Documented split: the first round(0.25 * 40) = 10 entries of core::permutation(40, make_rng(seed)) are held out.
  core::Rng rng = core::make_rng(42);
  const auto perm = core::permutation(40, rng);
  std::vector<Eigen::Index> held(perm.begin(), perm.begin() + 10), kept;
  for (Eigen::Index i = 0; i < 40; ++i)
    if (std::find(held.begin(), held.end(), i) == held.end()) kept.push_back(i);
  const MatrixXd Xk = X(kept, Eigen::all);
  EXPECT_LT((m.feature_scaler().mean - Xk.colwise().mean()).cwiseAbs().maxCoeff(), 1e-14);  // fitted on kept rows
  const auto best = static_cast<std::size_t>(m.history().best_epoch);
  const double v = m.loss(X(held, Eigen::all), Y(held, Eigen::all));
  EXPECT_NEAR(v, m.history().val_loss[best], 1e-5 * v);
}

TEST(MlpTraining, SchedulesFollowTheirDefinitions) {
  const MatrixXd X = uniform(40, 3, -2, 2, 24);
  const MatrixXd Y = smooth_targets(X);
  MlpOptions o = quick({8}, 20);
  o.learning_rate = 0.01;
  o.patience = 0;

  o.schedule = LrSchedule::Constant;
  const Mlp constant = Mlp::fit(X, Y, o);
  for (double lr : constant.history().learning_rate) EXPECT_EQ(lr, 0.01);

  o.schedule = LrSchedule::Step;
  o.lr_step = 6;
  o.lr_factor = 0.5;
  const Mlp step = Mlp::fit(X, Y, o);
  for (int e = 0; e < 20; ++e)
    EXPECT_DOUBLE_EQ(step.history().learning_rate[static_cast<std::size_t>(e)], 0.01 * std::pow(0.5, e / 6));

  o.schedule = LrSchedule::Cosine;
  o.lr_factor = 0.1;
  const Mlp cosine = Mlp::fit(X, Y, o);
  for (int e = 0; e < 20; ++e)
    EXPECT_NEAR(cosine.history().learning_rate[static_cast<std::size_t>(e)],
                0.001 + 0.009 * 0.5 * (1 + std::cos(M_PI * e / 20.0)), 1e-15);
  // A cosine schedule annealing to the same rate is the constant schedule, bit for bit.
  o.lr_factor = 1.0;
  EXPECT_EQ(Mlp::fit(X, Y, o).parameters(), constant.parameters());
}

TEST(MlpTraining, PlateauScheduleFollowsReduceLROnPlateau) {
  const MatrixXd X = uniform(60, 5, -1, 1, 25), Xv = uniform(40, 5, -1, 1, 26);
  const MatrixXd Y = uniform(60, 2, -1, 1, 27), Yv = uniform(40, 2, -1, 1, 28);
  MlpOptions o = quick({32}, 60, Activation::Relu);
  o.learning_rate = 1e-2;
  o.schedule = LrSchedule::Plateau;
  o.lr_patience = 3;
  o.lr_factor = 0.5;
  o.patience = 0;
  const Mlp m = Mlp::fit(X, Y, o, &Xv, &Yv);
  const TrainHistory& h = m.history();
  ASSERT_EQ(h.learning_rate.size(), 60u);
  // Replay torch.optim.lr_scheduler.ReduceLROnPlateau(mode="min", factor, patience, threshold=1e-4 "rel").
  double best = INFINITY, lr = 0.01;
  int bad = 0, reductions = 0;
  for (std::size_t e = 0; e < 60; ++e) {
    EXPECT_DOUBLE_EQ(h.learning_rate[e], lr) << "epoch " << e;
    const double v = h.val_loss[e];
    if (v < best * (1 - 1e-4)) {
      best = v;
      bad = 0;
    } else if (++bad > 3) {
      lr *= 0.5;
      bad = 0;
      ++reductions;
    }
  }
  EXPECT_GT(reductions, 0);
}

// ---- device, threads, progress ---------------------------------------------------------------------------------------

TEST(MlpTraining, DeviceSelection) {
  const MatrixXd X = uniform(20, 2, -1, 1, 29);
  const MatrixXd Y = smooth_targets(X);
  MlpOptions o = quick({4}, 1);
  o.device = "auto";
  const Mlp m = Mlp::fit(X, Y, o);
  EXPECT_EQ(m.history().device, cuda_available() ? "cuda:0" : "cpu");
  o.device = "cuda";
  if (!cuda_available()) {
    try {
      Mlp::fit(X, Y, o);
      ADD_FAILURE() << "no exception";
    } catch (const InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find("cuda"), std::string::npos) << e.what();
    }
  } else {
    EXPECT_EQ(Mlp::fit(X, Y, o).history().device, "cuda:0");
  }
}

TEST(MlpTraining, ThreadsAndProgressOptionsRun) {
  const MatrixXd X = uniform(50, 3, -2, 2, 30);
  const MatrixXd Y = smooth_targets(X);
  MlpOptions o = quick({8}, 5);
  o.seed = 3;
  const Mlp one = Mlp::fit(X, Y, o);
  o.threads = 2;
  o.progress = true;
  const Mlp two = Mlp::fit(X, Y, o);
  EXPECT_LT((one.parameters() - two.parameters()).cwiseAbs().maxCoeff(), 1e-5);
}

TEST(MlpTraining, TwoThreadsOnProductsLargeEnoughToSplitAreReproducibleAndAgreeWithOne) {
  // 256 x 64 batches through 128-wide layers: every product is above the 2e6-flop split threshold, so with
  // threads = 2 the column ranges really run on two OpenMP threads.
  const MatrixXd X = uniform(512, 64, -1, 1, 41);
  const MatrixXd Y = smooth_targets(X);
  MlpOptions o = quick({128, 128}, 3);
  o.batch_size = 256;
  o.seed = 9;
  o.threads = 2;
  const Mlp a = Mlp::fit(X, Y, o);
  const Mlp b = Mlp::fit(X, Y, o);
  EXPECT_EQ(a.parameters(), b.parameters());  // same threads -> bitwise identical
  o.threads = 1;
  const Mlp one = Mlp::fit(X, Y, o);
  // float32 GEMM blocking differs with the column split; Adam amplifies the last-bit differences a little.
  EXPECT_LT((one.parameters() - a.parameters()).cwiseAbs().maxCoeff(), 1e-3);
}
