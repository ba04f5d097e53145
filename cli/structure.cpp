// tsunagu structure info | convert — argument parsing and formatting only; the work is tsunagu::structure.
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common.hpp"
#include "structure_input.hpp"
#include "tsunagu/core/error.hpp"
#include "tsunagu/structure/describe.hpp"
#include "tsunagu/structure/poscar.hpp"

namespace tsunagu::cli {
namespace {

namespace st = tsunagu::structure;

std::string sig(double v, int d = 6) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g", d, v);
  return buf;
}

// "1,2,3,5" -> "1-3,5" (1-based site numbers, as printed for people).
std::string ranges(const std::vector<std::size_t>& zero_based) {
  std::string out;
  for (std::size_t k = 0; k < zero_based.size();) {
    std::size_t e = k;
    while (e + 1 < zero_based.size() && zero_based[e + 1] == zero_based[e] + 1) ++e;
    if (!out.empty()) out += ",";
    out += std::to_string(zero_based[k] + 1);
    if (e > k) out += "-" + std::to_string(zero_based[e] + 1);
    k = e + 1;
  }
  return out;
}

struct InfoArgs {
  StructureInput in;
  double symprec = 1e-3, angle_tolerance = -1;
  bool json = false;
};

void run_info(const InfoArgs& a) {
  const st::Crystal c = load_structure(a.in);
  const nlohmann::json j = st::describe(c, a.symprec, a.angle_tolerance);
  if (a.json) {
    std::cout << j.dump(2) << "\n";
    return;
  }
  const auto& l = j["lattice"];
  std::cout << a.in.file << ": " << j["formula"].get<std::string>() << ", " << c.n_sites() << " sites"
            << (c.periodic ? "" : " (molecule)") << "\n";
  if (c.periodic)
    std::cout << "lattice: a=" << sig(l["a"]) << " b=" << sig(l["b"]) << " c=" << sig(l["c"])
              << " A  alpha=" << sig(l["alpha"]) << " beta=" << sig(l["beta"]) << " gamma=" << sig(l["gamma"])
              << " deg  volume " << sig(l["volume"]) << " A^3\n";
  if (j["symmetry"].is_null()) {
    std::cout << "space group: not determined (" << j["symmetry_note"].get<std::string>() << ")\n";
    return;
  }
  const auto& s = j["symmetry"];
  std::cout << "space group: " << s["international"].get<std::string>() << " (" << s["number"].get<int>()
            << "), point group " << s["point_group"].get<std::string>() << ", " << s["n_operations"].get<int>()
            << " operations, symprec " << sig(a.symprec) << " A\n";
  std::cout << "orbits:\n";
  for (const auto& o : s["orbits"]) {
    std::string labels;
    for (const auto& x : o["labels"]) labels += (labels.empty() ? "" : ",") + x.get<std::string>();
    std::printf("  %-3s %-4s %-8s sites %s  (%s)\n", o["element"].get<std::string>().c_str(),
                o["wyckoff"].get<std::string>().c_str(), o["site_symmetry"].get<std::string>().c_str(),
                ranges(o["sites"].get<std::vector<std::size_t>>()).c_str(), labels.c_str());
  }
  std::fflush(stdout);
}

struct ConvertArgs {
  StructureInput in;
  std::string output;
  bool cartesian = false;
};

void run_convert(const ConvertArgs& a) {
  const st::Crystal c = load_structure(a.in);
  st::PoscarWriteOptions o;
  o.cartesian = a.cartesian;
  o.comment = c.formula() + " from " + a.in.file;
  st::write_poscar(a.output, c, o);
  note("wrote " + a.output + " (" + std::to_string(c.n_sites()) + " atoms)");
}

}  // namespace

void register_structure(CLI::App& app) {
  auto* s = app.add_subcommand("structure", "crystal structures: read CIF/POSCAR/JSON/XYZ, space groups via spglib");
  s->require_subcommand(1);

  static InfoArgs ia;
  auto* info = s->add_subcommand("info", "formula, lattice, space group, point group and Wyckoff orbits of a file");
  add_structure_input(info, ia.in);
  info->add_option("--symprec", ia.symprec, "symmetry tolerance (A, > 0)")->capture_default_str();
  info->add_option("--angle-tolerance", ia.angle_tolerance, "angle tolerance (degrees; -1 = spglib's default)")
      ->capture_default_str();
  info->add_flag("--json", ia.json, "print the description as JSON");
  info->callback([] { run_info(ia); });

  static ConvertArgs ca;
  auto* conv = s->add_subcommand("convert", "write a structure as a VASP 5 POSCAR (atoms grouped by species)");
  add_structure_input(conv, ca.in);
  conv->add_option("-o,--output", ca.output, "POSCAR file to write")->required();
  conv->add_flag("--cartesian", ca.cartesian, "Cartesian positions instead of Direct");
  conv->callback([] { run_convert(ca); });
}

}  // namespace tsunagu::cli
