#pragma once
/// k-nearest-neighbour regression on standardised features (Eigen only): the descriptor-space baseline of the xas and
/// bio modules.
#include <vector>

#include <Eigen/Core>

namespace tsunagu::nn {

/// k-nearest-neighbour regression, the baseline that any learned model must beat: features standardised with the training mean and standard
/// deviation (constant columns dropped), Euclidean distance, prediction = mean target row of the k nearest training
/// rows (ties by lower index). k clipped to n_train. Queries are clamped to the training range of each column first.
class KnnRegressor {
 public:
  KnnRegressor() = default;
  KnnRegressor(const Eigen::MatrixXd& X_train, const Eigen::MatrixXd& Y_train, int k = 5);
  Eigen::MatrixXd predict(const Eigen::MatrixXd& X) const;
  int k() const noexcept { return k_; }
  const Eigen::MatrixXd& X_train() const noexcept { return X_; }
  const Eigen::MatrixXd& Y_train() const noexcept { return Y_; }

 private:
  Eigen::MatrixXd X_, Y_;
  Eigen::RowVectorXd mean_, scale_;
  std::vector<Eigen::Index> keep_;
  int k_ = 5;
};

}  // namespace tsunagu::nn
