// Binary GP classifier: Laplace approximation with the logistic likelihood (Rasmussen & Williams 2006, Alg. 3.1
// mode finding, Alg. 3.2 prediction, Alg. 5.1 marginal-likelihood gradient); the predictive probability uses the
// same five-erf approximation of the logistic-Gaussian integral as scikit-learn's GaussianProcessClassifier, so
// both agree to rounding for the same kernel.
#include <LBFGSB.h>

#include <Eigen/Cholesky>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numbers>
#include <string>
#include <vector>

#include "gp_kernel.hpp"
#include "tsunagu/bayesopt/gp.hpp"
#include "tsunagu/core/error.hpp"

namespace tsunagu::bayesopt {

namespace {

// Williams & Barber (1998) app. A: sigmoid(x) ~ sum_i c_i (1 + erf(lambda_i x)) / 2 (scikit-learn's LAMBDAS/COEFS).
constexpr double kLambdas[5] = {0.41, 0.4, 0.37, 0.44, 0.39};
constexpr double kCoefs[5] = {-1854.8214151, 3516.89893646, 221.29346712, 128.12323805, -2010.49422654};
// Hyperparameter bounds for the Laplace marginal-likelihood fit (inputs are encoded on [0, 1]). Separable labels
// push s2 up without limit; 1e2 (latent sd 10, probabilities down to ~1e-4) is decisive enough to gate an
// acquisition while keeping the model from claiming certainty from a handful of failures.
constexpr double kS2Min = 1e-2, kS2Max = 1e2;
constexpr double kLengthMin = 1e-2, kLengthMax = 1e2;

std::string num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

double sigmoid(double z) {
  if (z >= 0) return 1.0 / (1.0 + std::exp(-z));
  const double e = std::exp(z);
  return e / (1.0 + e);
}
double log_sigmoid(double z) { return z >= 0 ? -std::log1p(std::exp(-z)) : z - std::log1p(std::exp(z)); }

/// n x n buffers reused across likelihood evaluations (fresh 8 MB temporaries per evaluation cost as much in page
/// faults as the arithmetic).
struct Work {
  Eigen::MatrixXd K;     // kernel matrix
  Eigen::MatrixXd H;     // per pair -2 dk/dr^2, then dK/dtheta_j
  Eigen::MatrixXd L;     // Cholesky factor of B = I + sW K sW (lower; upper part unused)
  Eigen::MatrixXd Linv;  // L^-1 (lower)
  Eigen::MatrixXd R;     // B^-1 (lower), then sW B^-1 sW (full)
  Eigen::MatrixXd C;     // L^-1 sW K
  Eigen::MatrixXd Xs;    // inputs divided by the lengthscales
};

/// K = s2 k(X, X) and H = -2 s2 dk/dr^2 (so dK_ij / dlog l_d = H_ij (x_id - x_jd)^2 / l_d^2).
void kernel_and_derivative(KernelType type, double s2, const Eigen::VectorXd& l, const Eigen::MatrixXd& X, Work& w) {
  const Eigen::Index n = X.rows();
  w.Xs = detail::scale_inputs(X, l);
  w.K.resize(n, n);
  w.H.resize(n, n);
  auto r2 = w.H.array();
  r2.setZero();
  for (Eigen::Index j = 0; j < n; ++j)
    for (Eigen::Index d = 0; d < X.cols(); ++d) r2.col(j) += (w.Xs.col(d).array() - w.Xs(j, d)).square();
  w.C.resize(n, n);  // scratch: exp(-a)
  switch (type) {
    case KernelType::RBF:
      w.K.array() = s2 * (-0.5 * r2).exp();
      w.H = w.K;
      break;
    case KernelType::Matern32:
      r2 = (3.0 * r2).sqrt();  // a = sqrt3 r
      w.C.array() = (-r2).exp();
      w.K.array() = s2 * (1 + r2) * w.C.array();
      w.H.array() = (3.0 * s2) * w.C.array();
      break;
    case KernelType::Matern52:
      r2 = (5.0 * r2).sqrt();  // a = sqrt5 r
      w.C.array() = (-r2).exp();
      w.K.array() = s2 * (1 + r2 + r2.square() / 3.0) * w.C.array();
      w.H.array() = (5.0 / 3.0 * s2) * (1 + r2) * w.C.array();
      break;
  }
}

/// Posterior mode and the quantities Alg. 3.2 / 5.1 need, for labels t in {0, 1}; the factor of B is in Work::L.
struct Mode {
  Eigen::VectorXd f;   // mode of p(f | X, y)
  Eigen::VectorXd a;   // K^-1 f = t - pi at the mode
  Eigen::VectorXd pi;  // sigmoid(f)
  Eigen::VectorXd sw;  // sqrt(W), W = pi (1 - pi)
  double lml = 0;      // log q(y | X, theta), R&W eq. 3.32
};

void factor_b(const Eigen::MatrixXd& K, const Eigen::VectorXd& sw, Eigen::MatrixXd& L) {
  L.noalias() = sw.asDiagonal() * K * sw.asDiagonal();
  L.diagonal().array() += 1.0;
  // B's eigenvalues are >= 1; failure means non-finite K.
  if (!detail::llt_in_place(L))
    throw NumericalError("GpClassifier: Laplace factorisation failed (non-finite kernel matrix)");
}

/// R&W Alg. 3.1 (Newton's method), halving a step that lowers the objective psi = -f^T K^-1 f / 2 + log p(y|f)
/// (never needed for well-scaled kernels, but keeps extreme hyperparameters from oscillating). f = K a is kept
/// exact along the way, so psi needs no K^-1. Starts from f = 0 as scikit-learn does, or from f = K a0 when that
/// is better (a0: the previous mode's K^-1 f during the hyperparameter search; the mode is unique since the
/// posterior is log-concave, so the start only changes the number of Newton steps).
Mode find_mode(const Eigen::VectorXd& t, const Eigen::VectorXd& a0, Work& w) {
  const Eigen::MatrixXd& K = w.K;
  const Eigen::Index n = K.rows();
  const Eigen::VectorXd sign = 2.0 * t.array() - 1.0;
  auto psi = [&](const Eigen::VectorXd& f, const Eigen::VectorXd& a) {
    double s = -0.5 * a.dot(f);
    for (Eigen::Index i = 0; i < n; ++i) s += log_sigmoid(sign[i] * f[i]);
    return s;
  };
  Mode m;
  Eigen::VectorXd f = Eigen::VectorXd::Zero(n), a = Eigen::VectorXd::Zero(n);
  double value = psi(f, a);
  if (a0.size() == n && a0.allFinite()) {
    const Eigen::VectorXd f0 = K * a0;
    const double v0 = psi(f0, a0);
    if (v0 > value) {
      f = f0;
      a = a0;
      value = v0;
    }
  }
  Eigen::VectorXd pi(n), sw(n);
  const Eigen::MatrixXd& Lc = w.L;
  for (int it = 0; it < 200; ++it) {
    for (Eigen::Index i = 0; i < n; ++i) pi[i] = sigmoid(f[i]);
    sw = (pi.array() * (1 - pi.array())).sqrt();
    factor_b(K, sw, w.L);
    const Eigen::VectorXd b = (sw.array().square() * f.array()).matrix() + (t - pi);
    Eigen::VectorXd c = sw.asDiagonal() * (K * b);
    Lc.triangularView<Eigen::Lower>().solveInPlace(c);
    Lc.triangularView<Eigen::Lower>().transpose().solveInPlace(c);
    Eigen::VectorXd a_new = b - sw.asDiagonal() * c;
    Eigen::VectorXd f_new = K * a_new;
    double v_new = psi(f_new, a_new);
    for (int half = 0; half < 30 && !(v_new >= value - 1e-12 * std::abs(value)); ++half) {
      a_new = 0.5 * (a + a_new);
      f_new = 0.5 * (f + f_new);
      v_new = psi(f_new, a_new);
    }
    const double change = (f_new - f).lpNorm<Eigen::Infinity>();
    const double gain = v_new - value;
    f = f_new;
    a = a_new;
    value = v_new;
    if (change <= 1e-12 * (1 + f.lpNorm<Eigen::Infinity>()) || std::abs(gain) <= 1e-14 * (1 + std::abs(value))) break;
  }
  // Final quantities at the converged f.
  for (Eigen::Index i = 0; i < n; ++i) pi[i] = sigmoid(f[i]);
  sw = (pi.array() * (1 - pi.array())).sqrt();
  factor_b(K, sw, w.L);
  m.f = f;
  m.a = t - pi;  // at the mode f = K (t - pi): grad log p(y|f) = K^-1 f
  m.pi = pi;
  m.sw = sw;
  double lp = 0;
  for (Eigen::Index i = 0; i < n; ++i) lp += log_sigmoid(sign[i] * f[i]);
  m.lml = -0.5 * a.dot(f) + lp - w.L.diagonal().array().log().sum();
  return m;
}

/// Laplace log marginal likelihood and its gradient (R&W Alg. 5.1) w.r.t. theta = [log s2, log l (p)].
/// The implicit term uses d log q / d f_i = +1/2 [(K^-1 + W)^-1]_ii d^3 log p / d f_i^3 (the sign scikit-learn
/// uses too; checked against finite differences).
double laplace_lml(KernelType type, const Eigen::MatrixXd& X, const Eigen::VectorXd& t, const Eigen::VectorXd& theta,
                   Eigen::VectorXd* grad, Eigen::VectorXd& a_warm, Work& w) {
  const Eigen::Index n = X.rows(), dim = X.cols(), p = theta.size() - 1;
  const double s2 = std::exp(theta[0]);
  const Eigen::VectorXd l = theta.tail(p).array().exp();
  kernel_and_derivative(type, s2, l, X, w);
  const Mode m = find_mode(t, a_warm, w);
  if (!std::isfinite(m.lml)) throw NumericalError("GpClassifier: non-finite Laplace marginal likelihood");
  a_warm = m.a;
  if (!grad) return m.lml;

  // R = sW B^-1 sW (B^-1 from the factor by a blocked triangular inverse and product), and
  // diag((K^-1 + W)^-1) = diag(K) - colsum(C o C) with C = L^-1 sW K (a triangular product).
  detail::lower_inverse(w.L, w.Linv, 1);
  detail::inverse_from_lower_inverse(w.Linv, w.R, 1);
  for (Eigen::Index j = 0; j < n; ++j) {  // symmetrise and scale: R_ij = sw_i B^-1_ij sw_j
    for (Eigen::Index i = j; i < n; ++i) w.R(i, j) *= m.sw[i] * m.sw[j];
    for (Eigen::Index i = j + 1; i < n; ++i) w.R(j, i) = w.R(i, j);
  }
  w.C.noalias() = w.Linv.triangularView<Eigen::Lower>() * (m.sw.asDiagonal() * w.K);
  const Eigen::VectorXd d3 = -(m.pi.array() * (1 - m.pi.array()) * (1 - 2 * m.pi.array())).matrix();
  const Eigen::VectorXd s2v = 0.5 * (w.K.diagonal() - w.C.colwise().squaredNorm().transpose()).cwiseProduct(d3);
  const Eigen::VectorXd& a = m.a;
  const Eigen::VectorXd resid = t - m.pi;
  grad->resize(theta.size());
  auto term = [&](const Eigen::MatrixXd& Cj) {
    const double s1 = 0.5 * a.dot(Cj * a) - 0.5 * (w.R.array() * Cj.array()).sum();
    const Eigen::VectorXd b = Cj * resid;
    const Eigen::VectorXd s3 = b - w.K * (w.R * b);
    return s1 + s2v.dot(s3);
  };
  (*grad)[0] = term(w.K);
  // dK/dlog l_d = H o (x_d - x_d')^2 / l_d^2, built in C (no longer needed) one dimension at a time.
  if (p == 1) {
    for (Eigen::Index j = 0; j < n; ++j) {
      w.C.col(j).setZero();
      for (Eigen::Index d = 0; d < dim; ++d) w.C.col(j).array() += (w.Xs.col(d).array() - w.Xs(j, d)).square();
    }
    w.C.array() *= w.H.array();
    (*grad)[1] = term(w.C);
  } else {
    for (Eigen::Index d = 0; d < dim; ++d) {
      for (Eigen::Index j = 0; j < n; ++j)
        w.C.col(j).array() = (w.Xs.col(d).array() - w.Xs(j, d)).square() * w.H.col(j).array();
      (*grad)[1 + d] = term(w.C);
    }
  }
  return m.lml;
}

struct NegLaplace {
  KernelType type;
  const Eigen::MatrixXd* X;
  const Eigen::VectorXd* t;
  Work* work;
  Eigen::VectorXd a_warm;  // K^-1 f at the last mode: Newton's start for the next evaluation
  double best_f = std::numeric_limits<double>::infinity();
  Eigen::VectorXd best_x;

  double operator()(const Eigen::VectorXd& x, Eigen::VectorXd& g) {
    try {
      Eigen::VectorXd gl;
      const double v = laplace_lml(type, *X, *t, x, &gl, a_warm, *work);
      if (!gl.allFinite()) throw NumericalError("non-finite gradient");
      g = -gl;
      if (-v < best_f) {
        best_f = -v;
        best_x = x;
      }
      return -v;
    } catch (const NumericalError&) {
      g.setZero();
      return std::numeric_limits<double>::infinity();
    }
  }
};

}  // namespace

void ClassifierOptions::validate() const {
  if (restarts < 0) throw InvalidArgument("restarts: must be >= 0 (got " + std::to_string(restarts) + ")");
  if (!(std::isfinite(signal_variance) && signal_variance > 0))
    throw InvalidArgument("signal_variance: must be a finite value > 0 (got " + num(signal_variance) + ")");
  if (!(std::isfinite(lengthscale) && lengthscale > 0))
    throw InvalidArgument("lengthscale: must be a finite value > 0 (got " + num(lengthscale) + ")");
}

GpClassifier::GpClassifier(ClassifierOptions options) : options_(options) { options_.validate(); }

void GpClassifier::fit(const Eigen::MatrixXd& X, const Eigen::VectorXi& labels) {
  if (X.rows() < 1) throw InvalidArgument("X: at least one observation is needed");
  if (X.cols() < 1) throw InvalidArgument("X: at least one input dimension is needed");
  if (labels.size() != X.rows())
    throw InvalidArgument("labels: has " + std::to_string(labels.size()) + " entries but X has " +
                          std::to_string(X.rows()) + " rows");
  for (Eigen::Index i = 0; i < X.rows(); ++i) {
    if (!X.row(i).allFinite()) throw InvalidArgument("X: row " + std::to_string(i) + " contains NaN or Inf");
    if (labels[i] != 0 && labels[i] != 1)
      throw InvalidArgument("labels: row " + std::to_string(i) + " is " + std::to_string(labels[i]) +
                            " (expected 0 or 1)");
  }
  const Eigen::Index n = X.rows(), dim = X.cols(), p = options_.ard ? dim : 1;
  X_ = X;
  hyper_.signal_variance = options_.signal_variance;
  hyper_.lengthscales = Eigen::VectorXd::Constant(p, options_.lengthscale);
  hyper_.noise_variance = 0;  // no noise term in the latent kernel
  const Eigen::VectorXd t = labels.cast<double>();
  const double k = t.sum();
  if (k == 0 || k == static_cast<double>(n)) {
    constant_p_ = (k + 1) / (static_cast<double>(n) + 2);  // Laplace's rule of succession
    lml_ = std::numeric_limits<double>::quiet_NaN();
    L_.resize(0, 0);
    grad_logp_.resize(0);
    sqrt_w_.resize(0);
    return;
  }
  constant_p_ = -1;

  Eigen::VectorXd theta(1 + p);
  theta[0] = std::log(hyper_.signal_variance);
  theta.tail(p).setConstant(std::log(options_.lengthscale));
  if (options_.optimize) {
    Eigen::VectorXd lb(1 + p), ub(1 + p);
    lb[0] = std::log(kS2Min);
    ub[0] = std::log(kS2Max);
    lb.tail(p).setConstant(std::log(kLengthMin));
    ub.tail(p).setConstant(std::log(kLengthMax));
    std::vector<Eigen::VectorXd> starts{theta.cwiseMax(lb).cwiseMin(ub)};
    // Random starts uniform in the log box, as scikit-learn's n_restarts_optimizer.
    core::Rng rng = core::make_rng(options_.seed);
    for (int s = 0; s < options_.restarts; ++s) {
      Eigen::VectorXd x(1 + p);
      for (Eigen::Index i = 0; i < x.size(); ++i) x[i] = lb[i] + (ub[i] - lb[i]) * core::uniform01(rng);
      starts.push_back(x);
    }
    LBFGSpp::LBFGSBParam<double> param;
    param.max_iterations = 200;
    param.epsilon = 1e-6;
    param.epsilon_rel = 0;
    param.past = 1;
    param.delta = 1e-10;
    param.max_linesearch = 30;
    double best = std::numeric_limits<double>::infinity();
    Work work;
    for (const auto& start : starts) {
      NegLaplace obj{options_.kernel, &X_,      &t, &work, Eigen::VectorXd(), std::numeric_limits<double>::infinity(),
                     Eigen::VectorXd()};
      Eigen::VectorXd x = start;
      double fx = 0;
      try {
        LBFGSpp::LBFGSBSolver<double> solver(param);
        solver.minimize(obj, x, fx, lb, ub);
      } catch (const std::exception&) {
        // keep the best point reached before the line search gave up
      }
      if (obj.best_f < best) {
        best = obj.best_f;
        theta = obj.best_x;
      }
    }
    hyper_.signal_variance = std::exp(theta[0]);
    hyper_.lengthscales = theta.tail(p).array().exp();
  }

  Work w;
  kernel_and_derivative(options_.kernel, hyper_.signal_variance, hyper_.lengthscales, X_, w);
  const Mode m = find_mode(t, Eigen::VectorXd(), w);
  if (!std::isfinite(m.lml)) throw NumericalError("GpClassifier: non-finite Laplace marginal likelihood");
  lml_ = m.lml;
  grad_logp_ = t - m.pi;
  sqrt_w_ = m.sw;
  L_ = w.L;
  L_.triangularView<Eigen::StrictlyUpper>().setZero();
}

Eigen::VectorXd GpClassifier::probability(const Eigen::MatrixXd& Xs) const {
  if (constant_p_ < 0 && L_.size() == 0) throw InvalidArgument("probability: the GpClassifier is not fitted");
  if (Xs.cols() != X_.cols())
    throw InvalidArgument("Xs: expected " + std::to_string(X_.cols()) + " columns (got " + std::to_string(Xs.cols()) +
                          ")");
  const Eigen::Index m = Xs.rows();
  if (constant_p_ >= 0) return Eigen::VectorXd::Constant(m, constant_p_);
  // Alg. 3.2: latent mean k*^T (t - pi), variance k** - |L^-1 sW k*|^2.
  const Eigen::MatrixXd Ks =
      detail::cross_kernel(options_.kernel, hyper_.signal_variance, hyper_.lengthscales, X_, Xs);  // (n, m)
  const Eigen::VectorXd mean = Ks.transpose() * grad_logp_;
  Eigen::MatrixXd V = sqrt_w_.asDiagonal() * Ks;
  L_.triangularView<Eigen::Lower>().solveInPlace(V);
  const Eigen::VectorXd var =
      (hyper_.signal_variance - V.colwise().squaredNorm().array()).max(1e-300).matrix().transpose();
  Eigen::VectorXd p(m);
  double coef_sum = 0;
  for (double c : kCoefs) coef_sum += c;
  for (Eigen::Index i = 0; i < m; ++i) {
    // integral of 0.5 erf(lambda f) N(f | mean, var) df = 0.5 erf(lambda mean / sqrt(1 + 2 lambda^2 var)),
    // written as scikit-learn writes it (alpha = 1 / (2 var)).
    const double alpha = 1.0 / (2.0 * var[i]);
    double s = 0.5 * coef_sum;
    for (int k = 0; k < 5; ++k) {
      const double lam = kLambdas[k];
      const double integral = std::sqrt(std::numbers::pi / alpha) *
                              std::erf(lam * mean[i] * std::sqrt(alpha / (alpha + lam * lam))) /
                              (2.0 * std::sqrt(var[i] * 2.0 * std::numbers::pi));
      s += kCoefs[k] * integral;
    }
    p[i] = std::clamp(s, 1e-12, 1.0 - 1e-12);
  }
  return p;
}

}  // namespace tsunagu::bayesopt
