#pragma once
/// EFP2 interaction terms between placed fragments (fragment.hpp). Atomic units throughout (bohr, hartree).
///
/// Pairwise terms take fragment `b` displaced by `shift_b` (bohr): the periodic driver passes the minimum-image
/// translation, a non-periodic run passes zero. Pair functions never apply switching functions; the driver does.
#include <vector>

#include <Eigen/Core>

#include "tsunagu/fragmd/fragment.hpp"

namespace tsunagu::fragmd {

enum class ElecDamp { Screen, Overlap, Off };   ///< charge-penetration model: SCREEN2 exponents, LMO overlap, none
enum class DispDamp { TangToennies, Overlap, Off };
enum class PolDamp { TangToennies, Off };

/// Energy and generalized force of one fragment for a term or a total. Gradient per fragment is
/// (dE/dx, dE/dy, dE/dz of the centre of mass, torque-like dE/dθ about the lab axes through the COM) as libefp's
/// `efp_get_gradient` returns it: grad[0..2] = −force, grad[3..5] = −torque.
using FragmentGradient = Eigen::Matrix<double, 6, 1>;

/// --- electrostatics (electrostatics.cpp) -------------------------------------------------------------------
/// Multipole–multipole energy (charges incl. nuclei, dipoles, quadrupoles, octupoles; up to total rank 4 as libefp),
/// with the SCREEN2 charge–charge penetration correction when damp == Screen.
double elec_pair(const Fragment& a, const Fragment& b, const Eigen::Vector3d& shift_b, ElecDamp damp);
/// Same energy; adds the analytic gradients of both fragments to ga, gb (hartree/bohr, hartree/radian).
double elec_pair_gradient(const Fragment& a, const Fragment& b, const Eigen::Vector3d& shift_b, ElecDamp damp,
                          FragmentGradient& ga, FragmentGradient& gb);
struct PointCharge;
/// Fragment nuclei and multipoles with external point charges (undamped, as libefp's point-charge term).
double elec_point_charges(const Fragment& f, const std::vector<PointCharge>& charges);
/// Same energy; adds the fragment's gradient to g. The charges are fixed external sources (no force on them).
double elec_point_charges_gradient(const Fragment& f, const std::vector<PointCharge>& charges, FragmentGradient& g);

/// --- exchange–repulsion and overlap-based charge penetration (xr.cpp, integrals.cpp) ------------------------
struct XrPair {
  double exchange_repulsion = 0.0;   ///< hartree
  double charge_penetration = 0.0;   ///< hartree; the overlap-model charge penetration (used when ElecDamp::Overlap)
  Eigen::MatrixXd lmo_overlap;       ///< n_lmo(a) × n_lmo(b) LMO overlap integrals (for DispDamp::Overlap)
};
XrPair xr_pair(const Fragment& a, const Fragment& b, const Eigen::Vector3d& shift_b);

/// Rotate LMO coefficients of `type` (n_lmo × n_basis, Cartesian p/d/f blocks in GAMESS order) by R.
Eigen::MatrixXd rotate_wavefunction(const FragmentType& type, const Eigen::Matrix3d& R);

/// --- dispersion (dispersion.cpp) ---------------------------------------------------------------------------
/// lmo_overlap must be given (n_lmo(a) × n_lmo(b)) when damp == Overlap, may be null otherwise.
double disp_pair(const Fragment& a, const Fragment& b, const Eigen::Vector3d& shift_b, DispDamp damp,
                 const Eigen::MatrixXd* lmo_overlap);

/// --- polarisation (polarization.cpp) -----------------------------------------------------------------------
struct PointCharge {
  Eigen::Vector3d r;   ///< bohr
  double q = 0.0;      ///< e
};
struct PolOptions {
  PolDamp damp = PolDamp::TangToennies;
  ElecDamp elec_damp = ElecDamp::Screen;   ///< libefp uses this only for fields from point charges (screen0)
  bool periodic = false;
  Eigen::Vector3d box = Eigen::Vector3d::Zero();  ///< bohr (orthorhombic), used when periodic
  double cutoff = 0.0;                    ///< bohr; > 0: pairs whose COM distance exceeds it are skipped
  double tolerance = 1e-10;               ///< SCF convergence on induced dipoles
  int max_iterations = 200;
  unsigned threads = 0;                   ///< worker threads (0 = core::default_threads())
};
struct PolResult {
  double energy = 0.0;                    ///< hartree
  int iterations = 0;
  std::vector<Eigen::Vector3d> induced;   ///< all polarisable points, fragment-major
};
PolResult polarization(const std::vector<Fragment>& fragments, const std::vector<PointCharge>& charges,
                       const PolOptions& options);

}  // namespace tsunagu::fragmd
