#include "tsunagu/core/table.hpp"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <ostream>
#include <sstream>
#include <string>
#include <system_error>
#include <unordered_map>

#include "tsunagu/core/error.hpp"
#include "tsunagu/core/io.hpp"

namespace tsunagu::core {

namespace {

std::string char_name(char c) {
  switch (c) {
    case '\n':
      return "'\\n'";
    case '\r':
      return "'\\r'";
    case '\t':
      return "'\\t'";
    case '\0':
      return "'\\0'";
    default:
      return std::string("'") + c + "'";
  }
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

bool is_missing_token(std::string_view s) noexcept {
  return s.empty() || iequals(s, "na") || iequals(s, "nan") || iequals(s, "null") || iequals(s, "n/a");
}

enum class NumberStatus { Ok, NonNumeric, NonFinite, OutOfRange };

NumberStatus parse_number(std::string_view s, double& value) {
  if (!s.empty() && s.front() == '+') {
    s.remove_prefix(1);
    if (s.empty() || s.front() == '+' || s.front() == '-') return NumberStatus::NonNumeric;
  }
  if (s.empty()) return NumberStatus::NonNumeric;
  const char* first = s.data();
  const char* last = s.data() + s.size();
  const auto [ptr, ec] = std::from_chars(first, last, value, std::chars_format::general);
  if (ec == std::errc::invalid_argument || ptr != last) return NumberStatus::NonNumeric;
  if (ec == std::errc::result_out_of_range) {
    // Overflow is an error; underflow (1e-400) quietly becomes a subnormal or zero, as strtod does.
    const std::string copy(s);
    errno = 0;
    value = std::strtod(copy.c_str(), nullptr);
    if (std::isinf(value)) return NumberStatus::OutOfRange;
    return NumberStatus::Ok;
  }
  if (!std::isfinite(value)) return NumberStatus::NonFinite;
  return NumberStatus::Ok;
}

bool is_blank(char c, char delimiter) noexcept { return (c == ' ' || c == '\t') && c != delimiter; }

std::string_view trim_right(std::string_view s, char delimiter) noexcept {
  while (!s.empty() && is_blank(s.back(), delimiter)) s.remove_suffix(1);
  return s;
}

/// Record-by-record RFC 4180 reader that tracks physical line numbers.
class CsvReader {
 public:
  CsvReader(std::string_view text, const std::string& source, const CsvOptions& options)
      : text_(text), source_(source), delim_(options.delimiter), comment_(options.comment) {}

  /// Reads the next non-blank, non-comment record into `fields`. Returns false at end of input.
  /// `names` (the header, possibly empty) is only used to name the column in error messages.
  bool next(std::vector<std::string>& fields, std::size_t& record_line, const std::vector<std::string>& names) {
    const std::size_t n = text_.size();
    for (;;) {
      std::size_t p = pos_;
      while (p < n && is_blank(text_[p], delim_)) ++p;
      if (p >= n) {
        pos_ = n;
        return false;
      }
      if (text_[p] == '\n' || text_[p] == '\r') {  // blank line
        pos_ = p;
        consume_newline();
        continue;
      }
      // Comment lines are recognised only before the header: after it a row whose first cell starts with '#'
      // (a sample called "#12") is data and must not vanish silently.
      if (comment_ != '\0' && !header_done_ && text_[p] == comment_) {
        while (p < n && text_[p] != '\n' && text_[p] != '\r') ++p;
        pos_ = p;
        if (pos_ < n) consume_newline();
        continue;
      }
      break;
    }
    record_line = line_;
    fields.clear();
    read_record(fields, names);
    return true;
  }

  std::size_t line() const noexcept { return line_; }
  void header_done() noexcept { header_done_ = true; }

 private:
  void consume_newline() {
    if (text_[pos_] == '\r') {
      ++pos_;
      if (pos_ < text_.size() && text_[pos_] == '\n') ++pos_;
    } else {
      ++pos_;
    }
    ++line_;
  }

  static std::string column_name(const std::vector<std::string>& names, std::size_t i) {
    return i < names.size() ? names[i] : std::string();
  }

  void read_record(std::vector<std::string>& fields, const std::vector<std::string>& names) {
    const std::size_t n = text_.size();
    for (;;) {
      while (pos_ < n && is_blank(text_[pos_], delim_)) ++pos_;
      std::string field;
      if (pos_ < n && text_[pos_] == '"') {
        const std::size_t open_line = line_;
        ++pos_;
        for (;;) {
          if (pos_ >= n)
            throw ParseError(source_, open_line, column_name(names, fields.size()),
                             "unterminated quoted field (opening quote has no closing quote)");
          const char c = text_[pos_];
          if (c == '"') {
            if (pos_ + 1 < n && text_[pos_ + 1] == '"') {
              field += '"';
              pos_ += 2;
              continue;
            }
            ++pos_;
            break;
          }
          if (c == '\r' || c == '\n') {  // embedded line break, normalised to '\n'
            consume_newline();
            field += '\n';
            continue;
          }
          field += c;
          ++pos_;
        }
        while (pos_ < n && is_blank(text_[pos_], delim_)) ++pos_;
        if (pos_ < n && text_[pos_] != delim_ && text_[pos_] != '\n' && text_[pos_] != '\r')
          throw ParseError(source_, line_, column_name(names, fields.size()),
                           "unexpected character " + char_name(text_[pos_]) + " after closing quote");
      } else {
        const std::size_t start = pos_;
        while (pos_ < n && text_[pos_] != delim_ && text_[pos_] != '\n' && text_[pos_] != '\r') ++pos_;
        field = std::string(trim_right(text_.substr(start, pos_ - start), delim_));
      }
      fields.push_back(std::move(field));
      if (pos_ < n && text_[pos_] == delim_) {
        ++pos_;
        continue;
      }
      if (pos_ < n) consume_newline();
      return;
    }
  }

  std::string_view text_;
  const std::string& source_;
  char delim_, comment_;
  bool header_done_ = false;
  std::size_t pos_ = 0;
  std::size_t line_ = 1;
};

bool needs_quotes(std::string_view cell, bool only_cell) {
  if (cell.empty()) return only_cell;  // a lone empty cell would be read back as a blank line
  if (cell.find_first_of(",\"\n\r") != std::string_view::npos) return true;
  if (cell.front() == ' ' || cell.front() == '\t' || cell.back() == ' ' || cell.back() == '\t') return true;
  if (cell.front() == '#') return true;  // would look like a comment line in the first column
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

void write_row(std::ostream& out, const std::vector<std::string>& cells) {
  for (std::size_t j = 0; j < cells.size(); ++j) {
    if (j) out << ',';
    write_cell(out, cells[j], cells.size() == 1);
  }
  out << '\n';
}

void check_header(const std::filesystem::path& path, const std::vector<std::string>& columns) {
  const std::string where = "write_csv '" + path.string() + "': ";
  if (columns.empty()) throw InvalidArgument(where + "no columns");
  std::unordered_map<std::string_view, std::size_t> seen;
  for (std::size_t j = 0; j < columns.size(); ++j) {
    if (columns[j].empty()) throw InvalidArgument(where + "empty column name at position " + std::to_string(j + 1));
    const auto [it, inserted] = seen.emplace(columns[j], j);
    if (!inserted)
      throw InvalidArgument(where + "duplicate column name '" + columns[j] + "' (columns " +
                            std::to_string(it->second + 1) + " and " + std::to_string(j + 1) + ")");
  }
}

}  // namespace

void CsvOptions::validate() const {
  if (delimiter == '"' || delimiter == '\n' || delimiter == '\r' || delimiter == '\0')
    throw InvalidArgument("csv: invalid delimiter " + char_name(delimiter));
  if (comment != '\0' && comment == delimiter)
    throw InvalidArgument("csv: comment character " + char_name(comment) + " equals the delimiter");
  if (comment == '"' || comment == '\n' || comment == '\r')
    throw InvalidArgument("csv: invalid comment character " + char_name(comment));
}

bool Table::has_column(std::string_view name) const noexcept {
  for (const auto& c : columns)
    if (c == name) return true;
  return false;
}

std::size_t Table::column_index(std::string_view name) const {
  for (std::size_t j = 0; j < columns.size(); ++j)
    if (columns[j] == name) return j;
  std::string msg = source + ": no column '" + std::string(name) + "' (columns: ";
  constexpr std::size_t kMaxListed = 30;
  for (std::size_t j = 0; j < columns.size() && j < kMaxListed; ++j) {
    if (j) msg += ", ";
    msg += columns[j];
  }
  if (columns.size() > kMaxListed) msg += ", ... " + std::to_string(columns.size() - kMaxListed) + " more";
  msg += ")";
  throw InvalidArgument(msg);
}

std::vector<std::string> Table::text_column(std::string_view name) const {
  const std::size_t j = column_index(name);
  std::vector<std::string> out;
  out.reserve(rows.size());
  for (const auto& row : rows) out.push_back(j < row.size() ? row[j] : std::string());
  return out;
}

NumericData Table::numeric(const std::vector<std::string>& names, MissingPolicy missing) const {
  std::vector<std::size_t> index;
  index.reserve(names.size());
  for (const auto& name : names) index.push_back(column_index(name));

  NumericData out;
  out.columns = names;
  out.values.resize(static_cast<Eigen::Index>(rows.size()), static_cast<Eigen::Index>(names.size()));
  out.kept_rows.reserve(rows.size());
  Eigen::Index kept = 0;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& row = rows[i];
    const std::size_t line = i < line_numbers.size() ? line_numbers[i] : 0;
    bool row_missing = false;
    for (std::size_t k = 0; k < index.size(); ++k) {
      const std::size_t j = index[k];
      if (j >= row.size())
        throw InvalidArgument(source + ": row " + std::to_string(i + 1) + " has " + std::to_string(row.size()) +
                              " cells, header has " + std::to_string(columns.size()));
      const std::string& cell = row[j];
      if (is_missing_token(cell)) {
        if (missing == MissingPolicy::Error) throw ParseError(source, line, names[k], "missing value");
        row_missing = true;
        continue;
      }
      double v = 0;
      switch (parse_number(cell, v)) {
        case NumberStatus::Ok:
          break;
        case NumberStatus::NonNumeric:
          throw ParseError(source, line, names[k], "non-numeric value '" + cell + "'");
        case NumberStatus::NonFinite:
          throw ParseError(source, line, names[k], "non-finite value '" + cell + "'");
        case NumberStatus::OutOfRange:
          throw ParseError(source, line, names[k], "value out of double range '" + cell + "'");
      }
      out.values(kept, static_cast<Eigen::Index>(k)) = v;
    }
    if (row_missing) {
      ++out.dropped;
      continue;
    }
    out.kept_rows.push_back(i);
    ++kept;
  }
  out.values.conservativeResize(kept, static_cast<Eigen::Index>(names.size()));
  return out;
}

Table parse_csv(std::string_view text, std::string source, const CsvOptions& options) {
  options.validate();
  if (text.size() >= 3 && text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);

  Table table;
  table.source = std::move(source);
  CsvReader reader(text, table.source, options);

  std::vector<std::string> fields;
  std::size_t header_line = 0;
  if (!reader.next(fields, header_line, {})) throw ParseError(table.source, 0, "", "empty file: no header");

  std::unordered_map<std::string, std::size_t> seen;
  for (std::size_t j = 0; j < fields.size(); ++j) {
    if (fields[j].empty())
      throw ParseError(table.source, header_line, "",
                       "empty column name in header (column " + std::to_string(j + 1) + " of " +
                           std::to_string(fields.size()) + ")");
    const auto [it, inserted] = seen.emplace(fields[j], j);
    if (!inserted)
      throw ParseError(table.source, header_line, "",
                       "duplicate column name '" + fields[j] + "' in header (columns " +
                           std::to_string(it->second + 1) + " and " + std::to_string(j + 1) + ")");
  }
  table.columns = fields;
  reader.header_done();

  std::size_t line = 0;
  while (reader.next(fields, line, table.columns)) {
    if (fields.size() != table.columns.size())
      throw ParseError(table.source, line, "",
                       "row has " + std::to_string(fields.size()) + " field" + (fields.size() == 1 ? "" : "s") +
                           ", header has " + std::to_string(table.columns.size()));
    table.rows.push_back(fields);
    table.line_numbers.push_back(line);
  }
  if (table.rows.empty()) throw ParseError(table.source, header_line, "", "no data rows");
  return table;
}

Table read_csv(const std::filesystem::path& path, const CsvOptions& options) {
  const std::string text = read_file(path);
  return parse_csv(text, path.string(), options);
}

std::string format_double(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char buf[64];
  const auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, value);
  if (ec != std::errc()) return "nan";  // cannot happen: 64 bytes hold any shortest representation
  return std::string(buf, ptr);
}

std::string format_csv(const std::vector<std::string>& columns, const std::vector<std::vector<std::string>>& rows) {
  check_header("<csv>", columns);
  for (std::size_t i = 0; i < rows.size(); ++i)
    if (rows[i].size() != columns.size())
      throw InvalidArgument("write_csv: row " + std::to_string(i + 1) + " has " + std::to_string(rows[i].size()) +
                            " cells, header has " + std::to_string(columns.size()));
  std::ostringstream out;
  write_row(out, columns);
  for (const auto& row : rows) write_row(out, row);
  return out.str();
}

void write_csv(const std::filesystem::path& path, const std::vector<std::string>& columns,
               const std::vector<std::vector<std::string>>& rows) {
  std::string text;
  try {
    text = format_csv(columns, rows);
  } catch (const InvalidArgument& e) {
    throw InvalidArgument("'" + path.string() + "': " + e.what());
  }
  write_file_atomic(path, text);
}

void write_csv(const std::filesystem::path& path, const std::vector<std::string>& columns,
               const Eigen::MatrixXd& values) {
  if (static_cast<std::size_t>(values.cols()) != columns.size())
    throw InvalidArgument("write_csv '" + path.string() + "': " + std::to_string(columns.size()) +
                          " column names but the matrix has " + std::to_string(values.cols()) + " columns");
  check_header(path, columns);
  write_file_atomic(path, [&](std::ostream& out) {
    write_row(out, columns);
    for (Eigen::Index i = 0; i < values.rows(); ++i) {
      for (Eigen::Index j = 0; j < values.cols(); ++j) {
        if (j) out << ',';
        out << format_double(values(i, j));  // never empty, never needs quoting; NaN reads back as missing
      }
      out << '\n';
    }
  });
}

}  // namespace tsunagu::core
