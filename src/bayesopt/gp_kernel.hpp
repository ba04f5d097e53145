#pragma once
// Internal helpers shared by gp.cpp, features.cpp and classifier.cpp: stationary kernels as functions of the
// scaled squared distance r^2, cross-kernel matrices by exact coordinate differences (no |a|^2+|b|^2-2ab
// cancellation, so small distances stay accurate), a Cholesky with adaptive jitter and platform-independent
// normal draws.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <functional>
#include <numbers>
#include <utility>
#include <vector>

#include <Eigen/Cholesky>
#include <Eigen/Core>

#include "tsunagu/bayesopt/gp.hpp"
#include "tsunagu/core/random.hpp"
#include "tsunagu/core/thread_pool.hpp"

namespace tsunagu::bayesopt::detail {

/// k(r^2) / s2 and d k / d(r^2) / s2 for the unit-variance kernel.
inline void unit_kernel(KernelType type, double r2, double& k, double& dk_dr2) {
  switch (type) {
    case KernelType::RBF: {
      k = std::exp(-0.5 * r2);
      dk_dr2 = -0.5 * k;
      return;
    }
    case KernelType::Matern32: {
      const double a = std::sqrt(3.0 * r2);
      const double e = std::exp(-a);
      k = (1 + a) * e;
      dk_dr2 = -1.5 * e;
      return;
    }
    case KernelType::Matern52: {
      const double a = std::sqrt(5.0 * r2);
      const double e = std::exp(-a);
      k = (1 + a + a * a / 3.0) * e;
      dk_dr2 = -(5.0 / 6.0) * (1 + a) * e;
      return;
    }
  }
  k = dk_dr2 = 0;
}

/// Apply s2 * k(r^2) elementwise to an array of squared scaled distances (vectorised by Eigen).
template <typename Derived>
inline void kernel_from_r2(KernelType type, double s2, Eigen::ArrayBase<Derived>&& r2) {
  switch (type) {
    case KernelType::RBF:
      r2 = s2 * (-0.5 * r2).exp();
      return;
    case KernelType::Matern32: {
      r2 = (3.0 * r2).sqrt();
      r2 = s2 * (1 + r2) * (-r2).exp();
      return;
    }
    case KernelType::Matern52: {
      r2 = (5.0 * r2).sqrt();
      r2 = s2 * (1 + r2 + r2.square() * (1.0 / 3.0)) * (-r2).exp();
      return;
    }
  }
}

/// Lengthscale of input dimension d (isotropic kernels store one).
inline double lengthscale(const Eigen::VectorXd& l, Eigen::Index d) { return l.size() == 1 ? l[0] : l[d]; }

/// Inputs divided by the lengthscales, (m, dim).
inline Eigen::MatrixXd scale_inputs(const Eigen::MatrixXd& X, const Eigen::VectorXd& l) {
  Eigen::MatrixXd S(X.rows(), X.cols());
  for (Eigen::Index d = 0; d < X.cols(); ++d) S.col(d) = X.col(d) / lengthscale(l, d);
  return S;
}

/// Squared scaled distances between the rows of A (m, dim) and B (n, dim), both already divided by the
/// lengthscales: (m, n).
inline Eigen::MatrixXd squared_distances(const Eigen::MatrixXd& As, const Eigen::MatrixXd& Bs) {
  Eigen::MatrixXd R = Eigen::MatrixXd::Zero(As.rows(), Bs.rows());
  for (Eigen::Index j = 0; j < Bs.rows(); ++j)
    for (Eigen::Index d = 0; d < As.cols(); ++d) R.col(j).array() += (As.col(d).array() - Bs(j, d)).square();
  return R;
}

/// s2 k(A, B) for inputs in model units, (m, n).
inline Eigen::MatrixXd cross_kernel(KernelType type, double s2, const Eigen::VectorXd& l, const Eigen::MatrixXd& A,
                                    const Eigen::MatrixXd& B) {
  Eigen::MatrixXd R = squared_distances(scale_inputs(A, l), scale_inputs(B, l));
  kernel_from_r2(type, s2, R.array());
  return R;
}

/// In-place Cholesky (lower triangle) with Eigen's LLT; false when not positive definite. Eigen only rejects
/// non-positive pivots; a NaN pivot passes, so the factor's diagonal is checked too.
inline bool llt_in_place(Eigen::MatrixXd& A) {
  Eigen::LLT<Eigen::Ref<Eigen::MatrixXd>, Eigen::Lower> llt(A);
  if (llt.info() != Eigen::Success) return false;
  for (Eigen::Index i = 0; i < A.rows(); ++i)
    if (!(A(i, i) > 0) || !std::isfinite(A(i, i))) return false;
  return true;
}

/// Cholesky with adaptive diagonal jitter. fill(A) writes the symmetric matrix (at least its lower triangle)
/// into A; factor(A) factorises it in place (lower triangle) and returns false when it is not positive definite.
/// First without jitter, then with 1e-10 * mean(diag) growing tenfold up to max_relative * mean(diag), refilling
/// A before each retry. Returns the jitter added; *ok is false when even the largest failed.
template <typename Fill, typename Factor>
inline double cholesky_with_jitter(Eigen::MatrixXd& A, const Fill& fill, const Factor& factor, double max_relative,
                                   bool& ok) {
  fill(A);
  const double mean_diag = A.rows() > 0 ? A.diagonal().mean() : 1.0;
  double jitter = 0;
  for (int attempt = 0;; ++attempt) {
    if (attempt > 0) {
      fill(A);
      A.diagonal().array() += jitter;
    }
    if (factor(A)) {
      ok = true;
      return jitter;
    }
    const double next = jitter == 0 ? 1e-10 * mean_diag : jitter * 10;
    if (!(mean_diag > 0) || !std::isfinite(mean_diag) || next > max_relative * mean_diag * (1 + 1e-9)) {
      ok = false;
      return jitter;
    }
    jitter = next;
  }
}

template <typename Fill>
inline double cholesky_with_jitter(Eigen::MatrixXd& A, const Fill& fill, double max_relative, bool& ok) {
  return cholesky_with_jitter(A, fill, llt_in_place, max_relative, ok);
}

// Block size of the blocked triangular inverse / product / Cholesky: large enough for Eigen's GEMM kernels,
// small enough that n = 1000 gives ~10 blocks to spread over threads.
constexpr Eigen::Index kBlock = 96;

/// Longest-processing-time assignment of weighted tasks to `chunks` workers: deterministic, and the work per
/// chunk is balanced (the blocked triangular kernels have very unequal block costs).
inline std::vector<std::vector<std::size_t>> balance(const std::vector<double>& cost, unsigned chunks) {
  std::vector<std::size_t> order(cost.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return cost[a] > cost[b]; });
  std::vector<std::vector<std::size_t>> out(chunks);
  std::vector<double> load(chunks, 0.0);
  for (std::size_t t : order) {
    const auto c = static_cast<std::size_t>(std::min_element(load.begin(), load.end()) - load.begin());
    out[c].push_back(t);
    load[c] += cost[t];
  }
  return out;
}

inline void run_balanced(const std::vector<double>& cost, unsigned threads, const std::function<void(std::size_t)>& task) {
  const unsigned chunks = std::max(1u, std::min<unsigned>(threads, static_cast<unsigned>(cost.size())));
  if (chunks == 1) {
    for (std::size_t t = 0; t < cost.size(); ++t) task(t);
    return;
  }
  const auto plan = balance(cost, chunks);
  core::parallel_for(chunks, chunks, [&](std::size_t b, std::size_t e, unsigned) {
    for (std::size_t c = b; c < e; ++c)
      for (std::size_t t : plan[c]) task(t);
  });
}

/// Linv = L^-1 for lower-triangular L (n, n), by column blocks solved independently (in parallel): block J of
/// L^-1 is zero above row j0 and solves L[j0:, j0:] X = I[j0:, J]. Only the lower triangle of Linv is written.
inline void lower_inverse(const Eigen::MatrixXd& L, Eigen::MatrixXd& Linv, unsigned threads) {
  const Eigen::Index n = L.rows();
  Linv.resize(n, n);
  const Eigen::Index nb = (n + kBlock - 1) / kBlock;
  std::vector<double> cost(static_cast<std::size_t>(nb));
  for (Eigen::Index J = 0; J < nb; ++J) cost[J] = std::pow(static_cast<double>(n - J * kBlock), 2);
  run_balanced(cost, threads, [&](std::size_t J) {
    const Eigen::Index j0 = static_cast<Eigen::Index>(J) * kBlock, w = std::min(kBlock, n - j0), m = n - j0;
    auto X = Linv.block(j0, j0, m, w);
    X.setZero();
    X.topRows(w).diagonal().setOnes();
    L.block(j0, j0, m, m).triangularView<Eigen::Lower>().solveInPlace(X);
  });
}

/// Lower triangle (block-wise, diagonal blocks full) of Linv^T Linv = K^-1 for lower-triangular Linv: block
/// (I, J), I >= J, is Linv[i0:, I]^T Linv[i0:, J] (rows above i0 of column block I are zero).
inline void inverse_from_lower_inverse(const Eigen::MatrixXd& Linv, Eigen::MatrixXd& Kinv, unsigned threads) {
  const Eigen::Index n = Linv.rows();
  Kinv.resize(n, n);
  const Eigen::Index nb = (n + kBlock - 1) / kBlock;
  std::vector<std::pair<Eigen::Index, Eigen::Index>> pairs;
  std::vector<double> cost;
  for (Eigen::Index I = 0; I < nb; ++I)
    for (Eigen::Index J = 0; J <= I; ++J) {
      pairs.emplace_back(I, J);
      cost.push_back(static_cast<double>(n - I * kBlock));
    }
  run_balanced(cost, threads, [&](std::size_t t) {
    const auto [I, J] = pairs[t];
    const Eigen::Index i0 = I * kBlock, j0 = J * kBlock;
    const Eigen::Index wi = std::min(kBlock, n - i0), wj = std::min(kBlock, n - j0), m = n - i0;
    Kinv.block(i0, j0, wi, wj).noalias() = Linv.block(i0, i0, m, wi).transpose() * Linv.block(i0, j0, m, wj);
  });
}

/// Standard normal draw by Box-Muller from core::uniform01 (std::normal_distribution differs between standard
/// libraries; this gives the same numbers everywhere for a seed).
inline double standard_normal(core::Rng& rng) {
  double u1 = core::uniform01(rng);
  while (u1 <= 0) u1 = core::uniform01(rng);
  const double u2 = core::uniform01(rng);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

}  // namespace tsunagu::bayesopt::detail
