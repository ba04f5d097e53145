#include "tsunagu/spectra/fit.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include <nlohmann/json.hpp>

#include "tsunagu/core/error.hpp"

using namespace tsunagu;
using namespace tsunagu::spectra;

namespace {
double gauss(double x, double c, double fwhm, double area) {
  const double s = fwhm / (2 * std::sqrt(2 * std::log(2.0)));
  return area * std::exp(-0.5 * (x - c) * (x - c) / (s * s)) / (s * std::sqrt(2 * M_PI));
}
/// Descending binding energy (as CSV exports are), two Gaussians on a constant, Poisson noise.
Spectrum two_peaks(std::uint64_t seed, double hv = NAN) {
  Spectrum s;
  std::mt19937_64 rng(seed);
  for (int i = 0; i < 241; ++i) {
    const double e = 292.0 - 0.05 * i;
    s.energy.push_back(e);
    const double mean = 50 + gauss(e, 284.5, 0.9, 3000) + gauss(e, 287.0, 1.1, 1200);
    s.counts.push_back(static_cast<double>(std::poisson_distribution<long>(mean)(rng)));
  }
  s.photon_energy = hv;
  s.source = "synthetic";
  return s;
}
}  // namespace

TEST(FitOptions, ValidateNamesTheProblem) {
  FitOptions o;
  o.n_peaks = 2;
  o.centers = {1, 2, 3};
  EXPECT_THROW(o.validate(), InvalidArgument);
  o = {};
  o.method = Method::Em;
  o.shape = Shape::Voigt;
  EXPECT_THROW(o.validate(), InvalidArgument);
  o = {};
  o.method = Method::Bayes;
  o.background = BackgroundKind::ActiveShirley;
  EXPECT_THROW(o.validate(), InvalidArgument);
  o = {};
  o.method = Method::Em;
  o.doublets = {Doublet{}};
  EXPECT_THROW(o.validate(), InvalidArgument);
  o = {};
  o.min_fwhm = 2;
  o.max_fwhm = 1;
  EXPECT_THROW(o.validate(), InvalidArgument);
}

TEST(FitOptions, JsonRoundTripAndUnknownKeysRejected) {
  FitOptions o;
  o.method = Method::Em;
  o.n_peaks = 3;
  o.shape = Shape::PseudoVoigt;
  o.background = BackgroundKind::Tougaard;
  o.region = std::make_pair(280.0, 290.0);
  o.tougaard.C = 551;
  o.tougaard.D = 436;
  const auto j = to_json(o);
  const FitOptions back = fit_options_from_json(j);
  EXPECT_EQ(to_json(back), j);
  EXPECT_THROW(fit_options_from_json(nlohmann::json{{"n_peak", 3}}), InvalidArgument);
  EXPECT_THROW(fit_options_from_json(nlohmann::json{{"n_peaks", "three"}}), InvalidArgument);
  EXPECT_THROW(fit_options_from_json(nlohmann::json{{"tougaard", {{"E", 1}}}}), InvalidArgument);
  // no silent truncation or wrap-around of counts
  EXPECT_THROW(fit_options_from_json(nlohmann::json{{"n_peaks", -1}}), InvalidArgument);
  EXPECT_THROW(fit_options_from_json(nlohmann::json{{"n_peaks", 2.5}}), InvalidArgument);
  EXPECT_THROW(fit_options_from_json(nlohmann::json{{"threads", -2}}), InvalidArgument);
  EXPECT_EQ(fit_options_from_json(nlohmann::json{{"doublets", {"1:2:13.6:0.5"}}, {"n_peaks", 2}}).doublets[0].splitting,
            13.6);
}

TEST(Fit, ResultsComeBackInInputOrderOnTheReportedScale) {
  const auto s = two_peaks(1);
  FitOptions o;
  o.n_peaks = 2;
  o.background = BackgroundKind::Constant;
  const auto r = fit(s, o);
  ASSERT_TRUE(r.converged) << r.message;
  EXPECT_EQ(r.energy, s.energy);  // descending, as given
  EXPECT_EQ(r.counts, s.counts);
  EXPECT_NEAR(r.peaks[0].center, 284.5, 0.02);
  EXPECT_NEAR(r.peaks[1].center, 287.0, 0.04);
  // the model at the largest peak's maximum sits on the data
  EXPECT_LT(std::abs(r.model[150] - s.counts[150]), 5 * std::sqrt(s.counts[150]));
  const auto j = to_json(r, EnergyScale::Binding);
  EXPECT_EQ(j["peaks"].size(), 2u);
  EXPECT_TRUE(j["peaks"][0].contains("stderr"));
  EXPECT_EQ(j["components"][0].size(), s.energy.size());
}

TEST(Fit, KineticReportEqualsBindingFitMirrored) {
  const double hv = 1486.6;
  auto s = two_peaks(2, hv);
  FitOptions o;
  o.n_peaks = 2;
  o.method = Method::Lsq;
  o.background = BackgroundKind::Linear;
  const auto rb = fit(s, o);
  o.energy = EnergyScale::Kinetic;
  const auto rk = fit(s, o);
  ASSERT_EQ(rk.peaks.size(), 2u);
  // sorted ascending on each scale: the binding 284.5 peak is the kinetic one with the larger energy
  EXPECT_NEAR(hv - rk.peaks[1].center, rb.peaks[0].center, 1e-6);
  EXPECT_NEAR(hv - rk.peaks[0].center, rb.peaks[1].center, 1e-6);
  EXPECT_NEAR(rk.chi2, rb.chi2, 1e-6 * rb.chi2);
  EXPECT_EQ(rk.axis_sign, -1);
  s.photon_energy = NAN;
  EXPECT_THROW(fit(s, o), InvalidArgument);  // needs hν to report binding data on the kinetic scale
}

TEST(SpectrumFitter, WarmStartFromTheResultReachesTheSameFit) {
  const auto s = two_peaks(3);
  FitOptions o;
  o.n_peaks = 2;
  o.background = BackgroundKind::Shirley;
  SpectrumFitter f(o, s.energy, EnergyScale::Binding, NAN);
  const auto cold = f.fit(s.counts);
  const auto warm = f.fit(s.counts, &cold);
  ASSERT_TRUE(warm.converged);
  for (std::size_t k = 0; k < 2; ++k) EXPECT_NEAR(warm.peaks[k].center, cold.peaks[k].center, 1e-5);
  EXPECT_LE(warm.n_iter, cold.n_iter);
  std::vector<double> bad = s.counts;
  bad[10] = -1;
  EXPECT_THROW(f.fit(bad), InvalidArgument);
}

TEST(SelectPeaks, BicPicksTwoOnTwoPeakSpectra) {
  int hits = 0;
  for (std::uint64_t seed = 10; seed < 15; ++seed) {
    FitOptions o;
    o.background = BackgroundKind::Constant;
    const auto sel = select_peaks(two_peaks(seed), 4, Criterion::Bic, o);
    hits += sel.chosen == 2;
    EXPECT_EQ(sel.k, (std::vector<std::size_t>{1, 2, 3, 4}));
  }
  EXPECT_GE(hits, 4);
  EXPECT_THROW(select_peaks(two_peaks(1), 0, Criterion::Bic, FitOptions{}), InvalidArgument);
}
