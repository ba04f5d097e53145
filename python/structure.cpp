// Bindings of tsunagu::structure. Crystals cross the boundary as plain arrays (lattice, frac, numbers, labels,
// occupancies) so that the Pythonic layer (tsunagu/structure.py) owns a simple numpy-backed Crystal class; results
// come back as dicts with numpy arrays.
#include <pybind11/eigen.h>
#include <pybind11/stl.h>

#include "bindings.hpp"
#include "tsunagu/core/error.hpp"
#include "tsunagu/structure/crystal.hpp"
#include "tsunagu/structure/describe.hpp"
#include "tsunagu/structure/formats.hpp"
#include "tsunagu/structure/poscar.hpp"
#include "tsunagu/structure/symmetry.hpp"

namespace py = pybind11;
using namespace tsunagu::structure;

namespace tsunagu::python {
namespace {

using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

py::dict crystal_dict(const Crystal& c) {
  py::dict d;
  d["lattice"] = Eigen::Matrix3d(c.lattice);
  d["frac"] = RowMatrix(c.frac);
  d["numbers"] = c.numbers;
  d["labels"] = c.labels;
  d["occupancies"] = c.occupancies.size() ? Eigen::VectorXd(c.occupancies) : Eigen::VectorXd::Ones(c.frac.rows());
  d["periodic"] = c.periodic;
  d["source"] = c.source;
  return d;
}

py::list operations_rotations(const std::vector<SymOp>& ops) {
  py::list out;
  for (const auto& op : ops) out.append(Eigen::Matrix3i(op.rotation));
  return out;
}

RowMatrix translations(const std::vector<SymOp>& ops) {
  RowMatrix t(static_cast<Eigen::Index>(ops.size()), 3);
  for (std::size_t k = 0; k < ops.size(); ++k) t.row(static_cast<Eigen::Index>(k)) = ops[k].translation.transpose();
  return t;
}

}  // namespace

void bind_structure(py::module_& m) {
  m.def("read",
        [](const std::string& path, const std::string& format, const std::string& block,
           const std::vector<std::string>& species, double min_distance) {
          ReadOptions o;
          o.format = parse_format(format);
          o.cif_block = block;
          o.species = species;
          o.min_distance = min_distance;
          return crystal_dict(read_structure(path, o));
        },
        py::arg("path"), py::arg("format") = "auto", py::arg("block") = "", py::arg("species") = std::vector<std::string>{},
        py::arg("min_distance") = 0.5);

  m.def("validate",
        [](const Eigen::Matrix3d& lattice, const Eigen::MatrixXd& frac, const std::vector<int>& numbers,
           const std::vector<std::string>& labels, const Eigen::VectorXd& occupancies, bool periodic,
           const std::string& source, double min_distance) {
          make_crystal(lattice, frac, numbers, labels, occupancies, periodic, source).validate(min_distance);
        },
        py::arg("lattice"), py::arg("frac"), py::arg("numbers"), py::arg("labels"), py::arg("occupancies"),
        py::arg("periodic"), py::arg("source"), py::arg("min_distance"));

  m.def("symmetry",
        [](const Eigen::Matrix3d& lattice, const Eigen::MatrixXd& frac, const std::vector<int>& numbers,
           const std::vector<std::string>& labels, const Eigen::VectorXd& occupancies, bool periodic,
           const std::string& source, double symprec, double angle_tolerance) {
          const Crystal c = make_crystal(lattice, frac, numbers, labels, occupancies, periodic, source);
          SymmetryDataset d;
          {
            py::gil_scoped_release release;
            d = analyze(c, symprec, angle_tolerance);
          }
          py::dict out;
          out["number"] = d.number;
          out["international"] = d.international;
          out["hall_symbol"] = d.hall_symbol;
          out["hall_number"] = d.hall_number;
          out["choice"] = d.choice;
          out["point_group"] = d.point_group;
          out["rotations"] = operations_rotations(d.operations);
          out["translations"] = translations(d.operations);
          std::vector<std::string> w;
          for (char x : d.wyckoffs) w.emplace_back(1, x);
          out["wyckoffs"] = w;
          out["site_symmetry_symbols"] = d.site_symmetry_symbols;
          out["equivalent_atoms"] = d.equivalent_atoms;
          out["orbits"] = d.orbits();
          out["transformation_matrix"] = Eigen::Matrix3d(d.transformation_matrix);
          out["origin_shift"] = Eigen::Vector3d(d.origin_shift);
          out["standardized"] = crystal_dict(d.standardized);
          out["primitive"] = crystal_dict(d.primitive);
          out["symprec"] = d.symprec;
          out["angle_tolerance"] = d.angle_tolerance;
          return out;
        },
        py::arg("lattice"), py::arg("frac"), py::arg("numbers"), py::arg("labels"), py::arg("occupancies"),
        py::arg("periodic"), py::arg("source"), py::arg("symprec"), py::arg("angle_tolerance"));

  m.def("magnetic_symmetry",
        [](const Eigen::Matrix3d& lattice, const Eigen::MatrixXd& frac, const std::vector<int>& numbers,
           const std::vector<std::string>& labels, const Eigen::VectorXd& occupancies, bool periodic,
           const std::string& source, const Eigen::MatrixXd& moments, double symprec, double mag_symprec) {
          const Crystal c = make_crystal(lattice, frac, numbers, labels, occupancies, periodic, source);
          MagneticSymmetry s;
          {
            py::gil_scoped_release release;
            s = analyze_magnetic(c, moments, symprec, mag_symprec);
          }
          py::dict out;
          out["uni_number"] = s.uni_number;
          out["bns_number"] = s.bns_number;
          out["og_number"] = s.og_number;
          out["litvin_number"] = s.litvin_number;
          out["type"] = s.type;
          out["family_number"] = s.family_number;
          out["hall_number"] = s.hall_number;
          out["rotations"] = operations_rotations(s.operations);
          out["translations"] = translations(s.operations);
          out["time_reversals"] = s.time_reversals;
          out["equivalent_atoms"] = s.equivalent_atoms;
          out["transformation_matrix"] = Eigen::Matrix3d(s.transformation_matrix);
          out["origin_shift"] = Eigen::Vector3d(s.origin_shift);
          out["ferromagnetic_basis"] = RowMatrix(s.ferromagnetic_basis.transpose());
          out["admits_ferromagnetism"] = s.admits_ferromagnetism;
          out["symprec"] = s.symprec;
          out["mag_symprec"] = s.mag_symprec;
          return out;
        },
        py::arg("lattice"), py::arg("frac"), py::arg("numbers"), py::arg("labels"), py::arg("occupancies"),
        py::arg("periodic"), py::arg("source"), py::arg("moments"), py::arg("symprec"), py::arg("mag_symprec"));

  m.def("describe",
        [](const Eigen::Matrix3d& lattice, const Eigen::MatrixXd& frac, const std::vector<int>& numbers,
           const std::vector<std::string>& labels, const Eigen::VectorXd& occupancies, bool periodic,
           const std::string& source, double symprec, double angle_tolerance) {
          return describe(make_crystal(lattice, frac, numbers, labels, occupancies, periodic, source), symprec,
                          angle_tolerance)
              .dump();
        },
        py::arg("lattice"), py::arg("frac"), py::arg("numbers"), py::arg("labels"), py::arg("occupancies"),
        py::arg("periodic"), py::arg("source"), py::arg("symprec"), py::arg("angle_tolerance"));

  m.def("write_poscar",
        [](const std::string& path, const Eigen::Matrix3d& lattice, const Eigen::MatrixXd& frac,
           const std::vector<int>& numbers, const std::vector<std::string>& labels, const Eigen::VectorXd& occupancies,
           bool periodic, const std::string& comment, bool cartesian) {
          PoscarWriteOptions o;
          o.comment = comment;
          o.cartesian = cartesian;
          write_poscar(path, make_crystal(lattice, frac, numbers, labels, occupancies, periodic, ""), o);
        },
        py::arg("path"), py::arg("lattice"), py::arg("frac"), py::arg("numbers"), py::arg("labels"),
        py::arg("occupancies"), py::arg("periodic"), py::arg("comment"), py::arg("cartesian"));

  m.def("atomic_number", &atomic_number, py::arg("symbol"));
  m.def("element_symbol", &element_symbol, py::arg("z"));
  m.def("lattice_from_parameters", &lattice_from_parameters, py::arg("a"), py::arg("b"), py::arg("c"),
        py::arg("alpha"), py::arg("beta"), py::arg("gamma"));
  m.def("spglib_version", &spglib_version);
}

}  // namespace tsunagu::python
