// GAMESS MAKEFP fragment files: reader and placement of fragments in the lab frame.
#include "tsunagu/fragmd/fragment.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <Eigen/Dense>

#include "tsunagu/core/error.hpp"
#include "tsunagu/fragmd/terms.hpp"

namespace tsunagu::fragmd {
namespace {

std::string trim(const std::string& s) {
  std::size_t a = 0, b = s.size();
  while (a < b && std::isspace(static_cast<unsigned char>(s[a]))) ++a;
  while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1]))) --b;
  return s.substr(a, b - a);
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool starts_with(const std::string& s, const std::string& p) { return s.compare(0, p.size(), p) == 0; }

/// Logical lines of a MAKEFP file: a line ending in '>' continues on the next one (GAMESS wraps long records).
struct Lines {
  std::string path;
  std::vector<std::string> text;
  std::vector<std::size_t> lineno;  // 1-based physical line where each logical line starts
  std::size_t pos = 0;

  bool eof() const { return pos >= text.size(); }
  const std::string& cur() const { return text[pos]; }
  std::string cur_trim() const { return trim(text[pos]); }
  [[noreturn]] void fail(const std::string& section, const std::string& msg) const {
    std::size_t line = pos < lineno.size() ? lineno[pos] : (lineno.empty() ? 0 : lineno.back());
    throw ParseError(path, line, section, msg);
  }
};

Lines load_lines(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw IoError("cannot open fragment file '" + path + "'");
  Lines L;
  L.path = path;
  std::string line, acc;
  std::size_t n = 0, start = 0;
  bool cont = false;
  while (std::getline(in, line)) {
    ++n;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!cont) start = n;
    std::string t = line;
    while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.pop_back();
    if (!t.empty() && t.back() == '>') {
      t.pop_back();
      acc += t + " ";
      cont = true;
      continue;
    }
    acc += line;
    L.text.push_back(acc);
    L.lineno.push_back(start);
    acc.clear();
    cont = false;
  }
  if (cont) {
    L.text.push_back(acc);
    L.lineno.push_back(start);
  }
  return L;
}

/// Parse all doubles of `s` starting at `from`; stops at the first token that is not a number. strtod also splits
/// GAMESS' run-together fixed-width fields such as "1.0E-02-8.9E-02".
std::vector<double> numbers(const std::string& s, std::size_t from = 0) {
  std::vector<double> out;
  const char* p = s.c_str() + std::min(from, s.size());
  while (true) {
    while (*p && std::isspace(static_cast<unsigned char>(*p))) ++p;
    if (!*p) break;
    char* end = nullptr;
    double v = std::strtod(p, &end);
    if (end == p) break;
    out.push_back(v);
    p = end;
  }
  return out;
}

std::pair<std::string, std::vector<double>> label_and_numbers(const std::string& s) {
  std::istringstream is(s);
  std::string label;
  is >> label;
  auto pos = s.find(label);
  return {label, numbers(s, pos + label.size())};
}

bool is_stop(const std::string& t) { return t == "STOP"; }

void expect_stop(Lines& L, const std::string& section) {
  if (L.eof() || !is_stop(L.cur_trim())) L.fail(section, "expected STOP");
  ++L.pos;
}

// Every section reader starts with L.pos on the section header line and leaves L.pos on the next header.
void read_coordinates(Lines& L, FragmentType& f) {
  const std::string sec = "COORDINATES";
  ++L.pos;
  while (!L.eof() && !is_stop(L.cur_trim())) {
    auto [label, v] = label_and_numbers(L.cur());
    if (v.size() < 5) L.fail(sec, "expected LABEL X Y Z MASS ZNUC, got '" + L.cur_trim() + "'");
    MultipolePoint m;
    m.label = label;
    m.r = Eigen::Vector3d(v[0], v[1], v[2]);
    f.multipoles.push_back(m);
    if (v[3] != 0.0) f.atoms.push_back(Atom{label, m.r, v[3], v[4]});
    ++L.pos;
  }
  expect_stop(L, sec);
  if (f.atoms.empty()) L.fail(sec, "fragment '" + f.name + "' has no atoms");
}

/// Per-multipole-point records (MONOPOLES … OCTUPOLES, SCREEN*): one line per COORDINATES entry, same labels, same order.
template <typename Fn>
void read_points(Lines& L, FragmentType& f, const std::string& sec, std::size_t ncol, Fn&& store) {
  if (f.multipoles.empty()) L.fail(sec, "section before COORDINATES");
  ++L.pos;
  for (auto& m : f.multipoles) {
    if (L.eof() || is_stop(L.cur_trim())) L.fail(sec, "fewer entries than COORDINATES points");
    auto [label, v] = label_and_numbers(L.cur());
    if (label != m.label) L.fail(sec, "label '" + label + "' where '" + m.label + "' was expected");
    if (v.size() < ncol) L.fail(sec, "expected " + std::to_string(ncol) + " numbers for '" + label + "'");
    for (double x : v)
      if (!std::isfinite(x)) L.fail(sec, "non-finite value for '" + label + "'");
    store(m, v);
    ++L.pos;
  }
  expect_stop(L, sec);
}

void read_polarizable(Lines& L, FragmentType& f) {
  const std::string sec = "POLARIZABLE POINTS";
  ++L.pos;
  while (!L.eof() && !is_stop(L.cur_trim())) {
    auto [label, r] = label_and_numbers(L.cur());
    if (r.size() < 3) L.fail(sec, "expected LABEL X Y Z");
    ++L.pos;
    if (L.eof()) L.fail(sec, "missing tensor");
    auto t = numbers(L.cur());
    if (t.size() != 9) L.fail(sec, "expected 9 tensor components, got " + std::to_string(t.size()));
    PolarizablePoint p;
    p.r = Eigen::Vector3d(r[0], r[1], r[2]);
    // File order xx yy zz xy xz yz yx zx zy.
    p.alpha << t[0], t[3], t[4], t[6], t[1], t[5], t[7], t[8], t[2];
    f.polarizable.push_back(p);
    ++L.pos;
  }
  expect_stop(L, sec);
}

void read_dynamic(Lines& L, FragmentType& f) {
  const std::string sec = "DYNAMIC POLARIZABLE POINTS";
  ++L.pos;
  int w = -1;
  std::size_t k = 0;
  std::vector<DynamicPolarizablePoint>& pts = f.dynamic_polarizable;
  while (!L.eof() && !is_stop(L.cur_trim())) {
    const std::string& s = L.cur();
    if (s.find("FOR") != std::string::npos) {  // a new frequency block starts
      ++w;
      if (w >= 12) L.fail(sec, "more than 12 frequencies");
      if (w == 1) {
        // nothing: the number of points was fixed by frequency 0
      } else if (w > 1 && k != pts.size()) {
        L.fail(sec, "frequency blocks have different numbers of points");
      }
      k = 0;
    }
    if (w < 0) L.fail(sec, "first record lacks the '-- FOR W=' frequency marker");
    auto r = numbers(s, std::min<std::size_t>(5, s.size()));  // label "CT  n" is 5 characters wide
    if (r.size() < 3) L.fail(sec, "expected CT n X Y Z");
    ++L.pos;
    if (L.eof()) L.fail(sec, "missing tensor");
    auto t = numbers(L.cur());
    if (t.size() != 9) L.fail(sec, "expected 9 tensor components");
    Eigen::Matrix3d a;
    a << t[0], t[3], t[4], t[6], t[1], t[5], t[7], t[8], t[2];
    if (w == 0) {
      DynamicPolarizablePoint p;
      p.r = Eigen::Vector3d(r[0], r[1], r[2]);
      for (auto& m : p.alpha) m.setZero();
      p.alpha[0] = a;
      pts.push_back(p);
    } else {
      if (k >= pts.size()) L.fail(sec, "frequency block has more points than the first");
      pts[k].alpha[static_cast<std::size_t>(w)] = a;
    }
    ++k;
    ++L.pos;
  }
  expect_stop(L, sec);
  if (w != 11 || k != pts.size()) L.fail(sec, "expected 12 complete frequency blocks");
}

int shell_size(char t) {
  switch (t) {
    case 'S': return 1;
    case 'L': return 4;
    case 'P': return 3;
    case 'D': return 6;
    case 'F': return 10;
  }
  return 0;
}

void read_basis(Lines& L, FragmentType& f) {
  const std::string sec = "PROJECTION BASIS SET";
  ++L.pos;
  Eigen::Vector3d centre = Eigen::Vector3d::Zero();
  bool have_centre = false;
  while (!L.eof() && !is_stop(L.cur_trim())) {
    std::string t = L.cur_trim();
    if (t.empty()) {
      ++L.pos;
      continue;
    }
    std::istringstream is(t);
    std::string first;
    is >> first;
    if (first.size() == 1 && shell_size(first[0]) > 0) {
      if (!have_centre) L.fail(sec, "shell before its atom");
      int n = 0;
      if (!(is >> n) || n <= 0) L.fail(sec, "bad primitive count");
      Shell sh;
      sh.type = first[0];
      sh.r = centre;
      ++L.pos;
      for (int i = 0; i < n; ++i, ++L.pos) {
        if (L.eof()) L.fail(sec, "truncated shell");
        auto v = numbers(L.cur());
        std::size_t need = sh.type == 'L' ? 4 : 3;
        if (v.size() < need) L.fail(sec, "expected index, exponent and coefficient(s)");
        sh.exponents.push_back(v[1]);
        sh.coef.push_back(v[2]);
        if (sh.type == 'L') sh.coef_p.push_back(v[3]);
      }
      f.n_basis += shell_size(sh.type);
      f.basis.push_back(std::move(sh));
    } else {
      auto v = numbers(L.cur(), L.cur().find(first) + first.size());
      if (v.size() < 3) L.fail(sec, "expected atom LABEL X Y Z");
      centre = Eigen::Vector3d(v[0], v[1], v[2]);
      have_centre = true;
      ++L.pos;
    }
  }
  expect_stop(L, sec);
}

void read_wavefunction(Lines& L, FragmentType& f) {
  const std::string sec = "PROJECTION WAVEFUNCTION";
  auto hdr = numbers(L.cur(), L.cur().find("WAVEFUNCTION") + 12);
  if (hdr.size() < 2 || hdr[0] < 1 || hdr[1] < 1) L.fail(sec, "expected N_LMO N_BASIS after the header");
  int nlmo = static_cast<int>(hdr[0]), nbas = static_cast<int>(hdr[1]);
  f.n_lmo = nlmo;
  f.wavefunction.resize(nlmo, nbas);
  ++L.pos;
  for (int j = 0; j < nlmo; ++j) {
    int got = 0;
    while (got < nbas) {
      if (L.eof()) L.fail(sec, "truncated coefficients");
      // Records are "%2d%3d" (LMO, row) followed by up to five E15.8 fields.
      auto v = numbers(L.cur(), 5);
      if (v.empty() || static_cast<int>(v.size()) > nbas - got) L.fail(sec, "bad coefficient record");
      for (double x : v) f.wavefunction(j, got++) = x;
      ++L.pos;
    }
  }
}

void read_fock(Lines& L, FragmentType& f) {
  const std::string sec = "FOCK MATRIX ELEMENTS";
  if (f.n_lmo == 0) L.fail(sec, "FOCK MATRIX ELEMENTS before PROJECTION WAVEFUNCTION");
  std::size_t need = static_cast<std::size_t>(f.n_lmo) * (f.n_lmo + 1) / 2;
  std::vector<double> v;
  ++L.pos;
  while (v.size() < need) {
    if (L.eof()) L.fail(sec, "truncated");
    auto w = numbers(L.cur());
    if (w.empty()) L.fail(sec, "expected numbers");
    v.insert(v.end(), w.begin(), w.end());
    ++L.pos;
  }
  if (v.size() != need) L.fail(sec, "wrong number of elements");
  f.fock.resize(f.n_lmo, f.n_lmo);
  std::size_t k = 0;
  for (int i = 0; i < f.n_lmo; ++i)
    for (int j = 0; j <= i; ++j) f.fock(i, j) = f.fock(j, i) = v[k++];
}

void read_centroids(Lines& L, FragmentType& f) {
  const std::string sec = "LMO CENTROIDS";
  ++L.pos;
  while (!L.eof() && !is_stop(L.cur_trim())) {
    auto [label, v] = label_and_numbers(L.cur());
    if (v.size() < 3) L.fail(sec, "expected LABEL X Y Z");
    f.lmo_centroids.emplace_back(v[0], v[1], v[2]);
    ++L.pos;
  }
  expect_stop(L, sec);
}

void skip_to_stop(Lines& L) {
  ++L.pos;
  while (!L.eof() && !is_stop(L.cur_trim())) ++L.pos;
  if (!L.eof()) ++L.pos;
}

void skip_canonvec(Lines& L) {
  // CANONVEC N M: M vectors of M coefficients, five per record, no STOP (CANONFOK follows).
  auto v = numbers(L.cur(), L.cur().find("CANONVEC") + 8);
  if (v.size() < 2) L.fail("CANONVEC", "expected two counts");
  auto m = static_cast<std::size_t>(v[1]);
  L.pos += 1 + m * ((m + 4) / 5);
}

FragmentType read_block(Lines& L, const std::string& name) {
  FragmentType f;
  f.name = name;
  f.source = L.path;
  ++L.pos;  // the "EFP DATA FOR ..." title line
  if (!L.eof()) ++L.pos;
  while (true) {
    if (L.eof()) L.fail("$" + name, "missing $END");
    std::string t = L.cur_trim();
    if (t.empty()) {
      ++L.pos;
      continue;
    }
    if (starts_with(t, "$END")) {
      ++L.pos;
      break;
    }
    if (starts_with(t, "COORDINATES")) {
      read_coordinates(L, f);
    } else if (starts_with(t, "MONOPOLES")) {
      read_points(L, f, "MONOPOLES", 2, [](MultipolePoint& m, const std::vector<double>& v) {
        m.monopole = v[0];
        m.znuc = v[1];
      });
    } else if (starts_with(t, "DIPOLES")) {
      read_points(L, f, "DIPOLES", 3,
                  [](MultipolePoint& m, const std::vector<double>& v) { m.dipole = Eigen::Vector3d(v[0], v[1], v[2]); });
    } else if (starts_with(t, "QUADRUPOLES")) {
      read_points(L, f, "QUADRUPOLES", 6, [](MultipolePoint& m, const std::vector<double>& v) {
        std::copy(v.begin(), v.begin() + 6, m.quadrupole.begin());
      });
    } else if (starts_with(t, "OCTUPOLES")) {
      read_points(L, f, "OCTUPOLES", 10, [](MultipolePoint& m, const std::vector<double>& v) {
        std::copy(v.begin(), v.begin() + 10, m.octupole.begin());
      });
    } else if (starts_with(t, "POLARIZABLE POINTS")) {
      read_polarizable(L, f);
    } else if (starts_with(t, "DYNAMIC POLARIZABLE POINTS")) {
      read_dynamic(L, f);
    } else if (starts_with(t, "PROJECTION BASIS SET")) {
      read_basis(L, f);
    } else if (starts_with(t, "MULTIPLICITY")) {
      auto v = numbers(t, 12);
      if (v.empty()) L.fail("MULTIPLICITY", "expected an integer");
      f.multiplicity = static_cast<int>(v[0]);
      ++L.pos;
      expect_stop(L, "MULTIPLICITY");
    } else if (starts_with(t, "PROJECTION WAVEFUNCTION")) {
      read_wavefunction(L, f);
    } else if (starts_with(t, "FOCK MATRIX ELEMENTS")) {
      read_fock(L, f);
    } else if (starts_with(t, "LMO CENTROIDS")) {
      read_centroids(L, f);
    } else if (starts_with(t, "CANONVEC")) {
      skip_canonvec(L);
    } else if (starts_with(t, "SCREEN2")) {
      read_points(L, f, "SCREEN2", 2, [](MultipolePoint& m, const std::vector<double>& v) {
        m.screen2 = v[1];
        m.has_screen2 = true;
      });
      f.has_screen2 = true;
    } else if (starts_with(t, "SCREEN3")) {
      skip_to_stop(L);  // not used by EFP2
    } else if (starts_with(t, "SCREEN")) {
      read_points(L, f, "SCREEN", 2, [](MultipolePoint& m, const std::vector<double>& v) {
        m.screen0 = v[1];
        m.has_screen0 = true;
      });
      f.has_screen0 = true;
    } else if (starts_with(t, "POLAB")) {
      auto v = numbers(t, 5);
      if (v.empty() || !(v[0] > 0)) L.fail("POLAB", "expected a positive damping parameter");
      f.pol_damp = v[0];
      ++L.pos;
      expect_stop(L, "POLAB");
    } else if (starts_with(t, "CANONFOK") || starts_with(t, "CTVEC") || starts_with(t, "CTFOK") ||
               starts_with(t, "XRFIT") || starts_with(t, "DIPOLE-QUADRUPOLE")) {
      skip_to_stop(L);  // charge-transfer / fitted data that EFP2 energies do not use
    } else {
      L.fail("$" + name, "unknown section '" + t + "'");
    }
  }
  // strtod accepts "nan"/"inf": refuse them here, naming the section, rather than propagate them into energies.
  auto finite = [&](bool ok, const char* section) {
    if (!ok) L.fail(section, "non-finite value in fragment '" + name + "'");
  };
  for (const auto& a : f.atoms) finite(a.r.allFinite() && std::isfinite(a.mass) && std::isfinite(a.znuc), "COORDINATES");
  for (const auto& m : f.multipoles) finite(m.r.allFinite(), "COORDINATES");
  for (const auto& p : f.polarizable) finite(p.r.allFinite() && p.alpha.allFinite(), "POLARIZABLE POINTS");
  for (const auto& p : f.dynamic_polarizable) {
    bool ok = p.r.allFinite();
    for (const auto& a : p.alpha) ok = ok && a.allFinite();
    finite(ok, "DYNAMIC POLARIZABLE POINTS");
  }
  for (const auto& sh : f.basis) {
    bool ok = sh.r.allFinite();
    for (double x : sh.exponents) ok = ok && std::isfinite(x) && x > 0;
    for (double x : sh.coef) ok = ok && std::isfinite(x);
    for (double x : sh.coef_p) ok = ok && std::isfinite(x);
    finite(ok, "PROJECTION BASIS SET");
  }
  finite(f.wavefunction.allFinite(), "PROJECTION WAVEFUNCTION");
  finite(f.fock.allFinite(), "FOCK MATRIX ELEMENTS");
  for (const auto& c : f.lmo_centroids) finite(c.allFinite(), "LMO CENTROIDS");
  if (f.n_lmo > 0 && static_cast<int>(f.lmo_centroids.size()) != f.n_lmo)
    L.fail("LMO CENTROIDS", "expected " + std::to_string(f.n_lmo) + " centroids");
  if (f.n_lmo > 0 && f.wavefunction.cols() != f.n_basis)
    L.fail("PROJECTION WAVEFUNCTION", "basis size " + std::to_string(f.wavefunction.cols()) +
                                          " differs from the projection basis (" + std::to_string(f.n_basis) + ")");
  return f;
}

// --- rotation of Cartesian tensors ----------------------------------------------------------------------------

constexpr int kQuadIdx[3][3] = {{0, 3, 4}, {3, 1, 5}, {4, 5, 2}};
constexpr int kOctIdx[3][3][3] = {{{0, 3, 4}, {3, 5, 9}, {4, 9, 7}},
                                  {{3, 5, 9}, {5, 1, 6}, {9, 6, 8}},
                                  {{4, 9, 7}, {9, 6, 8}, {7, 8, 2}}};

std::array<double, 6> rotate_quadrupole(const Eigen::Matrix3d& R, const std::array<double, 6>& q) {
  Eigen::Matrix3d Q;
  for (int a = 0; a < 3; ++a)
    for (int b = 0; b < 3; ++b) Q(a, b) = q[kQuadIdx[a][b]];
  Eigen::Matrix3d P = R * Q * R.transpose();
  std::array<double, 6> out{};
  for (int a = 0; a < 3; ++a)
    for (int b = a; b < 3; ++b) out[kQuadIdx[a][b]] = P(a, b);
  return out;
}

std::array<double, 10> rotate_octupole(const Eigen::Matrix3d& R, const std::array<double, 10>& o) {
  double full[3][3][3];
  for (int a = 0; a < 3; ++a)
    for (int b = 0; b < 3; ++b)
      for (int c = 0; c < 3; ++c) full[a][b][c] = o[kOctIdx[a][b][c]];
  std::array<double, 10> out{};
  for (int a = 0; a < 3; ++a)
    for (int b = a; b < 3; ++b)
      for (int c = b; c < 3; ++c) {
        double s = 0;
        for (int i = 0; i < 3; ++i)
          for (int j = 0; j < 3; ++j)
            for (int k = 0; k < 3; ++k) s += R(a, i) * R(b, j) * R(c, k) * full[i][j][k];
        out[kOctIdx[a][b][c]] = s;
      }
  return out;
}

}  // namespace

Eigen::Vector3d FragmentType::center_of_mass() const {
  Eigen::Vector3d c = Eigen::Vector3d::Zero();
  double m = 0;
  for (const auto& a : atoms) {
    c += a.mass * a.r;
    m += a.mass;
  }
  return m > 0 ? Eigen::Vector3d(c / m) : c;
}

std::vector<FragmentType> read_fragment_file(const std::string& path) {
  Lines L = load_lines(path);
  std::vector<FragmentType> out;
  while (!L.eof()) {
    std::string t = L.cur_trim();
    if (!t.empty() && t[0] == '$' && !starts_with(t, "$END")) {
      std::istringstream is(t.substr(1));
      std::string name;
      is >> name;
      if (name.empty()) L.fail("", "missing fragment name after '$'");
      name = lower(name);
      for (const auto& f : out)
        if (f.name == name) L.fail("$" + name, "fragment defined twice");
      out.push_back(read_block(L, name));
      continue;
    }
    ++L.pos;
  }
  if (out.empty()) throw ParseError(path, 0, "", "no $NAME fragment block found");
  return out;
}

Eigen::Matrix3d euler_to_matrix(double a, double b, double c) {
  // z–x–z Euler angles: R = Rz(a) · Rx(b) · Rz(c) (libefp/efpmd convention).
  const double sa = std::sin(a), ca = std::cos(a), sb = std::sin(b), cb = std::cos(b), sc = std::sin(c),
               cc = std::cos(c);
  Eigen::Matrix3d R;
  R << ca * cc - sa * cb * sc, -ca * sc - sa * cb * cc, sb * sa,  //
      sa * cc + ca * cb * sc, -sa * sc + ca * cb * cc, -sb * ca,  //
      sb * sc, sb * cc, cb;
  return R;
}

Fragment place(const FragmentType& type, const Eigen::Vector3d& com, const Eigen::Matrix3d& R) {
  if (!com.allFinite() || !R.allFinite())
    throw InvalidArgument("fragment '" + type.name + "': non-finite position or orientation");
  if ((R.transpose() * R - Eigen::Matrix3d::Identity()).norm() > 1e-6 || R.determinant() < 0)
    throw InvalidArgument("fragment '" + type.name + "': orientation is not a proper rotation matrix");
  Fragment f;
  f.type = &type;
  f.com = com;
  f.R = R;
  // lab = com + R · body. MAKEFP writes fragments in their centre-of-mass frame, and libefp places the file origin
  // (not a recomputed centre of mass) at the given position; we do the same so energies agree.
  auto move = [&](const Eigen::Vector3d& p) -> Eigen::Vector3d { return com + R * p; };
  f.atoms = type.atoms;
  for (auto& a : f.atoms) a.r = move(a.r);
  f.multipoles = type.multipoles;
  for (auto& m : f.multipoles) {
    m.r = move(m.r);
    m.dipole = R * m.dipole;
    auto q = rotate_quadrupole(R, m.quadrupole);
    const double qtr = q[0] + q[1] + q[2];
    // Buckingham convention for the interaction formulas.
    for (int i = 0; i < 3; ++i) q[i] = 1.5 * q[i] - 0.5 * qtr;
    for (int i = 3; i < 6; ++i) q[i] = 1.5 * q[i];
    m.quadrupole = q;
    auto o = rotate_octupole(R, m.octupole);
    const double tx = o[0] + o[5] + o[7], ty = o[3] + o[1] + o[8], tz = o[4] + o[6] + o[2];
    o[0] = 2.5 * o[0] - 1.5 * tx;
    o[1] = 2.5 * o[1] - 1.5 * ty;
    o[2] = 2.5 * o[2] - 1.5 * tz;
    o[3] = 2.5 * o[3] - 0.5 * ty;  // xxy
    o[4] = 2.5 * o[4] - 0.5 * tz;  // xxz
    o[5] = 2.5 * o[5] - 0.5 * tx;  // xyy
    o[6] = 2.5 * o[6] - 0.5 * tz;  // yyz
    o[7] = 2.5 * o[7] - 0.5 * tx;  // xzz
    o[8] = 2.5 * o[8] - 0.5 * ty;  // yzz
    o[9] = 2.5 * o[9];             // xyz
    m.octupole = o;
  }
  f.polarizable = type.polarizable;
  for (auto& p : f.polarizable) {
    p.r = move(p.r);
    p.alpha = R * p.alpha * R.transpose();
  }
  f.dynamic_polarizable = type.dynamic_polarizable;
  for (auto& p : f.dynamic_polarizable) {
    p.r = move(p.r);
    for (auto& a : p.alpha) a = R * a * R.transpose();
  }
  f.basis = type.basis;
  for (auto& s : f.basis) s.r = move(s.r);
  f.lmo_centroids = type.lmo_centroids;
  for (auto& c : f.lmo_centroids) c = move(c);
  if (type.n_lmo > 0) f.wavefunction = rotate_wavefunction(type, R);
  return f;
}

Fragment place_by_points(const FragmentType& type, const std::vector<Eigen::Vector3d>& points) {
  if (points.size() < 3 || type.multipoles.size() < 3)
    throw InvalidArgument("fragment '" + type.name + "': placement by points needs three points");
  // Orthonormal frame from three points (p1→p2 axis, p1→p3 orthogonalised, their cross product).
  auto frame = [](const Eigen::Vector3d& p1, const Eigen::Vector3d& p2, const Eigen::Vector3d& p3) {
    Eigen::Vector3d e1 = (p2 - p1).normalized();
    Eigen::Vector3d e2 = (p3 - p1);
    e2 -= e1.dot(e2) * e1;
    if (e2.norm() < 1e-8) throw InvalidArgument("placement points are collinear");
    e2.normalize();
    Eigen::Matrix3d F;
    F.col(0) = e1;
    F.col(1) = e2;
    F.col(2) = e1.cross(e2);
    return F;
  };
  // libefp matches the first three COORDINATES entries (atoms come first in MAKEFP files).
  const auto& ref = type.multipoles;
  Eigen::Matrix3d Rlab = frame(points[0], points[1], points[2]);
  Eigen::Matrix3d Rref = frame(ref[0].r, ref[1].r, ref[2].r);
  Eigen::Matrix3d R = Rlab * Rref.transpose();
  Eigen::Vector3d com = points[0] - R * ref[0].r;
  return place(type, com, R);
}

}  // namespace tsunagu::fragmd
