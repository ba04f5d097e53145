#pragma once
/// The 32 crystallographic point groups with their character tables, and the assignment of a crystal's
/// symmetry operations to conjugacy classes.
///
/// Conventions (details and sources in docs/point_groups.md):
///   * tables, class order and irrep order follow the standard published tables (Cotton; Altmann–Herzig; Bilbao
///     "POINT"); centrosymmetric groups list the g irreps, then the u irreps;
///   * complex-conjugate pairs of 1-D irreps (C3, C4, C6, S4, C3h, C4h, C6h, C3i, T, Th) are combined into one real
///     2-D "physical" irrep (complex_pair = true) whose characters are the sums of the pair (2cos(...));
///   * orientation-dependent labels are bound to the conventional (standardised) cell: z ∥ c, x ∥ a. D2/D2h: B1 ↔
///     2-fold ∥ c, B2 ↔ ∥ b, B3 ↔ ∥ a. C2v: 2-fold ∥ c, σv(xz) has its normal ∥ b, σv'(yz) ∥ a. D4/C4v/D4h: C2' and
///     the σv normals ∥ a, b; C2'' and the σd normals ∥ a ± b. D6/C6v/D6h: C2' ∥ a, b, a+b; C2'' ∥ a−b, a+2b, 2a+b;
///     σd = i·C2' (normal ∥ a, b, a+b), σv = i·C2'' (as in the standard D6h table, so x(x²−3y²) is B1/B1u);
///   * groups whose classes follow from the rotation types alone (D2d, D3, C3v, D3d, D3h, O, Td, Oh, the monoclinic
///     groups, ...) are classified intrinsically, whichever orientation the standard setting uses (-42m/-4m2,
///     321/312, 3m1/31m, -62m/-6m2);
///   * the sense: C_n is +360°/n about +c (the International Tables n⁺), measured in the conventional frame; in T and
///     Th, 4C3 holds 3⁺ along [111]; improper classes of centrosymmetric groups are i × the proper ones, in order
///     (Oh keeps Cotton's order i 6S4 8S6 3σh 6σd).
#include <string>
#include <string_view>
#include <vector>

#include <Eigen/Core>

#include "tsunagu/structure/crystal.hpp"
#include "tsunagu/structure/symmetry.hpp"

namespace tsunagu::magnetic {

/// A physical (real) irreducible representation.
struct Irrep {
  std::string label;          ///< Mulliken, e.g. "T1g", "Eu", "A'", "B2"; a combined complex pair: "E", "Eg", "E1u", "E'"
  int dimension = 1;          ///< real dimension: a complex-conjugate pair of 1-D irreps combined counts 2
  bool complex_pair = false;  ///< this real irrep is the sum of a complex-conjugate pair of 1-D irreps
  /// (n_classes) characters, same order as PointGroup::class_labels; real (a pair is summed: 2cos(...)).
  std::vector<double> characters;
};

struct PointGroup {
  std::string international;  ///< spglib's symbol: "m-3m", "4/mmm", "-42m", "-6m2", "-3", ...
  std::string schoenflies;    ///< "Oh", "D4h", "C3i", ...
  int order = 0;              ///< number of elements
  std::vector<std::string> class_labels;  ///< e.g. "E", "8C3", "6C2", "6C4", "3C2", "i", "6S4", "8S6", "3σh", "6σd"
  std::vector<int> class_sizes;           ///< (n_classes) elements per class
  std::vector<Irrep> irreps;              ///< physical irreps, in the order of the published table
};

/// All 32 point groups in International Tables order (1, -1, 2, m, 2/m, 222, ..., m-3m).
const std::vector<PointGroup>& point_groups();

/// A point group by its international (spglib) or Schoenflies symbol; a few aliases are accepted ("S6" for C3i,
/// "-62m", "-4m2", "321", "312", "3m1", "31m", "-3m1", "-31m", "m3m", "m3"). Throws InvalidArgument otherwise.
const PointGroup& point_group(std::string_view symbol);

struct PointGroupMatch {
  const PointGroup* group = nullptr;
  std::vector<int> class_of;  ///< for each input rotation, the index of its class in group->class_labels
};

/// Assigns Cartesian rotations to the classes of their point group.
///
/// rotations: Cartesian 3x3 orthogonal matrices (det ±1; max |RᵀR − I| ≤ 1e-2 so slightly strained cells pass) of
/// a crystallographic point group, repeats allowed (e.g. the linear parts of all space-group operations of a cell,
/// which repeat for centring translations). conventional_axes: 3x3, columns the Cartesian vectors (any length unit)
/// of the conventional cell's a, b, c; consulted only where a label depends on orientation (see the file comment)
/// or where the sense of a rotation names its class (C3 vs C3²). point_group_symbol: spglib's symbol as a
/// cross-check, or empty to identify the group from the rotations alone.
/// Throws InvalidArgument (one line) when the rotations are not orthogonal, do not form a crystallographic point
/// group, do not match the symbol, or cannot be placed into classes with these conventional axes.
PointGroupMatch classify_rotations(const std::vector<Eigen::Matrix3d>& rotations,
                                   const Eigen::Matrix3d& conventional_axes,
                                   std::string_view point_group_symbol = {});

/// classify_rotations for a spglib dataset of `crystal` (structure::analyze): the rotations of dataset.operations in
/// Cartesian form (structure::cartesian_rotation with crystal.lattice), the conventional axes from
/// dataset.transformation_matrix P ((a_s b_s c_s) = (a b c) P^{-1}, columns) and the symbol dataset.point_group.
/// class_of has one entry per dataset.operations entry.
PointGroupMatch classify_operations(const structure::SymmetryDataset& dataset, const structure::Crystal& crystal);

/// Character of the axial-vector (magnetic moment) representation for a Cartesian rotation: det(R)·trace(R).
double axial_vector_character(const Eigen::Matrix3d& rotation);

/// Multiplicities of the physical irreps of `group` in a real representation with the given (n_classes)
/// characters: n_Γ = Σ_c size_c χ_Γ(c) χ(c) / (|G| κ_Γ), κ_Γ = 2 for a combined complex pair (a real
/// representation holds both members of a pair equally often; n_Γ counts the pair once), else 1. Returned
/// unrounded, so that a caller can check integrality. Throws InvalidArgument for a wrong number of characters.
std::vector<double> irrep_multiplicities(const PointGroup& group, const std::vector<double>& class_characters);

}  // namespace tsunagu::magnetic
