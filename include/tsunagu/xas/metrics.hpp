#pragma once
/// Spectrum-prediction metrics and the two baselines every tsunagu XAS report carries.
#include <cstddef>
#include <vector>

#include <Eigen/Core>
#include <nlohmann/json_fwd.hpp>

#include "tsunagu/nn/knn.hpp"

namespace tsunagu::xas {

double pearson(const Eigen::VectorXd& a, const Eigen::VectorXd& b);   ///< NaN when either is constant
double spearman(const Eigen::VectorXd& a, const Eigen::VectorXd& b);  ///< Pearson of average ranks (ties averaged)

struct Peak {
  std::size_t index = 0;  ///< mesh index of the local maximum
  double energy = 0.0;    ///< eV, refined by a parabola through the three points
  double intensity = 0.0; ///< spectrum value at the maximum
  double prominence = 0.0;
};

/// Peak-matching rule (documented in docs/xas.md): peaks are local maxima whose topographic prominence is at least
/// min_prominence × (max - min) of the spectrum. Each reference peak is matched to the nearest predicted peak within
/// window eV (each predicted peak used at most once, reference peaks taken in order of decreasing prominence).
struct PeakOptions {
  double min_prominence = 0.05;  ///< fraction of the spectrum's range
  double window = 5.0;           ///< eV
};
std::vector<Peak> find_peaks(const Eigen::VectorXd& mesh, const Eigen::VectorXd& mu, const PeakOptions& options = {});

struct SpectrumScore {
  double mse = 0.0;
  double pearson = 0.0;
  double spearman = 0.0;
  std::size_t reference_peaks = 0;
  std::size_t matched_peaks = 0;
  double peak_position_error = 0.0;   ///< eV, mean |ΔE| over matched peaks (NaN when none matched)
  double peak_intensity_error = 0.0;  ///< mean |ΔI| over matched peaks (NaN when none matched)
};
SpectrumScore score_spectrum(const Eigen::VectorXd& mesh, const Eigen::VectorXd& reference,
                             const Eigen::VectorXd& predicted, const PeakOptions& options = {});

/// Aggregate over spectra (rows of Y_ref / Y_pred, columns on `mesh`).
struct Metrics {
  std::size_t n = 0;
  double mse = 0.0;                   ///< mean over all spectra and points
  double pearson_median = 0.0, pearson_mean = 0.0;
  double spearman_median = 0.0;
  double frac_pearson_gt_0_9 = 0.0, frac_pearson_gt_0_95 = 0.0;
  double peak_position_mae = 0.0;     ///< eV, mean over all matched peaks of all spectra
  double peak_intensity_mae = 0.0;
  double peak_match_fraction = 0.0;   ///< matched / reference peaks
  std::vector<SpectrumScore> per_spectrum;
  nlohmann::json to_json(bool include_per_spectrum = false) const;  ///< keys as the field names ("mse", ...),
                                                                     ///< "frac_pearson_gt_0.9", "frac_pearson_gt_0.95"
};
/// InvalidArgument when shapes differ or are empty.
Metrics evaluate_spectra(const Eigen::VectorXd& mesh, const Eigen::MatrixXd& Y_ref, const Eigen::MatrixXd& Y_pred,
                         const PeakOptions& options = {});

/// Baseline 1: the mean training spectrum for every input.
Eigen::MatrixXd mean_baseline(const Eigen::MatrixXd& Y_train, Eigen::Index n_predict);

/// Baseline 2: k nearest neighbours in descriptor space (nn::KnnRegressor, shared with the bio module).
using KnnBaseline = nn::KnnRegressor;

}  // namespace tsunagu::xas
