// basis.json: the contract between `magnetic generate` and `magnetic run` (and what users read).
#include <cmath>

#include <nlohmann/json.hpp>

#include "tsunagu/core/error.hpp"
#include "tsunagu/core/io.hpp"
#include "tsunagu/core/version.hpp"
#include "tsunagu/magnetic/basis.hpp"

namespace tsunagu::magnetic {
namespace {

using nlohmann::json;

constexpr const char* kFormat = "tsunagu.magnetic.basis/1";

// Rounded to 12 significant digits: the file stays readable and exact enough for orthonormality to 1e-10.
double tidy(double x) {
  if (std::abs(x) < 1e-13) return 0.0;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.12g", x);
  return std::strtod(buf, nullptr);
}

json rows(const Eigen::MatrixXd& m) {
  json a = json::array();
  for (Eigen::Index i = 0; i < m.rows(); ++i) {
    json r = json::array();
    for (Eigen::Index k = 0; k < m.cols(); ++k) r.push_back(tidy(m(i, k)));
    a.push_back(r);
  }
  return a;
}

json msg_json(const MagneticGroupLabel& g) {
  return {{"uni", g.uni}, {"bns", g.bns}, {"bns_symbol", g.bns_symbol}, {"type", g.type}};
}

[[noreturn]] void bad(const std::string& path, const std::string& field, const std::string& what) {
  // A JSON field, not a table column: name it in the message and leave ParseError's column empty.
  throw ParseError(path, 0, "", field.empty() ? what : "field '" + field + "': " + what);
}

Eigen::MatrixXd matrix_from(const json& j, const std::string& path, const std::string& field, Eigen::Index cols) {
  if (!j.is_array()) bad(path, field, "expected an array of rows");
  Eigen::MatrixXd m(static_cast<Eigen::Index>(j.size()), cols);
  for (std::size_t i = 0; i < j.size(); ++i) {
    if (!j[i].is_array() || static_cast<Eigen::Index>(j[i].size()) != cols)
      bad(path, field, "row " + std::to_string(i) + " must have " + std::to_string(cols) + " numbers");
    for (Eigen::Index k = 0; k < cols; ++k) {
      const json& v = j[i][static_cast<std::size_t>(k)];
      if (!v.is_number()) bad(path, field, "row " + std::to_string(i) + " has a non-number");
      m(static_cast<Eigen::Index>(i), k) = v.get<double>();
      if (!std::isfinite(m(static_cast<Eigen::Index>(i), k))) bad(path, field, "non-finite number");
    }
  }
  return m;
}

template <class T>
T field_of(const json& obj, const char* key, const std::string& path, const std::string& ctx) {
  if (!obj.is_object() || !obj.contains(key)) bad(path, ctx + key, "missing");
  try {
    return obj.at(key).get<T>();
  } catch (const json::exception&) {
    bad(path, ctx + key, "has the wrong type");
  }
}

}  // namespace

std::string basis_to_json(const MagneticBasis& b, double moment) {
  json j;
  j["format"] = kFormat;
  j["generator"] = std::string("tsunagu ") + version();
  const auto& c = b.crystal;
  json s;
  s["source"] = c.source;
  s["formula"] = c.formula();
  s["lattice"] = rows(c.lattice);
  s["species"] = c.symbols();
  s["labels"] = c.labels;
  s["frac"] = rows(c.frac);
  j["structure"] = s;
  json sites = json::array();
  for (std::size_t i : b.magnetic_sites)
    sites.push_back({{"site", i}, {"label", c.labels[i]}, {"element", c.symbols()[i]}});
  j["magnetic_atoms"] = sites;
  j["space_group"] = {{"number", b.space_group_number}, {"symbol", b.space_group}};
  j["point_group"] = b.point_group;
  j["point_group_schoenflies"] = b.point_group_schoenflies;
  json irreps = json::array();
  for (std::size_t r = 0; r < b.irreps.size(); ++r)
    irreps.push_back({{"label", b.irreps[r]}, {"dimension", b.irrep_dimensions[r]}, {"multiplicity", b.multiplicities[r]}});
  j["irreps"] = irreps;
  j["decomposition"] = b.decomposition;
  j["dimension"] = b.dimension;
  j["complete"] = b.complete;
  j["order"] = b.order == MultipoleOrder::Rank ? "rank" : "power";
  j["max_rank_used"] = b.max_rank_used;
  json orbits = json::array();
  for (const Orbit& o : b.orbits) {
    json jo;
    jo["sites"] = o.sites;
    jo["wyckoff"] = o.wyckoff;
    jo["site_symmetry"] = o.site_symmetry;
    jo["primitive_atoms"] = o.primitive_atoms;
    jo["decomposition"] = o.decomposition;
    jo["cluster"] = rows(o.cluster);
    jo["cluster_site"] = o.cluster_site;
    orbits.push_back(jo);
  }
  j["orbits"] = orbits;
  json basis = json::array();
  for (const BasisVector& v : b.vectors) {
    basis.push_back({{"index", v.index},
                     {"orbit", v.orbit},
                     {"irrep", v.irrep},
                     {"copy", v.copy},
                     {"component", v.component},
                     {"multipole", v.multipole},
                     {"type", v.type == MultipoleType::Magnetic ? "M" : "T"},
                     {"rank", v.rank},
                     {"moments", rows(v.moments)},
                     {"magnetic_space_group", msg_json(v.magnetic_space_group)},
                     {"ahe_allowed", v.ahe_allowed}});
  }
  j["basis"] = basis;
  json dirs = json::array();
  for (const Direction& d : b.directions) {
    dirs.push_back({{"orbit", d.orbit},
                    {"irrep", d.irrep},
                    {"copy", d.copy},
                    {"multipole", d.multipole},
                    {"direction", d.label},
                    {"coefficients", d.coefficients},
                    {"vectors", d.vectors},
                    {"moments", rows(d.moments)},
                    {"magnetic_space_group", msg_json(d.magnetic_space_group)},
                    {"ahe_allowed", d.ahe_allowed}});
  }
  j["directions"] = dirs;
  json cands = json::array();
  for (const Candidate& cd : b.candidates(moment)) {
    Eigen::MatrixXd m(static_cast<Eigen::Index>(b.magnetic_sites.size()), 3);
    for (std::size_t i = 0; i < b.magnetic_sites.size(); ++i)
      m.row(static_cast<Eigen::Index>(i)) = cd.moments.row(static_cast<Eigen::Index>(b.magnetic_sites[i]));
    cands.push_back({{"name", cd.name},
                     {"irrep", cd.irrep},
                     {"multipole", cd.multipole},
                     {"direction", cd.direction},
                     {"moments_muB", rows(m)},
                     {"magnetic_space_group", msg_json(cd.magnetic_space_group)},
                     {"ahe_allowed", cd.ahe_allowed}});
  }
  j["candidate_moment_muB"] = moment;
  j["candidates"] = cands;
  return j.dump(1);
}

namespace {
std::vector<Candidate> read_candidates(const std::string& path) {
  const json j = core::read_json(path);
  if (!j.is_object() || j.value("format", std::string()) != kFormat)
    bad(path, "format", std::string("not a tsunagu magnetic basis (expected format '") + kFormat + "')");
  const json& s = j.at("structure");
  structure::Crystal c;
  c.source = field_of<std::string>(s, "source", path, "structure.");
  c.lattice = matrix_from(s.value("lattice", json()), path, "structure.lattice", 3);
  if (c.lattice.rows() != 3) bad(path, "structure.lattice", "must have 3 rows");
  const auto species = field_of<std::vector<std::string>>(s, "species", path, "structure.");
  c.labels = field_of<std::vector<std::string>>(s, "labels", path, "structure.");
  c.frac = matrix_from(s.value("frac", json()), path, "structure.frac", 3);
  for (const auto& e : species) {
    const auto z = structure::find_atomic_number(e);
    if (!z) bad(path, "structure.species", "unknown element '" + e + "'");
    c.numbers.push_back(*z);
  }
  try {
    c.validate();
  } catch (const InvalidArgument& e) {
    bad(path, "structure", e.what());
  }
  const json sites = j.value("magnetic_atoms", json());
  if (!sites.is_array() || sites.empty()) bad(path, "magnetic_atoms", "missing or empty");
  std::vector<std::size_t> ms;
  for (const json& e : sites) {
    const auto i = field_of<std::size_t>(e, "site", path, "magnetic_atoms[].");
    if (i >= c.n_sites()) bad(path, "magnetic_atoms[].site", "site " + std::to_string(i) + " out of range");
    ms.push_back(i);
  }
  const json cands = j.value("candidates", json());
  if (!cands.is_array()) bad(path, "candidates", "missing");
  std::vector<Candidate> out;
  for (std::size_t k = 0; k < cands.size(); ++k) {
    const json& e = cands[k];
    const std::string ctx = "candidates[" + std::to_string(k) + "].";
    Candidate cd;
    cd.name = field_of<std::string>(e, "name", path, ctx);
    if (cd.name.empty() || cd.name.find_first_of("/\\ \t\n") != std::string::npos)
      bad(path, ctx + "name", "must be non-empty without spaces or slashes");
    cd.irrep = field_of<std::string>(e, "irrep", path, ctx);
    cd.multipole = field_of<std::string>(e, "multipole", path, ctx);
    cd.direction = e.value("direction", std::string());
    cd.crystal = c;
    const Eigen::MatrixXd m = matrix_from(e.value("moments_muB", json()), path, ctx + "moments_muB", 3);
    if (m.rows() != static_cast<Eigen::Index>(ms.size()))
      bad(path, ctx + "moments_muB", "has " + std::to_string(m.rows()) + " rows for " + std::to_string(ms.size()) +
                                         " magnetic atoms");
    cd.moments = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(c.n_sites()), 3);
    for (std::size_t i = 0; i < ms.size(); ++i)
      cd.moments.row(static_cast<Eigen::Index>(ms[i])) = m.row(static_cast<Eigen::Index>(i));
    const json g = e.value("magnetic_space_group", json::object());
    cd.magnetic_space_group.uni = g.value("uni", 0);
    cd.magnetic_space_group.bns = g.value("bns", std::string());
    cd.magnetic_space_group.bns_symbol = g.value("bns_symbol", std::string());
    cd.magnetic_space_group.type = g.value("type", 0);
    cd.ahe_allowed = e.value("ahe_allowed", false);
    out.push_back(std::move(cd));
  }
  return out;
}
}  // namespace

std::vector<Candidate> read_candidates_json(const std::string& path) {
  try {
    return read_candidates(path);
  } catch (const nlohmann::json::exception& e) {
    bad(path, "", std::string("malformed basis: ") + e.what());
  }
}

}  // namespace tsunagu::magnetic
