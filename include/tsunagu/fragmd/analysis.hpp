#pragma once
/// Analysis of rigid-fragment MD trajectories (md.hpp): density, radial distribution functions, mean-squared
/// displacement and self-diffusion, heat of vaporisation, excess mixing properties, Green–Kubo shear viscosity, and
/// SVG plots of them. Inputs are in the trajectory's units (Å, fs, hartree, bar, K); every result field names its unit.
#include <array>
#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tsunagu/fragmd/md.hpp"

namespace tsunagu::fragmd {

/// Mean, standard deviation and the standard error of the mean from block averaging (10 blocks, or the naive
/// sd/√n when there are fewer than 20 values) — frames of an MD run are correlated, so sd/√n would be too small.
struct MeanSd {
  double mean = 0.0, sd = 0.0, sem = 0.0;
  std::size_t n = 0;
};
MeanSd mean_sd(const std::vector<double>& values);

/// Mass density of a periodic trajectory.
struct DensitySeries {
  std::vector<double> time_fs;   ///< fs
  std::vector<double> density;   ///< g/cm³
  MeanSd stats;                  ///< g/cm³, over frames from first_frame on
};
DensitySeries density(const Trajectory& traj, std::size_t first_frame = 0);

struct RdfOptions {
  std::string element_a, element_b;   ///< element symbols ("O", "H"); both empty = centres of mass
  double r_max = 0.0;                 ///< Å; 0 = half the smallest box length of the first used frame
  double bin_width = 0.05;            ///< Å
  std::size_t first_frame = 0;
  std::size_t stride = 1;             ///< use every stride-th frame
  void validate() const;              ///< InvalidArgument naming the field
};
/// g(r) with the periodic minimum image, normalised by the ideal-gas pair density (→ 1 at large r). Atom pairs
/// within one fragment are excluded (intermolecular g(r)).
struct Rdf {
  std::string label;                  ///< "COM–COM", "O–H", …
  std::vector<double> r;              ///< bin centres, Å
  std::vector<double> g;
  std::vector<double> coordination;   ///< running coordination number of B around A up to the bin's outer edge
};
Rdf radial_distribution(const Trajectory& traj, const RdfOptions& options = {});

struct MsdOptions {
  std::size_t first_frame = 0;
  double max_lag_fs = 0.0;            ///< fs; 0 = half the analysed time span
  double fit_start_fs = 0.0;          ///< fs; fit window; 0 = 20 % of max_lag_fs
  double fit_end_fs = 0.0;            ///< fs; 0 = max_lag_fs
  bool remove_drift = true;           ///< subtract the mass-weighted centre-of-mass motion of the whole system
  void validate() const;
};
/// MSD of the unwrapped centres of mass averaged over molecules and all time origins, and D = slope/6 from an
/// ordinary least-squares line over the fit window. diffusion_sd is the OLS standard error of the slope/6; the MSD
/// points are correlated, so it is a lower bound on the true uncertainty.
struct Msd {
  std::vector<double> lag_fs;         ///< fs
  std::vector<double> msd;            ///< Å²
  double fit_start_fs = 0, fit_end_fs = 0;   ///< fs, the window used
  double slope = 0, intercept = 0;    ///< Å²/fs, Å²
  double diffusion = 0;               ///< cm²/s
  double diffusion_sd = 0;            ///< cm²/s
  double diffusion_1e5() const { return diffusion * 1e5; }        ///< 10⁻⁵ cm²/s
  double diffusion_sd_1e5() const { return diffusion_sd * 1e5; }  ///< 10⁻⁵ cm²/s
};
Msd mean_squared_displacement(const Trajectory& traj, const MsdOptions& options = {});

/// ΔH_vap = −⟨E_pot⟩/N + RT for rigid fragments (the gas-phase monomer has zero EFP energy).
struct HeatOfVaporization {
  double temperature_K = 0;           ///< K, the T used for RT
  double kj_mol = 0, kcal_mol = 0;    ///< per mole of molecules
  double sem_kj_mol = 0, sem_kcal_mol = 0;   ///< block-averaging standard error of ⟨E_pot⟩/N
};
/// temperature_K = 0 uses the trajectory's mean temperature.
HeatOfVaporization heat_of_vaporization(const Trajectory& traj, std::size_t first_frame = 0,
                                        double temperature_K = 0.0);

/// Per-molecule averages of a liquid run (NPT), the input of excess_mixing.
struct LiquidSummary {
  std::size_t molecules = 0;
  MeanSd enthalpy;   ///< kJ/mol per molecule: (E_pot + E_kin + P V)/N with P the given external pressure
  MeanSd volume;     ///< cm³/mol per molecule
};
LiquidSummary summarize_liquid(const Trajectory& traj, double pressure_bar, std::size_t first_frame = 0);

/// Excess enthalpy and volume of a binary mixture with mole fraction x_a of component A:
/// H^E = H_mix − x_a H_A − (1 − x_a) H_B per mole of molecules (same for V); errors combine the SEMs in quadrature.
struct MixingResult {
  double x_a = 0;
  double excess_enthalpy = 0, excess_enthalpy_sem = 0;   ///< kJ/mol
  double excess_volume = 0, excess_volume_sem = 0;       ///< cm³/mol
};
MixingResult excess_mixing(const LiquidSummary& mixture, double x_a, const LiquidSummary& pure_a,
                           const LiquidSummary& pure_b);

/// Excess enthalpy and volume straight from three NPT trajectories (`tsunagu fragmd mixing`, tsunagu.fragmd.mixing):
/// pure A and pure B must each hold one fragment type, the mixture exactly those two; x_a is counted from the
/// mixture's fragments. `first_frame` skips equilibration in all three; `pressure_bar` is the runs' external pressure
/// (P V term of the enthalpy). InvalidArgument (naming which trajectory) otherwise.
struct MixingOptions {
  std::size_t first_frame = 0;
  double pressure_bar = 1.0;   ///< bar
  void validate() const;
};
MixingResult excess_mixing(const Trajectory& mixture, const Trajectory& pure_a, const Trajectory& pure_b,
                           const MixingOptions& options = {});
/// The report `fragmd mixing` writes and tsunagu.fragmd.mixing returns (units in the key names); the components are
/// the fragment types of the pure trajectories.
nlohmann::json mixing_report(const MixingResult& result, const Trajectory& pure_a, const Trajectory& pure_b);

struct ViscosityOptions {
  std::size_t first_frame = 0;
  double max_lag_fs = 0.0;      ///< fs, upper limit of the autocorrelation integral; 0 = a tenth of the time span
  double temperature_K = 0.0;   ///< K; 0 = the trajectory's mean temperature
  void validate() const;
};
/// Green–Kubo η = V/(k_B T) ∫₀^t_max ⟨P_ab(0) P_ab(t)⟩ dt for the three off-diagonal components (each symmetrised,
/// sample mean removed, trapezoid rule over the frame spacing); the estimate is their mean, the error their
/// standard deviation/√3. Needs Trajectory::pressure_tensor (InvalidArgument otherwise).
struct Viscosity {
  double temperature_K = 0;              ///< K used
  double volume_A3 = 0;                  ///< Å³, mean volume
  std::array<double, 3> components{};    ///< mPa·s, from xy, xz, yz
  double mpa_s = 0, sem_mpa_s = 0;       ///< mPa·s (= cP)
  std::vector<double> lag_fs;            ///< fs
  std::vector<double> running;           ///< mPa·s, running integral averaged over the components
};
Viscosity green_kubo_viscosity(const Trajectory& traj, const ViscosityOptions& options = {});

/// Element symbol of a nuclear charge (1–54), "X" otherwise.
std::string element_symbol(double znuc);

/// Everything `tsunagu fragmd analyze` and tsunagu.fragmd.analyze report, in one call.
struct AnalyzeOptions {
  bool density = false, rdf = false, msd = false, hvap = false, viscosity = false;  ///< none set = all available
  std::vector<std::string> rdf_pairs;   ///< "com" or "A,B" element pairs; empty = {"com"}
  double rdf_max = 0.0, rdf_bin = 0.05; ///< Å
  std::size_t first_frame = 0;
  double temperature_K = 0.0;           ///< K for RT / k_B T; 0 = the trajectory's mean
  double max_lag_fs = 0.0, fit_start_fs = 0.0, fit_end_fs = 0.0;  ///< MSD window (MsdOptions)
  void validate() const;
};
struct AnalysisReport {
  nlohmann::json summary;                                   ///< numbers with units in the key names
  std::vector<std::pair<std::string, std::string>> plots;   ///< (file name, SVG text)
};
AnalysisReport analyze(const Trajectory& traj, const AnalyzeOptions& options);

/// SVG plots (core/plot.hpp), returned as strings; write them with core::plot::save_svg.
std::string plot_rdf(const std::vector<Rdf>& rdfs);
std::string plot_msd(const Msd& msd);
std::string plot_density(const DensitySeries& density);
std::string plot_energy(const Trajectory& traj);   ///< potential, kinetic and conserved energy (kJ/mol) vs time
std::string plot_viscosity(const Viscosity& viscosity);

}  // namespace tsunagu::fragmd
