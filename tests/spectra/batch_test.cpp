#include "tsunagu/spectra/batch.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "../core/temp_dir.hpp"
#include "tsunagu/core/error.hpp"
#include "tsunagu/core/hdf5.hpp"
#include "tsunagu/spectra/cube.hpp"

using namespace tsunagu;
using namespace tsunagu::spectra;

namespace {

constexpr std::size_t kNE = 120;

std::vector<double> axis() {
  std::vector<double> e(kNE);
  for (std::size_t i = 0; i < kNE; ++i) e[i] = 280.0 + 0.1 * static_cast<double>(i);  // 280..291.9 eV binding
  return e;
}

/// Two Gaussians (centres drifting with the pixel) on a flat background, Poisson noise.
std::vector<double> cube_data(std::size_t n_pix, std::uint64_t seed) {
  const auto e = axis();
  std::mt19937_64 rng(seed);
  std::vector<double> out(n_pix * kNE);
  for (std::size_t p = 0; p < n_pix; ++p) {
    const double c1 = 284.0 + 0.01 * static_cast<double>(p), c2 = 287.5;
    for (std::size_t i = 0; i < kNE; ++i) {
      const double g1 = std::exp(-0.5 * std::pow((e[i] - c1) / 0.5, 2)), g2 = std::exp(-0.5 * std::pow((e[i] - c2) / 0.6, 2));
      const double mean = 20 + 2000 * g1 + 800 * g2;
      out[p * kNE + i] = static_cast<double>(std::poisson_distribution<long>(mean)(rng));
    }
  }
  return out;
}

BatchOptions options() {
  BatchOptions o;
  o.fit.method = Method::Em;
  o.fit.n_peaks = 2;
  o.fit.background = BackgroundKind::Constant;
  o.threads = 2;
  o.progress = false;
  return o;
}

std::size_t column(const MapChunk& m, const std::string& name) {
  for (std::size_t k = 0; k < m.names.size(); ++k)
    if (m.names[k] == name) return k;
  ADD_FAILURE() << "no map " << name;
  return 0;
}

/// Rank 0 of a pretend two-rank job: it fits the even chunks only, so assembly must fail (odd chunks missing).
class HalfCommunicator final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 2; }
  void barrier() override {}
  std::vector<double> sum(const std::vector<double>& v) override { return v; }
};

}  // namespace

TEST(FitArrays, RecoversDriftingCentresAndFlagsBadPixelsWithoutStopping) {
  const std::size_t n = 40;
  auto data = cube_data(n, 1);
  data[5 * kNE + 10] = NAN;     // pixel 5: NaN
  data[9 * kNE + 3] = -1;       // pixel 9: negative counts
  for (std::size_t i = 0; i < kNE; ++i) data[13 * kNE + i] = 0;  // pixel 13: all zero
  const auto m = fit_arrays(axis(), data, EnergyScale::Binding, NAN, options());
  const auto st = column(m, "status"), c1 = column(m, "peak1/center"), c2 = column(m, "peak2/center");
  EXPECT_EQ(m.n_bad, 3u);
  for (std::size_t p = 0; p < n; ++p) {
    if (p == 5 || p == 9 || p == 13) {
      EXPECT_EQ(m.values[st][p], 2.0) << p;
      EXPECT_TRUE(std::isnan(m.values[c1][p]));
      continue;
    }
    EXPECT_EQ(m.values[st][p], 0.0) << p;
    EXPECT_NEAR(m.values[c1][p], 284.0 + 0.01 * p, 0.03) << p;
    EXPECT_NEAR(m.values[c2][p], 287.5, 0.06) << p;
  }
  ASSERT_FALSE(m.messages.empty());
  EXPECT_NE(m.messages[0].find("pixel 5"), std::string::npos) << m.messages[0];
}

TEST(FitBatch, FileMapsEqualInMemoryFitAndResumeAfterAnInterruptedRun) {
  test::TempDir dir;
  const std::vector<std::size_t> shape{6, 5};
  const auto data = cube_data(30, 2);
  write_cube(dir.path() / "cube.h5", shape, data, axis(), EnergyScale::Binding);
  auto o = options();
  o.warm_start = false;  // cold starts: identical numbers whatever the chunking
  o.chunk_size = 7;
  const auto ref = fit_arrays(axis(), data, EnergyScale::Binding, NAN, o);

  // First attempt dies at assembly (its partner rank never ran) and leaves its chunks behind.
  HalfCommunicator half;
  EXPECT_THROW(fit_batch(dir.path() / "cube.h5", "spectra", "energy", dir.path() / "maps.h5", o, half), IoError);
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "maps.h5"));
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "maps.h5.parts" / "chunk_00000000.h5"));

  auto serial = serial_communicator();
  const auto s = fit_batch(dir.path() / "cube.h5", "spectra", "energy", dir.path() / "maps.h5", o, *serial);
  EXPECT_EQ(s.chunks, 5u);
  EXPECT_EQ(s.chunks_resumed, 3u);  // chunks 0, 2, 4 came from the first attempt
  EXPECT_EQ(s.n_ok, 30u);
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "maps.h5.parts"));
  for (const std::string name : {"peak1/center", "peak2/area", "chi2", "status"}) {
    const auto a = core::h5_read(dir.path() / "maps.h5", name);
    EXPECT_EQ(a.shape, shape);
    const auto& col = ref.values[column(ref, name)];
    for (std::size_t p = 0; p < 30; ++p) EXPECT_DOUBLE_EQ(a.data[p], col[p]) << name << " " << p;
  }

  // Different options against a leftover parts directory are refused, not mixed.
  std::filesystem::create_directories(dir.path() / "maps2.h5.parts");
  EXPECT_THROW(fit_batch(dir.path() / "cube.h5", "spectra", "energy", dir.path() / "maps2.h5", o, half), IoError);
  auto o2 = o;
  o2.fit.n_peaks = 3;
  EXPECT_THROW(fit_batch(dir.path() / "cube.h5", "spectra", "energy", dir.path() / "maps2.h5", o2, *serial),
               InvalidArgument);
  o2.restart = true;
  EXPECT_NO_THROW(fit_batch(dir.path() / "cube.h5", "spectra", "energy", dir.path() / "maps2.h5", o2, *serial));
}

TEST(FitBatch, MapNamesFollowTheOptions) {
  FitOptions f;
  f.method = Method::Lsq;
  f.n_peaks = 2;
  f.shape = Shape::PseudoVoigt;
  const auto names = map_names(f);
  EXPECT_EQ(names.front(), "peak1/center");
  EXPECT_NE(std::find(names.begin(), names.end(), "peak2/eta"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "peak2/area_err"), names.end());
  EXPECT_EQ(names.back(), "status");
  BatchOptions b;
  b.fit = f;
  b.fit.method = Method::Bayes;
  EXPECT_THROW(b.validate(), InvalidArgument);
}
