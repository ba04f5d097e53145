#pragma once
/// One-electron overlap and kinetic-energy integrals between Cartesian Gaussian shells of EFP projection bases
/// (private to the fragmd module; used by exchange–repulsion, xr.cpp).
///
/// Conventions (those of GAMESS MAKEFP files, which libefp follows):
///  * Function order within a shell: S; L = s, px, py, pz; P = x y z; D = xx yy zz xy xz yz;
///    F = xxx yyy zzz xxy xxz xyy yyz xzz yzz xyz.
///  * A file coefficient already contains the normalisation of the primitive with all angular momentum on one axis
///    (x^l e^{-a r^2}). Other components of the same shell are scaled by sqrt((2l-1)!! / prod_k (2l_k-1)!!)
///    (sqrt 3 for xy, sqrt 5 for xxy, sqrt 15 for xyz) so that every Cartesian primitive is normalised.
///  * Units: bohr, bohr^-2 exponents; kinetic integrals are <a| -1/2 nabla^2 |b> in hartree.
#include <array>
#include <cstddef>
#include <vector>

#include <Eigen/Core>

#include "tsunagu/fragmd/fragment.hpp"

namespace tsunagu::fragmd::detail {

/// Number of Cartesian functions of a shell type: S 1, L 4, P 3, D 6, F 10; InvalidArgument for other types.
int shell_size(char type);
/// Sum of shell_size over a basis; throws InvalidArgument on an unknown shell type.
int basis_size(const std::vector<Shell>& basis);

/// Cartesian powers (lx, ly, lz) of component k (0-based, GAMESS order) of angular momentum l <= 3.
std::array<int, 3> cartesian_powers(int l, int k);

/// Factor sqrt((2l-1)!! / prod_k (2l_k-1)!!) of component k relative to the axial (x^l) component.
double cartesian_component_factor(int l, int k);

/// Normalisation constant of the primitive x^l exp(-alpha r^2) — the factor MAKEFP folds into file coefficients.
double axial_primitive_norm(double alpha, int l);

/// One screened-in shell pair of overlap_kinetic_blocks: shells shell_a of `a` and shell_b of `b`, whose functions
/// start at off_a / off_b and number na / nb. Its quantities (see PairIntegrals::quantity) lie at `data`.
struct ShellPairBlock {
  int shell_a, shell_b, off_a, off_b, na, nb;
  std::size_t data;
};

/// Integrals of a basis pair as a list of shell-pair blocks; shell pairs whose every primitive pair is screened
/// out (Gaussian product prefactor exp(-mu R^2) < 1e-20) are absent (their integrals are zero). Reused between
/// calls without reallocation (keep one per thread).
struct PairIntegrals {
  int n_ao_a = 0, n_ao_b = 0;
  bool deriv = false;
  std::vector<ShellPairBlock> blocks;
  std::vector<double> data;
  /// Quantity k of a block, na x nb row-major: 0 S, 1 T, and with deriv 2-4 dS/dA_xyz, 5-7 dT/dA_xyz.
  const double* quantity(const ShellPairBlock& b, int k) const {
    return data.data() + b.data + static_cast<std::size_t>(k) * b.na * b.nb;
  }
};

/// S, T (and with `deriv` their bra-centre derivatives) by shell-pair blocks; the function of the others below.
void overlap_kinetic_blocks(const std::vector<Shell>& a, const std::vector<Shell>& b, const Eigen::Vector3d& shift_b,
                            bool deriv, PairIntegrals& out);

/// Overlap S and kinetic T between every function of basis `a` (rows) and basis `b` (columns), with b's shell
/// centres displaced by `shift_b` (bohr).
void overlap_kinetic(const std::vector<Shell>& a, const std::vector<Shell>& b, const Eigen::Vector3d& shift_b,
                     Eigen::MatrixXd& S, Eigen::MatrixXd& T);

/// Derivatives of S and T with respect to the centre of the row (bra, basis `a`) function:
/// dS[k](mu, nu) = dS_{mu nu} / dA_k where A is the centre of mu's shell; likewise dT. By translational
/// invariance the derivative with respect to the ket centre is the negative.
void overlap_kinetic_bra_deriv(const std::vector<Shell>& a, const std::vector<Shell>& b,
                               const Eigen::Vector3d& shift_b, std::array<Eigen::MatrixXd, 3>& dS,
                               std::array<Eigen::MatrixXd, 3>& dT);

/// Both of the above in one pass (the gradient needs values and derivatives; the 1D tables are shared).
void overlap_kinetic_with_bra_deriv(const std::vector<Shell>& a, const std::vector<Shell>& b,
                                    const Eigen::Vector3d& shift_b, Eigen::MatrixXd& S, Eigen::MatrixXd& T,
                                    std::array<Eigen::MatrixXd, 3>& dS, std::array<Eigen::MatrixXd, 3>& dT);

}  // namespace tsunagu::fragmd::detail
