#include "tsunagu/bio/descriptors.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <cmath>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <set>
#include <unordered_map>
#include <utility>

#include <nlohmann/json.hpp>

// RDKit (private to this library). Its headers need the Boost headers (Debian: libboost-dev).
#include <DataStructs/ExplicitBitVect.h>
#include <GraphMol/Descriptors/Crippen.h>
#include <GraphMol/Descriptors/Lipinski.h>
#include <GraphMol/Descriptors/MolDescriptors.h>
#include <GraphMol/Descriptors/MolSurf.h>
#include <GraphMol/Fingerprints/MorganFingerprints.h>
#include <GraphMol/GraphMol.h>
#include <GraphMol/MolOps.h>
#include <GraphMol/SmilesParse/SmilesParse.h>
#include <GraphMol/SmilesParse/SmilesWrite.h>
#include <GraphMol/Substruct/SubstructMatch.h>
#include <RDGeneral/RDLog.h>

#include "tsunagu/core/error.hpp"
#include "tsunagu/core/io.hpp"
#include "tsunagu/core/thread_pool.hpp"

namespace tsunagu::bio {

using json = nlohmann::json;

namespace {

// ---------------------------------------------------------------------------------------------------------------
// RDKit logging. RDKit writes parse and sanitisation errors to its error log (stderr) when its logs are initialised
// (always in a process that imported rdkit in Python; never in a plain C++ program). While any tsunagu::bio call runs,
// every RDKit log is disabled; the state is restored when the last concurrent call returns. RDLog::LogStateSetter
// itself saves/restores a global bit mask, so nested or concurrent setters must not interleave: one is held for the
// outermost call only.

class QuietRdkit {
 public:
  QuietRdkit() {
    std::lock_guard<std::mutex> lock(mutex());
    if (depth()++ == 0) setter() = std::make_unique<RDLog::LogStateSetter>();
  }
  ~QuietRdkit() {
    std::lock_guard<std::mutex> lock(mutex());
    if (--depth() == 0) setter().reset();
  }
  QuietRdkit(const QuietRdkit&) = delete;
  QuietRdkit& operator=(const QuietRdkit&) = delete;

 private:
  static std::mutex& mutex() {
    static std::mutex m;
    return m;
  }
  static int& depth() {
    static int d = 0;
    return d;
  }
  static std::unique_ptr<RDLog::LogStateSetter>& setter() {
    static std::unique_ptr<RDLog::LogStateSetter> s;
    return s;
  }
};

// ---------------------------------------------------------------------------------------------------------------
// names and messages

const std::vector<std::string> kPhyschem = {
    "hbd",           "hba",        "tpsa",     "logp",        "molar_refractivity", "rotatable_bonds",
    "mol_weight",    "heavy_atoms", "rings",   "aromatic_rings", "fraction_csp3",   "eg_units",
    "cationic",      "anionic",    "zwitterionic", "net_charge", "chain_length"};

constexpr std::size_t kShownChars = 100;

/// A SMILES/SMARTS for a one-line message: control characters become '?', long strings are shortened.
std::string shown(std::string_view s) {
  std::string out;
  const std::size_t n = std::min(s.size(), kShownChars);
  out.reserve(n + 3);
  for (std::size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    out.push_back(c < 0x20 || c == 0x7f ? '?' : static_cast<char>(c));
  }
  if (s.size() > kShownChars) out += "...";
  return out;
}

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
  return s;
}

/// Why RDKit's SMILES parser (which only logs its reason) may have refused `s`: the common syntax mistakes, checked
/// on the text. Empty when none applies.
std::string diagnose_smiles(std::string_view s) {
  int depth = 0;
  std::set<int> open_rings;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '[') {
      const std::size_t close = s.find(']', i + 1);
      if (close == std::string_view::npos) return "unclosed '['";
      i = close;
    } else if (c == ']') {
      return "']' without '['";
    } else if (c == '(') {
      ++depth;
    } else if (c == ')') {
      if (--depth < 0) return "')' without '('";
    } else if (c >= '0' && c <= '9') {
      const int ring = c - '0';
      if (!open_rings.erase(ring)) open_rings.insert(ring);
    } else if (c == '%') {
      int ring = -1;
      if (i + 2 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1])) &&
          std::isdigit(static_cast<unsigned char>(s[i + 2]))) {
        ring = (s[i + 1] - '0') * 10 + (s[i + 2] - '0');
        i += 2;
      } else if (i + 1 < s.size() && s[i + 1] == '(') {
        const std::size_t close = s.find(')', i + 2);
        if (close == std::string_view::npos) return "unclosed '%('";
        try {
          ring = std::stoi(std::string(s.substr(i + 2, close - i - 2)));
        } catch (...) {
          return "bad ring bond number after '%'";
        }
        i = close;
      } else {
        return "'%' must be followed by two digits";
      }
      if (!open_rings.erase(ring)) open_rings.insert(ring);
    }
  }
  if (depth > 0) return "unclosed '('";
  if (!open_rings.empty()) return "unclosed ring bond " + std::to_string(*open_rings.begin());
  return "";
}

[[noreturn]] void unparseable(std::string_view smiles, std::string_view reason) {
  std::string msg = "unparseable SMILES '" + shown(smiles) + "'";
  reason = trimmed(reason);  // RDKit exception texts are one line; shown() keeps it so, and short
  if (!reason.empty()) msg += " (" + shown(reason) + ")";
  throw InvalidArgument(msg);
}

// ---------------------------------------------------------------------------------------------------------------
// molecules

struct Molecule {
  std::unique_ptr<RDKit::ROMol> mol;  ///< sanitised, atoms in canonical (SMILES output) order
  std::string canonical;
};

/// Parse, sanitise, canonicalise and renumber the atoms into canonical order (so that sums over atoms do not depend
/// on the spelling). InvalidArgument "unparseable SMILES '...' (...)".
Molecule parse_molecule(const std::string& smiles_in) {
  const std::string_view s = trimmed(smiles_in);
  if (s.empty()) unparseable(smiles_in, "empty");
  for (char c : s)
    if (is_blank(c)) unparseable(s, "contains whitespace; CXSMILES extensions and names are not read");
  RDKit::SmilesParserParams params;  // sanitize = true, removeHs = true: as Chem.MolFromSmiles
  params.allowCXSMILES = false;
  params.parseName = false;
  std::unique_ptr<RDKit::ROMol> mol;
  try {
    mol.reset(RDKit::SmilesToMol(std::string(s), params));
  } catch (const std::exception& e) {  // MolSanitizeException (valence, kekulisation), ...
    unparseable(s, e.what());
  }
  if (!mol) unparseable(s, diagnose_smiles(s));
  if (mol->getNumAtoms() == 0) unparseable(s, "no atoms");
  Molecule out;
  try {
    out.canonical = RDKit::MolToSmiles(*mol);
    std::vector<unsigned int> order;
    if (!mol->getPropIfPresent(RDKit::common_properties::_smilesAtomOutputOrder, order) ||
        order.size() != mol->getNumAtoms())
      throw std::runtime_error("no canonical atom order");
    out.mol.reset(RDKit::MolOps::renumberAtoms(*mol, order));
  } catch (const std::exception& e) {
    unparseable(s, std::string("RDKit could not canonicalise it: ") + e.what());
  }
  return out;
}

/// Compiled SMARTS, or null when it does not compile (RDKit only logs why).
std::shared_ptr<const RDKit::ROMol> compile_smarts(const std::string& smarts) {
  if (trimmed(smarts).empty()) return nullptr;
  try {
    std::shared_ptr<const RDKit::ROMol> q(RDKit::SmartsToMol(smarts));
    if (q && q->getNumAtoms() == 0) return nullptr;
    return q;
  } catch (const std::exception&) {
    return nullptr;
  }
}

/// Number of unique matches (atom sets), no cap: len(mol.GetSubstructMatches(query, maxMatches=...)) in Python.
std::size_t count_matches(const RDKit::ROMol& mol, const RDKit::ROMol& query) {
  RDKit::SubstructMatchParameters p;
  p.uniquify = true;
  p.useChirality = false;
  p.maxMatches = std::numeric_limits<unsigned int>::max();
  return RDKit::SubstructMatch(mol, query, p).size();
}

/// Ethylene-glycol units: one per C–C bond of two sp3 CH2 carbons each bonded to a divalent oxygen (ether,
/// hydroxyl or ester oxygen), i.e. unique matches of [OX2][CH2X4][CH2X4][OX2].
const RDKit::ROMol& eg_query() {
  static const std::shared_ptr<const RDKit::ROMol> q = compile_smarts("[OX2][CH2X4][CH2X4][OX2]");
  return *q;
}

/// Formal charges of the charged groups. Monatomic ions (a fragment of one atom with a formal charge: Na+, Cl-,
/// Ca2+, [NH4+]) are counter-ions and are left out of all four numbers. Charges of bonded atoms of opposite sign
/// cancel each other (nitro N+–O-, N-oxides, azides), unit by unit along the bonds in canonical order; an atom
/// still charged after that is a cationic (> 0) or anionic (< 0) site.
struct ChargeCounts {
  int cationic = 0, anionic = 0, net = 0;
};

ChargeCounts charge_counts(const RDKit::ROMol& mol) {
  const unsigned n = mol.getNumAtoms();
  std::vector<int> frag;
  const unsigned n_frags = RDKit::MolOps::getMolFrags(mol, frag);
  std::vector<unsigned> frag_size(n_frags, 0);
  for (unsigned i = 0; i < n; ++i) ++frag_size[static_cast<std::size_t>(frag[i])];
  std::vector<int> residual(n, 0);
  std::vector<bool> counter_ion(n, false);
  ChargeCounts out;
  for (unsigned i = 0; i < n; ++i) {
    const int q = mol.getAtomWithIdx(i)->getFormalCharge();
    if (q != 0 && frag_size[static_cast<std::size_t>(frag[i])] == 1) {
      counter_ion[i] = true;
      continue;
    }
    residual[i] = q;
    out.net += q;
  }
  // Bonds between opposite charges, ordered by (lower, higher) canonical atom index: independent of the spelling.
  std::vector<std::pair<unsigned, unsigned>> pairs;
  for (const RDKit::Bond* b : mol.bonds()) {
    const unsigned a = b->getBeginAtomIdx(), c = b->getEndAtomIdx();
    if (residual[a] * residual[c] < 0) pairs.emplace_back(std::min(a, c), std::max(a, c));
  }
  std::sort(pairs.begin(), pairs.end());
  for (const auto& [a, c] : pairs) {
    if (residual[a] * residual[c] >= 0) continue;
    const int units = std::min(std::abs(residual[a]), std::abs(residual[c]));
    residual[a] += residual[a] > 0 ? -units : units;
    residual[c] += residual[c] > 0 ? -units : units;
  }
  for (unsigned i = 0; i < n; ++i) {
    if (counter_ion[i]) continue;
    if (residual[i] > 0) ++out.cationic;
    if (residual[i] < 0) ++out.anionic;
  }
  return out;
}

/// Hydrophobic chain length: the number of carbons on the longest path of acyclic sp3 carbons (bonded to each other)
/// whose interior carbons are bonded to carbon/hydrogen only; the two end carbons may carry a heteroatom (the head
/// group's attachment). Dodecanethiol 12, SDS 12, CTAB 16, HS(CH2)11OH 11, ethanol 2, methanol 1, benzene 0.
int chain_length(const RDKit::ROMol& mol) {
  const unsigned n = mol.getNumAtoms();
  const RDKit::RingInfo* rings = mol.getRingInfo();
  std::vector<char> kind(n, 0);  // 0: not a chain carbon, 1: pure (C/H neighbours only), 2: end only
  int best = 0;
  for (unsigned i = 0; i < n; ++i) {
    const RDKit::Atom* a = mol.getAtomWithIdx(i);
    if (a->getAtomicNum() != 6 || a->getIsAromatic() || a->getHybridization() != RDKit::Atom::SP3 ||
        rings->numAtomRings(i) != 0)
      continue;
    bool pure = true;
    for (const RDKit::Atom* nb : mol.atomNeighbors(a))
      if (nb->getAtomicNum() != 6 && nb->getAtomicNum() != 1) pure = false;
    kind[i] = pure ? 1 : 2;
    best = 1;
  }
  if (best == 0) return 0;
  auto neighbours = [&](unsigned i) {
    std::vector<unsigned> out;
    for (const RDKit::Atom* nb : mol.atomNeighbors(mol.getAtomWithIdx(i)))
      if (kind[nb->getIdx()] != 0) out.push_back(nb->getIdx());
    return out;
  };
  // Two adjacent end-only carbons (HOCH2–CH2OH): a path of 2 without interior.
  for (unsigned i = 0; i < n; ++i)
    if (kind[i] == 2)
      for (unsigned j : neighbours(i))
        if (kind[j] == 2) best = std::max(best, 2);
  // Tree DP over the forest of pure carbons (acyclic atoms cannot form a cycle). down[v] = carbons on the longest
  // path from v downwards (pure children, or one end-only neighbour); the best path through v joins its two longest
  // branches. Iterative post-order: polymers can have thousands of chain carbons.
  std::vector<int> down(n, 0);
  std::vector<char> visited(n, 0);
  for (unsigned root = 0; root < n; ++root) {
    if (kind[root] != 1 || visited[root]) continue;
    std::vector<std::pair<unsigned, unsigned>> stack = {{root, n}};  // (atom, parent)
    std::vector<std::pair<unsigned, unsigned>> order;
    visited[root] = 1;
    while (!stack.empty()) {
      const auto [v, parent] = stack.back();
      stack.pop_back();
      order.emplace_back(v, parent);
      for (unsigned w : neighbours(v))
        if (kind[w] == 1 && !visited[w]) {
          visited[w] = 1;
          stack.emplace_back(w, v);
        }
    }
    for (auto it = order.rbegin(); it != order.rend(); ++it) {
      const unsigned v = it->first, parent = it->second;
      int top1 = 0, top2 = 0;
      for (unsigned w : neighbours(v)) {
        if (w == parent) continue;
        const int branch = kind[w] == 1 ? down[w] : 1;
        if (branch > top1) {
          top2 = top1;
          top1 = branch;
        } else if (branch > top2) {
          top2 = branch;
        }
      }
      down[v] = 1 + top1;
      best = std::max(best, 1 + top1 + top2);
    }
  }
  return best;
}

// ---------------------------------------------------------------------------------------------------------------
// options

bool valid_name(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  return true;
}

struct Compiled {
  const DescriptorOptions* options = nullptr;
  std::vector<std::shared_ptr<const RDKit::ROMol>> smarts;
  Eigen::Index width = 0;
};

Compiled compile(const DescriptorOptions& o) {
  if (o.morgan_radius < 0 || o.morgan_radius > 10)
    throw InvalidArgument("morgan_radius: must be in 0..10, got " + std::to_string(o.morgan_radius));
  const int b = o.morgan_bits;
  if (b != 0 && (b < 64 || b > 4096 || (b & (b - 1)) != 0))
    throw InvalidArgument("morgan_bits: must be 0 or a power of two in 64..4096, got " + std::to_string(b));
  Compiled c;
  c.options = &o;
  std::set<std::string> seen;
  for (const SmartsPattern& p : o.smarts) {
    if (!valid_name(p.name))
      throw InvalidArgument("smarts: name '" + shown(p.name) + "' must be letters, digits or '_' (column smarts_NAME)");
    if (!seen.insert(p.name).second) throw InvalidArgument("smarts: name '" + p.name + "' given twice");
    auto q = compile_smarts(p.smarts);
    if (!q) throw InvalidArgument("smarts '" + p.name + "': SMARTS '" + shown(p.smarts) + "' does not compile");
    c.smarts.push_back(std::move(q));
  }
  if (!o.physchem && o.smarts.empty() && o.morgan_bits == 0)
    throw InvalidArgument("no descriptor columns: physchem is false, morgan_bits is 0 and no SMARTS was given");
  c.width = static_cast<Eigen::Index>((o.physchem ? kPhyschem.size() : 0) + o.smarts.size() +
                                      static_cast<std::size_t>(o.morgan_bits));
  return c;
}

/// Descriptors of one parsed molecule into `out` (width c.width).
void describe_into(const Compiled& c, const RDKit::ROMol& mol, double* out) {
  namespace D = RDKit::Descriptors;
  const DescriptorOptions& o = *c.options;
  std::size_t k = 0;
  if (o.physchem) {
    double logp = 0, mr = 0;
    D::calcCrippenDescriptors(mol, logp, mr);  // includeHs = true, as Crippen.MolLogP / MolMR
    const ChargeCounts q = charge_counts(mol);
    out[k++] = D::calcNumHBD(mol);
    out[k++] = D::calcNumHBA(mol);
    out[k++] = D::calcTPSA(mol);
    out[k++] = logp;
    out[k++] = mr;
    out[k++] = D::calcNumRotatableBonds(mol);  // NumRotatableBondsOptions::Default, as the Python default
    out[k++] = D::calcAMW(mol);
    out[k++] = D::calcNumHeavyAtoms(mol);
    out[k++] = D::calcNumRings(mol);
    out[k++] = D::calcNumAromaticRings(mol);
    out[k++] = D::calcFractionCSP3(mol);
    out[k++] = static_cast<double>(count_matches(mol, eg_query()));
    out[k++] = q.cationic;
    out[k++] = q.anionic;
    out[k++] = (q.cationic > 0 && q.anionic > 0) ? 1.0 : 0.0;
    out[k++] = q.net;
    out[k++] = chain_length(mol);
  }
  for (const auto& q : c.smarts) out[k++] = static_cast<double>(count_matches(mol, *q));
  if (o.morgan_bits > 0) {
    const auto bits = static_cast<unsigned>(o.morgan_bits);
    std::unique_ptr<ExplicitBitVect> fp(RDKit::MorganFingerprints::getFingerprintAsBitVect(
        mol, static_cast<unsigned>(o.morgan_radius), bits));
    for (unsigned i = 0; i < bits; ++i) out[k + i] = fp->getBit(i) ? 1.0 : 0.0;
    k += bits;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// JSON

const char* kOptionsSource = "bio descriptor options";
const std::array<const char*, 5> kFields = {"physchem", "morgan_radius", "morgan_bits", "smarts", "threads"};

[[noreturn]] void options_error(const std::string& message) { throw ParseError(kOptionsSource, 0, "", message); }

long long integer_of(const json& v, const char* name, long long lo, long long hi) {
  if (!v.is_number_integer()) options_error(std::string("field '") + name + "': expected an integer, got " + v.dump());
  const long long x = v.is_number_unsigned() && v.get<unsigned long long>() > static_cast<unsigned long long>(hi)
                          ? hi + 1
                          : v.get<long long>();
  if (x < lo || x > hi)
    options_error(std::string("field '") + name + "': must be in " + std::to_string(lo) + ".." + std::to_string(hi) +
                  ", got " + v.dump());
  return x;
}

// ---------------------------------------------------------------------------------------------------------------
// CSV output (the quoting rule of core::format_csv)

bool needs_quotes(std::string_view cell, bool only_cell) {
  if (cell.empty()) return only_cell;
  if (cell.find_first_of(",\"\n\r") != std::string_view::npos) return true;
  if (cell.front() == ' ' || cell.front() == '\t' || cell.back() == ' ' || cell.back() == '\t') return true;
  if (cell.front() == '#') return true;
  return false;
}

void write_cell(std::ostream& out, std::string_view cell, bool only_cell) {
  if (!needs_quotes(cell, only_cell)) {
    out << cell;
    return;
  }
  out << '"';
  for (char c : cell) {
    if (c == '"') out << '"';
    out << c;
  }
  out << '"';
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------------
// public API

const std::vector<std::string>& physchem_names() { return kPhyschem; }

SmartsPattern parse_smarts_arg(std::string_view arg) {
  const std::string where = "--smarts '" + shown(arg) + "': ";
  const std::size_t eq = arg.find('=');
  if (eq == std::string_view::npos) throw InvalidArgument(where + "expected NAME=SMARTS");
  SmartsPattern p{std::string(trimmed(arg.substr(0, eq))), std::string(trimmed(arg.substr(eq + 1)))};
  if (!valid_name(p.name))
    throw InvalidArgument(where + "NAME must be letters, digits or '_' (it becomes the column smarts_NAME)");
  if (p.smarts.empty()) throw InvalidArgument(where + "empty SMARTS");
  QuietRdkit quiet;
  if (!compile_smarts(p.smarts)) throw InvalidArgument(where + "SMARTS '" + shown(p.smarts) + "' does not compile");
  return p;
}

void DescriptorOptions::validate() const {
  QuietRdkit quiet;
  compile(*this);
}

json DescriptorOptions::to_json() const {
  json s = json::array();
  for (const SmartsPattern& p : smarts) s.push_back({{"name", p.name}, {"smarts", p.smarts}});
  return {{"physchem", physchem},
          {"morgan_radius", morgan_radius},
          {"morgan_bits", morgan_bits},
          {"smarts", s},
          {"threads", threads}};
}

DescriptorOptions DescriptorOptions::from_json(const json& j) {
  if (!j.is_object()) options_error("expected a JSON object, got " + std::string(j.type_name()));
  for (const auto& item : j.items())
    if (std::find_if(kFields.begin(), kFields.end(), [&](const char* f) { return item.key() == f; }) ==
        kFields.end()) {
      std::string allowed;
      for (const char* f : kFields) allowed += (allowed.empty() ? "" : ", ") + std::string(f);
      options_error("unknown field '" + item.key() + "' (allowed: " + allowed + ")");
    }
  DescriptorOptions o;
  if (auto it = j.find("physchem"); it != j.end()) {
    if (!it->is_boolean()) options_error("field 'physchem': expected true or false, got " + it->dump());
    o.physchem = it->get<bool>();
  }
  if (auto it = j.find("morgan_radius"); it != j.end())
    o.morgan_radius = static_cast<int>(integer_of(*it, "morgan_radius", 0, 10));
  if (auto it = j.find("morgan_bits"); it != j.end())
    o.morgan_bits = static_cast<int>(integer_of(*it, "morgan_bits", 0, 4096));
  if (auto it = j.find("threads"); it != j.end())
    o.threads = static_cast<unsigned>(integer_of(*it, "threads", 0, 1 << 20));
  if (auto it = j.find("smarts"); it != j.end()) {
    if (!it->is_array()) options_error("field 'smarts': expected an array, got " + it->dump());
    for (const json& p : *it) {
      if (!p.is_object() || p.size() != 2 || !p.contains("name") || !p.contains("smarts") ||
          !p["name"].is_string() || !p["smarts"].is_string())
        options_error("field 'smarts': expected objects {\"name\": ..., \"smarts\": ...}, got " + p.dump());
      o.smarts.push_back({p["name"].get<std::string>(), p["smarts"].get<std::string>()});
    }
  }
  try {
    o.validate();
  } catch (const InvalidArgument& e) {
    options_error(e.what());
  }
  return o;
}

std::vector<std::string> descriptor_names(const DescriptorOptions& options) {
  std::vector<std::string> names;
  if (options.physchem) names = kPhyschem;
  for (const SmartsPattern& p : options.smarts) names.push_back("smarts_" + p.name);
  for (int i = 0; i < options.morgan_bits; ++i) names.push_back("morgan_" + std::to_string(i));
  return names;
}

Eigen::VectorXd describe_smiles(const std::string& smiles, const DescriptorOptions& options) {
  QuietRdkit quiet;
  const Compiled c = compile(options);
  const Molecule m = parse_molecule(smiles);
  Eigen::VectorXd out(c.width);
  try {
    describe_into(c, *m.mol, out.data());
  } catch (const std::exception& e) {
    throw InvalidArgument("SMILES '" + shown(smiles) + "': RDKit failed to describe it: " + e.what());
  }
  return out;
}

std::string canonical_smiles(const std::string& smiles) {
  QuietRdkit quiet;
  return parse_molecule(smiles).canonical;
}

namespace {

/// Rows described in parallel. Each row is written in place (row i of X for molecule i), so the result does not
/// depend on the threads; workers take molecules one by one from a shared counter (molecule sizes vary a lot).
/// With stop_at_bad, molecules after the first known bad one are skipped, and first_bad is the lowest bad index
/// (every molecule before it was described). Excluded rows carry 0-based indices.
struct RowsResult {
  MoleculeDescriptors m;
  std::size_t first_bad;  ///< == n when none
  std::string first_error;
};

RowsResult describe_rows(const std::vector<std::string>& smiles, const DescriptorOptions& options, bool stop_at_bad,
                         core::Progress* progress) {
  const Compiled c = compile(options);
  const std::size_t n = smiles.size();
  RowsResult res;
  MoleculeDescriptors& out = res.m;
  out.names = descriptor_names(options);
  out.X.resize(static_cast<Eigen::Index>(n), c.width);
  std::vector<std::string> canonical(n), error(n);
  std::vector<char> ok(n, 0);
  std::atomic<std::size_t> next{0};
  std::atomic<std::size_t> first_bad{n};
  const unsigned threads = options.threads == 0 ? core::default_threads() : options.threads;
  const unsigned workers = static_cast<unsigned>(std::max<std::size_t>(1, std::min<std::size_t>(threads, n)));
  core::parallel_for(workers, workers, [&](std::size_t, std::size_t, unsigned worker) {
    // Each worker matches its own compiled copy of the user SMARTS: RDKit locks a recursive query ($(...)) for the
    // whole of a match (its results are stored in the query), so shared copies would serialise the workers. (RDKit's
    // own patterns — Crippen, HBA, strict rotatable bonds — are shared singletons and keep that lock.)
    const Compiled local = worker == 0 ? Compiled{} : compile(options);
    const Compiled& mine = worker == 0 ? c : local;
    Eigen::VectorXd row(c.width);
    for (;;) {
      const std::size_t i = next.fetch_add(1);
      if (i >= n) break;
      if (stop_at_bad && i > first_bad.load()) break;  // indices only grow: nothing later matters
      try {
        Molecule m = parse_molecule(smiles[i]);
        try {
          describe_into(mine, *m.mol, row.data());
        } catch (const std::exception& e) {
          throw InvalidArgument("SMILES '" + shown(smiles[i]) + "': RDKit failed to describe it: " + e.what());
        }
        out.X.row(static_cast<Eigen::Index>(i)) = row.transpose();
        canonical[i] = std::move(m.canonical);
        ok[i] = 1;
      } catch (const InvalidArgument& e) {
        error[i] = e.what();
        std::size_t cur = first_bad.load();
        while (i < cur && !first_bad.compare_exchange_weak(cur, i)) {
        }
      }
      if (progress) progress->tick();
    }
  });
  res.first_bad = first_bad.load();
  if (res.first_bad < n) res.first_error = error[res.first_bad];
  if (stop_at_bad && res.first_bad < n) return res;
  std::size_t kept = 0;
  out.rows.reserve(n);
  out.canonical.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (ok[i]) {
      if (kept != i) out.X.row(static_cast<Eigen::Index>(kept)) = out.X.row(static_cast<Eigen::Index>(i));
      ++kept;
      out.rows.push_back(i);
      out.canonical.push_back(std::move(canonical[i]));
    } else {
      out.excluded.push_back({i, smiles[i], error[i]});
    }
  }
  if (kept != n) out.X = out.X.topRows(static_cast<Eigen::Index>(kept)).eval();
  return res;
}

}  // namespace

MoleculeDescriptors describe_many(const std::vector<std::string>& smiles, const DescriptorOptions& options,
                                  bool skip_invalid, core::Progress* progress) {
  QuietRdkit quiet;
  RowsResult r = describe_rows(smiles, options, !skip_invalid, progress);
  if (!skip_invalid && r.first_bad < smiles.size())
    throw InvalidArgument("row " + std::to_string(r.first_bad) + ": " + r.first_error);
  return std::move(r.m);
}

Eigen::MatrixXd mixture_descriptors(const Eigen::MatrixXd& weights, const Eigen::MatrixXd& components) {
  if (weights.cols() != components.rows())
    throw InvalidArgument("mixture_descriptors: weights have " + std::to_string(weights.cols()) +
                          " columns but there are " + std::to_string(components.rows()) + " components");
  for (Eigen::Index r = 0; r < components.rows(); ++r)
    for (Eigen::Index j = 0; j < components.cols(); ++j)
      if (!std::isfinite(components(r, j)))
        throw InvalidArgument("mixture_descriptors: components row " + std::to_string(r) + ", column " +
                              std::to_string(j) + " is not finite");
  Eigen::MatrixXd w = weights;
  for (Eigen::Index i = 0; i < w.rows(); ++i) {
    double sum = 0;
    for (Eigen::Index k = 0; k < w.cols(); ++k) {
      const double x = w(i, k);
      if (!std::isfinite(x))
        throw InvalidArgument("weights row " + std::to_string(i) + ", component " + std::to_string(k) +
                              ": amount is not finite");
      if (x < 0)
        throw InvalidArgument("weights row " + std::to_string(i) + ", component " + std::to_string(k) +
                              ": negative amount " + core::format_double(x));
      sum += x;
    }
    if (!(sum > 0)) throw InvalidArgument("weights row " + std::to_string(i) + " sums to 0");
    w.row(i) /= sum;
  }
  return w * components;
}

// ---------------------------------------------------------------------------------------------------------------
// tables

std::vector<std::string> DescriptorTable::columns() const {
  std::vector<std::string> c = user_columns;
  c.push_back("canonical_smiles");
  c.insert(c.end(), molecules.names.begin(), molecules.names.end());
  return c;
}

core::Table DescriptorTable::table() const {
  core::Table t;
  t.source = source;
  t.columns = columns();
  t.line_numbers = line_numbers;
  t.rows.reserve(n_rows());
  for (std::size_t i = 0; i < n_rows(); ++i) {
    std::vector<std::string> row = user_cells[i];
    row.push_back(molecules.canonical[i]);
    for (Eigen::Index j = 0; j < molecules.X.cols(); ++j)
      row.push_back(core::format_double(molecules.X(static_cast<Eigen::Index>(i), j)));
    t.rows.push_back(std::move(row));
  }
  return t;
}

void DescriptorTable::write_csv(std::ostream& out) const {
  const std::vector<std::string> cols = columns();
  const bool single = cols.size() == 1;
  for (std::size_t j = 0; j < cols.size(); ++j) {
    if (j) out << ',';
    write_cell(out, cols[j], single);
  }
  out << '\n';
  for (std::size_t i = 0; i < n_rows(); ++i) {
    for (const std::string& cell : user_cells[i]) {
      write_cell(out, cell, false);
      out << ',';
    }
    write_cell(out, molecules.canonical[i], false);
    for (Eigen::Index j = 0; j < molecules.X.cols(); ++j)
      out << ',' << core::format_double(molecules.X(static_cast<Eigen::Index>(i), j));
    out << '\n';
  }
}

void DescriptorTable::write_csv(const std::filesystem::path& path) const {
  core::write_file_atomic(path, [&](std::ostream& out) { write_csv(out); });
}

DescriptorTable descriptor_table(const core::Table& table, const std::string& smiles_column,
                                 const DescriptorOptions& options, bool skip_invalid, core::Progress* progress) {
  QuietRdkit quiet;
  const std::string& src = table.source;
  const std::size_t col = table.column_index(smiles_column);  // InvalidArgument listing the columns
  DescriptorTable out;
  out.source = src;
  const std::vector<std::string> names = descriptor_names(options);
  std::set<std::string> produced(names.begin(), names.end());
  produced.insert("canonical_smiles");
  // A user column named like an output column (ESOL's "mol_weight") is kept as "input_<name>" (prefix repeated
  // until the name is free), and reported in `renamed`.
  std::set<std::string> taken = produced;
  for (std::size_t j = 0; j < table.n_cols(); ++j)
    if (j != col) taken.insert(table.columns[j]);
  for (std::size_t j = 0; j < table.n_cols(); ++j) {
    if (j == col) continue;
    std::string name = table.columns[j];
    if (produced.count(name)) {
      do name = "input_" + name;
      while (taken.count(name));
      taken.insert(name);
      out.renamed.emplace_back(table.columns[j], name);
    }
    out.user_columns.push_back(name);
  }
  std::vector<std::string> smiles(table.n_rows());
  for (std::size_t i = 0; i < table.n_rows(); ++i) smiles[i] = table.rows[i][col];

  RowsResult r = describe_rows(smiles, options, !skip_invalid, progress);
  if (!skip_invalid && r.first_bad < smiles.size())
    throw InvalidArgument(src + ": row " + std::to_string(r.first_bad + 1) + ": " + r.first_error);
  MoleculeDescriptors& m = r.m;
  for (const auto& e : m.excluded)
    out.excluded.push_back({e.row + 1, e.smiles, src + ": row " + std::to_string(e.row + 1) + ": " + e.reason});
  m.excluded.clear();
  if (m.rows.empty())
    throw InvalidArgument(src + ": no parseable SMILES in column '" + smiles_column + "' (" +
                          std::to_string(out.excluded.size()) + " rows excluded)");
  out.user_cells.reserve(m.rows.size());
  out.line_numbers.reserve(m.rows.size());
  std::unordered_map<std::string, std::size_t> first;
  for (std::size_t r = 0; r < m.rows.size(); ++r) {
    const std::size_t i = m.rows[r];
    std::vector<std::string> cells;
    cells.reserve(out.user_columns.size());
    for (std::size_t j = 0; j < table.n_cols(); ++j)
      if (j != col) cells.push_back(table.rows[i][j]);
    out.user_cells.push_back(std::move(cells));
    out.line_numbers.push_back(i < table.line_numbers.size() ? table.line_numbers[i] : 0);
    const auto [it, inserted] = first.emplace(m.canonical[r], i + 1);
    if (!inserted) out.duplicates.push_back({it->second, i + 1, m.canonical[r]});
  }
  out.molecules = std::move(m);
  return out;
}

}  // namespace tsunagu::bio
