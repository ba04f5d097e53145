#pragma once
/// Everything `tsunagu magnetic generate` (and tsunagu.magnetic.generate in Python) writes for a basis: the basis
/// JSON and, per DFT candidate, VASP, Quantum ESPRESSO and magCIF files. One function so that both front ends
/// write the same files.
#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "tsunagu/magnetic/basis.hpp"
#include "tsunagu/magnetic/qe.hpp"

namespace tsunagu::magnetic {

struct OutputOptions {
  std::filesystem::path json;      ///< basis JSON (basis_to_json); empty: not written
  std::filesystem::path vasp_dir;  ///< DIR/<candidate>/{POSCAR,INCAR}; empty: not written
  std::filesystem::path qe_dir;    ///< DIR/<candidate>/pw.in; empty: not written (needs qe.pseudo_dir)
  std::filesystem::path mcif_dir;  ///< DIR/<candidate>.mcif; empty: not written
  std::filesystem::path svg;       ///< picture of every basis vector and direction (render_basis_svg); empty: none
  double moment = 3.0;             ///< μB on the largest site moment of every candidate (> 0)
  double symprec = 1e-3;           ///< Å, for the magCIF's magnetic symmetry (spglib)
  double mag_symprec = -1;         ///< μB, ditto (-1: symprec)
  QeOptions qe;                    ///< pw.x settings for qe_dir (pseudo_dir required there)
  void validate() const;           ///< throws InvalidArgument naming the field
};

struct OutputSummary {
  std::size_t candidates = 0;                ///< DFT candidates of the basis
  std::vector<std::filesystem::path> files;  ///< every file written, in order
  /// One line per candidate left out of an output, e.g. a pw.in needing more species than qe.max_species.
  std::vector<std::string> skipped;
};

/// Writes the requested outputs. All files are produced in memory first and then written as one atomic unit
/// (core::write_files_atomic), so a failure leaves none of them behind looking complete. Throws InvalidArgument
/// (options, candidates a writer refuses), IoError (files), NumericalError (spglib).
OutputSummary write_outputs(const MagneticBasis& basis, const OutputOptions& options);

}  // namespace tsunagu::magnetic
