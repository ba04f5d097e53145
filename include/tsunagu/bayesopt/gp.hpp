#pragma once
/// Gaussian-process surrogate (Rasmussen & Williams 2006, ch. 2 and 5).
///
/// Model: y = f(x) + eps, f ~ GP(0, k), eps ~ N(0, noise_variance). Kernels (r = scaled distance, ARD):
///   r^2 = sum_d (x_d - x'_d)^2 / l_d^2
///   RBF        k = s2 exp(-r^2/2)
///   Matern32   k = s2 (1 + sqrt3 r) exp(-sqrt3 r)
///   Matern52   k = s2 (1 + sqrt5 r + 5 r^2/3) exp(-sqrt5 r)
/// With normalize_x the inputs are mapped by the training data's per-column min/max onto [0,1] (a constant column
/// maps to 0); with standardize_y the targets are centred and scaled to unit variance. Hyperparameters (signal
/// variance s2, lengthscales l, noise variance) live in these *model units*; predictions come back in the original
/// units of y.
///
/// Hyperparameter vector theta (log scale, the layout of log_marginal_likelihood): [log s2, log l_1 .. log l_p,
/// log noise, log a_1 .. log a_dim, log b_1 .. log b_dim] where p = dim (ARD) or 1, log noise only when learn_noise
/// and the warp parameters a, b only when warp_inputs.
///
/// Input warping (warp_inputs; Snoek, Swersky, Zemel & Adams 2014, "Input warping for Bayesian optimization of
/// non-stationary functions"): each model-unit input x_d, clamped to [0, 1] and mapped to [eps, 1 - eps] (eps = 1e-7),
/// goes through the Kumaraswamy CDF w_d(x) = 1 - (1 - x^a_d)^b_d before the kernel sees it. a = b = 1 is the
/// identity; a < 1 stretches the low end of a column (many values crowded near 0), b < 1 the high end. The warp is
/// learned with the other hyperparameters (analytic gradients); a normal prior on log a_d and log b_d (mean 0,
/// variance 0.75: the log-normal priors of BoTorch's warping example) is part of the objective, so a handful of
/// points cannot bend a column arbitrarily. The inputs must lie on the unit box: with normalize_x that is the training range (prediction
/// points outside it are clamped), without it the caller's encoding (the Optimizer's).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "tsunagu/core/random.hpp"

namespace tsunagu::bayesopt {

enum class KernelType { RBF, Matern32, Matern52 };
KernelType parse_kernel(const std::string& name);  ///< "rbf" | "matern32" | "matern52"; InvalidArgument otherwise
std::string kernel_name(KernelType k);

/// Hyperparameter priors for MAP estimation (log-density added to the log marginal likelihood), in model units:
/// lengthscale ~ Gamma(3, rate 6) (mean 0.5 of the unit box), signal variance ~ Gamma(2, rate 0.15),
/// noise variance ~ Gamma(1.1, rate 0.05) — the defaults of BoTorch's SingleTaskGP before 0.12, which work for
/// standardised y on a unit box.
///
/// DimScaled (Hvarfner, Hellsten & Nardi, "Vanilla Bayesian optimization performs great in high dimensions", ICML
/// 2024; BoTorch's default since 0.12): lengthscale ~ LogNormal(sqrt(2) + log(dim) / 2, sqrt(3)) (density in
/// the lengthscale itself, as Gamma; mode 0.21 sqrt(dim), median 4.1 sqrt(dim) of the unit box), noise variance ~
/// LogNormal(-4, 1); no prior on the signal variance. It favours long lengthscales, which the marginal
/// likelihood alone cannot tell from short ones on a few dozen points.
enum class Prior { None, Gamma, DimScaled };
Prior parse_prior(const std::string& name);  ///< "none" | "gamma" | "dimscaled"; InvalidArgument otherwise
std::string prior_name(Prior p);

struct Hyperparameters {
  double signal_variance = 1.0;   ///< s2, model units of y squared
  Eigen::VectorXd lengthscales;   ///< size dim (ARD) or 1 (isotropic), model units of x
  double noise_variance = 1e-6;   ///< model units of y squared
  /// Kumaraswamy warp per input dimension (warp_inputs only): size dim each, > 0; empty = identity (a = b = 1).
  Eigen::VectorXd warp_a, warp_b;
};

struct GpOptions {
  KernelType kernel = KernelType::Matern52;
  bool ard = true;                ///< one lengthscale per input dimension
  bool learn_noise = true;        ///< false: noise_variance stays at `noise` (model units)
  double noise = 1e-6;            ///< initial/fixed noise variance, model units; > 0
  bool normalize_x = true;
  bool standardize_y = true;
  bool optimize = true;           ///< false: keep the hyperparameters given by set_hyperparameters (or defaults)
  Prior prior = Prior::None;      ///< Gamma: maximise log posterior (MAP) instead of the marginal likelihood
  bool warp_inputs = false;       ///< learn a Kumaraswamy CDF warp of each input (see the top of this header)
  double warp_min = 0.05, warp_max = 20;  ///< bounds of the warp parameters a, b; 0 < warp_min < 1 < warp_max
  int restarts = 3;               ///< extra L-BFGS starts from random theta besides the default/previous one; >= 0
  int max_iterations = 200;       ///< per L-BFGS run; >= 1
  double lengthscale_min = 1e-3, lengthscale_max = 1e3;  ///< bounds in model units (after normalize_x)
  double noise_min = 1e-9, noise_max = 10;               ///< bounds in model units
  std::uint64_t seed = 0;         ///< random restarts
  unsigned threads = 0;           ///< 0 = core::default_threads()
  void validate() const;          ///< InvalidArgument naming the field
};

class GaussianProcess {
 public:
  explicit GaussianProcess(GpOptions options = {});

  /// Fix hyperparameters (model units); with options.optimize = false fit() uses them as they are, otherwise they
  /// are the first L-BFGS start. lengthscales must have size dim (ARD) or 1.
  void set_hyperparameters(const Hyperparameters& h);

  /// Train on X (n, dim), y (n). n >= 1; NaN/Inf anywhere -> InvalidArgument naming the row. With optimize the
  /// hyperparameters are refitted (multi-start L-BFGS-B on theta within the bounds, starting from the current
  /// hyperparameters when set, plus `restarts` random starts).
  void fit(const Eigen::MatrixXd& X, const Eigen::VectorXd& y);

  /// Add one observation keeping the hyperparameters and the input/output scaling: O(n^2) Cholesky extension.
  void add_observation(const Eigen::VectorXd& x, double y);

  bool fitted() const noexcept { return n() > 0; }
  std::size_t n() const noexcept;
  std::size_t dim() const noexcept;
  const GpOptions& options() const noexcept { return options_; }
  const Hyperparameters& hyperparameters() const noexcept { return hyper_; }
  double jitter() const noexcept { return jitter_; }  ///< diagonal jitter that had to be added (model units)

  /// Log marginal likelihood (plus log prior under MAP) of the training data in model units at the current
  /// hyperparameters.
  double log_marginal_likelihood() const;
  /// Same at theta (layout above), with the analytic gradient d/dtheta written to *grad when non-null.
  double log_marginal_likelihood(const Eigen::VectorXd& theta, Eigen::VectorXd* grad) const;
  Eigen::VectorXd theta() const;  ///< current hyperparameters in the theta layout

  struct Prediction {
    Eigen::VectorXd mean;      ///< (m) original units of y
    Eigen::VectorXd variance;  ///< (m) posterior variance of f (plus noise when include_noise), original units^2
  };
  /// Posterior at Xs (m, dim). Evaluated in blocks on `threads` threads; cost O(m n^2).
  Prediction predict(const Eigen::MatrixXd& Xs, bool include_noise = false) const;
  /// Joint posterior covariance of f at Xs (m, m), original units.
  Eigen::MatrixXd predict_covariance(const Eigen::MatrixXd& Xs) const;
  /// Mean and variance at one point x (dim) with their gradients d/dx (dim each), original units.
  void predict_with_gradient(const Eigen::VectorXd& x, double& mean, double& variance, Eigen::VectorXd& dmean,
                             Eigen::VectorXd& dvariance) const;
  /// Joint posterior samples of f at Xs: (m, n_samples), original units.
  Eigen::MatrixXd sample_posterior(const Eigen::MatrixXd& Xs, int n_samples, core::Rng& rng) const;

  /// Kernel matrix k(A, B) in model units for inputs already in model units (used by tests and by the random
  /// features).
  Eigen::MatrixXd kernel(const Eigen::MatrixXd& A, const Eigen::MatrixXd& B) const;
  /// Map inputs (m, dim) from original to model units: normalize_x, then the input warp (warp_inputs); y back and
  /// forth (standardize_y).
  Eigen::MatrixXd to_model_x(const Eigen::MatrixXd& X) const;
  double y_shift() const noexcept { return y_mean_; }
  double y_scale() const noexcept { return y_scale_; }

  /// Training inputs (model units, warped when warp_inputs) and targets (model units), for the random-feature
  /// approximation.
  const Eigen::MatrixXd& train_x() const noexcept { return X_; }
  const Eigen::VectorXd& train_y() const noexcept { return y_; }

 private:
  void factorize();  // Cholesky of K + noise I with adaptive jitter; sets L_, alpha_
  void apply_warp();  // X_ = warp(Xu_) with the current warp parameters (identity when unset); warp_inputs only
  Eigen::MatrixXd warp_rows(const Eigen::MatrixXd& U) const;  // the warp applied to model-unit rows (or U itself)
  GpOptions options_;
  Hyperparameters hyper_;
  bool hyper_set_ = false;
  Eigen::MatrixXd X_;      // (n, dim) model units (warped when warp_inputs)
  Eigen::MatrixXd Xu_;     // (n, dim) model units before the warp (warp_inputs only: the likelihood needs them)
  Eigen::VectorXd y_;      // (n) model units
  Eigen::VectorXd x_lo_, x_scale_;
  double y_mean_ = 0, y_scale_ = 1;
  Eigen::MatrixXd L_;      // lower Cholesky factor of K + (noise + jitter) I
  Eigen::VectorXd alpha_;  // (K + sI)^-1 y
  double jitter_ = 0;
};

/// Random Fourier features (Rahimi & Recht 2007) for a fitted GP: phi(x) = sqrt(2 s2 / D) cos(W x / l + b) with W
/// drawn from the kernel's spectral density (normal for RBF, Student-t with 2 nu degrees of freedom for Matern nu).
/// The Bayesian linear model on phi gives approximate posterior function draws in O(n D^2 + D^3) once and O(D dim)
/// per evaluation: Thompson sampling over huge pools and batches (as PHYSBO does).
class RandomFeatures {
 public:
  /// n_features D >= 1; the feature map is drawn with rng.
  RandomFeatures(const GaussianProcess& gp, int n_features, core::Rng& rng);
  /// One posterior weight draw (D) of the Bayesian linear model.
  Eigen::VectorXd sample_weights(core::Rng& rng) const;
  /// Posterior-mean weights (D).
  const Eigen::VectorXd& mean_weights() const noexcept { return w_mean_; }
  /// f(X) = phi(X) w in original units of y, for X (m, dim) in original input units. Returns (m).
  Eigen::VectorXd evaluate(const Eigen::MatrixXd& X, const Eigen::VectorXd& weights) const;
  /// Features (m, D) of inputs in original units.
  Eigen::MatrixXd features(const Eigen::MatrixXd& X) const;

 private:
  const GaussianProcess* gp_;
  Eigen::MatrixXd W_;  // (D, dim) frequencies divided by the lengthscales
  Eigen::VectorXd b_;  // (D) phases
  double scale_ = 1;
  Eigen::VectorXd w_mean_;
  Eigen::MatrixXd w_chol_;  // lower Cholesky factor of the weight posterior precision (inverse covariance)
};

/// Binary GP classifier (Laplace approximation with the logistic likelihood, Rasmussen & Williams Alg. 3.1-3.2;
/// predictive probability by the probit approximation of the logistic-Gaussian integral, as scikit-learn's
/// GaussianProcessClassifier). Models the probability that an experiment succeeds (e.g. a film does not peel off),
/// which multiplies the acquisition for unknown constraints. Inputs are used as given (callers pass encoded [0,1]
/// points); the kernel has no noise term.
struct ClassifierOptions {
  KernelType kernel = KernelType::Matern52;
  bool ard = false;
  bool optimize = true;   ///< maximise the Laplace-approximate marginal likelihood (L-BFGS-B, multi-start)
  int restarts = 2;
  double signal_variance = 1.0;  ///< initial/fixed
  double lengthscale = 0.3;      ///< initial/fixed (all dimensions)
  std::uint64_t seed = 0;
  void validate() const;
};

class GpClassifier {
 public:
  explicit GpClassifier(ClassifierOptions options = {});
  /// X (n, dim), labels (n) in {0, 1}. With a single class present the classifier predicts that class's rate
  /// smoothed towards 0.5 ((k+1)/(n+2)) everywhere: one outcome says nothing about where the boundary lies.
  void fit(const Eigen::MatrixXd& X, const Eigen::VectorXi& labels);
  /// P(label = 1 | x) for Xs (m, dim), in (0, 1).
  Eigen::VectorXd probability(const Eigen::MatrixXd& Xs) const;
  /// Laplace-approximate log marginal likelihood at the current hyperparameters.
  double log_marginal_likelihood() const noexcept { return lml_; }
  const Hyperparameters& hyperparameters() const noexcept { return hyper_; }

 private:
  ClassifierOptions options_;
  Hyperparameters hyper_;
  Eigen::MatrixXd X_;
  Eigen::VectorXd grad_logp_;  // d log p(y|f)/df at the mode (for the predictive mean)
  Eigen::MatrixXd L_;          // Cholesky of B = I + W^1/2 K W^1/2
  Eigen::VectorXd sqrt_w_;
  double lml_ = 0;
  double constant_p_ = -1;     // >= 0 when only one class was seen
};

}  // namespace tsunagu::bayesopt
