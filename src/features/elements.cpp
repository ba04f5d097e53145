#include "tsunagu/features/elements.hpp"

#include <array>
#include <cmath>
#include <limits>

#include "element_data.hpp"
#include "tsunagu/core/error.hpp"

namespace tsunagu::features {
namespace {

constexpr int kMaxZ = 118;

void check_z(int z) {
  if (z < 1 || z > kMaxZ)
    throw InvalidArgument("element property: atomic number " + std::to_string(z) + " is outside 1..118");
}

void check_p(std::size_t p) {
  if (p >= detail::element_column_count())
    throw InvalidArgument("element property: column " + std::to_string(p) + " is out of range (the table has " +
                          std::to_string(detail::element_column_count()) + " columns)");
}

// Mean of each column over the elements that have a value (the imputation of element_property_imputed).
const std::vector<double>& column_means() {
  static const std::vector<double> means = [] {
    std::vector<double> m(detail::element_column_count(), std::numeric_limits<double>::quiet_NaN());
    for (std::size_t p = 0; p < m.size(); ++p) {
      double sum = 0;
      int n = 0;
      for (int z = 1; z <= kMaxZ; ++z) {
        const double v = detail::element_value(z, p);
        if (!std::isnan(v)) {
          sum += v;
          ++n;
        }
      }
      if (n > 0) m[p] = sum / n;
    }
    return m;
  }();
  return means;
}

}  // namespace

const std::vector<ElementProperty>& element_properties() {
  static const std::vector<ElementProperty> props = [] {
    std::vector<ElementProperty> out;
    for (std::size_t p = 0; p < detail::element_column_count(); ++p) {
      const detail::ElementColumn& c = detail::element_column(p);
      out.push_back({c.name, c.unit, c.source});
    }
    return out;
  }();
  return props;
}

std::optional<std::size_t> find_element_property(std::string_view name) {
  const auto& props = element_properties();
  for (std::size_t p = 0; p < props.size(); ++p)
    if (props[p].name == name) return p;
  return std::nullopt;
}

double element_property(int z, std::size_t p) {
  check_z(z);
  check_p(p);
  return detail::element_value(z, p);
}

double element_property_imputed(int z, std::size_t p) {
  const double v = element_property(z, p);
  return std::isnan(v) ? column_means()[p] : v;
}

}  // namespace tsunagu::features
