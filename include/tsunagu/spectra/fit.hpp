#pragma once
/// One entry point for fitting a spectrum with any method (the CLI `spectra fit`, Python `tsunagu.spectra.fit` and
/// the batch engine all call this), peak-count selection (`spectra select`), and JSON output.
///
/// How the methods cooperate: `lsq` without explicit centres starts from an EM fit (robust, fast); `em` handles
/// Shirley/Tougaard backgrounds by subtracting them first (counts clamped at 0) and linear/constant backgrounds as
/// mixture components; `bayes` samples the posterior by replica exchange with a fixed Shirley/Tougaard background or
/// a sampled linear one.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "tsunagu/spectra/background.hpp"
#include "tsunagu/spectra/lineshape.hpp"
#include "tsunagu/spectra/model.hpp"
#include "tsunagu/spectra/spectrum.hpp"

namespace tsunagu::spectra {

struct FitOptions {
  Method method = Method::Lsq;
  std::size_t n_peaks = 0;        ///< K; 0 = as many as `centers` (one of them must be given)
  std::vector<double> centers;    ///< initial peak centres, eV on the `energy` scale (empty = found by EM)
  Shape shape = Shape::Gaussian;  ///< em supports gauss, lorentz, pvoigt; lsq and bayes all shapes
  BackgroundKind background = BackgroundKind::Shirley;
  int poly_degree = 2;            ///< for BackgroundKind::Polynomial (0..6)
  Weighting weighting = Weighting::Poisson;
  std::vector<Doublet> doublets;  ///< lsq only; splitting in eV on the `energy` scale
  EnergyScale energy = EnergyScale::Binding;  ///< scale the fit is done on and reported in
  std::optional<std::pair<double, double>> region;  ///< fit window (eV on `energy` scale); none = all points
  std::uint64_t seed = 0;         ///< EM restarts and Bayesian sampling
  int max_iter = 0;               ///< 0 = the method's default
  int restarts = 0;               ///< EM random restarts (0 = default)
  double min_fwhm = 0, max_fwhm = 0;  ///< eV; 0 = derived from channel spacing / window width
  ShirleyOptions shirley;
  TougaardOptions tougaard;
  // Bayesian sampling (0 = defaults)
  int replicas = 0, sweeps = 0, burn_in = 0;
  unsigned threads = 1;  ///< threads for `select` (over K) and Bayesian fits; 0 = all
  /// Throws InvalidArgument naming the field (negative counts, unsupported method/shape/background combination...).
  void validate() const;
};

/// Fit one spectrum (validated first; cropped to options.region; converted to options.energy).
FitResult fit(const Spectrum& spectrum, const FitOptions& options);

/// Many spectra on one energy axis (the batch engine): the axis conversion and workspaces are set up once.
/// Not thread-safe: use one per thread.
class SpectrumFitter {
 public:
  /// `energy` (n, eV on `input_scale`), shared by all spectra; photon_energy needed only to change scale.
  SpectrumFitter(const FitOptions& options, std::span<const double> energy, EnergyScale input_scale,
                 double photon_energy);
  ~SpectrumFitter();
  SpectrumFitter(SpectrumFitter&&) noexcept;
  SpectrumFitter& operator=(SpectrumFitter&&) noexcept;
  /// Fit counts (n, same order as `energy`). `warm` = a previous result on the same axis to start from (EM and
  /// LSQ), ignored when null or of a different peak count. Throws InvalidArgument for bad counts.
  FitResult fit(std::span<const double> counts, const FitResult* warm = nullptr);
  std::size_t n_channels() const;  ///< points inside the region

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

enum class Criterion { Bayes, Bic, Aic };
std::string to_string(Criterion c);  ///< "bayes" | "bic" | "aic"
Criterion criterion_from_string(const std::string& s);

struct Selection {
  Criterion criterion = Criterion::Bic;
  std::vector<std::size_t> k;         ///< 1..K_max
  std::vector<double> score;          ///< F(K) (Bayes free energy, nats) or BIC/AIC per K; lower is better
  std::vector<double> score_se;       ///< Monte-Carlo standard error of F(K) (Bayes), 0 otherwise
  std::size_t chosen = 0;             ///< selected number of peaks
  std::vector<FitResult> fits;        ///< best fit per K
};
/// Fit K = 1..max_peaks and choose K by the Bayes free energy (replica exchange) or BIC/AIC of least-squares fits.
Selection select_peaks(const Spectrum& spectrum, std::size_t max_peaks, Criterion criterion, const FitOptions& options);

/// Options as JSON (Python front end, batch fingerprints): keys are the FitOptions field names with string enums
/// ("method": "lsq", "shape": "pvoigt", "region": [lo, hi], "doublets": [{"first": 1, "second": 2, "splitting":
/// 13.6, "area_ratio": 0.5, "share_fwhm": true}], "tougaard": {"B":..,"C":..,"D":..,"fit_B":..}). Unknown keys and
/// wrong types are rejected with InvalidArgument naming the key. Validates the result.
FitOptions fit_options_from_json(const nlohmann::json& j);
nlohmann::json to_json(const FitOptions& o);

/// result.json: peaks (center, fwhm, area, height, shape + shape params, stderr or credible intervals),
/// background, chi2, reduced_chi2, energy_scale, converged, n_iter, message, statistics, and the fitted curves.
nlohmann::json to_json(const FitResult& r, EnergyScale scale);
nlohmann::json to_json(const Selection& s, EnergyScale scale);

}  // namespace tsunagu::spectra
