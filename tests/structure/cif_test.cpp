#include "tsunagu/structure/cif.hpp"

#include <cmath>
#include <string>

#include <gtest/gtest.h>

#include "tsunagu/core/error.hpp"

using namespace tsunagu;
using namespace tsunagu::structure;

namespace {

const std::string kData = std::string(TSUNAGU_SOURCE_DIR) + "/tests/structure/data/";

std::string parse_error_of(const std::string& text) {
  try {
    parse_cif(text, "bad.cif");
  } catch (const ParseError& e) {
    return e.what();
  }
  return "";
}

std::size_t count(const Crystal& c, int z) {
  std::size_t n = 0;
  for (int x : c.numbers) n += x == z;
  return n;
}

bool has_position(const Crystal& c, double x, double y, double z) {
  for (Eigen::Index i = 0; i < c.frac.rows(); ++i) {
    Eigen::RowVector3d d = c.frac.row(i) - Eigen::RowVector3d(x, y, z);
    for (int k = 0; k < 3; ++k) d(k) -= std::round(d(k));
    if (d.norm() < 1e-6) return true;
  }
  return false;
}

// A cubic cell with one atom and whatever else the test appends.
const std::string kCell = R"(data_t
_cell_length_a 4
_cell_length_b 4
_cell_length_c 4
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 90
)";
const std::string kAtom = "loop_\n_atom_site_label\n_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\nFe1 0 0 0\n";

}  // namespace

TEST(CifTokens, quotes_text_fields_comments_and_missing_values) {
  const auto blocks = parse_cif_blocks(
      "# comment\n"
      "data_One\n"
      "_a 'it''s quoted'   # trailing comment\n"
      "_b \"double 'inner' quotes\"\n"
      "_c\n;\nline one\nline two\n;\n"
      "_d ?\n_e '?'\n_f .\n"
      "loop_ _x _y\n1 'a b' 2 ;x\n",
      "t.cif");
  ASSERT_EQ(blocks.size(), 1u);
  const CifBlock& b = blocks[0];
  EXPECT_EQ(b.name, "One");
  EXPECT_EQ(b.find("_A")->text, "it''s quoted");  // CIF 1.1: a quote closes only before whitespace
  EXPECT_EQ(b.find("_b")->text, "double 'inner' quotes");
  EXPECT_EQ(b.find("_c")->text, "line one\nline two");
  EXPECT_TRUE(b.find("_d")->missing());
  EXPECT_FALSE(b.find("_e")->missing());  // quoted '?' is text
  EXPECT_TRUE(b.find("_f")->missing());
  std::size_t col = 9;
  const CifLoop* loop = b.find_loop("_y", &col);
  ASSERT_NE(loop, nullptr);
  EXPECT_EQ(col, 1u);
  ASSERT_EQ(loop->rows.size(), 2u);
  EXPECT_EQ(loop->rows[0][1].text, "a b");
  EXPECT_EQ(loop->rows[1][1].text, ";x");  // ';' not at the start of a line is an ordinary character
}

TEST(CifTokens, numbers_with_standard_uncertainties) {
  EXPECT_DOUBLE_EQ(*cif_number({"5.4321(3)", 1, false}), 5.4321);
  EXPECT_DOUBLE_EQ(*cif_number({"3.905(2)", 1, false}), 3.905);
  EXPECT_DOUBLE_EQ(*cif_number({"-.5", 1, false}), -0.5);
  EXPECT_DOUBLE_EQ(*cif_number({"1e-3", 1, false}), 1e-3);
  EXPECT_FALSE(cif_number({"?", 1, false}));
  EXPECT_FALSE(cif_number({".", 1, false}));
  EXPECT_FALSE(cif_number({"abc", 1, false}));
  EXPECT_FALSE(cif_number({"0x10", 1, false}));
  EXPECT_FALSE(cif_number({"nan", 1, false}));
  EXPECT_FALSE(cif_number({"1.0(3", 1, false}));
}

TEST(CifTokens, malformed_files_name_the_line) {
  EXPECT_NE(parse_error_of("data_x\n_a 'open\n").find("bad.cif:2: unterminated quoted"), std::string::npos);
  EXPECT_NE(parse_error_of("data_x\n_a\n;\ntext\n").find("bad.cif:3: unterminated ;"), std::string::npos);
  EXPECT_NE(parse_error_of("_a 1\n").find("before the first data_"), std::string::npos);
  EXPECT_NE(parse_error_of("data_x\nloop_\n_a\n_b\n1 2 3\n").find("_a: loop_ has 3 values for 2 tags"),
            std::string::npos);
}

TEST(Symop, parses_linear_terms_in_many_styles) {
  auto check = [](const char* text, Eigen::Matrix3i R, Eigen::Vector3d t) {
    const SymOp op = parse_symop(text);
    EXPECT_EQ(op.rotation, R) << text;
    EXPECT_TRUE(op.translation.isApprox(t, 1e-12) || (t.isZero() && op.translation.isZero())) << text;
  };
  Eigen::Matrix3i R;
  R << -1, 0, 0, 0, 1, 0, 0, 0, 1;
  check("-x+1/2, y, z+1/2", R, {0.5, 0, 0.5});
  R << 1, -1, 0, 1, 0, 0, 0, 0, -1;
  check("x-y,x,-z+0.5", R, {0, 0, 0.5});
  R.setIdentity();
  check("1/2+x, Y, +z-1/3", R, {0.5, 0, -1.0 / 3});
  check(" x , y , z ", R, {0, 0, 0});
  check("1*x, y, z", R, {0, 0, 0});
}

TEST(Symop, refuses_anything_that_is_not_linear) {
  for (const char* bad : {"x+y*z, y, z", "sin(x), y, z", "x, y", "x, y, z, 1", "0.5x, y, z", "x,y,z+1/0",
                          "x,y,__import__('os')", "x, y, 2z", "x, x, z", "x+, y, z", "x, y, z;rm", "x y, y, z"}) {
    try {
      parse_symop(bad);
      ADD_FAILURE() << "accepted " << bad;
    } catch (const InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
    }
  }
}

TEST(Cif, rutile_with_explicit_operations_expands_to_ita_multiplicities) {
  const Crystal c = read_cif(kData + "rutile_TiO2_P42mnm_explicit_ops.cif");
  ASSERT_EQ(c.n_sites(), 6u);  // Ti 2a + O 4f
  EXPECT_EQ(count(c, 22), 2u);
  EXPECT_EQ(count(c, 8), 4u);
  EXPECT_NEAR(c.lattice(0, 0), 4.5937, 1e-12);
  EXPECT_NEAR(c.lattice(2, 2), 2.9587, 1e-12);
  const double x = 0.3049;
  // 4f of P4_2/mnm: (x,x,0), (-x,-x,0), (-x+1/2,x+1/2,1/2), (x+1/2,-x+1/2,1/2)
  EXPECT_TRUE(has_position(c, x, x, 0));
  EXPECT_TRUE(has_position(c, -x, -x, 0));
  EXPECT_TRUE(has_position(c, 0.5 - x, 0.5 + x, 0.5));
  EXPECT_TRUE(has_position(c, 0.5 + x, 0.5 - x, 0.5));
  EXPECT_TRUE(has_position(c, 0.5, 0.5, 0.5));
  EXPECT_EQ(c.select_label("O 1").size(), 4u);  // the quoted label survives, spaces included
  EXPECT_EQ(c.occupancies.size(), 0);           // all fully occupied
  for (Eigen::Index i = 0; i < c.frac.rows(); ++i)
    for (int k = 0; k < 3; ++k) {
      EXPECT_GE(c.frac(i, k), 0.0);
      EXPECT_LT(c.frac(i, k), 1.0);
    }
}

TEST(Cif, mn3gan_from_hm_symbol_gives_five_atoms) {
  const Crystal c = read_cif(kData + "Mn3GaN_Pm-3m_from_HM_name.cif");
  ASSERT_EQ(c.n_sites(), 5u);  // Ga 1a + N 1b + Mn 3c
  EXPECT_EQ(c.select_element("Mn").size(), 3u);
  EXPECT_TRUE(has_position(c, 0, 0.5, 0.5));
  EXPECT_TRUE(has_position(c, 0.5, 0, 0.5));
  EXPECT_TRUE(has_position(c, 0.5, 0.5, 0));
  EXPECT_NEAR(c.lattice(1, 1), 3.898, 1e-12);  // "3.898(2)"
}

TEST(Cif, nacl_from_it_number_and_missing_occupancies) {
  const Crystal c = read_cif(kData + "NaCl_Fm-3m_from_IT_number.cif");
  ASSERT_EQ(c.n_sites(), 8u);  // Na 4a + Cl 4b
  EXPECT_EQ(count(c, 11), 4u);
  EXPECT_EQ(count(c, 17), 4u);
  EXPECT_EQ(c.formula(), "Na4Cl4");
}

TEST(Cif, multiple_blocks_first_by_default_or_by_name) {
  const Crystal zno = read_cif(kData + "ZnO_P63mc_two_blocks.cif");
  EXPECT_EQ(zno.n_sites(), 4u);  // Zn 2b + O 2b
  EXPECT_NEAR(zno.parameters()(5), 120.0, 1e-9);
  CifOptions o;
  o.block = "SECOND";
  const Crystal fe = read_cif(kData + "ZnO_P63mc_two_blocks.cif", o);
  EXPECT_EQ(fe.n_sites(), 2u);  // Im-3m 2a
  o.block = "third";
  try {
    read_cif(kData + "ZnO_P63mc_two_blocks.cif", o);
    FAIL();
  } catch (const ParseError& e) {
    EXPECT_NE(std::string(e.what()).find("no data block 'third' (blocks: ZnO_wurtzite, second)"), std::string::npos)
        << e.what();
  }
}

TEST(Cif, partial_occupancy_and_single_atom_items) {
  const Crystal c = parse_cif(kCell +
                              "_symmetry_space_group_name_H-M 'P 1'\n"
                              "loop_\n_atom_site_label\n_atom_site_type_symbol\n_atom_site_fract_x\n_atom_site_fract_y\n"
                              "_atom_site_fract_z\n_atom_site_occupancy\nFe1 Fe 0 0 0 0.5\nCo1 Co 0 0 0 0.5\n",
                              "disorder.cif");
  ASSERT_EQ(c.n_sites(), 2u);
  ASSERT_EQ(c.occupancies.size(), 2);
  EXPECT_DOUBLE_EQ(c.occupancies(1), 0.5);
  const Crystal one = parse_cif(kCell + "_space_group_IT_number 1\n_atom_site_label Cu1\n_atom_site_fract_x 0.1\n"
                                        "_atom_site_fract_y 0.2\n_atom_site_fract_z 0.3\n",
                                "one.cif");
  ASSERT_EQ(one.n_sites(), 1u);
  EXPECT_EQ(one.numbers[0], 29);
}

TEST(CifErrors, each_names_file_line_and_field) {
  struct Case {
    std::string text, want;
  };
  const std::string ops = "_symmetry_space_group_name_H-M 'P 1'\n";
  const std::vector<Case> cases = {
      {"data_t\n_cell_length_b 4\n", "bad.cif:1: _cell_length_a: missing in data_t"},
      {"data_t\n_cell_length_a 4,0\n", "bad.cif:2: _cell_length_a: not a number: '4,0'"},
      {kCell + kAtom,
       "bad.cif:1: data_t: no symmetry operations (_space_group_symop_operation_xyz or _symmetry_equiv_pos_as_xyz) "
       "and no space group"},
      {kCell + "loop_\n_space_group_symop_operation_xyz\n'x,y,z'\n'x+y*z, y, z'\n" + kAtom,
       "bad.cif:11: _space_group_symop_operation_xyz: symmetry operation 'x+y*z, y, z': unexpected '*'"},
      {kCell + "_symmetry_equiv_pos_as_xyz 'sin(x),y,z'\n" + kAtom,
       "bad.cif:8: _symmetry_equiv_pos_as_xyz: symmetry operation 'sin(x),y,z'"},
      {kCell + "_symmetry_space_group_name_H-M 'P 7'\n" + kAtom,
       "bad.cif:8: _symmetry_space_group_name_H-M: unknown space-group symbol 'P 7'"},
      {kCell + "_space_group_IT_number 231\n" + kAtom, "bad.cif:8: _space_group_IT_number: space-group number '231'"},
      {kCell + ops, "bad.cif:1: _atom_site_fract_x: no atoms in data_t"},
      {kCell + ops + "loop_\n_atom_site_label\n_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\nXx1 0 0 0\n",
       "bad.cif:14: _atom_site_label: unknown element 'Xx1'"},
      {kCell + ops + "loop_\n_atom_site_type_symbol\n_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\n"
                     "Qq 0 0 0\n",
       "bad.cif:14: _atom_site_type_symbol: unknown element 'Qq'"},
      {kCell + ops + "loop_\n_atom_site_label\n_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\n"
                     "Fe1 0 0 0\nFe2 0.02 0 0\n",
       "bad.cif:9: _atom_site: overlapping atoms: site 1 'Fe1' and site 2 'Fe2' are 0.08 A apart"},
      {kCell + ops + "loop_\n_atom_site_label\n_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\nFe1 0 ? 0\n",
       "bad.cif:14: _atom_site_fract_y: not a number: '?'"},
      {kCell + ops + "loop_\n_atom_site_label\n_atom_site_fract_x\n_atom_site_fract_z\nFe1 0 0\n",
       "_atom_site_fract_y: missing next to _atom_site_fract_x"},
  };
  for (const auto& c : cases) {
    const std::string m = parse_error_of(c.text);
    EXPECT_NE(m.find(c.want), std::string::npos) << "got: " << m << "\nwant: " << c.want;
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;  // one line
  }
}
