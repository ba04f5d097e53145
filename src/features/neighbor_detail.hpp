#pragma once
/// Private pair search shared by neighbors.cpp and the descriptors: a cell list that visits every (j, T) within the
/// cutoff of site i through a callback, without building or sorting a NeighborList (the descriptors only sum over
/// pairs). neighbor_list() is this plus per-site sorting.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "tsunagu/structure/crystal.hpp"

namespace tsunagu::features::detail {

/// Throws InvalidArgument (naming crystal.source and `what`) unless the structure can be used for distances:
/// frac (n, 3) matching numbers, finite coordinates and lattice, Z in 1..118, a non-singular lattice when periodic.
void check_geometry(const structure::Crystal& crystal, const char* what);
/// Throws InvalidArgument unless cutoff is finite and > 0 (`what` names the caller/field).
void check_cutoff(double cutoff, const char* what);
/// Throws InvalidArgument when a periodic structure would have more than ~5e8 pairs within the cutoff (a unit
/// mistake, not a job to start).
void check_pair_count(const structure::Crystal& crystal, double cutoff);

/// The one formula for a pair vector: v = ((f_j - f_i) + T) * L (Cartesian, Å; rows of L are the lattice
/// vectors); returns |v|. Out of line on purpose so that every caller (cell lists, brute force, descriptors) gets
/// bitwise the same numbers whatever the compiler contracts into FMAs.
double pair_vector(const double* fi, const double* fj, const int* image, const double (&lattice)[3][3],
                   double* v) noexcept;

class PairFinder {
 public:
  /// Validates the geometry and the cutoff (InvalidArgument) and bins the sites.
  PairFinder(const structure::Crystal& crystal, double cutoff);

  std::size_t n_sites() const noexcept { return n_; }
  double cutoff() const noexcept { return cutoff_; }
  bool periodic() const noexcept { return periodic_; }
  /// Lattice rows (Å); for molecules the identity, with frac() holding Cartesian coordinates.
  const double (&lattice() const noexcept)[3][3] { return lat_; }
  const double* frac(std::size_t i) const noexcept { return &frac_[3 * i]; }

  /// Calls fn(j, image, v, d) for every (j, T) with 0 < d = |r_j + T - r_i| <= cutoff, with image an
  /// std::array<int, 3>, v a const double[3] (Å) and d in Å, computed by pair_vector. The visiting order is
  /// deterministic (bins, then site index within a bin) but not sorted.
  template <class Fn>
  void for_each(std::size_t i, Fn&& fn) const {
    visit<false>(i, fn);
  }
  /// As for_each, but only neighbours j >= i (half the distance work for sums over unordered pairs; the caller
  /// still has to keep one of (i, i, T) and (i, i, -T)).
  template <class Fn>
  void for_each_upper(std::size_t i, Fn&& fn) const {
    visit<true>(i, fn);
  }

 private:
  template <bool Upper, class Fn>
  void visit(std::size_t i, Fn& fn) const;
  void bin_sites(double width);  // molecules
  std::size_t n_ = 0;
  bool periodic_ = true;
  double cutoff_ = 0, filter2_ = 0;
  double lat_[3][3] = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
  std::vector<double> frac_;   // (n, 3) as given (molecules: Cartesian Å)
  std::vector<double> wcart_;  // (n, 3) Cartesian of the wrapped fractional coordinates (periodic only)
  std::vector<double> wfrac_;  // (n, 3) fractional coordinates wrapped into [0, 1)
  std::vector<int> shift_;     // (n, 3) frac - wfrac (integers); molecules: the site's bin coordinates
  int nbin_[3] = {1, 1, 1};
  double reach_[3] = {0, 0, 0};  // cutoff in fractional units along each axis (cutoff * |b*_k|), with slack
  std::vector<std::uint32_t> bin_start_, bin_site_;
};

inline long floor_div(long a, long b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

template <bool Upper, class Fn>
void PairFinder::visit(std::size_t i, Fn& fn) const {
  double v[3];
  if (!periodic_) {
    // Molecule: bins at least `cutoff` wide over the bounding box, so neighbours lie in the 27 adjacent bins.
    const std::array<int, 3> zero{0, 0, 0};
    const int* bi = &shift_[3 * i];  // bin coordinates of site i
    for (int b0 = std::max(0, bi[0] - 1); b0 <= std::min(nbin_[0] - 1, bi[0] + 1); ++b0)
      for (int b1 = std::max(0, bi[1] - 1); b1 <= std::min(nbin_[1] - 1, bi[1] + 1); ++b1)
        for (int b2 = std::max(0, bi[2] - 1); b2 <= std::min(nbin_[2] - 1, bi[2] + 1); ++b2) {
          const auto bin = static_cast<std::size_t>((b0 * nbin_[1] + b1) * nbin_[2] + b2);
          for (std::uint32_t s = bin_start_[bin]; s < bin_start_[bin + 1]; ++s) {
            const std::size_t j = bin_site_[s];
            if (Upper && j < i) continue;
            const double d = pair_vector(&frac_[3 * i], &frac_[3 * j], zero.data(), lat_, v);
            if (d > 0 && d <= cutoff_) fn(j, zero, static_cast<const double*>(v), d);
          }
        }
    return;
  }
  const double* wi = &wfrac_[3 * i];
  const double* ci = &wcart_[3 * i];
  long lo[3], hi[3];
  for (int k = 0; k < 3; ++k) {
    lo[k] = static_cast<long>(std::floor((wi[k] - reach_[k]) * nbin_[k]));
    hi[k] = static_cast<long>(std::floor((wi[k] + reach_[k]) * nbin_[k]));
  }
  std::array<int, 3> image;
  for (long u0 = lo[0]; u0 <= hi[0]; ++u0) {
    const long t0 = floor_div(u0, nbin_[0]), b0 = u0 - t0 * nbin_[0];
    for (long u1 = lo[1]; u1 <= hi[1]; ++u1) {
      const long t1 = floor_div(u1, nbin_[1]), b1 = u1 - t1 * nbin_[1];
      for (long u2 = lo[2]; u2 <= hi[2]; ++u2) {
        const long t2 = floor_div(u2, nbin_[2]), b2 = u2 - t2 * nbin_[2];
        const std::size_t bin = static_cast<std::size_t>((b0 * nbin_[1] + b1) * nbin_[2] + b2);
        const std::uint32_t begin = bin_start_[bin], end = bin_start_[bin + 1];
        if (begin == end) continue;
        // Offset of the image cell minus r_i, so that a candidate's vector is wcart_j + base.
        double base[3];
        for (int c = 0; c < 3; ++c)
          base[c] = static_cast<double>(t0) * lat_[0][c] + static_cast<double>(t1) * lat_[1][c] +
                    static_cast<double>(t2) * lat_[2][c] - ci[c];
        for (std::uint32_t s = begin; s < end; ++s) {
          const std::size_t j = bin_site_[s];
          if (Upper && j < i) continue;
          const double* cj = &wcart_[3 * j];
          const double dx = cj[0] + base[0], dy = cj[1] + base[1], dz = cj[2] + base[2];
          if (dx * dx + dy * dy + dz * dz > filter2_) continue;
          // Back to the caller's coordinates: f_j + T - f_i = w_j + t - w_i  =>  T = t + shift_i - shift_j.
          image[0] = static_cast<int>(t0) + shift_[3 * i] - shift_[3 * j];
          image[1] = static_cast<int>(t1) + shift_[3 * i + 1] - shift_[3 * j + 1];
          image[2] = static_cast<int>(t2) + shift_[3 * i + 2] - shift_[3 * j + 2];
          const double d = pair_vector(&frac_[3 * i], &frac_[3 * j], image.data(), lat_, v);
          if (d > 0 && d <= cutoff_) fn(j, static_cast<const std::array<int, 3>&>(image), static_cast<const double*>(v), d);
        }
      }
    }
  }
}

}  // namespace tsunagu::features::detail
