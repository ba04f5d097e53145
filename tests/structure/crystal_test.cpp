#include "tsunagu/structure/crystal.hpp"

#include <cmath>
#include <numbers>

#include <Eigen/LU>
#include <gtest/gtest.h>

#include "tsunagu/core/error.hpp"

using namespace tsunagu;
using namespace tsunagu::structure;

namespace {

std::string invalid_of(const Crystal& c, double min_distance = 0.5) {
  try {
    c.validate(min_distance);
  } catch (const InvalidArgument& e) {
    return e.what();
  }
  return "";
}

// Rock salt, conventional cell: Na at 4a, Cl at 4b (International Tables), a = 5.64 A.
Crystal rock_salt() {
  Crystal c;
  c.source = "nacl";
  c.lattice = 5.64 * Eigen::Matrix3d::Identity();
  c.frac.resize(8, 3);
  c.frac << 0, 0, 0, 0, .5, .5, .5, 0, .5, .5, .5, 0,  //
      .5, .5, .5, .5, 0, 0, 0, .5, 0, 0, 0, .5;
  c.numbers = {11, 11, 11, 11, 17, 17, 17, 17};
  c.labels = {"Na1", "Na1", "Na1", "Na1", "Cl1", "Cl1", "Cl1", "Cl1"};
  return c;
}

}  // namespace

TEST(Elements, symbols_and_numbers_round_trip_for_all_118) {
  for (int z = 1; z <= 118; ++z) EXPECT_EQ(atomic_number(element_symbol(z)), z) << z;
  EXPECT_EQ(element_symbol(1), "H");
  EXPECT_EQ(element_symbol(26), "Fe");
  EXPECT_EQ(element_symbol(118), "Og");
  EXPECT_THROW(element_symbol(0), InvalidArgument);
  EXPECT_THROW(element_symbol(119), InvalidArgument);
}

TEST(Elements, lookup_is_case_insensitive_and_strips_charges_and_site_numbers) {
  EXPECT_EQ(atomic_number("fe"), 26);
  EXPECT_EQ(atomic_number("FE"), 26);
  EXPECT_EQ(atomic_number("Mn3+"), 25);
  EXPECT_EQ(atomic_number("O2-"), 8);
  EXPECT_EQ(atomic_number("Fe+2"), 26);
  EXPECT_EQ(atomic_number("Na+"), 11);
  EXPECT_EQ(atomic_number("Mn1"), 25);
  EXPECT_EQ(atomic_number("H1A"), 1);
  EXPECT_EQ(atomic_number("Co"), 27);  // two letters win over C + o
  EXPECT_EQ(atomic_number(" N "), 7);
  EXPECT_FALSE(find_atomic_number("Xx").has_value());
  EXPECT_FALSE(find_atomic_number("Oxx").has_value());
  EXPECT_FALSE(find_atomic_number("").has_value());
  EXPECT_FALSE(find_atomic_number("12").has_value());
  try {
    atomic_number("Qq");
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("unknown element 'Qq'"), std::string::npos);
  }
}

TEST(Lattice, from_parameters_matches_analytic_hexagonal_cell) {
  const Eigen::Matrix3d L = lattice_from_parameters(3.0, 3.0, 5.0, 90, 90, 120);
  EXPECT_NEAR(L(0, 0), 3.0, 1e-12);
  EXPECT_NEAR(L(1, 0), -1.5, 1e-12);
  EXPECT_NEAR(L(1, 1), 3.0 * std::sqrt(3.0) / 2, 1e-12);
  EXPECT_EQ(L(2, 0), 0.0);  // exact zeros for right angles
  EXPECT_NEAR(L(2, 2), 5.0, 1e-12);
  Crystal c;
  c.lattice = L;
  EXPECT_NEAR(c.volume(), 9.0 * std::sqrt(3.0) / 2 * 5.0, 1e-10);  // a^2 sin(120) c
  const auto p = c.parameters();
  EXPECT_NEAR(p(3), 90, 1e-10);
  EXPECT_NEAR(p(4), 90, 1e-10);
  EXPECT_NEAR(p(5), 120, 1e-10);
}

TEST(Lattice, triclinic_parameters_round_trip) {
  const Eigen::Matrix3d L = lattice_from_parameters(4.1, 5.2, 6.3, 75, 85, 95);
  Crystal c;
  c.lattice = L;
  const auto p = c.parameters();
  const double want[6] = {4.1, 5.2, 6.3, 75, 85, 95};
  for (int k = 0; k < 6; ++k) EXPECT_NEAR(p(k), want[k], 1e-10);
  EXPECT_THROW(lattice_from_parameters(1, 1, 1, 10, 10, 170), InvalidArgument);  // angles that do not close
  EXPECT_THROW(lattice_from_parameters(-1, 1, 1, 90, 90, 90), InvalidArgument);
}

TEST(Crystal, reciprocal_lattice_is_dual_basis) {
  Crystal c;
  c.lattice = lattice_from_parameters(4.1, 5.2, 6.3, 75, 85, 95);
  const Eigen::Matrix3d B = c.reciprocal_lattice();
  EXPECT_TRUE((c.lattice * B.transpose()).isApprox(Eigen::Matrix3d::Identity(), 1e-12));
}

TEST(Crystal, cartesian_volume_formula_and_selection_of_rock_salt) {
  const Crystal c = rock_salt();
  c.validate();
  EXPECT_NEAR(c.volume(), 5.64 * 5.64 * 5.64, 1e-9);
  EXPECT_NEAR(c.cartesian()(1, 1), 2.82, 1e-12);
  EXPECT_EQ(c.formula(), "Na4Cl4");
  EXPECT_EQ(c.select_element("cl-").size(), 4u);
  EXPECT_EQ(c.select_element("K").size(), 0u);
  EXPECT_EQ(c.select_label("Na1").size(), 4u);
  EXPECT_EQ(c.select_label("Na", true).size(), 4u);
  EXPECT_EQ(c.select_label("Na").size(), 0u);
  // Na-Cl nearest neighbour a/2 (Na 4a (0,0,0) to Cl 4b (1/2,0,0)), Na-Na a/sqrt(2).
  EXPECT_NEAR(c.distance(0, 5), 2.82, 1e-12);
  EXPECT_NEAR(c.distance(0, 1), 5.64 / std::sqrt(2.0), 1e-12);
}

TEST(Crystal, periodic_distance_wraps_across_the_cell_boundary) {
  Crystal c;
  c.lattice = 4.0 * Eigen::Matrix3d::Identity();
  c.frac.resize(2, 3);
  c.frac << 0.01, 0, 0, 0.99, 0, 0;
  c.numbers = {26, 26};
  c.labels = {"Fe1", "Fe2"};
  EXPECT_NEAR(c.distance(0, 1), 0.08, 1e-12);
  const std::string m = invalid_of(c);
  EXPECT_NE(m.find("overlapping atoms"), std::string::npos) << m;
  EXPECT_NE(m.find("'Fe1'"), std::string::npos) << m;
  EXPECT_NE(m.find("'Fe2'"), std::string::npos) << m;
  EXPECT_EQ(invalid_of(c, 0.05), "");  // configurable
  c.periodic = false;
  EXPECT_NEAR(c.distance(0, 1), 3.92, 1e-12);
}

TEST(Crystal, substitutional_disorder_may_share_a_site) {
  Crystal c;
  c.lattice = 3.0 * Eigen::Matrix3d::Identity();
  c.frac = Eigen::MatrixXd::Zero(2, 3);
  c.numbers = {26, 27};
  c.labels = {"Fe", "Co"};
  c.occupancies = Eigen::Vector2d(0.5, 0.5);
  EXPECT_EQ(invalid_of(c), "");
  EXPECT_EQ(c.formula(), "Fe0.5Co0.5");
  c.occupancies = Eigen::Vector2d(0.7, 0.5);
  EXPECT_NE(invalid_of(c).find("overlapping"), std::string::npos);
}

TEST(Crystal, validate_names_the_field) {
  Crystal c = rock_salt();
  c.lattice.row(2) = c.lattice.row(0);
  EXPECT_NE(invalid_of(c).find("singular"), std::string::npos);
  c = rock_salt();
  c.lattice.row(2) *= -1;  // left-handed is allowed
  EXPECT_EQ(invalid_of(c), "");
  c = rock_salt();
  c.frac(3, 1) = std::nan("");
  EXPECT_NE(invalid_of(c).find("site 4 'Na1': non-finite"), std::string::npos) << invalid_of(c);
  c = rock_salt();
  c.labels.pop_back();
  EXPECT_NE(invalid_of(c).find("7 labels for 8 sites"), std::string::npos);
  c = rock_salt();
  c.numbers[0] = 0;
  EXPECT_NE(invalid_of(c).find("atomic number 0"), std::string::npos);
  c = rock_salt();
  c.occupancies = Eigen::VectorXd::Constant(8, 1.5);
  EXPECT_NE(invalid_of(c).find("occupancy 1.5"), std::string::npos);
}

TEST(Crystal, wrap_fractional_maps_into_unit_interval) {
  Eigen::MatrixXd f(1, 3);
  f << -0.25, 1.0, 1.0 - 1e-12;
  const auto w = wrap_fractional(f);
  EXPECT_DOUBLE_EQ(w(0, 0), 0.75);
  EXPECT_DOUBLE_EQ(w(0, 1), 0.0);
  EXPECT_DOUBLE_EQ(w(0, 2), 0.0);
}
