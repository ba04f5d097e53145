#include "tsunagu/features/descriptors.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <numbers>
#include <set>
#include <string>

#include <Eigen/Eigenvalues>
#include <nlohmann/json.hpp>

#include "descriptor_detail.hpp"
#include "neighbor_detail.hpp"
#include "tsunagu/core/error.hpp"
#include "tsunagu/core/thread_pool.hpp"
#include "tsunagu/features/elements.hpp"

namespace tsunagu::features {

using structure::Crystal;
using json = nlohmann::json;

// ---------------------------------------------------------------------------------------------------------------
// shared helpers (descriptor_detail.hpp)

namespace detail {

std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

std::string where(const Crystal& c) { return c.source.empty() ? std::string("structure") : c.source; }

std::size_t grid_size(double cutoff, double step) {
  return static_cast<std::size_t>(std::floor(cutoff / step + 1e-9));
}

void add_gaussian(double* out, std::size_t n, double step, double sigma, double d, double weight) {
  if (n == 0) return;
  const double reach = kGaussianReach * sigma;
  const double klo = std::ceil((d - reach) / step - 0.5), khi = std::floor((d + reach) / step - 0.5);
  if (khi < 0 || klo > static_cast<double>(n - 1) || klo > khi) return;
  const std::size_t k0 = klo < 0 ? 0 : static_cast<std::size_t>(klo);
  const std::size_t k1 = std::min(n - 1, static_cast<std::size_t>(khi));
  const double inv2s2 = 1.0 / (2.0 * sigma * sigma);
  const double norm = weight / (std::sqrt(2.0 * std::numbers::pi) * sigma);
  // g_k = exp(-x_k^2 / 2s^2) with x_k = r_k - d; g_{k+1} = g_k * ratio_k, ratio_{k+1} = ratio_k * q.
  const double x0 = (static_cast<double>(k0) + 0.5) * step - d;
  double g = std::exp(-x0 * x0 * inv2s2);
  out[k0] += norm * g;
  if (k1 == k0) return;
  double ratio = std::exp(-(2.0 * x0 * step + step * step) * inv2s2);
  const double q = std::exp(-2.0 * step * step * inv2s2);
  for (std::size_t k = k0 + 1; k <= k1; ++k) {
    g *= ratio;
    ratio *= q;
    out[k] += norm * g;
  }
}

Eigen::VectorXd sorted_eigenvalues(const Eigen::MatrixXd& m, int size) {
  Eigen::VectorXd out = Eigen::VectorXd::Zero(size);
  if (m.rows() == 0 || size == 0) return out;
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver(m, Eigen::EigenvaluesOnly);
  if (solver.info() != Eigen::Success) throw NumericalError("coulomb: eigenvalue decomposition did not converge");
  std::vector<double> ev(solver.eigenvalues().data(), solver.eigenvalues().data() + m.rows());
  std::sort(ev.begin(), ev.end(), [](double a, double b) {
    const double aa = std::abs(a), ab = std::abs(b);
    return aa != ab ? aa > ab : a > b;
  });
  for (int k = 0; k < size && k < static_cast<int>(ev.size()); ++k) out(k) = ev[static_cast<std::size_t>(k)];
  return out;
}

std::vector<int> element_index(const std::vector<int>& elements) {
  std::vector<int> idx(119, -1);
  for (std::size_t e = 0; e < elements.size(); ++e)
    if (elements[e] >= 1 && elements[e] <= 118) idx[static_cast<std::size_t>(elements[e])] = static_cast<int>(e);
  return idx;
}

void check_elements(const Crystal& c, const std::vector<int>& elements) {
  const std::vector<int> idx = element_index(elements);
  for (int z : c.numbers) {
    if (z >= 1 && z <= 118 && idx[static_cast<std::size_t>(z)] >= 0) continue;
    std::string list;
    for (int e : elements) list += (list.empty() ? "" : ", ") + structure::element_symbol(e);
    if (list.empty()) list = "none: call fit_spec";
    const std::string sym = (z >= 1 && z <= 118) ? structure::element_symbol(z) : "Z=" + std::to_string(z);
    throw InvalidArgument(where(c) + ": element " + sym + " is not in the descriptor specification (elements: " +
                          list + ")");
  }
}

double cosine_cutoff(double r, double rc) { return r <= rc ? 0.5 * (std::cos(std::numbers::pi * r / rc) + 1.0) : 0.0; }

}  // namespace detail

using detail::fmt;
using detail::where;

namespace {

bool has(const std::vector<DescriptorKind>& kinds, DescriptorKind k) {
  return std::find(kinds.begin(), kinds.end(), k) != kinds.end();
}

constexpr std::array<const char*, 5> kStats = {"mean", "std", "min", "max", "range"};

void check_positive(const char* field, double v) {
  if (!std::isfinite(v) || !(v > 0)) throw InvalidArgument(std::string(field) + ": must be > 0, got " + fmt(v));
}

void check_list(const char* field, const std::vector<double>& values, double min, const char* rule) {
  for (std::size_t k = 0; k < values.size(); ++k)
    if (!std::isfinite(values[k]) || values[k] < min)
      throw InvalidArgument(std::string(field) + "[" + std::to_string(k) + "]: must be " + rule + ", got " +
                            fmt(values[k]));
}

void check_grid(const char* cutoff_field, double cutoff, const char* step_field, double step) {
  check_positive(cutoff_field, cutoff);
  check_positive(step_field, step);
  if (step > cutoff)
    throw InvalidArgument(std::string(step_field) + ": must be <= " + cutoff_field + " (" + fmt(cutoff) +
                          "), got " + fmt(step));
  if (detail::grid_size(cutoff, step) > 100000)
    throw InvalidArgument(std::string(step_field) + ": " + fmt(cutoff / step) +
                          " grid points is too many (at most 100000)");
}

std::vector<std::size_t> property_indices(const DescriptorSpec& spec) {
  std::vector<std::size_t> out;
  if (spec.properties.empty()) {
    for (std::size_t p = 0; p < element_properties().size(); ++p) out.push_back(p);
    return out;
  }
  for (const std::string& name : spec.properties) {
    const auto p = find_element_property(name);
    if (!p) {
      std::string known;
      for (const auto& e : element_properties()) known += (known.empty() ? "" : ", ") + e.name;
      throw InvalidArgument("properties: unknown element property '" + name + "' (known: " + known + ")");
    }
    out.push_back(*p);
  }
  return out;
}

std::string not_fitted_reason(const DescriptorSpec& s) {
  const bool needs_elements = has(s.kinds, DescriptorKind::Prdf) || has(s.kinds, DescriptorKind::Site);
  if (needs_elements && s.elements.empty()) return "elements is empty";
  if (has(s.kinds, DescriptorKind::Coulomb) && s.coulomb_size <= 0) return "coulomb_size is 0";
  if (has(s.kinds, DescriptorKind::Site) && s.site_coulomb_size <= 0) return "site_coulomb_size is 0";
  return "";
}

void require_fitted(const DescriptorSpec& s) {
  const std::string why = not_fitted_reason(s);
  if (!why.empty())
    throw InvalidArgument("descriptor specification is not fitted: " + why + " (call fit_spec on the training set)");
}

std::size_t acsf_size(const DescriptorSpec& s) {
  return s.acsf_eta.size() * s.acsf_rs.size() + 2 * s.acsf_angular_eta.size() * s.acsf_zeta.size();
}

std::size_t site_size(const DescriptorSpec& s) {
  return s.elements.size() * detail::grid_size(s.site_cutoff, s.site_step) + acsf_size(s) +
         static_cast<std::size_t>(s.site_coulomb_size);
}

std::size_t kind_size(const DescriptorSpec& s, DescriptorKind k, std::size_t n_props) {
  switch (k) {
    case DescriptorKind::Composition: return kStats.size() * n_props;
    case DescriptorKind::Prdf: {
      const std::size_t e = s.elements.size();
      return e * (e + 1) / 2 * detail::grid_size(s.rdf_cutoff, s.rdf_step);
    }
    case DescriptorKind::Coulomb: return static_cast<std::size_t>(s.coulomb_size);
    case DescriptorKind::Site: return site_size(s);
    case DescriptorKind::Acsf: return acsf_size(s);
  }
  return 0;
}

// Occupancy of each site; partially occupied sites are refused where a descriptor has no meaning for them.
void require_full_occupancy(const Crystal& c, const char* what) {
  for (std::size_t i = 0; i < c.n_sites(); ++i)
    if (c.occupancy(i) < 1.0 - 1e-6)
      throw InvalidArgument(where(c) + ": " + what + ": site " + std::to_string(i + 1) + " is partially occupied (" +
                            fmt(c.occupancy(i)) + "); this descriptor needs an ordered structure");
}

void check_structure(const Crystal& c, const char* what) {
  detail::check_geometry(c, what);
  if (c.n_sites() == 0) throw InvalidArgument(where(c) + ": " + what + ": the structure has no sites");
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------------
// kinds

DescriptorKind parse_descriptor_kind(std::string_view name) {
  if (name == "composition") return DescriptorKind::Composition;
  if (name == "prdf") return DescriptorKind::Prdf;
  if (name == "coulomb") return DescriptorKind::Coulomb;
  if (name == "site") return DescriptorKind::Site;
  if (name == "acsf") return DescriptorKind::Acsf;
  throw InvalidArgument("unknown descriptor '" + std::string(name) +
                        "' (known: composition, prdf, coulomb, site, acsf)");
}

bool is_site_centred(DescriptorKind kind) { return kind == DescriptorKind::Site || kind == DescriptorKind::Acsf; }

bool needs_site(const std::vector<DescriptorKind>& kinds) {
  return std::any_of(kinds.begin(), kinds.end(), is_site_centred);
}

const char* descriptor_kind_name(DescriptorKind kind) {
  switch (kind) {
    case DescriptorKind::Composition: return "composition";
    case DescriptorKind::Prdf: return "prdf";
    case DescriptorKind::Coulomb: return "coulomb";
    case DescriptorKind::Site: return "site";
    case DescriptorKind::Acsf: return "acsf";
  }
  return "?";
}

std::vector<DescriptorKind> parse_descriptor_kinds(std::string_view list) {
  std::vector<DescriptorKind> out;
  std::size_t pos = 0;
  while (true) {
    const std::size_t comma = list.find(',', pos);
    std::string_view item = list.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (item.empty()) throw InvalidArgument("descriptor list '" + std::string(list) + "': empty item");
    const DescriptorKind k = parse_descriptor_kind(item);
    if (has(out, k))
      throw InvalidArgument("descriptor list '" + std::string(list) + "': '" + std::string(item) + "' appears twice");
    out.push_back(k);
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return out;
}

namespace {

const char* variant_name(CoulombVariant v) {
  switch (v) {
    case CoulombVariant::Auto: return "auto";
    case CoulombVariant::Plain: return "plain";
    case CoulombVariant::Sine: return "sine";
  }
  return "?";
}

CoulombVariant parse_variant(std::string_view s) {
  if (s == "auto") return CoulombVariant::Auto;
  if (s == "plain") return CoulombVariant::Plain;
  if (s == "sine") return CoulombVariant::Sine;
  throw InvalidArgument("coulomb_variant: unknown variant '" + std::string(s) + "' (known: auto, plain, sine)");
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------------
// DescriptorSpec

void DescriptorSpec::validate() const {
  if (kinds.empty()) throw InvalidArgument("kinds: must name at least one descriptor");
  for (std::size_t k = 0; k < kinds.size(); ++k)
    for (std::size_t l = 0; l < k; ++l)
      if (kinds[k] == kinds[l])
        throw InvalidArgument(std::string("kinds: '") + descriptor_kind_name(kinds[k]) + "' appears twice");
  for (std::size_t e = 0; e < elements.size(); ++e) {
    if (elements[e] < 1 || elements[e] > 118)
      throw InvalidArgument("elements[" + std::to_string(e) + "]: atomic number " + std::to_string(elements[e]) +
                            " is outside 1..118");
    if (e > 0 && elements[e] <= elements[e - 1])
      throw InvalidArgument("elements: must be sorted by atomic number and unique (" +
                            structure::element_symbol(elements[e - 1]) + " before " +
                            structure::element_symbol(elements[e]) + ")");
  }
  property_indices(*this);  // throws for unknown names
  for (std::size_t k = 0; k < properties.size(); ++k)
    for (std::size_t l = 0; l < k; ++l)
      if (properties[k] == properties[l])
        throw InvalidArgument("properties: '" + properties[k] + "' appears twice");
  check_grid("rdf_cutoff", rdf_cutoff, "rdf_step", rdf_step);
  check_positive("rdf_sigma", rdf_sigma);
  if (coulomb_size < 0 || coulomb_size > 100000)
    throw InvalidArgument("coulomb_size: must be in 0..100000, got " + std::to_string(coulomb_size));
  check_grid("site_cutoff", site_cutoff, "site_step", site_step);
  check_positive("site_sigma", site_sigma);
  check_list("acsf_eta", acsf_eta, 0.0, ">= 0");
  check_list("acsf_rs", acsf_rs, 0.0, ">= 0");
  check_list("acsf_zeta", acsf_zeta, 1.0, ">= 1");
  check_list("acsf_angular_eta", acsf_angular_eta, 0.0, ">= 0");
  if (site_coulomb_size < 0 || site_coulomb_size > 100000)
    throw InvalidArgument("site_coulomb_size: must be in 0..100000, got " + std::to_string(site_coulomb_size));
}

bool DescriptorSpec::fitted() const { return not_fitted_reason(*this).empty(); }

std::size_t DescriptorSpec::size() const {
  require_fitted(*this);
  const std::size_t n_props = property_indices(*this).size();
  std::size_t n = 0;
  for (DescriptorKind k : kinds) n += kind_size(*this, k, n_props);
  return n;
}

std::vector<std::string> DescriptorSpec::names() const {
  require_fitted(*this);
  std::vector<std::string> out;
  const auto sym = [](int z) { return structure::element_symbol(z); };
  for (DescriptorKind kind : kinds) {
    switch (kind) {
      case DescriptorKind::Composition:
        for (std::size_t p : property_indices(*this))
          for (const char* s : kStats) out.push_back(std::string("comp_") + s + "_" + element_properties()[p].name);
        break;
      case DescriptorKind::Prdf: {
        const std::size_t nk = detail::grid_size(rdf_cutoff, rdf_step);
        for (std::size_t a = 0; a < elements.size(); ++a)
          for (std::size_t b = a; b < elements.size(); ++b)
            for (std::size_t k = 0; k < nk; ++k)
              out.push_back("prdf_" + sym(elements[a]) + "_" + sym(elements[b]) + "_" +
                            fmt((static_cast<double>(k) + 0.5) * rdf_step));
        break;
      }
      case DescriptorKind::Coulomb:
        for (int k = 0; k < coulomb_size; ++k) out.push_back("coulomb_" + std::to_string(k));
        break;
      case DescriptorKind::Site:
      case DescriptorKind::Acsf: {
        // Acsf columns keep the site_ prefix: they are the same numbers as the ACSF part of Site.
        const bool full = kind == DescriptorKind::Site;
        const std::size_t nk = detail::grid_size(site_cutoff, site_step);
        if (full)
          for (int z : elements)
            for (std::size_t k = 0; k < nk; ++k)
              out.push_back("site_rdf_" + sym(z) + "_" + fmt((static_cast<double>(k) + 0.5) * site_step));
        for (double eta : acsf_eta)
          for (double rs : acsf_rs) out.push_back("site_g2_eta" + fmt(eta) + "_rs" + fmt(rs));
        for (double eta : acsf_angular_eta)
          for (double zeta : acsf_zeta)
            for (const char* lambda : {"+1", "-1"})
              out.push_back("site_g4_eta" + fmt(eta) + "_zeta" + fmt(zeta) + "_lambda" + lambda);
        if (full)
          for (int k = 0; k < site_coulomb_size; ++k) out.push_back("site_coulomb_" + std::to_string(k));
        break;
      }
    }
  }
  return out;
}

namespace {

const std::array<const char*, 16> kFields = {
    "kinds",       "elements",       "properties",     "rdf_cutoff",       "rdf_step",
    "rdf_sigma",   "coulomb_variant", "coulomb_size",  "site_cutoff",      "site_step",
    "site_sigma",  "acsf_eta",       "acsf_rs",        "acsf_zeta",        "acsf_angular_eta",
    "site_coulomb_size"};

const char* kSpecSource = "descriptor specification";

[[noreturn]] void spec_error(const std::string& message) { throw ParseError(kSpecSource, 0, "", message); }

const json& field(const json& j, const char* name) {
  const auto it = j.find(name);
  if (it == j.end()) spec_error(std::string("missing field '") + name + "'");
  return *it;
}

double number_field(const json& j, const char* name) {
  const json& v = field(j, name);
  if (!v.is_number()) spec_error(std::string("field '") + name + "': expected a number, got " + v.dump());
  return v.get<double>();
}

int integer_field(const json& j, const char* name) {
  const json& v = field(j, name);
  if (!v.is_number_integer()) spec_error(std::string("field '") + name + "': expected an integer, got " + v.dump());
  const auto x = v.get<long long>();
  if (x < 0 || x > 100000) spec_error(std::string("field '") + name + "': must be in 0..100000, got " + v.dump());
  return static_cast<int>(x);
}

std::string string_field(const json& j, const char* name) {
  const json& v = field(j, name);
  if (!v.is_string()) spec_error(std::string("field '") + name + "': expected a string, got " + v.dump());
  return v.get<std::string>();
}

const json& array_field(const json& j, const char* name) {
  const json& v = field(j, name);
  if (!v.is_array()) spec_error(std::string("field '") + name + "': expected an array, got " + v.dump());
  return v;
}

std::vector<double> numbers_field(const json& j, const char* name) {
  std::vector<double> out;
  for (const json& x : array_field(j, name)) {
    if (!x.is_number())
      spec_error(std::string("field '") + name + "': expected an array of numbers, got " + x.dump() + " in it");
    out.push_back(x.get<double>());
  }
  return out;
}

std::vector<std::string> strings_field(const json& j, const char* name) {
  std::vector<std::string> out;
  for (const json& x : array_field(j, name)) {
    if (!x.is_string())
      spec_error(std::string("field '") + name + "': expected an array of strings, got " + x.dump() + " in it");
    out.push_back(x.get<std::string>());
  }
  return out;
}

}  // namespace

json DescriptorSpec::to_json() const {
  json j = json::object();
  json k = json::array();
  for (DescriptorKind kind : kinds) k.push_back(descriptor_kind_name(kind));
  j["kinds"] = k;
  json e = json::array();
  for (int z : elements) e.push_back(structure::element_symbol(z));
  j["elements"] = e;
  j["properties"] = properties;
  j["rdf_cutoff"] = rdf_cutoff;
  j["rdf_step"] = rdf_step;
  j["rdf_sigma"] = rdf_sigma;
  j["coulomb_variant"] = variant_name(coulomb_variant);
  j["coulomb_size"] = coulomb_size;
  j["site_cutoff"] = site_cutoff;
  j["site_step"] = site_step;
  j["site_sigma"] = site_sigma;
  j["acsf_eta"] = acsf_eta;
  j["acsf_rs"] = acsf_rs;
  j["acsf_zeta"] = acsf_zeta;
  j["acsf_angular_eta"] = acsf_angular_eta;
  j["site_coulomb_size"] = site_coulomb_size;
  return j;
}

DescriptorSpec DescriptorSpec::from_json(const json& j) {
  if (!j.is_object()) spec_error("expected a JSON object, got " + std::string(j.type_name()));
  for (const auto& item : j.items())
    if (std::find_if(kFields.begin(), kFields.end(), [&](const char* f) { return item.key() == f; }) ==
        kFields.end()) {
      std::string allowed;
      for (const char* f : kFields) allowed += (allowed.empty() ? "" : ", ") + std::string(f);
      spec_error("unknown field '" + item.key() + "' (allowed: " + allowed + ")");
    }
  DescriptorSpec s;
  try {
    s.kinds.clear();
    for (const std::string& name : strings_field(j, "kinds")) s.kinds.push_back(parse_descriptor_kind(name));
    s.elements.clear();
    for (const std::string& sym : strings_field(j, "elements")) {
      const auto z = structure::find_atomic_number(sym);
      if (!z || structure::element_symbol(*z) != sym)
        spec_error("field 'elements': '" + sym + "' is not an element symbol");
      s.elements.push_back(*z);
    }
    s.properties = strings_field(j, "properties");
    s.rdf_cutoff = number_field(j, "rdf_cutoff");
    s.rdf_step = number_field(j, "rdf_step");
    s.rdf_sigma = number_field(j, "rdf_sigma");
    s.coulomb_variant = parse_variant(string_field(j, "coulomb_variant"));
    s.coulomb_size = integer_field(j, "coulomb_size");
    s.site_cutoff = number_field(j, "site_cutoff");
    s.site_step = number_field(j, "site_step");
    s.site_sigma = number_field(j, "site_sigma");
    s.acsf_eta = numbers_field(j, "acsf_eta");
    s.acsf_rs = numbers_field(j, "acsf_rs");
    s.acsf_zeta = numbers_field(j, "acsf_zeta");
    s.acsf_angular_eta = numbers_field(j, "acsf_angular_eta");
    s.site_coulomb_size = integer_field(j, "site_coulomb_size");
    s.validate();
  } catch (const InvalidArgument& e) {
    spec_error(e.what());
  }
  return s;
}

// ---------------------------------------------------------------------------------------------------------------
// individual descriptors

Eigen::VectorXd composition_features(const Crystal& structure, const std::vector<std::size_t>& property_indices) {
  check_structure(structure, "composition");
  const std::size_t n_cols = element_properties().size();
  for (std::size_t p : property_indices)
    if (p >= n_cols)
      throw InvalidArgument("composition: property index " + std::to_string(p) + " is out of range (the table has " +
                            std::to_string(n_cols) + " columns)");
  // Element fractions (occupancy-weighted), elements in order of atomic number.
  std::array<double, 119> amount{};
  double total = 0;
  for (std::size_t i = 0; i < structure.n_sites(); ++i) {
    amount[static_cast<std::size_t>(structure.numbers[i])] += structure.occupancy(i);
    total += structure.occupancy(i);
  }
  std::vector<std::pair<int, double>> frac;
  for (int z = 1; z <= 118; ++z)
    if (amount[static_cast<std::size_t>(z)] > 0) frac.emplace_back(z, amount[static_cast<std::size_t>(z)] / total);
  Eigen::VectorXd out(static_cast<Eigen::Index>(kStats.size() * property_indices.size()));
  Eigen::Index o = 0;
  for (std::size_t p : property_indices) {
    double mean = 0, lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (const auto& [z, f] : frac) {
      const double x = element_property_imputed(z, p);
      mean += f * x;
      lo = std::min(lo, x);
      hi = std::max(hi, x);
    }
    double var = 0;
    for (const auto& [z, f] : frac) {
      const double dx = element_property_imputed(z, p) - mean;
      var += f * dx * dx;
    }
    out(o++) = mean;
    out(o++) = std::sqrt(var);
    out(o++) = lo;
    out(o++) = hi;
    out(o++) = hi - lo;
  }
  return out;
}

Eigen::MatrixXd coulomb_matrix(const Crystal& structure, CoulombVariant variant) {
  check_structure(structure, "coulomb");
  require_full_occupancy(structure, "coulomb");
  if (variant == CoulombVariant::Auto) variant = structure.periodic ? CoulombVariant::Sine : CoulombVariant::Plain;
  if (variant == CoulombVariant::Sine && !structure.periodic)
    throw InvalidArgument(where(structure) + ": coulomb: the sine matrix needs a periodic structure (this is a "
                          "molecule); use the plain Coulomb matrix");
  const std::size_t n = structure.n_sites();
  Eigen::MatrixXd m(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(n));
  const Eigen::MatrixXd cart = structure.cartesian();
  // Sine: sin(pi (f_i - f_j)) = sin(pi f_i) cos(pi f_j) - cos(pi f_i) sin(pi f_j), from per-site sines and cosines.
  Eigen::MatrixXd sn, cs;
  if (variant == CoulombVariant::Sine) {
    sn = (std::numbers::pi * structure.frac.array()).sin().matrix();
    cs = (std::numbers::pi * structure.frac.array()).cos().matrix();
  }
  for (std::size_t i = 0; i < n; ++i) {
    const auto ii = static_cast<Eigen::Index>(i);
    const double zi = structure.numbers[i];
    m(ii, ii) = 0.5 * std::pow(zi, 2.4);
    for (std::size_t j = 0; j < i; ++j) {
      const auto jj = static_cast<Eigen::Index>(j);
      double d;  // Å
      if (variant == CoulombVariant::Sine) {
        // Faber et al. (2015): phi = | sum_k sin^2(pi (f_i - f_j)_k) a_k |, a_k the lattice vectors.
        Eigen::RowVector3d s;
        for (int k = 0; k < 3; ++k) {
          const double sk = sn(ii, k) * cs(jj, k) - cs(ii, k) * sn(jj, k);
          s(k) = sk * sk;
        }
        d = (s * structure.lattice).norm();
      } else if (structure.periodic) {
        d = structure.distance(i, j);  // nearest image (Crystal::distance)
      } else {
        d = (cart.row(ii) - cart.row(jj)).norm();
      }
      if (!(d > 1e-8))
        throw InvalidArgument(where(structure) + ": coulomb: sites " + std::to_string(j + 1) + " and " +
                              std::to_string(i + 1) + " coincide" +
                              (variant == CoulombVariant::Sine ? " (modulo a lattice vector)" : ""));
      m(ii, jj) = m(jj, ii) = zi * structure.numbers[j] / (d / detail::kBohrAngstrom);
    }
  }
  return m;
}

Eigen::VectorXd coulomb_eigenvalues(const Crystal& structure, int size, CoulombVariant variant) {
  if (size < 0) throw InvalidArgument("coulomb: size must be >= 0, got " + std::to_string(size));
  return detail::sorted_eigenvalues(coulomb_matrix(structure, variant), size);
}

namespace {

void check_rdf_args(const std::vector<int>& elements, double cutoff, double step, double sigma) {
  if (elements.empty()) throw InvalidArgument("prdf: elements must not be empty");
  for (std::size_t e = 0; e < elements.size(); ++e) {
    if (elements[e] < 1 || elements[e] > 118)
      throw InvalidArgument("prdf: atomic number " + std::to_string(elements[e]) + " is outside 1..118");
    for (std::size_t f = 0; f < e; ++f)
      if (elements[f] == elements[e])
        throw InvalidArgument("prdf: element " + structure::element_symbol(elements[e]) + " is listed twice");
  }
  check_grid("prdf: cutoff", cutoff, "prdf: step", step);
  check_positive("prdf: sigma", sigma);
}

}  // namespace

Eigen::VectorXd partial_rdf(const Crystal& structure, const std::vector<int>& elements, double cutoff, double step,
                            double sigma) {
  check_rdf_args(elements, cutoff, step, sigma);
  check_structure(structure, "prdf");
  detail::check_elements(structure, elements);
  const std::size_t n_el = elements.size(), nk = detail::grid_size(cutoff, step);
  const std::vector<int> idx = detail::element_index(elements);
  std::vector<std::size_t> pair_offset(n_el * n_el);
  {
    std::size_t p = 0;
    for (std::size_t a = 0; a < n_el; ++a)
      for (std::size_t b = a; b < n_el; ++b) pair_offset[a * n_el + b] = pair_offset[b * n_el + a] = (p++) * nk;
  }
  Eigen::VectorXd out = Eigen::VectorXd::Zero(static_cast<Eigen::Index>(n_el * (n_el + 1) / 2 * nk));
  // Every pair whose Gaussian reaches the last grid point.
  const double radius = (static_cast<double>(nk) - 0.5) * step + detail::kGaussianReach * sigma;
  const detail::PairFinder finder(structure, radius);
  double total_occ = 0;
  for (std::size_t i = 0; i < structure.n_sites(); ++i) total_occ += structure.occupancy(i);
  const bool occupied = structure.occupancies.size() != 0;
  double* g = out.data();
  for (std::size_t i = 0; i < structure.n_sites(); ++i) {
    const int ai = idx[static_cast<std::size_t>(structure.numbers[i])];
    const double occ_i = structure.occupancy(i);
    finder.for_each_upper(i, [&](std::size_t j, const std::array<int, 3>& image, const double*, double d) {
      // Each unordered pair {(i, 0), (j, T)} once: (i, j, T) and (j, i, -T) are the same pair.
      if (j == i && image < std::array<int, 3>{0, 0, 0}) return;
      const int aj = idx[static_cast<std::size_t>(structure.numbers[j])];
      double w = ai == aj ? 2.0 : 1.0;  // a == b: both directions
      if (occupied) w *= occ_i * structure.occupancy(j);
      detail::add_gaussian(g + pair_offset[static_cast<std::size_t>(ai) * n_el + static_cast<std::size_t>(aj)], nk,
                           step, sigma, d, w);
    });
  }
  out /= total_occ;
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// fit_spec / describe

DescriptorSpec fit_spec(DescriptorSpec spec, const std::vector<Crystal>& structures,
                        const std::vector<std::size_t>& sites) {
  spec.validate();
  if (structures.empty()) throw InvalidArgument("fit_spec: no structures");
  const bool want_site = has(spec.kinds, DescriptorKind::Site);  // data-dependent parts: elements, local CM size
  if (!sites.empty() && sites.size() != structures.size())
    throw InvalidArgument("fit_spec: " + std::to_string(sites.size()) + " sites for " +
                          std::to_string(structures.size()) + " structures");
  if (needs_site(spec.kinds) && sites.empty())
    throw InvalidArgument("fit_spec: the site descriptor needs the absorbing site of every structure");
  std::set<int> elements(spec.elements.begin(), spec.elements.end());
  std::size_t max_sites = 0, max_local = 0;
  for (std::size_t s = 0; s < structures.size(); ++s) {
    const Crystal& c = structures[s];
    check_structure(c, "fit_spec");
    elements.insert(c.numbers.begin(), c.numbers.end());
    max_sites = std::max(max_sites, c.n_sites());
    if (needs_site(spec.kinds) && sites[s] >= c.n_sites())
      throw InvalidArgument(where(c) + ": fit_spec: site " + std::to_string(sites[s]) + " is out of range (" +
                            std::to_string(c.n_sites()) + " sites)");
    if (want_site) {
      const detail::PairFinder finder(c, spec.site_cutoff);
      std::size_t count = 1;  // the absorber
      finder.for_each(sites[s], [&](std::size_t, const std::array<int, 3>&, const double*, double) { ++count; });
      max_local = std::max(max_local, count);
    }
  }
  if (has(spec.kinds, DescriptorKind::Prdf) || want_site) spec.elements.assign(elements.begin(), elements.end());
  if (has(spec.kinds, DescriptorKind::Coulomb))
    spec.coulomb_size = std::max(spec.coulomb_size, static_cast<int>(max_sites));
  if (want_site) spec.site_coulomb_size = std::max(spec.site_coulomb_size, static_cast<int>(max_local));
  spec.validate();
  return spec;
}

namespace {

// Checks that cannot depend on the thread a row runs on (describe_many runs them serially first).
void check_input(const DescriptorSpec& spec, const Crystal& c, std::optional<std::size_t> site) {
  check_structure(c, "describe");
  if (has(spec.kinds, DescriptorKind::Prdf) || has(spec.kinds, DescriptorKind::Site))
    detail::check_elements(c, spec.elements);
  if (needs_site(spec.kinds)) {
    if (!site) throw InvalidArgument(where(c) + ": describe: the site descriptor needs the absorbing site");
    if (*site >= c.n_sites())
      throw InvalidArgument(where(c) + ": describe: site " + std::to_string(*site) + " is out of range (" +
                            std::to_string(c.n_sites()) + " sites, 0-based)");
  }
}

void describe_into(const DescriptorSpec& spec, const std::vector<std::size_t>& props, const Crystal& c,
                   std::optional<std::size_t> site, Eigen::Ref<Eigen::VectorXd> out) {
  Eigen::Index o = 0;
  auto put = [&](const Eigen::VectorXd& v) {
    out.segment(o, v.size()) = v;
    o += v.size();
  };
  for (DescriptorKind kind : spec.kinds) {
    switch (kind) {
      case DescriptorKind::Composition: put(composition_features(c, props)); break;
      case DescriptorKind::Prdf:
        put(partial_rdf(c, spec.elements, spec.rdf_cutoff, spec.rdf_step, spec.rdf_sigma));
        break;
      case DescriptorKind::Coulomb: put(coulomb_eigenvalues(c, spec.coulomb_size, spec.coulomb_variant)); break;
      case DescriptorKind::Site: put(site_features(spec, c, *site)); break;
      case DescriptorKind::Acsf: put(acsf_features(spec, c, *site)); break;
    }
  }
}

}  // namespace

Eigen::VectorXd describe(const DescriptorSpec& spec, const Crystal& structure, std::optional<std::size_t> site) {
  spec.validate();
  require_fitted(spec);
  check_input(spec, structure, site);
  Eigen::VectorXd out(static_cast<Eigen::Index>(spec.size()));
  describe_into(spec, property_indices(spec), structure, site, out);
  return out;
}

Eigen::MatrixXd describe_many(const DescriptorSpec& spec, const std::vector<Crystal>& structures,
                              const std::vector<std::size_t>& sites, unsigned threads, core::Progress* progress) {
  spec.validate();
  require_fitted(spec);
  if (!sites.empty() && sites.size() != structures.size())
    throw InvalidArgument("describe_many: " + std::to_string(sites.size()) + " sites for " +
                          std::to_string(structures.size()) + " structures");
  auto site_of = [&](std::size_t s) {
    return sites.empty() ? std::optional<std::size_t>() : std::optional<std::size_t>(sites[s]);
  };
  for (std::size_t s = 0; s < structures.size(); ++s) check_input(spec, structures[s], site_of(s));
  const std::vector<std::size_t> props = property_indices(spec);
  const auto width = static_cast<Eigen::Index>(spec.size());
  Eigen::MatrixXd out(static_cast<Eigen::Index>(structures.size()), width);
  core::parallel_for(structures.size(), threads, [&](std::size_t begin, std::size_t end, unsigned) {
    Eigen::VectorXd row(width);
    for (std::size_t s = begin; s < end; ++s) {
      describe_into(spec, props, structures[s], site_of(s), row);
      out.row(static_cast<Eigen::Index>(s)) = row.transpose();
      if (progress) progress->tick();
    }
  });
  return out;
}

}  // namespace tsunagu::features
