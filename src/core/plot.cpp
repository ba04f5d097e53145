#include "tsunagu/core/plot.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <sstream>
#include <string_view>

#include "tsunagu/core/error.hpp"
#include "tsunagu/core/io.hpp"

namespace tsunagu::core::plot {

/// XML-escape; control characters that XML 1.0 forbids are replaced by U+FFFD.
std::string xml_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 8);
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r')
          out += "\xEF\xBF\xBD";
        else
          out += c;
    }
  }
  return out;
}

/// Approximate rendered width of a sans-serif string (UTF-8 aware).
double text_width(std::string_view s, double font_size) {
  std::size_t glyphs = 0;
  for (char c : s)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++glyphs;
  return static_cast<double>(glyphs) * 0.6 * font_size;
}

/// Pixel coordinate: at most two decimals, no trailing zeros.
std::string svg_px(double v) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  std::string s = buf;
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  if (s == "-0") s = "0";
  return s;
}


namespace {

constexpr std::array<const char*, 8> kPalette = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
                                                 "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"};
constexpr double kTickFont = 12, kLabelFont = 13, kTitleFont = 16, kSmallFont = 11;
constexpr const char* kTextColor = "#222";
constexpr const char* kGridColor = "#e8e8e8";
constexpr const char* kAxisColor = "#444";

// ---------------------------------------------------------------------------------------------------------
// Text helpers

// (xml_escape, text_width, svg_px are public: see plot.hpp)
std::string esc(std::string_view s) { return xml_escape(s); }
std::string px(double v) { return svg_px(v); }

/// Short human-readable value for tooltips and colour-bar labels (4 significant digits).
std::string short_value(double v, int digits = 4) {
  if (std::isnan(v)) return "NaN";
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*g", digits, v);
  std::string s = buf;
  if (s == "-0") s = "0";
  return s;
}

std::uint64_t fnv1a(std::string_view s, std::uint64_t h = 1469598103934665603ULL) {
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return h;
}

/// Document-unique id prefix that is deterministic for identical input.
std::string id_prefix(std::string_view kind, std::string_view key) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%08llx", static_cast<unsigned long long>(fnv1a(key, fnv1a(kind)) & 0xffffffffULL));
  return std::string(kind) + "-" + buf;
}

std::string svg_open(double width, double height) {
  std::ostringstream o;
  o << "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"" << px(width) << "\" height=\"" << px(height)
    << "\" viewBox=\"0 0 " << px(width) << ' ' << px(height) << "\" font-family=\"sans-serif\" fill=\"" << kTextColor
    << "\">\n"
    << "  <rect x=\"0\" y=\"0\" width=\"" << px(width) << "\" height=\"" << px(height) << "\" fill=\"#ffffff\"/>\n";
  return o.str();
}

// ---------------------------------------------------------------------------------------------------------
// Ticks and axes

struct Tick {
  double pos;  ///< in axis coordinates (log10 for log axes)
  std::string label;
};

/// Whether an axis whose ticks reach `max_abs` with step exponent k should use scientific labels. Decided once
/// per axis so that all labels share one style.
bool use_scientific(double max_abs, int k) { return max_abs >= 1e7 || (max_abs > 0 && max_abs < 1e-4) || k < -6; }

/// Label for a tick value that is a multiple of 10^k (k = exponent of the tick step).
std::string tick_label(double v, int k, bool scientific) {
  if (v == 0) return "0";
  char buf[64];
  if (!scientific) {
    std::snprintf(buf, sizeof buf, "%.*f", std::max(0, -k), v);
    std::string s = buf;
    if (s == "-0") s = "0";
    return s;
  }
  // mantissa with just the digits the step needs, exponent without padding ("2e-5", "1.5e6"); 10^0 is "1"
  const int e = static_cast<int>(std::floor(std::log10(std::fabs(v)) + 1e-9));
  const int digits = std::max(0, e - k);
  std::snprintf(buf, sizeof buf, "%.*e", digits, v);
  std::string s = buf;
  const auto epos = s.find('e');
  std::string mant = s.substr(0, epos);
  if (mant.find('.') != std::string::npos) {
    while (mant.back() == '0') mant.pop_back();
    if (mant.back() == '.') mant.pop_back();
  }
  const int exp = std::stoi(s.substr(epos + 1));
  return exp == 0 ? mant : mant + "e" + std::to_string(exp);
}

/// Step m*10^k (m in {1,2,5}) giving about 5-8 ticks inside [lo, hi]; `integer` restricts it to k >= 0.
void nice_step(double lo, double hi, double& step, int& k, bool integer = false) {
  const double span = hi - lo;
  const int k0 = static_cast<int>(std::floor(std::log10(span)));
  double best_score = std::numeric_limits<double>::infinity();
  const int kmin = integer ? std::max(k0 - 2, 0) : k0 - 2, kmax = integer ? std::max(k0 + 1, 0) : k0 + 1;
  step = std::pow(10.0, std::max(k0, kmin));
  k = std::max(k0, kmin);
  for (int kk = kmin; kk <= kmax; ++kk) {
    for (int m : {1, 2, 5}) {
      const double s = m * std::pow(10.0, kk);
      const double first = std::ceil(lo / s - 1e-9), last = std::floor(hi / s + 1e-9);
      const double count = last - first + 1;
      const double score = (count >= 5 && count <= 8) ? std::fabs(count - 6) : 10 + std::fabs(count - 6);
      if (score < best_score) {
        best_score = score;
        step = s;
        k = kk;
      }
    }
  }
}

std::vector<Tick> linear_ticks(double lo, double hi, bool integer = false) {
  double step;
  int k;
  nice_step(lo, hi, step, k, integer);
  std::vector<Tick> ticks;
  const auto first = static_cast<long long>(std::ceil(lo / step - 1e-9));
  const auto last = static_cast<long long>(std::floor(hi / step + 1e-9));
  const double max_abs = std::max(std::fabs(static_cast<double>(first)), std::fabs(static_cast<double>(last))) * step;
  const bool sci = use_scientific(max_abs, k);
  for (long long i = first; i <= last; ++i) {
    const double v = static_cast<double>(i) * step;
    ticks.push_back({v, tick_label(v, k, sci)});
  }
  return ticks;
}

struct Axis {
  double lo = 0, hi = 1;  ///< domain in axis coordinates
  bool log = false;
  bool reversed = false;  ///< high values on the left (x axes only)
  std::vector<Tick> ticks;
  std::vector<double> minor;  ///< minor tick positions (log axes)

  double map(double v, double p0, double p1) const {
    const double t = (v - lo) / (hi - lo);
    return reversed ? p1 - t * (p1 - p0) : p0 + t * (p1 - p0);
  }
};

/// Pads [lo, hi] by `pad` of its span (a degenerate range gets a sensible width).
void widen(double& lo, double& hi, double pad) {
  if (!(hi > lo)) {
    const double d = lo == 0 ? 1.0 : std::fabs(lo) * 0.1;
    lo -= d;
    hi += d;
    return;
  }
  const double d = (hi - lo) * pad;
  lo -= d;
  hi += d;
}

Axis linear_axis(double lo, double hi, double pad_lo, double pad_hi, bool integer = false) {
  Axis a;
  if (!(hi > lo)) {
    widen(lo, hi, 0);
  } else {
    const double span = hi - lo;
    lo -= span * pad_lo;
    hi += span * pad_hi;
  }
  a.lo = lo;
  a.hi = hi;
  a.ticks = linear_ticks(lo, hi, integer);
  return a;
}

/// Axis over log10 values [lo, hi]; tick labels are the actual values (0.01, 1, 100).
Axis log_axis(double lo, double hi, double pad) {
  Axis a;
  a.log = true;
  if (!(hi > lo)) {
    lo -= 0.5;
    hi += 0.5;
  } else {
    const double d = (hi - lo) * pad;
    lo -= d;
    hi += d;
  }
  a.lo = lo;
  a.hi = hi;
  const int d0 = static_cast<int>(std::ceil(lo - 1e-9)), d1 = static_cast<int>(std::floor(hi + 1e-9));
  const int decades = d1 - d0 + 1;
  // one label style per axis: plain numbers for 1e-4 .. 1e6, scientific otherwise
  const bool sci = d0 < -4 || d1 > 6;
  if (decades >= 3) {
    const int stride = decades <= 8 ? 1 : (decades + 6) / 7;
    for (int e = d0; e <= d1; ++e)
      if (((e % stride) + stride) % stride == 0)
        a.ticks.push_back({static_cast<double>(e), tick_label(std::pow(10.0, e), e, sci)});
    if (stride == 1)
      for (int e = d0 - 1; e <= d1; ++e)
        for (int m = 2; m <= 9; ++m) {
          const double p = e + std::log10(static_cast<double>(m));
          if (p > lo && p < hi) a.minor.push_back(p);
        }
    return a;
  }
  // Less than three decades: 1-2-5 sequence, or plain nice values in linear space for very narrow ranges.
  for (int e = d0 - 1; e <= d1; ++e)
    for (int m : {1, 2, 5}) {
      const double p = e + std::log10(static_cast<double>(m));
      if (p >= lo - 1e-12 && p <= hi + 1e-12) a.ticks.push_back({p, tick_label(m * std::pow(10.0, e), e, sci)});
    }
  if (a.ticks.size() >= 3) {
    for (int e = d0 - 1; e <= d1; ++e)
      for (int m = 2; m <= 9; ++m) {
        const double p = e + std::log10(static_cast<double>(m));
        if (m != 2 && m != 5 && p > lo && p < hi) a.minor.push_back(p);
      }
    return a;
  }
  a.ticks.clear();
  const double vlo = std::pow(10.0, lo), vhi = std::pow(10.0, hi);
  double step;
  int k;
  nice_step(vlo, vhi, step, k);
  const bool sci_lin = use_scientific(vhi, k);
  for (long long i = static_cast<long long>(std::ceil(vlo / step - 1e-9));
       i <= static_cast<long long>(std::floor(vhi / step + 1e-9)); ++i) {
    const double v = static_cast<double>(i) * step;
    if (v > 0) a.ticks.push_back({std::log10(v), tick_label(v, k, sci_lin)});
  }
  return a;
}

struct Rect {
  double x0, y0, x1, y1;
};

/// Margins and frame shared by line plots and histograms: title, grid, ticks, tick labels, axis labels.
struct Frame {
  Rect area{};
  std::string clip_id;
};

Frame layout_frame(double width, double height, const std::string& title, const std::string& xlabel,
                   const std::string& ylabel, const Axis& xa, const Axis& ya) {
  double wy = 0;
  for (const auto& t : ya.ticks) wy = std::max(wy, text_width(t.label, kTickFont));
  double left = 10 + (ylabel.empty() ? 0 : kLabelFont + 12) + wy + 10;
  double right = 24;
  if (!xa.ticks.empty()) {
    // the rightmost x tick label is centred on its tick; keep it inside the canvas
    const double wlast = text_width((xa.reversed ? xa.ticks.front() : xa.ticks.back()).label, kTickFont);
    right = std::max(right, wlast / 2 + 6);
  }
  const double top = title.empty() ? 16 : 16 + kTitleFont + 16;
  const double bottom = 8 + kTickFont + 10 + (xlabel.empty() ? 0 : kLabelFont + 12) + 8;
  Frame f;
  f.area = {left, top, width - right, height - bottom};
  return f;
}

void draw_frame(std::ostringstream& o, const Frame& f, double width, const std::string& title,
                const std::string& xlabel, const std::string& ylabel, const Axis& xa, const Axis& ya) {
  const Rect& r = f.area;
  if (!title.empty())
    o << "  <text x=\"" << px(width / 2) << "\" y=\"" << px(16 + kTitleFont) << "\" text-anchor=\"middle\" font-size=\""
      << kTitleFont << "\" font-weight=\"bold\">" << esc(title) << "</text>\n";

  o << "  <g stroke=\"" << kGridColor << "\" stroke-width=\"1\">\n";
  for (const auto& t : xa.ticks) {
    const double x = xa.map(t.pos, r.x0, r.x1);
    if (x < r.x0 - 0.5 || x > r.x1 + 0.5) continue;
    o << "    <line x1=\"" << px(x) << "\" y1=\"" << px(r.y0) << "\" x2=\"" << px(x) << "\" y2=\"" << px(r.y1)
      << "\"/>\n";
  }
  for (const auto& t : ya.ticks) {
    const double y = ya.map(t.pos, r.y1, r.y0);
    if (y < r.y0 - 0.5 || y > r.y1 + 0.5) continue;
    o << "    <line x1=\"" << px(r.x0) << "\" y1=\"" << px(y) << "\" x2=\"" << px(r.x1) << "\" y2=\"" << px(y)
      << "\"/>\n";
  }
  o << "  </g>\n";

  // ticks
  o << "  <g stroke=\"" << kAxisColor << "\" stroke-width=\"1\">\n";
  for (const auto& t : xa.ticks) {
    const double x = xa.map(t.pos, r.x0, r.x1);
    o << "    <line x1=\"" << px(x) << "\" y1=\"" << px(r.y1) << "\" x2=\"" << px(x) << "\" y2=\"" << px(r.y1 + 5)
      << "\"/>\n";
  }
  for (double m : xa.minor) {
    const double x = xa.map(m, r.x0, r.x1);
    o << "    <line x1=\"" << px(x) << "\" y1=\"" << px(r.y1) << "\" x2=\"" << px(x) << "\" y2=\"" << px(r.y1 + 3)
      << "\"/>\n";
  }
  for (const auto& t : ya.ticks) {
    const double y = ya.map(t.pos, r.y1, r.y0);
    o << "    <line x1=\"" << px(r.x0 - 5) << "\" y1=\"" << px(y) << "\" x2=\"" << px(r.x0) << "\" y2=\"" << px(y)
      << "\"/>\n";
  }
  for (double m : ya.minor) {
    const double y = ya.map(m, r.y1, r.y0);
    o << "    <line x1=\"" << px(r.x0 - 3) << "\" y1=\"" << px(y) << "\" x2=\"" << px(r.x0) << "\" y2=\"" << px(y)
      << "\"/>\n";
  }
  o << "  </g>\n";
  o << "  <rect x=\"" << px(r.x0) << "\" y=\"" << px(r.y0) << "\" width=\"" << px(r.x1 - r.x0) << "\" height=\""
    << px(r.y1 - r.y0) << "\" fill=\"none\" stroke=\"" << kAxisColor << "\" stroke-width=\"1\"/>\n";

  // tick labels
  o << "  <g font-size=\"" << kTickFont << "\">\n";
  for (const auto& t : xa.ticks) {
    const double x = xa.map(t.pos, r.x0, r.x1);
    o << "    <text x=\"" << px(x) << "\" y=\"" << px(r.y1 + 8 + kTickFont) << "\" text-anchor=\"middle\">"
      << esc(t.label) << "</text>\n";
  }
  for (const auto& t : ya.ticks) {
    const double y = ya.map(t.pos, r.y1, r.y0);
    o << "    <text x=\"" << px(r.x0 - 8) << "\" y=\"" << px(y + kTickFont * 0.35) << "\" text-anchor=\"end\">"
      << esc(t.label) << "</text>\n";
  }
  o << "  </g>\n";

  if (!xlabel.empty())
    o << "  <text x=\"" << px((r.x0 + r.x1) / 2) << "\" y=\"" << px(r.y1 + 8 + kTickFont + 10 + kLabelFont)
      << "\" text-anchor=\"middle\" font-size=\"" << kLabelFont << "\">" << esc(xlabel) << "</text>\n";
  if (!ylabel.empty()) {
    const double x = 10 + kLabelFont, y = (r.y0 + r.y1) / 2;
    o << "  <text x=\"" << px(x) << "\" y=\"" << px(y) << "\" text-anchor=\"middle\" font-size=\"" << kLabelFont
      << "\" transform=\"rotate(-90 " << px(x) << ' ' << px(y) << ")\">" << esc(ylabel) << "</text>\n";
  }
}

void open_clip(std::ostringstream& o, const Frame& f) {
  const Rect& r = f.area;
  o << "  <defs>\n    <clipPath id=\"" << f.clip_id << "\">\n      <rect x=\"" << px(r.x0) << "\" y=\"" << px(r.y0)
    << "\" width=\"" << px(r.x1 - r.x0) << "\" height=\"" << px(r.y1 - r.y0) << "\"/>\n    </clipPath>\n  </defs>\n";
}

/// Vertical marker lines with their labels. A label is written upwards along its line, by default left of the
/// line at the bottom of the axes; when it would collide with an earlier label it moves to the right of the line,
/// then to the top.
void draw_vlines(std::ostringstream& o, const std::vector<VLine>& vlines, const Axis& xa, const Rect& r) {
  struct Box {
    double x0, x1, y0, y1;
  };
  std::vector<Box> taken;
  auto overlaps = [&](const Box& b) {
    for (const auto& t : taken)
      if (b.x0 < t.x1 + 3 && t.x0 < b.x1 + 3 && b.y0 < t.y1 + 3 && t.y0 < b.y1 + 3) return true;
    return false;
  };
  const double glyph = kSmallFont * 0.8;  // horizontal extent of an upright-rotated line of text
  for (const auto& v : vlines) {
    const double xv = xa.log ? std::log10(v.x) : v.x;
    const double x = xa.map(xv, r.x0, r.x1);
    const std::string color = v.color.empty() ? std::string("#444") : v.color;
    o << "  <line x1=\"" << px(x) << "\" y1=\"" << px(r.y0) << "\" x2=\"" << px(x) << "\" y2=\"" << px(r.y1)
      << "\" stroke=\"" << esc(color) << "\" stroke-width=\"1.3\"" << (v.dashed ? " stroke-dasharray=\"6 4\"" : "")
      << "/>\n";
    if (v.label.empty()) continue;
    const double len = text_width(v.label, kSmallFont);
    // candidates: (baseline x, bottom-anchored?)
    const std::array<std::pair<double, bool>, 4> slots = {
        {{x - 4, true}, {x + 4 + glyph, true}, {x - 4, false}, {x + 4 + glyph, false}}};
    std::size_t pick = 0;
    Box box{};
    for (std::size_t k = 0; k < slots.size(); ++k) {
      const auto [bx, bottom] = slots[k];
      const Box b{bx - glyph, bx, bottom ? r.y1 - 6 - len : r.y0 + 6, bottom ? r.y1 - 6 : r.y0 + 6 + len};
      if (k == 0) box = b;
      if (b.x0 < r.x0 || b.x1 > r.x1 || overlaps(b)) continue;
      pick = k;
      box = b;
      break;
    }
    taken.push_back(box);
    const auto [tx, bottom] = slots[pick];
    const double ty = bottom ? r.y1 - 6 : r.y0 + 6;
    o << "  <text x=\"" << px(tx) << "\" y=\"" << px(ty) << "\" font-size=\"" << kSmallFont << "\" fill=\""
      << esc(color) << "\" stroke=\"#ffffff\" stroke-width=\"3\" stroke-linejoin=\"round\" paint-order=\"stroke\""
      << (bottom ? "" : " text-anchor=\"end\"") << " transform=\"rotate(-90 " << px(tx) << ' ' << px(ty) << ")\">"
      << esc(v.label) << "</text>\n";
  }
}

void check_size(const char* what, int width, int height) {
  if (width < 200 || height < 150 || width > 20000 || height > 20000)
    throw InvalidArgument(std::string(what) +
                          ": width and height must be between 200 x 150 and 20000 x 20000 px (got " +
                          std::to_string(width) + " x " + std::to_string(height) + ")");
}

/// "'label'" or "#3" (1-based position) for unlabeled items.
std::string item_name(const std::string& label, std::size_t i) {
  std::string out;
  if (label.empty()) {
    out += '#';
    out += std::to_string(i + 1);
  } else {
    out += '\'';
    out += label;
    out += '\'';
  }
  return out;
}

std::string series_name(const Series& s, std::size_t i) { return item_name(s.label, i); }
std::string vline_name(const VLine& v, std::size_t i) { return item_name(v.label, i); }

void check_vlines(const char* what, const std::vector<VLine>& vlines, bool log_x) {
  for (std::size_t i = 0; i < vlines.size(); ++i) {
    if (!std::isfinite(vlines[i].x))
      throw InvalidArgument(std::string(what) + ": vline " + vline_name(vlines[i], i) + " has a non-finite x");
    if (log_x && vlines[i].x <= 0)
      throw InvalidArgument(std::string(what) + ": log_x needs x > 0 but vline " + vline_name(vlines[i], i) +
                            " is at x = " + short_value(vlines[i].x, 6));
  }
}

// ---------------------------------------------------------------------------------------------------------
// Colour maps

struct Rgb {
  double r, g, b;
};

Rgb hex(const char* s) {
  unsigned v = 0;
  std::sscanf(s + 1, "%x", &v);
  return {static_cast<double>((v >> 16) & 255), static_cast<double>((v >> 8) & 255), static_cast<double>(v & 255)};
}

constexpr std::array<const char*, 9> kDiverging = {"#2166ac", "#4393c3", "#92c5de", "#d1e5f0", "#ffffff",
                                                   "#fddbc7", "#f4a582", "#d6604d", "#b2182b"};
constexpr std::array<const char*, 9> kSequential = {"#ffffff", "#deebf7", "#c6dbef", "#9ecae1", "#6baed6",
                                                    "#4292c6", "#2171b5", "#08519c", "#08306b"};

/// Colour at u in [0, 1] of a piecewise-linear map through the given stops.
std::string colormap(const std::array<const char*, 9>& stops, double u) {
  u = std::clamp(u, 0.0, 1.0);
  const double f = u * (stops.size() - 1);
  const std::size_t i = std::min<std::size_t>(static_cast<std::size_t>(f), stops.size() - 2);
  const double t = f - static_cast<double>(i);
  const Rgb a = hex(stops[i]), b = hex(stops[i + 1]);
  char buf[16];
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x", static_cast<int>(std::lround(a.r + (b.r - a.r) * t)),
                static_cast<int>(std::lround(a.g + (b.g - a.g) * t)),
                static_cast<int>(std::lround(a.b + (b.b - a.b) * t)));
  return buf;
}

}  // namespace

// =========================================================================================================
// Validation

void LinePlot::validate() const {
  check_size("plot", width, height);
  std::size_t finite = 0;
  for (std::size_t i = 0; i < series.size(); ++i) {
    const Series& s = series[i];
    const std::string name = series_name(s, i);
    if (s.x.size() != s.y.size())
      throw InvalidArgument("plot: series " + name + " has " + std::to_string(s.x.size()) + " x values but " +
                            std::to_string(s.y.size()) + " y values");
    if (!s.yerr.empty() && s.yerr.size() != s.y.size())
      throw InvalidArgument("plot: series " + name + " has " + std::to_string(s.yerr.size()) + " error values but " +
                            std::to_string(s.y.size()) + " y values");
    for (std::size_t k = 0; k < s.x.size(); ++k) {
      if (log_x && std::isfinite(s.x[k]) && s.x[k] <= 0)
        throw InvalidArgument("plot: log_x needs x > 0 but series " + name + " has x = " + short_value(s.x[k], 6) +
                              " at point " + std::to_string(k + 1));
      if (!s.yerr.empty() && std::isfinite(s.yerr[k]) && s.yerr[k] < 0)
        throw InvalidArgument("plot: series " + name + " has a negative error value (" + short_value(s.yerr[k], 6) +
                              ") at point " + std::to_string(k + 1));
      if (std::isfinite(s.x[k]) && std::isfinite(s.y[k])) ++finite;
    }
  }
  check_vlines("plot", vlines, log_x);
  if (finite == 0) throw InvalidArgument("plot: no finite data point to draw");
}

void Heatmap::validate() const {
  if (values.rows() == 0 || values.cols() == 0)
    throw InvalidArgument("heatmap: empty value matrix (" + std::to_string(values.rows()) + " x " +
                          std::to_string(values.cols()) + ")");
  if (!row_labels.empty() && row_labels.size() != static_cast<std::size_t>(values.rows()))
    throw InvalidArgument("heatmap: " + std::to_string(row_labels.size()) + " row labels for " +
                          std::to_string(values.rows()) + " rows");
  if (!col_labels.empty() && col_labels.size() != static_cast<std::size_t>(values.cols()))
    throw InvalidArgument("heatmap: " + std::to_string(col_labels.size()) + " column labels for " +
                          std::to_string(values.cols()) + " columns");
  if (cell < 4 || cell > 200)
    throw InvalidArgument("heatmap: cell size must be between 4 and 200 px (got " + std::to_string(cell) + ")");
  for (Eigen::Index i = 0; i < values.rows(); ++i)
    for (Eigen::Index j = 0; j < values.cols(); ++j)
      if (std::isinf(values(i, j)))
        throw InvalidArgument("heatmap: value at row " + std::to_string(i + 1) + ", column " + std::to_string(j + 1) +
                              " is infinite");
}

void Histogram::validate() const {
  check_size("histogram", width, height);
  if (counts.empty()) throw InvalidArgument("histogram: no bins (counts is empty)");
  if (edges.size() != counts.size() + 1)
    throw InvalidArgument("histogram: " + std::to_string(edges.size()) + " edges for " + std::to_string(counts.size()) +
                          " counts (need counts + 1 edges)");
  for (std::size_t i = 0; i < edges.size(); ++i) {
    if (!std::isfinite(edges[i])) throw InvalidArgument("histogram: edge " + std::to_string(i + 1) + " is not finite");
    if (i > 0 && !(edges[i] > edges[i - 1]))
      throw InvalidArgument("histogram: edges must be strictly increasing (edge " + std::to_string(i + 1) + " = " +
                            short_value(edges[i], 6) + " after " + short_value(edges[i - 1], 6) + ")");
  }
  for (std::size_t i = 0; i < counts.size(); ++i)
    if (!std::isfinite(counts[i]) || counts[i] < 0)
      throw InvalidArgument("histogram: count " + std::to_string(i + 1) + " must be finite and >= 0 (got " +
                            short_value(counts[i], 6) + ")");
  check_vlines("histogram", vlines, false);
}

// =========================================================================================================
// Line plot

namespace {

/// Data extents of a line plot in axis coordinates (log10 x for log axes), including error bars and vlines.
struct Extents {
  double xlo = std::numeric_limits<double>::infinity(), xhi = -std::numeric_limits<double>::infinity();
  double ylo = std::numeric_limits<double>::infinity(), yhi = -std::numeric_limits<double>::infinity();
};

Extents line_extents(const LinePlot& plot) {
  auto tx = [&](double x) { return plot.log_x ? std::log10(x) : x; };
  Extents e;
  for (const auto& s : plot.series)
    for (std::size_t k = 0; k < s.x.size(); ++k) {
      if (!std::isfinite(s.x[k]) || !std::isfinite(s.y[k])) continue;
      const double x = tx(s.x[k]);
      e.xlo = std::min(e.xlo, x);
      e.xhi = std::max(e.xhi, x);
      const double err = (!s.yerr.empty() && std::isfinite(s.yerr[k])) ? s.yerr[k] : 0.0;
      e.ylo = std::min(e.ylo, s.y[k] - err);
      e.yhi = std::max(e.yhi, s.y[k] + err);
    }
  for (const auto& v : plot.vlines) {
    e.xlo = std::min(e.xlo, tx(v.x));
    e.xhi = std::max(e.xhi, tx(v.x));
  }
  return e;
}

struct LineAxes {
  Axis xa, ya;
};

/// Axes of a (validated) line plot; `x_range` (axis coordinates) replaces the plot's own x extent when given so
/// that stacked panels share one x axis.
LineAxes line_axes(const LinePlot& plot, const std::pair<double, double>* x_range) {
  const Extents e = line_extents(plot);
  const double xlo = x_range ? x_range->first : e.xlo, xhi = x_range ? x_range->second : e.xhi;
  LineAxes a;
  a.xa = plot.log_x ? log_axis(xlo, xhi, 0.04) : linear_axis(xlo, xhi, 0.04, 0.04, plot.integer_x);
  a.xa.reversed = plot.reverse_x;
  a.ya = linear_axis(e.ylo, e.yhi, 0.06, 0.06);
  return a;
}

/// How a line plot is placed when it is one panel of a stacked figure.
struct PanelPlacement {
  const std::pair<double, double>* x_range = nullptr;  ///< shared x domain (axis coordinates)
  double left = -1;                                    ///< plot-area left edge in px; < 0 = automatic
  double y_offset = 0;                                 ///< px from the top of the outer SVG
  std::string id_salt;                                 ///< keeps element ids unique between panels
  bool nested = false;                                 ///< emit a nested <svg> instead of a root element
};

std::string render_line(const LinePlot& plot, const PanelPlacement& place) {
  auto tx = [&](double x) { return plot.log_x ? std::log10(x) : x; };
  const LineAxes axes = line_axes(plot, place.x_range);
  const Axis& xa = axes.xa;
  const Axis& ya = axes.ya;

  const double W = plot.width, H = plot.height;
  Frame f = layout_frame(W, H, plot.title, plot.xlabel, plot.ylabel, xa, ya);
  if (place.left >= 0) f.area.x0 = place.left;
  f.clip_id = id_prefix("clip", plot.title + "\x1f" + plot.xlabel + "\x1f" + plot.ylabel + "\x1f" +
                                    std::to_string(plot.series.size()) + place.id_salt);
  const Rect& r = f.area;

  std::ostringstream o;
  if (place.nested)
    o << "<svg x=\"0\" y=\"" << px(place.y_offset) << "\" width=\"" << px(W) << "\" height=\"" << px(H)
      << "\" viewBox=\"0 0 " << px(W) << ' ' << px(H) << "\">\n";
  else
    o << svg_open(W, H);
  open_clip(o, f);
  draw_frame(o, f, W, plot.title, plot.xlabel, plot.ylabel, xa, ya);

  std::vector<std::string> colors;
  std::size_t cycle = 0;
  for (const auto& s : plot.series) colors.push_back(s.color.empty() ? kPalette[cycle++ % kPalette.size()] : s.color);

  auto X = [&](double x) { return xa.map(tx(x), r.x0, r.x1); };
  auto Y = [&](double y) { return ya.map(y, r.y1, r.y0); };

  o << "  <g clip-path=\"url(#" << f.clip_id << ")\">\n";
  for (std::size_t i = 0; i < plot.series.size(); ++i) {
    const Series& s = plot.series[i];
    const std::string color = esc(colors[i]);
    o << "    <g class=\"series\">\n";
    if (!s.label.empty()) o << "      <title>" << esc(s.label) << "</title>\n";
    if (!s.yerr.empty()) {
      o << "      <g stroke=\"" << color << "\" stroke-width=\"1\" stroke-opacity=\"0.75\">\n";
      for (std::size_t k = 0; k < s.x.size(); ++k) {
        if (!std::isfinite(s.x[k]) || !std::isfinite(s.y[k]) || !std::isfinite(s.yerr[k]) || s.yerr[k] == 0) continue;
        const double x = X(s.x[k]), y0 = Y(s.y[k] - s.yerr[k]), y1 = Y(s.y[k] + s.yerr[k]);
        o << "        <path d=\"M" << px(x) << ' ' << px(y0) << "V" << px(y1) << "M" << px(x - 3) << ' ' << px(y0)
          << "H" << px(x + 3) << "M" << px(x - 3) << ' ' << px(y1) << "H" << px(x + 3) << "\"/>\n";
      }
      o << "      </g>\n";
    }
    if (s.line) {
      // non-finite points break the line into separate segments
      std::string points;
      std::size_t n_points = 0;
      auto flush = [&]() {
        if (n_points >= 2)
          o << "      <polyline points=\"" << points << "\" fill=\"none\" stroke=\"" << color
            << "\" stroke-width=\"1.8\" stroke-linejoin=\"round\" stroke-linecap=\"round\"/>\n";
        points.clear();
        n_points = 0;
      };
      for (std::size_t k = 0; k < s.x.size(); ++k) {
        if (!std::isfinite(s.x[k]) || !std::isfinite(s.y[k])) {
          flush();
          continue;
        }
        if (n_points) points += ' ';
        points += px(X(s.x[k])) + "," + px(Y(s.y[k]));
        ++n_points;
      }
      flush();
    }
    // a series without line and markers would be invisible: draw markers then
    const bool markers = s.markers || !s.line;
    bool lone_point = false;  // a line series with one finite point is only visible as a marker
    if (s.line && !s.markers) {
      std::size_t n = 0;
      for (std::size_t k = 0; k < s.x.size(); ++k) n += std::isfinite(s.x[k]) && std::isfinite(s.y[k]);
      lone_point = n == 1;
    }
    if (markers || lone_point) {
      o << "      <g fill=\"" << color << "\" stroke=\"#ffffff\" stroke-width=\"0.8\">\n";
      for (std::size_t k = 0; k < s.x.size(); ++k) {
        if (!std::isfinite(s.x[k]) || !std::isfinite(s.y[k])) continue;
        o << "        <circle cx=\"" << px(X(s.x[k])) << "\" cy=\"" << px(Y(s.y[k])) << "\" r=\"3.2\"/>\n";
      }
      o << "      </g>\n";
    }
    o << "    </g>\n";
  }
  o << "  </g>\n";

  draw_vlines(o, plot.vlines, xa, r);

  // legend (top right, inside the axes)
  std::vector<std::size_t> entries;
  double wmax = 0;
  for (std::size_t i = 0; i < plot.series.size(); ++i)
    if (!plot.series[i].label.empty()) {
      entries.push_back(i);
      wmax = std::max(wmax, text_width(plot.series[i].label, kSmallFont + 1));
    }
  if (!entries.empty()) {
    const double row = 18, pad = 8, sample = 24;
    const double bw = pad + sample + 6 + wmax + pad, bh = pad + row * static_cast<double>(entries.size()) + pad - 4;
    // Sample the drawn data in pixel space and put the legend in the corner that hides the least of it
    // (top right first on ties).
    std::vector<std::pair<double, double>> samples;
    for (const auto& s : plot.series) {
      bool have_prev = false;
      double px_prev = 0, py_prev = 0;
      for (std::size_t k = 0; k < s.x.size(); ++k) {
        if (!std::isfinite(s.x[k]) || !std::isfinite(s.y[k])) {
          have_prev = false;
          continue;
        }
        const double X0 = X(s.x[k]), Y0 = Y(s.y[k]);
        samples.emplace_back(X0, Y0);
        if (!s.yerr.empty() && std::isfinite(s.yerr[k])) {
          samples.emplace_back(X0, Y(s.y[k] - s.yerr[k]));
          samples.emplace_back(X0, Y(s.y[k] + s.yerr[k]));
        }
        if (have_prev && s.line) {
          const double d = std::hypot(X0 - px_prev, Y0 - py_prev);
          const int steps = static_cast<int>(std::min(50.0, d / 4));
          for (int t = 1; t < steps; ++t) {
            const double f = static_cast<double>(t) / steps;
            samples.emplace_back(px_prev + (X0 - px_prev) * f, py_prev + (Y0 - py_prev) * f);
          }
        }
        have_prev = true;
        px_prev = X0;
        py_prev = Y0;
      }
    }
    const std::array<std::pair<double, double>, 4> corners = {
        {{r.x1 - 8 - bw, r.y0 + 8}, {r.x0 + 8, r.y0 + 8}, {r.x1 - 8 - bw, r.y1 - 8 - bh}, {r.x0 + 8, r.y1 - 8 - bh}}};
    std::size_t best = 0, best_hits = std::numeric_limits<std::size_t>::max();
    for (std::size_t c = 0; c < corners.size(); ++c) {
      const auto [cx, cy] = corners[c];
      std::size_t hits = 0;
      for (const auto& [sx, sy] : samples)
        hits += sx >= cx - 4 && sx <= cx + bw + 4 && sy >= cy - 4 && sy <= cy + bh + 4;
      if (hits < best_hits) {
        best_hits = hits;
        best = c;
      }
    }
    const double bx = corners[best].first, by = corners[best].second;
    o << "  <g class=\"legend\" font-size=\"" << kSmallFont + 1 << "\">\n";
    o << "    <rect x=\"" << px(bx) << "\" y=\"" << px(by) << "\" width=\"" << px(bw) << "\" height=\"" << px(bh)
      << "\" rx=\"3\" fill=\"#ffffff\" fill-opacity=\"0.9\" stroke=\"#bbbbbb\" stroke-width=\"1\"/>\n";
    for (std::size_t e = 0; e < entries.size(); ++e) {
      const Series& s = plot.series[entries[e]];
      const std::string color = esc(colors[entries[e]]);
      const double cy = by + pad + row * static_cast<double>(e) + row / 2 - 2;
      const double sx0 = bx + pad, sx1 = sx0 + sample;
      if (s.line)
        o << "    <line x1=\"" << px(sx0) << "\" y1=\"" << px(cy) << "\" x2=\"" << px(sx1) << "\" y2=\"" << px(cy)
          << "\" stroke=\"" << color << "\" stroke-width=\"2\"/>\n";
      if (s.markers || !s.line)
        o << "    <circle cx=\"" << px((sx0 + sx1) / 2) << "\" cy=\"" << px(cy) << "\" r=\"3.2\" fill=\"" << color
          << "\"/>\n";
      o << "    <text x=\"" << px(sx1 + 6) << "\" y=\"" << px(cy + (kSmallFont + 1) * 0.35) << "\">" << esc(s.label)
        << "</text>\n";
    }
    o << "  </g>\n";
  }
  o << "</svg>\n";
  return o.str();
}

}  // namespace

std::string render_svg(const LinePlot& plot) {
  plot.validate();
  return render_line(plot, PanelPlacement{});
}

std::string render_svg_stacked(const std::vector<LinePlot>& panels) {
  if (panels.empty()) throw InvalidArgument("stacked plot: no panels");
  for (std::size_t i = 0; i < panels.size(); ++i) {
    panels[i].validate();
    const LinePlot& p = panels[i];
    if (p.width != panels[0].width || p.log_x != panels[0].log_x || p.reverse_x != panels[0].reverse_x ||
        p.integer_x != panels[0].integer_x)
      throw InvalidArgument("stacked plot: panel " + std::to_string(i + 1) +
                            " differs from panel 1 in width, log_x, reverse_x or integer_x (the panels share one x "
                            "axis)");
  }
  // one x domain for all panels, and the widest left margin so that the plot areas line up
  std::pair<double, double> x_range{std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity()};
  for (const auto& p : panels) {
    const Extents e = line_extents(p);
    x_range.first = std::min(x_range.first, e.xlo);
    x_range.second = std::max(x_range.second, e.xhi);
  }
  double left = 0, total_h = 0;
  for (const auto& p : panels) {
    const LineAxes a = line_axes(p, &x_range);
    left = std::max(left, layout_frame(p.width, p.height, p.title, p.xlabel, p.ylabel, a.xa, a.ya).area.x0);
    total_h += p.height;
  }
  std::ostringstream o;
  o << svg_open(panels[0].width, total_h);
  double y = 0;
  for (std::size_t i = 0; i < panels.size(); ++i) {
    PanelPlacement place;
    place.x_range = &x_range;
    place.left = left;
    place.y_offset = y;
    place.id_salt = "\x1fpanel" + std::to_string(i);
    place.nested = true;
    o << render_line(panels[i], place);
    y += panels[i].height;
  }
  o << "</svg>\n";
  return o.str();
}

// =========================================================================================================
// Heatmap

std::string render_svg(const Heatmap& plot) {
  plot.validate();
  const auto R = static_cast<std::size_t>(plot.values.rows()), C = static_cast<std::size_t>(plot.values.cols());
  const double cell = plot.cell;
  const double fs = std::clamp(cell * 0.55, 9.0, 12.0);
  constexpr double kSin45 = 0.70710678118654752;

  // value range
  double vmin = std::numeric_limits<double>::infinity(), vmax = -vmin;
  for (std::size_t i = 0; i < R; ++i)
    for (std::size_t j = 0; j < C; ++j) {
      const double v = plot.values(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j));
      if (std::isnan(v)) continue;
      vmin = std::min(vmin, v);
      vmax = std::max(vmax, v);
    }
  const bool any_finite = vmin <= vmax;
  double lo, hi;
  if (plot.diverging) {
    double m = any_finite ? std::max(std::fabs(vmin), std::fabs(vmax)) : 1.0;
    if (m == 0) m = 1;
    lo = -m;
    hi = m;
  } else {
    lo = any_finite ? vmin : 0.0;
    hi = any_finite ? vmax : 1.0;
  }
  const auto& stops = plot.diverging ? kDiverging : kSequential;
  auto color_of = [&](double v) { return colormap(stops, hi > lo ? (v - lo) / (hi - lo) : 0.5); };

  // layout
  double wrow = 0, wcol_max = 0;
  for (const auto& s : plot.row_labels) wrow = std::max(wrow, text_width(s, fs));
  for (const auto& s : plot.col_labels) wcol_max = std::max(wcol_max, text_width(s, fs));
  const double title_h = plot.title.empty() ? 12 : 16 + kTitleFont + 12;
  const double col_h = plot.col_labels.empty() ? 0 : wcol_max * kSin45 + fs * kSin45 + 8;
  const double gx = 12 + (wrow > 0 ? wrow + 8 : 0), gy = title_h + col_h;
  const double gw = cell * static_cast<double>(C), gh = cell * static_cast<double>(R);

  // rotated column labels start at the cell centre and run up-right: how far past the grid do they reach?
  double label_right = gx + gw;
  for (std::size_t j = 0; j < plot.col_labels.size(); ++j)
    label_right = std::max(label_right, gx + cell * (static_cast<double>(j) + 0.5) +
                                            (text_width(plot.col_labels[j], fs) + fs * 0.5) * kSin45);

  // colour bar to the right of the grid
  const double cb_x = gx + gw + 18, cb_w = 14, cb_h = std::max(gh, 90.0), cb_y = gy;
  struct CbTick {
    double v;
    std::string label;
  };
  std::vector<CbTick> cb_ticks;
  if (plot.diverging) {
    cb_ticks = {{lo, short_value(lo, 3)}, {0.0, "0"}, {hi, short_value(hi, 3)}};
  } else {
    cb_ticks.push_back({lo, short_value(lo, 3)});
    if (lo < 0 && hi > 0) cb_ticks.push_back({0.0, "0"});
    if (hi > lo) cb_ticks.push_back({hi, short_value(hi, 3)});
  }
  double w_cb_labels = 0;
  for (const auto& t : cb_ticks) w_cb_labels = std::max(w_cb_labels, text_width(t.label, kSmallFont));
  // rotate(90) text extends to the right of its baseline
  const double cb_label_x = cb_x + cb_w + 7 + w_cb_labels + 8;
  double right = plot.colorbar_label.empty() ? cb_x + cb_w + 7 + w_cb_labels : cb_label_x + kSmallFont + 2;
  right = std::max(right, label_right) + 12;
  double W = right;
  if (!plot.title.empty()) W = std::max(W, text_width(plot.title, kTitleFont) + 24);
  const double H = gy + std::max(gh, cb_h) + 14;

  const std::string ids = id_prefix("heatmap", plot.title + "\x1f" + std::to_string(R) + "x" + std::to_string(C));
  std::ostringstream o;
  o << svg_open(W, H);
  o << "  <defs>\n"
    << "    <pattern id=\"" << ids << "-nan\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\""
    << " patternTransform=\"rotate(45)\">\n"
    << "      <rect width=\"6\" height=\"6\" fill=\"#eeeeee\"/>\n"
    << "      <line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#c4c4c4\" stroke-width=\"1.5\"/>\n"
    << "    </pattern>\n"
    << "    <linearGradient id=\"" << ids << "-cb\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">\n";
  for (std::size_t k = 0; k < stops.size(); ++k)
    o << "      <stop offset=\"" << px(static_cast<double>(k) / (stops.size() - 1)) << "\" stop-color=\"" << stops[k]
      << "\"/>\n";
  o << "    </linearGradient>\n  </defs>\n";

  if (!plot.title.empty())
    o << "  <text x=\"" << px(W / 2) << "\" y=\"" << px(16 + kTitleFont) << "\" text-anchor=\"middle\" font-size=\""
      << kTitleFont << "\" font-weight=\"bold\">" << esc(plot.title) << "</text>\n";

  // cells
  o << "  <g stroke=\"#ffffff\" stroke-width=\"" << (cell >= 10 ? "1" : "0.5") << "\">\n";
  for (std::size_t i = 0; i < R; ++i)
    for (std::size_t j = 0; j < C; ++j) {
      const double v = plot.values(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j));
      const double x = gx + cell * static_cast<double>(j), y = gy + cell * static_cast<double>(i);
      const std::string fill = std::isnan(v) ? "url(#" + ids + "-nan)" : color_of(v);
      std::string tip = (i < plot.row_labels.size() ? plot.row_labels[i] : "row " + std::to_string(i + 1)) + " / " +
                        (j < plot.col_labels.size() ? plot.col_labels[j] : "column " + std::to_string(j + 1)) + ": " +
                        (std::isnan(v) ? std::string("missing") : short_value(v, 6));
      o << "    <rect x=\"" << px(x) << "\" y=\"" << px(y) << "\" width=\"" << px(cell) << "\" height=\"" << px(cell)
        << "\" fill=\"" << fill << "\"><title>" << esc(tip) << "</title></rect>\n";
    }
  o << "  </g>\n";
  o << "  <rect x=\"" << px(gx) << "\" y=\"" << px(gy) << "\" width=\"" << px(gw) << "\" height=\"" << px(gh)
    << "\" fill=\"none\" stroke=\"#999999\" stroke-width=\"0.8\"/>\n";

  // labels
  if (!plot.row_labels.empty()) {
    o << "  <g font-size=\"" << px(fs) << "\" text-anchor=\"end\">\n";
    for (std::size_t i = 0; i < R; ++i)
      o << "    <text x=\"" << px(gx - 6) << "\" y=\"" << px(gy + cell * (static_cast<double>(i) + 0.5) + fs * 0.35)
        << "\">" << esc(plot.row_labels[i]) << "</text>\n";
    o << "  </g>\n";
  }
  if (!plot.col_labels.empty()) {
    o << "  <g font-size=\"" << px(fs) << "\">\n";
    for (std::size_t j = 0; j < C; ++j) {
      const double x = gx + cell * (static_cast<double>(j) + 0.5) + fs * 0.25, y = gy - 6;
      o << "    <text x=\"" << px(x) << "\" y=\"" << px(y) << "\" transform=\"rotate(-45 " << px(x) << ' ' << px(y)
        << ")\">" << esc(plot.col_labels[j]) << "</text>\n";
    }
    o << "  </g>\n";
  }

  // colour bar
  o << "  <rect x=\"" << px(cb_x) << "\" y=\"" << px(cb_y) << "\" width=\"" << px(cb_w) << "\" height=\"" << px(cb_h)
    << "\" fill=\"url(#" << ids << "-cb)\" stroke=\"#999999\" stroke-width=\"0.8\"/>\n";
  o << "  <g font-size=\"" << kSmallFont << "\">\n";
  for (const auto& t : cb_ticks) {
    const double u = hi > lo ? (t.v - lo) / (hi - lo) : 0.5;
    const double y = cb_y + cb_h - u * cb_h;
    o << "    <line x1=\"" << px(cb_x + cb_w) << "\" y1=\"" << px(y) << "\" x2=\"" << px(cb_x + cb_w + 4) << "\" y2=\""
      << px(y) << "\" stroke=\"" << kAxisColor << "\"/>\n";
    o << "    <text x=\"" << px(cb_x + cb_w + 7) << "\" y=\"" << px(y + kSmallFont * 0.35) << "\">" << esc(t.label)
      << "</text>\n";
  }
  o << "  </g>\n";
  if (!plot.colorbar_label.empty()) {
    const double x = cb_label_x, y = cb_y + cb_h / 2;
    o << "  <text x=\"" << px(x) << "\" y=\"" << px(y) << "\" text-anchor=\"middle\" font-size=\"" << kSmallFont + 1
      << "\" transform=\"rotate(90 " << px(x) << ' ' << px(y) << ")\">" << esc(plot.colorbar_label) << "</text>\n";
  }
  o << "</svg>\n";
  return o.str();
}

// =========================================================================================================
// Histogram

std::string render_svg(const Histogram& plot) {
  plot.validate();
  const std::size_t n = plot.counts.size();
  double xlo = plot.edges.front(), xhi = plot.edges.back();
  for (const auto& v : plot.vlines) {
    xlo = std::min(xlo, v.x);
    xhi = std::max(xhi, v.x);
  }
  const Axis xa = linear_axis(xlo, xhi, 0.02, 0.02);

  double cmax = 0, cmin_pos = std::numeric_limits<double>::infinity();
  for (double c : plot.counts) {
    cmax = std::max(cmax, c);
    if (c > 0) cmin_pos = std::min(cmin_pos, c);
  }
  Axis ya;
  double baseline;  // in axis coordinates
  if (plot.log_y) {
    // bars start at 1 (or at the decade below the smallest positive value when counts are fractional)
    const double base =
        (cmin_pos >= 1 || !std::isfinite(cmin_pos)) ? 1.0 : std::pow(10.0, std::floor(std::log10(cmin_pos)));
    baseline = std::log10(base);
    const double top = cmax > base ? std::log10(cmax) : baseline + 1;
    const double span = std::max(top - baseline, 1.0);
    ya = log_axis(baseline, baseline + span * 1.08, 0.0);
    ya.lo = baseline;  // bars sit on the axis
  } else {
    baseline = 0;
    ya = linear_axis(0, cmax > 0 ? cmax : 1.0, 0.0, 0.06);
    ya.lo = 0;
  }

  const double W = plot.width, H = plot.height;
  Frame f = layout_frame(W, H, plot.title, plot.xlabel, plot.ylabel, xa, ya);
  f.clip_id = id_prefix("clip", "hist\x1f" + plot.title + "\x1f" + plot.xlabel + "\x1f" + std::to_string(n));
  const Rect& r = f.area;

  std::ostringstream o;
  o << svg_open(W, H);
  open_clip(o, f);
  draw_frame(o, f, W, plot.title, plot.xlabel, plot.ylabel, xa, ya);

  const double y_base = ya.map(baseline, r.y1, r.y0);
  o << "  <g clip-path=\"url(#" << f.clip_id << ")\" fill=\"" << kPalette[0] << "\" fill-opacity=\"0.85\">\n";
  for (std::size_t i = 0; i < n; ++i) {
    const double c = plot.counts[i];
    if (c <= 0) continue;
    const double x0 = xa.map(plot.edges[i], r.x0, r.x1), x1 = xa.map(plot.edges[i + 1], r.x0, r.x1);
    const double yv = ya.map(plot.log_y ? std::log10(c) : c, r.y1, r.y0);
    // a count equal to the log baseline (1) would have zero height: show it as a sliver, distinct from empty bins
    const double h = std::max(std::fabs(y_base - yv), 1.5);
    const double top = std::min(yv, y_base - h);
    o << "    <rect x=\"" << px(x0) << "\" y=\"" << px(top) << "\" width=\"" << px(x1 - x0) << "\" height=\"" << px(h)
      << "\"" << (x1 - x0 > 3 ? " stroke=\"#ffffff\" stroke-width=\"0.6\"" : "") << "><title>["
      << esc(short_value(plot.edges[i], 6)) << ", " << esc(short_value(plot.edges[i + 1], 6))
      << "): " << esc(short_value(c, 8)) << "</title></rect>\n";
  }
  o << "  </g>\n";
  draw_vlines(o, plot.vlines, xa, r);
  o << "</svg>\n";
  return o.str();
}

void save_svg(const std::filesystem::path& path, const std::string& svg) {
  write_file_atomic(path, std::string_view(svg));
}

}  // namespace tsunagu::core::plot
