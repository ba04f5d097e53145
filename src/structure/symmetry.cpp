#include "tsunagu/structure/symmetry.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <memory>

#include <Eigen/LU>
#include <Eigen/SVD>

#include <spglib.h>

#include "tsunagu/core/error.hpp"

namespace tsunagu::structure {
namespace {

std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

std::string where(const Crystal& c) { return c.source.empty() ? std::string("crystal") : c.source; }

// spglib's C API wants lattice vectors as *columns* (lattice[i][j] = component i of vector j); ours are rows.
struct SpgCell {
  double lattice[3][3];
  std::vector<double> positions;  // n * 3
  std::vector<int> types;
  int n = 0;
  double (*pos())[3] { return reinterpret_cast<double(*)[3]>(positions.data()); }
};

SpgCell to_spglib(const Crystal& c, const char* what) {
  c.validate(0);  // shapes and numbers; overlaps are spglib's to report (with symprec)
  if (!c.periodic)
    throw InvalidArgument(where(c) + ": " + what + ": the structure is a molecule (no lattice); symmetry analysis "
                          "needs a periodic crystal");
  for (std::size_t i = 0; i < c.n_sites(); ++i)
    if (c.occupancy(i) < 1 - 1e-6)
      throw InvalidArgument(where(c) + ": " + what + ": site " + std::to_string(i + 1) + " '" + c.labels[i] +
                            "' is partially occupied (" + fmt(c.occupancy(i)) +
                            "); spglib needs an ordered structure");
  if (c.n_sites() == 0) throw InvalidArgument(where(c) + ": " + what + ": no atoms");
  SpgCell s;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) s.lattice[i][j] = c.lattice(j, i);
  s.n = static_cast<int>(c.n_sites());
  s.positions.resize(3 * c.n_sites());
  for (std::size_t i = 0; i < c.n_sites(); ++i)
    for (int k = 0; k < 3; ++k) s.positions[3 * i + k] = c.frac(static_cast<Eigen::Index>(i), k);
  s.types = c.numbers;
  return s;
}

[[noreturn]] void spglib_failed(const Crystal& c, const char* what) {
  const SpglibError code = spg_get_error_code();
  const char* msg = spg_get_error_message(code);
  throw NumericalError(where(c) + ": " + what + ": spglib failed: " + (msg ? msg : "unknown error"));
}

Eigen::Matrix3d from_columns(const double m[3][3]) {  // spglib column-vector lattice -> our rows
  Eigen::Matrix3d L;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) L(j, i) = m[i][j];
  return L;
}

Eigen::Matrix3d matrix(const double m[3][3]) {
  Eigen::Matrix3d M;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) M(i, j) = m[i][j];
  return M;
}

std::vector<SymOp> operations(int n, const int (*rot)[3][3], const double (*trans)[3]) {
  std::vector<SymOp> ops(static_cast<std::size_t>(n));
  for (int k = 0; k < n; ++k) {
    for (int i = 0; i < 3; ++i) {
      for (int j = 0; j < 3; ++j) ops[k].rotation(i, j) = rot[k][i][j];
      ops[k].translation(i) = trans[k][i];
    }
  }
  return ops;
}

Crystal make_cell(const Eigen::Matrix3d& lattice, int n, const double (*pos)[3], const int* types,
                  const std::string& source) {
  Crystal out;
  out.lattice = lattice;
  out.frac.resize(n, 3);
  std::vector<int> seen(119, 0);
  for (int i = 0; i < n; ++i) {
    for (int k = 0; k < 3; ++k) out.frac(i, k) = pos[i][k];
    out.numbers.push_back(types[i]);
    out.labels.push_back(element_symbol(types[i]) + std::to_string(++seen[static_cast<std::size_t>(types[i])]));
  }
  out.frac = wrap_fractional(out.frac);
  out.source = source;
  return out;
}

std::string trimmed(const char* s) {
  std::string t(s);
  while (!t.empty() && t.back() == ' ') t.pop_back();
  return t;
}

// H-M and Hall symbols compare without spaces and '_' and case ("P 42/m n m" == "P4_2/mnm").
std::string squash(std::string_view s, bool keep_spaces = false) {
  std::string out;
  for (char c : s) {
    if (c == '_' && !keep_spaces) continue;
    if (std::isspace(static_cast<unsigned char>(c))) {
      if (keep_spaces && !out.empty() && out.back() != ' ') out += ' ';
      continue;
    }
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

}  // namespace

std::vector<std::vector<std::size_t>> SymmetryDataset::orbits() const {
  std::vector<std::vector<std::size_t>> out;
  std::vector<int> reps;
  for (std::size_t i = 0; i < equivalent_atoms.size(); ++i) {
    const auto it = std::find(reps.begin(), reps.end(), equivalent_atoms[i]);
    if (it == reps.end()) {
      reps.push_back(equivalent_atoms[i]);
      out.push_back({i});
    } else {
      out[static_cast<std::size_t>(it - reps.begin())].push_back(i);
    }
  }
  return out;
}

SymmetryDataset analyze(const Crystal& crystal, double symprec, double angle_tolerance) {
  if (!(std::isfinite(symprec) && symprec > 0))
    throw InvalidArgument("symmetry: symprec must be finite and > 0 A (got " + fmt(symprec) + ")");
  if (!std::isfinite(angle_tolerance) || (angle_tolerance <= 0 && angle_tolerance != -1))
    throw InvalidArgument("symmetry: angle_tolerance must be > 0 degrees or -1 (got " + fmt(angle_tolerance) + ")");
  SpgCell s = to_spglib(crystal, "symmetry");
  std::unique_ptr<SpglibDataset, void (*)(SpglibDataset*)> ds(
      spgat_get_dataset(s.lattice, s.pos(), s.types.data(), s.n, symprec, angle_tolerance), spg_free_dataset);
  if (!ds || ds->spacegroup_number == 0) spglib_failed(crystal, "symmetry");

  SymmetryDataset out;
  out.number = ds->spacegroup_number;
  out.hall_number = ds->hall_number;
  out.international = trimmed(ds->international_symbol);
  out.hall_symbol = trimmed(ds->hall_symbol);
  out.choice = trimmed(ds->choice);
  out.point_group = trimmed(ds->pointgroup_symbol);
  out.operations = operations(ds->n_operations, ds->rotations, ds->translations);
  for (int i = 0; i < ds->n_atoms; ++i) {
    out.wyckoffs.push_back(static_cast<char>('a' + ds->wyckoffs[i]));
    out.site_symmetry_symbols.push_back(trimmed(ds->site_symmetry_symbols[i]));
    out.equivalent_atoms.push_back(ds->equivalent_atoms[i]);
  }
  out.transformation_matrix = matrix(ds->transformation_matrix);
  out.origin_shift = Eigen::Vector3d(ds->origin_shift[0], ds->origin_shift[1], ds->origin_shift[2]);
  out.standardized =
      make_cell(from_columns(ds->std_lattice), ds->n_std_atoms, ds->std_positions, ds->std_types, crystal.source);

  // The primitive standardised cell: spg_standardize_cell overwrites its arguments (n atoms suffice: a primitive
  // cell never has more atoms than the input).
  SpgCell p = s;
  const int np = spgat_standardize_cell(p.lattice, p.pos(), p.types.data(), p.n, 1, 0, symprec, angle_tolerance);
  if (np <= 0) spglib_failed(crystal, "symmetry (primitive cell)");
  out.primitive = make_cell(from_columns(p.lattice), np, p.pos(), p.types.data(), crystal.source);
  out.symprec = symprec;
  out.angle_tolerance = angle_tolerance;
  return out;
}

Eigen::Matrix3d cartesian_rotation(const Eigen::Matrix3i& rotation, const Eigen::Matrix3d& lattice) {
  // r = L^T x  =>  r' = L^T R x = L^T R L^{-T} r.
  return lattice.transpose() * rotation.cast<double>() * lattice.transpose().inverse();
}

MagneticSymmetry analyze_magnetic(const Crystal& crystal, const Eigen::MatrixXd& moments, double symprec,
                                  double mag_symprec) {
  if (!(std::isfinite(symprec) && symprec > 0))
    throw InvalidArgument("magnetic symmetry: symprec must be finite and > 0 A (got " + fmt(symprec) + ")");
  if (!std::isfinite(mag_symprec) || (mag_symprec <= 0 && mag_symprec != -1))
    throw InvalidArgument("magnetic symmetry: mag_symprec must be > 0 muB or -1 (got " + fmt(mag_symprec) + ")");
  if (moments.cols() != 3 || static_cast<std::size_t>(moments.rows()) != crystal.n_sites())
    throw InvalidArgument(where(crystal) + ": magnetic symmetry: moments have shape (" +
                          std::to_string(moments.rows()) + ", " + std::to_string(moments.cols()) + "), expected (" +
                          std::to_string(crystal.n_sites()) + ", 3)");
  if (!moments.allFinite())
    throw InvalidArgument(where(crystal) + ": magnetic symmetry: moments have non-finite entries");
  SpgCell s = to_spglib(crystal, "magnetic symmetry");
  // Rank-1 site tensors are Cartesian vectors (spglib transforms them with the Cartesian rotations); is_axial = 1
  // because a magnetic moment is an axial vector (unchanged by inversion, flipped by time reversal).
  std::vector<double> tensors(3 * crystal.n_sites());
  for (std::size_t i = 0; i < crystal.n_sites(); ++i)
    for (int k = 0; k < 3; ++k) tensors[3 * i + k] = moments(static_cast<Eigen::Index>(i), k);
  std::unique_ptr<SpglibMagneticDataset, void (*)(SpglibMagneticDataset*)> ds(
      spgms_get_magnetic_dataset(s.lattice, s.pos(), s.types.data(), tensors.data(), 1, s.n, 1, symprec, -1,
                                 mag_symprec),
      spg_free_magnetic_dataset);
  if (!ds || ds->uni_number == 0) spglib_failed(crystal, "magnetic symmetry");

  MagneticSymmetry out;
  out.uni_number = ds->uni_number;
  out.type = ds->msg_type;
  out.hall_number = ds->hall_number;
  const SpglibMagneticSpacegroupType t = spg_get_magnetic_spacegroup_type(ds->uni_number);
  out.bns_number = trimmed(t.bns_number);
  out.og_number = trimmed(t.og_number);
  out.litvin_number = t.litvin_number;
  out.family_number = t.number;
  out.operations = operations(ds->n_operations, ds->rotations, ds->translations);
  out.time_reversals.assign(ds->time_reversals, ds->time_reversals + ds->n_operations);
  out.equivalent_atoms.assign(ds->equivalent_atoms, ds->equivalent_atoms + ds->n_atoms);
  out.transformation_matrix = matrix(ds->transformation_matrix);
  out.origin_shift = Eigen::Vector3d(ds->origin_shift[0], ds->origin_shift[1], ds->origin_shift[2]);

  // Net moment allowed <=> a common fixed vector of all maps m -> (-1)^θ det(R) R_cart m: the null space of the
  // stacked (M_k - I). The smallest non-zero singular value of such a stack is >= |exp(iπ/3) - 1| = 1 for exact
  // operations, so a threshold of 1e-2 separates "fixed" from "not fixed" even for a cell distorted by symprec.
  Eigen::MatrixXd stack(3 * out.operations.size(), 3);
  for (std::size_t k = 0; k < out.operations.size(); ++k) {
    const Eigen::Matrix3d R = cartesian_rotation(out.operations[k].rotation, crystal.lattice);
    const double sign = (out.time_reversals[k] ? -1.0 : 1.0) * (R.determinant() < 0 ? -1.0 : 1.0);
    stack.block(static_cast<Eigen::Index>(3 * k), 0, 3, 3) = sign * R - Eigen::Matrix3d::Identity();
  }
  Eigen::JacobiSVD<Eigen::MatrixXd> svd(stack, Eigen::ComputeFullV);
  const Eigen::VectorXd sv = svd.singularValues();
  int k0 = 0;
  while (k0 < sv.size() && sv(k0) > 1e-2) ++k0;
  out.ferromagnetic_basis = svd.matrixV().rightCols(3 - k0);
  out.admits_ferromagnetism = out.ferromagnetic_basis.cols() > 0;
  out.symprec = symprec;
  out.mag_symprec = mag_symprec;
  return out;
}

std::vector<SymOp> space_group_operations(int hall_number) {
  if (hall_number < 1 || hall_number > 530)
    throw InvalidArgument("space group: Hall number " + std::to_string(hall_number) + " is outside 1..530");
  int rot[192][3][3];
  double trans[192][3];
  const int n = spg_get_symmetry_from_database(rot, trans, hall_number);
  if (n <= 0) throw InvalidArgument("space group: no operations for Hall number " + std::to_string(hall_number));
  return operations(n, rot, trans);
}

int hall_number_from_it_number(int number) {
  if (number < 1 || number > 230) return 0;
  for (int h = 1; h <= 530; ++h)
    if (spg_get_spacegroup_type(h).number == number) return h;
  return 0;
}

int hall_number_from_symbol(std::string_view symbol, std::string_view prefer_choice) {
  std::string want = squash(symbol);
  std::string choice;
  if (const auto colon = want.find(':'); colon != std::string::npos) {
    choice = want.substr(colon + 1);
    want.resize(colon);
  }
  if (want.empty()) return 0;
  const std::string prefer = choice.empty() ? squash(prefer_choice) : choice;
  int first = 0;
  for (int h = 1; h <= 530; ++h) {
    const SpglibSpacegroupType t = spg_get_spacegroup_type(h);
    if (squash(t.international_short) != want && squash(t.international_full) != want) continue;
    if (prefer.empty() || squash(t.choice) == prefer) return h;
    if (!first) first = h;
  }
  return choice.empty() ? first : 0;  // an explicit ":2" that does not exist matches nothing
}

int hall_number_from_hall_symbol(std::string_view hall_symbol) {
  const std::string want = squash(hall_symbol, true);
  if (want.empty()) return 0;
  for (int h = 1; h <= 530; ++h)
    if (squash(spg_get_spacegroup_type(h).hall_symbol, true) == want) return h;
  return 0;
}

std::string spglib_version() {
  return std::to_string(spg_get_major_version()) + "." + std::to_string(spg_get_minor_version()) + "." +
         std::to_string(spg_get_micro_version());
}

}  // namespace tsunagu::structure
