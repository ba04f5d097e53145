// Truths: a 3-point Shirley fixed point solved by hand; the 5-point Shirley fixed point and the 4-point Tougaard
// sums (two- and three-parameter cross-sections) from tests/spectra/data/make_lineshape_reference.py (plain numpy
// loop / term-by-term sum of the definition); a spectrum built as peak + its own Shirley step gives back that step;
// end-point anchoring; trapezoid integrals of linear functions are exact; error messages name the field.
#include "tsunagu/spectra/background.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "tsunagu/core/error.hpp"
#include "tsunagu/spectra/lineshape.hpp"

using namespace tsunagu;
using namespace tsunagu::spectra;

namespace {

// make_lineshape_reference.py
const std::vector<double> kShirley5 = {10, 10.407177151592373, 14.720332586329603, 19.313155434737229, 20};
const std::vector<double> kTougaard4 = {3, 3, 3.154995925402623, 3.4435867715768889};
const std::vector<double> kTougaard4U3 = {3, 3, 4.4209507941200181, 7.5382089329657189};

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const InvalidArgument& e) {
    return e.what();
  }
  return "no InvalidArgument";
}

#define EXPECT_MESSAGE_HAS(call, text) \
  EXPECT_NE(error_of([&] { call; }).find(text), std::string::npos) << error_of([&] { call; })

}  // namespace

TEST(BackgroundNames, RoundTripAliasesAndUnknown) {
  for (auto k : {BackgroundKind::None, BackgroundKind::Constant, BackgroundKind::Linear, BackgroundKind::Polynomial,
                 BackgroundKind::Shirley, BackgroundKind::ActiveShirley, BackgroundKind::Tougaard})
    EXPECT_EQ(background_from_string(to_string(k)), k);
  EXPECT_EQ(to_string(BackgroundKind::ActiveShirley), "active-shirley");
  EXPECT_EQ(background_from_string("Active_Shirley"), BackgroundKind::ActiveShirley);
  const std::string m = error_of([] { background_from_string("spline"); });
  EXPECT_NE(m.find("'spline'"), std::string::npos);
  EXPECT_NE(m.find("none, constant, linear, polynomial, shirley, active-shirley, tougaard"), std::string::npos) << m;
}

TEST(Shirley, ThreePointFixedPointByHand) {
  // lo = 0, hi = 4, B = {0, b, 4}: Q1 = (10 − b)/2, Q2 = 10 − b  =>  b = 4·Q1/Q2 = 2 whatever b started from.
  ShirleyOptions o;
  o.end_points = 1;
  const auto b = shirley_background(std::vector<double>{0, 1, 2}, std::vector<double>{0, 10, 4}, o);
  ASSERT_EQ(b.size(), 3u);
  EXPECT_DOUBLE_EQ(b[0], 0.0);
  EXPECT_NEAR(b[1], 2.0, 1e-12);
  EXPECT_DOUBLE_EQ(b[2], 4.0);
}

TEST(Shirley, FivePointMatchesNumpyFixedPoint) {
  ShirleyOptions o;
  o.end_points = 1;
  o.tol = 1e-14;
  o.max_iter = 1000;
  const auto b = shirley_background(std::vector<double>{0, 1, 2, 3, 4}, std::vector<double>{10, 12, 30, 22, 20}, o);
  for (std::size_t i = 0; i < 5; ++i) EXPECT_NEAR(b[i], kShirley5[i], 1e-11) << i;
}

TEST(Shirley, PeakPlusItsOwnShirleyStepGivesBackTheStep) {
  std::vector<double> x, peak, y;
  for (int i = 0; i <= 800; ++i) x.push_back(280 + 0.05 * i);
  peak.assign(x.size(), 0.0);
  add_peak(Shape::PseudoVoigt, std::vector<double>{295.0, 1.2, 400.0, 0.0}, x, peak);  // Gaussian: no tails at ends
  const auto cum = cumulative_integral(x, peak);
  const double lo = 50, hi = 80;
  std::vector<double> step(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    step[i] = lo + (hi - lo) * cum[i] / cum.back();
    y.push_back(peak[i] + step[i]);
  }
  ShirleyOptions o;
  o.tol = 1e-12;
  const auto b = shirley_background(x, y, o);
  for (std::size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(b[i], step[i], 1e-7) << x[i];
}

TEST(Shirley, AnchorsAreTheMeanEndCounts) {
  const std::vector<double> x = {1, 2, 3, 4, 5, 6, 7, 8}, y = {5, 7, 6, 40, 90, 30, 21, 23};
  ShirleyOptions o;
  o.end_points = 3;
  const auto b = shirley_background(x, y, o);
  EXPECT_DOUBLE_EQ(b.front(), 6.0);
  EXPECT_NEAR(b.back(), (30.0 + 21 + 23) / 3, 1e-12);
}

TEST(Shirley, NoSignalAboveTheLineGivesTheStraightLine) {
  const std::vector<double> x = {0, 1, 2, 3}, y = {10, 4, 4, 7};  // data below the chord: no positive area
  ShirleyOptions o;
  o.end_points = 1;
  const auto b = shirley_background(x, y, o);
  for (std::size_t i = 0; i < 4; ++i) EXPECT_NEAR(b[i], 10 - i, 1e-12);
}

TEST(Shirley, BadInputNamesTheProblem) {
  const std::vector<double> x = {0, 1, 2, 3, 4, 5}, y = {1, 2, 3, 3, 2, 1};
  ShirleyOptions o;
  o.end_points = 2;
  EXPECT_MESSAGE_HAS(shirley_background(std::vector<double>{0, 1, 1, 3, 4, 5}, y, o), "strictly ascending");
  EXPECT_MESSAGE_HAS(shirley_background(std::vector<double>{0, 2, 1, 3, 4, 5}, y, o), "x[2] = 1");
  EXPECT_MESSAGE_HAS(shirley_background(x, std::vector<double>{1, 2, 3}, o), "x has 6 points but y has 3");
  EXPECT_MESSAGE_HAS(shirley_background(x, std::vector<double>{1, 2, -3, 3, 2, 1}, o), "y[2] = -3");
  EXPECT_MESSAGE_HAS(shirley_background(x, std::vector<double>{1, 2, NAN, 3, 2, 1}, o), "y[2]");
  o.end_points = 4;
  EXPECT_MESSAGE_HAS(shirley_background(x, y, o), "needs at least 8 points, got 6");
  o = {};
  o.max_iter = 0;
  EXPECT_MESSAGE_HAS(shirley_background(x, y, o), "max_iter");
  o = {};
  o.tol = -1;
  EXPECT_MESSAGE_HAS(shirley_background(x, y, o), "tol");
  o = {};
  o.end_points = 0;
  EXPECT_MESSAGE_HAS(o.validate(), "end_points");
}

TEST(Tougaard, FourPointSumMatchesTheDefinition) {
  const std::vector<double> x = {0, 2, 5, 9}, y = {3, 50, 20, 10};
  TougaardOptions o;
  o.B = 1000;
  o.fit_B = false;
  o.end_points = 1;
  double used = 0;
  auto b = tougaard_background(x, y, o, &used);
  EXPECT_EQ(used, 1000.0);
  for (std::size_t i = 0; i < 4; ++i) EXPECT_NEAR(b[i], kTougaard4[i], 1e-13) << i;
  // By hand: B(x_2) = 3 + 1000·K(5)·(3−3)·2 + 1000·K(3)·(50−3)·3 with K(T) = T/(1643 + T²)².
  EXPECT_NEAR(b[2], 3 + 1000 * 3 * 47 * 3 / std::pow(1643.0 + 9, 2), 1e-13);
  o.C = 551;
  o.D = 436;
  b = tougaard_background(x, y, o);
  for (std::size_t i = 0; i < 4; ++i) EXPECT_NEAR(b[i], kTougaard4U3[i], 1e-13) << i;
}

TEST(Tougaard, FittedBMeetsTheHighEnergyEnd) {
  const std::vector<double> x = {0, 2, 5, 9}, y = {3, 50, 20, 10};
  TougaardOptions o;
  o.end_points = 1;
  double fitted = 0;
  const auto b = tougaard_background(x, y, o, &fitted);
  // Background is linear in B: B_fit = (y_hi − y0) / S_hi with S from the B = 1000 golden sum.
  EXPECT_NEAR(fitted, (10.0 - 3.0) * 1000 / (kTougaard4[3] - 3.0), 1e-9 * fitted);
  EXPECT_NEAR(b.back(), 10.0, 1e-12);
  EXPECT_DOUBLE_EQ(b.front(), 3.0);
}

TEST(Tougaard, SyntheticPeakEndsOnTheData) {
  std::vector<double> x, y;
  for (int i = 0; i <= 600; ++i) x.push_back(700 + 0.1 * i);
  y.assign(x.size(), 100.0);
  add_peak(Shape::Gaussian, std::vector<double>{720.0, 2.0, 5000.0}, x, y);
  for (std::size_t i = 0; i < x.size(); ++i) y[i] += x[i] > 725 ? 40.0 * (1 - std::exp(-(x[i] - 725) / 5)) : 0.0;
  double fitted = 0;
  const auto b = tougaard_background(x, y, {}, &fitted);
  double mean_b = 0, mean_y = 0;
  for (std::size_t i = x.size() - 5; i < x.size(); ++i) mean_b += b[i] / 5, mean_y += y[i] / 5;
  EXPECT_NEAR(mean_b, mean_y, 1e-9 * mean_y);
  EXPECT_GT(fitted, 0.0);
  EXPECT_NEAR(b.front(), 100.0, 1e-12);
  // Losses only add intensity above y0 (K > 0), though not monotonically: K(T) peaks near T = √(C/3) ≈ 23 eV.
  for (double v : b) EXPECT_GE(v, 100.0 - 1e-9);
}

TEST(Tougaard, FlatSpectrumHasNoStep) {
  const std::vector<double> x = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, y(10, 42.0);
  double fitted = -1;
  const auto b = tougaard_background(x, y, {}, &fitted);
  EXPECT_EQ(fitted, 0.0);
  for (double v : b) EXPECT_EQ(v, 42.0);
}

TEST(Tougaard, BadOptionsNameTheField) {
  const std::vector<double> x = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, y(10, 1.0);
  TougaardOptions o;
  o.B = 0;
  EXPECT_MESSAGE_HAS(tougaard_background(x, y, o), "tougaard: B");
  o = {};
  o.C = -1;
  EXPECT_MESSAGE_HAS(tougaard_background(x, y, o), "tougaard: C");
  o = {};
  o.D = NAN;
  EXPECT_MESSAGE_HAS(tougaard_background(x, y, o), "tougaard: D");
  o = {};
  o.end_points = 0;
  EXPECT_MESSAGE_HAS(tougaard_background(x, y, o), "end_points");
  EXPECT_MESSAGE_HAS(tougaard_background(std::vector<double>{0, 1, 2}, std::vector<double>{1, 1, 1}), "at least 10");
  EXPECT_MESSAGE_HAS(tougaard_background(std::vector<double>{9, 8, 7, 6, 5, 4, 3, 2, 1, 0}, y), "ascending");
}

TEST(CumulativeIntegral, TrapezoidIsExactForLinearFunctions) {
  const auto c = cumulative_integral(std::vector<double>{0, 0.5, 2}, std::vector<double>{0, 0.5, 2});
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c[0], 0.0);
  EXPECT_DOUBLE_EQ(c[1], 0.125);
  EXPECT_DOUBLE_EQ(c[2], 2.0);
  EXPECT_TRUE(cumulative_integral(std::vector<double>{}, std::vector<double>{}).empty());
  EXPECT_MESSAGE_HAS(cumulative_integral(std::vector<double>{0, 1}, std::vector<double>{1}),
                     "x has 2 points but f has 1");
}

TEST(PolynomialBasis, ColumnsArePowersOfCentredX) {
  const std::vector<double> x = {1, 2, 3, 6};  // mean 3
  const auto a = polynomial_basis(x, 2);
  ASSERT_EQ(a.size(), 12u);
  const std::vector<double> expect = {1, 1, 1, 1, -2, -1, 0, 3, 4, 1, 0, 9};
  for (std::size_t k = 0; k < 12; ++k) EXPECT_DOUBLE_EQ(a[k], expect[k]) << k;
  EXPECT_EQ(polynomial_basis(x, 0), std::vector<double>(4, 1.0));
  EXPECT_MESSAGE_HAS(polynomial_basis(x, -1), "degree");
  EXPECT_MESSAGE_HAS(polynomial_basis(std::vector<double>{}, 1), "empty");
}
