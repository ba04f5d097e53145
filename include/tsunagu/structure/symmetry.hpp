#pragma once
/// Crystal and magnetic symmetry through spglib (2.x).
///
/// Conventions: an operation (R, t) acts on fractional coordinates as x' = R x + t with x a column vector; R is an
/// integer 3x3 matrix in the basis of the crystal's lattice and t is in fractional units. With the lattice L whose
/// rows are a, b, c (Crystal::lattice), the same rotation in Cartesian coordinates is R_cart = L^T R L^{-T}
/// (cartesian_rotation). Lengths in Å, magnetic moments in μB, Cartesian.
#include <string>
#include <string_view>
#include <vector>

#include <Eigen/Core>

#include "tsunagu/structure/crystal.hpp"

namespace tsunagu::structure {

/// One space-group operation x' = rotation * x + translation (fractional coordinates).
struct SymOp {
  Eigen::Matrix3i rotation = Eigen::Matrix3i::Identity();
  Eigen::Vector3d translation = Eigen::Vector3d::Zero();
};

struct SymmetryDataset {
  int number = 0;                ///< space-group type number 1..230 (International Tables A)
  std::string international;     ///< short Hermann–Mauguin symbol, e.g. "Fm-3m", "P4_2/mnm"
  std::string hall_symbol;       ///< e.g. "-F 4 2 3"
  int hall_number = 0;           ///< spglib's setting index 1..530
  std::string choice;            ///< setting choice ("1", "2", "H", "R", ...) or empty
  std::string point_group;       ///< international point-group symbol, e.g. "m-3m"
  std::vector<SymOp> operations;  ///< operations of the *input* cell (incl. pure translations of a supercell)
  std::vector<char> wyckoffs;    ///< (n_sites) Wyckoff letter of each input site ('a', 'b', ...)
  std::vector<std::string> site_symmetry_symbols;  ///< (n_sites) oriented site symmetry, e.g. "m-3m", "4/mm.m"
  /// (n_sites) index of the representative (first) site of the orbit each site belongs to.
  std::vector<int> equivalent_atoms;
  /// Input cell -> standardised cell: (a_s b_s c_s) = (a b c) P^{-1} in spglib's convention, fractional.
  Eigen::Matrix3d transformation_matrix = Eigen::Matrix3d::Identity();
  Eigen::Vector3d origin_shift = Eigen::Vector3d::Zero();  ///< fractional, see transformation_matrix
  Crystal standardized;  ///< conventional standardised cell (idealised, spglib's orientation), labels "Mn1", ...
  Crystal primitive;     ///< standardised primitive cell (idealised)
  double symprec = 0;          ///< Å, as used
  double angle_tolerance = 0;  ///< degrees, as used (-1: spglib's default)

  /// Orbits: for each distinct representative (in order of first appearance), the input site indices.
  std::vector<std::vector<std::size_t>> orbits() const;
};

/// Space-group analysis of an ordered crystal (occupancies all 1; a molecule is refused). symprec: distance
/// tolerance in Å (> 0); angle_tolerance in degrees, or -1 for spglib's default (derived from symprec).
/// spglib's failures (e.g. "too close distance between atoms") become NumericalError with spglib's message.
SymmetryDataset analyze(const Crystal& crystal, double symprec = 1e-3, double angle_tolerance = -1);

struct MagneticSymmetry {
  int uni_number = 0;          ///< 1..1651, the UNI (unified) number of the magnetic space-group type
  std::string bns_number;      ///< Belov–Neronova–Smirnova number, e.g. "166.101"
  std::string og_number;       ///< Opechowski–Guccione number, e.g. "166.5.1331"
  int litvin_number = 0;
  int type = 0;                ///< 1 (colourless), 2 (grey), 3 (black-white, no 1'), 4 (black-white, 1' with t)
  int family_number = 0;       ///< space-group type number of the family (type I-III) / maximal (IV) group
  int hall_number = 0;         ///< spglib Hall number of that family / maximal space group
  std::vector<SymOp> operations;     ///< of the input cell
  std::vector<int> time_reversals;   ///< (n_operations) 1 when the operation is combined with time reversal
  std::vector<int> equivalent_atoms; ///< (n_sites) representative of the magnetic orbit of each site
  Eigen::Matrix3d transformation_matrix = Eigen::Matrix3d::Identity();  ///< as in SymmetryDataset
  Eigen::Vector3d origin_shift = Eigen::Vector3d::Zero();
  /// Orthonormal basis (3, k), k = 0..3, of the Cartesian axial vectors m with (-1)^θ det(R) R_cart m = m for
  /// every operation: the directions a net (ferromagnetic) moment may take in this magnetic point group.
  Eigen::MatrixXd ferromagnetic_basis = Eigen::MatrixXd(3, 0);
  bool admits_ferromagnetism = false;  ///< ferromagnetic_basis is not empty
  double symprec = 0, mag_symprec = 0;
};

/// Magnetic space group of a crystal with magnetic moments (n_sites, 3), Cartesian, μB (rows of zeros for
/// non-magnetic sites), via spg_get_magnetic_dataset with non-collinear (rank-1, axial) site tensors. symprec in Å
/// (> 0); mag_symprec in μB, or -1 to use symprec. Throws InvalidArgument for a wrong shape or non-finite moments,
/// NumericalError with spglib's message when spglib fails.
MagneticSymmetry analyze_magnetic(const Crystal& crystal, const Eigen::MatrixXd& moments, double symprec = 1e-3,
                                  double mag_symprec = -1);

/// Cartesian matrix of a fractional rotation: R_cart = L^T R L^{-T} with L's rows the lattice vectors in Å.
Eigen::Matrix3d cartesian_rotation(const Eigen::Matrix3i& rotation, const Eigen::Matrix3d& lattice);

/// Operations of the space group in spglib's database setting `hall_number` (1..530), in the conventional cell.
/// Throws InvalidArgument outside that range.
std::vector<SymOp> space_group_operations(int hall_number);

/// Hall number of a space group named by its International Tables number (1..230; the first setting spglib lists:
/// origin choice 1, hexagonal axes for R groups), Hermann–Mauguin symbol (short or full, spaces and '_' ignored,
/// case-insensitive, an optional ":1"/":2"/":H"/":R" choice suffix), or Hall symbol. Returns 0 when nothing
/// matches. For an H-M symbol with several settings, `prefer_choice` ("R", "2", ...) picks among them.
int hall_number_from_it_number(int number);
int hall_number_from_symbol(std::string_view symbol, std::string_view prefer_choice = {});
int hall_number_from_hall_symbol(std::string_view hall_symbol);

/// spglib's version "major.minor.micro".
std::string spglib_version();

}  // namespace tsunagu::structure
