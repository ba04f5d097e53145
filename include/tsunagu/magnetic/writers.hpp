#pragma once
/// Input files for DFT codes and magCIF for a magnetic candidate.
///
/// VASP: POSCAR (VASP 5, species line, Direct coordinates) with the atoms grouped by element in order of first
/// appearance, and an INCAR fragment with the magnetic tags only (non-collinear MAGMOM in μB, Cartesian components,
/// default SAXIS); the user adds ENCUT, KPOINTS and POTCAR.
///
/// magCIF (IUCr magnetic CIF dictionary): cell, the magnetic space group's operations of the *input* cell as coset
/// representatives x,y,z,±1 plus centring/anti-centring translations, the representatives of the magnetic orbits and
/// their moments along the crystal axes (μB per unit vector a/|a|, b/|b|, c/|c|).
#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "tsunagu/magnetic/candidate.hpp"
#include "tsunagu/structure/symmetry.hpp"

namespace tsunagu::magnetic {

struct VaspFiles {
  std::string poscar;  ///< POSCAR text
  std::string incar;   ///< INCAR fragment (magnetic tags and comments)
  /// (n_sites) POSCAR atom k is the candidate's crystal site order[k]; MAGMOM follows the same order.
  std::vector<std::size_t> order;
};

/// POSCAR and INCAR fragment for `candidate`. Throws InvalidArgument when the crystal is not periodic, has partial
/// occupancies (VASP cannot represent them), or the moments are not (n_sites, 3) finite values.
VaspFiles write_vasp(const Candidate& candidate);

/// write_vasp into `dir`/POSCAR and `dir`/INCAR (directory created if needed; both files written as one atomic
/// unit). Throws as write_vasp, and IoError when the files cannot be written.
void write_vasp_dir(const Candidate& candidate, const std::filesystem::path& dir);

/// magCIF text for `candidate` with the magnetic symmetry `msg` found for it (structure::analyze_magnetic on the
/// candidate's crystal and moments, so that operations, time reversals and equivalent_atoms refer to its sites).
/// Throws InvalidArgument when the moments are not (n_sites, 3) finite values or `msg` does not match the crystal
/// (equivalent_atoms size, no operations), NumericalError when the operations do not form a group modulo the
/// centring translations.
std::string write_mcif(const Candidate& candidate, const structure::MagneticSymmetry& msg);

/// write_mcif to `path`, atomically. Throws as write_mcif, and IoError.
void write_mcif_file(const Candidate& candidate, const structure::MagneticSymmetry& msg,
                     const std::filesystem::path& path);

}  // namespace tsunagu::magnetic
