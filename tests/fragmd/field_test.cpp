// Point-multipole fields and the switching function (src/fragmd/field.hpp, switching.hpp).
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "fragmd/field.hpp"
#include "fragmd/switching.hpp"

using namespace tsunagu::fragmd::detail;

namespace {

// −∇φ by central differences.
Eigen::Vector3d minus_numeric_gradient(const std::function<double(const Eigen::Vector3d&)>& phi,
                                       const Eigen::Vector3d& r, double h = 1e-5) {
  Eigen::Vector3d g;
  for (int k = 0; k < 3; ++k) {
    Eigen::Vector3d p = r, m = r;
    p[k] += h;
    m[k] -= h;
    g[k] = -(phi(p) - phi(m)) / (2.0 * h);
  }
  return g;
}

const Eigen::Vector3d kPoints[] = {{1.3, -0.7, 2.1}, {-2.4, 0.4, -0.9}, {0.2, 3.1, 0.05}};

void expect_field_is_minus_gradient(const std::function<double(const Eigen::Vector3d&)>& phi,
                                    const std::function<Eigen::Vector3d(const Eigen::Vector3d&)>& field) {
  for (const auto& r : kPoints) {
    const Eigen::Vector3d analytic = field(r), numeric = minus_numeric_gradient(phi, r);
    EXPECT_LT((analytic - numeric).norm(), 1e-7 * std::max(1.0, numeric.norm())) << "at " << r.transpose();
  }
}

}  // namespace

TEST(Field, ChargeIsMinusGradientOfPotential) {
  expect_field_is_minus_gradient([](const Eigen::Vector3d& r) { return charge_potential(-0.7, r); },
                                 [](const Eigen::Vector3d& r) { return charge_field(-0.7, r); });
  // Coulomb's law itself: E = q r̂ / r².
  const Eigen::Vector3d r(0.0, 0.0, 2.0);
  EXPECT_NEAR(charge_field(1.0, r).z(), 0.25, 1e-15);
}

TEST(Field, DipoleIsMinusGradientOfPotential) {
  const Eigen::Vector3d mu(0.3, -1.1, 0.6);
  expect_field_is_minus_gradient([&](const Eigen::Vector3d& r) { return dipole_potential(mu, r); },
                                 [&](const Eigen::Vector3d& r) { return dipole_field(mu, r); });
  // On the axis of a z dipole: E = 2μ/r³.
  EXPECT_NEAR(dipole_field({0, 0, 1}, {0, 0, 2}).z(), 2.0 / 8.0, 1e-15);
}

TEST(Field, QuadrupoleIsMinusGradientOfPotential) {
  // Traceless like the Buckingham form, with all off-diagonal components set.
  const Quadrupole q = {0.8, -0.3, -0.5, 0.21, -0.4, 0.13};
  expect_field_is_minus_gradient([&](const Eigen::Vector3d& r) { return quadrupole_potential(q, r); },
                                 [&](const Eigen::Vector3d& r) { return quadrupole_field(q, r); });
}

TEST(Field, OctupoleIsMinusGradientOfPotential) {
  const Octupole o = {0.5, -0.2, 0.3, 0.11, -0.07, 0.19, -0.23, 0.05, 0.14, -0.31};
  expect_field_is_minus_gradient([&](const Eigen::Vector3d& r) { return octupole_potential(o, r); },
                                 [&](const Eigen::Vector3d& r) { return octupole_field(o, r); });
}

TEST(Field, OctupolePotentialCountsEveryPermutation) {
  // Only Ω_xyz set: Σ_abc Ω_abc x_a x_b x_c has six equal terms, 6 Ω_xyz x y z.
  Octupole o{};
  o[9] = 1.0;
  const Eigen::Vector3d r(1.0, 2.0, 3.0);
  EXPECT_NEAR(octupole_potential(o, r), 6.0 * 6.0 / std::pow(r.norm(), 7), 1e-15);
}

TEST(Field, FieldGradientsMatchFiniteDifferencesOfTheField) {
  const Eigen::Vector3d mu(0.3, -1.1, 0.6);
  const Quadrupole q = {0.8, -0.3, -0.5, 0.21, -0.4, 0.13};
  const std::function<Eigen::Vector3d(const Eigen::Vector3d&)> fields[] = {
      [](const Eigen::Vector3d& r) { return charge_field(-0.7, r); },
      [&](const Eigen::Vector3d& r) { return dipole_field(mu, r); },
      [&](const Eigen::Vector3d& r) { return quadrupole_field(q, r); }};
  const std::function<Eigen::Matrix3d(const Eigen::Vector3d&)> gradients[] = {
      [](const Eigen::Vector3d& r) { return charge_field_gradient(-0.7, r); },
      [&](const Eigen::Vector3d& r) { return dipole_field_gradient(mu, r); },
      [&](const Eigen::Vector3d& r) { return quadrupole_field_gradient(q, r); }};
  for (int k = 0; k < 3; ++k)
    for (const auto& r : kPoints) {
      Eigen::Matrix3d numeric;
      const double h = 1e-5;
      for (int a = 0; a < 3; ++a) {
        Eigen::Vector3d p = r, m = r;
        p[a] += h;
        m[a] -= h;
        numeric.row(a) = ((fields[k](p) - fields[k](m)) / (2.0 * h)).transpose();
      }
      const Eigen::Matrix3d analytic = gradients[k](r);
      EXPECT_LT((analytic - numeric).norm(), 1e-7 * std::max(1.0, numeric.norm())) << "rank " << k;
      EXPECT_LT((analytic - analytic.transpose()).norm(), 1e-14) << "rank " << k;
    }
}

TEST(Switching, ValuesAndDerivative) {
  const double rc = 11.3;
  EXPECT_EQ(switching(0.5 * rc, rc), 1.0);
  EXPECT_EQ(switching(0.8 * rc - 1e-9, rc), 1.0);
  EXPECT_EQ(switching(rc + 1e-9, rc), 0.0);
  EXPECT_NEAR(switching(0.8 * rc, rc), 1.0, 1e-15);
  EXPECT_NEAR(switching(rc, rc), 0.0, 1e-14);
  for (double x : {0.81, 0.85, 0.9, 0.97}) {
    const double r = x * rc, h = 1e-6;
    const double numeric = (switching(r + h, rc) - switching(r - h, rc)) / (2.0 * h);
    EXPECT_NEAR(switching_dr_over_r(r, rc) * r, numeric, 1e-8) << "r = " << r;
    EXPECT_GT(switching(r, rc), 0.0);
    EXPECT_LT(switching(r, rc), 1.0);
  }
  EXPECT_EQ(switching_dr_over_r(0.5 * rc, rc), 0.0);
  EXPECT_EQ(switching_dr_over_r(1.5 * rc, rc), 0.0);
}
