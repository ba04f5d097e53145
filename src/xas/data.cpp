#include "tsunagu/xas/data.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "tsunagu/core/error.hpp"
#include "tsunagu/core/random.hpp"
#include "tsunagu/core/table.hpp"

namespace tsunagu::xas {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return "";
  const auto e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

std::string num(double x) { return core::format_double(x); }

// Whole-text double (a leading '+' allowed); false for anything else.
bool to_double(std::string_view s, double& out) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty()) return false;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

// Shared checks of a sampled spectrum (interpolate, edge_energy).
void check_samples(const Eigen::VectorXd& energy, const Eigen::VectorXd& mu, const std::string& source,
                   Eigen::Index min_points) {
  if (energy.size() != mu.size())
    throw InvalidArgument(source + ": " + std::to_string(energy.size()) + " energies but " +
                          std::to_string(mu.size()) + " absorption values");
  if (energy.size() < min_points)
    throw InvalidArgument(source + ": spectrum has " + std::to_string(energy.size()) + " points, need at least " +
                          std::to_string(min_points));
  for (Eigen::Index i = 0; i < energy.size(); ++i) {
    if (!std::isfinite(energy(i)))
      throw InvalidArgument(source + ": energy[" + std::to_string(i) + "] is not finite");
    if (!std::isfinite(mu(i))) throw InvalidArgument(source + ": mu[" + std::to_string(i) + "] is not finite");
    if (i > 0 && !(energy(i) > energy(i - 1)))
      throw InvalidArgument(source + ": energies not strictly increasing at point " + std::to_string(i) + " (" +
                            num(energy(i - 1)) + " then " + num(energy(i)) + " eV)");
  }
}

}  // namespace

// ---- Mesh ----

Eigen::VectorXd Mesh::points() const {
  validate();
  Eigen::VectorXd p(n);
  const double step = (hi - lo) / static_cast<double>(n - 1);
  for (int i = 0; i < n; ++i) p(i) = lo + step * static_cast<double>(i);
  p(n - 1) = hi;  // exact end point
  return p;
}

void Mesh::validate() const {
  if (!std::isfinite(lo)) throw InvalidArgument("mesh: lo " + num(lo) + " is not finite");
  if (!std::isfinite(hi)) throw InvalidArgument("mesh: hi " + num(hi) + " is not finite");
  if (!(lo < hi)) throw InvalidArgument("mesh: lo " + num(lo) + " must be below hi " + num(hi));
  if (n < 2) throw InvalidArgument("mesh: n = " + std::to_string(n) + " must be at least 2");
}

std::string Mesh::str() const { return num(lo) + ":" + num(hi) + ":" + std::to_string(n); }

nlohmann::json Mesh::to_json() const { return {{"lo", lo}, {"hi", hi}, {"n", n}}; }

Mesh Mesh::from_json(const nlohmann::json& j) {
  if (!j.is_object() || !j.contains("lo") || !j.contains("hi") || !j.contains("n") || !j["lo"].is_number() ||
      !j["hi"].is_number() || !j["n"].is_number_integer())
    throw InvalidArgument("mesh: expected {\"lo\": eV, \"hi\": eV, \"n\": points}, got " + j.dump());
  Mesh m;
  m.lo = j["lo"].get<double>();
  m.hi = j["hi"].get<double>();
  const auto n = j["n"].get<std::int64_t>();
  if (n < 2 || n > 100000000) throw InvalidArgument("mesh: n = " + std::to_string(n) + " must be at least 2");
  m.n = static_cast<int>(n);
  m.validate();
  return m;
}

Mesh parse_mesh(std::string_view text) {
  const std::string t = trim(text);
  const auto bad = [&] {
    return InvalidArgument("mesh: expected LO:HI:N in eV (e.g. 7100:7180:161), got '" + std::string(text) + "'");
  };
  const auto c1 = t.find(':');
  const auto c2 = c1 == std::string::npos ? std::string::npos : t.find(':', c1 + 1);
  if (c2 == std::string::npos || t.find(':', c2 + 1) != std::string::npos) throw bad();
  Mesh m;
  double n = 0;
  if (!to_double(trim(t.substr(0, c1)), m.lo) || !to_double(trim(t.substr(c1 + 1, c2 - c1 - 1)), m.hi) ||
      !to_double(trim(t.substr(c2 + 1)), n))
    throw bad();
  if (!(n == std::floor(n)) || n < -1e9 || n > 1e9) throw bad();
  m.n = static_cast<int>(n);
  m.validate();
  return m;
}

// ---- normalisation ----

Normalization parse_normalization(std::string_view name) {
  const std::string n = lower(trim(name));
  if (n == "none" || n.empty()) return Normalization::None;
  if (n == "max") return Normalization::Max;
  if (n == "area") return Normalization::Area;
  if (n == "edge") return Normalization::Edge;
  throw InvalidArgument("normalization: unknown '" + std::string(name) + "' (none, max, area, edge)");
}

const char* normalization_name(Normalization n) {
  switch (n) {
    case Normalization::None: return "none";
    case Normalization::Max: return "max";
    case Normalization::Area: return "area";
    case Normalization::Edge: return "edge";
  }
  return "?";
}

// ---- interpolation and edge ----

Eigen::VectorXd interpolate(const Eigen::VectorXd& energy, const Eigen::VectorXd& mu, const Eigen::VectorXd& mesh,
                            const std::string& source) {
  check_samples(energy, mu, source, 2);
  const Eigen::Index n = energy.size();
  const double first = energy(0), last = energy(n - 1);
  const double tol = 1e-9 * std::max({std::abs(first), std::abs(last), last - first});
  Eigen::VectorXd out(mesh.size());
  Eigen::Index j = 0;  // segment [energy(j), energy(j+1)]; kept between points (meshes are usually increasing)
  for (Eigen::Index i = 0; i < mesh.size(); ++i) {
    double x = mesh(i);
    if (!std::isfinite(x)) throw InvalidArgument(source + ": mesh point " + std::to_string(i) + " is not finite");
    if (x < first) {
      if (x < first - tol)
        throw InvalidArgument(source + ": mesh " + num(x) + " eV below the spectrum's first energy " + num(first));
      x = first;
    }
    if (x > last) {
      if (x > last + tol)
        throw InvalidArgument(source + ": mesh " + num(x) + " eV above the spectrum's last energy " + num(last));
      x = last;
    }
    if (!(energy(j) <= x && x <= energy(j + 1))) {
      const double* b = energy.data();
      j = std::clamp<Eigen::Index>(static_cast<Eigen::Index>(std::upper_bound(b, b + n, x) - b) - 1, 0, n - 2);
    }
    const double e0 = energy(j), e1 = energy(j + 1);
    const double t = (x - e0) / (e1 - e0);
    out(i) = mu(j) + t * (mu(j + 1) - mu(j));
  }
  return out;
}

double edge_energy(const Eigen::VectorXd& energy, const Eigen::VectorXd& mu) {
  check_samples(energy, mu, "edge_energy", 3);
  const Eigen::Index n = energy.size();
  // dmu/dE: central differences inside, one-sided at the ends.
  Eigen::VectorXd d(n);
  d(0) = (mu(1) - mu(0)) / (energy(1) - energy(0));
  d(n - 1) = (mu(n - 1) - mu(n - 2)) / (energy(n - 1) - energy(n - 2));
  for (Eigen::Index i = 1; i + 1 < n; ++i) d(i) = (mu(i + 1) - mu(i - 1)) / (energy(i + 1) - energy(i - 1));
  const double half = energy(0) + 0.5 * (energy(n - 1) - energy(0));
  Eigen::Index best = 0;
  for (Eigen::Index i = 1; i < n && energy(i) <= half; ++i)
    if (d(i) > d(best)) best = i;
  if (best == 0 || best == n - 1) return energy(best);
  // Parabola through the three derivative points around the maximum (local coordinates around energy(best)).
  const double x1 = energy(best - 1) - energy(best), x3 = energy(best + 1) - energy(best);
  const double y1 = d(best - 1) - d(best), y3 = d(best + 1) - d(best);
  // y = a x^2 + b x through (x1, y1), (0, 0), (x3, y3)
  const double den = x1 * x3 * (x1 - x3);
  const double a = (y1 * x3 - y3 * x1) / den;
  const double b = (y3 * x1 * x1 - y1 * x3 * x3) / den;
  if (!(a < 0)) return energy(best);
  const double xv = std::clamp(-b / (2 * a), x1, x3);
  return energy(best) + xv;
}

Eigen::VectorXd prepare_spectrum(const Eigen::VectorXd& energy, const Eigen::VectorXd& mu,
                                 const SpectrumOptions& options, const std::string& source) {
  options.mesh.validate();
  const Eigen::VectorXd mesh = options.mesh.points();
  Eigen::VectorXd y;
  if (options.align_edge_to) {
    if (!std::isfinite(*options.align_edge_to))
      throw InvalidArgument("align_edge_to: " + num(*options.align_edge_to) + " is not finite");
    double e0 = 0;
    try {
      e0 = edge_energy(energy, mu);
    } catch (const InvalidArgument& e) {
      std::string m = e.what();
      if (m.rfind("edge_energy: ", 0) == 0) m = m.substr(13);
      throw InvalidArgument(source + ": " + m);
    }
    const Eigen::VectorXd shifted = energy.array() + (*options.align_edge_to - e0);
    y = interpolate(shifted, mu, mesh, source);
  } else {
    y = interpolate(energy, mu, mesh, source);
  }
  double norm = 1.0;
  switch (options.normalization) {
    case Normalization::None: return y;
    case Normalization::Max: norm = y.maxCoeff(); break;
    case Normalization::Area: {
      norm = 0;
      for (Eigen::Index i = 0; i + 1 < y.size(); ++i) norm += 0.5 * (y(i) + y(i + 1)) * (mesh(i + 1) - mesh(i));
      break;
    }
    case Normalization::Edge: {
      const Eigen::Index m = std::max<Eigen::Index>(1, (y.size() + 9) / 10);
      norm = y.tail(m).mean();
      break;
    }
  }
  if (norm == 0.0 || !std::isfinite(norm))
    throw InvalidArgument(source + ": cannot normalise by " + normalization_name(options.normalization) +
                          ": the normaliser is " + num(norm));
  return y / norm;
}

// ---- splits ----

namespace {

struct Groups {
  std::vector<std::size_t> of_record;  // group index per record
  std::vector<std::size_t> size;       // records per group (groups in order of first appearance)
};

Groups index_groups(const std::vector<std::string>& groups) {
  Groups g;
  std::unordered_map<std::string, std::size_t> index;
  g.of_record.reserve(groups.size());
  for (const auto& name : groups) {
    const auto [it, inserted] = index.try_emplace(name, g.size.size());
    if (inserted) g.size.push_back(0);
    ++g.size[it->second];
    g.of_record.push_back(it->second);
  }
  return g;
}

}  // namespace

std::vector<int> grouped_kfold(const std::vector<std::string>& groups, int k, std::uint64_t seed) {
  if (k < 2) throw InvalidArgument("folds: k = " + std::to_string(k) + " must be at least 2");
  const Groups g = index_groups(groups);
  if (g.size.size() < static_cast<std::size_t>(k))
    throw InvalidArgument("folds: " + std::to_string(g.size.size()) + " groups (materials) are fewer than the " +
                          std::to_string(k) + " folds");
  auto rng = core::make_rng(seed);
  const auto order = core::permutation(g.size.size(), rng);
  std::vector<std::size_t> fold_size(static_cast<std::size_t>(k), 0);
  std::vector<int> fold_of_group(g.size.size(), 0);
  for (const std::size_t gi : order) {
    const auto f = static_cast<std::size_t>(std::min_element(fold_size.begin(), fold_size.end()) - fold_size.begin());
    fold_of_group[gi] = static_cast<int>(f);
    fold_size[f] += g.size[gi];
  }
  std::vector<int> out(groups.size());
  for (std::size_t i = 0; i < groups.size(); ++i) out[i] = fold_of_group[g.of_record[i]];
  return out;
}

std::vector<bool> grouped_split(const std::vector<std::string>& groups, double test_fraction, std::uint64_t seed) {
  if (!(test_fraction > 0.0 && test_fraction < 1.0))
    throw InvalidArgument("test fraction " + num(test_fraction) + " must lie in (0, 1)");
  const Groups g = index_groups(groups);
  if (g.size.size() < 2)
    throw InvalidArgument("split: " + std::to_string(g.size.size()) +
                          " group(s) (materials); need at least 2 to hold out whole groups");
  auto rng = core::make_rng(seed);
  const auto order = core::permutation(g.size.size(), rng);
  const double target = test_fraction * static_cast<double>(groups.size());
  std::vector<bool> test_group(g.size.size(), false);
  double in_test = 0;
  std::size_t n_test_groups = 0;
  // Take groups in shuffled order whenever adding one brings the test size closer to (or as close to) the target.
  for (const std::size_t gi : order) {
    const auto s = static_cast<double>(g.size[gi]);
    if (in_test + 0.5 * s <= target) {
      test_group[gi] = true;
      in_test += s;
      ++n_test_groups;
    }
  }
  if (n_test_groups == 0) {
    test_group[order.front()] = true;
    ++n_test_groups;
  }
  if (n_test_groups == g.size.size()) test_group[order.back()] = false;  // keep a training group
  std::vector<bool> out(groups.size());
  for (std::size_t i = 0; i < groups.size(); ++i) out[i] = test_group[g.of_record[i]];
  return out;
}

}  // namespace tsunagu::xas
