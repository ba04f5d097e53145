#pragma once
/// Per-fragment electronic descriptors from EFP2 parameters: the informatics layer that lets tsunagu::sparse / nn
/// models compare liquids by the physics of their molecules. All computed from a FragmentType in its own frame
/// (rotation invariants only), so they do not depend on where the fragment sits.
#include <string>
#include <vector>

#include "tsunagu/fragmd/fragment.hpp"

namespace tsunagu::fragmd {

struct FragmentDescriptors {
  std::string name;
  int n_atoms = 0;
  double mass = 0.0;                    ///< amu
  double total_charge = 0.0;            ///< e (nuclei + electronic monopoles)
  double dipole = 0.0;                  ///< |μ| about the centre of mass, debye
  double quadrupole = 0.0;              ///< sqrt(2/3 Θ:Θ) of the traceless (Buckingham) quadrupole about the COM, D·Å
  double polarizability = 0.0;          ///< isotropic static polarisability Σ tr(α)/3 over LMO centroids, Å³
  double polarizability_anisotropy = 0.0;  ///< of the summed tensor: sqrt(((a-b)²+(b-c)²+(c-a)²)/2), Å³
  double c6 = 0.0;                      ///< isotropic molecular C6 = Σ_ij Σ_k w_k ᾱ_i(iω_k) ᾱ_j(iω_k), hartree·bohr⁶
  double c6_scaled = 0.0;               ///< 4/3·c6: the coefficient EFP2 dispersion actually uses, hartree·bohr⁶
  int n_lmo = 0;
  double homo_lmo_energy = 0.0;         ///< largest diagonal LMO Fock element, hartree (a crude donor index)
};

FragmentDescriptors describe(const FragmentType& type);

/// Column names and values in a fixed order for tables (CSV, Python).
std::vector<std::string> descriptor_names();
std::vector<double> descriptor_values(const FragmentDescriptors& d);

}  // namespace tsunagu::fragmd
