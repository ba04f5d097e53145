#include "tsunagu/core/png.hpp"

#include <gtest/gtest.h>
#include <png.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "temp_dir.hpp"
#include "tsunagu/core/error.hpp"
#include "tsunagu/core/io.hpp"

namespace {

namespace png = tsunagu::core::png;
using tsunagu::InvalidArgument;
using tsunagu::IoError;
using tsunagu::ParseError;
using tsunagu::test::TempDir;

const double kNaN = std::numeric_limits<double>::quiet_NaN();

/// Independent check: decode a file with libpng's own simplified reader into the requested format.
std::vector<std::uint8_t> libpng_read(const std::filesystem::path& path, png_uint_32 format, int& w, int& h) {
  png_image im;
  std::memset(&im, 0, sizeof im);
  im.version = PNG_IMAGE_VERSION;
  EXPECT_TRUE(png_image_begin_read_from_file(&im, path.c_str())) << im.message;
  im.format = format;
  std::vector<std::uint8_t> buf(PNG_IMAGE_SIZE(im));
  EXPECT_TRUE(png_image_finish_read(&im, nullptr, buf.data(), 0, nullptr)) << im.message;
  w = static_cast<int>(im.width);
  h = static_cast<int>(im.height);
  return buf;
}

png::Rgba8 pixel(const png::Image& img, int x, int y) {
  const std::uint8_t* p = img.at(x, y);
  return {p[0], p[1], p[2], img.channels == 4 ? p[3] : std::uint8_t{255}};
}

png::Rgba8 opaque(png::Rgb8 c) { return {c[0], c[1], c[2], 255}; }

TEST(PngWrite, RgbPixelsReadBackIdenticallyWithLibpng) {
  TempDir dir("png");
  png::Image img(3, 2, 3);
  const std::vector<std::uint8_t> want = {255, 0, 0, 0, 255, 0, 0, 0, 255,  // red green blue
                                          0, 0, 0, 128, 128, 128, 255, 255, 255};
  img.pixels = want;
  png::write_png(dir / "rgb.png", img);

  const std::string bytes = tsunagu::core::read_file(dir / "rgb.png");
  ASSERT_GE(bytes.size(), 8u);
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  int w = 0, h = 0;
  const auto got = libpng_read(dir / "rgb.png", PNG_FORMAT_RGB, w, h);
  EXPECT_EQ(w, 3);
  EXPECT_EQ(h, 2);
  EXPECT_EQ(got, want);
  // no temp file left beside the output
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()), std::filesystem::directory_iterator()), 1);
}

TEST(PngWrite, RgbaKeepsAlphaAndReadPngAgrees) {
  TempDir dir("png");
  png::Image img(2, 2, 4, {10, 20, 30, 255});
  auto* p = img.at(1, 0);
  p[0] = 200;
  p[1] = 100;
  p[2] = 50;
  p[3] = 0;  // transparent
  img.at(0, 1)[3] = 128;
  png::write_png(dir / "rgba.png", img);
  int w = 0, h = 0;
  const auto got = libpng_read(dir / "rgba.png", PNG_FORMAT_RGBA, w, h);
  EXPECT_EQ(got, img.pixels);
  const png::Image back = png::read_png(dir / "rgba.png");
  EXPECT_EQ(back.width, 2);
  EXPECT_EQ(back.height, 2);
  EXPECT_EQ(back.channels, 4);
  EXPECT_EQ(back.pixels, img.pixels);
}

TEST(PngWrite, TextChunksAreStoredAsTextAndUtf8AsItxt) {
  png::Image img(1, 1, 3);
  const std::string bytes = png::encode(img, {{"Title", "C 1s centre"}, {"Description", "\xCF\x87\xC2\xB2 map"}});
  EXPECT_NE(bytes.find(std::string("tEXtTitle\0C 1s centre", 21)), std::string::npos);
  // iTXt layout: keyword \0 compression-flag \0 method \0 lang \0 translated-key \0 text
  EXPECT_NE(bytes.find(std::string("iTXtDescription\0\0\0\0\0\xCF\x87\xC2\xB2 map", 27)), std::string::npos);
}

TEST(PngWrite, InvalidInputThrowsTsunaguErrors) {
  TempDir dir("png");
  png::Image img(2, 2, 3);
  img.pixels.pop_back();
  EXPECT_THROW(png::encode(img), InvalidArgument);
  EXPECT_THROW(png::Image(0, 5, 3), InvalidArgument);
  EXPECT_THROW(png::Image(5, 5, 2), InvalidArgument);
  EXPECT_THROW(png::encode(png::Image(1, 1, 3), {{"", "x"}}), InvalidArgument);
  EXPECT_THROW(png::encode(png::Image(1, 1, 3), {{"Title ", "x"}}), InvalidArgument);
  try {
    png::write_png(dir / "no" / "such" / "dir" / "x.png", png::Image(1, 1, 3));
    FAIL() << "expected IoError";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("x.png"), std::string::npos) << e.what();
  }
  EXPECT_THROW(png::decode("definitely not a png"), ParseError);
  const std::string good = png::encode(png::Image(4, 4, 3));
  EXPECT_THROW(png::decode(good.substr(0, good.size() / 2), "half.png"), ParseError);
}

// matplotlib reference: cm.viridis(u, bytes=True) == (lut * 255).astype(uint8) of _viridis_data at index
// floor(256 u); entries 0, 64, 128, 255 give (68,1,84) (58,82,139) (32,144,140) (253,231,36). The published hex
// codes #440154 / #21918c / #fde725 are the rounded versions of the same entries.
TEST(Viridis, MatchesMatplotlibBytes) {
  EXPECT_EQ(png::viridis(0.0), (png::Rgb8{68, 1, 84}));
  EXPECT_EQ(png::viridis(0.25), (png::Rgb8{58, 82, 139}));
  EXPECT_EQ(png::viridis(0.5), (png::Rgb8{32, 144, 140}));
  EXPECT_EQ(png::viridis(1.0), (png::Rgb8{253, 231, 36}));
  // bins: [k/256, (k+1)/256) -> k; out of range clamps; NaN -> first entry like matplotlib's int cast
  EXPECT_EQ(png::viridis(1.0 / 256), png::viridis(1.5 / 256));
  EXPECT_NE(png::viridis(1.0 / 256), png::viridis(0.999 / 256));
  EXPECT_EQ(png::viridis(-3), png::viridis(0));
  EXPECT_EQ(png::viridis(7), png::viridis(1));
  EXPECT_EQ(png::viridis(kNaN), png::viridis(0));
  // viridis is perceptually ordered: the green channel rises monotonically over the table
  const auto& t = png::viridis_table();
  for (std::size_t i = 1; i < t.size(); ++i) EXPECT_GT(t[i][1], t[i - 1][1]) << i;
}

// numpy reference: v = [(i*i) % 17 + 0.25*i for i in range(23)];
// np.percentile(v, [1, 99]) = [0.275, 20.81]; np.percentile(v, [10, 50, 90]) = [3.65, 9.75, 17.4]
TEST(PercentileRange, MatchesNumpyLinearInterpolation) {
  std::vector<double> v;
  for (int i = 0; i < 23; ++i) v.push_back((i * i) % 17 + 0.25 * i);
  v.push_back(kNaN);  // non-finite values are ignored
  v.push_back(std::numeric_limits<double>::infinity());
  auto [lo, hi] = png::percentile_range(v);
  EXPECT_NEAR(lo, 0.275, 1e-12);
  EXPECT_NEAR(hi, 20.81, 1e-12);
  auto [p10, p90] = png::percentile_range(v, 10, 90);
  EXPECT_NEAR(p10, 3.65, 1e-12);
  EXPECT_NEAR(p90, 17.4, 1e-12);
  auto [p50, p50b] = png::percentile_range(v, 50, 50);
  EXPECT_NEAR(p50, 9.75, 1e-12);
  EXPECT_EQ(p50, p50b);
  const std::vector<double> none = {kNaN, kNaN};
  EXPECT_TRUE(std::isnan(png::percentile_range(none).first));
  EXPECT_THROW(png::percentile_range(v, -1, 50), InvalidArgument);
}

TEST(Colorize, ExplicitRangeMapsEndsClampsAndLeavesNanTransparent) {
  Eigen::MatrixXd m(2, 3);
  m << 0.0, 5.0, 10.0,  //
      -4.0, kNaN, 99.0;
  png::ColorScale scale;
  scale.vmin = 0;
  scale.vmax = 10;
  const png::Image img = png::colorize(m, scale);
  ASSERT_EQ(img.width, 3);
  ASSERT_EQ(img.height, 2);
  ASSERT_EQ(img.channels, 4);
  EXPECT_EQ(pixel(img, 0, 0), opaque(png::viridis(0)));
  EXPECT_EQ(pixel(img, 1, 0), opaque(png::viridis(0.5)));
  EXPECT_EQ(pixel(img, 2, 0), opaque(png::viridis(1)));
  EXPECT_EQ(pixel(img, 0, 1), opaque(png::viridis(0)));  // below vmin: clamped
  EXPECT_EQ(pixel(img, 1, 1)[3], 0);                      // NaN: transparent
  EXPECT_EQ(pixel(img, 2, 1), opaque(png::viridis(1)));  // above vmax: clamped

  // the row-major span overload gives the same picture
  const std::vector<double> flat = {0.0, 5.0, 10.0, -4.0, kNaN, 99.0};
  EXPECT_EQ(png::colorize(flat, 2, 3, scale).pixels, img.pixels);
}

TEST(Colorize, AutomaticRangeIgnoresOutliersViaPercentiles) {
  // 0..99 plus one failed-fit pixel at 1e6: the 1st/99th percentiles keep the ordinary values spread over the
  // colour map instead of all mapping to the bottom colour.
  std::vector<double> v;
  for (int i = 0; i < 100; ++i) v.push_back(i);
  v.push_back(1e6);
  const auto [lo, hi] = png::resolve_range(v, {});
  // numpy: np.percentile(np.r_[np.arange(100), 1e6], [1, 99]) = [1.0, 99.0]
  EXPECT_NEAR(lo, 1.0, 1e-12);
  EXPECT_NEAR(hi, 99.0, 1e-12);
  const png::Image img = png::colorize(v, 1, 101);
  EXPECT_EQ(pixel(img, 50, 0), opaque(png::viridis((50.0 - 1) / 98)));
  EXPECT_EQ(pixel(img, 100, 0), opaque(png::viridis(1)));
  // one end given: the other is automatic
  png::ColorScale s;
  s.vmax = 50;
  EXPECT_EQ(png::resolve_range(v, s), (std::pair<double, double>{1.0, 50.0}));
  // a constant map maps everything to the bottom colour (matplotlib's Normalize with vmin == vmax)
  const std::vector<double> flat(6, 3.0);
  EXPECT_EQ(pixel(png::colorize(flat, 2, 3), 1, 1), opaque(png::viridis(0)));
}

TEST(Colorize, BadShapesAndEmptyMapsThrowInvalidArgument) {
  const std::vector<double> v(6, 1.0);
  EXPECT_THROW(png::colorize(v, 2, 2), InvalidArgument);
  EXPECT_THROW(png::colorize(v, 0, 6), InvalidArgument);
  EXPECT_THROW(png::colorize(Eigen::MatrixXd(0, 3)), InvalidArgument);
  const std::vector<double> nan_only(4, kNaN);
  try {
    png::colorize(nan_only, 2, 2);
    FAIL() << "expected InvalidArgument";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("no finite value"), std::string::npos) << e.what();
  }
  png::ColorScale s;
  s.vmin = 2;
  s.vmax = 1;
  EXPECT_THROW(png::colorize(v, 2, 3, s), InvalidArgument);
  s.vmin = -std::numeric_limits<double>::infinity();
  s.vmax = 1;
  EXPECT_THROW(png::colorize(v, 2, 3, s), InvalidArgument);
}

TEST(RenderMap, CellsAreScaledBlocksWithGreyNanAndAViridisColourBar) {
  Eigen::MatrixXd m(3, 4);
  m << 0, 1, 2, 3,  //
      4, kNaN, 6, 7,  //
      8, 9, 10, 11;
  png::MapImageOptions opt;
  opt.scale = 8;
  opt.color.vmin = 0;
  opt.color.vmax = 11;
  const png::Image img = png::render_map(m, opt);
  ASSERT_EQ(img.channels, 4);

  // locate the map: the top-left cell's colour, scanning from the top-left corner
  int x0 = -1, y0 = -1;
  for (int y = 0; y < img.height && x0 < 0; ++y)
    for (int x = 0; x < img.width; ++x)
      if (pixel(img, x, y) == opaque(png::viridis(0))) {
        x0 = x;
        y0 = y;
        break;
      }
  ASSERT_GE(x0, 0);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 4; ++j) {
      const double v = m(i, j);
      const png::Rgba8 want = std::isnan(v) ? png::Rgba8{200, 200, 200, 255} : opaque(png::viridis(v / 11));
      // every pixel of the 8 x 8 block
      for (int dy = 0; dy < 8; ++dy)
        for (int dx = 0; dx < 8; ++dx)
          ASSERT_EQ(pixel(img, x0 + 8 * j + dx, y0 + 8 * i + dy), want) << "cell " << i << "," << j;
    }

  // colour bar right of the map: a column running from viridis(1) at the top to viridis(0) at the bottom
  bool found = false;
  for (int x = x0 + 32; x < img.width && !found; ++x) {
    int top = -1, bottom = -1;
    for (int y = 0; y < img.height; ++y) {
      if (top < 0 && pixel(img, x, y) == opaque(png::viridis(1))) top = y;
      if (pixel(img, x, y) == opaque(png::viridis(0))) bottom = y;
    }
    found = top >= 0 && bottom > top + 100;
  }
  EXPECT_TRUE(found);
  // tick labels: dark ink beyond the bar
  int ink = 0;
  for (int y = 0; y < img.height; ++y)
    for (int x = img.width - 20; x < img.width; ++x) ink += pixel(img, x, y) == png::Rgba8{68, 68, 68, 255};
  EXPECT_GT(ink, 10);

  // encodes and decodes to the same pixels
  EXPECT_EQ(png::decode(png::encode(img)).pixels, img.pixels);
}

TEST(RenderMap, AutomaticScaleAndErrors) {
  Eigen::MatrixXd m = Eigen::MatrixXd::Random(16, 32);
  png::MapImageOptions opt;
  opt.colorbar = false;
  const png::Image img = png::render_map(m, opt);  // 512 / 32 = 16 px per value, 10 px margins
  EXPECT_EQ(img.width, 32 * 16 + 20);
  EXPECT_EQ(img.height, 16 * 16 + 20);
  opt.scale = 65;
  EXPECT_THROW(png::render_map(m, opt), InvalidArgument);
  opt.scale = 64;
  EXPECT_THROW(png::render_map(Eigen::MatrixXd::Zero(2000, 2), opt), InvalidArgument);  // 128000 px tall
  EXPECT_THROW(png::render_map(Eigen::MatrixXd::Constant(3, 3, kNaN)), InvalidArgument);
}

}  // namespace
