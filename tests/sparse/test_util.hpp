#pragma once
// Helpers shared by the sparse tests: seeded random problems and the repository/shared data paths.
#include <cmath>
#include <filesystem>
#include <random>

#include <Eigen/Core>

namespace tsunagu::test {

inline std::filesystem::path source_dir() { return TSUNAGU_SOURCE_DIR; }
inline std::filesystem::path shared_dir() { return TSUNAGU_SHARED_DIR; }

struct Problem {
  Eigen::MatrixXd X;
  Eigen::VectorXd y, beta;
};

/// y = X·β + noise with AR(1)-correlated columns (ρ), columns of different scales and offsets, k true nonzeros.
inline Problem random_problem(int n, int p, int k, double rho, unsigned seed, double noise = 1.0) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> N(0, 1);
  Problem pr;
  pr.X.resize(n, p);
  for (int i = 0; i < n; ++i) {
    double prev = N(rng);
    for (int j = 0; j < p; ++j) {
      const double z = j == 0 ? prev : rho * prev + std::sqrt(1 - rho * rho) * N(rng);
      prev = z;
      pr.X(i, j) = z * (1 + 0.3 * (j % 5)) + 0.5 * j;
    }
  }
  pr.beta = Eigen::VectorXd::Zero(p);
  for (int j = 0; j < k && j < p; ++j) pr.beta(j * (p / std::max(k, 1))) = (j % 2 ? -1.0 : 1.0) * (1.0 + 0.5 * j);
  pr.y = pr.X * pr.beta;
  for (int i = 0; i < n; ++i) pr.y(i) += 2.0 + noise * N(rng);
  return pr;
}

}  // namespace tsunagu::test
