// Truth: the figures carry what they claim (markers at λ_min/λ_1se, one row per model, every feature named).
#include <gtest/gtest.h>

#include "test_util.hpp"
#include "tsunagu/sparse/plots.hpp"

using namespace tsunagu;
using namespace tsunagu::sparse;

TEST(SparsePlots, CvAndPathFiguresNameTheirContent) {
  auto pr = test::random_problem(40, 5, 2, 0.3, 2);
  PathOptions o;
  o.nlambda = 15;
  const Path path = fit_path(pr.X, pr.y, o);
  CvOptions c;
  c.progress = false;
  c.folds = 4;
  const CvResult cv = cross_validate(pr.X, pr.y, o, c, &path);
  const std::string svg = cv_plot_svg(cv);
  EXPECT_NE(svg.find("<svg"), std::string::npos);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
  EXPECT_NE(svg.find("lambda_min"), std::string::npos);
  EXPECT_NE(svg.find("lambda_1se"), std::string::npos);
  const std::string ps = path_plot_svg(path, {"alpha", "beta", "gamma", "delta", "eps"});
  EXPECT_NE(ps.find("alpha"), std::string::npos);
  EXPECT_NE(ps.find("</svg>"), std::string::npos);
}

TEST(SparsePlots, WeightDiagramHasOneRowPerModelAndEveryFeature) {
  auto pr = test::random_problem(40, 5, 2, 0.3, 2);
  ExhaustiveOptions o;
  o.max_k = 2;
  o.top = 7;
  o.progress = false;
  const auto r = exhaustive_search(pr.X, pr.y, o);
  const std::string svg = weight_diagram_svg(r, {"f0", "f1", "f2", "f3", "f4"}, 7);
  for (int i = 1; i <= 7; ++i) EXPECT_NE(svg.find("#" + std::to_string(i) + " "), std::string::npos) << i;
  for (int j = 0; j < 5; ++j) EXPECT_NE(svg.find(">f" + std::to_string(j) + "<"), std::string::npos) << j;
  const std::string dos = dos_svg(r);
  EXPECT_NE(dos.find("density of states"), std::string::npos);
}
