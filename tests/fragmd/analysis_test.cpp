// Trajectory analysis against analytic truths: ideal-gas g(r), Brownian MSD, exponentially correlated Green–Kubo
// signal, density of a known box, ΔH_vap and mixing arithmetic; plus a trajectory file round trip.
#include "tsunagu/fragmd/analysis.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include <unistd.h>

#include "tsunagu/core/error.hpp"
#include "tsunagu/core/plot.hpp"
#include "tsunagu/core/random.hpp"
#include "tsunagu/fragmd/units.hpp"

namespace fs = std::filesystem;
using namespace tsunagu;
using namespace tsunagu::fragmd;

namespace {

double gaussian(core::Rng& rng) {
  const double u1 = 1.0 - core::uniform01(rng), u2 = core::uniform01(rng);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

// A synthetic trajectory of n point "molecules" (one atom each, mass 18 amu, O) in a cubic box of side L (Å).
Trajectory synthetic(std::size_t n, double box_A) {
  Trajectory t;
  for (std::size_t i = 0; i < n; ++i) {
    t.fragment_types.push_back("x");
    t.fragment_mass.push_back(18.0);
    t.atom_labels.push_back("A01O1");
    t.atom_fragment.push_back(static_cast<int>(i));
    t.atom_mass.push_back(18.0);
    t.atom_znuc.push_back(8.0);
  }
  t.time_step_fs = 1.0;
  t.ensemble = "nvt";
  (void)box_A;
  return t;
}

void add_frame(Trajectory& t, double time, const Eigen::MatrixX3d& x, double box_A, double epot = 0.0) {
  t.time_fs.push_back(time);
  t.com.push_back(x);
  t.rotation.emplace_back(t.fragments(), Eigen::Matrix3d::Identity());
  t.box.push_back(Eigen::Vector3d::Constant(box_A));
  t.atoms.push_back(x);
  EnergyTerms e;
  e.electrostatic = epot;
  t.energy.push_back(e);
  t.kinetic.push_back(0.0);
  t.temperature.push_back(300.0);
  t.pressure.push_back(1.0);
  t.conserved.push_back(epot);
}

}  // namespace

TEST(Analysis, IdealGasRdfIsOne) {
  core::Rng rng = core::make_rng(1);
  const std::size_t n = 300;
  const double L = 20.0;
  Trajectory t = synthetic(n, L);
  for (int f = 0; f < 40; ++f) {
    Eigen::MatrixX3d x(n, 3);
    for (std::size_t i = 0; i < n; ++i)
      for (int c = 0; c < 3; ++c) x(i, c) = (core::uniform01(rng) - 0.5) * 3 * L;   // unwrapped: spans images
    add_frame(t, f, x, L);
  }
  RdfOptions o;
  o.bin_width = 0.5;
  const Rdf com = radial_distribution(t, o);
  ASSERT_EQ(com.r.size(), 20u);
  double mean = 0;
  std::size_t m = 0;
  for (std::size_t b = 0; b < com.r.size(); ++b) {
    if (com.r[b] < 3) continue;   // few pairs at small r
    EXPECT_NEAR(com.g[b], 1.0, 0.12) << "r = " << com.r[b];
    mean += com.g[b], ++m;
  }
  EXPECT_NEAR(mean / m, 1.0, 0.02);
  // Coordination number up to r_max equals the ideal-gas count (n − 1) 4/3 π r³ / V.
  EXPECT_NEAR(com.coordination.back(), (n - 1) * 4.0 / 3.0 * M_PI * 1000.0 / (L * L * L), 0.5);
  o.element_a = o.element_b = "O";
  const Rdf oo = radial_distribution(t, o);
  EXPECT_EQ(oo.g, com.g);   // one O per molecule at its centre
  o.element_b = "H";
  EXPECT_THROW(radial_distribution(t, o), InvalidArgument);
  o = RdfOptions{};
  o.r_max = 11.0;
  EXPECT_THROW(radial_distribution(t, o), InvalidArgument);   // beyond half the box
}

TEST(Analysis, BrownianMsdGivesDiffusionCoefficient) {
  core::Rng rng = core::make_rng(2);
  const std::size_t n = 200, frames = 1000;
  const double dt = 10.0;            // fs between frames
  const double d_true = 2.3e-4;      // Å²/fs = 2.3e-5 cm²/s
  const double step = std::sqrt(2 * d_true * dt);
  Trajectory t = synthetic(n, 30.0);
  Eigen::MatrixX3d x = Eigen::MatrixX3d::Zero(n, 3);
  for (std::size_t f = 0; f < frames; ++f) {
    add_frame(t, f * dt, x, 30.0);
    for (std::size_t i = 0; i < n; ++i)
      for (int c = 0; c < 3; ++c) x(i, c) += step * gaussian(rng);
  }
  MsdOptions o;
  o.max_lag_fs = 2000;
  const Msd m = mean_squared_displacement(t, o);
  ASSERT_EQ(m.lag_fs.size(), 200u);
  EXPECT_DOUBLE_EQ(m.fit_start_fs, 400.0);
  // Removing the system drift scales the MSD by (1 − 1/n) for equal masses.
  const double expected = d_true * 0.1 * (1.0 - 1.0 / n);   // cm²/s
  std::cout << "D = " << m.diffusion_1e5() << " ± " << m.diffusion_sd_1e5() << " (expected " << expected * 1e5
            << ") 1e-5 cm2/s\n";
  EXPECT_NEAR(m.diffusion, expected, 0.05 * expected);
  EXPECT_GT(m.diffusion_sd, 0.0);
  EXPECT_NEAR(m.msd[99], 6 * d_true * 1000 * (1.0 - 1.0 / n), 0.05 * 6 * d_true * 1000);
  o.fit_start_fs = 3000;
  o.fit_end_fs = 1000;
  EXPECT_THROW(mean_squared_displacement(t, o), InvalidArgument);
}

TEST(Analysis, GreenKuboOfExponentiallyCorrelatedSignal) {
  core::Rng rng = core::make_rng(3);
  const std::size_t frames = 200000;
  const double dt = 2.0, tau = 20.0, sigma = 300.0;   // fs, fs, bar
  const double a = std::exp(-dt / tau);
  Trajectory t = synthetic(1, 25.0);
  std::array<double, 3> p{};
  for (double& v : p) v = sigma * gaussian(rng);
  const Eigen::MatrixX3d x = Eigen::MatrixX3d::Zero(1, 3);
  t.com.reserve(frames);
  for (std::size_t f = 0; f < frames; ++f) {
    add_frame(t, f * dt, x, 25.0);
    Eigen::Matrix3d m = Eigen::Matrix3d::Identity();
    m(0, 1) = m(1, 0) = p[0];
    m(0, 2) = m(2, 0) = p[1];
    m(1, 2) = m(2, 1) = p[2];
    t.pressure_tensor.push_back(m);
    for (double& v : p) v = a * v + std::sqrt(1 - a * a) * sigma * gaussian(rng);
  }
  ViscosityOptions o;
  o.max_lag_fs = 10 * tau;
  const Viscosity v = green_kubo_viscosity(t, o);
  // Trapezoid integral of σ² a^k over 0..K: σ² dt [(1 + a)/(2(1 − a)) − a^K (…)] ≈ σ² τ.
  const double K = o.max_lag_fs / dt;
  const double integral = sigma * sigma * dt * ((1 + a) / (2 * (1 - a)) - std::pow(a, K) * (0.5 + a / (1 - a)));
  const double expected = 25.0 * 25.0 * 25.0 * 1e-30 / (1.3806488e-23 * 300.0) * integral * 1e10 * 1e-15 * 1e3;
  std::cout << "eta = " << v.mpa_s << " ± " << v.sem_mpa_s << " mPa s (expected " << expected << ")\n";
  EXPECT_NEAR(v.mpa_s, expected, 0.08 * expected);
  EXPECT_LT(v.sem_mpa_s, 0.1 * expected);
  EXPECT_NEAR(v.running.back(), v.mpa_s, 1e-12 * expected);
  EXPECT_EQ(v.lag_fs.size(), 101u);
  // Without a pressure tensor the analysis refuses clearly.
  t.pressure_tensor.clear();
  try {
    green_kubo_viscosity(t, o);
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("pressure tensor"), std::string::npos);
  }
}

TEST(Analysis, DensityHeatOfVaporizationAndMixing) {
  const std::size_t n = 125;
  const double L = 15.5;
  Trajectory t = synthetic(n, L);
  for (int f = 0; f < 50; ++f) add_frame(t, f, Eigen::MatrixX3d::Zero(n, 3), L, -0.016 * n);
  const DensitySeries d = density(t);
  const double rho = n * 18.0 * 1.660538921 / (L * L * L);
  EXPECT_NEAR(d.stats.mean, rho, 1e-12);
  EXPECT_NEAR(d.stats.sd, 0.0, 1e-12);
  EXPECT_EQ(d.density.size(), 50u);
  const HeatOfVaporization h = heat_of_vaporization(t, 10);
  EXPECT_NEAR(h.kj_mol, 0.016 * kHartreeKJMol + 8.3144621e-3 * 300.0, 1e-9);
  EXPECT_NEAR(h.kcal_mol * 4.184, h.kj_mol, 1e-3);
  EXPECT_EQ(heat_of_vaporization(t, 0, 350.0).temperature_K, 350.0);

  LiquidSummary a, b, mix;
  a.enthalpy.mean = -40.0, a.volume.mean = 18.0, a.enthalpy.sem = 0.3;
  b.enthalpy.mean = -30.0, b.volume.mean = 40.0, b.enthalpy.sem = 0.4;
  mix.enthalpy.mean = -36.5, mix.volume.mean = 28.0;
  const MixingResult r = excess_mixing(mix, 0.5, a, b);
  EXPECT_NEAR(r.excess_enthalpy, -1.5, 1e-12);
  EXPECT_NEAR(r.excess_volume, -1.0, 1e-12);
  EXPECT_NEAR(r.excess_enthalpy_sem, std::sqrt(0.15 * 0.15 + 0.2 * 0.2), 1e-12);
  EXPECT_THROW(excess_mixing(mix, 1.0, a, b), InvalidArgument);
  const LiquidSummary s = summarize_liquid(t, 1.0);
  EXPECT_NEAR(s.volume.mean, L * L * L / n * 0.602214129, 1e-9);
  EXPECT_NEAR(s.enthalpy.mean, -0.016 * kHartreeKJMol + 1.0 * L * L * L / n * 6.02214129e-5, 1e-9);

  // A non-periodic trajectory has no density.
  t.box[3] = Eigen::Vector3d::Zero();
  EXPECT_THROW(density(t), InvalidArgument);
}

// Excess mixing from three trajectories: composition counted from the mixture's fragment types, the rest is the
// arithmetic checked above. Per-molecule enthalpies (P = 0, no kinetic energy): pure A −0.016 Eh, pure B −0.010 Eh,
// the 3:1 mixture −0.0150 Eh per molecule → H^E = (−0.0150 + 0.75·0.016 + 0.25·0.010) Eh = −0.0005 Eh.
TEST(Analysis, ExcessMixingFromTrajectories) {
  auto liquid = [](std::vector<std::string> types, double epot_per_molecule, double L) {
    Trajectory t = synthetic(types.size(), L);
    t.fragment_types = types;
    const Eigen::MatrixX3d x = Eigen::MatrixX3d::Zero(static_cast<Eigen::Index>(types.size()), 3);
    for (int f = 0; f < 5; ++f) add_frame(t, f, x, L, epot_per_molecule * static_cast<double>(types.size()));
    return t;
  };
  const Trajectory a = liquid({"h2o_l", "h2o_l"}, -0.016, 10.0), b = liquid({"ch3oh_l", "ch3oh_l"}, -0.010, 12.0);
  const Trajectory mix = liquid({"h2o_l", "ch3oh_l", "h2o_l", "h2o_l"}, -0.0150, 14.0);
  MixingOptions o;
  o.pressure_bar = 0.0;
  const MixingResult r = excess_mixing(mix, a, b, o);
  EXPECT_DOUBLE_EQ(r.x_a, 0.75);
  EXPECT_NEAR(r.excess_enthalpy, -0.0005 * kHartreeKJMol, 1e-9);
  const double v = [](double L, double n) { return L * L * L / n * 0.602214129; }(14, 4) -
                   0.75 * (1000.0 / 2 * 0.602214129) - 0.25 * (1728.0 / 2 * 0.602214129);
  EXPECT_NEAR(r.excess_volume, v, 1e-9);
  // Swapping the roles of A and B gives x_a = 0.25 and the same excess properties.
  EXPECT_NEAR(excess_mixing(mix, b, a, o).excess_enthalpy, r.excess_enthalpy, 1e-12);
  // Refusals name the problem.
  EXPECT_THROW(excess_mixing(mix, mix, b, o), InvalidArgument);                       // pure A is a mixture
  EXPECT_THROW(excess_mixing(mix, a, a, o), InvalidArgument);                         // A and B the same liquid
  EXPECT_THROW(excess_mixing(a, a, b, o), InvalidArgument);                           // mixture without B
  EXPECT_THROW(excess_mixing(liquid({"h2o_l", "nh3_l"}, -0.01, 10), a, b, o), InvalidArgument);  // foreign type
  o.pressure_bar = std::nan("");
  EXPECT_THROW(excess_mixing(mix, a, b, o), InvalidArgument);
}

TEST(Analysis, PlotsAndTrajectoryRoundTrip) {
  core::Rng rng = core::make_rng(4);
  const std::size_t n = 20;
  Trajectory t = synthetic(n, 10.0);
  Eigen::MatrixX3d x(n, 3);
  for (int f = 0; f < 30; ++f) {
    for (std::size_t i = 0; i < n; ++i)
      for (int c = 0; c < 3; ++c) x(i, c) = core::uniform01(rng) * 10.0;
    add_frame(t, 5.0 * f, x, 10.0, -0.01 * f);
  }
  const fs::path dir = fs::temp_directory_path() / ("fragmd_analysis_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  t.write((dir / "t.h5").string());
  const Trajectory r = read_trajectory((dir / "t.h5").string());
  ASSERT_EQ(r.frames(), t.frames());
  EXPECT_EQ(r.atom_labels, t.atom_labels);
  EXPECT_EQ(r.atom_fragment, t.atom_fragment);
  EXPECT_EQ((r.com[7] - t.com[7]).norm(), 0.0);
  EXPECT_EQ(r.energy[5].total(), t.energy[5].total());
  EXPECT_TRUE(r.pressure_tensor.empty());

  RdfOptions ro;
  ro.bin_width = 0.25;
  const std::string svg_rdf = plot_rdf({radial_distribution(r, ro)});
  MsdOptions mo;
  const std::string svg_msd = plot_msd(mean_squared_displacement(r, mo));
  const std::string svg_rho = plot_density(density(r));
  const std::string svg_e = plot_energy(r);
  for (const auto* s : {&svg_rdf, &svg_msd, &svg_rho, &svg_e}) EXPECT_NE(s->find("<svg"), std::string::npos);
  core::plot::save_svg(dir / "rdf.svg", svg_rdf);
  EXPECT_TRUE(fs::exists(dir / "rdf.svg"));
  fs::remove_all(dir);
}

TEST(Analysis, ElementSymbols) {
  EXPECT_EQ(element_symbol(8.0), "O");
  EXPECT_EQ(element_symbol(17.0), "Cl");
  EXPECT_EQ(element_symbol(0.0), "X");
  EXPECT_EQ(element_symbol(7.5), "X");
}
