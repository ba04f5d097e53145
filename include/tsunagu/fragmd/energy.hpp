#pragma once
/// EFP2 energy (and analytic gradient) of a whole System (input.hpp): pair loop with the periodic minimum image and
/// libefp's switching function, optional Ewald sum of the charge–charge terms, self-consistent polarisation, point
/// charges (fixed, non-periodic sources). Atomic units: hartree, bohr, radian.
#include <string>
#include <utility>
#include <vector>

#include "tsunagu/fragmd/input.hpp"
#include "tsunagu/fragmd/terms.hpp"

namespace tsunagu::fragmd {

/// Energy terms, hartree. `charge_penetration` is non-zero only with ElecDamp::Overlap; libefp reports it inside its
/// electrostatic energy, we keep it separate and include it in total().
struct EnergyTerms {
  double electrostatic = 0.0;
  double charge_penetration = 0.0;
  double electrostatic_point_charges = 0.0;
  double polarization = 0.0;
  double dispersion = 0.0;
  double exchange_repulsion = 0.0;
  double restraint = 0.0;  ///< harmonic restraints of the input (not an EFP term; included in total as efpmd does)
  double total() const {
    return electrostatic + charge_penetration + electrostatic_point_charges + polarization + dispersion +
           exchange_repulsion + restraint;
  }
};

/// (name, hartree) of every term in a fixed order — the keys of energy.json and of tsunagu.fragmd.Energy.terms.
std::vector<std::pair<std::string, double>> named_terms(const EnergyTerms& energy);

struct ComputeOptions {
  bool gradient = false;        ///< also compute per-fragment gradients
  unsigned threads = 0;         ///< 0 = core::default_threads()
  double pol_tolerance = 1e-10; ///< SCF convergence of the induced dipoles (libefp test: mean over points of the change, e·bohr)
  void validate() const;
};

struct ComputeResult {
  EnergyTerms energy;
  /// Per fragment (dE/dx, dE/dy, dE/dz, dE/dθx, dE/dθy, dE/dθz) — the negative force on the centre of mass and the
  /// negative torque about it (hartree/bohr, hartree/radian). Empty unless options.gradient.
  std::vector<FragmentGradient> gradient;
  int pol_iterations = 0;
  /// Molecular virial Σ_pairs d_ab ⊗ F_b over fragment pairs (d_ab the image COM separation, F_b = −dE/dc_b), hartree;
  /// filled with the gradient. Polarisation enters through its pairwise field terms at the converged dipoles.
  Eigen::Matrix3d virial = Eigen::Matrix3d::Zero();
  bool virial_complete = true;   ///< false when a term's virial is missing (then MD uses finite differences)
  double ewald_alpha = 0.0;      ///< Ewald splitting parameter used, bohr⁻¹ (0 without System::ewald)
  int ewald_kvectors = 0;        ///< reciprocal vectors summed (half space)
};

ComputeResult compute(const System& system, const ComputeOptions& options = {});

}  // namespace tsunagu::fragmd
