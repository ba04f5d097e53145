#include "tsunagu/spectra/plots.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <limits>
#include <set>
#include <sstream>
#include <string_view>

#include "tsunagu/core/error.hpp"
#include "tsunagu/core/plot.hpp"
#include "tsunagu/core/png.hpp"

namespace tsunagu::spectra {

namespace {

namespace plt = core::plot;
namespace png = core::png;

// Colours: data dark, fit red, background grey, peaks from a cycle without red/grey so they never look like the fit
// or the background.
constexpr const char* kDataColor = "#222222";
constexpr const char* kFitColor = "#d62728";
constexpr const char* kBackgroundColor = "#8c8c8c";
constexpr std::array<const char*, 8> kPeakColors = {"#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd",
                                                    "#8c564b", "#e377c2", "#17becf", "#bcbd22"};

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string sig(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g", digits, v);
  std::string s = buf;
  if (s == "-0") s = "0";
  return s;
}

// SVG text helpers shared with core::plot.
using plt::svg_px;
using plt::text_width;
using plt::xml_escape;
std::string px(double v) { return svg_px(v); }
std::string esc(std::string_view s) { return xml_escape(s); }

std::string base64(const std::string& bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                       static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i < bytes.size()) {
    unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) v |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

struct Tick {
  double value;
  std::string label;
};

/// About 4-7 values m·10^k (m = 1, 2, 5) inside [lo, hi], labelled with the digits the step needs.
/// `integer` keeps the step >= 1 (pixel indices).
std::vector<Tick> nice_ticks(double lo, double hi, bool integer = false) {
  std::vector<Tick> out;
  if (!(hi > lo)) {
    out.push_back({lo, sig(lo, 4)});
    return out;
  }
  const int k0 = static_cast<int>(std::floor(std::log10(hi - lo)));
  double best = 0;
  int best_k = 0;
  double best_score = std::numeric_limits<double>::infinity();
  const int kmin = integer ? std::max(0, k0 - 2) : k0 - 2, kmax = integer ? std::max(0, k0 + 1) : k0 + 1;
  for (int k = kmin; k <= kmax; ++k)
    for (int m : {1, 2, 5}) {
      const double step = m * std::pow(10.0, k);
      const double count = std::floor(hi / step + 1e-9) - std::ceil(lo / step - 1e-9) + 1;
      const double score = (count >= 4 && count <= 7) ? std::fabs(count - 5) : 10 + std::fabs(count - 5);
      if (score < best_score) {
        best_score = score;
        best = step;
        best_k = k;
      }
    }
  const double first = std::ceil(lo / best - 1e-9), last = std::floor(hi / best + 1e-9);
  double max_abs = std::max(std::fabs(first * best), std::fabs(last * best));
  const bool scientific = max_abs >= 1e6 || (max_abs > 0 && max_abs < 1e-3);
  for (double i = first; i <= last; i += 1) {
    const double v = i * best;
    std::string label = v == 0 ? "0" : scientific ? sig(v, 3) : fixed(v, std::max(0, -best_k));
    if (label == "-0") label = "0";
    out.push_back({v, label});
  }
  return out;
}

std::string energy_label(const FitResult& r) {
  return r.axis_sign > 0 ? "binding energy (eV)" : "kinetic energy (eV)";
}

}  // namespace

// =========================================================================================================
// Fitted spectrum

std::string fit_plot_svg(const FitResult& r, const std::string& title) {
  const std::size_t n = r.energy.size();
  if (n == 0) throw InvalidArgument("fit plot: the fit result has no channels (energy is empty)");
  if (r.counts.size() != n || r.model.size() != n)
    throw InvalidArgument("fit plot: energy has " + std::to_string(n) + " channels but counts has " +
                          std::to_string(r.counts.size()) + " and model " + std::to_string(r.model.size()));
  const std::vector<double>& bg = r.background.values;
  if (!bg.empty() && bg.size() != n)
    throw InvalidArgument("fit plot: background.values has " + std::to_string(bg.size()) + " entries for " +
                          std::to_string(n) + " channels");
  const std::vector<std::vector<double>> comps = component_values(r);
  const bool reverse = r.axis_sign > 0;

  plt::LinePlot top;
  top.title = title;
  top.ylabel = "intensity (counts)";
  top.reverse_x = reverse;
  top.height = 440;

  const bool have_bg = !bg.empty() && r.background.kind != BackgroundKind::None;
  if (have_bg) {
    plt::Series s;
    s.label = "background (" + to_string(r.background.kind) + ")";
    s.x = r.energy;
    s.y = bg;
    s.color = kBackgroundColor;
    top.series.push_back(std::move(s));
  }
  for (std::size_t k = 0; k < comps.size(); ++k) {
    plt::Series s;
    const Peak& p = r.peaks[k];
    s.label = "peak " + std::to_string(k + 1) + " (" + fixed(p.center, 2) + " eV, " + to_string(p.shape) + ")";
    s.x = r.energy;
    s.y = comps[k];
    // drawn on top of the background, as XPS components are shown
    if (!bg.empty())
      for (std::size_t i = 0; i < n; ++i) s.y[i] += bg[i];
    s.color = kPeakColors[k % kPeakColors.size()];
    top.series.push_back(std::move(s));
  }
  {
    plt::Series s;
    s.label = "data";
    s.x = r.energy;
    s.y = r.counts;
    s.color = kDataColor;
    s.line = false;
    s.markers = true;
    top.series.push_back(std::move(s));
  }
  {
    plt::Series s;
    // the fit quality travels with the fit curve (the residual panel is too small for a legend)
    s.label = "fit";
    if (std::isfinite(r.reduced_chi2)) s.label += " (χ²/dof = " + sig(r.reduced_chi2, 3) + ")";
    s.x = r.energy;
    s.y = r.model;
    s.color = kFitColor;
    top.series.push_back(std::move(s));
  }

  plt::LinePlot bottom;
  bottom.height = 180;
  bottom.xlabel = energy_label(r);
  bottom.ylabel = "data − fit";
  bottom.reverse_x = reverse;
  {
    // zero line across the energy range, under the residuals
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (double e : r.energy)
      if (std::isfinite(e)) {
        lo = std::min(lo, e);
        hi = std::max(hi, e);
      }
    plt::Series zero;
    zero.x = {lo, hi};
    zero.y = {0.0, 0.0};
    zero.color = "#bbbbbb";
    bottom.series.push_back(std::move(zero));
  }
  {
    plt::Series s;  // unlabelled: no legend box over the residuals
    s.x = r.energy;
    s.y.resize(n);
    for (std::size_t i = 0; i < n; ++i) s.y[i] = r.counts[i] - r.model[i];
    s.color = kDataColor;
    bottom.series.push_back(std::move(s));
  }
  return plt::render_svg_stacked({top, bottom});
}

// =========================================================================================================
// Peak-count selection

std::string free_energy_plot_svg(const std::vector<std::size_t>& ks, const std::vector<double>& score,
                                 const std::vector<double>& se, std::size_t chosen, const std::string& title,
                                 const std::string& ylabel) {
  if (ks.empty()) throw InvalidArgument("selection plot: no K values");
  if (score.size() != ks.size())
    throw InvalidArgument("selection plot: " + std::to_string(score.size()) + " scores for " +
                          std::to_string(ks.size()) + " K values");
  if (!se.empty() && se.size() != ks.size())
    throw InvalidArgument("selection plot: " + std::to_string(se.size()) + " standard errors for " +
                          std::to_string(ks.size()) + " K values");
  std::set<std::size_t> seen;
  for (std::size_t k : ks) {
    if (k == 0) throw InvalidArgument("selection plot: K must be >= 1 (got 0)");
    if (!seen.insert(k).second) throw InvalidArgument("selection plot: K = " + std::to_string(k) + " appears twice");
  }
  if (!seen.count(chosen))
    throw InvalidArgument("selection plot: chosen K = " + std::to_string(chosen) + " is not among the K values");

  plt::LinePlot p;
  p.title = title;
  p.xlabel = "number of peaks K";
  p.ylabel = ylabel;
  p.integer_x = true;
  plt::Series s;  // unlabelled: the y label says what it is
  for (std::size_t i = 0; i < ks.size(); ++i) {
    s.x.push_back(static_cast<double>(ks[i]));
    s.y.push_back(score[i]);
  }
  if (!se.empty()) {
    bool any = false;
    for (double e : se) any = any || (std::isfinite(e) && e > 0);
    if (any) s.yerr = se;
  }
  s.markers = true;
  s.color = "#1f77b4";
  p.series = {s};
  plt::VLine v;
  v.x = static_cast<double>(chosen);
  v.label = "chosen K = " + std::to_string(chosen);
  v.color = kFitColor;
  p.vlines = {v};
  return plt::render_svg(p);  // validates: error values >= 0, at least one finite score
}

std::string selection_plot_svg(const Selection& s, const std::string& title) {
  std::string ylabel;
  switch (s.criterion) {
    case Criterion::Bayes: ylabel = "Bayes free energy F(K) (nats)"; break;
    case Criterion::Bic: ylabel = "BIC"; break;
    case Criterion::Aic: ylabel = "AIC"; break;
  }
  const std::string t = title.empty() ? "peak-count selection (" + to_string(s.criterion) + ")"
                                      : title + " — peak-count selection (" + to_string(s.criterion) + ")";
  return free_energy_plot_svg(s.k, s.score, s.score_se, s.chosen, t, ylabel);
}

// =========================================================================================================
// Maps

namespace {

png::ColorScale color_scale(std::optional<double> vmin, std::optional<double> vmax, png::Rgba8 nan_color) {
  png::ColorScale c;
  if (vmin) {
    if (!std::isfinite(*vmin)) throw InvalidArgument("map: vmin must be finite (got " + sig(*vmin, 6) + ")");
    c.vmin = *vmin;
  }
  if (vmax) {
    if (!std::isfinite(*vmax)) throw InvalidArgument("map: vmax must be finite (got " + sig(*vmax, 6) + ")");
    c.vmax = *vmax;
  }
  c.nan_color = nan_color;
  return c;
}

std::vector<double> row_major(const Eigen::MatrixXd& m) {
  std::vector<double> v(static_cast<std::size_t>(m.size()));
  Eigen::Map<Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(v.data(), m.rows(), m.cols()) = m;
  return v;
}

std::string hex(png::Rgb8 c) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x", c[0], c[1], c[2]);
  return buf;
}

}  // namespace

std::string map_svg(const Eigen::MatrixXd& values, const std::string& title, const std::string& colorbar_label,
                    std::optional<double> vmin, std::optional<double> vmax) {
  if (values.rows() == 0 || values.cols() == 0)
    throw InvalidArgument("map: empty map (" + std::to_string(values.rows()) + " x " +
                          std::to_string(values.cols()) + ")");
  const png::ColorScale scale = color_scale(vmin, vmax, {0, 0, 0, 0});
  const std::vector<double> flat = row_major(values);
  const auto [lo, hi] = png::resolve_range(flat, scale);
  const png::Image img = png::colorize(values, scale);  // validates the shape too
  const std::string data = base64(png::encode(img));
  const auto R = static_cast<double>(values.rows()), C = static_cast<double>(values.cols());
  bool any_nan = false;
  for (double v : flat) any_nan = any_nan || !std::isfinite(v);

  constexpr double kTick = 11, kLabel = 13, kTitle = 16, kSmall = 11;
  // map box: the longer side 420 px, cells square; a 1-pixel-thick map still gets 24 px
  const double cell = std::min(420.0 / std::max(R, C), 48.0);
  const double mw = std::max(C * cell, 24.0), mh = std::max(R * cell, 24.0);

  const std::vector<Tick> xt = nice_ticks(0, C - 1, true), yt = nice_ticks(0, R - 1, true);
  double wy = 0;
  for (const auto& t : yt) wy = std::max(wy, text_width(t.label, kTick));
  const double mx = 12 + kLabel + 10 + wy + 8;  // left: row label, tick labels
  const double my = title.empty() ? 16 : 16 + kTitle + 16;

  const std::vector<Tick> ct = nice_ticks(lo, hi);
  double wc = 0;
  for (const auto& t : ct) wc = std::max(wc, text_width(t.label, kTick));
  const double cb_h = std::max(mh, 120.0);
  const double cb_x = mx + mw + 22, cb_w = 16;
  const double cb_label_x = cb_x + cb_w + 8 + wc + 10;
  double W = (colorbar_label.empty() ? cb_x + cb_w + 8 + wc : cb_label_x + kLabel) + 14;
  W = std::max(W, text_width(title, kTitle) + 24);
  const double H = my + std::max(mh, cb_h) + 8 + kTick + 10 + kLabel + (any_nan ? kSmall + 10 : 0) + 12;

  const std::string gid = "viridis-" + std::to_string(values.rows()) + "x" + std::to_string(values.cols());
  std::ostringstream o;
  o << "<svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\" version=\"1.1\" width=\""
    << px(W) << "\" height=\"" << px(H) << "\" viewBox=\"0 0 " << px(W) << ' ' << px(H)
    << "\" font-family=\"sans-serif\" fill=\"#222\">\n";
  o << "  <rect x=\"0\" y=\"0\" width=\"" << px(W) << "\" height=\"" << px(H) << "\" fill=\"#ffffff\"/>\n";
  // colour bar gradient: every 8th viridis entry (the map between entries is nearly linear)
  o << "  <defs>\n    <linearGradient id=\"" << gid << "\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">\n";
  for (int k = 0; k <= 32; ++k) {
    const double u = k / 32.0;
    o << "      <stop offset=\"" << px(u) << "\" stop-color=\"" << hex(png::viridis(u)) << "\"/>\n";
  }
  o << "    </linearGradient>\n  </defs>\n";
  if (!title.empty())
    o << "  <text x=\"" << px(W / 2) << "\" y=\"" << px(16 + kTitle) << "\" text-anchor=\"middle\" font-size=\""
      << kTitle << "\" font-weight=\"bold\">" << esc(title) << "</text>\n";

  // the map: one PNG pixel per value, scaled without smoothing; NaN pixels are transparent (blank)
  o << "  <image x=\"" << px(mx) << "\" y=\"" << px(my) << "\" width=\"" << px(mw) << "\" height=\"" << px(mh)
    << "\" preserveAspectRatio=\"none\" image-rendering=\"optimizeSpeed\" style=\"image-rendering:pixelated\""
    << " xlink:href=\"data:image/png;base64," << data << "\"/>\n";
  o << "  <rect x=\"" << px(mx) << "\" y=\"" << px(my) << "\" width=\"" << px(mw) << "\" height=\"" << px(mh)
    << "\" fill=\"none\" stroke=\"#444\" stroke-width=\"1\"/>\n";

  // pixel-index ticks at cell centres
  const double cw = mw / C, ch = mh / R;
  o << "  <g stroke=\"#444\" stroke-width=\"1\">\n";
  for (const auto& t : xt) {
    const double x = mx + (t.value + 0.5) * cw;
    o << "    <line x1=\"" << px(x) << "\" y1=\"" << px(my + mh) << "\" x2=\"" << px(x) << "\" y2=\"" << px(my + mh + 4)
      << "\"/>\n";
  }
  for (const auto& t : yt) {
    const double y = my + (t.value + 0.5) * ch;
    o << "    <line x1=\"" << px(mx - 4) << "\" y1=\"" << px(y) << "\" x2=\"" << px(mx) << "\" y2=\"" << px(y) << "\"/>\n";
  }
  o << "  </g>\n  <g font-size=\"" << kTick << "\">\n";
  for (const auto& t : xt)
    o << "    <text x=\"" << px(mx + (t.value + 0.5) * cw) << "\" y=\"" << px(my + mh + 6 + kTick)
      << "\" text-anchor=\"middle\">" << t.label << "</text>\n";
  for (const auto& t : yt)
    o << "    <text x=\"" << px(mx - 7) << "\" y=\"" << px(my + (t.value + 0.5) * ch + kTick * 0.35)
      << "\" text-anchor=\"end\">" << t.label << "</text>\n";
  o << "  </g>\n";
  o << "  <text x=\"" << px(mx + mw / 2) << "\" y=\"" << px(my + mh + 8 + kTick + 8 + kLabel)
    << "\" text-anchor=\"middle\" font-size=\"" << kLabel << "\">column</text>\n";
  {
    const double x = 12 + kLabel, y = my + mh / 2;
    o << "  <text x=\"" << px(x) << "\" y=\"" << px(y) << "\" text-anchor=\"middle\" font-size=\"" << kLabel
      << "\" transform=\"rotate(-90 " << px(x) << ' ' << px(y) << ")\">row</text>\n";
  }
  if (any_nan)
    o << "  <text x=\"" << px(mx) << "\" y=\"" << px(H - 12) << "\" font-size=\"" << kSmall
      << "\" fill=\"#666\">blank = no value (NaN)</text>\n";

  // colour bar: vmin at the bottom, vmax at the top
  o << "  <rect x=\"" << px(cb_x) << "\" y=\"" << px(my) << "\" width=\"" << px(cb_w) << "\" height=\"" << px(cb_h)
    << "\" fill=\"url(#" << gid << ")\" stroke=\"#444\" stroke-width=\"1\"/>\n";
  o << "  <g font-size=\"" << kTick << "\">\n";
  for (const auto& t : ct) {
    const double u = hi > lo ? (t.value - lo) / (hi - lo) : 0.0;
    const double y = my + cb_h - u * cb_h;
    o << "    <line x1=\"" << px(cb_x + cb_w) << "\" y1=\"" << px(y) << "\" x2=\"" << px(cb_x + cb_w + 4) << "\" y2=\""
      << px(y) << "\" stroke=\"#444\"/>\n";
    o << "    <text x=\"" << px(cb_x + cb_w + 7) << "\" y=\"" << px(y + kTick * 0.35) << "\">" << t.label << "</text>\n";
  }
  o << "  </g>\n";
  if (!colorbar_label.empty()) {
    const double x = cb_label_x, y = my + cb_h / 2;
    o << "  <text x=\"" << px(x) << "\" y=\"" << px(y) << "\" text-anchor=\"middle\" font-size=\"" << kLabel
      << "\" transform=\"rotate(90 " << px(x) << ' ' << px(y) << ")\">" << esc(colorbar_label) << "</text>\n";
  }
  o << "</svg>\n";
  return o.str();
}

void save_map_png(const std::filesystem::path& path, const Eigen::MatrixXd& values, const std::string& title,
                  const std::string& colorbar_label, std::optional<double> vmin, std::optional<double> vmax) {
  png::MapImageOptions opt;
  opt.color = color_scale(vmin, vmax, opt.color.nan_color);
  const png::Image img = png::render_map(values, opt);
  const auto [lo, hi] = png::resolve_range(row_major(values), opt.color);
  std::vector<png::TextChunk> text;
  if (!title.empty()) text.push_back({"Title", title});
  if (!colorbar_label.empty()) text.push_back({"Description", colorbar_label});
  text.push_back({"Comment", "viridis colour range " + sig(lo, 8) + " .. " + sig(hi, 8) + "; row 0 at the top; " +
                                 std::to_string(values.rows()) + " x " + std::to_string(values.cols()) + " values"});
  text.push_back({"Software", "tsunagu"});
  png::write_png(path, img, text);
}

}  // namespace tsunagu::spectra
