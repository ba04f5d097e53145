#pragma once
/// Analytic gradients of the EFP2 exchange–repulsion and overlap charge-penetration pair energies (xr.cpp).
/// Private to fragmd until the lead moves them into terms.hpp.
///
/// Gradients are dE/dq for the 6 rigid-body coordinates of each fragment, as in terms.hpp's FragmentGradient:
/// q = (x, y, z of the centre of mass, then infinitesimal rotation angles about the lab x, y, z axes through the
/// centre of mass); units hartree/bohr and hartree/radian.
#include <array>

#include <Eigen/Core>

#include "tsunagu/fragmd/fragment.hpp"
#include "tsunagu/fragmd/terms.hpp"

namespace tsunagu::fragmd {

struct XrPairGradient {
  XrPair energy;                         ///< the same energies and LMO overlaps as xr_pair()
  FragmentGradient xr_a, xr_b;           ///< d(exchange_repulsion)/dq of fragments a and b
  FragmentGradient cp_a, cp_b;           ///< d(charge_penetration)/dq of fragments a and b
  /// d(lmo_overlap)/dq_k (n_lmo(a) x n_lmo(b) each), k = 0..5 for fragment a and for fragment b; what the
  /// overlap-damped dispersion gradient needs.
  std::array<Eigen::MatrixXd, 6> lmo_overlap_deriv_a, lmo_overlap_deriv_b;
};

/// Energy and gradient of one pair; fragment b displaced by shift_b (bohr), as xr_pair().
XrPairGradient xr_pair_gradient(const Fragment& a, const Fragment& b, const Eigen::Vector3d& shift_b);
/// The same; with overlap_derivatives == false the lmo_overlap_deriv_a / _b matrices are left empty (only the
/// overlap-damped dispersion gradient needs them, and they are a sizeable part of the cost).
XrPairGradient xr_pair_gradient(const Fragment& a, const Fragment& b, const Eigen::Vector3d& shift_b,
                                bool overlap_derivatives);

/// Derivative of a placed fragment's LMO coefficients (Fragment::wavefunction) with respect to an infinitesimal
/// lab-frame rotation about `axis` (0, 1, 2 = x, y, z).
Eigen::MatrixXd wavefunction_rotation_derivative(const Fragment& f, int axis);

}  // namespace tsunagu::fragmd
