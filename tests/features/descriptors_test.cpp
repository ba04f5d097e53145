#include "tsunagu/features/descriptors.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <limits>

#include <Eigen/Eigenvalues>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "test_structures.hpp"
#include "tsunagu/core/error.hpp"
#include "tsunagu/features/elements.hpp"
#include "tsunagu/features/neighbors.hpp"
#include "tsunagu/structure/formats.hpp"

using namespace tsunagu;
using namespace tsunagu::features;
using namespace tsunagu::features::test;
using nlohmann::json;

namespace {

constexpr double kBohr = 0.529177210903;  // Å

std::string invalid_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InvalidArgument& e) {
    return e.what();
  }
  return "";
}

std::string parse_error_of(const json& j) {
  try {
    DescriptorSpec::from_json(j);
  } catch (const ParseError& e) {
    return e.what();
  }
  return "";
}

void expect_near(const Eigen::VectorXd& a, const Eigen::VectorXd& b, double tol) {
  ASSERT_EQ(a.size(), b.size());
  for (Eigen::Index k = 0; k < a.size(); ++k) EXPECT_NEAR(a(k), b(k), tol) << "component " << k;
}

std::size_t index_of(const char* name) { return *find_element_property(name); }

// Water, the geometry DScribe's documentation uses (Å).
structure::Crystal water() {
  return make_molecule({{0.0, 0.0, 0.1173}, {0.0, 0.7572, -0.4692}, {0.0, -0.7572, -0.4692}}, {8, 1, 1}, "h2o");
}

// A triclinic LiOFe cell for the DScribe sine-matrix golden numbers.
structure::Crystal triclinic_lioffe() {
  Eigen::Matrix3d L;
  L << 4.0, 0.0, 0.0, 0.8, 3.6, 0.0, 0.5, 0.7, 5.1;
  return make_crystal(L, {{0.0, 0.0, 0.0}, {0.5, 0.25, 0.4}, {0.2, 0.7, 0.8}}, {3, 8, 26}, "lioffe");
}

DescriptorSpec spec_of(std::vector<DescriptorKind> kinds) {
  DescriptorSpec s;
  s.kinds = std::move(kinds);
  return s;
}

}  // namespace

// ---- descriptor kinds -------------------------------------------------------------------------------------------

TEST(DescriptorKinds, parse_names_and_lists) {
  EXPECT_EQ(parse_descriptor_kind("prdf"), DescriptorKind::Prdf);
  for (DescriptorKind k : {DescriptorKind::Composition, DescriptorKind::Prdf, DescriptorKind::Coulomb,
                           DescriptorKind::Site, DescriptorKind::Acsf})
    EXPECT_EQ(parse_descriptor_kind(descriptor_kind_name(k)), k);
  EXPECT_EQ(parse_descriptor_kinds(" composition , prdf,coulomb"),
            (std::vector<DescriptorKind>{DescriptorKind::Composition, DescriptorKind::Prdf, DescriptorKind::Coulomb}));
  EXPECT_NE(invalid_of([] { parse_descriptor_kind("soap"); }).find("known: composition, prdf, coulomb, site, acsf"),
            std::string::npos);
  EXPECT_NE(invalid_of([] { parse_descriptor_kinds("prdf,,site"); }).find("empty item"), std::string::npos);
  EXPECT_NE(invalid_of([] { parse_descriptor_kinds("prdf,site,prdf"); }).find("'prdf' appears twice"),
            std::string::npos);
  EXPECT_THROW(parse_descriptor_kinds(""), InvalidArgument);
}

// ---- specification ----------------------------------------------------------------------------------------------

TEST(DescriptorSpec, default_is_composition_of_every_property_and_needs_no_fit) {
  const DescriptorSpec s;
  s.validate();
  EXPECT_TRUE(s.fitted());
  EXPECT_EQ(s.size(), 5 * element_properties().size());
  const auto names = s.names();
  ASSERT_EQ(names.size(), s.size());
  EXPECT_EQ(names[0], "comp_mean_atomic_number");
  EXPECT_EQ(names[4], "comp_range_atomic_number");
  EXPECT_EQ(names[5 * index_of("electronegativity") + 1], "comp_std_electronegativity");
}

TEST(DescriptorSpec, validate_names_the_bad_field) {
  auto msg = [](auto mutate) {
    DescriptorSpec s;
    mutate(s);
    return invalid_of([&] { s.validate(); });
  };
  EXPECT_EQ(msg([](DescriptorSpec& s) { s.rdf_step = 0; }), "rdf_step: must be > 0, got 0");
  EXPECT_EQ(msg([](DescriptorSpec& s) { s.rdf_sigma = std::nan(""); }), "rdf_sigma: must be > 0, got nan");
  EXPECT_EQ(msg([](DescriptorSpec& s) { s.site_step = 7; }), "site_step: must be <= site_cutoff (6), got 7");
  EXPECT_EQ(msg([](DescriptorSpec& s) { s.kinds.clear(); }), "kinds: must name at least one descriptor");
  EXPECT_EQ(msg([](DescriptorSpec& s) { s.kinds = {DescriptorKind::Prdf, DescriptorKind::Prdf}; }),
            "kinds: 'prdf' appears twice");
  EXPECT_EQ(msg([](DescriptorSpec& s) { s.elements = {26, 8}; }),
            "elements: must be sorted by atomic number and unique (Fe before O)");
  EXPECT_EQ(msg([](DescriptorSpec& s) { s.elements = {0}; }), "elements[0]: atomic number 0 is outside 1..118");
  EXPECT_EQ(msg([](DescriptorSpec& s) { s.acsf_zeta = {1, 0.5}; }), "acsf_zeta[1]: must be >= 1, got 0.5");
  EXPECT_EQ(msg([](DescriptorSpec& s) { s.acsf_eta = {-1}; }), "acsf_eta[0]: must be >= 0, got -1");
  EXPECT_EQ(msg([](DescriptorSpec& s) { s.coulomb_size = -2; }), "coulomb_size: must be in 0..100000, got -2");
  EXPECT_EQ(msg([](DescriptorSpec& s) { s.properties = {"electronegativity", "electronegativity"}; }),
            "properties: 'electronegativity' appears twice");
  EXPECT_EQ(msg([](DescriptorSpec& s) { s.properties = {"colour"}; }).rfind("properties: unknown element property "
                                                                           "'colour' (known: atomic_number, ",
                                                                           0),
            0u);
  EXPECT_NE(msg([](DescriptorSpec& s) { s.rdf_step = 1e-6; }).find("rdf_step:"), std::string::npos);
}

TEST(DescriptorSpec, unfitted_spec_refuses_size_and_fit_spec_fills_it) {
  DescriptorSpec s = spec_of({DescriptorKind::Composition, DescriptorKind::Prdf, DescriptorKind::Coulomb});
  EXPECT_FALSE(s.fitted());
  EXPECT_NE(invalid_of([&] { (void)s.size(); }).find("not fitted: elements is empty (call fit_spec"),
            std::string::npos);
  const DescriptorSpec f = fit_spec(s, {rock_salt(), cu_primitive()});
  EXPECT_TRUE(f.fitted());
  EXPECT_EQ(f.elements, (std::vector<int>{11, 17, 29}));
  EXPECT_EQ(f.coulomb_size, 8);
  EXPECT_EQ(f.site_coulomb_size, 0);  // Site not requested
  const std::size_t nk = 80;          // rdf_cutoff 8 / rdf_step 0.1
  EXPECT_EQ(f.size(), 5 * element_properties().size() + 6 * nk + 8);
  const auto names = f.names();
  ASSERT_EQ(names.size(), f.size());
  const std::size_t prdf0 = 5 * element_properties().size();
  EXPECT_EQ(names[prdf0], "prdf_Na_Na_0.05");
  EXPECT_EQ(names[prdf0 + nk + 23], "prdf_Na_Cl_2.35");
  EXPECT_EQ(names[prdf0 + 6 * nk - 1], "prdf_Cu_Cu_7.95");
  EXPECT_EQ(names.back(), "coulomb_7");
  // fit_spec never shrinks: a second fit on a smaller set keeps what the first found.
  const DescriptorSpec g = fit_spec(f, {cu_primitive()});
  EXPECT_EQ(g.elements, f.elements);
  EXPECT_EQ(g.coulomb_size, 8);
  EXPECT_THROW(fit_spec(s, {}), InvalidArgument);
  EXPECT_NE(invalid_of([&] { fit_spec(spec_of({DescriptorKind::Site}), {rock_salt()}); }).find("absorbing site"),
            std::string::npos);
  EXPECT_THROW(fit_spec(spec_of({DescriptorKind::Site}), {rock_salt()}, {0, 1}), InvalidArgument);
}

TEST(DescriptorSpec, json_round_trip_is_exact) {
  DescriptorSpec s = spec_of({DescriptorKind::Site, DescriptorKind::Prdf, DescriptorKind::Coulomb});
  s.properties = {"electronegativity", "covalent_radius"};
  s.rdf_sigma = 0.123456789012345;
  s.coulomb_variant = CoulombVariant::Plain;
  s.acsf_zeta = {1, 2.5};
  s = fit_spec(s, {rock_salt(), water()}, {0, 0});
  const json j = s.to_json();
  EXPECT_EQ(j.at("elements"), json({"H", "O", "Na", "Cl"}));
  EXPECT_EQ(j.at("kinds"), json({"site", "prdf", "coulomb"}));
  EXPECT_EQ(j.at("coulomb_variant"), "plain");
  EXPECT_EQ(DescriptorSpec::from_json(j), s);
  EXPECT_EQ(DescriptorSpec::from_json(json::parse(j.dump())), s);
  EXPECT_EQ(DescriptorSpec::from_json(DescriptorSpec().to_json()), DescriptorSpec());
}

TEST(DescriptorSpec, from_json_refuses_unknown_missing_and_mistyped_fields) {
  const json good = DescriptorSpec().to_json();
  json j = good;
  j["rdf_cutof"] = 8.0;
  EXPECT_NE(parse_error_of(j).find("unknown field 'rdf_cutof' (allowed: kinds, elements"), std::string::npos)
      << parse_error_of(j);
  j = good;
  j.erase("site_sigma");
  EXPECT_EQ(parse_error_of(j), "descriptor specification: missing field 'site_sigma'");
  j = good;
  j["rdf_step"] = "0.1";
  EXPECT_EQ(parse_error_of(j), "descriptor specification: field 'rdf_step': expected a number, got \"0.1\"");
  j = good;
  j["coulomb_size"] = 3.5;
  EXPECT_NE(parse_error_of(j).find("field 'coulomb_size': expected an integer"), std::string::npos);
  j = good;
  j["acsf_eta"] = {0.1, "x"};
  EXPECT_NE(parse_error_of(j).find("field 'acsf_eta': expected an array of numbers"), std::string::npos);
  j = good;
  j["elements"] = {"Fe", "Xx"};
  EXPECT_NE(parse_error_of(j).find("'Xx' is not an element symbol"), std::string::npos);
  j = good;
  j["kinds"] = {"prdf", "soap"};
  EXPECT_NE(parse_error_of(j).find("unknown descriptor 'soap'"), std::string::npos);
  j = good;
  j["rdf_step"] = 0;
  EXPECT_EQ(parse_error_of(j), "descriptor specification: rdf_step: must be > 0, got 0");
  j = good;
  j["coulomb_variant"] = "ewald";
  EXPECT_NE(parse_error_of(j).find("coulomb_variant: unknown variant 'ewald'"), std::string::npos);
  EXPECT_NE(parse_error_of(json::array()).find("expected a JSON object"), std::string::npos);
}

// ---- composition ------------------------------------------------------------------------------------------------

TEST(Composition, two_atom_nacl_statistics_by_hand) {
  // Pauling electronegativities (CRC): Na 0.93, Cl 3.16. Fractions 1/2 each: mean 2.045, population std
  // |3.16 - 0.93| / 2 = 1.115, min 0.93, max 3.16, range 2.23.
  Eigen::Matrix3d L;
  L << 0, 2.82, 2.82, 2.82, 0, 2.82, 2.82, 2.82, 0;
  const structure::Crystal nacl = make_crystal(L, {{0, 0, 0}, {.5, .5, .5}}, {11, 17});
  const Eigen::VectorXd v = composition_features(nacl, {index_of("electronegativity")});
  expect_near(v, (Eigen::VectorXd(5) << 2.045, 1.115, 0.93, 3.16, 2.23).finished(), 1e-12);
}

TEST(Composition, co2_fractions_one_third_two_thirds_by_hand) {
  // C 2.55, O 3.44: mean (2.55 + 2 * 3.44) / 3 = 3.143333; std sqrt(1/3 * 2/3) * 0.89 = 0.419547.
  const structure::Crystal co2 = make_molecule({{0, 0, 0}, {1.16, 0, 0}, {-1.16, 0, 0}}, {6, 8, 8});
  const Eigen::VectorXd v = composition_features(co2, {index_of("electronegativity"), index_of("atomic_number")});
  EXPECT_NEAR(v(0), (2.55 + 2 * 3.44) / 3, 1e-12);
  EXPECT_NEAR(v(1), std::sqrt(2.0 / 9.0) * 0.89, 1e-12);
  EXPECT_NEAR(v(2), 2.55, 1e-12);
  EXPECT_NEAR(v(3), 3.44, 1e-12);
  EXPECT_NEAR(v(5), 22.0 / 3.0, 1e-12);  // mean Z
}

TEST(Composition, occupancies_weight_the_fractions) {
  structure::Crystal c = make_crystal(3 * Eigen::Matrix3d::Identity(), {{0, 0, 0}, {0, 0, 0}, {.5, .5, .5}},
                                      {26, 27, 8});
  c.occupancies = (Eigen::VectorXd(3) << 0.25, 0.75, 1.0).finished();
  // amounts Fe 0.25, Co 0.75, O 1 of 2: mean Z = (0.25 * 26 + 0.75 * 27 + 8) / 2 = 17.375.
  EXPECT_NEAR(composition_features(c, {index_of("atomic_number")})(0), 17.375, 1e-12);
}

// ---- Coulomb matrices -------------------------------------------------------------------------------------------

TEST(Coulomb, h2_eigenvalues_are_half_plus_minus_inverse_bond_length_in_bohr) {
  const double d = 0.74;  // Å
  const structure::Crystal h2 = make_molecule({{0, 0, 0}, {0, 0, d}}, {1, 1}, "h2");
  const Eigen::VectorXd ev = coulomb_eigenvalues(h2, 3);
  // M = [[0.5, 1/d_b], [1/d_b, 0.5]] (0.5 * 1^2.4 = 0.5): eigenvalues 0.5 +- 1/d_b; |0.5 - 1/d_b| < 0.5 + 1/d_b.
  const double inv = kBohr / d;
  expect_near(ev, (Eigen::VectorXd(3) << 0.5 + inv, 0.5 - inv, 0.0).finished(), 1e-12);
  EXPECT_NEAR(coulomb_matrix(h2)(0, 1), inv, 1e-12);
  // Truncation keeps the largest |lambda|.
  expect_near(coulomb_eigenvalues(h2, 1), (Eigen::VectorXd(1) << 0.5 + inv).finished(), 1e-12);
}

TEST(Coulomb, water_matches_dscribe_coulomb_matrix_eigenspectrum) {
  // Golden numbers: DScribe 2.1.2 (ase 3.23.0),
  //   CoulombMatrix(n_atoms_max=4, permutation="eigenspectrum").create(atoms)
  // with atoms = ase.Atoms("OHH", positions=[[0, 0, 0.1173], [0, 0.7572, -0.4692], [0, -0.7572, -0.4692]]).
  // DScribe takes distances in the units of the positions (Å); tsunagu uses bohr. (a) The same call with the
  // positions divided by 0.529177210903 gives tsunagu's convention directly:
  const Eigen::VectorXd bohr = (Eigen::VectorXd(4) << 74.05048097626916, 0.3156440201542601, 0.15056972338681998,
                                0.0).finished();
  expect_near(coulomb_eigenvalues(water(), 4), bohr, 1e-10);
  // (b) DScribe's own Å convention = tsunagu's matrix with the off-diagonal entries divided by a0 (in bohr).
  const Eigen::VectorXd angstrom =
      (Eigen::VectorXd(3) << 75.39630581715572, -0.7192835748943748, -0.16032752245113585).finished();
  Eigen::MatrixXd m = coulomb_matrix(water());
  for (Eigen::Index i = 0; i < 3; ++i)
    for (Eigen::Index j = 0; j < 3; ++j)
      if (i != j) m(i, j) /= kBohr;
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(m);
  Eigen::VectorXd ev = es.eigenvalues();
  std::sort(ev.data(), ev.data() + 3, [](double a, double b) { return std::abs(a) > std::abs(b); });
  expect_near(ev, angstrom, 1e-10);
}

TEST(Coulomb, triclinic_crystal_matches_dscribe_sine_matrix) {
  // Golden numbers: DScribe 2.1.2 (ase 3.23.0), SineMatrix(n_atoms_max=4, permutation="eigenspectrum").create(
  //   ase.Atoms("LiOFe", scaled_positions=[[0, 0, 0], [0.5, 0.25, 0.4], [0.2, 0.7, 0.8]], cell=cell / a0,
  //   pbc=True)) with cell = [[4, 0, 0], [0.8, 3.6, 0], [0.5, 0.7, 5.1]] Å and a0 = 0.529177210903 (the cell in
  // bohr, tsunagu's convention).
  const Eigen::VectorXd bohr = (Eigen::VectorXd(4) << 1244.5370649532183, 73.36306609328477, 6.8452562711813085,
                                0.0).finished();
  expect_near(coulomb_eigenvalues(triclinic_lioffe(), 4), bohr, 1e-9);
  expect_near(coulomb_eigenvalues(triclinic_lioffe(), 4, CoulombVariant::Sine), bohr, 1e-9);
  // The matrix itself in DScribe's Å convention (cell in Å, permutation="none"): off-diagonals times 1/a0.
  Eigen::Matrix3d dscribe;
  dscribe << 6.983305082619117, 3.369127872525994, 20.717977466914714,  //
      3.369127872525994, 73.51669471981023, 28.49336865909882,           //
      20.717977466914714, 28.49336865909882, 1244.2453875152546;
  Eigen::MatrixXd m = coulomb_matrix(triclinic_lioffe());
  for (Eigen::Index i = 0; i < 3; ++i)
    for (Eigen::Index j = 0; j < 3; ++j) {
      const double ours = i == j ? m(i, j) : m(i, j) / kBohr;
      EXPECT_NEAR(ours, dscribe(i, j), 1e-9 * dscribe(i, j)) << i << "," << j;
    }
}

TEST(Coulomb, sine_spectrum_is_invariant_under_permutation_rotation_translation_and_wrapping) {
  const structure::Crystal c = random_crystal(structure::lattice_from_parameters(5.3, 6.1, 4.7, 79, 102, 95), 9,
                                              {8, 26, 3}, 11);
  const Eigen::VectorXd ref = coulomb_eigenvalues(c, 12);
  expect_near(coulomb_eigenvalues(permuted(c, reversed_order(c.n_sites())), 12), ref, 1e-9);
  expect_near(coulomb_eigenvalues(rotated(c, some_rotation()), 12), ref, 1e-9);
  expect_near(coulomb_eigenvalues(translated(c, Eigen::RowVector3d(0.37, -2.2, 5.1)), 12), ref, 1e-9);
  structure::Crystal wrapped = c;
  wrapped.frac = structure::wrap_fractional(c.frac);
  expect_near(coulomb_eigenvalues(wrapped, 12), ref, 1e-9);
}

TEST(Coulomb, sine_spectrum_is_not_supercell_invariant_and_grows_with_the_cell) {
  // Documented limitation: the sine matrix of a 2x1x1 supercell has twice as many eigenvalues, and they are not
  // the cell's spectrum repeated (the sine "distance" depends on the cell). Only Composition and PRDF are
  // independent of the choice of cell.
  const structure::Crystal c = rock_salt();
  const Eigen::VectorXd one = coulomb_eigenvalues(c, 16);
  const Eigen::VectorXd two = coulomb_eigenvalues(supercell(c, 2, 1, 1), 16);
  for (Eigen::Index k = 0; k < 8; ++k) EXPECT_NE(one(k), 0.0);
  for (Eigen::Index k = 8; k < 16; ++k) EXPECT_EQ(one(k), 0.0);
  for (Eigen::Index k = 0; k < 16; ++k) EXPECT_GT(std::abs(two(k)), 1e-6);
  EXPECT_GT(std::abs(two(0) - one(0)), 1e-3 * std::abs(one(0)));
}

TEST(Coulomb, plain_matrix_of_a_molecule_is_invariant_under_rigid_motion_and_permutation) {
  const structure::Crystal w = water();
  const Eigen::VectorXd ref = coulomb_eigenvalues(w, 3);
  expect_near(coulomb_eigenvalues(rotated(w, some_rotation()), 3), ref, 1e-10);
  expect_near(coulomb_eigenvalues(translated(w, Eigen::RowVector3d(3, -1, 2)), 3), ref, 1e-10);
  expect_near(coulomb_eigenvalues(permuted(w, {2, 0, 1}), 3), ref, 1e-10);
}

TEST(Coulomb, refuses_sine_for_molecules_coincident_sites_and_negative_size) {
  EXPECT_NE(invalid_of([] { coulomb_matrix(water(), CoulombVariant::Sine); }).find("needs a periodic structure"),
            std::string::npos);
  structure::Crystal c = rock_salt();
  c.frac(1, 0) = c.frac(0, 0) + 1.0;  // site 2 on top of site 1, one cell over
  c.frac(1, 1) = c.frac(0, 1);
  c.frac(1, 2) = c.frac(0, 2);
  EXPECT_NE(invalid_of([&] { coulomb_matrix(c); }).find("sites 1 and 2 coincide"), std::string::npos);
  EXPECT_THROW(coulomb_eigenvalues(water(), -1), InvalidArgument);
  EXPECT_EQ(coulomb_eigenvalues(water(), 0).size(), 0);
}

// ---- partial RDF ------------------------------------------------------------------------------------------------

TEST(PartialRdf, integral_is_the_coordination_number_twelve_in_fcc_copper) {
  // First shell of fcc at a / sqrt(2) = 2.556 A, the second at a = 3.615 A; with sigma = 0.05 A both are 10 sigma
  // from the end of the grid at 3.1 A, so the grid holds the whole first peak and nothing of the second. One
  // element, ordered pairs: integral of g_CuCu = 12.
  const double step = 0.025;
  const Eigen::VectorXd g = partial_rdf(cu_conventional(), {29}, 3.1, step, 0.05);
  ASSERT_EQ(g.size(), 124);
  EXPECT_NEAR(g.sum() * step, 12.0, 1e-7);
  Eigen::Index peak;
  g.maxCoeff(&peak);
  EXPECT_NEAR((static_cast<double>(peak) + 0.5) * step, 3.615 / std::sqrt(2.0), step / 2);
}

TEST(PartialRdf, rock_salt_pairs_integrate_to_the_first_shell_counts) {
  // Within 3.5 A every ion has 6 unlike neighbours at 2.82 A and no like ones (3.99 A). Per atom of the whole
  // structure: integral of g_NaCl = (4 Na * 6) / 8 = 3, g_NaNa = g_ClCl = 0; sum over pairs with weight 2 for
  // a != b = 6, the average coordination number.
  const double step = 0.02;
  const Eigen::VectorXd g = partial_rdf(rock_salt(), {11, 17}, 3.5, step, 0.08);
  const Eigen::Index nk = 175;
  ASSERT_EQ(g.size(), 3 * nk);
  EXPECT_NEAR(g.segment(0, nk).sum() * step, 0.0, 1e-12);
  EXPECT_NEAR(g.segment(nk, nk).sum() * step, 3.0, 1e-7);
  EXPECT_NEAR(g.segment(2 * nk, nk).sum() * step, 0.0, 1e-12);
  // Element order of the list decides the pair order; the values do not depend on it.
  const Eigen::VectorXd h = partial_rdf(rock_salt(), {17, 11}, 3.5, step, 0.08);
  expect_near(h.segment(nk, nk), g.segment(nk, nk), 1e-12);
}

TEST(PartialRdf, invariant_under_supercells_cell_choice_permutation_and_rigid_motion) {
  const structure::Crystal c = rock_salt();
  const Eigen::VectorXd ref = partial_rdf(c, {11, 17}, 8.0, 0.1, 0.1);
  expect_near(partial_rdf(supercell(c, 2, 1, 1), {11, 17}, 8.0, 0.1, 0.1), ref, 1e-10);
  expect_near(partial_rdf(supercell(c, 2, 2, 2), {11, 17}, 8.0, 0.1, 0.1), ref, 1e-10);
  expect_near(partial_rdf(permuted(c, reversed_order(8)), {11, 17}, 8.0, 0.1, 0.1), ref, 1e-10);
  expect_near(partial_rdf(rotated(c, some_rotation()), {11, 17}, 8.0, 0.1, 0.1), ref, 1e-10);
  expect_near(partial_rdf(translated(c, Eigen::RowVector3d(1.1, 0.3, -4)), {11, 17}, 8.0, 0.1, 0.1), ref, 1e-10);
  // Primitive (1 atom) and conventional (4 atoms) fcc Cu: same crystal, same PRDF and composition.
  expect_near(partial_rdf(cu_primitive(), {29}, 8.0, 0.1, 0.1), partial_rdf(cu_conventional(), {29}, 8.0, 0.1, 0.1),
              1e-10);
  expect_near(composition_features(cu_primitive(), {0, 1, 5}), composition_features(cu_conventional(), {0, 1, 5}),
              1e-12);
  // A low-symmetry cell.
  const structure::Crystal t = random_crystal(structure::lattice_from_parameters(4.1, 5.2, 4.4, 75, 99, 108), 7,
                                              {8, 26}, 5);
  expect_near(partial_rdf(supercell(t, 1, 2, 1), {8, 26}, 6.0, 0.1, 0.15), partial_rdf(t, {8, 26}, 6.0, 0.1, 0.15),
              1e-10);
}

TEST(PartialRdf, refuses_elements_outside_the_list_and_bad_grids) {
  EXPECT_EQ(invalid_of([] { partial_rdf(rock_salt(), {11, 26}, 8, 0.1, 0.1); }),
            "nacl: element Cl is not in the descriptor specification (elements: Na, Fe)");
  EXPECT_THROW(partial_rdf(rock_salt(), {}, 8, 0.1, 0.1), InvalidArgument);
  EXPECT_THROW(partial_rdf(rock_salt(), {11, 17, 11}, 8, 0.1, 0.1), InvalidArgument);
  EXPECT_THROW(partial_rdf(rock_salt(), {11, 17}, 8, 0.0, 0.1), InvalidArgument);
  EXPECT_THROW(partial_rdf(rock_salt(), {11, 17}, 8, 0.1, -0.1), InvalidArgument);
  // A 2000 A cutoff is a unit mistake: about 10^10 pairs are refused up front instead of computed.
  EXPECT_NE(invalid_of([] { partial_rdf(rock_salt(), {11, 17}, 2000, 1.0, 0.1); }).find("pairs; refusing"),
            std::string::npos);
}

// ---- describe ---------------------------------------------------------------------------------------------------

TEST(Describe, concatenates_the_kinds_in_spec_order) {
  DescriptorSpec s = spec_of({DescriptorKind::Coulomb, DescriptorKind::Composition, DescriptorKind::Prdf});
  s.properties = {"electronegativity"};
  s = fit_spec(s, {rock_salt(), water()});
  const Eigen::VectorXd v = describe(s, rock_salt());
  ASSERT_EQ(static_cast<std::size_t>(v.size()), s.size());
  expect_near(v.segment(0, 8), coulomb_eigenvalues(rock_salt(), 8), 0);
  expect_near(v.segment(8, 5), composition_features(rock_salt(), {index_of("electronegativity")}), 0);
  expect_near(v.segment(13, v.size() - 13), partial_rdf(rock_salt(), {1, 8, 11, 17}, 8.0, 0.1, 0.1), 0);
  // Auto picks the plain matrix for the molecule, zero-padded to coulomb_size.
  const Eigen::VectorXd w = describe(s, water());
  expect_near(w.segment(0, 8), coulomb_eigenvalues(water(), 8, CoulombVariant::Plain), 0);
  EXPECT_EQ(w(3), 0.0);
}

TEST(Describe, refuses_an_element_outside_the_spec_naming_file_and_element) {
  const DescriptorSpec s = fit_spec(spec_of({DescriptorKind::Prdf}), {rock_salt()});
  EXPECT_EQ(invalid_of([&] { describe(s, cu_conventional()); }),
            "cu_conv: element Cu is not in the descriptor specification (elements: Na, Cl)");
  // Composition needs no element list: any element is fine.
  EXPECT_EQ(describe(DescriptorSpec(), cu_conventional()).size(), static_cast<Eigen::Index>(DescriptorSpec().size()));
}

TEST(Describe, refuses_nan_coordinates_empty_structures_and_unfitted_specs) {
  structure::Crystal c = rock_salt();
  c.frac(2, 2) = std::numeric_limits<double>::quiet_NaN();
  EXPECT_NE(invalid_of([&] { describe(DescriptorSpec(), c); }).find("nacl: describe: site 3: non-finite coordinate"),
            std::string::npos);
  structure::Crystal empty = rock_salt();
  empty.frac.resize(0, 3);
  empty.numbers.clear();
  empty.labels.clear();
  EXPECT_NE(invalid_of([&] { describe(DescriptorSpec(), empty); }).find("has no sites"), std::string::npos);
  EXPECT_NE(invalid_of([&] { describe(spec_of({DescriptorKind::Coulomb}), rock_salt()); }).find("not fitted"),
            std::string::npos);
  DescriptorSpec bad;
  bad.rdf_sigma = 0;
  EXPECT_EQ(invalid_of([&] { describe(bad, rock_salt()); }), "rdf_sigma: must be > 0, got 0");
}

TEST(Describe, describe_many_equals_describe_and_does_not_depend_on_threads) {
  std::vector<structure::Crystal> set = {rock_salt(), water(), cu_primitive(), triclinic_lioffe(),
                                         supercell(rock_salt(), 1, 1, 2)};
  DescriptorSpec s = fit_spec(spec_of({DescriptorKind::Composition, DescriptorKind::Prdf, DescriptorKind::Coulomb}),
                              set);
  const Eigen::MatrixXd one = describe_many(s, set, {}, 1);
  ASSERT_EQ(one.rows(), 5);
  ASSERT_EQ(static_cast<std::size_t>(one.cols()), s.size());
  for (std::size_t k = 0; k < set.size(); ++k)
    EXPECT_TRUE(one.row(static_cast<Eigen::Index>(k)).transpose() == describe(s, set[k])) << k;
  EXPECT_TRUE(describe_many(s, set, {}, 3) == one);
  EXPECT_TRUE(one.allFinite());
  // The first bad structure is reported, whatever thread it would have run on.
  set[3].numbers[0] = 55;
  set[4].numbers[0] = 56;
  EXPECT_EQ(invalid_of([&] { describe_many(s, set, {}, 2); }),
            "lioffe: element Cs is not in the descriptor specification (elements: H, Li, O, Na, Cl, Fe, Cu)");
  EXPECT_THROW(describe_many(s, set, {0, 0}, 2), InvalidArgument);
}

TEST(Describe, smoke_test_on_real_fe_k_edge_molecules) {
  const std::filesystem::path dir = std::filesystem::path(TSUNAGU_SHARED_DIR) / "data/xas/fe_k_edge/xyz_train";
  if (!std::filesystem::is_directory(dir)) GTEST_SKIP() << "shared data not found: " << dir.string();
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ".xyz") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  if (files.size() > 12) files.resize(12);
  ASSERT_FALSE(files.empty());
  std::vector<structure::Crystal> mols;
  for (const auto& f : files) mols.push_back(structure::read_structure(f));
  const std::vector<std::size_t> sites(mols.size(), 0);  // the absorbing Fe is the first atom of every file
  for (const auto& m : mols) {
    ASSERT_FALSE(m.periodic);
    ASSERT_EQ(m.numbers[0], 26);
  }
  const DescriptorSpec s = fit_spec(
      spec_of({DescriptorKind::Composition, DescriptorKind::Prdf, DescriptorKind::Coulomb, DescriptorKind::Site}),
      mols, sites);
  EXPECT_NE(std::find(s.elements.begin(), s.elements.end(), 26), s.elements.end());
  const Eigen::MatrixXd x = describe_many(s, mols, sites, 2);
  ASSERT_EQ(x.rows(), static_cast<Eigen::Index>(mols.size()));
  EXPECT_TRUE(x.allFinite());
  EXPECT_EQ(DescriptorSpec::from_json(s.to_json()), s);
  // Every molecule has neighbours around Fe: its site block is not all zero.
  const std::size_t site_len = s.elements.size() * 60 + s.acsf_eta.size() * s.acsf_rs.size() +
                               2 * s.acsf_angular_eta.size() * s.acsf_zeta.size() + s.site_coulomb_size;
  for (Eigen::Index r = 0; r < x.rows(); ++r)
    EXPECT_GT(x.row(r).tail(static_cast<Eigen::Index>(site_len)).cwiseAbs().maxCoeff(), 0.0) << files[r];
}
