#pragma once
// Minimal SVG/XML well-formedness check shared by the plot tests of every module (no XML library is a dependency).
#include <cctype>
#include <string>
#include <vector>

namespace tsunagu::test {

/// Minimal XML well-formedness check: balanced, properly nested tags, quoted attributes, only known entities,
/// no stray '<' or '&' in text. Returns an empty string when fine, else a description of the first problem.
inline std::string xml_problem(const std::string& s) {
  std::vector<std::string> stack;
  std::size_t i = 0;
  auto check_entities = [&](std::size_t from, std::size_t to) -> std::string {
    for (std::size_t k = from; k < to; ++k) {
      if (s[k] == '<') return "raw '<' at " + std::to_string(k);
      if (s[k] != '&') continue;
      const auto semi = s.find(';', k);
      if (semi == std::string::npos || semi > to) return "unterminated entity at " + std::to_string(k);
      const std::string ent = s.substr(k + 1, semi - k - 1);
      if (ent != "amp" && ent != "lt" && ent != "gt" && ent != "quot" && ent != "apos")
        return "unknown entity &" + ent + ";";
    }
    return {};
  };
  bool root_seen = false;
  while (i < s.size()) {
    const auto lt = s.find('<', i);
    if (lt == std::string::npos) {
      if (auto p = check_entities(i, s.size()); !p.empty()) return p;
      break;
    }
    if (auto p = check_entities(i, lt); !p.empty()) return p;
    if (stack.empty() && root_seen && s.find_first_not_of(" \n", i) < lt) return "content after the root element";
    const auto gt = s.find('>', lt);
    if (gt == std::string::npos) return "unterminated tag at " + std::to_string(lt);
    std::string tag = s.substr(lt + 1, gt - lt - 1);
    i = gt + 1;
    if (tag.empty()) return "empty tag";
    if (tag[0] == '/') {
      const std::string name = tag.substr(1);
      if (stack.empty() || stack.back() != name) return "mismatched </" + name + ">";
      stack.pop_back();
      continue;
    }
    const bool self_closing = tag.back() == '/';
    if (self_closing) tag.pop_back();
    const auto name_end = tag.find_first_of(" \n\t");
    const std::string name = tag.substr(0, name_end);
    if (!root_seen && name != "svg") return "root element is <" + name + ">";
    if (root_seen && stack.empty()) return "second root element <" + name + ">";
    root_seen = true;
    // attributes: name="value" pairs, values without '<' and with valid entities
    std::size_t k = name_end == std::string::npos ? tag.size() : name_end;
    while (k < tag.size()) {
      while (k < tag.size() && std::isspace(static_cast<unsigned char>(tag[k]))) ++k;
      if (k >= tag.size()) break;
      const auto eq = tag.find('=', k);
      if (eq == std::string::npos || eq + 1 >= tag.size() || tag[eq + 1] != '"')
        return "bad attribute in <" + name + ">";
      const auto close = tag.find('"', eq + 2);
      if (close == std::string::npos) return "unterminated attribute in <" + name + ">";
      const std::size_t base = lt + 1;
      if (auto p = check_entities(base + eq + 2, base + close); !p.empty()) return p;
      k = close + 1;
    }
    if (!self_closing) stack.push_back(name);
  }
  if (!stack.empty()) return "unclosed <" + stack.back() + ">";
  if (!root_seen) return "no root element";
  return {};
}

}  // namespace tsunagu::test
