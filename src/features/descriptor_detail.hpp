#pragma once
/// Private helpers shared by descriptors.cpp and site.cpp.
#include <cstddef>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "tsunagu/structure/crystal.hpp"

namespace tsunagu::features::detail {

/// Bohr radius in Å (CODATA 2018); Coulomb matrices use distances in bohr: d_bohr = d_Å / kBohrAngstrom.
inline constexpr double kBohrAngstrom = 0.529177210903;
/// Gaussians are summed out to this many standard deviations (the dropped tail is < exp(-18) = 1.5e-8 of the peak).
inline constexpr double kGaussianReach = 6.0;

std::string fmt(double v);  ///< %.6g
std::string where(const structure::Crystal& c);  ///< source, or "structure" when empty

/// Number of grid points r_k = (k + 1/2) step inside (0, cutoff]: floor(cutoff / step + 1e-9).
std::size_t grid_size(double cutoff, double step);

/// out[k] += weight * exp(-(r_k - d)^2 / (2 sigma^2)) / (sqrt(2 pi) sigma) for the grid r_k = (k + 1/2) step,
/// k in [0, n), over |r_k - d| <= kGaussianReach sigma (by a two-exponential recurrence along the grid).
void add_gaussian(double* out, std::size_t n, double step, double sigma, double d, double weight);

/// Eigenvalues of a symmetric matrix sorted by |lambda| descending (ties: larger value first), truncated or
/// zero-padded to `size`.
Eigen::VectorXd sorted_eigenvalues(const Eigen::MatrixXd& m, int size);

/// InvalidArgument "<source>: element Xx is not in the descriptor specification (elements: Fe, O, ...)" for the
/// first site whose element is not in `elements` (sorted or not).
void check_elements(const structure::Crystal& c, const std::vector<int>& elements);

/// Index of each atomic number in `elements` (size 119, -1 where absent).
std::vector<int> element_index(const std::vector<int>& elements);

/// Smooth cutoff fc(r) = (cos(pi r / rc) + 1) / 2 for r <= rc, 0 beyond.
double cosine_cutoff(double r, double rc);

}  // namespace tsunagu::features::detail
