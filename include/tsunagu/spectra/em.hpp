#pragma once
/// Intensity-weighted EM peak fitting (Matsumura et al., Sci. Technol. Adv. Mater. 20, 733 (2019)).
///
/// A spectrum (x_i ascending, counts y_i >= 0) is read as a weighted sample: channel i carries the weight
/// w_i = y_i · dx_i, where dx_i is the channel's width (midpoint rule: (x_{i+1} − x_{i−1})/2 inside, the full
/// neighbour spacing at the two ends, so Σ dx_i = W is the window width including half a channel at each end).
/// The densities f_c of a mixture Σ_c π_c f_c(x) (Σ π_c = 1) are fitted by maximising the weighted log-likelihood
///     L = Σ_i w_i log Σ_c π_c f_c(x_i)
/// and the model is  m_i = A · Σ_c π_c f_c(x_i)  with A = Σ_i w_i (counts·eV), so Σ_i m_i dx_i ≈ A = Σ_i y_i dx_i.
///
/// Components:
/// - Gaussian peaks: closed-form E and M steps (weighted mean and variance) — plain EM.
/// - Lorentzian and pseudo-Voigt peaks (shared FWHM, mixing η): one closed-form minorise–maximise step per
///   iteration. The Lorentzian is written as a Gaussian scale mixture (Student t with ν = 1, latent precision τ,
///   E[τ | x] = 2γ²/(γ² + (x − μ)²)) and the pseudo-Voigt as a two-part mixture (Gaussian part with weight 1 − η,
///   Lorentzian part η). Given these inner expectations the surrogate is maximised jointly in closed form:
///   μ = weighted mean with weights r^G/c_G² + r^L·E[τ]/c_L², FWHM² = weighted spread / N, η = N^L / N
///   (c_G = σ/FWHM = 1/(2√(2 ln 2)), c_L = γ/FWHM = 1/2). This is an ECM/GEM step: it never lowers L.
/// - Uniform background: density 1/W on the window.
/// - Linear background: density (1 + s·(x − x̄))/W (x̄ = dx-weighted mean of x), s kept inside the interval where
///   the density is >= 0 at every channel; s is the exact conditional maximiser found by safeguarded Newton
///   (bracketed bisection fallback) on the concave 1-D objective Σ r_i log(1 + s d_i).
/// - Step background (Shirley-like): a constant offset (uniform component) plus a step whose density is the
///   cumulative trapezoid integral of the current peak sum Σ_k π_k f_k, normalised on the window; its shape is
///   tied to the peaks and recomputed from them at every E step, while its weight is an ordinary M-step update.
///   Because the tie is not maximised over, L is not guaranteed monotone with a step background (it is for all
///   other combinations); the stopping rule uses |ΔL| and the step background always runs plain EM.
///
/// Window normalisation (default; EmOptions::window_normalised): a peak's density is its profile divided by M_k,
/// the profile's mass inside the window [x_0 − dx_0/2, x_{n−1} + dx_{n−1}/2], so π_k is the in-window fraction and
/// the reported area π_k·A/M_k is the whole peak's, wings outside the window included (Lorentzian tails, peaks at
/// the edge). The M step is then the truncated-data EM of Dempster, Laird & Rubin (1977, §4.2): the expected
/// sufficient statistics of the unobserved part outside the window (Gaussian tail moments via erfc; Lorentzian
/// τ-weighted tail moments in closed form) are added to the weighted channel sums; it stays closed-form and
/// monotone. Centres are kept inside the window. With window_normalised = false the densities are the plain
/// profiles as in Matsumura et al. (fine for Gaussians well inside the window; Lorentzian areas come out low by
/// the mass of the wings outside).
///
/// Widths are clamped to [min_fwhm, max_fwhm] in the M step (the surrogate is unimodal in the width, so the clamped
/// value is still the constrained maximiser); this also prevents the collapse of a component onto one channel.
///
/// Convergence: SQUAREM extrapolation (EmOptions::accelerate; Varadhan & Roland, Scand. J. Stat. 35, 335 (2008))
/// with its monotone safeguard cuts the EM steps 2-3x; the fit stops when |ΔL|/A < tol.
///
/// Starts: a deterministic start (centres at weighted quantiles of the counts above a baseline from the window
/// ends) plus `restarts` seeded weighted k-means++ starts, best L kept; or user centres; or a warm start (e.g. the
/// previous pixel of a map), which typically converges in ~10 EM steps.
///
/// Speed: all per-iteration work happens in preallocated Eigen arrays (vectorised exp/log, at most one exp per
/// point and peak, none beyond 8.5 σ of a Gaussian); no heap allocation inside the iterations. Reuse an EmFitter per
/// thread for many spectra on one axis. 300 channels, 3 Gaussians + linear background: ~35 µs per warm-started
/// fit, ~75 µs cold (one start) per core.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "tsunagu/spectra/lineshape.hpp"
#include "tsunagu/spectra/model.hpp"

namespace tsunagu::spectra {

/// Background represented by extra mixture components.
enum class EmBackground {
  None,     ///< peaks only
  Uniform,  ///< constant density on the window        → reported as BackgroundKind::Constant {c}
  Linear,   ///< density ∝ 1 + s(x − x̄), >= 0          → reported as BackgroundKind::Linear {a, b}, x_ref = x̄
  Step,     ///< constant offset + Shirley-like step     → reported as BackgroundKind::Shirley {I_lo, I_hi}
};
std::string to_string(EmBackground b);                       ///< "none" | "uniform" | "linear" | "step"
EmBackground em_background_from_string(const std::string& s);  ///< inverse; InvalidArgument listing the names

struct EmOptions {
  std::size_t n_peaks = 0;       ///< K >= 1; 0 = centers.size()
  std::vector<double> centers;   ///< (K) initial centres, eV on the x axis; empty = quantile / k-means++ starts
  Shape shape = Shape::Gaussian;  ///< gauss (EM), lorentz or pvoigt (ECM); others are rejected
  EmBackground background = EmBackground::Uniform;
  /// Extra random starts (weighted k-means++ centres, seeded) after the deterministic quantile start; the fit
  /// with the largest L is kept. Ignored when `centers` or a warm start is given (those runs are deterministic).
  int restarts = 3;
  std::uint64_t seed = 0;        ///< seed of the random starts (core::make_rng)
  int max_iter = 1000;           ///< EM (M) steps per start (>= 1)
  /// Stop when |ΔL| / A < tol, i.e. the change of the log-likelihood per unit weight (nats per count·eV) between
  /// two iterations. Scale-free: the same tol fits spectra of any count level. 0 = run max_iter iterations.
  double tol = 1e-9;
  double min_fwhm = 0;           ///< eV; 0 = 2 × median channel spacing
  double max_fwhm = 0;           ///< eV; 0 = window width x_{n−1} − x_0
  double eta = 0.5;              ///< initial pseudo-Voigt Lorentzian fraction η ∈ [0, 1] (cold starts)
  bool fit_eta = true;           ///< pvoigt: refine η per peak (false = keep η fixed at its start value)
  bool window_normalised = true;  ///< normalise peak densities on the window (see above); false = the paper's form
  /// SQUAREM acceleration (Varadhan & Roland 2008) with its monotone safeguard: typically 2-3x fewer EM steps.
  /// Not used with the step background. false = plain EM (one E and one M step per iteration).
  bool accelerate = true;
  bool record_trace = false;     ///< keep L of the best start (EmFitter::trace())
  /// InvalidArgument naming the field ("EmOptions.tol: must be finite and >= 0 (got -1)").
  void validate() const;
  std::size_t peaks() const noexcept { return n_peaks ? n_peaks : centers.size(); }  ///< K
};

/// Reusable EM fitter for many spectra on one axis (the batch engine keeps one per thread). Not thread-safe.
class EmFitter {
 public:
  /// `x` (n) eV, finite and strictly ascending; options validated here. InvalidArgument when there are fewer
  /// points than free parameters (e.g. more peaks than points).
  EmFitter(std::span<const double> x, const EmOptions& options);
  ~EmFitter();
  EmFitter(EmFitter&&) noexcept;
  EmFitter& operator=(EmFitter&&) noexcept;

  /// Fit counts `y` (n, finite, >= 0, not all zero; InvalidArgument otherwise). `warm` (optional) = a previous
  /// result on this fitter's axis x (centres in eV on x, background values in the order of x): its peaks (centre,
  /// fwhm, area, η) and, when of the matching kind, its background start the run (a single start). It is ignored
  /// when it holds a different number of peaks.
  FitResult fit(std::span<const double> y, const FitResult* warm = nullptr);
  /// Same, starting from the given peaks (K of them; areas in counts·eV set π_k = area·M_k/A; the background
  /// takes the rest, at least 5 %).
  FitResult fit(std::span<const double> y, std::span<const Peak> warm_peaks);

  /// The weighted log-likelihood L = Σ_i w_i log Σ_c π_c f_c(x_i) (nats·counts·eV; densities in 1/eV) of the best
  /// start of the last fit: the starting point, then after every iteration (plain EM: n_iter + 1 entries) or
  /// after every SQUAREM cycle (accelerate); empty unless options.record_trace.
  const std::vector<double>& trace() const noexcept;
  const EmOptions& options() const noexcept;
  double min_fwhm() const noexcept;  ///< eV, resolved
  double max_fwhm() const noexcept;  ///< eV, resolved

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// One-off fit: EmFitter(x, options).fit(y, *warm_start) (or fit(y) when warm_start is null).
/// x, y (n); result energies are x (ascending, axis_sign = +1); statistics with Weighting::Poisson;
/// n_free = 3 per peak (+1 for pvoigt with fit_eta) + background (uniform 1, linear 2, step 2).
FitResult em_fit(std::span<const double> x, std::span<const double> y, const EmOptions& options,
                 const std::vector<Peak>* warm_start = nullptr);

}  // namespace tsunagu::spectra
