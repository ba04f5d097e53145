#pragma once
/// Private interface of the generated element table (src/features/element_data.cpp, written by
/// scripts/make_element_table.py). Public access goes through tsunagu/features/elements.hpp.
#include <cstddef>

namespace tsunagu::features::detail {

struct ElementColumn {
  const char* name;
  const char* unit;
  const char* source;
};

std::size_t element_column_count() noexcept;
/// p < element_column_count(); unchecked.
const ElementColumn& element_column(std::size_t p) noexcept;
/// z in 1..118, p < element_column_count(); unchecked. NaN where the source has no value.
double element_value(int z, std::size_t p) noexcept;

}  // namespace tsunagu::features::detail
