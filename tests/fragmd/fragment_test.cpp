// Reader of GAMESS MAKEFP fragment files and placement of fragments.
#include "tsunagu/fragmd/fragment.hpp"

#include <cmath>
#include <filesystem>
#include <fstream>

#include <Eigen/Dense>
#include <gtest/gtest.h>

#include "tsunagu/core/error.hpp"

namespace fs = std::filesystem;
using namespace tsunagu;
using namespace tsunagu::fragmd;

namespace {

fs::path fraglib() { return fs::path(TSUNAGU_SHARED_DIR) / "data/efp/fraglib"; }

#define REQUIRE_FRAGLIB()                                                                    \
  if (!fs::exists(fraglib() / "h2o.efp")) GTEST_SKIP() << "../shared/data/efp/fraglib absent"

fs::path write_tmp(const std::string& name, const std::string& text) {
  fs::path p = fs::temp_directory_path() / ("tsunagu_fragmd_" + name);
  std::ofstream(p) << text;
  return p;
}

}  // namespace

TEST(FragmentFile, WaterHasTheCountsOfItsFile) {
  REQUIRE_FRAGLIB();
  auto types = read_fragment_file((fraglib() / "h2o.efp").string());
  ASSERT_EQ(types.size(), 1u);
  const FragmentType& w = types[0];
  EXPECT_EQ(w.name, "h2o_l");
  EXPECT_EQ(w.atoms.size(), 3u);
  EXPECT_EQ(w.multipoles.size(), 5u);  // 3 atoms + 2 bond midpoints
  EXPECT_EQ(w.polarizable.size(), 4u);
  EXPECT_EQ(w.dynamic_polarizable.size(), 4u);
  EXPECT_EQ(w.n_lmo, 4);
  EXPECT_EQ(w.n_basis, 65);
  EXPECT_EQ(w.wavefunction.rows(), 4);
  EXPECT_EQ(w.wavefunction.cols(), 65);
  EXPECT_TRUE(w.has_screen2);
  // Values straight from the file (first and last of several sections, incl. '>' continuation lines).
  EXPECT_DOUBLE_EQ(w.multipoles[0].monopole, -8.4173680991);
  EXPECT_DOUBLE_EQ(w.multipoles[0].znuc, 8.0);
  EXPECT_DOUBLE_EQ(w.multipoles[4].octupole[8], 0.1831196699);
  EXPECT_DOUBLE_EQ(w.multipoles[3].screen2, 3.225057762);
  EXPECT_DOUBLE_EQ(w.polarizable[0].alpha(0, 0), 2.6629294234);
  EXPECT_DOUBLE_EQ(w.polarizable[0].alpha(0, 1), 1.2832534969);   // xy
  EXPECT_DOUBLE_EQ(w.polarizable[0].alpha(1, 0), 1.1482095947);   // yx
  EXPECT_DOUBLE_EQ(w.wavefunction(0, 0), -5.05028060E-02);
  EXPECT_DOUBLE_EQ(w.fock(0, 0), -0.9202084588);
  EXPECT_DOUBLE_EQ(w.fock(1, 0), 0.1883945642);
  EXPECT_DOUBLE_EQ(w.fock(3, 3), -0.6746177035);
  // Charge neutrality: electronic monopoles + nuclear charges.
  double q = 0;
  for (const auto& m : w.multipoles) q += m.monopole + m.znuc;
  EXPECT_NEAR(q, 0.0, 1e-6);
  // The file frame is the centre-of-mass frame.
  EXPECT_LT(w.center_of_mass().norm(), 1e-8);
}

TEST(FragmentFile, EveryLibraryFragmentIsNeutralAndConsistent) {
  REQUIRE_FRAGLIB();
  for (const auto& e : fs::directory_iterator(fraglib())) {
    if (e.path().extension() != ".efp") continue;
    SCOPED_TRACE(e.path().string());
    for (const auto& f : read_fragment_file(e.path().string())) {
      double q = 0;
      for (const auto& m : f.multipoles) q += m.monopole + m.znuc;
      EXPECT_NEAR(q, 0.0, 1e-4);
      EXPECT_EQ(static_cast<int>(f.lmo_centroids.size()), f.n_lmo);
      EXPECT_EQ(f.wavefunction.cols(), f.n_basis);
      EXPECT_EQ(f.dynamic_polarizable.size(), f.polarizable.size());
      // Fock matrix of occupied LMOs: negative diagonal.
      for (int i = 0; i < f.n_lmo; ++i) EXPECT_LT(f.fock(i, i), 0.0);
    }
  }
}

TEST(FragmentFile, MalformedFilesNameTheSection) {
  auto p = write_tmp("bad1.efp", " $X\nTITLE\n COORDINATES (BOHR)\nA01O1 0.0 0.0\n STOP\n $END\n");
  try {
    read_fragment_file(p.string());
    FAIL() << "expected ParseError";
  } catch (const ParseError& e) {
    EXPECT_EQ(e.column(), "COORDINATES");
    EXPECT_EQ(e.line(), 4u);
  }
  auto q = write_tmp("bad2.efp",
                     " $X\nTITLE\n COORDINATES (BOHR)\nA01O1 0 0 0 16 8\n STOP\n MONOPOLES\nA02H 1 1\n STOP\n $END\n");
  EXPECT_THROW(read_fragment_file(q.string()), ParseError);  // label mismatch
  auto r = write_tmp("bad3.efp", " $X\nTITLE\n COORDINATES (BOHR)\nA01O1 0 0 0 16 8\n STOP\n FROBNICATE\n $END\n");
  EXPECT_THROW(read_fragment_file(r.string()), ParseError);  // unknown section
  auto s = write_tmp("bad4.efp", " $X\nTITLE\n COORDINATES (BOHR)\nA01O1 0 0 0 16 8\n STOP\n");
  EXPECT_THROW(read_fragment_file(s.string()), ParseError);  // no $END
  EXPECT_THROW(read_fragment_file("/nonexistent/x.efp"), IoError);
  auto n = write_tmp("bad5.efp", " $X\nTITLE\n COORDINATES (BOHR)\nA01O1 0 nan 0 16 8\n STOP\n $END\n");
  try {
    read_fragment_file(n.string());
    FAIL() << "expected ParseError";
  } catch (const ParseError& e) {
    EXPECT_EQ(e.column(), "COORDINATES");
    EXPECT_NE(std::string(e.what()).find("non-finite"), std::string::npos);
  }
}

TEST(Placement, EulerMatrixIsAProperRotationZXZ) {
  const double a = 0.3, b = 1.1, c = -2.0;
  Eigen::Matrix3d R = euler_to_matrix(a, b, c);
  EXPECT_NEAR((R.transpose() * R - Eigen::Matrix3d::Identity()).norm(), 0.0, 1e-14);
  EXPECT_NEAR(R.determinant(), 1.0, 1e-14);
  Eigen::Matrix3d ref = (Eigen::AngleAxisd(a, Eigen::Vector3d::UnitZ()) * Eigen::AngleAxisd(b, Eigen::Vector3d::UnitX()) *
                         Eigen::AngleAxisd(c, Eigen::Vector3d::UnitZ()))
                            .toRotationMatrix();
  EXPECT_NEAR((R - ref).norm(), 0.0, 1e-14);
}

TEST(Placement, RotatesTensorsConsistently) {
  REQUIRE_FRAGLIB();
  auto types = read_fragment_file((fraglib() / "nh3.efp").string());
  const FragmentType& t = types[0];
  Eigen::Matrix3d R = euler_to_matrix(0.4, 1.3, 2.2);
  Eigen::Vector3d c(1.0, -2.0, 0.5);
  Fragment f = place(t, c, R);
  for (std::size_t i = 0; i < t.atoms.size(); ++i)
    EXPECT_NEAR((f.atoms[i].r - (c + R * t.atoms[i].r)).norm(), 0.0, 1e-12);
  // Rotational invariants survive: |dipole|, polarisability trace, Buckingham quadrupole trace = 0.
  for (std::size_t i = 0; i < t.multipoles.size(); ++i) {
    EXPECT_NEAR(f.multipoles[i].dipole.norm(), t.multipoles[i].dipole.norm(), 1e-12);
    const auto& q = f.multipoles[i].quadrupole;
    EXPECT_NEAR(q[0] + q[1] + q[2], 0.0, 1e-10);
    const auto& o = f.multipoles[i].octupole;  // traceless in every index pair after the Buckingham step
    EXPECT_NEAR(o[0] + o[5] + o[7], 0.0, 1e-10);
    EXPECT_NEAR(o[3] + o[1] + o[8], 0.0, 1e-10);
    EXPECT_NEAR(o[4] + o[6] + o[2], 0.0, 1e-10);
  }
  for (std::size_t i = 0; i < t.polarizable.size(); ++i)
    EXPECT_NEAR(f.polarizable[i].alpha.trace(), t.polarizable[i].alpha.trace(), 1e-12);
  EXPECT_THROW(place(t, c, 2.0 * R), InvalidArgument);
}

TEST(Placement, ByPointsReproducesAnXyzabcPlacement) {
  REQUIRE_FRAGLIB();
  auto types = read_fragment_file((fraglib() / "ch3oh.efp").string());
  const FragmentType& t = types[0];
  Eigen::Matrix3d R = euler_to_matrix(-0.7, 0.9, 1.9);
  Eigen::Vector3d c(3.0, 1.0, -4.0);
  Fragment a = place(t, c, R);
  Fragment b = place_by_points(t, {a.multipoles[0].r, a.multipoles[1].r, a.multipoles[2].r});
  EXPECT_NEAR((a.com - b.com).norm(), 0.0, 1e-10);
  EXPECT_NEAR((a.R - b.R).norm(), 0.0, 1e-10);
}
