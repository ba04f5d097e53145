#pragma once
/// Quantum ESPRESSO (pw.x) side of the magnetic workflow: a noncollinear SCF input for a Candidate and a parser for
/// pw.x's text output (tested against QE 6.7).
///
/// Input: one ATOMIC_SPECIES entry per distinct (element, moment vector), so that each species carries its own
/// starting_magnetization(i) (scale * |m| / max |m|), angle1(i) (polar angle from Cartesian z, degrees) and
/// angle2(i) (azimuth from x in the xy plane, degrees). Labels are the element symbol plus one character 1..9, a..z,
/// A..Z (QE allows 3 characters). CELL_PARAMETERS angstrom, ATOMIC_POSITIONS crystal, K_POINTS automatic.
#include <array>
#include <cstddef>
#include <limits>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <Eigen/Core>

#include "tsunagu/magnetic/candidate.hpp"

namespace tsunagu::magnetic {

struct QeOptions {
  /// Directory with the pseudopotential files (written into the input as an absolute path).
  std::filesystem::path pseudo_dir;
  /// Element symbol ("Fe") -> file name inside pseudo_dir. An element without an entry is looked up in pseudo_dir:
  /// exactly one *.UPF / *.upf whose name starts with the symbol followed by '.', '_' or '-' (case-insensitive).
  std::map<std::string, std::string> pseudopotentials;
  double ecutwfc = 40;   ///< Ry
  double ecutrho = 0;    ///< Ry; 0: pw.x's default (4 * ecutwfc)
  /// k-point spacing in 1/Å including 2π (as VASP's KSPACING): n_i = max(1, ceil(2π |b_i| / k_spacing)), b_i the
  /// reciprocal lattice vectors without 2π. Ignored when k_mesh is set.
  double k_spacing = 0.25;
  std::array<int, 3> k_mesh{0, 0, 0};   ///< explicit Monkhorst-Pack mesh (all > 0), or all 0 to use k_spacing
  std::array<int, 3> k_shift{0, 0, 0};  ///< 0 or 1 per direction
  std::string smearing = "mv";          ///< pw.x smearing: gaussian, mv, mp, fd (and their aliases)
  double degauss = 0.02;                ///< Ry
  double conv_thr = 1e-8;               ///< Ry
  double mixing_beta = 0.3;
  int electron_maxstep = 100;
  /// starting_magnetization of the species with the largest |moment|; the others get scale * |m| / max |m|.
  double starting_magnetization = 0.5;
  bool lspinorb = false;                ///< needs fully relativistic pseudopotentials
  std::string constrained_magnetization = "none";  ///< "none" or "atomic direction"
  double lambda = 0;                    ///< penalty of the constraint (Ry), > 0 with "atomic direction"
  std::string calculation = "scf";      ///< only "scf" is supported
  std::string prefix = "tsunagu";
  std::string outdir = "./tmp";         ///< relative to the directory pw.x runs in
  /// When pw.x prints the per-site moments: -1 at the start and at convergence (enough for the parser), N > 0 also
  /// every N iterations (a run that dies mid-SCF then still reports recent moments).
  int report = -1;
  /// pw.x's compile-time limit on the number of species (ntypx, 10 in QE 6.7); more species is an error here.
  int max_species = 10;

  /// Throws InvalidArgument naming the field and value.
  void validate() const;
};

/// The pseudopotential file name (inside options.pseudo_dir) for an element symbol; throws InvalidArgument naming
/// the element and directory when none or several files match, or a mapped file does not exist.
std::string resolve_pseudopotential(const QeOptions& options, const std::string& element);

/// Monkhorst-Pack mesh for a lattice (rows in Å) from a spacing in 1/Å including 2π.
std::array<int, 3> k_mesh_from_spacing(const Eigen::Matrix3d& lattice, double k_spacing);

/// One QE species: a distinct (element, moment) pair.
struct QeSpecies {
  std::string label;                   ///< e.g. "Fe1"
  std::string element;                 ///< "Fe"
  std::string pseudopotential;         ///< file name in pseudo_dir
  double mass = 0;                     ///< amu
  Eigen::Vector3d moment = Eigen::Vector3d::Zero();  ///< μB (Cartesian)
  double starting_magnetization = 0;
  double angle1 = 0;                   ///< polar angle from z, degrees
  double angle2 = 0;                   ///< azimuth, degrees in [0, 360)
};

/// The species of a candidate and, per site, the index of its species. Moments within 1e-4 μB share a species.
std::vector<QeSpecies> qe_species(const Candidate& candidate, const QeOptions& options,
                                  std::vector<std::size_t>* site_species = nullptr);

/// The pw.x input (namelists &control, &system, &electrons and the cards) for a candidate. Validates options and
/// the candidate (moments (n_sites, 3), finite). Throws InvalidArgument.
std::string write_pw_input(const Candidate& candidate, const QeOptions& options);
/// Writes write_pw_input(...) to dir/file_name atomically (creating dir); returns the path.
std::filesystem::path write_pw_input_file(const std::filesystem::path& dir, const Candidate& candidate,
                                          const QeOptions& options, const std::string& file_name = "pw.in");

/// Outcome of one pw.x run as read from its output.
struct PwResult {
  enum class Status { Done, Failed };
  Status status = Status::Failed;  ///< Done: JOB DONE and a total energy was printed (converged or not)
  bool job_done = false;           ///< "JOB DONE." present
  bool converged = false;          ///< "convergence has been achieved"
  double total_energy_ry = std::numeric_limits<double>::quiet_NaN();  ///< final ("!") energy, else the last one
  double total_energy_ev = std::numeric_limits<double>::quiet_NaN();
  std::optional<double> fermi_energy_ev;
  /// Total magnetization in μB/cell: (x, y, z) noncollinear; (0, 0, m) collinear. NaN when never printed.
  Eigen::Vector3d total_magnetization = Eigen::Vector3d::Constant(std::numeric_limits<double>::quiet_NaN());
  double absolute_magnetization = std::numeric_limits<double>::quiet_NaN();  ///< μB/cell
  int n_atoms = 0;
  /// (n_atoms, 3) μB integrated in pw.x's atomic spheres, from the last per-site block (0 rows when none printed).
  Eigen::MatrixXd site_moments = Eigen::MatrixXd(0, 3);
  Eigen::VectorXd site_charges;    ///< (n_atoms) from the same block
  int n_iterations = 0;            ///< SCF iterations run
  double wall_time_s = std::numeric_limits<double>::quiet_NaN();  ///< PWSCF wall time
  std::string error;               ///< the text of a %%%% error block ("Error in routine readpp (1): ...")
  std::string message;             ///< one line on what went wrong (empty when Done and converged)

  bool ok() const noexcept { return status == Status::Done && converged; }
};

/// Parse pw.x output. Text that is not pw.x output (no "Program PWSCF" banner) or that ends before the run was set
/// up (no "number of atoms/cell" and no error block) throws ParseError naming `source` and what is missing. A run
/// that stopped with an error, crashed or was killed mid-SCF parses into status Failed with `message`.
PwResult parse_pw_output(std::string_view text, std::string_view source = "<pw.x output>");
PwResult parse_pw_output_file(const std::filesystem::path& path);

/// Standard atomic weight (amu) of atomic number z (1..118; mass number of the longest-lived isotope for elements
/// without a standard weight). Throws InvalidArgument outside that range.
double atomic_mass(int z);

constexpr double kRydbergEv = 13.605693122994;  ///< eV per Ry (CODATA 2018)

}  // namespace tsunagu::magnetic
