#pragma once
/// Small SVG plotting helper shared by all modules: line/scatter plots with error bars and marker lines,
/// heatmaps with a diverging colour bar, histograms. Output is a standalone SVG string (viewable in a browser).
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <Eigen/Core>

namespace tsunagu::core::plot {

struct Series {
  std::string label;           ///< legend text; empty = no legend entry
  std::vector<double> x, y;    ///< same length; non-finite points are skipped
  std::vector<double> yerr;    ///< empty or same length as y: symmetric error bars
  std::string color;           ///< CSS colour; empty = next colour of the default cycle
  bool line = true;            ///< connect points
  bool markers = false;        ///< draw a dot at each point
};

struct VLine {
  double x = 0;          ///< in data coordinates (before any log transform)
  std::string label;     ///< text written next to the line
  std::string color = "#444";
  bool dashed = true;
};

struct LinePlot {
  std::string title, xlabel, ylabel;
  std::vector<Series> series;
  std::vector<VLine> vlines;
  bool log_x = false;  ///< plot log10(x); x must be > 0
  bool reverse_x = false;  ///< x decreases from left to right (binding-energy convention of photoelectron spectra)
  bool integer_x = false;  ///< x ticks only at integers (counts such as a number of peaks)
  int width = 720, height = 480;
  void validate() const;  ///< throws InvalidArgument (mismatched x/y/yerr lengths, no finite point)
};

struct Heatmap {
  std::string title, colorbar_label;
  std::vector<std::string> row_labels;  ///< one per row of values (drawn left)
  std::vector<std::string> col_labels;  ///< one per column (drawn on top, rotated)
  Eigen::MatrixXd values;               ///< (rows, cols); NaN = blank cell
  bool diverging = true;                ///< blue–white–red symmetric around 0; else white→dark sequential
  int cell = 22;                        ///< cell size in px
  void validate() const;
};

struct Histogram {
  std::string title, xlabel, ylabel = "count";
  std::vector<double> edges;   ///< bins+1 increasing edges
  std::vector<double> counts;  ///< bins values
  bool log_y = false;
  std::vector<VLine> vlines;
  int width = 720, height = 480;
  void validate() const;
};

/// Building blocks for modules that draw their own SVG (e.g. spectra maps): XML-escaped text (control characters
/// XML forbids become U+FFFD), an estimate of the rendered width of sans-serif text in px (UTF-8 aware), and a pixel
/// coordinate with at most two decimals and no trailing zeros.
std::string xml_escape(std::string_view s);
double text_width(std::string_view s, double font_size);
std::string svg_px(double v);

std::string render_svg(const LinePlot& plot);
std::string render_svg(const Heatmap& plot);
std::string render_svg(const Histogram& plot);

/// Line plots stacked top to bottom in one SVG (e.g. a fit above its residuals): the panels share one x domain
/// (the union of their data) and one plot-area left edge, so their x axes line up. Each keeps its own height, y
/// axis, title and labels. InvalidArgument when `panels` is empty or the panels differ in width, log_x, reverse_x
/// or integer_x.
std::string render_svg_stacked(const std::vector<LinePlot>& panels);

/// Write an SVG string atomically.
void save_svg(const std::filesystem::path& path, const std::string& svg);

}  // namespace tsunagu::core::plot
