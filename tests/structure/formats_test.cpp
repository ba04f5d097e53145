#include "tsunagu/structure/formats.hpp"

#include <filesystem>
#include <functional>
#include <string>

#include <gtest/gtest.h>

#include "tsunagu/core/error.hpp"
#include "tsunagu/core/io.hpp"

using namespace tsunagu;
using namespace tsunagu::structure;

namespace {

const std::string kData = std::string(TSUNAGU_SOURCE_DIR) + "/tests/structure/data/";

// pymatgen Structure.as_dict() layout (keys as pymatgen writes them), hand-written: CsCl, a = 4.12 A.
const char* kCsCl = R"({"@module": "pymatgen.core.structure", "@class": "Structure", "charge": 0,
 "lattice": {"matrix": [[4.12, 0.0, 0.0], [0.0, 4.12, 0.0], [0.0, 0.0, 4.12]], "pbc": [true, true, true],
             "a": 4.12, "b": 4.12, "c": 4.12, "alpha": 90.0, "beta": 90.0, "gamma": 90.0, "volume": 69.93},
 "properties": {},
 "sites": [
  {"species": [{"element": "Cs", "occu": 1}], "abc": [0.0, 0.0, 0.0], "xyz": [0.0, 0.0, 0.0], "label": "Cs",
   "properties": {}},
  {"species": [{"element": "Cl", "oxidation_state": -1, "occu": 1}], "abc": [0.5, 0.5, 0.5],
   "xyz": [2.06, 2.06, 2.06], "label": "Cl1", "properties": {}}]})";

std::string parse_error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const ParseError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(PymatgenJson, reads_structure_as_dict) {
  const Crystal c = parse_pymatgen_json(kCsCl, "cscl.json");
  ASSERT_EQ(c.n_sites(), 2u);
  EXPECT_EQ(c.numbers, (std::vector<int>{55, 17}));
  EXPECT_EQ(c.labels[1], "Cl1");
  EXPECT_DOUBLE_EQ(c.frac(1, 2), 0.5);
  EXPECT_DOUBLE_EQ(c.lattice(0, 0), 4.12);
  EXPECT_TRUE(c.periodic);
  // The Materials Project API wraps it: {"structure": {...}}
  const Crystal w = parse_pymatgen_json(std::string("{\"material_id\": \"mp-22865\", \"structure\": ") + kCsCl + "}");
  EXPECT_EQ(w.n_sites(), 2u);
}

TEST(PymatgenJson, disordered_site_becomes_one_site_per_species) {
  const char* text = R"({"lattice": {"matrix": [[3,0,0],[0,3,0],[0,0,3]]}, "sites": [
    {"species": [{"element": "Fe", "occu": 0.5}, {"element": "Co", "occu": 0.5}], "abc": [0, 0, 0]}]})";
  const Crystal c = parse_pymatgen_json(text, "d.json");
  ASSERT_EQ(c.n_sites(), 2u);
  EXPECT_DOUBLE_EQ(c.occupancies(1), 0.5);
  EXPECT_EQ(c.formula(), "Fe0.5Co0.5");
}

TEST(PymatgenJson, errors_name_the_field) {
  EXPECT_NE(parse_error_of([] { parse_pymatgen_json("{", "x.json"); }).find("x.json: invalid JSON"),
            std::string::npos);
  EXPECT_NE(parse_error_of([] { parse_pymatgen_json("{\"lattice\": {}}", "x.json"); }).find("sites: missing"),
            std::string::npos);
  EXPECT_NE(parse_error_of([] {
              parse_pymatgen_json(R"({"lattice": {"matrix": [[3,0,0],[0,3,0],[0,0,3]]}, "sites": [
                {"species": [{"element": "Fe", "occu": 1}], "abc": [0, 0]}]})",
                                  "x.json");
            }).find("sites[0].abc: expected 3 numbers"),
            std::string::npos);
  EXPECT_NE(parse_error_of([] {
              parse_pymatgen_json(R"({"lattice": {"matrix": [[3,0,0],[0,3,0],[0,0,3]]}, "sites": [
                {"species": [{"element": "Zz", "occu": 1}], "abc": [0, 0, 0]}]})",
                                  "x.json");
            }).find("sites[0].species[0].element: unknown element 'Zz'"),
            std::string::npos);
}

TEST(Xyz, molecule_keeps_cartesian_positions) {
  // Water, hand-written geometry (O-H 0.9572 A, H-O-H 104.52 degrees).
  const char* text = "3\nwater\nO 0.0 0.0 0.0\nH 0.9572 0.0 0.0\nH -0.2399872 0.9266272 0.0\n";
  const Crystal c = parse_xyz(text, "h2o.xyz");
  EXPECT_FALSE(c.periodic);
  ASSERT_EQ(c.n_sites(), 3u);
  EXPECT_NEAR(c.cartesian()(2, 1), 0.9266272, 1e-12);
  EXPECT_NEAR(c.distance(0, 2), 0.9572, 1e-6);
  EXPECT_EQ(c.formula(), "OH2");
}

TEST(Xyz, extended_xyz_lattice_makes_it_periodic) {
  const char* text =
      "2\nLattice=\"4.12 0 0 0 4.12 0 0 0 4.12\" Properties=species:S:1:pos:R:3 pbc=\"T T T\"\n"
      "Cs 0 0 0\nCl 2.06 2.06 2.06\n";
  const Crystal c = parse_xyz(text, "cscl.extxyz");
  EXPECT_TRUE(c.periodic);
  EXPECT_NEAR(c.frac(1, 0), 0.5, 1e-15);
  EXPECT_DOUBLE_EQ(c.lattice(2, 2), 4.12);
}

TEST(Xyz, errors_name_the_line) {
  EXPECT_NE(parse_error_of([] { parse_xyz("x\n", "m.xyz"); }).find("m.xyz:1: first line must be the number"),
            std::string::npos);
  EXPECT_NE(parse_error_of([] { parse_xyz("2\nc\nO 0 0 0\n", "m.xyz"); }).find("m.xyz:3: file ends before the atoms"),
            std::string::npos);
  EXPECT_NE(parse_error_of([] { parse_xyz("1\nc\nQq 0 0 0\n", "m.xyz"); }).find("m.xyz:3: unknown element 'Qq'"),
            std::string::npos);
  EXPECT_NE(parse_error_of([] { parse_xyz("1\nc\nO 0 zero 0\n", "m.xyz"); }).find("m.xyz:3: coordinate 2"),
            std::string::npos);
  EXPECT_NE(parse_error_of([] { parse_xyz("1\nLattice=\"1 2 3\"\nO 0 0 0\n", "m.xyz"); }).find("Lattice: expected 9"),
            std::string::npos);
}

TEST(ReadStructure, detects_format_by_extension_and_content) {
  EXPECT_EQ(detect_format("a.cif", ""), Format::Cif);
  EXPECT_EQ(detect_format("POSCAR", ""), Format::Poscar);
  EXPECT_EQ(detect_format("CONTCAR_relaxed", ""), Format::Poscar);
  EXPECT_EQ(detect_format("x.vasp", ""), Format::Poscar);
  EXPECT_EQ(detect_format("x.json", ""), Format::Json);
  EXPECT_EQ(detect_format("x.xyz", ""), Format::Xyz);
  EXPECT_EQ(detect_format("x.txt", " {\"sites\": []}"), Format::Json);
  EXPECT_EQ(detect_format("x.txt", "# c\ndata_a\n"), Format::Cif);
  EXPECT_EQ(detect_format("x.txt", "3\nwater\n"), Format::Xyz);
  EXPECT_EQ(detect_format("x.txt", "comment\n1.0\n"), Format::Poscar);
  EXPECT_EQ(parse_format("VASP"), Format::Poscar);
  EXPECT_THROW(parse_format("pdb"), InvalidArgument);
}

TEST(ReadStructure, reads_every_bundled_file) {
  EXPECT_EQ(read_structure(kData + "rutile_TiO2_P42mnm_explicit_ops.cif").n_sites(), 6u);
  EXPECT_EQ(read_structure(kData + "Mn3GaN_ordered_Mn.vasp").n_sites(), 5u);
  ReadOptions o;
  o.format = Format::Cif;
  o.cif_block = "second";
  EXPECT_EQ(read_structure(kData + "ZnO_P63mc_two_blocks.cif", o).n_sites(), 2u);
  EXPECT_THROW(read_structure(kData + "does_not_exist.cif"), IoError);
}
