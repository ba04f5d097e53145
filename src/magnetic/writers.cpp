#include "tsunagu/magnetic/writers.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <numeric>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <Eigen/LU>

#include "tsunagu/core/error.hpp"
#include "tsunagu/core/io.hpp"
#include "tsunagu/magnetic/msg_symbols.hpp"
#include "tsunagu/structure/crystal.hpp"

namespace tsunagu::magnetic {

namespace {

std::string format(const char* fmt, double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, value);
  return buf;
}

void check_moments(const Candidate& c, const char* what) {
  const auto n = static_cast<Eigen::Index>(c.crystal.n_sites());
  if (c.crystal.frac.rows() != n || c.crystal.frac.cols() != 3) {
    throw InvalidArgument(std::string(what) + ": candidate '" + c.name + "': crystal frac is " +
                          std::to_string(c.crystal.frac.rows()) + "x" + std::to_string(c.crystal.frac.cols()) +
                          ", expected " + std::to_string(n) + "x3");
  }
  if (c.moments.rows() != n || c.moments.cols() != 3) {
    throw InvalidArgument(std::string(what) + ": candidate '" + c.name + "': moments are " +
                          std::to_string(c.moments.rows()) + "x" + std::to_string(c.moments.cols()) + ", expected " +
                          std::to_string(n) + "x3 (one Cartesian moment per site)");
  }
  if (!c.moments.allFinite()) {
    throw InvalidArgument(std::string(what) + ": candidate '" + c.name + "': moments must be finite");
  }
  if (!c.crystal.periodic) {
    throw InvalidArgument(std::string(what) + ": candidate '" + c.name + "': the crystal is not periodic");
  }
}

// One line, no control characters: names end up in POSCAR's comment line and CIF comments.
std::string one_line(std::string s) {
  for (char& ch : s) {
    if (static_cast<unsigned char>(ch) < 0x20) ch = ' ';
  }
  return s;
}

std::string group_description(const MagneticGroupLabel& g) {
  if (g.uni < 1 || g.uni > kMagneticSpaceGroupTypes) return "not determined";
  const MsgTypeInfo& info = magnetic_space_group_type(g.uni);
  return "BNS " + info.bns_number + " " + info.bns_symbol + " (OG " + info.og_number + " " + info.og_symbol +
         ", UNI " + std::to_string(info.uni) + ", type " + std::to_string(info.type) + ")";
}

// MAGMOM number: 4 decimals (1e-4 μB is far below what DFT resolves), trailing zeros dropped, no "-0".
std::string magmom_number(double v) {
  std::string s = format("%.4f", v);
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  if (s == "-0" || s.empty()) s = "0";
  return s;
}

// ---- magCIF helpers -------------------------------------------------------------------------------------------

// Translation component as a fraction when it is one with a crystallographic denominator, else a decimal.
std::string translation_term(double t) {
  t -= std::floor(t);
  if (t > 1 - 1e-6) t = 0;
  if (t < 1e-6) return "";
  for (int d : {2, 3, 4, 6, 8, 12}) {
    const double n = t * d;
    if (std::abs(n - std::round(n)) < 1e-5 * d) {
      int num = static_cast<int>(std::lround(n));
      const int g = std::gcd(num, d);
      return "+" + std::to_string(num / g) + "/" + std::to_string(d / g);
    }
  }
  return "+" + format("%.6f", t);
}

std::string xyz_string(const structure::SymOp& op, int time_reversal) {
  static const char* axes[3] = {"x", "y", "z"};
  std::string out;
  for (int i = 0; i < 3; ++i) {
    std::string comp;
    for (int j = 0; j < 3; ++j) {
      const int c = op.rotation(i, j);
      if (c == 0) continue;
      if (c < 0) {
        comp += "-";
      } else if (!comp.empty()) {
        comp += "+";
      }
      if (std::abs(c) != 1) comp += std::to_string(std::abs(c));
      comp += axes[j];
    }
    comp += translation_term(op.translation(i));
    if (comp.empty()) comp = "0";
    if (comp.front() == '+') comp.erase(0, 1);
    out += comp + ",";
  }
  out += time_reversal ? "-1" : "+1";
  return out;
}

bool same_translation(const Eigen::Vector3d& a, const Eigen::Vector3d& b) {
  for (int i = 0; i < 3; ++i) {
    const double d = a(i) - b(i);
    if (std::abs(d - std::round(d)) > 1e-5) return false;
  }
  return true;
}

std::string cif_quote(const std::string& s) {
  if (s.empty()) return "?";
  return "\"" + s + "\"";
}

std::string data_name(const std::string& name) {
  std::string out;
  for (char ch : name) out += (static_cast<unsigned char>(ch) <= 0x20 || ch == '#' || ch == '\'') ? '_' : ch;
  return out.empty() ? "tsunagu" : out;
}

// "Mn3 Ga N": CIF wants space-separated element counts.
std::string formula_sum(const structure::Crystal& crystal) {
  std::vector<int> order;
  std::map<int, int> count;
  for (int z : crystal.numbers) {
    if (count[z]++ == 0) order.push_back(z);
  }
  std::string out;
  for (int z : order) {
    if (!out.empty()) out += " ";
    out += structure::element_symbol(z);
    if (count[z] != 1) out += std::to_string(count[z]);
  }
  return out;
}

}  // namespace

VaspFiles write_vasp(const Candidate& candidate) {
  check_moments(candidate, "write_vasp");
  const structure::Crystal& crystal = candidate.crystal;
  for (std::size_t i = 0; i < crystal.n_sites(); ++i) {
    if (crystal.occupancy(i) < 1 - 1e-9) {
      throw InvalidArgument("write_vasp: candidate '" + candidate.name + "': site " + std::to_string(i) +
                            " is partially occupied; VASP needs an ordered structure");
    }
  }

  // Group by element in order of first appearance (POTCAR is concatenated in this species order).
  std::vector<int> species;
  for (int z : crystal.numbers) {
    if (std::find(species.begin(), species.end(), z) == species.end()) species.push_back(z);
  }
  VaspFiles out;
  std::vector<std::size_t> counts;
  for (int z : species) {
    std::size_t n = 0;
    for (std::size_t i = 0; i < crystal.n_sites(); ++i) {
      if (crystal.numbers[i] == z) {
        out.order.push_back(i);
        ++n;
      }
    }
    counts.push_back(n);
  }

  std::ostringstream p;
  p << one_line(candidate.name.empty() ? std::string("tsunagu") : candidate.name) << " " << crystal.formula()
    << "\n1.0\n";
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 3; ++c) p << format(" %20.12f", crystal.lattice(r, c));
    p << "\n";
  }
  for (int z : species) p << " " << structure::element_symbol(z);
  p << "\n";
  for (std::size_t n : counts) p << " " << n;
  p << "\nDirect\n";
  const Eigen::MatrixXd frac = structure::wrap_fractional(crystal.frac);
  for (std::size_t i : out.order) {
    const auto r = static_cast<Eigen::Index>(i);
    for (int c = 0; c < 3; ++c) p << format(" %16.12f", frac(r, c));
    p << " " << structure::element_symbol(crystal.numbers[i]) << "\n";
  }
  out.poscar = p.str();

  // MAGMOM: mx my mz per atom; consecutive zeros become "N*0" (non-magnetic atoms).
  std::vector<std::string> values;
  for (std::size_t i : out.order) {
    for (int c = 0; c < 3; ++c) values.push_back(magmom_number(candidate.moments(static_cast<Eigen::Index>(i), c)));
  }
  std::string magmom;
  for (std::size_t k = 0; k < values.size();) {
    std::size_t run = 1;
    if (values[k] == "0") {
      while (k + run < values.size() && values[k + run] == "0") ++run;
    }
    magmom += (magmom.empty() ? "" : " ") + (run > 1 ? std::to_string(run) + "*0" : values[k]);
    k += run;
  }

  std::string species_line;
  for (int z : species) species_line += " " + structure::element_symbol(z);
  std::ostringstream in;
  in << "# tsunagu magnetic candidate " << one_line(candidate.name) << " (" << crystal.formula() << ")\n"
     << "# irrep " << one_line(candidate.irrep.empty() ? "-" : candidate.irrep) << ", multipole "
     << one_line(candidate.multipole.empty() ? "-" : candidate.multipole) << ", direction "
     << one_line(candidate.direction.empty() ? "-" : candidate.direction) << "\n"
     << "# magnetic space group: " << group_description(candidate.magnetic_space_group) << "\n"
     << "# This is a fragment: add ENCUT, the electronic settings, a KPOINTS file and the POTCAR (species order"
     << species_line << ")\n"
     << "# yourself; tsunagu does not supply pseudopotentials.\n"
     << "ISPIN = 2\n"
     << "LNONCOLLINEAR = .TRUE.\n"
     << "# MAGMOM: mx my mz (muB) per atom in POSCAR order; Cartesian components because SAXIS is left at its\n"
     << "# default (0, 0, 1).\n"
     << "MAGMOM = " << magmom << "\n"
     << "# Per-site moments in OUTCAR/PROCAR, to check that the converged pattern is still this candidate.\n"
     << "LORBIT = 11\n"
     << "# Symmetry off completely. With symmetry on VASP would symmetrise with the operations it finds from the\n"
     << "# positions and MAGMOM, and ISYM = 0 still assumes psi(k) = psi*(-k), i.e. time-reversal symmetry, which\n"
     << "# magnetic order breaks (with spin-orbit coupling the bands at k and -k differ). The cost is a larger\n"
     << "# k-point set, not a wrong answer.\n"
     << "ISYM = -1\n"
     << "# LSORBIT = .TRUE.   # spin-orbit coupling: needed for the anomalous Hall effect and anisotropy energies\n";
  out.incar = in.str();
  return out;
}

void write_vasp_dir(const Candidate& candidate, const std::filesystem::path& dir) {
  VaspFiles files = write_vasp(candidate);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw IoError("cannot create directory '" + dir.string() + "': " + ec.message());
  core::write_files_atomic({{dir / "POSCAR", std::move(files.poscar)}, {dir / "INCAR", std::move(files.incar)}});
}

std::string write_mcif(const Candidate& candidate, const structure::MagneticSymmetry& msg) {
  check_moments(candidate, "write_mcif");
  const structure::Crystal& crystal = candidate.crystal;
  const std::size_t n_sites = crystal.n_sites();
  if (msg.equivalent_atoms.size() != n_sites) {
    throw InvalidArgument("write_mcif: candidate '" + candidate.name + "': magnetic symmetry has " +
                          std::to_string(msg.equivalent_atoms.size()) + " equivalent_atoms for " +
                          std::to_string(n_sites) + " sites; analyse the candidate's own crystal");
  }
  if (msg.operations.empty() || msg.time_reversals.size() != msg.operations.size()) {
    throw InvalidArgument("write_mcif: candidate '" + candidate.name +
                          "': magnetic symmetry has no operations or time_reversals of the wrong size");
  }
  for (int rep : msg.equivalent_atoms) {
    if (rep < 0 || static_cast<std::size_t>(rep) >= n_sites) {
      throw InvalidArgument("write_mcif: equivalent_atoms refers to site " + std::to_string(rep));
    }
  }

  // Split the group into centring (R = 1) translations C and coset representatives G/C, as magCIF lists them:
  // every operation is rep * centring, (R, t, th) * (1, c, th_c) = (R, R c + t, th * th_c).
  const auto& ops = msg.operations;
  const std::size_t n_ops = ops.size();
  std::vector<std::size_t> centrings, reps;
  for (std::size_t k = 0; k < n_ops; ++k) {
    if (ops[k].rotation == Eigen::Matrix3i::Identity()) centrings.push_back(k);
  }
  std::vector<char> covered(n_ops, 0);
  for (std::size_t k = 0; k < n_ops; ++k) {
    if (covered[k]) continue;
    reps.push_back(k);
    for (std::size_t c : centrings) {
      const Eigen::Vector3d t = ops[k].rotation.cast<double>() * ops[c].translation + ops[k].translation;
      const int th = msg.time_reversals[k] ^ msg.time_reversals[c];
      bool found = false;
      for (std::size_t m = 0; m < n_ops && !found; ++m) {
        if (ops[m].rotation == ops[k].rotation && msg.time_reversals[m] == th &&
            same_translation(ops[m].translation, t)) {
          covered[m] = 1;
          found = true;
        }
      }
      if (!found) {
        throw NumericalError("write_mcif: candidate '" + candidate.name +
                             "': magnetic operations are not closed under their centring translations");
      }
    }
  }
  if (reps.size() * centrings.size() != n_ops) {
    throw NumericalError("write_mcif: candidate '" + candidate.name + "': " + std::to_string(n_ops) +
                         " operations do not split into cosets of " + std::to_string(centrings.size()) +
                         " centring translations");
  }

  std::ostringstream o;
  o << "# magCIF written by tsunagu for candidate " << one_line(candidate.name) << "\n"
    << "# irrep " << one_line(candidate.irrep.empty() ? "-" : candidate.irrep) << ", multipole "
    << one_line(candidate.multipole.empty() ? "-" : candidate.multipole) << ", direction "
    << one_line(candidate.direction.empty() ? "-" : candidate.direction) << "\n"
    << "# Operations, sites and moments refer to the cell below, not to the BNS standard setting.\n"
    << "data_" << data_name(candidate.name) << "\n"
    << "_audit_creation_method \"tsunagu\"\n"
    << "_chemical_formula_sum \"" << formula_sum(crystal) << "\"\n\n";

  const MsgTypeInfo* info = (msg.uni_number >= 1 && msg.uni_number <= kMagneticSpaceGroupTypes)
                                ? &magnetic_space_group_type(msg.uni_number)
                                : nullptr;
  o << "_space_group_magn.number_BNS " << (info ? info->bns_number : std::string("?")) << "\n"
    << "_space_group_magn.name_BNS " << (info ? cif_quote(info->bns_symbol) : std::string("?")) << "\n"
    << "_space_group_magn.number_OG " << (info ? info->og_number : std::string("?")) << "\n"
    << "_space_group_magn.name_OG " << (info ? cif_quote(info->og_symbol) : std::string("?")) << "\n\n";

  const Eigen::Matrix<double, 6, 1> par = crystal.parameters();
  static const char* cell_tags[6] = {"_cell_length_a", "_cell_length_b", "_cell_length_c",
                                     "_cell_angle_alpha", "_cell_angle_beta", "_cell_angle_gamma"};
  for (int k = 0; k < 6; ++k) o << cell_tags[k] << " " << format("%.6f", par(k)) << "\n";
  o << "_cell_volume " << format("%.6f", crystal.volume()) << "\n\n";

  o << "loop_\n_space_group_symop_magn_operation.id\n_space_group_symop_magn_operation.xyz\n";
  for (std::size_t k = 0; k < reps.size(); ++k) {
    o << (k + 1) << " " << xyz_string(ops[reps[k]], msg.time_reversals[reps[k]]) << "\n";
  }
  o << "\nloop_\n_space_group_symop_magn_centering.id\n_space_group_symop_magn_centering.xyz\n";
  for (std::size_t k = 0; k < centrings.size(); ++k) {
    o << (k + 1) << " " << xyz_string(ops[centrings[k]], msg.time_reversals[centrings[k]]) << "\n";
  }

  // Representatives of the magnetic orbits, in order of first appearance; labels unique (CIF keys).
  std::vector<std::size_t> sites;
  for (std::size_t i = 0; i < n_sites; ++i) {
    if (static_cast<std::size_t>(msg.equivalent_atoms[i]) == i) sites.push_back(i);
  }
  if (sites.empty()) throw InvalidArgument("write_mcif: equivalent_atoms names no representative site");
  std::set<std::string> used;
  std::vector<std::string> labels;
  for (std::size_t i : sites) {
    std::string label = i < crystal.labels.size() ? crystal.labels[i] : std::string();
    bool ok = !label.empty() && !used.count(label);
    for (char ch : label) ok = ok && static_cast<unsigned char>(ch) > 0x20 && ch != '\'' && ch != '"';
    if (!ok) {
      const std::string& sym = structure::element_symbol(crystal.numbers[i]);
      for (int k = 1;; ++k) {
        label = sym + std::to_string(k);
        if (!used.count(label)) break;
      }
    }
    used.insert(label);
    labels.push_back(label);
  }
  const Eigen::MatrixXd frac = structure::wrap_fractional(crystal.frac);
  o << "\nloop_\n_atom_site_label\n_atom_site_type_symbol\n_atom_site_fract_x\n_atom_site_fract_y\n"
       "_atom_site_fract_z\n_atom_site_occupancy\n";
  for (std::size_t k = 0; k < sites.size(); ++k) {
    const auto r = static_cast<Eigen::Index>(sites[k]);
    o << labels[k] << " " << structure::element_symbol(crystal.numbers[sites[k]]);
    for (int c = 0; c < 3; ++c) o << format(" %.6f", frac(r, c));
    o << " " << format("%.4f", crystal.occupancy(sites[k])) << "\n";
  }

  // Crystal-axis components: m_cart = sum_i u_i a_i with u = L^{-T} m_cart (L rows a_i); magCIF's components are
  // along the unit vectors a_i/|a_i|, so M_i = |a_i| u_i.
  const Eigen::Matrix3d inv_lt = crystal.lattice.transpose().inverse();
  std::ostringstream moments;
  std::size_t n_magnetic = 0;
  for (std::size_t k = 0; k < sites.size(); ++k) {
    const Eigen::Vector3d m = candidate.moments.row(static_cast<Eigen::Index>(sites[k])).transpose();
    if (m.norm() < 1e-9) continue;
    const Eigen::Vector3d u = inv_lt * m;
    moments << labels[k];
    for (int c = 0; c < 3; ++c) moments << format(" %.6f", crystal.lattice.row(c).norm() * u(c));
    moments << "\n";
    ++n_magnetic;
  }
  if (n_magnetic > 0) {
    o << "\nloop_\n_atom_site_moment.label\n_atom_site_moment.crystalaxis_x\n_atom_site_moment.crystalaxis_y\n"
         "_atom_site_moment.crystalaxis_z\n"
      << moments.str();
  }
  return o.str();
}

void write_mcif_file(const Candidate& candidate, const structure::MagneticSymmetry& msg,
                     const std::filesystem::path& path) {
  core::write_file_atomic(path, write_mcif(candidate, msg));
}

}  // namespace tsunagu::magnetic
