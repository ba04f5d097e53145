#pragma once
/// Seeded, platform-independent randomness. std::shuffle / std::uniform_int_distribution differ between
/// standard libraries, so fold assignment etc. use these helpers to give identical results everywhere for a seed.
#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

namespace tsunagu::core {

using Rng = std::mt19937_64;  ///< the engine itself is fully specified by the standard

inline Rng make_rng(std::uint64_t seed) { return Rng(seed); }

/// Uniform integer in [0, n) (Lemire's nearly-divisionless method). n must be > 0.
std::uint64_t uniform_index(Rng& rng, std::uint64_t n);

/// Uniform double in [0, 1) with 53 random bits.
double uniform01(Rng& rng);

/// Fisher–Yates shuffle of 0..n-1.
std::vector<std::size_t> permutation(std::size_t n, Rng& rng);

}  // namespace tsunagu::core
