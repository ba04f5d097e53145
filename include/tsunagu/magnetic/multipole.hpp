#pragma once
/// Real solid harmonics r^l Y_lm as exact homogeneous polynomials, and the moment patterns of cluster multipoles
/// (Suzuki et al., PRB 95, 094406 (2017)):
///   magnetic multipole  M_lm: m(r) = ∇(r^l Y_lm)            (a polynomial field of degree l-1)
///   toroidal multipole  T_lm: m(r) = r × ∇(r^l Y_lm)        (degree l)
/// Polynomials are kept as coefficients of monomials so that gradients are exact; the normalisation is that of the
/// real spherical harmonics (orthonormal on the unit sphere), which keeps values O(1) on the unit sphere up to
/// the ranks a crystal needs (l <= ~30).
#include <string>
#include <vector>

#include <Eigen/Core>

namespace tsunagu::magnetic {

/// Homogeneous polynomial of degree `degree` in x, y, z: Σ c[a,b] x^a y^b z^(degree-a-b).
class HomogeneousPolynomial {
 public:
  explicit HomogeneousPolynomial(int degree = 0);
  int degree() const noexcept { return degree_; }
  double& coefficient(int a, int b);        ///< of x^a y^b z^(degree-a-b); a, b >= 0, a + b <= degree
  double coefficient(int a, int b) const;
  double operator()(const Eigen::Vector3d& r) const;  ///< value at r (any units; homogeneous of degree `degree`)
  HomogeneousPolynomial derivative(int axis) const;   ///< ∂/∂x (0), ∂/∂y (1), ∂/∂z (2); degree - 1 (0 stays 0)
  HomogeneousPolynomial operator*(const HomogeneousPolynomial& o) const;
  HomogeneousPolynomial operator+(const HomogeneousPolynomial& o) const;  ///< same degree required
  HomogeneousPolynomial operator*(double s) const;
  HomogeneousPolynomial laplacian() const;

 private:
  int degree_;
  std::vector<double> c_;  // (degree+1)(degree+2)/2 entries, index of (a, b) below
  std::size_t index(int a, int b) const;
};

/// Real solid harmonic r^l Y_lm with the real-harmonic convention: m > 0 ∝ cos(mφ), m < 0 ∝ sin(|m|φ), m = 0
/// the zonal one; orthonormal over the unit sphere. l >= 0, |m| <= l.
HomogeneousPolynomial real_solid_harmonic(int l, int m);

/// The order in which the components m of one rank l are visited: 1, -1, 0, 2, -2, 3, -3, ... (so rank 1 runs
/// x, y, z and the first component of a cubic T irrep is x-like). l >= 1.
std::vector<int> component_order(int l);

enum class MultipoleType { Magnetic, Toroidal };

/// Moment pattern of M_lm or T_lm at points (n, 3) Cartesian (any length unit; only directions and relative
/// magnitudes matter): returns (n, 3).
Eigen::MatrixXd multipole_pattern(MultipoleType type, int l, int m, const Eigen::MatrixXd& points);

/// "M3", "T2", ...
std::string multipole_name(MultipoleType type, int l);

}  // namespace tsunagu::magnetic
