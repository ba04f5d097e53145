#include "tsunagu/spectra/model.hpp"

#include <algorithm>
#include <cmath>

#include "tsunagu/core/error.hpp"
#include "tsunagu/core/table.hpp"

namespace tsunagu::spectra {

std::string to_string(Method m) {
  switch (m) {
    case Method::Em: return "em";
    case Method::Lsq: return "lsq";
    case Method::Bayes: return "bayes";
  }
  return "?";
}

Method method_from_string(const std::string& s) {
  if (s == "em") return Method::Em;
  if (s == "lsq") return Method::Lsq;
  if (s == "bayes") return Method::Bayes;
  throw InvalidArgument("method '" + s + "' is not one of: em, lsq, bayes");
}

std::string to_string(Weighting w) { return w == Weighting::Poisson ? "poisson" : "gaussian"; }

Weighting weighting_from_string(const std::string& s) {
  if (s == "poisson") return Weighting::Poisson;
  if (s == "gaussian") return Weighting::Gaussian;
  throw InvalidArgument("weighting '" + s + "' is not one of: poisson, gaussian");
}

std::vector<double> Peak::params() const {
  std::vector<double> p{center, fwhm, area};
  p.insert(p.end(), shape_params.begin(), shape_params.end());
  return p;
}

void Peak::set_params(std::span<const double> p) {
  if (p.size() != n_params(shape))
    throw InvalidArgument("peak of shape " + to_string(shape) + " needs " + std::to_string(n_params(shape)) +
                          " parameters, got " + std::to_string(p.size()));
  center = p[kCenter];
  fwhm = p[kFwhm];
  area = p[kArea];
  shape_params.assign(p.begin() + kFirstShapeParam, p.end());
}

double Peak::height() const {
  const auto p = params();
  return area * profile(shape, p, peak_maximum(shape, p));
}

void Doublet::validate(std::size_t n_peaks) const {
  auto bad = [](const std::string& m) { return InvalidArgument("doublet: " + m); };
  if (first >= n_peaks || second >= n_peaks)
    throw bad("peak numbers " + std::to_string(first + 1) + ":" + std::to_string(second + 1) + " must be within 1.." +
              std::to_string(n_peaks));
  if (first == second) throw bad("a peak cannot be tied to itself (" + std::to_string(first + 1) + ")");
  if (!std::isfinite(splitting)) throw bad("splitting is not finite");
  if (!(area_ratio > 0) || !std::isfinite(area_ratio))
    throw bad("area_ratio must be > 0, got " + core::format_double(area_ratio));
}

Doublet parse_doublet(const std::string& text) {
  std::vector<std::string> f;
  std::size_t start = 0;
  while (true) {
    const auto c = text.find(':', start);
    f.push_back(text.substr(start, c == std::string::npos ? std::string::npos : c - start));
    if (c == std::string::npos) break;
    start = c + 1;
  }
  auto bad = [&](const std::string& m) {
    return InvalidArgument("--doublet '" + text + "': " + m + " (expected I:J:SPLIT:RATIO[:free], e.g. 1:2:13.6:0.5)");
  };
  if (f.size() < 4 || f.size() > 5) throw bad("wrong number of fields");
  auto num = [&](const std::string& t, const char* what) {
    std::size_t pos = 0;
    double v = 0;
    try {
      v = std::stod(t, &pos);
    } catch (const std::exception&) {
      throw bad(std::string(what) + " '" + t + "' is not a number");
    }
    if (pos != t.size() || !std::isfinite(v)) throw bad(std::string(what) + " '" + t + "' is not a number");
    return v;
  };
  auto index = [&](const std::string& t, const char* what) {
    const double v = num(t, what);
    if (v < 1 || v != std::floor(v)) throw bad(std::string(what) + " must be a peak number >= 1");
    return static_cast<std::size_t>(v) - 1;
  };
  Doublet d;
  d.first = index(f[0], "first peak");
  d.second = index(f[1], "second peak");
  d.splitting = num(f[2], "splitting");
  d.area_ratio = num(f[3], "ratio");
  if (f.size() == 5) {
    if (f[4] != "free") throw bad("fifth field must be 'free' (FWHM not shared)");
    d.share_fwhm = false;
  }
  if (d.first == d.second) throw bad("a peak cannot be tied to itself");
  if (!(d.area_ratio > 0)) throw bad("ratio must be > 0");
  return d;
}

namespace {
/// log(y!) — a table for the integer counts of real spectra (lgamma costs ~10 % of a warm-started batch fit),
/// lgamma otherwise (counts per second, large counts).
double log_factorial(double y) {
  constexpr std::size_t kTable = 1u << 16;
  static const std::vector<double> table = [] {
    std::vector<double> t(kTable);
    t[0] = 0;
    for (std::size_t k = 1; k < kTable; ++k) t[k] = t[k - 1] + std::log(static_cast<double>(k));
    return t;
  }();
  if (y >= 0 && y < static_cast<double>(kTable)) {
    const auto k = static_cast<std::size_t>(y);
    if (static_cast<double>(k) == y) return table[k];
  }
  return std::lgamma(y + 1.0);
}
}  // namespace

void compute_statistics(FitResult& r) {
  const std::size_t n = r.counts.size();
  if (r.model.size() != n) throw InvalidArgument("compute_statistics: model and counts differ in length");
  r.dof = n > r.n_free ? n - r.n_free : 0;
  double rss = 0, chi2 = 0, ll = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double y = r.counts[i], m = r.model[i], d = y - m;
    rss += d * d;
    if (r.weighting == Weighting::Poisson) {
      chi2 += d * d / std::max(y, 1.0);
      // Poisson log-likelihood; a model <= 0 where counts exist is impossible, so floor it.
      const double mm = std::max(m, 1e-300);
      ll += y * std::log(mm) - mm - log_factorial(y);
    }
  }
  r.rss = rss;
  std::size_t k = r.n_free;
  if (r.weighting == Weighting::Gaussian) {
    // Unit weights; σ² is estimated, so it counts as one more parameter in AIC/BIC.
    chi2 = rss;
    const double s2 = std::max(rss / static_cast<double>(n), 1e-300);
    ll = -0.5 * static_cast<double>(n) * (std::log(2 * M_PI * s2) + 1.0);
    k += 1;
  }
  r.chi2 = chi2;
  r.reduced_chi2 = r.dof > 0 ? chi2 / static_cast<double>(r.dof) : std::numeric_limits<double>::quiet_NaN();
  r.log_likelihood = ll;
  r.aic = 2.0 * static_cast<double>(k) - 2.0 * ll;
  r.bic = static_cast<double>(k) * std::log(static_cast<double>(n)) - 2.0 * ll;
}

std::vector<std::vector<double>> component_values(const FitResult& r) {
  const std::size_t n = r.energy.size();
  std::vector<double> u(n);
  for (std::size_t i = 0; i < n; ++i) u[i] = r.axis_sign * r.energy[i];
  std::vector<std::vector<double>> out;
  out.reserve(r.peaks.size());
  for (const Peak& pk : r.peaks) {
    auto p = pk.params();
    p[kCenter] *= r.axis_sign;  // evaluate on the binding-like axis so DS tails point the right way
    std::vector<double> v(n, 0.0);
    add_peak(pk.shape, p, u, v);
    out.push_back(std::move(v));
  }
  return out;
}

}  // namespace tsunagu::spectra
