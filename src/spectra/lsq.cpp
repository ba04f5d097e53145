#include "tsunagu/spectra/lsq.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include <Eigen/Cholesky>
#include <Eigen/Core>

#include "tsunagu/core/error.hpp"
#include "tsunagu/core/table.hpp"

namespace tsunagu::spectra {

namespace {

using Eigen::Index;
using MatMap = Eigen::Map<Eigen::MatrixXd>;
using VecMap = Eigen::Map<Eigen::VectorXd>;
using CVecMap = Eigen::Map<const Eigen::VectorXd>;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Grow-only resize: buffers keep their capacity across fits so steady-state fits never allocate.
template <class T>
void ensure(std::vector<T>& v, std::size_t n) {
  if (v.size() < n) v.resize(n);
}

std::string fmt(double v) { return core::format_double(v); }

}  // namespace

// ================================================================================================ LM solver

std::string to_string(LmStatus s) {
  switch (s) {
    case LmStatus::Ftol: return "ftol";
    case LmStatus::Xtol: return "xtol";
    case LmStatus::Gtol: return "gtol";
    case LmStatus::ExactFit: return "exact-fit";
    case LmStatus::NoProgress: return "no-progress";
    case LmStatus::MaxIter: return "max-iter";
    case LmStatus::Failed: return "failed";
  }
  return "?";
}

void LmOptions::validate() const {
  auto bad = [](const std::string& m) { return InvalidArgument("least squares options: " + m); };
  if (max_iter < 1) throw bad("max_iter must be >= 1, got " + std::to_string(max_iter));
  if (!(ftol >= 0) || !std::isfinite(ftol)) throw bad("ftol must be >= 0, got " + fmt(ftol));
  if (!(xtol >= 0) || !std::isfinite(xtol)) throw bad("xtol must be >= 0, got " + fmt(xtol));
  if (!(gtol >= 0) || !std::isfinite(gtol)) throw bad("gtol must be >= 0, got " + fmt(gtol));
  if (!(initial_lambda > 0) || !std::isfinite(initial_lambda))
    throw bad("initial_lambda must be > 0, got " + fmt(initial_lambda));
}

struct LevenbergMarquardt::Workspace {
  // n-sized
  std::vector<double> w, f, f_trial, r, r_trial;
  // n·m
  std::vector<double> jac, jac_trial;
  // m-sized
  std::vector<double> p, p_trial, lo, hi, g, d2, step, tmp, sv, as;
  std::vector<int> free_idx;
  // m·m
  std::vector<double> a, sys, inv;
};

LevenbergMarquardt::LevenbergMarquardt(LmOptions options) : options_(options), ws_(std::make_unique<Workspace>()) {
  options_.validate();
}
LevenbergMarquardt::~LevenbergMarquardt() = default;
LevenbergMarquardt::LevenbergMarquardt(LevenbergMarquardt&&) noexcept = default;
LevenbergMarquardt& LevenbergMarquardt::operator=(LevenbergMarquardt&&) noexcept = default;

const LmOptions& LevenbergMarquardt::options() const noexcept { return options_; }
void LevenbergMarquardt::set_options(const LmOptions& options) {
  options.validate();
  options_ = options;
}

LmResult LevenbergMarquardt::solve(LmModel& model, std::span<const double> y, std::span<const double> weights,
                                   std::span<const double> p0, std::span<const double> lower,
                                   std::span<const double> upper) {
  LmResult r;
  solve(model, y, weights, p0, lower, upper, r);
  return r;
}

void LevenbergMarquardt::solve(LmModel& model, std::span<const double> y, std::span<const double> weights,
                               std::span<const double> p0, std::span<const double> lower,
                               std::span<const double> upper, LmResult& res) {
  const std::size_t n = y.size(), m = p0.size();
  auto bad = [](const std::string& msg) { return InvalidArgument("least squares: " + msg); };
  if (m == 0) throw bad("no parameters");
  if (n == 0) throw bad("no data points");
  if (!weights.empty() && weights.size() != n)
    throw bad("weights have " + std::to_string(weights.size()) + " entries for " + std::to_string(n) + " points");
  if (!lower.empty() && lower.size() != m)
    throw bad("lower bounds have " + std::to_string(lower.size()) + " entries for " + std::to_string(m) +
              " parameters");
  if (!upper.empty() && upper.size() != m)
    throw bad("upper bounds have " + std::to_string(upper.size()) + " entries for " + std::to_string(m) +
              " parameters");
  for (std::size_t i = 0; i < n; ++i) {
    if (!std::isfinite(y[i])) throw bad("data point " + std::to_string(i) + " is not finite");
    if (!weights.empty() && !(weights[i] > 0 && std::isfinite(weights[i])))
      throw bad("weight " + std::to_string(i) + " must be finite and > 0, got " + fmt(weights[i]));
  }

  Workspace& ws = *ws_;
  ensure(ws.w, n);
  ensure(ws.f, n);
  ensure(ws.f_trial, n);
  ensure(ws.r, n);
  ensure(ws.r_trial, n);
  ensure(ws.jac, n * m);
  ensure(ws.jac_trial, n * m);
  for (auto* v : {&ws.p, &ws.p_trial, &ws.lo, &ws.hi, &ws.g, &ws.d2, &ws.step, &ws.tmp, &ws.sv, &ws.as}) ensure(*v, m);
  ensure(ws.free_idx, m);
  ensure(ws.a, m * m);
  ensure(ws.sys, m * m);
  ensure(ws.inv, m * m);

  std::size_t n_free = 0;
  for (std::size_t j = 0; j < m; ++j) {
    const double lo = lower.empty() ? -kInf : lower[j], hi = upper.empty() ? kInf : upper[j];
    if (std::isnan(lo) || std::isnan(hi) || lo > hi)
      throw bad("parameter " + std::to_string(j) + ": lower bound " + fmt(lo) + " > upper bound " + fmt(hi));
    if (!std::isfinite(p0[j])) throw bad("starting value of parameter " + std::to_string(j) + " is not finite");
    ws.lo[j] = lo;
    ws.hi[j] = hi;
    ws.p[j] = std::clamp(p0[j], lo, hi);
    if (lo < hi) ++n_free;
  }
  if (n < n_free)
    throw bad(std::to_string(n_free) + " free parameters but only " + std::to_string(n) + " data points");
  for (std::size_t i = 0; i < n; ++i) ws.w[i] = weights.empty() ? 1.0 : weights[i];

  const LmOptions& o = options_;
  const Index N = static_cast<Index>(n), M = static_cast<Index>(m);
  CVecMap yv(y.data(), N);
  VecMap wv(ws.w.data(), N);

  // Evaluate at `p` into (f, jac): residuals r = w(y − f), rows of jac scaled by w; returns χ² (inf if not finite).
  auto eval = [&](std::vector<double>& p, std::vector<double>& f, std::vector<double>& jac,
                  std::vector<double>& rr) {
    model.evaluate(std::span<const double>(p.data(), m), std::span<double>(f.data(), n),
                   std::span<double>(jac.data(), n * m));
    ++res.n_eval;
    VecMap fv(f.data(), N), rv(rr.data(), N);
    rv = wv.cwiseProduct(yv - fv);
    const double chi2 = rv.squaredNorm();
    // Scale the rows by w column by column (vectorised); the column sums catch NaN/inf in the Jacobian.
    double check = 0;
    for (Index j = 0; j < M; ++j) {
      VecMap col(jac.data() + j * N, N);
      col = col.cwiseProduct(wv);
      check += col.sum();
    }
    if (!std::isfinite(chi2) || !std::isfinite(check)) return kInf;
    return chi2;
  };

  res.n_eval = 0;
  res.n_iter = 0;
  res.n_free = n_free;
  double chi2 = eval(ws.p, ws.f, ws.jac, ws.r);
  LmStatus status = LmStatus::MaxIter;
  double lambda = o.initial_lambda, nu = 2.0;
  std::fill_n(ws.d2.begin(), m, 0.0);
  MatMap A(ws.a.data(), M, M);
  VecMap g(ws.g.data(), M), d2(ws.d2.data(), M);

  auto build_normal = [&]() {
    // JᵀWJ and g = JᵀWr by column dot products: for m ≲ 30 and n ~ 10² this is ~2× faster than Eigen's GEMM/SYRK,
    // whose packing dominates at this size (measured: 2.8 vs 5.6 µs for 300 × 14).
    MatMap J(ws.jac.data(), N, M);
    VecMap rv(ws.r.data(), N);
    for (Index b = 0; b < M; ++b) {
      const auto cb = J.col(b);
      for (Index a = b; a < M; ++a) A(a, b) = A(b, a) = J.col(a).dot(cb);
      g[b] = cb.dot(rv);
    }
  };

  if (!std::isfinite(chi2)) {
    status = LmStatus::Failed;
  } else {
    while (true) {
      build_normal();
      for (std::size_t j = 0; j < m; ++j) {
        ws.d2[j] = std::max(ws.d2[j], A(j, j));
      }
      if (chi2 == 0) {
        status = LmStatus::ExactFit;
        break;
      }
      // Active set: fixed parameters and those on a bound whose descent direction (g = JᵀWr) points outward.
      std::size_t k = 0;
      double gmax = 0;
      for (std::size_t j = 0; j < m; ++j) {
        const double pj = ws.p[j];
        if (!(ws.lo[j] < ws.hi[j])) continue;
        if (pj <= ws.lo[j] && ws.g[j] <= 0) continue;
        if (pj >= ws.hi[j] && ws.g[j] >= 0) continue;
        ws.free_idx[k++] = static_cast<int>(j);
        if (A(j, j) > 0) gmax = std::max(gmax, std::abs(ws.g[j]) / std::sqrt(A(j, j) * chi2));
      }
      if (k == 0 || gmax <= o.gtol) {
        status = LmStatus::Gtol;
        break;
      }
      const Index K = static_cast<Index>(k);
      bool accepted = false, stop = false;
      while (!accepted) {
        if (res.n_iter >= o.max_iter) {
          status = LmStatus::MaxIter;
          stop = true;
          break;
        }
        ++res.n_iter;
        // Scaled damped system (S A S + λ I) δ' = S g on the free set, S = diag(1/D), δ = S δ'.
        MatMap S(ws.sys.data(), K, K);
        VecMap rhs(ws.tmp.data(), K);
        for (Index a = 0; a < K; ++a) {
          const Index ja = ws.free_idx[a];
          ws.sv[a] = ws.d2[ja] > 0 ? 1.0 / std::sqrt(ws.d2[ja]) : 1.0;
        }
        for (Index b = 0; b < K; ++b) {
          const Index jb = ws.free_idx[b];
          for (Index a = 0; a < K; ++a) S(a, b) = A(ws.free_idx[a], jb) * ws.sv[a] * ws.sv[b];
          S(b, b) += lambda;
          rhs[b] = ws.g[jb] * ws.sv[b];
        }
        Eigen::LLT<Eigen::Ref<Eigen::MatrixXd>> llt(S);
        if (llt.info() != Eigen::Success) {
          lambda *= nu;
          nu *= 2;
          if (lambda > 1e16) {
            status = LmStatus::NoProgress;
            stop = true;
            break;
          }
          continue;
        }
        llt.solveInPlace(rhs);
        std::copy_n(ws.p.begin(), m, ws.p_trial.begin());
        for (Index a = 0; a < K; ++a) {
          const Index j = ws.free_idx[a];
          ws.p_trial[j] = std::clamp(ws.p[j] + rhs[a] * ws.sv[a], ws.lo[j], ws.hi[j]);
        }
        VecMap s(ws.step.data(), M);
        double snorm = 0, pnorm = 0;
        for (std::size_t j = 0; j < m; ++j) {
          ws.step[j] = ws.p_trial[j] - ws.p[j];
          const double dj = std::sqrt(ws.d2[j]);
          snorm += (dj * ws.step[j]) * (dj * ws.step[j]);
          pnorm += (dj * ws.p[j]) * (dj * ws.p[j]);
        }
        snorm = std::sqrt(snorm);
        pnorm = std::sqrt(pnorm);
        // Predicted χ² reduction of the (projected) step from the local quadratic model.
        VecMap as(ws.as.data(), M);
        as.noalias() = A * s;
        const double pred = 2.0 * g.dot(s) - s.dot(as);
        const double chi2_t = eval(ws.p_trial, ws.f_trial, ws.jac_trial, ws.r_trial);
        const double actred = chi2 - chi2_t;
        const double rho = std::isfinite(chi2_t) ? (pred > 0 ? actred / pred : (actred > 0 ? 0.5 : -1.0)) : -1.0;
        if (rho > 1e-4) {
          accepted = true;
          std::swap(ws.p, ws.p_trial);
          std::swap(ws.f, ws.f_trial);
          std::swap(ws.jac, ws.jac_trial);
          std::swap(ws.r, ws.r_trial);
          const double chi2_old = chi2;
          chi2 = chi2_t;
          lambda *= std::max(1.0 / 3.0, 1.0 - std::pow(2.0 * rho - 1.0, 3));
          nu = 2;
          if (std::abs(actred) <= o.ftol * chi2_old && pred <= o.ftol * chi2_old && rho <= 2.0) {
            status = LmStatus::Ftol;
            stop = true;
          } else if (snorm <= o.xtol * pnorm) {
            status = LmStatus::Xtol;
            stop = true;
          }
        } else {
          lambda *= nu;
          nu *= 2;
          if (snorm <= o.xtol * pnorm) {
            status = LmStatus::Xtol;
            stop = true;
            break;
          }
          if (lambda > 1e16) {
            status = LmStatus::NoProgress;
            stop = true;
            break;
          }
        }
      }
      if (stop) break;
    }
  }

  // ---- results
  res.status = status;
  res.converged = is_converged(status);
  res.chi2 = chi2;
  res.params.assign(ws.p.begin(), ws.p.begin() + static_cast<std::ptrdiff_t>(m));
  res.fitted.assign(ws.f.begin(), ws.f.begin() + static_cast<std::ptrdiff_t>(n));
  res.at_bound.assign(m, 0);
  for (std::size_t j = 0; j < m; ++j)
    res.at_bound[j] = (ws.lo[j] < ws.hi[j] && (ws.p[j] <= ws.lo[j] || ws.p[j] >= ws.hi[j])) ? 1 : 0;
  switch (status) {
    case LmStatus::Ftol: res.message = "converged: relative chi2 reduction < ftol (" + fmt(o.ftol) + ")"; break;
    case LmStatus::Xtol: res.message = "converged: relative parameter step < xtol (" + fmt(o.xtol) + ")"; break;
    case LmStatus::Gtol: res.message = "converged: gradient < gtol (" + fmt(o.gtol) + ")"; break;
    case LmStatus::ExactFit: res.message = "converged: exact fit (chi2 = 0)"; break;
    case LmStatus::NoProgress: res.message = "converged: no step reduces chi2 further (machine precision)"; break;
    case LmStatus::MaxIter:
      res.message = "not converged: max_iter (" + std::to_string(o.max_iter) + ") iterations reached";
      break;
    case LmStatus::Failed: res.message = "failed: the model is not finite at the starting parameters"; break;
  }

  res.std_error.assign(m, 0.0);
  res.covariance.assign(o.compute_covariance ? m * m : 0, 0.0);
  if (!o.compute_covariance) return;
  if (status == LmStatus::Failed) {
    std::fill(res.std_error.begin(), res.std_error.end(), kNaN);
    std::fill(res.covariance.begin(), res.covariance.end(), kNaN);
    return;
  }
  build_normal();
  std::size_t k = 0;
  bool singular = false;
  std::size_t n_undetermined = 0;
  for (std::size_t j = 0; j < m; ++j) {
    if (!(ws.lo[j] < ws.hi[j]) || res.at_bound[j]) continue;
    // A parameter the model does not depend on at the solution (e.g. the centre of a peak whose area went to 0)
    // has no error; leave it out so the others still get theirs.
    if (!(A(j, j) > 0)) {
      res.std_error[j] = kNaN;
      ++n_undetermined;
      continue;
    }
    ws.free_idx[k++] = static_cast<int>(j);
  }
  if (n_undetermined) res.message += "; some parameters do not affect the model (their errors are NaN)";
  if (k == 0) return;
  const Index K = static_cast<Index>(k);
  // Parameters the model does not depend on use up no degree of freedom in the error estimate.
  const std::size_t dof = n - (n_free - n_undetermined);
  double factor = 1.0;
  if (o.scale_covariance) factor = dof > 0 ? chi2 / static_cast<double>(dof) : kNaN;
  if (!singular) {
    // Scale to unit diagonal first (NIST problems mix parameters of size 1e-2 and 1e2).
    MatMap S(ws.sys.data(), K, K), I(ws.inv.data(), K, K);
    for (Index a = 0; a < K; ++a) ws.sv[a] = 1.0 / std::sqrt(A(ws.free_idx[a], ws.free_idx[a]));
    for (Index b = 0; b < K; ++b)
      for (Index a = 0; a < K; ++a) S(a, b) = A(ws.free_idx[a], ws.free_idx[b]) * ws.sv[a] * ws.sv[b];
    Eigen::LLT<Eigen::Ref<Eigen::MatrixXd>> llt(S);
    if (llt.info() != Eigen::Success) {
      singular = true;
    } else {
      I.setIdentity();
      llt.solveInPlace(I);
      // Reject a numerically singular matrix: the inverse of a unit-diagonal SPD matrix has diagonal >= 1, and
      // a huge one means the parameters are not determined by the data.
      if (!I.allFinite() || I.diagonal().maxCoeff() > 1e14) singular = true;
      for (Index b = 0; b < K && !singular; ++b)
        for (Index a = 0; a < K; ++a) {
          const std::size_t ja = static_cast<std::size_t>(ws.free_idx[a]),
                            jb = static_cast<std::size_t>(ws.free_idx[b]);
          res.covariance[ja * m + jb] = I(a, b) * ws.sv[a] * ws.sv[b] * factor;
        }
    }
  }
  for (Index a = 0; a < K; ++a) {
    const std::size_t j = static_cast<std::size_t>(ws.free_idx[a]);
    res.std_error[j] = singular ? kNaN : std::sqrt(res.covariance[j * m + j]);
  }
  if (singular) {
    for (Index a = 0; a < K; ++a)
      for (Index b = 0; b < K; ++b)
        res.covariance[static_cast<std::size_t>(ws.free_idx[a]) * m + static_cast<std::size_t>(ws.free_idx[b])] =
            kNaN;
    res.message += "; covariance singular (parameters not determined by the data)";
  }
}

}  // namespace tsunagu::spectra

// ================================================================================================ peak fitting

namespace tsunagu::spectra {

void LsqOptions::validate() const {
  auto bad = [](const std::string& m) { return InvalidArgument("lsq options: " + m); };
  if (max_iter < 1) throw bad("max_iter must be >= 1, got " + std::to_string(max_iter));
  if (!(ftol >= 0) || !std::isfinite(ftol)) throw bad("ftol must be >= 0, got " + fmt(ftol));
  if (!(xtol >= 0) || !std::isfinite(xtol)) throw bad("xtol must be >= 0, got " + fmt(xtol));
  if (!(gtol >= 0) || !std::isfinite(gtol)) throw bad("gtol must be >= 0, got " + fmt(gtol));
  if (background == BackgroundKind::Polynomial && (poly_degree < 0 || poly_degree > 6))
    throw bad("poly_degree must be within 0..6, got " + std::to_string(poly_degree));
  if (!(min_fwhm >= 0) || !std::isfinite(min_fwhm)) throw bad("min_fwhm must be >= 0 eV, got " + fmt(min_fwhm));
  if (!(max_fwhm >= 0) || !std::isfinite(max_fwhm)) throw bad("max_fwhm must be >= 0 eV, got " + fmt(max_fwhm));
  if (min_fwhm > 0 && max_fwhm > 0 && min_fwhm > max_fwhm)
    throw bad("min_fwhm (" + fmt(min_fwhm) + " eV) > max_fwhm (" + fmt(max_fwhm) + " eV)");
  if (background == BackgroundKind::Shirley || background == BackgroundKind::ActiveShirley) shirley.validate();
  if (background == BackgroundKind::Tougaard) tougaard.validate();
  for (const Doublet& d : doublets) {
    if (!std::isfinite(d.splitting)) throw bad("doublet splitting is not finite");
    if (!(d.area_ratio > 0) || !std::isfinite(d.area_ratio))
      throw bad("doublet area_ratio must be > 0, got " + fmt(d.area_ratio));
    if (d.first == d.second) throw bad("doublet ties peak " + std::to_string(d.first + 1) + " to itself");
  }
}

namespace {

// full peak parameter i = scale·θ[src] + offset (src >= 0), or the constant `offset` (src < 0).
struct ParamMap {
  int src = -1;
  double scale = 1, offset = 0;
};

struct PeakSlot {
  Shape shape;
  std::size_t offset, np;  // into the full peak-parameter vector
  // All np parameters are θ[base + j] with scale 1 and no other peak writes those columns: the lineshape writes its
  // Jacobian straight into them (no zeroing, no scatter). The common, untied case.
  bool direct = false;
  std::size_t base = 0;
};

std::size_t n_bg_params(BackgroundKind k, int degree) {
  switch (k) {
    case BackgroundKind::None: return 0;
    case BackgroundKind::Constant: return 1;
    case BackgroundKind::Linear: return 2;
    case BackgroundKind::Polynomial: return static_cast<std::size_t>(degree) + 1;
    case BackgroundKind::Shirley: return 0;
    case BackgroundKind::ActiveShirley: return 2;
    case BackgroundKind::Tougaard: return 0;
  }
  return 0;
}

// Cumulative trapezoid ∫_{x_0}^{x_i} f in place (same convention as background.hpp's cumulative_integral).
void cumulative_trapezoid(const double* x, double* f, std::size_t n) {
  double acc = 0, prev = f[0];
  f[0] = 0;
  for (std::size_t i = 1; i < n; ++i) {
    const double cur = f[i];
    acc += 0.5 * (cur + prev) * (x[i] - x[i - 1]);
    prev = cur;
    f[i] = acc;
  }
}

// background + Σ peaks as an LmModel over the reduced parameter vector θ = [peak θ..., background...].
class PeakModel final : public LmModel {
 public:
  std::span<const double> x;
  std::vector<PeakSlot> peaks;
  std::vector<ParamMap> map;  // (full peak params)
  std::size_t n_theta_peaks = 0, n_bg = 0;
  BackgroundKind bg = BackgroundKind::None;
  std::vector<double> basis;     // n × n_bg (constant/linear/polynomial)
  std::vector<double> fixed_bg;  // n (shirley/tougaard)
  std::vector<double> full;      // full peak parameters
  std::vector<double> jk;        // n × max np
  std::vector<double> peak_sum;  // n
  std::vector<double> cum;       // n
  std::vector<std::size_t> scatter_cols;  // θ peak columns written by non-direct peaks (zeroed, then accumulated)

  // Decide which peaks can write their Jacobian directly (after map and n_theta_peaks are final).
  void plan() {
    std::vector<int> writers(n_theta_peaks, 0);
    for (const ParamMap& pm : map)
      if (pm.src >= 0) ++writers[static_cast<std::size_t>(pm.src)];
    scatter_cols.clear();
    for (PeakSlot& pk : peaks) {
      const ParamMap& first = map[pk.offset];
      pk.direct = first.src >= 0;
      pk.base = pk.direct ? static_cast<std::size_t>(first.src) : 0;
      for (std::size_t j = 0; j < pk.np && pk.direct; ++j) {
        const ParamMap& pm = map[pk.offset + j];
        pk.direct = pm.src == static_cast<int>(pk.base + j) && pm.scale == 1.0 &&
                    writers[static_cast<std::size_t>(pm.src)] == 1;
      }
    }
    std::vector<char> owned(n_theta_peaks, 0);
    for (const PeakSlot& pk : peaks)
      if (pk.direct)
        for (std::size_t j = 0; j < pk.np; ++j) owned[pk.base + j] = 1;
    for (std::size_t c = 0; c < n_theta_peaks; ++c)
      if (!owned[c]) scatter_cols.push_back(c);
  }

  void expand(std::span<const double> theta) {
    for (std::size_t i = 0; i < map.size(); ++i) {
      const ParamMap& pm = map[i];
      full[i] = pm.src >= 0 ? pm.scale * theta[static_cast<std::size_t>(pm.src)] + pm.offset : pm.offset;
    }
  }

  void evaluate(std::span<const double> theta, std::span<double> f, std::span<double> jac) override {
    const std::size_t n = x.size();
    const bool want_jac = !jac.empty();
    expand(theta);
    std::fill_n(peak_sum.begin(), n, 0.0);
    if (want_jac) {
      for (std::size_t c : scatter_cols) std::fill_n(jac.data() + c * n, n, 0.0);
      for (const PeakSlot& pk : peaks)
        if (pk.direct)
          add_peak_jacobian(pk.shape, std::span<const double>(full.data() + pk.offset, pk.np), x,
                            std::span<double>(peak_sum.data(), n), jac.subspan(pk.base * n, pk.np * n));
    }
    for (const PeakSlot& pk : peaks) {
      std::span<const double> p(full.data() + pk.offset, pk.np);
      if (!want_jac) {
        add_peak(pk.shape, p, x, std::span<double>(peak_sum.data(), n));
        continue;
      }
      if (pk.direct) continue;
      add_peak_jacobian(pk.shape, p, x, std::span<double>(peak_sum.data(), n), std::span<double>(jk.data(), n * pk.np));
      for (std::size_t j = 0; j < pk.np; ++j) {
        const ParamMap& pm = map[pk.offset + j];
        if (pm.src < 0) continue;
        double* col = jac.data() + static_cast<std::size_t>(pm.src) * n;
        const double* src = jk.data() + j * n;
        const double s = pm.scale;
        for (std::size_t i = 0; i < n; ++i) col[i] += s * src[i];
      }
    }
    std::copy_n(peak_sum.begin(), n, f.begin());
    const double* th = theta.data() + n_theta_peaks;
    switch (bg) {
      case BackgroundKind::None: break;
      case BackgroundKind::Constant:
      case BackgroundKind::Linear:
      case BackgroundKind::Polynomial:
        for (std::size_t b = 0; b < n_bg; ++b) {
          const double* col = basis.data() + b * n;
          for (std::size_t i = 0; i < n; ++i) f[i] += th[b] * col[i];
          if (want_jac) std::copy_n(col, n, jac.data() + (n_theta_peaks + b) * n);
        }
        break;
      case BackgroundKind::Shirley:
      case BackgroundKind::Tougaard:
        for (std::size_t i = 0; i < n; ++i) f[i] += fixed_bg[i];
        break;
      case BackgroundKind::ActiveShirley: {
        // B = offset + k·∫_{x_0}^{x} Σpeaks: linear in the peaks, so ∂B/∂θ_peak = k·∫ ∂peaks/∂θ_peak.
        const double offset = th[0], k = th[1];
        std::copy_n(peak_sum.begin(), n, cum.begin());
        cumulative_trapezoid(x.data(), cum.data(), n);
        for (std::size_t i = 0; i < n; ++i) f[i] += offset + k * cum[i];
        if (want_jac) {
          std::fill_n(jac.data() + n_theta_peaks * n, n, 1.0);
          std::copy_n(cum.begin(), n, jac.data() + (n_theta_peaks + 1) * n);
          for (std::size_t c = 0; c < n_theta_peaks; ++c) {
            double* col = jac.data() + c * n;
            std::copy_n(col, n, cum.begin());
            cumulative_trapezoid(x.data(), cum.data(), n);
            for (std::size_t i = 0; i < n; ++i) col[i] += k * cum[i];
          }
        }
        break;
      }
    }
  }
};

}  // namespace

struct LsqFitter::Impl {
  LsqOptions options;
  LevenbergMarquardt lm;
  PeakModel model;
  LmResult last;
  std::vector<double> theta0, lo, hi, w, diffs, full_lo, full_hi;
  std::vector<int> root;  // full peak param -> resolved root (full index) during setup
  explicit Impl(const LsqOptions& o) : options(o) {}
};

LsqFitter::LsqFitter(LsqOptions options) {
  options.validate();
  impl_ = std::make_unique<Impl>(options);
}
LsqFitter::~LsqFitter() = default;
LsqFitter::LsqFitter(LsqFitter&&) noexcept = default;
LsqFitter& LsqFitter::operator=(LsqFitter&&) noexcept = default;
const LsqOptions& LsqFitter::options() const noexcept { return impl_->options; }
const LmResult& LsqFitter::last_solver_result() const noexcept { return impl_->last; }

FitResult LsqFitter::fit(std::span<const double> x, std::span<const double> y, const std::vector<Peak>& initial) {
  FitResult r;
  fit(x, y, initial, r);
  return r;
}

FitResult lsq_fit(std::span<const double> x, std::span<const double> y, const std::vector<Peak>& initial,
                  const LsqOptions& options) {
  LsqFitter fitter(options);
  return fitter.fit(x, y, initial);
}

void LsqFitter::fit(std::span<const double> x, std::span<const double> y, const std::vector<Peak>& initial,
                    FitResult& out) {
  Impl& im = *impl_;
  const LsqOptions& o = im.options;
  auto bad = [](const std::string& m) { return InvalidArgument("lsq: " + m); };
  const std::size_t n = x.size();
  if (y.size() != n)
    throw bad("energy axis has " + std::to_string(n) + " points but counts have " + std::to_string(y.size()));
  if (n == 0) throw bad("the fit window contains no points");
  if (initial.empty()) throw bad("no initial peaks given");
  for (std::size_t i = 0; i < n; ++i) {
    if (!std::isfinite(x[i])) throw bad("energy " + std::to_string(i) + " is not finite");
    if (!std::isfinite(y[i])) throw bad("counts " + std::to_string(i) + " are not finite (" + fmt(y[i]) + ")");
    if (o.weighting == Weighting::Poisson && y[i] < 0)
      throw bad("counts " + std::to_string(i) + " are negative (" + fmt(y[i]) +
                ") but Poisson weighting needs counts >= 0");
    if (i > 0 && !(x[i] > x[i - 1]))
      throw bad("energy axis must be strictly ascending (point " + std::to_string(i) + ": " + fmt(x[i]) +
                " after " + fmt(x[i - 1]) + ")");
  }

  // ---- peak layout and default bounds on the full parameter vector
  PeakModel& pm = im.model;
  pm.x = x;
  pm.peaks.clear();
  std::size_t n_full = 0, max_np = 0;
  for (std::size_t k = 0; k < initial.size(); ++k) {
    const Peak& p = initial[k];
    const std::size_t np = n_params(p.shape);
    const std::string what = "initial peak " + std::to_string(k + 1);
    if (p.shape_params.size() != n_shape_params(p.shape))
      throw bad(what + " (" + to_string(p.shape) + ") needs " + std::to_string(n_shape_params(p.shape)) +
                " shape parameters, got " + std::to_string(p.shape_params.size()));
    if (!std::isfinite(p.center)) throw bad(what + ": center is not finite");
    if (!(p.fwhm > 0) || !std::isfinite(p.fwhm)) throw bad(what + ": fwhm must be > 0, got " + fmt(p.fwhm));
    if (!std::isfinite(p.area)) throw bad(what + ": area is not finite");
    for (double v : p.shape_params)
      if (!std::isfinite(v)) throw bad(what + ": shape parameter is not finite");
    pm.peaks.push_back({p.shape, n_full, np});
    n_full += np;
    max_np = std::max(max_np, np);
  }
  const double x_lo = x.front(), x_hi = x.back(), width = x_hi - x_lo;
  double min_fwhm = o.min_fwhm, max_fwhm = o.max_fwhm;
  if (n >= 2 && min_fwhm == 0) {
    ensure(im.diffs, n - 1);
    for (std::size_t i = 0; i + 1 < n; ++i) im.diffs[i] = x[i + 1] - x[i];
    auto mid = im.diffs.begin() + static_cast<std::ptrdiff_t>((n - 1) / 2);
    std::nth_element(im.diffs.begin(), mid, im.diffs.begin() + static_cast<std::ptrdiff_t>(n - 1));
    min_fwhm = *mid;
  }
  if (max_fwhm == 0) max_fwhm = width > 0 ? width : kInf;
  if (min_fwhm > max_fwhm) min_fwhm = max_fwhm;

  im.full_lo.assign(n_full, -kInf);
  im.full_hi.assign(n_full, kInf);
  pm.full.assign(n_full, 0.0);
  for (std::size_t k = 0; k < initial.size(); ++k) {
    const PeakSlot& s = pm.peaks[k];
    const Peak& p = initial[k];
    pm.full[s.offset + kCenter] = p.center;
    pm.full[s.offset + kFwhm] = p.fwhm;
    pm.full[s.offset + kArea] = p.area;
    im.full_lo[s.offset + kCenter] = x_lo;
    im.full_hi[s.offset + kCenter] = x_hi;
    im.full_lo[s.offset + kFwhm] = min_fwhm;
    im.full_hi[s.offset + kFwhm] = max_fwhm;
    im.full_lo[s.offset + kArea] = 0.0;
    const auto lo = shape_param_lower(p.shape), hi = shape_param_upper(p.shape);
    for (std::size_t j = 0; j + kFirstShapeParam < s.np; ++j) {
      const double v = p.shape_params[j];
      pm.full[s.offset + kFirstShapeParam + j] = v;
      im.full_lo[s.offset + kFirstShapeParam + j] = lo[j];
      im.full_hi[s.offset + kFirstShapeParam + j] = hi[j];
      if (v < lo[j] || v > hi[j])
        throw bad("initial peak " + std::to_string(k + 1) + ": " + shape_param_names(p.shape)[j] + " = " + fmt(v) +
                  " outside [" + fmt(lo[j]) + ", " + fmt(hi[j]) + "]");
    }
  }

  // ---- ties: resolve every full parameter to (root, scale, offset); roots become θ entries
  std::vector<ParamMap>& map = pm.map;
  map.assign(n_full, ParamMap{});
  im.root.assign(n_full, -1);
  for (std::size_t i = 0; i < n_full; ++i) im.root[i] = static_cast<int>(i);  // own root
  {
    std::vector<int> tied_to(initial.size(), -1);
    for (const Doublet& d : o.doublets) {
      d.validate(initial.size());
      if (tied_to[d.second] >= 0)
        throw bad("peak " + std::to_string(d.second + 1) + " is the second peak of more than one doublet");
      tied_to[d.second] = static_cast<int>(&d - o.doublets.data());
    }
    // Follow chains second -> first; a cycle means no root.
    for (std::size_t k = 0; k < initial.size(); ++k) {
      std::size_t steps = 0;
      for (int c = tied_to[k]; c >= 0; c = tied_to[o.doublets[static_cast<std::size_t>(c)].first])
        if (++steps > initial.size()) throw bad("doublet ties form a cycle through peak " + std::to_string(k + 1));
    }
    // Affine maps in full-index space: value_i = scale·value_root + offset.
    std::vector<double> sc(n_full, 1.0), off(n_full, 0.0);
    auto resolve = [&](auto&& self, std::size_t k) -> void {
      const int c = tied_to[k];
      if (c < 0) return;
      const Doublet& d = o.doublets[static_cast<std::size_t>(c)];
      self(self, d.first);
      const std::size_t a = pm.peaks[d.first].offset, b = pm.peaks[k].offset;
      im.root[b + kCenter] = im.root[a + kCenter];
      sc[b + kCenter] = sc[a + kCenter];
      off[b + kCenter] = off[a + kCenter] + d.splitting;
      im.root[b + kArea] = im.root[a + kArea];
      sc[b + kArea] = sc[a + kArea] * d.area_ratio;
      off[b + kArea] = off[a + kArea] * d.area_ratio;
      if (d.share_fwhm) {
        im.root[b + kFwhm] = im.root[a + kFwhm];
        sc[b + kFwhm] = sc[a + kFwhm];
        off[b + kFwhm] = off[a + kFwhm];
      }
    };
    for (std::size_t k = 0; k < initial.size(); ++k) resolve(resolve, k);
    for (std::size_t i = 0; i < n_full; ++i) {
      map[i].scale = sc[i];
      map[i].offset = off[i];
    }
  }
  // Assign θ indices to roots (free parameters), constants to fixed shape parameters.
  im.theta0.clear();
  im.lo.clear();
  im.hi.clear();
  for (std::size_t k = 0; k < pm.peaks.size(); ++k) {
    const PeakSlot& s = pm.peaks[k];
    for (std::size_t j = 0; j < s.np; ++j) {
      const std::size_t i = s.offset + j;
      if (static_cast<std::size_t>(im.root[i]) != i) continue;
      if (j >= kFirstShapeParam && !o.fit_shape_params) {
        map[i] = ParamMap{-1, 1.0, pm.full[i]};
        continue;
      }
      map[i].src = static_cast<int>(im.theta0.size());
      im.theta0.push_back(pm.full[i]);
      im.lo.push_back(im.full_lo[i]);
      im.hi.push_back(im.full_hi[i]);
    }
  }
  for (std::size_t i = 0; i < n_full; ++i) {
    const std::size_t rt = static_cast<std::size_t>(im.root[i]);
    if (rt == i) continue;
    map[i].src = map[rt].src;
    if (map[i].src < 0) {  // tied to a fixed constant
      map[i].offset = map[i].scale * map[rt].offset + map[i].offset;
      map[i].scale = 1.0;
      continue;
    }
    // Bounds of a tied parameter restrict its root: lo <= scale·θ + offset <= hi (scale > 0).
    const std::size_t t = static_cast<std::size_t>(map[i].src);
    im.lo[t] = std::max(im.lo[t], (im.full_lo[i] - map[i].offset) / map[i].scale);
    im.hi[t] = std::min(im.hi[t], (im.full_hi[i] - map[i].offset) / map[i].scale);
    if (im.lo[t] > im.hi[t])
      throw bad("doublet ties put peak parameters outside their bounds (e.g. the splitting moves a peak out of the "
                "fit window " + fmt(x_lo) + ".." + fmt(x_hi) + " eV)");
  }
  pm.n_theta_peaks = im.theta0.size();
  pm.plan();
  for (std::size_t t = 0; t < pm.n_theta_peaks; ++t) im.theta0[t] = std::clamp(im.theta0[t], im.lo[t], im.hi[t]);

  // ---- background
  pm.bg = o.background;
  pm.n_bg = n_bg_params(o.background, o.poly_degree);
  const std::size_t n_end = std::max<std::size_t>(1, std::min<std::size_t>(5, n / 10));
  double y_first = 0, y_last = 0;
  for (std::size_t i = 0; i < n_end; ++i) {
    y_first += y[i] / static_cast<double>(n_end);
    y_last += y[n - 1 - i] / static_cast<double>(n_end);
  }
  double x_mean = 0;
  for (double v : x) x_mean += v / static_cast<double>(n);
  const double slope0 = width > 0 ? (y_last - y_first) / (x[n - 1 - (n_end - 1) / 2] - x[(n_end - 1) / 2]) : 0.0;
  const double level0 = 0.5 * (y_first + y_last) + slope0 * (x_mean - 0.5 * (x_lo + x_hi));
  auto bg_at = [&](double xv) -> double {  // starting background level, for area estimates
    switch (o.background) {
      case BackgroundKind::None: return 0.0;
      case BackgroundKind::Constant: return std::min(y_first, y_last);
      default: return level0 + slope0 * (xv - x_mean);
    }
  };
  ensure(pm.basis, n * pm.n_bg);
  double fixed_B = 0;
  switch (o.background) {
    case BackgroundKind::Constant:
    case BackgroundKind::Linear:
    case BackgroundKind::Polynomial:
      for (std::size_t i = 0; i < n; ++i) {
        double v = 1;
        for (std::size_t b = 0; b < pm.n_bg; ++b, v *= x[i] - x_mean) pm.basis[b * n + i] = v;
      }
      break;
    case BackgroundKind::Shirley: pm.fixed_bg = shirley_background(x, y, o.shirley); break;
    case BackgroundKind::Tougaard: pm.fixed_bg = tougaard_background(x, y, o.tougaard, &fixed_B); break;
    default: break;
  }
  ensure(pm.jk, n * max_np);
  ensure(pm.peak_sum, n);
  ensure(pm.cum, n);

  // Areas <= 0: estimate from the height above the starting background at the centre.
  for (std::size_t k = 0; k < pm.peaks.size(); ++k) {
    const PeakSlot& s = pm.peaks[k];
    const ParamMap& am = map[s.offset + kArea];
    if (am.src < 0 || static_cast<std::size_t>(im.root[s.offset + kArea]) != s.offset + kArea) continue;
    double& a0 = im.theta0[static_cast<std::size_t>(am.src)];
    if (a0 > 0) continue;
    std::span<const double> p(pm.full.data() + s.offset, s.np);
    const double c = pm.full[s.offset + kCenter];
    const std::size_t ic = static_cast<std::size_t>(
        std::lower_bound(x.begin(), x.end(), c) - x.begin());
    const std::size_t i = std::min(ic, n - 1);
    const double base = o.background == BackgroundKind::Shirley || o.background == BackgroundKind::Tougaard
                            ? pm.fixed_bg[i]
                            : o.background == BackgroundKind::ActiveShirley ? y_first : bg_at(x[i]);
    double h = y[i] - base;
    if (!(h > 0)) h = 1e-3 * std::max(1.0, std::abs(y[i]));
    const double prof = profile(s.shape, p, c);
    a0 = prof > 0 ? h / prof : h * pm.full[s.offset + kFwhm];
  }

  switch (o.background) {
    case BackgroundKind::Constant: im.theta0.push_back(std::min(y_first, y_last)); break;
    case BackgroundKind::Linear:
    case BackgroundKind::Polynomial:
      im.theta0.push_back(level0);
      if (pm.n_bg > 1) im.theta0.push_back(slope0);
      for (std::size_t b = 2; b < pm.n_bg; ++b) im.theta0.push_back(0.0);
      break;
    case BackgroundKind::ActiveShirley: {
      double total_area = 0;
      pm.expand(im.theta0);
      for (const PeakSlot& s : pm.peaks) total_area += pm.full[s.offset + kArea];
      im.theta0.push_back(y_first);
      im.theta0.push_back(total_area > 0 ? std::max(0.0, (y_last - y_first) / total_area) : 0.0);
      break;
    }
    default: break;
  }
  for (std::size_t b = 0; b < pm.n_bg; ++b) {
    im.lo.push_back(-kInf);
    im.hi.push_back(kInf);
  }
  if (o.background == BackgroundKind::ActiveShirley) im.lo[pm.n_theta_peaks + 1] = 0.0;  // step rises toward +x

  std::size_t n_free = 0;
  for (std::size_t t = 0; t < im.theta0.size(); ++t)
    if (im.lo[t] < im.hi[t]) ++n_free;
  if (n_free > n)
    throw bad(std::to_string(initial.size()) + " peaks with " + to_string(o.background) + " background need " +
              std::to_string(n_free) + " free parameters but the fit window has only " + std::to_string(n) +
              " points");

  // ---- weights and solve
  if (o.weighting == Weighting::Poisson) {
    ensure(im.w, n);
    for (std::size_t i = 0; i < n; ++i) im.w[i] = 1.0 / std::sqrt(std::max(y[i], 1.0));
  }
  LmOptions lo;
  lo.max_iter = o.max_iter;
  lo.ftol = o.ftol;
  lo.xtol = o.xtol;
  lo.gtol = o.gtol;
  lo.compute_covariance = o.compute_errors;
  lo.scale_covariance = o.weighting == Weighting::Gaussian;
  im.lm.set_options(lo);
  std::span<const double> wspan;
  if (o.weighting == Weighting::Poisson) wspan = std::span<const double>(im.w.data(), n);
  im.lm.solve(pm, y, wspan, im.theta0, im.lo, im.hi, im.last);
  const LmResult& s = im.last;

  // ---- result
  out.method = Method::Lsq;
  out.weighting = o.weighting;
  out.energy.assign(x.begin(), x.end());
  out.axis_sign = 1;
  out.counts.assign(y.begin(), y.end());
  out.model.assign(s.fitted.begin(), s.fitted.end());
  out.converged = s.converged;
  out.n_iter = s.n_iter;
  out.message = s.message;
  out.n_free = s.n_free;
  pm.expand(s.params);
  out.peaks.resize(pm.peaks.size());
  for (std::size_t k = 0; k < pm.peaks.size(); ++k) {
    const PeakSlot& sl = pm.peaks[k];
    Peak& p = out.peaks[k];
    p.shape = sl.shape;
    p.set_params(std::span<const double>(pm.full.data() + sl.offset, sl.np));
    p.credible.clear();
    if (!o.compute_errors) {
      p.std_error.clear();
      continue;
    }
    p.std_error.assign(sl.np, 0.0);
    for (std::size_t j = 0; j < sl.np; ++j) {
      const ParamMap& m = map[sl.offset + j];
      if (m.src >= 0) p.std_error[j] = std::abs(m.scale) * s.std_error[static_cast<std::size_t>(m.src)];
    }
  }
  BackgroundResult& b = out.background;
  b.kind = o.background;
  b.x_ref = 0;
  b.params.clear();
  // Background values = model − Σ peaks at the solution.
  std::fill_n(pm.peak_sum.begin(), n, 0.0);
  for (const PeakSlot& sl : pm.peaks)
    add_peak(sl.shape, std::span<const double>(pm.full.data() + sl.offset, sl.np), x,
             std::span<double>(pm.peak_sum.data(), n));
  b.values.resize(n);
  for (std::size_t i = 0; i < n; ++i) b.values[i] = s.fitted[i] - pm.peak_sum[i];
  switch (o.background) {
    case BackgroundKind::None: break;
    case BackgroundKind::Constant:
    case BackgroundKind::Linear:
    case BackgroundKind::Polynomial:
    case BackgroundKind::ActiveShirley:
      b.params.assign(s.params.begin() + static_cast<std::ptrdiff_t>(pm.n_theta_peaks), s.params.end());
      if (o.background != BackgroundKind::ActiveShirley) b.x_ref = x_mean;
      break;
    case BackgroundKind::Shirley: {
      const std::size_t e = std::min(std::max<std::size_t>(o.shirley.end_points, 1), n);
      double lo_v = 0, hi_v = 0;
      for (std::size_t i = 0; i < e; ++i) {
        lo_v += y[i] / static_cast<double>(e);
        hi_v += y[n - 1 - i] / static_cast<double>(e);
      }
      b.params = {lo_v, hi_v};
      break;
    }
    case BackgroundKind::Tougaard: b.params = {fixed_B, o.tougaard.C, o.tougaard.D}; break;
  }
  compute_statistics(out);
}

}  // namespace tsunagu::spectra
