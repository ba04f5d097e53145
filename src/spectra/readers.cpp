// Delimited-text spectra, the format dispatcher and the `spectra info` summary. The VAMAS reader is in vamas.cpp.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>
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
std::string shown(std::string_view s) { return detail::shown(s, 40); }




std::vector<std::string_view> split_lines(std::string_view text) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    start = end + 1;
  }
  return lines;
}

// ' ' stands for "runs of blanks".
char detect_delimiter(std::string_view line) {
  if (line.find('\t') != std::string_view::npos) return '\t';
  if (line.find(';') != std::string_view::npos) return ';';
  if (line.find(',') != std::string_view::npos) return ',';
  return ' ';
}

std::string_view unquote(std::string_view f) {
  f = trim(f);
  if (f.size() >= 2 && ((f.front() == '"' && f.back() == '"') || (f.front() == '\'' && f.back() == '\'')))
    f = trim(f.substr(1, f.size() - 2));
  return f;
}

std::vector<std::string_view> split_fields(std::string_view line, char delim) {
  std::vector<std::string_view> out;
  if (delim == ' ') {
    std::size_t i = 0;
    while (i < line.size()) {
      while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
      if (i >= line.size()) break;
      std::size_t j = i;
      while (j < line.size() && !std::isspace(static_cast<unsigned char>(line[j]))) ++j;
      out.push_back(unquote(line.substr(i, j - i)));
      i = j;
    }
    return out;
  }
  std::size_t start = 0;
  for (;;) {
    const std::size_t end = line.find(delim, start);
    out.push_back(unquote(line.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start)));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return out;
}

enum class Num { Ok, Missing, NotNumber, NotFinite };

// With ';' or tab as the delimiter a decimal comma is unambiguous ("284,5"), so it is accepted there.
Num parse_number(std::string_view f, char delim, double& v) {
  f = trim(f);
  if (f.empty()) return Num::Missing;
  std::string buf;
  if ((delim == ';' || delim == '\t') && f.find(',') != std::string_view::npos &&
      f.find('.') == std::string_view::npos) {
    buf.assign(f);
    std::replace(buf.begin(), buf.end(), ',', '.');
    f = buf;
  }
  if (f.front() == '+') f.remove_prefix(1);
  const auto r = std::from_chars(f.data(), f.data() + f.size(), v);
  if (r.ec != std::errc() || r.ptr != f.data() + f.size()) return Num::NotNumber;
  if (!std::isfinite(v)) return Num::NotFinite;
  return Num::Ok;
}

// "BE/eV", "Binding Energy (eV)" -> binding; "KE", "Kinetic energy" -> kinetic; nothing -> nullopt.
std::optional<EnergyScale> scale_hint(std::string_view text) {
  const std::string l = lower(text);
  std::size_t i = 0;
  while (i < l.size()) {
    while (i < l.size() && !std::isalnum(static_cast<unsigned char>(l[i]))) ++i;
    std::size_t j = i;
    while (j < l.size() && std::isalnum(static_cast<unsigned char>(l[j]))) ++j;
    const std::string_view word(l.data() + i, j - i);
    if (word == "be" || word.find("binding") != std::string_view::npos) return EnergyScale::Binding;
    if (word == "ke" || word.find("kinetic") != std::string_view::npos) return EnergyScale::Kinetic;
    i = j;
  }
  return std::nullopt;
}

}  // namespace

std::vector<Spectrum> read_xy(const std::filesystem::path& path, const XyOptions& options) {
  const std::string file = path.string();
  const std::string text = core::read_file(path);
  const auto lines = split_lines(text);

  std::vector<std::string_view> header_lines;  // non-comment lines before the data
  std::vector<std::size_t> header_line_numbers;
  std::string hint_text;                      // header and comment text, for the scale guess
  char delim = 0;
  std::size_t ncols = 0, first_data_line = 0, last_data_line = 0;
  std::vector<std::string> names;  // column names, when the last header line has one per column
  std::vector<double> energy;
  std::vector<std::vector<double>> counts;
  std::size_t prev_line = 0;

  for (std::size_t li = 0; li < lines.size(); ++li) {
    const std::size_t line_no = li + 1;
    const std::string_view line = trim(lines[li]);
    if (line.empty()) continue;
    if (line.front() == '#') {
      hint_text += std::string(line) + "\n";
      continue;
    }
    if (delim == 0) {
      // Still in the header: a line is the first data row when its first field is a number.
      const char d = detect_delimiter(line);
      const auto fields = split_fields(line, d);
      double v = 0;
      const Num first = fields.empty() ? Num::Missing : parse_number(fields[0], d, v);
      if (first == Num::Missing || first == Num::NotNumber) {
        header_lines.push_back(line);
        hint_text += std::string(line) + "\n";
        header_line_numbers.push_back(line_no);
        continue;
      }
      delim = d;
      ncols = fields.size();
      first_data_line = line_no;
      if (ncols < 2)
        throw ParseError(file, line_no, "",
                         "a data row needs at least 2 columns (energy and counts), found " + std::to_string(ncols) +
                             " in '" + shown(line) + "'");
      // A "header" line that splits like the data and holds numbers is a data row with a bad first value
      // ("3O1.5,1709"): report it instead of taking it for column names.
      for (std::size_t k = 0; k < header_lines.size(); ++k) {
        const auto hf = split_fields(header_lines[k], delim);
        if (hf.size() != ncols) continue;
        bool any_number = false;
        for (const auto& f : hf) any_number = any_number || parse_number(f, delim, v) == Num::Ok;
        if (any_number)
          throw ParseError(file, header_line_numbers[k], std::to_string(1),
                           "non-numeric value '" + shown(hf[0]) + "' in a row that otherwise holds numbers");
      }
      if (!header_lines.empty()) {
        const auto h = split_fields(header_lines.back(), delim);
        if (h.size() == ncols)
          for (const auto& f : h) names.emplace_back(f);
      }
      counts.resize(ncols - 1);
    }
    const auto fields = split_fields(line, delim);
    auto column = [&](std::size_t j) {
      return j < names.size() && !names[j].empty() ? names[j] : std::to_string(j + 1);
    };
    if (fields.size() != ncols)
      throw ParseError(file, line_no, "",
                       "row has " + std::to_string(fields.size()) + " fields, expected " + std::to_string(ncols) +
                           " as in the first data row (line " + std::to_string(first_data_line) + ")");
    for (std::size_t j = 0; j < ncols; ++j) {
      double v = 0;
      switch (parse_number(fields[j], delim, v)) {
        case Num::Ok:
          break;
        case Num::Missing:
          throw ParseError(file, line_no, column(j), "missing value");
        case Num::NotNumber:
          throw ParseError(file, line_no, column(j), "non-numeric value '" + shown(fields[j]) + "'");
        case Num::NotFinite:
          throw ParseError(file, line_no, column(j), "non-finite value '" + shown(fields[j]) + "'");
      }
      if (j == 0) {
        const std::size_t i = energy.size();
        if (i >= 1) {
          const double prev = energy[i - 1];
          const bool ascending = i >= 2 ? energy[1] > energy[0] : v > prev;
          if (v == prev)
            throw ParseError(file, line_no, column(j),
                             "energy " + core::format_double(v) + " repeats line " + std::to_string(prev_line) +
                                 "; energies must be distinct");
          if ((v > prev) != ascending)
            throw ParseError(file, line_no, column(j),
                             "energy " + core::format_double(v) + " breaks the " +
                                 (ascending ? std::string("ascending") : std::string("descending")) +
                                 " energy axis (previous " + core::format_double(prev) + " on line " +
                                 std::to_string(prev_line) + ")");
        }
        energy.push_back(v);
      } else {
        if (v < 0)
          throw ParseError(file, line_no, column(j),
                           "negative count " + core::format_double(v) + " (counts must be >= 0)");
        counts[j - 1].push_back(v);
      }
    }
    prev_line = line_no;
    last_data_line = line_no;
  }
  if (energy.empty())
    throw ParseError(file, 0, "", "no data rows (expected lines of energy and counts, e.g. '284.5,1200')");
  if (energy.size() < 2)
    throw ParseError(file, last_data_line, "", "only 1 data row; a spectrum needs at least 2 points");

  EnergyScale scale = EnergyScale::Binding;
  std::string scale_from = "default (binding)";
  if (options.scale) {
    scale = *options.scale;
    scale_from = "option";
  } else if (auto s = names.empty() ? std::nullopt : scale_hint(names[0])) {
    scale = *s;
    scale_from = "header '" + names[0] + "'";
  } else if (auto t = scale_hint(hint_text)) {
    scale = *t;
    scale_from = "header";
  }

  std::vector<Spectrum> out;
  const std::string stem = path.stem().string();
  for (std::size_t j = 1; j < ncols; ++j) {
    Spectrum s;
    s.energy = energy;
    s.counts = std::move(counts[j - 1]);
    s.scale = scale;
    s.photon_energy = options.photon_energy;
    s.source = file;
    if (j < names.size() && !names[j].empty())
      s.name = names[j];
    else
      s.name = ncols == 2 ? stem : stem + " column " + std::to_string(j + 1);
    s.metadata["format"] = "text";
    s.metadata["scale_from"] = scale_from;
    if (!names.empty()) {
      s.metadata["energy_label"] = names[0];
      s.metadata["counts_label"] = names[j];
    }
    s.metadata["first_data_line"] = std::to_string(first_data_line);
    s.validate();
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<Spectrum> read_spectra(const std::filesystem::path& path, const XyOptions& options) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw IoError("cannot read '" + path.string() + "': is a directory");
  std::string head;
  {
    std::ifstream in(path, std::ios::binary);
    if (!in) core::read_file(path);  // throws IoError naming the path and the reason
    head.resize(256);
    in.read(head.data(), static_cast<std::streamsize>(head.size()));
    head.resize(static_cast<std::size_t>(in.gcount()));
  }
  std::string_view h = head;
  if (h.substr(0, 3) == "\xEF\xBB\xBF") h.remove_prefix(3);
  while (!h.empty() && std::isspace(static_cast<unsigned char>(h.front()))) h.remove_prefix(1);
  if (head.rfind("\x89HDF\r\n\x1a\n", 0) == 0)
    throw InvalidArgument(path.string() + " is an HDF5 file: fit a datacube with 'spectra batch' ('spectra info " +
                          path.string() + "' lists its datasets)");
  const std::string ext = lower(path.extension().string());
  if (h.rfind("VAMAS Surface Chemical Analysis Standard", 0) == 0 || ext == ".vms" || ext == ".vamas")
    return read_vamas(path);
  return read_xy(path, options);
}

nlohmann::json describe(const std::vector<Spectrum>& spectra) {
  static const char* kKeys[] = {"format",       "technique",    "source_label",    "species",
                                "transition",   "block_id",     "sample_id",       "date",
                                "analyser_mode", "pass_energy", "dwell_time",      "scans",
                                "abscissa_label", "ordinate_label", "ordinate_unit", "scan_mode",
                                "software",     "casa.regions", "casa.components", "energy_label",
                                "counts_label", "scale_from",   "photon_energy_from"};
  nlohmann::json blocks = nlohmann::json::array();
  for (std::size_t i = 0; i < spectra.size(); ++i) {
    const Spectrum& s = spectra[i];
    nlohmann::json b;
    b["index"] = i;
    b["name"] = s.name;
    b["points"] = s.size();
    b["source"] = s.source;
    if (!s.energy.empty()) {
      const auto [lo, hi] = std::minmax_element(s.energy.begin(), s.energy.end());
      b["energy_min"] = *lo;
      b["energy_max"] = *hi;
    } else {
      b["energy_min"] = nullptr;
      b["energy_max"] = nullptr;
    }
    nlohmann::json step = nullptr;
    if (s.size() >= 2) {
      const double d0 = s.energy[1] - s.energy[0];
      bool even = d0 != 0;
      for (std::size_t k = 2; k < s.size() && even; ++k)
        even = std::abs((s.energy[k] - s.energy[k - 1]) - d0) <= 1e-6 * std::abs(d0);
      if (even) step = std::abs(d0);
      b["ascending"] = d0 > 0;
    }
    b["step"] = step;
    b["scale"] = to_string(s.scale);
    b["photon_energy"] = std::isfinite(s.photon_energy) ? nlohmann::json(s.photon_energy) : nlohmann::json(nullptr);
    b["work_function"] = s.work_function;
    nlohmann::json md = nlohmann::json::object();
    for (const char* k : kKeys)
      if (auto it = s.metadata.find(k); it != s.metadata.end()) md[k] = it->second;
    b["metadata"] = md;
    blocks.push_back(std::move(b));
  }
  return nlohmann::json{{"blocks", blocks}};
}

}  // namespace tsunagu::spectra
