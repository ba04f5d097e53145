#pragma once
// Internal (not installed): the small text helpers the spectrum file readers share (readers.cpp, vamas.cpp).
#include <cctype>
#include <string>
#include <string_view>

namespace tsunagu::spectra::detail {

inline std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

inline std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

/// A file's text as it may appear in an error message: at most `max` characters, unprintable ones as '?'.
inline std::string shown(std::string_view s, std::size_t max) {
  std::string out;
  for (char c : s.substr(0, max)) out += std::isprint(static_cast<unsigned char>(c)) ? c : '?';
  if (s.size() > max) out += "...";
  return out;
}

}  // namespace tsunagu::spectra::detail
