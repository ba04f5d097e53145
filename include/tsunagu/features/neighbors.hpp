#pragma once
/// Neighbour lists under periodic boundary conditions by cell lists (any cell shape), and plain pair lists for
/// molecules. Shared by every distance-based descriptor so that cutoffs and images are handled in one place.
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <Eigen/Core>

#include "tsunagu/structure/crystal.hpp"

namespace tsunagu::features {

/// Compressed-row neighbour list: the neighbours of site i are entries start[i] .. start[i+1]-1, ordered by
/// distance, then by j, then by image (deterministic for a given structure and cutoff).
struct NeighborList {
  double cutoff = 0.0;                 ///< Å, the cutoff the list was built with
  std::vector<std::size_t> start;      ///< (n_sites + 1) row offsets
  std::vector<std::uint32_t> index;    ///< (n_pairs) neighbour site j
  std::vector<double> distance;        ///< (n_pairs) |r_j + T - r_i| in Å
  /// (n_pairs, 3) vector r_j + T - r_i in Å (Cartesian), T = image · lattice
  Eigen::Matrix<double, Eigen::Dynamic, 3, Eigen::RowMajor> vector;
  std::vector<std::array<int, 3>> image;  ///< (n_pairs) lattice translation of j in cell units (0 for molecules)

  std::size_t n_sites() const noexcept { return start.empty() ? 0 : start.size() - 1; }
  std::size_t n_pairs() const noexcept { return index.size(); }
  std::size_t count(std::size_t i) const { return start[i + 1] - start[i]; }
};

/// Every (i, j, T) with 0 < |r_j + T - r_i| <= cutoff: j == i appears with T != 0 when the cell is smaller than the
/// cutoff, and a pair appears once per image within the cutoff. Periodic crystals use cell lists with bins along
/// the reciprocal directions (exact for skewed cells; O(N) for fixed density); molecules (Crystal::periodic false)
/// use plain pairs without images. cutoff: Å, > 0 and finite, else InvalidArgument. threads: 0 = default.
NeighborList neighbor_list(const structure::Crystal& crystal, double cutoff, unsigned threads = 0);

/// Brute-force reference (loops over all images that can lie within the cutoff); the oracle for the cell lists.
NeighborList neighbor_list_reference(const structure::Crystal& crystal, double cutoff);

}  // namespace tsunagu::features
