#include "tsunagu/structure/describe.hpp"

#include <string>

#include <gtest/gtest.h>

#include <cmath>

#include "tsunagu/structure/cif.hpp"
#include "tsunagu/structure/formats.hpp"

using namespace tsunagu::structure;

namespace {
const std::string kData = std::string(TSUNAGU_SOURCE_DIR) + "/tests/structure/data/";
}

TEST(Describe, rutile_orbits_are_2a_and_4f) {
  const Crystal c = read_cif(kData + "rutile_TiO2_P42mnm_explicit_ops.cif");
  const auto j = describe(c);
  EXPECT_EQ(j["formula"], "Ti2O4");
  EXPECT_EQ(j["n_sites"], 6);
  EXPECT_NEAR(j["lattice"]["c"].get<double>(), 2.9587, 1e-12);
  EXPECT_NEAR(j["lattice"]["volume"].get<double>(), 4.5937 * 4.5937 * 2.9587, 1e-9);
  const auto& s = j["symmetry"];
  EXPECT_EQ(s["number"], 136);
  EXPECT_EQ(s["international"], "P4_2/mnm");
  ASSERT_EQ(s["orbits"].size(), 2u);
  EXPECT_EQ(s["orbits"][0]["element"], "Ti");
  EXPECT_EQ(s["orbits"][0]["wyckoff"], "2a");  // ITA multiplicities and letters of No. 136
  EXPECT_EQ(s["orbits"][1]["wyckoff"], "4f");
  EXPECT_EQ(s["orbits"][1]["labels"][0], "O 1");
}

TEST(Describe, molecule_and_disorder_have_no_space_group_but_a_note) {
  const Crystal water = parse_xyz("3\nwater\nO 0 0 0\nH 0.9572 0 0\nH -0.24 0.927 0\n", "w.xyz");
  const auto j = describe(water);
  EXPECT_TRUE(j["symmetry"].is_null());
  EXPECT_NE(j["symmetry_note"].get<std::string>().find("molecule"), std::string::npos);
  Crystal d = read_cif(kData + "Mn3GaN_Pm-3m_from_HM_name.cif");
  d.occupancies = Eigen::VectorXd::Ones(5);
  d.occupancies(4) = 0.9;
  EXPECT_NE(describe(d)["symmetry_note"].get<std::string>().find("partially occupied"), std::string::npos);
}

TEST(Describe, magnetic_json_has_the_numbers) {
  MagneticSymmetry m;
  m.uni_number = 1331;
  m.bns_number = "166.101";
  m.type = 3;
  m.ferromagnetic_basis = Eigen::MatrixXd::Constant(3, 1, 1 / std::sqrt(3.0));  // [111]
  m.admits_ferromagnetism = true;
  const auto j = to_json(m);
  EXPECT_EQ(j["bns_number"], "166.101");
  EXPECT_EQ(j["ferromagnetic_basis"].size(), 1u);
  EXPECT_EQ(j["admits_ferromagnetism"], true);
}
