#include "tsunagu/xas/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tsunagu/core/error.hpp"

using namespace tsunagu;
using namespace tsunagu::xas;

namespace {

template <class E>
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  return "";
}

Eigen::VectorXd vec(std::initializer_list<double> v) {
  Eigen::VectorXd x(static_cast<Eigen::Index>(v.size()));
  Eigen::Index i = 0;
  for (double d : v) x(i++) = d;
  return x;
}

struct Line {
  double centre, height, sigma;
};

// Gaussians on a small sloping background.
Eigen::VectorXd gaussians(const Eigen::VectorXd& e, const std::vector<Line>& lines, double shift = 0.0) {
  Eigen::VectorXd y(e.size());
  for (Eigen::Index i = 0; i < e.size(); ++i) {
    double v = 0.01 * (e(i) - e(0));
    for (const auto& l : lines) v += l.height * std::exp(-0.5 * std::pow((e(i) - l.centre - shift) / l.sigma, 2));
    y(i) = v;
  }
  return y;
}

const std::vector<Line> kLines = {{7110.3, 1.0, 1.5}, {7123.7, 1.6, 2.0}, {7140.15, 0.7, 1.8}};

}  // namespace

// ---------------------------------------------------------------- correlations

TEST(Correlation, matches_scipy) {
  // Golden values from scipy 1.17.1:
  //   .venv/bin/python -c 'import scipy.stats as st; a=[1,2.5,3,4.2,5,3,2,7.5]; b=[2,2.1,3.5,3,6,3,1,4];
  //                        print(repr(st.pearsonr(a,b)[0]), repr(st.spearmanr(a,b)[0]))'
  //   -> 0.6822187550484893 0.8975903614457831   (both vectors have ties: spearman averages their ranks)
  const Eigen::VectorXd a = vec({1, 2.5, 3, 4.2, 5, 3, 2, 7.5}), b = vec({2, 2.1, 3.5, 3, 6, 3, 1, 4});
  EXPECT_NEAR(pearson(a, b), 0.6822187550484893, 1e-14);
  EXPECT_NEAR(spearman(a, b), 0.8975903614457831, 1e-14);
  EXPECT_NEAR(pearson(a, a), 1.0, 1e-15);
  EXPECT_NEAR(pearson(a, -2.0 * a), -1.0, 1e-15);
  EXPECT_NEAR(spearman(a, a.array().exp().matrix()), 1.0, 1e-15);  // monotone transform
  EXPECT_TRUE(std::isnan(pearson(a, Eigen::VectorXd::Constant(8, 3.0))));
  EXPECT_TRUE(std::isnan(spearman(Eigen::VectorXd::Constant(8, 3.0), b)));
  EXPECT_NE(error_of<InvalidArgument>([&] { pearson(a, b.head(3)); }).find("sizes differ"), std::string::npos);
}

// ---------------------------------------------------------------- peaks

TEST(FindPeaks, prominences_match_scipy) {
  // scipy.signal.find_peaks(x) -> [2 5 8 11]; scipy.signal.peak_prominences(x, peaks)[0] -> [2. 5. 2. 0.5]
  const Eigen::VectorXd x = vec({0, 1, 3, 1, 2, 5, 2, 2, 4, 0.5, 0.5, 1, 0});
  const Eigen::VectorXd mesh = Eigen::VectorXd::LinSpaced(13, 0.0, 12.0);
  PeakOptions o;
  o.min_prominence = 0.0;
  const auto p = find_peaks(mesh, x, o);
  ASSERT_EQ(p.size(), 4u);
  const std::vector<std::size_t> idx{2, 5, 8, 11};
  const std::vector<double> prom{2, 5, 2, 0.5};
  for (std::size_t k = 0; k < 4; ++k) {
    EXPECT_EQ(p[k].index, idx[k]);
    EXPECT_DOUBLE_EQ(p[k].prominence, prom[k]);
    EXPECT_DOUBLE_EQ(p[k].intensity, x(static_cast<Eigen::Index>(idx[k])));
  }
  o.min_prominence = 0.2;  // 0.2 * range 5 = 1: drops the last peak
  EXPECT_EQ(find_peaks(mesh, x, o).size(), 3u);
  // plateau: one peak in its middle; ends are never peaks; constant spectra have none
  const auto flat = find_peaks(mesh.head(7), vec({0, 1, 2, 2, 2, 1, 0}), o);
  ASSERT_EQ(flat.size(), 1u);
  EXPECT_EQ(flat[0].index, 3u);
  EXPECT_DOUBLE_EQ(flat[0].energy, 3.0);
  EXPECT_TRUE(find_peaks(mesh.head(3), vec({3, 2, 1}), o).empty());
  EXPECT_TRUE(find_peaks(mesh, Eigen::VectorXd::Constant(13, 1.0), o).empty());
}

TEST(FindPeaks, parabolic_refinement_recovers_gaussian_centres) {
  const double step = 0.25;
  const Eigen::VectorXd e = Eigen::VectorXd::LinSpaced(321, 7100.0, 7180.0);
  const auto p = find_peaks(e, gaussians(e, kLines));
  ASSERT_EQ(p.size(), 3u);
  for (std::size_t k = 0; k < 3; ++k) {
    // the background slope 0.01 moves the maximum by 0.01 sigma^2 / height
    const double expected = kLines[k].centre + 0.01 * kLines[k].sigma * kLines[k].sigma / kLines[k].height;
    EXPECT_LT(std::abs(p[k].energy - expected), 0.1 * step) << k;
    EXPECT_NEAR(p[k].prominence, kLines[k].height, 0.1);
  }
  // a small bump under 5 % of the range is not a peak
  std::vector<Line> lines = kLines;
  lines.push_back({7160.0, 0.05, 1.0});
  EXPECT_EQ(find_peaks(e, gaussians(e, lines)).size(), 3u);
}

// ---------------------------------------------------------------- scores

TEST(ScoreSpectrum, identical_and_shifted_spectra) {
  const Eigen::VectorXd e = Eigen::VectorXd::LinSpaced(321, 7100.0, 7180.0);  // 0.25 eV
  const Eigen::VectorXd ref = gaussians(e, kLines);
  const SpectrumScore same = score_spectrum(e, ref, ref);
  EXPECT_EQ(same.mse, 0.0);
  EXPECT_NEAR(same.pearson, 1.0, 1e-15);
  EXPECT_EQ(same.reference_peaks, 3u);
  EXPECT_EQ(same.matched_peaks, 3u);
  EXPECT_EQ(same.peak_position_error, 0.0);
  EXPECT_EQ(same.peak_intensity_error, 0.0);
  // shifted by a whole number of mesh steps: the same samples moved, the error is the shift
  Eigen::VectorXd moved = Eigen::VectorXd::Constant(e.size(), 0.0);
  moved.tail(e.size() - 6) = ref.head(e.size() - 6);  // +1.5 eV
  const SpectrumScore s6 = score_spectrum(e, ref, moved);
  EXPECT_EQ(s6.matched_peaks, 3u);
  EXPECT_NEAR(s6.peak_position_error, 1.5, 1e-9);
  // analytic shift between mesh points
  const Eigen::VectorXd shifted = gaussians(e, kLines, 1.3);
  const SpectrumScore s = score_spectrum(e, ref, shifted);
  EXPECT_EQ(s.matched_peaks, 3u);
  EXPECT_NEAR(s.peak_position_error, 1.3, 0.02);
  EXPECT_LT(s.peak_intensity_error, 0.03);  // only the background under the peaks differs
  EXPECT_GT(s.mse, 0.0);
  EXPECT_NEAR(s.mse, (ref - shifted).squaredNorm() / 321.0, 1e-15);
  EXPECT_LT(s.pearson, 1.0);
  EXPECT_GT(s.pearson, 0.5);
  // outside the window nothing matches
  PeakOptions o;
  o.window = 1.0;
  const SpectrumScore far = score_spectrum(e, ref, shifted, o);
  EXPECT_EQ(far.matched_peaks, 0u);
  EXPECT_TRUE(std::isnan(far.peak_position_error));
  EXPECT_TRUE(std::isnan(far.peak_intensity_error));
}

TEST(ScoreSpectrum, each_predicted_peak_is_used_once_strongest_reference_first) {
  const Eigen::VectorXd e = Eigen::VectorXd::LinSpaced(401, 0.0, 100.0);
  // reference: two peaks 4 eV apart (the right one stronger); prediction: one peak between them, nearer the left
  const Eigen::VectorXd ref = gaussians(e, {{48.0, 0.6, 1.0}, {52.0, 1.0, 1.0}});
  const Eigen::VectorXd pred = gaussians(e, {{49.0, 1.0, 1.0}});
  const SpectrumScore s = score_spectrum(e, ref, pred);
  EXPECT_EQ(s.reference_peaks, 2u);
  EXPECT_EQ(s.matched_peaks, 1u);
  EXPECT_NEAR(s.peak_position_error, 3.0, 0.05);  // taken by the stronger (right) peak, although farther
}

TEST(EvaluateSpectra, aggregates) {
  const Eigen::VectorXd e = Eigen::VectorXd::LinSpaced(321, 7100.0, 7180.0);
  const Eigen::VectorXd ref = gaussians(e, kLines);
  Eigen::MatrixXd R(4, e.size()), P(4, e.size());
  R.row(0) = ref.transpose();
  P.row(0) = ref.transpose();
  R.row(1) = ref.transpose();
  P.row(1) = gaussians(e, kLines, 1.3).transpose();
  R.row(2) = ref.transpose();
  P.row(2) = (2.0 - ref.array()).matrix().transpose();  // anti-correlated
  R.row(3) = gaussians(e, {{7150.0, 1.0, 2.0}}).transpose();
  P.row(3) = gaussians(e, {{7151.0, 1.0, 2.0}}).transpose();
  const Metrics m = evaluate_spectra(e, R, P);
  ASSERT_EQ(m.n, 4u);
  ASSERT_EQ(m.per_spectrum.size(), 4u);
  std::vector<double> p;
  std::size_t gt9 = 0, gt95 = 0, refp = 0, matched = 0;
  double de = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    const auto s = score_spectrum(e, R.row(static_cast<Eigen::Index>(i)).transpose(),
                                  P.row(static_cast<Eigen::Index>(i)).transpose());
    EXPECT_EQ(m.per_spectrum[i].pearson, s.pearson);
    p.push_back(s.pearson);
    gt9 += s.pearson > 0.9;
    gt95 += s.pearson > 0.95;
    refp += s.reference_peaks;
    matched += s.matched_peaks;
    if (s.matched_peaks) de += s.peak_position_error * static_cast<double>(s.matched_peaks);
  }
  std::sort(p.begin(), p.end());
  EXPECT_NEAR(m.pearson_median, 0.5 * (p[1] + p[2]), 1e-15);
  EXPECT_NEAR(m.pearson_mean, (p[0] + p[1] + p[2] + p[3]) / 4, 1e-15);
  EXPECT_EQ(m.frac_pearson_gt_0_9, static_cast<double>(gt9) / 4);
  EXPECT_EQ(m.frac_pearson_gt_0_95, static_cast<double>(gt95) / 4);
  EXPECT_NEAR(m.pearson_median, 0.5 * (m.per_spectrum[1].pearson + m.per_spectrum[3].pearson), 1e-15);
  EXPECT_NEAR(m.mse, (R - P).squaredNorm() / static_cast<double>(R.size()), 1e-15);
  EXPECT_NEAR(m.peak_match_fraction, static_cast<double>(matched) / static_cast<double>(refp), 1e-15);
  EXPECT_NEAR(m.peak_position_mae, de / static_cast<double>(matched), 1e-12);
  EXPECT_LT(m.per_spectrum[2].pearson, -0.99);
  const nlohmann::json j = m.to_json();
  for (const char* key : {"mse", "pearson_median", "frac_pearson_gt_0.9", "frac_pearson_gt_0.95", "peak_position_mae",
                          "peak_intensity_mae", "peak_match_fraction", "spearman_median", "n"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_EQ(j["n"], 4);
  EXPECT_FALSE(j.contains("per_spectrum"));
  EXPECT_EQ(m.to_json(true)["per_spectrum"].size(), 4u);
  EXPECT_NE(error_of<InvalidArgument>([&] { evaluate_spectra(e, R, P.topRows(3)); }).find("differ in shape"),
            std::string::npos);
  EXPECT_NE(error_of<InvalidArgument>([&] { evaluate_spectra(e, R.topRows(0), P.topRows(0)); }).find("no spectra"),
            std::string::npos);
  EXPECT_NE(error_of<InvalidArgument>([&] { evaluate_spectra(e.head(3), R, P); }).find("mesh"), std::string::npos);
}

// ---------------------------------------------------------------- baselines

TEST(MeanBaseline, is_the_mean_training_spectrum) {
  Eigen::MatrixXd Y(3, 2);
  Y << 1, 2, 3, 4, 5, 9;
  const Eigen::MatrixXd P = mean_baseline(Y, 4);
  ASSERT_EQ(P.rows(), 4);
  for (Eigen::Index i = 0; i < 4; ++i) {
    EXPECT_DOUBLE_EQ(P(i, 0), 3.0);
    EXPECT_DOUBLE_EQ(P(i, 1), 5.0);
  }
  EXPECT_EQ(mean_baseline(Y, 0).rows(), 0);
  EXPECT_THROW(mean_baseline(Eigen::MatrixXd(0, 2), 1), InvalidArgument);
}
