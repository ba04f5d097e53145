// Cluster-multipole basis. Truths:
//   * Mn3AN antiperovskite (Suzuki et al. PRB 95, 094406 (2017), Fig. 2 and Table I; Gurung et al. PRM 3,
//     044409 (2019)): 9 = 2T1g + T2g, M1 -> T1g, M3 -> T1g + T2g; the T1g octupole along [111] has moments
//     ∝ (2,-1,-1), (-1,2,-1), (-1,-1,2) with BNS 166.101 (UNI 1331, type III, AHE allowed); the T2g state along
//     [111] ∝ (0,1,-1), (-1,0,1), (1,-1,0) with BNS 166.97 (UNI 1327, type I, AHE forbidden); the ferromagnet
//     along [001] BNS 123.345.
//   * A single atom at a site of full point-group symmetry carries the axial-vector representation: the
//     irreps of (Rx, Ry, Rz) in the published character tables.
//   * An atom at a general position carries 3 × the regular representation: every irrep (complex pairs
//     combined) appears 3·d times (3 times for a combined pair).
//   * spglib's magnetic space group of every basis vector, found from the moments alone, consists exactly of
//     the operations that keep the vector (unprimed) or reverse it (primed) — for 1-D irreps these are the
//     signs of the characters.
#include "tsunagu/magnetic/basis.hpp"

#include <cmath>
#include <map>

#include <Eigen/LU>

#include <gtest/gtest.h>

#include "tsunagu/core/error.hpp"
#include "tsunagu/magnetic/point_group.hpp"
#include "tsunagu/structure/cif.hpp"
#include "tsunagu/structure/symmetry.hpp"

namespace mg = tsunagu::magnetic;
namespace ts = tsunagu::structure;

namespace {

const std::string kData = std::string(TSUNAGU_SOURCE_DIR) + "/tests/structure/data/";

ts::Crystal mn3gan() { return ts::read_cif(kData + "Mn3GaN_Pm-3m_from_HM_name.cif"); }

mg::BasisOptions opts(const std::string& atoms) {
  mg::BasisOptions o;
  o.magnetic_atoms = {atoms};
  return o;
}

// Crystal of space-group type `number` (spglib's first setting) with atoms at the given fractional positions of
// the asymmetric unit, cell parameters fitting the crystal system.
ts::Crystal crystal_for(int number, const std::vector<std::pair<std::string, Eigen::Vector3d>>& atoms) {
  double a = 7, b = 8, c = 9, al = 90, be = 90, ga = 90;
  if (number <= 2) al = 81, be = 86, ga = 97;
  else if (number <= 15) be = 103;
  else if (number <= 74) {}
  else if (number <= 142) b = a;
  else if (number <= 194) b = a, ga = 120;
  else b = c = a = 9;
  std::string cif = "data_t\n_symmetry_Int_Tables_number " + std::to_string(number) + "\n";
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "_cell_length_a %g\n_cell_length_b %g\n_cell_length_c %g\n_cell_angle_alpha %g\n"
                "_cell_angle_beta %g\n_cell_angle_gamma %g\nloop_\n_atom_site_label\n_atom_site_fract_x\n"
                "_atom_site_fract_y\n_atom_site_fract_z\n",
                a, b, c, al, be, ga);
  cif += buf;
  for (const auto& [label, x] : atoms) {
    std::snprintf(buf, sizeof buf, "%s %.6f %.6f %.6f\n", label.c_str(), x(0), x(1), x(2));
    cif += buf;
  }
  ts::CifOptions co;
  co.min_distance = 0.05;
  return ts::parse_cif(cif, "sg" + std::to_string(number) + ".cif", co);
}

Eigen::VectorXd flat(const Eigen::MatrixXd& m) {
  Eigen::VectorXd v(m.size());
  for (Eigen::Index i = 0; i < m.rows(); ++i) v.segment<3>(3 * i) = m.row(i).transpose();
  return v;
}

void expect_orthonormal_and_complete(const mg::MagneticBasis& b) {
  ASSERT_TRUE(b.complete);
  ASSERT_EQ(static_cast<int>(b.vectors.size()), b.dimension);
  for (std::size_t i = 0; i < b.vectors.size(); ++i)
    for (std::size_t j = i; j < b.vectors.size(); ++j)
      ASSERT_NEAR(flat(b.vectors[i].moments).dot(flat(b.vectors[j].moments)), i == j ? 1.0 : 0.0, 1e-9)
          << i << " " << j;
}

std::map<std::string, int> count_irreps(const mg::MagneticBasis& b) {
  std::map<std::string, int> n;
  for (const auto& v : b.vectors) ++n[v.irrep];
  return n;
}

const mg::Direction* find_direction(const mg::MagneticBasis& b, const std::string& irrep, const std::string& mp,
                                    int uni) {
  for (const auto& d : b.directions)
    if (d.irrep == irrep && d.multipole == mp && d.magnetic_space_group.uni == uni) return &d;
  return nullptr;
}

// Moments of a direction, rescaled so that their largest Cartesian component has magnitude 2, ordered by site
// position (0,½,½), (½,0,½), (½,½,0).
Eigen::MatrixXd mn_pattern(const mg::MagneticBasis& b, const Eigen::MatrixXd& m) {
  Eigen::MatrixXd out(3, 3);
  const Eigen::Vector3d pos[3] = {{0, .5, .5}, {.5, 0, .5}, {.5, .5, 0}};
  for (int k = 0; k < 3; ++k)
    for (std::size_t i = 0; i < b.magnetic_sites.size(); ++i)
      if ((b.crystal.frac.row(static_cast<Eigen::Index>(b.magnetic_sites[i])).transpose() - pos[k]).norm() < 1e-6)
        out.row(k) = m.row(static_cast<Eigen::Index>(i));
  return out * (2 / out.cwiseAbs().maxCoeff());
}

}  // namespace

TEST(MagneticBasis, Mn3GaN_9_Is_2T1g_plus_T2g_M1_T1g_M3_T1g_T2g) {
  const auto b = mg::generate_basis(mn3gan(), opts("Mn"));
  EXPECT_EQ(b.point_group, "m-3m");
  EXPECT_EQ(b.point_group_schoenflies, "Oh");
  EXPECT_EQ(b.decomposition, "2T1g + T2g");
  EXPECT_EQ(b.dimension, 9);
  expect_orthonormal_and_complete(b);
  ASSERT_EQ(b.vectors.size(), 9u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(b.vectors[static_cast<std::size_t>(i)].multipole, "M1");
    EXPECT_EQ(b.vectors[static_cast<std::size_t>(i)].irrep, "T1g");
    EXPECT_TRUE(b.vectors[static_cast<std::size_t>(i)].ahe_allowed);
  }
  std::map<std::string, int> m3;
  for (std::size_t i = 3; i < 9; ++i) {
    EXPECT_EQ(b.vectors[i].multipole, "M3");
    ++m3[b.vectors[i].irrep];
  }
  EXPECT_EQ(m3["T1g"], 3);
  EXPECT_EQ(m3["T2g"], 3);
  // M1 x-component is the ferromagnet along +x.
  for (std::size_t i = 0; i < 3; ++i)
    EXPECT_NEAR((b.vectors[0].moments.row(static_cast<Eigen::Index>(i)) - Eigen::RowVector3d(1, 0, 0) / std::sqrt(3.0)).norm(), 0, 1e-9);
}

TEST(MagneticBasis, Mn3GaN_T1gOctupole111_Is_BNS166_101_WithAHE_T2g111_Is_166_97_Without) {
  const auto b = mg::generate_basis(mn3gan(), opts("Mn"));
  const mg::Direction* t1 = find_direction(b, "T1g", "M3", 1331);
  ASSERT_NE(t1, nullptr);
  EXPECT_EQ(t1->magnetic_space_group.bns, "166.101");
  EXPECT_EQ(t1->magnetic_space_group.type, 3);
  EXPECT_TRUE(t1->ahe_allowed);
  EXPECT_EQ(t1->label.size(), 5u);  // a [111]-type label such as "[111]" or "[-111]"
  Eigen::MatrixXd p = mn_pattern(b, t1->moments);
  Eigen::MatrixXd want(3, 3);
  want << 2, -1, -1, -1, 2, -1, -1, -1, 2;
  // Any of the symmetry-equivalent [111]-type octupoles: compare up to the sign of each Cartesian axis.
  Eigen::Vector3d s(p(0, 0) > 0 ? 1 : -1, p(1, 1) > 0 ? 1 : -1, p(2, 2) > 0 ? 1 : -1);
  EXPECT_NEAR((p * s.asDiagonal() - want * s.asDiagonal() * s.asDiagonal()).norm(), 0, 1e-9) << p;

  const mg::Direction* t2 = find_direction(b, "T2g", "M3", 1327);
  ASSERT_NE(t2, nullptr);
  EXPECT_EQ(t2->magnetic_space_group.bns, "166.97");
  EXPECT_EQ(t2->magnetic_space_group.type, 1);
  EXPECT_FALSE(t2->ahe_allowed);
  p = mn_pattern(b, t2->moments);
  // (0,1,-1), (-1,0,1), (1,-1,0) up to axis signs: zero diagonal, antisymmetric magnitudes.
  for (int k = 0; k < 3; ++k) EXPECT_NEAR(p(k, k), 0, 1e-9);
  EXPECT_NEAR(p.cwiseAbs().sum(), 6 * 2, 1e-9);

  // Ferromagnet along [001]: BNS 123.345 (P4/mm'm').
  bool found = false;
  for (const auto& d : b.directions)
    if (d.irrep == "T1g" && d.multipole == "M1" && d.label == "[001]") {
      found = true;
      EXPECT_EQ(d.magnetic_space_group.bns, "123.345");
      EXPECT_TRUE(d.ahe_allowed);
    }
  EXPECT_TRUE(found);
}

TEST(MagneticBasis, SpglibMagneticGroupOfEveryVectorIsItsStabilizer) {
  // Mn3GaN plus lower-symmetry cases with non-symmorphic groups (P6_3/mmc like Mn3Sn, P4_2/mnm rutile).
  std::vector<std::pair<ts::Crystal, std::string>> cases = {
      {mn3gan(), "Mn"},
      {crystal_for(194, {{"Mn1", {0.8389, 0.6778, 0.25}}, {"Sn1", {1.0 / 3, 2.0 / 3, 0.75}}}), "Mn"},
      {ts::read_cif(kData + "rutile_TiO2_P42mnm_explicit_ops.cif"), "Ti"},
  };
  for (const auto& [crystal, atoms] : cases) {
    const auto b = mg::generate_basis(crystal, opts(atoms));
    expect_orthonormal_and_complete(b);
    const auto ds = ts::analyze(crystal);
    for (const auto& v : b.vectors) {
      const Eigen::MatrixXd m = b.site_moments(v.moments, 1.0);
      const auto ms = ts::analyze_magnetic(crystal, m);
      EXPECT_EQ(ms.uni_number, v.magnetic_space_group.uni) << crystal.source << " vector " << v.index;
      // Our own stabilizer: operation g keeps (+) or reverses (-) the moments.
      int n_stab = 0;
      for (const auto& op : ds.operations) {
        Eigen::MatrixXd g = Eigen::MatrixXd::Zero(m.rows(), 3);
        const Eigen::Matrix3d R = ts::cartesian_rotation(op.rotation, crystal.lattice);
        const Eigen::Matrix3d A = (R.determinant() < 0 ? -1.0 : 1.0) * R;
        for (Eigen::Index i = 0; i < m.rows(); ++i) {
          const Eigen::Vector3d y = op.rotation.cast<double>() * crystal.frac.row(i).transpose() + op.translation;
          for (Eigen::Index j = 0; j < m.rows(); ++j) {
            Eigen::Vector3d d = y - crystal.frac.row(j).transpose();
            for (int k = 0; k < 3; ++k) d(k) -= std::round(d(k));
            if (d.norm() < 1e-5) g.row(j) = (A * m.row(i).transpose()).transpose();
          }
        }
        const int sign = (g - m).norm() < 1e-6 ? 1 : (g + m).norm() < 1e-6 ? -1 : 0;
        // Is (R, t) in spglib's group, and with which time reversal?
        int found = 0;
        for (std::size_t k = 0; k < ms.operations.size(); ++k) {
          Eigen::Vector3d dt = ms.operations[k].translation - op.translation;
          for (int q = 0; q < 3; ++q) dt(q) -= std::round(dt(q));
          if (ms.operations[k].rotation == op.rotation && dt.norm() < 1e-5) found = ms.time_reversals[k] ? -1 : 1;
        }
        EXPECT_EQ(found, sign) << crystal.source << " vector " << v.index << " (" << v.irrep << ")";
        if (sign != 0) ++n_stab;
      }
      EXPECT_EQ(static_cast<std::size_t>(n_stab), ms.operations.size());
    }
    // Directions too (their labels may come from a cached conjugate group): spglib on the moments themselves.
    for (const auto& d : b.directions) {
      const auto ms = ts::analyze_magnetic(crystal, b.site_moments(d.moments, 1.0));
      EXPECT_EQ(ms.uni_number, d.magnetic_space_group.uni) << crystal.source << " " << d.irrep << " " << d.label;
      EXPECT_EQ(ms.admits_ferromagnetism, d.ahe_allowed) << crystal.source << " " << d.irrep << " " << d.label;
    }
  }
}

TEST(MagneticBasis, AtomAtFullSymmetrySiteCarriesTheAxialVectorIrrepsOfThePublishedTables) {
  // (space group with a site of full point symmetry at the origin, expected Rx,Ry,Rz irreps)
  const std::vector<std::pair<int, std::string>> cases = {
      {221, "T1g"},        {123, "A2g + Eg"},  {191, "A2g + E1g"}, {47, "B1g + B2g + B3g"}, {25, "A2 + B1 + B2"},
      {215, "T1"},         {156, "A2 + E"},    {164, "A2g + Eg"},  {83, "Ag + Eg"},          {195, "T"},
      {1, "3A"},           {2, "3Ag"},         {10, "Ag + 2Bg"},   {187, "A2' + E''"},       {99, "A2 + E"},
      {111, "A2 + E"},     {168, "A + E1"},    {174, "A' + E''"},  {200, "Tg"},              {207, "T1"}};
  for (const auto& [sg, want] : cases) {
    // A non-magnetic atom at a general position keeps spglib from finding the lattice's holohedry (one atom alone
    // is always centrosymmetric with the full lattice symmetry).
    const auto b = mg::generate_basis(crystal_for(sg, {{"Fe1", {0, 0, 0}}, {"O1", {0.3711, 0.1379, 0.0623}}}),
                                      opts("Fe"));
    EXPECT_EQ(b.decomposition, want) << "space group " << sg << " (" << b.point_group << ")";
    expect_orthonormal_and_complete(b);
  }
}

TEST(MagneticBasis, GeneralPositionInAll230SpaceGroupsCarriesThreeRegularRepresentations) {
  for (int sg = 1; sg <= 230; ++sg) {
    const auto c = crystal_for(sg, {{"Fe1", {0.1871, 0.0454, 0.3303}}, {"O1", {0.4657, 0.1036, 0.315}}});
    const auto prim = ts::analyze(c).primitive;
    mg::BasisOptions o = opts("Fe");
    o.magnetic_groups = false;  // spglib's magnetic groups are checked above; here the representation theory
    const auto b = mg::generate_basis(prim, o);
    expect_orthonormal_and_complete(b);
    // The conventional cell (centred for A, C, F, I, R lattices) gives the same q = 0 space.
    const auto conv = mg::generate_basis(c, o);
    expect_orthonormal_and_complete(conv);
    EXPECT_EQ(conv.decomposition, b.decomposition) << "conventional cell of space group " << sg;
    const mg::PointGroup& pg = mg::point_group(b.point_group);
    ASSERT_EQ(b.dimension, 3 * pg.order) << sg;
    const auto n = count_irreps(b);
    for (const auto& ir : pg.irreps) {
      const int copies = ir.complex_pair ? 3 : 3 * ir.dimension;
      EXPECT_EQ(n.count(ir.label) ? n.at(ir.label) : 0, copies * ir.dimension)
          << "space group " << sg << " " << pg.international << " irrep " << ir.label;
    }
    // Each vector lies in its irrep's subspace: the labelled counts equal the character-formula multiplicities.
    for (std::size_t r = 0; r < b.irreps.size(); ++r)
      EXPECT_EQ(n.count(b.irreps[r]) ? n.at(b.irreps[r]) : 0, b.multiplicities[r] * b.irrep_dimensions[r]) << sg;
  }
}

TEST(MagneticBasis, RankAndPowerOrdersSpanTheSameSpaceWithDifferentLabels) {
  mg::BasisOptions o = opts("Mn");
  o.order = mg::MultipoleOrder::Power;
  const auto b = mg::generate_basis(mn3gan(), o);
  expect_orthonormal_and_complete(b);
  EXPECT_EQ(b.decomposition, "2T1g + T2g");
  // In power order T2 (even parity, T2g content) comes before M3: the T2g copy is labelled T2.
  for (const auto& v : b.vectors)
    if (v.irrep == "T2g") EXPECT_EQ(v.multipole, "T2");
}

TEST(MagneticBasis, MaxRankStopsEarlyAndSaysSo) {
  mg::BasisOptions o = opts("Mn");
  o.max_rank = 1;
  const auto b = mg::generate_basis(mn3gan(), o);
  EXPECT_FALSE(b.complete);
  EXPECT_EQ(b.vectors.size(), 3u);
}

TEST(MagneticBasis, CandidatesCoverOneDimensionalVectorsAndDistinctDirections) {
  const auto b = mg::generate_basis(mn3gan(), opts("Mn"));
  const auto cands = b.candidates(3.0);
  ASSERT_FALSE(cands.empty());
  std::set<std::string> names;
  for (const auto& c : cands) {
    EXPECT_TRUE(names.insert(c.name).second) << c.name;
    EXPECT_NEAR(c.moments.rowwise().norm().maxCoeff(), 3.0, 1e-9);
    EXPECT_EQ(c.moments.rows(), 5);
  }
}

TEST(MagneticBasis, BadInputGetsOneClearLine) {
  try {
    mg::generate_basis(mn3gan(), opts("Fe"));
    FAIL();
  } catch (const tsunagu::InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("no site of 'Fe'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(mg::generate_basis(mn3gan(), opts("Qq")), tsunagu::InvalidArgument);
  EXPECT_THROW(mg::generate_basis(mn3gan(), mg::BasisOptions{}), tsunagu::InvalidArgument);
  mg::BasisOptions o = opts("Mn");
  o.max_rank = -1;
  EXPECT_THROW(mg::generate_basis(mn3gan(), o), tsunagu::InvalidArgument);
  // Part of an orbit only (one of three Mn by label after relabelling).
  auto c = mn3gan();
  for (std::size_t i = 0; i < c.n_sites(); ++i)
    if (c.labels[i] == "Mn1") {
      c.labels[i] = "MnX";
      break;
    }
  try {
    mg::generate_basis(c, opts("MnX"));
    FAIL();
  } catch (const tsunagu::InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("whole orbits"), std::string::npos) << e.what();
  }
}

namespace {
// The crystal repeated n0 x n1 x n2 times (sites in order: all copies of site 0, then of site 1, ...).
ts::Crystal supercell(const ts::Crystal& c, int n0, int n1, int n2) {
  ts::Crystal s = c;
  s.lattice.row(0) *= n0;
  s.lattice.row(1) *= n1;
  s.lattice.row(2) *= n2;
  const int n = n0 * n1 * n2;
  s.frac.resize(c.frac.rows() * n, 3);
  s.numbers.clear();
  s.labels.clear();
  Eigen::Index r = 0;
  for (Eigen::Index i = 0; i < c.frac.rows(); ++i)
    for (int a = 0; a < n0; ++a)
      for (int b = 0; b < n1; ++b)
        for (int k = 0; k < n2; ++k) {
          s.frac.row(r++) = Eigen::RowVector3d((c.frac(i, 0) + a) / n0, (c.frac(i, 1) + b) / n1, (c.frac(i, 2) + k) / n2);
          s.numbers.push_back(c.numbers[static_cast<std::size_t>(i)]);
          s.labels.push_back(c.labels[static_cast<std::size_t>(i)]);
        }
  return s;
}
}  // namespace

TEST(MagneticBasis, CentredConventionalCellGivesThePrimitiveCellsBasisRepeatedOnCentringCopies) {
  // bcc Fe as Im-3m conventional cell (2 atoms, related by the centring): q = 0 is the 3-dimensional ferromagnet.
  const auto bcc = crystal_for(229, {{"Fe1", {0, 0, 0}}});
  const auto b = mg::generate_basis(bcc, opts("Fe"));
  ASSERT_EQ(bcc.n_sites(), 2u);
  expect_orthonormal_and_complete(b);
  EXPECT_EQ(b.decomposition, "T1g");
  for (const auto& v : b.vectors) EXPECT_NEAR((v.moments.row(0) - v.moments.row(1)).norm(), 0, 1e-12);
  // Face-centred: rock salt with "magnetic" Na (4 per conventional cell, 1 per primitive cell): again T1g only.
  const auto nacl = ts::read_cif(kData + "NaCl_Fm-3m_from_IT_number.cif");
  const auto f = mg::generate_basis(nacl, opts("Na"));
  expect_orthonormal_and_complete(f);
  EXPECT_EQ(f.dimension, 3);
  EXPECT_EQ(f.decomposition, "T1g");
}

TEST(MagneticBasis, SupercellKeepingThePointGroupRepeatsTheQ0BasisAndOneBreakingItIsRefused) {
  const auto c = mn3gan();
  const auto prim = mg::generate_basis(c, opts("Mn"));
  const auto big = mg::generate_basis(supercell(c, 2, 2, 2), opts("Mn"));
  expect_orthonormal_and_complete(big);
  EXPECT_EQ(big.dimension, 9);
  EXPECT_EQ(big.decomposition, "2T1g + T2g");
  ASSERT_EQ(big.vectors.size(), prim.vectors.size());
  for (std::size_t k = 0; k < big.vectors.size(); ++k) {
    EXPECT_EQ(big.vectors[k].irrep, prim.vectors[k].irrep);
    EXPECT_EQ(big.vectors[k].multipole, prim.vectors[k].multipole);
    EXPECT_EQ(big.vectors[k].magnetic_space_group.uni, prim.vectors[k].magnetic_space_group.uni);
    // Magnetic atom i of the primitive cell has copies 8i .. 8i+7: same moment, norm spread over 8 copies.
    for (Eigen::Index i = 0; i < 3; ++i)
      for (int t = 0; t < 8; ++t)
        EXPECT_NEAR((big.vectors[k].moments.row(8 * i + t) * std::sqrt(8.0) - prim.vectors[k].moments.row(i)).norm(), 0,
                    1e-9);
  }
  try {
    mg::generate_basis(supercell(c, 2, 1, 1), opts("Mn"));
    FAIL() << "a 2x1x1 supercell of a cubic crystal must be refused";
  } catch (const tsunagu::InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("supercell"), std::string::npos) << e.what();
  }
}
