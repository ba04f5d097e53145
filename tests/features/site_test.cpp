// Site-centred descriptors (src/features/site.cpp).
#include <cmath>
#include <functional>
#include <numbers>

#include <gtest/gtest.h>

#include "test_structures.hpp"
#include "tsunagu/core/error.hpp"
#include "tsunagu/features/descriptors.hpp"

using namespace tsunagu;
using namespace tsunagu::features;
using namespace tsunagu::features::test;

namespace {

std::string invalid_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InvalidArgument& e) {
    return e.what();
  }
  return "";
}

void expect_near(const Eigen::VectorXd& a, const Eigen::VectorXd& b, double tol) {
  ASSERT_EQ(a.size(), b.size());
  for (Eigen::Index k = 0; k < a.size(); ++k) EXPECT_NEAR(a(k), b(k), tol * std::max(1.0, std::abs(b(k)))) << k;
}

double fc(double r, double rc) { return r <= rc ? 0.5 * (std::cos(std::numbers::pi * r / rc) + 1) : 0.0; }

DescriptorSpec site_spec(std::vector<int> elements, int coulomb_size) {
  DescriptorSpec s;
  s.kinds = {DescriptorKind::Site};
  s.elements = std::move(elements);
  s.site_coulomb_size = coulomb_size;
  return s;
}

// Block offsets of the site vector: local RDF, G2, G4, local Coulomb.
struct Blocks {
  Eigen::Index rdf, g2, g4, cm;
};
Blocks blocks(const DescriptorSpec& s) {
  const auto nk = static_cast<Eigen::Index>(std::floor(s.site_cutoff / s.site_step + 1e-9));
  Blocks b;
  b.rdf = 0;
  b.g2 = static_cast<Eigen::Index>(s.elements.size()) * nk;
  b.g4 = b.g2 + static_cast<Eigen::Index>(s.acsf_eta.size() * s.acsf_rs.size());
  b.cm = b.g4 + static_cast<Eigen::Index>(2 * s.acsf_angular_eta.size() * s.acsf_zeta.size());
  return b;
}

// Fe at the origin, O at 2 A along x, C at (1, 3, 0): r_O = 2, r_C = sqrt(10), r_OC = sqrt(10),
// cos(theta) = (2 * 1) / (2 * sqrt(10)).
structure::Crystal fe_o_c() { return make_molecule({{0, 0, 0}, {2, 0, 0}, {1, 3, 0}}, {26, 8, 6}, "feoc"); }

}  // namespace

TEST(SiteDescriptor, three_atom_weighted_acsf_by_hand) {
  DescriptorSpec s = site_spec({6, 8, 26}, 3);
  s.acsf_eta = {0.5};
  s.acsf_rs = {0.0, 2.0};
  s.acsf_zeta = {1.0, 2.0};
  s.acsf_angular_eta = {0.1};
  const Eigen::VectorXd v = site_features(s, fe_o_c(), 0);
  const Blocks b = blocks(s);
  ASSERT_EQ(v.size(), b.cm + 3);
  const double rc = 6.0, r_o = 2.0, r_c = std::sqrt(10.0), r_oc = std::sqrt(10.0);
  // G2(eta, rs) = sum_j Z_j exp(-eta (r_j - rs)^2) fc(r_j), Z_O = 8, Z_C = 6.
  EXPECT_NEAR(v(b.g2), 8 * std::exp(-0.5 * 4.0) * fc(r_o, rc) + 6 * std::exp(-0.5 * 10.0) * fc(r_c, rc), 1e-12);
  EXPECT_NEAR(v(b.g2 + 1), 8 * 1.0 * fc(r_o, rc) + 6 * std::exp(-0.5 * std::pow(r_c - 2, 2)) * fc(r_c, rc), 1e-12);
  EXPECT_NEAR(fc(r_o, rc), 0.75, 1e-15);  // (cos(pi/3) + 1) / 2
  // G4 = 2^(1-zeta) Z_O Z_C (1 + lambda cos)^zeta exp(-eta (r_O^2 + r_C^2 + r_OC^2)) fc fc fc.
  const double cos_t = 2.0 / (2.0 * std::sqrt(10.0));
  const double radial = 48 * std::exp(-0.1 * (4.0 + 10.0 + 10.0)) * fc(r_o, rc) * fc(r_c, rc) * fc(r_oc, rc);
  EXPECT_NEAR(v(b.g4 + 0), radial * (1 + cos_t), 1e-12);                 // zeta 1, lambda +1
  EXPECT_NEAR(v(b.g4 + 1), radial * (1 - cos_t), 1e-12);                 // zeta 1, lambda -1
  EXPECT_NEAR(v(b.g4 + 2), 0.5 * radial * std::pow(1 + cos_t, 2), 1e-12);  // zeta 2, lambda +1
  EXPECT_NEAR(v(b.g4 + 3), 0.5 * radial * std::pow(1 - cos_t, 2), 1e-12);  // zeta 2, lambda -1
  // Local RDF blocks (C, O, Fe): integral of each = sum of fc over that element's neighbours.
  const Eigen::Index nk = 60;
  EXPECT_NEAR(v.segment(0, nk).sum() * 0.1, fc(r_c, rc), 1e-7);
  EXPECT_NEAR(v.segment(nk, nk).sum() * 0.1, 0.75, 1e-7);
  EXPECT_EQ(v.segment(2 * nk, nk).cwiseAbs().sum(), 0.0);
  // The cluster is the whole molecule: local Coulomb eigenvalues = the molecule's.
  expect_near(v.segment(b.cm, 3), coulomb_eigenvalues(fe_o_c(), 3), 1e-12);
  const auto names = s.names();
  EXPECT_EQ(names[static_cast<std::size_t>(b.g2 + 1)], "site_g2_eta0.5_rs2");
  EXPECT_EQ(names[static_cast<std::size_t>(b.g4 + 3)], "site_g4_eta0.1_zeta2_lambda-1");
  EXPECT_EQ(names[static_cast<std::size_t>(nk + 19)], "site_rdf_O_1.95");
  EXPECT_EQ(names.back(), "site_coulomb_2");
}

TEST(SiteDescriptor, weighted_acsf_matches_dscribe_acsf_weighted_by_z) {
  // DScribe's ACSF is resolved by neighbour element instead of weighted, with the same G2/G4 definitions and cosine
  // cutoff (sum over k < j for G4). The weighted functions are therefore sum_a Z_a G2_a and sum_{a<=b} Z_a Z_b
  // G4_ab of DScribe's output. Golden numbers: DScribe 2.1.2 (ase 3.23.0),
  //   ACSF(r_cut=6.0, g2_params=[[e, r] for e in (0.05, 0.5) for r in (0.0, 2.0)],
  //        g4_params=[[e, z, l] for e in (0.05, 0.3) for z in (1.0, 4.0) for l in (1, -1)],
  //        species=["Fe", "C", "O", "N", "H", "Cl"]).create(atoms, centers=[0])
  // with atoms = ase.Atoms(["Fe", "C", "O", "N", "H", "Cl"], positions=[[0, 0, 0], [1.8, 0, 0], [2.95, 0, 0.1],
  // [0, 1.95, 0.2], [0.3, 2.9, 0.5], [-0.4, -0.3, 2.2]]), then summed with those weights.
  const structure::Crystal mol = make_molecule(
      {{0, 0, 0}, {1.8, 0, 0}, {2.95, 0, 0.1}, {0, 1.95, 0.2}, {0.3, 2.9, 0.5}, {-0.4, -0.3, 2.2}},
      {26, 6, 8, 7, 1, 17});
  DescriptorSpec s = site_spec({1, 6, 7, 8, 17, 26}, 6);
  s.acsf_eta = {0.05, 0.5};
  s.acsf_rs = {0.0, 2.0};
  s.acsf_zeta = {1.0, 4.0};
  s.acsf_angular_eta = {0.05, 0.3};
  const Eigen::VectorXd v = site_features(s, mol, 0);
  const Blocks b = blocks(s);
  const Eigen::VectorXd g2 =
      (Eigen::VectorXd(4) << 20.510368594138846, 26.163096068432015, 2.6999165744190545, 24.2573730877221).finished();
  const Eigen::VectorXd g4 = (Eigen::VectorXd(8) << 54.44565423622395, 38.85477862323232, 24.299171844887276,
                              6.180717929503363, 1.1859407583226136, 0.49138061383326515, 0.7914403185371112,
                              0.07380507739797831)
                                 .finished();
  expect_near(v.segment(b.g2, 4), g2, 1e-10);
  expect_near(v.segment(b.g4, 8), g4, 1e-10);
}

TEST(SiteDescriptor, images_count_when_the_cell_is_smaller_than_the_cutoff) {
  // fcc Cu primitive cell (one atom), cutoff 6 A: shells 12 at a/sqrt2, 6 at a, 24 at a sqrt(3/2), 12 at a sqrt2,
  // 24 at a sqrt(5/2) (the next, 8 at a sqrt3 = 6.26 A, is outside). With eta = 0 the radial function is
  // 29 * sum of fc over the shells.
  const double a = 3.615, rc = 6.0;
  DescriptorSpec s = site_spec({29}, 80);
  s.acsf_eta = {0.0};
  s.acsf_rs = {0.0};
  const Eigen::VectorXd v = site_features(s, cu_primitive(a), 0);
  const double expected = 29 * (12 * fc(a / std::sqrt(2.0), rc) + 6 * fc(a, rc) + 24 * fc(a * std::sqrt(1.5), rc) +
                                12 * fc(a * std::sqrt(2.0), rc) + 24 * fc(a * std::sqrt(2.5), rc));
  EXPECT_NEAR(v(blocks(s).g2), expected, 1e-10);
  // Cluster = absorber + 78 neighbour images; the 79 eigenvalues are nonzero, the last padded one is zero.
  const Eigen::VectorXd cm = v.tail(80);
  EXPECT_GT(std::abs(cm(78)), 0.0);
  EXPECT_EQ(cm(79), 0.0);
  // fit_spec counts the same cluster.
  DescriptorSpec f = site_spec({}, 0);
  f = fit_spec(f, {cu_primitive(a)}, {0});
  EXPECT_EQ(f.site_coulomb_size, 79);
}

TEST(SiteDescriptor, invariant_under_rotation_translation_permutation_and_supercell) {
  const structure::Crystal c = random_crystal(structure::lattice_from_parameters(5.3, 6.1, 4.7, 79, 102, 95), 9,
                                              {8, 26, 3}, 11);
  const DescriptorSpec s = fit_spec(site_spec({}, 0), {c, supercell(c, 2, 1, 1)}, {4, 4});
  const Eigen::VectorXd ref = site_features(s, c, 4);
  expect_near(site_features(s, rotated(c, some_rotation()), 4), ref, 1e-9);
  expect_near(site_features(s, translated(c, Eigen::RowVector3d(-3.3, 0.4, 9.1)), 4), ref, 1e-9);
  const auto order = reversed_order(c.n_sites());  // site 4 of 9 stays at 4
  expect_near(site_features(s, permuted(c, order), 4), ref, 1e-9);
  // Same local environment in a supercell (site 4 of the first copy).
  expect_near(site_features(s, supercell(c, 2, 1, 1), 4), ref, 1e-9);
  // A molecule, rotated and moved.
  const structure::Crystal m = fe_o_c();
  const DescriptorSpec sm = fit_spec(site_spec({}, 0), {m}, {0});
  expect_near(site_features(sm, rotated(translated(m, Eigen::RowVector3d(1, 2, 3)), some_rotation()), 0),
              site_features(sm, m, 0), 1e-10);
}

TEST(SiteDescriptor, refuses_out_of_range_or_missing_sites_and_unknown_elements) {
  const DescriptorSpec s = site_spec({6, 8, 26}, 3);
  EXPECT_EQ(invalid_of([&] { site_features(s, fe_o_c(), 3); }),
            "feoc: site descriptor: site 3 is out of range (3 sites, 0-based)");
  EXPECT_EQ(invalid_of([&] { describe(s, fe_o_c(), std::size_t{7}); }),
            "feoc: describe: site 7 is out of range (3 sites, 0-based)");
  EXPECT_EQ(invalid_of([&] { describe(s, fe_o_c()); }), "feoc: describe: the site descriptor needs the absorbing site");
  EXPECT_EQ(invalid_of([&] { site_features(site_spec({8, 26}, 3), fe_o_c(), 0); }),
            "feoc: element C is not in the descriptor specification (elements: O, Fe)");
  EXPECT_THROW(describe_many(s, {fe_o_c()}, {5}), InvalidArgument);
  EXPECT_EQ(describe(s, fe_o_c(), std::size_t{0}), site_features(s, fe_o_c(), 0));
}

TEST(SiteDescriptor, acsf_kind_is_the_weighted_acsf_block_of_the_site_vector) {
  DescriptorSpec s = site_spec({6, 8, 26}, 3);
  const Eigen::VectorXd full = site_features(s, fe_o_c(), 0);
  const Eigen::VectorXd acsf = acsf_features(s, fe_o_c(), 0);
  const Blocks b = blocks(s);
  ASSERT_EQ(acsf.size(), b.cm - b.g2);
  EXPECT_EQ(acsf, full.segment(b.g2, b.cm - b.g2));
  // As a kind: needs no fitted elements (any element is weighted by its Z) but does need the site.
  DescriptorSpec k;
  k.kinds = {DescriptorKind::Acsf};
  EXPECT_TRUE(k.fitted());
  EXPECT_EQ(k.size(), static_cast<std::size_t>(acsf.size()));
  EXPECT_EQ(describe(k, fe_o_c(), 0), acsf);
  const auto names = k.names();
  EXPECT_EQ(names.front(), "site_g2_eta0.05_rs0");
  EXPECT_EQ(names.back(), "site_g4_eta0.3_zeta4_lambda-1");
  EXPECT_NE(invalid_of([&] { describe(k, fe_o_c()); }).find("absorbing site"), std::string::npos);
  EXPECT_NE(invalid_of([&] { describe(k, fe_o_c(), 3); }).find("out of range"), std::string::npos);
  EXPECT_TRUE(needs_site({DescriptorKind::Composition, DescriptorKind::Acsf}));
  EXPECT_FALSE(needs_site({DescriptorKind::Composition, DescriptorKind::Prdf}));
  EXPECT_EQ(fit_spec(k, {fe_o_c()}, {0}), k);  // nothing data-dependent
}
