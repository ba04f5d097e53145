// Truths for the intensity-weighted EM (em.hpp):
// - a plain numpy EM (tests/spectra/data/em_reference.py → em_reference.json) from the same starting values: the
//   parameters after exactly 30 iterations and at convergence; the converged values are also checked against
//   scipy's L-BFGS-B maximum of the same weighted log-likelihood (an independent optimiser) where the EM fixed
//   point is a maximum (all cases but the tied step background);
// - recovery of known parameters from Poisson spectra at several count levels, within tolerances that scale with
//   the counting noise;
// - the weighted log-likelihood never decreases from one iteration to the next (the EM/GEM property);
// - seeded restarts are reproducible; bad input gives one clear InvalidArgument.
#include "tsunagu/spectra/em.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "tsunagu/core/error.hpp"

using namespace tsunagu;
using namespace tsunagu::spectra;

namespace {

constexpr double kCG = 0.42466090014400953;  // σ / FWHM
constexpr double kPi = 3.14159265358979323846;

double gauss(double x, double c, double fwhm) {
  const double s = kCG * fwhm;
  return std::exp(-0.5 * (x - c) * (x - c) / (s * s)) / (s * std::sqrt(2 * kPi));
}
double lorentz(double x, double c, double fwhm) {
  const double g = 0.5 * fwhm;
  return g / kPi / ((x - c) * (x - c) + g * g);
}

nlohmann::json load_reference() {
  std::ifstream in(std::string(TSUNAGU_SOURCE_DIR) + "/tests/spectra/data/em_reference.json");
  if (!in) throw std::runtime_error("tests/spectra/data/em_reference.json missing");
  return nlohmann::json::parse(in);
}

std::vector<double> dvec(const nlohmann::json& j) { return j.get<std::vector<double>>(); }

struct RefCase {
  std::string name;
  EmOptions opt;
  std::vector<double> x, y;
  FitResult warm;  // the reference's starting point, expressed as a warm start
};

Shape shape_of(const std::string& s) {
  if (s == "gauss") return Shape::Gaussian;
  if (s == "lorentz") return Shape::Lorentzian;
  return Shape::PseudoVoigt;
}

RefCase make_ref_case(const nlohmann::json& c) {
  RefCase rc;
  rc.name = c["name"];
  rc.x = dvec(c["x"]);
  rc.y = dvec(c["y"]);
  const auto& init = c["init"];
  const auto mu = dvec(init["center"]), fw = dvec(init["fwhm"]), eta = dvec(init["eta"]), pi = dvec(init["pi"]);
  const auto area = dvec(init["area"]);  // π_k·A/M_k: whole-peak areas of the start
  const double s = init["s"], A = c["A"], W = c["W"], xbar = c["xbar"];
  rc.opt.n_peaks = mu.size();
  rc.opt.shape = shape_of(c["shape"]);
  rc.opt.background = em_background_from_string(c["background"]);
  rc.opt.fit_eta = c["fit_eta"];
  rc.opt.window_normalised = c["normalised"];
  rc.opt.min_fwhm = c["min_fwhm"];
  rc.opt.max_fwhm = c["max_fwhm"];
  rc.opt.record_trace = true;
  for (std::size_t k = 0; k < mu.size(); ++k) {
    Peak p;
    p.shape = rc.opt.shape;
    p.center = mu[k];
    p.fwhm = fw[k];
    p.area = area[k];
    if (rc.opt.shape == Shape::PseudoVoigt) p.shape_params = {eta[k]};
    rc.warm.peaks.push_back(p);
  }
  // The background start: weight π_bg (mass π_bg·A) in the form the EM fitter reads back.
  const std::size_t K = mu.size(), n = rc.x.size();
  BackgroundResult& bg = rc.warm.background;
  if (rc.opt.background == EmBackground::Uniform) {
    const double cst = pi[K] * A / W;
    bg.kind = BackgroundKind::Constant;
    bg.params = {cst};
    bg.values.assign(n, cst);
  } else if (rc.opt.background == EmBackground::Linear) {
    const double a = pi[K] * A / W;
    bg.kind = BackgroundKind::Linear;
    bg.params = {a, a * s};
    bg.x_ref = xbar;
    for (double xi : rc.x) bg.values.push_back(a * (1 + s * (xi - xbar)));
  } else if (rc.opt.background == EmBackground::Step) {
    bg.kind = BackgroundKind::Shirley;
    const double lo = pi[K] * A / W, total = (pi[K] + pi[K + 1]) * A / W;
    bg.params = {lo, total};
    bg.values.assign(n, total);  // only its mass (π_u + π_s) and I_lo (π_u) are read
  }
  return rc;
}

/// Compare a fit with a reference report (peaks in ascending centre order in both).
void expect_matches(const FitResult& r, const nlohmann::json& ref, double tol_abs, double tol_rel,
                    const std::string& what, double tol_eta = -1) {
  if (tol_eta < 0) tol_eta = tol_abs;
  SCOPED_TRACE(what);
  const auto c = dvec(ref["center"]), f = dvec(ref["fwhm"]), a = dvec(ref["area"]);
  ASSERT_EQ(r.peaks.size(), c.size());
  for (std::size_t k = 0; k < c.size(); ++k) {
    EXPECT_NEAR(r.peaks[k].center, c[k], tol_abs) << "peak " << k + 1 << " center";
    EXPECT_NEAR(r.peaks[k].fwhm, f[k], tol_abs) << "peak " << k + 1 << " fwhm";
    EXPECT_NEAR(r.peaks[k].area, a[k], tol_rel * a[k]) << "peak " << k + 1 << " area";
    if (ref.contains("eta")) {
      EXPECT_NEAR(r.peaks[k].shape_params.at(0), ref["eta"][k].get<double>(), tol_eta) << "peak " << k + 1 << " eta";
    }
  }
  const auto bp = dvec(ref["bg_params"]);
  ASSERT_EQ(r.background.params.size(), bp.size());
  for (std::size_t j = 0; j < bp.size(); ++j)
    EXPECT_NEAR(r.background.params[j], bp[j], tol_rel * std::max(1.0, std::abs(bp[j]))) << "bg param " << j;
}

// A synthetic XPS-like spectrum: peaks (shape, [center, fwhm, area, eta]) + a + b(x − x̄) + Poisson noise.
struct Truth {
  double center, fwhm, area, eta = 0;
};
std::vector<double> synth(const std::vector<double>& x, Shape shape, const std::vector<Truth>& peaks, double a,
                          double b, std::uint64_t seed, bool noise = true) {
  double xm = 0;
  for (double v : x) xm += v;
  xm /= static_cast<double>(x.size());
  std::mt19937_64 rng(seed);
  std::vector<double> y(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    double m = a + b * (x[i] - xm);
    for (const auto& p : peaks) {
      const double g = gauss(x[i], p.center, p.fwhm), l = lorentz(x[i], p.center, p.fwhm);
      const double prof = shape == Shape::Gaussian ? g : shape == Shape::Lorentzian ? l : (1 - p.eta) * g + p.eta * l;
      m += p.area * prof;
    }
    y[i] = noise ? static_cast<double>(std::poisson_distribution<long>(m)(rng)) : m;
  }
  return y;
}

std::vector<double> grid(double lo, double hi, std::size_t n) {
  std::vector<double> x(n);
  for (std::size_t i = 0; i < n; ++i) x[i] = lo + (hi - lo) * static_cast<double>(i) / static_cast<double>(n - 1);
  return x;
}

}  // namespace

// ------------------------------------------------------------------------------------------- numpy reference

TEST(EmAgainstNumpyReference, ThirtyIterationsFromTheSameStartGiveTheSameParameters) {
  const auto ref = load_reference();
  for (const auto& c : ref["cases"]) {
    RefCase rc = make_ref_case(c);
    rc.opt.max_iter = c["n_fixed"];
    rc.opt.tol = 0;  // run exactly max_iter iterations
    rc.opt.accelerate = false;
    EmFitter f(rc.x, rc.opt);
    const FitResult r = f.fit(rc.y, &rc.warm);
    SCOPED_TRACE(rc.name);
    EXPECT_EQ(r.n_iter, rc.opt.max_iter);
    EXPECT_FALSE(r.converged);
    ASSERT_EQ(f.trace().size(), static_cast<std::size_t>(rc.opt.max_iter) + 1);
    EXPECT_NEAR(f.trace().front(), c["init"]["L"].get<double>(), 1e-9 * std::abs(c["init"]["L"].get<double>()));
    EXPECT_NEAR(f.trace().back(), c["fixed"]["L"].get<double>(), 1e-9 * std::abs(c["fixed"]["L"].get<double>()));
    expect_matches(r, c["fixed"], 1e-8, 1e-8, "after 30 iterations");
  }
}

TEST(EmAgainstNumpyReference, ConvergedParametersMatchNumpyEmAndScipyMaximum) {
  const auto ref = load_reference();
  for (const auto& c : ref["cases"]) {
    RefCase rc = make_ref_case(c);
    rc.opt.max_iter = 20000;
    rc.opt.tol = 1e-15;
    SCOPED_TRACE(rc.name);
    const double L_ref = c["converged"]["L"];
    {
      // plain EM, as many iterations as numpy needed to converge (no parameter moving by more than 1e-12)
      rc.opt.accelerate = false;
      rc.opt.tol = 0;
      rc.opt.max_iter = c["converged_iterations"];
      EmFitter f(rc.x, rc.opt);
      const FitResult r = f.fit(rc.y, &rc.warm);
      EXPECT_EQ(r.n_iter, rc.opt.max_iter);
      expect_matches(r, c["converged"], 1e-6, 1e-6, "plain EM vs numpy EM at convergence");
      EXPECT_NEAR(f.trace().back(), L_ref, 1e-10 * std::abs(L_ref));
      // scipy's optimum is itself only accurate to a few 1e-6 eV and ~3e-5 in η (its L is slightly below EM's;
      // L is flat along η), hence the looser tolerances.
      if (c.contains("scipy")) expect_matches(r, c["scipy"], 2e-5, 2e-5, "scipy L-BFGS-B maximum of L", 1e-4);
    }
    {
      // SQUAREM reaches the same fixed point (run for 3000 EM steps, far past convergence; the step background
      // always runs plain EM).
      rc.opt.accelerate = true;
      rc.opt.tol = 0;
      rc.opt.max_iter = 3000;
      EmFitter f(rc.x, rc.opt);
      const FitResult r = f.fit(rc.y, &rc.warm);
      expect_matches(r, c["converged"], 1e-6, 1e-6, "accelerated EM vs numpy EM at convergence");
      EXPECT_GE(f.trace().back(), L_ref - 1e-11 * std::abs(L_ref));
    }
  }
}

// ------------------------------------------------------------------------------------------ EM properties

// Plain EM: L after every iteration; SQUAREM: L after every cycle (its safeguard keeps those monotone).
TEST(EmMonotonicity, WeightedLogLikelihoodNeverDecreasesForEveryShapeAndBackground) {
  const auto x = grid(280, 295, 300);
  const std::vector<Truth> truth{{284.0, 1.0, 6000, 0.3}, {285.6, 1.1, 4000, 0.3}, {289.0, 1.4, 2000, 0.3}};
  for (Shape shape : {Shape::Gaussian, Shape::Lorentzian, Shape::PseudoVoigt}) {
    const auto y = synth(x, shape, truth, 150, 8, 11);
    for (EmBackground bg : {EmBackground::None, EmBackground::Uniform, EmBackground::Linear}) {
      for (bool accelerate : {false, true}) {
        for (int restart : {0, 1}) {  // the quantile start and a k-means++ start
          EmOptions o;
          o.n_peaks = 3;
          o.shape = shape;
          o.background = bg;
          o.record_trace = true;
          o.restarts = restart;
          o.seed = 3;
          o.accelerate = accelerate;
          o.tol = 1e-13;
          o.max_iter = 3000;
          EmFitter f(x, o);
          f.fit(y);
          const auto& tr = f.trace();
          ASSERT_GT(tr.size(), 3u);
          for (std::size_t i = 1; i < tr.size(); ++i)
            ASSERT_GE(tr[i], tr[i - 1] - 1e-12 * std::abs(tr[i - 1]))
                << "shape " << static_cast<int>(shape) << " background " << to_string(bg) << " accelerate "
                << accelerate << " restarts " << restart << " step " << i;
        }
      }
    }
  }
}

TEST(EmRestarts, SameSeedGivesIdenticalFitsAndBestOfStartsIsNoWorseThanTheFirst) {
  const auto x = grid(280, 295, 300);
  const auto y = synth(x, Shape::Gaussian, {{284.0, 1.0, 6000}, {285.6, 1.1, 4000}, {289.0, 1.4, 2000}}, 150, 8, 5);
  EmOptions o;
  o.n_peaks = 3;
  o.background = EmBackground::Linear;
  o.restarts = 5;
  o.seed = 42;
  o.record_trace = true;
  const FitResult a = em_fit(x, y, o), b = em_fit(x, y, o);
  ASSERT_EQ(a.peaks.size(), 3u);
  for (std::size_t k = 0; k < 3; ++k) {
    EXPECT_EQ(a.peaks[k].center, b.peaks[k].center);
    EXPECT_EQ(a.peaks[k].fwhm, b.peaks[k].fwhm);
    EXPECT_EQ(a.peaks[k].area, b.peaks[k].area);
  }
  EXPECT_EQ(a.log_likelihood, b.log_likelihood);
  EXPECT_EQ(a.n_iter, b.n_iter);
  // Restart 0 is the deterministic quantile start, so the best of 6 starts is at least as good as it alone.
  EmFitter multi(x, o);
  multi.fit(y);
  o.restarts = 0;
  EmFitter single(x, o);
  single.fit(y);
  EXPECT_GE(multi.trace().back(), single.trace().back() - 1e-9 * std::abs(single.trace().back()));
  EXPECT_NE(a.message.find("best of 6 starts"), std::string::npos) << a.message;
}

TEST(EmWarmStart, NeighbouringPixelConvergesInFewIterationsToTheColdAnswer) {
  const auto x = grid(280, 295, 300);
  const std::vector<Truth> truth{{284.0, 1.0, 6000}, {285.6, 1.1, 4000}, {289.0, 1.4, 2000}};
  const auto y1 = synth(x, Shape::Gaussian, truth, 150, 8, 1), y2 = synth(x, Shape::Gaussian, truth, 150, 8, 2);
  EmOptions o;
  o.n_peaks = 3;
  o.background = EmBackground::Linear;
  o.tol = 1e-10;
  EmFitter f(x, o);
  const FitResult prev = f.fit(y1);
  const FitResult cold = f.fit(y2);
  const FitResult warm = f.fit(y2, &prev);
  EXPECT_TRUE(warm.converged) << warm.message;
  EXPECT_LT(warm.n_iter, cold.n_iter);
  EXPECT_LE(warm.n_iter, 30) << warm.message;
  for (std::size_t k = 0; k < 3; ++k) {
    EXPECT_NEAR(warm.peaks[k].center, cold.peaks[k].center, 2e-3);
    EXPECT_NEAR(warm.peaks[k].fwhm, cold.peaks[k].fwhm, 2e-3);
    EXPECT_NEAR(warm.peaks[k].area, cold.peaks[k].area, 2e-3 * cold.peaks[k].area);
  }
}

TEST(EmResult, ModelEqualsPeaksPlusBackgroundAndStatisticsAreFilled) {
  const auto x = grid(525, 540, 301);
  const auto y = synth(x, Shape::PseudoVoigt, {{531.0, 1.3, 9000, 0.3}, {533.2, 1.6, 4000, 0.3}}, 300, -5, 3);
  EmOptions o;
  o.n_peaks = 2;
  o.shape = Shape::PseudoVoigt;
  o.background = EmBackground::Linear;
  const FitResult r = em_fit(x, y, o);
  ASSERT_EQ(r.model.size(), x.size());
  ASSERT_EQ(r.background.values.size(), x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    double m = r.background.values[i];
    for (const auto& p : r.peaks) {
      const double eta = p.shape_params.at(0);
      m += p.area * ((1 - eta) * gauss(x[i], p.center, p.fwhm) + eta * lorentz(x[i], p.center, p.fwhm));
    }
    ASSERT_NEAR(r.model[i], m, 1e-9 * std::max(1.0, m)) << "channel " << i;
    // linear background as reported: a + b (x − x_ref)
    ASSERT_NEAR(r.background.values[i],
                r.background.params[0] + r.background.params[1] * (x[i] - r.background.x_ref), 1e-9);
  }
  EXPECT_EQ(r.method, Method::Em);
  EXPECT_EQ(r.background.kind, BackgroundKind::Linear);
  EXPECT_EQ(r.n_free, 2u * 4u + 2u);
  EXPECT_EQ(r.weighting, Weighting::Poisson);
  EXPECT_TRUE(std::isfinite(r.chi2));
  EXPECT_TRUE(std::isfinite(r.log_likelihood));
  EXPECT_LT(r.reduced_chi2, 1.5);  // Poisson noise: χ²/dof ≈ 1 at the right model
  EXPECT_LT(r.peaks[0].center, r.peaks[1].center);
  // Σ model·dx = A = Σ y·dx up to the mass of the peaks outside the window (the densities are not truncated).
}

// --------------------------------------------------------------------------------------- recovery from noise

// Three Gaussians + linear background at three count levels, five noise realisations each. Tolerance per
// parameter: 5 × the counting-statistics error of an isolated Gaussian (σ/√N for the centre, σ/√(2N)·2.355 for the
// FWHM, 1/√N relative for the area, N = counts in the peak) tripled for the overlapping pair, plus a small floor.
TEST(EmRecovery, ThreeGaussiansOnALinearBackgroundAreRecoveredWithinCountingErrors) {
  const auto x = grid(280, 295, 300);
  const double dxs = x[1] - x[0];
  for (double scale : {0.1, 1.0, 10.0}) {
    const std::vector<Truth> truth{{284.0, 1.0, 6000 * scale}, {285.6, 1.1, 4000 * scale}, {289.0, 1.4, 2000 * scale}};
    for (std::uint64_t seed = 1; seed <= 5; ++seed) {
      const auto y = synth(x, Shape::Gaussian, truth, 150 * scale, 8 * scale, 100 + seed);
      EmOptions o;
      o.n_peaks = 3;
      o.background = EmBackground::Linear;
      o.seed = seed;
      const FitResult r = em_fit(x, y, o);
      SCOPED_TRACE("scale " + std::to_string(scale) + " seed " + std::to_string(seed));
      EXPECT_TRUE(r.converged) << r.message;
      ASSERT_EQ(r.peaks.size(), 3u);
      for (std::size_t k = 0; k < 3; ++k) {
        const double Nk = truth[k].area / dxs, sigma = kCG * truth[k].fwhm;
        const double overlap = k < 2 ? 3.0 : 1.0;
        EXPECT_NEAR(r.peaks[k].center, truth[k].center, overlap * 5 * sigma / std::sqrt(Nk) + 0.002) << "peak " << k;
        EXPECT_NEAR(r.peaks[k].fwhm, truth[k].fwhm, overlap * 5 * 2.355 * sigma / std::sqrt(2 * Nk) + 0.005)
            << "peak " << k;
        EXPECT_NEAR(r.peaks[k].area, truth[k].area, truth[k].area * (overlap * 5 / std::sqrt(Nk) + 0.01))
            << "peak " << k;
      }
      EXPECT_NEAR(r.background.params[0], 150 * scale, 150 * scale * 0.05 + 5 * std::sqrt(150 * scale / 300));
    }
  }
}

TEST(EmRecovery, LorentzianAndPseudoVoigtPeaksAreRecoveredByEcm) {
  // Narrow window (±10 eV around 520): 3-5 % of each Lorentzian lies outside it; window normalisation (em.hpp)
  // must still return the whole areas.
  const auto x = grid(510, 530, 401);
  {
    const auto y = synth(x, Shape::Lorentzian, {{518.0, 1.0, 20000}, {522.0, 1.5, 10000}}, 50, 0, 7);
    EmOptions o;
    o.n_peaks = 2;
    o.shape = Shape::Lorentzian;
    o.background = EmBackground::Uniform;
    const FitResult r = em_fit(x, y, o);
    EXPECT_TRUE(r.converged) << r.message;
    EXPECT_NEAR(r.peaks[0].center, 518.0, 0.02);
    EXPECT_NEAR(r.peaks[1].center, 522.0, 0.03);
    EXPECT_NEAR(r.peaks[0].fwhm, 1.0, 0.05);
    EXPECT_NEAR(r.peaks[1].fwhm, 1.5, 0.08);
    EXPECT_NEAR(r.peaks[0].area, 20000, 0.03 * 20000);
    EXPECT_NEAR(r.peaks[1].area, 10000, 0.03 * 10000);
  }
  {
    const auto y = synth(x, Shape::PseudoVoigt, {{518.0, 1.2, 30000, 0.4}, {522.0, 1.5, 15000, 0.4}}, 50, 0, 8);
    EmOptions o;
    o.n_peaks = 2;
    o.shape = Shape::PseudoVoigt;
    o.background = EmBackground::Uniform;
    const FitResult r = em_fit(x, y, o);
    EXPECT_TRUE(r.converged) << r.message;
    EXPECT_NEAR(r.peaks[0].center, 518.0, 0.02);
    EXPECT_NEAR(r.peaks[1].center, 522.0, 0.03);
    EXPECT_NEAR(r.peaks[0].fwhm, 1.2, 0.05);
    EXPECT_NEAR(r.peaks[1].fwhm, 1.5, 0.08);
    EXPECT_NEAR(r.peaks[0].shape_params[0], 0.4, 0.1);
    EXPECT_NEAR(r.peaks[1].shape_params[0], 0.4, 0.15);
    EXPECT_NEAR(r.peaks[0].area, 30000, 0.03 * 30000);
    EXPECT_NEAR(r.peaks[1].area, 15000, 0.03 * 15000);
  }
}

TEST(EmRecovery, StepBackgroundFollowsTheShirleyStepOfThePeaks) {
  // y = offset + peaks + k·∫peaks (a Shirley-like step of 4 % of the cumulative peak area per eV... per count·eV).
  const auto x = grid(280, 295, 300);
  const std::vector<Truth> truth{{285.0, 1.2, 8000}, {288.0, 1.0, 3000}};
  auto y = synth(x, Shape::Gaussian, truth, 0, 0, 0, false);
  std::vector<double> peaks = y, step(x.size(), 0.0);
  for (std::size_t i = 1; i < x.size(); ++i)
    step[i] = step[i - 1] + 0.5 * (peaks[i] + peaks[i - 1]) * (x[i] - x[i - 1]);
  std::mt19937_64 rng(9);
  for (std::size_t i = 0; i < x.size(); ++i)
    y[i] = static_cast<double>(std::poisson_distribution<long>(100 + peaks[i] + 0.04 * step[i])(rng));
  EmOptions o;
  o.n_peaks = 2;
  o.background = EmBackground::Step;
  const FitResult r = em_fit(x, y, o);
  EXPECT_TRUE(r.converged) << r.message;
  EXPECT_EQ(r.background.kind, BackgroundKind::Shirley);
  EXPECT_NEAR(r.peaks[0].center, 285.0, 0.02);
  EXPECT_NEAR(r.peaks[1].center, 288.0, 0.03);
  EXPECT_NEAR(r.peaks[0].fwhm, 1.2, 0.04);
  EXPECT_NEAR(r.peaks[1].fwhm, 1.0, 0.05);
  EXPECT_NEAR(r.peaks[0].area, 8000, 0.04 * 8000);
  EXPECT_NEAR(r.peaks[1].area, 3000, 0.06 * 3000);
  EXPECT_NEAR(r.background.params[0], 100, 10);             // offset at the low end
  EXPECT_NEAR(r.background.params[1], 100 + 0.04 * 11000, 25);  // offset + full step at the high end
}

TEST(EmRecovery, WindowNormalisationRecoversTheAreaOfAPeakCutByTheWindowEdge) {
  // Peak 0.6 eV (half a FWHM) inside the low edge: ~30 % of its area lies outside the window.
  const auto x = grid(280, 292, 241);
  const auto y = synth(x, Shape::Gaussian, {{280.6, 1.2, 8000}, {285.0, 1.0, 3000}}, 100, 0, 21);
  EmOptions o;
  o.n_peaks = 2;
  o.background = EmBackground::Uniform;
  const FitResult r = em_fit(x, y, o);
  EXPECT_NEAR(r.peaks[0].center, 280.6, 0.03);
  EXPECT_NEAR(r.peaks[0].fwhm, 1.2, 0.04);
  EXPECT_NEAR(r.peaks[0].area, 8000, 0.03 * 8000);
  EXPECT_NEAR(r.peaks[1].area, 3000, 0.04 * 3000);
  // The paper's plain densities see only the part inside the window.
  o.window_normalised = false;
  const FitResult plain = em_fit(x, y, o);
  EXPECT_LT(plain.peaks[0].area, 0.9 * 8000);
}

TEST(EmInit, UserCentresStartTheSingleRunAndFindTheNearbyPeaks) {
  const auto x = grid(280, 295, 300);
  const auto y = synth(x, Shape::Gaussian, {{284.0, 1.0, 6000}, {289.0, 1.4, 2000}}, 100, 0, 4);
  EmOptions o;
  o.centers = {283.5, 289.5};
  o.background = EmBackground::Uniform;
  o.restarts = 10;  // ignored with centres: one deterministic run
  const FitResult r = em_fit(x, y, o);
  EXPECT_EQ(r.message.find("starts"), std::string::npos) << r.message;
  EXPECT_NEAR(r.peaks[0].center, 284.0, 0.02);
  EXPECT_NEAR(r.peaks[1].center, 289.0, 0.05);
}

// ------------------------------------------------------------------------------------------------ bad input

TEST(EmBadInput, ClearInvalidArgumentMessages) {
  const auto x = grid(0, 10, 11);
  EmOptions o;
  o.n_peaks = 4;  // 4 Gaussians + uniform = 13 parameters > 11 points
  try {
    EmFitter f(x, o);
    FAIL() << "no exception";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("13 free parameters but the spectrum has only 11 points"), std::string::npos)
        << e.what();
  }
  o.n_peaks = 1;
  EmFitter f(x, o);
  std::vector<double> zeros(11, 0.0);
  EXPECT_THROW(
      {
        try {
          f.fit(zeros);
        } catch (const InvalidArgument& e) {
          EXPECT_STREQ(e.what(), "em: the counts are all zero: nothing to fit");
          throw;
        }
      },
      InvalidArgument);
  std::vector<double> y(11, 1.0);
  y[3] = std::nan("");
  try {
    f.fit(y);
    FAIL() << "no exception";
  } catch (const InvalidArgument& e) {
    EXPECT_STREQ(e.what(), "em: counts[3] is not finite (nan)");
  }
  y[3] = -2;
  EXPECT_THROW(f.fit(y), InvalidArgument);
  EXPECT_THROW(f.fit(std::vector<double>(10, 1.0)), InvalidArgument);
  auto xbad = x;
  xbad[5] = xbad[4];
  EXPECT_THROW(EmFitter(xbad, o), InvalidArgument);
  EmOptions v;
  v.n_peaks = 1;
  v.shape = Shape::Voigt;
  try {
    v.validate();
    FAIL() << "no exception";
  } catch (const InvalidArgument& e) {
    EXPECT_STREQ(e.what(), "EmOptions.shape: EM supports gauss, lorentz and pvoigt, not 'voigt'");
  }
  v.shape = Shape::Gaussian;
  v.tol = -1;
  EXPECT_THROW(v.validate(), InvalidArgument);
  v.tol = 1e-8;
  v.min_fwhm = 2;
  v.max_fwhm = 1;
  EXPECT_THROW(v.validate(), InvalidArgument);
  EmOptions none;
  try {
    none.validate();
    FAIL() << "no exception";
  } catch (const InvalidArgument& e) {
    EXPECT_STREQ(e.what(), "EmOptions.n_peaks: must be >= 1 (or give centers)");
  }
  EXPECT_THROW(em_background_from_string("shirley"), InvalidArgument);
  EXPECT_EQ(em_background_from_string("step"), EmBackground::Step);
}
