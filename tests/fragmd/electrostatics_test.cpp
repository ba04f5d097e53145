// EFP2 electrostatics: analytic limits, the analytic gradient against finite differences and against the former
// Dual<6> implementation (electrostatics_dual.hpp) as an oracle.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <random>

#include <Eigen/Geometry>
#include <gtest/gtest.h>

#include "fragmd/electrostatics_dual.hpp"
#include "tsunagu/core/error.hpp"
#include "tsunagu/fragmd/fragment.hpp"
#include "tsunagu/fragmd/terms.hpp"
#include "tsunagu/fragmd/units.hpp"

namespace fs = std::filesystem;
using namespace tsunagu::fragmd;

namespace {

fs::path fraglib() { return fs::path(TSUNAGU_SHARED_DIR) / "data/efp/fraglib"; }
#define REQUIRE_FRAGLIB()                                                                    \
  if (!fs::exists(fraglib() / "h2o.efp")) GTEST_SKIP() << "../shared/data/efp/fraglib absent"

FragmentType load(const std::string& stem) { return read_fragment_file((fraglib() / (stem + ".efp")).string())[0]; }

/// Move fragment f rigidly: translate by dt, rotate by the small rotation vector dth about its COM (lab axes).
Fragment moved(const FragmentType& t, const Fragment& f, const Eigen::Vector3d& dt, const Eigen::Vector3d& dth) {
  Eigen::Matrix3d Q = Eigen::Matrix3d::Identity();
  if (dth.norm() > 0) Q = Eigen::AngleAxisd(dth.norm(), dth.normalized()).toRotationMatrix();
  return place(t, f.com + dt, Q * f.R);
}

}  // namespace

TEST(Electrostatics, FarApartNeutralMoleculesInteractLikeDipoles) {
  REQUIRE_FRAGLIB();
  FragmentType w = load("h2o");
  Fragment a = place(w, Eigen::Vector3d::Zero(), Eigen::Matrix3d::Identity());
  Eigen::Vector3d d(0, 0, 4000.0);
  Fragment b = place(w, d, euler_to_matrix(0.3, 0.7, 0.1));
  // Molecular dipoles (electronic charges + nuclei + point dipoles) about the COM.
  auto dipole = [](const Fragment& f) {
    Eigen::Vector3d mu = Eigen::Vector3d::Zero();
    for (const auto& m : f.multipoles) mu += m.monopole * (m.r - f.com) + m.dipole;
    for (const auto& at : f.atoms) mu += at.znuc * (at.r - f.com);
    return mu;
  };
  Eigen::Vector3d ma = dipole(a), mb = dipole(b);
  const double r = d.norm();
  const double e_dd = ma.dot(mb) / std::pow(r, 3) - 3.0 * ma.dot(d) * mb.dot(d) / std::pow(r, 5);
  const double e = elec_pair(a, b, Eigen::Vector3d::Zero(), ElecDamp::Off);
  EXPECT_NEAR(e, e_dd, 1e-3 * std::abs(e_dd));  // dipole–quadrupole terms are O(1/r) relative: ~7e-4 here
  // Screening only matters at overlap: identical at 4000 bohr.
  EXPECT_NEAR(elec_pair(a, b, Eigen::Vector3d::Zero(), ElecDamp::Screen), e, 1e-15);
}

TEST(Electrostatics, PairEnergyIsSymmetricAndShiftEquivariant) {
  REQUIRE_FRAGLIB();
  FragmentType w = load("h2o"), n = load("nh3");
  Fragment a = place(w, Eigen::Vector3d(0.1, 0.2, -0.3), euler_to_matrix(1.0, 2.0, 3.0));
  Fragment b = place(n, Eigen::Vector3d(5.0, 1.0, 0.5), euler_to_matrix(5.0, 2.0, 8.0));
  for (ElecDamp d : {ElecDamp::Off, ElecDamp::Screen}) {
    EXPECT_NEAR(elec_pair(a, b, Eigen::Vector3d::Zero(), d), elec_pair(b, a, Eigen::Vector3d::Zero(), d), 1e-13);
    Eigen::Vector3d s(30.0, -30.0, 0.0);
    Fragment bs = place(n, b.com + s, b.R);
    EXPECT_NEAR(elec_pair(a, b, s, d), elec_pair(a, bs, Eigen::Vector3d::Zero(), d), 1e-13);
  }
}

TEST(Electrostatics, AnalyticGradientMatchesFiniteDifferences) {
  REQUIRE_FRAGLIB();
  FragmentType w = load("h2o"), m = load("ch3oh");
  Fragment a = place(w, Eigen::Vector3d(0.0, 0.0, 0.0), euler_to_matrix(1.0, 2.0, 3.0));
  Fragment b = place(m, Eigen::Vector3d(4.5, 1.0, 0.7), euler_to_matrix(0.4, 2.4, -1.0));
  const Eigen::Vector3d shift(0.0, 0.0, 0.0);
  for (ElecDamp d : {ElecDamp::Off, ElecDamp::Screen}) {
    FragmentGradient ga = FragmentGradient::Zero(), gb = FragmentGradient::Zero();
    const double e = elec_pair_gradient(a, b, shift, d, ga, gb);
    EXPECT_NEAR(e, elec_pair(a, b, shift, d), 1e-14);
    const double h = 1e-5;
    for (int k = 0; k < 6; ++k) {
      Eigen::Vector3d dt = Eigen::Vector3d::Zero(), dth = Eigen::Vector3d::Zero();
      (k < 3 ? dt : dth)[k % 3] = h;
      const double fa = (elec_pair(moved(w, a, dt, dth), b, shift, d) - elec_pair(moved(w, a, -dt, -dth), b, shift, d)) / (2 * h);
      const double fb = (elec_pair(a, moved(m, b, dt, dth), shift, d) - elec_pair(a, moved(m, b, -dt, -dth), shift, d)) / (2 * h);
      EXPECT_NEAR(ga[k], fa, 1e-8 + 1e-6 * std::abs(fa)) << "fragment a, component " << k;
      EXPECT_NEAR(gb[k], fb, 1e-8 + 1e-6 * std::abs(fb)) << "fragment b, component " << k;
    }
  }
}

TEST(Electrostatics, PointChargesSeeTheMolecularMultipoles) {
  REQUIRE_FRAGLIB();
  FragmentType w = load("h2o");
  Fragment a = place(w, Eigen::Vector3d::Zero(), Eigen::Matrix3d::Identity());
  // A unit charge far along z sees the water dipole: E ≈ q μ·r / r³.
  Eigen::Vector3d mu = Eigen::Vector3d::Zero();
  for (const auto& mp : a.multipoles) mu += mp.monopole * mp.r + mp.dipole;
  for (const auto& at : a.atoms) mu += at.znuc * at.r;
  Eigen::Vector3d r(0, 500.0, 0);
  PointCharge q{r, 1.0};
  const double e = elec_point_charges(a, {q});
  EXPECT_NEAR(e, mu.dot(r) / std::pow(r.norm(), 3), 1e-3 * std::abs(e));
}

namespace {

const char* kLibrary[] = {"acetone", "c2h5oh", "c6h6", "ccl4", "ch3oh", "ch4", "cl2",
                          "dcm",     "dmso",   "ethane", "h2", "h2o",  "nh3"};

Eigen::Matrix3d random_rotation(std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  return euler_to_matrix(2 * M_PI * u(rng), std::acos(2 * u(rng) - 1), 2 * M_PI * u(rng));
}

Eigen::Vector3d random_direction(std::mt19937_64& rng) {
  std::normal_distribution<double> n(0.0, 1.0);
  Eigen::Vector3d v(n(rng), n(rng), n(rng));
  return v.normalized();
}

/// Largest deviation of `got` from `want` in units of the tolerance 1e-10 |want| + 1e-12 (≤ 1 passes); also tracks
/// the largest relative (to max(|want|, 1e-12)) deviation seen.
struct Deviation {
  double worst = 0.0, rel = 0.0, abs = 0.0;
  void add(double got, double want) {
    const double d = std::abs(got - want);
    worst = std::max(worst, d / (1e-10 * std::abs(want) + 1e-12));
    rel = std::max(rel, d / std::max(std::abs(want), 1e-12));
    abs = std::max(abs, d);
  }
};

}  // namespace

TEST(Electrostatics, AnalyticGradientMatchesDualOracleForAllLibraryPairs) {
  REQUIRE_FRAGLIB();
  std::vector<FragmentType> types;
  for (const char* n : kLibrary) types.push_back(load(n));
  std::mt19937_64 rng(20240611);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  const double angstrom = 1.0 / kBohrAngstrom;
  Deviation dev;
  int cases = 0;
  for (const auto& ta : types)
    for (const auto& tb : types)
      for (ElecDamp damp : {ElecDamp::Screen, ElecDamp::Off, ElecDamp::Overlap}) {
        if (damp == ElecDamp::Screen && !(ta.has_screen2 && tb.has_screen2)) continue;
        for (int k = 0; k < 4; ++k) {
          // COM separations spread over 3–10 Å; every other case with b given by a periodic image shift.
          const double sep = (3.0 + 7.0 * (k + u(rng)) / 4.0) * angstrom;
          const Eigen::Vector3d ca(u(rng), u(rng), u(rng));
          const Eigen::Vector3d shift = k % 2 ? Eigen::Vector3d(30.0, -45.0, 15.0) : Eigen::Vector3d::Zero();
          Fragment a = place(ta, ca, random_rotation(rng));
          Fragment b = place(tb, ca + sep * random_direction(rng) - shift, random_rotation(rng));
          FragmentGradient ga = FragmentGradient::Zero(), gb = ga, oa = ga, ob = ga;
          const double e = elec_pair_gradient(a, b, shift, damp, ga, gb);
          const double eo = tsunagu::fragmd::detail::elec_pair_gradient_dual(a, b, shift, damp, oa, ob);
          dev.add(e, eo);
          dev.add(elec_pair(a, b, shift, damp), eo);
          for (int c = 0; c < 6; ++c) {
            dev.add(ga[c], oa[c]);
            dev.add(gb[c], ob[c]);
          }
          ++cases;
          ASSERT_LE(dev.worst, 1.0) << ta.name << " with " << tb.name << ", damp " << static_cast<int>(damp)
                                    << ", case " << k << ": e " << e << " vs " << eo << "\n ga " << ga.transpose()
                                    << "\n oa " << oa.transpose() << "\n gb " << gb.transpose() << "\n ob "
                                    << ob.transpose();
          // The gradients are added to what the caller passes in.
          FragmentGradient ha = FragmentGradient::Constant(1.0), hb = FragmentGradient::Constant(-2.0);
          elec_pair_gradient(a, b, shift, damp, ha, hb);
          EXPECT_LE((ha - FragmentGradient::Constant(1.0) - ga).cwiseAbs().maxCoeff(), 1e-14);
          EXPECT_LE((hb - FragmentGradient::Constant(-2.0) - gb).cwiseAbs().maxCoeff(), 1e-14);
        }
      }
  EXPECT_GE(cases, 13 * 13 * 2 * 4);  // Screen only where both types have SCREEN2 (all of the library's do)
  std::printf("%d pair configurations: max deviation from the Dual<6> oracle %.3g relative, %.3g absolute, %.3g of "
              "the tolerance\n", cases, dev.rel, dev.abs, dev.worst);
}

TEST(Electrostatics, PointChargeGradientMatchesDualOracle) {
  REQUIRE_FRAGLIB();
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  Deviation dev;
  for (const char* n : kLibrary) {
    const FragmentType t = load(n);
    Fragment f = place(t, Eigen::Vector3d(0.3, -0.2, 0.1), random_rotation(rng));
    std::vector<PointCharge> charges;
    for (int k = 0; k < 6; ++k)
      charges.push_back({f.com + (6.0 + 10.0 * std::abs(u(rng))) * random_direction(rng), u(rng)});
    FragmentGradient g = FragmentGradient::Zero(), o = g;
    const double e = elec_point_charges_gradient(f, charges, g);
    const double eo = tsunagu::fragmd::detail::elec_point_charges_gradient_dual(f, charges, o);
    dev.add(e, eo);
    dev.add(elec_point_charges(f, charges), eo);
    for (int c = 0; c < 6; ++c) dev.add(g[c], o[c]);
    ASSERT_LE(dev.worst, 1.0) << n << ": e " << e << " vs " << eo << "\n g " << g.transpose() << "\n o "
                              << o.transpose();
    FragmentGradient h = FragmentGradient::Constant(0.5);
    elec_point_charges_gradient(f, charges, h);
    EXPECT_LE((h - FragmentGradient::Constant(0.5) - g).cwiseAbs().maxCoeff(), 1e-14);
  }
  std::printf("point charges: max deviation from the Dual<6> oracle %.3g relative, %.3g absolute, %.3g of the "
              "tolerance\n", dev.rel, dev.abs, dev.worst);
}

TEST(Electrostatics, ScreenWithoutScreen2IsRefusedByBothPaths) {
  REQUIRE_FRAGLIB();
  FragmentType w = load("h2o");
  w.has_screen2 = false;
  Fragment a = place(w, Eigen::Vector3d::Zero(), Eigen::Matrix3d::Identity());
  Fragment b = place(w, Eigen::Vector3d(6, 0, 0), Eigen::Matrix3d::Identity());
  FragmentGradient ga = FragmentGradient::Zero(), gb = FragmentGradient::Zero();
  EXPECT_THROW(elec_pair(a, b, Eigen::Vector3d::Zero(), ElecDamp::Screen), tsunagu::InvalidArgument);
  EXPECT_THROW(elec_pair_gradient(a, b, Eigen::Vector3d::Zero(), ElecDamp::Screen, ga, gb), tsunagu::InvalidArgument);
  EXPECT_NO_THROW(elec_pair_gradient(a, b, Eigen::Vector3d::Zero(), ElecDamp::Off, ga, gb));
}
