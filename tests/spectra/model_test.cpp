#include "tsunagu/spectra/model.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "tsunagu/core/error.hpp"

using namespace tsunagu;
using namespace tsunagu::spectra;

namespace {
FitResult result(std::vector<double> y, std::vector<double> m, std::size_t n_free, Weighting w) {
  FitResult r;
  r.counts = std::move(y);
  r.model = std::move(m);
  r.energy.resize(r.counts.size());
  r.n_free = n_free;
  r.weighting = w;
  return r;
}
}  // namespace

TEST(ComputeStatistics, PoissonLikelihoodEqualsTheDirectFormulaForIntegerAndFractionalCounts) {
  // Integer counts go through the log-factorial table, fractional (counts/s) through lgamma: both must equal
  // Σ y log m − m − lgamma(y + 1) evaluated directly.
  const std::vector<double> y{0, 3, 17, 250, 70000, 2.5}, m{0.4, 2.9, 18.2, 247.0, 70100.0, 3.0};
  auto r = result(y, m, 2, Weighting::Poisson);
  compute_statistics(r);
  double ll = 0, chi2 = 0, rss = 0;
  for (std::size_t i = 0; i < y.size(); ++i) {
    ll += y[i] * std::log(m[i]) - m[i] - std::lgamma(y[i] + 1);
    chi2 += (y[i] - m[i]) * (y[i] - m[i]) / std::max(y[i], 1.0);
    rss += (y[i] - m[i]) * (y[i] - m[i]);
  }
  EXPECT_NEAR(r.log_likelihood, ll, 1e-9 * std::abs(ll));
  EXPECT_DOUBLE_EQ(r.chi2, chi2);
  EXPECT_DOUBLE_EQ(r.rss, rss);
  EXPECT_EQ(r.dof, 4u);
  EXPECT_DOUBLE_EQ(r.reduced_chi2, chi2 / 4);
  EXPECT_NEAR(r.aic, 2 * 2 - 2 * ll, 1e-9 * std::abs(ll));
  EXPECT_NEAR(r.bic, 2 * std::log(6.0) - 2 * ll, 1e-9 * std::abs(ll));
}

TEST(ComputeStatistics, GaussianCountsSigmaAsAParameter) {
  auto r = result({1, 2, 3, 4}, {1.5, 2, 2.5, 4}, 1, Weighting::Gaussian);
  compute_statistics(r);
  const double rss = 0.5, s2 = rss / 4;
  EXPECT_DOUBLE_EQ(r.chi2, rss);
  EXPECT_NEAR(r.log_likelihood, -2.0 * (std::log(2 * M_PI * s2) + 1), 1e-12);
  EXPECT_NEAR(r.bic, 2 * std::log(4.0) - 2 * r.log_likelihood, 1e-12);  // k = n_free + 1 (σ)
  auto bad = result({1, 2}, {1}, 0, Weighting::Gaussian);
  EXPECT_THROW(compute_statistics(bad), InvalidArgument);
}

TEST(ParseDoublet, ReadsFieldsAndNamesTheBadOne) {
  const auto d = parse_doublet("1:3:13.6:0.5");
  EXPECT_EQ(d.first, 0u);
  EXPECT_EQ(d.second, 2u);
  EXPECT_DOUBLE_EQ(d.splitting, 13.6);
  EXPECT_DOUBLE_EQ(d.area_ratio, 0.5);
  EXPECT_TRUE(d.share_fwhm);
  EXPECT_FALSE(parse_doublet("2:1:-5:0.66:free").share_fwhm);
  for (const char* bad : {"1:2:13.6", "0:2:1:0.5", "1:1:1:0.5", "1:2:x:0.5", "1:2:1:-1", "1:2:1:0.5:tied"}) {
    EXPECT_THROW(parse_doublet(bad), InvalidArgument) << bad;
  }
  try {
    parse_doublet("1:2:abc:0.5");
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("splitting 'abc'"), std::string::npos) << e.what();
  }
  Doublet x{0, 5, 1.0, 0.5, true};
  EXPECT_THROW(x.validate(3), InvalidArgument);
}

TEST(ComponentValues, KineticAxisMirrorsTheAsymmetricTail) {
  // A DS peak's tail points to higher binding energy, i.e. to LOWER kinetic energy: evaluated on the kinetic
  // axis (axis_sign = −1) the component is the mirror image of the binding-axis one.
  Peak p;
  p.shape = Shape::DoniachSunjic;
  p.center = 100;
  p.fwhm = 1;
  p.area = 10;
  p.shape_params = {0.2};
  FitResult b, k;
  for (int i = 0; i <= 40; ++i) {
    b.energy.push_back(95 + 0.25 * i);
    k.energy.push_back(95 + 0.25 * i);
  }
  b.peaks = {p};
  k.peaks = {p};
  k.axis_sign = -1;
  const auto vb = component_values(b)[0], vk = component_values(k)[0];
  for (std::size_t i = 0; i < vb.size(); ++i) EXPECT_NEAR(vb[i], vk[vb.size() - 1 - i], 1e-12);
  EXPECT_GT(vb[30], vb[10]);  // binding: more intensity 2.5 eV above the centre than below
}

TEST(Peak, ParamsRoundTripAndHeightOfAGaussian) {
  Peak p;
  p.shape = Shape::Gaussian;
  p.set_params(std::vector<double>{285, 2, 100});
  EXPECT_EQ(p.params(), (std::vector<double>{285, 2, 100}));
  const double sigma = 2 / (2 * std::sqrt(2 * std::log(2.0)));
  EXPECT_NEAR(p.height(), 100 / (sigma * std::sqrt(2 * M_PI)), 1e-9);
  EXPECT_THROW(p.set_params(std::vector<double>{1, 2}), InvalidArgument);
}
