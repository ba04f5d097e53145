#include "tsunagu/spectra/cube.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <numeric>

#include "../core/temp_dir.hpp"
#include "tsunagu/core/error.hpp"
#include "tsunagu/core/hdf5.hpp"

using namespace tsunagu;
using namespace tsunagu::spectra;

TEST(FlatBlocks, CoverRangeExactlyWithFewBlocks) {
  const std::vector<std::size_t> shape{3, 4, 5};
  for (std::size_t b = 0; b <= 60; b += 7)
    for (std::size_t e = b; e <= 60; e += 5) {
      const auto blocks = flat_blocks(shape, b, e);
      std::size_t next = b;
      for (const auto& blk : blocks) {
        EXPECT_EQ(blk.flat_begin, next);
        std::size_t sz = 1;
        for (auto c : blk.count) sz *= c;
        EXPECT_EQ(sz, blk.size);
        // the block's first pixel is at flat_begin
        EXPECT_EQ(blk.start[0] * 20 + blk.start[1] * 5 + blk.start[2], blk.flat_begin);
        next += blk.size;
      }
      EXPECT_EQ(next, e);
      EXPECT_LE(blocks.size(), 2 * shape.size());
    }
  EXPECT_THROW(flat_blocks(shape, 0, 61), InvalidArgument);
}

TEST(CubeReader, ReadsAnyPixelRangeOfA3DCube) {
  tsunagu::test::TempDir dir;
  const std::vector<std::size_t> pix{4, 3};
  const std::size_t ne = 5;
  std::vector<double> data(4 * 3 * ne);
  std::iota(data.begin(), data.end(), 0.0);
  std::vector<double> energy{280, 281, 282, 283, 284};
  write_cube(dir.path() / "c.h5", pix, data, energy, EnergyScale::Kinetic, 1486.6);
  CubeReader r(dir.path() / "c.h5", "spectra", "energy");
  EXPECT_EQ(r.pixel_shape(), pix);
  EXPECT_EQ(r.n_pixels(), 12u);
  EXPECT_EQ(r.energy(), energy);
  EXPECT_EQ(r.scale(), EnergyScale::Kinetic);
  EXPECT_DOUBLE_EQ(r.photon_energy(), 1486.6);
  std::vector<double> out;
  r.read(2, 9, out);
  ASSERT_EQ(out.size(), 7 * ne);
  for (std::size_t i = 0; i < out.size(); ++i) EXPECT_EQ(out[i], data[2 * ne + i]);
}

TEST(CubeReader, BadDatasetsGiveClearErrors) {
  tsunagu::test::TempDir dir;
  std::vector<double> data(2 * 3, 1.0);
  write_cube(dir.path() / "c.h5", {2}, data, {1, 2, 3}, EnergyScale::Binding);
  EXPECT_THROW(CubeReader(dir.path() / "c.h5", "nope", "energy"), InvalidArgument);
  EXPECT_THROW(CubeReader(dir.path() / "missing.h5", "spectra", "energy"), IoError);
  // energy along the first axis instead of the last
  core::NdArray s{{3, 2}, std::vector<double>(6, 1.0)}, e{{3}, {1, 2, 3}};
  core::h5_write(dir.path() / "t.h5", {{"spectra", s}, {"energy", e}});
  try {
    CubeReader(dir.path() / "t.h5", "spectra", "energy");
    FAIL();
  } catch (const InvalidArgument& ex) {
    EXPECT_NE(std::string(ex.what()).find("LAST axis"), std::string::npos) << ex.what();
  }
}

TEST(DescribeCube, FindsTheSpectraEnergyPairAndTheEnergyRange) {
  tsunagu::test::TempDir dir;
  std::vector<double> data(2 * 3 * 4, 1.0);
  write_cube(dir.path() / "c.h5", {2, 3}, data, {280, 281, 282, 283}, EnergyScale::Binding);
  EXPECT_TRUE(is_hdf5(dir.path() / "c.h5"));
  const auto d = describe_cube(dir.path() / "c.h5");
  ASSERT_EQ(d.datasets.size(), 2u);
  ASSERT_EQ(d.candidates.size(), 1u);
  EXPECT_EQ(d.candidates[0].spectra, "spectra");
  EXPECT_EQ(d.candidates[0].energy, "energy");
  EXPECT_EQ(d.candidates[0].shape, (std::vector<std::size_t>{2, 3, 4}));
  EXPECT_EQ(d.candidates[0].energy_min, 280);
  EXPECT_EQ(d.candidates[0].energy_max, 283);
  std::ofstream(dir.path() / "t.csv") << "1,2\n";
  EXPECT_FALSE(is_hdf5(dir.path() / "t.csv"));
}
