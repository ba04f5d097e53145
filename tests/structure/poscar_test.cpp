#include "tsunagu/structure/poscar.hpp"

#include <cmath>
#include <filesystem>
#include <string>

#include <Eigen/LU>
#include <gtest/gtest.h>

#include "tsunagu/core/error.hpp"
#include "tsunagu/core/io.hpp"
#include "tsunagu/structure/cif.hpp"

using namespace tsunagu;
using namespace tsunagu::structure;

namespace {

const std::string kData = std::string(TSUNAGU_SOURCE_DIR) + "/tests/structure/data/";

std::string parse_error_of(const std::string& text, const PoscarOptions& o = {}) {
  try {
    parse_poscar(text, "POSCAR", o);
  } catch (const ParseError& e) {
    return e.what();
  }
  return "";
}

// Wurtzite-like hexagonal cell with a non-trivial lattice, written by hand (a = 3.25, c = 5.21 A).
const char* kHex =
    "ZnO test\n"
    "1.0\n"
    "  3.25 0.0 0.0\n"
    "  -1.625 2.814583 0.0\n"
    "  0.0 0.0 5.21\n"
    "Zn O\n"
    "2 2\n"
    "Direct\n"
    "0.333333 0.666667 0.0\n"
    "0.666667 0.333333 0.5\n"
    "0.333333 0.666667 0.382\n"
    "0.666667 0.333333 0.882\n";

}  // namespace

TEST(Poscar, reads_vasp5_file_with_ordered_species) {
  const Poscar p = parse_poscar(tsunagu::core::read_file(kData + "Mn3GaN_ordered_Mn.vasp"), "mn3gan.vasp");
  const Crystal& c = p.crystal;
  ASSERT_EQ(c.n_sites(), 5u);
  EXPECT_EQ(c.numbers, (std::vector<int>{25, 25, 25, 31, 7}));
  EXPECT_EQ(c.labels[2], "Mn3");
  EXPECT_DOUBLE_EQ(c.frac(1, 0), 0.5);
  EXPECT_DOUBLE_EQ(c.lattice(2, 2), 3.898);
  EXPECT_TRUE(p.selective.empty());
}

TEST(Poscar, round_trip_direct_and_cartesian) {
  const Crystal c = parse_poscar(kHex, "hex").crystal;
  for (bool cart : {false, true}) {
    PoscarWriteOptions o;
    o.cartesian = cart;
    const Crystal back = parse_poscar(format_poscar(c, o), "back").crystal;
    EXPECT_EQ(back.numbers, c.numbers);
    EXPECT_TRUE(back.lattice.isApprox(c.lattice, 1e-14));
    EXPECT_LT((back.frac - c.frac).cwiseAbs().maxCoeff(), 1e-12) << cart;
  }
}

TEST(Poscar, writer_groups_species_and_writes_atomically) {
  // Interleaved species: written grouped, order within a species kept.
  Crystal c;
  c.lattice = 4.0 * Eigen::Matrix3d::Identity();
  c.frac.resize(4, 3);
  c.frac << 0, 0, 0, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.75, 0.75, 0.75;
  c.numbers = {26, 8, 26, 8};
  c.labels = {"Fe1", "O1", "Fe2", "O2"};
  const auto path = std::filesystem::temp_directory_path() / "tsunagu_poscar_test.vasp";
  PoscarWriteOptions o;
  o.selective = {{true, true, false}, {false, false, false}, {true, false, true}, {true, true, true}};
  write_poscar(path, c, o);
  const Poscar p = parse_poscar(core::read_file(path), path.string());
  std::filesystem::remove(path);
  EXPECT_EQ(p.crystal.numbers, (std::vector<int>{26, 26, 8, 8}));
  EXPECT_DOUBLE_EQ(p.crystal.frac(1, 0), 0.25);  // second Fe
  EXPECT_DOUBLE_EQ(p.crystal.frac(2, 0), 0.5);   // first O
  ASSERT_EQ(p.selective.size(), 4u);
  EXPECT_EQ(p.selective[1], (std::array<bool, 3>{true, false, true}));  // Fe2's flags moved with it
  EXPECT_EQ(p.comment, "Fe2O2");
  EXPECT_FALSE(std::filesystem::exists(path.string() + ".tmp"));
}

TEST(Poscar, negative_scale_is_the_target_volume) {
  // Lattice 2x2x2 = 8 A^3, scale -64 -> volume 64 A^3, i.e. a = 4 A; Cartesian positions scale with it.
  const std::string text = "vol\n-64\n2 0 0\n0 2 0\n0 0 2\nNa Cl\n1 1\nCartesian\n0 0 0\n1 1 1\n";
  const Crystal c = parse_poscar(text, "vol").crystal;
  EXPECT_NEAR(c.volume(), 64.0, 1e-10);
  EXPECT_NEAR(c.lattice(0, 0), 4.0, 1e-12);
  EXPECT_NEAR(c.frac(1, 0), 0.5, 1e-12);  // Cartesian (1,1,1) * 2 = (2,2,2) in a 4 A cube
  EXPECT_NEAR(c.cartesian()(1, 2), 2.0, 1e-12);
}

TEST(Poscar, positive_scale_multiplies_lattice_and_cartesian_positions) {
  const std::string text = "s\n2.0\n1 0 0\n0 1 0\n0 0 1\nFe\n2\nCartesian\n0 0 0\n0.5 0.5 0.5\n";
  const Crystal c = parse_poscar(text, "s").crystal;
  EXPECT_DOUBLE_EQ(c.lattice(1, 1), 2.0);
  EXPECT_NEAR(c.frac(1, 2), 0.5, 1e-15);
}

TEST(Poscar, vasp4_needs_species_from_the_caller) {
  const std::string text = "old\n1.0\n3 0 0\n0 3 0\n0 0 3\n1 1\nDirect\n0 0 0\n0.5 0.5 0.5\n";
  EXPECT_NE(parse_error_of(text).find("POSCAR:6: VASP 4 POSCAR without a species line"), std::string::npos)
      << parse_error_of(text);
  PoscarOptions o;
  o.species = {"Cs", "Cl"};
  const Crystal c = parse_poscar(text, "old", o).crystal;
  EXPECT_EQ(c.numbers, (std::vector<int>{55, 17}));
}

TEST(Poscar, errors_name_the_line) {
  EXPECT_NE(parse_error_of("c\nabc\n").find("POSCAR:2: scale factor"), std::string::npos);
  EXPECT_NE(parse_error_of("c\n1\n1 0 0\n0 1\n").find("POSCAR:4: lattice vector 2"), std::string::npos);
  EXPECT_NE(parse_error_of("c\n1\n1 0 0\n0 1 0\n0 0 1\nXx\n1\nDirect\n0 0 0\n").find("POSCAR:6: unknown element 'Xx'"),
            std::string::npos);
  EXPECT_NE(parse_error_of("c\n1\n3 0 0\n0 3 0\n0 0 3\nFe\n2\nDirect\n0 0 0\n").find("file ends before the atomic"),
            std::string::npos);
  EXPECT_NE(parse_error_of("c\n1\n3 0 0\n0 3 0\n0 0 3\nFe\n1\nSelective\nDirect\n0 0 0 T T\n")
                .find("POSCAR:10: atom 1: selective dynamics needs three T/F flags"),
            std::string::npos);
  EXPECT_NE(parse_error_of("c\n1\n3 0 0\n0 3 0\n0 0 3\nFe\n2\nDirect\n0 0 0\n0.01 0 0\n").find("overlapping atoms"),
            std::string::npos);
  EXPECT_NE(parse_error_of("c\n1\n3 0 0\n0 3 0\n0 0 3\nFe\n1\nBogus\n0 0 0\n").find("POSCAR:8: expected 'Direct'"),
            std::string::npos);
}

TEST(Poscar, writer_refuses_partial_occupancy) {
  Crystal c;
  c.lattice = 3.0 * Eigen::Matrix3d::Identity();
  c.frac = Eigen::MatrixXd::Zero(1, 3);
  c.numbers = {26};
  c.labels = {"Fe"};
  c.occupancies = Eigen::VectorXd::Constant(1, 0.5);
  EXPECT_THROW(format_poscar(c), InvalidArgument);
}
