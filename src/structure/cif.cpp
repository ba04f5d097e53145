#include "tsunagu/structure/cif.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>

#include <Eigen/LU>

#include "tsunagu/core/error.hpp"
#include "tsunagu/core/io.hpp"

namespace tsunagu::structure {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; }

struct Token {
  std::string text;
  std::size_t line = 0;
  bool quoted = false;  // quoted string or text field: never a tag, keyword or missing value
};

ParseError error(const std::string& source, std::size_t line, std::string_view tag, const std::string& message) {
  return ParseError(source, line, "", tag.empty() ? message : std::string(tag) + ": " + message);
}

std::vector<Token> tokenize(std::string_view text, const std::string& source) {
  std::vector<Token> out;
  std::size_t i = 0, line = 1;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") i = 3;  // UTF-8 byte-order mark
  bool at_line_start = true;
  const std::size_t n = text.size();
  while (i < n) {
    const char c = text[i];
    if (c == '\n') {
      ++line;
      ++i;
      at_line_start = true;
      continue;
    }
    if (at_line_start && c == ';') {
      // Text field: everything up to a line that starts with ';'.
      const std::size_t start_line = line;
      std::size_t j = i + 1;
      std::string value;
      bool closed = false;
      while (j < n) {
        std::size_t eol = text.find('\n', j);
        if (eol == std::string_view::npos) eol = n;
        std::string_view l = text.substr(j, eol - j);
        if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
        if (j != i + 1 && !l.empty() && l[0] == ';') {
          closed = true;
          i = j + 1;
          break;
        }
        if (j != i + 1) value += '\n';
        value += l;
        if (eol == n) {
          j = n;
          break;
        }
        ++line;
        j = eol + 1;
      }
      if (!closed) throw error(source, start_line, "", "unterminated ;-delimited text field");
      // The first line of a text field is usually empty (";" alone); drop that line and its newline only.
      if (const auto nl = value.find('\n'); nl != std::string::npos) {
        if (value.find_first_not_of(" \t") == nl) value.erase(0, nl + 1);
      } else if (value.find_first_not_of(" \t") == std::string::npos) {
        value.clear();
      }
      out.push_back({value, start_line, true});
      at_line_start = false;
      continue;
    }
    at_line_start = false;
    if (space(c)) {
      ++i;
      continue;
    }
    if (c == '#') {
      while (i < n && text[i] != '\n') ++i;
      continue;
    }
    if (c == '\'' || c == '"') {
      // A quote closes only when followed by whitespace or the end of the line (CIF 1.1: 'it's' is one value).
      std::size_t j = i + 1;
      while (j < n && text[j] != '\n' && !(text[j] == c && (j + 1 == n || space(text[j + 1])))) ++j;
      if (j >= n || text[j] != c)
        throw error(source, line, "", std::string("unterminated quoted string starting with ") + c);
      out.push_back({std::string(text.substr(i + 1, j - i - 1)), line, true});
      i = j + 1;
      continue;
    }
    std::size_t j = i;
    while (j < n && !space(text[j])) ++j;
    out.push_back({std::string(text.substr(i, j - i)), line, false});
    i = j;
  }
  return out;
}

bool is_tag(const Token& t) { return !t.quoted && !t.text.empty() && t.text[0] == '_'; }
bool is_keyword(const Token& t) {
  if (t.quoted) return false;
  const std::string l = lower(t.text);
  return l.rfind("data_", 0) == 0 || l == "loop_" || l.rfind("save_", 0) == 0 || l == "global_" || l == "stop_";
}

CifValue value_of(const Token& t) { return {t.text, t.line, t.quoted}; }

// ----- symmetry operations ---------------------------------------------------------------------------------
[[noreturn]] void bad_symop(std::string_view text, const std::string& why) {
  throw InvalidArgument("symmetry operation '" + std::string(text) + "': " + why +
                        " (only sums of +-x, +-y, +-z and constants like 1/2 are allowed)");
}

// One component such as "-x+1/2" or "x-y": integer coefficients of x, y, z and a rational constant.
void parse_component(std::string_view full, std::string_view s, Eigen::Vector3d& coef, double& constant) {
  std::size_t i = 0;
  auto skip = [&] {
    while (i < s.size() && space(s[i])) ++i;
  };
  auto number = [&](double& v) {
    const std::size_t b = i;
    while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
    const std::string t(s.substr(b, i - b));
    char* end = nullptr;
    v = std::strtod(t.c_str(), &end);
    if (t.empty() || end != t.c_str() + t.size()) bad_symop(full, "malformed number '" + t + "'");
  };
  coef.setZero();
  constant = 0;
  skip();
  if (i == s.size()) bad_symop(full, "empty component");
  bool first = true;
  while (true) {
    skip();
    if (i == s.size()) break;
    double sign = 1;
    if (s[i] == '+' || s[i] == '-') {
      sign = s[i] == '-' ? -1 : 1;
      ++i;
      skip();
    } else if (!first) {
      bad_symop(full, std::string("unexpected '") + s[i] + "'");
    }
    first = false;
    if (i == s.size()) bad_symop(full, "dangling sign");
    double value = 1;
    bool have_number = false;
    if (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.') {
      number(value);
      have_number = true;
      skip();
      if (i < s.size() && s[i] == '/') {
        ++i;
        skip();
        double den = 0;
        if (i == s.size() || !(std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.'))
          bad_symop(full, "'/' must be followed by a number");
        number(den);
        if (den == 0) bad_symop(full, "division by zero");
        value /= den;
        skip();
      }
      if (i < s.size() && s[i] == '*') {
        ++i;
        skip();
        if (i == s.size() || std::string_view("xyzXYZ").find(s[i]) == std::string_view::npos)
          bad_symop(full, "'*' must be followed by x, y or z");
      }
    }
    if (i < s.size() && std::string_view("xyzXYZ").find(s[i]) != std::string_view::npos) {
      const int axis = std::tolower(static_cast<unsigned char>(s[i])) - 'x';
      ++i;
      if (value != std::round(value)) bad_symop(full, "non-integer coefficient of a coordinate");
      coef(axis) += sign * value;
      skip();
      if (i < s.size() && s[i] != '+' && s[i] != '-') bad_symop(full, std::string("unexpected '") + s[i] + "'");
    } else if (have_number) {
      constant += sign * value;
      if (i < s.size() && s[i] != '+' && s[i] != '-') bad_symop(full, std::string("unexpected '") + s[i] + "'");
    } else {
      bad_symop(full, std::string("unexpected '") + s[i] + "'");
    }
  }
}

double distance_frac(const Eigen::Vector3d& a, const Eigen::Vector3d& b, const Eigen::Matrix3d& lattice) {
  Eigen::RowVector3d d = (b - a).transpose();
  for (int k = 0; k < 3; ++k) d(k) -= std::round(d(k));
  return (d * lattice).norm();
}

}  // namespace

const CifValue* CifBlock::find(std::string_view tag) const {
  const auto it = items.find(lower(tag));
  return it == items.end() ? nullptr : &it->second;
}

const CifLoop* CifBlock::find_loop(std::string_view tag, std::size_t* column) const {
  const std::string t = lower(tag);
  for (const auto& l : loops)
    for (std::size_t j = 0; j < l.tags.size(); ++j)
      if (l.tags[j] == t) {
        if (column) *column = j;
        return &l;
      }
  return nullptr;
}

std::vector<CifBlock> parse_cif_blocks(std::string_view text, const std::string& source) {
  const auto tokens = tokenize(text, source);
  std::vector<CifBlock> blocks;
  std::size_t i = 0;
  while (i < tokens.size()) {
    const Token& t = tokens[i];
    const std::string l = t.quoted ? std::string() : lower(t.text);
    if (!t.quoted && l.rfind("data_", 0) == 0) {
      CifBlock b;
      b.name = t.text.substr(5);
      b.line = t.line;
      blocks.push_back(std::move(b));
      ++i;
      continue;
    }
    if (!t.quoted && (l == "global_" || l.rfind("save_", 0) == 0)) {
      // Skip a global block or save frame: dictionaries use them, structures do not.
      ++i;
      while (i < tokens.size() && !(is_keyword(tokens[i]) && lower(tokens[i].text).rfind("data_", 0) == 0) &&
             !(l.rfind("save_", 0) == 0 && !tokens[i].quoted && lower(tokens[i].text) == "save_"))
        ++i;
      if (i < tokens.size() && lower(tokens[i].text) == "save_") ++i;
      continue;
    }
    if (blocks.empty()) throw error(source, t.line, "", "'" + t.text + "' before the first data_ block");
    CifBlock& b = blocks.back();
    if (!t.quoted && l == "loop_") {
      CifLoop loop;
      loop.line = t.line;
      ++i;
      while (i < tokens.size() && is_tag(tokens[i])) loop.tags.push_back(lower(tokens[i++].text));
      if (loop.tags.empty()) throw error(source, t.line, "loop_", "no tags after loop_");
      std::vector<CifValue> values;
      while (i < tokens.size() && !is_tag(tokens[i]) && !is_keyword(tokens[i])) values.push_back(value_of(tokens[i++]));
      if (values.empty()) throw error(source, t.line, loop.tags[0], "loop_ without values");
      if (values.size() % loop.tags.size() != 0)
        throw error(source, values.back().line, loop.tags[0],
                    "loop_ has " + std::to_string(values.size()) + " values for " + std::to_string(loop.tags.size()) +
                        " tags (not a whole number of rows)");
      for (std::size_t k = 0; k < values.size(); k += loop.tags.size())
        loop.rows.emplace_back(values.begin() + static_cast<std::ptrdiff_t>(k),
                               values.begin() + static_cast<std::ptrdiff_t>(k + loop.tags.size()));
      b.loops.push_back(std::move(loop));
      continue;
    }
    if (is_tag(t)) {
      if (i + 1 >= tokens.size() || is_tag(tokens[i + 1]) || is_keyword(tokens[i + 1]))
        throw error(source, t.line, t.text, "tag without a value");
      b.items[lower(t.text)] = value_of(tokens[i + 1]);
      i += 2;
      continue;
    }
    throw error(source, t.line, "", "unexpected value '" + t.text + "' (not after a tag or in a loop_)");
  }
  return blocks;
}

std::optional<double> cif_number(const CifValue& value) {
  if (value.missing()) return std::nullopt;
  std::string t = value.text;
  // Standard uncertainty in parentheses at the end: "5.4321(3)".
  if (const auto p = t.find('('); p != std::string::npos) {
    if (t.back() != ')' || p == 0) return std::nullopt;
    for (std::size_t k = p + 1; k + 1 < t.size(); ++k)
      if (!std::isdigit(static_cast<unsigned char>(t[k]))) return std::nullopt;
    t.resize(p);
  }
  if (t.empty()) return std::nullopt;
  char* end = nullptr;
  const double v = std::strtod(t.c_str(), &end);
  if (end != t.c_str() + t.size() || !std::isfinite(v)) return std::nullopt;
  // strtod accepts hex floats and "inf"/"nan"; CIF numbers are decimal only.
  for (char c : t)
    if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E'))
      return std::nullopt;
  return v;
}

SymOp parse_symop(std::string_view text) {
  std::vector<std::string_view> parts;
  std::size_t b = 0;
  for (std::size_t k = 0; k <= text.size(); ++k)
    if (k == text.size() || text[k] == ',') {
      parts.push_back(text.substr(b, k - b));
      b = k + 1;
    }
  if (parts.size() != 3) bad_symop(text, "expected 3 comma-separated components, got " + std::to_string(parts.size()));
  Eigen::Matrix3d R;
  SymOp op;
  for (int r = 0; r < 3; ++r) {
    Eigen::Vector3d coef;
    double c = 0;
    parse_component(text, parts[static_cast<std::size_t>(r)], coef, c);
    R.row(r) = coef.transpose();
    op.translation(r) = c;
  }
  op.rotation = R.array().round().cast<int>().matrix();
  const double det = R.determinant();
  if (std::abs(std::abs(det) - 1.0) > 1e-9)
    bad_symop(text, "the rotation part has determinant " + std::to_string(det) + ", not +-1");
  return op;
}

std::vector<SymOp> cif_operations(const CifBlock& block, const std::string& source) {
  for (const char* tag : {"_space_group_symop_operation_xyz", "_symmetry_equiv_pos_as_xyz"}) {
    std::vector<const CifValue*> values;
    std::size_t col = 0;
    if (const CifLoop* loop = block.find_loop(tag, &col)) {
      for (const auto& row : loop->rows) values.push_back(&row[col]);
    } else if (const CifValue* v = block.find(tag)) {
      values.push_back(v);
    }
    if (values.empty()) continue;
    std::vector<SymOp> ops;
    for (const CifValue* v : values) {
      try {
        ops.push_back(parse_symop(v->text));
      } catch (const InvalidArgument& e) {
        throw error(source, v->line, tag, e.what());
      }
    }
    return ops;
  }
  // No explicit operations: a Hall symbol, an H-M symbol or an IT number names them.
  std::string prefer;
  for (const char* tag : {"_space_group_IT_coordinate_system_code", "_symmetry_cell_setting_choice"})
    if (const CifValue* v = block.find(tag); v && !v->missing()) prefer = v->text;
  if (prefer.empty()) {
    // Rhombohedral axes (a = b = c, alpha = beta = gamma != 90) pick the R setting of an R group.
    auto num = [&](const char* tag) {
      const CifValue* v = block.find(tag);
      return v ? cif_number(*v) : std::nullopt;
    };
    const auto a = num("_cell_length_a"), b = num("_cell_length_b"), c = num("_cell_length_c");
    const auto al = num("_cell_angle_alpha"), be = num("_cell_angle_beta"), ga = num("_cell_angle_gamma");
    if (a && b && c && al && be && ga && std::abs(*a - *b) < 1e-4 && std::abs(*a - *c) < 1e-4 &&
        std::abs(*al - *be) < 1e-3 && std::abs(*al - *ga) < 1e-3 && std::abs(*al - 90) > 1e-3)
      prefer = "R";
  }
  for (const char* tag : {"_space_group_name_Hall", "_symmetry_space_group_name_Hall"})
    if (const CifValue* v = block.find(tag); v && !v->missing()) {
      const int h = hall_number_from_hall_symbol(v->text);
      if (!h) throw error(source, v->line, tag, "unknown Hall symbol '" + v->text + "'");
      return space_group_operations(h);
    }
  const CifValue* unknown_hm = nullptr;
  const char* unknown_tag = nullptr;
  for (const char* tag : {"_space_group_name_H-M_alt", "_symmetry_space_group_name_H-M"})
    if (const CifValue* v = block.find(tag); v && !v->missing()) {
      if (const int h = hall_number_from_symbol(v->text, prefer)) return space_group_operations(h);
      unknown_hm = v;
      unknown_tag = tag;
    }
  for (const char* tag : {"_space_group_IT_number", "_symmetry_Int_Tables_number"})
    if (const CifValue* v = block.find(tag); v && !v->missing()) {
      const auto x = cif_number(*v);
      const int h = x && *x == std::round(*x) ? hall_number_from_it_number(static_cast<int>(*x)) : 0;
      if (!h) throw error(source, v->line, tag, "space-group number '" + v->text + "' is not in 1..230");
      return space_group_operations(h);
    }
  if (unknown_hm)
    throw error(source, unknown_hm->line, unknown_tag, "unknown space-group symbol '" + unknown_hm->text + "'");
  throw error(source, block.line, "data_" + block.name,
              "no symmetry operations (_space_group_symop_operation_xyz or _symmetry_equiv_pos_as_xyz) and no space "
              "group (_space_group_name_H-M_alt, _symmetry_space_group_name_H-M or _space_group_IT_number)");
}

Crystal crystal_from_cif_block(const CifBlock& block, const std::string& source, const CifOptions& options) {
  if (!(std::isfinite(options.merge_tolerance) && options.merge_tolerance >= 0))
    throw InvalidArgument("cif: merge_tolerance must be finite and >= 0 A");
  auto cell = [&](const char* tag) {
    const CifValue* v = block.find(tag);
    if (!v) throw error(source, block.line, tag, "missing in data_" + block.name);
    const auto x = cif_number(*v);
    if (!x) throw error(source, v->line, tag, "not a number: '" + v->text + "'");
    return *x;
  };
  const double a = cell("_cell_length_a"), b = cell("_cell_length_b"), c = cell("_cell_length_c");
  const double al = cell("_cell_angle_alpha"), be = cell("_cell_angle_beta"), ga = cell("_cell_angle_gamma");
  Crystal out;
  try {
    out.lattice = lattice_from_parameters(a, b, c, al, be, ga);
  } catch (const InvalidArgument& e) {
    throw error(source, block.find("_cell_length_a")->line, "_cell", e.what());
  }
  out.source = source;

  // The atom sites: a loop, or (one atom) plain items.
  CifLoop single;
  std::size_t cx = 0;
  const CifLoop* sites = block.find_loop("_atom_site_fract_x", &cx);
  if (!sites && block.find("_atom_site_fract_x")) {
    for (const auto& [tag, v] : block.items)
      if (tag.rfind("_atom_site_", 0) == 0) {
        single.tags.push_back(tag);
        if (single.rows.empty()) single.rows.emplace_back();
        single.rows[0].push_back(v);
      }
    single.line = block.find("_atom_site_fract_x")->line;
    sites = &single;
  }
  if (!sites) {
    const char* why = block.find_loop("_atom_site_cartn_x") ? " (Cartesian _atom_site_Cartn_* is not supported)" : "";
    throw error(source, block.line, "_atom_site_fract_x", std::string("no atoms in data_") + block.name + why);
  }
  auto column = [&](const char* tag) -> std::ptrdiff_t {
    for (std::size_t j = 0; j < sites->tags.size(); ++j)
      if (sites->tags[j] == tag) return static_cast<std::ptrdiff_t>(j);
    return -1;
  };
  const auto jx = column("_atom_site_fract_x"), jy = column("_atom_site_fract_y"), jz = column("_atom_site_fract_z");
  for (auto [j, tag] : {std::pair{jy, "_atom_site_fract_y"}, std::pair{jz, "_atom_site_fract_z"}})
    if (j < 0) throw error(source, sites->line, tag, "missing next to _atom_site_fract_x");
  const auto jtype = column("_atom_site_type_symbol"), jlabel = column("_atom_site_label"),
             jocc = column("_atom_site_occupancy");
  if (jtype < 0 && jlabel < 0)
    throw error(source, sites->line, "_atom_site_type_symbol",
                "neither _atom_site_type_symbol nor _atom_site_label gives the elements");

  const std::vector<SymOp> ops = cif_operations(block, source);
  std::vector<Eigen::Vector3d> positions;
  std::vector<int> numbers;
  std::vector<std::string> labels;
  std::vector<double> occ;
  for (const auto& row : sites->rows) {
    Eigen::Vector3d x;
    const std::ptrdiff_t js[3] = {jx, jy, jz};
    const char* tags[3] = {"_atom_site_fract_x", "_atom_site_fract_y", "_atom_site_fract_z"};
    for (int k = 0; k < 3; ++k) {
      const CifValue& v = row[static_cast<std::size_t>(js[k])];
      const auto num = cif_number(v);
      if (!num) throw error(source, v.line, tags[k], "not a number: '" + v.text + "'");
      x(k) = *num;
    }
    const CifValue* sym = jtype >= 0 && !row[static_cast<std::size_t>(jtype)].missing()
                              ? &row[static_cast<std::size_t>(jtype)]
                              : nullptr;
    const CifValue* lab = jlabel >= 0 ? &row[static_cast<std::size_t>(jlabel)] : nullptr;
    const CifValue* el = sym ? sym : lab;
    if (!el || el->missing())
      throw error(source, row[static_cast<std::size_t>(jx)].line, "_atom_site_type_symbol", "no element for this site");
    const auto z = find_atomic_number(el->text);
    if (!z)
      throw error(source, el->line, sym ? "_atom_site_type_symbol" : "_atom_site_label",
                  "unknown element '" + el->text + "'");
    double o = 1;
    if (jocc >= 0) {
      const CifValue& v = row[static_cast<std::size_t>(jocc)];
      if (!v.missing()) {
        const auto num = cif_number(v);
        if (!num || !(*num > 0 && *num <= 1 + 1e-6))
          throw error(source, v.line, "_atom_site_occupancy", "must be a number in (0, 1], got '" + v.text + "'");
        o = std::min(*num, 1.0);
      }
    }
    const std::string label = lab && !lab->missing() ? lab->text : element_symbol(*z) + std::to_string(labels.size() + 1);
    // Orbit of this site: every image, wrapped, duplicates (special positions) merged.
    const std::size_t first = positions.size();
    for (const SymOp& op : ops) {
      Eigen::Vector3d y = op.rotation.cast<double>() * x + op.translation;
      y = wrap_fractional(y.transpose()).transpose();
      bool dup = false;
      for (std::size_t k = first; k < positions.size() && !dup; ++k)
        dup = distance_frac(positions[k], y, out.lattice) < options.merge_tolerance;
      if (dup) continue;
      positions.push_back(y);
      numbers.push_back(*z);
      labels.push_back(label);
      occ.push_back(o);
    }
  }
  out.frac.resize(static_cast<Eigen::Index>(positions.size()), 3);
  for (std::size_t k = 0; k < positions.size(); ++k) out.frac.row(static_cast<Eigen::Index>(k)) = positions[k];
  out.numbers = std::move(numbers);
  out.labels = std::move(labels);
  if (std::any_of(occ.begin(), occ.end(), [](double o) { return o < 1; }))
    out.occupancies = Eigen::Map<const Eigen::VectorXd>(occ.data(), static_cast<Eigen::Index>(occ.size()));
  try {
    out.validate(options.min_distance);
  } catch (const InvalidArgument& e) {
    std::string m = e.what();
    if (m.rfind(source + ": ", 0) == 0) m.erase(0, source.size() + 2);  // the ParseError names the file itself
    throw error(source, sites->line, "_atom_site", m);
  }
  return out;
}

Crystal parse_cif(std::string_view text, const std::string& source, const CifOptions& options) {
  const auto blocks = parse_cif_blocks(text, source);
  if (blocks.empty()) throw error(source, 0, "", "no data_ block");
  if (options.block.empty()) return crystal_from_cif_block(blocks.front(), source, options);
  std::string names;
  for (const auto& b : blocks) {
    if (lower(b.name) == lower(options.block)) return crystal_from_cif_block(b, source, options);
    names += (names.empty() ? "" : ", ") + b.name;
  }
  throw error(source, 0, "", "no data block '" + options.block + "' (blocks: " + names + ")");
}

Crystal read_cif(const std::filesystem::path& path, const CifOptions& options) {
  return parse_cif(core::read_file(path), path.string(), options);
}

}  // namespace tsunagu::structure
