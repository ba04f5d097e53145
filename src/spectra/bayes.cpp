#include "tsunagu/spectra/bayes.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <new>
#include <numeric>
#include <sstream>

#include "tsunagu/core/error.hpp"
#include "tsunagu/core/random.hpp"
#include "tsunagu/core/table.hpp"
#include "tsunagu/core/thread_pool.hpp"

namespace tsunagu::spectra {

namespace {

constexpr double kTiny = 1e-300;            // floor of the Poisson mean and of the RSS inside log()
constexpr double kSigmaRangeLog = 27.631021115928547;  // log(σ_hi/σ_lo) = log(1e12), Gaussian σ prior
constexpr double kTargetAcceptance = 0.4;
constexpr int kAdaptWindow = 20;           // sweeps between step-size updates during burn-in
constexpr std::size_t kBatches = 20;       // batch means for the free-energy standard error
constexpr double kLadderRatio = 1.4;       // default geometric ratio of the ladder
constexpr int kMaxAutoReplicas = 64;

std::string num(double v) { return core::format_double(v); }

/// 64-byte aligned storage for the buffers add_peak writes into. Vectorised line shapes (Eigen) evaluate the
/// unaligned head of a buffer with scalar code and the rest with SIMD code, whose last bits differ; a fixed alignment
/// makes every profile bitwise independent of where malloc (and which thread's arena) put the buffer, so results
/// do not depend on the thread count.
template <class T>
struct Aligned64 {
  using value_type = T;
  Aligned64() = default;
  template <class U>
  Aligned64(const Aligned64<U>&) noexcept {}
  T* allocate(std::size_t n) { return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t{64})); }
  void deallocate(T* p, std::size_t) noexcept { ::operator delete(p, std::align_val_t{64}); }
  template <class U>
  bool operator==(const Aligned64<U>&) const noexcept { return true; }
};
using AlignedVec = std::vector<double, Aligned64<double>>;

std::uint64_t splitmix64(std::uint64_t z) {
  z += 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

/// Fold v into [lo, hi] by reflection at both ends (a symmetric proposal stays symmetric).
double reflect(double v, double lo, double hi) {
  const double w = hi - lo;
  if (!(w > 0)) return lo;
  double t = std::fmod(v - lo, 2 * w);
  if (t < 0) t += 2 * w;
  if (t > w) t = 2 * w - t;
  return lo + t;
}

/// Linear-interpolation quantile (type 7) of sorted values.
double quantile_sorted(const std::vector<double>& s, double q) {
  if (s.empty()) return std::numeric_limits<double>::quiet_NaN();
  const double h = q * static_cast<double>(s.size() - 1);
  const auto i = static_cast<std::size_t>(std::floor(h));
  if (i + 1 >= s.size()) return s.back();
  return s[i] + (h - static_cast<double>(i)) * (s[i + 1] - s[i]);
}

/// Everything about one (data, K, priors) problem that the replicas share.
struct Problem {
  Shape shape = Shape::Gaussian;
  Weighting noise = Weighting::Poisson;
  std::size_t n = 0, K = 0, np = 0;  // channels, peaks, parameters per peak
  bool linear = false;               // sampled linear background (2 extra parameters: end values)
  std::size_t P = 0;                 // sampled parameters in all
  std::vector<double> x, y, t;       // t_i = (x_i − x_0) / (x_{n−1} − x_0)
  std::vector<double> bg_fixed;      // (n) fixed background (zeros when linear: the sampled part is added)
  std::vector<double> lo, hi;        // (P) prior bounds in sampled coordinates
  bool log_fwhm = true;
  double loglik_const = 0;           // constant part of log L omitted from the per-move likelihood
  double xbar = 0;

  bool is_peak_param(std::size_t j) const { return j < K * np; }

  /// Natural peak parameters [center, fwhm, area, shape...] of peak k from sampled coordinates.
  void peak_params(const double* theta, std::size_t k, double* p) const {
    const double* q = theta + k * np;
    for (std::size_t i = 0; i < np; ++i) p[i] = q[i];
    if (log_fwhm) p[kFwhm] = std::exp(q[kFwhm]);
  }

  /// Unit-area profile of a peak (area entry ignored) into out (n, 64-byte aligned: see Aligned64).
  void unit_profile(const double* p_in, AlignedVec& out, double* scratch) const {
    for (std::size_t i = 0; i < np; ++i) scratch[i] = p_in[i];
    scratch[kArea] = 1.0;
    out.assign(n, 0.0);
    add_peak(shape, std::span<const double>(scratch, np), x, std::span<double>(out.data(), n));
  }

  /// log L without loglik_const, from a model vector.
  double loglik(const double* m) const {
    if (noise == Weighting::Poisson) {
      double s = 0;
      for (std::size_t i = 0; i < n; ++i) {
        const double mi = std::max(m[i], kTiny);
        s += (y[i] > 0 ? y[i] * std::log(mi) : 0.0) - mi;
      }
      return s;
    }
    double rss = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const double d = y[i] - m[i];
      rss += d * d;
    }
    return -0.5 * static_cast<double>(n) * std::log(std::max(rss, kTiny));
  }
};

struct State {
  std::vector<double> theta;  // (P) sampled coordinates
  std::vector<double> phi;    // (K·n) unit profiles of the peaks
  std::vector<double> m;      // (n) model
  double logL = 0;
};

/// Per-temperature workspace and bookkeeping (stays with the temperature when states are exchanged).
struct Slot {
  core::Rng rng;
  std::vector<double> step;                    // (P) proposal half-widths
  std::vector<std::uint64_t> acc_win, try_win;  // adaptation window counters
  std::uint64_t acc = 0, tries = 0;            // post-burn-in totals
  std::vector<double> m_prop, p, scratch;
  AlignedVec phi_prop;
  std::vector<double> logL;                    // post-burn-in trace
};

void refresh_model(const Problem& pr, State& s);

/// Profiles, model and log L of a state from its parameters.
void recompute(const Problem& pr, State& s, std::vector<double>& p, std::vector<double>& scratch, AlignedVec& prof) {
  const std::size_t n = pr.n;
  s.phi.resize(pr.K * n);
  for (std::size_t k = 0; k < pr.K; ++k) {
    pr.peak_params(s.theta.data(), k, p.data());
    pr.unit_profile(p.data(), prof, scratch.data());
    std::copy(prof.begin(), prof.end(), s.phi.begin() + static_cast<long>(k * n));
  }
  refresh_model(pr, s);
}

/// Model and log L from the stored unit profiles (no profile evaluation).
void refresh_model(const Problem& pr, State& s) {
  const std::size_t n = pr.n;
  s.m.assign(pr.bg_fixed.begin(), pr.bg_fixed.end());
  if (pr.linear) {
    const double b0 = s.theta[pr.K * pr.np], b1 = s.theta[pr.K * pr.np + 1];
    for (std::size_t i = 0; i < n; ++i) s.m[i] += b0 + (b1 - b0) * pr.t[i];
  }
  for (std::size_t k = 0; k < pr.K; ++k) {
    const double a = s.theta[k * pr.np + kArea];
    const double* f = s.phi.data() + k * n;
    for (std::size_t i = 0; i < n; ++i) s.m[i] += a * f[i];
  }
  s.logL = pr.loglik(s.m.data());
}

/// Model vector only (for summaries), natural parameters of all peaks + background.
std::vector<double> model_of(const Problem& pr, const double* theta) {
  State s;
  s.theta.assign(theta, theta + pr.P);
  std::vector<double> p(pr.np), scratch(pr.np);
  AlignedVec prof;
  recompute(pr, s, p, scratch, prof);
  return s.m;
}

/// One Metropolis sweep over all parameters of state s at inverse temperature beta.
void sweep(const Problem& pr, State& s, Slot& sl, double beta, bool adapting) {
  const std::size_t n = pr.n;
  for (std::size_t j = 0; j < pr.P; ++j) {
    const double old = s.theta[j];
    const double prop = reflect(old + sl.step[j] * (2.0 * core::uniform01(sl.rng) - 1.0), pr.lo[j], pr.hi[j]);
    double* mp = sl.m_prop.data();
    bool new_profile = false;
    std::size_t k = 0;
    // The moved component changes from c_old to c_new at every channel: m' = (m − c_old) + c_new, O(n). Where
    // the component dominates a channel (m − c_old <= 1e-6 m, e.g. a narrow peak on a zero background), that
    // difference would cancel catastrophically and Poisson's log would amplify the error, so the rest of the model is
    // summed afresh from the stored unit profiles for those channels only.
    const bool peak_move = pr.is_peak_param(j);
    const std::size_t e_bg = peak_move ? 0 : j - pr.K * pr.np;  // moved background end (0 = low x, 1 = high x)
    auto rest = [&](std::size_t i) {
      double r = pr.bg_fixed[i];
      if (pr.linear) {
        const double b0 = s.theta[pr.K * pr.np], b1 = s.theta[pr.K * pr.np + 1];
        if (peak_move || e_bg != 0) r += b0 * (1.0 - pr.t[i]);
        if (peak_move || e_bg != 1) r += b1 * pr.t[i];
      }
      for (std::size_t kk = 0; kk < pr.K; ++kk)
        if (!peak_move || kk != k) r += s.theta[kk * pr.np + kArea] * s.phi[kk * n + i];
      return r;
    };
    auto update = [&](auto c_old, auto c_new) {
      for (std::size_t i = 0; i < n; ++i) {
        double r = s.m[i] - c_old(i);
        if (!(r > 1e-6 * s.m[i])) r = rest(i);
        mp[i] = r + c_new(i);
      }
    };
    if (peak_move) {
      k = j / pr.np;
      const std::size_t q = j % pr.np;
      const double* f = s.phi.data() + k * n;
      const double a = s.theta[k * pr.np + kArea];
      if (q == kArea) {
        update([&](std::size_t i) { return a * f[i]; }, [&](std::size_t i) { return prop * f[i]; });
      } else {
        s.theta[j] = prop;
        pr.peak_params(s.theta.data(), k, sl.p.data());
        s.theta[j] = old;
        pr.unit_profile(sl.p.data(), sl.phi_prop, sl.scratch.data());
        const double* g = sl.phi_prop.data();
        update([&](std::size_t i) { return a * f[i]; }, [&](std::size_t i) { return a * g[i]; });
        new_profile = true;
      }
    } else {
      auto w = [&](std::size_t i) { return e_bg == 1 ? pr.t[i] : 1.0 - pr.t[i]; };
      update([&](std::size_t i) { return old * w(i); }, [&](std::size_t i) { return prop * w(i); });
    }
    const double ll = pr.loglik(mp);
    bool accept = beta == 0.0;  // β = 0 samples the prior: every in-bounds move is accepted
    if (!accept && std::isfinite(ll)) {
      const double log_ratio = beta * (ll - s.logL);
      accept = log_ratio >= 0 || std::log(core::uniform01(sl.rng)) < log_ratio;
    }
    if (adapting) {
      ++sl.try_win[j];
      if (accept) ++sl.acc_win[j];
    } else {
      ++sl.tries;
      if (accept) ++sl.acc;
    }
    if (accept) {
      s.theta[j] = prop;
      s.m.swap(sl.m_prop);
      s.logL = ll;
      if (new_profile) std::copy(sl.phi_prop.begin(), sl.phi_prop.end(), s.phi.begin() + static_cast<long>(k * n));
    }
  }
  // Refresh the model from its parts so incremental updates do not accumulate rounding.
  refresh_model(pr, s);
}

/// log of the mean of exp(a·v_s) over the trace entries [s0, s1).
double log_mean_exp(const std::vector<double>& v, double a, std::size_t s0, std::size_t s1) {
  double ref = -std::numeric_limits<double>::infinity();
  for (std::size_t s = s0; s < s1; ++s) ref = std::max(ref, a * v[s]);
  double sum = 0;
  for (std::size_t s = s0; s < s1; ++s) sum += std::exp(a * v[s] - ref);
  return ref + std::log(sum / static_cast<double>(s1 - s0));
}

/// Logistic 1/(1 + e^z) without overflow.
double fermi(double z) {
  if (z > 0) {
    const double e = std::exp(-z);
    return e / (1.0 + e);
  }
  return 1.0 / (1.0 + std::exp(z));
}

/// Bennett's acceptance ratio between neighbouring temperatures: the free-energy step ΔF = −log(Z_{l+1}/Z_l) solves
///   ⟨f(W_F − ΔF)⟩_l = ⟨f(W_R + ΔF)⟩_{l+1},  f(z) = 1/(1 + e^z),  W_F = −Δβ log L (samples at β_l),
///   W_R = +Δβ log L (samples at β_{l+1})
/// (equal sample counts). The logistic weights are bounded, so the heavy lower tail of log L at small β (a narrow
/// peak far from the data) cannot blow up the estimate as it does the exponential averages of stepping-stone or
/// geometric-bridge estimators. h(ΔF) below is increasing; Newton steps safeguarded by bisection.
double bar_step(const std::vector<double>& lo, const std::vector<double>& hi, double dbeta, std::size_t s0,
                std::size_t s1) {
  const double inv = 1.0 / static_cast<double>(s1 - s0);
  auto h = [&](double dF, double& slope) {
    double a = 0, b = 0, da = 0, db = 0;
    for (std::size_t s = s0; s < s1; ++s) {
      const double f = fermi(-dbeta * lo[s] - dF);
      a += f;
      da += f * (1 - f);
      const double g = fermi(dbeta * hi[s] + dF);
      b += g;
      db += g * (1 - g);
    }
    slope = (da + db) * inv;
    return (a - b) * inv;
  };
  // Start from the geometric-bridge estimate, bracket the root, then Newton with bisection fallback.
  double x = -(log_mean_exp(lo, 0.5 * dbeta, s0, s1) - log_mean_exp(hi, -0.5 * dbeta, s0, s1));
  if (!std::isfinite(x)) x = 0;
  double slope = 0, v = h(x, slope);
  double a = x, b = x;
  double step = 1.0;
  if (v < 0) {
    do {
      a = b;
      b += step;
      step *= 2;
    } while (h(b, slope) < 0 && step < 1e12);
  } else {
    do {
      b = a;
      a -= step;
      step *= 2;
    } while (h(a, slope) > 0 && step < 1e12);
  }
  x = 0.5 * (a + b);
  for (int it = 0; it < 200 && b - a > 1e-12 * (1 + std::fabs(x)); ++it) {
    v = h(x, slope);
    if (v == 0) return x;
    if (v < 0) a = x;
    else b = x;
    const double nx = slope > 0 ? x - v / slope : 0.5 * (a + b);
    const double prev = x;
    x = (nx > a && nx < b) ? nx : 0.5 * (a + b);
    if (std::fabs(x - prev) < 1e-13 * (1 + std::fabs(x))) break;
  }
  return x;
}

/// log Z − (constant of L) from the replicas' log L traces over the sweeps [s0, s1).
double ladder_log_z(const std::vector<double>& beta, const std::vector<std::vector<double>>& traces, std::size_t s0,
                    std::size_t s1) {
  double logZ = 0;
  for (std::size_t l = 0; l + 1 < beta.size(); ++l)
    logZ -= bar_step(traces[l], traces[l + 1], beta[l + 1] - beta[l], s0, s1);
  return logZ;
}

void check_data(std::span<const double> x, std::span<const double> y) {
  if (x.size() != y.size())
    throw InvalidArgument("y: length " + std::to_string(y.size()) + " differs from x (" + std::to_string(x.size()) +
                          ")");
  if (x.size() < 2) throw InvalidArgument("x: need at least 2 points, got " + std::to_string(x.size()));
  double total = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (!std::isfinite(x[i])) throw InvalidArgument("x[" + std::to_string(i) + "] is not finite");
    if (i > 0 && !(x[i] > x[i - 1]))
      throw InvalidArgument("x: not strictly ascending at index " + std::to_string(i) + " (" + num(x[i - 1]) +
                            " then " + num(x[i]) + ")");
    if (!std::isfinite(y[i]) || y[i] < 0)
      throw InvalidArgument("y[" + std::to_string(i) + "] = " + num(y[i]) + ": counts must be finite and >= 0");
    total += y[i];
  }
  if (!(total > 0)) throw InvalidArgument("y: counts are all zero, there is nothing to fit");
}

std::size_t sampled_params(std::size_t K, Shape shape, bool linear) { return K * n_params(shape) + (linear ? 2 : 0); }

Problem make_problem(std::span<const double> x, std::span<const double> y, std::size_t K,
                     const BayesBackground& background, const BayesOptions& o) {
  Problem pr;
  pr.shape = o.shape;
  pr.noise = o.noise;
  pr.n = x.size();
  pr.K = K;
  pr.np = n_params(o.shape);
  pr.linear = background.kind == BackgroundKind::Linear;
  pr.P = sampled_params(K, o.shape, pr.linear);
  pr.x.assign(x.begin(), x.end());
  pr.y.assign(y.begin(), y.end());
  const std::size_t n = pr.n;
  if (pr.P >= n)
    throw InvalidArgument("n_peaks: " + std::to_string(K) + " peaks" + (pr.linear ? " and a linear background" : "") +
                          " need " + std::to_string(pr.P) + " parameters but the spectrum has only " +
                          std::to_string(n) + " points");
  const double x0 = x.front(), x1 = x.back(), width = x1 - x0;
  pr.t.resize(n);
  pr.xbar = 0;
  for (std::size_t i = 0; i < n; ++i) {
    pr.t[i] = (x[i] - x0) / width;
    pr.xbar += x[i];
  }
  pr.xbar /= static_cast<double>(n);

  if (pr.linear || (background.kind == BackgroundKind::None && background.values.empty())) {
    pr.bg_fixed.assign(n, 0.0);
  } else {
    const std::string name = "background.values (" + to_string(background.kind) + ")";
    if (background.values.size() != n)
      throw InvalidArgument(name + ": need " + std::to_string(n) + " values, got " +
                            std::to_string(background.values.size()));
    for (std::size_t i = 0; i < n; ++i) {
      const double b = background.values[i];
      if (!std::isfinite(b) || (o.noise == Weighting::Poisson && b < 0))
        throw InvalidArgument(name + "[" + std::to_string(i) + "] = " + num(b) +
                              (o.noise == Weighting::Poisson ? ": must be finite and >= 0 for Poisson noise"
                                                             : ": must be finite"));
    }
    pr.bg_fixed = background.values;
  }

  // Data-derived prior bounds.
  std::vector<double> dx(n - 1);
  for (std::size_t i = 0; i + 1 < n; ++i) dx[i] = x[i + 1] - x[i];
  std::nth_element(dx.begin(), dx.begin() + static_cast<long>(dx.size() / 2), dx.end());
  const double spacing = dx[dx.size() / 2];
  const double min_fwhm = o.min_fwhm > 0 ? o.min_fwhm : 2.0 * spacing;
  const double max_fwhm = o.max_fwhm > 0 ? o.max_fwhm : 0.5 * width;
  if (!(min_fwhm < max_fwhm))
    throw InvalidArgument("min_fwhm: " + num(min_fwhm) + " eV must be < max_fwhm " + num(max_fwhm) +
                          " eV (defaults: 2 channel spacings, half the window width)");
  double integral = 0, ymax = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (i + 1 < n) integral += 0.5 * (y[i] + y[i + 1]) * (x[i + 1] - x[i]);
    ymax = std::max(ymax, y[i]);
  }
  const double max_area = o.max_area > 0 ? o.max_area : 1.5 * integral;
  const double max_bg = o.max_background > 0 ? o.max_background : 1.5 * ymax;
  pr.log_fwhm = o.log_fwhm_prior;

  const auto slo = shape_param_lower(o.shape), shi = shape_param_upper(o.shape);
  for (std::size_t k = 0; k < K; ++k) {
    pr.lo.push_back(x0);
    pr.hi.push_back(x1);
    pr.lo.push_back(pr.log_fwhm ? std::log(min_fwhm) : min_fwhm);
    pr.hi.push_back(pr.log_fwhm ? std::log(max_fwhm) : max_fwhm);
    pr.lo.push_back(0.0);
    pr.hi.push_back(max_area);
    for (std::size_t s = 0; s < slo.size(); ++s) {
      // An unbounded shape parameter (a Gaussian width) gets the FWHM range.
      pr.lo.push_back(std::isfinite(slo[s]) ? slo[s] : 0.0);
      pr.hi.push_back(std::isfinite(shi[s]) ? shi[s] : max_fwhm);
    }
  }
  if (pr.linear) {
    for (int e = 0; e < 2; ++e) {
      pr.lo.push_back(0.0);
      pr.hi.push_back(max_bg);
    }
  }

  if (o.noise == Weighting::Poisson) {
    double c = 0;
    for (double v : y) c -= std::lgamma(v + 1.0);
    pr.loglik_const = c;
  } else {
    const double nn = static_cast<double>(n);
    pr.loglik_const = std::lgamma(0.5 * nn) - std::log(2.0) - 0.5 * nn * std::log(M_PI) - std::log(kSigmaRangeLog);
  }
  return pr;
}

std::vector<std::array<double, 2>> intervals_of(std::vector<std::vector<double>>& cols, std::vector<double>& mean) {
  std::vector<std::array<double, 2>> ci(cols.size());
  mean.assign(cols.size(), 0.0);
  for (std::size_t c = 0; c < cols.size(); ++c) {
    auto& v = cols[c];
    mean[c] = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
    std::sort(v.begin(), v.end());
    ci[c] = {quantile_sorted(v, 0.025), quantile_sorted(v, 0.975)};
  }
  return ci;
}

}  // namespace

void BayesOptions::validate() const {
  if (n_replicas != 0 && (n_replicas < 3 || n_replicas > 10000))
    throw InvalidArgument("n_replicas: must be 0 (automatic) or 3..10000 (got " + std::to_string(n_replicas) + ")");
  if (!(beta_min >= 0 && beta_min < 1))
    throw InvalidArgument("beta_min: must be 0 (automatic) or in (0, 1) (got " + num(beta_min) + ")");
  if (burn_in < 0) throw InvalidArgument("burn_in: must be >= 0 (got " + std::to_string(burn_in) + ")");
  if (n_sweeps - burn_in < static_cast<int>(kBatches))
    throw InvalidArgument("n_sweeps: need at least " + std::to_string(kBatches) + " sweeps after burn_in (got " +
                          std::to_string(n_sweeps) + " sweeps, burn_in " + std::to_string(burn_in) + ")");
  if (!(min_fwhm >= 0) || !std::isfinite(min_fwhm))
    throw InvalidArgument("min_fwhm: must be >= 0 eV (0 = automatic), got " + num(min_fwhm));
  if (!(max_fwhm >= 0) || !std::isfinite(max_fwhm))
    throw InvalidArgument("max_fwhm: must be >= 0 eV (0 = automatic), got " + num(max_fwhm));
  if (min_fwhm > 0 && max_fwhm > 0 && !(min_fwhm < max_fwhm))
    throw InvalidArgument("min_fwhm: " + num(min_fwhm) + " eV must be < max_fwhm " + num(max_fwhm) + " eV");
  if (!(max_area >= 0) || !std::isfinite(max_area))
    throw InvalidArgument("max_area: must be >= 0 counts·eV (0 = automatic), got " + num(max_area));
  if (!(max_background >= 0) || !std::isfinite(max_background))
    throw InvalidArgument("max_background: must be >= 0 counts (0 = automatic), got " + num(max_background));
}

BayesFit bayes_fit(std::span<const double> x, std::span<const double> y, std::size_t n_peaks,
                   const BayesBackground& background, const BayesOptions& options) {
  const auto t_start = std::chrono::steady_clock::now();
  options.validate();
  check_data(x, y);
  const Problem pr = make_problem(x, y, n_peaks, background, options);
  const std::size_t n = pr.n, K = pr.K, P = pr.P;

  BayesFit out;
  FitResult& fr = out.fit;
  fr.method = Method::Bayes;
  fr.weighting = options.noise;
  fr.energy = pr.x;
  fr.axis_sign = 1;
  fr.counts = pr.y;
  fr.n_free = P;
  fr.n_iter = options.n_sweeps;

  if (P == 0) {
    // Nothing to sample: Z is the likelihood of the fixed background itself.
    const double ll = pr.loglik(pr.bg_fixed.data()) + pr.loglik_const;
    out.free_energy = -ll;
    out.betas = {1.0};
    fr.model = pr.bg_fixed;
    fr.background = {background.kind, {}, 0.0, pr.bg_fixed};
    fr.converged = true;
    fr.n_iter = 0;
    fr.message = "no free parameters: F = -log L of the fixed background";
    out.map_model = fr.model;
    compute_statistics(fr);
    out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
    return out;
  }

  // Temperature ladder.
  double beta_min = options.beta_min;
  if (beta_min == 0) {
    double total = std::accumulate(pr.y.begin(), pr.y.end(), 0.0);
    beta_min = options.noise == Weighting::Poisson ? 1.0 / std::max(total, static_cast<double>(n))
                                                   : 1.0 / (5.0 * static_cast<double>(n));
    beta_min = std::min(beta_min, 0.5);
  }
  int R = options.n_replicas;
  if (R == 0)
    R = std::clamp(2 + static_cast<int>(std::ceil(std::log(1.0 / beta_min) / std::log(kLadderRatio))), 3,
                   kMaxAutoReplicas);
  std::vector<double> beta(static_cast<std::size_t>(R));
  beta[0] = 0.0;
  for (int l = 1; l < R; ++l)
    beta[static_cast<std::size_t>(l)] =
        l == R - 1 ? 1.0 : std::pow(beta_min, static_cast<double>(R - 1 - l) / static_cast<double>(R - 2));
  out.betas = beta;

  // Random streams: one per temperature and one for exchanges, all derived from (seed, K).
  const std::uint64_t base = splitmix64(options.seed ^ splitmix64(0x5eedULL + K));
  std::vector<Slot> slots(static_cast<std::size_t>(R));
  std::vector<State> states(static_cast<std::size_t>(R));
  for (std::size_t l = 0; l < slots.size(); ++l) {
    Slot& sl = slots[l];
    sl.rng = core::make_rng(splitmix64(base + 0x1000ULL * (l + 1)));
    sl.step.resize(P);
    for (std::size_t j = 0; j < P; ++j) sl.step[j] = 0.1 * (pr.hi[j] - pr.lo[j]);
    sl.acc_win.assign(P, 0);
    sl.try_win.assign(P, 0);
    sl.m_prop.resize(n);
    sl.phi_prop.resize(n);
    sl.p.resize(pr.np);
    sl.scratch.resize(pr.np);
    State& s = states[l];
    s.theta.resize(P);
    for (std::size_t j = 0; j < P; ++j) s.theta[j] = pr.lo[j] + (pr.hi[j] - pr.lo[j]) * core::uniform01(sl.rng);
    recompute(pr, s, sl.p, sl.scratch, sl.phi_prop);
  }
  core::Rng xrng = core::make_rng(splitmix64(base ^ 0xE1C4A46EULL));

  const int sweeps = options.n_sweeps, burn = options.burn_in;
  const std::size_t N = static_cast<std::size_t>(sweeps - burn);
  for (auto& sl : slots) sl.logL.reserve(N);
  std::vector<std::uint64_t> x_acc(static_cast<std::size_t>(R - 1), 0), x_try(static_cast<std::size_t>(R - 1), 0);
  std::vector<double> samples;  // (N × P) natural parameters at β = 1, peaks sorted by centre
  samples.reserve(N * P);
  double best_ll = -std::numeric_limits<double>::infinity();
  std::vector<double> best_theta;
  double sigma_sum = 0;
  std::vector<std::size_t> order(K);
  std::vector<double> p(pr.np);

  const unsigned threads = options.threads == 0 ? core::default_threads() : options.threads;
  for (int sw = 0; sw < sweeps; ++sw) {
    const bool adapting = sw < burn;
    auto run = [&](std::size_t b, std::size_t e, unsigned) {
      for (std::size_t l = b; l < e; ++l) sweep(pr, states[l], slots[l], beta[l], adapting);
    };
    if (threads > 1)
      core::parallel_for(states.size(), threads, run);
    else
      run(0, states.size(), 0);

    // Exchanges: even pairs after even sweeps, odd pairs after odd sweeps.
    for (std::size_t l = static_cast<std::size_t>(sw % 2); l + 1 < states.size(); l += 2) {
      const double log_a = (beta[l + 1] - beta[l]) * (states[l].logL - states[l + 1].logL);
      const bool ok = log_a >= 0 || std::log(core::uniform01(xrng)) < log_a;
      if (!adapting) {
        ++x_try[l];
        if (ok) ++x_acc[l];
      }
      if (ok) std::swap(states[l], states[l + 1]);
    }

    if (adapting) {
      if ((sw + 1) % kAdaptWindow == 0) {
        for (auto& sl : slots)
          for (std::size_t j = 0; j < P; ++j) {
            if (sl.try_win[j] == 0) continue;
            const double rate = static_cast<double>(sl.acc_win[j]) / static_cast<double>(sl.try_win[j]);
            const double range = pr.hi[j] - pr.lo[j];
            sl.step[j] = std::clamp(sl.step[j] * (rate + 0.05) / (kTargetAcceptance + 0.05), 1e-12 * range, range);
            sl.acc_win[j] = sl.try_win[j] = 0;
          }
      }
      continue;
    }
    for (std::size_t l = 0; l < states.size(); ++l) slots[l].logL.push_back(states[l].logL);
    const State& top = states.back();
    for (std::size_t k = 0; k < K; ++k) order[k] = k;
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return top.theta[a * pr.np + kCenter] < top.theta[b * pr.np + kCenter];
    });
    for (std::size_t k = 0; k < K; ++k) {
      pr.peak_params(top.theta.data(), order[k], p.data());
      samples.insert(samples.end(), p.begin(), p.end());
    }
    for (std::size_t j = K * pr.np; j < P; ++j) samples.push_back(top.theta[j]);
    if (top.logL > best_ll) {
      best_ll = top.logL;
      best_theta = top.theta;
    }
    if (options.noise == Weighting::Gaussian) {
      double rss = 0;
      for (std::size_t i = 0; i < n; ++i) rss += (pr.y[i] - top.m[i]) * (pr.y[i] - top.m[i]);
      sigma_sum += std::sqrt(rss / static_cast<double>(n));
    }
  }

  // Free energy by Bennett acceptance ratios along the ladder; its standard error from the spread of the same
  // estimator over kBatches consecutive blocks of sweeps (this keeps the correlation between neighbouring replicas
  // that exchanges create, which per-level error bars would miss).
  std::vector<std::vector<double>> traces(slots.size());
  for (std::size_t l = 0; l < slots.size(); ++l) traces[l] = std::move(slots[l].logL);
  const double logZ = ladder_log_z(beta, traces, 0, N) + pr.loglik_const;
  std::vector<double> batch(kBatches);
  for (std::size_t b = 0; b < kBatches; ++b) batch[b] = ladder_log_z(beta, traces, N * b / kBatches, N * (b + 1) / kBatches);
  const double bmean = std::accumulate(batch.begin(), batch.end(), 0.0) / static_cast<double>(kBatches);
  double bvar = 0;
  for (double v : batch) bvar += (v - bmean) * (v - bmean);
  bvar /= static_cast<double>(kBatches - 1);
  out.free_energy = -logZ;
  out.free_energy_se = std::sqrt(bvar / static_cast<double>(kBatches));
  out.n_samples = N;

  // Diagnostics.
  out.acceptance.resize(slots.size());
  for (std::size_t l = 0; l < slots.size(); ++l)
    out.acceptance[l] =
        slots[l].tries ? static_cast<double>(slots[l].acc) / static_cast<double>(slots[l].tries) : 0.0;
  out.exchange_rate.resize(x_try.size());
  double min_x = 1;
  std::size_t min_x_at = 0;
  for (std::size_t l = 0; l < x_try.size(); ++l) {
    out.exchange_rate[l] = x_try[l] ? static_cast<double>(x_acc[l]) / static_cast<double>(x_try[l]) : 0.0;
    if (out.exchange_rate[l] < min_x) {
      min_x = out.exchange_rate[l];
      min_x_at = l;
    }
  }
  const double acc_top = out.acceptance.back();
  const bool exchange_ok = x_try.empty() || min_x >= 0.05;
  const bool acc_ok = acc_top >= 0.02 && acc_top <= 0.95;
  fr.converged = exchange_ok && acc_ok;
  {
    std::ostringstream msg;
    msg << "replica exchange: " << R << " replicas, " << sweeps << " sweeps (" << burn << " burn-in); acceptance at "
        << "beta=1 " << num(std::round(acc_top * 1000) / 1000);
    if (!x_try.empty())
      msg << ", lowest exchange rate " << num(std::round(min_x * 1000) / 1000) << " (replicas " << min_x_at << "-"
          << min_x_at + 1 << ")";
    msg << "; F = " << num(std::round(out.free_energy * 1000) / 1000) << " +- "
        << num(std::round(out.free_energy_se * 1000) / 1000);
    if (!exchange_ok) msg << "; exchange rate below 0.05: use more replicas or a smaller beta_min ratio";
    if (!acc_ok) msg << "; acceptance at beta=1 outside [0.02, 0.95]: use more burn-in sweeps";
    fr.message = msg.str();
  }

  // Posterior summaries.
  std::vector<std::vector<double>> cols(P, std::vector<double>(N));
  for (std::size_t s = 0; s < N; ++s)
    for (std::size_t j = 0; j < P; ++j) cols[j][s] = samples[s * P + j];
  const double xw = pr.x.back() - pr.x.front();
  std::vector<std::vector<double>> bg_cols;
  if (pr.linear) {
    // a = bg(x̄), b = slope, from the sampled end values.
    std::vector<double> a(N), b(N);
    for (std::size_t s = 0; s < N; ++s) {
      const double b0 = cols[K * pr.np][s], b1 = cols[K * pr.np + 1][s];
      b[s] = (b1 - b0) / xw;
      a[s] = b0 + b[s] * (pr.xbar - pr.x.front());
    }
    bg_cols = {a, b};
  }
  std::vector<double> mean;
  const auto ci = intervals_of(cols, mean);
  fr.peaks.resize(K);
  for (std::size_t k = 0; k < K; ++k) {
    Peak& pk = fr.peaks[k];
    pk.shape = pr.shape;
    pk.set_params(std::span<const double>(mean.data() + k * pr.np, pr.np));
    pk.credible.assign(ci.begin() + static_cast<long>(k * pr.np), ci.begin() + static_cast<long>((k + 1) * pr.np));
  }
  // Model of the posterior means (peaks in natural units: convert fwhm back to sampled coordinates).
  std::vector<double> mean_theta(mean);
  if (pr.log_fwhm)
    for (std::size_t k = 0; k < K; ++k) mean_theta[k * pr.np + kFwhm] = std::log(mean_theta[k * pr.np + kFwhm]);
  fr.model = model_of(pr, mean_theta.data());
  fr.background.kind = background.kind;
  if (pr.linear) {
    std::vector<double> ab;
    out.background_credible = intervals_of(bg_cols, ab);
    fr.background.params = ab;
    fr.background.x_ref = pr.xbar;
    fr.background.values.resize(n);
    for (std::size_t i = 0; i < n; ++i) fr.background.values[i] = ab[0] + ab[1] * (pr.x[i] - pr.xbar);
  } else {
    fr.background.values = pr.bg_fixed;
  }
  // MAP sample.
  out.map_model = model_of(pr, best_theta.data());
  for (std::size_t k = 0; k < K; ++k) order[k] = k;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return best_theta[a * pr.np + kCenter] < best_theta[b * pr.np + kCenter];
  });
  out.map_peaks.resize(K);
  for (std::size_t k = 0; k < K; ++k) {
    pr.peak_params(best_theta.data(), order[k], p.data());
    out.map_peaks[k].shape = pr.shape;
    out.map_peaks[k].set_params(p);
  }
  if (options.noise == Weighting::Gaussian) out.sigma = sigma_sum / static_cast<double>(N);
  compute_statistics(fr);
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  return out;
}

BayesSelection bayes_select(std::span<const double> x, std::span<const double> y, std::size_t max_peaks,
                            const BayesBackground& background, const BayesOptions& options) {
  const auto t_start = std::chrono::steady_clock::now();
  if (max_peaks < 1) throw InvalidArgument("max_peaks: must be >= 1 (got " + std::to_string(max_peaks) + ")");
  options.validate();
  check_data(x, y);
  // Fail before any sampling when the largest model is already too big.
  const std::size_t P = sampled_params(max_peaks, options.shape, background.kind == BackgroundKind::Linear);
  if (P >= x.size())
    throw InvalidArgument("max_peaks: " + std::to_string(max_peaks) + " peaks need " + std::to_string(P) +
                          " parameters but the spectrum has only " + std::to_string(x.size()) + " points");
  BayesSelection sel;
  sel.fits.resize(max_peaks);
  // Interleave cheap and expensive K (K_max, 1, K_max−1, 2, ...) so contiguous thread chunks get similar work.
  std::vector<std::size_t> ks;
  for (std::size_t a = 1, b = max_peaks; a <= b; ++a, --b) {
    ks.push_back(b);
    if (a != b) ks.push_back(a);
  }
  BayesOptions inner = options;
  inner.threads = 1;
  core::parallel_for(ks.size(), options.threads, [&](std::size_t b, std::size_t e, unsigned) {
    for (std::size_t i = b; i < e; ++i) sel.fits[ks[i] - 1] = bayes_fit(x, y, ks[i], background, inner);
  });
  sel.chosen = 1;
  double best = std::numeric_limits<double>::infinity();
  for (std::size_t k = 1; k <= max_peaks; ++k) {
    sel.k.push_back(k);
    sel.free_energy.push_back(sel.fits[k - 1].free_energy);
    sel.se.push_back(sel.fits[k - 1].free_energy_se);
    if (sel.fits[k - 1].free_energy < best) {
      best = sel.fits[k - 1].free_energy;
      sel.chosen = k;
    }
  }
  sel.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  return sel;
}

}  // namespace tsunagu::spectra
