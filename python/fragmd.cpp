// tsunagu._tsunagu.fragmd: EFP2 energies and gradients, fragment descriptors. Atomic units at this layer (bohr,
// hartree, radian); the Python wrapper (tsunagu/fragmd.py) documents and converts.
#include <pybind11/eigen.h>
#include <pybind11/stl.h>

#include "bindings.hpp"
#include "tsunagu/core/error.hpp"
#include "tsunagu/fragmd/descriptors.hpp"
#include "tsunagu/fragmd/energy.hpp"
#include "tsunagu/fragmd/input.hpp"

namespace py = pybind11;

namespace tsunagu::python {
namespace {

py::dict energy_dict(const fragmd::ComputeResult& r) {
  py::dict d;
  d["electrostatic"] = r.energy.electrostatic;
  d["charge_penetration"] = r.energy.charge_penetration;
  d["electrostatic_point_charges"] = r.energy.electrostatic_point_charges;
  d["polarization"] = r.energy.polarization;
  d["dispersion"] = r.energy.dispersion;
  d["exchange_repulsion"] = r.energy.exchange_repulsion;
  d["restraint"] = r.energy.restraint;
  d["total"] = r.energy.total();
  d["pol_iterations"] = r.pol_iterations;
  if (!r.gradient.empty()) {
    Eigen::MatrixXd g(static_cast<Eigen::Index>(r.gradient.size()), 6);
    for (std::size_t i = 0; i < r.gradient.size(); ++i) g.row(static_cast<Eigen::Index>(i)) = r.gradient[i].transpose();
    d["gradient"] = g;
  }
  return d;
}

}  // namespace

void bind_fragmd(py::module_& m) {
  py::class_<fragmd::System, std::shared_ptr<fragmd::System>>(m, "System", py::dynamic_attr())
      .def_property_readonly("n_fragments", [](const fragmd::System& s) { return s.fragments.size(); })
      .def_property_readonly("names",
                             [](const fragmd::System& s) {
                               std::vector<std::string> n;
                               for (const auto& f : s.fragments) n.push_back(f.type->name);
                               return n;
                             })
      .def_property_readonly("com",
                             [](const fragmd::System& s) {
                               Eigen::MatrixXd c(static_cast<Eigen::Index>(s.fragments.size()), 3);
                               for (std::size_t i = 0; i < s.fragments.size(); ++i)
                                 c.row(static_cast<Eigen::Index>(i)) = s.fragments[i].com.transpose();
                               return c;
                             })
      .def_property_readonly("rotations",
                             [](const fragmd::System& s) {
                               std::vector<Eigen::Matrix3d> r;
                               for (const auto& f : s.fragments) r.push_back(f.R);
                               return r;
                             })
      .def_property_readonly("atoms",
                             [](const fragmd::System& s) {
                               std::vector<std::tuple<std::size_t, std::string, double, double, Eigen::Vector3d>> out;
                               for (std::size_t i = 0; i < s.fragments.size(); ++i)
                                 for (const auto& a : s.fragments[i].atoms) out.emplace_back(i, a.label, a.znuc, a.mass, a.r);
                               return out;
                             })
      .def_property_readonly("periodic", [](const fragmd::System& s) { return s.periodic; })
      .def_property_readonly("box", [](const fragmd::System& s) { return Eigen::Vector3d(s.box); })
      .def_property_readonly("cutoff", [](const fragmd::System& s) { return s.cutoff_enabled ? s.cutoff : 0.0; })
      .def_property_readonly("terms",
                             [](const fragmd::System& s) {
                               std::vector<std::string> t;
                               if (s.terms.elec) t.push_back("elec");
                               if (s.terms.pol) t.push_back("pol");
                               if (s.terms.disp) t.push_back("disp");
                               if (s.terms.xr) t.push_back("xr");
                               return t;
                             })
      .def("set_pose",
           [](fragmd::System& s, std::size_t i, const Eigen::Vector3d& com, const Eigen::Matrix3d& R) {
             fragmd::set_pose(s, i, com, R);
           },
           py::arg("index"), py::arg("com"), py::arg("rotation"));

  m.def(
      "read_input",
      [](const std::string& path, const std::string& fraglib) {
        fragmd::InputOptions o;
        o.fraglib = fraglib;
        fragmd::InputFile in = fragmd::read_input(path, o);
        py::dict info;
        info["path"] = in.path;
        info["run_type"] = in.run_type;
        if (in.ref_energy) info["ref_energy"] = *in.ref_energy;
        auto sys = std::make_shared<fragmd::System>(std::move(in.system));
        return py::make_tuple(sys, info);
      },
      py::arg("path"), py::arg("fraglib") = "");

  m.def(
      "compute",
      [](const fragmd::System& s, bool gradient, unsigned threads) {
        fragmd::ComputeOptions o;
        o.gradient = gradient;
        o.threads = threads;
        fragmd::ComputeResult r;
        {
          py::gil_scoped_release release;
          r = fragmd::compute(s, o);
        }
        return energy_dict(r);
      },
      py::arg("system"), py::arg("gradient") = false, py::arg("threads") = 0);

  m.def("descriptor_names", &fragmd::descriptor_names);
  m.def(
      "descriptors",
      [](const std::vector<std::string>& files) {
        std::vector<std::string> names;
        std::vector<std::vector<double>> rows;
        for (const auto& f : files)
          for (const auto& t : fragmd::read_fragment_file(f)) {
            auto d = fragmd::describe(t);
            names.push_back(d.name);
            rows.push_back(fragmd::descriptor_values(d));
          }
        Eigen::MatrixXd X(static_cast<Eigen::Index>(rows.size()), static_cast<Eigen::Index>(fragmd::descriptor_names().size()));
        for (std::size_t i = 0; i < rows.size(); ++i)
          for (std::size_t j = 0; j < rows[i].size(); ++j) X(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) = rows[i][j];
        return py::make_tuple(names, X);
      },
      py::arg("files"));
}

}  // namespace tsunagu::python
