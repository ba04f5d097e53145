#include "tsunagu/bayesopt/space.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>
#include <sstream>

#include <toml++/toml.h>

#include "tsunagu/core/error.hpp"
#include "tsunagu/core/io.hpp"

namespace tsunagu::bayesopt {
namespace {

const char* kind_name(ParamKind k) {
  switch (k) {
    case ParamKind::Continuous: return "continuous";
    case ParamKind::Integer: return "integer";
    case ParamKind::Categorical: return "categorical";
    case ParamKind::Fixed: return "fixed";
  }
  return "?";
}

bool numeric_kind(ParamKind k) { return k == ParamKind::Continuous || k == ParamKind::Integer; }

// Encoded coordinate of a numeric value: linear or logarithmic map of [lower, upper] onto [0, 1].
double to_unit(const Parameter& p, double x) {
  if (p.log_scale) return (std::log(x) - std::log(p.lower)) / (std::log(p.upper) - std::log(p.lower));
  return (x - p.lower) / (p.upper - p.lower);
}

double from_unit(const Parameter& p, double u) {
  u = std::clamp(u, 0.0, 1.0);
  double x = p.log_scale ? std::exp(std::log(p.lower) + u * (std::log(p.upper) - std::log(p.lower)))
                         : p.lower + u * (p.upper - p.lower);
  x = std::clamp(x, p.lower, p.upper);  // exp/log round-off must not leave the box
  if (p.kind == ParamKind::Integer) {
    x = std::round(x);
    // rounding may step outside when the bounds are not integers
    if (x < p.lower) x += 1;
    if (x > p.upper) x -= 1;
  }
  return x;
}

bool parse_number(const std::string& s, double& out) {
  const char* b = s.data();
  const char* e = s.data() + s.size();
  if (b != e && *b == '+') ++b;
  auto [ptr, ec] = std::from_chars(b, e, out);
  return ec == std::errc() && ptr == e && std::isfinite(out);
}

}  // namespace

void Parameter::validate() const {
  const std::string where = "parameter '" + name + "'";
  if (name.empty()) throw InvalidArgument("parameter: empty name");
  switch (kind) {
    case ParamKind::Continuous:
    case ParamKind::Integer:
      if (!std::isfinite(lower) || !std::isfinite(upper))
        throw InvalidArgument(where + ": low/high must be finite (got " + std::to_string(lower) + ", " +
                              std::to_string(upper) + ")");
      if (!(lower < upper))
        throw InvalidArgument(where + ": low must be < high (got " + std::to_string(lower) + ", " +
                              std::to_string(upper) + ")");
      if (log_scale && !(lower > 0)) throw InvalidArgument(where + ": log = true needs low > 0");
      if (kind == ParamKind::Integer && std::ceil(lower) > std::floor(upper))
        throw InvalidArgument(where + ": no integer between low and high");
      break;
    case ParamKind::Categorical: {
      if (choices.size() < 2) throw InvalidArgument(where + ": categorical needs at least 2 choices");
      std::set<std::string> seen;
      for (const auto& c : choices) {
        if (c.empty()) throw InvalidArgument(where + ": empty choice");
        if (!seen.insert(c).second) throw InvalidArgument(where + ": duplicate choice '" + c + "'");
      }
      break;
    }
    case ParamKind::Fixed:
      if (label.empty() && !std::isfinite(value)) throw InvalidArgument(where + ": fixed value must be finite");
      break;
  }
}

std::string LinearConstraint::text() const {
  std::ostringstream os;
  for (std::size_t i = 0; i < terms.size(); ++i) {
    if (i) os << " + ";
    os << terms[i].second << "*" << terms[i].first;
  }
  os << " <= " << upper;
  return os.str();
}

void Space::validate() const {
  if (parameters.empty()) throw InvalidArgument("space: no parameters");
  std::set<std::string> names;
  for (const auto& p : parameters) {
    p.validate();
    if (!names.insert(p.name).second) throw InvalidArgument("space: duplicate parameter name '" + p.name + "'");
  }
  if (dim() == 0) throw InvalidArgument("space: every parameter is fixed; nothing to optimise");
  for (const auto& c : constraints) {
    if (c.terms.empty()) throw InvalidArgument("constraint: no coefficients");
    if (!std::isfinite(c.upper)) throw InvalidArgument("constraint '" + c.text() + "': upper must be finite");
    for (const auto& [name, coef] : c.terms) {
      const auto& p = parameters[parameter_index(name)];
      if (!numeric_kind(p.kind))
        throw InvalidArgument("constraint '" + c.text() + "': parameter '" + name + "' is " + kind_name(p.kind) +
                              "; only continuous/integer parameters may appear");
      if (!std::isfinite(coef))
        throw InvalidArgument("constraint '" + c.text() + "': coefficient of '" + name + "' must be finite");
    }
  }
  std::set<std::string> obj;
  for (const auto& o : objectives) {
    if (o.name.empty()) throw InvalidArgument("objective: empty name");
    if (names.count(o.name)) throw InvalidArgument("objective '" + o.name + "' has the name of a parameter");
    if (!obj.insert(o.name).second) throw InvalidArgument("space: duplicate objective name '" + o.name + "'");
  }
}

std::size_t Space::dim() const {
  std::size_t d = 0;
  for (const auto& p : parameters) {
    if (numeric_kind(p.kind)) d += 1;
    else if (p.kind == ParamKind::Categorical) d += p.choices.size();
  }
  return d;
}

std::size_t Space::parameter_index(std::string_view name) const {
  for (std::size_t i = 0; i < parameters.size(); ++i)
    if (parameters[i].name == name) return i;
  std::string list;
  for (const auto& p : parameters) list += (list.empty() ? "" : ", ") + p.name;
  throw InvalidArgument("no parameter '" + std::string(name) + "' (parameters: " + list + ")");
}

Eigen::MatrixXd Space::encode(const Eigen::MatrixXd& points) const {
  if (static_cast<std::size_t>(points.cols()) != parameters.size())
    throw InvalidArgument("encode: points have " + std::to_string(points.cols()) + " columns, the space has " +
                          std::to_string(parameters.size()) + " parameters");
  Eigen::MatrixXd out = Eigen::MatrixXd::Zero(points.rows(), static_cast<Eigen::Index>(dim()));
  Eigen::Index col = 0;
  for (std::size_t j = 0; j < parameters.size(); ++j) {
    const auto& p = parameters[j];
    const auto jj = static_cast<Eigen::Index>(j);
    if (numeric_kind(p.kind)) {
      for (Eigen::Index i = 0; i < points.rows(); ++i) {
        const double x = points(i, jj);
        if (!std::isfinite(x) || (p.log_scale && !(x > 0)))
          throw InvalidArgument("parameter '" + p.name + "': invalid value " + std::to_string(x) + " in row " +
                                std::to_string(i + 1));
        out(i, col) = to_unit(p, x);
      }
      col += 1;
    } else if (p.kind == ParamKind::Categorical) {
      const auto k = static_cast<Eigen::Index>(p.choices.size());
      for (Eigen::Index i = 0; i < points.rows(); ++i) {
        const double x = points(i, jj);
        if (!(x >= 0) || x >= static_cast<double>(k) || x != std::floor(x))
          throw InvalidArgument("parameter '" + p.name + "': category index " + std::to_string(x) +
                                " out of range in row " + std::to_string(i + 1));
        out(i, col + static_cast<Eigen::Index>(x)) = 1.0;
      }
      col += k;
    }
  }
  return out;
}

Eigen::MatrixXd Space::decode(const Eigen::MatrixXd& encoded) const {
  if (static_cast<std::size_t>(encoded.cols()) != dim())
    throw InvalidArgument("decode: encoded points have " + std::to_string(encoded.cols()) +
                          " columns, the space has dimension " + std::to_string(dim()));
  Eigen::MatrixXd out(encoded.rows(), static_cast<Eigen::Index>(parameters.size()));
  Eigen::Index col = 0;
  for (std::size_t j = 0; j < parameters.size(); ++j) {
    const auto& p = parameters[j];
    const auto jj = static_cast<Eigen::Index>(j);
    if (numeric_kind(p.kind)) {
      for (Eigen::Index i = 0; i < encoded.rows(); ++i) out(i, jj) = from_unit(p, encoded(i, col));
      col += 1;
    } else if (p.kind == ParamKind::Categorical) {
      const auto k = static_cast<Eigen::Index>(p.choices.size());
      for (Eigen::Index i = 0; i < encoded.rows(); ++i) {
        Eigen::Index best = 0;
        encoded.row(i).segment(col, k).maxCoeff(&best);
        out(i, jj) = static_cast<double>(best);
      }
      col += k;
    } else {
      out.col(jj).setConstant(p.label.empty() ? p.value : 0.0);
    }
  }
  return out;
}

bool Space::feasible(const Eigen::VectorXd& point) const {
  if (static_cast<std::size_t>(point.size()) != parameters.size()) return false;
  for (std::size_t j = 0; j < parameters.size(); ++j) {
    const auto& p = parameters[j];
    const double x = point(static_cast<Eigen::Index>(j));
    if (!std::isfinite(x)) return false;
    if (numeric_kind(p.kind)) {
      const double tol = 1e-9 * std::max(1.0, std::max(std::abs(p.lower), std::abs(p.upper)));
      if (x < p.lower - tol || x > p.upper + tol) return false;
      if (p.kind == ParamKind::Integer && x != std::round(x)) return false;
    } else if (p.kind == ParamKind::Categorical) {
      if (x < 0 || x >= static_cast<double>(p.choices.size()) || x != std::floor(x)) return false;
    } else {
      if (x != (p.label.empty() ? p.value : 0.0)) return false;
    }
  }
  for (const auto& c : constraints) {
    double s = 0, scale = std::abs(c.upper);
    for (const auto& [name, coef] : c.terms) {
      const double v = coef * point(static_cast<Eigen::Index>(parameter_index(name)));
      s += v;
      scale = std::max(scale, std::abs(v));
    }
    if (s > c.upper + 1e-9 * std::max(1.0, scale)) return false;
  }
  return true;
}

Eigen::MatrixXd Space::sample(std::size_t n, core::Rng& rng) const {
  const auto d = static_cast<Eigen::Index>(dim());
  Eigen::MatrixXd out(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(parameters.size()));
  // Latin-hypercube strata per numeric coordinate give a better spread than plain uniform draws for the small
  // initial designs of experiments; rejected (infeasible) draws are replaced by fresh uniform ones.
  std::vector<std::vector<std::size_t>> strata(static_cast<std::size_t>(d));
  for (auto& s : strata) s = core::permutation(n, rng);
  std::size_t accepted = 0, tries = 0;
  Eigen::MatrixXd u(1, d);
  while (accepted < n) {
    for (Eigen::Index k = 0; k < d; ++k) {
      const double r = core::uniform01(rng);
      u(0, k) = tries < n ? (static_cast<double>(strata[static_cast<std::size_t>(k)][accepted]) + r) /
                                static_cast<double>(n)
                          : r;
    }
    // categorical one-hot blocks: a uniform vector's arg-max is a uniformly chosen category
    Eigen::VectorXd x = decode(u).row(0).transpose();
    ++tries;
    if (feasible(x)) out.row(static_cast<Eigen::Index>(accepted++)) = x.transpose();
    if (tries > 10000 * std::max<std::size_t>(n, 1) && accepted * 10000 < tries)
      throw InvalidArgument("space: fewer than 1 in 10^4 random points satisfy the constraints; check them");
  }
  return out;
}

Eigen::MatrixXd Space::points_from_table(const core::Table& table) const {
  Eigen::MatrixXd out(static_cast<Eigen::Index>(table.n_rows()), static_cast<Eigen::Index>(parameters.size()));
  for (std::size_t j = 0; j < parameters.size(); ++j) {
    const auto& p = parameters[j];
    const auto jj = static_cast<Eigen::Index>(j);
    if (p.kind == ParamKind::Fixed && !table.has_column(p.name)) {
      out.col(jj).setConstant(p.label.empty() ? p.value : 0.0);
      continue;
    }
    const std::size_t c = table.column_index(p.name);
    for (std::size_t i = 0; i < table.n_rows(); ++i) {
      const std::string& cell = table.rows[i][c];
      const auto line = i < table.line_numbers.size() ? table.line_numbers[i] : 0;
      double v = 0;
      if (p.kind == ParamKind::Categorical) {
        auto it = std::find(p.choices.begin(), p.choices.end(), cell);
        if (it == p.choices.end()) {
          std::string list;
          for (const auto& ch : p.choices) list += (list.empty() ? "" : ", ") + ch;
          throw ParseError(table.source, line, p.name, "unknown category '" + cell + "' (choices: " + list + ")");
        }
        v = static_cast<double>(it - p.choices.begin());
      } else if (p.kind == ParamKind::Fixed && !p.label.empty()) {
        if (cell != p.label)
          throw ParseError(table.source, line, p.name, "value '" + cell + "' differs from the fixed '" + p.label + "'");
        v = 0;
      } else {
        if (!parse_number(cell, v)) throw ParseError(table.source, line, p.name, "non-numeric value '" + cell + "'");
        if (p.kind == ParamKind::Integer && v != std::round(v))
          throw ParseError(table.source, line, p.name, "integer parameter has value '" + cell + "'");
        if (p.log_scale && !(v > 0))
          throw ParseError(table.source, line, p.name, "log-scale parameter needs a value > 0, got '" + cell + "'");
      }
      out(static_cast<Eigen::Index>(i), jj) = v;
    }
  }
  return out;
}

std::vector<std::string> Space::format_point(const Eigen::VectorXd& point) const {
  if (static_cast<std::size_t>(point.size()) != parameters.size())
    throw InvalidArgument("format_point: point has " + std::to_string(point.size()) + " entries, the space has " +
                          std::to_string(parameters.size()) + " parameters");
  std::vector<std::string> out;
  for (std::size_t j = 0; j < parameters.size(); ++j) {
    const auto& p = parameters[j];
    const double x = point(static_cast<Eigen::Index>(j));
    if (p.kind == ParamKind::Categorical) {
      const auto k = static_cast<std::size_t>(std::clamp(x, 0.0, static_cast<double>(p.choices.size() - 1)));
      out.push_back(p.choices[k]);
    } else if (p.kind == ParamKind::Fixed && !p.label.empty()) {
      out.push_back(p.label);
    } else if (p.kind == ParamKind::Integer) {
      out.push_back(std::to_string(static_cast<long long>(std::llround(x))));
    } else {
      out.push_back(core::format_double(x));
    }
  }
  return out;
}

std::vector<std::string> Space::parameter_names() const {
  std::vector<std::string> out;
  for (const auto& p : parameters) out.push_back(p.name);
  return out;
}

std::vector<std::string> Space::objective_names() const {
  std::vector<std::string> out;
  for (const auto& o : objectives) out.push_back(o.name);
  return out;
}

Space Space::from_columns(const Eigen::MatrixXd& values, const std::vector<std::string>& names) {
  if (static_cast<std::size_t>(values.cols()) != names.size())
    throw InvalidArgument("from_columns: " + std::to_string(values.cols()) + " columns but " +
                          std::to_string(names.size()) + " names");
  if (values.rows() == 0) throw InvalidArgument("from_columns: no rows");
  Space s;
  for (std::size_t j = 0; j < names.size(); ++j) {
    const auto col = values.col(static_cast<Eigen::Index>(j));
    if (!col.allFinite()) throw InvalidArgument("from_columns: column '" + names[j] + "' has a non-finite value");
    Parameter p;
    p.name = names[j];
    p.lower = col.minCoeff();
    p.upper = col.maxCoeff();
    if (p.lower == p.upper) {
      p.kind = ParamKind::Fixed;
      p.value = p.lower;
    }
    s.parameters.push_back(std::move(p));
  }
  s.validate();
  return s;
}

// ---------------------------------------------------------------------------------------------------------------
// TOML

namespace {

struct TomlCtx {
  const std::string& source;
  [[noreturn]] void fail(const toml::node& node, const std::string& key, const std::string& msg) const {
    throw ParseError(source, static_cast<std::size_t>(node.source().begin.line), key, msg);
  }
};

void check_keys(const TomlCtx& ctx, const toml::table& t, const std::string& where,
                const std::vector<std::string>& allowed) {
  for (auto&& [k, v] : t) {
    const std::string key(k.str());
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      ctx.fail(v, where + "." + key, "unknown key '" + key + "' in " + where + " (allowed: " + list + ")");
    }
  }
}

std::string get_string(const TomlCtx& ctx, const toml::table& t, const std::string& where, const std::string& key,
                       bool required, const std::string& fallback = "") {
  const toml::node* n = t.get(key);
  if (!n) {
    if (required) ctx.fail(t, where + "." + key, "missing required key '" + key + "' in " + where);
    return fallback;
  }
  if (!n->is_string()) ctx.fail(*n, where + "." + key, "'" + key + "' must be a string");
  return std::string(*n->value<std::string_view>());
}

double get_number(const TomlCtx& ctx, const toml::table& t, const std::string& where, const std::string& key,
                  bool required, double fallback = 0) {
  const toml::node* n = t.get(key);
  if (!n) {
    if (required) ctx.fail(t, where + "." + key, "missing required key '" + key + "' in " + where);
    return fallback;
  }
  if (!n->is_number()) ctx.fail(*n, where + "." + key, "'" + key + "' must be a number");
  const double v = *n->value<double>();
  if (!std::isfinite(v)) ctx.fail(*n, where + "." + key, "'" + key + "' must be finite");
  return v;
}

bool get_bool(const TomlCtx& ctx, const toml::table& t, const std::string& where, const std::string& key,
              bool fallback) {
  const toml::node* n = t.get(key);
  if (!n) return fallback;
  if (!n->is_boolean()) ctx.fail(*n, where + "." + key, "'" + key + "' must be true or false");
  return *n->value<bool>();
}

const toml::array& get_table_array(const TomlCtx& ctx, const toml::table& root, const std::string& key) {
  static const toml::array empty;
  const toml::node* n = root.get(key);
  if (!n) return empty;
  if (!n->is_array_of_tables())
    ctx.fail(*n, key, "'" + key + "' must be an array of tables: write [[" + key + "]] sections");
  return *n->as_array();
}

}  // namespace

Space parse_space_toml(std::string_view text, const std::string& source, const std::vector<std::string>& other_tables) {
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    throw ParseError(source, static_cast<std::size_t>(e.source().begin.line), "",
                     std::string("TOML syntax error: ") + std::string(e.description()));
  }
  const TomlCtx ctx{source};
  std::vector<std::string> allowed = {"parameter", "constraint", "objective"};
  allowed.insert(allowed.end(), other_tables.begin(), other_tables.end());
  check_keys(ctx, root, "the top level", allowed);

  Space space;
  std::size_t index = 0;
  for (const auto& node : get_table_array(ctx, root, "parameter")) {
    ++index;
    const auto& t = *node.as_table();
    std::string where = "parameter #" + std::to_string(index);
    Parameter p;
    p.name = get_string(ctx, t, where, "name", true);
    if (p.name.empty()) ctx.fail(t, where + ".name", "empty parameter name");
    where = "parameter '" + p.name + "'";
    const std::string type = get_string(ctx, t, where, "type", false, "continuous");
    p.unit = get_string(ctx, t, where, "unit", false);
    if (type == "continuous" || type == "integer") {
      p.kind = type == "continuous" ? ParamKind::Continuous : ParamKind::Integer;
      check_keys(ctx, t, where, {"name", "type", "low", "high", "log", "unit"});
      p.lower = get_number(ctx, t, where, "low", true);
      p.upper = get_number(ctx, t, where, "high", true);
      p.log_scale = get_bool(ctx, t, where, "log", false);
    } else if (type == "categorical") {
      p.kind = ParamKind::Categorical;
      check_keys(ctx, t, where, {"name", "type", "choices", "unit"});
      const toml::node* c = t.get("choices");
      if (!c) ctx.fail(t, where + ".choices", "missing required key 'choices' in " + where);
      if (!c->is_array()) ctx.fail(*c, where + ".choices", "'choices' must be an array of strings");
      for (const auto& e : *c->as_array()) {
        if (!e.is_string()) ctx.fail(e, where + ".choices", "'choices' must be an array of strings");
        p.choices.emplace_back(*e.value<std::string_view>());
      }
    } else if (type == "fixed") {
      p.kind = ParamKind::Fixed;
      check_keys(ctx, t, where, {"name", "type", "value", "unit"});
      const toml::node* v = t.get("value");
      if (!v) ctx.fail(t, where + ".value", "missing required key 'value' in " + where);
      if (v->is_string()) p.label = std::string(*v->value<std::string_view>());
      else if (v->is_number()) p.value = *v->value<double>();
      else ctx.fail(*v, where + ".value", "'value' must be a number or a string");
    } else {
      ctx.fail(*t.get("type"), where + ".type",
               "unknown type '" + type + "' (continuous, integer, categorical, fixed)");
    }
    try {
      p.validate();
    } catch (const InvalidArgument& e) {
      ctx.fail(t, where, e.what());
    }
    space.parameters.push_back(std::move(p));
  }
  if (space.parameters.empty())
    throw ParseError(source, 0, "parameter", "no [[parameter]] tables: the space needs at least one parameter");

  index = 0;
  for (const auto& node : get_table_array(ctx, root, "constraint")) {
    ++index;
    const auto& t = *node.as_table();
    const std::string where = "constraint #" + std::to_string(index);
    check_keys(ctx, t, where, {"coefficients", "upper"});
    LinearConstraint c;
    const toml::node* co = t.get("coefficients");
    if (!co) ctx.fail(t, where + ".coefficients", "missing required key 'coefficients' in " + where);
    if (!co->is_table()) ctx.fail(*co, where + ".coefficients", "'coefficients' must be a table {name = number}");
    for (auto&& [k, v] : *co->as_table()) {
      if (!v.is_number()) ctx.fail(v, where + ".coefficients." + std::string(k.str()), "coefficient must be a number");
      c.terms.emplace_back(std::string(k.str()), *v.value<double>());
    }
    c.upper = get_number(ctx, t, where, "upper", true);
    space.constraints.push_back(std::move(c));
  }

  index = 0;
  for (const auto& node : get_table_array(ctx, root, "objective")) {
    ++index;
    const auto& t = *node.as_table();
    std::string where = "objective #" + std::to_string(index);
    check_keys(ctx, t, where, {"name", "direction", "unit", "log"});
    Objective o;
    o.name = get_string(ctx, t, where, "name", true);
    where = "objective '" + o.name + "'";
    const std::string dir = get_string(ctx, t, where, "direction", false, "minimize");
    if (dir == "minimize" || dir == "min") o.direction = Direction::Minimize;
    else if (dir == "maximize" || dir == "max") o.direction = Direction::Maximize;
    else ctx.fail(*t.get("direction"), where + ".direction", "unknown direction '" + dir + "' (minimize, maximize)");
    o.unit = get_string(ctx, t, where, "unit", false);
    o.log_scale = get_bool(ctx, t, where, "log", false);
    space.objectives.push_back(std::move(o));
  }

  try {
    space.validate();
  } catch (const InvalidArgument& e) {
    throw ParseError(source, 0, "", e.what());
  }
  return space;
}

Space read_space_toml(const std::filesystem::path& path, const std::vector<std::string>& other_tables) {
  return parse_space_toml(core::read_file(path), path.string(), other_tables);
}

}  // namespace tsunagu::bayesopt
