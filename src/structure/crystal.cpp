#include "tsunagu/structure/crystal.hpp"

#include <algorithm>
#include <array>
#include <limits>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <numbers>

#include <Eigen/LU>

#include "tsunagu/core/error.hpp"

namespace tsunagu::structure {
namespace {

// IUPAC symbols H (1) .. Og (118); index = Z - 1.
const std::array<std::string, 118> kSymbols = {
    "H",  "He", "Li", "Be", "B",  "C",  "N",  "O",  "F",  "Ne", "Na", "Mg", "Al", "Si", "P",  "S",  "Cl", "Ar",
    "K",  "Ca", "Sc", "Ti", "V",  "Cr", "Mn", "Fe", "Co", "Ni", "Cu", "Zn", "Ga", "Ge", "As", "Se", "Br", "Kr",
    "Rb", "Sr", "Y",  "Zr", "Nb", "Mo", "Tc", "Ru", "Rh", "Pd", "Ag", "Cd", "In", "Sn", "Sb", "Te", "I",  "Xe",
    "Cs", "Ba", "La", "Ce", "Pr", "Nd", "Pm", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Tm", "Yb", "Lu", "Hf",
    "Ta", "W",  "Re", "Os", "Ir", "Pt", "Au", "Hg", "Tl", "Pb", "Bi", "Po", "At", "Rn", "Fr", "Ra", "Ac", "Th",
    "Pa", "U",  "Np", "Pu", "Am", "Cm", "Bk", "Cf", "Es", "Fm", "Md", "No", "Lr", "Rf", "Db", "Sg", "Bh", "Hs",
    "Mt", "Ds", "Rg", "Cn", "Nh", "Fl", "Mc", "Lv", "Ts", "Og"};

int lookup(char c0, char c1) {  // c1 == 0 for a one-letter symbol; both already case-normalised
  for (std::size_t i = 0; i < kSymbols.size(); ++i) {
    const std::string& s = kSymbols[i];
    if (s[0] == c0 && ((c1 == 0 && s.size() == 1) || (c1 != 0 && s.size() == 2 && s[1] == c1)))
      return static_cast<int>(i) + 1;
  }
  return 0;
}

std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

std::string where(const Crystal& c) { return c.source.empty() ? std::string("crystal") : c.source; }

std::string site_name(const Crystal& c, std::size_t i) {
  std::string s = "site " + std::to_string(i + 1);
  if (i < c.labels.size() && !c.labels[i].empty()) s += " '" + c.labels[i] + "'";
  return s;
}

}  // namespace

std::optional<int> find_atomic_number(std::string_view symbol) noexcept {
  std::size_t b = 0, e = symbol.size();
  while (b < e && std::isspace(static_cast<unsigned char>(symbol[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(symbol[e - 1]))) --e;
  if (e == b || !std::isalpha(static_cast<unsigned char>(symbol[b]))) return std::nullopt;
  const char c0 = static_cast<char>(std::toupper(static_cast<unsigned char>(symbol[b])));
  const bool two = b + 1 < e && std::isalpha(static_cast<unsigned char>(symbol[b + 1]));
  // Two letters win when they name an element ("Co" is cobalt, not C + o); the rest must not continue with a
  // letter, so "Xx" or "Oxx" are refused instead of being read as a shorter symbol.
  std::size_t used = 0;
  int z = 0;
  if (two) {
    z = lookup(c0, static_cast<char>(std::tolower(static_cast<unsigned char>(symbol[b + 1]))));
    if (z) used = 2;
  }
  if (!z) {
    z = lookup(c0, 0);
    used = 1;
  }
  if (!z) return std::nullopt;
  const std::size_t rest = b + used;
  if (rest < e && std::isalpha(static_cast<unsigned char>(symbol[rest]))) return std::nullopt;
  return z;
}

int atomic_number(std::string_view symbol) {
  if (auto z = find_atomic_number(symbol)) return *z;
  throw InvalidArgument("unknown element '" + std::string(symbol) + "'");
}

const std::string& element_symbol(int z) {
  if (z < 1 || z > static_cast<int>(kSymbols.size()))
    throw InvalidArgument("atomic number " + std::to_string(z) + " is outside 1..118");
  return kSymbols[static_cast<std::size_t>(z - 1)];
}

std::vector<std::string> Crystal::symbols() const {
  std::vector<std::string> out;
  out.reserve(numbers.size());
  for (int z : numbers) out.push_back(element_symbol(z));
  return out;
}

double Crystal::occupancy(std::size_t site) const {
  return occupancies.size() == 0 ? 1.0 : occupancies(static_cast<Eigen::Index>(site));
}

Eigen::MatrixXd Crystal::cartesian() const { return frac * lattice; }

double Crystal::volume() const { return std::abs(lattice.determinant()); }

Eigen::Matrix3d Crystal::reciprocal_lattice() const {
  // Rows b*_j with a_i . b*_j = delta_ij:  L B^T = I  =>  B = L^{-T}.
  return lattice.inverse().transpose();
}

Eigen::Matrix<double, 6, 1> Crystal::parameters() const {
  const Eigen::Vector3d a = lattice.row(0), b = lattice.row(1), c = lattice.row(2);
  auto angle = [](const Eigen::Vector3d& u, const Eigen::Vector3d& v) {
    return std::acos(std::clamp(u.dot(v) / (u.norm() * v.norm()), -1.0, 1.0)) * 180.0 / std::numbers::pi;
  };
  Eigen::Matrix<double, 6, 1> p;
  p << a.norm(), b.norm(), c.norm(), angle(b, c), angle(a, c), angle(a, b);
  return p;
}

double Crystal::distance(std::size_t i, std::size_t j) const {
  Eigen::RowVector3d d = frac.row(static_cast<Eigen::Index>(j)) - frac.row(static_cast<Eigen::Index>(i));
  if (!periodic) return (d * lattice).norm();
  for (int k = 0; k < 3; ++k) d(k) -= std::round(d(k));
  double best = std::numeric_limits<double>::infinity();
  for (int x = -1; x <= 1; ++x)
    for (int y = -1; y <= 1; ++y)
      for (int z = -1; z <= 1; ++z) {
        const Eigen::RowVector3d s = d + Eigen::RowVector3d(x, y, z);
        best = std::min(best, (s * lattice).norm());
      }
  return best;
}

std::string Crystal::formula() const {
  std::vector<int> order;
  std::vector<double> count;
  for (std::size_t i = 0; i < numbers.size(); ++i) {
    std::size_t k = 0;
    while (k < order.size() && order[k] != numbers[i]) ++k;
    if (k == order.size()) {
      order.push_back(numbers[i]);
      count.push_back(0);
    }
    count[k] += occupancy(i);
  }
  std::string out;
  for (std::size_t k = 0; k < order.size(); ++k) {
    out += element_symbol(order[k]);
    if (std::abs(count[k] - 1.0) > 1e-9) out += fmt(count[k]);
  }
  return out;
}

std::vector<std::size_t> Crystal::select_element(std::string_view symbol) const {
  const int z = atomic_number(symbol);
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < numbers.size(); ++i)
    if (numbers[i] == z) out.push_back(i);
  return out;
}

std::vector<std::size_t> Crystal::select_label(std::string_view label, bool prefix) const {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const std::string& l = labels[i];
    if (prefix ? std::string_view(l).substr(0, label.size()) == label : l == label) out.push_back(i);
  }
  return out;
}

void Crystal::validate(double min_distance) const {
  const std::string w = where(*this);
  const std::size_t n = numbers.size();
  if (frac.cols() != 3 || static_cast<std::size_t>(frac.rows()) != n)
    throw InvalidArgument(w + ": frac has shape (" + std::to_string(frac.rows()) + ", " +
                          std::to_string(frac.cols()) + "), expected (" + std::to_string(n) + ", 3)");
  if (labels.size() != n)
    throw InvalidArgument(w + ": " + std::to_string(labels.size()) + " labels for " + std::to_string(n) + " sites");
  if (occupancies.size() != 0 && static_cast<std::size_t>(occupancies.size()) != n)
    throw InvalidArgument(w + ": " + std::to_string(occupancies.size()) + " occupancies for " + std::to_string(n) +
                          " sites");
  if (!lattice.allFinite()) throw InvalidArgument(w + ": lattice has non-finite entries");
  if (!(std::abs(lattice.determinant()) > 1e-6))
    throw InvalidArgument(w + ": lattice is singular (volume " + fmt(lattice.determinant()) + " A^3)");
  if (!std::isfinite(min_distance) || min_distance < 0)
    throw InvalidArgument("validate: min_distance must be finite and >= 0 (got " + fmt(min_distance) + ")");
  for (std::size_t i = 0; i < n; ++i) {
    if (numbers[i] < 1 || numbers[i] > 118)
      throw InvalidArgument(w + ": " + site_name(*this, i) + ": atomic number " + std::to_string(numbers[i]) +
                            " is outside 1..118");
    if (!frac.row(static_cast<Eigen::Index>(i)).allFinite())
      throw InvalidArgument(w + ": " + site_name(*this, i) + ": non-finite coordinate");
    const double occ = occupancy(i);
    if (!(occ > 0 && occ <= 1 + 1e-6))
      throw InvalidArgument(w + ": " + site_name(*this, i) + ": occupancy " + fmt(occ) + " is outside (0, 1]");
  }
  if (min_distance == 0) return;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = i + 1; j < n; ++j) {
      const double d = distance(i, j);
      if (d < min_distance && occupancy(i) + occupancy(j) > 1 + 1e-6)
        throw InvalidArgument(w + ": overlapping atoms: " + site_name(*this, i) + " and " + site_name(*this, j) +
                              " are " + fmt(d) + " A apart (minimum " + fmt(min_distance) + " A)");
    }
}

Eigen::Matrix3d lattice_from_parameters(double a, double b, double c, double alpha, double beta, double gamma) {
  for (double v : {a, b, c})
    if (!(std::isfinite(v) && v > 0))
      throw InvalidArgument("cell: lengths must be finite and > 0 (got " + fmt(a) + ", " + fmt(b) + ", " + fmt(c) +
                            ")");
  for (double v : {alpha, beta, gamma})
    if (!(std::isfinite(v) && v > 0 && v < 180))
      throw InvalidArgument("cell: angles must lie in (0, 180) degrees (got " + fmt(alpha) + ", " + fmt(beta) +
                            ", " + fmt(gamma) + ")");
  const double d = std::numbers::pi / 180.0;
  const double ca = std::cos(alpha * d), cb = std::cos(beta * d), cg = std::cos(gamma * d), sg = std::sin(gamma * d);
  // c = (cx, cy, cz) with c.a = a c cos(beta), c.b = b c cos(alpha).
  const double cx = cb, cy = (ca - cb * cg) / sg;
  const double cz2 = 1.0 - cx * cx - cy * cy;
  if (!(cz2 > 1e-12))
    throw InvalidArgument("cell: angles alpha=" + fmt(alpha) + ", beta=" + fmt(beta) + ", gamma=" + fmt(gamma) +
                          " do not form a cell (zero or imaginary volume)");
  Eigen::Matrix3d L;
  L << a, 0, 0,  //
      b * cg, b * sg, 0,  //
      c * cx, c * cy, c * std::sqrt(cz2);
  // cos/sin of 90 degrees is 6e-17, not 0; clean such dust so orthogonal cells are exactly orthogonal.
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      if (std::abs(L(i, j)) < 1e-12 * std::max({a, b, c})) L(i, j) = 0;
  return L;
}

Eigen::MatrixXd wrap_fractional(const Eigen::MatrixXd& frac) {
  Eigen::MatrixXd out = frac;
  for (Eigen::Index i = 0; i < out.rows(); ++i)
    for (Eigen::Index k = 0; k < out.cols(); ++k) {
      double v = out(i, k) - std::floor(out(i, k));
      if (v >= 1.0 - 1e-10) v = 0.0;
      out(i, k) = v;
    }
  return out;
}

}  // namespace tsunagu::structure
