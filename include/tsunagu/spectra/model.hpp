#pragma once
/// Result types shared by all fitting methods (EM, least squares, Bayesian): a fitted peak, the background and
/// the fit summary (Ceres-style status + message). Energies are on the fitters' axis while a method runs and on
/// the reported scale once fit() (fit.hpp) has mapped them back.
#include <array>
#include <cstddef>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "tsunagu/spectra/background.hpp"
#include "tsunagu/spectra/lineshape.hpp"

namespace tsunagu::spectra {

enum class Method { Em, Lsq, Bayes };
std::string to_string(Method m);  ///< "em" | "lsq" | "bayes"
Method method_from_string(const std::string& s);

/// Residual weighting / noise model.
enum class Weighting {
  Poisson,   ///< var(y_i) = max(y_i, 1)  (counting statistics)
  Gaussian,  ///< var(y_i) = σ² constant, σ estimated from the residuals
};
std::string to_string(Weighting w);  ///< "poisson" | "gaussian"
Weighting weighting_from_string(const std::string& s);

struct Peak {
  Shape shape = Shape::Gaussian;
  double center = 0, fwhm = 1, area = 0;  ///< eV, eV, counts·eV
  std::vector<double> shape_params;       ///< (n_shape_params(shape)), names from shape_param_names
  /// 1-σ standard errors in params() layout (least squares); empty when not computed. A tied/fixed parameter has 0.
  std::vector<double> std_error;
  /// 95 % central posterior credible intervals [lo, hi] in params() layout (Bayes); empty otherwise.
  std::vector<std::array<double, 2>> credible;

  std::vector<double> params() const;       ///< [center, fwhm, area, shape params...]
  void set_params(std::span<const double> p);
  double height() const;                    ///< model value at the profile maximum (counts)
};

/// Spin–orbit doublet tie for least squares: peak `second` is constrained to
///   center_2 = center_1 + splitting, area_2 = area_ratio · area_1, and (if share_fwhm) fwhm_2 = fwhm_1.
/// E.g. Fe 2p3/2 (first) and 2p1/2 (second): splitting 13.6 eV on the binding axis, area_ratio 0.5.
struct Doublet {
  std::size_t first = 0, second = 1;  ///< 0-based peak indices
  double splitting = 0;               ///< eV on the reported energy scale (sign = direction)
  double area_ratio = 0.5;            ///< area(second) / area(first) > 0
  bool share_fwhm = true;
  void validate(std::size_t n_peaks) const;
};
/// Parse "I:J:SPLIT:RATIO[:free]" as given to --doublet: 1-based peak numbers, splitting in eV, area ratio
/// second/first (e.g. 0.5 for p3/2:p1/2 = 2:1), optional "free" = do not share the FWHM. InvalidArgument names
/// the field otherwise.
Doublet parse_doublet(const std::string& text);

struct BackgroundResult {
  BackgroundKind kind = BackgroundKind::None;
  /// constant: {c}; linear: {a, b} for a + b(x − x_ref); polynomial: {c_0..c_d} in (x − x_ref)^k;
  /// shirley: {I_lo, I_hi}; active-shirley: {offset, k}; tougaard: {B, C, D}.
  std::vector<double> params;
  double x_ref = 0;            ///< reference energy of linear/polynomial terms (eV, reported scale)
  std::vector<double> values;  ///< (n) background at each fitted channel
};

struct FitResult {
  Method method = Method::Lsq;
  std::vector<Peak> peaks;
  BackgroundResult background;
  std::vector<double> energy;  ///< (n) energies of the fitted channels (eV, reported scale, input order)
  /// +1 when the reported energy increases with binding energy, −1 when it is kinetic energy: line shapes with a
  /// direction (DS tails) and background steps are evaluated on u = axis_sign · energy.
  double axis_sign = 1;
  std::vector<double> counts;  ///< (n) data
  std::vector<double> model;   ///< (n) background + Σ peaks
  double chi2 = std::numeric_limits<double>::quiet_NaN();  ///< Σ (y − m)² / var_i with the fit's weighting
  double reduced_chi2 = std::numeric_limits<double>::quiet_NaN();  ///< chi2 / dof
  double rss = std::numeric_limits<double>::quiet_NaN();   ///< Σ (y − m)²
  std::size_t dof = 0;                                      ///< n − number of free parameters
  std::size_t n_free = 0;                                   ///< free parameters (peaks + background)
  double log_likelihood = std::numeric_limits<double>::quiet_NaN();  ///< under the noise model
  double aic = std::numeric_limits<double>::quiet_NaN(), bic = std::numeric_limits<double>::quiet_NaN();
  Weighting weighting = Weighting::Poisson;
  /// Bayes only: free energy F(K) = −log Z of this K (nats) and its Monte-Carlo standard error; NaN otherwise.
  double free_energy = std::numeric_limits<double>::quiet_NaN();
  double free_energy_se = std::numeric_limits<double>::quiet_NaN();
  bool converged = false;
  int n_iter = 0;
  std::string message;  ///< why it stopped ("converged: relative change < tol", "max_iter reached", ...)
};

/// Fill chi2, reduced_chi2, rss, log_likelihood, aic, bic of `r` from r.counts, r.model, r.n_free, r.weighting.
/// (Gaussian: σ² = rss/n; Poisson: log-likelihood Σ y log m − m − log y!.)
void compute_statistics(FitResult& r);

/// The value of each peak component at the fitted channels: (n_peaks) vectors of (n). Peaks are evaluated on
/// the reported energies, so this is also correct after the axis has been mapped back.
std::vector<std::vector<double>> component_values(const FitResult& r);

}  // namespace tsunagu::spectra
