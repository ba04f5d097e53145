#include "tsunagu/spectra/spectrum.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "tsunagu/core/error.hpp"

using namespace tsunagu;
using namespace tsunagu::spectra;

namespace {
Spectrum make(std::vector<double> e, std::vector<double> c, EnergyScale s = EnergyScale::Binding) {
  Spectrum sp;
  sp.energy = std::move(e);
  sp.counts = std::move(c);
  sp.scale = s;
  sp.source = "test.csv";
  sp.name = "C 1s";
  return sp;
}
std::string message_of(const Spectrum& s) {
  try {
    s.validate();
  } catch (const InvalidArgument& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(Spectrum, ValidAscendingAndDescendingAxesPass) {
  EXPECT_NO_THROW(make({1, 2, 3}, {0, 1, 2}).validate());
  EXPECT_NO_THROW(make({3, 2, 1}, {0, 1, 2}).validate());
}

TEST(Spectrum, BadInputNamesFileBlockAndPoint) {
  EXPECT_NE(message_of(make({1, 2, 2}, {1, 1, 1})).find("duplicated energy 2 eV"), std::string::npos);
  EXPECT_NE(message_of(make({1, 3, 2}, {1, 1, 1})).find("not monotonic at point 2"), std::string::npos);
  EXPECT_NE(message_of(make({1, 2, 3}, {1, -4, 1})).find("negative counts -4 at point 1"), std::string::npos);
  EXPECT_NE(message_of(make({1, 2, 3}, {1, NAN, 1})).find("not finite"), std::string::npos);
  EXPECT_NE(message_of(make({1, 2}, {1})).find("2 energies but 1 counts"), std::string::npos);
  EXPECT_NE(message_of(make({1}, {1})).find("at least 2 points"), std::string::npos);
  EXPECT_NE(message_of(make({1, 2, 2}, {1, 1, 1})).find("test.csv [C 1s]"), std::string::npos);
}

TEST(Spectrum, KineticToBindingUsesPhotonEnergyAndWorkFunction) {
  auto s = make({1200, 1201}, {1, 2}, EnergyScale::Kinetic);
  s.photon_energy = 1486.6;
  s.work_function = 4.5;
  const auto b = to_scale(s, EnergyScale::Binding);
  EXPECT_DOUBLE_EQ(b.energy[0], 1486.6 - 1200 - 4.5);
  EXPECT_DOUBLE_EQ(b.energy[1], 1486.6 - 1201 - 4.5);
  const auto back = to_scale(b, EnergyScale::Kinetic);
  EXPECT_NEAR(back.energy[0], 1200, 1e-12);
  auto unknown = make({1, 2}, {1, 1}, EnergyScale::Kinetic);
  EXPECT_THROW(to_scale(unknown, EnergyScale::Binding), InvalidArgument);
}

TEST(Spectrum, CropKeepsInclusiveRangeAndRejectsEmptyRegion) {
  const auto s = make({1, 2, 3, 4, 5}, {1, 2, 3, 4, 5});
  const auto c = crop(s, 4, 2);
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c.energy.front(), 2);
  try {
    crop(s, 10, 12);
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("contains no points (data span 1..5 eV"), std::string::npos) << e.what();
  }
}

TEST(Spectrum, ParseRegion) {
  EXPECT_EQ(parse_region("295:280"), std::make_pair(280.0, 295.0));
  EXPECT_THROW(parse_region("280"), InvalidArgument);
  EXPECT_THROW(parse_region("a:b"), InvalidArgument);
  EXPECT_THROW(parse_region("1:1"), InvalidArgument);
}

TEST(Spectrum, FitAxisIsAscendingBindingLike) {
  // Descending binding energy (as in most CSV exports) becomes ascending u = BE.
  auto s = make({290, 289, 288}, {1, 2, 3});
  auto a = make_fit_axis(s, EnergyScale::Binding);
  EXPECT_EQ(a.u, (std::vector<double>{288, 289, 290}));
  EXPECT_EQ(a.counts, (std::vector<double>{3, 2, 1}));
  EXPECT_EQ(a.to_out(289), 289);
  // Kinetic report without photon energy: u = -KE ascends with binding energy.
  auto k = make({100, 101, 102}, {1, 2, 3}, EnergyScale::Kinetic);
  auto ak = make_fit_axis(k, EnergyScale::Kinetic);
  EXPECT_EQ(ak.u, (std::vector<double>{-102, -101, -100}));
  EXPECT_EQ(ak.counts, (std::vector<double>{3, 2, 1}));
  EXPECT_EQ(ak.to_out(-101), 101);
  EXPECT_THROW(make_fit_axis(k, EnergyScale::Binding), InvalidArgument);
}
