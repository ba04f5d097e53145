#include "field.hpp"

#include <cmath>

namespace tsunagu::fragmd::detail {

namespace {

// Component indices of the 6- and 10-element moment arrays (fragment.hpp order).
enum { XX = 0, YY, ZZ, XY, XZ, YZ };
enum { XXX = 0, YYY, ZZZ, XXY, XXZ, XYY, YYZ, XZZ, YZZ, XYZ };

// V_a = Σ_bc Ω_abc r_b r_c; then Σ_abc Ω_abc r_a r_b r_c = r·V and ∇(r·V) = 3V.
Eigen::Vector3d octupole_contract2(const Octupole& o, const Eigen::Vector3d& r) {
  const double x = r.x(), y = r.y(), z = r.z();
  return {o[XXX] * x * x + o[XYY] * y * y + o[XZZ] * z * z + 2.0 * (o[XXY] * x * y + o[XXZ] * x * z + o[XYZ] * y * z),
          o[XXY] * x * x + o[YYY] * y * y + o[YZZ] * z * z + 2.0 * (o[XYY] * x * y + o[XYZ] * x * z + o[YYZ] * y * z),
          o[XXZ] * x * x + o[YYZ] * y * y + o[ZZZ] * z * z + 2.0 * (o[XYZ] * x * y + o[XZZ] * x * z + o[YZZ] * y * z)};
}

}  // namespace

Eigen::Matrix3d quadrupole_matrix(const Quadrupole& q) {
  Eigen::Matrix3d m;
  m << q[XX], q[XY], q[XZ],  //
      q[XY], q[YY], q[YZ],   //
      q[XZ], q[YZ], q[ZZ];
  return m;
}

double charge_potential(double q, const Eigen::Vector3d& r) { return q / r.norm(); }

Eigen::Vector3d charge_field(double q, const Eigen::Vector3d& r) {
  const double r2 = r.squaredNorm();
  return q / (r2 * std::sqrt(r2)) * r;
}

double dipole_potential(const Eigen::Vector3d& mu, const Eigen::Vector3d& r) {
  const double r2 = r.squaredNorm();
  return mu.dot(r) / (r2 * std::sqrt(r2));
}

Eigen::Vector3d dipole_field(const Eigen::Vector3d& mu, const Eigen::Vector3d& r) {
  const double r2 = r.squaredNorm();
  const double ir3 = 1.0 / (r2 * std::sqrt(r2));
  return (3.0 * mu.dot(r) / r2 * r - mu) * ir3;
}

double quadrupole_potential(const Quadrupole& theta, const Eigen::Vector3d& r) {
  const double r2 = r.squaredNorm();
  const double ir5 = 1.0 / (r2 * r2 * std::sqrt(r2));
  return r.dot(quadrupole_matrix(theta) * r) * ir5;
}

Eigen::Vector3d quadrupole_field(const Quadrupole& theta, const Eigen::Vector3d& r) {
  const double r2 = r.squaredNorm();
  const double ir5 = 1.0 / (r2 * r2 * std::sqrt(r2));
  const Eigen::Vector3d qr = quadrupole_matrix(theta) * r;
  return (5.0 * r.dot(qr) / r2 * r - 2.0 * qr) * ir5;
}

double octupole_potential(const Octupole& omega, const Eigen::Vector3d& r) {
  const double r2 = r.squaredNorm();
  const double ir7 = 1.0 / (r2 * r2 * r2 * std::sqrt(r2));
  return r.dot(octupole_contract2(omega, r)) * ir7;
}

Eigen::Vector3d octupole_field(const Octupole& omega, const Eigen::Vector3d& r) {
  const double r2 = r.squaredNorm();
  const double ir7 = 1.0 / (r2 * r2 * r2 * std::sqrt(r2));
  const Eigen::Vector3d v = octupole_contract2(omega, r);
  return (7.0 * r.dot(v) / r2 * r - 3.0 * v) * ir7;
}

Eigen::Matrix3d charge_field_gradient(double q, const Eigen::Vector3d& r) {
  const double r2 = r.squaredNorm();
  const double ir3 = 1.0 / (r2 * std::sqrt(r2));
  return q * ir3 * (Eigen::Matrix3d::Identity() - 3.0 / r2 * r * r.transpose());
}

Eigen::Matrix3d dipole_field_gradient(const Eigen::Vector3d& mu, const Eigen::Vector3d& r) {
  // ∂_a [3(μ·r) r_b / r⁵ − μ_b / r³]
  const double r2 = r.squaredNorm();
  const double ir5 = 1.0 / (r2 * r2 * std::sqrt(r2));
  const double mr = mu.dot(r);
  const Eigen::Matrix3d sym = mu * r.transpose() + r * mu.transpose();
  return 3.0 * ir5 * (sym + mr * Eigen::Matrix3d::Identity() - 5.0 * mr / r2 * r * r.transpose());
}

Eigen::Matrix3d quadrupole_field_gradient(const Quadrupole& theta, const Eigen::Vector3d& r) {
  // ∂_a [5 T r_b / r⁷ − 2 v_b / r⁵], v = Θr, T = r·v
  const double r2 = r.squaredNorm();
  const double ir5 = 1.0 / (r2 * r2 * std::sqrt(r2));
  const Eigen::Matrix3d q = quadrupole_matrix(theta);
  const Eigen::Vector3d v = q * r;
  const double t = r.dot(v);
  return ir5 * (10.0 / r2 * (v * r.transpose() + r * v.transpose()) + 5.0 * t / r2 * Eigen::Matrix3d::Identity() -
                35.0 * t / (r2 * r2) * r * r.transpose() - 2.0 * q);
}

}  // namespace tsunagu::fragmd::detail
