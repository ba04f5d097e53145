#pragma once
/// Penalised linear and logistic regression paths by pathwise coordinate descent, with the conventions of
/// the R package ncvreg (Breheny & Huang, Ann. Appl. Stat. 5, 232 (2011)):
///
///   minimise  L(β0, β) + Σ_j P(|β_j|; λ_j, γ) + (λ_j(1−α)/2) β_j²,   λ_j = λ·α·pf_j in P
///
/// with L = (1/2n)‖y − β0 − Xβ‖² (gaussian) or −(1/n) log-likelihood (binomial), on columns centred and
/// scaled by their population SD (divide by n). Penalties: lasso P = λ|β|; MCP P = λ|β| − β²/(2γ) for |β| ≤ γλ,
/// γλ²/2 beyond (γ > 1, default 3); SCAD (γ > 2, default 3.7). Coefficients are reported on the original scale
/// with an intercept.
#include <cstddef>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include <Eigen/Core>

namespace tsunagu::sparse {

enum class Penalty { Lasso, MCP, SCAD };
enum class Family { Gaussian, Binomial };

std::string to_string(Penalty p);
std::string to_string(Family f);
Penalty parse_penalty(std::string_view name);  ///< "lasso"|"mcp"|"scad" (case-insensitive); else InvalidArgument
Family parse_family(std::string_view name);    ///< "gaussian"|"binomial"; else InvalidArgument

struct PathOptions {
  Family family = Family::Gaussian;
  Penalty penalty = Penalty::MCP;
  /// Concavity γ (dimensionless). NaN = default: 3 for MCP, 3.7 for SCAD (ignored for lasso).
  /// Must be > 1 for MCP and > 2 for SCAD.
  double gamma = std::numeric_limits<double>::quiet_NaN();
  double alpha = 1.0;  ///< elastic-net mixing in (0, 1]; α < 1 adds the ridge term λ(1−α)/2·β²
  int nlambda = 100;   ///< number of λ values on the log-spaced path (>= 2); ignored when `lambda` is given
  /// λ_min/λ_max; NaN = default 0.001 if n > p else 0.05. In (0, 1).
  double lambda_min_ratio = std::numeric_limits<double>::quiet_NaN();
  std::vector<double> lambda;          ///< user path (strictly decreasing, > 0); empty = automatic
  double eps = 1e-4;                   ///< convergence: max_j |Δβ_j| < eps·sd(y) on the standardised scale
  int max_iter = 10000;                ///< coordinate-descent sweeps, total across the path (as ncvreg)
  int dfmax = -1;                      ///< stop the path once more than dfmax penalised coefs are nonzero; -1 = no limit
  std::vector<double> penalty_factor;  ///< (p) multipliers of λ per feature, >= 0; 0 = never penalised; empty = all 1
  bool warn = true;                    ///< record warnings (constant columns, truncation) in Path::warnings

  double resolved_gamma() const;  ///< gamma or its default for the penalty
  /// Throws InvalidArgument naming the field ("gamma: must be > 1 for MCP (got 0.5)").
  void validate(std::size_t n, std::size_t p) const;
};

/// A fitted path. Shapes: p features, L λ values (L may be < nlambda if dfmax/max_iter truncated the path).
struct Path {
  Family family = Family::Gaussian;
  Penalty penalty = Penalty::MCP;
  double gamma = 3, alpha = 1;
  Eigen::VectorXd lambda;          ///< (L) decreasing
  Eigen::VectorXd intercept;       ///< (L) original scale
  Eigen::MatrixXd beta;            ///< (p, L) original scale (units of y per unit of x_j)
  Eigen::MatrixXd beta_std;        ///< (p, L) standardised scale (per population SD of x_j)
  Eigen::VectorXd intercept_std;   ///< (L) intercept on the standardised scale (0 for gaussian: y centred)
  Eigen::VectorXd center, scale;   ///< (p) column means and population SDs; scale = 0 marks a dropped constant column
  Eigen::VectorXd penalty_factor;  ///< (p) as used
  double y_mean = 0, y_sd = 1;     ///< of the training response
  Eigen::VectorXd loss;            ///< (L) RSS/(2n) or deviance/(2n) at each λ
  std::vector<int> df;             ///< (L) number of nonzero penalised coefficients (what dfmax limits)
  std::vector<int> iterations;     ///< (L) sweeps used at each λ
  std::vector<bool> converged;     ///< (L)
  std::vector<std::size_t> dropped_constant;  ///< indices of constant columns (coefficient fixed at 0)
  std::vector<std::string> warnings;
  std::string status = "converged";  ///< "converged", "truncated_dfmax", "max_iter", "saturated"
  std::string message;               ///< human-readable explanation of status

  std::size_t n_features() const noexcept { return static_cast<std::size_t>(beta.rows()); }
  std::size_t n_lambda() const noexcept { return static_cast<std::size_t>(lambda.size()); }
  /// Linear predictor β0 + Xβ at every λ: (m, L). X is (m, p) on the original scale.
  Eigen::MatrixXd linear_predictor(const Eigen::MatrixXd& X) const;
  /// Predictions at every λ: (m, L); the mean response (gaussian) or P(y = 1) (binomial).
  Eigen::MatrixXd predict(const Eigen::MatrixXd& X) const;
  /// Index of the λ value closest (in log) to `value`.
  std::size_t nearest_lambda(double value) const;
};

/// Fit the whole path. X is (n, p) with n >= 3, y is (n) (binomial: 0/1). Non-finite values, shape mismatches
/// and invalid options throw InvalidArgument.
Path fit_path(const Eigen::MatrixXd& X, const Eigen::VectorXd& y, const PathOptions& options);

/// Largest violation of the Karush–Kuhn–Tucker conditions at each λ, on the standardised scale:
/// for β_j ≠ 0: |∇_j L + ∂P(β_j) + λ(1−α)pf_j β_j|; for β_j = 0: max(0, |∇_j L| − λα pf_j). (L)
/// A local optimum has all entries ≈ 0; this is the independent check used by the tests.
Eigen::VectorXd kkt_violation(const Path& path, const Eigen::MatrixXd& X, const Eigen::VectorXd& y);

/// The univariate thresholding operator: argmin_b  (v/2) b² − u b + P(|b|; l1, γ) + (l2/2) b²  (global minimiser).
double threshold(Penalty penalty, double u, double v, double l1, double l2, double gamma);

}  // namespace tsunagu::sparse
