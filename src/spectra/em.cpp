// Intensity-weighted EM / ECM peak fitting (see em.hpp for the model and the update formulas).
#include "tsunagu/spectra/em.hpp"

// GCC 12 reports -Wmaybe-uninitialized inside its own AVX-512 intrinsics (_mm512_undefined_pd) when Eigen's
// packet reductions are inlined; a known false positive, silenced for this file only.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <utility>

#include "tsunagu/core/error.hpp"
#include "tsunagu/core/random.hpp"
#include "tsunagu/core/table.hpp"

namespace tsunagu::spectra {

namespace {

using Eigen::ArrayXd;
using Eigen::ArrayXXd;

constexpr double kPi = 3.14159265358979323846;
constexpr double kCG = 0.42466090014400953;  // σ / FWHM of a Gaussian = 1 / (2 √(2 ln 2))
constexpr double kCL = 0.5;                  // γ / FWHM of a Lorentzian
constexpr double kInvSqrt2Pi = 0.39894228040143268;
constexpr double kInvSqrt2 = 0.70710678118654752;
constexpr double kTiny = 1e-300;             // floor of mixture densities (log and division stay finite)
constexpr double kMinPi = 1e-6;              // floor of starting weights (a zero weight never grows back)

std::string fmt(double v) { return core::format_double(v); }

std::string shape_name(Shape s) {
  switch (s) {
    case Shape::Gaussian: return "gauss";
    case Shape::Lorentzian: return "lorentz";
    case Shape::PseudoVoigt: return "pvoigt";
    case Shape::Voigt: return "voigt";
    case Shape::DoniachSunjic: return "ds";
    case Shape::DoniachSunjicGauss: return "ds_gauss";
  }
  return "?";
}

std::size_t n_free_params(const EmOptions& o) {
  const std::size_t per_peak = o.shape == Shape::PseudoVoigt && o.fit_eta ? 4 : 3;
  std::size_t bg = 0;
  switch (o.background) {
    case EmBackground::None: bg = 0; break;
    case EmBackground::Uniform: bg = 1; break;
    case EmBackground::Linear: bg = 2; break;
    case EmBackground::Step: bg = 2; break;
  }
  return per_peak * o.peaks() + bg;
}

}  // namespace

std::string to_string(EmBackground b) {
  switch (b) {
    case EmBackground::None: return "none";
    case EmBackground::Uniform: return "uniform";
    case EmBackground::Linear: return "linear";
    case EmBackground::Step: return "step";
  }
  return "?";
}

EmBackground em_background_from_string(const std::string& s) {
  if (s == "none") return EmBackground::None;
  if (s == "uniform") return EmBackground::Uniform;
  if (s == "linear") return EmBackground::Linear;
  if (s == "step") return EmBackground::Step;
  throw InvalidArgument("EM background '" + s + "' is not one of: none, uniform, linear, step");
}

void EmOptions::validate() const {
  auto bad = [](const std::string& field, const std::string& msg) {
    return InvalidArgument("EmOptions." + field + ": " + msg);
  };
  if (n_peaks == 0 && centers.empty()) throw bad("n_peaks", "must be >= 1 (or give centers)");
  if (n_peaks != 0 && !centers.empty() && centers.size() != n_peaks)
    throw bad("centers", "has " + std::to_string(centers.size()) + " values but n_peaks is " +
                             std::to_string(n_peaks));
  for (std::size_t k = 0; k < centers.size(); ++k)
    if (!std::isfinite(centers[k])) throw bad("centers", "value " + std::to_string(k + 1) + " is not finite");
  if (shape != Shape::Gaussian && shape != Shape::Lorentzian && shape != Shape::PseudoVoigt)
    throw bad("shape", "EM supports gauss, lorentz and pvoigt, not '" + shape_name(shape) + "'");
  if (restarts < 0) throw bad("restarts", "must be >= 0 (got " + std::to_string(restarts) + ")");
  if (max_iter < 1) throw bad("max_iter", "must be >= 1 (got " + std::to_string(max_iter) + ")");
  if (!(tol >= 0) || !std::isfinite(tol)) throw bad("tol", "must be finite and >= 0 (got " + fmt(tol) + ")");
  if (!(min_fwhm >= 0) || !std::isfinite(min_fwhm))
    throw bad("min_fwhm", "must be finite and >= 0 eV (got " + fmt(min_fwhm) + ")");
  if (!(max_fwhm >= 0) || !std::isfinite(max_fwhm))
    throw bad("max_fwhm", "must be finite and >= 0 eV (got " + fmt(max_fwhm) + ")");
  if (min_fwhm > 0 && max_fwhm > 0 && min_fwhm > max_fwhm)
    throw bad("min_fwhm", fmt(min_fwhm) + " eV exceeds max_fwhm " + fmt(max_fwhm) + " eV");
  if (!(eta >= 0 && eta <= 1)) throw bad("eta", "must be within [0, 1] (got " + fmt(eta) + ")");
}

// ---------------------------------------------------------------------------------------------------------------

struct EmFitter::Impl {
  // Parameters of one run. Mixture weights: pi[0..K) peaks, then background components (see comp_* below).
  struct State {
    std::vector<double> mu, fwhm, eta, pi;
    double s = 0;  // linear background slope (relative: density ∝ 1 + s (x − x̄))
  };

  // Window mass M of a peak and the complete-data statistics of its part outside the window (see tails()).
  struct Tails {
    double M = 1, o0 = 0, o1 = 0, o2 = 0, lout = 0;
  };

  EmOptions opt;
  std::size_t n = 0, K = 0, C = 0;      // points, peaks, components
  std::size_t comp_uniform = SIZE_MAX;  // index of the uniform component (Uniform, Step)
  std::size_t comp_linear = SIZE_MAX;   // index of the linear component
  std::size_t comp_step = SIZE_MAX;     // index of the step component
  double W = 0, xbar = 0, s_lo = 0, s_hi = 0, fwhm_lo = 0, fwhm_hi = 0;
  double win_lo = 0, win_hi = 0;  // window [x_0 − dx_0/2, x_{n−1} + dx_{n−1}/2] the peak densities are normalised on
  ArrayXd x, dx, d;   // axis, channel widths, x − x̄
  // Per-spectrum data and workspace (allocated once).
  std::vector<double> y;
  ArrayXd w, p, q, r, t;
  ArrayXXd F;   // (n × C) π_c f_c(x_i)
  ArrayXXd Fg;  // (n × K) Gaussian part of pseudo-Voigt peaks
  double A = 0;
  std::vector<double> N;  // (C) responsibilities per component
  std::vector<Tails> tl;  // (K) window masses / tail moments of the last E step
  State cur, best, sq1, sq2, sqp;  // sq*: SQUAREM's θ1, θ2, θ'  (sized once: copies do not allocate)
  std::vector<double> trace_cur, trace_best;
  std::vector<double> v, cum;  // (n) init scratch: peak weights above the baseline, cumulative sums
  core::Rng rng;

  Impl(std::span<const double> xs, const EmOptions& o) : opt(o) {
    opt.validate();
    K = opt.peaks();
    n = xs.size();
    const std::size_t need = n_free_params(opt);
    if (n < 2 || n < need)
      throw InvalidArgument("em: " + std::to_string(K) + " " + shape_name(opt.shape) + " peak(s) with a " +
                            to_string(opt.background) + " background have " + std::to_string(need) +
                            " free parameters but the spectrum has only " + std::to_string(n) + " points");
    for (std::size_t i = 0; i < n; ++i) {
      if (!std::isfinite(xs[i]))
        throw InvalidArgument("em: energy[" + std::to_string(i) + "] is not finite (" + fmt(xs[i]) + ")");
      if (i > 0 && !(xs[i] > xs[i - 1]))
        throw InvalidArgument("em: energies must be strictly ascending: energy[" + std::to_string(i) + "] = " +
                              fmt(xs[i]) + " <= energy[" + std::to_string(i - 1) + "] = " + fmt(xs[i - 1]));
    }
    x = Eigen::Map<const ArrayXd>(xs.data(), static_cast<Eigen::Index>(n));
    dx.resize(static_cast<Eigen::Index>(n));
    // Midpoint-rule channel widths; the ends get a full spacing (each channel is a bin centred on x_i).
    std::vector<double> spacing(n - 1);
    for (std::size_t i = 0; i + 1 < n; ++i) spacing[i] = xs[i + 1] - xs[i];
    dx(0) = spacing.front();
    dx(static_cast<Eigen::Index>(n - 1)) = spacing.back();
    for (std::size_t i = 1; i + 1 < n; ++i) dx(static_cast<Eigen::Index>(i)) = 0.5 * (xs[i + 1] - xs[i - 1]);
    W = dx.sum();
    win_lo = xs[0] - 0.5 * dx(0);
    win_hi = xs[n - 1] + 0.5 * dx(static_cast<Eigen::Index>(n - 1));
    xbar = (dx * x).sum() / W;  // so that Σ dx (1 + s (x − x̄)) = W for every s
    d = x - xbar;
    // s must keep 1 + s d_i > 0 at every channel; a small margin keeps the density strictly positive.
    constexpr double margin = 1 - 1e-6;
    s_lo = -margin / d.maxCoeff();
    s_hi = -margin / d.minCoeff();
    std::nth_element(spacing.begin(), spacing.begin() + static_cast<std::ptrdiff_t>(spacing.size() / 2),
                     spacing.end());
    const double median_spacing = spacing[spacing.size() / 2];
    fwhm_lo = opt.min_fwhm > 0 ? opt.min_fwhm : 2 * median_spacing;
    fwhm_hi = opt.max_fwhm > 0 ? opt.max_fwhm : xs[n - 1] - xs[0];
    if (fwhm_lo > fwhm_hi)
      throw InvalidArgument("EmOptions.min_fwhm: " + fmt(fwhm_lo) + " eV exceeds the maximum FWHM " + fmt(fwhm_hi) +
                            " eV" + (opt.max_fwhm > 0 ? "" : " (the window width)"));

    C = K;
    switch (opt.background) {
      case EmBackground::None: break;
      case EmBackground::Uniform: comp_uniform = C++; break;
      case EmBackground::Linear: comp_linear = C++; break;
      case EmBackground::Step:
        comp_uniform = C++;
        comp_step = C++;
        break;
    }
    const auto ni = static_cast<Eigen::Index>(n);
    y.resize(n);
    w.resize(ni);
    p.resize(ni);
    q.resize(ni);
    r.resize(ni);
    t.resize(ni);
    F.resize(ni, static_cast<Eigen::Index>(C));
    if (opt.shape == Shape::PseudoVoigt) Fg.resize(ni, static_cast<Eigen::Index>(K));
    N.resize(C);
    tl.resize(K);
    for (State* st : {&cur, &best, &sq1, &sq2, &sqp}) {
      st->mu.resize(K);
      st->fwhm.resize(K);
      st->eta.resize(K);
      st->pi.resize(C);
    }
    v.resize(n);
    cum.resize(n);
    if (opt.record_trace) {
      trace_cur.reserve(static_cast<std::size_t>(opt.max_iter) + 1);
      trace_best.reserve(static_cast<std::size_t>(opt.max_iter) + 1);
    }
  }

  // ---- window normalisation -------------------------------------------------------------------------------
  // For a peak (μ, FWHM, η): M = mass of the untruncated profile inside the window, and the expected complete-data
  // statistics of the part outside it (truncated-data EM, Dempster–Laird–Rubin 1977 §4.2) in the units of the
  // location weights a = r^G/c_G² + r^L·E[τ]/c_L²: o0 = ∫_out a, o1 = ∫_out a·d, o2 = ∫_out a·d² (d = x − μ) per
  // unit of complete mass, and lout = the Lorentzian part's mass outside. All zero (M = 1) when not normalising.
  Tails tails(double mu, double fwhm, double eta) const {
    Tails t;
    if (!opt.window_normalised) return t;
    double MG = 1, ML = 1, g0 = 0, g1 = 0, g2 = 0, l0 = 0, l1 = 0, l2 = 0;
    if (eta < 1) {  // Gaussian part: tails of N(μ, σ²) below win_lo and above win_hi
      const double sg = kCG * fwhm, al = (win_lo - mu) / sg, be = (win_hi - mu) / sg;
      const double P = 0.5 * std::erfc(-al * kInvSqrt2), Q = 0.5 * std::erfc(be * kInvSqrt2);
      const double pa = kInvSqrt2Pi * std::exp(-0.5 * al * al), pb = kInvSqrt2Pi * std::exp(-0.5 * be * be);
      MG = std::max(1 - P - Q, kTiny);
      g0 = P + Q;
      g1 = sg * (pb - pa);
      g2 = sg * sg * (P - al * pa + Q + be * pb);
    }
    if (eta > 0) {  // Lorentzian part: ∫ f·E[τ|x]·z^j over the tails, f·E[τ|x] = 2/(πγ) (1 + z²)^−2, z = d/γ
      const double g = kCL * fwhm, za = (win_lo - mu) / g, zb = (win_hi - mu) / g;
      const double ta = std::atan(za), tb = std::atan(zb), ra = za / (1 + za * za), rb = zb / (1 + zb * zb);
      ML = std::max((tb - ta) / kPi, kTiny);
      // antiderivatives: I0 = (z/(1+z²) + atan z)/2, I1 = −1/(2(1+z²)), I2 = (atan z − z/(1+z²))/2
      l0 = 2 / kPi * ((0.5 * (ra + ta) + kPi / 4) + (kPi / 4 - 0.5 * (rb + tb)));
      l1 = 2 * g / kPi * (-0.5 / (1 + za * za) + 0.5 / (1 + zb * zb));
      l2 = 2 * g * g / kPi * ((0.5 * (ta - ra) + kPi / 4) + (kPi / 4 - 0.5 * (tb - rb)));
    }
    constexpr double iG = 1 / (kCG * kCG), iL = 1 / (kCL * kCL);
    t.M = (1 - eta) * MG + eta * ML;
    t.o0 = (1 - eta) * g0 * iG + eta * l0 * iL;
    t.o1 = (1 - eta) * g1 * iG + eta * l1 * iL;
    t.o2 = (1 - eta) * g2 * iG + eta * l2 * iL;
    t.lout = eta * (1 - ML);
    return t;
  }

  // col = a·exp(b (x − μ)²), evaluated only where |x − μ| < 8.5 σ (exp(−36) ≈ 2e-16 of the maximum beyond, i.e.
  // below double precision of the peak itself) and 0 elsewhere: saves the exps far from narrow peaks.
  template <class Col>
  void gaussian_column(Col&& col, double mu, double sigma, double a, double b) const {
    const double reach = 8.5 * sigma;
    const double* xb = x.data();
    const auto i0 = static_cast<Eigen::Index>(std::lower_bound(xb, xb + n, mu - reach) - xb);
    const auto i1 = static_cast<Eigen::Index>(std::upper_bound(xb, xb + n, mu + reach) - xb);
    if (i1 <= i0) {
      col.setZero();
      return;
    }
    col.head(i0).setZero();
    col.segment(i0, i1 - i0) = a * ((x.segment(i0, i1 - i0) - mu).square() * b).exp();
    col.tail(static_cast<Eigen::Index>(n) - i1).setZero();
  }

  // ---- E step: F = π_c f_c(x_i), p = Σ_c F, returns L = Σ w log p -------------------------------------------
  double estep(const State& st) {
    for (std::size_t k = 0; k < K; ++k) {
      const auto kk = static_cast<Eigen::Index>(k);
      const double mu = st.mu[k], f = st.fwhm[k], eta = opt.shape == Shape::Gaussian     ? 0.0
                                                        : opt.shape == Shape::Lorentzian ? 1.0
                                                                                         : st.eta[k];
      tl[k] = tails(mu, f, eta);        // kept for the M step that follows
      const double pk = st.pi[k] / tl[k].M;  // density normalised on the window
      switch (opt.shape) {
        case Shape::Gaussian: {
          const double sigma = kCG * f, a = pk * kInvSqrt2Pi / sigma, b = -0.5 / (sigma * sigma);
          gaussian_column(F.col(kk), mu, sigma, a, b);
          break;
        }
        case Shape::Lorentzian: {
          const double g = kCL * f, a = pk * g / kPi;
          F.col(kk) = a / ((x - mu).square() + g * g);
          break;
        }
        default: {  // pseudo-Voigt
          const double sigma = kCG * f, b = -0.5 / (sigma * sigma), g = kCL * f;
          const double ag = pk * (1 - eta) * kInvSqrt2Pi / sigma, al = pk * eta * g / kPi;
          gaussian_column(Fg.col(kk), mu, sigma, ag, b);
          F.col(kk) = Fg.col(kk) + al / ((x - mu).square() + g * g);
          break;
        }
      }
    }
    if (comp_uniform != SIZE_MAX) F.col(static_cast<Eigen::Index>(comp_uniform)).setConstant(st.pi[comp_uniform] / W);
    if (comp_linear != SIZE_MAX)
      F.col(static_cast<Eigen::Index>(comp_linear)) = (st.pi[comp_linear] / W) * (1.0 + st.s * d);
    if (K > 0) {
      p = F.col(0);
      for (std::size_t k = 1; k < K; ++k) p += F.col(static_cast<Eigen::Index>(k));
    } else {
      p.setZero();
    }
    if (comp_step != SIZE_MAX) {
      // Step density ∝ cumulative trapezoid integral of the peak sum (in p), normalised: Σ dx g = 1.
      double acc = 0;
      t(0) = 0;
      for (Eigen::Index i = 1; i < static_cast<Eigen::Index>(n); ++i) {
        acc += 0.5 * (p(i) + p(i - 1)) * (x(i) - x(i - 1));
        t(i) = acc;
      }
      const double Z = (dx * t).sum();
      auto col = F.col(static_cast<Eigen::Index>(comp_step));
      if (Z > 0)
        col = (st.pi[comp_step] / Z) * t;
      else
        col.setConstant(st.pi[comp_step] / W);
    }
    for (std::size_t c = K; c < C; ++c) p += F.col(static_cast<Eigen::Index>(c));
    return (w * p.max(kTiny).log()).sum();
  }

  // ---- M step (uses F and p of the preceding E step) -------------------------------------------------------
  void mstep(State& st) {
    q = w / p.max(kTiny);
    double total = 0;
    for (std::size_t c = 0; c < C; ++c) {
      N[c] = (q * F.col(static_cast<Eigen::Index>(c))).sum();
      total += N[c];
    }
    if (!(total > 0)) return;
    const double dead = 1e-12 * total;
    for (std::size_t k = 0; k < K; ++k) {
      const auto kk = static_cast<Eigen::Index>(k);
      const double Nk = N[k];
      if (!(Nk > dead)) continue;  // a vanished peak keeps its shape (its weight is ~0)
      const double mu = st.mu[k], g = kCL * st.fwhm[k], g2 = g * g;
      // Inner E step: location weights a_i = r^G/c_G² + r^L·E[τ|x_i]/c_L² (r^G, r^L: responsibilities of the
      // Gaussian and Lorentzian parts, E[τ|x] = 2γ²/(γ² + d²)); then the joint closed-form maximiser (em.hpp).
      t = x - mu;
      double NG = 0;
      switch (opt.shape) {
        case Shape::Gaussian: r = (q * F.col(kk)) * (1.0 / (kCG * kCG)); break;
        case Shape::Lorentzian: r = (q * F.col(kk)) * (2 * g2 / (kCL * kCL)) / (g2 + t.square()); break;
        default:
          r = q * Fg.col(kk);  // r^G
          NG = r.sum();
          r = r * (1.0 / (kCG * kCG)) +
              (q * (F.col(kk) - Fg.col(kk))) * (2 * g2 / (kCL * kCL)) / (g2 + t.square());
          break;
      }
      // Complete-data sums: the window's channels plus the expected part outside (m = N_k / M = complete mass).
      const Tails& tk = tl[k];  // of the E step that produced F (same parameters)
      const double m = Nk / tk.M;
      const double sa = r.sum() + m * tk.o0, sad = (r * t).sum() + m * tk.o1, sad2 = (r * t.square()).sum() + m * tk.o2;
      // The surrogate is quadratic in μ with the same argmax for every width, so clamping μ to the window keeps
      // the step a joint maximiser over the admissible set.
      const double dm = std::clamp(mu + sad / sa, win_lo, win_hi) - mu;
      st.mu[k] = mu + dm;
      const double f2 = (sad2 - 2 * dm * sad + dm * dm * sa) / m;
      if (opt.shape == Shape::PseudoVoigt && opt.fit_eta)
        st.eta[k] = std::clamp((Nk - NG + m * tk.lout) / m, 0.0, 1.0);
      const double f = std::sqrt(std::max(f2, 0.0));
      st.fwhm[k] = std::clamp(std::isfinite(f) ? f : fwhm_lo, fwhm_lo, fwhm_hi);
    }
    if (comp_linear != SIZE_MAX && N[comp_linear] > dead) update_slope(st);
    for (std::size_t c = 0; c < C; ++c) st.pi[c] = N[c] / total;
  }

  // Conditional maximiser of Σ r_i log(1 + s d_i) over [s_lo, s_hi]: g(s) = Σ r d / (1 + s d) is decreasing, so
  // bracketed Newton on g (bisection when Newton leaves the bracket) finds the unique maximiser.
  void update_slope(State& st) {
    r = (q * F.col(static_cast<Eigen::Index>(comp_linear))) * d;  // r_i d_i
    double lo = s_lo, hi = s_hi, s = std::clamp(st.s, s_lo, s_hi);
    for (int it = 0; it < 60; ++it) {
      t = 1.0 / (1.0 + s * d);
      const double g = (r * t).sum(), h = (r * d * t.square()).sum();  // g(s), −g'(s) >= 0
      if (g == 0 || !(h > 0)) break;                                   // at the maximiser (or degenerate)
      if (g > 0)
        lo = s;
      else
        hi = s;
      double next = s + g / h;
      if (!(next >= lo && next <= hi)) next = 0.5 * (lo + hi);
      const double step = std::abs(next - s);
      s = next;
      // Newton converges quadratically: a step this small leaves an error of order 1e-14 of the range.
      if (step <= 1e-7 * (s_hi - s_lo)) break;
    }
    st.s = s;
  }

  // ---- starting points -------------------------------------------------------------------------------------
  // Background guess from the data: the mean of the first/last ~5 % of channels give the levels at both ends.
  // Fills v with the peak weights above that baseline and sets the background weights in st; returns their sum.
  double init_background_from_data(State& st) {
    const std::size_t m = std::max<std::size_t>(1, n / 20);
    double ylo = 0, yhi = 0;
    for (std::size_t i = 0; i < m; ++i) {
      ylo += y[i];
      yhi += y[n - 1 - i];
    }
    ylo /= static_cast<double>(m);
    yhi /= static_cast<double>(m);
    const double span = x(static_cast<Eigen::Index>(n - 1)) - x(0);
    double bg = 0, mass_u = 0, mass_s = 0;
    double vsum = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const auto ii = static_cast<Eigen::Index>(i);
      const double frac = (x(ii) - x(0)) / span;
      double base = 0;
      switch (opt.background) {
        case EmBackground::None: base = 0; break;
        case EmBackground::Uniform: base = std::min(ylo, yhi); break;
        case EmBackground::Linear: base = ylo + (yhi - ylo) * frac; break;
        case EmBackground::Step: base = ylo + std::max(yhi - ylo, 0.0) * frac; break;
      }
      const double under = std::min(y[i], base);
      mass_u += std::min(y[i], ylo) * dx(ii);
      bg += under * dx(ii);
      v[i] = std::max(y[i] - base, 0.0) * dx(ii);
      vsum += v[i];
    }
    if (!(vsum > 0))
      for (std::size_t i = 0; i < n; ++i) v[i] = w(static_cast<Eigen::Index>(i));
    double fraction = 0;
    if (opt.background != EmBackground::None) {
      fraction = std::clamp(bg / A, 0.02, 0.95);
      if (comp_uniform != SIZE_MAX) st.pi[comp_uniform] = fraction;
      if (comp_linear != SIZE_MAX) {
        st.pi[comp_linear] = fraction;
        const double level = ylo + (yhi - ylo) * (xbar - x(0)) / span;
        st.s = level > 0 ? std::clamp((yhi - ylo) / span / level, s_lo, s_hi) : 0.0;
      }
      if (comp_step != SIZE_MAX) {
        mass_s = std::max(bg - mass_u, 0.0);
        const double split = bg > 0 ? std::clamp(mass_s / bg, 0.05, 0.95) : 0.5;
        st.pi[comp_step] = fraction * split;
        st.pi[comp_uniform] = fraction * (1 - split);
      }
    }
    return fraction;
  }

  // Weighted quantiles of v (restart 0) or weighted k-means++ seeding (later restarts) give the centres.
  void init_cold(State& st, int restart, const std::vector<double>* centers) {
    const double bg = init_background_from_data(st);
    double vs = 0, m1 = 0, m2 = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const double xi = x(static_cast<Eigen::Index>(i));
      vs += v[i];
      m1 += v[i] * xi;
      cum[i] = vs;
    }
    m1 /= vs;
    for (std::size_t i = 0; i < n; ++i) {
      const double dd = x(static_cast<Eigen::Index>(i)) - m1;
      m2 += v[i] * dd * dd;
    }
    const double sd = std::sqrt(m2 / vs);
    const double f0 = std::clamp(sd / kCG / static_cast<double>(K), fwhm_lo, fwhm_hi);
    if (centers) {
      for (std::size_t k = 0; k < K; ++k) st.mu[k] = (*centers)[k];
    } else if (restart == 0) {
      for (std::size_t k = 0; k < K; ++k) {
        const double target = (static_cast<double>(k) + 0.5) / static_cast<double>(K) * vs;
        const auto it = std::lower_bound(cum.begin(), cum.end(), target);
        const std::size_t i = std::min<std::size_t>(static_cast<std::size_t>(it - cum.begin()), n - 1);
        // interpolate between the channel below and this one
        const double c_prev = i > 0 ? cum[i - 1] : 0.0, x_prev = i > 0 ? x(static_cast<Eigen::Index>(i - 1)) : x(0);
        const double xi = x(static_cast<Eigen::Index>(i));
        const double frac = cum[i] > c_prev ? (target - c_prev) / (cum[i] - c_prev) : 1.0;
        st.mu[k] = x_prev + frac * (xi - x_prev);
      }
    } else {
      // k-means++: first centre ∝ v, the next ones ∝ v · D² (D = distance to the nearest chosen centre).
      for (std::size_t k = 0; k < K; ++k) {
        double acc = 0;
        for (std::size_t i = 0; i < n; ++i) {
          double dmin = 1;
          if (k > 0) {
            dmin = std::numeric_limits<double>::infinity();
            for (std::size_t j = 0; j < k; ++j)
              dmin = std::min(dmin, std::abs(x(static_cast<Eigen::Index>(i)) - st.mu[j]));
            dmin *= dmin;
          }
          acc += v[i] * dmin;
          cum[i] = acc;
        }
        std::size_t pick = 0;
        if (acc > 0) {
          const double u = core::uniform01(rng) * acc;
          pick = static_cast<std::size_t>(std::upper_bound(cum.begin(), cum.end(), u) - cum.begin());
          pick = std::min(pick, n - 1);
        } else {
          pick = static_cast<std::size_t>(core::uniform_index(rng, n));
        }
        st.mu[k] = x(static_cast<Eigen::Index>(pick));
      }
    }
    for (std::size_t k = 0; k < K; ++k) {
      double f = f0;
      if (!centers && restart > 0) f = std::clamp(f0 * (0.5 + core::uniform01(rng)), fwhm_lo, fwhm_hi);
      st.fwhm[k] = f;
      st.eta[k] = opt.eta;
      st.pi[k] = (1 - bg) / static_cast<double>(K);
    }
  }

  // Start from given peaks (and optionally a background of the same kind).
  void init_warm(State& st, std::span<const Peak> peaks, const BackgroundResult* bgr) {
    double peak_mass = 0;
    for (std::size_t k = 0; k < K; ++k) {
      const Peak& pk = peaks[k];
      if (!std::isfinite(pk.center) || !std::isfinite(pk.fwhm) || !std::isfinite(pk.area))
        throw InvalidArgument("em: warm-start peak " + std::to_string(k + 1) + " has a non-finite parameter");
      st.mu[k] = std::clamp(pk.center, win_lo, win_hi);  // as the M step keeps it
      st.fwhm[k] = std::clamp(pk.fwhm, fwhm_lo, fwhm_hi);
      st.eta[k] = opt.eta;
      if (opt.shape == Shape::PseudoVoigt && pk.shape == Shape::PseudoVoigt && pk.shape_params.size() == 1 &&
          pk.shape_params[0] >= 0 && pk.shape_params[0] <= 1)
        st.eta[k] = pk.shape_params[0];
      const double eta = opt.shape == Shape::Gaussian ? 0.0 : opt.shape == Shape::Lorentzian ? 1.0 : st.eta[k];
      st.pi[k] = std::max(pk.area * tails(st.mu[k], st.fwhm[k], eta).M / A, 0.0);  // in-window fraction
      peak_mass += st.pi[k];
    }
    if (opt.background != EmBackground::None) {
      bool from_result = false;
      if (bgr && bgr->values.size() == n) {
        double mass = 0;
        for (std::size_t i = 0; i < n; ++i) mass += bgr->values[i] * dx(static_cast<Eigen::Index>(i));
        mass /= A;
        if (opt.background == EmBackground::Uniform && bgr->kind == BackgroundKind::Constant) {
          st.pi[comp_uniform] = mass;
          from_result = true;
        } else if (opt.background == EmBackground::Linear && bgr->kind == BackgroundKind::Linear &&
                   bgr->params.size() == 2) {
          const double a = bgr->params[0] + bgr->params[1] * (xbar - bgr->x_ref);  // level at x̄
          st.pi[comp_linear] = mass;
          st.s = a > 0 ? std::clamp(bgr->params[1] / a, s_lo, s_hi) : 0.0;
          from_result = true;
        } else if (opt.background == EmBackground::Step && bgr->kind == BackgroundKind::Shirley &&
                   bgr->params.size() == 2) {
          const double offset = std::clamp(bgr->params[0] * W / A, 0.0, mass);  // I_lo → uniform weight
          st.pi[comp_uniform] = offset;
          st.pi[comp_step] = mass - offset;
          from_result = true;
        }
      }
      if (!from_result) {
        // Shape of the background from the data, its total weight from what the peaks leave (>= 5 %).
        const double guess = init_background_from_data(st);
        const double target = std::max(1 - peak_mass, 0.05);
        for (std::size_t c = K; c < C; ++c) st.pi[c] *= guess > 0 ? target / guess : 0;
      }
    }
    double total = 0;
    for (std::size_t c = 0; c < C; ++c) {
      st.pi[c] = std::max(st.pi[c], kMinPi);
      total += st.pi[c];
    }
    for (std::size_t c = 0; c < C; ++c) st.pi[c] /= total;
  }

  // ---- one run from st; returns {L, iterations, converged} ---------------------------------------------------
  struct RunResult {
    double L = -std::numeric_limits<double>::infinity();
    int iter = 0;
    bool converged = false;
  };
  RunResult run(State& st) {
    trace_cur.clear();
    return opt.accelerate && comp_step == SIZE_MAX ? run_squarem(st) : run_plain(st);
  }

  // Plain EM: one E and one M step per iteration.
  RunResult run_plain(State& st) {
    RunResult res;
    double prev = 0;
    for (int it = 0;; ++it) {
      const double L = estep(st);
      if (opt.record_trace) trace_cur.push_back(L);
      res.L = L;
      res.iter = it;
      if (!std::isfinite(L)) break;
      if (it > 0 && opt.tol > 0 && std::abs(L - prev) <= opt.tol * A) {
        res.converged = true;
        break;
      }
      if (it == opt.max_iter) break;
      mstep(st);
      prev = L;
    }
    return res;
  }

  // SQUAREM (Varadhan & Roland, Scand. J. Stat. 35, 335 (2008), scheme S3) with its monotone safeguard: from θ0 two
  // EM steps give θ1, θ2; with r = θ1 − θ0, v = θ2 − 2θ1 + θ0 and α = −|r|/|v| (≤ −1) the extrapolated point
  // θ' = θ0 − 2αr + α²v (projected onto the admissible set) is accepted when L(θ') >= L(θ0), else α is moved
  // toward −1 (α = −1 gives θ' = θ2, which EM guarantees); one more EM step from θ' ends the cycle. L never
  // decreases from cycle to cycle; n_iter counts EM (M) steps.
  RunResult run_squarem(State& st) {
    RunResult res;
    double L0 = estep(st);
    if (opt.record_trace) trace_cur.push_back(L0);
    int m_steps = 0;
    auto finish = [&](double L, bool conv) {
      res.L = L;
      res.iter = m_steps;
      res.converged = conv;
      return res;
    };
    if (!std::isfinite(L0)) return finish(L0, false);
    while (true) {
      if (m_steps >= opt.max_iter) return finish(L0, false);
      sq1 = st;
      mstep(sq1);
      ++m_steps;
      const double L1 = estep(sq1);
      const bool small = opt.tol > 0 && std::abs(L1 - L0) <= opt.tol * A;
      if (small || m_steps >= opt.max_iter || !std::isfinite(L1)) {
        st = sq1;
        if (opt.record_trace) trace_cur.push_back(L1);
        return finish(L1, small);
      }
      sq2 = sq1;
      mstep(sq2);
      ++m_steps;
      double rr = 0, vv = 0;
      diff_norms(st, sq1, sq2, rr, vv);
      double alpha = vv > 0 ? std::max(-std::sqrt(rr / vv), -100.0) : -1.0;
      alpha = std::min(alpha, -1.0);
      double Lp = 0;
      for (int bt = 0;; ++bt) {
        if (alpha == -1.0 || bt >= 5) {
          alpha = -1.0;
          sqp = sq2;
        } else {
          extrapolate(st, sq1, sq2, alpha, sqp);
        }
        Lp = estep(sqp);
        if ((std::isfinite(Lp) && Lp >= L0) || alpha == -1.0) break;
        alpha = 0.5 * (alpha - 1.0);
      }
      st = sqp;
      mstep(st);
      ++m_steps;
      const double L = estep(st);
      if (opt.record_trace) trace_cur.push_back(L);
      if (!std::isfinite(L)) return finish(L, false);
      if (opt.tol > 0 && std::abs(L - L0) <= opt.tol * A) return finish(L, true);
      L0 = L;
    }
  }

  // |θ1 − θ0|² and |θ2 − 2θ1 + θ0|² over the free parameters.
  void diff_norms(const State& a, const State& b, const State& c, double& rr, double& vv) const {
    auto acc = [&](const std::vector<double>& x0, const std::vector<double>& x1, const std::vector<double>& x2) {
      for (std::size_t i = 0; i < x0.size(); ++i) {
        const double r1 = x1[i] - x0[i], v1 = x2[i] - 2 * x1[i] + x0[i];
        rr += r1 * r1;
        vv += v1 * v1;
      }
    };
    acc(a.mu, b.mu, c.mu);
    acc(a.fwhm, b.fwhm, c.fwhm);
    if (opt.shape == Shape::PseudoVoigt && opt.fit_eta) acc(a.eta, b.eta, c.eta);
    acc(a.pi, b.pi, c.pi);
    if (comp_linear != SIZE_MAX) {
      const double r1 = b.s - a.s, v1 = c.s - 2 * b.s + a.s;
      rr += r1 * r1;
      vv += v1 * v1;
    }
  }

  // out = a − 2α(b − a) + α²(c − 2b + a), projected onto the admissible set.
  void extrapolate(const State& a, const State& b, const State& c, double alpha, State& out) const {
    auto ex = [&](double x0, double x1, double x2) {
      return x0 - 2 * alpha * (x1 - x0) + alpha * alpha * (x2 - 2 * x1 + x0);
    };
    for (std::size_t k = 0; k < K; ++k) {
      out.mu[k] = std::clamp(ex(a.mu[k], b.mu[k], c.mu[k]), win_lo, win_hi);
      out.fwhm[k] = std::clamp(ex(a.fwhm[k], b.fwhm[k], c.fwhm[k]), fwhm_lo, fwhm_hi);
      const bool free_eta = opt.shape == Shape::PseudoVoigt && opt.fit_eta;
      out.eta[k] = free_eta ? std::clamp(ex(a.eta[k], b.eta[k], c.eta[k]), 0.0, 1.0) : c.eta[k];
    }
    double total = 0;
    for (std::size_t i = 0; i < C; ++i) {
      out.pi[i] = std::max(ex(a.pi[i], b.pi[i], c.pi[i]), kMinPi * 1e-3);
      total += out.pi[i];
    }
    for (std::size_t i = 0; i < C; ++i) out.pi[i] /= total;
    out.s = std::clamp(ex(a.s, b.s, c.s), s_lo, s_hi);
  }

  void load(std::span<const double> ys) {
    if (ys.size() != n)
      throw InvalidArgument("em: counts have " + std::to_string(ys.size()) + " values but the energy axis has " +
                            std::to_string(n));
    A = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const double yi = ys[i];
      if (!std::isfinite(yi))
        throw InvalidArgument("em: counts[" + std::to_string(i) + "] is not finite (" + fmt(yi) + ")");
      if (yi < 0) throw InvalidArgument("em: counts[" + std::to_string(i) + "] = " + fmt(yi) + " is negative");
      y[i] = yi;
      w(static_cast<Eigen::Index>(i)) = yi * dx(static_cast<Eigen::Index>(i));
    }
    A = w.sum();
    if (!(A > 0)) throw InvalidArgument("em: the counts are all zero: nothing to fit");
  }

  FitResult fit(std::span<const double> ys, std::span<const Peak> warm_peaks, const BackgroundResult* warm_bg,
                bool warm) {
    load(ys);
    RunResult best_res;
    int starts = 0;
    if (warm) {
      init_warm(best, warm_peaks, warm_bg);
      best_res = run(best);
      trace_best.swap(trace_cur);
      starts = 1;
    } else {
      rng = core::make_rng(opt.seed);
      const bool given = !opt.centers.empty();
      const int runs = given ? 1 : 1 + opt.restarts;
      for (int rs = 0; rs < runs; ++rs) {
        init_cold(cur, rs, given ? &opt.centers : nullptr);
        const RunResult res = run(cur);
        ++starts;
        if (rs == 0 || res.L > best_res.L || (!std::isfinite(best_res.L) && std::isfinite(res.L))) {
          best_res = res;
          std::swap(best, cur);
          trace_best.swap(trace_cur);
        }
      }
    }
    if (!std::isfinite(best_res.L))
      throw NumericalError("em: the log-likelihood is not finite (counts or axis out of range?)");
    // F and p of the best state (the last E step may belong to another start).
    estep(best);
    return make_result(best_res, starts);
  }

  FitResult make_result(const RunResult& res, int starts) {
    FitResult out;
    out.method = Method::Em;
    out.weighting = Weighting::Poisson;
    out.energy.assign(x.data(), x.data() + n);
    out.axis_sign = 1;
    out.counts = y;
    out.model.resize(n);
    for (std::size_t i = 0; i < n; ++i) out.model[i] = A * p(static_cast<Eigen::Index>(i));
    std::vector<std::size_t> order(K);
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return best.mu[a] < best.mu[b]; });
    out.peaks.reserve(K);
    for (const std::size_t k : order) {
      Peak pk;
      pk.shape = opt.shape;
      pk.center = best.mu[k];
      pk.fwhm = best.fwhm[k];
      const double eta = opt.shape == Shape::Gaussian ? 0.0 : opt.shape == Shape::Lorentzian ? 1.0 : best.eta[k];
      pk.area = best.pi[k] * A / tails(best.mu[k], best.fwhm[k], eta).M;  // whole peak, wings outside included
      if (opt.shape == Shape::PseudoVoigt) pk.shape_params = {best.eta[k]};
      out.peaks.push_back(std::move(pk));
    }
    BackgroundResult& bg = out.background;
    bg.x_ref = 0;
    switch (opt.background) {
      case EmBackground::None:
        bg.kind = BackgroundKind::None;
        break;
      case EmBackground::Uniform: {
        const double c = A * best.pi[comp_uniform] / W;
        bg.kind = BackgroundKind::Constant;
        bg.params = {c};
        bg.values.assign(n, c);
        break;
      }
      case EmBackground::Linear: {
        const double a = A * best.pi[comp_linear] / W;
        bg.kind = BackgroundKind::Linear;
        bg.params = {a, a * best.s};
        bg.x_ref = xbar;
        bg.values.resize(n);
        for (std::size_t i = 0; i < n; ++i) bg.values[i] = a * (1 + best.s * d(static_cast<Eigen::Index>(i)));
        break;
      }
      case EmBackground::Step: {
        bg.kind = BackgroundKind::Shirley;
        bg.values.resize(n);
        for (std::size_t i = 0; i < n; ++i) {
          const auto ii = static_cast<Eigen::Index>(i);
          bg.values[i] =
              A * (F(ii, static_cast<Eigen::Index>(comp_uniform)) + F(ii, static_cast<Eigen::Index>(comp_step)));
        }
        bg.params = {bg.values.front(), bg.values.back()};
        break;
      }
    }
    out.n_iter = res.iter;
    out.converged = res.converged;
    const std::string of = starts > 1 ? " (best of " + std::to_string(starts) + " starts)" : "";
    if (res.converged)
      out.message = "converged: |dL|/A <= " + fmt(opt.tol) + " after " + std::to_string(res.iter) + " iterations" + of;
    else
      out.message = "not converged: max_iter = " + std::to_string(opt.max_iter) + " reached" + of;
    out.n_free = n_free_params(opt);
    compute_statistics(out);
    return out;
  }
};

EmFitter::EmFitter(std::span<const double> x, const EmOptions& options)
    : impl_(std::make_unique<Impl>(x, options)) {}
EmFitter::~EmFitter() = default;
EmFitter::EmFitter(EmFitter&&) noexcept = default;
EmFitter& EmFitter::operator=(EmFitter&&) noexcept = default;

FitResult EmFitter::fit(std::span<const double> y, const FitResult* warm) {
  if (warm && warm->peaks.size() == impl_->K) return impl_->fit(y, warm->peaks, &warm->background, true);
  return impl_->fit(y, {}, nullptr, false);
}

FitResult EmFitter::fit(std::span<const double> y, std::span<const Peak> warm_peaks) {
  if (warm_peaks.size() != impl_->K)
    throw InvalidArgument("em: warm start has " + std::to_string(warm_peaks.size()) + " peaks, expected " +
                          std::to_string(impl_->K));
  return impl_->fit(y, warm_peaks, nullptr, true);
}

const std::vector<double>& EmFitter::trace() const noexcept { return impl_->trace_best; }
const EmOptions& EmFitter::options() const noexcept { return impl_->opt; }
double EmFitter::min_fwhm() const noexcept { return impl_->fwhm_lo; }
double EmFitter::max_fwhm() const noexcept { return impl_->fwhm_hi; }

FitResult em_fit(std::span<const double> x, std::span<const double> y, const EmOptions& options,
                 const std::vector<Peak>* warm_start) {
  EmFitter f(x, options);
  if (warm_start) return f.fit(y, std::span<const Peak>(*warm_start));
  return f.fit(y);
}

}  // namespace tsunagu::spectra
