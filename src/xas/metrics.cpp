#include "tsunagu/xas/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "tsunagu/core/error.hpp"

namespace tsunagu::xas {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

void check_pair(const Eigen::VectorXd& a, const Eigen::VectorXd& b, const char* what) {
  if (a.size() != b.size())
    throw InvalidArgument(std::string(what) + ": sizes differ (" + std::to_string(a.size()) + " and " +
                          std::to_string(b.size()) + ")");
}

// Average ranks (1-based), ties sharing the mean of their positions.
Eigen::VectorXd ranks(const Eigen::VectorXd& x) {
  const auto n = static_cast<std::size_t>(x.size());
  std::vector<Eigen::Index> order(n);
  std::iota(order.begin(), order.end(), Eigen::Index{0});
  std::stable_sort(order.begin(), order.end(), [&](Eigen::Index i, Eigen::Index j) { return x(i) < x(j); });
  Eigen::VectorXd r(x.size());
  std::size_t i = 0;
  while (i < n) {
    std::size_t j = i + 1;
    while (j < n && x(order[j]) == x(order[i])) ++j;
    const double avg = 0.5 * static_cast<double>(i + 1 + j);  // mean of ranks i+1 .. j
    for (std::size_t k = i; k < j; ++k) r(order[k]) = avg;
    i = j;
  }
  return r;
}

double median(std::vector<double> v) {
  v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return !std::isfinite(x); }), v.end());
  if (v.empty()) return kNaN;
  const std::size_t h = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(h), v.end());
  const double hi = v[h];
  if (v.size() % 2) return hi;
  const double lo = *std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(h));
  return 0.5 * (lo + hi);
}

// Vertex of the parabola through (x[i-1], y[i-1]), (x[i], y[i]), (x[i+1], y[i+1]), clamped to [x[i-1], x[i+1]];
// x[i] when the three points are not concave.
double parabola_vertex(const Eigen::VectorXd& x, const Eigen::VectorXd& y, Eigen::Index i) {
  const double x1 = x(i - 1) - x(i), x3 = x(i + 1) - x(i);
  const double y1 = y(i - 1) - y(i), y3 = y(i + 1) - y(i);
  const double den = x1 * x3 * (x1 - x3);
  if (den == 0) return x(i);
  const double a = (y1 * x3 - y3 * x1) / den;
  const double b = (y3 * x1 * x1 - y1 * x3 * x3) / den;
  if (!(a < 0)) return x(i);
  return x(i) + std::clamp(-b / (2 * a), x1, x3);
}

}  // namespace

double pearson(const Eigen::VectorXd& a, const Eigen::VectorXd& b) {
  check_pair(a, b, "pearson");
  if (a.size() < 2) return kNaN;
  const Eigen::ArrayXd da = a.array() - a.mean(), db = b.array() - b.mean();
  const double saa = da.square().sum(), sbb = db.square().sum();
  if (!(saa > 0) || !(sbb > 0)) return kNaN;
  const double r = (da * db).sum() / std::sqrt(saa * sbb);
  return std::clamp(r, -1.0, 1.0);
}

double spearman(const Eigen::VectorXd& a, const Eigen::VectorXd& b) {
  check_pair(a, b, "spearman");
  if (a.size() < 2) return kNaN;
  return pearson(ranks(a), ranks(b));
}

std::vector<Peak> find_peaks(const Eigen::VectorXd& mesh, const Eigen::VectorXd& mu, const PeakOptions& options) {
  check_pair(mesh, mu, "find_peaks");
  if (!(options.min_prominence >= 0) || !std::isfinite(options.min_prominence))
    throw InvalidArgument("peaks: min_prominence " + std::to_string(options.min_prominence) + " must be >= 0");
  std::vector<Peak> peaks;
  const Eigen::Index n = mu.size();
  if (n < 3) return peaks;
  const double range = mu.maxCoeff() - mu.minCoeff();
  if (!(range > 0)) return peaks;
  const double threshold = options.min_prominence * range;
  Eigen::Index i = 1;
  while (i < n - 1) {
    if (mu(i - 1) < mu(i)) {
      Eigen::Index j = i + 1;  // past a plateau
      while (j < n - 1 && mu(j) == mu(i)) ++j;
      if (mu(j) < mu(i)) {
        const Eigen::Index p = (i + j - 1) / 2;  // middle of the plateau (left of centre for even lengths)
        // Topographic prominence: lowest point on each side before a higher point (or the end); the higher of the
        // two bases is the key col.
        double left = mu(p), right = mu(p);
        for (Eigen::Index k = p - 1; k >= 0 && mu(k) <= mu(p); --k) left = std::min(left, mu(k));
        for (Eigen::Index k = p + 1; k < n && mu(k) <= mu(p); ++k) right = std::min(right, mu(k));
        Peak pk;
        pk.index = static_cast<std::size_t>(p);
        pk.intensity = mu(p);
        pk.prominence = mu(p) - std::max(left, right);
        pk.energy = j == i + 1 ? parabola_vertex(mesh, mu, p) : 0.5 * (mesh(i) + mesh(j - 1));
        if (pk.prominence >= threshold) peaks.push_back(pk);
      }
      i = j;
    } else {
      ++i;
    }
  }
  return peaks;
}

SpectrumScore score_spectrum(const Eigen::VectorXd& mesh, const Eigen::VectorXd& reference,
                             const Eigen::VectorXd& predicted, const PeakOptions& options) {
  check_pair(reference, predicted, "score_spectrum");
  check_pair(mesh, reference, "score_spectrum (mesh and spectrum)");
  if (reference.size() == 0) throw InvalidArgument("score_spectrum: empty spectra");
  if (!(options.window >= 0)) throw InvalidArgument("peaks: window must be >= 0");
  SpectrumScore s;
  s.mse = (reference - predicted).squaredNorm() / static_cast<double>(reference.size());
  s.pearson = pearson(reference, predicted);
  s.spearman = spearman(reference, predicted);
  std::vector<Peak> ref = find_peaks(mesh, reference, options);
  const std::vector<Peak> pred = find_peaks(mesh, predicted, options);
  std::stable_sort(ref.begin(), ref.end(), [](const Peak& a, const Peak& b) { return a.prominence > b.prominence; });
  std::vector<bool> used(pred.size(), false);
  double de = 0, di = 0;
  for (const Peak& r : ref) {
    std::size_t best = pred.size();
    double best_d = 0;
    for (std::size_t k = 0; k < pred.size(); ++k) {
      if (used[k]) continue;
      const double d = std::abs(pred[k].energy - r.energy);
      if (d <= options.window && (best == pred.size() || d < best_d)) {
        best = k;
        best_d = d;
      }
    }
    if (best == pred.size()) continue;
    used[best] = true;
    ++s.matched_peaks;
    de += best_d;
    di += std::abs(pred[best].intensity - r.intensity);
  }
  s.reference_peaks = ref.size();
  s.peak_position_error = s.matched_peaks ? de / static_cast<double>(s.matched_peaks) : kNaN;
  s.peak_intensity_error = s.matched_peaks ? di / static_cast<double>(s.matched_peaks) : kNaN;
  return s;
}

nlohmann::json Metrics::to_json(bool include_per_spectrum) const {
  nlohmann::json j = {{"n", n},
                      {"mse", mse},
                      {"pearson_median", pearson_median},
                      {"pearson_mean", pearson_mean},
                      {"spearman_median", spearman_median},
                      {"frac_pearson_gt_0.9", frac_pearson_gt_0_9},
                      {"frac_pearson_gt_0.95", frac_pearson_gt_0_95},
                      {"peak_position_mae", peak_position_mae},
                      {"peak_intensity_mae", peak_intensity_mae},
                      {"peak_match_fraction", peak_match_fraction}};
  if (include_per_spectrum) {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& s : per_spectrum)
      a.push_back({{"mse", s.mse},
                   {"pearson", s.pearson},
                   {"spearman", s.spearman},
                   {"reference_peaks", s.reference_peaks},
                   {"matched_peaks", s.matched_peaks},
                   {"peak_position_error", s.peak_position_error},
                   {"peak_intensity_error", s.peak_intensity_error}});
    j["per_spectrum"] = std::move(a);
  }
  return j;
}

Metrics evaluate_spectra(const Eigen::VectorXd& mesh, const Eigen::MatrixXd& Y_ref, const Eigen::MatrixXd& Y_pred,
                         const PeakOptions& options) {
  if (Y_ref.rows() != Y_pred.rows() || Y_ref.cols() != Y_pred.cols())
    throw InvalidArgument("evaluate_spectra: reference (" + std::to_string(Y_ref.rows()) + " x " +
                          std::to_string(Y_ref.cols()) + ") and prediction (" + std::to_string(Y_pred.rows()) + " x " +
                          std::to_string(Y_pred.cols()) + ") differ in shape");
  if (Y_ref.rows() == 0 || Y_ref.cols() == 0) throw InvalidArgument("evaluate_spectra: no spectra");
  if (mesh.size() != Y_ref.cols())
    throw InvalidArgument("evaluate_spectra: mesh has " + std::to_string(mesh.size()) + " points, spectra have " +
                          std::to_string(Y_ref.cols()));
  Metrics m;
  m.n = static_cast<std::size_t>(Y_ref.rows());
  m.mse = (Y_ref - Y_pred).squaredNorm() / static_cast<double>(Y_ref.size());
  std::vector<double> p, sp;
  std::size_t gt9 = 0, gt95 = 0, ref_peaks = 0, matched = 0;
  double de = 0, di = 0, psum = 0;
  std::size_t pfinite = 0;
  m.per_spectrum.reserve(m.n);
  for (Eigen::Index i = 0; i < Y_ref.rows(); ++i) {
    SpectrumScore s = score_spectrum(mesh, Y_ref.row(i).transpose(), Y_pred.row(i).transpose(), options);
    p.push_back(s.pearson);
    sp.push_back(s.spearman);
    if (s.pearson > 0.9) ++gt9;
    if (s.pearson > 0.95) ++gt95;
    if (std::isfinite(s.pearson)) {
      psum += s.pearson;
      ++pfinite;
    }
    ref_peaks += s.reference_peaks;
    matched += s.matched_peaks;
    if (s.matched_peaks) {
      de += s.peak_position_error * static_cast<double>(s.matched_peaks);
      di += s.peak_intensity_error * static_cast<double>(s.matched_peaks);
    }
    m.per_spectrum.push_back(s);
  }
  const auto n = static_cast<double>(m.n);
  m.pearson_median = median(p);
  m.pearson_mean = pfinite ? psum / static_cast<double>(pfinite) : kNaN;
  m.spearman_median = median(sp);
  m.frac_pearson_gt_0_9 = static_cast<double>(gt9) / n;
  m.frac_pearson_gt_0_95 = static_cast<double>(gt95) / n;
  m.peak_position_mae = matched ? de / static_cast<double>(matched) : kNaN;
  m.peak_intensity_mae = matched ? di / static_cast<double>(matched) : kNaN;
  m.peak_match_fraction = ref_peaks ? static_cast<double>(matched) / static_cast<double>(ref_peaks) : kNaN;
  return m;
}

Eigen::MatrixXd mean_baseline(const Eigen::MatrixXd& Y_train, Eigen::Index n_predict) {
  if (Y_train.rows() == 0) throw InvalidArgument("mean baseline: no training spectra");
  if (n_predict < 0) throw InvalidArgument("mean baseline: negative number of predictions");
  const Eigen::RowVectorXd mean = Y_train.colwise().mean();
  return mean.replicate(n_predict, 1);
}

}  // namespace tsunagu::xas
