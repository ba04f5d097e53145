#pragma once
/// Non-linear least squares: a generic bounded Levenberg–Marquardt solver and, on top of it, peak fitting of a
/// spectrum (background + Σ peaks, spin–orbit doublet ties, box constraints, standard errors).
///
/// Solver (why this design): plain LM on the normal equations (JᵀWJ + λ·D²) δ = JᵀW r with Moré's scaling
/// D² = running max of diag(JᵀWJ) (invariant to parameter units), Nielsen's λ update, and box constraints handled by
/// projection plus an active set: a parameter sitting on a bound whose gradient points outward is frozen for that
/// iteration. No variable transform is used, so the covariance is that of the untransformed parameters. The normal
/// matrix is small (m ≲ 30), so it is solved by Cholesky (Eigen LLT, in place on preallocated storage after diagonal
/// scaling). All buffers live in a reusable workspace: after the first fit of a given size no iteration allocates.
///
/// Standard errors: covariance C = (JᵀWJ)⁻¹ restricted to the parameters that are neither fixed nor on a bound at the
/// solution (those get std_error 0 and zero rows/columns). With unknown noise (Gaussian weighting, unit weights) C is
/// multiplied by χ²/dof = RSS/(n − n_free); with Poisson weighting W = 1/max(y, 1) is the known inverse variance, so
/// C is used unscaled (scale_covariance = false).
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "tsunagu/spectra/background.hpp"
#include "tsunagu/spectra/lineshape.hpp"
#include "tsunagu/spectra/model.hpp"

namespace tsunagu::spectra {

// ------------------------------------------------------------------------------------------------ generic solver

/// Why the solver stopped.
enum class LmStatus {
  Ftol,        ///< converged: relative χ² reduction (actual and predicted) <= ftol
  Xtol,        ///< converged: relative scaled step <= xtol
  Gtol,        ///< converged: max |cos(residual, Jacobian column)| over free parameters <= gtol
  ExactFit,    ///< converged: χ² = 0
  NoProgress,  ///< converged to machine precision: no step reduces χ² (λ grew past 1e16)
  MaxIter,     ///< not converged: max_iter iterations used
  Failed,      ///< not converged: the model returned non-finite values at the starting point
};
std::string to_string(LmStatus s);  ///< "ftol", "xtol", "gtol", "exact-fit", "no-progress", "max-iter", "failed"
inline bool is_converged(LmStatus s) noexcept { return s != LmStatus::MaxIter && s != LmStatus::Failed; }

struct LmOptions {
  int max_iter = 200;           ///< LM iterations (linear solves; each costs one model + Jacobian evaluation)
  double ftol = 1e-10;          ///< relative χ² reduction tolerance (>= 0)
  double xtol = 1e-10;          ///< relative scaled step tolerance ‖D·s‖ <= xtol·‖D·p‖ (>= 0)
  double gtol = 1e-10;          ///< gradient (cosine) tolerance (>= 0)
  double initial_lambda = 1e-3;  ///< initial damping, relative to D² (> 0)
  bool compute_covariance = true;  ///< fill covariance / std_error at the solution
  /// Multiply (JᵀWJ)⁻¹ by χ²/dof: true when the weights are only relative (σ unknown, e.g. unit weights), false when
  /// weights are 1/σ_i with σ_i known (Poisson counting statistics).
  bool scale_covariance = true;
  void validate() const;  ///< InvalidArgument naming the field
};

/// Model evaluated by the solver. Implementations must not allocate to stay allocation-free (they may).
class LmModel {
 public:
  virtual ~LmModel() = default;
  /// f (n) ← model at parameters p (m). When jac is non-empty (n·m) it receives the Jacobian, column-major:
  /// jac[j·n + i] = ∂f_i/∂p_j (jac is overwritten, all entries).
  virtual void evaluate(std::span<const double> p, std::span<double> f, std::span<double> jac) = 0;
};

struct LmResult {
  std::vector<double> params;      ///< (m) solution (inside the bounds)
  std::vector<double> std_error;   ///< (m) 1σ; 0 for fixed or at-bound parameters; NaN when JᵀWJ is singular
  std::vector<double> covariance;  ///< (m·m) row-major; zero rows/columns for fixed or at-bound parameters
  std::vector<double> fitted;      ///< (n) model at the solution
  std::vector<unsigned char> at_bound;  ///< (m) 1 when the parameter ends on its lower or upper bound (not fixed)
  double chi2 = 0;                 ///< Σ w_i² (y_i − f_i)² at the solution
  std::size_t n_free = 0;          ///< parameters with lower < upper (degrees of freedom = n − n_free)
  int n_iter = 0;                  ///< LM iterations
  int n_eval = 0;                  ///< model evaluations
  LmStatus status = LmStatus::Failed;
  bool converged = false;
  std::string message;             ///< e.g. "converged: relative chi2 reduction < ftol (1e-10)"
};

/// Bounded Levenberg–Marquardt with a reusable workspace. Not thread-safe: one per thread.
class LevenbergMarquardt {
 public:
  explicit LevenbergMarquardt(LmOptions options = {});
  ~LevenbergMarquardt();
  LevenbergMarquardt(LevenbergMarquardt&&) noexcept;
  LevenbergMarquardt& operator=(LevenbergMarquardt&&) noexcept;

  const LmOptions& options() const noexcept;
  void set_options(const LmOptions& options);  ///< validated

  /// Minimise χ²(p) = Σ w_i² (y_i − f_i(p))².
  /// y (n) data; weights (n) w_i = 1/σ_i > 0 or empty (all 1); p0 (m) start (projected onto the box);
  /// lower/upper (m) bounds, ±infinity allowed, lower == upper fixes a parameter; empty = unbounded.
  /// `result` is overwritten (its vectors keep their capacity, so reusing one result avoids allocation).
  /// InvalidArgument for inconsistent sizes, non-finite y/p0, w <= 0, lower > upper, n < number of free parameters.
  void solve(LmModel& model, std::span<const double> y, std::span<const double> weights,
             std::span<const double> p0, std::span<const double> lower, std::span<const double> upper,
             LmResult& result);
  LmResult solve(LmModel& model, std::span<const double> y, std::span<const double> weights,
                 std::span<const double> p0, std::span<const double> lower = {},
                 std::span<const double> upper = {});

 private:
  struct Workspace;
  LmOptions options_;
  std::unique_ptr<Workspace> ws_;
};

/// Convenience: minimise with a callable f(std::span<const double> p, std::span<double> f, std::span<double> jac)
/// having LmModel::evaluate's contract.
template <class F>
LmResult lm_solve(F&& fn, std::span<const double> y, std::span<const double> weights, std::span<const double> p0,
                  std::span<const double> lower = {}, std::span<const double> upper = {},
                  const LmOptions& options = {}) {
  using Fn = std::remove_reference_t<F>;
  struct Adapter final : LmModel {
    Fn* f;
    explicit Adapter(Fn* g) : f(g) {}
    void evaluate(std::span<const double> p, std::span<double> out, std::span<double> jac) override {
      (*f)(p, out, jac);
    }
  } adapter(&fn);
  LevenbergMarquardt lm(options);
  return lm.solve(adapter, y, weights, p0, lower, upper);
}

// ------------------------------------------------------------------------------------------------ peak fitting

struct LsqOptions {
  int max_iter = 200;    ///< LM iterations
  /// Tolerances as in LmOptions. 1e-8 (≈ lmfit/MINPACK's default 1.49e-8) stops when χ² changes by < 1e-8 relative,
  /// i.e. with the parameters within ~1e-3 of their standard errors of the minimum.
  double ftol = 1e-8;
  double xtol = 1e-8;
  double gtol = 1e-10;
  /// Poisson: w = 1/√max(y,1), errors unscaled (Neyman χ²: variances from the data, so levels of a few counts per
  /// channel come out low by ~1 count); Gaussian: w = 1, errors scaled by χ²/dof.
  Weighting weighting = Weighting::Poisson;
  /// none/constant/linear/polynomial: linear parameters of the LM fit (x_ref = mean of x);
  /// shirley/tougaard: computed once from the data and held fixed; active-shirley: offset + k·∫peaks, refined.
  BackgroundKind background = BackgroundKind::Linear;
  int poly_degree = 2;   ///< for Polynomial, 0..6
  ShirleyOptions shirley;
  TougaardOptions tougaard;
  /// Ties (on the fitters' axis): center_2 = center_1 + splitting, area_2 = ratio·area_1, fwhm_2 = fwhm_1 if shared.
  /// The second peak's shape parameters stay free. Chains (1→2→3) are allowed; a peak may be `second` only once.
  std::vector<Doublet> doublets;
  bool fit_shape_params = true;  ///< false: shape parameters (η, ρ, α, ...) fixed at the initial values
  /// FWHM bounds in eV; 0 = derived: min = median channel spacing, max = window width (x_max − x_min).
  double min_fwhm = 0, max_fwhm = 0;
  bool compute_errors = true;  ///< fill Peak::std_error (and the covariance behind it)
  void validate() const;       ///< InvalidArgument naming the field
};

/// Fit background + Σ peaks to (x, y).
/// x (n): ascending fit axis (eV, spectrum.hpp's u); y (n): counts (finite; >= 0 for Poisson weighting);
/// initial: starting peaks (shape, center, fwhm, shape params; an area <= 0 is replaced by an estimate from the data).
/// Bounds: center ∈ [x_0, x_{n−1}], fwhm ∈ [min_fwhm, max_fwhm], area >= 0, shape params ∈ shape_param_lower/upper;
/// starting values are clamped into them. Result peaks carry std_error (params() layout): tied parameters get the
/// propagated error of their source (|∂tied/∂source|·σ_source), fixed ones 0. FitResult.energy = x, axis_sign = 1,
/// n_free = number of fitted parameters after ties; statistics filled by compute_statistics (model.hpp).
/// InvalidArgument: sizes differ, empty window, non-finite values, non-ascending x, no peaks, more parameters than
/// points, bad initial peak, bad doublet.
FitResult lsq_fit(std::span<const double> x, std::span<const double> y, const std::vector<Peak>& initial,
                  const LsqOptions& options = {});

/// Reusable peak fitter (the batch engine: one per thread, workspaces kept across fits).
class LsqFitter {
 public:
  explicit LsqFitter(LsqOptions options = {});  ///< validated
  ~LsqFitter();
  LsqFitter(LsqFitter&&) noexcept;
  LsqFitter& operator=(LsqFitter&&) noexcept;

  const LsqOptions& options() const noexcept;
  /// As lsq_fit.
  FitResult fit(std::span<const double> x, std::span<const double> y, const std::vector<Peak>& initial);
  /// As lsq_fit, writing into `out` (its vectors are reused).
  void fit(std::span<const double> x, std::span<const double> y, const std::vector<Peak>& initial, FitResult& out);
  /// The raw solver result of the last fit (reduced parameter vector: free peak parameters after ties, then
  /// background parameters), for diagnostics.
  const LmResult& last_solver_result() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tsunagu::spectra
