#include "tsunagu/structure/formats.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <sstream>

#include <Eigen/LU>
#include <nlohmann/json.hpp>

#include "tsunagu/core/error.hpp"
#include "tsunagu/core/io.hpp"
#include "tsunagu/structure/cif.hpp"
#include "tsunagu/structure/poscar.hpp"

namespace tsunagu::structure {
namespace {

using nlohmann::json;

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Strip "FILE: " from a validate() message: the ParseError around it names the file already.
std::string without_source(const std::string& message, const std::string& source) {
  return message.rfind(source + ": ", 0) == 0 ? message.substr(source.size() + 2) : message;
}

double number(const json& v, const std::string& source, const std::string& field) {
  if (!v.is_number()) throw ParseError(source, 0, "", field + ": expected a number, got " + v.dump());
  const double x = v.get<double>();
  if (!std::isfinite(x)) throw ParseError(source, 0, "", field + ": non-finite value");
  return x;
}

Eigen::RowVector3d vec3(const json& v, const std::string& source, const std::string& field) {
  if (!v.is_array() || v.size() != 3) throw ParseError(source, 0, "", field + ": expected 3 numbers");
  Eigen::RowVector3d x;
  for (int k = 0; k < 3; ++k) x(k) = number(v[static_cast<std::size_t>(k)], source, field);
  return x;
}

// Molecules get a box: the atoms' extent plus 10 Å on each axis, so that the lattice is regular and Cartesian
// positions survive frac = r L^-1 exactly enough.
void box_molecule(Crystal& c, const Eigen::MatrixXd& cart) {
  Eigen::Vector3d extent = Eigen::Vector3d::Zero();
  if (cart.rows() > 0) extent = (cart.colwise().maxCoeff() - cart.colwise().minCoeff()).transpose();
  c.lattice = (extent.array() + 10.0).matrix().asDiagonal();
  c.frac = cart * c.lattice.inverse();
  c.periodic = false;
}

std::vector<std::string> words(const std::string& line) {
  std::vector<std::string> out;
  std::istringstream in(line);
  std::string w;
  while (in >> w) out.push_back(w);
  return out;
}

}  // namespace

Format parse_format(std::string_view name) {
  const std::string n = lower(name);
  if (n == "auto" || n.empty()) return Format::Auto;
  if (n == "cif") return Format::Cif;
  if (n == "poscar" || n == "vasp" || n == "contcar") return Format::Poscar;
  if (n == "json") return Format::Json;
  if (n == "xyz" || n == "extxyz") return Format::Xyz;
  throw InvalidArgument("format: unknown '" + std::string(name) + "' (auto, cif, poscar, json, xyz)");
}

const char* format_name(Format f) {
  switch (f) {
    case Format::Auto: return "auto";
    case Format::Cif: return "cif";
    case Format::Poscar: return "poscar";
    case Format::Json: return "json";
    case Format::Xyz: return "xyz";
  }
  return "?";
}

Format detect_format(const std::filesystem::path& path, std::string_view content) {
  const std::string ext = lower(path.extension().string());
  const std::string name = lower(path.filename().string());
  if (ext == ".cif" || ext == ".mcif") return Format::Cif;
  if (ext == ".vasp" || ext == ".poscar" || name.rfind("poscar", 0) == 0 || name.rfind("contcar", 0) == 0)
    return Format::Poscar;
  if (ext == ".json") return Format::Json;
  if (ext == ".xyz" || ext == ".extxyz") return Format::Xyz;
  const auto b = content.find_first_not_of(" \t\r\n");
  if (b != std::string_view::npos && content[b] == '{') return Format::Json;
  std::istringstream in{std::string(content)};
  std::string line;
  bool first = true;
  while (std::getline(in, line)) {
    if (lower(line).rfind("data_", 0) == 0) return Format::Cif;
    if (first) {
      const auto w = words(line);
      char* end = nullptr;
      if (w.size() == 1 && (std::strtol(w[0].c_str(), &end, 10), end == w[0].c_str() + w[0].size()))
        return Format::Xyz;
      first = false;
    }
  }
  return Format::Poscar;
}

Crystal parse_pymatgen_json(std::string_view text, const std::string& source, double min_distance) {
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::parse_error& e) {
    throw ParseError(source, 0, "", std::string("invalid JSON at byte ") + std::to_string(e.byte) + ": " + e.what());
  }
  if (doc.is_object() && doc.contains("structure") && doc["structure"].is_object()) doc = doc["structure"];
  if (!doc.is_object() || !doc.contains("sites") || !doc["sites"].is_array())
    throw ParseError(source, 0, "", "sites: missing (expected pymatgen Structure.as_dict() JSON)");
  Crystal c;
  c.source = source;
  const bool periodic = doc.contains("lattice");
  if (periodic) {
    const json& lat = doc["lattice"];
    const json& m = lat.is_object() && lat.contains("matrix") ? lat["matrix"] : lat;
    if (!m.is_array() || m.size() != 3) throw ParseError(source, 0, "", "lattice.matrix: expected 3 rows");
    for (int r = 0; r < 3; ++r)
      c.lattice.row(r) = vec3(m[static_cast<std::size_t>(r)], source, "lattice.matrix[" + std::to_string(r) + "]");
  }
  std::vector<Eigen::RowVector3d> pos;
  std::vector<double> occ;
  const json& sites = doc["sites"];
  for (std::size_t i = 0; i < sites.size(); ++i) {
    const json& s = sites[i];
    const std::string f = "sites[" + std::to_string(i) + "]";
    if (!s.is_object()) throw ParseError(source, 0, "", f + ": expected an object");
    Eigen::RowVector3d x;
    if (periodic && s.contains("abc")) {
      x = vec3(s["abc"], source, f + ".abc");
    } else if (s.contains("xyz")) {
      x = vec3(s["xyz"], source, f + ".xyz");
      if (periodic) x = x * c.lattice.inverse();
    } else {
      throw ParseError(source, 0, "", f + ": neither abc nor xyz");
    }
    if (!s.contains("species") || !s["species"].is_array() || s["species"].empty())
      throw ParseError(source, 0, "", f + ".species: missing or empty");
    for (std::size_t k = 0; k < s["species"].size(); ++k) {
      const json& sp = s["species"][k];
      const std::string fs = f + ".species[" + std::to_string(k) + "]";
      if (!sp.is_object() || !sp.contains("element") || !sp["element"].is_string())
        throw ParseError(source, 0, "", fs + ".element: missing");
      const std::string el = sp["element"].get<std::string>();
      const auto z = find_atomic_number(el);
      if (!z) throw ParseError(source, 0, "", fs + ".element: unknown element '" + el + "'");
      const double o = sp.contains("occu") ? number(sp["occu"], source, fs + ".occu") : 1.0;
      pos.push_back(x);
      c.numbers.push_back(*z);
      occ.push_back(o);
      std::string label = s.contains("label") && s["label"].is_string() ? s["label"].get<std::string>() : "";
      if (label.empty()) label = element_symbol(*z);
      c.labels.push_back(label);
    }
  }
  Eigen::MatrixXd m(static_cast<Eigen::Index>(pos.size()), 3);
  for (std::size_t i = 0; i < pos.size(); ++i) m.row(static_cast<Eigen::Index>(i)) = pos[i];
  if (periodic) {
    c.frac = m;
  } else {
    box_molecule(c, m);
  }
  if (std::any_of(occ.begin(), occ.end(), [](double o) { return o != 1.0; }))
    c.occupancies = Eigen::Map<const Eigen::VectorXd>(occ.data(), static_cast<Eigen::Index>(occ.size()));
  if (c.n_sites() == 0) throw ParseError(source, 0, "", "sites: no atoms");
  try {
    c.validate(min_distance);
  } catch (const InvalidArgument& e) {
    throw ParseError(source, 0, "", without_source(e.what(), source));
  }
  return c;
}

Crystal parse_xyz(std::string_view text, const std::string& source, double min_distance) {
  std::istringstream in{std::string(text)};
  std::string line;
  std::size_t lineno = 0;
  auto next = [&](const char* what) -> std::string {
    if (!std::getline(in, line)) throw ParseError(source, lineno, "", std::string("file ends before the ") + what);
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
  };
  const auto head = words(next("atom count"));
  char* end = nullptr;
  const long n = head.size() == 1 ? std::strtol(head[0].c_str(), &end, 10) : -1;
  if (head.size() != 1 || end != head[0].c_str() + head[0].size() || n <= 0)
    throw ParseError(source, 1, "", "first line must be the number of atoms (> 0), got '" + line + "'");
  const std::string comment = next("comment line");
  Crystal c;
  c.source = source;
  bool periodic = false;
  {
    // Extended XYZ: Lattice="..." (key case-insensitive) among key=value pairs of the comment line.
    const std::string lc = lower(comment);
    std::size_t p = 0;
    while ((p = lc.find("lattice", p)) != std::string::npos) {
      const bool word_start = p == 0 || std::isspace(static_cast<unsigned char>(lc[p - 1]));
      std::size_t q = p + 7;
      while (q < lc.size() && lc[q] == ' ') ++q;
      if (!word_start || q >= lc.size() || lc[q] != '=') {
        p += 7;
        continue;
      }
      ++q;
      while (q < lc.size() && lc[q] == ' ') ++q;
      std::string value;
      if (q < lc.size() && (comment[q] == '"' || comment[q] == '\'')) {
        const auto close = comment.find(comment[q], q + 1);
        if (close == std::string::npos) throw ParseError(source, 2, "", "Lattice: unterminated quote");
        value = comment.substr(q + 1, close - q - 1);
      } else {
        value = words(comment.substr(q)).at(0);
      }
      const auto w = words(value);
      if (w.size() != 9) throw ParseError(source, 2, "", "Lattice: expected 9 numbers, got '" + value + "'");
      for (int k = 0; k < 9; ++k) {
        char* e = nullptr;
        const double v = std::strtod(w[static_cast<std::size_t>(k)].c_str(), &e);
        if (e != w[static_cast<std::size_t>(k)].c_str() + w[static_cast<std::size_t>(k)].size() || !std::isfinite(v))
          throw ParseError(source, 2, "", "Lattice: not a number '" + w[static_cast<std::size_t>(k)] + "'");
        c.lattice(k / 3, k % 3) = v;
      }
      periodic = true;
      break;
    }
  }
  Eigen::MatrixXd cart(n, 3);
  std::vector<int> count(119, 0);
  for (long i = 0; i < n; ++i) {
    const auto w = words(next("atoms"));
    if (w.size() < 4) throw ParseError(source, lineno, "", "expected 'symbol x y z', got '" + line + "'");
    auto z = find_atomic_number(w[0]);
    if (!z) {
      // Plain XYZ sometimes gives atomic numbers instead of symbols.
      const long zz = std::strtol(w[0].c_str(), &end, 10);
      if (end == w[0].c_str() + w[0].size() && zz >= 1 && zz <= 118) z = static_cast<int>(zz);
    }
    if (!z) throw ParseError(source, lineno, "", "unknown element '" + w[0] + "'");
    for (int k = 0; k < 3; ++k) {
      const double v = std::strtod(w[static_cast<std::size_t>(k + 1)].c_str(), &end);
      if (end != w[static_cast<std::size_t>(k + 1)].c_str() + w[static_cast<std::size_t>(k + 1)].size() ||
          !std::isfinite(v))
        throw ParseError(source, lineno, "", "coordinate " + std::to_string(k + 1) + ": not a number '" +
                                                 w[static_cast<std::size_t>(k + 1)] + "'");
      cart(i, k) = v;
    }
    c.numbers.push_back(*z);
    c.labels.push_back(element_symbol(*z) + std::to_string(++count[static_cast<std::size_t>(*z)]));
  }
  if (periodic) {
    if (!(std::abs(c.lattice.determinant()) > 1e-6)) throw ParseError(source, 2, "", "Lattice: singular");
    c.frac = cart * c.lattice.inverse();
  } else {
    box_molecule(c, cart);
  }
  try {
    c.validate(min_distance);
  } catch (const InvalidArgument& e) {
    throw ParseError(source, 0, "", without_source(e.what(), source));
  }
  return c;
}

Crystal read_structure(const std::filesystem::path& path, const ReadOptions& options) {
  const std::string text = core::read_file(path);
  const std::string source = path.string();
  const Format f = options.format == Format::Auto ? detect_format(path, text) : options.format;
  switch (f) {
    case Format::Cif: {
      CifOptions o;
      o.block = options.cif_block;
      o.min_distance = options.min_distance;
      return parse_cif(text, source, o);
    }
    case Format::Poscar: {
      PoscarOptions o;
      o.species = options.species;
      o.min_distance = options.min_distance;
      return parse_poscar(text, source, o).crystal;
    }
    case Format::Json: return parse_pymatgen_json(text, source, options.min_distance);
    case Format::Xyz: return parse_xyz(text, source, options.min_distance);
    case Format::Auto: break;
  }
  throw InvalidArgument("read_structure: no format");
}

}  // namespace tsunagu::structure
