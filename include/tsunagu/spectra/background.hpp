#pragma once
/// Inelastic backgrounds of photoelectron spectra, on the fitters' ascending binding-like axis x (spectrum.hpp):
/// the step rises toward larger x (higher binding energy).
#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace tsunagu::spectra {

enum class BackgroundKind {
  None,           ///< no background
  Constant,       ///< c                                   (fitted linearly)
  Linear,         ///< a + b·(x − x̄)                       (fitted linearly; x̄ = mean of x)
  Polynomial,     ///< Σ_k c_k (x − x̄)^k, k ≤ degree        (fitted linearly)
  Shirley,        ///< iterative Shirley from the data (Proctor–Sherwood), fixed during the peak fit
  ActiveShirley,  ///< offset + k · ∫_{x_min}^{x} peaks(t) dt, with offset, k refined in the fit
  Tougaard,       ///< universal cross-section K(T) = B·T/(C + T²)², from the data, fixed during the peak fit
};
std::string to_string(BackgroundKind k);  ///< "none", "constant", "linear", "polynomial", "shirley",
                                          ///< "active-shirley", "tougaard"
BackgroundKind background_from_string(const std::string& s);  ///< inverse; InvalidArgument listing names

struct ShirleyOptions {
  int max_iter = 100;      ///< iterations of the Proctor–Sherwood fixed point
  double tol = 1e-7;       ///< stop when max |ΔB| <= tol · max |y|
  std::size_t end_points = 5;  ///< channels averaged at each end to give the anchor intensities (>= 1)
  void validate() const;
};

/// Iterative Shirley background: B(x_i) = I_lo + (I_hi − I_lo) · ∫_{x_0}^{x_i} (y − B) / ∫_{x_0}^{x_n} (y − B)
/// (trapezoid integrals), I_lo/I_hi = mean of the first/last `end_points` counts. x ascending, y (n) >= 0.
std::vector<double> shirley_background(std::span<const double> x, std::span<const double> y,
                                       const ShirleyOptions& options = {});

struct TougaardOptions {
  double B = 2866.0;  ///< eV², universal cross-section strength (Tougaard 1989 "U2": B = 2866, C = 1643)
  double C = 1643.0;  ///< eV²
  double D = 0.0;     ///< eV², three-parameter form B·T/((C − T²)² + D·T²) when D > 0 (U3: C = 551, D = 436)
  bool fit_B = true;  ///< rescale B so the background meets the mean of the last `end_points` counts
  std::size_t end_points = 5;
  void validate() const;
};

/// Tougaard background B(x_i) = Σ_{j<i} K(x_i − x_j) · (y_j − y_0) · Δx_j with K the (two- or three-parameter)
/// universal cross-section; y_0 = mean of the first `end_points` counts is the constant level added back.
/// When fit_B, B is scaled so the background equals the data at the high-x end. Returns (n) background values;
/// `fitted_B` (if non-null) receives the B used.
std::vector<double> tougaard_background(std::span<const double> x, std::span<const double> y,
                                        const TougaardOptions& options = {}, double* fitted_B = nullptr);

/// Cumulative trapezoid ∫_{x_0}^{x_i} f (n values, first = 0): the Shirley step of a peak profile.
std::vector<double> cumulative_integral(std::span<const double> x, std::span<const double> f);

/// Design matrix columns (x − x̄)^k, k = 0..degree, column-major (n × (degree+1)); x̄ = mean(x).
std::vector<double> polynomial_basis(std::span<const double> x, int degree);

}  // namespace tsunagu::spectra
