#pragma once
/// Private pieces of dispersion and polarisation shared between the energy code, the analytic gradients and the
/// tests. Atomic units (bohr, hartree).
#include <array>
#include <vector>

#include <Eigen/Core>

#include "tsunagu/fragmd/terms.hpp"

namespace tsunagu::fragmd::detail {

/// A damping factor and its derivative with respect to its argument (r for Tang–Toennies, S for overlap).
struct DampValue {
  double f = 1.0;
  double df = 0.0;
};

/// --- dispersion ------------------------------------------------------------------------------------------
/// Σ_k w_k ᾱ_i(iω_k) ᾱ_j(iω_k) (the E = −4/3 C6 f/r⁶ numerator without the 4/3), bohr⁶·hartree.
double disp_c6(const DynamicPolarizablePoint& i, const DynamicPolarizablePoint& j);
/// libefp's Tang–Toennies damping of order 6 with b = 1.5 bohr⁻¹; df = d f/d r.
DampValue disp_damp_tt(double r);
/// Overlap damping 1 − S²(1 − 2 ln|S| + 2 ln²|S|) (1 for |S| ≤ 1e-5); df = d f/d S.
DampValue disp_damp_overlap(double s);

/// Dispersion pair energy (as disp_pair) with its analytic gradient added to ga, gb (dE/d(COM) in hartree/bohr,
/// dE/dθ about lab axes through the COM in hartree/radian). No switching function (the driver applies it). For
/// DispDamp::Overlap pass the LMO overlaps and their derivatives with respect to the six rigid-body coordinates of
/// a and of b (xr_pair_gradient's lmo_overlap_deriv_a / _b).
double disp_pair_gradient(const Fragment& a, const Fragment& b, const Eigen::Vector3d& shift_b, DispDamp damp,
                          const Eigen::MatrixXd* lmo_overlap, const std::array<Eigen::MatrixXd, 6>* ds_a,
                          const std::array<Eigen::MatrixXd, 6>* ds_b, FragmentGradient& ga, FragmentGradient& gb);

/// --- polarisation ----------------------------------------------------------------------------------------
/// libefp's polarisation damping 1 − e^{−c r²}(1 + c r²), c = sqrt(pa·pb) from the fragments' POLAB values;
/// df = d f/d r.
DampValue pol_damp_tt(double r, double pa, double pb);

/// Converged polarisation state: per polarisable point (fragment-major) the static field of the other
/// fragments' multipoles and nuclei and of the point charges, the induced dipoles μ = α(E0 + E_ind) and the
/// conjugate dipoles μ̄ = αᵀ(E0 + Ē_ind) (different from μ only for non-symmetric α).
struct PolState {
  std::vector<Eigen::Vector3d> static_field;
  std::vector<Eigen::Vector3d> induced;
  std::vector<Eigen::Vector3d> induced_conj;
  double energy = 0.0;
  int iterations = 0;
};
PolState solve_polarization(const std::vector<Fragment>& fragments, const std::vector<PointCharge>& charges,
                            const PolOptions& options);

/// Polarisation energy (as polarization()) with its analytic gradient added to `grad` (one entry per fragment:
/// dE/d(COM) in hartree/bohr, dE/dθ about lab axes through the COM in hartree/radian). Point charges are fixed
/// external sources; their own gradient is not computed.
/// With `virial`, also adds the molecular virial Σ_pairs d_fg ⊗ F_g of the fragment–fragment interactions
/// (hartree; point charges are external and excluded).
double polarization_gradient(const std::vector<Fragment>& fragments, const std::vector<PointCharge>& charges,
                             const PolOptions& options, std::vector<FragmentGradient>& grad,
                             Eigen::Matrix3d* virial = nullptr);

/// Geometry of an ordered fragment pair (target f, source g) as libefp sees it: the translation to add to g's
/// coordinates (periodic minimum image of the COM separation), the switching factor and its gradient with
/// respect to g's COM (zero without a cutoff). `skip` when the pair is beyond the cutoff.
struct PairGeometry {
  Eigen::Vector3d shift = Eigen::Vector3d::Zero();
  double swf = 1.0;
  Eigen::Vector3d dswf = Eigen::Vector3d::Zero();
  bool skip = false;
};
PairGeometry pair_geometry(const Fragment& f, const Fragment& g, const PolOptions& options);

}  // namespace tsunagu::fragmd::detail
