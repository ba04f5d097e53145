// Dataset loaders: Materials Project XAS documents, XANESNET folders (xyz + FDMNES spectra) and descriptor tables.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "tsunagu/core/error.hpp"
#include "tsunagu/core/io.hpp"
#include "tsunagu/core/table.hpp"
#include "tsunagu/structure/formats.hpp"
#include "tsunagu/xas/data.hpp"

namespace tsunagu::xas {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string num(double x) { return core::format_double(x); }

std::string ext_of(const fs::path& p) { return lower(p.extension().string()); }

bool is_json_ext(const std::string& e) { return e == ".json" || e == ".jsonl" || e == ".ndjson"; }
bool is_lines_ext(const std::string& e) { return e == ".jsonl" || e == ".ndjson"; }

// Regular files of a directory with one of the extensions, sorted by file name (deterministic order).
std::vector<fs::path> list_files(const fs::path& dir, bool (*want)(const std::string&)) {
  std::vector<fs::path> out;
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) throw IoError(dir.string() + ": cannot list the directory: " + ec.message());
  for (const auto& entry : it) {
    std::error_code e2;
    if (!entry.is_regular_file(e2)) continue;
    const std::string name = entry.path().filename().string();
    if (name.empty() || name[0] == '.') continue;  // hidden files, editor droppings
    if (want(ext_of(entry.path()))) out.push_back(entry.path());
  }
  std::sort(out.begin(), out.end(),
            [](const fs::path& a, const fs::path& b) { return a.filename().string() < b.filename().string(); });
  return out;
}

// Whole-token double (a leading '+' allowed).
bool to_double(std::string_view s, double& out) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty()) return false;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

void split_words(std::string_view line, std::vector<std::string_view>& out) {
  out.clear();
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    const std::size_t b = i;
    while (i < line.size() && !std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    if (i > b) out.push_back(line.substr(b, i - b));
  }
}

// Energies strictly increasing; called after the values were checked finite. `lines`: the file line of each point
// (text formats), else every message carries `line` and the point index.
void check_increasing(const std::vector<double>& e, const std::string& file, const std::vector<std::size_t>& lines,
                      std::size_t line, const std::string& where) {
  for (std::size_t i = 1; i < e.size(); ++i)
    if (!(e[i] > e[i - 1]))
      throw ParseError(file, lines.empty() ? line : lines[i], "",
                       where + "energies not strictly increasing: " + num(e[i]) + " after " + num(e[i - 1]) +
                           (lines.empty() ? " (point " + std::to_string(i) + ")" : ""));
}

Eigen::VectorXd to_vector(const std::vector<double>& v) {
  return Eigen::Map<const Eigen::VectorXd>(v.data(), static_cast<Eigen::Index>(v.size()));
}

// ---------------------------------------------------------------- Materials Project documents

struct MpContext {
  const LoadOptions& options;
  const std::function<void(Record&&)>& callback;
  int absorber_z = 0;  // 0: take each document's own absorbing element
  LoadSummary summary;
  std::map<std::string, std::size_t> skipped_elements;  // absorbing element -> documents skipped
};

const json* field(const json& spec, const json& doc, const char* key) {
  if (spec.is_object()) {
    const auto it = spec.find(key);
    if (it != spec.end() && !it->is_null()) return &*it;
  }
  if (&spec != &doc && doc.is_object()) {
    const auto it = doc.find(key);
    if (it != doc.end() && !it->is_null()) return &*it;
  }
  return nullptr;
}

std::string id_text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer()) return std::to_string(v.get<long long>());
  if (v.is_number()) return num(v.get<double>());
  return v.dump();
}

// An array of numbers, also as monty encodes numpy arrays ({"@module": "numpy", "data": [...]}).
std::vector<double> numbers(const json& v, const std::string& file, std::size_t line, const std::string& where,
                            const char* name) {
  const json* a = &v;
  if (a->is_object() && a->contains("data")) a = &(*a)["data"];
  if (!a->is_array()) throw ParseError(file, line, "", where + "spectrum." + name + ": expected an array of numbers");
  std::vector<double> out;
  out.reserve(a->size());
  for (std::size_t i = 0; i < a->size(); ++i) {
    const json& x = (*a)[i];
    if (!x.is_number())
      throw ParseError(file, line, "", where + "spectrum." + name + "[" + std::to_string(i) +
                                           "]: non-numeric value " + x.dump());
    const double d = x.get<double>();
    if (!std::isfinite(d))
      throw ParseError(file, line, "", where + "spectrum." + name + "[" + std::to_string(i) + "]: non-finite value");
    out.push_back(d);
  }
  return out;
}

std::string element_text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object())  // pymatgen Element.as_dict() / an encoded enum
    for (const char* k : {"element", "value", "symbol"})
      if (v.contains(k) && v[k].is_string()) return v[k].get<std::string>();
  return "";
}

// One document. `where` is "" for a single-document file, "entry i: " for arrays; `line` is the JSON-lines line.
void mp_document(MpContext& ctx, const json& doc, const std::string& file, std::size_t line, const std::string& where,
                 const std::string& record_source, const std::string& fallback_id) {
  if (!doc.is_object()) throw ParseError(file, line, "", where + "expected a JSON object (an XAS document)");
  const json& spec = doc.contains("spectrum") && doc["spectrum"].is_object() ? doc["spectrum"] : doc;
  const json* x = field(spec, doc, "x");
  const json* y = field(spec, doc, "y");
  if (!x || !y)
    throw ParseError(file, line, "", where + "spectrum.x / spectrum.y: missing (expected a Materials Project XAS " +
                                         "document or pymatgen XAS.as_dict())");
  // Which absorbing element does the document state?
  int doc_z = 0;
  std::string doc_element;
  if (const json* el = field(spec, doc, "absorbing_element")) {
    doc_element = element_text(*el);
    const auto z = structure::find_atomic_number(doc_element);
    if (!z) throw ParseError(file, line, "", where + "absorbing_element: unknown element " + el->dump());
    doc_z = *z;
  }
  if (ctx.absorber_z != 0 && doc_z != 0 && doc_z != ctx.absorber_z) {
    ++ctx.summary.skipped;
    ++ctx.skipped_elements[structure::element_symbol(doc_z)];
    return;
  }
  Record r;
  r.source = record_source;
  // Spectrum.
  std::vector<double> e = numbers(*x, file, line, where, "x"), mu = numbers(*y, file, line, where, "y");
  if (e.empty()) throw ParseError(file, line, "", where + "empty spectrum (spectrum.x has no points)");
  if (e.size() != mu.size())
    throw ParseError(file, line, "", where + "ragged spectrum: " + std::to_string(e.size()) + " energies (x) but " +
                                         std::to_string(mu.size()) + " values (y)");
  check_increasing(e, file, {}, line, where);
  r.energy = to_vector(e);
  r.mu = to_vector(mu);
  // Structure.
  const json* st = field(spec, doc, "structure");
  if (!st || !st->is_object()) throw ParseError(file, line, "", where + "structure: missing");
  r.structure = structure::parse_pymatgen_json(st->dump(), record_source);
  // Pymatgen site index -> first Crystal site (a disordered site becomes one Crystal site per species).
  std::vector<std::size_t> first_site;
  std::vector<std::size_t> n_species;
  {
    const json& sites = (*st)["sites"];
    std::size_t k = 0;
    for (const auto& s : sites) {
      const std::size_t m = s.contains("species") && s["species"].is_array() ? s["species"].size() : 1;
      first_site.push_back(k);
      n_species.push_back(m);
      k += m;
    }
  }
  const int want_z = doc_z != 0 ? doc_z : ctx.absorber_z;
  const json* idx = field(spec, doc, "absorbing_index");
  if (idx) {
    if (!idx->is_number_integer() || idx->get<long long>() < 0)
      throw ParseError(file, line, "", where + "absorbing_index: expected a site index, got " + idx->dump());
    const auto i = static_cast<std::size_t>(idx->get<long long>());
    if (i >= first_site.size())
      throw InvalidArgument(record_source + ": absorbing_index " + std::to_string(i) + " out of range (the structure has " +
                            std::to_string(first_site.size()) + " sites)");
    std::size_t site = first_site[i];
    if (want_z != 0) {
      bool found = false;
      for (std::size_t k = 0; k < n_species[i]; ++k)
        if (r.structure->numbers[first_site[i] + k] == want_z) {
          site = first_site[i] + k;
          found = true;
          break;
        }
      if (!found)
        throw InvalidArgument(record_source + ": absorbing site " + std::to_string(i) + " is " +
                              structure::element_symbol(r.structure->numbers[first_site[i]]) +
                              ", not the absorbing element " + structure::element_symbol(want_z));
    }
    r.absorber = site;
  } else {
    // No site index (a site-weighted spectrum): the first atom of the absorbing element represents it.
    if (want_z == 0)
      throw ParseError(file, line, "", where + "absorbing_index and absorbing_element: both missing");
    const auto it = std::find(r.structure->numbers.begin(), r.structure->numbers.end(), want_z);
    if (it == r.structure->numbers.end())
      throw InvalidArgument(record_source + ": the structure (" + r.structure->formula() +
                            ") has no atom of the absorbing element " + structure::element_symbol(want_z));
    r.absorber = static_cast<std::size_t>(it - r.structure->numbers.begin());
  }
  r.element = structure::element_symbol(r.structure->numbers[r.absorber]);
  if (const json* edge = field(spec, doc, "edge")) r.edge = edge->is_string() ? edge->get<std::string>() : element_text(*edge);
  // Identity.
  std::string material;
  if (const json* m = field(doc, spec, "material_id")) material = id_text(*m);
  for (const char* key : {"xas_id", "spectrum_id", "task_id"})
    if (const json* v = field(doc, spec, key)) {
      r.id = id_text(*v);
      break;
    }
  if (r.id.empty() && !material.empty()) {
    std::string type = "XANES";
    if (const json* t = field(spec, doc, "spectrum_type"); t && t->is_string()) type = t->get<std::string>();
    r.id = material + "-" + (idx ? std::to_string(idx->get<long long>()) : std::string("avg")) + "-" + type +
           (r.edge.empty() ? "" : "-" + r.edge);
  }
  if (r.id.empty()) r.id = fallback_id;
  r.group = material.empty() ? r.id : material;
  ++ctx.summary.records;
  ctx.callback(std::move(r));
}

json parse_json_text(std::string_view text, const std::string& file, std::size_t line) {
  try {
    return json::parse(text);
  } catch (const json::parse_error& e) {
    throw ParseError(file, line, "", "invalid JSON at byte " + std::to_string(e.byte) + ": " + e.what());
  }
}

// JSON lines: one document per non-blank line, parsed one at a time.
void mp_lines(MpContext& ctx, std::istream& in, const std::string& file, const std::string& stem) {
  std::string line;
  std::size_t lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (line.find_first_not_of(" \t\r\n") == std::string::npos) continue;
    const json doc = parse_json_text(line, file, lineno);
    mp_document(ctx, doc, file, lineno, "", file + ":" + std::to_string(lineno),
                stem + ":" + std::to_string(lineno));
  }
}

void mp_file(MpContext& ctx, const fs::path& path) {
  const std::string file = path.string();
  const std::string stem = path.stem().string();
  if (is_lines_ext(ext_of(path))) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw IoError(file + ": cannot open for reading");
    mp_lines(ctx, in, file, stem);
    return;
  }
  const std::string text = core::read_file(path);
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::parse_error& e) {
    // A JSON-lines file named .json: its first line is a complete document on its own.
    const auto nl = text.find('\n');
    bool lines = false;
    if (nl != std::string::npos) {
      const std::string first = text.substr(0, nl);
      lines = json::accept(first) && json::parse(first).is_object();
    }
    if (!lines) throw ParseError(file, 0, "", "invalid JSON at byte " + std::to_string(e.byte) + ": " + e.what());
    std::istringstream in(text);
    mp_lines(ctx, in, file, stem);
    return;
  }
  // {"data": [...]} as the MP API answers
  if (doc.is_object() && !doc.contains("spectrum") && !doc.contains("x") && doc.contains("data") &&
      doc["data"].is_array()) {
    json data = std::move(doc["data"]);
    doc = std::move(data);
  }
  if (doc.is_array()) {
    if (doc.empty()) throw ParseError(file, 0, "", "no documents (an empty array)");
    for (std::size_t i = 0; i < doc.size(); ++i)
      mp_document(ctx, doc[i], file, 0, "entry " + std::to_string(i) + ": ", file + "[" + std::to_string(i) + "]",
                  stem + "[" + std::to_string(i) + "]");
    return;
  }
  mp_document(ctx, doc, file, 0, "", file, stem);
}

LoadSummary load_mp(const fs::path& path, const LoadOptions& options, const std::function<void(Record&&)>& callback) {
  MpContext ctx{options, callback, 0, {}, {}};
  if (!options.absorber.empty()) {
    const auto z = structure::find_atomic_number(options.absorber);
    if (!z) throw InvalidArgument("absorber: unknown element '" + options.absorber + "'");
    ctx.absorber_z = *z;
  }
  if (fs::is_directory(path)) {
    const auto files = list_files(path, is_json_ext);
    if (files.empty()) throw InvalidArgument(path.string() + ": no .json or .jsonl files in the directory");
    for (const auto& f : files) mp_file(ctx, f);
  } else {
    mp_file(ctx, path);
  }
  if (!ctx.skipped_elements.empty()) {
    std::string line = "skipped " + std::to_string(ctx.summary.skipped) + " document(s) whose absorbing element is not " +
                       structure::element_symbol(ctx.absorber_z) + " (";
    bool first = true;
    for (const auto& [el, n] : ctx.skipped_elements) {
      line += (first ? "" : ", ") + el + ": " + std::to_string(n);
      first = false;
    }
    ctx.summary.notes.push_back(line + ")");
  }
  return std::move(ctx.summary);
}

// ---------------------------------------------------------------- XANESNET folders

// FDMNES output: two header lines, then "energy mu [...]" rows, all with the same number of columns.
void read_fdmnes(const fs::path& path, Record& r) {
  const std::string file = path.string();
  const std::string text = core::read_file(path);
  std::vector<double> e, mu;
  std::vector<std::size_t> lines;
  std::vector<std::string_view> w;
  std::size_t lineno = 0, pos = 0, columns = 0;
  const std::string_view all(text);
  while (pos < all.size()) {
    auto nl = all.find('\n', pos);
    if (nl == std::string_view::npos) nl = all.size();
    const std::string_view line = all.substr(pos, nl - pos);
    pos = nl + 1;
    ++lineno;
    if (lineno <= 2) continue;
    split_words(line, w);
    if (w.empty()) continue;
    if (columns == 0) {
      if (w.size() < 2)
        throw ParseError(file, lineno, "", "expected 'energy mu' columns, got '" + std::string(line) + "'");
      columns = w.size();
    } else if (w.size() != columns) {
      throw ParseError(file, lineno, "", "ragged row: " + std::to_string(w.size()) + " columns, the first row has " +
                                             std::to_string(columns));
    }
    double v[2];
    for (int k = 0; k < 2; ++k) {
      if (!to_double(w[static_cast<std::size_t>(k)], v[k]))
        throw ParseError(file, lineno, "", std::string("non-numeric ") + (k == 0 ? "energy" : "mu") + " '" +
                                               std::string(w[static_cast<std::size_t>(k)]) + "'");
      if (!std::isfinite(v[k]))
        throw ParseError(file, lineno, "", std::string("non-finite ") + (k == 0 ? "energy" : "mu") + " '" +
                                               std::string(w[static_cast<std::size_t>(k)]) + "'");
    }
    e.push_back(v[0]);
    mu.push_back(v[1]);
    lines.push_back(lineno);
  }
  if (e.empty()) throw ParseError(file, 0, "", "empty spectrum (no 'energy mu' rows after the two header lines)");
  check_increasing(e, file, lines, 0, "");
  r.energy = to_vector(e);
  r.mu = to_vector(mu);
}

fs::path xanes_dir_for(const fs::path& xyz_dir) {
  fs::path dir = xyz_dir;
  if (dir.filename().empty()) dir = dir.parent_path();  // "xyz_train/"
  std::error_code ec;
  fs::path abs = fs::weakly_canonical(dir, ec);
  if (ec) abs = fs::absolute(dir);
  const std::string name = abs.filename().string();
  // "." and ".." have no name of their own: look beside the resolved directory
  const fs::path base = dir.filename() == "." || dir.filename() == ".." ? abs : dir;
  std::vector<fs::path> tried;
  if (name.find("xyz") != std::string::npos) {
    std::string swapped = name;
    for (std::size_t p = 0; (p = swapped.find("xyz", p)) != std::string::npos; p += 5) swapped.replace(p, 3, "xanes");
    const fs::path sibling = base.parent_path() / swapped;
    tried.push_back(sibling);
    if (fs::is_directory(sibling)) return sibling;
  }
  const fs::path up = base / ".." / "xanes";
  tried.push_back(up);
  if (fs::is_directory(up)) return up.lexically_normal();
  std::string looked;
  for (const auto& t : tried) looked += (looked.empty() ? "" : " and ") + t.string();
  throw ParseError(xyz_dir.string(), 0, "", "no spectra directory for the structures (looked for " + looked + ")");
}

LoadSummary load_xanesnet(const fs::path& path, const LoadOptions& options,
                          const std::function<void(Record&&)>& callback) {
  if (!fs::is_directory(path))
    throw InvalidArgument(path.string() + ": the xanesnet format wants a directory of .xyz files");
  int absorber_z = 0;
  if (!options.absorber.empty()) {
    const auto z = structure::find_atomic_number(options.absorber);
    if (!z) throw InvalidArgument("absorber: unknown element '" + options.absorber + "'");
    absorber_z = *z;
  }
  const auto xyz = list_files(path, [](const std::string& e) { return e == ".xyz"; });
  if (xyz.empty()) throw InvalidArgument(path.string() + ": no .xyz files in the directory");
  const fs::path xanes = xanes_dir_for(path);
  // Pairing both ways before reading anything.
  std::set<std::string> stems;
  for (const auto& f : xyz) {
    stems.insert(f.stem().string());
    const fs::path spectrum = xanes / (f.stem().string() + ".txt");
    if (!fs::is_regular_file(spectrum))
      throw ParseError(f.string(), 0, "", "structure without its spectrum: no " + spectrum.string());
  }
  for (const auto& t : list_files(xanes, [](const std::string& e) { return e == ".txt"; }))
    if (!stems.count(t.stem().string()))
      throw ParseError(t.string(), 0, "", "spectrum without its structure: no " +
                                              (path / (t.stem().string() + ".xyz")).string());
  LoadSummary summary;
  for (const auto& f : xyz) {
    Record r;
    r.source = f.string();
    r.id = r.group = f.stem().string();
    r.structure = structure::parse_xyz(core::read_file(f), r.source);
    if (absorber_z != 0) {
      const auto it = std::find(r.structure->numbers.begin(), r.structure->numbers.end(), absorber_z);
      if (it == r.structure->numbers.end())
        throw InvalidArgument(r.source + ": the structure (" + r.structure->formula() +
                              ") has no atom of the absorbing element " + structure::element_symbol(absorber_z));
      r.absorber = static_cast<std::size_t>(it - r.structure->numbers.begin());
    }
    r.element = structure::element_symbol(r.structure->numbers[r.absorber]);
    read_fdmnes(xanes / (r.id + ".txt"), r);
    ++summary.records;
    callback(std::move(r));
  }
  return summary;
}

// ---------------------------------------------------------------- descriptor tables

// Columns <prefix><k>, k = 0..n-1, in k order; ParseError when the numbering has a gap or a duplicate.
std::vector<std::string> numbered_columns(const core::Table& t, const std::string& prefix, std::set<std::size_t>& used) {
  std::map<long, std::size_t> found;
  for (std::size_t j = 0; j < t.columns.size(); ++j) {
    const std::string& c = t.columns[j];
    if (c.size() <= prefix.size() || c.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string_view digits = std::string_view(c).substr(prefix.size());
    if (!std::all_of(digits.begin(), digits.end(), [](char ch) { return ch >= '0' && ch <= '9'; }) ||
        digits.size() > 9)
      continue;
    const long k = std::stol(std::string(digits));
    if (!found.emplace(k, j).second)
      throw ParseError(t.source, 1, c, "duplicate column number " + std::to_string(k) + " (also '" +
                                           t.columns[found[k]] + "')");
  }
  std::vector<std::string> out;
  long expect = 0;
  for (const auto& [k, j] : found) {
    if (k != expect)
      throw ParseError(t.source, 1, t.columns[j], "columns " + prefix + "0.." + prefix + "N-1 expected, but " + prefix +
                                                      std::to_string(expect) + " is missing");
    out.push_back(t.columns[j]);
    used.insert(j);
    ++expect;
  }
  return out;
}

LoadSummary load_table(const fs::path& path, const LoadOptions& options,
                       const std::function<void(Record&&)>& callback) {
  if (options.spectrum_prefix.empty()) throw InvalidArgument("spectrum_prefix: must not be empty");
  if (options.feature_prefix.empty()) throw InvalidArgument("feature_prefix: must not be empty");
  if (options.spectrum_prefix == options.feature_prefix)
    throw InvalidArgument("feature_prefix and spectrum_prefix are both '" + options.spectrum_prefix + "'");
  const core::Table t = core::read_csv(path);
  std::set<std::size_t> used;
  const auto spectrum = numbered_columns(t, options.spectrum_prefix, used);
  const auto features = numbered_columns(t, options.feature_prefix, used);
  if (spectrum.empty())
    throw ParseError(t.source, 1, "", "empty spectrum: no columns " + options.spectrum_prefix + "0, " +
                                          options.spectrum_prefix + "1, ...");
  const auto n_points = static_cast<Eigen::Index>(spectrum.size());
  Eigen::VectorXd energy;
  if (options.table_mesh) {
    options.table_mesh->validate();
    if (options.table_mesh->n != n_points)
      throw InvalidArgument("table mesh " + options.table_mesh->str() + " has " + std::to_string(options.table_mesh->n) +
                            " points but " + t.source + " has " + std::to_string(n_points) + " spectrum columns (" +
                            spectrum.front() + ".." + spectrum.back() + ")");
    energy = options.table_mesh->points();
  } else {
    energy = Eigen::VectorXd::LinSpaced(n_points, 0.0, static_cast<double>(n_points - 1));
  }
  const bool has_id = t.has_column(options.id_column), has_group = t.has_column(options.group_column);
  std::vector<std::string> ids, groups;
  if (has_id) {
    ids = t.text_column(options.id_column);
    used.insert(t.column_index(options.id_column));
  }
  if (has_group) {
    groups = t.text_column(options.group_column);
    used.insert(t.column_index(options.group_column));
  }
  const core::NumericData S = t.numeric(spectrum);
  const core::NumericData X = features.empty() ? core::NumericData{} : t.numeric(features);
  LoadSummary summary;
  summary.feature_names = features;
  std::vector<std::string> ignored;
  for (std::size_t j = 0; j < t.columns.size(); ++j)
    if (!used.count(j)) ignored.push_back(t.columns[j]);
  if (!ignored.empty()) {
    std::string line = "ignored " + std::to_string(ignored.size()) + " column(s) that are neither id, group, " +
                       options.feature_prefix + "<k> nor " + options.spectrum_prefix + "<k>:";
    for (std::size_t k = 0; k < ignored.size() && k < 8; ++k) line += " " + ignored[k];
    if (ignored.size() > 8) line += " ...";
    summary.notes.push_back(line);
  }
  for (std::size_t i = 0; i < t.n_rows(); ++i) {
    const auto row = static_cast<Eigen::Index>(i);
    Record r;
    r.source = t.source + ":" + std::to_string(t.line_numbers[i]);
    r.id = has_id ? ids[i] : std::to_string(i);
    if (r.id.empty()) throw ParseError(t.source, t.line_numbers[i], options.id_column, "empty id");
    r.group = has_group ? groups[i] : r.id;
    if (r.group.empty()) throw ParseError(t.source, t.line_numbers[i], options.group_column, "empty group");
    r.energy = energy;
    r.mu = S.values.row(row).transpose();
    r.features = features.empty() ? Eigen::VectorXd(0) : Eigen::VectorXd(X.values.row(row).transpose());
    ++summary.records;
    callback(std::move(r));
  }
  return summary;
}

}  // namespace

DataFormat parse_data_format(std::string_view name) {
  const std::string n = lower(name);
  if (n == "auto" || n.empty()) return DataFormat::Auto;
  if (n == "mp" || n == "materials-project" || n == "json") return DataFormat::Mp;
  if (n == "xanesnet") return DataFormat::Xanesnet;
  if (n == "table" || n == "csv") return DataFormat::Table;
  throw InvalidArgument("format: unknown '" + std::string(name) + "' (auto, mp, xanesnet, table)");
}

const char* data_format_name(DataFormat f) {
  switch (f) {
    case DataFormat::Auto: return "auto";
    case DataFormat::Mp: return "mp";
    case DataFormat::Xanesnet: return "xanesnet";
    case DataFormat::Table: return "table";
  }
  return "?";
}

DataFormat detect_data_format(const fs::path& path) {
  std::error_code ec;
  const auto st = fs::status(path, ec);
  if (ec || !fs::exists(st)) throw IoError(path.string() + ": no such file or directory");
  if (fs::is_directory(st)) {
    const bool xyz = !list_files(path, [](const std::string& e) { return e == ".xyz"; }).empty();
    const bool js = !list_files(path, is_json_ext).empty();
    if (xyz && js)
      throw InvalidArgument(path.string() + ": the directory holds both .xyz and .json files; give the format " +
                            "(mp or xanesnet)");
    if (xyz) return DataFormat::Xanesnet;
    if (js) return DataFormat::Mp;
    throw InvalidArgument(path.string() + ": cannot tell the data format: the directory has neither .xyz nor " +
                          ".json/.jsonl files");
  }
  const std::string e = ext_of(path);
  if (e == ".csv") return DataFormat::Table;
  if (is_json_ext(e)) return DataFormat::Mp;
  throw InvalidArgument(path.string() + ": cannot tell the data format from the extension '" + e +
                        "' (.csv: table; .json/.jsonl or a directory of them: mp; a directory of .xyz: xanesnet)");
}

LoadSummary for_each_record(const fs::path& path, const LoadOptions& options,
                            const std::function<void(Record&&)>& callback) {
  const DataFormat f = options.format == DataFormat::Auto ? detect_data_format(path) : options.format;
  if (!fs::exists(path)) throw IoError(path.string() + ": no such file or directory");
  switch (f) {
    case DataFormat::Mp: return load_mp(path, options, callback);
    case DataFormat::Xanesnet: return load_xanesnet(path, options, callback);
    case DataFormat::Table: return load_table(path, options, callback);
    case DataFormat::Auto: break;
  }
  throw InvalidArgument("for_each_record: no format");
}

Dataset load_dataset(const fs::path& path, const LoadOptions& options) {
  Dataset d;
  d.format = options.format == DataFormat::Auto ? detect_data_format(path) : options.format;
  LoadOptions o = options;
  o.format = d.format;
  d.summary = for_each_record(path, o, [&](Record&& r) { d.records.push_back(std::move(r)); });
  return d;
}

Mesh common_mesh(const std::vector<Record>& records, int n) {
  if (records.empty()) throw InvalidArgument("common_mesh: no records");
  if (n < 0 || n == 1) throw InvalidArgument("common_mesh: n = " + std::to_string(n) + " (0 = median, else >= 2)");
  std::size_t lo_rec = 0, hi_rec = 0;
  std::vector<Eigen::Index> counts;
  counts.reserve(records.size());
  for (std::size_t i = 0; i < records.size(); ++i) {
    const Record& r = records[i];
    if (r.energy.size() < 2)
      throw InvalidArgument("common_mesh: " + r.source + " (" + r.id + ") has " + std::to_string(r.energy.size()) +
                            " energy points");
    if (r.energy(0) > records[lo_rec].energy(0)) lo_rec = i;
    if (r.energy(r.energy.size() - 1) < records[hi_rec].energy(records[hi_rec].energy.size() - 1)) hi_rec = i;
    counts.push_back(r.energy.size());
  }
  Mesh m;
  m.lo = records[lo_rec].energy(0);
  m.hi = records[hi_rec].energy(records[hi_rec].energy.size() - 1);
  if (!(m.lo < m.hi))
    throw InvalidArgument("common_mesh: the spectra's energy ranges do not overlap: " + records[lo_rec].id +
                          " starts at " + num(m.lo) + " eV, " + records[hi_rec].id + " ends at " + num(m.hi) + " eV");
  if (n == 0) {
    std::sort(counts.begin(), counts.end());
    const std::size_t h = counts.size() / 2;
    const double med = counts.size() % 2 ? static_cast<double>(counts[h])
                                         : 0.5 * static_cast<double>(counts[h - 1] + counts[h]);
    n = std::max(2, static_cast<int>(std::lround(med)));
  }
  m.n = n;
  return m;
}

}  // namespace tsunagu::xas
