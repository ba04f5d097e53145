#pragma once
/// Bayesian spectral deconvolution (Nagata, Sugita, Okada, Neural Networks 28, 82 (2012)): the posterior of K peaks
/// plus a background is sampled by replica-exchange Monte Carlo (REMC) over a temperature ladder, and the Bayes free
/// energy F(K) = −log Z(K) = −log ∫ L(θ) π(θ) dθ from the same ladder selects the number of peaks.
///
/// Model (on the fitters' ascending axis x, eV; spectrum.hpp):
///   m_i = bg_i + Σ_k area_k · profile(x_i; center_k, fwhm_k, shape params_k)            (counts)
/// Priors (independent, all proper so Z is a true evidence; defaults derived from the data, see BayesOptions):
///   center ~ U[x_0, x_{n−1}];  fwhm ~ log-U[min_fwhm, max_fwhm] (or U when !log_fwhm_prior);
///   area ~ U[0, max_area];  shape params ~ U[shape_param_lower, shape_param_upper] (lineshape.hpp);
///   linear background: its values at both window ends, bg(x_0) and bg(x_{n−1}), each ~ U[0, max_background]
///   (uniform over a box in (a, b) of a + b(x − x̄), and the model stays >= 0 as Poisson needs).
/// Noise:
///   Poisson:  L = Π m_i^{y_i} e^{−m_i} / y_i!  (m_i floored at 1e-300 where every term underflows; log y_i! =
///     lgamma(y_i + 1), so non-integer values such as counts/s are accepted, although L is then not normalised over y;
///     F(K) still ranks K correctly, as every K shares that constant);
///   Gaussian: y_i ~ N(m_i, σ²) with σ unknown and log-uniform (Jeffreys) on [σ_lo, σ_hi] = [1e-6, 1e6]·max|y|,
///     integrated out analytically: L(θ) = Γ(n/2) / (2 π^{n/2} log(σ_hi/σ_lo)) · RSS(θ)^{−n/2} (the tail mass outside
///     [σ_lo, σ_hi] is neglected). REMC tempers this marginal, so F(K) is the evidence of the model with σ
///     marginalised — a fully Bayesian version of Nagata's "b = 1/σ²" treatment, consistent for every K.
///
/// Sampling: replicas at β_0 = 0 < β_1 = beta_min < … < β_{R−1} = 1 (geometric above β_1) each sample
/// L^β π. One sweep updates every parameter of every replica once by a uniform random-walk Metropolis move
/// (reflected at the prior bounds; FWHM moves in log FWHM when the prior is log-uniform); step sizes are per
/// replica and per parameter, adapted toward 40 % acceptance during burn-in only. Each move recomputes the moved
/// peak's profile alone and updates the stored model vector (O(n) per move; area and background moves need no
/// profile evaluation at all). After each sweep neighbouring replicas are offered an exchange (even pairs after
/// even sweeps, odd pairs after odd sweeps). Each replica has its own random stream, so results depend on the seed
/// only, not on the thread count.
///
/// Free energy: Z = Π_l Z_{l+1}/Z_l (Z_0 = 1: the priors are normalised), each ratio by Bennett's acceptance ratio
/// (BAR) between neighbouring replicas over the post-burn-in sweeps: the minimum-variance bridge estimator, whose
/// logistic weights stay bounded where log L has a heavy lower tail at small β. Its Monte-Carlo standard error is the spread of the same estimate over 20 consecutive blocks of sweeps (batch means), which
/// keeps the correlation between neighbouring replicas that the exchanges create.
/// Numerics: a move changes the model by one component, m' = (m − c_old) + c_new; channels where that difference
/// would cancel (the component dominates, e.g. a peak on a zero background) are summed afresh from the stored
/// profiles, since Poisson's log turns such rounding into a biased likelihood.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "tsunagu/spectra/background.hpp"
#include "tsunagu/spectra/lineshape.hpp"
#include "tsunagu/spectra/model.hpp"

namespace tsunagu::spectra {

struct BayesOptions {
  Shape shape = Shape::Gaussian;
  Weighting noise = Weighting::Poisson;  ///< Poisson counts, or Gaussian with σ marginalised (see above)
  /// Replicas including β = 0 (>= 3); 0 = enough for a geometric ratio of about 1.4 between beta_min and 1
  /// (at most 64).
  int n_replicas = 0;
  /// Smallest non-zero inverse temperature β_1 in (0, 1); 0 = 1/Σy (Poisson, at most 1/n) or 1/(5n) (Gaussian), so
  /// that β_1 · (spread of log L over the prior) is of order one.
  double beta_min = 0;
  int n_sweeps = 3000;  ///< sweeps in total, burn-in included (> burn_in)
  int burn_in = 1000;   ///< sweeps discarded (and used to adapt the step sizes) before sampling; >= 0
  std::uint64_t seed = 0;
  double min_fwhm = 0;  ///< eV, > 0; 0 = 2 × median channel spacing
  double max_fwhm = 0;  ///< eV, > min_fwhm; 0 = half the window width x_{n−1} − x_0
  bool log_fwhm_prior = true;  ///< FWHM prior log-uniform (scale-free) rather than uniform
  double max_area = 0;         ///< counts·eV upper prior bound of each area; 0 = 1.5 × ∫ y dx (trapezoid)
  double max_background = 0;   ///< counts, upper prior bound of the linear background end values; 0 = 1.5 × max y
  unsigned threads = 1;        ///< threads (over replicas in bayes_fit, over K in bayes_select); 0 = all
  /// Throws InvalidArgument naming the field ("n_sweeps: must be > burn_in (got 100 <= 200)").
  void validate() const;
};

/// The background: sampled linear, or fixed values computed beforehand (e.g. shirley_background of the counts).
struct BayesBackground {
  BackgroundKind kind = BackgroundKind::Linear;  ///< Linear = sampled; any other kind = `values` held fixed
  std::vector<double> values;  ///< (n) counts of a fixed background (>= 0 for Poisson); empty with kind None = 0
  static BayesBackground linear() { return {}; }
  static BayesBackground none() { return {BackgroundKind::None, {}}; }
  static BayesBackground fixed(std::vector<double> values, BackgroundKind kind = BackgroundKind::Shirley) {
    return {kind, std::move(values)};
  }
};

struct BayesFit {
  /// Posterior summary at β = 1 with peaks sorted by centre (this resolves label switching): each Peak holds the
  /// posterior mean of its parameters and `credible` (95 % central intervals, params() layout); background holds
  /// the posterior mean (linear: params {a, b} of a + b(x − x̄), x_ref = x̄) and `model` the curve of these means.
  /// method = Bayes, n_iter = n_sweeps, weighting = the noise model, statistics filled by compute_statistics;
  /// converged = diagnostics OK (see message): every exchange rate >= 0.05 and the β = 1 acceptance in [0.02, 0.95].
  FitResult fit;
  double free_energy = 0;     ///< F(K) = −log Z(K), nats (including the constants of L, e.g. log y_i!)
  double free_energy_se = 0;  ///< Monte-Carlo standard error of free_energy, nats
  std::vector<double> betas;          ///< (R) the ladder, β_0 = 0 … β_{R−1} = 1
  std::vector<double> acceptance;     ///< (R) post-burn-in Metropolis acceptance rate per replica
  std::vector<double> exchange_rate;  ///< (R−1) acceptance of exchanges between replicas l and l+1
  std::vector<Peak> map_peaks;        ///< highest-likelihood β = 1 sample (sorted by centre)
  std::vector<double> map_model;      ///< (n) model of the MAP sample
  /// Linear background: 95 % intervals of {a, b} (same layout as fit.background.params); empty when fixed.
  std::vector<std::array<double, 2>> background_credible;
  double sigma = 0;       ///< Gaussian noise: posterior mean of sqrt(RSS/n) (counts); 0 for Poisson
  std::size_t n_samples = 0;  ///< post-burn-in samples per replica
  double seconds = 0;         ///< wall time of the fit
};

/// Sample the posterior of `n_peaks` peaks (>= 0; 0 only with a linear background or to evaluate a fixed model)
/// and estimate F. x (n) ascending eV, y (n) counts >= 0 and finite, not all zero; n must exceed the number of
/// sampled parameters. Throws InvalidArgument naming the field for bad input.
BayesFit bayes_fit(std::span<const double> x, std::span<const double> y, std::size_t n_peaks,
                   const BayesBackground& background, const BayesOptions& options);

struct BayesSelection {
  std::vector<std::size_t> k;        ///< 1..K_max
  std::vector<double> free_energy;   ///< (K_max) F(K), nats
  std::vector<double> se;            ///< (K_max) its Monte-Carlo standard error
  std::size_t chosen = 0;            ///< K with the smallest F
  std::vector<BayesFit> fits;        ///< (K_max) fit per K
  double seconds = 0;
};

/// bayes_fit for K = 1..max_peaks (parallel over K with options.threads; each K has its own seed derived from
/// options.seed, so results do not depend on the thread count) and the K of minimum free energy.
BayesSelection bayes_select(std::span<const double> x, std::span<const double> y, std::size_t max_peaks,
                            const BayesBackground& background, const BayesOptions& options);

}  // namespace tsunagu::spectra
