// EFP2 electrostatics: analytic limits and the analytic gradient against finite differences.
#include <cmath>
#include <filesystem>

#include <Eigen/Geometry>
#include <gtest/gtest.h>

#include "tsunagu/fragmd/fragment.hpp"
#include "tsunagu/fragmd/terms.hpp"

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
