#include "common.hpp"

#include <cstdio>
#include <stdexcept>

#include "tsunagu/core/error.hpp"

namespace tsunagu::cli {
namespace {
bool g_quiet = false;
}

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == ',') {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty() || !out.empty()) out.push_back(cur);
  for (auto& x : out) {
    const auto b = x.find_first_not_of(" \t"), e = x.find_last_not_of(" \t");
    x = b == std::string::npos ? std::string() : x.substr(b, e - b + 1);
  }
  return out;
}

std::vector<int> parse_int_list(const std::string& option, const std::string& text) {
  std::vector<int> out;
  for (const auto& w : split_list(text)) {
    try {
      std::size_t used = 0;
      const int v = std::stoi(w, &used);
      if (used != w.size()) throw std::invalid_argument(w);
      out.push_back(v);
    } catch (const std::exception&) {
      throw InvalidArgument(option + ": not a list of integers: '" + text + "'");
    }
  }
  return out;
}

CLI::Validator non_negative(bool positive) {
  return CLI::Validator(
      [positive](std::string& text) -> std::string {
        const auto b = text.find_first_not_of(" \t");
        if (b != std::string::npos && text[b] == '-') return "must be " + std::string(positive ? "> 0" : ">= 0") + ", got " + text;
        if (positive && text.find_first_not_of("0 \t") == std::string::npos) return "must be > 0, got " + text;
        return {};
      },
      positive ? "INT>0" : "INT>=0");
}

void set_quiet(bool q) { g_quiet = q; }
bool quiet() { return g_quiet; }
void note(const std::string& m) {
  if (!g_quiet) std::fprintf(stderr, "%s\n", m.c_str());
}

}  // namespace tsunagu::cli
