#pragma once
/// Rigid-fragment molecular dynamics on the EFP2 energy (energy.hpp).
///
/// Every fragment is a rigid body. Its state is the centre-of-mass position and momentum in the lab frame, the
/// rotation R that place() uses (body = the MAKEFP file frame, lab = R·body + origin) and the angular momentum in
/// that body frame. The inertia tensor in the file frame is in general not diagonal; the integrator diagonalises it
/// once per fragment type and composes rotations in the principal frame internally.
///
/// Integrators (all symmetric Trotter splittings, hence time-reversible; NVE is also symplectic):
///   NVE  velocity Verlet for the centres of mass + the Dullweber–Leimkuhler–McLachlan rotation splitting
///        (exact free rotations about the principal axes x/2, y/2, z, y/2, x/2 between torque half-kicks).
///   NVT  a Nosé–Hoover chain (Martyna–Klein–Tuckerman 1992) on all translational and rotational momenta, propagated
///        with a 3rd-order Suzuki–Yoshida factorisation at both ends of the step.
///   NPT  the isotropic Martyna–Tobias–Klein barostat (MTK 1994, Tuckerman et al. 2006 integrator) acting on the
///        centres of mass only — molecules stay rigid, rotations are not scaled — with the Nosé–Hoover chain
///        thermostatting particles and barostat together. Needs a periodic system.
/// The pressure is the molecular (centre-of-mass) pressure P = (2 K_trans + W)/(3V) with the molecular virial
/// W = −dU/dλ for a uniform scaling of the centres of mass and the box by λ (orientations fixed). Until the energy
/// code provides an analytic virial, W comes from a central finite difference of the energy (two extra energy
/// evaluations); an Evaluator may supply the full 3×3 virial instead, which also enables the pressure tensor.
///
/// Units: internally atomic units (bohr, hartree, electron masses, atomic time units); the public fields say theirs.
#include <cstddef>
#include <array>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "tsunagu/fragmd/energy.hpp"
#include "tsunagu/fragmd/input.hpp"

namespace tsunagu::fragmd {

enum class Ensemble { NVE, NVT, NPT };
/// "nve" | "nvt" | "npt"; InvalidArgument naming the value otherwise.
Ensemble parse_ensemble(const std::string& name);

struct MdOptions {
  Ensemble ensemble = Ensemble::NVE;
  double time_step_fs = 1.0;          ///< fs
  std::size_t steps = 1000;           ///< steps to run in this call (a resumed run continues the step count)
  double temperature_K = 300.0;       ///< K: initial velocities and thermostat target
  double pressure_bar = 1.0;          ///< bar: NPT target pressure
  double thermostat_tau_fs = 100.0;   ///< fs: Nosé–Hoover period (Q_1 = N_f kT τ², Q_j = kT τ²)
  double barostat_tau_fs = 1000.0;    ///< fs: barostat period (W = (N_f + 3) kT τ²)
  int chain_length = 4;               ///< Nosé–Hoover chain thermostats
  std::uint64_t seed = 1;             ///< Maxwell–Boltzmann initial velocities
  bool init_velocities = true;        ///< draw initial velocities (false: start at rest); ignored when resuming
  std::size_t print_every = 100;      ///< steps between log lines (0 = none)
  std::size_t frame_every = 10;       ///< steps between trajectory frames (0 = no frames)
  std::size_t write_every = 100;      ///< frames between rewrites of the HDF5 trajectory and the restart file
  bool write_atoms = true;            ///< store atom positions in the trajectory (the largest dataset)
  std::string trajectory_path;        ///< HDF5 output; empty = none
  std::string restart_path;           ///< restart JSON written with every trajectory flush and at the end; empty = none
  std::string resume_path;            ///< restart JSON to continue from; empty = fresh start
  unsigned threads = 0;               ///< energy threads (0 = core::default_threads())
  bool quiet = false;                 ///< no progress line on stderr
  /// Starting velocities per fragment (efpmd `velocity` blocks): lab-frame centre velocity, bohr/t_au, then angular
  /// velocity about the fragment's file axes, rad/t_au. Used instead of Maxwell–Boltzmann when not empty.
  std::vector<std::array<double, 6>> initial_velocities;
  void validate() const;              ///< InvalidArgument naming the field
};

/// MdOptions from an efpmd-style input's MD keys (InputFile::extra), with efpmd's defaults for absent keys:
/// ensemble nve|nvt|npt, time_step (fs, 1), max_steps (100), print_step (1), velocitize (false; true draws
/// Maxwell–Boltzmann velocities), temperature (K, 300), pressure (bar, 1), thermostat_tau (fs, 1000),
/// barostat_tau (fs, 10000). Unparsable values: InvalidArgument naming the key. Other fields keep `base`.
MdOptions md_options_from_input(const InputFile& input, MdOptions base = {});

/// Rigid-body state of one fragment.
struct RigidBody {
  Eigen::Vector3d position = Eigen::Vector3d::Zero();          ///< centre of mass, bohr (unwrapped)
  Eigen::Vector3d momentum = Eigen::Vector3d::Zero();          ///< m_e·bohr/t_au (atomic units)
  Eigen::Matrix3d rotation = Eigen::Matrix3d::Identity();      ///< body (file frame) → lab, as place() uses it
  Eigen::Vector3d angular_momentum = Eigen::Vector3d::Zero();  ///< body (file) frame, ħ (atomic units)
};

/// Complete dynamical state: what a restart file stores.
struct MdState {
  std::size_t step = 0;
  double time_fs = 0.0;                                ///< fs
  std::vector<RigidBody> bodies;
  Eigen::Vector3d box = Eigen::Vector3d::Zero();       ///< bohr (periodic systems)
  std::vector<double> chain_position;                  ///< Nosé–Hoover ξ_j (dimensionless)
  std::vector<double> chain_velocity;                  ///< dξ_j/dt, 1/t_au
  double barostat_velocity = 0.0;                      ///< v_ε = d ln(V)/(3 dt), 1/t_au
};

/// One energy/force evaluation as the integrator needs it. Custom evaluators (tests, other force fields) may put
/// their energy in any EnergyTerms field; only total() drives the dynamics.
struct Evaluation {
  EnergyTerms energy;                          ///< hartree
  std::vector<FragmentGradient> gradient;      ///< per fragment (−force, −torque about the placement origin)
  std::optional<Eigen::Matrix3d> virial;       ///< molecular virial Σ_pairs r_ab ⊗ F_b, hartree (if known)
};
using Evaluator = std::function<Evaluation(const System& system, bool gradient)>;
/// The EFP2 energy of energy.hpp.
Evaluator efp_evaluator(unsigned threads = 0);

/// Instantaneous thermodynamic quantities.
struct Thermo {
  std::size_t step = 0;
  double time_fs = 0.0;                 ///< fs
  EnergyTerms potential;                ///< hartree
  double kinetic_translational = 0.0;   ///< hartree
  double kinetic_rotational = 0.0;      ///< hartree
  double temperature = 0.0;             ///< K, from all rigid-body degrees of freedom
  double pressure = 0.0;                ///< bar, molecular pressure; NaN when not evaluated or not periodic
  std::optional<Eigen::Matrix3d> pressure_tensor;   ///< bar, when the evaluator supplies a full virial
  double volume = 0.0;                  ///< Å³ (0 for non-periodic systems)
  double density = 0.0;                 ///< g/cm³ (0 for non-periodic systems)
  double conserved = 0.0;               ///< hartree: total energy (NVE) or extended-system energy (NVT, NPT)
  double kinetic() const { return kinetic_translational + kinetic_rotational; }
};

/// Rigid-body integrator over a System (whose fragment placement it updates).
class Dynamics {
 public:
  /// Takes the starting geometry from `system` (momenta zero) and validates `options` (NPT needs a periodic system).
  Dynamics(System system, const MdOptions& options, Evaluator evaluator = {});

  /// Maxwell–Boltzmann momenta at options.temperature_K (seeded; zero total momentum; rescaled so that the
  /// instantaneous temperature is exactly the target).
  void initialize_velocities();
  /// Set momenta from velocities (MdOptions::initial_velocities convention); InvalidArgument on a size mismatch.
  void set_velocities(const std::vector<std::array<double, 6>>& v);
  void advance(std::size_t steps = 1);
  /// Flip all momenta and thermostat/barostat velocities (time reversal).
  void reverse();
  /// Thermodynamic quantities of the current state. The pressure costs two extra energy evaluations unless the
  /// evaluator supplies a virial (NPT always has it).
  Thermo thermo(bool with_pressure = true);

  const MdState& state() const { return state_; }
  void set_state(const MdState& state);      ///< InvalidArgument when it does not fit the system
  const System& system() const { return system_; }
  const MdOptions& options() const { return options_; }
  std::size_t degrees_of_freedom() const { return dof_; }
  double total_mass_amu() const;

  /// Mass (amu), principal moments (amu·bohr²) of fragment i — for tests and analysis.
  double mass_amu(std::size_t i) const;
  Eigen::Vector3d principal_moments(std::size_t i) const;

 private:
  struct Body {                                          // per-fragment constants
    double mass_amu = 0, mass = 0;                        // amu, m_e
    Eigen::Vector3d c_body = Eigen::Vector3d::Zero();     // centre of mass in the file frame, bohr
    Eigen::Matrix3d V = Eigen::Matrix3d::Identity();      // principal axes (columns) in the file frame, det +1
    Eigen::Vector3d I = Eigen::Vector3d::Zero();          // principal moments, m_e·bohr²
    bool active[3] = {false, false, false};               // axes with a non-zero moment (linear molecules: two)
  };
  void place_all();
  void evaluate(bool need_virial);
  double virial_scalar();
  void kick(double h, double scale_trans);
  void drift(double h);
  void thermostat_half(double h);
  double barostat_force() const;
  double translational_kinetic() const;
  double rotational_kinetic() const;

  System system_;
  MdOptions options_;
  Evaluator evaluator_;
  std::vector<Body> bodies_;
  MdState state_;
  std::size_t dof_ = 0, dof_trans_ = 0;
  double q_chain1_ = 0, q_chain_ = 0, w_baro_ = 0, kT_ = 0, p_ext_ = 0;
  // Forces at the current state (lab frame; torque about the true centre of mass), refreshed by evaluate().
  std::vector<Eigen::Vector3d> force_, torque_;
  EnergyTerms energy_;
  double virial_ = 0;                          // hartree; valid when have_virial_
  std::optional<Eigen::Matrix3d> virial_tensor_;
  bool have_forces_ = false, have_virial_ = false;
};

/// Restart files (JSON, written atomically; doubles round-trip exactly).
void write_restart(const std::string& path, const MdState& state, const MdOptions& options, const System& system);
MdState read_restart(const std::string& path, const System& system);

/// A trajectory as written by run_md (HDF5 datasets documented in md.cpp); lengths in Å, energies in hartree.
struct Trajectory {
  std::vector<std::string> fragment_types;     ///< per fragment
  std::vector<double> fragment_mass;           ///< amu
  std::vector<std::string> atom_labels;        ///< per atom (fragment-major)
  std::vector<int> atom_fragment;              ///< fragment index of each atom
  std::vector<double> atom_mass;               ///< amu
  std::vector<double> atom_znuc;               ///< e (element)
  double time_step_fs = 0.0;
  std::string ensemble;
  // Per frame:
  std::vector<double> time_fs;
  std::vector<Eigen::MatrixX3d> com;           ///< n_fragments × 3, Å, unwrapped
  std::vector<std::vector<Eigen::Matrix3d>> rotation;
  std::vector<Eigen::Vector3d> box;            ///< Å (zero: not periodic)
  std::vector<Eigen::MatrixX3d> atoms;         ///< n_atoms × 3, Å; empty when not written
  std::vector<EnergyTerms> energy;             ///< hartree
  std::vector<double> kinetic;                 ///< hartree
  std::vector<double> temperature;             ///< K
  std::vector<double> pressure;                ///< bar (NaN: unknown)
  std::vector<Eigen::Matrix3d> pressure_tensor;   ///< bar; empty unless the run had a full virial
  std::vector<double> conserved;               ///< hartree
  std::size_t frames() const { return time_fs.size(); }
  std::size_t fragments() const { return fragment_types.size(); }
  void append(const Thermo& t, const MdState& s, const System& system, bool with_atoms);
  void write(const std::string& path) const;   ///< atomic (core::h5_write)
};
Trajectory read_trajectory(const std::string& path);

struct MdResult {
  MdState final_state;
  std::vector<Thermo> log;     ///< every print_every steps and the last step
  double ns_per_day = 0.0;     ///< wall-clock performance
};

/// Run (or resume) MD: writes the trajectory and restart files named in `options`, logs a table line every
/// print_every steps to `log` (nullptr = none). The whole trajectory is kept in memory because h5_write rewrites
/// the file at each flush: about 8·(13·n_fragments + 3·n_atoms + 20) bytes per frame (≈ 23 kB for 125 waters).
MdResult run_md(const System& system, const MdOptions& options, std::ostream* log = nullptr, Evaluator evaluator = {});

}  // namespace tsunagu::fragmd
