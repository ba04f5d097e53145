// Inelastic backgrounds (background.hpp): iterative Shirley (Proctor–Sherwood), Tougaard universal cross-section,
// and the helpers the fitters use for active Shirley (cumulative integral) and polynomial backgrounds.
#include "tsunagu/spectra/background.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>

#include "tsunagu/core/error.hpp"

namespace tsunagu::spectra {

namespace {

std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

// x strictly ascending and finite, y finite and >= 0, same size, at least `min_points` points.
void check_xy(std::span<const double> x, std::span<const double> y, std::size_t min_points, const char* who) {
  if (x.size() != y.size())
    throw InvalidArgument(std::string(who) + ": x has " + std::to_string(x.size()) + " points but y has " +
                          std::to_string(y.size()));
  if (x.size() < min_points)
    throw InvalidArgument(std::string(who) + ": needs at least " + std::to_string(min_points) + " points, got " +
                          std::to_string(x.size()));
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (!std::isfinite(x[i]))
      throw InvalidArgument(std::string(who) + ": x[" + std::to_string(i) + "] is " + fmt(x[i]));
    if (!std::isfinite(y[i]) || y[i] < 0)
      throw InvalidArgument(std::string(who) + ": y[" + std::to_string(i) + "] = " + fmt(y[i]) +
                            " (counts must be finite and >= 0)");
    if (i > 0 && !(x[i] > x[i - 1]))
      throw InvalidArgument(std::string(who) + ": x must be strictly ascending (x[" + std::to_string(i - 1) +
                            "] = " + fmt(x[i - 1]) + ", x[" + std::to_string(i) + "] = " + fmt(x[i]) + ")");
  }
}

double mean(std::span<const double> v) {
  double s = 0;
  for (double a : v) s += a;
  return s / static_cast<double>(v.size());
}

}  // namespace

std::string to_string(BackgroundKind k) {
  switch (k) {
    case BackgroundKind::None:
      return "none";
    case BackgroundKind::Constant:
      return "constant";
    case BackgroundKind::Linear:
      return "linear";
    case BackgroundKind::Polynomial:
      return "polynomial";
    case BackgroundKind::Shirley:
      return "shirley";
    case BackgroundKind::ActiveShirley:
      return "active-shirley";
    case BackgroundKind::Tougaard:
      return "tougaard";
  }
  return "?";
}

BackgroundKind background_from_string(const std::string& text) {
  std::string s = text;
  for (auto& ch : s) ch = ch == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  for (auto k : {BackgroundKind::None, BackgroundKind::Constant, BackgroundKind::Linear, BackgroundKind::Polynomial,
                 BackgroundKind::Shirley, BackgroundKind::ActiveShirley, BackgroundKind::Tougaard})
    if (s == to_string(k)) return k;
  throw InvalidArgument("unknown background '" + text +
                        "' (valid: none, constant, linear, polynomial, shirley, active-shirley, tougaard)");
}

void ShirleyOptions::validate() const {
  if (max_iter < 1) throw InvalidArgument("shirley: max_iter must be >= 1 (got " + std::to_string(max_iter) + ")");
  if (!(tol > 0) || !std::isfinite(tol))
    throw InvalidArgument("shirley: tol must be finite and > 0 (got " + fmt(tol) + ")");
  if (end_points < 1) throw InvalidArgument("shirley: end_points must be >= 1 (got 0)");
}

std::vector<double> shirley_background(std::span<const double> x, std::span<const double> y,
                                       const ShirleyOptions& options) {
  options.validate();
  check_xy(x, y, std::max<std::size_t>(2, 2 * options.end_points), "shirley");
  const std::size_t n = x.size(), m = options.end_points;
  const double lo = mean(y.first(m)), hi = mean(y.last(m));
  double ymax = 0;
  for (double v : y) ymax = std::max(ymax, std::abs(v));
  const double stop = options.tol * std::max(ymax, 1e-300);

  // Proctor–Sherwood fixed point: B_i = lo + (hi − lo) Q_i / Q_{n−1}, Q_i = ∫_{x_0}^{x_i} (y − B) (trapezoid),
  // starting from the constant lo. Each sweep reuses one buffer for Q.
  std::vector<double> b(n, lo), q(n);
  for (int it = 0; it < options.max_iter; ++it) {
    q[0] = 0;
    for (std::size_t i = 1; i < n; ++i)
      q[i] = q[i - 1] + 0.5 * (x[i] - x[i - 1]) * ((y[i] - b[i]) + (y[i - 1] - b[i - 1]));
    const double total = q[n - 1];
    // No net signal above the current background: the step is undefined; the straight line between the anchors
    // is the only background consistent with them.
    if (!(total > 0)) {
      for (std::size_t i = 0; i < n; ++i) b[i] = lo + (hi - lo) * (x[i] - x[0]) / (x[n - 1] - x[0]);
      return b;
    }
    double change = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const double nb = lo + (hi - lo) * q[i] / total;
      change = std::max(change, std::abs(nb - b[i]));
      b[i] = nb;
    }
    if (change <= stop) break;
  }
  return b;  // after max_iter sweeps the last iterate (the fixed point converges geometrically in practice)
}

void TougaardOptions::validate() const {
  if (!(B > 0) || !std::isfinite(B)) throw InvalidArgument("tougaard: B must be finite and > 0 (got " + fmt(B) + ")");
  if (!(C > 0) || !std::isfinite(C)) throw InvalidArgument("tougaard: C must be finite and > 0 (got " + fmt(C) + ")");
  if (!(D >= 0) || !std::isfinite(D)) throw InvalidArgument("tougaard: D must be finite and >= 0 (got " + fmt(D) + ")");
  if (end_points < 1) throw InvalidArgument("tougaard: end_points must be >= 1 (got 0)");
}

std::vector<double> tougaard_background(std::span<const double> x, std::span<const double> y,
                                        const TougaardOptions& options, double* fitted_B) {
  options.validate();
  check_xy(x, y, std::max<std::size_t>(2, 2 * options.end_points), "tougaard");
  const std::size_t n = x.size(), m = options.end_points;
  const double y0 = mean(y.first(m)), yhi = mean(y.last(m));
  const double C = options.C, D = options.D;
  // K(T)/B: energy-loss cross-section per unit B for loss T = x_i − x_j > 0 (electrons from x_j < x_i).
  auto kernel = [C, D](double T) {
    const double T2 = T * T;
    if (D > 0) {
      const double a = C - T2;
      return T / (a * a + D * T2);
    }
    const double a = C + T2;
    return T / (a * a);
  };
  // S_i = Σ_{j<i} K(x_i − x_j)/B · (y_j − y0) · (x_{j+1} − x_j): rectangle rule over [x_j, x_{j+1}], O(n²).
  std::vector<double> s(n, 0.0);
  for (std::size_t i = 1; i < n; ++i) {
    double acc = 0;
    for (std::size_t j = 0; j < i; ++j) acc += kernel(x[i] - x[j]) * (y[j] - y0) * (x[j + 1] - x[j]);
    s[i] = acc;
  }
  double B = options.B;
  if (options.fit_B) {
    // Match the mean background over the last `end_points` channels to the mean data there. A non-positive
    // answer (no step, or loss intensity below y0) means no inelastic background: B = 0.
    const double s_hi = mean(std::span<const double>(s).last(m));
    B = s_hi > 0 ? std::max(0.0, (yhi - y0) / s_hi) : 0.0;
  }
  if (fitted_B) *fitted_B = B;
  for (std::size_t i = 0; i < n; ++i) s[i] = y0 + B * s[i];
  return s;
}

std::vector<double> cumulative_integral(std::span<const double> x, std::span<const double> f) {
  if (x.size() != f.size())
    throw InvalidArgument("cumulative_integral: x has " + std::to_string(x.size()) + " points but f has " +
                          std::to_string(f.size()));
  std::vector<double> out(x.size(), 0.0);
  for (std::size_t i = 1; i < x.size(); ++i) out[i] = out[i - 1] + 0.5 * (x[i] - x[i - 1]) * (f[i] + f[i - 1]);
  return out;
}

std::vector<double> polynomial_basis(std::span<const double> x, int degree) {
  if (degree < 0) throw InvalidArgument("polynomial_basis: degree must be >= 0 (got " + std::to_string(degree) + ")");
  if (x.empty()) throw InvalidArgument("polynomial_basis: x is empty");
  const std::size_t n = x.size(), nc = static_cast<std::size_t>(degree) + 1;
  double xbar = 0;
  for (double v : x) xbar += v;
  xbar /= static_cast<double>(n);
  std::vector<double> a(n * nc);
  for (std::size_t i = 0; i < n; ++i) {
    const double d = x[i] - xbar;
    double p = 1;
    for (std::size_t k = 0; k < nc; ++k, p *= d) a[k * n + i] = p;
  }
  return a;
}

}  // namespace tsunagu::spectra
