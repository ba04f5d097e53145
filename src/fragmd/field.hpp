#pragma once
/// Electrostatic potential and field of point multipoles (private to fragmd). Atomic units: positions in bohr,
/// potential in hartree/e, field in hartree/(e·bohr).
///
/// Moments are in the Buckingham-corrected form a placed Fragment carries (fragment.hpp): quadrupole Θ in order
/// xx yy zz xy xz yz, octupole Ω in order xxx yyy zzz xxy xxz xyy yyz xzz yzz xyz. With r = (field point − source)
///   φ = q/r + μ·r/r³ + Σ_ab Θ_ab r_a r_b / r⁵ + Σ_abc Ω_abc r_a r_b r_c / r⁷,   E = −∇φ,
/// sums running over all 9 (27) components of the symmetric tensors.
#include <array>

#include <Eigen/Core>

namespace tsunagu::fragmd::detail {

using Quadrupole = std::array<double, 6>;
using Octupole = std::array<double, 10>;

double charge_potential(double q, const Eigen::Vector3d& r);
Eigen::Vector3d charge_field(double q, const Eigen::Vector3d& r);
double dipole_potential(const Eigen::Vector3d& mu, const Eigen::Vector3d& r);
Eigen::Vector3d dipole_field(const Eigen::Vector3d& mu, const Eigen::Vector3d& r);
double quadrupole_potential(const Quadrupole& theta, const Eigen::Vector3d& r);
Eigen::Vector3d quadrupole_field(const Quadrupole& theta, const Eigen::Vector3d& r);
double octupole_potential(const Octupole& omega, const Eigen::Vector3d& r);
Eigen::Vector3d octupole_field(const Octupole& omega, const Eigen::Vector3d& r);

/// Field gradients G_ab = ∂E_b/∂r_a (symmetric; = −∂²φ/∂r_a∂r_b), hartree/(e·bohr²); needed by the analytic
/// gradients of induced dipoles in these fields.
Eigen::Matrix3d charge_field_gradient(double q, const Eigen::Vector3d& r);
Eigen::Matrix3d dipole_field_gradient(const Eigen::Vector3d& mu, const Eigen::Vector3d& r);
Eigen::Matrix3d quadrupole_field_gradient(const Quadrupole& theta, const Eigen::Vector3d& r);

/// Θ as a symmetric 3×3 matrix.
Eigen::Matrix3d quadrupole_matrix(const Quadrupole& theta);

}  // namespace tsunagu::fragmd::detail
