// tsunagu._tsunagu.features: structure descriptors. Crystals arrive as the argument tuples of
// tsunagu.structure.Crystal._args(); specifications as JSON text (DescriptorSpec::to_json).
#include <pybind11/eigen.h>
#include <pybind11/stl.h>

#include <nlohmann/json.hpp>

#include "bindings.hpp"
#include "tsunagu/core/error.hpp"
#include "tsunagu/features/descriptors.hpp"
#include "tsunagu/features/elements.hpp"
#include "tsunagu/features/neighbors.hpp"

namespace py = pybind11;

namespace tsunagu::python {
namespace {

std::vector<structure::Crystal> crystals_from(const std::vector<py::tuple>& ts) {
  std::vector<structure::Crystal> cs;
  cs.reserve(ts.size());
  for (const auto& t : ts) cs.push_back(crystal_from_args(t));
  return cs;
}

}  // namespace

void bind_features(py::module_& m) {
  m.def("element_properties", [] {
    std::vector<std::tuple<std::string, std::string, std::string>> out;
    for (const auto& p : features::element_properties()) out.emplace_back(p.name, p.unit, p.source);
    return out;
  });
  m.def("element_table", [](bool imputed) {
    const auto& props = features::element_properties();
    Eigen::MatrixXd t(118, static_cast<Eigen::Index>(props.size()));
    for (int z = 1; z <= 118; ++z)
      for (std::size_t p = 0; p < props.size(); ++p)
        t(z - 1, static_cast<Eigen::Index>(p)) =
            imputed ? features::element_property_imputed(z, p) : features::element_property(z, p);
    return t;
  }, py::arg("imputed"));

  m.def("neighbor_list", [](const py::tuple& crystal, double cutoff, unsigned threads) {
    const auto c = crystal_from_args(crystal);
    features::NeighborList nl;
    {
      py::gil_scoped_release release;
      nl = features::neighbor_list(c, cutoff, threads);
    }
    Eigen::Matrix<int, Eigen::Dynamic, 3, Eigen::RowMajor> images(static_cast<Eigen::Index>(nl.image.size()), 3);
    for (std::size_t k = 0; k < nl.image.size(); ++k)
      for (int d = 0; d < 3; ++d) images(static_cast<Eigen::Index>(k), d) = nl.image[k][static_cast<std::size_t>(d)];
    py::dict out;
    out["start"] = nl.start;
    out["index"] = nl.index;
    out["distance"] = nl.distance;
    out["vector"] = Eigen::MatrixXd(nl.vector);
    out["image"] = images;
    return out;
  }, py::arg("crystal"), py::arg("cutoff"), py::arg("threads"));

  m.def("spec_default", [] { return features::DescriptorSpec{}.to_json().dump(); });
  m.def("spec_names", [](const std::string& spec) {
    return features::DescriptorSpec::from_json(nlohmann::json::parse(spec)).names();
  }, py::arg("spec"));

  m.def("fit_spec", [](const std::string& spec, const std::vector<py::tuple>& crystals,
                       const std::vector<std::size_t>& sites) {
    const auto s = features::DescriptorSpec::from_json(nlohmann::json::parse(spec));
    const auto cs = crystals_from(crystals);
    py::gil_scoped_release release;
    return features::fit_spec(s, cs, sites).to_json().dump();
  }, py::arg("spec"), py::arg("crystals"), py::arg("sites"));

  m.def("describe", [](const std::string& spec, const std::vector<py::tuple>& crystals,
                       const std::vector<std::size_t>& sites, unsigned threads) {
    const auto s = features::DescriptorSpec::from_json(nlohmann::json::parse(spec));
    const auto cs = crystals_from(crystals);
    py::gil_scoped_release release;
    return features::describe_many(s, cs, sites, threads);
  }, py::arg("spec"), py::arg("crystals"), py::arg("sites"), py::arg("threads"));

  m.def("coulomb_matrix", [](const py::tuple& crystal, const std::string& variant) {
    features::CoulombVariant v = features::CoulombVariant::Auto;
    if (variant == "plain") v = features::CoulombVariant::Plain;
    else if (variant == "sine") v = features::CoulombVariant::Sine;
    else if (variant != "auto") throw InvalidArgument("variant: auto | plain | sine, got '" + variant + "'");
    return features::coulomb_matrix(crystal_from_args(crystal), v);
  }, py::arg("crystal"), py::arg("variant"));

  m.def("partial_rdf", [](const py::tuple& crystal, const std::vector<int>& elements, double cutoff, double step,
                          double sigma) {
    return features::partial_rdf(crystal_from_args(crystal), elements, cutoff, step, sigma);
  }, py::arg("crystal"), py::arg("elements"), py::arg("cutoff"), py::arg("step"), py::arg("sigma"));
}

}  // namespace tsunagu::python
