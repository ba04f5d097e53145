// Crystals cross the Python boundary as the argument tuple of tsunagu.structure.Crystal._args(). Compiled into both
// extension modules (_tsunagu and the LibTorch one, _tsunagu_nn), which each need to rebuild crystals.
#include <pybind11/eigen.h>
#include <pybind11/stl.h>

#include "bindings.hpp"
#include "tsunagu/core/error.hpp"

namespace py = pybind11;

namespace tsunagu::python {

structure::Crystal make_crystal(const Eigen::Matrix3d& lattice, const Eigen::MatrixXd& frac,
                                const std::vector<int>& numbers, const std::vector<std::string>& labels,
                                const Eigen::VectorXd& occupancies, bool periodic, const std::string& source) {
  structure::Crystal c;
  c.lattice = lattice;
  c.frac = frac;
  c.numbers = numbers;
  c.labels = labels;
  if ((occupancies.array() < 1.0).any()) c.occupancies = occupancies;
  c.periodic = periodic;
  c.source = source;
  c.validate(0);  // shapes and values; the overlap check belongs to the readers
  return c;
}

structure::Crystal crystal_from_args(const py::tuple& t) {
  if (t.size() != 7) throw InvalidArgument("crystal: expected the 7 fields of Crystal._args()");
  return make_crystal(t[0].cast<Eigen::Matrix3d>(), t[1].cast<Eigen::MatrixXd>(), t[2].cast<std::vector<int>>(),
                      t[3].cast<std::vector<std::string>>(), t[4].cast<Eigen::VectorXd>(), t[5].cast<bool>(),
                      t[6].cast<std::string>());
}

}  // namespace tsunagu::python
