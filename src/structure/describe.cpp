#include "tsunagu/structure/describe.hpp"

#include <algorithm>

#include "tsunagu/core/error.hpp"

namespace tsunagu::structure {

nlohmann::json to_json(const Crystal& c) {
  using nlohmann::json;
  const auto p = c.parameters();
  json lattice = {{"matrix", json::array()}, {"a", p(0)},     {"b", p(1)},        {"c", p(2)},
                  {"alpha", p(3)},           {"beta", p(4)},  {"gamma", p(5)},    {"volume", c.volume()}};
  for (int r = 0; r < 3; ++r) lattice["matrix"].push_back({c.lattice(r, 0), c.lattice(r, 1), c.lattice(r, 2)});
  json sites = json::array();
  for (std::size_t i = 0; i < c.n_sites(); ++i) {
    const auto r = static_cast<Eigen::Index>(i);
    sites.push_back({{"label", c.labels[i]},
                     {"element", element_symbol(c.numbers[i])},
                     {"frac", {c.frac(r, 0), c.frac(r, 1), c.frac(r, 2)}},
                     {"occupancy", c.occupancy(i)}});
  }
  return {{"formula", c.formula()}, {"n_sites", c.n_sites()}, {"periodic", c.periodic}, {"lattice", lattice},
          {"sites", sites}};
}

nlohmann::json to_json(const SymmetryDataset& d, const Crystal& c) {
  using nlohmann::json;
  json orbits = json::array();
  for (const auto& orbit : d.orbits()) {
    const std::size_t first = orbit.front();
    std::vector<std::string> labels;
    for (auto i : orbit)
      if (std::find(labels.begin(), labels.end(), c.labels[i]) == labels.end()) labels.push_back(c.labels[i]);
    orbits.push_back({{"element", element_symbol(c.numbers[first])},
                      {"wyckoff", std::to_string(orbit.size()) + d.wyckoffs[first]},
                      {"site_symmetry", d.site_symmetry_symbols[first]},
                      {"sites", orbit},
                      {"labels", labels}});
  }
  return {{"number", d.number},
          {"international", d.international},
          {"hall_symbol", d.hall_symbol},
          {"hall_number", d.hall_number},
          {"choice", d.choice},
          {"point_group", d.point_group},
          {"n_operations", d.operations.size()},
          {"symprec", d.symprec},
          {"orbits", orbits}};
}

nlohmann::json to_json(const MagneticSymmetry& m) {
  using nlohmann::json;
  json basis = json::array();
  for (Eigen::Index k = 0; k < m.ferromagnetic_basis.cols(); ++k)
    basis.push_back({m.ferromagnetic_basis(0, k), m.ferromagnetic_basis(1, k), m.ferromagnetic_basis(2, k)});
  return {{"uni_number", m.uni_number},
          {"bns_number", m.bns_number},
          {"og_number", m.og_number},
          {"litvin_number", m.litvin_number},
          {"type", m.type},
          {"family_number", m.family_number},
          {"n_operations", m.operations.size()},
          {"admits_ferromagnetism", m.admits_ferromagnetism},
          {"ferromagnetic_basis", basis},
          {"equivalent_atoms", m.equivalent_atoms}};
}

nlohmann::json describe(const Crystal& crystal, double symprec, double angle_tolerance) {
  nlohmann::json j = to_json(crystal);
  std::string note;
  if (!crystal.periodic) note = "a molecule has no space group";
  for (std::size_t i = 0; i < crystal.n_sites() && note.empty(); ++i)
    if (crystal.occupancy(i) < 1 - 1e-6) note = "partially occupied sites: spglib needs an ordered structure";
  if (note.empty()) {
    j["symmetry"] = to_json(analyze(crystal, symprec, angle_tolerance), crystal);
  } else {
    j["symmetry"] = nullptr;
    j["symmetry_note"] = note;
  }
  return j;
}

}  // namespace tsunagu::structure
