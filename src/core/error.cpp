#include "tsunagu/core/error.hpp"

#include <utility>

namespace tsunagu {

namespace {

std::string format_parse_error(const std::string& file, std::size_t line, const std::string& column,
                               const std::string& message) {
  std::string out = file;
  if (line != 0) {
    out += ':';
    out += std::to_string(line);
  }
  out += ": ";
  if (!column.empty()) {
    out += "column '";
    out += column;
    out += "': ";
  }
  out += message;
  return out;
}

}  // namespace

ParseError::ParseError(std::string file, std::size_t line, std::string column, const std::string& message)
    : Error(format_parse_error(file, line, column, message)),
      file_(std::move(file)),
      line_(line),
      column_(std::move(column)),
      message_(message) {}

}  // namespace tsunagu
