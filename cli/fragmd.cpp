// tsunagu fragmd — argument parsing and formatting only; the work is tsunagu::fragmd.
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "common.hpp"
#include "tsunagu/core/io.hpp"
#include "tsunagu/fragmd/descriptors.hpp"
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
  j["electrostatic"] = r.energy.electrostatic;
  j["charge_penetration"] = r.energy.charge_penetration;
  j["electrostatic_point_charges"] = r.energy.electrostatic_point_charges;
  j["polarization"] = r.energy.polarization;
  j["dispersion"] = r.energy.dispersion;
  j["exchange_repulsion"] = r.energy.exchange_repulsion;
  if (!in.system.restraints.empty()) j["restraint"] = r.energy.restraint;
  j["fragments"] = in.system.fragments.size();
  if (in.system.terms.pol) j["pol_iterations"] = r.pol_iterations;
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

  static DescArgs d;
  auto* de = f->add_subcommand("descriptors",
                               "per-fragment electronic descriptors (charge, dipole, quadrupole, polarisability, C6) "
                               "as CSV, for sparse/nn models across liquids");
  de->add_option("files", d.files, "MAKEFP fragment files (.efp)")->required()->check(CLI::ExistingFile);
  de->add_option("-o,--output", d.output, "CSV to write (default: stdout)");
  de->callback([] { run_descriptors(d); });
}

}  // namespace tsunagu::cli
