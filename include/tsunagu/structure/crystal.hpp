#pragma once
/// Crystal structures: a periodic lattice with atoms at fractional positions, or a molecule (non-periodic) kept in
/// a bounding box so that the same type serves both.
///
/// Conventions (shared by every reader, writer and the symmetry wrapper):
///   * lattice: 3x3, *rows* are the lattice vectors a, b, c in Å (the pymatgen/ASE convention; spglib's C API
///     wants columns, the wrapper transposes);
///   * frac: (n_sites, 3) fractional coordinates; Cartesian positions r = frac * lattice, (n_sites, 3) in Å;
///   * reciprocal lattice: rows a*, b*, c* in 1/Å with a_i · b*_j = δ_ij (crystallographer's convention, no 2π).
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <Eigen/Core>

namespace tsunagu::structure {

/// Atomic number of an element symbol, case-insensitive ("fe", "FE", "Fe"), ignoring an oxidation-state or charge
/// suffix ("Mn3+", "O2-", "Fe+2", "Na+") and a trailing site number as CIF labels carry it ("Fe1", "O2a").
/// Returns nullopt for anything that is not H..Og.
std::optional<int> find_atomic_number(std::string_view symbol) noexcept;
/// As find_atomic_number, but throws InvalidArgument "unknown element 'Xx'".
int atomic_number(std::string_view symbol);
/// Symbol of atomic number z (1..118, "H".."Og"); throws InvalidArgument outside that range.
const std::string& element_symbol(int z);

struct Crystal {
  Eigen::Matrix3d lattice = Eigen::Matrix3d::Identity();  ///< rows a, b, c in Å
  Eigen::MatrixXd frac = Eigen::MatrixXd(0, 3);           ///< (n_sites, 3) fractional coordinates
  std::vector<int> numbers;                               ///< (n_sites) atomic numbers Z
  std::vector<std::string> labels;  ///< (n_sites) site labels (CIF _atom_site_label, e.g. "Mn1"); may repeat
  /// (n_sites) site occupancies in (0, 1], or empty when every site is fully occupied.
  Eigen::VectorXd occupancies;
  /// false for a molecule (XYZ without a lattice): `lattice` is then only a bounding box that keeps Cartesian
  /// positions exact, distances are not periodic and symmetry analysis refuses it.
  bool periodic = true;
  std::string source;  ///< file the structure came from (for messages); may be empty

  std::size_t n_sites() const noexcept { return numbers.size(); }
  std::vector<std::string> symbols() const;        ///< (n_sites) element symbols
  double occupancy(std::size_t site) const;         ///< 1 when `occupancies` is empty
  Eigen::MatrixXd cartesian() const;                ///< (n_sites, 3) in Å
  double volume() const;                            ///< cell volume |det(lattice)| in Å^3
  Eigen::Matrix3d reciprocal_lattice() const;       ///< rows a*, b*, c* in 1/Å (no 2π)
  /// a, b, c in Å and alpha, beta, gamma in degrees (alpha = angle(b, c), beta = angle(a, c), gamma = angle(a, b)).
  Eigen::Matrix<double, 6, 1> parameters() const;
  /// Distance between sites i and j in Å; the shortest over periodic images when periodic (images up to ±1 cell
  /// after wrapping the difference into [-1/2, 1/2), exact for all but very skewed cells).
  double distance(std::size_t i, std::size_t j) const;
  /// Chemical formula in order of first appearance, counts summed over occupancies: "Mn3GaN", "Fe0.5Co0.5".
  std::string formula() const;

  /// Indices of the sites of one element (case-insensitive, charge suffixes allowed: "Mn", "mn3+"). Throws
  /// InvalidArgument for an unknown element; an element that is absent gives an empty list.
  std::vector<std::size_t> select_element(std::string_view symbol) const;
  /// Indices of the sites with exactly this label (e.g. "Mn1"), or, when `prefix` is true, whose label starts
  /// with it ("Mn" selects "Mn1", "Mn2").
  std::vector<std::size_t> select_label(std::string_view label, bool prefix = false) const;

  /// Checks shapes (frac rows = numbers = labels; occupancies empty or n_sites), finite numbers, Z in 1..118,
  /// occupancies in (0, 1], a non-singular lattice (either handedness; |det| > 1e-6 Å^3), and that no two sites are
  /// closer than `min_distance` Å unless their occupancies add up to <= 1 (substitutional disorder shares a site).
  /// Throws InvalidArgument naming `source`, the field, and for overlaps both sites and their distance.
  void validate(double min_distance = 0.5) const;
};

/// Conventional lattice from cell parameters (Å, degrees) in the standard orientation: a along x, b in the xy
/// plane, c completing a right-handed set. Throws InvalidArgument when the angles do not form a cell.
Eigen::Matrix3d lattice_from_parameters(double a, double b, double c, double alpha, double beta, double gamma);

/// Wrap fractional coordinates into [0, 1) (values within 1e-10 of 1 become 0, so 0.9999999999999 does not
/// survive as a distinct position).
Eigen::MatrixXd wrap_fractional(const Eigen::MatrixXd& frac);

}  // namespace tsunagu::structure
