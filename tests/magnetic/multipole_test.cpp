// Real solid harmonics and multipole patterns against closed forms (e.g. Y_20 = sqrt(5/16π)(3z² - r²), the tables
// in any quantum-mechanics text), harmonicity (∇² r^l Y_lm = 0) and orthonormality on the sphere by quadrature.
#include "tsunagu/magnetic/multipole.hpp"

#include <cmath>
#include <numbers>

#include <gtest/gtest.h>

#include "tsunagu/core/error.hpp"

namespace mg = tsunagu::magnetic;
using Eigen::Vector3d;

namespace {
constexpr double pi = std::numbers::pi;

// Gauss–Legendre nodes/weights on [-1, 1] by Newton on P_n (n = 24 integrates cos θ-polynomials of degree 47).
void gauss_legendre(int n, std::vector<double>& x, std::vector<double>& w) {
  x.resize(static_cast<std::size_t>(n));
  w.resize(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    double z = std::cos(pi * (i + 0.75) / (n + 0.5)), dp = 0;
    for (int it = 0; it < 100; ++it) {
      double p0 = 1, p1 = z;
      for (int k = 2; k <= n; ++k) {
        const double p2 = ((2 * k - 1) * z * p1 - (k - 1) * p0) / k;
        p0 = p1;
        p1 = p2;
      }
      dp = n * (z * p1 - p0) / (z * z - 1);
      const double dz = p1 / dp;
      z -= dz;
      if (std::abs(dz) < 1e-15) break;
    }
    x[static_cast<std::size_t>(i)] = z;
    w[static_cast<std::size_t>(i)] = 2 / ((1 - z * z) * dp * dp);
  }
}
}  // namespace

TEST(SolidHarmonics, MatchClosedFormsOfRanksOneToThree) {
  const Vector3d r(0.3, -0.7, 0.45);
  const double x = r.x(), y = r.y(), z = r.z(), r2 = r.squaredNorm();
  EXPECT_NEAR(mg::real_solid_harmonic(0, 0)(r), std::sqrt(1 / (4 * pi)), 1e-14);
  EXPECT_NEAR(mg::real_solid_harmonic(1, 0)(r), std::sqrt(3 / (4 * pi)) * z, 1e-14);
  EXPECT_NEAR(mg::real_solid_harmonic(1, 1)(r), std::sqrt(3 / (4 * pi)) * x, 1e-14);
  EXPECT_NEAR(mg::real_solid_harmonic(1, -1)(r), std::sqrt(3 / (4 * pi)) * y, 1e-14);
  EXPECT_NEAR(mg::real_solid_harmonic(2, 0)(r), std::sqrt(5 / (16 * pi)) * (3 * z * z - r2), 1e-14);
  EXPECT_NEAR(mg::real_solid_harmonic(2, 1)(r), std::sqrt(15 / (4 * pi)) * x * z, 1e-14);
  EXPECT_NEAR(mg::real_solid_harmonic(2, -1)(r), std::sqrt(15 / (4 * pi)) * y * z, 1e-14);
  EXPECT_NEAR(mg::real_solid_harmonic(2, 2)(r), std::sqrt(15 / (16 * pi)) * (x * x - y * y), 1e-14);
  EXPECT_NEAR(mg::real_solid_harmonic(2, -2)(r), std::sqrt(15 / (4 * pi)) * x * y, 1e-14);
  EXPECT_NEAR(mg::real_solid_harmonic(3, 0)(r), std::sqrt(7 / (16 * pi)) * z * (5 * z * z - 3 * r2), 1e-14);
  EXPECT_NEAR(mg::real_solid_harmonic(3, 3)(r), std::sqrt(35 / (32 * pi)) * x * (x * x - 3 * y * y), 1e-14);
  EXPECT_NEAR(mg::real_solid_harmonic(3, -2)(r), std::sqrt(105 / (4 * pi)) * x * y * z, 1e-14);
}

TEST(SolidHarmonics, AreHarmonicUpToRankTwenty) {
  for (int l = 2; l <= 20; ++l)
    for (int m = -l; m <= l; ++m) {
      const auto lap = mg::real_solid_harmonic(l, m).laplacian();
      const Vector3d r(0.61, -0.33, 0.72);
      EXPECT_NEAR(lap(r), 0.0, 1e-9 * std::pow(l, 3)) << "l=" << l << " m=" << m;
    }
}

TEST(SolidHarmonics, AreOrthonormalOnTheUnitSphere) {
  std::vector<double> ct, w;
  gauss_legendre(24, ct, w);
  const int nphi = 48, lmax = 8;
  for (int l1 = 0; l1 <= lmax; ++l1)
    for (int m1 = -l1; m1 <= l1; ++m1)
      for (int l2 = l1; l2 <= lmax; ++l2)
        for (int m2 = -l2; m2 <= l2; ++m2) {
          if (l2 - l1 > 2) continue;  // enough pairs to catch a wrong factor without a slow test
          const auto a = mg::real_solid_harmonic(l1, m1), b = mg::real_solid_harmonic(l2, m2);
          double s = 0;
          for (std::size_t i = 0; i < ct.size(); ++i) {
            const double st = std::sqrt(1 - ct[i] * ct[i]);
            for (int k = 0; k < nphi; ++k) {
              const double phi = 2 * pi * k / nphi;
              const Vector3d r(st * std::cos(phi), st * std::sin(phi), ct[i]);
              s += w[i] * (2 * pi / nphi) * a(r) * b(r);
            }
          }
          EXPECT_NEAR(s, (l1 == l2 && m1 == m2) ? 1.0 : 0.0, 1e-11) << l1 << "," << m1 << " / " << l2 << "," << m2;
        }
}

TEST(MultipolePattern, DipolesAreUniformAndToroidalDipolesCircular) {
  Eigen::MatrixXd pts(2, 3);
  pts << 0.5, 0.0, 0.0, 0.0, 0.5, 0.0;
  const double c = std::sqrt(3 / (4 * pi));
  const Eigen::MatrixXd mx = mg::multipole_pattern(mg::MultipoleType::Magnetic, 1, 1, pts);
  EXPECT_NEAR((mx.row(0) - Eigen::RowVector3d(c, 0, 0)).norm(), 0, 1e-14);
  EXPECT_NEAR((mx.row(1) - Eigen::RowVector3d(c, 0, 0)).norm(), 0, 1e-14);
  // T_1z: r × ∇z = r × ẑ: at +x it points along -y, at +y along +x (a vortex about z).
  const Eigen::MatrixXd tz = mg::multipole_pattern(mg::MultipoleType::Toroidal, 1, 0, pts);
  EXPECT_NEAR((tz.row(0) - Eigen::RowVector3d(0, -0.5 * c, 0)).norm(), 0, 1e-14);
  EXPECT_NEAR((tz.row(1) - Eigen::RowVector3d(0.5 * c, 0, 0)).norm(), 0, 1e-14);
  EXPECT_EQ(mg::multipole_name(mg::MultipoleType::Toroidal, 2), "T2");
}

TEST(MultipolePattern, GradientMatchesFiniteDifferences) {
  const Vector3d r(0.2, 0.5, -0.4);
  for (int l = 1; l <= 8; ++l)
    for (int m = -l; m <= l; ++m) {
      const auto f = mg::real_solid_harmonic(l, m);
      Eigen::MatrixXd p(1, 3);
      p.row(0) = r.transpose();
      const Eigen::MatrixXd g = mg::multipole_pattern(mg::MultipoleType::Magnetic, l, m, p);
      for (int k = 0; k < 3; ++k) {
        Vector3d h = Vector3d::Zero();
        h(k) = 1e-6;
        EXPECT_NEAR(g(0, k), (f(r + h) - f(r - h)) / 2e-6, 1e-7) << l << "," << m << "," << k;
      }
    }
}

TEST(MultipolePattern, RejectsBadArguments) {
  EXPECT_THROW(mg::real_solid_harmonic(2, 3), tsunagu::InvalidArgument);
  EXPECT_THROW(mg::multipole_pattern(mg::MultipoleType::Magnetic, 0, 0, Eigen::MatrixXd(1, 3)),
               tsunagu::InvalidArgument);
  EXPECT_THROW(mg::multipole_pattern(mg::MultipoleType::Magnetic, 1, 0, Eigen::MatrixXd(1, 2)),
               tsunagu::InvalidArgument);
  EXPECT_EQ(mg::component_order(2), (std::vector<int>{1, -1, 0, 2, -2}));
}
