// Truth: brute-force OLS + K-fold CV written plainly (QR least squares per subset and fold).
#include <gtest/gtest.h>

#include <Eigen/QR>
#include <algorithm>
#include <cmath>

#include "test_util.hpp"
#include "tsunagu/core/error.hpp"
#include "tsunagu/sparse/exhaustive.hpp"

using namespace tsunagu;
using namespace tsunagu::sparse;
using Eigen::MatrixXd;
using Eigen::VectorXd;

namespace {
struct Plain {
  std::vector<int> feats;
  double rmse;
};

std::vector<Plain> brute_force(const MatrixXd& X, const VectorXd& y, int max_k, const std::vector<int>& ids) {
  const int p = static_cast<int>(X.cols()), n = static_cast<int>(X.rows());
  const int F = *std::max_element(ids.begin(), ids.end()) + 1;
  std::vector<Plain> out;
  for (unsigned mask = 1; mask < (1u << p); ++mask) {
    std::vector<int> feats;
    for (int j = 0; j < p; ++j)
      if (mask & (1u << j)) feats.push_back(j);
    if (static_cast<int>(feats.size()) > max_k) continue;
    double sse = 0;
    for (int f = 0; f < F; ++f) {
      std::vector<int> tr, te;
      for (int i = 0; i < n; ++i) (ids[static_cast<std::size_t>(i)] == f ? te : tr).push_back(i);
      MatrixXd A(tr.size(), feats.size() + 1);
      for (std::size_t r = 0; r < tr.size(); ++r) {
        A(static_cast<Eigen::Index>(r), 0) = 1;
        for (std::size_t q = 0; q < feats.size(); ++q) A(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(q + 1)) = X(tr[r], feats[q]);
      }
      const VectorXd b = A.colPivHouseholderQr().solve(y(tr));
      for (int i : te) {
        double pred = b(0);
        for (std::size_t q = 0; q < feats.size(); ++q) pred += b(static_cast<Eigen::Index>(q + 1)) * X(i, feats[q]);
        sse += (y(i) - pred) * (y(i) - pred);
      }
    }
    out.push_back({feats, std::sqrt(sse / n)});
  }
  std::sort(out.begin(), out.end(), [](const Plain& a, const Plain& b) {
    if (a.rmse != b.rmse) return a.rmse < b.rmse;
    if (a.feats.size() != b.feats.size()) return a.feats.size() < b.feats.size();
    return a.feats < b.feats;
  });
  return out;
}
}  // namespace

TEST(ExhaustiveSearch, EqualsBruteForceOlsCv) {
  auto pr = test::random_problem(45, 9, 3, 0.5, 17);
  ExhaustiveOptions o;
  o.max_k = 4;
  o.folds = 5;
  o.top = 30;
  o.progress = false;
  const auto res = exhaustive_search(pr.X, pr.y, o);
  const auto plain = brute_force(pr.X, pr.y, 4, res.fold_ids);
  ASSERT_EQ(res.n_subsets, plain.size());
  ASSERT_EQ(res.n_rank_deficient, 0u);
  ASSERT_EQ(res.models.size(), 30u);
  for (std::size_t t = 0; t < 30; ++t) {
    EXPECT_EQ(res.models[t].features, plain[t].feats) << "rank " << t;
    EXPECT_NEAR(res.models[t].cv_error, plain[t].rmse, 1e-9 * plain[t].rmse) << "rank " << t;
  }
  std::vector<double> all = res.all_cv_errors, ref;
  for (const auto& p : plain) ref.push_back(p.rmse);
  std::sort(all.begin(), all.end());
  std::sort(ref.begin(), ref.end());
  for (std::size_t i = 0; i < ref.size(); ++i) EXPECT_NEAR(all[i], ref[i], 1e-9 * ref[i]);
  // DOS counts every scored subset once.
  double total = 0;
  for (double c : res.dos_counts) total += c;
  EXPECT_EQ(total, static_cast<double>(plain.size()));
  // Best model coefficients equal full-data OLS.
  const auto& best = res.models[0];
  MatrixXd A(45, best.features.size() + 1);
  A.col(0).setOnes();
  for (std::size_t q = 0; q < best.features.size(); ++q) A.col(static_cast<Eigen::Index>(q + 1)) = pr.X.col(best.features[q]);
  const VectorXd b = A.colPivHouseholderQr().solve(pr.y);
  EXPECT_NEAR(best.intercept, b(0), 1e-8 * std::abs(b(0)) + 1e-10);
  for (std::size_t q = 0; q < best.features.size(); ++q) EXPECT_NEAR(best.coef(static_cast<Eigen::Index>(q)), b(static_cast<Eigen::Index>(q + 1)), 1e-8);
}

TEST(ExhaustiveSearch, AllSubsetsWhenMaxKCoversP) {
  auto pr = test::random_problem(30, 6, 2, 0.3, 3);
  ExhaustiveOptions o;
  o.max_k = 99;
  o.progress = false;
  const auto res = exhaustive_search(pr.X, pr.y, o);
  EXPECT_EQ(res.n_subsets, 63u);
  EXPECT_EQ(res.max_k, 6);
  EXPECT_EQ(count_subsets(30, 4), 31930u);
}

TEST(ExhaustiveSearch, SkipsAndCountsRankDeficientSubsets) {
  auto pr = test::random_problem(40, 5, 2, 0.3, 4);
  MatrixXd X(40, 6);
  X << pr.X, pr.X.col(1) * 2.0 + VectorXd::Constant(40, 1.0);  // column 5 is collinear with column 1
  ExhaustiveOptions o;
  o.max_k = 3;
  o.progress = false;
  const auto res = exhaustive_search(X, pr.y, o);
  const auto plain_count = count_subsets(6, 3);
  // Subsets containing both 1 and 5: {1,5} + {1,5,x} for 4 others = 5.
  EXPECT_EQ(res.n_rank_deficient, 5u);
  EXPECT_EQ(res.n_subsets, plain_count);
  EXPECT_EQ(res.all_cv_errors.size(), plain_count - 5);
}

TEST(ExhaustiveSearch, IsIdenticalForAnyThreadCount) {
  auto pr = test::random_problem(50, 14, 3, 0.5, 8);
  ExhaustiveOptions o;
  o.max_k = 3;
  o.progress = false;
  o.threads = 1;
  const auto a = exhaustive_search(pr.X, pr.y, o);
  o.threads = 2;
  const auto b = exhaustive_search(pr.X, pr.y, o);
  EXPECT_EQ(a.all_cv_errors, b.all_cv_errors);
  EXPECT_EQ(a.models[0].features, b.models[0].features);
}

TEST(ExhaustiveSearch, RefusesASearchThatWouldTakeTooLong) {
  auto pr = test::random_problem(50, 60, 3, 0.5, 8);
  ExhaustiveOptions o;
  o.max_k = 5;  // 5.9 million subsets: seconds of work, refused under a 0.5 s limit
  o.time_limit = 0.5;
  o.progress = false;
  try {
    exhaustive_search(pr.X, pr.y, o);
    FAIL();
  } catch (const InvalidArgument& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("would take about"), std::string::npos) << m;
    EXPECT_NE(m.find("--time-limit"), std::string::npos) << m;
  }
  EXPECT_GT(estimate_exhaustive_seconds(50, 60, o), o.time_limit);
  o.max_k = 8;  // 2.9e9 subsets: more than can be kept in memory, refused whatever the time limit
  o.time_limit = 1e9;
  EXPECT_THROW(exhaustive_search(pr.X, pr.y, o), InvalidArgument);
}

TEST(ExhaustiveOptionsValidation, NamesTheBadField) {
  auto pr = test::random_problem(10, 4, 1, 0.1, 1);
  ExhaustiveOptions o;
  o.progress = false;
  o.folds = 20;
  EXPECT_THROW(exhaustive_search(pr.X, pr.y, o), InvalidArgument);
  o = {};
  o.max_k = 0;
  EXPECT_THROW(exhaustive_search(pr.X, pr.y, o), InvalidArgument);
  o = {};
  o.top = 0;
  EXPECT_THROW(exhaustive_search(pr.X, pr.y, o), InvalidArgument);
}
