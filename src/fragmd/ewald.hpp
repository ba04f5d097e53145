#pragma once
// Ewald summation of the fragments' charge–charge interactions (private to fragmd; System::ewald in input.hpp).
//
// The switched pair loop (energy.cpp) already contains s(R_ab) Σ q_i q_j / r_ij for every fragment pair within the
// cutoff — the bare charge–charge part of the EFP electrostatics, charges being the nuclei and the electronic
// monopoles. With Ewald on, this function adds the difference between the full periodic lattice sum of those
// charges (intramolecular pairs excluded) and what the pair loop counted:
//   ΔE = Σ_ab Σ_ij q_i q_j [erfc(α r_ij) − s(R_ab)] / r_ij                   real space, minimum image
//      + (4π/V) Σ_{k half-space} exp(−k²/4α²)/k² |S(k)|²                    reciprocal space, S(k) = Σ q_i e^{ik·r_i}
//      − α/√π Σ q_i² − Σ_f Σ_{i<j∈f} q_i q_j erf(α r_ij)/r_ij               self and intramolecular exclusion
//      − π Q² / (2 V α²)                                                    neutralising background (Q = Σ q_i)
// so the screening (charge-penetration) corrections and all higher multipoles stay in the switched pair loop.
// Units: bohr, e, hartree. Orthorhombic boxes.
#include <vector>

#include <Eigen/Core>

#include "tsunagu/fragmd/input.hpp"

namespace tsunagu::fragmd::detail {

struct EwaldInfo {
  double alpha = 0.0;      ///< bohr⁻¹
  double r_real = 0.0;     ///< bohr, distance at which erfc(α r) reaches the tolerance
  int kvectors = 0;        ///< reciprocal vectors in the half space
};

/// ΔE above, hartree. With `gradient` non-null adds dE/d(rigid-body coordinates) per fragment (same convention as
/// ComputeResult::gradient) and, with `virial` non-null, the molecular virial Σ d ⊗ F (transpose of −dE/dε).
/// Throws InvalidArgument when the system is not periodic with a cutoff, or the box is too small for the split.
double ewald_correction(const System& system, unsigned threads, std::vector<FragmentGradient>* gradient,
                        Eigen::Matrix3d* virial, EwaldInfo* info = nullptr);

}  // namespace tsunagu::fragmd::detail
