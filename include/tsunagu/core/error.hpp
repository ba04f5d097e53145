#pragma once
/// Error hierarchy. Everything a user can trigger (bad file, bad option, singular problem) is thrown as a
/// tsunagu::Error subclass; the CLI prints "error: <what()>" and the Python bindings translate it in one place
/// (InvalidArgument/ParseError -> ValueError, IoError -> OSError, NumericalError -> ArithmeticError).
/// Aborts/asserts are reserved for broken internal invariants.
#include <cstddef>
#include <stdexcept>
#include <string>

namespace tsunagu {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A parameter, option or array argument is out of range / of the wrong shape. Message names the field.
class InvalidArgument : public Error {
 public:
  using Error::Error;
};

/// Malformed input file. Carries the location; what() reads "FILE:LINE: column 'COL': MESSAGE".
class ParseError : public Error {
 public:
  ParseError(std::string file, std::size_t line, std::string column, const std::string& message);
  const std::string& file() const noexcept { return file_; }
  std::size_t line() const noexcept { return line_; }  ///< 1-based line in the file; 0 when not applicable
  const std::string& column() const noexcept { return column_; }  ///< column name; empty when not applicable
  const std::string& message() const noexcept { return message_; }  ///< the bare message without location

 private:
  std::string file_;
  std::size_t line_;
  std::string column_;
  std::string message_;
};

/// A file could not be opened/read/written/renamed.
class IoError : public Error {
 public:
  using Error::Error;
};

/// A computation failed numerically (singular system, non-finite result) in a way the user can act on.
class NumericalError : public Error {
 public:
  using Error::Error;
};

}  // namespace tsunagu
