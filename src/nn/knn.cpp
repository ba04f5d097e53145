// k-nearest-neighbour regression (include/tsunagu/nn/knn.hpp).
#include "tsunagu/nn/knn.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "tsunagu/core/error.hpp"

namespace tsunagu::nn {

KnnRegressor::KnnRegressor(const Eigen::MatrixXd& X_train, const Eigen::MatrixXd& Y_train, int k)
    : X_(X_train), Y_(Y_train), k_(k) {
  if (X_.rows() == 0) throw InvalidArgument("knn: no training rows");
  if (X_.rows() != Y_.rows())
    throw InvalidArgument("knn: " + std::to_string(X_.rows()) + " descriptor rows but " +
                          std::to_string(Y_.rows()) + " spectra");
  if (k < 1) throw InvalidArgument("knn: k = " + std::to_string(k) + " must be at least 1");
  if (!X_.allFinite()) throw InvalidArgument("knn: non-finite descriptor values");
  k_ = static_cast<int>(std::min<Eigen::Index>(k, X_.rows()));
  mean_ = X_.colwise().mean();
  scale_.resize(X_.cols());
  keep_.clear();
  for (Eigen::Index j = 0; j < X_.cols(); ++j) {
    const double sd = std::sqrt((X_.col(j).array() - mean_(j)).square().mean());  // population sd
    scale_(j) = sd;
    if (sd > 1e-12 * std::max(1.0, std::abs(mean_(j)))) keep_.push_back(j);
  }
}

Eigen::MatrixXd KnnRegressor::predict(const Eigen::MatrixXd& X) const {
  if (Y_.rows() == 0) throw InvalidArgument("knn: not fitted");
  if (X.cols() != X_.cols())
    throw InvalidArgument("knn: " + std::to_string(X.cols()) + " descriptor columns, trained on " +
                          std::to_string(X_.cols()));
  if (!X.allFinite()) throw InvalidArgument("knn: non-finite descriptor values in the input");
  const auto d = static_cast<Eigen::Index>(keep_.size());
  const Eigen::Index n_train = X_.rows();
  // Standardised kept columns; training rows as columns of T so that each row is contiguous.
  auto standardise = [&](const Eigen::MatrixXd& A) {
    Eigen::MatrixXd S(d, A.rows());
    for (Eigen::Index c = 0; c < d; ++c) {
      const Eigen::Index j = keep_[static_cast<std::size_t>(c)];
      S.row(c) = ((A.col(j).array() - mean_(j)) / scale_(j)).transpose();
    }
    return S;
  };
  const Eigen::MatrixXd T = standardise(X_);
  // Queries are clamped to the training range first: a column that is nearly constant in training (a Gaussian
  // tail bin) would otherwise dominate the distance of a structure unlike every training one.
  Eigen::MatrixXd Xc = X;
  for (Eigen::Index j = 0; j < X.cols(); ++j)
    Xc.col(j) = Xc.col(j).cwiseMax(X_.col(j).minCoeff()).cwiseMin(X_.col(j).maxCoeff());
  const Eigen::MatrixXd Q = standardise(Xc);
  Eigen::MatrixXd out(X.rows(), Y_.cols());
  std::vector<std::pair<double, Eigen::Index>> dist(static_cast<std::size_t>(n_train));
  const auto k = static_cast<std::ptrdiff_t>(k_);
  for (Eigen::Index q = 0; q < X.rows(); ++q) {
    for (Eigen::Index t = 0; t < n_train; ++t)
      dist[static_cast<std::size_t>(t)] = {(T.col(t) - Q.col(q)).squaredNorm(), t};
    std::partial_sort(dist.begin(), dist.begin() + k, dist.end());  // (distance, index): ties by lower index
    Eigen::RowVectorXd acc = Eigen::RowVectorXd::Zero(Y_.cols());
    for (std::ptrdiff_t m = 0; m < k; ++m) acc += Y_.row(dist[static_cast<std::size_t>(m)].second);
    out.row(q) = acc / static_cast<double>(k_);
  }
  return out;
}

}  // namespace tsunagu::nn
