// Random Fourier features for a fitted GaussianProcess (Rahimi & Recht 2007), with the Bayesian linear model on
// the features as PHYSBO uses it for Thompson sampling. Everything runs in the GP's model units (inputs scaled by
// normalize_x, targets by standardize_y); evaluate() converts back to the original units of y.
#include <Eigen/Cholesky>
#include <cmath>
#include <numbers>
#include <string>

#include "gp_kernel.hpp"
#include "tsunagu/bayesopt/gp.hpp"
#include "tsunagu/core/error.hpp"

namespace tsunagu::bayesopt {

RandomFeatures::RandomFeatures(const GaussianProcess& gp, int n_features, core::Rng& rng) : gp_(&gp) {
  if (!gp.fitted()) throw InvalidArgument("RandomFeatures: the GaussianProcess is not fitted");
  if (n_features < 1) throw InvalidArgument("n_features: must be >= 1 (got " + std::to_string(n_features) + ")");
  const Eigen::Index D = n_features, dim = static_cast<Eigen::Index>(gp.dim());
  const Hyperparameters& h = gp.hyperparameters();
  const KernelType type = gp.options().kernel;

  // Spectral density of the unit kernel with lengthscales l: omega = z / l with z ~ N(0, I) for RBF; for Matern
  // nu a multivariate Student-t with 2 nu degrees of freedom, z * sqrt(2 nu / chi2_{2 nu}). 2 nu is 3 or 5, so
  // chi2 is a sum of 2 nu squared normals (no std:: distribution, whose output differs between libraries).
  const int dof = type == KernelType::Matern32 ? 3 : type == KernelType::Matern52 ? 5 : 0;
  W_.resize(D, dim);
  b_.resize(D);
  for (Eigen::Index r = 0; r < D; ++r) {
    for (Eigen::Index d = 0; d < dim; ++d) W_(r, d) = detail::standard_normal(rng);
    if (dof > 0) {
      double chi2 = 0;
      for (int k = 0; k < dof; ++k) chi2 += std::pow(detail::standard_normal(rng), 2);
      W_.row(r) *= std::sqrt(dof / chi2);
    }
    for (Eigen::Index d = 0; d < dim; ++d) W_(r, d) /= detail::lengthscale(h.lengthscales, d);
    b_[r] = 2 * std::numbers::pi * core::uniform01(rng);
  }
  scale_ = std::sqrt(2 * h.signal_variance / static_cast<double>(D));

  // Bayesian linear regression y = Phi w + eps, w ~ N(0, I), eps ~ N(0, s^2) with the GP's noise (+ jitter):
  // precision P = (Phi^T Phi + s^2 I) / s^2, mean = (Phi^T Phi + s^2 I)^-1 Phi^T y.
  const Eigen::MatrixXd& Xm = gp.train_x();
  Eigen::MatrixXd Phi = Xm * W_.transpose();
  Phi = scale_ * (Phi.rowwise() + b_.transpose()).array().cos();
  const double s2n = h.noise_variance + gp.jitter();
  Eigen::MatrixXd A = Eigen::MatrixXd::Zero(D, D);
  A.selfadjointView<Eigen::Lower>().rankUpdate(Phi.transpose());
  bool ok = false;
  detail::cholesky_with_jitter(
      w_chol_,
      [&](Eigen::MatrixXd& M) {
        M = A;
        M.diagonal().array() += s2n;
      },
      1e-6, ok);
  if (!ok) throw NumericalError("RandomFeatures: feature Gram matrix not positive definite");
  w_chol_.triangularView<Eigen::StrictlyUpper>().setZero();
  const Eigen::MatrixXd& Lc = w_chol_;
  w_mean_ = Phi.transpose() * gp.train_y();
  Lc.triangularView<Eigen::Lower>().solveInPlace(w_mean_);
  Lc.triangularView<Eigen::Lower>().transpose().solveInPlace(w_mean_);
  // Store the Cholesky factor of the precision, L / s: cov = (L/s)^-T (L/s)^-1, so a draw is mean + (L/s)^-T z
  // in O(D^2) without ever forming the covariance (its D^3 inverse and second factorisation).
  w_chol_ /= std::sqrt(s2n);
}

Eigen::VectorXd RandomFeatures::sample_weights(core::Rng& rng) const {
  Eigen::VectorXd z(w_mean_.size());
  for (Eigen::Index i = 0; i < z.size(); ++i) z[i] = detail::standard_normal(rng);
  w_chol_.triangularView<Eigen::Lower>().transpose().solveInPlace(z);
  return w_mean_ + z;
}

Eigen::MatrixXd RandomFeatures::features(const Eigen::MatrixXd& X) const {
  const Eigen::MatrixXd Xm = gp_->to_model_x(X);
  Eigen::MatrixXd Phi = Xm * W_.transpose();
  return scale_ * (Phi.rowwise() + b_.transpose()).array().cos();
}

Eigen::VectorXd RandomFeatures::evaluate(const Eigen::MatrixXd& X, const Eigen::VectorXd& weights) const {
  if (weights.size() != w_mean_.size())
    throw InvalidArgument("weights: expected " + std::to_string(w_mean_.size()) + " entries (got " +
                          std::to_string(weights.size()) + ")");
  return ((features(X) * weights).array() * gp_->y_scale() + gp_->y_shift()).matrix();
}

}  // namespace tsunagu::bayesopt
