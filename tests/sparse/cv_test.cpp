// Truth: cross-validation recomputed plainly — refit each fold with the full-data λ sequence, average squared
// held-out errors, SE = SD(per-observation loss)/sqrt(n), λ_1se by definition.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "test_util.hpp"
#include "tsunagu/core/error.hpp"
#include "tsunagu/sparse/cv.hpp"

using namespace tsunagu;
using namespace tsunagu::sparse;
using Eigen::MatrixXd;
using Eigen::VectorXd;

TEST(CrossValidation, ErrorEqualsPlainRefitOfEachFold) {
  auto pr = test::random_problem(60, 12, 4, 0.5, 7);
  PathOptions o;
  o.nlambda = 30;
  CvOptions c;
  c.folds = 5;
  c.seed = 3;
  c.progress = false;
  const Path full = fit_path(pr.X, pr.y, o);
  const CvResult cv = cross_validate(pr.X, pr.y, o, c, &full);
  ASSERT_EQ(cv.lambda.size(), 30);
  MatrixXd E(60, 30), P(60, 30);
  for (int f = 0; f < 5; ++f) {
    std::vector<Eigen::Index> tr, te;
    for (int i = 0; i < 60; ++i) (cv.fold_ids[static_cast<std::size_t>(i)] == f ? te : tr).push_back(i);
    ASSERT_FALSE(te.empty());
    PathOptions fo = o;
    fo.lambda.assign(full.lambda.data(), full.lambda.data() + full.lambda.size());
    const Path fp = fit_path(pr.X(tr, Eigen::all), pr.y(tr), fo);
    const MatrixXd pred = fp.predict(pr.X(te, Eigen::all));
    for (std::size_t t = 0; t < te.size(); ++t)
      for (int k = 0; k < 30; ++k) {
        P(te[t], k) = pred(static_cast<Eigen::Index>(t), k);
        E(te[t], k) = std::pow(pr.y(te[t]) - pred(static_cast<Eigen::Index>(t), k), 2);
      }
  }
  for (int k = 0; k < 30; ++k) {
    const double m = E.col(k).mean();
    const double sd = std::sqrt((E.col(k).array() - m).square().sum() / 59.0);
    EXPECT_NEAR(cv.mean(k), m, 1e-10 * m);
    EXPECT_NEAR(cv.se(k), sd / std::sqrt(60.0), 1e-10 * m);
  }
  EXPECT_LT((cv.oof - P).cwiseAbs().maxCoeff(), 1e-12);
  Eigen::Index imin;
  cv.mean.minCoeff(&imin);
  EXPECT_EQ(cv.index_min, static_cast<std::size_t>(imin));
  std::size_t i1se = 0;
  while (cv.mean(static_cast<Eigen::Index>(i1se)) > cv.mean(imin) + cv.se(imin)) ++i1se;
  EXPECT_EQ(cv.index_1se, i1se);
  EXPECT_LE(cv.index_1se, cv.index_min);
  EXPECT_DOUBLE_EQ(cv.lambda_min, full.lambda(imin));
}

TEST(CrossValidation, IsDeterministicForASeedAndThreadCount) {
  auto pr = test::random_problem(50, 10, 3, 0.5, 9);
  PathOptions o;
  CvOptions c;
  c.progress = false;
  c.threads = 1;
  const CvResult a = cross_validate(pr.X, pr.y, o, c);
  c.threads = 2;
  const CvResult b = cross_validate(pr.X, pr.y, o, c);
  EXPECT_EQ(a.fold_ids, b.fold_ids);
  EXPECT_EQ((a.mean - b.mean).cwiseAbs().maxCoeff(), 0.0);
  c.seed = 99;
  const CvResult d = cross_validate(pr.X, pr.y, o, c);
  EXPECT_NE(a.fold_ids, d.fold_ids);
}

TEST(CrossValidation, LoocvUsesOneFoldPerRow) {
  auto pr = test::random_problem(15, 4, 2, 0.2, 2);
  PathOptions o;
  o.nlambda = 10;
  CvOptions c;
  c.loocv = true;
  c.progress = false;
  const CvResult cv = cross_validate(pr.X, pr.y, o, c);
  EXPECT_EQ(cv.folds, 15);
  std::set<int> ids(cv.fold_ids.begin(), cv.fold_ids.end());
  EXPECT_EQ(ids.size(), 15u);
}

TEST(CrossValidation, RepeatsAverageTheFoldAssignments) {
  auto pr = test::random_problem(40, 6, 2, 0.2, 5);
  PathOptions o;
  o.nlambda = 12;
  CvOptions c;
  c.folds = 4;
  c.progress = false;
  c.repeats = 3;
  const CvResult rep = cross_validate(pr.X, pr.y, o, c);
  // Mean over repeats of per-observation losses == average of the three single-repeat CV means.
  VectorXd avg = VectorXd::Zero(12);
  for (int r = 0; r < 3; ++r) {
    CvOptions one = c;
    one.repeats = 1;
    one.seed = c.seed + static_cast<std::uint64_t>(r);
    avg += cross_validate(pr.X, pr.y, o, one).mean / 3.0;
  }
  EXPECT_LT((rep.mean - avg).cwiseAbs().maxCoeff(), 1e-12);
}

TEST(CrossValidation, UserFoldIdsAreRespected) {
  auto pr = test::random_problem(12, 3, 1, 0.2, 1);
  PathOptions o;
  o.nlambda = 5;
  CvOptions c;
  c.progress = false;
  c.fold_ids = {0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2};
  const CvResult cv = cross_validate(pr.X, pr.y, o, c);
  EXPECT_EQ(cv.fold_ids, c.fold_ids);
  EXPECT_EQ(cv.folds, 3);
}

TEST(CrossValidationValidation, RejectsImpossibleFoldDesigns) {
  auto pr = test::random_problem(10, 3, 1, 0.2, 1);
  PathOptions o;
  CvOptions c;
  c.progress = false;
  c.folds = 11;
  EXPECT_THROW(cross_validate(pr.X, pr.y, o, c), InvalidArgument);
  c.folds = 1;
  EXPECT_THROW(cross_validate(pr.X, pr.y, o, c), InvalidArgument);
  c = {};
  c.fold_ids = {0, 0, 0, 0, 0, 2, 2, 2, 2, 2};  // fold 1 empty
  try {
    cross_validate(pr.X, pr.y, o, c);
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("fold 1 is empty"), std::string::npos) << e.what();
  }
  c.fold_ids = {0, 1};
  EXPECT_THROW(cross_validate(pr.X, pr.y, o, c), InvalidArgument);
}

TEST(MakeFolds, AreBalancedAndStratified) {
  const auto ids = make_folds(103, 10, 42);
  std::vector<int> count(10, 0);
  for (int f : ids) ++count[static_cast<std::size_t>(f)];
  for (int c : count) EXPECT_TRUE(c == 10 || c == 11);
  VectorXd y(100);
  for (int i = 0; i < 100; ++i) y(i) = i < 30 ? 1 : 0;
  const auto s = make_folds(100, 5, 1, &y, true);
  for (int f = 0; f < 5; ++f) {
    int pos = 0, tot = 0;
    for (int i = 0; i < 100; ++i)
      if (s[static_cast<std::size_t>(i)] == f) {
        ++tot;
        pos += y(i) == 1;
      }
    EXPECT_EQ(tot, 20);
    EXPECT_EQ(pos, 6);
  }
}
