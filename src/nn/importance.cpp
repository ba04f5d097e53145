// Input importance of trained networks (include/tsunagu/nn/importance.hpp, docs/nn_importance.md). Eigen only.
#include "tsunagu/nn/importance.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <numeric>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "tsunagu/core/error.hpp"
#include "tsunagu/core/random.hpp"

namespace tsunagu::nn {
namespace {

using Eigen::Index;
using Eigen::MatrixXd;
using Eigen::VectorXd;

std::string fmt(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

void require_network(const Mlp& net, const char* who) {
  if (net.empty()) throw InvalidArgument(std::string(who) + ": the network is empty (train it with Mlp::fit or load one)");
}

void require_finite(const MatrixXd& M, const char* who, const char* name) {
  for (Index j = 0; j < M.cols(); ++j)
    for (Index i = 0; i < M.rows(); ++i)
      if (!std::isfinite(M(i, j)))
        throw InvalidArgument(std::string(who) + ": " + name + ": non-finite value " + fmt(M(i, j)) + " at row " +
                              std::to_string(i) + ", column " + std::to_string(j));
}

// Rows of |W| divided by their sums (a row of zeros stays zero).
MatrixXd share_matrix(const MatrixXd& W) {
  MatrixXd P = W.cwiseAbs();
  for (Index r = 0; r < P.rows(); ++r) {
    const double s = P.row(r).sum();
    if (s > 0.0) P.row(r) /= s;
  }
  return P;
}

// ---- permutation importance --------------------------------------------------------------------------------------

constexpr double kProbabilityClamp = 1e-15;

double evaluate_loss(PermutationLoss loss, const MatrixXd& P, const MatrixXd& Y) {
  if (loss == PermutationLoss::LogLoss) {
    double s = 0.0;
    for (Index i = 0; i < Y.rows(); ++i) {
      const double p = std::clamp(P(i, 0), kProbabilityClamp, 1.0 - kProbabilityClamp);
      s -= Y(i, 0) * std::log(p) + (1.0 - Y(i, 0)) * std::log1p(-p);
    }
    return s / static_cast<double>(Y.rows());
  }
  return (P - Y).squaredNorm() / static_cast<double>(Y.size());
}

MatrixXd checked_predict(const Predictor& predict, const MatrixXd& X, Index n_outputs) {
  MatrixXd P = predict(X);
  if (P.rows() != X.rows() || P.cols() != n_outputs)
    throw InvalidArgument("permutation_importance: the predictor returned a (" + std::to_string(P.rows()) + ", " +
                          std::to_string(P.cols()) + ") matrix for " + std::to_string(X.rows()) +
                          " rows; expected (" + std::to_string(X.rows()) + ", " + std::to_string(n_outputs) + ")");
  for (Index j = 0; j < P.cols(); ++j)
    for (Index i = 0; i < P.rows(); ++i)
      if (!std::isfinite(P(i, j)))
        throw NumericalError("permutation_importance: the predictor returned a non-finite value " + fmt(P(i, j)) +
                             " at row " + std::to_string(i) + ", column " + std::to_string(j));
  return P;
}

PermutationImportance permutation_core(const Predictor& predict, const MatrixXd& X, const MatrixXd& Y,
                                       const PermutationOptions& options, PermutationLoss loss) {
  options.validate();
  constexpr const char* who = "permutation_importance";
  if (X.rows() != Y.rows())
    throw InvalidArgument(std::string(who) + ": X has " + std::to_string(X.rows()) + " rows but Y has " +
                          std::to_string(Y.rows()));
  if (X.rows() < 2)
    throw InvalidArgument(std::string(who) + ": need at least 2 rows to permute, got " + std::to_string(X.rows()));
  if (X.cols() < 1) throw InvalidArgument(std::string(who) + ": X has no columns");
  if (Y.cols() < 1) throw InvalidArgument(std::string(who) + ": Y has no columns");
  require_finite(X, who, "X");
  require_finite(Y, who, "Y");
  if (loss == PermutationLoss::LogLoss) {
    if (Y.cols() != 1)
      throw InvalidArgument(std::string(who) + ": log loss needs one column of 0/1 labels, Y has " +
                            std::to_string(Y.cols()) + " columns");
    for (Index i = 0; i < Y.rows(); ++i)
      if (Y(i, 0) < 0.0 || Y(i, 0) > 1.0)
        throw InvalidArgument(std::string(who) + ": log loss: Y has value " + fmt(Y(i, 0)) + " at row " +
                              std::to_string(i) + "; labels must be in [0, 1]");
  }

  const Index n = X.rows(), p = X.cols();
  const auto R = static_cast<Index>(options.repeats);
  PermutationImportance out;
  out.baseline_loss = evaluate_loss(loss, checked_predict(predict, X, Y.cols()), Y);
  out.mean = VectorXd::Zero(p);
  out.sd = VectorXd::Zero(p);
  core::Rng rng = core::make_rng(options.seed);
  MatrixXd Xp = X;
  VectorXd increase(R);
  for (Index j = 0; j < p; ++j) {
    for (Index r = 0; r < R; ++r) {
      const std::vector<std::size_t> perm = core::permutation(static_cast<std::size_t>(n), rng);
      for (Index i = 0; i < n; ++i) Xp(i, j) = X(static_cast<Index>(perm[static_cast<std::size_t>(i)]), j);
      increase(r) = evaluate_loss(loss, checked_predict(predict, Xp, Y.cols()), Y) - out.baseline_loss;
    }
    Xp.col(j) = X.col(j);
    out.mean(j) = increase.mean();
    out.sd(j) = R > 1 ? std::sqrt((increase.array() - out.mean(j)).square().sum() / static_cast<double>(R - 1)) : 0.0;
  }
  return out;
}

// ---- ranks and quantiles -----------------------------------------------------------------------------------------

// 1-based ranks, ties get the average of the ranks they span.
VectorXd average_ranks(const VectorXd& v) {
  const auto n = static_cast<std::size_t>(v.size());
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return v(static_cast<Index>(a)) < v(static_cast<Index>(b)); });
  VectorXd rank(v.size());
  std::size_t i = 0;
  while (i < n) {
    std::size_t k = i + 1;
    while (k < n && v(static_cast<Index>(order[k])) == v(static_cast<Index>(order[i]))) ++k;
    const double r = 0.5 * static_cast<double>(i + 1 + k);  // mean of the 1-based ranks i+1 .. k
    for (std::size_t t = i; t < k; ++t) rank(static_cast<Index>(order[t])) = r;
    i = k;
  }
  return rank;
}

// Type-7 (linear interpolation) quantile of sorted values.
double quantile_sorted(const std::vector<double>& s, double q) {
  const double h = q * static_cast<double>(s.size() - 1);
  const auto i = static_cast<std::size_t>(std::floor(h));
  if (i + 1 >= s.size()) return s.back();
  return s[i] + (h - static_cast<double>(i)) * (s[i + 1] - s[i]);
}

// Continued fraction of the regularised incomplete beta function (modified Lentz), valid for x < (a+1)/(a+b+2).
double beta_continued_fraction(double a, double b, double x) {
  constexpr double tiny = 1e-300, eps = 1e-16;
  double c = 1.0, d = 1.0 - (a + b) * x / (a + 1.0);
  if (std::abs(d) < tiny) d = tiny;
  d = 1.0 / d;
  double h = d;
  for (int m = 1; m <= 10000; ++m) {
    const double dm = m;
    // even step: d_{2m} = m (b - m) x / ((a + 2m - 1)(a + 2m))
    double num = dm * (b - dm) * x / ((a + 2 * dm - 1.0) * (a + 2 * dm));
    d = 1.0 + num * d;
    if (std::abs(d) < tiny) d = tiny;
    c = 1.0 + num / c;
    if (std::abs(c) < tiny) c = tiny;
    d = 1.0 / d;
    h *= d * c;
    // odd step: d_{2m+1} = -(a + m)(a + b + m) x / ((a + 2m)(a + 2m + 1))
    num = -(a + dm) * (a + b + dm) * x / ((a + 2 * dm) * (a + 2 * dm + 1.0));
    d = 1.0 + num * d;
    if (std::abs(d) < tiny) d = tiny;
    c = 1.0 + num / c;
    if (std::abs(c) < tiny) c = tiny;
    d = 1.0 / d;
    const double delta = d * c;
    h *= delta;
    if (std::abs(delta - 1.0) < eps) break;
  }
  return h;
}

// Regularised incomplete beta function I_x(a, b), a, b > 0, x in [0, 1].
double incomplete_beta(double a, double b, double x) {
  if (x <= 0.0) return 0.0;
  if (x >= 1.0) return 1.0;
  const double log_front =
      std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x);
  if (x < (a + 1.0) / (a + b + 2.0)) return std::exp(log_front) * beta_continued_fraction(a, b, x) / a;
  return 1.0 - std::exp(log_front) * beta_continued_fraction(b, a, 1.0 - x) / b;
}

}  // namespace

// ---- weight-based importance -------------------------------------------------------------------------------------

Eigen::MatrixXd garson_importance_per_output(const Mlp& net) {
  require_network(net, "garson_importance");
  const auto& W = net.weights();
  MatrixXd G = share_matrix(W.back());  // (n_outputs, last width)
  for (std::size_t l = W.size() - 1; l-- > 0;) G = G * share_matrix(W[l]);
  // Rows of a product of row-stochastic matrices sum to 1 already; renormalise against rounding and zero rows.
  for (Index k = 0; k < G.rows(); ++k) {
    const double s = G.row(k).sum();
    if (s > 0.0) G.row(k) /= s;
  }
  return G.transpose();
}

Eigen::VectorXd garson_importance(const Mlp& net) { return garson_importance_per_output(net).rowwise().mean(); }

Eigen::MatrixXd olden_importance_per_output(const Mlp& net) {
  require_network(net, "olden_importance");
  const auto& W = net.weights();
  MatrixXd C = W.back();
  for (std::size_t l = W.size() - 1; l-- > 0;) C = C * W[l];
  return C.transpose();
}

Eigen::VectorXd olden_importance(const Mlp& net) { return olden_importance_per_output(net).rowwise().mean(); }

// ---- permutation importance --------------------------------------------------------------------------------------

void PermutationOptions::validate() const {
  if (repeats < 1)
    throw InvalidArgument("permutation importance: option 'repeats' = " + std::to_string(repeats) +
                          ": must be >= 1");
  if (loss != PermutationLoss::Auto && loss != PermutationLoss::SquaredError && loss != PermutationLoss::LogLoss)
    throw InvalidArgument("permutation importance: option 'loss' has an unknown value");
}

PermutationImportance permutation_importance(const Mlp& net, const Eigen::MatrixXd& X, const Eigen::MatrixXd& Y,
                                             const PermutationOptions& options) {
  require_network(net, "permutation_importance");
  if (X.cols() != net.n_inputs())
    throw InvalidArgument("permutation_importance: X has " + std::to_string(X.cols()) + " columns but the network has " +
                          std::to_string(net.n_inputs()) + " inputs");
  if (Y.cols() != net.n_outputs())
    throw InvalidArgument("permutation_importance: Y has " + std::to_string(Y.cols()) +
                          " columns but the network has " + std::to_string(net.n_outputs()) + " outputs");
  PermutationLoss loss = options.loss;
  if (loss == PermutationLoss::Auto)
    loss = net.options().task == Task::Binary ? PermutationLoss::LogLoss : PermutationLoss::SquaredError;
  return permutation_core([&net](const MatrixXd& A) { return net.predict_reference(A); }, X, Y, options, loss);
}

PermutationImportance permutation_importance(const Predictor& predict, const Eigen::MatrixXd& X,
                                             const Eigen::MatrixXd& Y, const PermutationOptions& options) {
  if (!predict) throw InvalidArgument("permutation_importance: the predictor is empty");
  const PermutationLoss loss =
      options.loss == PermutationLoss::Auto ? PermutationLoss::SquaredError : options.loss;
  return permutation_core(predict, X, Y, options, loss);
}

// ---- agreement and summaries -------------------------------------------------------------------------------------

double rank_agreement(const Eigen::VectorXd& a, const Eigen::VectorXd& b) {
  if (a.size() != b.size())
    throw InvalidArgument("rank_agreement: a has " + std::to_string(a.size()) + " values but b has " +
                          std::to_string(b.size()));
  if (a.size() < 2)
    throw InvalidArgument("rank_agreement: need at least 2 values, got " + std::to_string(a.size()));
  require_finite(a, "rank_agreement", "a");
  require_finite(b, "rank_agreement", "b");
  const VectorXd ra = average_ranks(a.cwiseAbs()), rb = average_ranks(b.cwiseAbs());
  const VectorXd da = ra.array() - ra.mean(), db = rb.array() - rb.mean();
  const double saa = da.squaredNorm(), sbb = db.squaredNorm();
  if (saa == 0.0 || sbb == 0.0) return std::numeric_limits<double>::quiet_NaN();
  return std::clamp(da.dot(db) / std::sqrt(saa * sbb), -1.0, 1.0);
}

double student_t_quantile(double p, double dof) {
  if (!(p > 0.0 && p < 1.0)) throw InvalidArgument("student_t_quantile: p = " + fmt(p) + " must be in (0, 1)");
  if (!(dof > 0.0) || !std::isfinite(dof))
    throw InvalidArgument("student_t_quantile: dof = " + fmt(dof) + " must be positive and finite");
  if (p == 0.5) return 0.0;
  // For t > 0: P(T > t) = I_x(dof/2, 1/2) / 2 with x = dof / (dof + t^2). Solve for x by bisection (I_x increases
  // with x), then t = sqrt(dof (1 - x) / x).
  const double tail = p > 0.5 ? 1.0 - p : p;  // one-sided tail probability
  const double target = 2.0 * tail;
  double lo = 0.0, hi = 1.0;
  for (int it = 0; it < 2000 && hi - lo > 0.0; ++it) {
    const double mid = 0.5 * (lo + hi);
    if (mid <= lo || mid >= hi) break;
    if (incomplete_beta(0.5 * dof, 0.5, mid) < target)
      lo = mid;
    else
      hi = mid;
  }
  const double x = 0.5 * (lo + hi);
  const double t = std::sqrt(dof * (1.0 - x) / x);
  return p > 0.5 ? t : -t;
}

ImportanceSummary summarize_importance(const Eigen::MatrixXd& per_member, double level, IntervalMethod method) {
  constexpr const char* who = "summarize_importance";
  if (per_member.rows() < 1) throw InvalidArgument(std::string(who) + ": no members (per_member has 0 rows)");
  if (per_member.cols() < 1) throw InvalidArgument(std::string(who) + ": no inputs (per_member has 0 columns)");
  if (!(level > 0.0 && level < 1.0))
    throw InvalidArgument(std::string(who) + ": level = " + fmt(level) + " must be in (0, 1)");
  if (method != IntervalMethod::Percentile && method != IntervalMethod::StudentT)
    throw InvalidArgument(std::string(who) + ": unknown interval method");
  require_finite(per_member, who, "per_member");
  const Index m = per_member.rows(), p = per_member.cols();
  if (method == IntervalMethod::StudentT && m < 2)
    throw InvalidArgument(std::string(who) + ": the t interval needs at least 2 members, got 1");
  ImportanceSummary s;
  s.mean = per_member.colwise().mean().transpose();
  s.sd.resize(p);
  s.ci_low.resize(p);
  s.ci_high.resize(p);
  const double t = method == IntervalMethod::StudentT
                       ? student_t_quantile(0.5 * (1.0 + level), static_cast<double>(m - 1))
                       : 0.0;
  std::vector<double> v(static_cast<std::size_t>(m));
  for (Index j = 0; j < p; ++j) {
    s.sd(j) = m > 1 ? std::sqrt((per_member.col(j).array() - s.mean(j)).square().sum() / static_cast<double>(m - 1))
                    : 0.0;
    if (method == IntervalMethod::StudentT) {
      const double half = t * s.sd(j) / std::sqrt(static_cast<double>(m));
      s.ci_low(j) = s.mean(j) - half;
      s.ci_high(j) = s.mean(j) + half;
    } else {
      for (Index i = 0; i < m; ++i) v[static_cast<std::size_t>(i)] = per_member(i, j);
      std::sort(v.begin(), v.end());
      s.ci_low(j) = quantile_sorted(v, 0.5 * (1.0 - level));
      s.ci_high(j) = quantile_sorted(v, 0.5 * (1.0 + level));
    }
  }
  return s;
}

}  // namespace tsunagu::nn
