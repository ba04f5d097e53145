// Closed-form acquisitions. Golden numbers: tests/bayesopt/data/acq_reference.csv from acq_make_reference.py
// (scipy.stats.norm closed forms; the log-EI tail by numerical integration of a cancellation-free integral).
#include "tsunagu/bayesopt/acquisition.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "tsunagu/core/error.hpp"
#include "tsunagu/core/table.hpp"

namespace tb = tsunagu::bayesopt;
using tb::Acquisition;

namespace {

const double kInf = std::numeric_limits<double>::infinity();

double Phi(double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); }
double phi(double z) { return std::exp(-0.5 * z * z) / std::sqrt(2 * M_PI); }

tsunagu::core::NumericData reference() {
  const auto t = tsunagu::core::read_csv(std::string(TSUNAGU_SOURCE_DIR) + "/tests/bayesopt/data/acq_reference.csv");
  // ei is "nan" where the closed form is inaccurate: read the other columns strictly, ei by hand
  return t.numeric({"mu", "sigma", "best", "xi", "kappa", "pi", "ucb", "log_ei"});
}

}  // namespace

TEST(Acquisition, EiPiUcbEqualScipyClosedForms) {
  const auto t = tsunagu::core::read_csv(std::string(TSUNAGU_SOURCE_DIR) + "/tests/bayesopt/data/acq_reference.csv");
  const auto d = reference();
  int checked_ei = 0;
  for (Eigen::Index i = 0; i < d.values.rows(); ++i) {
    const double mu = d.values(i, 0), sigma = d.values(i, 1), best = d.values(i, 2), xi = d.values(i, 3),
                 kappa = d.values(i, 4);
    const double pi = d.values(i, 5), ucb = d.values(i, 6);
    const std::string ei_text = t.rows[static_cast<std::size_t>(i)][t.column_index("ei")];
    if (ei_text != "nan") {
      const double ei = std::stod(ei_text);
      EXPECT_NEAR(tb::expected_improvement(mu, sigma, best, xi), ei, 1e-12 * ei) << "row " << i;
      ++checked_ei;
    }
    EXPECT_NEAR(tb::probability_of_improvement(mu, sigma, best, xi), pi, 1e-12 * pi + 1e-300) << "row " << i;
    EXPECT_DOUBLE_EQ(tb::upper_confidence_bound(mu, sigma, kappa), ucb) << "row " << i;
  }
  EXPECT_GE(checked_ei, 10);
}

TEST(Acquisition, LogEiEqualsIntegralReferenceFromModerateToFarTail) {
  const auto d = reference();
  for (Eigen::Index i = 0; i < d.values.rows(); ++i) {
    const double mu = d.values(i, 0), sigma = d.values(i, 1), best = d.values(i, 2), xi = d.values(i, 3);
    const double ref = d.values(i, 7);
    const double got = tb::log_expected_improvement(mu, sigma, best, xi);
    EXPECT_TRUE(std::isfinite(got)) << "row " << i;
    EXPECT_NEAR(got, ref, 1e-12 * std::max(1.0, std::abs(ref))) << "row " << i;
  }
}

TEST(Acquisition, LogEiEqualsLogOfEiWhereEiIsRepresentable) {
  for (double z = -30; z <= 30; z += 0.37) {
    const double sigma = 1.7, best = 0.3, mu = best + z * sigma;
    const double ei = tb::expected_improvement(mu, sigma, best);
    ASSERT_GT(ei, 0) << z;
    EXPECT_NEAR(tb::log_expected_improvement(mu, sigma, best), std::log(ei),
                1e-12 * std::max(1.0, std::abs(std::log(ei))))
        << "z = " << z;
    if (z > -5) {
      // independent closed form where it has no cancellation trouble
      const double direct = sigma * (z * Phi(z) + phi(z));
      EXPECT_NEAR(ei, direct, 1e-12 * direct) << "z = " << z;
    }
  }
}

TEST(Acquisition, LogHIsFiniteStrictlyIncreasingAndAsymptoticFarInTheTail) {
  double prev = -kInf;
  for (double e = 300; e >= -1; e -= 0.25) {  // z = -10^e from -1e300 up to -0.1
    const double z = -std::pow(10.0, e);
    const double v = tb::log_h(z);
    ASSERT_FALSE(std::isnan(v)) << z;
    if (std::abs(z) < 1e150) {
      ASSERT_TRUE(std::isfinite(v)) << z;
      EXPECT_GT(v, prev) << z;
    }
    prev = v;
    if (std::abs(z) >= 1e3 && std::abs(z) < 1e150) {
      // h(z) = phi(z) (1/z^2 - 3/z^4 + 15/z^6 - ...) as z -> -inf (Mills-ratio asymptotic series)
      const double z2 = z * z;
      const double asym = -0.5 * z2 - 0.5 * std::log(2 * M_PI) - std::log(z2) + std::log1p(-3 / z2 + 15 / (z2 * z2));
      EXPECT_NEAR(v, asym, 1e-14 * std::abs(asym)) << z;
    }
  }
}

TEST(Acquisition, LogHContinuousAndDerivativeEqualsPhiOverH) {
  // across the switch between the direct formula and the continued fraction (z = -3)
  EXPECT_NEAR(tb::log_h(-3.0 - 1e-12), tb::log_h(-3.0 + 1e-12), 1e-11);
  EXPECT_NEAR(tb::d_log_h(-3.0 - 1e-12), tb::d_log_h(-3.0 + 1e-12), 1e-10);
  for (double z : {-50.0, -8.0, -3.5, -3.0, -2.0, -0.5, 0.0, 0.7, 3.0, 9.0}) {
    const double h = 1e-6 * std::max(1.0, std::abs(z));
    const double fd = (tb::log_h(z + h) - tb::log_h(z - h)) / (2 * h);
    EXPECT_NEAR(tb::d_log_h(z), fd, 1e-6 * std::max(1.0, std::abs(fd))) << z;
    if (z > -6) {
      EXPECT_NEAR(tb::d_log_h(z), Phi(z) / (phi(z) + z * Phi(z)), 1e-11 * tb::d_log_h(z)) << z;
    }
  }
}

TEST(Acquisition, SigmaZeroUsesTheDeterministicLimits) {
  EXPECT_DOUBLE_EQ(tb::expected_improvement(2.0, 0.0, 1.5), 0.5);
  EXPECT_DOUBLE_EQ(tb::expected_improvement(2.0, 0.0, 1.5, 0.2), 0.3);
  EXPECT_DOUBLE_EQ(tb::expected_improvement(1.0, 0.0, 1.5), 0.0);
  EXPECT_DOUBLE_EQ(tb::probability_of_improvement(2.0, 0.0, 1.5), 1.0);
  EXPECT_DOUBLE_EQ(tb::probability_of_improvement(1.0, 0.0, 1.5), 0.0);
  EXPECT_DOUBLE_EQ(tb::log_expected_improvement(2.0, 0.0, 1.5), std::log(0.5));
  EXPECT_EQ(tb::log_expected_improvement(1.0, 0.0, 1.5), -kInf);
  EXPECT_DOUBLE_EQ(tb::upper_confidence_bound(1.0, 0.0, 3.0), 1.0);
  // and the sigma -> 0+ values approach them
  EXPECT_NEAR(tb::expected_improvement(2.0, 1e-10, 1.5), 0.5, 1e-12);
  EXPECT_NEAR(tb::expected_improvement(1.0, 1e-10, 1.5), 0.0, 1e-12);
  EXPECT_NEAR(tb::log_expected_improvement(2.0, 1e-10, 1.5), std::log(0.5), 1e-12);
  EXPECT_NEAR(tb::probability_of_improvement(2.0, 1e-10, 1.5), 1.0, 1e-12);
}

TEST(Acquisition, DerivativesMatchCentralFiniteDifferences) {
  const Acquisition kinds[] = {Acquisition::EI, Acquisition::LogEI, Acquisition::PI, Acquisition::UCB};
  const double pts[][3] = {{0.3, 0.8, 0.1}, {-2.0, 0.4, 1.0}, {1.5, 2.0, 0.2}, {0.0, 0.05, 0.6}, {-40.0, 1.0, 0.0}};
  for (auto a : kinds) {
    for (const auto& p : pts) {
      const double mu = p[0], s = p[1], best = p[2], par = a == Acquisition::UCB ? 1.7 : 0.05;
      if (a != Acquisition::LogEI && mu < -10) continue;  // EI/PI underflow there; logEI is the point
      const auto v = tb::acquisition_value(a, mu, s, best, par);
      const double h = 1e-6;
      const double fmu = (tb::acquisition_value(a, mu + h, s, best, par).value -
                          tb::acquisition_value(a, mu - h, s, best, par).value) /
                         (2 * h);
      const double fs = (tb::acquisition_value(a, mu, s + h, best, par).value -
                         tb::acquisition_value(a, mu, s - h, best, par).value) /
                        (2 * h);
      EXPECT_NEAR(v.d_mu, fmu, 1e-6 * std::max(1.0, std::abs(fmu))) << tb::acquisition_name(a) << " mu=" << mu;
      EXPECT_NEAR(v.d_sigma, fs, 1e-6 * std::max(1.0, std::abs(fs))) << tb::acquisition_name(a) << " mu=" << mu;
    }
  }
}

TEST(Acquisition, NamesRoundTripAndUnknownNamesAreRefused) {
  for (const char* n : {"ei", "logei", "pi", "ucb", "ts", "nei"})
    EXPECT_EQ(tb::acquisition_name(tb::parse_acquisition(n)), n);
  EXPECT_THROW(tb::parse_acquisition("EI2"), tsunagu::InvalidArgument);
  EXPECT_THROW(tb::acquisition_value(Acquisition::TS, 0, 1, 0, 0), tsunagu::InvalidArgument);
  EXPECT_THROW(tb::acquisition_value(Acquisition::EI, 0, -1, 0, 0), tsunagu::InvalidArgument);
  EXPECT_THROW(tb::acquisition_value(Acquisition::EI, std::nan(""), 1, 0, 0), tsunagu::InvalidArgument);
}
