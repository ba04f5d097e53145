#include "tsunagu/core/random.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>

#include "tsunagu/core/error.hpp"

namespace {

using namespace tsunagu::core;

double chi_square(const std::vector<double>& observed, double expected) {
  double chi2 = 0;
  for (double o : observed) chi2 += (o - expected) * (o - expected) / expected;
  return chi2;
}

TEST(Rng, EngineMatchesTheStandardMt19937_64) {
  // The C++ standard fixes the 10000th output of a default-seeded mt19937_64.
  Rng rng = make_rng(5489u);
  rng.discard(9999);
  EXPECT_EQ(rng(), 9981545732273789042ULL);
}

TEST(Rng, SameSeedGivesSameSequences) {
  Rng a = make_rng(2024), b = make_rng(2024);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(uniform_index(a, 1000003), uniform_index(b, 1000003));
    ASSERT_EQ(uniform01(a), uniform01(b));
  }
  EXPECT_EQ(permutation(500, a), permutation(500, b));
}

TEST(Rng, DifferentSeedsGiveDifferentSequences) {
  Rng a = make_rng(1), b = make_rng(2);
  EXPECT_NE(permutation(100, a), permutation(100, b));
}

TEST(UniformIndex, StaysInRangeIncludingExtremeBounds) {
  Rng rng = make_rng(7);
  for (std::uint64_t n :
       {std::uint64_t{1}, std::uint64_t{2}, std::uint64_t{3}, std::uint64_t{10}, std::uint64_t{1} << 32,
        (std::uint64_t{1} << 63) + 1, std::numeric_limits<std::uint64_t>::max()}) {
    for (int i = 0; i < 2000; ++i) ASSERT_LT(uniform_index(rng, n), n) << n;
  }
  for (int i = 0; i < 100; ++i) EXPECT_EQ(uniform_index(rng, 1), 0u);
}

TEST(UniformIndex, ZeroBoundThrowsInvalidArgument) {
  Rng rng = make_rng(1);
  EXPECT_THROW((void)uniform_index(rng, 0), tsunagu::InvalidArgument);
}

TEST(UniformIndex, RoughlyUniformChiSquare) {
  Rng rng = make_rng(12345);
  for (std::uint64_t n : {2u, 7u, 10u, 37u}) {
    const int draws = 200000;
    std::vector<double> counts(n, 0.0);
    for (int i = 0; i < draws; ++i) counts[uniform_index(rng, n)] += 1;
    const double chi2 = chi_square(counts, static_cast<double>(draws) / static_cast<double>(n));
    // df = n - 1; mean df, sd sqrt(2 df). Allow df + 8 sd (+10): never fails for a correct generator.
    const double df = static_cast<double>(n - 1);
    EXPECT_LT(chi2, df + 8 * std::sqrt(2 * df) + 10) << "n = " << n;
  }
}

TEST(UniformIndex, UnbiasedForBoundsWhereRejectionMatters) {
  // n = 3 * 2^62: a plain "x % n" would put half again as much mass on the lower third.
  Rng rng = make_rng(99);
  const std::uint64_t n = 3ULL << 62;
  const int draws = 300000;
  std::array<double, 3> thirds{};
  for (int i = 0; i < draws; ++i) thirds[uniform_index(rng, n) / (1ULL << 62)] += 1;
  EXPECT_LT(chi_square({thirds.begin(), thirds.end()}, draws / 3.0), 40.0);
}

TEST(Uniform01, InUnitIntervalWith53BitResolution) {
  Rng rng = make_rng(3);
  double sum = 0;
  const int draws = 100000;
  for (int i = 0; i < draws; ++i) {
    const double u = uniform01(rng);
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    const double scaled = u * 0x1.0p53;
    ASSERT_EQ(scaled, std::floor(scaled));  // an exact multiple of 2^-53
    sum += u;
  }
  EXPECT_NEAR(sum / draws, 0.5, 0.01);
}

TEST(Uniform01, UsesTheTop53BitsOfOneDraw) {
  Rng a = make_rng(11), b = make_rng(11);
  const std::uint64_t x = b();
  EXPECT_EQ(uniform01(a), static_cast<double>(x >> 11) / 9007199254740992.0);
}

TEST(Permutation, IsAPermutationForVariousSizes) {
  Rng rng = make_rng(5);
  for (std::size_t n : {0u, 1u, 2u, 3u, 17u, 1000u}) {
    auto p = permutation(n, rng);
    ASSERT_EQ(p.size(), n);
    std::sort(p.begin(), p.end());
    for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(p[i], i);
  }
}

TEST(Permutation, AllOrdersOfThreeAreRoughlyEquallyLikely) {
  Rng rng = make_rng(8);
  std::map<std::vector<std::size_t>, double> seen;
  const int draws = 60000;
  for (int i = 0; i < draws; ++i) seen[permutation(3, rng)] += 1;
  ASSERT_EQ(seen.size(), 6u);
  std::vector<double> counts;
  for (const auto& [perm, c] : seen) counts.push_back(c);
  EXPECT_LT(chi_square(counts, draws / 6.0), 40.0);
}

TEST(Permutation, EachElementIsEquallyLikelyInEachPosition) {
  Rng rng = make_rng(21);
  const std::size_t n = 6;
  const int draws = 60000;
  std::vector<double> first(n, 0.0), last(n, 0.0);
  for (int i = 0; i < draws; ++i) {
    const auto p = permutation(n, rng);
    first[p.front()] += 1;
    last[p.back()] += 1;
  }
  EXPECT_LT(chi_square(first, draws / static_cast<double>(n)), 40.0);
  EXPECT_LT(chi_square(last, draws / static_cast<double>(n)), 40.0);
}

}  // namespace
