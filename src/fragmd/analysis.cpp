// Trajectory analysis: density, g(r), MSD/diffusion, ΔH_vap, excess mixing properties, Green–Kubo viscosity, plots.
#include "tsunagu/fragmd/analysis.hpp"

#include <algorithm>
#include <cmath>
#include <set>
#include <numeric>

#include "tsunagu/core/error.hpp"
#include "tsunagu/core/plot.hpp"
#include "tsunagu/fragmd/units.hpp"

namespace tsunagu::fragmd {

namespace {

constexpr double kAmuGram = 1.660538921e-24;         // CODATA 2010
constexpr double kAvogadro = 6.02214129e23;          // 1/mol
constexpr double kBoltzmannSI = 1.3806488e-23;       // J/K
constexpr double kGasConstantKJ = 8.3144621e-3;      // kJ/(mol K)
// 1 Å²/fs = 1e-16 cm² / 1e-15 s.
constexpr double kA2PerFsToCm2PerS = 0.1;

void need_frames(const Trajectory& t, std::size_t first, std::size_t min_frames, const char* what) {
  if (t.frames() < first + min_frames)
    throw InvalidArgument(std::string(what) + ": the trajectory has " + std::to_string(t.frames()) +
                          " frames; first_frame " + std::to_string(first) + " leaves fewer than " +
                          std::to_string(min_frames));
}

void need_periodic(const Trajectory& t, std::size_t first, const char* what) {
  for (std::size_t k = first; k < t.frames(); ++k)
    if (!(t.box.at(k).array() > 0).all())
      throw InvalidArgument(std::string(what) + " needs a periodic trajectory (frame " + std::to_string(k) +
                            " has no box)");
}

double total_mass_amu(const Trajectory& t) { return std::accumulate(t.fragment_mass.begin(), t.fragment_mass.end(), 0.0); }

// Uniform frame spacing (fs) over [first, end); MSD and autocorrelations assume it.
double frame_spacing(const Trajectory& t, std::size_t first, const char* what) {
  const double dt = t.time_fs.at(first + 1) - t.time_fs.at(first);
  if (!(dt > 0)) throw InvalidArgument(std::string(what) + ": frame times must increase");
  for (std::size_t k = first + 1; k < t.frames(); ++k)
    if (std::abs(t.time_fs[k] - t.time_fs[k - 1] - dt) > 1e-6 * dt)
      throw InvalidArgument(std::string(what) + ": frames are not equally spaced in time (frame " +
                            std::to_string(k) + ")");
  return dt;
}

struct Line {
  double slope = 0, intercept = 0, slope_sd = 0;
};

Line fit_line(const std::vector<double>& x, const std::vector<double>& y) {
  const double n = static_cast<double>(x.size());
  const double mx = std::accumulate(x.begin(), x.end(), 0.0) / n, my = std::accumulate(y.begin(), y.end(), 0.0) / n;
  double sxx = 0, sxy = 0;
  for (std::size_t i = 0; i < x.size(); ++i) sxx += (x[i] - mx) * (x[i] - mx), sxy += (x[i] - mx) * (y[i] - my);
  Line l;
  l.slope = sxy / sxx;
  l.intercept = my - l.slope * mx;
  double ss = 0;
  for (std::size_t i = 0; i < x.size(); ++i) ss += std::pow(y[i] - l.intercept - l.slope * x[i], 2);
  l.slope_sd = x.size() > 2 ? std::sqrt(ss / (n - 2) / sxx) : 0.0;
  return l;
}

}  // namespace

MeanSd mean_sd(const std::vector<double>& v) {
  MeanSd m;
  m.n = v.size();
  if (v.empty()) return m;
  const double n = static_cast<double>(v.size());
  m.mean = std::accumulate(v.begin(), v.end(), 0.0) / n;
  double ss = 0;
  for (double x : v) ss += (x - m.mean) * (x - m.mean);
  m.sd = v.size() > 1 ? std::sqrt(ss / (n - 1)) : 0.0;
  constexpr std::size_t kBlocks = 10;
  if (v.size() < 2 * kBlocks) {
    m.sem = m.sd / std::sqrt(n);
    return m;
  }
  const std::size_t len = v.size() / kBlocks;
  std::vector<double> means;
  for (std::size_t b = 0; b < kBlocks; ++b)
    means.push_back(std::accumulate(v.begin() + b * len, v.begin() + (b + 1) * len, 0.0) / static_cast<double>(len));
  const double bm = std::accumulate(means.begin(), means.end(), 0.0) / kBlocks;
  double bs = 0;
  for (double x : means) bs += (x - bm) * (x - bm);
  m.sem = std::sqrt(bs / (kBlocks - 1) / kBlocks);
  return m;
}

std::string element_symbol(double znuc) {
  static const char* kSymbols[] = {"X",  "H",  "He", "Li", "Be", "B",  "C",  "N",  "O",  "F",  "Ne",
                                   "Na", "Mg", "Al", "Si", "P",  "S",  "Cl", "Ar", "K",  "Ca", "Sc",
                                   "Ti", "V",  "Cr", "Mn", "Fe", "Co", "Ni", "Cu", "Zn", "Ga", "Ge",
                                   "As", "Se", "Br", "Kr", "Rb", "Sr", "Y",  "Zr", "Nb", "Mo", "Tc",
                                   "Ru", "Rh", "Pd", "Ag", "Cd", "In", "Sn", "Sb", "Te", "I",  "Xe"};
  const long z = std::lround(znuc);
  return z >= 1 && z <= 54 && std::abs(znuc - static_cast<double>(z)) < 1e-6 ? kSymbols[z] : "X";
}

// ----------------------------------------------------------------------------------------------------------------

DensitySeries density(const Trajectory& t, std::size_t first) {
  need_frames(t, first, 1, "density");
  need_periodic(t, first, "density");
  DensitySeries d;
  const double mass_g = total_mass_amu(t) * kAmuGram;
  for (std::size_t k = first; k < t.frames(); ++k) {
    d.time_fs.push_back(t.time_fs[k]);
    d.density.push_back(mass_g / (t.box[k].prod() * 1e-24));
  }
  d.stats = mean_sd(d.density);
  return d;
}

void RdfOptions::validate() const {
  if (!(r_max >= 0) || !std::isfinite(r_max)) throw InvalidArgument("RdfOptions.r_max must be >= 0");
  if (!(bin_width > 0) || !std::isfinite(bin_width)) throw InvalidArgument("RdfOptions.bin_width must be positive");
  if (stride == 0) throw InvalidArgument("RdfOptions.stride must be at least 1");
  if (element_a.empty() != element_b.empty())
    throw InvalidArgument("RdfOptions.element_a/element_b: give both elements or neither (centres of mass)");
}

Rdf radial_distribution(const Trajectory& t, const RdfOptions& o) {
  o.validate();
  need_frames(t, o.first_frame, 1, "rdf");
  need_periodic(t, o.first_frame, "rdf");
  const bool com = o.element_a.empty();
  // Sites of A and B: indices into com (fragments) or atoms, with their fragment for the intramolecular exclusion.
  std::vector<std::size_t> sa, sb;
  std::vector<int> fa, fb;
  if (com) {
    for (std::size_t i = 0; i < t.fragments(); ++i) sa.push_back(i), fa.push_back(static_cast<int>(i));
    sb = sa, fb = fa;
  } else {
    if (t.atoms.empty()) throw InvalidArgument("rdf: the trajectory has no atom positions (write_atoms was off)");
    for (std::size_t i = 0; i < t.atom_znuc.size(); ++i) {
      const std::string e = element_symbol(t.atom_znuc[i]);
      if (e == o.element_a) sa.push_back(i), fa.push_back(t.atom_fragment[i]);
      if (e == o.element_b) sb.push_back(i), fb.push_back(t.atom_fragment[i]);
    }
    if (sa.empty()) throw InvalidArgument("RdfOptions.element_a: no atom of element '" + o.element_a + "'");
    if (sb.empty()) throw InvalidArgument("RdfOptions.element_b: no atom of element '" + o.element_b + "'");
  }
  const bool same = com || o.element_a == o.element_b;
  double r_max = o.r_max > 0 ? o.r_max : 0.5 * t.box[o.first_frame].minCoeff();
  const auto bins = static_cast<std::size_t>(std::floor(r_max / o.bin_width + 1e-9));
  if (bins == 0) throw InvalidArgument("RdfOptions.bin_width is larger than r_max");
  r_max = static_cast<double>(bins) * o.bin_width;
  std::vector<double> hist(bins, 0.0), norm(bins, 0.0);
  // Pairs in different fragments (ordered once when A == B).
  double npairs = 0;
  for (std::size_t i = 0; i < sa.size(); ++i)
    for (std::size_t j = same ? i + 1 : 0; j < sb.size(); ++j)
      if (fa[i] != fb[j]) npairs += 1;
  std::size_t used = 0;
  for (std::size_t k = o.first_frame; k < t.frames(); k += o.stride) {
    const Eigen::Vector3d L = t.box[k];
    if (2 * r_max > L.minCoeff() * (1 + 1e-12))
      throw InvalidArgument("RdfOptions.r_max exceeds half the box at frame " + std::to_string(k));
    const Eigen::MatrixX3d& x = com ? t.com[k] : t.atoms[k];
    for (std::size_t i = 0; i < sa.size(); ++i)
      for (std::size_t j = same ? i + 1 : 0; j < sb.size(); ++j) {
        if (fa[i] == fb[j]) continue;
        Eigen::Vector3d d = (x.row(static_cast<Eigen::Index>(sb[j])) - x.row(static_cast<Eigen::Index>(sa[i]))).transpose();
        for (int c = 0; c < 3; ++c) d[c] -= L[c] * std::round(d[c] / L[c]);
        const double r = d.norm();
        if (r < r_max) hist[static_cast<std::size_t>(r / o.bin_width)] += 1;
      }
    // Ideal-gas expectation of this frame: npairs · shell volume / V.
    const double vol = L.prod();
    for (std::size_t b = 0; b < bins; ++b) {
      const double r0 = b * o.bin_width, r1 = r0 + o.bin_width;
      norm[b] += npairs * 4.0 / 3.0 * M_PI * (r1 * r1 * r1 - r0 * r0 * r0) / vol;
    }
    ++used;
  }
  Rdf out;
  out.label = com ? "COM–COM" : o.element_a + "–" + o.element_b;
  // Coordination number of B around A: pairs per A site (both directions when A == B).
  const double per_a = same ? 2.0 / static_cast<double>(sa.size()) : 1.0 / static_cast<double>(sa.size());
  double cum = 0;
  for (std::size_t b = 0; b < bins; ++b) {
    out.r.push_back((b + 0.5) * o.bin_width);
    out.g.push_back(norm[b] > 0 ? hist[b] / norm[b] : 0.0);
    cum += hist[b];
    out.coordination.push_back(cum * per_a / static_cast<double>(used));
  }
  return out;
}

// ----------------------------------------------------------------------------------------------------------------

void MsdOptions::validate() const {
  for (auto [v, name] : {std::pair{max_lag_fs, "max_lag_fs"}, {fit_start_fs, "fit_start_fs"}, {fit_end_fs, "fit_end_fs"}})
    if (!(v >= 0) || !std::isfinite(v)) throw InvalidArgument(std::string("MsdOptions.") + name + " must be >= 0");
  if (fit_end_fs > 0 && fit_start_fs >= fit_end_fs)
    throw InvalidArgument("MsdOptions.fit_start_fs must be below fit_end_fs");
}

Msd mean_squared_displacement(const Trajectory& t, const MsdOptions& o) {
  o.validate();
  need_frames(t, o.first_frame, 3, "msd");
  const double dt = frame_spacing(t, o.first_frame, "msd");
  const std::size_t f = t.frames() - o.first_frame, n = t.fragments();
  const double span = dt * static_cast<double>(f - 1);
  const double max_lag = o.max_lag_fs > 0 ? std::min(o.max_lag_fs, span) : 0.5 * span;
  const auto lags = static_cast<std::size_t>(std::floor(max_lag / dt + 1e-9));
  if (lags < 2) throw InvalidArgument("MsdOptions.max_lag_fs: fewer than two lags to fit");
  // Positions relative to the system's centre of mass when removing drift.
  std::vector<Eigen::MatrixX3d> x(f);
  const double mtot = total_mass_amu(t);
  for (std::size_t k = 0; k < f; ++k) {
    x[k] = t.com[o.first_frame + k];
    if (o.remove_drift) {
      Eigen::RowVector3d c = Eigen::RowVector3d::Zero();
      for (std::size_t i = 0; i < n; ++i) c += t.fragment_mass[i] * x[k].row(static_cast<Eigen::Index>(i));
      x[k].rowwise() -= c / mtot;
    }
  }
  Msd m;
  for (std::size_t lag = 1; lag <= lags; ++lag) {
    double s = 0;
    for (std::size_t k = 0; k + lag < f; ++k) s += (x[k + lag] - x[k]).rowwise().squaredNorm().sum();
    m.lag_fs.push_back(static_cast<double>(lag) * dt);
    m.msd.push_back(s / static_cast<double>((f - lag) * n));
  }
  m.fit_end_fs = o.fit_end_fs > 0 ? std::min(o.fit_end_fs, m.lag_fs.back()) : m.lag_fs.back();
  m.fit_start_fs = o.fit_start_fs > 0 ? o.fit_start_fs : 0.2 * m.fit_end_fs;
  std::vector<double> fx, fy;
  for (std::size_t i = 0; i < m.lag_fs.size(); ++i)
    if (m.lag_fs[i] >= m.fit_start_fs - 1e-9 && m.lag_fs[i] <= m.fit_end_fs + 1e-9)
      fx.push_back(m.lag_fs[i]), fy.push_back(m.msd[i]);
  if (fx.size() < 3) throw InvalidArgument("MsdOptions: the fit window holds fewer than three lags");
  const Line l = fit_line(fx, fy);
  m.slope = l.slope;
  m.intercept = l.intercept;
  m.diffusion = l.slope / 6.0 * kA2PerFsToCm2PerS;
  m.diffusion_sd = l.slope_sd / 6.0 * kA2PerFsToCm2PerS;
  return m;
}

// ----------------------------------------------------------------------------------------------------------------

HeatOfVaporization heat_of_vaporization(const Trajectory& t, std::size_t first, double temperature_K) {
  need_frames(t, first, 1, "heat_of_vaporization");
  if (!(temperature_K >= 0)) throw InvalidArgument("heat_of_vaporization: temperature_K must be >= 0");
  const double n = static_cast<double>(t.fragments());
  std::vector<double> e, temp;
  for (std::size_t k = first; k < t.frames(); ++k) {
    e.push_back(t.energy[k].total() / n * kHartreeKJMol);
    temp.push_back(t.temperature[k]);
  }
  HeatOfVaporization h;
  h.temperature_K = temperature_K > 0 ? temperature_K : mean_sd(temp).mean;
  const MeanSd s = mean_sd(e);
  h.kj_mol = -s.mean + kGasConstantKJ * h.temperature_K;
  h.kcal_mol = h.kj_mol * kHartreeKcalMol / kHartreeKJMol;
  h.sem_kj_mol = s.sem;
  h.sem_kcal_mol = s.sem * kHartreeKcalMol / kHartreeKJMol;
  return h;
}

LiquidSummary summarize_liquid(const Trajectory& t, double pressure_bar, std::size_t first) {
  need_frames(t, first, 1, "summarize_liquid");
  need_periodic(t, first, "summarize_liquid");
  if (!std::isfinite(pressure_bar)) throw InvalidArgument("summarize_liquid: pressure_bar must be finite");
  const double n = static_cast<double>(t.fragments());
  std::vector<double> h, v;
  for (std::size_t k = first; k < t.frames(); ++k) {
    const double vol = t.box[k].prod();   // Å³
    // P V: bar·Å³ = 1e5 Pa · 1e-30 m³ = 1e-25 J, per mole /1000 for kJ.
    const double pv = pressure_bar * vol * 1e-25 * kAvogadro / 1e3;
    h.push_back(((t.energy[k].total() + t.kinetic[k]) * kHartreeKJMol + pv) / n);
    v.push_back(vol * 1e-24 * kAvogadro / n);
  }
  LiquidSummary s;
  s.molecules = t.fragments();
  s.enthalpy = mean_sd(h);
  s.volume = mean_sd(v);
  return s;
}

void MixingOptions::validate() const {
  if (!std::isfinite(pressure_bar)) throw InvalidArgument("MixingOptions.pressure_bar must be finite");
}

namespace {
/// The single fragment type of a pure-liquid trajectory.
std::string pure_type(const Trajectory& t, const char* which) {
  std::set<std::string> types(t.fragment_types.begin(), t.fragment_types.end());
  if (types.size() != 1) {
    std::string list;
    for (const auto& x : types) list += (list.empty() ? "" : ", ") + x;
    throw InvalidArgument(std::string("excess mixing: the ") + which + " trajectory must hold one fragment type, it has " +
                          std::to_string(types.size()) + (list.empty() ? "" : " (" + list + ")"));
  }
  return *types.begin();
}
}  // namespace

MixingResult excess_mixing(const Trajectory& mix, const Trajectory& a, const Trajectory& b, const MixingOptions& o) {
  o.validate();
  const std::string ta = pure_type(a, "pure A"), tb = pure_type(b, "pure B");
  if (ta == tb) throw InvalidArgument("excess mixing: pure A and pure B are the same liquid (" + ta + ")");
  std::size_t na = 0, nb = 0;
  for (const auto& x : mix.fragment_types) {
    if (x == ta) ++na;
    else if (x == tb) ++nb;
    else throw InvalidArgument("excess mixing: the mixture holds fragment type '" + x + "', neither " + ta + " nor " + tb);
  }
  if (na == 0 || nb == 0) throw InvalidArgument("excess mixing: the mixture must contain both " + ta + " and " + tb);
  const double x_a = static_cast<double>(na) / static_cast<double>(na + nb);
  return excess_mixing(summarize_liquid(mix, o.pressure_bar, o.first_frame), x_a,
                       summarize_liquid(a, o.pressure_bar, o.first_frame),
                       summarize_liquid(b, o.pressure_bar, o.first_frame));
}

nlohmann::json mixing_report(const MixingResult& r, const Trajectory& a, const Trajectory& b) {
  nlohmann::json j;
  j["component_a"] = a.fragment_types.empty() ? "" : a.fragment_types.front();
  j["component_b"] = b.fragment_types.empty() ? "" : b.fragment_types.front();
  j["x_a"] = r.x_a;
  j["excess_enthalpy_kj_mol"] = r.excess_enthalpy;
  j["excess_enthalpy_sem_kj_mol"] = r.excess_enthalpy_sem;
  j["excess_volume_cm3_mol"] = r.excess_volume;
  j["excess_volume_sem_cm3_mol"] = r.excess_volume_sem;
  return j;
}

MixingResult excess_mixing(const LiquidSummary& mix, double x_a, const LiquidSummary& a, const LiquidSummary& b) {
  if (!(x_a > 0 && x_a < 1)) throw InvalidArgument("excess_mixing: x_a must be in (0, 1)");
  MixingResult r;
  r.x_a = x_a;
  const double x_b = 1 - x_a;
  r.excess_enthalpy = mix.enthalpy.mean - x_a * a.enthalpy.mean - x_b * b.enthalpy.mean;
  r.excess_volume = mix.volume.mean - x_a * a.volume.mean - x_b * b.volume.mean;
  r.excess_enthalpy_sem = std::sqrt(std::pow(mix.enthalpy.sem, 2) + std::pow(x_a * a.enthalpy.sem, 2) +
                                    std::pow(x_b * b.enthalpy.sem, 2));
  r.excess_volume_sem =
      std::sqrt(std::pow(mix.volume.sem, 2) + std::pow(x_a * a.volume.sem, 2) + std::pow(x_b * b.volume.sem, 2));
  return r;
}

// ----------------------------------------------------------------------------------------------------------------

void ViscosityOptions::validate() const {
  if (!(max_lag_fs >= 0) || !std::isfinite(max_lag_fs)) throw InvalidArgument("ViscosityOptions.max_lag_fs must be >= 0");
  if (!(temperature_K >= 0) || !std::isfinite(temperature_K))
    throw InvalidArgument("ViscosityOptions.temperature_K must be >= 0");
}

Viscosity green_kubo_viscosity(const Trajectory& t, const ViscosityOptions& o) {
  o.validate();
  if (t.pressure_tensor.empty())
    throw InvalidArgument("green_kubo_viscosity: the trajectory has no pressure tensor (it needs an MD run whose "
                          "energy evaluation provides the molecular virial tensor)");
  if (t.pressure_tensor.size() != t.frames())
    throw InvalidArgument("green_kubo_viscosity: pressure tensor and frames differ in number");
  need_frames(t, o.first_frame, 4, "green_kubo_viscosity");
  need_periodic(t, o.first_frame, "green_kubo_viscosity");
  const double dt = frame_spacing(t, o.first_frame, "green_kubo_viscosity");
  const std::size_t f = t.frames() - o.first_frame;
  const double span = dt * static_cast<double>(f - 1);
  const double max_lag = o.max_lag_fs > 0 ? std::min(o.max_lag_fs, span) : 0.1 * span;
  const auto lags = static_cast<std::size_t>(std::floor(max_lag / dt + 1e-9));
  if (lags < 1) throw InvalidArgument("ViscosityOptions.max_lag_fs is shorter than the frame spacing");
  Viscosity v;
  std::vector<double> temps, vols;
  for (std::size_t k = o.first_frame; k < t.frames(); ++k) {
    vols.push_back(t.box[k].prod());
    if (o.temperature_K == 0) temps.push_back(t.temperature.at(k));
  }
  v.temperature_K = o.temperature_K > 0 ? o.temperature_K : mean_sd(temps).mean;
  v.volume_A3 = mean_sd(vols).mean;
  if (!(v.temperature_K > 0)) throw InvalidArgument("green_kubo_viscosity: the temperature must be positive");
  // η [Pa s] = V/(k_B T) ∫ ⟨P P⟩ dt with P in Pa (1 bar = 1e5 Pa), V in m³, t in s; reported in mPa s.
  const double prefactor = v.volume_A3 * 1e-30 / (kBoltzmannSI * v.temperature_K) * 1e10 * 1e-15 * 1e3;
  v.running.assign(lags + 1, 0.0);
  for (std::size_t i = 0; i <= lags; ++i) v.lag_fs.push_back(static_cast<double>(i) * dt);
  static constexpr int kPairs[3][2] = {{0, 1}, {0, 2}, {1, 2}};
  for (int c = 0; c < 3; ++c) {
    std::vector<double> p(f);
    for (std::size_t k = 0; k < f; ++k) {
      const Eigen::Matrix3d& m = t.pressure_tensor[o.first_frame + k];
      p[k] = 0.5 * (m(kPairs[c][0], kPairs[c][1]) + m(kPairs[c][1], kPairs[c][0]));
    }
    const double mean = std::accumulate(p.begin(), p.end(), 0.0) / static_cast<double>(f);
    for (double& x : p) x -= mean;
    double integral = 0, prev = 0;
    for (std::size_t lag = 0; lag <= lags; ++lag) {
      double s = 0;
      for (std::size_t k = 0; k + lag < f; ++k) s += p[k] * p[k + lag];
      const double acf = s / static_cast<double>(f - lag);
      if (lag > 0) integral += 0.5 * (prev + acf) * dt;
      prev = acf;
      v.running[lag] += prefactor * integral / 3.0;
    }
    v.components[c] = prefactor * integral;
  }
  const MeanSd s = mean_sd({v.components[0], v.components[1], v.components[2]});
  v.mpa_s = s.mean;
  v.sem_mpa_s = s.sd / std::sqrt(3.0);
  return v;
}

// ----------------------------------------------------------------------------------------------------------------
// Plots

std::string plot_rdf(const std::vector<Rdf>& rdfs) {
  if (rdfs.empty()) throw InvalidArgument("plot_rdf: no g(r) given");
  core::plot::LinePlot p;
  p.title = "Radial distribution function";
  p.xlabel = "r / Å";
  p.ylabel = "g(r)";
  for (const auto& r : rdfs) p.series.push_back({r.label, r.r, r.g, {}, "", true, false});
  return core::plot::render_svg(p);
}

std::string plot_msd(const Msd& m) {
  core::plot::LinePlot p;
  p.title = "Mean-squared displacement (D = " + std::to_string(m.diffusion_1e5()).substr(0, 6) + " ± " +
            std::to_string(m.diffusion_sd_1e5()).substr(0, 6) + " ×10⁻⁵ cm²/s)";
  p.xlabel = "t / fs";
  p.ylabel = "MSD / Å²";
  p.series.push_back({"MSD", m.lag_fs, m.msd, {}, "", true, false});
  core::plot::Series fit{"fit", {m.fit_start_fs, m.fit_end_fs}, {}, {}, "", true, false};
  for (double x : fit.x) fit.y.push_back(m.intercept + m.slope * x);
  p.series.push_back(fit);
  p.vlines.push_back({m.fit_start_fs, "fit start"});
  p.vlines.push_back({m.fit_end_fs, "fit end"});
  return core::plot::render_svg(p);
}

std::string plot_density(const DensitySeries& d) {
  core::plot::LinePlot p;
  p.title = "Density (mean " + std::to_string(d.stats.mean).substr(0, 6) + " g/cm³)";
  p.xlabel = "t / fs";
  p.ylabel = "ρ / (g/cm³)";
  p.series.push_back({"density", d.time_fs, d.density, {}, "", true, false});
  return core::plot::render_svg(p);
}

std::string plot_energy(const Trajectory& t) {
  if (t.frames() == 0) throw InvalidArgument("plot_energy: empty trajectory");
  core::plot::LinePlot p;
  p.title = "Energies (relative to the first frame)";
  p.xlabel = "t / fs";
  p.ylabel = "E / (kJ/mol)";
  core::plot::Series pot{"potential", t.time_fs, {}, {}, "", true, false}, kin = pot, cons = pot;
  kin.label = "kinetic";
  cons.label = "conserved";
  for (std::size_t k = 0; k < t.frames(); ++k) {
    pot.y.push_back((t.energy[k].total() - t.energy[0].total()) * kHartreeKJMol);
    kin.y.push_back((t.kinetic[k] - t.kinetic[0]) * kHartreeKJMol);
    cons.y.push_back((t.conserved[k] - t.conserved[0]) * kHartreeKJMol);
  }
  p.series = {pot, kin, cons};
  return core::plot::render_svg(p);
}

std::string plot_viscosity(const Viscosity& v) {
  core::plot::LinePlot p;
  p.title = "Green–Kubo running integral";
  p.xlabel = "t / fs";
  p.ylabel = "η / (mPa·s)";
  p.series.push_back({"η(t)", v.lag_fs, v.running, {}, "", true, false});
  return core::plot::render_svg(p);
}


void AnalyzeOptions::validate() const {
  if (!(rdf_bin > 0)) throw InvalidArgument("AnalyzeOptions.rdf_bin must be positive");
  if (rdf_max < 0) throw InvalidArgument("AnalyzeOptions.rdf_max must be non-negative");
  if (max_lag_fs < 0 || fit_start_fs < 0 || fit_end_fs < 0)
    throw InvalidArgument("AnalyzeOptions: MSD window values must be non-negative");
  if (temperature_K < 0) throw InvalidArgument("AnalyzeOptions.temperature_K must be non-negative");
  for (const auto& p : rdf_pairs)
    if (p != "com" && p.find(',') == std::string::npos)
      throw InvalidArgument("AnalyzeOptions.rdf_pairs: expected com or A,B (element symbols), got '" + p + "'");
}

namespace {
nlohmann::json stats_json(const MeanSd& m) { return {{"mean", m.mean}, {"sd", m.sd}, {"sem", m.sem}, {"n", m.n}}; }
}  // namespace

AnalysisReport analyze(const Trajectory& t, const AnalyzeOptions& a) {
  a.validate();
  if (t.frames() == 0) throw InvalidArgument("analyze: the trajectory has no frames");
  if (a.first_frame >= t.frames())
    throw InvalidArgument("analyze: first frame " + std::to_string(a.first_frame) + " out of range (" +
                          std::to_string(t.frames()) + " frames)");
  const std::size_t first = a.first_frame;
  const bool any = a.rdf || a.msd || a.density || a.hvap || a.viscosity;
  AnalysisReport rep;
  nlohmann::json& j = rep.summary;
  j["frames"] = t.frames();
  j["first_frame"] = first;
  j["fragments"] = t.fragments();
  const bool periodic = t.box.front().minCoeff() > 0;
  if ((!any || a.density) && periodic) {
    auto d = density(t, first);
    j["density_g_cm3"] = stats_json(d.stats);
    rep.plots.emplace_back("density.svg", plot_density(d));
  } else if (a.density) {
    throw InvalidArgument("analyze: density needs a periodic trajectory (no box)");
  }
  if (!any || a.rdf) {
    std::vector<Rdf> rdfs;
    const std::vector<std::string> pairs = a.rdf_pairs.empty() ? std::vector<std::string>{"com"} : a.rdf_pairs;
    for (const auto& p : pairs) {
      RdfOptions ro;
      if (p != "com") {
        const auto c = p.find(',');
        ro.element_a = p.substr(0, c);
        ro.element_b = p.substr(c + 1);
      }
      ro.r_max = a.rdf_max;
      ro.bin_width = a.rdf_bin;
      ro.first_frame = first;
      ro.validate();
      rdfs.push_back(radial_distribution(t, ro));
      const auto& g = rdfs.back();
      std::size_t peak = 0;
      for (std::size_t k = 0; k < g.g.size(); ++k)
        if (g.g[k] > g.g[peak]) peak = k;
      j["rdf"][g.label] = {{"r_A", g.r}, {"g", g.g}, {"max_r_A", g.r.empty() ? 0.0 : g.r[peak]},
                           {"max_g", g.g.empty() ? 0.0 : g.g[peak]}};  // the highest peak (for O–H in water the second shell)
    }
    rep.plots.emplace_back("rdf.svg", plot_rdf(rdfs));
  }
  if (!any || a.msd) {
    MsdOptions mo;
    mo.first_frame = first;
    mo.max_lag_fs = a.max_lag_fs;
    mo.fit_start_fs = a.fit_start_fs;
    mo.fit_end_fs = a.fit_end_fs;
    mo.validate();
    auto m = mean_squared_displacement(t, mo);
    j["msd"] = {{"diffusion_1e-5_cm2_s", m.diffusion_1e5()}, {"diffusion_sd_1e-5_cm2_s", m.diffusion_sd_1e5()},
                {"fit_window_fs", {m.fit_start_fs, m.fit_end_fs}}};
    rep.plots.emplace_back("msd.svg", plot_msd(m));
  }
  if (!any || a.hvap) {
    auto h = heat_of_vaporization(t, first, a.temperature_K);
    j["heat_of_vaporization"] = {{"kj_mol", h.kj_mol}, {"sem_kj_mol", h.sem_kj_mol}, {"kcal_mol", h.kcal_mol},
                                 {"sem_kcal_mol", h.sem_kcal_mol}, {"temperature_K", h.temperature_K}};
  }
  if (a.viscosity || (!any && !t.pressure_tensor.empty())) {
    ViscosityOptions vo;
    vo.first_frame = first;
    vo.temperature_K = a.temperature_K;
    vo.validate();
    auto v = green_kubo_viscosity(t, vo);
    j["viscosity"] = {{"mpa_s", v.mpa_s}, {"sem_mpa_s", v.sem_mpa_s}, {"components_mpa_s", v.components}};
    rep.plots.emplace_back("viscosity.svg", plot_viscosity(v));
  }
  rep.plots.emplace_back("energy.svg", plot_energy(t));
  return rep;
}

}  // namespace tsunagu::fragmd
