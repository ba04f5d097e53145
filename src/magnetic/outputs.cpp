#include "tsunagu/magnetic/outputs.hpp"

#include <cmath>
#include <string>
#include <utility>

#include "tsunagu/core/error.hpp"
#include "tsunagu/core/io.hpp"
#include "tsunagu/magnetic/picture.hpp"
#include "tsunagu/magnetic/writers.hpp"
#include "tsunagu/structure/symmetry.hpp"

namespace tsunagu::magnetic {

void OutputOptions::validate() const {
  if (!(std::isfinite(moment) && moment > 0))
    throw InvalidArgument("magnetic outputs: moment must be finite and > 0 muB, got " + std::to_string(moment));
  if (!(std::isfinite(symprec) && symprec > 0)) throw InvalidArgument("magnetic outputs: symprec must be > 0 A");
  if (!std::isfinite(mag_symprec) || (mag_symprec <= 0 && mag_symprec != -1))
    throw InvalidArgument("magnetic outputs: mag_symprec must be > 0 or -1");
  if (!qe_dir.empty()) {
    if (qe.pseudo_dir.empty())
      throw InvalidArgument("magnetic outputs: Quantum ESPRESSO inputs need a pseudopotential directory (--pseudo-dir)");
    qe.validate();
  }
}

OutputSummary write_outputs(const MagneticBasis& basis, const OutputOptions& options) {
  options.validate();
  OutputSummary summary;
  std::vector<std::pair<std::filesystem::path, std::string>> files;
  if (!options.json.empty()) files.emplace_back(options.json, basis_to_json(basis, options.moment) + "\n");
  if (!options.svg.empty()) files.emplace_back(options.svg, render_basis_svg(basis));
  const bool per_candidate = !options.vasp_dir.empty() || !options.qe_dir.empty() || !options.mcif_dir.empty();
  const std::vector<Candidate> candidates = basis.candidates(options.moment);
  summary.candidates = candidates.size();
  if (per_candidate) {
    for (const Candidate& c : candidates) {
      if (!options.vasp_dir.empty()) {
        const VaspFiles v = write_vasp(c);
        files.emplace_back(options.vasp_dir / c.name / "POSCAR", v.poscar);
        files.emplace_back(options.vasp_dir / c.name / "INCAR", v.incar);
      }
      if (!options.qe_dir.empty()) {
        // pw.x has a compile-time species limit (ntypx); a candidate with more distinct moments than that is left
        // out (and said so) rather than costing the user every other output.
        QeOptions unlimited = options.qe;
        unlimited.max_species = 1 << 20;
        const std::size_t n_species = qe_species(c, unlimited).size();
        if (static_cast<int>(n_species) > options.qe.max_species)
          summary.skipped.push_back(c.name + ": pw.in not written, it needs " + std::to_string(n_species) +
                                    " pw.x species (distinct element/moment pairs), more than max_species = " +
                                    std::to_string(options.qe.max_species));
        else
          files.emplace_back(options.qe_dir / c.name / "pw.in", write_pw_input(c, options.qe));
      }
      if (!options.mcif_dir.empty()) {
        // The candidate's own magnetic symmetry (not the label's group alone): the magCIF lists its operations.
        const auto msg = structure::analyze_magnetic(c.crystal, c.moments, options.symprec, options.mag_symprec);
        files.emplace_back(options.mcif_dir / (c.name + ".mcif"), write_mcif(c, msg));
      }
    }
  }
  for (const auto& [path, text] : files) {
    const auto parent = path.parent_path();
    if (parent.empty()) continue;
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    if (ec) throw IoError("cannot create directory " + parent.string() + ": " + ec.message());
  }
  core::write_files_atomic(files);
  for (const auto& f : files) summary.files.push_back(f.first);
  return summary;
}

}  // namespace tsunagu::magnetic
