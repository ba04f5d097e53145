#pragma once
/// K-fold / leave-one-out / repeated cross-validation of a penalised path (ncvreg's cv.ncvreg conventions:
/// each fold refits the path on the training rows with the full-data λ sequence; the error per λ is the mean of
/// per-observation losses and its standard error is their SD / sqrt(n)).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "tsunagu/sparse/penalized.hpp"

namespace tsunagu::sparse {

struct CvOptions {
  int folds = 10;                 ///< K >= 2 and <= n; ignored when fold_ids given or loocv
  std::vector<int> fold_ids;      ///< (n) user fold labels 0..K-1 (each fold non-empty); empty = random
  bool loocv = false;             ///< leave-one-out (K = n)
  std::uint64_t seed = 0;         ///< fold assignment seed (first repeat); repeat r uses seed + r
  int repeats = 1;                ///< repeated CV: per-observation losses averaged over repeats
  unsigned threads = 0;           ///< 0 = default_threads()
  bool progress = true;           ///< progress line on stderr (if globally enabled)
  void validate(std::size_t n) const;
};

struct CvResult {
  Eigen::VectorXd lambda;  ///< (L) the λ sequence evaluated
  Eigen::VectorXd mean;    ///< (L) CV error: mean squared error (gaussian) or mean deviance (binomial)
  Eigen::VectorXd se;      ///< (L) standard error of mean
  std::size_t index_min = 0, index_1se = 0;
  double lambda_min = 0, lambda_1se = 0;  ///< λ of minimum error; largest λ with error <= min + se(min)
  Eigen::MatrixXd oof;     ///< (n, L) out-of-fold predictions (averaged over repeats)
  std::vector<int> fold_ids;  ///< (n) fold of each observation in the first repeat
  int folds = 0, repeats = 1;
  std::vector<std::string> warnings;  ///< e.g. folds whose path stopped early (the λ sequence was shortened)
};

/// Cross-validate. `full` is the path already fitted on all data (its λ sequence is used); it is fitted here
/// when null. Fold fits that stop early (dfmax) shorten the evaluated λ sequence to what all folds reached.
CvResult cross_validate(const Eigen::MatrixXd& X, const Eigen::VectorXd& y, const PathOptions& options,
                        const CvOptions& cv, const Path* full = nullptr);

/// Balanced random fold labels 0..K-1 (stratified by class when `y` is binary 0/1 and stratify is true).
std::vector<int> make_folds(std::size_t n, int k, std::uint64_t seed, const Eigen::VectorXd* y = nullptr,
                            bool stratify = false);

}  // namespace tsunagu::sparse
