#pragma once
/// Exhaustive search over descriptor subsets (Igarashi et al., J. Phys. Soc. Jpn. 85, 104002 (2016) "ES-LiR"):
/// every subset of size 1..max_k is fitted by OLS with an intercept and scored by K-fold CV; the result holds the
/// ranked models, the "density of states" (histogram) of CV errors over all subsets, and the data for a weight
/// diagram. Each (subset, fold) costs O(k²) through Gram matrices per fold and Cholesky factors extended one
/// feature at a time along a depth-first enumeration, independent of n.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <Eigen/Core>

namespace tsunagu::sparse {

struct ExhaustiveOptions {
  int max_k = 3;               ///< largest subset size; >= p means all 2^p − 1 subsets
  int folds = 5;               ///< K-fold CV (2..n)
  std::vector<int> fold_ids;   ///< (n) user fold labels; empty = random balanced folds from seed
  std::uint64_t seed = 0;
  int top = 20;                ///< models kept with coefficients (ranked by CV error)
  int dos_bins = 60;           ///< histogram bins of the CV error density of states
  unsigned threads = 0;        ///< 0 = default_threads()
  double time_limit = 600;     ///< seconds; a request estimated to take longer is refused (InvalidArgument)
  bool progress = true;
  void validate(std::size_t n, std::size_t p) const;
};

struct SubsetModel {
  std::vector<int> features;  ///< sorted column indices
  double cv_error = 0;        ///< root mean squared out-of-fold error (units of y)
  double intercept = 0;       ///< full-data OLS, original scale
  Eigen::VectorXd coef;       ///< (k) full-data OLS coefficients, original scale
  Eigen::VectorXd coef_std;   ///< (k) coefficients per population SD of each feature (for the weight diagram)
  double r2 = 0;              ///< full-data coefficient of determination
};

struct ExhaustiveResult {
  std::vector<SubsetModel> models;       ///< top models, best first (ties: fewer features, then lexicographic)
  std::vector<double> dos_edges;         ///< (bins+1) CV-RMSE bin edges
  std::vector<double> dos_counts;        ///< (bins) number of subsets per bin
  std::vector<std::vector<double>> dos_counts_by_k;  ///< [k-1][bin] counts split by subset size
  std::vector<double> all_cv_errors;     ///< CV-RMSE of every scored (full-rank) subset, in lexicographic DFS order
  std::size_t n_subsets = 0;             ///< subsets enumerated
  std::size_t n_rank_deficient = 0;      ///< subsets skipped: collinear columns or too few training rows
  double seconds = 0;                    ///< wall time of the search
  double fits_per_second = 0;            ///< subset-fold fits per second
  int max_k = 0, folds = 0;
  std::vector<int> fold_ids;
};

/// Number of subsets of size 1..max_k of p features (saturating at SIZE_MAX).
std::size_t count_subsets(std::size_t p, int max_k);

/// Predicted wall time in seconds of exhaustive_search for this problem (a conservative cost model).
double estimate_exhaustive_seconds(std::size_t n, std::size_t p, const ExhaustiveOptions& options);

/// Run the search. X (n, p), y (n), finite. Throws InvalidArgument when the estimate exceeds time_limit
/// (the message gives the estimate and how to raise the limit).
ExhaustiveResult exhaustive_search(const Eigen::MatrixXd& X, const Eigen::VectorXd& y,
                                   const ExhaustiveOptions& options);

}  // namespace tsunagu::sparse
