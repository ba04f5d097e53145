#pragma once
/// CSV tables with a header row. Cells are kept as text so that identifier columns (sample names) can travel
/// next to numeric ones; conversion to numbers happens per requested column with errors that name the file,
/// line and column of the offending cell.
#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <Eigen/Core>

namespace tsunagu::core {

struct CsvOptions {
  char delimiter = ',';        ///< field separator; '\t' for TSV
  char comment = '#';          ///< lines before the header whose first non-blank character is this are skipped; '\0' disables
  void validate() const;       ///< throws InvalidArgument if delimiter is '"', '\n' or equals comment
};

/// What to do with a missing cell (empty, "NA", "N/A", "NaN", "null"; case-insensitive) in a numeric column.
enum class MissingPolicy {
  Error,  ///< throw ParseError naming file, line and column (default)
  Drop,   ///< drop the whole row from the result (see NumericData::kept_rows)
};

/// A numeric matrix extracted from a Table.
struct NumericData {
  Eigen::MatrixXd values;              ///< (n_kept_rows, n_columns), column order as requested
  std::vector<std::string> columns;    ///< requested column names
  std::vector<std::size_t> kept_rows;  ///< 0-based row indices (into Table::rows) that were kept
  std::size_t dropped = 0;             ///< rows dropped because of missing cells (MissingPolicy::Drop)
};

struct Table {
  std::string source;                          ///< file name (or "<string>") used in error messages
  std::vector<std::string> columns;            ///< header names, unique, non-empty, whitespace-trimmed
  std::vector<std::vector<std::string>> rows;  ///< rows[i][j] = cell text (trimmed, quotes removed)
  std::vector<std::size_t> line_numbers;       ///< 1-based file line of each row (for messages)

  std::size_t n_rows() const noexcept { return rows.size(); }
  std::size_t n_cols() const noexcept { return columns.size(); }
  bool has_column(std::string_view name) const noexcept;
  /// Index of a column; throws InvalidArgument "FILE: no column 'x' (columns: a, b, ...)".
  std::size_t column_index(std::string_view name) const;
  /// Text of one column.
  std::vector<std::string> text_column(std::string_view name) const;
  /// Numeric values of the named columns. Non-numeric text, NaN/Inf literals (and missing cells under
  /// MissingPolicy::Error) throw ParseError(file, line, column, "non-numeric value 'abc'").
  NumericData numeric(const std::vector<std::string>& names, MissingPolicy missing = MissingPolicy::Error) const;
};

/// Parse CSV text (RFC 4180 quoting, CRLF or LF, optional UTF-8 BOM). Errors (empty input, no data rows, ragged
/// rows, empty or duplicate header names, unterminated quotes) throw ParseError naming `source` and the line.
Table parse_csv(std::string_view text, std::string source = "<string>", const CsvOptions& options = {});

/// Read and parse a CSV file. Throws IoError if it cannot be read.
Table read_csv(const std::filesystem::path& path, const CsvOptions& options = {});

/// Shortest text that reads back to the same double (std::to_chars); NaN -> "nan", ±inf -> "inf"/"-inf".
std::string format_double(double value);

/// CSV text of a table of text cells (header + rows), quoting cells that need it, exactly as write_csv writes it.
std::string format_csv(const std::vector<std::string>& columns, const std::vector<std::vector<std::string>>& rows);

/// Write a table of text cells (quoting cells that need it), atomically.
void write_csv(const std::filesystem::path& path, const std::vector<std::string>& columns,
               const std::vector<std::vector<std::string>>& rows);

/// Write a numeric matrix (n_rows, columns.size()) with a header, atomically. Throws InvalidArgument on a shape
/// mismatch.
void write_csv(const std::filesystem::path& path, const std::vector<std::string>& columns,
               const Eigen::MatrixXd& values);

}  // namespace tsunagu::core
