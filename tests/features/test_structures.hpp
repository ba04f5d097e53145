#pragma once
// Small structures shared by the features tests, each with the source of its numbers.
#include <cmath>
#include <numbers>
#include <random>
#include <string>
#include <vector>

#include <Eigen/Core>
#include <Eigen/Geometry>
#include <Eigen/LU>

#include "tsunagu/structure/crystal.hpp"

namespace tsunagu::features::test {

inline structure::Crystal make_crystal(const Eigen::Matrix3d& lattice, const std::vector<std::array<double, 3>>& frac,
                                       const std::vector<int>& numbers, const std::string& source = "test") {
  structure::Crystal c;
  c.source = source;
  c.lattice = lattice;
  c.frac.resize(static_cast<Eigen::Index>(frac.size()), 3);
  for (std::size_t i = 0; i < frac.size(); ++i)
    for (int k = 0; k < 3; ++k) c.frac(static_cast<Eigen::Index>(i), k) = frac[i][static_cast<std::size_t>(k)];
  c.numbers = numbers;
  c.labels.resize(numbers.size());
  for (std::size_t i = 0; i < numbers.size(); ++i) c.labels[i] = structure::element_symbol(numbers[i]);
  return c;
}

/// Molecule from Cartesian coordinates (Å) the way the XYZ reader builds one: a bounding box 10 Å larger than the
/// atoms, frac = cartesian * lattice^-1, periodic = false.
inline structure::Crystal make_molecule(const std::vector<std::array<double, 3>>& xyz, const std::vector<int>& numbers,
                                        const std::string& source = "molecule") {
  Eigen::Vector3d lo = Eigen::Vector3d::Constant(1e300), hi = -lo;
  for (const auto& p : xyz)
    for (int k = 0; k < 3; ++k) {
      lo(k) = std::min(lo(k), p[static_cast<std::size_t>(k)]);
      hi(k) = std::max(hi(k), p[static_cast<std::size_t>(k)]);
    }
  const Eigen::Matrix3d lattice = Eigen::Vector3d((hi - lo).array() + 10.0).asDiagonal();
  structure::Crystal c = make_crystal(lattice, {}, {}, source);
  c.frac.resize(static_cast<Eigen::Index>(xyz.size()), 3);
  for (std::size_t i = 0; i < xyz.size(); ++i)
    c.frac.row(static_cast<Eigen::Index>(i)) =
        Eigen::RowVector3d(xyz[i][0], xyz[i][1], xyz[i][2]) * lattice.inverse();
  c.numbers = numbers;
  c.labels.assign(numbers.size(), "");
  c.periodic = false;
  return c;
}

/// Rock salt NaCl, conventional cell: Na at 4a, Cl at 4b (International Tables), a = 5.64 Å.
inline structure::Crystal rock_salt(double a = 5.64) {
  return make_crystal(a * Eigen::Matrix3d::Identity(),
                      {{0, 0, 0}, {0, .5, .5}, {.5, 0, .5}, {.5, .5, 0}, {.5, .5, .5}, {.5, 0, 0}, {0, .5, 0},
                       {0, 0, .5}},
                      {11, 11, 11, 11, 17, 17, 17, 17}, "nacl");
}

/// fcc Cu, a = 3.615 Å: conventional cubic cell (4 atoms) and the primitive rhombohedral cell (1 atom).
inline structure::Crystal cu_conventional(double a = 3.615) {
  return make_crystal(a * Eigen::Matrix3d::Identity(), {{0, 0, 0}, {0, .5, .5}, {.5, 0, .5}, {.5, .5, 0}},
                      {29, 29, 29, 29}, "cu_conv");
}
inline structure::Crystal cu_primitive(double a = 3.615) {
  Eigen::Matrix3d L;
  L << 0, a / 2, a / 2, a / 2, 0, a / 2, a / 2, a / 2, 0;
  return make_crystal(L, {{0, 0, 0}}, {29}, "cu_prim");
}

/// n1 x n2 x n3 supercell (sites ordered cell by cell).
inline structure::Crystal supercell(const structure::Crystal& c, int n1, int n2, int n3) {
  structure::Crystal s = c;
  s.lattice.row(0) *= n1;
  s.lattice.row(1) *= n2;
  s.lattice.row(2) *= n3;
  const auto n = static_cast<Eigen::Index>(c.n_sites());
  s.frac.resize(n * n1 * n2 * n3, 3);
  s.numbers.clear();
  s.labels.clear();
  Eigen::Index row = 0;
  for (int x = 0; x < n1; ++x)
    for (int y = 0; y < n2; ++y)
      for (int z = 0; z < n3; ++z)
        for (Eigen::Index i = 0; i < n; ++i) {
          s.frac(row, 0) = (c.frac(i, 0) + x) / n1;
          s.frac(row, 1) = (c.frac(i, 1) + y) / n2;
          s.frac(row, 2) = (c.frac(i, 2) + z) / n3;
          s.numbers.push_back(c.numbers[static_cast<std::size_t>(i)]);
          s.labels.push_back(c.labels[static_cast<std::size_t>(i)]);
          ++row;
        }
  return s;
}

/// Rigid rotation of the whole structure (lattice rows rotated, fractional coordinates unchanged; for a molecule
/// the Cartesian positions rotate with the bounding box).
inline structure::Crystal rotated(const structure::Crystal& c, const Eigen::Matrix3d& R) {
  structure::Crystal r = c;
  r.lattice = c.lattice * R.transpose();
  return r;
}

inline Eigen::Matrix3d some_rotation() {
  return (Eigen::AngleAxisd(0.7, Eigen::Vector3d(1, 2, 3).normalized()) *
          Eigen::AngleAxisd(-1.1, Eigen::Vector3d(0.3, -1, 0.5).normalized()))
      .toRotationMatrix();
}

/// Rigid translation by a Cartesian vector t (Å).
inline structure::Crystal translated(const structure::Crystal& c, const Eigen::RowVector3d& t) {
  structure::Crystal r = c;
  const Eigen::RowVector3d df = t * c.lattice.inverse();
  for (Eigen::Index i = 0; i < r.frac.rows(); ++i) r.frac.row(i) += df;
  return r;
}

/// Sites reordered by `order` (new site k = old site order[k]).
inline structure::Crystal permuted(const structure::Crystal& c, const std::vector<std::size_t>& order) {
  structure::Crystal p = c;
  for (std::size_t k = 0; k < order.size(); ++k) {
    p.frac.row(static_cast<Eigen::Index>(k)) = c.frac.row(static_cast<Eigen::Index>(order[k]));
    p.numbers[k] = c.numbers[order[k]];
    p.labels[k] = c.labels[order[k]];
  }
  return p;
}

/// Reverse order, a permutation that moves every site of an odd-length list but the middle one.
inline std::vector<std::size_t> reversed_order(std::size_t n) {
  std::vector<std::size_t> o(n);
  for (std::size_t k = 0; k < n; ++k) o[k] = n - 1 - k;
  return o;
}

/// Random sites in a given cell, at least `min_distance` Å apart (periodic), fixed seed.
inline structure::Crystal random_crystal(const Eigen::Matrix3d& lattice, int n, const std::vector<int>& pool,
                                         unsigned seed, double min_distance = 1.0) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(-0.5, 1.5);  // also outside [0, 1): images are relative to the input
  structure::Crystal c = make_crystal(lattice, {}, {}, "random");
  c.frac.resize(0, 3);
  int attempts = 0;
  while (static_cast<int>(c.n_sites()) < n && attempts++ < 100000) {
    structure::Crystal t = c;
    t.frac.conservativeResize(t.frac.rows() + 1, 3);
    t.frac.row(t.frac.rows() - 1) = Eigen::RowVector3d(u(rng), u(rng), u(rng));
    t.numbers.push_back(pool[c.n_sites() % pool.size()]);
    t.labels.push_back("");
    bool ok = true;
    for (std::size_t j = 0; j + 1 < t.n_sites() && ok; ++j) ok = t.distance(j, t.n_sites() - 1) >= min_distance;
    if (ok) c = t;
  }
  return c;
}

}  // namespace tsunagu::features::test
