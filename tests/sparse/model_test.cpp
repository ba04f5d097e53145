// Truths: the formula is the model it prints (re-evaluated by hand); model.json round trip reproduces predictions;
// screening order is the sorted prediction; dataset selection rules and their error messages.
#include <gtest/gtest.h>

#include "test_util.hpp"
#include "tsunagu/core/error.hpp"
#include "tsunagu/core/table.hpp"
#include "tsunagu/sparse/model.hpp"

using namespace tsunagu;
using namespace tsunagu::sparse;
using Eigen::MatrixXd;
using Eigen::VectorXd;

TEST(LinearModelFormula, PrintsNonzeroTermsWithSigns) {
  LinearModel m;
  m.target = "yield";
  m.features = {"dP", "V", "unused", "hansen dist"};
  m.intercept = 12.3;
  m.coef = VectorXd(4);
  m.coef << 4.5, -0.81, 0.0, 2e-5;
  EXPECT_EQ(m.formula(), "yield = 12.3 + 4.5*dP - 0.81*V + 2e-05*`hansen dist`");
  m.family = Family::Binomial;
  EXPECT_EQ(m.formula(2), "logit P(yield=1) = 12 + 4.5*dP - 0.81*V + 2e-05*`hansen dist`");
}

TEST(SavedFit, JsonRoundTripReproducesPredictionsAndSelection) {
  auto pr = test::random_problem(40, 6, 2, 0.3, 12);
  SavedFit s;
  s.features = {"a", "b", "c", "d", "e", "f"};
  s.target = "y";
  PathOptions o;
  o.nlambda = 20;
  s.path = fit_path(pr.X, pr.y, o);
  CvOptions c;
  c.progress = false;
  c.folds = 4;
  s.cv = cross_validate(pr.X, pr.y, o, c, &s.path);
  const auto j = to_json(s);
  EXPECT_EQ(j["lambda"].size(), 20u);
  EXPECT_EQ(j["coef"][0].size(), 6u);
  EXPECT_TRUE(j.contains("formula"));
  const auto back = saved_fit_from_json(nlohmann::json::parse(j.dump()), "model.json");
  for (const std::string which : {"min", "1se", "0.01"}) {
    const auto a = s.select(which), b = back.select(which);
    EXPECT_LT((a.predict(pr.X) - b.predict(pr.X)).cwiseAbs().maxCoeff(), 1e-12) << which;
    EXPECT_EQ(a.formula(), b.formula());
  }
  const auto mmin = s.select("min");
  EXPECT_DOUBLE_EQ(mmin.lambda, s.cv->lambda_min);
  EXPECT_THROW(s.select("middle"), InvalidArgument);
}

TEST(SavedFit, MalformedJsonNamesTheField) {
  nlohmann::json j = {{"features", {"a"}}, {"penalty", "mcp"}, {"gamma", 3.0}, {"lambda", {1.0}}, {"intercept", {0.0}}};
  try {
    saved_fit_from_json(j, "m.json");
    FAIL();
  } catch (const ParseError& e) {
    EXPECT_NE(std::string(e.what()).find("m.json"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("'coef'"), std::string::npos) << e.what();
  }
  j["coef"] = {{1.0, 2.0}};
  EXPECT_THROW(saved_fit_from_json(j, "m.json"), ParseError);
  SavedFit nocv;
  EXPECT_THROW(nocv.select("min"), InvalidArgument);
}

TEST(Screening, RanksByPrediction) {
  LinearModel m;
  m.features = {"a"};
  m.coef = VectorXd::Constant(1, 2.0);
  MatrixXd X(4, 1);
  X << 1, 5, -2, 3;
  auto s = screen(m, X, true);
  EXPECT_EQ(s.order, (std::vector<std::size_t>{1, 3, 0, 2}));
  s = screen(m, X, false);
  EXPECT_EQ(s.order, (std::vector<std::size_t>{2, 0, 3, 1}));
}

TEST(DatasetFromTable, SelectsColumnsAndExplainsProblems) {
  const auto t = core::parse_csv("name,a,b,y\nw,1,2,3\nx,2,3,5\nz,4,1,2\n", "d.csv");
  auto d = dataset_from_table(t, "y", {}, {"name"});
  EXPECT_EQ(d.features, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(d.X.rows(), 3);
  EXPECT_EQ(d.y(1), 5);
  try {
    dataset_from_table(t, "y", {}, {});
    FAIL();
  } catch (const ParseError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("d.csv:2"), std::string::npos) << m;
    EXPECT_NE(m.find("column 'name'"), std::string::npos) << m;
    EXPECT_NE(m.find("--exclude"), std::string::npos) << m;
  }
  EXPECT_THROW(dataset_from_table(t, "missing", {}, {"name"}), InvalidArgument);
  EXPECT_THROW(dataset_from_table(t, "y", {"a", "y"}, {}), InvalidArgument);
  EXPECT_THROW(dataset_from_table(t, "y", {"a", "a"}, {}), InvalidArgument);
  const auto miss = core::parse_csv("a,y\n1,2\n,3\n4,5\n6,7\n", "m.csv");
  EXPECT_THROW(dataset_from_table(miss, "y", {}, {}), ParseError);
  const auto dm = dataset_from_table(miss, "y", {}, {}, core::MissingPolicy::Drop);
  EXPECT_EQ(dm.dropped, 1u);
  EXPECT_EQ(dm.X.rows(), 3);
}
