#include "tsunagu/bayesopt/gp.hpp"

#include <LBFGSB.h>

#include <Eigen/Cholesky>
#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <numbers>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "gp_kernel.hpp"
#include "tsunagu/core/error.hpp"
#include "tsunagu/core/thread_pool.hpp"

namespace tsunagu::bayesopt {

namespace {

constexpr double kLog2Pi = 1.8378770664093454836;
// Largest jitter tried before a factorisation is declared failed, relative to the mean diagonal: 1e-4 of the
// signal is far below any noise worth modelling, so the model stays what the hyperparameters say.
constexpr double kMaxRelativeJitter = 1e-4;
// Signal-variance bounds relative to the variance of the model-unit targets (1 with standardize_y): the header
// bounds the lengthscales and the noise; s2 only needs to stay finite and positive.
constexpr double kSignalMinRel = 1e-6, kSignalMaxRel = 1e6;
using detail::inverse_from_lower_inverse;
using detail::kBlock;
using detail::lower_inverse;
using detail::run_balanced;
// Above 1.5x this many observations the multi-start hyperparameter search runs on a random subset of this size
// and only the final L-BFGS run uses all data (see fit()).
constexpr Eigen::Index kCoarseSize = 256;

std::string num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

struct GammaPrior {
  double shape, rate;
  double log_pdf(double x) const {
    return shape * std::log(rate) - std::lgamma(shape) + (shape - 1) * std::log(x) - rate * x;
  }
  double dlog_dlogx(double x) const { return (shape - 1) - rate * x; }  // d log p(x) / d log x
};
// BoTorch SingleTaskGP defaults (see the header).
constexpr GammaPrior kLengthscalePrior{3.0, 6.0}, kSignalPrior{2.0, 0.15}, kNoisePrior{1.1, 0.05};

struct LogNormalPrior {
  double mu, sigma;  // of log x
  double log_pdf(double x) const {
    const double z = (std::log(x) - mu) / sigma;
    return -std::log(x) - std::log(sigma) - 0.5 * std::log(2 * std::numbers::pi) - 0.5 * z * z;
  }
  double dlog_dlogx(double x) const { return -1 - (std::log(x) - mu) / (sigma * sigma); }
};
// Hvarfner et al. (ICML 2024), BoTorch's defaults since 0.12: lengthscales ~ LogNormal(sqrt 2 + log(dim) / 2,
// sqrt 3), noise ~ LogNormal(-4, 1); the lengthscale location grows with the dimension.
LogNormalPrior dim_scaled_lengthscale_prior(Eigen::Index dim) {
  return {std::numbers::sqrt2 + 0.5 * std::log(static_cast<double>(dim)), std::numbers::sqrt3};
}
constexpr LogNormalPrior kDimScaledNoisePrior{-4.0, 1.0};

/// log p(theta) of the signal variance, lengthscales and noise under `prior` (0 for Prior::None); with grad, its
/// derivatives with respect to log s2 (entry 0), log l (1..l.size()) and log noise (l.size() + 1, learn_noise)
/// are added to *grad.
double hyper_log_prior(Prior prior, Eigen::Index dim, double s2, const Eigen::VectorXd& l, bool learn_noise,
                       double noise, Eigen::VectorXd* grad) {
  const Eigen::Index p = l.size();
  double v = 0;
  if (prior == Prior::Gamma) {
    v += kSignalPrior.log_pdf(s2);
    if (grad) (*grad)[0] += kSignalPrior.dlog_dlogx(s2);
    for (Eigen::Index d = 0; d < p; ++d) {
      v += kLengthscalePrior.log_pdf(l[d]);
      if (grad) (*grad)[1 + d] += kLengthscalePrior.dlog_dlogx(l[d]);
    }
    if (learn_noise) {
      v += kNoisePrior.log_pdf(noise);
      if (grad) (*grad)[p + 1] += kNoisePrior.dlog_dlogx(noise);
    }
  } else if (prior == Prior::DimScaled) {
    const LogNormalPrior lp = dim_scaled_lengthscale_prior(dim);
    for (Eigen::Index d = 0; d < p; ++d) {
      v += lp.log_pdf(l[d]);
      if (grad) (*grad)[1 + d] += lp.dlog_dlogx(l[d]);
    }
    if (learn_noise) {
      v += kDimScaledNoisePrior.log_pdf(noise);
      if (grad) (*grad)[p + 1] += kDimScaledNoisePrior.dlog_dlogx(noise);
    }
  }
  return v;
}

unsigned resolve_threads(unsigned t) { return t == 0 ? core::default_threads() : t; }

// Input warping (see the header). Inputs are clamped to [0, 1] and mapped to [eps, 1 - eps] so that log x and
// log(1 - x^a) stay finite; the prior on log a and log b is N(0, kWarpPriorVar).
constexpr double kWarpEps = 1e-7, kWarpPriorVar = 0.75;

struct WarpValue {
  double w, dloga, dlogb, dx;  // w(x) and its derivatives by log a, log b and x
};

WarpValue kumaraswamy(double x, double a, double b) {
  const bool inside = x > 0 && x < 1;  // clamped outside: dw/dx = 0
  const double xe = kWarpEps + (1 - 2 * kWarpEps) * std::clamp(x, 0.0, 1.0);
  const double lx = std::log(xe);
  const double t = std::exp(a * lx);            // x^a
  const double lomt = std::log(-std::expm1(a * lx));  // log(1 - x^a), accurate near x = 1
  const double pb = std::exp(b * lomt);         // (1 - x^a)^b
  const double pbm1 = std::exp((b - 1) * lomt);  // (1 - x^a)^(b-1)
  WarpValue v;
  v.w = -std::expm1(b * lomt);  // 1 - (1 - x^a)^b, accurate near w = 0
  v.dloga = a * b * pbm1 * t * lx;
  v.dlogb = -b * pb * lomt;
  v.dx = inside ? (1 - 2 * kWarpEps) * a * b * std::exp((a - 1) * lx) * pbm1 : 0.0;
  return v;
}

/// Warped copy of U (n, dim); with Da/Db also dW/dlog a and dW/dlog b (n, dim each).
Eigen::MatrixXd warp_matrix(const Eigen::MatrixXd& U, const Eigen::VectorXd& a, const Eigen::VectorXd& b,
                            Eigen::MatrixXd* Da = nullptr, Eigen::MatrixXd* Db = nullptr) {
  Eigen::MatrixXd W(U.rows(), U.cols());
  if (Da) Da->resize(U.rows(), U.cols());
  if (Db) Db->resize(U.rows(), U.cols());
  for (Eigen::Index d = 0; d < U.cols(); ++d)
    for (Eigen::Index i = 0; i < U.rows(); ++i) {
      const WarpValue v = kumaraswamy(U(i, d), a[d], b[d]);
      W(i, d) = v.w;
      if (Da) (*Da)(i, d) = v.dloga;
      if (Db) (*Db)(i, d) = v.dlogb;
    }
  return W;
}

double warp_log_prior(double log_param) {
  return -0.5 * log_param * log_param / kWarpPriorVar - 0.5 * std::log(2 * std::numbers::pi * kWarpPriorVar);
}

/// In-place Cholesky (lower) of a symmetric positive-definite A, right-looking by column panels: factor the
/// diagonal block, solve the panel below it, update the trailing lower triangle; the last two in parallel
/// (row blocks / column blocks). The blocking does not depend on the thread count, so neither does the factor
/// (bit for bit). Small n: Eigen's LLT.
bool parallel_cholesky(Eigen::MatrixXd& A, unsigned threads) {
  const Eigen::Index n = A.rows();
  if (n < 3 * kBlock) return detail::llt_in_place(A);
  for (Eigen::Index k0 = 0; k0 < n; k0 += kBlock) {
    const Eigen::Index w = std::min(kBlock, n - k0), m = n - k0 - w;
    Eigen::Ref<Eigen::MatrixXd> A11 = A.block(k0, k0, w, w);
    Eigen::LLT<Eigen::Ref<Eigen::MatrixXd>, Eigen::Lower> llt(A11);
    if (llt.info() != Eigen::Success) return false;
    for (Eigen::Index i = 0; i < w; ++i)
      if (!(A11(i, i) > 0) || !std::isfinite(A11(i, i))) return false;
    if (m == 0) break;
    const Eigen::Index nb = (m + kBlock - 1) / kBlock;
    // A21 <- A21 L11^-T, row blocks independent.
    core::parallel_for(static_cast<std::size_t>(nb), threads, [&](std::size_t b, std::size_t e, unsigned) {
      for (std::size_t r = b; r < e; ++r) {
        const Eigen::Index r0 = k0 + w + static_cast<Eigen::Index>(r) * kBlock;
        auto X = A.block(r0, k0, std::min(kBlock, n - r0), w);
        A.block(k0, k0, w, w).triangularView<Eigen::Lower>().transpose().solveInPlace<Eigen::OnTheRight>(X);
      }
    });
    // A22 -= A21 A21^T on the lower triangle, column blocks independent (cost ~ rows below the block).
    std::vector<double> cost(static_cast<std::size_t>(nb));
    for (Eigen::Index J = 0; J < nb; ++J) cost[J] = static_cast<double>(m - J * kBlock);
    run_balanced(cost, threads, [&](std::size_t J) {
      const Eigen::Index j0 = static_cast<Eigen::Index>(J) * kBlock, wj = std::min(kBlock, m - j0);
      const auto P = A.block(k0 + w, k0, m, w);
      A.block(k0 + w + j0, k0 + w + j0, m - j0, wj).noalias() -=
          P.middleRows(j0, m - j0) * P.middleRows(j0, wj).transpose();
    });
  }
  return true;
}

/// Everything the marginal likelihood needs besides theta; X, y in model units.
struct LmlProblem {
  const Eigen::MatrixXd* X;
  const Eigen::VectorXd* y;
  KernelType kernel;
  Eigen::Index p;       // number of lengthscales (dim or 1)
  bool learn_noise;
  double fixed_noise;   // used when !learn_noise
  Prior prior;
  bool warp = false;    // theta ends with log a (dim), log b (dim); X is before the warp
};

/// Buffers reused across evaluations (n x n each; allocating and first-touching 8 MB per matrix per call would
/// cost as much as the arithmetic at n = 1000).
struct LmlWorkspace {
  Eigen::MatrixXd L;     // kernel matrix, then its Cholesky factor (lower)
  Eigen::MatrixXd H;     // per pair -2 dk/dr^2: dk_ij / dlog l_d = H_ij (x_id - x_jd)^2 / l_d^2 (lower)
  Eigen::MatrixXd Linv;  // L^-1 (lower)
  Eigen::MatrixXd W;     // K^-1 (lower), then (alpha alpha^T - K^-1) o H
  Eigen::MatrixXd Xe;    // scaled, centred inputs, a column of ones, then (warp) dW/dlog a, dW/dlog b scaled
  Eigen::MatrixXd M;     // W Xe
  Eigen::VectorXd alpha;
  double jitter = 0;
};

/// Fill column j's strict lower part of K (into L) and of H from the scaled inputs Xs (n, dim).
void fill_pair_column(const LmlProblem& pb, const Eigen::MatrixXd& Xs, double s2, Eigen::Index j,
                      LmlWorkspace& ws) {
  const Eigen::Index n = Xs.rows(), len = n - j - 1;
  if (len <= 0) return;
  auto r2 = ws.H.col(j).tail(len).array();
  r2.setZero();
  for (Eigen::Index d = 0; d < Xs.cols(); ++d) r2 += (Xs.col(d).tail(len).array() - Xs(j, d)).square();
  auto k = ws.L.col(j).tail(len).array();
  switch (pb.kernel) {
    case KernelType::RBF:
      k = s2 * (-0.5 * r2).exp();
      r2 = k;  // -2 dk/dr^2 = s2 exp(-r^2/2)
      break;
    case KernelType::Matern32: {
      r2 = (3.0 * r2).sqrt();  // now a = sqrt3 r
      const Eigen::ArrayXd e = (-r2).exp();
      k = s2 * (1 + r2) * e;
      r2 = (3.0 * s2) * e;
      break;
    }
    case KernelType::Matern52: {
      r2 = (5.0 * r2).sqrt();  // now a = sqrt5 r
      const Eigen::ArrayXd e = (-r2).exp();
      k = s2 * (1 + r2 + r2.square() * (1.0 / 3.0)) * e;
      r2 = (5.0 / 3.0 * s2) * (1 + r2) * e;
      break;
    }
  }
}

/// Columns j and n-1-j together cost the same for every j: balanced contiguous chunks for parallel_for.
void for_each_column_folded(Eigen::Index n, unsigned threads, const std::function<void(Eigen::Index)>& fn) {
  const auto half = static_cast<std::size_t>((n + 1) / 2);
  core::parallel_for(half, n >= 256 ? threads : 1, [&](std::size_t b, std::size_t e, unsigned) {
    for (std::size_t t = b; t < e; ++t) {
      const auto j = static_cast<Eigen::Index>(t);
      fn(j);
      if (n - 1 - j != j) fn(n - 1 - j);
    }
  });
}

/// log p(y | theta) (+ log prior under MAP) and its analytic gradient (R&W eq. 5.9):
///   d/dtheta_j = 1/2 tr((alpha alpha^T - K^-1) dK/dtheta_j).
/// K^-1 comes from the Cholesky factor by a blocked triangular inverse and product (parallel). The ARD terms
/// sum_{i>j} W_ij (x_id - x_jd)^2 for all d at once are sum_i s_i x_id^2 - x_d^T W x_d with W symmetric
/// (zero diagonal) and s its row sums: one symmetric matrix product W [X 1] instead of d passes over the pairs.
/// The s2 and noise terms use tr(A K_y) = y^T alpha - n and tr(A) = alpha^T alpha - tr(K^-1).
double evaluate_lml(const LmlProblem& pb, const Eigen::VectorXd& theta, Eigen::VectorXd* grad, LmlWorkspace& ws,
                    unsigned threads) {
  const Eigen::VectorXd& y = *pb.y;
  const Eigen::Index n = pb.X->rows(), dim = pb.X->cols(), p = pb.p;
  if (!theta.allFinite()) throw NumericalError("log marginal likelihood: non-finite theta");
  const double s2 = std::exp(theta[0]);
  const Eigen::VectorXd l = theta.segment(1, p).array().exp();
  const double noise = pb.learn_noise ? std::exp(theta[p + 1]) : pb.fixed_noise;
  const Eigen::Index q = 1 + p + (pb.learn_noise ? 1 : 0);  // first warp parameter
  Eigen::MatrixXd Xw, Da, Db;
  if (pb.warp)
    Xw = warp_matrix(*pb.X, theta.segment(q, dim).array().exp(), theta.segment(q + dim, dim).array().exp(),
                     grad ? &Da : nullptr, grad ? &Db : nullptr);
  const Eigen::MatrixXd& X = pb.warp ? Xw : *pb.X;

  // Scaled inputs, centred (distances are translation invariant; centring keeps x^2 terms small). With the warp,
  // its derivatives divided by the lengthscales ride along in the same symmetric product.
  const Eigen::Index nw = pb.warp ? 2 * dim : 0;
  ws.Xe.resize(n, dim + 1 + nw);
  for (Eigen::Index d = 0; d < dim; ++d) {
    ws.Xe.col(d) = X.col(d) / detail::lengthscale(l, d);
    ws.Xe.col(d).array() -= ws.Xe.col(d).mean();
  }
  ws.Xe.col(dim).setOnes();
  if (pb.warp && grad) {
    for (Eigen::Index d = 0; d < dim; ++d) {
      ws.Xe.col(dim + 1 + d) = Da.col(d) / detail::lengthscale(l, d);
      ws.Xe.col(dim + 1 + dim + d) = Db.col(d) / detail::lengthscale(l, d);
    }
  } else if (pb.warp) {
    ws.Xe.rightCols(nw).setZero();
  }
  const auto Xs = ws.Xe.leftCols(dim);
  const Eigen::MatrixXd Xsm = Xs;  // contiguous copy for the column kernel

  ws.L.resize(n, n);
  ws.H.resize(n, n);
  auto fill = [&](Eigen::MatrixXd& A) {  // A is ws.L; H is filled alongside
    for_each_column_folded(n, threads, [&](Eigen::Index j) { fill_pair_column(pb, Xsm, s2, j, ws); });
    A.diagonal().setConstant(s2 + noise);
  };
  bool ok = false;
  ws.jitter = detail::cholesky_with_jitter(
      ws.L, fill, [threads](Eigen::MatrixXd& A) { return parallel_cholesky(A, threads); }, kMaxRelativeJitter, ok);
  if (!ok) throw NumericalError("log marginal likelihood: kernel matrix not positive definite even with jitter");
  const Eigen::MatrixXd& Lc = ws.L;
  const auto Lt = Lc.triangularView<Eigen::Lower>();
  ws.alpha = y;
  Lt.solveInPlace(ws.alpha);
  const double quad = ws.alpha.squaredNorm();  // y^T K^-1 y
  const double logdet_half = ws.L.diagonal().array().log().sum();
  Lt.transpose().solveInPlace(ws.alpha);
  double value = -0.5 * quad - logdet_half - 0.5 * static_cast<double>(n) * kLog2Pi;

  if (grad) {
    grad->resize(theta.size());
    lower_inverse(ws.L, ws.Linv, threads);
    inverse_from_lower_inverse(ws.Linv, ws.W, threads);
    const double tr_kinv = ws.W.diagonal().sum();
    const Eigen::VectorXd& a = ws.alpha;
    for_each_column_folded(n, threads, [&](Eigen::Index j) {
      const Eigen::Index len = n - j - 1;
      ws.W(j, j) = 0;
      if (len > 0)
        ws.W.col(j).tail(len).array() =
            (a.tail(len).array() * a[j] - ws.W.col(j).tail(len).array()) * ws.H.col(j).tail(len).array();
    });
    ws.M.noalias() = ws.W.selfadjointView<Eigen::Lower>() * ws.Xe;
    const auto s = ws.M.col(dim).array();
    Eigen::VectorXd gl(dim);
    for (Eigen::Index d = 0; d < dim; ++d)
      gl[d] = (s * Xs.col(d).array().square()).sum() - Xs.col(d).dot(ws.M.col(d));
    const double tr_a = a.squaredNorm() - tr_kinv;
    (*grad)[0] = 0.5 * (quad - static_cast<double>(n) - (noise + ws.jitter) * tr_a);
    if (p == dim)
      grad->segment(1, p) = gl;
    else
      (*grad)[1] = gl.sum();
    if (pb.learn_noise) (*grad)[p + 1] = 0.5 * noise * tr_a;
    // Warp: dK_ij/dphi = dk/dr^2 * 2 (xs_i - xs_j)(zs_i - zs_j) with zs = (dW/dphi) / l, so the term is
    // -sum_{i>j} W_ij dxs dzs = -(sum_i s_i xs_i zs_i - xs^T W zs), the lengthscale identity with two vectors.
    for (Eigen::Index c = 0; c < nw; ++c) {
      const Eigen::Index d = c % dim;
      const auto z = ws.Xe.col(dim + 1 + c).array();
      (*grad)[q + c] = -((s * Xs.col(d).array() * z).sum() - Xs.col(d).dot(ws.M.col(dim + 1 + c)));
    }
  }
  if (pb.warp)
    for (Eigen::Index c = 0; c < nw; ++c) {
      value += warp_log_prior(theta[q + c]);
      if (grad) (*grad)[q + c] -= theta[q + c] / kWarpPriorVar;
    }

  value += hyper_log_prior(pb.prior, dim, s2, l, pb.learn_noise, noise, grad);
  return value;
}

/// -LML for LBFGS++, remembering the best point seen (a line search that throws still leaves a usable result).
/// The solver works on z = scale o theta (elementwise): L-BFGS-B's first step has unit length in z, so scale > 1
/// makes it a short step (a polish near a known optimum), scale 1 a long one (a random start far from it); a
/// scale per parameter ~ sqrt of the curvature is a diagonal preconditioner.
struct NegLml {
  const LmlProblem* pb;
  LmlWorkspace* ws;
  unsigned threads;
  Eigen::VectorXd scale;  // per parameter, > 0
  double best_f = std::numeric_limits<double>::infinity();
  Eigen::VectorXd best_x;  // theta units

  double operator()(const Eigen::VectorXd& z, Eigen::VectorXd& g) {
    try {
      Eigen::VectorXd gl;
      const Eigen::VectorXd x = z.cwiseQuotient(scale);
      const double v = evaluate_lml(*pb, x, &gl, *ws, threads);
      if (!std::isfinite(v) || !gl.allFinite()) throw NumericalError("non-finite log marginal likelihood");
      g = -gl.cwiseQuotient(scale);
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

struct StartResult {
  double f = std::numeric_limits<double>::infinity();  // -LML (+ -log prior), inf when the start failed
  Eigen::VectorXd x;
};

/// One L-BFGS-B run per start. Starts run side by side (each single-threaded: no synchronisation inside an
/// evaluation); with fewer starts than threads the spare threads go into each evaluation's blocked linear
/// algebra. A start whose line search fails keeps the best point it reached; one that never evaluates is inf.
std::vector<StartResult> run_starts(const LmlProblem& pb, const std::vector<Eigen::VectorXd>& starts,
                                    const Eigen::VectorXd& lb, const Eigen::VectorXd& ub,
                                    const LBFGSpp::LBFGSBParam<double>& param, unsigned threads,
                                    const Eigen::VectorXd& scale_in = {}) {
  const Eigen::VectorXd scale = scale_in.size() ? scale_in : Eigen::VectorXd::Ones(lb.size());
  std::vector<StartResult> results(starts.size());
  const unsigned outer = std::min<unsigned>(threads, static_cast<unsigned>(starts.size()));
  const unsigned inner = std::max(1u, threads / outer);
  core::parallel_for(starts.size(), outer, [&](std::size_t b, std::size_t e, unsigned) {
    LmlWorkspace ws;
    for (std::size_t s = b; s < e; ++s) {
      NegLml obj{&pb, &ws, inner, scale, std::numeric_limits<double>::infinity(), Eigen::VectorXd()};
      Eigen::VectorXd z = scale.cwiseProduct(starts[s]);
      double fx = 0;
      try {
        LBFGSpp::LBFGSBSolver<double> solver(param);
        const Eigen::VectorXd zlb = scale.cwiseProduct(lb), zub = scale.cwiseProduct(ub);
        solver.minimize(obj, z, fx, zlb, zub);
      } catch (const std::exception&) {
        // Line-search failure or a numerical breakdown: keep the best point this start reached.
      }
      if (std::isfinite(obj.best_f)) results[s] = StartResult{obj.best_f, obj.best_x};
    }
  });
  return results;
}

/// Default polish scale without curvature information: first steps of 0.25 in log units.
constexpr double kPolishScale = 4.0;

/// Per-parameter scale for a polish near theta: sqrt(|d^2 LML / d theta_k^2| * factor) by forward differences
/// of the analytic gradient (one gradient per parameter), at least kPolishScale (no longer first steps than
/// without it) and kPolishScale where it cannot be evaluated.
Eigen::VectorXd curvature_scale(const LmlProblem& pb, const Eigen::VectorXd& theta, double factor, unsigned threads) {
  constexpr double h = 1e-4;
  const Eigen::Index nt = theta.size();
  Eigen::VectorXd out = Eigen::VectorXd::Constant(nt, kPolishScale);
  try {
    LmlWorkspace ws;
    Eigen::VectorXd g0, gk;
    evaluate_lml(pb, theta, &g0, ws, threads);
    for (Eigen::Index k = 0; k < nt; ++k) {
      Eigen::VectorXd t = theta;
      t[k] += h;
      evaluate_lml(pb, t, &gk, ws, threads);
      const double c = std::abs(gk[k] - g0[k]) / h * factor;
      out[k] = std::isfinite(c) ? std::max(kPolishScale, std::sqrt(c)) : kPolishScale;
    }
  } catch (const NumericalError&) {
    out.setConstant(kPolishScale);
  }
  return out;
}

/// Lowest objective; ties and failures resolved by start order, so the result never depends on threads.
StartResult best_of(const std::vector<StartResult>& results) {
  StartResult best;
  for (const auto& r : results)
    if (r.f < best.f) best = r;
  return best;
}

void check_finite_matrix(const Eigen::MatrixXd& X, const char* what) {
  for (Eigen::Index i = 0; i < X.rows(); ++i)
    if (!X.row(i).allFinite())
      throw InvalidArgument(std::string(what) + ": row " + std::to_string(i) + " contains NaN or Inf");
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------------

KernelType parse_kernel(const std::string& name) {
  if (name == "rbf") return KernelType::RBF;
  if (name == "matern32") return KernelType::Matern32;
  if (name == "matern52") return KernelType::Matern52;
  throw InvalidArgument("kernel: unknown kernel '" + name + "' (expected rbf, matern32 or matern52)");
}

Prior parse_prior(const std::string& name) {
  if (name == "none") return Prior::None;
  if (name == "gamma") return Prior::Gamma;
  if (name == "dimscaled") return Prior::DimScaled;
  throw InvalidArgument("prior: unknown prior '" + name + "' (expected none, gamma or dimscaled)");
}

std::string prior_name(Prior p) {
  switch (p) {
    case Prior::Gamma:
      return "gamma";
    case Prior::DimScaled:
      return "dimscaled";
    case Prior::None:
      break;
  }
  return "none";
}

std::string kernel_name(KernelType k) {
  switch (k) {
    case KernelType::RBF:
      return "rbf";
    case KernelType::Matern32:
      return "matern32";
    case KernelType::Matern52:
      return "matern52";
  }
  return "unknown";
}

void GpOptions::validate() const {
  auto positive = [](double v) { return std::isfinite(v) && v > 0; };
  if (!positive(noise)) throw InvalidArgument("noise: must be a finite value > 0 (got " + num(noise) + ")");
  if (restarts < 0) throw InvalidArgument("restarts: must be >= 0 (got " + std::to_string(restarts) + ")");
  if (max_iterations < 1)
    throw InvalidArgument("max_iterations: must be >= 1 (got " + std::to_string(max_iterations) + ")");
  if (!positive(lengthscale_min))
    throw InvalidArgument("lengthscale_min: must be a finite value > 0 (got " + num(lengthscale_min) + ")");
  if (!positive(lengthscale_max) || !(lengthscale_max > lengthscale_min))
    throw InvalidArgument("lengthscale_max: must be finite and > lengthscale_min (got " + num(lengthscale_max) +
                          ")");
  if (!positive(noise_min))
    throw InvalidArgument("noise_min: must be a finite value > 0 (got " + num(noise_min) + ")");
  if (!positive(noise_max) || !(noise_max > noise_min))
    throw InvalidArgument("noise_max: must be finite and > noise_min (got " + num(noise_max) + ")");
  if (!(std::isfinite(warp_min) && warp_min > 0 && warp_min < 1))
    throw InvalidArgument("warp_min: must be in (0, 1) (got " + num(warp_min) + ")");
  if (!(std::isfinite(warp_max) && warp_max > 1))
    throw InvalidArgument("warp_max: must be a finite value > 1 (got " + num(warp_max) + ")");
}

GaussianProcess::GaussianProcess(GpOptions options) : options_(std::move(options)) {
  options_.validate();
  hyper_.noise_variance = options_.noise;
}

std::size_t GaussianProcess::n() const noexcept { return static_cast<std::size_t>(X_.rows()); }
std::size_t GaussianProcess::dim() const noexcept { return static_cast<std::size_t>(X_.cols()); }

void GaussianProcess::set_hyperparameters(const Hyperparameters& h) {
  if (!(std::isfinite(h.signal_variance) && h.signal_variance > 0))
    throw InvalidArgument("signal_variance: must be a finite value > 0 (got " + num(h.signal_variance) + ")");
  if (!(std::isfinite(h.noise_variance) && h.noise_variance > 0))
    throw InvalidArgument("noise_variance: must be a finite value > 0 (got " + num(h.noise_variance) + ")");
  if (h.lengthscales.size() < 1) throw InvalidArgument("lengthscales: must not be empty");
  for (Eigen::Index i = 0; i < h.lengthscales.size(); ++i)
    if (!(std::isfinite(h.lengthscales[i]) && h.lengthscales[i] > 0))
      throw InvalidArgument("lengthscales: entry " + std::to_string(i) + " must be a finite value > 0 (got " +
                            num(h.lengthscales[i]) + ")");
  if (!options_.ard && h.lengthscales.size() != 1)
    throw InvalidArgument("lengthscales: an isotropic kernel (ard = false) takes 1 lengthscale (got " +
                          std::to_string(h.lengthscales.size()) + ")");
  if (fitted() && options_.ard && h.lengthscales.size() != 1 && h.lengthscales.size() != X_.cols())
    throw InvalidArgument("lengthscales: expected " + std::to_string(X_.cols()) + " (dim) or 1 entries (got " +
                          std::to_string(h.lengthscales.size()) + ")");
  if (h.warp_a.size() != h.warp_b.size())
    throw InvalidArgument("warp_b: has " + std::to_string(h.warp_b.size()) + " entries but warp_a has " +
                          std::to_string(h.warp_a.size()));
  if (h.warp_a.size() > 0 && !options_.warp_inputs)
    throw InvalidArgument("warp_a: warp parameters given but the GaussianProcess has warp_inputs = false");
  for (const auto* v : {&h.warp_a, &h.warp_b})
    for (Eigen::Index i = 0; i < v->size(); ++i)
      if (!(std::isfinite((*v)[i]) && (*v)[i] > 0))
        throw InvalidArgument(std::string(v == &h.warp_a ? "warp_a" : "warp_b") + ": entry " + std::to_string(i) +
                              " must be a finite value > 0 (got " + num((*v)[i]) + ")");
  if (fitted() && h.warp_a.size() > 0 && h.warp_a.size() != X_.cols())
    throw InvalidArgument("warp_a: expected " + std::to_string(X_.cols()) + " (dim) entries (got " +
                          std::to_string(h.warp_a.size()) + ")");
  const Hyperparameters old = hyper_;
  const bool old_set = hyper_set_;
  hyper_ = h;
  hyper_set_ = true;
  if (fitted()) {
    if (options_.ard && hyper_.lengthscales.size() == 1)
      hyper_.lengthscales = Eigen::VectorXd::Constant(X_.cols(), h.lengthscales[0]);
    try {
      apply_warp();
      factorize();
    } catch (...) {  // keep the model as it was
      hyper_ = old;
      hyper_set_ = old_set;
      apply_warp();
      factorize();
      throw;
    }
  }
}

void GaussianProcess::apply_warp() {
  if (!options_.warp_inputs) return;
  const Eigen::Index dim = Xu_.cols();
  if (hyper_.warp_a.size() != dim) {
    hyper_.warp_a = Eigen::VectorXd::Ones(dim);
    hyper_.warp_b = Eigen::VectorXd::Ones(dim);
  }
  X_ = warp_matrix(Xu_, hyper_.warp_a, hyper_.warp_b);
}

Eigen::MatrixXd GaussianProcess::warp_rows(const Eigen::MatrixXd& U) const {
  if (!options_.warp_inputs) return U;
  return warp_matrix(U, hyper_.warp_a, hyper_.warp_b);
}

void GaussianProcess::fit(const Eigen::MatrixXd& X, const Eigen::VectorXd& y) {
  if (X.rows() < 1) throw InvalidArgument("X: at least one observation is needed");
  if (X.cols() < 1) throw InvalidArgument("X: at least one input dimension is needed");
  if (y.size() != X.rows())
    throw InvalidArgument("y: has " + std::to_string(y.size()) + " entries but X has " + std::to_string(X.rows()) +
                          " rows");
  check_finite_matrix(X, "X");
  for (Eigen::Index i = 0; i < y.size(); ++i)
    if (!std::isfinite(y[i])) throw InvalidArgument("y: row " + std::to_string(i) + " is NaN or Inf");
  const Eigen::Index n = X.rows(), dim = X.cols();
  // Hyperparameters left by a fit on data of another dimension are no start for this one.
  if (fitted() && X_.cols() != dim && (options_.ard || options_.warp_inputs)) hyper_set_ = false;
  if (hyper_set_ && options_.ard && hyper_.lengthscales.size() != 1 && hyper_.lengthscales.size() != dim)
    throw InvalidArgument("lengthscales: expected " + std::to_string(dim) + " (dim) or 1 entries (got " +
                          std::to_string(hyper_.lengthscales.size()) + ")");
  if (hyper_set_ && options_.warp_inputs && hyper_.warp_a.size() > 0 && hyper_.warp_a.size() != dim)
    throw InvalidArgument("warp_a: expected " + std::to_string(dim) + " (dim) entries (got " +
                          std::to_string(hyper_.warp_a.size()) + ")");

  // Input scaling: per-column min/max onto [0, 1]; a constant column maps to 0.
  if (options_.normalize_x) {
    x_lo_ = X.colwise().minCoeff().transpose();
    x_scale_ = (X.colwise().maxCoeff().transpose() - x_lo_);
    for (Eigen::Index d = 0; d < dim; ++d)
      if (!(x_scale_[d] > 0)) x_scale_[d] = 1;
  } else {
    x_lo_ = Eigen::VectorXd::Zero(dim);
    x_scale_ = Eigen::VectorXd::Ones(dim);
  }
  X_ = (X.rowwise() - x_lo_.transpose()).array().rowwise() / x_scale_.transpose().array();
  // Output scaling: mean and population standard deviation (as scikit-learn's normalize_y).
  if (options_.standardize_y) {
    y_mean_ = y.mean();
    const double sd = std::sqrt((y.array() - y_mean_).square().mean());
    y_scale_ = sd > 0 && std::isfinite(sd) ? sd : 1.0;
  } else {
    y_mean_ = 0;
    y_scale_ = 1;
  }
  y_ = (y.array() - y_mean_) / y_scale_;

  const Eigen::Index p = options_.ard ? dim : 1;
  // Reference scales of the data in model units: the default and random starts are placed relative to them.
  const double yvar = (y_.array() - y_.mean()).square().mean();
  const double v = yvar > 0 ? yvar : 1.0;
  Eigen::VectorXd range = X_.colwise().maxCoeff().transpose() - X_.colwise().minCoeff().transpose();
  for (Eigen::Index d = 0; d < dim; ++d)
    if (!(range[d] > 0)) range[d] = 1;

  // Current (set or previous) hyperparameters, else the defaults.
  const bool had_hyper = hyper_set_;
  if (!hyper_set_) {
    hyper_.signal_variance = v;
    hyper_.lengthscales = options_.ard ? Eigen::VectorXd(0.5 * range) : Eigen::VectorXd::Constant(1, 0.5 * range.mean());
    hyper_.noise_variance = (options_.optimize && options_.learn_noise) ? 1e-2 * v : options_.noise;
  } else if (options_.ard && hyper_.lengthscales.size() == 1) {
    hyper_.lengthscales = Eigen::VectorXd::Constant(dim, hyper_.lengthscales[0]);
  }
  if (options_.warp_inputs && hyper_.warp_a.size() != dim) {  // identity start
    hyper_.warp_a = Eigen::VectorXd::Ones(dim);
    hyper_.warp_b = Eigen::VectorXd::Ones(dim);
  }
  // X_ holds the unwarped model-unit inputs while the hyperparameters (and the warp) are searched.

  if (options_.optimize) {
    const Eigen::Index q = 1 + p + (options_.learn_noise ? 1 : 0);  // first warp parameter
    const Eigen::Index nt = q + (options_.warp_inputs ? 2 * dim : 0);
    Eigen::VectorXd lb(nt), ub(nt);
    lb[0] = std::log(kSignalMinRel * v);
    ub[0] = std::log(kSignalMaxRel * v);
    lb.segment(1, p).setConstant(std::log(options_.lengthscale_min));
    ub.segment(1, p).setConstant(std::log(options_.lengthscale_max));
    if (options_.learn_noise) {
      lb[p + 1] = std::log(options_.noise_min);
      ub[p + 1] = std::log(options_.noise_max);
    }
    lb.tail(nt - q).setConstant(std::log(options_.warp_min));
    ub.tail(nt - q).setConstant(std::log(options_.warp_max));
    const double fixed_noise = hyper_.noise_variance;
    const LmlProblem pb{&X_, &y_, options_.kernel, p, options_.learn_noise, fixed_noise, options_.prior,
                        options_.warp_inputs};

    // Starts: the current hyperparameters, then random ones in a plausible region (scikit-learn draws from the
    // whole box; a 1e3-unit lengthscale start wastes its run on a flat likelihood).
    const int n_starts = 1 + options_.restarts;
    std::vector<Eigen::VectorXd> starts;
    starts.push_back(theta().cwiseMax(lb).cwiseMin(ub));
    core::Rng rng = core::make_rng(options_.seed);
    auto uni = [&](double a, double b) { return a + (b - a) * core::uniform01(rng); };
    for (int s = 1; s < n_starts; ++s) {
      Eigen::VectorXd t(nt);
      t[0] = std::log(v) + uni(std::log(0.1), std::log(10.0));
      for (Eigen::Index d = 0; d < p; ++d)
        t[1 + d] = std::log(options_.ard ? range[d] : range.mean()) + uni(std::log(0.05), std::log(2.0));
      if (options_.learn_noise) t[p + 1] = std::log(v) + uni(std::log(1e-6), std::log(0.3));
      for (Eigen::Index c = q; c < nt; ++c) t[c] = uni(-1.0, 1.0);  // warp parameters between 1/e and e
      starts.push_back(t.cwiseMax(lb).cwiseMin(ub));
    }

    const unsigned threads = resolve_threads(options_.threads);
    LBFGSpp::LBFGSBParam<double> param;
    param.m = 8;
    param.max_iterations = options_.max_iterations;
    // Loose tolerances: hyperparameters matter to ~1e-3 in log scale, the likelihood to well below 1e-3 nats.
    param.epsilon = 1e-5 * std::max<double>(1.0, static_cast<double>(n));
    param.epsilon_rel = 0;
    param.past = 1;
    param.delta = 1e-9;
    param.max_linesearch = 30;

    StartResult best;
    const Eigen::Index coarse_n = kCoarseSize;
    if (n <= 3 * coarse_n / 2) {
      best = best_of(run_starts(pb, starts, lb, ub, param, threads));
    } else {
      // Coarse to fine: the multi-start search runs on a random subset (O(m^3) per evaluation instead of
      // O(n^3)), then one L-BFGS run on all data polishes the best subset optimum, or the current hyperparameters
      // when they explain all data better (a refit after a few new observations).
      core::Rng subset_rng = core::make_rng(options_.seed ^ 0x9E3779B97F4A7C15ULL);
      const std::vector<std::size_t> perm = core::permutation(static_cast<std::size_t>(n), subset_rng);
      // The first m rows of the permutation, kept in data order.
      auto subset = [&](Eigen::Index m, Eigen::MatrixXd& Xsub, Eigen::VectorXd& ysub) {
        std::vector<std::size_t> idx(perm.begin(), perm.begin() + m);
        std::sort(idx.begin(), idx.end());
        Xsub.resize(m, dim);
        ysub.resize(m);
        for (Eigen::Index i = 0; i < m; ++i) {
          Xsub.row(i) = X_.row(static_cast<Eigen::Index>(idx[i]));
          ysub[i] = y_[static_cast<Eigen::Index>(idx[i])];
        }
      };
      Eigen::MatrixXd Xsub;
      Eigen::VectorXd ysub;
      subset(coarse_n, Xsub, ysub);
      const LmlProblem sub{&Xsub, &ysub, options_.kernel, p, options_.learn_noise, fixed_noise, options_.prior,
                           options_.warp_inputs};
      LBFGSpp::LBFGSBParam<double> coarse_param = param;
      coarse_param.epsilon = 1e-5 * static_cast<double>(coarse_n);
      coarse_param.delta = 1e-7;  // the search only has to find the basin; the polish refines (~30 % fewer evaluations)
      const StartResult coarse = best_of(run_starts(sub, starts, lb, ub, coarse_param, threads));
      // The polish starts close to its optimum: a stopping rule on the relative likelihood change of 1e-7
      // (~1e-4 nats at n = 1000), and a diagonal preconditioner z_k = D_k theta_k with D_k = sqrt(curvature) of
      // the subset objective at its optimum, scaled by n/m (the likelihood is a sum over the data). With one
      // common scale L-BFGS spends most of its iterations on the badly scaled directions (signal variance against
      // lengthscales, flat noise/irrelevant-lengthscale directions): this halves the full-data evaluations.
      LBFGSpp::LBFGSBParam<double> polish = param;
      polish.delta = 1e-7;
      Eigen::VectorXd x0 = std::isfinite(coarse.f) ? coarse.x : starts[0];
      const Eigen::VectorXd precond = std::isfinite(coarse.f)
                                          ? curvature_scale(sub, coarse.x, static_cast<double>(n) / coarse_n, threads)
                                          : Eigen::VectorXd::Constant(nt, kPolishScale);
      // The current hyperparameters compete when they explain all data better (a refit after a few new
      // observations needs no subset search).
      if (had_hyper) {
        LmlWorkspace ws;
        auto value = [&](const Eigen::VectorXd& t) {
          try {
            return -evaluate_lml(pb, t, nullptr, ws, threads);
          } catch (const NumericalError&) {
            return std::numeric_limits<double>::infinity();
          }
        };
        if (value(starts[0]) < value(x0)) x0 = starts[0];
      }
      best = best_of(run_starts(pb, {x0}, lb, ub, polish, threads, precond));
    }
    if (std::isfinite(best.f)) {
      const Eigen::VectorXd& t = best.x;
      hyper_.signal_variance = std::exp(t[0]);
      hyper_.lengthscales = t.segment(1, p).array().exp();
      if (options_.learn_noise) hyper_.noise_variance = std::exp(t[p + 1]);
      if (options_.warp_inputs) {
        hyper_.warp_a = t.segment(q, dim).array().exp();
        hyper_.warp_b = t.segment(q + dim, dim).array().exp();
      }
    }
    // All starts failing leaves the start hyperparameters; factorize() reports if they fail too.
  }
  hyper_set_ = true;
  if (options_.warp_inputs) {
    Xu_ = std::move(X_);
    apply_warp();
  }
  try {
    factorize();
  } catch (...) {  // no half-fitted model: back to unfitted
    X_.resize(0, 0);
    Xu_.resize(0, 0);
    y_.resize(0);
    L_.resize(0, 0);
    alpha_.resize(0);
    throw;
  }
}

void GaussianProcess::factorize() {
  const double noise = hyper_.noise_variance;
  auto fill = [&](Eigen::MatrixXd& A) {
    A = detail::cross_kernel(options_.kernel, hyper_.signal_variance, hyper_.lengthscales, X_, X_);
    A.diagonal().array() = hyper_.signal_variance + noise;
  };
  bool ok = false;
  const unsigned threads = resolve_threads(options_.threads);
  jitter_ = detail::cholesky_with_jitter(
      L_, fill, [threads](Eigen::MatrixXd& A) { return parallel_cholesky(A, threads); }, kMaxRelativeJitter, ok);
  if (!ok)
    throw NumericalError("GaussianProcess: kernel matrix not positive definite even with jitter " + num(jitter_) +
                         " (duplicate inputs with noise " + num(noise) + "?)");
  const Eigen::MatrixXd& Lc = L_;
  alpha_ = Lc.triangularView<Eigen::Lower>().solve(y_);
  Lc.triangularView<Eigen::Lower>().transpose().solveInPlace(alpha_);
}

void GaussianProcess::add_observation(const Eigen::VectorXd& x, double y) {
  if (!fitted()) throw InvalidArgument("add_observation: the GaussianProcess is not fitted yet (call fit first)");
  if (x.size() != X_.cols())
    throw InvalidArgument("x: expected " + std::to_string(X_.cols()) + " entries (got " + std::to_string(x.size()) +
                          ")");
  if (!x.allFinite()) throw InvalidArgument("x: contains NaN or Inf");
  if (!std::isfinite(y)) throw InvalidArgument("y: is NaN or Inf");
  const Eigen::VectorXd xu = (x - x_lo_).array() / x_scale_.array();
  const Eigen::VectorXd xm = warp_rows(xu.transpose()).transpose();
  const double ym = (y - y_mean_) / y_scale_;
  const Eigen::Index n = X_.rows();
  const Eigen::VectorXd k =
      detail::cross_kernel(options_.kernel, hyper_.signal_variance, hyper_.lengthscales, X_, xm.transpose());
  const double c = hyper_.signal_variance + hyper_.noise_variance + jitter_;
  // Extend the factor: [L 0; l^T d] with L l = k, d = sqrt(c - l^T l).
  const Eigen::VectorXd l12 = L_.triangularView<Eigen::Lower>().solve(k);
  const double d2 = c - l12.squaredNorm();
  X_.conservativeResize(n + 1, Eigen::NoChange);
  X_.row(n) = xm.transpose();
  if (options_.warp_inputs) {
    Xu_.conservativeResize(n + 1, Eigen::NoChange);
    Xu_.row(n) = xu.transpose();
  }
  y_.conservativeResize(n + 1);
  y_[n] = ym;
  if (d2 > 1e-12 * c && std::isfinite(d2)) {
    L_.conservativeResize(n + 1, n + 1);
    L_.row(n).head(n) = l12.transpose();
    L_.col(n).head(n).setZero();
    L_(n, n) = std::sqrt(d2);
    const Eigen::MatrixXd& Lc = L_;
    alpha_ = Lc.triangularView<Eigen::Lower>().solve(y_);
    Lc.triangularView<Eigen::Lower>().transpose().solveInPlace(alpha_);
  } else {
    // (Near-)duplicate point: refactorise, possibly with more jitter; on failure the model stays as it was.
    const Eigen::MatrixXd L_old = L_;
    const double jitter_old = jitter_;
    try {
      factorize();
    } catch (...) {
      X_.conservativeResize(n, Eigen::NoChange);
      if (options_.warp_inputs) Xu_.conservativeResize(n, Eigen::NoChange);
      y_.conservativeResize(n);
      L_ = L_old;
      jitter_ = jitter_old;
      throw;
    }
  }
}

Eigen::VectorXd GaussianProcess::theta() const {
  const Eigen::Index p = hyper_.lengthscales.size(), q = 1 + p + (options_.learn_noise ? 1 : 0);
  const Eigen::Index nw = options_.warp_inputs ? hyper_.warp_a.size() : 0;
  Eigen::VectorXd t(q + 2 * nw);
  t[0] = std::log(hyper_.signal_variance);
  t.segment(1, p) = hyper_.lengthscales.array().log();
  if (options_.learn_noise) t[p + 1] = std::log(hyper_.noise_variance);
  if (nw > 0) {
    t.segment(q, nw) = hyper_.warp_a.array().log();
    t.segment(q + nw, nw) = hyper_.warp_b.array().log();
  }
  return t;
}

double GaussianProcess::log_marginal_likelihood() const {
  if (!fitted()) throw InvalidArgument("log_marginal_likelihood: the GaussianProcess is not fitted");
  const Eigen::Index n = X_.rows();
  double v = -0.5 * y_.dot(alpha_) - L_.diagonal().array().log().sum() - 0.5 * static_cast<double>(n) * kLog2Pi;
  v += hyper_log_prior(options_.prior, X_.cols(), hyper_.signal_variance, hyper_.lengthscales, options_.learn_noise,
                       hyper_.noise_variance, nullptr);
  if (options_.warp_inputs)
    for (Eigen::Index d = 0; d < hyper_.warp_a.size(); ++d)
      v += warp_log_prior(std::log(hyper_.warp_a[d])) + warp_log_prior(std::log(hyper_.warp_b[d]));
  return v;
}

double GaussianProcess::log_marginal_likelihood(const Eigen::VectorXd& theta, Eigen::VectorXd* grad) const {
  if (!fitted()) throw InvalidArgument("log_marginal_likelihood: the GaussianProcess is not fitted");
  const Eigen::Index p = options_.ard ? X_.cols() : 1;
  const Eigen::Index dim = X_.cols();
  const Eigen::Index nt = 1 + p + (options_.learn_noise ? 1 : 0) + (options_.warp_inputs ? 2 * dim : 0);
  if (theta.size() != nt)
    throw InvalidArgument("theta: expected " + std::to_string(nt) + " entries [log s2, log l (" + std::to_string(p) +
                          ")" + (options_.learn_noise ? ", log noise" : "") +
                          (options_.warp_inputs ? ", log a (" + std::to_string(dim) + "), log b (" +
                                                      std::to_string(dim) + ")"
                                                : std::string()) +
                          "] (got " + std::to_string(theta.size()) + ")");
  const LmlProblem pb{options_.warp_inputs ? &Xu_ : &X_, &y_, options_.kernel, p, options_.learn_noise,
                      hyper_.noise_variance, options_.prior, options_.warp_inputs};
  LmlWorkspace ws;
  return evaluate_lml(pb, theta, grad, ws, resolve_threads(options_.threads));
}

Eigen::MatrixXd GaussianProcess::kernel(const Eigen::MatrixXd& A, const Eigen::MatrixXd& B) const {
  if (hyper_.lengthscales.size() < 1) throw InvalidArgument("kernel: no hyperparameters set");
  if (A.cols() != B.cols())
    throw InvalidArgument("kernel: A and B have different numbers of columns (" + std::to_string(A.cols()) + " vs " +
                          std::to_string(B.cols()) + ")");
  if (hyper_.lengthscales.size() != 1 && hyper_.lengthscales.size() != A.cols())
    throw InvalidArgument("kernel: inputs have " + std::to_string(A.cols()) + " columns but there are " +
                          std::to_string(hyper_.lengthscales.size()) + " lengthscales");
  return detail::cross_kernel(options_.kernel, hyper_.signal_variance, hyper_.lengthscales, A, B);
}

Eigen::MatrixXd GaussianProcess::to_model_x(const Eigen::MatrixXd& X) const {
  if (!fitted()) throw InvalidArgument("to_model_x: the GaussianProcess is not fitted");
  if (X.cols() != X_.cols())
    throw InvalidArgument("X: expected " + std::to_string(X_.cols()) + " columns (got " + std::to_string(X.cols()) +
                          ")");
  return warp_rows((X.rowwise() - x_lo_.transpose()).array().rowwise() / x_scale_.transpose().array());
}

GaussianProcess::Prediction GaussianProcess::predict(const Eigen::MatrixXd& Xs, bool include_noise) const {
  if (!fitted()) throw InvalidArgument("predict: the GaussianProcess is not fitted");
  const Eigen::MatrixXd Xm = to_model_x(Xs);
  const Eigen::Index m = Xm.rows();
  Prediction out{Eigen::VectorXd(m), Eigen::VectorXd(m)};
  if (m == 0) return out;
  const Eigen::MatrixXd Xtr = detail::scale_inputs(X_, hyper_.lengthscales);
  const Eigen::MatrixXd Xq = detail::scale_inputs(Xm, hyper_.lengthscales);
  const double s2 = hyper_.signal_variance;
  const double extra = include_noise ? hyper_.noise_variance : 0.0;
  constexpr Eigen::Index kRows = 256;  // test points per block: Kt is n x 256
  const Eigen::Index nblocks = (m + kRows - 1) / kRows;
  const auto Lt = L_.triangularView<Eigen::Lower>();
  core::parallel_for(static_cast<std::size_t>(nblocks), resolve_threads(options_.threads),
                     [&](std::size_t b, std::size_t e, unsigned) {
                       for (std::size_t blk = b; blk < e; ++blk) {
                         const Eigen::Index r0 = static_cast<Eigen::Index>(blk) * kRows;
                         const Eigen::Index w = std::min(kRows, m - r0);
                         Eigen::MatrixXd Kt = detail::squared_distances(Xtr, Xq.middleRows(r0, w));  // (n, w)
                         detail::kernel_from_r2(options_.kernel, s2, Kt.array());
                         out.mean.segment(r0, w).noalias() = Kt.transpose() * alpha_;
                         Lt.solveInPlace(Kt);
                         out.variance.segment(r0, w) =
                             (s2 - Kt.colwise().squaredNorm().array()).max(0.0).transpose() + extra;
                       }
                     });
  out.mean = out.mean.array() * y_scale_ + y_mean_;
  out.variance *= y_scale_ * y_scale_;
  return out;
}

Eigen::MatrixXd GaussianProcess::predict_covariance(const Eigen::MatrixXd& Xs) const {
  if (!fitted()) throw InvalidArgument("predict_covariance: the GaussianProcess is not fitted");
  const Eigen::MatrixXd Xm = to_model_x(Xs);
  Eigen::MatrixXd V = kernel(X_, Xm);  // (n, m)
  L_.triangularView<Eigen::Lower>().solveInPlace(V);
  Eigen::MatrixXd C = kernel(Xm, Xm);
  C.noalias() -= V.transpose() * V;
  return C * (y_scale_ * y_scale_);
}

void GaussianProcess::predict_with_gradient(const Eigen::VectorXd& x, double& mean, double& variance,
                                            Eigen::VectorXd& dmean, Eigen::VectorXd& dvariance) const {
  if (!fitted()) throw InvalidArgument("predict_with_gradient: the GaussianProcess is not fitted");
  if (x.size() != X_.cols())
    throw InvalidArgument("x: expected " + std::to_string(X_.cols()) + " entries (got " + std::to_string(x.size()) +
                          ")");
  const Eigen::Index n = X_.rows(), dim = X_.cols();
  Eigen::VectorXd xm = (x - x_lo_).array() / x_scale_.array();
  // Chain rule through the warp: d/dx_d = w_d'(x_d) d/dw_d (0 where the input is clamped).
  Eigen::VectorXd dwarp = Eigen::VectorXd::Ones(dim);
  if (options_.warp_inputs)
    for (Eigen::Index d = 0; d < dim; ++d) {
      const WarpValue wv = kumaraswamy(xm[d], hyper_.warp_a[d], hyper_.warp_b[d]);
      xm[d] = wv.w;
      dwarp[d] = wv.dx;
    }
  const double s2 = hyper_.signal_variance;
  // Column-wise over the training points: r^2_i, k_i and dk_i/dx_d = dk/dr^2 * 2 (x_d - X_id) / l_d^2.
  Eigen::ArrayXd r2 = Eigen::ArrayXd::Zero(n);
  Eigen::MatrixXd dk(n, dim);
  for (Eigen::Index d = 0; d < dim; ++d) {
    const double inv_l2 = 1.0 / std::pow(detail::lengthscale(hyper_.lengthscales, d), 2);
    dk.col(d) = ((xm[d] - X_.col(d).array()) * inv_l2).matrix();  // (x_d - X_id) / l_d^2
    r2 += (xm[d] - X_.col(d).array()).square() * inv_l2;
  }
  Eigen::VectorXd k(n);
  Eigen::ArrayXd dkr(n);  // dk/dr^2
  switch (options_.kernel) {
    case KernelType::RBF:
      k = (s2 * (-0.5 * r2).exp()).matrix();
      dkr = -0.5 * k.array();
      break;
    case KernelType::Matern32: {
      const Eigen::ArrayXd a = (3.0 * r2).sqrt(), e = (-a).exp();
      k = (s2 * (1 + a) * e).matrix();
      dkr = -1.5 * s2 * e;
      break;
    }
    case KernelType::Matern52: {
      const Eigen::ArrayXd a = (5.0 * r2).sqrt(), e = (-a).exp();
      k = (s2 * (1 + a + a.square() / 3.0) * e).matrix();
      dkr = -(5.0 / 6.0) * s2 * (1 + a) * e;
      break;
    }
  }
  for (Eigen::Index d = 0; d < dim; ++d) dk.col(d).array() *= 2.0 * dkr;
  const Eigen::VectorXd v = L_.triangularView<Eigen::Lower>().solve(k);
  const Eigen::VectorXd kinv_k = L_.triangularView<Eigen::Lower>().transpose().solve(v);
  double var_m = s2 - v.squaredNorm();
  Eigen::VectorXd dvar_m = -2.0 * dk.transpose() * kinv_k;
  if (var_m < 0) {
    var_m = 0;
    dvar_m.setZero();
  }
  mean = k.dot(alpha_) * y_scale_ + y_mean_;
  variance = var_m * y_scale_ * y_scale_;
  dmean = (dk.transpose() * alpha_).array() * dwarp.array() * y_scale_ / x_scale_.array();
  dvariance = dvar_m.array() * dwarp.array() * (y_scale_ * y_scale_) / x_scale_.array();
}

Eigen::MatrixXd GaussianProcess::sample_posterior(const Eigen::MatrixXd& Xs, int n_samples, core::Rng& rng) const {
  if (n_samples < 1) throw InvalidArgument("n_samples: must be >= 1 (got " + std::to_string(n_samples) + ")");
  if (!fitted()) throw InvalidArgument("sample_posterior: the GaussianProcess is not fitted");
  const Eigen::Index m = Xs.rows();
  // Mean and joint covariance from one triangular solve (predict + predict_covariance would solve twice).
  const Eigen::MatrixXd Xm = to_model_x(Xs);
  Eigen::MatrixXd V = kernel(X_, Xm);  // (n, m)
  const Eigen::VectorXd mean = (V.transpose() * alpha_).array() * y_scale_ + y_mean_;
  L_.triangularView<Eigen::Lower>().solveInPlace(V);
  Eigen::MatrixXd C = kernel(Xm, Xm);
  C.noalias() -= V.transpose() * V;
  C *= y_scale_ * y_scale_;
  // Joint posteriors at nearby points are nearly singular: Cholesky with jitter (up to 1e-6 of the mean
  // variance), else a symmetric square root with negative eigenvalues clipped.
  Eigen::MatrixXd F(m, m);
  bool ok = false;
  detail::cholesky_with_jitter(F, [&](Eigen::MatrixXd& A) { A = C; }, 1e-6, ok);
  if (ok) {
    F.triangularView<Eigen::StrictlyUpper>().setZero();
  } else {
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(C);
    if (es.info() != Eigen::Success) throw NumericalError("sample_posterior: eigendecomposition failed");
    F = es.eigenvectors() * es.eigenvalues().cwiseMax(0.0).cwiseSqrt().asDiagonal();
  }
  Eigen::MatrixXd Z(m, n_samples);
  for (int s = 0; s < n_samples; ++s)
    for (Eigen::Index i = 0; i < m; ++i) Z(i, s) = detail::standard_normal(rng);
  Eigen::MatrixXd S = F * Z;
  S.colwise() += mean;
  return S;
}

}  // namespace tsunagu::bayesopt
