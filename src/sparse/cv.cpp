#include "tsunagu/sparse/cv.hpp"

#include <algorithm>
#include <cmath>
#include <optional>

#include "tsunagu/core/error.hpp"
#include "tsunagu/core/progress.hpp"
#include "tsunagu/core/random.hpp"
#include "tsunagu/core/thread_pool.hpp"

namespace tsunagu::sparse {

using Eigen::Index;
using Eigen::MatrixXd;
using Eigen::VectorXd;

void CvOptions::validate(std::size_t n) const {
  if (repeats < 1) throw InvalidArgument("repeats: must be >= 1 (got " + std::to_string(repeats) + ")");
  if (!fold_ids.empty()) {
    if (fold_ids.size() != n)
      throw InvalidArgument("fold_ids: has " + std::to_string(fold_ids.size()) + " entries for " +
                            std::to_string(n) + " rows");
    const int k = *std::max_element(fold_ids.begin(), fold_ids.end()) + 1;
    std::vector<int> count(static_cast<std::size_t>(std::max(k, 0)), 0);
    for (std::size_t i = 0; i < n; ++i) {
      if (fold_ids[i] < 0)
        throw InvalidArgument("fold_ids: entry " + std::to_string(i) + " is negative (" +
                              std::to_string(fold_ids[i]) + ")");
      ++count[static_cast<std::size_t>(fold_ids[i])];
    }
    if (k < 2) throw InvalidArgument("fold_ids: need at least 2 folds");
    for (int f = 0; f < k; ++f)
      if (count[static_cast<std::size_t>(f)] == 0)
        throw InvalidArgument("fold_ids: fold " + std::to_string(f) + " is empty (labels must be 0..K-1)");
    return;
  }
  if (loocv) return;
  if (folds < 2) throw InvalidArgument("folds: must be >= 2 (got " + std::to_string(folds) + ")");
  if (static_cast<std::size_t>(folds) > n)
    throw InvalidArgument("folds: " + std::to_string(folds) + " folds for only " + std::to_string(n) +
                          " rows (use at most one fold per row, i.e. leave-one-out)");
}

std::vector<int> make_folds(std::size_t n, int k, std::uint64_t seed, const VectorXd* y, bool stratify) {
  if (k < 2 || static_cast<std::size_t>(k) > n)
    throw InvalidArgument("folds: must be in [2, n=" + std::to_string(n) + "] (got " + std::to_string(k) + ")");
  auto rng = core::make_rng(seed);
  std::vector<int> ids(n);
  if (stratify && y) {
    // Deal each class's shuffled rows round-robin, continuing the fold counter across classes, so that folds
    // keep the class ratio and stay balanced in size.
    std::vector<std::size_t> cls[2];
    for (std::size_t i = 0; i < n; ++i) cls[(*y)(static_cast<Index>(i)) != 0].push_back(i);
    int next = 0;
    for (auto& c : cls) {
      auto perm = core::permutation(c.size(), rng);
      for (auto pi : perm) {
        ids[c[pi]] = next;
        next = (next + 1) % k;
      }
    }
    return ids;
  }
  auto perm = core::permutation(n, rng);
  for (std::size_t r = 0; r < n; ++r) ids[perm[r]] = static_cast<int>(r % static_cast<std::size_t>(k));
  return ids;
}

namespace {
double loss(Family f, double y, double pred) {
  if (f == Family::Gaussian) return (y - pred) * (y - pred);
  const double p = std::clamp(pred, 1e-15, 1 - 1e-15);  // deviance of a clipped probability stays finite
  return -2 * (y * std::log(p) + (1 - y) * std::log(1 - p));
}
}  // namespace

CvResult cross_validate(const MatrixXd& X, const VectorXd& y, const PathOptions& options, const CvOptions& cv,
                        const Path* full) {
  const auto n = static_cast<std::size_t>(X.rows());
  cv.validate(n);
  Path own;
  if (!full) {
    own = fit_path(X, y, options);
    full = &own;
  }
  PathOptions fold_opts = options;
  fold_opts.lambda.assign(full->lambda.data(), full->lambda.data() + full->lambda.size());
  fold_opts.warn = false;

  const bool binom = options.family == Family::Binomial;
  std::vector<std::vector<int>> all_ids;
  int K = 0;
  for (int r = 0; r < cv.repeats; ++r) {
    std::vector<int> ids;
    if (!cv.fold_ids.empty()) ids = cv.fold_ids;
    else if (cv.loocv) {
      ids.resize(n);
      for (std::size_t i = 0; i < n; ++i) ids[i] = static_cast<int>(i);
    } else {
      ids = make_folds(n, cv.folds, cv.seed + static_cast<std::uint64_t>(r), &y, binom);
    }
    K = *std::max_element(ids.begin(), ids.end()) + 1;
    all_ids.push_back(std::move(ids));
  }

  const Index L = full->lambda.size();
  const std::size_t jobs = static_cast<std::size_t>(cv.repeats) * static_cast<std::size_t>(K);
  // Per repeat: out-of-fold predictions (n, L); the number of λ each fold reached.
  std::vector<MatrixXd> oof(static_cast<std::size_t>(cv.repeats),
                            MatrixXd::Constant(static_cast<Index>(n), L, std::nan("")));
  std::vector<Index> reached(jobs, L);
  std::vector<std::string> stop_message(jobs);
  std::optional<core::Progress> progress;
  if (cv.progress) progress.emplace("sparse cv (" + std::to_string(jobs) + " fold fits)", jobs);
  core::parallel_for(jobs, cv.threads, [&](std::size_t b, std::size_t e, unsigned) {
    for (std::size_t job = b; job < e; ++job) {
      const auto r = job / static_cast<std::size_t>(K);
      const int f = static_cast<int>(job % static_cast<std::size_t>(K));
      const auto& ids = all_ids[r];
      std::vector<Index> tr, te;
      for (std::size_t i = 0; i < n; ++i) (ids[i] == f ? te : tr).push_back(static_cast<Index>(i));
      MatrixXd Xtr = X(tr, Eigen::all);
      VectorXd ytr = y(tr);
      Path fp;
      try {
        fp = fit_path(Xtr, ytr, fold_opts);
      } catch (const InvalidArgument& e) {
        throw InvalidArgument("cross-validation fold " + std::to_string(f) + ": " + e.what());
      } catch (const NumericalError& e) {
        throw NumericalError("cross-validation fold " + std::to_string(f) + ": " + e.what());
      }
      const MatrixXd pred = fp.predict(X(te, Eigen::all));
      reached[job] = fp.lambda.size();
      if (fp.status != "converged") stop_message[job] = "fold " + std::to_string(f) + ": " + fp.message;
      for (std::size_t t = 0; t < te.size(); ++t)
        oof[r].row(te[t]).head(pred.cols()) = pred.row(static_cast<Index>(t));
      if (progress) progress->tick();
    }
  });
  if (progress) progress->finish();

  const Index Lr = *std::min_element(reached.begin(), reached.end());
  if (Lr < 1) throw NumericalError("cross-validation: no fold fitted any lambda value");
  CvResult res;
  res.folds = K;
  res.repeats = cv.repeats;
  res.fold_ids = all_ids.front();
  res.lambda = full->lambda.head(Lr);
  if (Lr < L)
    for (std::size_t job = 0; job < jobs; ++job)
      if (reached[job] == Lr) {
        res.warnings.push_back("cross-validation covers only the first " + std::to_string(Lr) + " of " +
                               std::to_string(L) + " lambda values (" + stop_message[job] + ")");
        break;
      }
  MatrixXd E = MatrixXd::Zero(static_cast<Index>(n), Lr);
  res.oof = MatrixXd::Zero(static_cast<Index>(n), Lr);
  for (int r = 0; r < cv.repeats; ++r)
    for (Index i = 0; i < static_cast<Index>(n); ++i)
      for (Index k = 0; k < Lr; ++k) {
        const double pr = oof[static_cast<std::size_t>(r)](i, k);
        E(i, k) += loss(options.family, y(i), pr) / cv.repeats;
        res.oof(i, k) += pr / cv.repeats;
      }
  res.mean = E.colwise().mean().transpose();
  res.se.resize(Lr);
  for (Index k = 0; k < Lr; ++k) {
    const double var = (E.col(k).array() - res.mean(k)).square().sum() / static_cast<double>(n - 1);
    res.se(k) = std::sqrt(var / static_cast<double>(n));
  }
  res.mean.minCoeff(&res.index_min);
  const double bound = res.mean(static_cast<Index>(res.index_min)) + res.se(static_cast<Index>(res.index_min));
  res.index_1se = res.index_min;
  for (Index k = 0; k <= static_cast<Index>(res.index_min); ++k)
    if (res.mean(k) <= bound) {
      res.index_1se = static_cast<std::size_t>(k);
      break;
    }
  res.lambda_min = res.lambda(static_cast<Index>(res.index_min));
  res.lambda_1se = res.lambda(static_cast<Index>(res.index_1se));
  return res;
}

}  // namespace tsunagu::sparse
