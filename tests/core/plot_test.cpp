#include "tsunagu/core/plot.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "tsunagu/core/error.hpp"
#include "tsunagu/core/io.hpp"
#include "xml_check.hpp"

namespace {

using tsunagu::test::xml_problem;
namespace fs = std::filesystem;
using namespace tsunagu::core::plot;
using tsunagu::InvalidArgument;

const double kNaN = std::numeric_limits<double>::quiet_NaN();

std::size_t count(const std::string& s, const std::string& part) {
  std::size_t n = 0;
  for (auto pos = s.find(part); pos != std::string::npos; pos = s.find(part, pos + part.size())) ++n;
  return n;
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

/// Text content of every <text> element.
std::vector<std::string> texts(const std::string& svg) {
  std::vector<std::string> out;
  for (auto pos = svg.find("<text"); pos != std::string::npos; pos = svg.find("<text", pos + 1)) {
    const auto start = svg.find('>', pos) + 1;
    out.push_back(svg.substr(start, svg.find("</text>", start) - start));
  }
  return out;
}

bool has_text(const std::string& svg, const std::string& t) {
  for (const auto& x : texts(svg))
    if (x == t) return true;
  return false;
}

template <class F>
std::string invalid_argument_message(F&& f) {
  try {
    f();
  } catch (const InvalidArgument& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected InvalidArgument";
  return {};
}

LinePlot sample_line_plot() {
  LinePlot p;
  p.title = "Validation error vs penalty";
  p.xlabel = "lambda";
  p.ylabel = "RMSE (eV)";
  Series a;
  a.label = "train";
  Series b;
  b.label = "validation";
  b.markers = true;
  for (int i = 0; i <= 20; ++i) {
    const double x = std::pow(10.0, -3 + i * 0.25);
    a.x.push_back(x);
    a.y.push_back(0.2 + 0.05 * i);
    b.x.push_back(x);
    b.y.push_back(0.5 + 0.02 * (i - 10) * (i - 10) / 10.0);
    b.yerr.push_back(0.05);
  }
  p.series = {a, b};
  p.vlines = {{0.01, "lambda_min"}, {0.1, "lambda_1se"}};
  p.log_x = true;
  return p;
}

// ------------------------------------------------------------------------------------------------ line plot

TEST(LinePlot, ProducesWellFormedStandaloneSvg) {
  const std::string svg = render_svg(sample_line_plot());
  EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u);
  EXPECT_TRUE(contains(svg, "version=\"1.1\""));
  EXPECT_TRUE(contains(svg, "font-family=\"sans-serif\""));
  EXPECT_EQ(xml_problem(svg), "");
}

TEST(LinePlot, ContainsTitleAxisLabelsLegendAndVlineLabels) {
  const std::string svg = render_svg(sample_line_plot());
  for (const char* t :
       {"Validation error vs penalty", "lambda", "RMSE (eV)", "train", "validation", "lambda_min", "lambda_1se"})
    EXPECT_TRUE(has_text(svg, t)) << t;
  EXPECT_EQ(count(svg, "stroke-dasharray"), 2u);
  EXPECT_TRUE(contains(svg, "class=\"legend\""));
}

TEST(LinePlot, LogXTickLabelsAreActualValues) {
  const std::string svg = render_svg(sample_line_plot());
  for (const char* t : {"0.001", "0.01", "0.1", "1", "10", "100"}) EXPECT_TRUE(has_text(svg, t)) << t;
}

TEST(LinePlot, LinearTicksAreNiceNumbers) {
  LinePlot p;
  Series s;
  s.x = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  s.y = {0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0};
  p.series = {s};
  const std::string svg = render_svg(p);
  for (const char* t : {"0", "2", "4", "6", "8", "10", "0.2", "0.4", "0.6", "0.8", "1.0"})
    EXPECT_TRUE(has_text(svg, t)) << t;
  EXPECT_FALSE(has_text(svg, "0.30000000000000004"));
}

TEST(LinePlot, DefaultColourCycleAndExplicitColours) {
  LinePlot p;
  for (int k = 0; k < 3; ++k) {
    Series s;
    s.x = {1, 2, 3};
    s.y = {1.0 * k, 2.0 * k, 3.0 * k};
    p.series.push_back(s);
  }
  p.series[2].color = "#123456";
  const std::string svg = render_svg(p);
  EXPECT_TRUE(contains(svg, "stroke=\"#1f77b4\""));
  EXPECT_TRUE(contains(svg, "stroke=\"#d62728\""));
  EXPECT_TRUE(contains(svg, "stroke=\"#123456\""));
  EXPECT_FALSE(contains(svg, "class=\"legend\""));  // no labels, no legend
  EXPECT_EQ(count(svg, "<polyline"), 3u);
}

TEST(LinePlot, MarkersAndErrorBars) {
  LinePlot p;
  Series s;
  s.x = {1, 2, 3, 4};
  s.y = {1, 4, 9, 16};
  s.yerr = {0.5, 0.5, 0, kNaN};  // zero and NaN errors draw no bar
  s.markers = true;
  p.series = {s};
  const std::string svg = render_svg(p);
  EXPECT_EQ(count(svg, "<circle"), 4u);
  EXPECT_EQ(count(svg, "<path d=\"M"), 2u);
  EXPECT_EQ(xml_problem(svg), "");
}

TEST(LinePlot, NonFinitePointsAreSkippedAndBreakTheLine) {
  LinePlot p;
  Series s;
  s.x = {1, 2, 3, 4, 5, 6};
  s.y = {1, 2, kNaN, 4, 5, 6};
  s.markers = true;
  p.series = {s};
  const std::string svg = render_svg(p);
  EXPECT_EQ(count(svg, "<polyline"), 2u);
  EXPECT_EQ(count(svg, "<circle"), 5u);
  EXPECT_FALSE(contains(svg, "nan"));
}

TEST(LinePlot, TextIsXmlEscaped) {
  LinePlot p;
  p.title = "a < b & \"c\" > 'd'";
  p.xlabel = "x<sub>";
  Series s;
  s.label = "<script>";
  s.x = {1, 2};
  s.y = {1, 2};
  p.series = {s};
  const std::string svg = render_svg(p);
  EXPECT_TRUE(has_text(svg, "a &lt; b &amp; &quot;c&quot; &gt; &apos;d&apos;"));
  EXPECT_TRUE(has_text(svg, "x&lt;sub&gt;"));
  EXPECT_FALSE(contains(svg, "<script>"));
  EXPECT_FALSE(contains(svg, "<sub>"));
  EXPECT_EQ(xml_problem(svg), "");
}

TEST(LinePlot, IdenticalInputGivesIdenticalOutput) {
  EXPECT_EQ(render_svg(sample_line_plot()), render_svg(sample_line_plot()));
}

TEST(LinePlot, SinglePointAndConstantDataStillRender) {
  LinePlot p;
  Series s;
  s.x = {5};
  s.y = {3};
  p.series = {s};
  const std::string svg = render_svg(p);
  EXPECT_EQ(xml_problem(svg), "");
  EXPECT_EQ(count(svg, "<circle"), 1u);  // a lone point is drawn as a marker
  Series c;
  c.x = {1, 2, 3};
  c.y = {2, 2, 2};
  p.series = {c};
  EXPECT_EQ(xml_problem(render_svg(p)), "");
}

/// cx of every <circle> in document order.
std::vector<double> circle_xs(const std::string& svg) {
  std::vector<double> out;
  for (auto pos = svg.find("<circle cx=\""); pos != std::string::npos; pos = svg.find("<circle cx=\"", pos + 1))
    out.push_back(std::stod(svg.substr(pos + 12)));
  return out;
}

/// x attribute of the <text> element whose content is `t` (NaN when absent).
double text_x(const std::string& svg, const std::string& t) {
  const auto end = svg.find(">" + t + "</text>");
  if (end == std::string::npos) return kNaN;
  const auto start = svg.rfind("<text x=\"", end);
  return std::stod(svg.substr(start + 9));
}

TEST(LinePlot, ReverseXDrawsHighValuesOnTheLeft) {
  LinePlot p;
  Series s;
  s.x = {280, 285, 290};
  s.y = {1, 3, 2};
  s.line = false;
  p.series = {s};
  const auto normal = circle_xs(render_svg(p));
  ASSERT_EQ(normal.size(), 3u);
  EXPECT_LT(normal[0], normal[1]);
  EXPECT_LT(normal[1], normal[2]);

  p.reverse_x = true;
  const std::string svg = render_svg(p);
  EXPECT_EQ(xml_problem(svg), "");
  const auto rev = circle_xs(svg);
  ASSERT_EQ(rev.size(), 3u);
  EXPECT_GT(rev[0], rev[1]);
  EXPECT_GT(rev[1], rev[2]);
  // mirror images of each other inside the same plot area
  EXPECT_NEAR(rev[0], normal[2], 0.02);
  EXPECT_NEAR(rev[2], normal[0], 0.02);
  EXPECT_LT(text_x(svg, "290"), text_x(svg, "280"));  // tick labels follow
}

TEST(LinePlot, IntegerXPutsTicksOnlyOnIntegers) {
  LinePlot p;
  Series s;
  s.x = {1, 2, 3, 4};
  s.y = {10, 7, 6.5, 6.8};
  p.series = {s};
  EXPECT_TRUE(has_text(render_svg(p), "1.5"));  // the nice-number search prefers 0.5 steps here
  p.integer_x = true;
  const std::string svg = render_svg(p);
  for (const char* t : {"1", "2", "3", "4"}) EXPECT_TRUE(has_text(svg, t)) << t;
  EXPECT_FALSE(has_text(svg, "1.5"));
  EXPECT_FALSE(has_text(svg, "2.5"));
  s.x = {1};  // a single K
  s.y = {3};
  p.series = {s};
  EXPECT_TRUE(has_text(render_svg(p), "1"));
}

/// x and width of the plot-area frame rectangles (the unfilled rect stroked in the axis colour).
std::vector<std::pair<double, double>> frames(const std::string& svg) {
  std::vector<std::pair<double, double>> out;
  const std::string tail = "fill=\"none\" stroke=\"#444\"";
  for (auto pos = svg.find(tail); pos != std::string::npos; pos = svg.find(tail, pos + 1)) {
    const auto rect = svg.rfind("<rect x=\"", pos);
    const auto w = svg.find("width=\"", rect);
    out.emplace_back(std::stod(svg.substr(rect + 9)), std::stod(svg.substr(w + 7)));
  }
  return out;
}

TEST(StackedPlot, PanelsShareTheXAxisAndThePlotAreaEdges) {
  LinePlot top;
  top.title = "fit";
  top.ylabel = "counts";
  Series data;
  data.x = {280, 282, 284, 286, 288, 290};
  data.y = {12000, 15000, 98000, 123456, 20000, 13000};  // wide y tick labels
  top.series = {data};
  LinePlot bottom;
  bottom.height = 160;
  bottom.xlabel = "binding energy (eV)";
  bottom.ylabel = "residual";
  Series res;
  res.x = {281, 283, 285, 287, 289};  // narrower x extent: the shared domain is the union
  res.y = {1, -2, 0.5, 3, -1};
  bottom.series = {res};
  top.reverse_x = bottom.reverse_x = true;

  const std::string svg = render_svg_stacked({top, bottom});
  EXPECT_EQ(xml_problem(svg), "");
  EXPECT_EQ(count(svg, "<svg x=\"0\" y=\""), 2u);
  EXPECT_TRUE(contains(svg, "height=\"640\""));  // 480 + 160
  const auto f = frames(svg);
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0], f[1]);  // same left edge and width
  // same x scale: tick "284" at the same horizontal position in both panels
  const auto first = svg.find(">284</text>");
  ASSERT_NE(first, std::string::npos);
  const auto second = svg.find(">284</text>", first + 1);
  ASSERT_NE(second, std::string::npos);
  const auto start2 = svg.rfind("<text x=\"", second);
  EXPECT_EQ(std::stod(svg.substr(svg.rfind("<text x=\"", first) + 9)), std::stod(svg.substr(start2 + 9)));
  // element ids stay unique between panels
  EXPECT_EQ(count(svg, "<clipPath id=\""), 2u);
  const auto id1 = svg.find("<clipPath id=\""), id2 = svg.find("<clipPath id=\"", id1 + 1);
  EXPECT_NE(svg.substr(id1, 40), svg.substr(id2, 40));
}

TEST(StackedPlot, RejectsNoPanelsAndPanelsThatCannotShareAnAxis) {
  EXPECT_NE(invalid_argument_message([] { render_svg_stacked({}); }).find("no panels"), std::string::npos);
  LinePlot a;
  Series s;
  s.x = {1, 2};
  s.y = {1, 2};
  a.series = {s};
  LinePlot b = a;
  b.reverse_x = true;
  EXPECT_NE(invalid_argument_message([&] { render_svg_stacked({a, b}); }).find("panel 2"), std::string::npos);
  b = a;
  b.width = 500;
  EXPECT_NE(invalid_argument_message([&] { render_svg_stacked({a, b}); }).find("width"), std::string::npos);
  b = a;
  b.series[0].y = {kNaN, kNaN};
  EXPECT_NE(invalid_argument_message([&] { render_svg_stacked({a, b}); }).find("no finite"), std::string::npos);
}

TEST(LinePlotValidate, MismatchedXAndYNamesSeries) {
  LinePlot p;
  Series s;
  s.label = "a";
  s.x = {1, 2, 3, 4, 5};
  s.y = {1, 2, 3, 4};
  p.series = {s};
  EXPECT_EQ(invalid_argument_message([&] { p.validate(); }), "plot: series 'a' has 5 x values but 4 y values");
  EXPECT_THROW((void)render_svg(p), InvalidArgument);
}

TEST(LinePlotValidate, UnlabeledSeriesIsNamedByPosition) {
  LinePlot p;
  Series ok;
  ok.x = ok.y = {1, 2};
  Series bad;
  bad.x = {1};
  bad.y = {1, 2};
  p.series = {ok, bad};
  EXPECT_EQ(invalid_argument_message([&] { p.validate(); }), "plot: series #2 has 1 x values but 2 y values");
}

TEST(LinePlotValidate, ErrorBarLengthMismatchAndNegativeErrors) {
  LinePlot p;
  Series s;
  s.label = "e";
  s.x = s.y = {1, 2, 3};
  s.yerr = {0.1, 0.2};
  p.series = {s};
  EXPECT_EQ(invalid_argument_message([&] { p.validate(); }), "plot: series 'e' has 2 error values but 3 y values");
  p.series[0].yerr = {0.1, -0.2, 0.1};
  EXPECT_TRUE(contains(invalid_argument_message([&] { p.validate(); }), "negative error value"));
}

TEST(LinePlotValidate, NoFinitePoint) {
  LinePlot p;
  EXPECT_TRUE(contains(invalid_argument_message([&] { p.validate(); }), "no finite data point"));
  Series s;
  s.x = {kNaN, 1};
  s.y = {1, kNaN};
  p.series = {s};
  EXPECT_TRUE(contains(invalid_argument_message([&] { p.validate(); }), "no finite data point"));
}

TEST(LinePlotValidate, LogXRejectsNonPositiveXAndVlines) {
  LinePlot p = sample_line_plot();
  p.series[1].x[3] = 0.0;
  const std::string msg = invalid_argument_message([&] { p.validate(); });
  EXPECT_TRUE(contains(msg, "log_x")) << msg;
  EXPECT_TRUE(contains(msg, "'validation'")) << msg;
  EXPECT_TRUE(contains(msg, "x = 0")) << msg;
  LinePlot q = sample_line_plot();
  q.vlines.push_back({-1.0, "neg"});
  EXPECT_TRUE(contains(invalid_argument_message([&] { q.validate(); }), "vline 'neg'"));
  LinePlot r = sample_line_plot();
  r.series[0].x[0] = kNaN;  // non-finite points are skipped, not rejected
  EXPECT_NO_THROW(r.validate());
}

TEST(LinePlotValidate, NonFiniteVlineAndTinyCanvas) {
  LinePlot p = sample_line_plot();
  p.vlines.push_back({kNaN, "bad"});
  EXPECT_THROW(p.validate(), InvalidArgument);
  LinePlot q = sample_line_plot();
  q.width = 10;
  EXPECT_TRUE(contains(invalid_argument_message([&] { q.validate(); }), "width and height"));
}

// ------------------------------------------------------------------------------------------------ heatmap

Heatmap sample_heatmap() {
  Heatmap h;
  h.title = "Correlation <r>";
  h.colorbar_label = "Pearson r";
  h.row_labels = {"a", "b", "c"};
  h.col_labels = {"x1", "x2", "long feature name"};
  h.values.resize(3, 3);
  h.values << 1.0, -0.5, 0.0, 0.25, kNaN, -1.0, 0.5, 0.75, -0.25;
  return h;
}

TEST(Heatmap, WellFormedWithCellsLabelsTooltipsAndColourBar) {
  const std::string svg = render_svg(sample_heatmap());
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_EQ(xml_problem(svg), "");
  for (const char* t : {"a", "b", "c", "x1", "x2", "long feature name", "Pearson r", "Correlation &lt;r&gt;"})
    EXPECT_TRUE(has_text(svg, t)) << t;
  EXPECT_EQ(count(svg, "><title>"), 9u);  // one tooltip per cell
  EXPECT_TRUE(contains(svg, "<title>a / x1: 1</title>"));
  EXPECT_TRUE(contains(svg, "<title>b / x2: missing</title>"));
  EXPECT_EQ(count(svg, "rotate(-45"), 3u);
  EXPECT_TRUE(contains(svg, "<linearGradient"));
}

TEST(Heatmap, DivergingColoursAreSymmetricAroundZero) {
  const std::string svg = render_svg(sample_heatmap());
  EXPECT_TRUE(contains(svg, "fill=\"#b2182b\"><title>a / x1: 1<"));
  EXPECT_TRUE(contains(svg, "fill=\"#2166ac\"><title>b / long feature name: -1<"));
  EXPECT_TRUE(contains(svg, "fill=\"#ffffff\"><title>a / long feature name: 0<"));
  EXPECT_TRUE(contains(svg, "-nan)\"><title>b / x2: missing<"));  // NaN: hatched pattern
  // colour bar ticks at -max, 0, max
  EXPECT_TRUE(has_text(svg, "-1"));
  EXPECT_TRUE(has_text(svg, "0"));
  EXPECT_TRUE(has_text(svg, "1"));
}

TEST(Heatmap, SequentialRunsFromWhiteAtMinToDarkBlueAtMax) {
  Heatmap h;
  h.values.resize(1, 3);
  h.values << 2, 3, 4;
  h.diverging = false;
  const std::string svg = render_svg(h);
  EXPECT_TRUE(contains(svg, "fill=\"#ffffff\"><title>row 1 / column 1: 2<"));
  EXPECT_TRUE(contains(svg, "fill=\"#08306b\"><title>row 1 / column 3: 4<"));
  EXPECT_EQ(xml_problem(svg), "");
}

TEST(Heatmap, AllMissingOrAllZeroStillRenders) {
  Heatmap h;
  h.values = Eigen::MatrixXd::Constant(2, 2, kNaN);
  EXPECT_EQ(xml_problem(render_svg(h)), "");
  h.values = Eigen::MatrixXd::Zero(2, 2);
  EXPECT_EQ(xml_problem(render_svg(h)), "");
}

TEST(HeatmapValidate, LabelCountMismatchAndBadInput) {
  Heatmap h = sample_heatmap();
  h.row_labels.pop_back();
  EXPECT_EQ(invalid_argument_message([&] { h.validate(); }), "heatmap: 2 row labels for 3 rows");
  h = sample_heatmap();
  h.col_labels.push_back("extra");
  EXPECT_EQ(invalid_argument_message([&] { h.validate(); }), "heatmap: 4 column labels for 3 columns");
  h = sample_heatmap();
  h.values(0, 0) = std::numeric_limits<double>::infinity();
  EXPECT_TRUE(contains(invalid_argument_message([&] { h.validate(); }), "row 1, column 1 is infinite"));
  h = sample_heatmap();
  h.cell = 0;
  EXPECT_TRUE(contains(invalid_argument_message([&] { h.validate(); }), "cell size"));
  Heatmap empty;
  EXPECT_TRUE(contains(invalid_argument_message([&] { empty.validate(); }), "empty"));
}

// ------------------------------------------------------------------------------------------------ histogram

Histogram sample_histogram() {
  Histogram h;
  h.title = "Residuals";
  h.xlabel = "residual (eV)";
  h.edges = {-1, -0.5, 0, 0.5, 1, 1.5};
  h.counts = {3, 10, 0, 7, 1};
  h.vlines = {{0.0, "zero"}};
  return h;
}

TEST(Histogram, WellFormedWithOneBarPerNonEmptyBin) {
  const std::string svg = render_svg(sample_histogram());
  EXPECT_EQ(xml_problem(svg), "");
  EXPECT_EQ(count(svg, "<title>["), 4u);
  EXPECT_TRUE(contains(svg, "<title>[-0.5, 0): 10</title>"));
  for (const char* t : {"Residuals", "residual (eV)", "count", "zero"}) EXPECT_TRUE(has_text(svg, t)) << t;
}

TEST(Histogram, LogYSkipsZeroCountsAndLabelsDecades) {
  Histogram h = sample_histogram();
  h.counts = {1, 1000, 0, 50, 5};
  h.log_y = true;
  const std::string svg = render_svg(h);
  EXPECT_EQ(xml_problem(svg), "");
  EXPECT_EQ(count(svg, "<title>["), 4u);         // the zero count is not drawn
  EXPECT_TRUE(contains(svg, "height=\"1.5\""));  // a count of 1 sits on the baseline: drawn as a sliver
  for (const char* t : {"1", "10", "100", "1000"}) EXPECT_TRUE(has_text(svg, t)) << t;
}

TEST(HistogramValidate, EdgesMustBeCountsPlusOneAndIncreasing) {
  Histogram h = sample_histogram();
  h.edges.pop_back();
  EXPECT_EQ(invalid_argument_message([&] { h.validate(); }), "histogram: 5 edges for 5 counts (need counts + 1 edges)");
  h = sample_histogram();
  h.edges[2] = h.edges[1];
  EXPECT_TRUE(contains(invalid_argument_message([&] { h.validate(); }), "strictly increasing"));
  h = sample_histogram();
  h.counts[0] = -1;
  EXPECT_TRUE(contains(invalid_argument_message([&] { h.validate(); }), "count 1"));
  Histogram empty;
  EXPECT_TRUE(contains(invalid_argument_message([&] { empty.validate(); }), "no bins"));
}

// ------------------------------------------------------------------------------------------------ save

TEST(SaveSvg, WritesTheFileAtomically) {
  const fs::path dir = fs::temp_directory_path() / ("tsunagu-plot-save-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string svg = render_svg(sample_histogram());
  save_svg(dir / "h.svg", svg);
  EXPECT_EQ(tsunagu::core::read_file(dir / "h.svg"), svg);
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++entries;
  EXPECT_EQ(entries, 1u);
  EXPECT_THROW(save_svg(dir / "missing" / "h.svg", svg), tsunagu::IoError);
  fs::remove_all(dir);
}

}  // namespace
