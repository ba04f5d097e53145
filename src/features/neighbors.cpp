#include "tsunagu/features/neighbors.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <numeric>
#include <string>

#include <Eigen/LU>

#include "descriptor_detail.hpp"
#include "neighbor_detail.hpp"
#include "tsunagu/core/error.hpp"
#include "tsunagu/core/thread_pool.hpp"

namespace tsunagu::features {
namespace detail {
namespace {

// Relative and absolute slack of the candidate filters: generous against rounding (1e-16), negligible in cost.
constexpr double kSlackRel = 1e-9;
constexpr double kSlackAbs = 1e-9;

}  // namespace

void check_cutoff(double cutoff, const char* what) {
  if (!std::isfinite(cutoff) || !(cutoff > 0))
    throw InvalidArgument(std::string(what) + ": cutoff must be finite and > 0 (got " + fmt(cutoff) + " A)");
}

void check_geometry(const structure::Crystal& c, const char* what) {
  const std::string w = where(c) + ": " + what;
  const std::size_t n = c.numbers.size();
  if (c.frac.cols() != 3 || static_cast<std::size_t>(c.frac.rows()) != n)
    throw InvalidArgument(w + ": frac has shape (" + std::to_string(c.frac.rows()) + ", " +
                          std::to_string(c.frac.cols()) + ") for " + std::to_string(n) + " sites");
  if (!c.lattice.allFinite()) throw InvalidArgument(w + ": lattice has non-finite entries");
  if (c.periodic && !(std::abs(c.lattice.determinant()) > 1e-6))
    throw InvalidArgument(w + ": lattice is singular (volume " + fmt(c.lattice.determinant()) + " A^3)");
  for (std::size_t i = 0; i < n; ++i) {
    if (c.numbers[i] < 1 || c.numbers[i] > 118)
      throw InvalidArgument(w + ": site " + std::to_string(i + 1) + ": atomic number " +
                            std::to_string(c.numbers[i]) + " is outside 1..118");
    const auto row = c.frac.row(static_cast<Eigen::Index>(i));
    if (!row.allFinite())
      throw InvalidArgument(w + ": site " + std::to_string(i + 1) + ": non-finite coordinate");
    if (c.periodic && row.cwiseAbs().maxCoeff() > 1e6)
      throw InvalidArgument(w + ": site " + std::to_string(i + 1) + ": fractional coordinate beyond 1e6");
  }
}

void check_pair_count(const structure::Crystal& crystal, double cutoff) {
  // A list that cannot fit in memory is a mistake (cutoff in bohr, or a unit cell in nm), not a job to start.
  const double n = static_cast<double>(crystal.n_sites());
  if (n == 0 || !crystal.periodic) return;
  const double v = crystal.volume();
  const double expected = n * n * (4.0 / 3.0) * std::numbers::pi * cutoff * cutoff * cutoff / v;
  if (expected > 5e8)
    throw InvalidArgument(detail::where(crystal) + ": neighbor list: a cutoff of " + detail::fmt(cutoff) +
                          " A gives about " +
                          std::to_string(static_cast<long long>(expected)) +
                          " pairs; refusing (is the cutoff in A and the cell right?)");
}

double pair_vector(const double* fi, const double* fj, const int* image, const double (&lattice)[3][3],
                   double* v) noexcept {
  const double d0 = (fj[0] - fi[0]) + image[0];
  const double d1 = (fj[1] - fi[1]) + image[1];
  const double d2 = (fj[2] - fi[2]) + image[2];
  for (int c = 0; c < 3; ++c) v[c] = d0 * lattice[0][c] + d1 * lattice[1][c] + d2 * lattice[2][c];
  return std::sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
}

void PairFinder::bin_sites(double width) {
  // Molecules: bins over the bounding box, each at least `width` (the cutoff with slack) wide.
  double lo[3], hi[3];
  for (int k = 0; k < 3; ++k) {
    lo[k] = n_ ? frac_[static_cast<std::size_t>(k)] : 0.0;
    hi[k] = lo[k];
  }
  for (std::size_t i = 0; i < n_; ++i)
    for (int k = 0; k < 3; ++k) {
      lo[k] = std::min(lo[k], frac_[3 * i + k]);
      hi[k] = std::max(hi[k], frac_[3 * i + k]);
    }
  double bw[3];
  for (int k = 0; k < 3; ++k) {
    nbin_[k] = static_cast<int>(std::clamp(std::floor((hi[k] - lo[k]) / width), 1.0, 1024.0));
    bw[k] = (hi[k] - lo[k]) / nbin_[k];
  }
  const double cap = 4.0 * static_cast<double>(n_) + 8.0;
  while (static_cast<double>(nbin_[0]) * nbin_[1] * nbin_[2] > cap) {
    const int k = static_cast<int>(std::max_element(nbin_, nbin_ + 3) - nbin_);
    nbin_[k] = (nbin_[k] + 1) / 2;
    bw[k] = (hi[k] - lo[k]) / nbin_[k];
  }
  shift_.resize(3 * n_);
  std::vector<std::uint32_t> bin_of(n_);
  bin_start_.assign(static_cast<std::size_t>(nbin_[0]) * nbin_[1] * nbin_[2] + 1, 0);
  for (std::size_t i = 0; i < n_; ++i) {
    for (int k = 0; k < 3; ++k) {
      const double x = nbin_[k] == 1 ? 0.0 : (frac_[3 * i + k] - lo[k]) / bw[k];
      shift_[3 * i + k] = std::clamp(static_cast<int>(x), 0, nbin_[k] - 1);
    }
    bin_of[i] = static_cast<std::uint32_t>((shift_[3 * i] * nbin_[1] + shift_[3 * i + 1]) * nbin_[2] + shift_[3 * i + 2]);
    ++bin_start_[bin_of[i] + 1];
  }
  std::partial_sum(bin_start_.begin(), bin_start_.end(), bin_start_.begin());
  bin_site_.resize(n_);
  std::vector<std::uint32_t> fill(bin_start_.begin(), bin_start_.end() - 1);
  for (std::size_t i = 0; i < n_; ++i) bin_site_[fill[bin_of[i]]++] = static_cast<std::uint32_t>(i);
}

PairFinder::PairFinder(const structure::Crystal& crystal, double cutoff)
    : n_(crystal.n_sites()), periodic_(crystal.periodic), cutoff_(cutoff) {
  check_cutoff(cutoff, "neighbor list");
  check_geometry(crystal, "neighbor list");
  check_pair_count(crystal, cutoff);
  const double reach_cart = cutoff * (1 + kSlackRel) + kSlackAbs;
  filter2_ = reach_cart * reach_cart;
  frac_.resize(3 * n_);
  if (!periodic_) {
    const Eigen::MatrixXd cart = crystal.cartesian();
    for (std::size_t i = 0; i < n_; ++i)
      for (int k = 0; k < 3; ++k) frac_[3 * i + k] = cart(static_cast<Eigen::Index>(i), k);
    bin_sites(reach_cart);
    return;
  }
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c) lat_[r][c] = crystal.lattice(r, c);
  const Eigen::Matrix3d recip = crystal.reciprocal_lattice();  // rows b*_k, |b*_k| = 1 / (plane spacing h_k)
  for (int k = 0; k < 3; ++k) {
    const double inv_h = recip.row(k).norm();
    reach_[k] = reach_cart * inv_h;
    // Bins at least `cutoff` wide perpendicular to the other two axes; a cell thinner than the cutoff gets one
    // bin and the search then spans several image cells (the per-site range below).
    const double nb = std::floor(1.0 / (inv_h * cutoff));
    nbin_[k] = static_cast<int>(std::clamp(nb, 1.0, 1024.0));
  }
  // Sparse cells (few sites, large cell) would otherwise get many empty bins; any bin count is exact.
  const double cap = 4.0 * static_cast<double>(n_) + 8.0;
  while (static_cast<double>(nbin_[0]) * nbin_[1] * nbin_[2] > cap) {
    int* big = std::max_element(nbin_, nbin_ + 3);
    *big = (*big + 1) / 2;
  }
  wfrac_.resize(3 * n_);
  wcart_.resize(3 * n_);
  shift_.resize(3 * n_);
  const std::size_t nbins = static_cast<std::size_t>(nbin_[0]) * nbin_[1] * nbin_[2];
  std::vector<std::uint32_t> bin_of(n_);
  bin_start_.assign(nbins + 1, 0);
  for (std::size_t i = 0; i < n_; ++i) {
    int b[3];
    for (int k = 0; k < 3; ++k) {
      const double f = crystal.frac(static_cast<Eigen::Index>(i), k);
      frac_[3 * i + k] = f;
      double s = std::floor(f), w = f - s;
      if (w >= 1.0) {  // f a hair below an integer
        w = 0.0;
        s += 1.0;
      }
      wfrac_[3 * i + k] = w;
      shift_[3 * i + k] = static_cast<int>(s);
      b[k] = std::min(static_cast<int>(w * nbin_[k]), nbin_[k] - 1);
    }
    for (int c = 0; c < 3; ++c)
      wcart_[3 * i + c] = wfrac_[3 * i] * lat_[0][c] + wfrac_[3 * i + 1] * lat_[1][c] + wfrac_[3 * i + 2] * lat_[2][c];
    bin_of[i] = static_cast<std::uint32_t>((b[0] * nbin_[1] + b[1]) * nbin_[2] + b[2]);
    ++bin_start_[bin_of[i] + 1];
  }
  std::partial_sum(bin_start_.begin(), bin_start_.end(), bin_start_.begin());
  bin_site_.resize(n_);
  std::vector<std::uint32_t> fill(bin_start_.begin(), bin_start_.end() - 1);
  for (std::size_t i = 0; i < n_; ++i) bin_site_[fill[bin_of[i]]++] = static_cast<std::uint32_t>(i);
}

}  // namespace detail

namespace {

struct Entry {
  double d;
  std::uint32_t j;
  std::array<int, 3> image;
  double v[3];
};

bool entry_less(const Entry& a, const Entry& b) {
  if (a.d != b.d) return a.d < b.d;
  if (a.j != b.j) return a.j < b.j;
  return a.image < b.image;
}

// Rows [begin, end) of the list, entries sorted per site.
struct Rows {
  std::vector<std::size_t> count;
  std::vector<Entry> entries;
};

void append_site(std::vector<Entry>& site, Rows& rows) {
  std::sort(site.begin(), site.end(), entry_less);
  rows.count.push_back(site.size());
  rows.entries.insert(rows.entries.end(), site.begin(), site.end());
  site.clear();
}

NeighborList assemble(double cutoff, std::size_t n, const std::vector<Rows>& parts) {
  NeighborList out;
  out.cutoff = cutoff;
  std::size_t total = 0;
  for (const Rows& r : parts) total += r.entries.size();
  out.start.reserve(n + 1);
  out.start.push_back(0);
  out.index.reserve(total);
  out.distance.reserve(total);
  out.image.reserve(total);
  out.vector.resize(static_cast<Eigen::Index>(total), 3);
  Eigen::Index row = 0;
  for (const Rows& r : parts) {
    for (std::size_t c : r.count) out.start.push_back(out.start.back() + c);
    for (const Entry& e : r.entries) {
      out.index.push_back(e.j);
      out.distance.push_back(e.d);
      out.image.push_back(e.image);
      out.vector.row(row++) << e.v[0], e.v[1], e.v[2];
    }
  }
  return out;
}

}  // namespace

NeighborList neighbor_list(const structure::Crystal& crystal, double cutoff, unsigned threads) {
  const detail::PairFinder finder(crystal, cutoff);
  const std::size_t n = finder.n_sites();
  if (threads == 0) threads = core::default_threads();
  // Below a few hundred sites the threads cost more than they save.
  const unsigned chunks = n < 256 ? 1u : std::max(1u, threads);
  std::vector<Rows> parts(std::min<std::size_t>(chunks, std::max<std::size_t>(n, 1)));
  core::parallel_for(n, static_cast<unsigned>(parts.size()), [&](std::size_t begin, std::size_t end, unsigned chunk) {
    Rows& rows = parts[chunk];
    std::vector<Entry> site;
    for (std::size_t i = begin; i < end; ++i) {
      finder.for_each(i, [&](std::size_t j, const std::array<int, 3>& image, const double* v, double d) {
        site.push_back({d, static_cast<std::uint32_t>(j), image, {v[0], v[1], v[2]}});
      });
      append_site(site, rows);
    }
  });
  return assemble(cutoff, n, parts);
}

NeighborList neighbor_list_reference(const structure::Crystal& crystal, double cutoff) {
  detail::check_cutoff(cutoff, "neighbor list");
  detail::check_geometry(crystal, "neighbor list");
  detail::check_pair_count(crystal, cutoff);
  const std::size_t n = crystal.n_sites();
  std::vector<double> f(3 * n);
  double lat[3][3] = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
  double reach[3] = {0, 0, 0};
  if (crystal.periodic) {
    for (std::size_t i = 0; i < n; ++i)
      for (int k = 0; k < 3; ++k) f[3 * i + k] = crystal.frac(static_cast<Eigen::Index>(i), k);
    for (int r = 0; r < 3; ++r)
      for (int c = 0; c < 3; ++c) lat[r][c] = crystal.lattice(r, c);
    const Eigen::Matrix3d recip = crystal.reciprocal_lattice();
    for (int k = 0; k < 3; ++k) reach[k] = cutoff * recip.row(k).norm();
  } else {
    const Eigen::MatrixXd cart = crystal.cartesian();
    for (std::size_t i = 0; i < n; ++i)
      for (int k = 0; k < 3; ++k) f[3 * i + k] = cart(static_cast<Eigen::Index>(i), k);
  }
  Rows rows;
  std::vector<Entry> site;
  double v[3];
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      // |(f_j - f_i + T)_k| <= cutoff |b*_k| for every image within the cutoff; one extra image on each side.
      int lo[3], hi[3];
      for (int k = 0; k < 3; ++k) {
        const double df = f[3 * j + k] - f[3 * i + k];
        lo[k] = crystal.periodic ? static_cast<int>(std::floor(-reach[k] - df)) - 1 : 0;
        hi[k] = crystal.periodic ? static_cast<int>(std::ceil(reach[k] - df)) + 1 : 0;
      }
      std::array<int, 3> t;
      for (t[0] = lo[0]; t[0] <= hi[0]; ++t[0])
        for (t[1] = lo[1]; t[1] <= hi[1]; ++t[1])
          for (t[2] = lo[2]; t[2] <= hi[2]; ++t[2]) {
            const double d = detail::pair_vector(&f[3 * i], &f[3 * j], t.data(), lat, v);
            if (d > 0 && d <= cutoff) site.push_back({d, static_cast<std::uint32_t>(j), t, {v[0], v[1], v[2]}});
          }
    }
    append_site(site, rows);
  }
  return assemble(cutoff, n, {rows});
}

}  // namespace tsunagu::features
