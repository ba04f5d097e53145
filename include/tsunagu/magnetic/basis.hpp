#pragma once
/// Cluster-multipole basis of all q = 0 magnetic structures of a crystal (M.-T. Suzuki, T. Koretsune, M. Ochi,
/// R. Arita, PRB 95, 094406 (2017); M.-T. Suzuki et al., PRB 99, 174407 (2019)).
///
/// For each orbit of magnetic atoms (atoms related by the space group):
///   1. virtual cluster: the representative atom's position v relative to the point-group centre (the origin of
///      spglib's standard setting) is carried by the linear part R of every operation that maps it onto atom j;
///      atom j owns the points R v. This makes the cluster equivariant: a moment field on it transforms under R
///      exactly as the crystal's moments do under the operation (R, t), for symmorphic and non-symmorphic groups.
///   2. multipole patterns M_lm = ∇(r^l Y_lm) and T_lm = r × ∇(r^l Y_lm) are evaluated on the cluster (in the
///      conventional Cartesian frame: a along x, c along z where the lattice allows) and averaged onto each atom.
///      Patterns that contradict q = 0 (different moments on lattice-equivalent points) average to zero.
///   3. each pattern is projected onto the irreps Γ of the point group, P_Γ = (d_Γ/|G|) Σ_g χ_Γ(g) D(g), with D(g)
///      the axial-vector representation including the site permutation, and Gram–Schmidt orthonormalised against
///      the vectors already found, multipoles visited in rank order (M1, M2, T1, M3, T2, ...: M_l before T_{l-1})
///      or power order (M1, T1, M2, T2, ...), until 3N vectors (N: magnetic atoms of the orbit per primitive cell)
///      span the space.
///   4. within a multi-dimensional irrep, components are aligned so that the first is the pattern of the first
///      harmonic and the others its images under the principal rotation; combinations such as [110] and [111]
///      are offered as `directions`, each with the magnetic space group spglib finds for it.
/// Units: lattice in Å, moments dimensionless (each basis vector has unit norm over all magnetic atoms).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <Eigen/Core>

#include "tsunagu/magnetic/candidate.hpp"
#include "tsunagu/magnetic/multipole.hpp"
#include "tsunagu/structure/crystal.hpp"

namespace tsunagu::magnetic {

enum class MultipoleOrder {
  Rank,   ///< M1, M2, T1, M3, T2, M4, T3, ...: M_l before T_{l-1} (Suzuki et al.)
  Power,  ///< M1, T1, M2, T2, ...: by rank, the magnetic multipole first
};

/// "rank" or "power" (the CLI's --order); InvalidArgument otherwise.
MultipoleOrder parse_multipole_order(std::string_view name);

struct BasisOptions {
  /// Which sites are magnetic: element symbols ("Mn") or site labels ("Mn1"; a label matches exactly, an element
  /// every site of that element). At least one entry; every entry must select at least one site.
  std::vector<std::string> magnetic_atoms;
  int max_rank = 0;  ///< highest multipole rank l to use; 0: as high as needed to complete the basis (≤ 40)
  MultipoleOrder order = MultipoleOrder::Rank;
  double symprec = 1e-3;        ///< Å, spglib distance tolerance (> 0)
  double mag_symprec = -1;      ///< moment tolerance for the magnetic groups (-1: symprec)
  double tolerance = 1e-6;      ///< relative residual below which a projected pattern adds nothing new (0, 0.1)
  bool magnetic_groups = true;  ///< label every vector and direction with its magnetic space group (spglib)
  bool directions = true;       ///< generate the [100]/[110]/[111]-type combinations of multi-dimensional irreps
  void validate() const;        ///< throws InvalidArgument naming the field
};

struct BasisVector {
  int index = 0;        ///< 0-based position in MagneticBasis::vectors
  int orbit = 0;        ///< index into MagneticBasis::orbits
  std::string irrep;    ///< Mulliken label of the physical irrep, e.g. "T1g"
  int copy = 0;         ///< which copy of that irrep within the orbit (0-based, in order of appearance)
  int component = 0;    ///< component within the copy (0..dim-1)
  MultipoleType type = MultipoleType::Magnetic;
  int rank = 1;         ///< l
  std::string multipole;  ///< "M3", "T2"
  Eigen::MatrixXd moments;  ///< (n_magnetic, 3) Cartesian, unit norm over the whole vector, zero off the orbit
  MagneticGroupLabel magnetic_space_group;
  bool ahe_allowed = false;
};

/// A combination of the components of one irrep copy, e.g. the [111] direction of a T1g octupole.
struct Direction {
  int orbit = 0;
  std::string irrep;
  int copy = 0;
  std::string multipole;
  std::vector<double> coefficients;  ///< (dim) weights of the copy's components, e.g. (1, 1, 1)
  std::string label;                 ///< "[111]", "[1-10]", "[10]"
  std::vector<int> vectors;          ///< indices of the components in MagneticBasis::vectors
  Eigen::MatrixXd moments;           ///< (n_magnetic, 3), unit norm
  MagneticGroupLabel magnetic_space_group;
  bool ahe_allowed = false;
};

struct Orbit {
  std::vector<std::size_t> sites;  ///< crystal site indices (into Crystal), in order
  std::string wyckoff;             ///< e.g. "3c"
  std::string site_symmetry;       ///< spglib's oriented site symmetry, e.g. "4/mm.m"
  int primitive_atoms = 0;         ///< N: atoms of the orbit per primitive cell (the q = 0 space is 3N)
  Eigen::MatrixXd cluster;         ///< (k, 3) virtual-cluster points, Cartesian Å relative to the centre
  std::vector<int> cluster_site;   ///< (k) which orbit atom (0-based within `sites`) owns each point
  std::vector<int> multiplicities;  ///< per irrep of the point group, from the character formula
  std::string decomposition;       ///< e.g. "2T1g + T2g"
};

struct MagneticBasis {
  structure::Crystal crystal;
  std::vector<std::size_t> magnetic_sites;  ///< crystal site indices; rows of every `moments`
  int space_group_number = 0;
  std::string space_group;       ///< H-M symbol
  std::string point_group;       ///< international, e.g. "m-3m"
  std::string point_group_schoenflies;  ///< e.g. "Oh"
  std::vector<std::string> irreps;      ///< labels of the point group's physical irreps, table order
  std::vector<int> irrep_dimensions;
  std::vector<Orbit> orbits;
  std::vector<int> multiplicities;  ///< summed over orbits (per irrep)
  std::string decomposition;        ///< summed over orbits, e.g. "2T1g + T2g"
  std::vector<BasisVector> vectors;
  std::vector<Direction> directions;
  int dimension = 0;      ///< 3 × (magnetic atoms per primitive cell): the size of a complete basis
  bool complete = false;  ///< vectors.size() == dimension (false only when max_rank stopped early)
  MultipoleOrder order = MultipoleOrder::Rank;
  int max_rank_used = 0;

  /// Moments of a basis vector or direction on all crystal sites: (n_sites, 3), zero on non-magnetic sites,
  /// scaled so the largest site moment is `moment` μB.
  Eigen::MatrixXd site_moments(const Eigen::MatrixXd& magnetic_moments, double moment = 1.0) const;
  /// DFT candidates: every basis vector of a 1-D irrep, and for multi-dimensional irreps every direction
  /// (symmetry-distinct by magnetic space group); moments scaled to `moment` μB (largest site).
  std::vector<Candidate> candidates(double moment = 1.0) const;
};

/// Builds the basis. Throws InvalidArgument for bad options or a selection that matches no site, NumericalError
/// when spglib fails (symprec) or no virtual cluster separates the atoms.
MagneticBasis generate_basis(const structure::Crystal& crystal, const BasisOptions& options);

/// Multiplicities formatted "2T1g + T2g" (irreps in table order, zero ones left out).
std::string format_decomposition(const std::vector<std::string>& irreps, const std::vector<int>& multiplicities);

/// basis.json (format "tsunagu.magnetic.basis/1"): structure, point group, decomposition, basis entries with
/// irrep/multipole/type/rank/moments/magnetic_space_group/ahe_allowed, directions and DFT candidates.
std::string basis_to_json(const MagneticBasis& basis, double moment = 1.0);
/// The structure and DFT candidates back from a basis.json (for `magnetic run`); ParseError names the field.
std::vector<Candidate> read_candidates_json(const std::string& path);

}  // namespace tsunagu::magnetic
