#include "tsunagu/structure/symmetry.hpp"

#include <cmath>
#include <string>

#include <Eigen/LU>
#include <gtest/gtest.h>

#include "tsunagu/core/error.hpp"
#include "tsunagu/structure/cif.hpp"
#include "tsunagu/structure/poscar.hpp"

using namespace tsunagu;
using namespace tsunagu::structure;

namespace {

const std::string kData = std::string(TSUNAGU_SOURCE_DIR) + "/tests/structure/data/";

std::size_t index_of(const Crystal& c, double x, double y, double z) {
  for (Eigen::Index i = 0; i < c.frac.rows(); ++i) {
    Eigen::RowVector3d d = c.frac.row(i) - Eigen::RowVector3d(x, y, z);
    for (int k = 0; k < 3; ++k) d(k) -= std::round(d(k));
    if (d.norm() < 1e-6) return static_cast<std::size_t>(i);
  }
  ADD_FAILURE() << "no site at " << x << " " << y << " " << z;
  return 0;
}

// Mn3GaN read from the CIF (site order is whatever the expansion gives); the moments are assigned by position so
// that the test does not depend on that order: Mn at (0,1/2,1/2), (1/2,0,1/2), (1/2,1/2,0) get m1, m2, m3.
struct Magnetic {
  Crystal c;
  Eigen::MatrixXd m;
};
Magnetic mn3gan(const Eigen::Vector3d& m1, const Eigen::Vector3d& m2, const Eigen::Vector3d& m3) {
  Magnetic out{read_cif(kData + "Mn3GaN_Pm-3m_from_HM_name.cif"), {}};
  out.m = Eigen::MatrixXd::Zero(5, 3);
  out.m.row(static_cast<Eigen::Index>(index_of(out.c, 0, 0.5, 0.5))) = m1.transpose();
  out.m.row(static_cast<Eigen::Index>(index_of(out.c, 0.5, 0, 0.5))) = m2.transpose();
  out.m.row(static_cast<Eigen::Index>(index_of(out.c, 0.5, 0.5, 0))) = m3.transpose();
  return out;
}

}  // namespace

TEST(Symmetry, rutile_is_136_with_wyckoff_a_and_f) {
  const Crystal c = read_cif(kData + "rutile_TiO2_P42mnm_explicit_ops.cif");
  const SymmetryDataset d = analyze(c);
  EXPECT_EQ(d.number, 136);
  EXPECT_EQ(d.international, "P4_2/mnm");
  EXPECT_EQ(d.point_group, "4/mmm");
  EXPECT_EQ(d.operations.size(), 16u);
  for (std::size_t i = 0; i < c.n_sites(); ++i) EXPECT_EQ(d.wyckoffs[i], c.numbers[i] == 22 ? 'a' : 'f') << i;
  const auto orbits = d.orbits();
  ASSERT_EQ(orbits.size(), 2u);
  EXPECT_EQ(orbits[0].size() + orbits[1].size(), 6u);
}

TEST(Symmetry, mn3gan_is_221_with_one_mn_orbit_of_three) {
  const Crystal c = read_cif(kData + "Mn3GaN_Pm-3m_from_HM_name.cif");
  const SymmetryDataset d = analyze(c);
  EXPECT_EQ(d.number, 221);
  EXPECT_EQ(d.international, "Pm-3m");
  EXPECT_EQ(d.point_group, "m-3m");
  EXPECT_EQ(d.operations.size(), 48u);
  const auto mn = c.select_element("Mn");
  ASSERT_EQ(mn.size(), 3u);
  for (auto i : mn) {
    EXPECT_EQ(d.wyckoffs[i], 'c');
    EXPECT_EQ(d.equivalent_atoms[i], d.equivalent_atoms[mn[0]]);
  }
  EXPECT_EQ(d.wyckoffs[c.select_element("Ga")[0]], 'a');
  EXPECT_EQ(d.wyckoffs[c.select_element("N")[0]], 'b');
  EXPECT_EQ(d.orbits().size(), 3u);
}

TEST(Symmetry, nacl_conventional_and_primitive_cells) {
  const Crystal c = read_cif(kData + "NaCl_Fm-3m_from_IT_number.cif");
  const SymmetryDataset d = analyze(c);
  EXPECT_EQ(d.number, 225);
  EXPECT_EQ(d.operations.size(), 192u);  // 48 point operations x 4 centring translations of the F cell
  EXPECT_EQ(d.standardized.n_sites(), 8u);
  EXPECT_EQ(d.primitive.n_sites(), 2u);
  EXPECT_NEAR(d.primitive.volume(), c.volume() / 4, 1e-8);
  EXPECT_NEAR(d.standardized.lattice.row(0).norm(), 5.64, 1e-8);  // rows are a, b, c after the transpose
}

TEST(Symmetry, wurtzite_is_186_and_standardized_c_is_the_long_axis) {
  const Crystal c = read_cif(kData + "ZnO_P63mc_two_blocks.cif");
  const SymmetryDataset d = analyze(c);
  EXPECT_EQ(d.number, 186);
  EXPECT_EQ(d.point_group, "6mm");
  // spglib hands back column vectors; after our transpose row 2 must be c = 5.2066 A.
  EXPECT_NEAR(d.standardized.lattice.row(2).norm(), 5.2066, 1e-6);
  EXPECT_NEAR(d.standardized.lattice.row(0).norm(), 3.2498, 1e-6);
}

TEST(Symmetry, cartesian_rotations_are_orthogonal_and_map_atoms_onto_atoms) {
  // Invariance check of the convention R_cart = L^T R L^-T on a hexagonal cell, where it differs from R.
  const Crystal c = read_cif(kData + "ZnO_P63mc_two_blocks.cif");
  const SymmetryDataset d = analyze(c);
  const Eigen::MatrixXd cart = c.cartesian();
  const Eigen::Matrix3d Linv = c.lattice.inverse();
  for (const auto& op : d.operations) {
    const Eigen::Matrix3d R = cartesian_rotation(op.rotation, c.lattice);
    EXPECT_TRUE((R * R.transpose()).isApprox(Eigen::Matrix3d::Identity(), 1e-9));
    for (Eigen::Index i = 0; i < cart.rows(); ++i) {
      const Eigen::Vector3d r = R * cart.row(i).transpose() + c.lattice.transpose() * op.translation;
      const Eigen::RowVector3d x = r.transpose() * Linv;  // back to fractional
      bool found = false;
      for (Eigen::Index j = 0; j < cart.rows() && !found; ++j) {
        Eigen::RowVector3d dd = x - c.frac.row(j);
        for (int k = 0; k < 3; ++k) dd(k) -= std::round(dd(k));
        found = c.numbers[static_cast<std::size_t>(j)] == c.numbers[static_cast<std::size_t>(i)] &&
                (dd * c.lattice).norm() < 1e-3;
      }
      EXPECT_TRUE(found);
    }
  }
}

TEST(Symmetry, database_lookups_by_number_symbol_and_hall) {
  const int h = hall_number_from_symbol("P 42/m n m");
  ASSERT_GT(h, 0);
  EXPECT_EQ(space_group_operations(h).size(), 16u);
  EXPECT_EQ(hall_number_from_it_number(136), h);
  EXPECT_EQ(hall_number_from_symbol("p4_2/mnm"), h);
  EXPECT_EQ(hall_number_from_symbol("P 42/m 21/n 2/m"), h);  // full symbol
  EXPECT_EQ(hall_number_from_hall_symbol("-P 4n 2n"), h);
  // Two origin choices of Fd-3m (227) and both axes of R-3m (166).
  const int fd1 = hall_number_from_symbol("F d -3 m"), fd2 = hall_number_from_symbol("Fd-3m:2");
  EXPECT_NE(fd1, fd2);
  EXPECT_EQ(hall_number_from_symbol("F d -3 m", "2"), fd2);
  EXPECT_EQ(space_group_operations(hall_number_from_symbol("R-3m")).size(), 36u);    // hexagonal axes: 12 x 3
  EXPECT_EQ(space_group_operations(hall_number_from_symbol("R-3m:R")).size(), 12u);  // rhombohedral axes
  EXPECT_EQ(hall_number_from_symbol("P 7"), 0);
  EXPECT_EQ(hall_number_from_it_number(231), 0);
  EXPECT_THROW(space_group_operations(0), InvalidArgument);
}

TEST(Symmetry, refuses_molecules_partial_occupancy_and_bad_tolerances) {
  Crystal c = read_cif(kData + "Mn3GaN_Pm-3m_from_HM_name.cif");
  EXPECT_THROW(analyze(c, 0.0), InvalidArgument);
  EXPECT_THROW(analyze(c, 1e-3, -2.0), InvalidArgument);
  Crystal m = c;
  m.periodic = false;
  EXPECT_THROW(analyze(m), InvalidArgument);
  Crystal p = c;
  p.occupancies = Eigen::VectorXd::Ones(5);
  p.occupancies(0) = 0.5;
  EXPECT_THROW(analyze(p), InvalidArgument);
}

TEST(Symmetry, spglib_failure_becomes_numerical_error_with_its_message) {
  // Two atoms 0.001 A apart (overlap check off): with symprec 0.1 A spglib refuses the cell.
  Crystal c;
  c.lattice = 4.0 * Eigen::Matrix3d::Identity();
  c.frac.resize(2, 3);
  c.frac << 0, 0, 0, 0.00025, 0, 0;
  c.numbers = {26, 26};
  c.labels = {"Fe1", "Fe2"};
  c.source = "close.vasp";
  try {
    analyze(c, 0.1);
    FAIL() << "spglib accepted overlapping atoms";
  } catch (const NumericalError& e) {
    EXPECT_NE(std::string(e.what()).find("close.vasp: symmetry: spglib failed: "), std::string::npos) << e.what();
  }
}

// Published magnetic space groups of the Mn3AN antiperovskites (Suzuki et al., PRB 95, 094406 (2017)).
TEST(MagneticSymmetry, mn3gan_gamma4g_is_166_101_and_allows_ferromagnetism) {
  const auto s = mn3gan({2, -1, -1}, {-1, 2, -1}, {-1, -1, 2});
  const MagneticSymmetry m = analyze_magnetic(s.c, s.m);
  EXPECT_EQ(m.bns_number, "166.101");
  EXPECT_EQ(m.uni_number, 1331);
  EXPECT_EQ(m.type, 3);
  EXPECT_TRUE(m.admits_ferromagnetism);
  // The allowed net moment is along [111] (the 3-fold axis).
  ASSERT_EQ(m.ferromagnetic_basis.cols(), 1);
  EXPECT_NEAR(std::abs(m.ferromagnetic_basis.col(0).dot(Eigen::Vector3d(1, 1, 1).normalized())), 1.0, 1e-9);
  EXPECT_EQ(m.operations.size(), m.time_reversals.size());
}

TEST(MagneticSymmetry, mn3gan_gamma5g_is_166_97_without_ferromagnetism) {
  const auto s = mn3gan({0, 1, -1}, {-1, 0, 1}, {1, -1, 0});
  const MagneticSymmetry m = analyze_magnetic(s.c, s.m);
  EXPECT_EQ(m.bns_number, "166.97");
  EXPECT_EQ(m.uni_number, 1327);
  EXPECT_EQ(m.type, 1);
  EXPECT_FALSE(m.admits_ferromagnetism);
  EXPECT_EQ(m.ferromagnetic_basis.cols(), 0);
}

TEST(MagneticSymmetry, mn3gan_ferromagnet_along_z_is_123_345) {
  const auto s = mn3gan({0, 0, 1}, {0, 0, 1}, {0, 0, 1});
  const MagneticSymmetry m = analyze_magnetic(s.c, s.m);
  EXPECT_EQ(m.bns_number, "123.345");
  EXPECT_TRUE(m.admits_ferromagnetism);
  ASSERT_EQ(m.ferromagnetic_basis.cols(), 1);
  EXPECT_NEAR(std::abs(m.ferromagnetic_basis(2, 0)), 1.0, 1e-9);
}

TEST(MagneticSymmetry, moments_are_cartesian_in_a_hexagonal_cell) {
  // A ferromagnet's own moment must be a fixed vector of its magnetic point group. With the moment along Cartesian
  // y, which is not a lattice direction of the hexagonal cell, this holds only if spglib reads the moments as
  // Cartesian as we pass them.
  const Crystal c = read_cif(kData + "ZnO_P63mc_two_blocks.cif");
  Eigen::MatrixXd mom = Eigen::MatrixXd::Zero(4, 3);
  for (auto i : c.select_element("Zn")) mom(static_cast<Eigen::Index>(i), 1) = 1.0;
  const MagneticSymmetry m = analyze_magnetic(c, mom);
  ASSERT_TRUE(m.admits_ferromagnetism);
  const Eigen::Vector3d y(0, 1, 0);
  const Eigen::MatrixXd& B = m.ferromagnetic_basis;
  EXPECT_NEAR((B * (B.transpose() * y) - y).norm(), 0.0, 1e-9);
  for (std::size_t k = 0; k < m.operations.size(); ++k) {
    const Eigen::Matrix3d R = cartesian_rotation(m.operations[k].rotation, c.lattice);
    const Eigen::Vector3d my = (m.time_reversals[k] ? -1.0 : 1.0) * R.determinant() * R * y;
    EXPECT_NEAR((my - y).norm(), 0.0, 1e-9) << k;
  }
}

TEST(MagneticSymmetry, refuses_wrong_shapes) {
  const Crystal c = read_cif(kData + "Mn3GaN_Pm-3m_from_HM_name.cif");
  EXPECT_THROW(analyze_magnetic(c, Eigen::MatrixXd::Zero(4, 3)), InvalidArgument);
  Eigen::MatrixXd m = Eigen::MatrixXd::Zero(5, 3);
  m(0, 0) = std::nan("");
  EXPECT_THROW(analyze_magnetic(c, m), InvalidArgument);
  EXPECT_THROW(analyze_magnetic(c, Eigen::MatrixXd::Zero(5, 3), 1e-3, 0.0), InvalidArgument);
}
