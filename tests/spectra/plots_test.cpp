#include "tsunagu/spectra/plots.hpp"
#include "../core/xml_check.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "tsunagu/core/error.hpp"
#include "tsunagu/core/io.hpp"
#include "tsunagu/core/png.hpp"

namespace {

using tsunagu::test::xml_problem;
namespace fs = std::filesystem;
namespace sp = tsunagu::spectra;
namespace png = tsunagu::core::png;
using tsunagu::InvalidArgument;

const double kNaN = std::numeric_limits<double>::quiet_NaN();

std::size_t count(const std::string& s, const std::string& part) {
  std::size_t n = 0;
  for (auto pos = s.find(part); pos != std::string::npos; pos = s.find(part, pos + part.size())) ++n;
  return n;
}

bool has_text(const std::string& svg, const std::string& t) { return svg.find(">" + t + "</text>") != std::string::npos; }

/// Points of the first polyline of the series titled `title`.
std::vector<std::pair<double, double>> series_points(const std::string& svg, const std::string& title) {
  std::vector<std::pair<double, double>> out;
  const auto at = svg.find("<title>" + title + "</title>");
  if (at == std::string::npos) return out;
  const auto start = svg.find("points=\"", at) + 8, end = svg.find('"', start);
  std::string pts = svg.substr(start, end - start);
  std::size_t pos = 0;
  while (pos < pts.size()) {
    const auto comma = pts.find(',', pos), space = pts.find(' ', comma);
    out.emplace_back(std::stod(pts.substr(pos, comma - pos)), std::stod(pts.substr(comma + 1, space - comma - 1)));
    if (space == std::string::npos) break;
    pos = space + 1;
  }
  return out;
}

/// Points of the residual curve: the last polyline of the document (bottom panel, drawn after the zero line).
std::vector<std::pair<double, double>> residual_points(const std::string& svg) {
  const auto at = svg.rfind("<polyline points=\"");
  if (at == std::string::npos) return {};
  return series_points("<title>residual</title>" + svg.substr(at), "residual");
}

/// cx of the circles of the series titled `title` (its markers).
std::vector<double> marker_xs(const std::string& svg, const std::string& title) {
  std::vector<double> out;
  const auto at = svg.find("<title>" + title + "</title>");
  if (at == std::string::npos) return out;
  const auto end = svg.find("</g>\n    </g>", at);
  for (auto pos = svg.find("<circle cx=\"", at); pos < end; pos = svg.find("<circle cx=\"", pos + 1))
    out.push_back(std::stod(svg.substr(pos + 12)));
  return out;
}

/// Two Gaussian C 1s components on a sloping background, 280-292 eV in 0.1 eV steps; counts = model + a fixed
/// ripple. The model is built with component_values so that it is consistent with what the plot draws.
sp::FitResult sample_fit(double axis_sign = 1) {
  sp::FitResult r;
  r.method = sp::Method::Lsq;
  for (int i = 0; i <= 120; ++i) r.energy.push_back(280.0 + 0.1 * i);
  sp::Peak a, b;
  a.center = 284.6;
  a.fwhm = 1.0;
  a.area = 1000;
  b.center = 286.2;
  b.fwhm = 1.2;
  b.area = 300;
  r.peaks = {a, b};
  r.axis_sign = axis_sign;
  r.background.kind = sp::BackgroundKind::Shirley;
  for (double e : r.energy) r.background.values.push_back(100 + 5 * (e - 280));
  const auto comps = sp::component_values(r);
  r.model = r.background.values;
  for (const auto& c : comps)
    for (std::size_t i = 0; i < c.size(); ++i) r.model[i] += c[i];
  for (std::size_t i = 0; i < r.model.size(); ++i) r.counts.push_back(r.model[i] + 8 * std::sin(1.7 * i));
  r.reduced_chi2 = 1.05;
  return r;
}

const std::string kPeak1 = "peak 1 (284.60 eV, gauss)";

// ------------------------------------------------------------------------------------------------ fit plot

TEST(FitPlot, WellFormedSvgWithDataFitComponentsBackgroundAndResiduals) {
  const std::string svg = sp::fit_plot_svg(sample_fit(), "C 1s <test> & co");
  EXPECT_EQ(xml_problem(svg), "");
  const std::vector<std::string> want = {"C 1s &lt;test&gt; &amp; co", "data", "fit (χ²/dof = 1.05)", kPeak1,
                                         "peak 2 (286.20 eV, gauss)", "background (shirley)", "binding energy (eV)",
                                         "intensity (counts)", "data − fit"};
  for (const auto& t : want)
    EXPECT_TRUE(has_text(svg, t)) << t;
  EXPECT_EQ(count(svg, "<svg x=\"0\" y=\""), 2u);  // fit panel + residual panel
  EXPECT_EQ(marker_xs(svg, "data").size(), 121u);  // one marker per channel
  EXPECT_EQ(series_points(svg, "fit (χ²/dof = 1.05)").size(), 121u);
  EXPECT_EQ(residual_points(svg).size(), 121u);
}

TEST(FitPlot, ComponentsAreDrawnOnTopOfTheBackground) {
  const std::string svg = sp::fit_plot_svg(sample_fit(), "");
  const auto peak = series_points(svg, kPeak1), bg = series_points(svg, "background (shirley)");
  ASSERT_EQ(peak.size(), 121u);
  ASSERT_EQ(bg.size(), 121u);
  // 4.6 eV (4.6 FWHM) from the peak the component is ~0: its curve lies on the background
  EXPECT_NEAR(peak[0].second, bg[0].second, 0.01);
  EXPECT_EQ(peak[0].first, bg[0].first);
  // at the peak centre (channel 46 = 284.6 eV) it stands well above it (smaller y in SVG)
  EXPECT_LT(peak[46].second, bg[46].second - 50);
}

TEST(FitPlot, BindingEnergyAxisRunsFromHighToLowKineticFromLowToHigh) {
  // energies ascend in both results; binding energy is drawn reversed (XPS convention)
  const std::string be = sp::fit_plot_svg(sample_fit(+1), "");
  const auto xb = marker_xs(be, "data");
  ASSERT_EQ(xb.size(), 121u);
  EXPECT_GT(xb.front(), xb.back());
  const std::string ke = sp::fit_plot_svg(sample_fit(-1), "");
  const auto xk = marker_xs(ke, "data");
  ASSERT_EQ(xk.size(), 121u);
  EXPECT_LT(xk.front(), xk.back());
  EXPECT_TRUE(has_text(ke, "kinetic energy (eV)"));
  // the residual panel shares the orientation: its first point is on the same side as the data's
  const auto rb = residual_points(be);
  ASSERT_FALSE(rb.empty());
  EXPECT_NEAR(rb.front().first, xb.front(), 0.01);
}

TEST(FitPlot, NoBackgroundAndNoPeaksStillRender) {
  sp::FitResult r = sample_fit();
  r.background = {};
  r.peaks.clear();
  r.reduced_chi2 = kNaN;
  const std::string svg = sp::fit_plot_svg(r, "");
  EXPECT_EQ(xml_problem(svg), "");
  EXPECT_FALSE(has_text(svg, "background (shirley)"));
  EXPECT_TRUE(has_text(svg, "fit"));
  EXPECT_EQ(residual_points(svg).size(), 121u);
}

TEST(FitPlot, EmptyOrInconsistentResultsThrowInvalidArgument) {
  EXPECT_THROW(sp::fit_plot_svg(sp::FitResult{}, "x"), InvalidArgument);
  sp::FitResult r = sample_fit();
  r.model.pop_back();
  EXPECT_THROW(sp::fit_plot_svg(r, ""), InvalidArgument);
  r = sample_fit();
  r.background.values.resize(5);
  EXPECT_THROW(sp::fit_plot_svg(r, ""), InvalidArgument);
  r = sample_fit();
  r.counts.assign(r.counts.size(), kNaN);
  r.model.assign(r.model.size(), kNaN);
  r.background = {};
  r.peaks.clear();
  EXPECT_THROW(sp::fit_plot_svg(r, ""), InvalidArgument);  // nothing finite to draw
}

// ------------------------------------------------------------------------------------------------ selection

TEST(SelectionPlot, ScoresWithErrorBarsAndTheChosenKMarked) {
  const std::string svg =
      sp::free_energy_plot_svg({1, 2, 3, 4}, {812.4, 640.1, 641.3, 644.0}, {0.8, 0.6, 0.9, 1.2}, 2, "F(K)");
  EXPECT_EQ(xml_problem(svg), "");
  EXPECT_TRUE(has_text(svg, "chosen K = 2"));
  EXPECT_TRUE(has_text(svg, "Bayes free energy F(K) (nats)"));
  EXPECT_TRUE(has_text(svg, "number of peaks K"));
  for (const char* t : {"1", "2", "3", "4"}) EXPECT_TRUE(has_text(svg, t)) << t;
  EXPECT_FALSE(has_text(svg, "1.5"));  // integer K ticks only
  EXPECT_EQ(count(svg, "<path d=\"M"), 4u);  // one error bar per K
  EXPECT_EQ(count(svg, "<circle"), 4u);
}

TEST(SelectionPlot, BicVariantWithoutErrorBars) {
  sp::Selection s;
  s.criterion = sp::Criterion::Bic;
  s.k = {1, 2, 3};
  s.score = {1500.0, 1320.5, 1331.0};
  s.score_se = {0, 0, 0};
  s.chosen = 2;
  const std::string svg = sp::selection_plot_svg(s, "Fe 2p");
  EXPECT_EQ(xml_problem(svg), "");
  EXPECT_TRUE(has_text(svg, "BIC"));
  EXPECT_TRUE(has_text(svg, "Fe 2p — peak-count selection (bic)"));
  EXPECT_EQ(count(svg, "<path d=\"M"), 0u);
  s.criterion = sp::Criterion::Aic;
  EXPECT_TRUE(has_text(sp::selection_plot_svg(s), "AIC"));
}

TEST(SelectionPlot, BadInputThrowsInvalidArgument) {
  EXPECT_THROW(sp::free_energy_plot_svg({}, {}, {}, 1), InvalidArgument);
  EXPECT_THROW(sp::free_energy_plot_svg({1, 2}, {1.0}, {}, 1), InvalidArgument);
  EXPECT_THROW(sp::free_energy_plot_svg({1, 2}, {1.0, 2.0}, {0.1}, 1), InvalidArgument);
  EXPECT_THROW(sp::free_energy_plot_svg({1, 2}, {1.0, 2.0}, {}, 3), InvalidArgument);
  EXPECT_THROW(sp::free_energy_plot_svg({1, 1}, {1.0, 2.0}, {}, 1), InvalidArgument);
  EXPECT_THROW(sp::free_energy_plot_svg({0, 1}, {1.0, 2.0}, {}, 1), InvalidArgument);
  EXPECT_THROW(sp::free_energy_plot_svg({1, 2}, {kNaN, kNaN}, {}, 1), InvalidArgument);
  EXPECT_THROW(sp::free_energy_plot_svg({1, 2}, {1.0, 2.0}, {-1.0, 0.1}, 1), InvalidArgument);
}

// ------------------------------------------------------------------------------------------------ maps

std::string base64_decode(const std::string& in) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  unsigned buf = 0;
  int bits = 0;
  for (char c : in) {
    const int v = val(c);
    if (v < 0) break;  // '=' padding
    buf = (buf << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buf >> bits) & 0xFF);
    }
  }
  return out;
}

/// The PNG embedded in a map SVG.
png::Image embedded_png(const std::string& svg) {
  const std::string key = "data:image/png;base64,";
  const auto start = svg.find(key);
  EXPECT_NE(start, std::string::npos);
  const auto end = svg.find('"', start);
  return png::decode(base64_decode(svg.substr(start + key.size(), end - start - key.size())), "embedded map");
}

png::Rgba8 rgba(const png::Image& img, int x, int y) {
  const auto* p = img.at(x, y);
  return {p[0], p[1], p[2], p[3]};
}

png::Rgba8 opaque(png::Rgb8 c) { return {c[0], c[1], c[2], 255}; }

TEST(MapSvg, EmbedsOnePixelPerValueInViridisWithNanBlankAndAColourBar) {
  Eigen::MatrixXd m(3, 4);
  m << 284.0, 284.5, 285.0, 285.5,  //
      284.2, kNaN, 284.9, 286.0,    //
      283.0, 284.1, 284.3, 284.4;
  const std::string svg = sp::map_svg(m, "C 1s centre", "centre (eV)", 284.0, 285.0);
  EXPECT_EQ(xml_problem(svg), "");
  EXPECT_TRUE(has_text(svg, "C 1s centre"));
  EXPECT_TRUE(has_text(svg, "centre (eV)"));
  EXPECT_TRUE(has_text(svg, "blank = no value (NaN)"));
  for (const char* t : {"284.0", "284.2", "284.4", "284.6", "284.8", "285.0"}) EXPECT_TRUE(has_text(svg, t)) << t;
  EXPECT_EQ(count(svg, "<image "), 1u);
  EXPECT_EQ(count(svg, "<stop "), 33u);  // colour-bar gradient
  const png::Image img = embedded_png(svg);
  ASSERT_EQ(img.width, 4);
  ASSERT_EQ(img.height, 3);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 4; ++j) {
      const double v = m(i, j);
      if (std::isnan(v))
        EXPECT_EQ(rgba(img, j, i)[3], 0) << "NaN is transparent";
      else
        EXPECT_EQ(rgba(img, j, i), opaque(png::viridis((v - 284.0) / 1.0))) << i << "," << j;
    }
}

TEST(MapSvg, AutomaticRangeIsRobustToOutliers) {
  Eigen::MatrixXd m(20, 20);
  for (int i = 0; i < 20; ++i)
    for (int j = 0; j < 20; ++j) m(i, j) = i * 20 + j;
  m(19, 19) = 1e6;  // a failed pixel
  // numpy: np.percentile(np.r_[np.arange(399), 1e6], [1, 99]) = [3.99, 395.01]
  const png::Image img = embedded_png(sp::map_svg(m, "", ""));
  EXPECT_EQ(rgba(img, 0, 10), opaque(png::viridis((200 - 3.99) / (395.01 - 3.99))));
  EXPECT_EQ(rgba(img, 19, 19), opaque(png::viridis(1)));
  EXPECT_EQ(rgba(img, 1, 0), opaque(png::viridis(0)));
}

TEST(MapSvg, BadMapsThrowInvalidArgument) {
  EXPECT_THROW(sp::map_svg(Eigen::MatrixXd(0, 4), "t", "c"), InvalidArgument);
  EXPECT_THROW(sp::map_svg(Eigen::MatrixXd::Constant(2, 2, kNaN), "t", "c"), InvalidArgument);
  EXPECT_THROW(sp::map_svg(Eigen::MatrixXd::Zero(2, 2), "t", "c", 1.0, 0.0), InvalidArgument);
  EXPECT_THROW(sp::map_svg(Eigen::MatrixXd::Zero(2, 2), "t", "c", kNaN), InvalidArgument);
}

TEST(MapPng, WritesAReadablePngWithTitleAndColourBar) {
  const fs::path dir = fs::temp_directory_path() / ("tsunagu-plots-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  Eigen::MatrixXd m(8, 12);
  for (int i = 0; i < 8; ++i)
    for (int j = 0; j < 12; ++j) m(i, j) = std::sin(i * 0.5) + j * 0.1;
  m(2, 3) = kNaN;
  sp::save_map_png(dir / "map.png", m, "C 1s FWHM", "FWHM (eV)");
  const png::Image img = png::read_png(dir / "map.png");
  EXPECT_GT(img.width, 12 * 8);  // scaled cells + colour bar
  EXPECT_GT(img.height, 8 * 8);
  const std::string bytes = tsunagu::core::read_file(dir / "map.png");
  EXPECT_NE(bytes.find(std::string("tEXtTitle\0C 1s FWHM", 19)), std::string::npos);
  EXPECT_NE(bytes.find(std::string("tEXtDescription\0FWHM (eV)", 25)), std::string::npos);
  // the NaN cell is light grey somewhere in the picture
  bool grey = false;
  for (int y = 0; y < img.height && !grey; ++y)
    for (int x = 0; x < img.width && !grey; ++x) grey = rgba(img, x, y) == png::Rgba8{200, 200, 200, 255};
  EXPECT_TRUE(grey);
  EXPECT_THROW(sp::save_map_png(dir / "missing" / "map.png", m, "t", "c"), tsunagu::IoError);
  EXPECT_THROW(sp::save_map_png(dir / "x.png", Eigen::MatrixXd::Constant(2, 2, kNaN), "t", "c"), InvalidArgument);
  EXPECT_FALSE(fs::exists(dir / "x.png"));
  fs::remove_all(dir);
}

}  // namespace
