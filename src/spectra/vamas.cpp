// ISO 14976 VAMAS reader. A VAMAS file has one value per line and no keys: the meaning of a line follows from its
// position and from earlier values (experiment mode, scan mode, technique, counts of comment lines / variables /
// parameters). The reader therefore walks the items in the order of the standard and reports the first line that
// does not hold what the standard expects there, which is where a truncated or hand-edited file goes wrong.
#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "tsunagu/core/error.hpp"
#include "tsunagu/core/io.hpp"
#include "tsunagu/core/table.hpp"
#include "tsunagu/spectra/readers.hpp"
#include "text.hpp"

namespace tsunagu::spectra {

namespace {

using detail::lower;
using detail::trim;
std::string shown(std::string_view s) { return detail::shown(s, 60); }

constexpr std::string_view kMagic = "VAMAS Surface Chemical Analysis Standard";
constexpr std::string_view kFullMagic = "VAMAS Surface Chemical Analysis Standard Data Transfer Format 1988 May 4";

// The standard writes 1E37 for "value not known".
bool unknown(double v) { return !std::isfinite(v) || std::abs(v) >= 0.999e37; }



bool contains(const std::vector<std::string_view>& set, std::string_view v) {
  return std::find(set.begin(), set.end(), v) != set.end();
}

std::string join(const std::vector<std::string_view>& items) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += ", ";
    out += items[i];
  }
  return out;
}

// Shown in messages: long or unprintable lines would break the one-line error.

bool parse_real(std::string_view t, double& v) {
  t = trim(t);
  if (!t.empty() && t.front() == '+') t.remove_prefix(1);
  if (t.empty()) return false;
  const auto r = std::from_chars(t.data(), t.data() + t.size(), v);
  return r.ec == std::errc() && r.ptr == t.data() + t.size();
}

bool parse_int(std::string_view t, long long& v) {
  t = trim(t);
  if (!t.empty() && t.front() == '+') t.remove_prefix(1);
  if (t.empty()) return false;
  const auto r = std::from_chars(t.data(), t.data() + t.size(), v);
  return r.ec == std::errc() && r.ptr == t.data() + t.size();
}

const std::vector<std::string_view> kExperimentModes = {"MAP", "MAPDP", "MAPSV", "MAPSVDP", "NORM",
                                                        "SDP", "SDPSV", "SEM",   "NOEXP"};
const std::vector<std::string_view> kScanModes = {"REGULAR", "IRREGULAR", "MAPPING"};
const std::vector<std::string_view> kTechniques = {
    "AES diff", "AES dir", "EDX",  "ELS",  "FABMS", "FABMS energy spec", "ISS",
    "SIMS",     "SIMS energy spec", "SNMS", "SNMS energy spec", "UPS", "XPS", "XRF"};

// The file as lines with a cursor; every read names what it expected so that errors say it.
class Reader {
 public:
  Reader(std::string file, std::string_view text) : file_(std::move(file)) {
    if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
    std::size_t start = 0;
    while (start < text.size()) {
      std::size_t end = text.find('\n', start);
      if (end == std::string_view::npos) end = text.size();
      std::string_view line = text.substr(start, end - start);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      lines_.push_back(line);
      start = end + 1;
    }
  }

  const std::string& file() const { return file_; }
  std::size_t line_no() const { return pos_; }  // 1-based number of the line read last
  std::size_t remaining() const { return lines_.size() - pos_; }
  bool at_end() const { return pos_ >= lines_.size(); }

  [[noreturn]] void fail(std::size_t line, const std::string& message) const {
    throw ParseError(file_, line, "", message);
  }
  [[noreturn]] void fail(const std::string& message) const { fail(pos_, message); }

  std::string_view raw(const std::string& what) {
    if (pos_ >= lines_.size()) {
      if (lines_.empty()) fail(0, "file is empty; expected " + what);
      fail(lines_.size(), "file ends after this line; expected " + what + " (truncated file?)");
    }
    return lines_[pos_++];
  }
  // Hot path for data values: the message is only built when the file has ended.
  template <class What>
  std::string_view raw_lazy(What&& what) {
    if (pos_ < lines_.size()) return lines_[pos_++];
    return raw(what());
  }
  std::string text(const std::string& what) { return std::string(trim(raw(what))); }

  double real(const std::string& what) {
    const std::string_view t = raw(what);
    double v = 0;
    if (!parse_real(t, v)) fail("expected " + what + " (a number), got '" + shown(trim(t)) + "'");
    return v;
  }
  long long integer(const std::string& what) {
    const std::string_view t = raw(what);
    long long v = 0;
    if (!parse_int(t, v)) fail("expected " + what + " (an integer), got '" + shown(trim(t)) + "'");
    return v;
  }
  // A count of following lines: >= 0 and not more than the file still holds (each item takes >= 1 line), so a
  // corrupt count becomes an error here instead of a huge allocation or a confusing error far away.
  std::size_t count(const std::string& what, std::size_t lines_per_item = 1) {
    const long long v = integer(what);
    if (v < 0) fail("expected " + what + " (a count >= 0), got " + std::to_string(v));
    const auto n = static_cast<unsigned long long>(v);
    if (n > remaining() / std::max<std::size_t>(lines_per_item, 1))
      fail(what + " is " + std::to_string(v) + " but only " + std::to_string(remaining()) +
           " lines follow (truncated file?)");
    return static_cast<std::size_t>(n);
  }
  std::string choice(const std::string& what, const std::vector<std::string_view>& allowed) {
    std::string v = text(what);
    if (!contains(allowed, v)) fail(what + " '" + shown(v) + "' is not one of: " + join(allowed));
    return v;
  }
  std::vector<std::string> lines(std::size_t n, const std::string& what) {
    std::vector<std::string> out;
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      std::string_view l = raw(what + " " + std::to_string(i + 1) + " of " + std::to_string(n));
      while (!l.empty() && std::isspace(static_cast<unsigned char>(l.back()))) l.remove_suffix(1);
      out.emplace_back(l);
    }
    return out;
  }
  void skip(std::size_t n, const std::string& what) {
    for (std::size_t i = 0; i < n; ++i) raw(what);
  }

 private:
  std::string file_;
  std::vector<std::string_view> lines_;
  std::size_t pos_ = 0;
};

struct Header {
  std::string institution, instrument, op, experiment;
  std::vector<std::string> comment;
  std::string exp_mode, scan_mode;
  std::vector<std::string> exp_variables;  // labels
  std::array<bool, 41> included{};         // block item prefix 1..40 present in blocks after the first
  std::size_t future_block_entries = 0;
  std::size_t n_blocks = 0;
};

struct Variable {
  std::string label, unit;
};

// Block items as numbered by the standard's parameter inclusion list (prefix numbers 1..40); items a later block
// omits keep the first block's values, which is why the whole struct is copied from the first block.
struct Block {
  std::string id, sample;
  std::array<long long, 7> date{};  // year, month, day, hours, minutes, seconds, hours ahead of GMT
  std::vector<std::string> comment;
  std::string technique;
  std::string x, y;  // MAP / MAPDP analysis position
  std::vector<std::string> exp_values;
  std::string source_label;
  double source_energy = 1e37;
  std::string analyser_mode;
  double pass_energy = 1e37;
  double work_function = 1e37;
  std::string species, transition;
  std::string abscissa_label, abscissa_unit;
  double start = 0, increment = 0;
  std::size_t abscissa_line = 0;  // line of the abscissa label (for unit errors)
  std::vector<Variable> variables;
  std::string signal_mode;
  double collection_time = 1e37;
  long long scans = -1;
  std::vector<std::array<std::string, 3>> params;  // label, unit, value
};

Header read_header(Reader& r) {
  Header h;
  {
    const std::string first = r.text("the VAMAS format identifier line");
    if (first.rfind(kMagic, 0) != 0)
      r.fail("expected the VAMAS format identifier '" + std::string(kFullMagic) + "', got '" + shown(first) +
             "' (not a VAMAS file, or its first lines are missing)");
  }
  h.institution = r.text("the institution identifier");
  h.instrument = r.text("the instrument model identifier");
  h.op = r.text("the operator identifier");
  h.experiment = r.text("the experiment identifier");
  h.comment = r.lines(r.count("the number of lines in the file comment"), "file comment line");
  h.exp_mode = r.choice("experiment mode", kExperimentModes);
  h.scan_mode = r.choice("scan mode", kScanModes);
  if (h.scan_mode == "MAPPING") r.fail("scan mode MAPPING (a map stored as one block) is not supported");
  const std::string& m = h.exp_mode;
  if (m == "MAP" || m == "MAPDP" || m == "NORM" || m == "SDP") r.integer("the number of spectral regions");
  if (m == "MAP" || m == "MAPDP") {
    r.integer("the number of analysis positions");
    r.integer("the number of discrete x coordinates in the full map");
    r.integer("the number of discrete y coordinates in the full map");
  }
  const std::size_t n_exp = r.count("the number of experimental variables", 2);
  for (std::size_t i = 0; i < n_exp; ++i) {
    h.exp_variables.push_back(r.text("experimental variable label " + std::to_string(i + 1)));
    r.text("experimental variable unit " + std::to_string(i + 1));
  }
  // Positive: the listed block items are the only ones repeated after the first block; negative: the listed ones
  // are left out; zero: every block is complete.
  const long long n_list = r.integer("the number of entries in the parameter inclusion/exclusion list");
  const std::size_t list_line = r.line_no();
  if (static_cast<unsigned long long>(n_list < 0 ? -n_list : n_list) > r.remaining())
    r.fail("the parameter inclusion/exclusion list has " + std::to_string(n_list) + " entries but only " +
           std::to_string(r.remaining()) + " lines follow (truncated file?)");
  h.included.fill(n_list <= 0);
  for (long long i = 0; i < (n_list < 0 ? -n_list : n_list); ++i) {
    const long long k = r.integer("a block parameter number (1..40) of the inclusion/exclusion list declared on line " +
                                  std::to_string(list_line));
    if (k < 1 || k > 40) r.fail("block parameter number " + std::to_string(k) + " is outside 1..40");
    h.included[static_cast<std::size_t>(k)] = n_list > 0;
  }
  const std::size_t n_manual = r.count("the number of manually entered items in a block");
  r.skip(n_manual, "the prefix number of a manually entered item");
  const std::size_t n_future_exp = r.count("the number of future upgrade experiment entries");
  h.future_block_entries = r.count("the number of future upgrade block entries");
  r.skip(n_future_exp, "a future upgrade experiment entry");
  h.n_blocks = r.count("the number of blocks");
  if (h.n_blocks == 0) r.fail("the file declares 0 blocks; there is no spectrum to read");
  return h;
}

const std::vector<std::string_view> kSputterTechniques = {"FABMS", "FABMS energy spec", "ISS", "SIMS",
                                                          "SIMS energy spec", "SNMS", "SNMS energy spec"};
const std::vector<std::string_view> kElectronTechniques = {"AES diff", "AES dir", "EDX", "ELS", "UPS", "XPS", "XRF"};

// Reads one block's parameters (not its data). `first` is the first block (nullptr while reading it).
Block read_block_header(Reader& r, const Header& h, const Block* first, std::size_t index) {
  Block b = first ? *first : Block{};
  auto inc = [&](int k) { return first == nullptr || h.included[static_cast<std::size_t>(k)]; };
  const std::string& m = h.exp_mode;
  const std::string in = " of block " + std::to_string(index + 1);
  b.id = r.text("the block identifier" + in);
  if (lower(b.id) == "end of experiment")
    r.fail("expected block " + std::to_string(index + 1) + " of " + std::to_string(h.n_blocks) +
           ", found 'end of experiment' (the file declares more blocks than it holds)");
  b.sample = r.text("the sample identifier" + in);
  static const std::array<const char*, 7> date_items = {"year",    "month",   "day of month",
                                                        "hours",   "minutes", "seconds",
                                                        "number of hours in advance of GMT"};
  for (int k = 1; k <= 7; ++k)
    if (inc(k)) b.date[static_cast<std::size_t>(k - 1)] = r.integer(std::string("the ") + date_items[k - 1] + in);
  if (inc(8)) b.comment = r.lines(r.count("the number of lines in the block comment" + in), "block comment line");
  if (inc(9)) b.technique = r.choice("technique" + in, kTechniques);
  if (inc(10) && (m == "MAP" || m == "MAPDP")) {
    b.x = r.text("the x coordinate" + in);
    b.y = r.text("the y coordinate" + in);
  }
  if (inc(11)) {
    b.exp_values.clear();
    for (std::size_t i = 0; i < h.exp_variables.size(); ++i)
      b.exp_values.push_back(r.text("the value of experimental variable '" + h.exp_variables[i] + "'" + in));
  }
  if (inc(12)) b.source_label = r.text("the analysis source label" + in);
  const bool sputter_ion = m == "MAPDP" || m == "MAPSVDP" || m == "SDP" || m == "SDPSV" ||
                           contains(kSputterTechniques, b.technique);
  if (inc(13) && sputter_ion) {
    r.integer("the sputtering ion or atom atomic number" + in);
    r.integer("the number of atoms in the sputtering ion or atom particle" + in);
    r.text("the sputtering ion or atom charge sign and number" + in);
  }
  if (inc(14)) b.source_energy = r.real("the analysis source characteristic energy" + in);
  if (inc(15)) r.real("the analysis source strength" + in);
  if (inc(16)) {
    r.real("the analysis source beam width x" + in);
    r.real("the analysis source beam width y" + in);
  }
  if (inc(17) && (m == "MAP" || m == "MAPDP" || m == "MAPSV" || m == "MAPSVDP" || m == "SEM")) {
    r.real("the field of view x" + in);
    r.real("the field of view y" + in);
  }
  if (inc(18) && (m == "MAPSV" || m == "MAPSVDP" || m == "SEM")) {
    for (const char* what : {"first linescan start x", "first linescan start y", "first linescan finish x",
                             "first linescan finish y", "last linescan finish x", "last linescan finish y"})
      r.integer(std::string("the ") + what + in);
  }
  if (inc(19)) r.real("the analysis source polar angle of incidence" + in);
  if (inc(20)) r.real("the analysis source azimuth" + in);
  if (inc(21)) b.analyser_mode = r.text("the analyser mode" + in);
  if (inc(22)) b.pass_energy = r.real("the analyser pass energy, retard ratio or mass resolution" + in);
  if (inc(23) && b.technique == "AES diff") r.real("the differential width" + in);
  if (inc(24)) r.real("the magnification of the analyser transfer lens" + in);
  if (inc(25)) b.work_function = r.real("the analyser work function or acceptance energy" + in);
  if (inc(26)) r.real("the target bias" + in);
  if (inc(27)) {
    r.real("the analysis width x" + in);
    r.real("the analysis width y" + in);
  }
  if (inc(28)) {
    r.real("the analyser axis take-off polar angle" + in);
    r.real("the analyser axis take-off azimuth" + in);
  }
  if (inc(29)) b.species = r.text("the species label" + in);
  if (inc(30)) {
    b.transition = r.text("the transition or charge state label" + in);
    r.integer("the charge of the detected particle" + in);
  }
  if (inc(31) && h.scan_mode == "REGULAR") {
    b.abscissa_label = r.text("the abscissa label" + in);
    b.abscissa_line = r.line_no();
    b.abscissa_unit = r.text("the abscissa units" + in);
    b.start = r.real("the abscissa start" + in);
    if (!std::isfinite(b.start)) r.fail("abscissa start must be finite");
    b.increment = r.real("the abscissa increment" + in);
    if (!std::isfinite(b.increment) || b.increment == 0)
      r.fail("abscissa increment must be finite and non-zero (a regular axis needs distinct energies), got " +
             core::format_double(b.increment));
  }
  if (inc(32)) {
    const std::size_t n = r.count("the number of corresponding variables" + in, 2);
    if (n == 0) r.fail("a block needs at least one corresponding variable (the counts)");
    b.variables.clear();
    for (std::size_t i = 0; i < n; ++i) {
      Variable v;
      v.label = r.text("the label of corresponding variable " + std::to_string(i + 1) + in);
      v.unit = r.text("the units of corresponding variable " + std::to_string(i + 1) + in);
      b.variables.push_back(std::move(v));
    }
    if (h.scan_mode == "IRREGULAR" && n < 2)
      r.fail("an IRREGULAR scan gives the abscissa as the first corresponding variable, so it needs at least 2 "
             "(abscissa and counts); block " + std::to_string(index + 1) + " declares " + std::to_string(n));
    if (h.scan_mode == "IRREGULAR") b.abscissa_line = r.line_no() - 2 * n + 1;
  }
  if (inc(33)) b.signal_mode = r.text("the signal mode" + in);
  if (inc(34)) b.collection_time = r.real("the signal collection time" + in);
  if (inc(35)) b.scans = r.integer("the number of scans to compile this block" + in);
  if (inc(36)) r.real("the signal time correction" + in);
  if (inc(37) && (m == "MAPDP" || m == "MAPSVDP" || m == "SDP" || m == "SDPSV") &&
      contains(kElectronTechniques, b.technique)) {
    for (const char* what : {"sputtering source energy", "sputtering source beam current", "sputtering source width x",
                             "sputtering source width y", "sputtering source polar angle of incidence",
                             "sputtering source azimuth"})
      r.real(std::string("the ") + what + in);
    r.text("the sputtering mode" + in);
  }
  if (inc(38)) {
    r.real("the sample normal polar angle of tilt" + in);
    r.real("the sample normal tilt azimuth" + in);
  }
  if (inc(39)) r.real("the sample rotation angle" + in);
  if (inc(40)) {
    const std::size_t n = r.count("the number of additional numerical parameters" + in, 3);
    b.params.clear();
    for (std::size_t i = 0; i < n; ++i) {
      const std::string k = std::to_string(i + 1);
      std::array<std::string, 3> p;
      p[0] = r.text("the label of additional parameter " + k + in);
      p[1] = r.text("the units of additional parameter " + k + in);
      p[2] = r.text("the value of additional parameter " + k + in);
      b.params.push_back(std::move(p));
    }
  }
  r.skip(h.future_block_entries, "a future upgrade block entry" + in);
  return b;
}

// "(*Fe 2p*) (*LF(0.54,10,80,100,6)*) Area 63507 ..." -> {"Fe 2p", "LF(0.54,10,80,100,6)", "Area", "63507", ...}
std::vector<std::string> casa_tokens(std::string_view s) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    if (i >= s.size()) break;
    if (s.compare(i, 2, "(*") == 0) {
      const std::size_t end = s.find("*)", i + 2);
      const std::size_t stop = end == std::string_view::npos ? s.size() : end;
      out.emplace_back(s.substr(i + 2, stop - i - 2));
      i = end == std::string_view::npos ? s.size() : end + 2;
    } else {
      std::size_t j = i;
      while (j < s.size() && !std::isspace(static_cast<unsigned char>(s[j]))) ++j;
      out.emplace_back(s.substr(i, j - i));
      i = j;
    }
  }
  return out;
}

// CasaXPS stores its quantification regions and fitted components in the block comment:
//   CASA region (*name*) (*background*) start end RSF av.width start-offset end-offset p1 p2 p3 p4 (*tag*) ...
//   CASA comp (*name*) (*lineshape*) Area v lo hi link scale MFWHM v lo hi link scale Position v lo hi link scale ...
// Energies are those of the file's abscissa (kinetic for a kinetic axis).
void parse_casa(const std::vector<std::string>& comment, std::map<std::string, std::string>& md) {
  std::size_t n_regions = 0, n_comps = 0;
  for (const std::string& line : comment) {
    const std::string_view t = trim(line);
    if (t.rfind("CASA region", 0) == 0) {
      const std::string key = "casa.region." + std::to_string(++n_regions);
      md[key] = std::string(t);
      const auto tok = casa_tokens(t.substr(11));
      if (tok.size() > 0) md[key + ".name"] = tok[0];
      if (tok.size() > 1) md[key + ".background"] = tok[1];
      if (tok.size() > 3) {
        md[key + ".start"] = tok[2];
        md[key + ".end"] = tok[3];
      }
      if (tok.size() > 11) md[key + ".background_params"] = tok[8] + " " + tok[9] + " " + tok[10] + " " + tok[11];
    } else if (t.rfind("CASA comp", 0) == 0) {
      const std::string key = "casa.component." + std::to_string(++n_comps);
      md[key] = std::string(t);
      const auto tok = casa_tokens(t.substr(9));
      if (tok.size() > 0) md[key + ".name"] = tok[0];
      if (tok.size() > 1) md[key + ".lineshape"] = tok[1];
      for (std::size_t i = 2; i + 1 < tok.size(); ++i) {
        if (tok[i] == "Area") md[key + ".area"] = tok[i + 1];
        if (tok[i] == "MFWHM") md[key + ".fwhm"] = tok[i + 1];
        if (tok[i] == "Position") md[key + ".position"] = tok[i + 1];
      }
    }
  }
  if (n_regions) md["casa.regions"] = std::to_string(n_regions);
  if (n_comps) md["casa.components"] = std::to_string(n_comps);
}

// Vendor comment lines: SPECS Prodigy "Key = value", Kratos "Key : value", PHI "Key: value" (between SOFH/EOFH),
// CasaXPS "CasaRowLabel:..". Collected as comment.<key>; the first occurrence wins.
void parse_comment(const std::vector<std::string>& comment, std::map<std::string, std::string>& md,
                   std::string& software) {
  for (const std::string& line : comment) {
    const std::string_view t = trim(line);
    if (t.rfind("CASA ", 0) == 0) continue;
    for (std::string_view tag : {std::string_view("CasaXPS Version"), std::string_view("SpecsLab Prodigy")}) {
      const std::size_t at = t.find(tag);
      if (at != std::string_view::npos) {
        if (!software.empty()) software += "; ";
        software += std::string(trim(t.substr(at)));
      }
    }
    const std::size_t sep = t.find_first_of(":=");
    if (sep == std::string_view::npos || sep < 2 || sep > 64) continue;
    const std::string_view key = trim(t.substr(0, sep));
    const std::string_view value = trim(t.substr(sep + 1));
    if (key.size() < 2 || key.find_first_of("\\/\"") != std::string_view::npos) continue;
    md.emplace("comment." + std::string(key), std::string(value));
  }
  if (auto it = md.find("comment.SoftwareVersion"); it != md.end() && software.find(it->second) == std::string::npos) {
    if (!software.empty()) software += "; ";
    software += it->second;
  }
}

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (i) out += '\n';
    out += lines[i];
  }
  return out;
}

void put(std::map<std::string, std::string>& md, const std::string& key, const std::string& value) {
  if (!value.empty()) md[key] = value;
}

std::string number_text(double v) { return unknown(v) ? std::string() : core::format_double(v); }

// Photon energy when the file gives only the source label (characteristic energy written as "unknown").
double photon_energy_from_label(const std::string& label) {
  const std::string l = lower(label);
  if (l.find("al") == 0) return 1486.6;  // Al Kα
  if (l.find("mg") == 0) return 1253.6;  // Mg Kα
  return std::numeric_limits<double>::quiet_NaN();
}

Spectrum read_block(Reader& r, const Header& h, const Block& b, std::size_t index) {
  const std::string in = " of block " + std::to_string(index + 1);
  const bool irregular = h.scan_mode == "IRREGULAR";
  const std::size_t nvar = b.variables.size();
  const std::size_t n_values = r.count("the number of ordinate values" + in);
  const std::size_t count_line = r.line_no();
  if (n_values % nvar != 0)
    r.fail("the number of ordinate values" + in + " (" + std::to_string(n_values) +
           ") is not a multiple of its " + std::to_string(nvar) + " corresponding variables");
  for (std::size_t v = 0; v < nvar; ++v) {
    r.real("the minimum ordinate value of '" + b.variables[v].label + "'" + in);
    r.real("the maximum ordinate value of '" + b.variables[v].label + "'" + in);
  }
  const std::size_t n = n_values / nvar;
  const std::size_t counts_var = irregular ? 1 : 0;

  Spectrum s;
  s.source = r.file();
  s.energy.reserve(n);
  s.counts.reserve(n);
  std::size_t prev_line = 0;
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t v = 0; v < nvar; ++v) {
      const std::string_view t = r.raw_lazy([&] {
        return "ordinate value " + std::to_string(i * nvar + v + 1) + " of " + std::to_string(n_values) + in;
      });
      double x = 0;
      if (!parse_real(t, x))
        r.fail("expected ordinate value " + std::to_string(i * nvar + v + 1) + " of " + std::to_string(n_values) +
               " ('" + b.variables[v].label + "', point " + std::to_string(i + 1) + in + "), got '" +
               shown(trim(t)) + "'");
      if (irregular && v == 0) {
        if (!std::isfinite(x)) r.fail("abscissa value '" + shown(trim(t)) + "' is not finite");
        if (i >= 1) {
          const double prev = s.energy[i - 1];
          const bool ascending = i >= 2 ? s.energy[1] > s.energy[0] : x > prev;
          if (x == prev)
            r.fail("abscissa value " + core::format_double(x) + " repeats the previous point (line " +
                   std::to_string(prev_line) + "); energies must be distinct");
          if ((x > prev) != ascending)
            r.fail("abscissa value " + core::format_double(x) + " breaks the " +
                   (ascending ? std::string("ascending") : std::string("descending")) + " energy axis (previous " +
                   core::format_double(prev) + " on line " + std::to_string(prev_line) + ")");
        }
        prev_line = r.line_no();
        s.energy.push_back(x);
      } else if (v == counts_var) {
        if (!std::isfinite(x)) r.fail("count '" + shown(trim(t)) + "' is not finite");
        if (x < 0) r.fail("negative count " + core::format_double(x) + " (counts must be >= 0)");
        s.counts.push_back(x);
      }
    }
  }
  if (n < 2)
    r.fail(count_line, "block " + std::to_string(index + 1) + " has " + std::to_string(n) +
                           " point(s); a spectrum needs at least 2");
  if (!irregular)
    for (std::size_t i = 0; i < n; ++i) s.energy.push_back(b.start + static_cast<double>(i) * b.increment);

  // Axis label and scale.
  const Variable axis = irregular ? b.variables[0] : Variable{b.abscissa_label, b.abscissa_unit};
  const std::string unit = lower(trim(axis.unit));
  if (!unit.empty() && unit != "ev")
    r.fail(b.abscissa_line, "the abscissa '" + shown(axis.label) + "'" + in + " is in '" + shown(axis.unit) +
                                "', not an energy in eV");
  s.scale = lower(axis.label).find("binding") != std::string::npos ? EnergyScale::Binding : EnergyScale::Kinetic;

  auto& md = s.metadata;
  md["format"] = "VAMAS";
  md["experiment_mode"] = h.exp_mode;
  md["scan_mode"] = h.scan_mode;
  put(md, "institution", h.institution);
  put(md, "instrument", h.instrument);
  put(md, "operator", h.op);
  put(md, "experiment", h.experiment);
  put(md, "file_comment", joined(h.comment));
  put(md, "block_id", b.id);
  put(md, "sample_id", b.sample);
  if (b.date[0] > 0) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lld %02lld:%02lld:%02lld", b.date[0], b.date[1], b.date[2],
                  b.date[3], b.date[4], b.date[5]);
    md["date"] = buf;
    md["gmt_offset_hours"] = std::to_string(b.date[6]);
  }
  put(md, "block_comment", joined(b.comment));
  put(md, "technique", b.technique);
  put(md, "x", b.x);
  put(md, "y", b.y);
  for (std::size_t i = 0; i < h.exp_variables.size() && i < b.exp_values.size(); ++i)
    md["exp_variable." + h.exp_variables[i]] = b.exp_values[i];
  put(md, "source_label", b.source_label);
  put(md, "analyser_mode", b.analyser_mode);
  put(md, "pass_energy", number_text(b.pass_energy));
  put(md, "species", b.species);
  put(md, "transition", b.transition);
  put(md, "abscissa_label", axis.label);
  put(md, "abscissa_unit", axis.unit);
  put(md, "ordinate_label", b.variables[counts_var].label);
  put(md, "ordinate_unit", b.variables[counts_var].unit);
  for (std::size_t v = counts_var + 1; v < nvar; ++v)
    md["variable." + std::to_string(v + 1)] = b.variables[v].label + " [" + b.variables[v].unit + "]";
  put(md, "signal_mode", b.signal_mode);
  put(md, "dwell_time", number_text(b.collection_time));
  if (b.scans >= 0) md["scans"] = std::to_string(b.scans);
  for (const auto& p : b.params) md["param." + p[0]] = p[1].empty() || p[1] == "d" ? p[2] : p[2] + " " + p[1];
  std::string software;
  parse_comment(b.comment, md, software);
  parse_comment(h.comment, md, software);
  put(md, "software", software);
  parse_casa(b.comment, md);

  s.photon_energy = unknown(b.source_energy) ? std::numeric_limits<double>::quiet_NaN() : b.source_energy;
  if (std::isnan(s.photon_energy)) {
    s.photon_energy = photon_energy_from_label(b.source_label);
    if (std::isfinite(s.photon_energy)) md["photon_energy_from"] = "source label '" + b.source_label + "'";
  }
  s.work_function = unknown(b.work_function) ? 0.0 : b.work_function;
  if (unknown(b.work_function)) {
    // PHI writes the analyser work function in its SOFH header comment ("AnalyserWorkFcn: 4.506 eV").
    if (auto it = md.find("comment.AnalyserWorkFcn"); it != md.end()) {
      const std::string_view v = trim(it->second);
      double w = 0;
      if (parse_real(v.substr(0, v.find(' ')), w) && std::isfinite(w)) {
        s.work_function = w;
        md["work_function_from"] = "comment AnalyserWorkFcn";
      }
    }
  }
  std::string name = b.species;
  if (!b.transition.empty()) name += (name.empty() ? "" : " ") + b.transition;
  if (name.empty()) name = b.id;
  if (name.empty()) name = "block " + std::to_string(index + 1);
  s.name = name;
  s.validate();
  return s;
}

}  // namespace

std::vector<Spectrum> read_vamas(const std::filesystem::path& path) {
  const std::string text = core::read_file(path);
  Reader r(path.string(), text);
  const Header h = read_header(r);
  std::vector<Spectrum> out;
  out.reserve(h.n_blocks);
  Block first;
  for (std::size_t i = 0; i < h.n_blocks; ++i) {
    const Block b = read_block_header(r, h, i == 0 ? nullptr : &first, i);
    if (i == 0) first = b;
    out.push_back(read_block(r, h, b, i));
  }
  // The standard ends with "end of experiment"; anything else after the last block means a block held more
  // values than it declared (or the block count is too small). A file that simply stops is accepted.
  while (!r.at_end()) {
    const std::string t = r.text("end of experiment");
    if (t.empty()) continue;
    if (lower(t) != "end of experiment")
      r.fail("expected 'end of experiment' after the " + std::to_string(h.n_blocks) + " declared block(s), got '" +
             shown(t) + "' (a block holds more values than it declares, or the number of blocks is too small)");
    break;
  }
  return out;
}

}  // namespace tsunagu::spectra
