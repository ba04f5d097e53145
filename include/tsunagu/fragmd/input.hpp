#pragma once
/// efpmd-style input files (the libefp test/benchmark `.in` format of ../shared/data/efp/cases):
///   run_type sp|grad|gtest|md|nve|nvt|npt   coord xyzabc|points|rotmat   units angs|bohr
///   terms elec pol disp xr    elec_damp screen|overlap|off    disp_damp tt|overlap|off    pol_damp tt|off
///   fraglib_path DIR   userlib_path DIR   enable_pbc true|false   periodic_box X Y Z (angstrom)
///   enable_cutoff true|false   swf_cutoff R (angstrom)   ref_energy E (hartree)   gtest_tol T
///   charge Q X Y Z (angstrom)    fragment NAME  followed by its coordinates
///   ewald true|false   ewald_tolerance EPS   ewald_alpha A (inverse length unit)   — tsunagu extensions, not efpmd keys (System)
/// Fragment names ending in `_l` come from fraglib_path (file NAME-without-_l.efp), others from userlib_path.
/// Keys the reader does not know are an error naming the key (never silently ignored); keys it knows but that only
/// efpmd's other drivers use (max_steps, time_step, …) are kept verbatim in `extra`.
#include <array>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tsunagu/fragmd/fragment.hpp"
#include "tsunagu/fragmd/terms.hpp"

namespace tsunagu::fragmd {

struct Terms {
  bool elec = true, pol = true, disp = true, xr = true;
};

/// Everything an energy/gradient evaluation needs, independent of how it was specified.
/// efpmd's harmonic restraint of a fragment's centre: E = ½ k |com − r0|².
struct Restraint {
  std::size_t fragment = 0;
  double k = 0.0;                                  ///< hartree/bohr²
  Eigen::Vector3d r0 = Eigen::Vector3d::Zero();    ///< bohr
};

struct System {
  std::vector<std::shared_ptr<const FragmentType>> types;   ///< owned fragment types
  std::vector<Fragment> fragments;                           ///< placed, lab frame, bohr
  std::vector<PointCharge> charges;                          ///< external point charges, bohr / e
  std::vector<Restraint> restraints;                         ///< `constraint` lines of efpmd inputs
  Terms terms;
  ElecDamp elec_damp = ElecDamp::Screen;
  DispDamp disp_damp = DispDamp::Overlap;
  PolDamp pol_damp = PolDamp::TangToennies;
  bool periodic = false;
  Eigen::Vector3d box = Eigen::Vector3d::Zero();             ///< bohr
  bool cutoff_enabled = false;
  double cutoff = 0.0;                                       ///< bohr (swf_cutoff)
  /// Ewald summation of the charge–charge part of the electrostatics (nuclei and electronic monopoles of every
  /// fragment, all periodic images, tinfoil boundary, neutralising background when the box is charged), so
  /// fragments with a net charge (ionic liquids) are possible. Needs `periodic` and `cutoff_enabled`: the bare
  /// 1/r charge–charge terms of the switched pair loop are replaced by the Ewald sum; every other electrostatic
  /// term (charge–dipole and up, charge penetration), polarisation, dispersion and exchange–repulsion keep the
  /// switched minimum-image cutoff, as does the field that polarises the induced dipoles. Orthorhombic boxes.
  bool ewald = false;
  /// Target accuracy of the Ewald split: erfc(α r_real) ≤ ε and exp(−k_max²/4α²) ≤ ε (dimensionless, 0 < ε < 0.1).
  double ewald_tolerance = 1e-6;
  /// Splitting parameter α, bohr⁻¹; 0 = sqrt(−ln ε) / r_real with r_real = min(cutoff, L_min/2 − 2·(largest
  /// fragment radius)), recomputed whenever the box changes.
  double ewald_alpha = 0.0;
};

/// Move fragment i of `system` to centre `com` (bohr) and orientation `R` (body → lab), re-placing its parameters.
void set_pose(System& system, std::size_t i, const Eigen::Vector3d& com, const Eigen::Matrix3d& R);

struct InputFile {
  std::string path;
  std::string run_type = "sp";
  System system;
  std::optional<double> ref_energy;                          ///< hartree
  double gtest_tol = 1e-6;
  std::map<std::string, std::string> extra;
  /// efpmd `velocity` blocks, per fragment (zeros where absent; empty when the input has none): linear velocity of
  /// the centre in the lab frame (bohr per atomic time unit) and angular velocity about the fragment's file axes
  /// (rad per atomic time unit).
  std::vector<std::array<double, 6>> velocities;
};

struct InputOptions {
  /// Library directory for `_l` fragments when the input has no fraglib_path (efpmd falls back to its install
  /// directory; we fall back to this, then to $TSUNAGU_FRAGLIB, and otherwise refuse with a clear message).
  std::string fraglib;
};

/// Parse an efpmd-style input, load the fragment types it names and place the fragments.
InputFile read_input(const std::string& path, const InputOptions& options = {});

}  // namespace tsunagu::fragmd
