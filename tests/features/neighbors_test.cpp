#include "tsunagu/features/neighbors.hpp"

#include <cmath>
#include <limits>
#include <map>
#include <tuple>

#include <gtest/gtest.h>

#include "test_structures.hpp"
#include "tsunagu/core/error.hpp"

using namespace tsunagu;
using namespace tsunagu::features;
using namespace tsunagu::features::test;

namespace {

// The cell lists and the brute force compute every pair vector with the same function, so they must agree
// bitwise: same rows, same order, same numbers.
void expect_identical(const NeighborList& a, const NeighborList& b) {
  ASSERT_EQ(a.start, b.start);
  ASSERT_EQ(a.index, b.index);
  ASSERT_EQ(a.image, b.image);
  ASSERT_EQ(a.distance, b.distance);
  ASSERT_EQ(a.vector.rows(), b.vector.rows());
  EXPECT_TRUE(a.vector == b.vector);
  EXPECT_EQ(a.cutoff, b.cutoff);
}

// Invariants of any neighbour list: sorted rows, distances within the cutoff that match the vectors, and the
// reverse pair (j, i, -T) of every pair.
void expect_well_formed(const structure::Crystal& c, const NeighborList& nl) {
  ASSERT_EQ(nl.n_sites(), c.n_sites());
  std::map<std::tuple<std::size_t, std::size_t, int, int, int>, double> pairs;
  for (std::size_t i = 0; i < nl.n_sites(); ++i)
    for (std::size_t p = nl.start[i]; p < nl.start[i + 1]; ++p) {
      EXPECT_GT(nl.distance[p], 0.0);
      EXPECT_LE(nl.distance[p], nl.cutoff);
      EXPECT_NEAR(nl.vector.row(static_cast<Eigen::Index>(p)).norm(), nl.distance[p], 1e-12);
      if (p > nl.start[i]) {
        EXPECT_LE(nl.distance[p - 1], nl.distance[p]);
      }
      const auto& t = nl.image[p];
      pairs[{i, nl.index[p], t[0], t[1], t[2]}] = nl.distance[p];
    }
  for (const auto& [key, d] : pairs) {
    const auto& [i, j, t0, t1, t2] = key;
    const auto it = pairs.find({j, i, -t0, -t1, -t2});
    ASSERT_NE(it, pairs.end()) << "no reverse of (" << i << ", " << j << ")";
    EXPECT_NEAR(it->second, d, 1e-12);
  }
}

}  // namespace

TEST(CellLists, match_brute_force_on_cubic_rock_salt) {
  const structure::Crystal c = rock_salt();
  for (double rc : {2.0, 2.9, 4.0, 6.5, 11.3}) {
    const NeighborList nl = neighbor_list(c, rc);
    expect_identical(nl, neighbor_list_reference(c, rc));
    expect_well_formed(c, nl);
  }
}

TEST(CellLists, match_brute_force_on_triclinic_and_very_skewed_cells) {
  const Eigen::Matrix3d triclinic = structure::lattice_from_parameters(5.1, 6.3, 7.2, 71.0, 98.0, 112.0);
  Eigen::Matrix3d skewed;  // b and c lean almost onto a: perpendicular widths far below the vector lengths
  skewed << 6.0, 0.0, 0.0,  //
      5.4, 2.1, 0.0,        //
      -5.1, 1.7, 2.6;
  Eigen::Matrix3d needle;  // a needle-like cell: 1.9 A thick in two directions
  needle << 1.9, 0.0, 0.0, 0.0, 2.2, 0.0, 0.0, 0.0, 24.0;
  for (const Eigen::Matrix3d& L : {triclinic, skewed, needle}) {
    const structure::Crystal c = random_crystal(L, 14, {8, 26, 3}, 7, 0.9);
    ASSERT_GE(c.n_sites(), 5u);
    for (double rc : {1.5, 3.7, 6.0, 9.5}) {
      SCOPED_TRACE("cutoff " + std::to_string(rc));
      const NeighborList nl = neighbor_list(c, rc);
      expect_identical(nl, neighbor_list_reference(c, rc));
      expect_well_formed(c, nl);
    }
  }
}

TEST(CellLists, cell_smaller_than_cutoff_lists_self_images_simple_cubic_18_within_3A) {
  // Simple cubic, a = 2 A, one atom: 6 neighbours at 2 A and 12 at 2 sqrt(2) = 2.83 A within 3 A; the next shell
  // (8 at 2 sqrt(3) = 3.46 A) is outside. Every neighbour is the atom itself in another cell.
  const structure::Crystal c = make_crystal(2.0 * Eigen::Matrix3d::Identity(), {{0.1, 0.2, 0.3}}, {29});
  const NeighborList nl = neighbor_list(c, 3.0);
  ASSERT_EQ(nl.count(0), 18u);
  for (std::size_t p = 0; p < 6; ++p) EXPECT_NEAR(nl.distance[p], 2.0, 1e-12);
  for (std::size_t p = 6; p < 18; ++p) EXPECT_NEAR(nl.distance[p], 2.0 * std::sqrt(2.0), 1e-12);
  for (std::size_t p = 0; p < 18; ++p) EXPECT_EQ(nl.index[p], 0u);
  expect_identical(nl, neighbor_list_reference(c, 3.0));
  // Many image shells: 1.3 A cell, 7.7 A cutoff.
  const structure::Crystal tiny = random_crystal(structure::lattice_from_parameters(1.3, 1.6, 1.4, 80, 95, 105), 2,
                                                 {1}, 3, 0.5);
  expect_identical(neighbor_list(tiny, 7.7), neighbor_list_reference(tiny, 7.7));
  expect_well_formed(tiny, neighbor_list(tiny, 7.7));
}

TEST(CellLists, rock_salt_first_shell_is_six_opposite_ions_at_half_the_lattice_constant) {
  const structure::Crystal c = rock_salt();
  const NeighborList nl = neighbor_list(c, 3.0);
  for (std::size_t i = 0; i < c.n_sites(); ++i) {
    ASSERT_EQ(nl.count(i), 6u);
    for (std::size_t p = nl.start[i]; p < nl.start[i + 1]; ++p) {
      EXPECT_NEAR(nl.distance[p], 2.82, 1e-12);
      EXPECT_NE(c.numbers[nl.index[p]], c.numbers[i]);
    }
  }
  // Next shell: 12 like ions at a / sqrt(2) = 3.988 A.
  const NeighborList nl2 = neighbor_list(c, 4.2);
  for (std::size_t i = 0; i < c.n_sites(); ++i) EXPECT_EQ(nl2.count(i), 18u);
}

TEST(CellLists, images_refer_to_the_coordinates_as_given_even_outside_the_unit_cell) {
  structure::Crystal c = rock_salt();
  c.frac(0, 0) += 2.0;  // same crystal, site 0 written two cells further along a
  c.frac(5, 1) -= 1.0;
  const NeighborList nl = neighbor_list(c, 3.0);
  expect_identical(nl, neighbor_list_reference(c, 3.0));
  for (std::size_t i = 0; i < c.n_sites(); ++i)
    for (std::size_t p = nl.start[i]; p < nl.start[i + 1]; ++p) {
      const std::size_t j = nl.index[p];
      const Eigen::RowVector3d t(nl.image[p][0], nl.image[p][1], nl.image[p][2]);
      const Eigen::RowVector3d v = (c.frac.row(static_cast<Eigen::Index>(j)) + t -
                                    c.frac.row(static_cast<Eigen::Index>(i))) * c.lattice;
      EXPECT_LT((v - nl.vector.row(static_cast<Eigen::Index>(p))).norm(), 1e-12);
    }
}

TEST(CellLists, molecule_gets_plain_pairs_without_images) {
  const structure::Crystal h2o = make_molecule({{0, 0, 0.1173}, {0, 0.7572, -0.4692}, {0, -0.7572, -0.4692}},
                                               {8, 1, 1});
  const NeighborList nl = neighbor_list(h2o, 10.0);
  expect_identical(nl, neighbor_list_reference(h2o, 10.0));
  EXPECT_EQ(nl.n_pairs(), 6u);  // n (n - 1): no images even though the bounding box is small against 10 A
  for (const auto& t : nl.image) EXPECT_EQ(t, (std::array<int, 3>{0, 0, 0}));
  // O-H = sqrt(0.7572^2 + 0.5865^2) = 0.9578 A; H-H = 1.5144 A.
  EXPECT_NEAR(nl.distance[0], 0.957775, 1e-6);
  EXPECT_NEAR(nl.distance[nl.start[1] + 1], 1.5144, 1e-12);
  const NeighborList short_list = neighbor_list(h2o, 1.0);
  EXPECT_EQ(short_list.count(0), 2u);
  EXPECT_EQ(short_list.count(1), 1u);
}

TEST(CellLists, binned_molecule_matches_brute_force) {
  // 300 atoms over a 24 x 16 x 9 A slab: the molecule path bins too (27 neighbouring bins, no images).
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<std::array<double, 3>> xyz;
  std::vector<int> z;
  for (int i = 0; i < 300; ++i) {
    xyz.push_back({24 * u(rng) - 3, 16 * u(rng), 9 * u(rng) + 100});
    z.push_back(1 + i % 9);
  }
  const structure::Crystal m = make_molecule(xyz, z);
  for (double rc : {0.7, 2.5, 6.0, 40.0}) {
    SCOPED_TRACE("cutoff " + std::to_string(rc));
    const NeighborList nl = neighbor_list(m, rc);
    expect_identical(nl, neighbor_list_reference(m, rc));
    expect_well_formed(m, nl);
  }
  EXPECT_EQ(neighbor_list(m, 40.0).n_pairs(), 300u * 299u);
}

TEST(CellLists, threads_do_not_change_the_list) {
  const structure::Crystal big = supercell(rock_salt(), 4, 4, 3);  // 384 sites: the threaded path
  const NeighborList one = neighbor_list(big, 5.0, 1);
  expect_identical(one, neighbor_list(big, 5.0, 2));
  expect_identical(one, neighbor_list(big, 5.0, 3));
  EXPECT_EQ(one.count(0), 26u);  // 6 Cl at a/2, 12 Na at a/sqrt(2), 8 Cl at a sqrt(3)/2 = 4.88 A
}

TEST(CellLists, bad_cutoff_and_coordinates_are_refused) {
  const structure::Crystal c = rock_salt();
  for (double rc : {0.0, -1.0, std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity()}) {
    EXPECT_THROW(neighbor_list(c, rc), InvalidArgument);
    EXPECT_THROW(neighbor_list_reference(c, rc), InvalidArgument);
  }
  structure::Crystal bad = c;
  bad.frac(3, 1) = std::numeric_limits<double>::quiet_NaN();
  try {
    neighbor_list(bad, 3.0);
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("nacl"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("site 4: non-finite coordinate"), std::string::npos) << e.what();
  }
  structure::Crystal flat = c;
  flat.lattice.row(2) = flat.lattice.row(0);
  EXPECT_THROW(neighbor_list(flat, 3.0), InvalidArgument);
  // A cutoff that would list billions of pairs is a unit mistake, not a job.
  EXPECT_THROW(neighbor_list(c, 2000.0), InvalidArgument);
}

TEST(CellLists, empty_structure_gives_an_empty_list) {
  structure::Crystal c = rock_salt();
  c.frac.resize(0, 3);
  c.numbers.clear();
  c.labels.clear();
  const NeighborList nl = neighbor_list(c, 3.0);
  EXPECT_EQ(nl.n_sites(), 0u);
  EXPECT_EQ(nl.n_pairs(), 0u);
  EXPECT_EQ(nl.start, std::vector<std::size_t>{0});
}
