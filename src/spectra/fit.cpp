#include "tsunagu/spectra/fit.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <type_traits>

#include <nlohmann/json.hpp>

#include "tsunagu/core/error.hpp"
#include "tsunagu/core/table.hpp"
#include "tsunagu/core/thread_pool.hpp"
#include "tsunagu/spectra/bayes.hpp"
#include "tsunagu/spectra/em.hpp"
#include "tsunagu/spectra/lsq.hpp"

namespace tsunagu::spectra {

using core::format_double;

// ------------------------------------------------------------------------------------------------ options
void FitOptions::validate() const {
  auto bad = [](const std::string& m) { return InvalidArgument(m); };
  if (n_peaks && !centers.empty() && n_peaks != centers.size())
    throw bad("n_peaks (" + std::to_string(n_peaks) + ") disagrees with the " + std::to_string(centers.size()) +
              " given centres");
  for (double c : centers)
    if (!std::isfinite(c)) throw bad("centers: not finite");
  if (method == Method::Em && shape != Shape::Gaussian && shape != Shape::Lorentzian && shape != Shape::PseudoVoigt)
    throw bad("method em fits gauss, lorentz or pvoigt peaks, not '" + to_string(shape) + "' (use method lsq)");
  if (method == Method::Em && background == BackgroundKind::Polynomial)
    throw bad("method em cannot use a polynomial background (use linear, shirley, tougaard or method lsq)");
  if (method == Method::Bayes && background != BackgroundKind::None && background != BackgroundKind::Linear &&
      background != BackgroundKind::Shirley && background != BackgroundKind::Tougaard)
    throw bad("method bayes supports backgrounds none, linear, shirley and tougaard, not '" + to_string(background) +
              "'");
  if (!doublets.empty() && method != Method::Lsq)
    throw bad("doublet ties are available with method lsq only (got " + to_string(method) + ")");
  const std::size_t k = n_peaks ? n_peaks : centers.size();
  if (k)
    for (const auto& d : doublets) d.validate(k);
  if (poly_degree < 0 || poly_degree > 6) throw bad("poly_degree must be in 0..6, got " + std::to_string(poly_degree));
  if (region && !(std::isfinite(region->first) && std::isfinite(region->second) && region->first != region->second))
    throw bad("region must be two different finite energies");
  if (max_iter < 0) throw bad("max_iter must be >= 0, got " + std::to_string(max_iter));
  if (restarts < 0) throw bad("restarts must be >= 0, got " + std::to_string(restarts));
  if (!(min_fwhm >= 0) || !(max_fwhm >= 0)) throw bad("min_fwhm and max_fwhm must be >= 0 (0 = automatic)");
  if (min_fwhm > 0 && max_fwhm > 0 && max_fwhm <= min_fwhm)
    throw bad("max_fwhm (" + format_double(max_fwhm) + ") must exceed min_fwhm (" + format_double(min_fwhm) + ")");
  if (replicas < 0 || sweeps < 0 || burn_in < 0) throw bad("replicas, sweeps and burn_in must be >= 0");
  if (replicas != 0 && replicas < 3) throw bad("replicas must be >= 3 (or 0 = automatic), got " + std::to_string(replicas));
  shirley.validate();
  tougaard.validate();
}

std::string to_string(Criterion c) {
  switch (c) {
    case Criterion::Bayes: return "bayes";
    case Criterion::Bic: return "bic";
    case Criterion::Aic: return "aic";
  }
  return "?";
}

Criterion criterion_from_string(const std::string& s) {
  if (s == "bayes") return Criterion::Bayes;
  if (s == "bic") return Criterion::Bic;
  if (s == "aic") return Criterion::Aic;
  throw InvalidArgument("selection method '" + s + "' is not one of: bayes, bic, aic");
}

nlohmann::json to_json(const FitOptions& o) {
  nlohmann::json j;
  j["method"] = to_string(o.method);
  j["n_peaks"] = o.n_peaks ? o.n_peaks : o.centers.size();
  j["centers"] = o.centers;
  j["shape"] = to_string(o.shape);
  j["background"] = to_string(o.background);
  j["poly_degree"] = o.poly_degree;
  j["weighting"] = to_string(o.weighting);
  j["energy"] = to_string(o.energy);
  if (o.region) j["region"] = {o.region->first, o.region->second};
  j["seed"] = o.seed;
  j["max_iter"] = o.max_iter;
  j["restarts"] = o.restarts;
  j["min_fwhm"] = o.min_fwhm;
  j["max_fwhm"] = o.max_fwhm;
  nlohmann::json d = nlohmann::json::array();
  for (const auto& x : o.doublets)
    d.push_back({{"first", x.first + 1}, {"second", x.second + 1}, {"splitting", x.splitting},
                 {"area_ratio", x.area_ratio}, {"share_fwhm", x.share_fwhm}});
  j["doublets"] = d;
  j["tougaard"] = {{"B", o.tougaard.B}, {"C", o.tougaard.C}, {"D", o.tougaard.D}, {"fit_B", o.tougaard.fit_B}};
  j["shirley"] = {{"max_iter", o.shirley.max_iter}, {"tol", o.shirley.tol}, {"end_points", o.shirley.end_points}};
  j["replicas"] = o.replicas;
  j["sweeps"] = o.sweeps;
  j["burn_in"] = o.burn_in;
  j["threads"] = o.threads;
  return j;
}

FitOptions fit_options_from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw InvalidArgument("fit options must be a JSON object");
  FitOptions o;
  // Strict: nlohmann would truncate 2.5 to 2 and wrap −1 into a huge unsigned count, silently.
  auto get = [&](const nlohmann::json& v, const std::string& key, auto& target) {
    using T = std::decay_t<decltype(target)>;
    auto bad = [&](const char* what) {
      return InvalidArgument("option '" + key + "': " + what + " (got " + v.dump() + ")");
    };
    if constexpr (std::is_same_v<T, bool>) {
      if (!v.is_boolean()) throw bad("expected true or false");
    } else if constexpr (std::is_integral_v<T>) {
      if (!v.is_number_integer()) throw bad("expected an integer");
      if constexpr (std::is_unsigned_v<T>)
        if (!v.is_number_unsigned() && v.get<std::int64_t>() < 0) throw bad("expected an integer >= 0");
    } else if constexpr (std::is_floating_point_v<T>) {
      if (!v.is_number()) throw bad("expected a number");
    }
    try {
      v.get_to(target);
    } catch (const nlohmann::json::exception&) {
      throw bad("wrong type");
    }
  };
  for (const auto& [key, v] : j.items()) {
    std::string s;
    if (key == "method") get(v, key, s), o.method = method_from_string(s);
    else if (key == "n_peaks") get(v, key, o.n_peaks);
    else if (key == "centers") get(v, key, o.centers);
    else if (key == "shape") get(v, key, s), o.shape = shape_from_string(s);
    else if (key == "background") get(v, key, s), o.background = background_from_string(s);
    else if (key == "poly_degree") get(v, key, o.poly_degree);
    else if (key == "weighting") get(v, key, s), o.weighting = weighting_from_string(s);
    else if (key == "energy") get(v, key, s), o.energy = energy_scale_from_string(s);
    else if (key == "region") {
      std::vector<double> r;
      get(v, key, r);
      if (r.size() != 2) throw InvalidArgument("option 'region': expected [lo, hi]");
      o.region = std::make_pair(std::min(r[0], r[1]), std::max(r[0], r[1]));
    } else if (key == "seed") get(v, key, o.seed);
    else if (key == "max_iter") get(v, key, o.max_iter);
    else if (key == "restarts") get(v, key, o.restarts);
    else if (key == "min_fwhm") get(v, key, o.min_fwhm);
    else if (key == "max_fwhm") get(v, key, o.max_fwhm);
    else if (key == "replicas") get(v, key, o.replicas);
    else if (key == "sweeps") get(v, key, o.sweeps);
    else if (key == "burn_in") get(v, key, o.burn_in);
    else if (key == "threads") get(v, key, o.threads);
    else if (key == "doublets") {
      if (!v.is_array()) throw InvalidArgument("option 'doublets': expected a list");
      for (const auto& d : v) {
        if (d.is_string()) {  // "I:J:SPLIT:RATIO[:free]" as on the command line
          o.doublets.push_back(parse_doublet(d.get<std::string>()));
          continue;
        }
        if (!d.is_object()) throw InvalidArgument("option 'doublets': each entry must be \"I:J:SPLIT:RATIO\" or an object");
        Doublet x;
        for (const auto& [dk, dv] : d.items()) {
          std::size_t idx = 0;
          if (dk == "first") get(dv, "doublets.first", idx), x.first = idx - 1;
          else if (dk == "second") get(dv, "doublets.second", idx), x.second = idx - 1;
          else if (dk == "splitting") get(dv, "doublets.splitting", x.splitting);
          else if (dk == "area_ratio") get(dv, "doublets.area_ratio", x.area_ratio);
          else if (dk == "share_fwhm") get(dv, "doublets.share_fwhm", x.share_fwhm);
          else throw InvalidArgument("option 'doublets': unknown key '" + dk + "'");
          if ((dk == "first" || dk == "second") && idx < 1)
            throw InvalidArgument("option 'doublets." + dk + "': peak numbers start at 1");
        }
        o.doublets.push_back(x);
      }
    } else if (key == "tougaard") {
      if (!v.is_object()) throw InvalidArgument("option 'tougaard': expected an object");
      for (const auto& [tk, tv] : v.items()) {
        if (tk == "B") get(tv, "tougaard.B", o.tougaard.B);
        else if (tk == "C") get(tv, "tougaard.C", o.tougaard.C);
        else if (tk == "D") get(tv, "tougaard.D", o.tougaard.D);
        else if (tk == "fit_B") get(tv, "tougaard.fit_B", o.tougaard.fit_B);
        else throw InvalidArgument("option 'tougaard': unknown key '" + tk + "'");
      }
    } else if (key == "shirley") {
      if (!v.is_object()) throw InvalidArgument("option 'shirley': expected an object");
      for (const auto& [sk, sv] : v.items()) {
        if (sk == "max_iter") get(sv, "shirley.max_iter", o.shirley.max_iter);
        else if (sk == "tol") get(sv, "shirley.tol", o.shirley.tol);
        else if (sk == "end_points") get(sv, "shirley.end_points", o.shirley.end_points);
        else throw InvalidArgument("option 'shirley': unknown key '" + sk + "'");
      }
    } else {
      throw InvalidArgument("unknown fit option '" + key + "'");
    }
  }
  o.validate();
  return o;
}

// ------------------------------------------------------------------------------------------------ the pipeline
namespace {

std::size_t peak_count(const FitOptions& o) { return o.n_peaks ? o.n_peaks : o.centers.size(); }

/// Background of EM for a fit background kind (static kinds are subtracted before EM).
EmBackground em_background(BackgroundKind k) {
  switch (k) {
    case BackgroundKind::None: return EmBackground::None;
    case BackgroundKind::Constant: return EmBackground::Uniform;
    case BackgroundKind::Linear:
    case BackgroundKind::Polynomial: return EmBackground::Linear;
    case BackgroundKind::ActiveShirley: return EmBackground::Step;
    default: return EmBackground::None;  // Shirley / Tougaard: subtracted first
  }
}
bool static_background(BackgroundKind k) { return k == BackgroundKind::Shirley || k == BackgroundKind::Tougaard; }

}  // namespace

struct SpectrumFitter::Impl {
  FitOptions o;
  std::size_t K = 0;
  std::vector<std::size_t> index;  ///< u-order position -> index into the caller's counts
  std::vector<double> u;           ///< ascending fit axis
  std::vector<double> out_energy;  ///< (n) reported energies in the caller's (input) order within the region
  double sign = 1;
  std::unique_ptr<EmFitter> em, em_init;  ///< em: the EM method; em_init: Gaussian EM that seeds least squares
  std::unique_ptr<LsqFitter> lsq;
  std::vector<double> y, y_sub, bg;  // work buffers

  std::vector<double> static_bg(std::span<const double> yy, BackgroundKind kind, BackgroundResult& res) const {
    std::vector<double> b;
    if (kind == BackgroundKind::Shirley) {
      b = shirley_background(u, yy, o.shirley);
      res.params = {b.front(), b.back()};
    } else {
      double B = o.tougaard.B;
      b = tougaard_background(u, yy, o.tougaard, &B);
      res.params = {B, o.tougaard.C, o.tougaard.D};
    }
    res.kind = kind;
    return b;
  }

  EmOptions em_options(Shape shape, EmBackground bg) const {
    EmOptions e;
    e.n_peaks = K;
    for (double c : o.centers) e.centers.push_back(sign * c);
    if (!e.centers.empty()) e.n_peaks = 0;
    e.shape = shape;
    e.background = bg;
    if (o.restarts) e.restarts = o.restarts;
    e.seed = o.seed;
    if (o.max_iter && o.method == Method::Em) e.max_iter = o.max_iter;
    e.min_fwhm = o.min_fwhm;
    e.max_fwhm = o.max_fwhm;
    return e;
  }

  /// Map a result on the u axis back to the reported scale and the caller's channel order.
  void to_reported(FitResult& r) const {
    const std::size_t n = u.size();
    auto reorder = [&](std::vector<double>& v) {
      if (v.size() != n) return;
      std::vector<double> out(n);
      for (std::size_t i = 0; i < n; ++i) out[index[i] - index_base()] = v[i];
      v = std::move(out);
    };
    r.energy = out_energy;
    reorder(r.counts);
    reorder(r.model);
    reorder(r.background.values);
    r.axis_sign = sign;
    for (auto& p : r.peaks) {
      p.center *= sign;
      if (!p.credible.empty() && sign < 0) {
        auto& c = p.credible[kCenter];
        c = {-c[1], -c[0]};
      }
    }
    if (sign < 0) {
      r.background.x_ref = -r.background.x_ref;
      // a + b(u − u_ref) with u = −e: polynomial coefficients of odd powers change sign.
      if (r.background.kind == BackgroundKind::Linear || r.background.kind == BackgroundKind::Polynomial)
        for (std::size_t k = 1; k < r.background.params.size(); k += 2) r.background.params[k] = -r.background.params[k];
    }
    std::stable_sort(r.peaks.begin(), r.peaks.end(), [](const Peak& a, const Peak& b) { return a.center < b.center; });
  }
  std::size_t index_base() const { return *std::min_element(index.begin(), index.end()); }

  /// A previous result (reported scale, input order) as a start on the u axis: the inverse of to_reported.
  FitResult warm_to_u(const FitResult& w) const {
    FitResult x = w;
    for (auto& p : x.peaks) p.center *= sign;
    std::sort(x.peaks.begin(), x.peaks.end(), [](const Peak& a, const Peak& b) { return a.center < b.center; });
    const std::size_t n = u.size(), base = index_base();
    auto to_u_order = [&](std::vector<double>& v) {
      if (v.size() != n) return;
      std::vector<double> out(n);
      for (std::size_t i = 0; i < n; ++i) out[i] = v[index[i] - base];
      v = std::move(out);
    };
    to_u_order(x.background.values);
    to_u_order(x.counts);
    to_u_order(x.model);
    if (sign < 0) {
      x.background.x_ref = -x.background.x_ref;
      if (x.background.kind == BackgroundKind::Linear || x.background.kind == BackgroundKind::Polynomial)
        for (std::size_t k = 1; k < x.background.params.size(); k += 2) x.background.params[k] = -x.background.params[k];
    }
    return x;
  }

  FitResult run(std::span<const double> counts_in, const FitResult* warm);
};

SpectrumFitter::SpectrumFitter(const FitOptions& options, std::span<const double> energy, EnergyScale input_scale,
                               double photon_energy)
    : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  options.validate();
  m.o = options;
  m.K = peak_count(options);
  if (m.K == 0) throw InvalidArgument("give the number of peaks (n_peaks / --peaks) or their centres (--peaks-at)");
  // Axis: the energies of the caller, converted to the reported scale, restricted to the region.
  Spectrum s;
  s.energy.assign(energy.begin(), energy.end());
  s.counts.assign(energy.size(), 1.0);
  s.scale = input_scale;
  s.photon_energy = photon_energy;
  s.validate();
  Spectrum rep = to_scale(s, options.energy);
  std::vector<std::size_t> keep;
  for (std::size_t i = 0; i < rep.size(); ++i)
    if (!options.region || (rep.energy[i] >= options.region->first && rep.energy[i] <= options.region->second))
      keep.push_back(i);
  if (keep.empty()) crop(rep, options.region->first, options.region->second);  // throws the standard message
  m.sign = options.energy == EnergyScale::Binding ? 1.0 : -1.0;
  for (std::size_t i : keep) m.out_energy.push_back(rep.energy[i]);
  m.index = keep;
  // u ascending: keep is in input order; the axis is monotonic, so u is either keep's order or its reverse.
  if (m.sign * rep.energy[keep.front()] > m.sign * rep.energy[keep.back()]) std::reverse(m.index.begin(), m.index.end());
  for (std::size_t i : m.index) m.u.push_back(m.sign * rep.energy[i]);
  // Parameters vs points: 3 per peak plus background — refuse hopeless fits up front.
  const std::size_t n_par = m.K * n_params(options.shape) + 3;
  if (m.u.size() <= n_par)
    throw InvalidArgument(std::to_string(m.K) + " peak(s) need more than " + std::to_string(n_par) +
                          " points, the window has " + std::to_string(m.u.size()));

  const bool stat = static_background(options.background);
  if (options.method == Method::Em)
    m.em = std::make_unique<EmFitter>(m.u, m.em_options(options.shape, stat ? EmBackground::Uniform
                                                                            : em_background(options.background)));
  if (options.method == Method::Lsq) {
    m.em_init = std::make_unique<EmFitter>(m.u, m.em_options(Shape::Gaussian, stat ? EmBackground::Uniform
                                                                                   : em_background(options.background)));
    LsqOptions lo;
    if (options.max_iter) lo.max_iter = options.max_iter;
    lo.weighting = options.weighting;
    lo.background = options.background;
    lo.poly_degree = options.poly_degree;
    lo.shirley = options.shirley;
    lo.tougaard = options.tougaard;
    for (auto d : options.doublets) {
      d.splitting *= m.sign;
      lo.doublets.push_back(d);
    }
    if (options.min_fwhm > 0) lo.min_fwhm = options.min_fwhm;
    if (options.max_fwhm > 0) lo.max_fwhm = options.max_fwhm;
    m.lsq = std::make_unique<LsqFitter>(lo);
  }
}

SpectrumFitter::~SpectrumFitter() = default;
SpectrumFitter::SpectrumFitter(SpectrumFitter&&) noexcept = default;
SpectrumFitter& SpectrumFitter::operator=(SpectrumFitter&&) noexcept = default;
std::size_t SpectrumFitter::n_channels() const { return impl_->u.size(); }

FitResult SpectrumFitter::fit(std::span<const double> counts, const FitResult* warm) { return impl_->run(counts, warm); }

FitResult SpectrumFitter::Impl::run(std::span<const double> counts, const FitResult* warm) {
  const std::size_t n = u.size();
  if (counts.size() < index_base() + n || counts.size() < *std::max_element(index.begin(), index.end()) + 1)
    throw InvalidArgument("counts have " + std::to_string(counts.size()) + " values, the energy axis more");
  y.resize(n);
  double total = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double v = counts[index[i]];
    if (!std::isfinite(v))
      throw InvalidArgument("counts are not finite at " + format_double(sign * u[i]) + " eV");
    if (v < 0) throw InvalidArgument("negative counts " + format_double(v) + " at " + format_double(sign * u[i]) + " eV");
    y[i] = v;
    total += v;
  }
  if (!(total > 0)) throw InvalidArgument("all counts in the window are zero");

  const bool stat = static_background(o.background);
  BackgroundResult sbg;
  if (stat) {
    bg = static_bg(y, o.background, sbg);
    y_sub.resize(n);
    for (std::size_t i = 0; i < n; ++i) y_sub[i] = std::max(y[i] - bg[i], 0.0);
  }
  const FitResult warm_u = warm && warm->peaks.size() == K ? warm_to_u(*warm) : FitResult{};
  const FitResult* w = warm && warm->peaks.size() == K ? &warm_u : nullptr;

  FitResult r;
  switch (o.method) {
    case Method::Em: {
      r = em->fit(stat ? std::span<const double>(y_sub) : std::span<const double>(y), w);
      if (stat) {
        // Report against the measured counts: model = static background + peaks.
        // EM keeps a uniform component for what the subtraction leaves (clamping noise at 0 biases it upward);
        // the reported background is the static one plus that level.
        const bool has = r.background.values.size() == n;
        sbg.values = bg;
        for (std::size_t i = 0; i < n; ++i) {
          const double level = has ? r.background.values[i] : 0.0;
          r.model[i] += bg[i];
          sbg.values[i] += level;
        }
        r.background = sbg;
        r.counts = y;
      }
      // EM already computed Poisson statistics of its own model; recompute only when the model or weighting changed.
      if (stat || o.weighting != Weighting::Poisson) {
        r.weighting = o.weighting;
        compute_statistics(r);
      }
      break;
    }
    case Method::Lsq: {
      std::vector<Peak> init;
      if (w) {
        init = w->peaks;
      } else {
        FitResult e = em_init->fit(stat ? std::span<const double>(y_sub) : std::span<const double>(y));
        init = e.peaks;
        for (auto& p : init) {
          p.shape = o.shape;
          p.shape_params = default_shape_params(o.shape);
          p.std_error.clear();
        }
      }
      r = lsq->fit(u, y, init);
      if (w && !r.converged) {  // a bad warm start must not cost the pixel: retry cold
        FitResult e = em_init->fit(stat ? std::span<const double>(y_sub) : std::span<const double>(y));
        for (auto& p : e.peaks) {
          p.shape = o.shape;
          p.shape_params = default_shape_params(o.shape);
        }
        FitResult cold = lsq->fit(u, y, e.peaks);
        if (cold.converged || cold.chi2 < r.chi2) r = std::move(cold);
      }
      break;
    }
    case Method::Bayes: {
      BayesOptions bo;
      bo.shape = o.shape;
      bo.noise = o.weighting;
      bo.n_replicas = o.replicas;
      if (o.sweeps) bo.n_sweeps = o.sweeps + (o.burn_in ? o.burn_in : bo.burn_in);
      if (o.burn_in) bo.burn_in = o.burn_in;
      bo.seed = o.seed;
      bo.min_fwhm = o.min_fwhm;
      bo.max_fwhm = o.max_fwhm;
      bo.threads = o.threads;
      BayesBackground b = o.background == BackgroundKind::Linear ? BayesBackground::linear()
                          : o.background == BackgroundKind::None ? BayesBackground::none()
                                                                 : BayesBackground::fixed(bg, o.background);
      BayesFit bf = bayes_fit(u, y, K, b, bo);
      r = std::move(bf.fit);
      r.free_energy = bf.free_energy;
      r.free_energy_se = bf.free_energy_se;
      if (stat) r.background.params = sbg.params;
      break;
    }
  }
  r.method = o.method;
  to_reported(r);
  return r;
}

FitResult fit(const Spectrum& spectrum, const FitOptions& options) {
  spectrum.validate();
  SpectrumFitter f(options, spectrum.energy, spectrum.scale, spectrum.photon_energy);
  try {
    return f.fit(spectrum.counts);
  } catch (const InvalidArgument& e) {
    throw InvalidArgument(spectrum.label() + ": " + e.what());
  }
}

Selection select_peaks(const Spectrum& spectrum, std::size_t max_peaks, Criterion criterion,
                       const FitOptions& options) {
  if (max_peaks < 1) throw InvalidArgument("max_peaks must be >= 1");
  spectrum.validate();
  Selection sel;
  sel.criterion = criterion;
  FitOptions o = options;
  o.centers.clear();
  o.doublets.clear();
  o.method = criterion == Criterion::Bayes ? Method::Bayes : Method::Lsq;
  sel.k.resize(max_peaks);
  sel.score.assign(max_peaks, NAN);
  sel.score_se.assign(max_peaks, 0.0);
  sel.fits.resize(max_peaks);
  // Each K is independent; Bayesian fits are long, so spread K over threads (each K has its own seed).
  const unsigned threads = o.threads ? o.threads : core::default_threads();
  std::vector<std::string> errors(max_peaks);
  core::parallel_for(max_peaks, std::min<unsigned>(threads, static_cast<unsigned>(max_peaks)),
                     [&](std::size_t b, std::size_t e, unsigned) {
                       for (std::size_t i = b; i < e; ++i) {
                         FitOptions ok = o;
                         ok.n_peaks = i + 1;
                         ok.seed = o.seed + 1000003ull * i;
                         ok.threads = 1;
                         sel.k[i] = i + 1;
                         try {
                           sel.fits[i] = fit(spectrum, ok);
                         } catch (const InvalidArgument& ex) {
                           errors[i] = ex.what();  // e.g. too many peaks for the window: K not admissible
                           continue;
                         }
                         const auto& r = sel.fits[i];
                         sel.score[i] = criterion == Criterion::Bayes ? r.free_energy
                                        : criterion == Criterion::Bic ? r.bic
                                                                      : r.aic;
                         sel.score_se[i] = criterion == Criterion::Bayes ? r.free_energy_se : 0.0;
                       }
                     });
  std::size_t best = max_peaks;
  for (std::size_t i = 0; i < max_peaks; ++i)
    if (std::isfinite(sel.score[i]) && (best == max_peaks || sel.score[i] < sel.score[best])) best = i;
  if (best == max_peaks) throw InvalidArgument("no K in 1.." + std::to_string(max_peaks) + " could be fitted: " + errors[0]);
  sel.chosen = best + 1;
  return sel;
}

// ------------------------------------------------------------------------------------------------ JSON
namespace {
nlohmann::json finite_or_null(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }
nlohmann::json vec(const std::vector<double>& v) {
  nlohmann::json a = nlohmann::json::array();
  for (double x : v) a.push_back(finite_or_null(x));
  return a;
}
}  // namespace

nlohmann::json to_json(const FitResult& r, EnergyScale scale) {
  nlohmann::json j;
  j["method"] = to_string(r.method);
  j["energy_scale"] = to_string(scale);
  j["converged"] = r.converged;
  j["n_iter"] = r.n_iter;
  j["message"] = r.message;
  j["chi2"] = finite_or_null(r.chi2);
  j["reduced_chi2"] = finite_or_null(r.reduced_chi2);
  j["rss"] = finite_or_null(r.rss);
  j["dof"] = r.dof;
  j["n_free"] = r.n_free;
  j["weighting"] = to_string(r.weighting);
  j["log_likelihood"] = finite_or_null(r.log_likelihood);
  j["aic"] = finite_or_null(r.aic);
  j["bic"] = finite_or_null(r.bic);
  if (r.method == Method::Bayes) {
    j["free_energy"] = finite_or_null(r.free_energy);
    j["free_energy_se"] = finite_or_null(r.free_energy_se);
  }
  double total = 0;
  for (const auto& p : r.peaks) total += p.area;
  nlohmann::json peaks = nlohmann::json::array();
  for (const auto& p : r.peaks) {
    nlohmann::json q;
    q["shape"] = to_string(p.shape);
    q["center"] = p.center;
    q["fwhm"] = p.fwhm;
    q["area"] = p.area;
    q["height"] = finite_or_null(p.height());
    q["fraction"] = finite_or_null(total > 0 ? p.area / total : NAN);
    const auto names = shape_param_names(p.shape);
    std::vector<std::string> all{"center", "fwhm", "area"};
    for (std::size_t k = 0; k < names.size() && k < p.shape_params.size(); ++k) {
      q[names[k]] = p.shape_params[k];
      all.push_back(names[k]);
    }
    if (!p.std_error.empty()) {
      nlohmann::json se;
      for (std::size_t k = 0; k < all.size() && k < p.std_error.size(); ++k) se[all[k]] = finite_or_null(p.std_error[k]);
      q["stderr"] = se;
    }
    if (!p.credible.empty()) {
      nlohmann::json ci;
      for (std::size_t k = 0; k < all.size() && k < p.credible.size(); ++k)
        ci[all[k]] = {finite_or_null(p.credible[k][0]), finite_or_null(p.credible[k][1])};
      q["credible_95"] = ci;
    }
    peaks.push_back(q);
  }
  j["peaks"] = peaks;
  j["background"] = {{"kind", to_string(r.background.kind)},
                     {"params", vec(r.background.params)},
                     {"x_ref", r.background.x_ref},
                     {"values", vec(r.background.values)}};
  j["energy"] = vec(r.energy);
  j["counts"] = vec(r.counts);
  j["model"] = vec(r.model);
  nlohmann::json comps = nlohmann::json::array();
  for (const auto& c : component_values(r)) comps.push_back(vec(c));
  j["components"] = comps;
  return j;
}

nlohmann::json to_json(const Selection& s, EnergyScale scale) {
  nlohmann::json j;
  j["criterion"] = to_string(s.criterion);
  j["k"] = s.k;
  const char* key = s.criterion == Criterion::Bayes ? "free_energy" : s.criterion == Criterion::Bic ? "bic" : "aic";
  j[key] = vec(s.score);
  if (s.criterion == Criterion::Bayes) j["free_energy_se"] = vec(s.score_se);
  j["n_peaks"] = s.chosen;
  nlohmann::json fits = nlohmann::json::array();
  for (const auto& f : s.fits) fits.push_back(f.counts.empty() ? nlohmann::json(nullptr) : to_json(f, scale));
  j["fits"] = fits;
  return j;
}

}  // namespace tsunagu::spectra
