#include "tsunagu/structure/poscar.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include <Eigen/LU>

#include "tsunagu/core/error.hpp"
#include "tsunagu/core/io.hpp"

namespace tsunagu::structure {
namespace {

std::vector<std::string> words(const std::string& line) {
  std::vector<std::string> out;
  std::istringstream in(line);
  std::string w;
  while (in >> w) {
    if (w[0] == '#' || w[0] == '!') break;  // trailing comments
    out.push_back(w);
  }
  return out;
}

bool to_double(const std::string& s, double& v) {
  char* end = nullptr;
  v = std::strtod(s.c_str(), &end);
  return !s.empty() && end == s.c_str() + s.size() && std::isfinite(v);
}

bool to_count(const std::string& s, long& v) {
  char* end = nullptr;
  v = std::strtol(s.c_str(), &end, 10);
  return !s.empty() && end == s.c_str() + s.size();
}

struct Lines {
  std::vector<std::string> lines;
  std::string source;
  std::size_t next = 0;
  const std::string& get(const char* what) {
    if (next >= lines.size())
      throw ParseError(source, lines.size(), "", std::string("file ends before the ") + what);
    return lines[next++];
  }
  std::size_t line() const { return next; }  // 1-based number of the line last returned
};

}  // namespace

Poscar parse_poscar(std::string_view text, const std::string& source, const PoscarOptions& options) {
  Lines in;
  in.source = source;
  {
    std::string t(text);
    std::istringstream s(t);
    std::string l;
    while (std::getline(s, l)) {
      if (!l.empty() && l.back() == '\r') l.pop_back();
      in.lines.push_back(l);
    }
  }
  Poscar out;
  out.comment = in.get("comment line");
  auto fail = [&](const std::string& m) { return ParseError(source, in.line(), "", m); };

  const auto scale_words = words(in.get("scale factor"));
  std::vector<double> scale;
  for (const auto& w : scale_words) {
    double v = 0;
    if (!to_double(w, v)) break;
    scale.push_back(v);
  }
  if (scale.size() != 1 && scale.size() != 3)
    throw fail("scale factor: expected one number (or three), got '" + in.lines[in.line() - 1] + "'");
  if (scale.size() == 3 && !(scale[0] > 0 && scale[1] > 0 && scale[2] > 0))
    throw fail("scale factor: three per-axis factors must all be > 0");
  if (scale.size() == 1 && scale[0] == 0) throw fail("scale factor: must not be 0");

  Eigen::Matrix3d L;
  for (int r = 0; r < 3; ++r) {
    const auto w = words(in.get("lattice vectors"));
    for (int k = 0; k < 3; ++k) {
      double v = 0;
      if (static_cast<int>(w.size()) <= k || !to_double(w[static_cast<std::size_t>(k)], v))
        throw fail("lattice vector " + std::to_string(r + 1) + ": expected 3 numbers");
      L(r, k) = v;
    }
  }
  if (!(std::abs(L.determinant()) > 1e-12)) throw fail("lattice vectors are linearly dependent (zero volume)");
  Eigen::Vector3d axis_scale = Eigen::Vector3d::Ones();
  if (scale.size() == 3) {
    axis_scale = Eigen::Vector3d(scale[0], scale[1], scale[2]);
  } else if (scale[0] < 0) {
    // A negative scale is the wanted volume: s^3 |det L| = |scale|.
    axis_scale.setConstant(std::cbrt(-scale[0] / std::abs(L.determinant())));
  } else {
    axis_scale.setConstant(scale[0]);
  }
  for (int r = 0; r < 3; ++r) L.row(r) *= axis_scale(r);

  // VASP 5 has a species line before the counts; VASP 4 goes straight to the counts.
  auto w = words(in.get("species or counts line"));
  std::vector<std::string> species;
  long probe = 0;
  if (w.empty()) throw fail("expected species names or atom counts, got an empty line");
  if (!to_count(w[0], probe)) {
    species = w;
    for (auto& s : species) {
      // VASP 6 may write "Mn_pv" or "Mn/abc123" (POTCAR names); the element is the part before '_' or '/'.
      const auto cut = s.find_first_of("_/");
      if (cut != std::string::npos) s.resize(cut);
    }
    w = words(in.get("atom counts"));
  }
  const std::size_t species_line = species.empty() ? 0 : in.line() - 1;
  std::vector<long> counts;
  for (const auto& x : w) {
    long c = 0;
    if (!to_count(x, c)) break;
    if (c < 0) throw fail("atom counts must be >= 0, got " + x);
    counts.push_back(c);
  }
  if (counts.empty()) throw fail("expected atom counts, got '" + in.lines[in.line() - 1] + "'");
  if (species.empty()) {
    if (options.species.empty())
      throw fail("VASP 4 POSCAR without a species line: give the species names in the order of the counts (" +
                 std::to_string(counts.size()) + " species)");
    species = options.species;
  } else if (!options.species.empty() && options.species != species) {
    throw ParseError(source, species_line, "", "species line does not match the species given by the caller");
  }
  if (species.size() != counts.size())
    throw fail(std::to_string(species.size()) + " species names for " + std::to_string(counts.size()) + " counts");
  std::vector<int> z;
  for (const auto& s : species) {
    const auto n = find_atomic_number(s);
    if (!n) throw ParseError(source, species_line ? species_line : in.line(), "", "unknown element '" + s + "'");
    z.push_back(*n);
  }
  long total = 0;
  for (long c : counts) total += c;
  if (total == 0) throw fail("no atoms (all counts are 0)");

  std::string mode = in.get("coordinate mode line");
  std::size_t b = mode.find_first_not_of(" \t");
  bool selective = false;
  if (b != std::string::npos && (mode[b] == 's' || mode[b] == 'S')) {
    selective = true;
    mode = in.get("coordinate mode line");
    b = mode.find_first_not_of(" \t");
  }
  const char m = b == std::string::npos ? ' ' : static_cast<char>(std::tolower(static_cast<unsigned char>(mode[b])));
  if (m != 'd' && m != 'c' && m != 'k') throw fail("expected 'Direct' or 'Cartesian', got '" + mode + "'");
  const bool cartesian = m != 'd';

  Crystal& c = out.crystal;
  c.source = source;
  c.lattice = L;
  c.frac.resize(total, 3);
  const Eigen::Matrix3d Linv = L.inverse();
  Eigen::Index row = 0;
  for (std::size_t s = 0; s < counts.size(); ++s)
    for (long k = 0; k < counts[s]; ++k, ++row) {
      const auto p = words(in.get("atomic positions"));
      Eigen::RowVector3d x;
      for (int j = 0; j < 3; ++j) {
        double v = 0;
        if (static_cast<int>(p.size()) <= j || !to_double(p[static_cast<std::size_t>(j)], v))
          throw fail("position of atom " + std::to_string(row + 1) + ": expected 3 numbers");
        x(j) = v;
      }
      if (cartesian) x = (x.array() * axis_scale.transpose().array()).matrix() * Linv;
      c.frac.row(row) = x;
      c.numbers.push_back(z[s]);
      c.labels.push_back(element_symbol(z[s]) + std::to_string(k + 1));
      if (selective) {
        std::array<bool, 3> f{};
        for (int j = 0; j < 3; ++j) {
          const std::string t = p.size() > static_cast<std::size_t>(3 + j) ? p[static_cast<std::size_t>(3 + j)] : "";
          if (t != "T" && t != "F" && t != "t" && t != "f")
            throw fail("atom " + std::to_string(row + 1) + ": selective dynamics needs three T/F flags");
          f[static_cast<std::size_t>(j)] = t == "T" || t == "t";
        }
        out.selective.push_back(f);
      }
    }
  try {
    c.validate(options.min_distance);
  } catch (const InvalidArgument& e) {
    std::string msg = e.what();
    if (msg.rfind(source + ": ", 0) == 0) msg.erase(0, source.size() + 2);
    throw ParseError(source, 0, "", msg);
  }
  return out;
}

Crystal read_poscar(const std::filesystem::path& path, const PoscarOptions& options) {
  return parse_poscar(core::read_file(path), path.string(), options).crystal;
}

std::string format_poscar(const Crystal& crystal, const PoscarWriteOptions& options) {
  crystal.validate(0);
  const std::size_t n = crystal.n_sites();
  if (n == 0) throw InvalidArgument("poscar: the structure has no atoms");
  for (std::size_t i = 0; i < n; ++i)
    if (crystal.occupancy(i) < 1 - 1e-6)
      throw InvalidArgument("poscar: site " + std::to_string(i + 1) + " '" + crystal.labels[i] +
                            "' is partially occupied; POSCAR cannot express occupancies");
  if (!options.selective.empty() && options.selective.size() != n)
    throw InvalidArgument("poscar: " + std::to_string(options.selective.size()) + " selective-dynamics flags for " +
                          std::to_string(n) + " sites");
  std::vector<int> order;  // species in order of first appearance
  for (int z : crystal.numbers)
    if (std::find(order.begin(), order.end(), z) == order.end()) order.push_back(z);

  std::string comment = options.comment.empty() ? crystal.formula() : options.comment;
  for (auto& ch : comment)
    if (ch == '\n' || ch == '\r') ch = ' ';
  std::string out = comment + "\n1.0\n";
  char buf[160];
  for (int r = 0; r < 3; ++r) {
    std::snprintf(buf, sizeof buf, "  %22.16f %22.16f %22.16f\n", crystal.lattice(r, 0), crystal.lattice(r, 1),
                  crystal.lattice(r, 2));
    out += buf;
  }
  for (int z : order) out += "  " + element_symbol(z);
  out += "\n";
  for (int z : order) out += "  " + std::to_string(std::count(crystal.numbers.begin(), crystal.numbers.end(), z));
  out += "\n";
  if (!options.selective.empty()) out += "Selective dynamics\n";
  out += options.cartesian ? "Cartesian\n" : "Direct\n";
  const Eigen::MatrixXd pos = options.cartesian ? crystal.cartesian() : crystal.frac;
  for (int z : order)
    for (std::size_t i = 0; i < n; ++i) {
      if (crystal.numbers[i] != z) continue;
      const auto r = static_cast<Eigen::Index>(i);
      std::snprintf(buf, sizeof buf, "  %22.16f %22.16f %22.16f", pos(r, 0), pos(r, 1), pos(r, 2));
      out += buf;
      if (!options.selective.empty())
        for (bool f : options.selective[i]) out += f ? " T" : " F";
      out += "\n";
    }
  return out;
}

void write_poscar(const std::filesystem::path& path, const Crystal& crystal, const PoscarWriteOptions& options) {
  core::write_file_atomic(path, format_poscar(crystal, options));
}

}  // namespace tsunagu::structure
