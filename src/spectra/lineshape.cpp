// Area-normalised peak line shapes (lineshape.hpp).
//
// gauss / lorentz / pvoigt are closed forms written as flat loops (Eigen's vectorised exp for the Gaussian) because
// they run in the inner loop of batch fitting. voigt uses the Faddeeva function w(z) from libcerf; its derivatives
// follow from w'(z) = −2 z w(z) + 2i/√π, and far from the core (|z| large, or σ → 0) from the asymptotic series
// of w, which avoids the cancellation in w' there. ds is the closed Doniach–Šunjić form; ds_gauss is evaluated as
// the heat-equation (Gaussian-smoothing) series of the analytic DS far from its core and as a Fourier integral of
// the DS Laplace representation, by Gauss–Jacobi quadrature, near it (see DsGauss below).
// GCC 12 reports the deliberately undefined upper lanes of _mm512_undefined_pd() inside Eigen's AVX-512 exp as
// "may be used uninitialized" (GCC bug 105593); the values are never read.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include "tsunagu/spectra/lineshape.hpp"

#include <cerf.h>

#include <Eigen/Core>
#include <Eigen/Eigenvalues>
#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <complex>
#include <cstdio>
#include <limits>
#include <numbers>
#include <optional>

#include "tsunagu/core/error.hpp"

namespace tsunagu::spectra {

namespace {

using cplx = std::complex<double>;
constexpr double kPi = std::numbers::pi;
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kFourLn2 = 2.772588722239781;        // 4 ln 2: Gaussian exp(−4 ln2 d²/f²)
constexpr double kGaussNorm = 0.9394372786996513;     // √(4 ln2 / π): peak height · fwhm of a unit-area Gaussian
constexpr double kFwhmPerSigma = 2.3548200450309493;  // 2√(2 ln 2)
constexpr double kTwoOverSqrtPi = 1.1283791670955126;
constexpr double kSqrt2 = std::numbers::sqrt2;
constexpr double kSqrt2Pi = 2.5066282746310002;

std::string lower(std::string s) {
  for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

// ----------------------------------------------------------------------------------------------------------------
// Voigt. Parametrisation (f, ρ) -> (σ, γ): f_L = ρ f, f_G from the Olivero–Longbothum relation
// f = 0.5346 f_L + √(0.2166 f_L² + f_G²)  =>  f_G² = f² q(ρ), q = (1 − 0.5346 ρ)² − c ρ². With O-L's rounded
// c = 0.2166, q would cross 0 at ρ = 1 − 3e-6, leaving a sliver below ρ = 1 where f_G is clamped and ∂/∂ρ jumps;
// c = (1 − 0.5346)² = 0.21659716 (1.3e-5 relative change, far below the formula's 2.4e-4 accuracy) makes
// q = (1 − ρ)(1 − 0.0692 ρ) vanish exactly at ρ = 1 (pure Lorentzian) and stay smooth on [0, 1].
// Derivatives go through t = σ² because V depends smoothly on σ², not on σ.
struct VoigtWidths {
  double sigma, gamma, t, dt_drho;
};

VoigtWidths voigt_widths(double f, double rho) {
  const double q = (1 - rho) * (1 - 0.0692 * rho);  // (1 − 0.5346ρ)² − (0.4654ρ)², factorised
  const double dq = -(1 - 0.0692 * rho) - 0.0692 * (1 - rho);
  VoigtWidths w{};
  w.t = q > 0 ? f * f * q / (8 * std::numbers::ln2) : 0.0;
  w.sigma = std::sqrt(w.t);
  w.gamma = 0.5 * rho * f;
  // At ρ = 1 (the upper bound) this is the derivative from inside [0, 1].
  w.dt_drho = rho <= 1 ? f * f * dq / (8 * std::numbers::ln2) : 0.0;
  return w;
}

struct VoigtPoint {
  double v, dd, dg, dt;  // V and ∂V/∂d, ∂V/∂γ, ∂V/∂(σ²) at d = x − center
};

// |z| >= this uses the asymptotic series (terms fall below 1e-17 before they diverge); below, libcerf's w(z), where
// the cancellation in Re(z w' + w) costs at most |z|⁴ ε ≈ 2e-13 relative.
constexpr double kVoigtSeriesRadius = 6.5;

VoigtPoint voigt_point(double d, double sigma, double gamma) {
  const double t = sigma * sigma;
  const double u2 = d * d + gamma * gamma;
  VoigtPoint r{};
  if (u2 >= 2 * kVoigtSeriesRadius * kVoigtSeriesRadius * t) {
    // V = Re[(i/π) Σ_k (2k−1)!! t^k u^{−(2k+1)}], u = d + iγ (w(z) ~ i/(√π z) Σ (2k−1)!!/(2z²)^k, z = u/(σ√2)).
    const cplx u(d, gamma);
    const cplx inv = 1.0 / u, inv2 = inv * inv;
    cplx s = inv, sd = -inv * inv, st = 0;  // Σ c_k t^k u^{−(2k+1)} and its ∂/∂u, ∂/∂t
    cplx b = inv * inv2;                    // c_k t^{k−1} u^{−(2k+1)} at k = 1 (c_k = (2k−1)!!)
    for (int k = 1; k < 40; ++k) {          // term ratio <= (2k+1)/(2R²) < 1 for these k
      const cplx term = t * b;
      s += term;
      sd -= double(2 * k + 1) * term * inv;
      st += double(k) * b;
      b *= double(2 * k + 1) * t * inv2;
      if (std::abs(b) * (k + 1) <= 1e-17 * std::abs(st) && std::abs(t * b) <= 1e-17 * std::abs(s)) break;
    }
    r.v = -s.imag() / kPi;
    r.dd = -sd.imag() / kPi;  // ∂u/∂d = 1
    r.dg = -sd.real() / kPi;  // ∂u/∂γ = i:  Re(i·i·sd)/π
    r.dt = -st.imag() / kPi;
    return r;
  }
  const double s2 = sigma * kSqrt2;
  const cplx z(d / s2, gamma / s2);
  const cplx w(w_of_z(z.__rep()));
  const cplx wp = -2.0 * z * w + cplx(0, kTwoOverSqrtPi);
  const double norm = 1.0 / (sigma * kSqrt2Pi);
  r.v = w.real() * norm;
  r.dd = wp.real() / s2 * norm;
  r.dg = -wp.imag() / s2 * norm;
  const double dsigma = -((z * wp).real() + w.real()) / sigma * norm;
  r.dt = dsigma / (2 * sigma);
  return r;
}

double voigt_value(double d, double sigma, double gamma) {
  // libcerf's voigt() switches to the Lorentzian only at σ == 0; a σ so small that 1/σ overflows is the same limit.
  if (sigma < 1e-9 * gamma) sigma = 0;
  return voigt(d, sigma, gamma);
}

// ----------------------------------------------------------------------------------------------------------------
// Doniach–Šunjić, on e = center − x so that the tail points toward +x:
//   DS(e) = Γ(1−α)/(π γ) · cos(πα/2 + (1−α) atan(e/γ)) / (1 + (e/γ)²)^((1−α)/2)
// i.e. the textbook form times γ^(−α), which makes it a function of (x − center)/γ divided by γ (profile in 1/eV
// whatever the energy unit) and equal to the Lorentzian of HWHM γ at α = 0.
struct Ds {
  double gamma, alpha, pref, phase0, expo;
  Ds(double fwhm, double a)
      : gamma(0.5 * fwhm),
        alpha(a),
        pref(std::tgamma(1 - a) / (kPi * 0.5 * fwhm)),
        phase0(0.5 * kPi * a),
        expo(-0.5 * (1 - a)) {}
  double operator()(double e) const {
    const double r = e / gamma;
    return pref * std::cos(phase0 + (1 - alpha) * std::atan(r)) * std::pow(1 + r * r, expo);
  }
};

// ----------------------------------------------------------------------------------------------------------------
// DS ⊗ Gaussian(σ). With u = γ − i e, DS(e) = (γ^−α/π) Re[e^{iπα/2} Γ(1−α) u^{α−1}] and, from the Laplace
// representation Γ(1−α) u^{α−1} = ∫_0^∞ s^{−α} e^{−s u} ds, the convolution (it multiplies e^{ise} by e^{−σ²s²/2}) is
//   P(e) = (γ^−α σ^{α−1}/π) ∫_0^∞ v^{−α} e^{−b v − v²/2} cos(πα/2 + ε v) dv,   b = γ/σ, ε = e/σ.
// Far from the core (|u| >= R σ) the heat-equation series P = Σ_k (σ²/2)^k/k! DS^{(2k)} converges to ~1e-17 before
// it diverges (term ratio ≈ (2k+1) σ²/|u|²):
//   P(e) = (γ^−α/π) Re[e^{iπα/2} Σ_k (−σ²/2)^k Γ(2k+1−α)/k! u^{α−1−2k}].
// Near the core (|u| < R σ, so |ε| < R and b < R) the integral is smooth apart from v^−α, which Gauss–Jacobi
// quadrature (weight v^−α on [0, V]) integrates exactly; the rest is entire, so a 64-node rule reaches ~1e-14 of the
// peak height (48 nodes already do; checked against scipy quad in all width regimes, see the test). This
// stays accurate whether σ ≫ γ (DS core unresolved on a grid of σ) or σ ≪ γ (series only), with no auxiliary grid.
constexpr double kDsSeriesRadius = 9.0;
constexpr int kJacobiNodes = 64;

struct JacobiRule {  // nodes/weights on [0, 1] for the weight x^−α
  double alpha = std::numeric_limits<double>::quiet_NaN();
  std::array<double, kJacobiNodes> x{}, w{};
};

// Golub–Welsch for the Jacobi weight (1−t)^0 (1+t)^(−α) on [−1, 1], mapped to [0, 1] (x = (1+t)/2).
void build_jacobi_rule(double alpha, JacobiRule& rule) {
  const int n = kJacobiNodes;
  const double a = 0.0, b = -alpha, ab = a + b;
  Eigen::VectorXd diag(n), sub(n - 1);
  diag(0) = (b - a) / (ab + 2);
  for (int k = 1; k < n; ++k) {
    const double s = 2.0 * k + ab;
    diag(k) = (b * b - a * a) / (s * (s + 2));
    sub(k - 1) = std::sqrt(4.0 * k * (k + a) * (k + b) * (k + ab) / (s * s * (s + 1) * (s - 1)));
  }
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es;
  es.computeFromTridiagonal(diag, sub, Eigen::ComputeEigenvectors);
  const double mu0 = 1.0 / (1.0 - alpha);  // ∫_0^1 x^−α dx
  for (int k = 0; k < n; ++k) {
    rule.x[k] = 0.5 * (1 + es.eigenvalues()(k));
    const double v0 = es.eigenvectors()(0, k);
    rule.w[k] = mu0 * v0 * v0;
  }
  rule.alpha = alpha;
}

const JacobiRule& jacobi_rule(double alpha) {
  // The fitters evaluate a few α at a time (α and α ± h for the Jacobian): a small per-thread cache suffices.
  thread_local std::array<JacobiRule, 4> cache;
  thread_local std::size_t next = 0;
  for (const auto& r : cache)
    if (r.alpha == alpha) return r;
  JacobiRule& r = cache[next];
  next = (next + 1) % cache.size();
  build_jacobi_rule(alpha, r);
  return r;
}

class DsGauss {
 public:
  DsGauss(double fwhm, double alpha, double gauss_fwhm)
      : gamma_(0.5 * fwhm),
        sigma_(std::abs(gauss_fwhm) / kFwhmPerSigma),
        alpha_(alpha),
        phase_(std::polar(1.0, 0.5 * kPi * alpha)),
        tg_(std::tgamma(1 - alpha)),
        series_pref_(std::pow(gamma_, -alpha) / kPi) {
    if (sigma_ > 0 && gamma_ < kDsSeriesRadius * sigma_) {  // some e have |u| < R σ: prepare the quadrature
      const double b = gamma_ / sigma_;
      const double vmax = -b + std::sqrt(b * b + 80.0);  // b v + v²/2 = 40: the integrand is below e^−40 beyond
      const JacobiRule& rule = jacobi_rule(alpha);
      const double scale = std::pow(vmax, 1 - alpha);
      for (int k = 0; k < kJacobiNodes; ++k) {
        const double v = vmax * rule.x[k];
        v_[k] = v;
        wq_[k] = rule.w[k] * scale * std::exp(-b * v - 0.5 * v * v);
      }
      quad_pref_ = std::pow(gamma_, -alpha) * std::pow(sigma_, alpha - 1) / kPi;
      has_quad_ = true;
    }
  }

  double operator()(double e) const {
    const double u2 = gamma_ * gamma_ + e * e;
    if (has_quad_ && u2 < kDsSeriesRadius * kDsSeriesRadius * sigma_ * sigma_) {
      const double eps = e / sigma_, ph = 0.5 * kPi * alpha_;
      double s = 0;
      for (int k = 0; k < kJacobiNodes; ++k) s += wq_[k] * std::cos(ph + eps * v_[k]);
      return quad_pref_ * s;
    }
    const cplx u(gamma_, -e);
    const cplx inv2 = 1.0 / (u * u);
    const double h = -0.5 * sigma_ * sigma_;
    cplx term = tg_ * std::exp((alpha_ - 1) * std::log(u));
    cplx sum = term;
    for (int k = 0; k < 60 && h != 0; ++k) {
      const cplx next = term * (h * (2 * k + 1 - alpha_) * (2 * k + 2 - alpha_) / (k + 1)) * inv2;
      const double nn = std::norm(next);
      if (nn > std::norm(term)) break;  // asymptotic: stop at the smallest term
      term = next;
      sum += term;
      if (nn <= 1e-34 * std::norm(sum)) break;
    }
    return series_pref_ * (phase_ * sum).real();
  }

 private:
  double gamma_, sigma_, alpha_;
  cplx phase_;
  double tg_, series_pref_, quad_pref_ = 0;
  bool has_quad_ = false;
  std::array<double, kJacobiNodes> v_{}, wq_{};
};

// ----------------------------------------------------------------------------------------------------------------
// Point evaluator of the area-normalised profile for one parameter vector (constants precomputed once).
class Evaluator {
 public:
  Evaluator(Shape s, double center, double fwhm, const double* shape_params) : shape_(s), c_(center), f_(fwhm) {
    if (s == Shape::Voigt) vw_ = voigt_widths(fwhm, shape_params[0]);
    if (s == Shape::PseudoVoigt) eta_ = shape_params[0];
    if (s == Shape::DoniachSunjic) ds_.emplace(fwhm, shape_params[0]);
    if (s == Shape::DoniachSunjicGauss) dsg_.emplace(fwhm, shape_params[0], shape_params[1]);
  }
  double operator()(double x) const {
    const double d = x - c_;
    switch (shape_) {
      case Shape::Gaussian:
        return gauss(d);
      case Shape::Lorentzian:
        return lorentz(d);
      case Shape::PseudoVoigt:
        return (1 - eta_) * gauss(d) + eta_ * lorentz(d);
      case Shape::Voigt:
        return voigt_value(d, vw_.sigma, vw_.gamma);
      case Shape::DoniachSunjic:
        return (*ds_)(-d);
      case Shape::DoniachSunjicGauss:
        return (*dsg_)(-d);
    }
    return 0;
  }

 private:
  double gauss(double d) const { return kGaussNorm / f_ * std::exp(-kFourLn2 * d * d / (f_ * f_)); }
  double lorentz(double d) const {
    const double h = 0.5 * f_;
    return h / (kPi * (d * d + h * h));
  }
  Shape shape_;
  double c_, f_, eta_ = 0;
  VoigtWidths vw_{};
  std::optional<Ds> ds_;
  std::optional<DsGauss> dsg_;  // only ds_gauss pays for its quadrature tables
};

void check_call(Shape s, std::span<const double> p, std::size_t nx, std::size_t nout, const char* fn) {
  const std::size_t np = n_params(s);
  if (p.size() != np)
    throw InvalidArgument(std::string(fn) + ": shape '" + to_string(s) + "' takes " + std::to_string(np) +
                          " parameters, got " + std::to_string(p.size()));
  if (!(p[kFwhm] > 0) || !std::isfinite(p[kFwhm]))
    throw InvalidArgument(std::string(fn) + ": fwhm must be finite and > 0 (got " + fmt(p[kFwhm]) + ")");
  if (nx != nout)
    throw InvalidArgument(std::string(fn) + ": x has " + std::to_string(nx) + " points but out has " +
                          std::to_string(nout));
}

using ArrayMap = Eigen::Map<const Eigen::ArrayXd>;
using ArrayMapMut = Eigen::Map<Eigen::ArrayXd>;

// The Jacobian loops of the two shapes that batch fitting uses most, with restrict pointers so that GCC vectorises
// them (with six distinct arrays it would otherwise not emit the run-time alias checks). g holds G(x) on entry.
void gauss_jacobian_kernel(std::size_t n, const double* __restrict x, double c, double area, double f,
                           const double* __restrict g, double* __restrict out, double* __restrict jc,
                           double* __restrict jf) {
  // G = N/f e^{−k d²/f²}: ∂G/∂c = G 2k d/f², ∂G/∂f = G (2k d²/f² − 1)/f.
  const double k2 = 2 * kFourLn2 / (f * f), inv_f = 1 / f;
  for (std::size_t i = 0; i < n; ++i) {
    const double d = x[i] - c, ag = area * g[i];
    out[i] += ag;
    jc[i] = ag * k2 * d;
    jf[i] = ag * (k2 * d * d - 1) * inv_f;
  }
}

void pvoigt_jacobian_kernel(std::size_t n, const double* __restrict x, double c, double area, double f, double eta,
                            double* __restrict ja, double* __restrict out, double* __restrict jc, double* __restrict jf,
                            double* __restrict je) {
  // L = h/(π(d²+h²)), h = f/2: ∂L/∂c = L·2d/(d²+h²), ∂L/∂f = L (d² − h²)/(f (d²+h²)); ∂/∂η = L − G.
  const double k2 = 2 * kFourLn2 / (f * f), inv_f = 1 / f, h = 0.5 * f, h2 = h * h;
  for (std::size_t i = 0; i < n; ++i) {
    const double d = x[i] - c, g = je[i], r = 1 / (d * d + h2), l = h / kPi * r;
    const double v = (1 - eta) * g + eta * l;
    ja[i] = v;
    out[i] += area * v;
    const double gc = g * k2 * d, gf = g * (k2 * d * d - 1) * inv_f;
    const double lc = l * 2 * d * r, lf = l * (d * d - h2) * r * inv_f;
    jc[i] = area * ((1 - eta) * gc + eta * lc);
    jf[i] = area * ((1 - eta) * gf + eta * lf);
    je[i] = area * (l - g);
  }
}

// ∂/∂p_j of area·profile by central differences (ds, ds_gauss). jac columns: [center, fwhm, area, shape...].
void numeric_jacobian(Shape s, std::span<const double> p, std::span<const double> x, std::span<double> out,
                      std::span<double> jac) {
  const std::size_t n = x.size(), ns = n_shape_params(s);
  const double c = p[kCenter], f = p[kFwhm], area = p[kArea];
  std::array<double, 2> sp{}, spp{}, spm{};
  for (std::size_t k = 0; k < ns; ++k) sp[k] = p[kFirstShapeParam + k];
  const double width = f + (s == Shape::DoniachSunjicGauss ? std::abs(sp[1]) : 0.0);
  const Evaluator base(s, c, f, sp.data());
  // Steps ~ ε^(1/3) of each parameter's scale: truncation O(h²) and round-off O(ε/h) balance near 1e-10 relative.
  const double hc = 1e-5 * width, hf = 1e-5 * f;
  const Evaluator fp(s, c, f + hf, sp.data()), fm(s, c, f - hf, sp.data());
  double* jc = jac.data();
  double* jf = jc + n;
  double* ja = jc + 2 * n;
  for (std::size_t i = 0; i < n; ++i) {
    const double v = base(x[i]);
    ja[i] = v;
    out[i] += area * v;
    jc[i] = area * (base(x[i] - hc) - base(x[i] + hc)) / (2 * hc);  // P(x; c + h) = P(x − h; c)
    jf[i] = area * (fp(x[i]) - fm(x[i])) / (2 * hf);
  }
  for (std::size_t k = 0; k < ns; ++k) {
    double h = k == 0 ? 1e-5 : 1e-5 * width;  // α is O(0.1); gauss_fwhm is a width
    double* jk = jc + (3 + k) * n;
    if (k == 1) {  // gauss_fwhm: P is even in it, so the derivative vanishes at 0 and steps must not cross 0
      if (sp[1] == 0) {
        std::fill(jk, jk + n, 0.0);
        continue;
      }
      h = std::min(h, 0.5 * std::abs(sp[1]));
    }
    spp = sp;
    spm = sp;
    spp[k] += h;
    spm[k] -= h;
    const Evaluator ep(s, c, f, spp.data()), em(s, c, f, spm.data());
    for (std::size_t i = 0; i < n; ++i) jk[i] = area * (ep(x[i]) - em(x[i])) / (2 * h);
  }
}

}  // namespace

// ------------------------------------------------------------------------------------------------------------------
std::string to_string(Shape s) {
  switch (s) {
    case Shape::Gaussian:
      return "gauss";
    case Shape::Lorentzian:
      return "lorentz";
    case Shape::Voigt:
      return "voigt";
    case Shape::PseudoVoigt:
      return "pvoigt";
    case Shape::DoniachSunjic:
      return "ds";
    case Shape::DoniachSunjicGauss:
      return "ds_gauss";
  }
  return "?";
}

Shape shape_from_string(const std::string& text) {
  const std::string s = lower(text);
  if (s == "gauss" || s == "gaussian") return Shape::Gaussian;
  if (s == "lorentz" || s == "lorentzian") return Shape::Lorentzian;
  if (s == "voigt") return Shape::Voigt;
  if (s == "pvoigt" || s == "pseudo-voigt" || s == "pseudo_voigt" || s == "pseudovoigt") return Shape::PseudoVoigt;
  if (s == "ds" || s == "doniach-sunjic" || s == "doniach_sunjic") return Shape::DoniachSunjic;
  if (s == "ds_gauss" || s == "ds-gauss") return Shape::DoniachSunjicGauss;
  throw InvalidArgument("unknown peak shape '" + text + "' (valid: gauss, lorentz, voigt, pvoigt, ds, ds_gauss)");
}

std::size_t n_shape_params(Shape s) {
  switch (s) {
    case Shape::Gaussian:
    case Shape::Lorentzian:
      return 0;
    case Shape::Voigt:
    case Shape::PseudoVoigt:
    case Shape::DoniachSunjic:
      return 1;
    case Shape::DoniachSunjicGauss:
      return 2;
  }
  return 0;
}

std::size_t n_params(Shape s) { return 3 + n_shape_params(s); }

std::vector<std::string> shape_param_names(Shape s) {
  switch (s) {
    case Shape::Gaussian:
    case Shape::Lorentzian:
      return {};
    case Shape::Voigt:
      return {"lorentz_fraction"};
    case Shape::PseudoVoigt:
      return {"eta"};
    case Shape::DoniachSunjic:
      return {"alpha"};
    case Shape::DoniachSunjicGauss:
      return {"alpha", "gauss_fwhm"};
  }
  return {};
}

std::vector<double> default_shape_params(Shape s) {
  switch (s) {
    case Shape::Gaussian:
    case Shape::Lorentzian:
      return {};
    case Shape::Voigt:
      return {0.3};
    case Shape::PseudoVoigt:
      return {0.3};
    case Shape::DoniachSunjic:
      return {0.1};
    case Shape::DoniachSunjicGauss:
      return {0.1, 0.5};  // α, instrumental Gaussian FWHM (eV) of a typical lab/synchrotron XPS
  }
  return {};
}

std::vector<double> shape_param_lower(Shape s) { return std::vector<double>(n_shape_params(s), 0.0); }

std::vector<double> shape_param_upper(Shape s) {
  switch (s) {
    case Shape::Gaussian:
    case Shape::Lorentzian:
      return {};
    case Shape::Voigt:
    case Shape::PseudoVoigt:
      return {1.0};
    case Shape::DoniachSunjic:
      return {0.5};  // metals: α ≲ 0.3; beyond 0.5 the tail no longer decays faster than 1/√e
    case Shape::DoniachSunjicGauss:
      return {0.5, kInf};
  }
  return {};
}

void validate_params(Shape s, std::span<const double> p, const std::string& what) {
  const std::size_t np = n_params(s);
  if (p.size() != np) {
    std::string names = "center, fwhm, area";
    for (const auto& n : shape_param_names(s)) names += ", " + n;
    throw InvalidArgument(what + ": shape '" + to_string(s) + "' takes " + std::to_string(np) + " parameters (" +
                          names + "), got " + std::to_string(p.size()));
  }
  if (!std::isfinite(p[kCenter])) throw InvalidArgument(what + ": center must be finite (got " + fmt(p[kCenter]) + ")");
  if (!std::isfinite(p[kFwhm]) || !(p[kFwhm] > 0))
    throw InvalidArgument(what + ": fwhm must be finite and > 0 (got " + fmt(p[kFwhm]) + ")");
  if (!std::isfinite(p[kArea])) throw InvalidArgument(what + ": area must be finite (got " + fmt(p[kArea]) + ")");
  const auto names = shape_param_names(s);
  const auto lo = shape_param_lower(s), hi = shape_param_upper(s);
  for (std::size_t k = 0; k < names.size(); ++k) {
    const double v = p[kFirstShapeParam + k];
    if (std::isnan(v) || v < lo[k] || v > hi[k] || std::isinf(v))
      throw InvalidArgument(what + ": " + names[k] + " must be in [" + fmt(lo[k]) + ", " + fmt(hi[k]) + "] (got " +
                            fmt(v) + ")");
  }
}

double profile(Shape s, std::span<const double> p, double x) {
  check_call(s, p, 0, 0, "profile");
  return Evaluator(s, p[kCenter], p[kFwhm], p.data() + kFirstShapeParam)(x);
}

void add_peak(Shape s, std::span<const double> p, std::span<const double> x, std::span<double> out) {
  check_call(s, p, x.size(), out.size(), "add_peak");
  const std::size_t n = x.size();
  const double c = p[kCenter], f = p[kFwhm], area = p[kArea];
  const ArrayMap xm(x.data(), static_cast<Eigen::Index>(n));
  ArrayMapMut om(out.data(), static_cast<Eigen::Index>(n));
  switch (s) {
    case Shape::Gaussian: {
      const double b = -kFourLn2 / (f * f);
      om += (area * kGaussNorm / f) * ((xm - c).square() * b).exp();
      return;
    }
    case Shape::Lorentzian: {
      const double h = 0.5 * f, h2 = h * h, a = area * h / kPi;
      for (std::size_t i = 0; i < n; ++i) {
        const double d = x[i] - c;
        out[i] += a / (d * d + h2);
      }
      return;
    }
    case Shape::PseudoVoigt: {
      const double eta = p[kFirstShapeParam];
      const double b = -kFourLn2 / (f * f), ag = (1 - eta) * area * kGaussNorm / f;
      const double h = 0.5 * f, h2 = h * h, al = eta * area * h / kPi;
      om += ag * ((xm - c).square() * b).exp() + al / ((xm - c).square() + h2);
      return;
    }
    case Shape::Voigt: {
      const VoigtWidths w = voigt_widths(f, p[kFirstShapeParam]);
      for (std::size_t i = 0; i < n; ++i) out[i] += area * voigt_value(x[i] - c, w.sigma, w.gamma);
      return;
    }
    case Shape::DoniachSunjic: {
      const Ds ds(f, p[kFirstShapeParam]);
      for (std::size_t i = 0; i < n; ++i) out[i] += area * ds(c - x[i]);
      return;
    }
    case Shape::DoniachSunjicGauss: {
      const DsGauss dg(f, p[kFirstShapeParam], p[kFirstShapeParam + 1]);
      for (std::size_t i = 0; i < n; ++i) out[i] += area * dg(c - x[i]);
      return;
    }
  }
}

void add_peak_jacobian(Shape s, std::span<const double> p, std::span<const double> x, std::span<double> out,
                       std::span<double> jac) {
  check_call(s, p, x.size(), out.size(), "add_peak_jacobian");
  const std::size_t n = x.size(), np = n_params(s);
  if (jac.size() < np * n)
    throw InvalidArgument("add_peak_jacobian: jac has " + std::to_string(jac.size()) + " entries, needs " +
                          std::to_string(np) + " x " + std::to_string(n));
  const double c = p[kCenter], f = p[kFwhm], area = p[kArea];
  double* jc = jac.data();
  double* jf = jc + n;
  double* ja = jc + 2 * n;
  const auto ni = static_cast<Eigen::Index>(n);
  switch (s) {
    case Shape::Gaussian: {
      // The one exp per point is Eigen's SIMD exp (≈4x glibc's scalar exp), written to the area column.
      const double b = -kFourLn2 / (f * f);
      ArrayMapMut(ja, ni) = (kGaussNorm / f) * ((ArrayMap(x.data(), ni) - c).square() * b).exp();
      gauss_jacobian_kernel(n, x.data(), c, area, f, ja, out.data(), jc, jf);
      return;
    }
    case Shape::Lorentzian: {
      // L = h/(π(d²+h²)), h = f/2: ∂L/∂c = L·2d/(d²+h²), ∂L/∂f = L (d² − h²)/(f (d²+h²)).
      const double h = 0.5 * f, h2 = h * h, inv_f = 1 / f;
      for (std::size_t i = 0; i < n; ++i) {
        const double d = x[i] - c, r = 1 / (d * d + h2), l = h / kPi * r, al = area * l;
        ja[i] = l;
        out[i] += al;
        jc[i] = al * 2 * d * r;
        jf[i] = al * (d * d - h2) * r * inv_f;
      }
      return;
    }
    case Shape::PseudoVoigt: {
      const double eta = p[kFirstShapeParam];
      double* je = jc + 3 * n;
      const double b = -kFourLn2 / (f * f);
      ArrayMapMut(je, ni) = (kGaussNorm / f) * ((ArrayMap(x.data(), ni) - c).square() * b).exp();  // G for now
      pvoigt_jacobian_kernel(n, x.data(), c, area, f, eta, ja, out.data(), jc, jf, je);
      return;
    }
    case Shape::Voigt: {
      const double rho = p[kFirstShapeParam];
      const VoigtWidths w = voigt_widths(f, rho);
      double* jr = jc + 3 * n;
      for (std::size_t i = 0; i < n; ++i) {
        const VoigtPoint v = voigt_point(x[i] - c, w.sigma, w.gamma);
        ja[i] = v.v;
        out[i] += area * v.v;
        jc[i] = -area * v.dd;
        // t = σ² = f² q(ρ)/(8 ln2) and γ = ρ f/2:  ∂t/∂f = 2t/f, ∂γ/∂f = ρ/2, ∂γ/∂ρ = f/2.
        jf[i] = area * (v.dt * 2 * w.t / f + v.dg * 0.5 * rho);
        jr[i] = area * (v.dt * w.dt_drho + v.dg * 0.5 * f);
      }
      return;
    }
    case Shape::DoniachSunjic:
    case Shape::DoniachSunjicGauss:
      numeric_jacobian(s, p, x, out, jac);
      return;
  }
}

double peak_maximum(Shape s, std::span<const double> p) {
  check_call(s, p, 0, 0, "peak_maximum");
  if (s != Shape::DoniachSunjic && s != Shape::DoniachSunjicGauss) return p[kCenter];
  const Evaluator ev(s, p[kCenter], p[kFwhm], p.data() + kFirstShapeParam);
  const double w = p[kFwhm] + (s == Shape::DoniachSunjicGauss ? std::abs(p[kFirstShapeParam + 1]) : 0.0);
  // Coarse scan over center ± 2w (the DS maximum lies within γ of the center toward the tail), then golden section.
  const int m = 256;
  double best_x = p[kCenter], best_v = -kInf;
  const double step = 4 * w / m;
  for (int k = 0; k <= m; ++k) {
    const double xk = p[kCenter] - 2 * w + k * step, v = ev(xk);
    if (v > best_v) best_v = v, best_x = xk;
  }
  double a = best_x - step, b = best_x + step;
  const double g = 0.5 * (std::sqrt(5.0) - 1);
  double x1 = b - g * (b - a), x2 = a + g * (b - a), f1 = ev(x1), f2 = ev(x2);
  while (b - a > 1e-12 * w) {
    if (f1 < f2) {
      a = x1, x1 = x2, f1 = f2, x2 = a + g * (b - a), f2 = ev(x2);
    } else {
      b = x2, x2 = x1, f2 = f1, x1 = b - g * (b - a), f1 = ev(x1);
    }
  }
  return 0.5 * (a + b);
}

double measured_fwhm(Shape s, std::span<const double> p) {
  check_call(s, p, 0, 0, "measured_fwhm");
  const Evaluator ev(s, p[kCenter], p[kFwhm], p.data() + kFirstShapeParam);
  const double xm = peak_maximum(s, p), half = 0.5 * ev(xm);
  const double w = p[kFwhm] + (s == Shape::DoniachSunjicGauss ? std::abs(p[kFirstShapeParam + 1]) : 0.0);
  // Walk out from the maximum by doubling steps until below half maximum, then bisect (profiles are unimodal).
  auto crossing = [&](double dir) {
    double inside = xm, step = 0.25 * w, outside = xm + dir * step;
    for (int it = 0; ev(outside) > half; ++it) {
      if (it > 60) throw NumericalError("measured_fwhm: profile '" + to_string(s) + "' does not fall to half maximum");
      inside = outside;
      step *= 2;
      outside = xm + dir * step;
    }
    for (int it = 0; it < 200 && std::abs(outside - inside) > 1e-14 * w; ++it) {
      const double mid = 0.5 * (inside + outside);
      (ev(mid) > half ? inside : outside) = mid;
    }
    return 0.5 * (inside + outside);
  };
  return crossing(1.0) - crossing(-1.0);
}

double voigt_profile(double x, double sigma, double gamma) {
  if (!(sigma >= 0) || !(gamma >= 0) || (sigma == 0 && gamma == 0) || !std::isfinite(sigma) || !std::isfinite(gamma))
    throw InvalidArgument("voigt_profile: need sigma >= 0, gamma >= 0, not both 0 (got sigma " + fmt(sigma) +
                          ", gamma " + fmt(gamma) + ")");
  return voigt_value(x, sigma, gamma);
}

}  // namespace tsunagu::spectra
