#include "tsunagu/core/random.hpp"

#include <numeric>
#include <utility>

#include "tsunagu/core/error.hpp"

namespace tsunagu::core {

namespace {
__extension__ typedef unsigned __int128 u128;
static_assert(Rng::min() == 0 && Rng::max() == ~std::uint64_t{0}, "Rng must produce full 64-bit words");
}  // namespace

std::uint64_t uniform_index(Rng& rng, std::uint64_t n) {
  if (n == 0) throw InvalidArgument("uniform_index: n must be > 0");
  // D. Lemire, "Fast Random Integer Generation in an Interval", ACM TOMACS 29(1), 2019.
  std::uint64_t x = rng();
  u128 m = static_cast<u128>(x) * n;
  auto low = static_cast<std::uint64_t>(m);
  if (low < n) {
    const std::uint64_t threshold = (0 - n) % n;  // 2^64 mod n
    while (low < threshold) {
      x = rng();
      m = static_cast<u128>(x) * n;
      low = static_cast<std::uint64_t>(m);
    }
  }
  return static_cast<std::uint64_t>(m >> 64);
}

double uniform01(Rng& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

std::vector<std::size_t> permutation(std::size_t n, Rng& rng) {
  std::vector<std::size_t> p(n);
  std::iota(p.begin(), p.end(), std::size_t{0});
  for (std::size_t i = n; i > 1; --i) {
    const auto j = static_cast<std::size_t>(uniform_index(rng, i));
    std::swap(p[i - 1], p[j]);
  }
  return p;
}

}  // namespace tsunagu::core
