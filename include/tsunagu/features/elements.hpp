#pragma once
/// Table of elemental properties (a Magpie-like set) shipped in data/features/elements.csv and compiled into the
/// library, with the source and unit of every column in data/features/README.md.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tsunagu::features {

struct ElementProperty {
  std::string name;    ///< column name, e.g. "electronegativity"
  std::string unit;    ///< e.g. "Pauling", "pm", "eV", "g/mol", "" for dimensionless
  std::string source;  ///< short provenance, e.g. "pymatgen periodic_table.json (CRC Handbook)"
};

/// The table's columns, in table order.
const std::vector<ElementProperty>& element_properties();
/// Index of a property by name; nullopt when unknown.
std::optional<std::size_t> find_element_property(std::string_view name);
/// Value of property `p` for atomic number z (1..118); NaN where the source has no value. InvalidArgument for z or
/// p out of range.
double element_property(int z, std::size_t p);
/// Value used by the descriptors: element_property, or where that is NaN the mean of the property over the
/// elements that have it (documented imputation, so a noble gas still gets a finite descriptor).
double element_property_imputed(int z, std::size_t p);

}  // namespace tsunagu::features
