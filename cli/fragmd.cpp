// tsunagu fragmd — argument parsing and formatting only; the work is tsunagu::fragmd.
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "common.hpp"
#include "tsunagu/core/io.hpp"
#include <filesystem>

#include "tsunagu/core/error.hpp"
#include "tsunagu/core/plot.hpp"
#include "tsunagu/fragmd/analysis.hpp"
#include "tsunagu/fragmd/descriptors.hpp"
#include "tsunagu/fragmd/md.hpp"
#include "tsunagu/fragmd/energy.hpp"
#include "tsunagu/fragmd/input.hpp"

namespace tsunagu::cli {
namespace {

struct EnergyArgs {
  std::string input, output, fraglib;
  bool gradient = false;
  unsigned threads = 0;
};

nlohmann::json energy_json(const fragmd::InputFile& in, const fragmd::ComputeResult& r) {
  nlohmann::json j;
  j["input"] = in.path;
  j["units"] = "hartree";
  j["total"] = r.energy.total();
  for (const auto& [name, value] : fragmd::named_terms(r.energy))
    if (name != "restraint" || !in.system.restraints.empty()) j[name] = value;
  j["fragments"] = in.system.fragments.size();
  if (in.system.terms.pol) j["pol_iterations"] = r.pol_iterations;
  if (in.system.ewald && in.system.terms.elec) {
    j["ewald_alpha_per_bohr"] = r.ewald_alpha;
    j["ewald_kvectors"] = r.ewald_kvectors;
  }
  if (in.ref_energy) {
    j["ref_energy"] = *in.ref_energy;
    j["ref_relative_error"] = std::abs(r.energy.total() - *in.ref_energy) / std::abs(*in.ref_energy);
  }
  if (!r.gradient.empty()) {
    nlohmann::json g = nlohmann::json::array();
    for (const auto& v : r.gradient) g.push_back({v[0], v[1], v[2], v[3], v[4], v[5]});
    j["gradient"] = g;
    j["gradient_units"] = "hartree/bohr (x, y, z), hartree/radian (rotations about x, y, z through the COM)";
  }
  return j;
}

void run_energy(const EnergyArgs& a) {
  fragmd::InputOptions io;
  io.fraglib = a.fraglib;
  fragmd::InputFile in = fragmd::read_input(a.input, io);
  fragmd::ComputeOptions opt;
  opt.gradient = a.gradient;
  opt.threads = a.threads;
  fragmd::ComputeResult r = fragmd::compute(in.system, opt);
  nlohmann::json j = energy_json(in, r);
  if (a.output.empty()) {
    std::cout << j.dump(2) << "\n";
  } else {
    core::write_json(a.output, j);
    std::ostringstream os;
    os << std::setprecision(10) << "total " << r.energy.total() << " hartree; wrote " << a.output;
    note(os.str());
  }
}

struct RunArgs {
  std::string input, output, fraglib, restart, resume, ensemble;
  // Unset = keep the input's value; a given value always reaches MdOptions::validate() (NaN included).
  std::optional<std::size_t> steps, print_every, frame_every;
  std::optional<double> time_step, temperature, pressure;
  std::optional<std::uint64_t> seed;
  unsigned threads = 0;
  bool no_atoms = false, at_rest = false;
};

void run_md_cmd(const RunArgs& a) {
  fragmd::InputOptions io;
  io.fraglib = a.fraglib;
  fragmd::InputFile in = fragmd::read_input(a.input, io);
  fragmd::MdOptions o = fragmd::md_options_from_input(in);
  // Command-line values override the input's MD keys.
  if (!a.ensemble.empty()) o.ensemble = fragmd::parse_ensemble(a.ensemble);
  if (a.steps) o.steps = *a.steps;
  if (a.print_every) o.print_every = *a.print_every;
  if (a.frame_every) o.frame_every = *a.frame_every;
  if (a.time_step) o.time_step_fs = *a.time_step;
  if (a.temperature) o.temperature_K = *a.temperature;
  if (a.pressure) o.pressure_bar = *a.pressure;
  if (a.seed) o.seed = *a.seed;
  if (a.at_rest) o.init_velocities = false;
  o.write_atoms = !a.no_atoms;
  o.trajectory_path = a.output;
  o.restart_path = a.restart.empty() ? a.output + ".restart.json" : a.restart;
  o.resume_path = a.resume;
  o.threads = a.threads;
  o.quiet = quiet();
  o.validate();
  fragmd::MdResult r = fragmd::run_md(in.system, o, quiet() ? nullptr : &std::cerr);
  std::ostringstream os;
  os << std::setprecision(4) << "wrote " << a.output << " (" << r.final_state.step << " steps, " << r.ns_per_day
     << " ns/day); restart " << o.restart_path;
  note(os.str());
}

struct AnalyzeArgs {
  std::string trajectory, output, plots;
  bool rdf = false, msd = false, dens = false, hvap = false, visc = false, all = false;
  std::vector<std::string> pairs;
  long first = 0;
  double rdf_max = 0, bin = 0.05, temperature = 0, max_lag = 0, fit_start = 0, fit_end = 0;
};

void run_analyze(const AnalyzeArgs& a) {
  fragmd::Trajectory t = fragmd::read_trajectory(a.trajectory);
  if (a.first < 0) throw InvalidArgument("--first must be non-negative");
  fragmd::AnalyzeOptions o;
  o.density = a.dens;
  o.rdf = a.rdf;
  o.msd = a.msd;
  o.hvap = a.hvap;
  o.viscosity = a.visc;
  if (a.all) o.density = o.rdf = o.msd = o.hvap = false;  // none set = everything the trajectory allows
  o.rdf_pairs = a.pairs;
  o.rdf_max = a.rdf_max;
  o.rdf_bin = a.bin;
  o.first_frame = static_cast<std::size_t>(a.first);
  o.temperature_K = a.temperature;
  o.max_lag_fs = a.max_lag;
  o.fit_start_fs = a.fit_start;
  o.fit_end_fs = a.fit_end;
  fragmd::AnalysisReport rep = fragmd::analyze(t, o);
  nlohmann::json& j = rep.summary;
  j["trajectory"] = a.trajectory;
  const auto& svgs = rep.plots;
  if (!a.plots.empty()) {
    std::filesystem::create_directories(a.plots);
    for (const auto& [name, svg] : svgs) core::plot::save_svg(std::filesystem::path(a.plots) / name, svg);
    note("wrote " + std::to_string(svgs.size()) + " plots to " + a.plots);
  }
  if (a.output.empty()) {
    std::cout << j.dump(2) << "\n";
  } else {
    core::write_json(a.output, j);
    note("wrote " + a.output);
  }
}

struct MixArgs {
  std::string mixture, pure_a, pure_b, output;
  long first = 0;
  double pressure = 1.0;
};

void run_mixing(const MixArgs& a) {
  if (a.first < 0) throw InvalidArgument("--first must be non-negative");
  const fragmd::Trajectory mix = fragmd::read_trajectory(a.mixture), ta = fragmd::read_trajectory(a.pure_a),
                           tb = fragmd::read_trajectory(a.pure_b);
  fragmd::MixingOptions o;
  o.first_frame = static_cast<std::size_t>(a.first);
  o.pressure_bar = a.pressure;
  nlohmann::json j = fragmd::mixing_report(fragmd::excess_mixing(mix, ta, tb, o), ta, tb);
  j["mixture"] = a.mixture;
  j["pure_a"] = a.pure_a;
  j["pure_b"] = a.pure_b;
  j["first_frame"] = a.first;
  j["pressure_bar"] = a.pressure;
  if (a.output.empty()) {
    std::cout << j.dump(2) << "\n";
  } else {
    core::write_json(a.output, j);
    note("wrote " + a.output);
  }
}

struct DescArgs {
  std::vector<std::string> files;
  std::string output;
};

void run_descriptors(const DescArgs& a) {
  std::ostringstream out;
  out << std::setprecision(10) << "fragment,file";
  for (const auto& n : fragmd::descriptor_names()) out << ',' << n;
  out << '\n';
  for (const auto& f : a.files)
    for (const auto& t : fragmd::read_fragment_file(f)) {
      auto d = fragmd::describe(t);
      out << d.name << ',' << f;
      for (double v : fragmd::descriptor_values(d)) out << ',' << v;
      out << '\n';
    }
  if (a.output.empty()) {
    std::cout << out.str();
  } else {
    core::write_file_atomic(a.output, out.str());
    note("wrote " + a.output);
  }
}

}  // namespace

void register_fragmd(CLI::App& app) {
  auto* f = app.add_subcommand("fragmd", "EFP2 fragment-potential energies, gradients and rigid-body MD");
  f->require_subcommand(1);

  static EnergyArgs e;
  auto* en = f->add_subcommand("energy", "EFP2 energy (total and per term, hartree) of an efpmd-style input");
  en->add_option("input", e.input, "efpmd-style input (.in)")->required()->check(CLI::ExistingFile);
  en->add_option("-o,--output", e.output, "energy.json to write (default: stdout)");
  en->add_option("--fraglib", e.fraglib, "directory of library fragments (NAME_l -> NAME.efp) when the input has "
                 "no fraglib_path; default $TSUNAGU_FRAGLIB");
  en->add_flag("--gradient", e.gradient, "also compute the per-fragment gradient");
  en->add_option("--threads", e.threads, "threads (0 = all cores)")->check(non_negative())->capture_default_str();
  en->callback([] { run_energy(e); });

  static RunArgs r;
  auto* ru = f->add_subcommand("run", "rigid-body EFP2 molecular dynamics (NVE, NVT Nosé–Hoover chains, NPT MTK)");
  ru->add_option("input", r.input, "efpmd-style input (.in); its MD keys (ensemble, time_step, max_steps, "
                 "temperature, pressure, thermostat_tau, barostat_tau, print_step, velocitize) are read")
      ->required()->check(CLI::ExistingFile);
  ru->add_option("-o,--output", r.output, "trajectory (HDF5) to write")->required();
  ru->add_option("--fraglib", r.fraglib, "directory of library fragments when the input has no fraglib_path");
  ru->add_option("--ensemble", r.ensemble, "nve | nvt | npt (overrides the input)");
  ru->add_option("--steps", r.steps, "MD steps (overrides max_steps)")->check(non_negative());
  ru->add_option("--time-step", r.time_step, "fs (overrides time_step)");
  ru->add_option("--temperature", r.temperature, "K (overrides temperature)");
  ru->add_option("--pressure", r.pressure, "bar, NPT (overrides pressure)");
  ru->add_option("--seed", r.seed, "seed of the initial Maxwell–Boltzmann velocities")->check(non_negative());
  ru->add_flag("--at-rest", r.at_rest, "start with zero velocities");
  ru->add_option("--print-every", r.print_every, "steps between log lines")->check(non_negative());
  ru->add_option("--frame-every", r.frame_every, "steps between trajectory frames")->check(non_negative());
  ru->add_flag("--no-atoms", r.no_atoms, "do not store atom positions (smaller trajectories)");
  ru->add_option("--restart", r.restart, "restart file to write (default: OUTPUT.restart.json)");
  ru->add_option("--resume", r.resume, "continue from this restart file")->check(CLI::ExistingFile);
  ru->add_option("--threads", r.threads, "threads (0 = all cores)")->check(non_negative())->capture_default_str();
  ru->callback([] { run_md_cmd(r); });

  static AnalyzeArgs an;
  auto* az = f->add_subcommand("analyze", "liquid properties from a trajectory: density, g(r), MSD/diffusion, heat of "
                               "vaporisation, Green–Kubo viscosity (all when no property flag is given)");
  az->add_option("trajectory", an.trajectory, "trajectory written by fragmd run")->required()->check(CLI::ExistingFile);
  az->add_flag("--density", an.dens, "mass density");
  az->add_flag("--rdf", an.rdf, "radial distribution functions (--pair)");
  az->add_option("--pair", an.pairs, "com (centres of mass) or A,B element symbols, e.g. O,O (repeatable)");
  az->add_option("--rdf-max", an.rdf_max, "Å (0 = half the box)")->check(CLI::NonNegativeNumber);
  az->add_option("--bin", an.bin, "g(r) bin width, Å")->check(CLI::PositiveNumber)->capture_default_str();
  az->add_flag("--msd", an.msd, "mean-squared displacement and self-diffusion coefficient");
  az->add_option("--max-lag", an.max_lag, "fs, longest MSD lag (0 = half the run)")->check(CLI::NonNegativeNumber);
  az->add_option("--fit-start", an.fit_start, "fs, MSD fit window start")->check(CLI::NonNegativeNumber);
  az->add_option("--fit-end", an.fit_end, "fs, MSD fit window end")->check(CLI::NonNegativeNumber);
  az->add_flag("--hvap", an.hvap, "heat of vaporisation");
  az->add_flag("--viscosity", an.visc, "Green–Kubo shear viscosity (needs a pressure tensor in the trajectory)");
  az->add_option("--temperature", an.temperature, "K for RT and k_B T (0 = the trajectory's mean)");
  az->add_option("--first", an.first, "first frame to analyse (equilibration skipped)")->check(CLI::NonNegativeNumber);
  az->add_option("--plots", an.plots, "directory for SVG plots");
  az->add_option("-o,--output", an.output, "report JSON (default: stdout)");
  az->add_flag("--all", an.all, "every property the trajectory allows");
  az->callback([] { run_analyze(an); });

  static MixArgs mx;
  auto* mi = f->add_subcommand("mixing", "excess enthalpy and volume of a binary mixture from three NPT trajectories "
                               "(mixture, pure A, pure B; x_A counted from the mixture)");
  mi->add_option("mixture", mx.mixture, "trajectory of the mixture")->required()->check(CLI::ExistingFile);
  mi->add_option("--pure-a", mx.pure_a, "trajectory of pure A")->required()->check(CLI::ExistingFile);
  mi->add_option("--pure-b", mx.pure_b, "trajectory of pure B")->required()->check(CLI::ExistingFile);
  mi->add_option("--first", mx.first, "first frame of every trajectory to use (equilibration skipped)")
      ->check(CLI::NonNegativeNumber);
  mi->add_option("--pressure", mx.pressure, "bar, the runs' external pressure (P V term)")->capture_default_str();
  mi->add_option("-o,--output", mx.output, "report JSON (default: stdout)");
  mi->callback([] { run_mixing(mx); });

  static DescArgs d;
  auto* de = f->add_subcommand("descriptors",
                               "per-fragment electronic descriptors (charge, dipole, quadrupole, polarisability, C6) "
                               "as CSV, for sparse/nn models across liquids");
  de->add_option("files", d.files, "MAKEFP fragment files (.efp)")->required()->check(CLI::ExistingFile);
  de->add_option("-o,--output", d.output, "CSV to write (default: stdout)");
  de->callback([] { run_descriptors(d); });
}

}  // namespace tsunagu::cli
