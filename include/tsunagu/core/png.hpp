#pragma once
/// 8-bit RGB/RGBA PNG output (libpng) and the viridis colour map for 2-D value maps (peak centre, FWHM, area, χ²
/// over a sample). A map is coloured one pixel per value; render_map() adds pixel scaling and a colour bar with
/// numeric tick labels so that a PNG is readable on its own (title and label travel as PNG text chunks; the SVG
/// maps of spectra/plots.hpp draw them as text).
#include <array>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <Eigen/Core>

namespace tsunagu::core::png {

/// 8 bits per channel, rows top to bottom, channels interleaved (RGB or RGBA).
struct Image {
  int width = 0, height = 0;          ///< px, each 1..kMaxSide
  int channels = 3;                   ///< 3 = RGB, 4 = RGBA (alpha 0 = transparent)
  std::vector<std::uint8_t> pixels;   ///< (height * width * channels), row-major
  static constexpr int kMaxSide = 65535;

  Image() = default;
  /// Filled with `fill` (its first `channels` entries are used).
  Image(int width, int height, int channels, std::array<std::uint8_t, 4> fill = {255, 255, 255, 255});
  /// Pointer to the first channel of pixel (x, y); x = column from the left, y = row from the top.
  std::uint8_t* at(int x, int y) { return pixels.data() + (static_cast<std::size_t>(y) * width + x) * channels; }
  const std::uint8_t* at(int x, int y) const {
    return pixels.data() + (static_cast<std::size_t>(y) * width + x) * channels;
  }
  /// Throws InvalidArgument naming the field: size out of range, channels not 3/4, pixel count mismatch.
  void validate() const;
};

/// PNG tEXt chunk (keyword such as "Title", "Description", "Software"; Latin-1 text per the PNG spec).
struct TextChunk {
  std::string key, text;
};

/// Encode to PNG bytes in memory (deflate level 6). Throws InvalidArgument for an invalid image or an invalid
/// keyword (1..79 printable characters), NumericalError if libpng fails.
std::string encode(const Image& image, const std::vector<TextChunk>& text = {});

/// Encode and write atomically (core::write_file_atomic): a failed write never leaves a partial file. IoError names
/// the path when it cannot be written.
void write_png(const std::filesystem::path& path, const Image& image, const std::vector<TextChunk>& text = {});

/// Decode PNG bytes (any bit depth / colour type) to 8-bit RGBA (channels = 4). `what` names the source in the
/// ParseError thrown for data that is not a valid PNG.
Image decode(const std::string& bytes, const std::string& what = "PNG data");
/// Read a PNG file as 8-bit RGBA. IoError when unreadable, ParseError when not a PNG.
Image read_png(const std::filesystem::path& path);

// ---------------------------------------------------------------------------------------------------------
// Colour map

using Rgb8 = std::array<std::uint8_t, 3>;
using Rgba8 = std::array<std::uint8_t, 4>;

/// matplotlib's viridis as 256 sRGB triples in [0, 1] (see png.cpp for the provenance).
const std::array<std::array<double, 3>, 256>& viridis_table();

/// Colour of u in [0, 1] (clamped; NaN gives index 0): entry floor(256 u) (255 at u = 1) of viridis_table(), each
/// channel converted as floor(255 c). This is exactly what matplotlib's Colormap(u, bytes=True) and
/// plt.imsave(cmap="viridis") produce, so maps compare pixel for pixel with matplotlib.
Rgb8 viridis(double u);

/// Percentiles `lo_pct`, `hi_pct` (in [0, 100]) of the finite values, with numpy.percentile's default "linear"
/// interpolation. Returns {NaN, NaN} when there is no finite value.
std::pair<double, double> percentile_range(std::span<const double> values, double lo_pct = 1, double hi_pct = 99);

/// How values become colours.
struct ColorScale {
  /// Colour range (value units). NaN = automatic: the 1st / 99th percentile of the finite values, so that a few
  /// outlier pixels (failed fits) do not wash out the map. Values outside are clamped to the end colours.
  double vmin = std::numeric_limits<double>::quiet_NaN();
  double vmax = std::numeric_limits<double>::quiet_NaN();
  Rgba8 nan_color{0, 0, 0, 0};  ///< colour of non-finite values (missing pixels); default transparent
};

/// The range actually used for `values` (automatic ends filled in). Throws InvalidArgument when no value is finite
/// (nothing to scale), or vmin > vmax, or a given end is infinite. When vmin == vmax every value maps to u = 0
/// (matplotlib's Normalize does the same).
std::pair<double, double> resolve_range(std::span<const double> values, const ColorScale& scale);

/// Colour a (rows x cols) row-major map one pixel per value into an RGBA image (row 0 at the top).
/// Throws InvalidArgument: rows or cols == 0 or > Image::kMaxSide, values.size() != rows*cols, no finite value.
Image colorize(std::span<const double> values, int rows, int cols, const ColorScale& scale = {});
/// Same for an Eigen matrix (rows x cols); row 0 is drawn at the top.
Image colorize(const Eigen::MatrixXd& values, const ColorScale& scale = {});

/// A map as a stand-alone picture: every value a `scale` x `scale` px block, a 1 px frame, and to the right a
/// vertical viridis colour bar (vmin at the bottom, vmax at the top) with tick marks and numeric labels drawn in a
/// 5x7 pixel font. White opaque background; missing values in `nan_color` (light grey by default).
struct MapImageOptions {
  ColorScale color{std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::quiet_NaN(),
                   {200, 200, 200, 255}};
  int scale = 0;          ///< px per value, 1..64; 0 = automatic (the longer side becomes about 512 px)
  bool colorbar = true;   ///< draw the colour bar and its labels
};
/// Throws InvalidArgument as colorize(), or for a scale out of range / an image larger than Image::kMaxSide.
Image render_map(const Eigen::MatrixXd& values, const MapImageOptions& options = {});

}  // namespace tsunagu::core::png
