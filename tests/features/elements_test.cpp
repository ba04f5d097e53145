#include "tsunagu/features/elements.hpp"

#include <cmath>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "tsunagu/core/error.hpp"
#include "tsunagu/structure/crystal.hpp"

using namespace tsunagu;
using namespace tsunagu::features;

namespace {

double prop(const char* symbol, const char* name) {
  const auto p = find_element_property(name);
  EXPECT_TRUE(p.has_value()) << name;
  return element_property(structure::atomic_number(symbol), *p);
}

}  // namespace

TEST(ElementTable, has_the_documented_columns_each_with_unit_and_source) {
  const auto& props = element_properties();
  const std::vector<std::string> expected = {
      "atomic_number", "atomic_mass",  "row",        "group",      "mendeleev_number", "electronegativity",
      "covalent_radius", "atomic_radius", "melting_point", "density", "first_ionization_energy",
      "electron_affinity", "valence_s", "valence_p", "valence_d", "valence_f", "valence_electrons", "molar_volume",
      "polarizability"};
  ASSERT_EQ(props.size(), expected.size());
  for (std::size_t p = 0; p < props.size(); ++p) {
    EXPECT_EQ(props[p].name, expected[p]);
    EXPECT_FALSE(props[p].source.empty()) << props[p].name;
    EXPECT_EQ(find_element_property(props[p].name), p);
  }
  EXPECT_EQ(props[*find_element_property("electronegativity")].unit, "Pauling");
  EXPECT_EQ(props[*find_element_property("covalent_radius")].unit, "pm");
  EXPECT_EQ(props[*find_element_property("first_ionization_energy")].unit, "eV");
  EXPECT_EQ(props[*find_element_property("atomic_mass")].unit, "g/mol");
  EXPECT_EQ(props[*find_element_property("polarizability")].unit, "bohr^3");
  EXPECT_FALSE(find_element_property("Electronegativity").has_value());
  EXPECT_FALSE(find_element_property("").has_value());
}

TEST(ElementTable, reference_values_match_iupac_nist_crc_and_cordero) {
  EXPECT_DOUBLE_EQ(prop("Fe", "atomic_mass"), 55.845);                 // IUPAC standard atomic weight
  EXPECT_DOUBLE_EQ(prop("O", "atomic_mass"), 15.999);                  // IUPAC conventional atomic weight
  EXPECT_DOUBLE_EQ(prop("O", "electronegativity"), 3.44);              // Pauling (CRC)
  EXPECT_DOUBLE_EQ(prop("Na", "electronegativity"), 0.93);
  EXPECT_DOUBLE_EQ(prop("Cl", "electronegativity"), 3.16);
  EXPECT_DOUBLE_EQ(prop("F", "electronegativity"), 3.98);
  EXPECT_DOUBLE_EQ(prop("H", "first_ionization_energy"), 13.5984345997);  // NIST ASD 13.598434599702 eV
  EXPECT_DOUBLE_EQ(prop("Fe", "first_ionization_energy"), 7.9024681);     // NIST ASD
  EXPECT_DOUBLE_EQ(prop("O", "covalent_radius"), 66.0);                // Cordero et al. 2008
  EXPECT_DOUBLE_EQ(prop("H", "polarizability"), 4.50711);              // exact non-relativistic value, bohr^3
  EXPECT_DOUBLE_EQ(prop("Fe", "row"), 4.0);
  EXPECT_DOUBLE_EQ(prop("Fe", "group"), 8.0);
  EXPECT_DOUBLE_EQ(prop("La", "group"), 3.0);
  EXPECT_DOUBLE_EQ(prop("Og", "atomic_number"), 118.0);
}

TEST(ElementTable, valence_counts_are_electrons_outside_the_noble_gas_core) {
  struct Case {
    const char* symbol;
    double s, p, d, f;
  };
  // Ground-state configurations: H 1s1, Ne [He]2s2 2p6, Cu [Ar]3d10 4s1, Ga [Ar]3d10 4s2 4p1, Ce [Xe]4f1 5d1 6s2,
  // Pb [Xe]4f14 5d10 6s2 6p2.
  for (const Case& c : {Case{"H", 1, 0, 0, 0}, Case{"Ne", 2, 6, 0, 0}, Case{"Cu", 1, 0, 10, 0},
                        Case{"Ga", 2, 1, 10, 0}, Case{"Ce", 2, 0, 1, 1}, Case{"Pb", 2, 2, 10, 14}}) {
    SCOPED_TRACE(c.symbol);
    EXPECT_EQ(prop(c.symbol, "valence_s"), c.s);
    EXPECT_EQ(prop(c.symbol, "valence_p"), c.p);
    EXPECT_EQ(prop(c.symbol, "valence_d"), c.d);
    EXPECT_EQ(prop(c.symbol, "valence_f"), c.f);
    EXPECT_EQ(prop(c.symbol, "valence_electrons"), c.s + c.p + c.d + c.f);
  }
}

TEST(ElementTable, missing_values_are_nan_and_imputed_with_the_column_mean) {
  const std::size_t en = *find_element_property("electronegativity");
  EXPECT_TRUE(std::isnan(element_property(2, en)));  // He has no Pauling electronegativity
  double sum = 0;
  int n = 0;
  for (int z = 1; z <= 118; ++z) {
    const double v = element_property(z, en);
    if (!std::isnan(v)) {
      sum += v;
      ++n;
    }
  }
  EXPECT_GT(n, 50);
  EXPECT_NEAR(element_property_imputed(2, en), sum / n, 1e-12);
  EXPECT_EQ(element_property_imputed(8, en), 3.44);  // present values pass through
  for (std::size_t p = 0; p < element_properties().size(); ++p)
    for (int z = 1; z <= 118; ++z) ASSERT_TRUE(std::isfinite(element_property_imputed(z, p))) << z << " " << p;
}

TEST(ElementTable, out_of_range_arguments_are_refused) {
  EXPECT_THROW(element_property(0, 0), InvalidArgument);
  EXPECT_THROW(element_property(119, 0), InvalidArgument);
  EXPECT_THROW(element_property(1, element_properties().size()), InvalidArgument);
  EXPECT_THROW(element_property_imputed(-3, 0), InvalidArgument);
}

TEST(ElementTable, compiled_table_equals_data_features_elements_csv) {
  std::ifstream in(std::string(TSUNAGU_SOURCE_DIR) + "/data/features/elements.csv");
  ASSERT_TRUE(in) << "data/features/elements.csv";
  std::string line;
  std::vector<std::string> header;
  int rows = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> cells;
    std::stringstream ss(line);
    for (std::string cell; std::getline(ss, cell, ',');) cells.push_back(cell);
    if (header.empty()) {
      header = cells;
      ASSERT_EQ(header.size(), element_properties().size() + 2);
      EXPECT_EQ(header[0], "z");
      EXPECT_EQ(header[1], "symbol");
      for (std::size_t p = 0; p < element_properties().size(); ++p) EXPECT_EQ(header[p + 2], element_properties()[p].name);
      continue;
    }
    ASSERT_EQ(cells.size(), header.size()) << line;
    const int z = std::stoi(cells[0]);
    EXPECT_EQ(cells[1], structure::element_symbol(z));
    for (std::size_t p = 0; p < element_properties().size(); ++p) {
      const double v = element_property(z, p);
      if (cells[p + 2] == "NaN")
        EXPECT_TRUE(std::isnan(v)) << z << " " << header[p + 2];
      else
        EXPECT_EQ(v, std::stod(cells[p + 2])) << z << " " << header[p + 2];
    }
    ++rows;
  }
  EXPECT_EQ(rows, 118);
}
