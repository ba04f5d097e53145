#include "tsunagu/bayesopt/space.hpp"

#include <cmath>
#include <set>

#include <gtest/gtest.h>

#include "tsunagu/core/error.hpp"

using namespace tsunagu;
using namespace tsunagu::bayesopt;

namespace {

const char* kMixedSpace = R"(
[[parameter]]
name = "o2_pressure"
low = 0.1
high = 10.0
log = true
unit = "Pa"

[[parameter]]
name = "cycles"
type = "integer"
low = 1
high = 5

[[parameter]]
name = "target"
type = "categorical"
choices = ["Ti", "Nb", "Ta"]

[[parameter]]
name = "chamber"
type = "fixed"
value = "A"

[[parameter]]
name = "power"
low = 50
high = 300
unit = "W"

[[constraint]]
coefficients = { power = 1.0, cycles = 40.0 }
upper = 350.0

[[objective]]
name = "resistivity"
direction = "minimize"
unit = "ohm cm"
)";

Space mixed() { return parse_space_toml(kMixedSpace, "mixed.toml"); }

std::string parse_error_of(const std::string& text, const std::vector<std::string>& other = {}) {
  try {
    parse_space_toml(text, "bad.toml", other);
  } catch (const ParseError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(SpaceToml, MixedSpaceParsesAllKinds) {
  const Space s = mixed();
  ASSERT_EQ(s.n_parameters(), 5u);
  EXPECT_EQ(s.parameters[0].kind, ParamKind::Continuous);
  EXPECT_TRUE(s.parameters[0].log_scale);
  EXPECT_EQ(s.parameters[0].unit, "Pa");
  EXPECT_EQ(s.parameters[1].kind, ParamKind::Integer);
  EXPECT_EQ(s.parameters[2].kind, ParamKind::Categorical);
  EXPECT_EQ(s.parameters[2].choices.size(), 3u);
  EXPECT_EQ(s.parameters[3].kind, ParamKind::Fixed);
  EXPECT_EQ(s.parameters[3].label, "A");
  // encoded: 1 (o2) + 1 (cycles) + 3 (one-hot) + 0 (fixed) + 1 (power)
  EXPECT_EQ(s.dim(), 6u);
  ASSERT_EQ(s.constraints.size(), 1u);
  ASSERT_EQ(s.objectives.size(), 1u);
  EXPECT_EQ(s.objectives[0].direction, Direction::Minimize);
}

TEST(SpaceEncode, LogScaleMapsGeometricMidpointToHalf) {
  const Space s = mixed();
  Eigen::MatrixXd p(1, 5);
  p << 1.0, 3, 2, 0, 175;  // sqrt(0.1*10) = 1 is the geometric midpoint; 3 the middle of 1..5; 175 of 50..300
  const Eigen::MatrixXd u = s.encode(p);
  EXPECT_NEAR(u(0, 0), 0.5, 1e-15);
  EXPECT_NEAR(u(0, 1), 0.5, 1e-15);
  EXPECT_EQ(u(0, 2), 0.0);
  EXPECT_EQ(u(0, 3), 0.0);
  EXPECT_EQ(u(0, 4), 1.0);  // "Ta"
  EXPECT_NEAR(u(0, 5), 0.5, 1e-15);
}

TEST(SpaceEncode, DecodeInvertsEncodeForValidPoints) {
  const Space s = mixed();
  core::Rng rng = core::make_rng(3);
  const Eigen::MatrixXd pts = s.sample(50, rng);
  const Eigen::MatrixXd back = s.decode(s.encode(pts));
  for (Eigen::Index i = 0; i < pts.rows(); ++i)
    for (Eigen::Index j = 0; j < pts.cols(); ++j) EXPECT_NEAR(back(i, j), pts(i, j), 1e-9 * (1 + std::abs(pts(i, j))));
}

TEST(SpaceDecode, RoundsIntegersClampsAndTakesArgmaxCategory) {
  const Space s = mixed();
  Eigen::MatrixXd u(1, 6);
  u << 1.7, 0.49, 0.2, 0.9, 0.3, -0.5;
  const Eigen::MatrixXd x = s.decode(u);
  EXPECT_DOUBLE_EQ(x(0, 0), 10.0);       // clamped to the upper bound
  EXPECT_DOUBLE_EQ(x(0, 1), 3.0);        // 1 + 0.49*4 = 2.96 -> 3
  EXPECT_DOUBLE_EQ(x(0, 2), 1.0);        // "Nb"
  EXPECT_DOUBLE_EQ(x(0, 3), 0.0);        // fixed label -> index 0
  EXPECT_DOUBLE_EQ(x(0, 4), 50.0);       // clamped to the lower bound
  EXPECT_EQ(s.format_point(x.row(0).transpose()),
            (std::vector<std::string>{"10", "3", "Nb", "A", "50"}));
}

TEST(SpaceFeasible, LinearConstraintAndBoundsAreChecked) {
  const Space s = mixed();
  Eigen::VectorXd ok(5), violates(5), outside(5), fractional(5);
  ok << 1.0, 2, 0, 0, 270;          // 270 + 80 = 350 <= 350 (on the boundary)
  violates << 1.0, 2, 0, 0, 271;    // 351 > 350
  outside << 20.0, 1, 0, 0, 100;
  fractional << 1.0, 1.5, 0, 0, 100;
  EXPECT_TRUE(s.feasible(ok));
  EXPECT_FALSE(s.feasible(violates));
  EXPECT_FALSE(s.feasible(outside));
  EXPECT_FALSE(s.feasible(fractional));
}

TEST(SpaceSample, EveryDrawIsFeasibleAndTheDesignIsStratified) {
  const Space s = mixed();
  core::Rng rng = core::make_rng(11);
  const Eigen::MatrixXd pts = s.sample(200, rng);
  for (Eigen::Index i = 0; i < pts.rows(); ++i) EXPECT_TRUE(s.feasible(pts.row(i).transpose())) << i;
  std::set<int> categories;
  for (Eigen::Index i = 0; i < pts.rows(); ++i) categories.insert(static_cast<int>(pts(i, 2)));
  EXPECT_EQ(categories.size(), 3u);

  // Without constraints, a Latin hypercube puts exactly one point into each of the n strata of every coordinate.
  Space box;
  box.parameters.resize(2);
  box.parameters[0].name = "a";
  box.parameters[1].name = "b";
  core::Rng rng2 = core::make_rng(5);
  const Eigen::MatrixXd lhs = box.sample(20, rng2);
  for (int j = 0; j < 2; ++j) {
    std::set<int> strata;
    for (Eigen::Index i = 0; i < 20; ++i) strata.insert(static_cast<int>(std::floor(lhs(i, j) * 20)));
    EXPECT_EQ(strata.size(), 20u);
  }
}

TEST(SpaceSample, SameSeedSamePoints) {
  const Space s = mixed();
  core::Rng a = core::make_rng(42), b = core::make_rng(42);
  EXPECT_EQ(s.sample(10, a), s.sample(10, b));
}

TEST(SpaceSample, ImpossibleConstraintsAreReported) {
  Space s;
  s.parameters.resize(1);
  s.parameters[0].name = "x";
  s.constraints.push_back({{{"x", 1.0}}, -1.0});  // x <= -1 with x in [0, 1]
  core::Rng rng = core::make_rng(1);
  EXPECT_THROW(s.sample(1, rng), InvalidArgument);
}

TEST(SpaceTable, PointsFromTableNameTheBadCell) {
  const Space s = mixed();
  const auto good = core::parse_csv("o2_pressure,cycles,target,power,resistivity\n0.5,2,Nb,100,1e-3\n", "obs.csv");
  const Eigen::MatrixXd x = s.points_from_table(good);
  EXPECT_DOUBLE_EQ(x(0, 2), 1.0);
  EXPECT_DOUBLE_EQ(x(0, 3), 0.0);
  const auto bad_cat = core::parse_csv("o2_pressure,cycles,target,power\n0.5,2,Zr,100\n", "obs.csv");
  try {
    s.points_from_table(bad_cat);
    FAIL();
  } catch (const ParseError& e) {
    EXPECT_NE(std::string(e.what()).find("obs.csv:2"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("Zr"), std::string::npos) << e.what();
  }
  const auto bad_int = core::parse_csv("o2_pressure,cycles,target,power\n0.5,2.5,Nb,100\n", "obs.csv");
  EXPECT_THROW(s.points_from_table(bad_int), ParseError);
  const auto missing = core::parse_csv("o2_pressure,target,power\n0.5,Nb,100\n", "obs.csv");
  EXPECT_THROW(s.points_from_table(missing), InvalidArgument);
}

TEST(SpaceFromColumns, BoundsAreColumnRangesAndConstantsAreFixed) {
  Eigen::MatrixXd v(3, 2);
  v << 1, 7, 3, 7, 2, 7;
  const Space s = Space::from_columns(v, {"a", "b"});
  EXPECT_EQ(s.parameters[0].kind, ParamKind::Continuous);
  EXPECT_DOUBLE_EQ(s.parameters[0].lower, 1);
  EXPECT_DOUBLE_EQ(s.parameters[0].upper, 3);
  EXPECT_EQ(s.parameters[1].kind, ParamKind::Fixed);
  EXPECT_EQ(s.dim(), 1u);
}

TEST(SpaceToml, BadInputNamesFileAndKey) {
  const std::string base = "[[parameter]]\nname = \"x\"\nlow = 0\nhigh = 1\n";
  EXPECT_NE(parse_error_of(base + "colour = 3\n").find("unknown key 'colour'"), std::string::npos);
  EXPECT_NE(parse_error_of("[[parameter]]\nname = \"x\"\nlow = 1\nhigh = 0\n").find("low must be < high"),
            std::string::npos);
  EXPECT_NE(parse_error_of("[[parameter]]\nname = \"x\"\nhigh = 1\n").find("missing required key 'low'"),
            std::string::npos);
  EXPECT_NE(parse_error_of("[[parameter]]\nname = \"x\"\ntype = \"real\"\nlow = 0\nhigh = 1\n").find("unknown type"),
            std::string::npos);
  EXPECT_NE(parse_error_of("[[parameter]]\nname = \"x\"\nlow = \"a\"\nhigh = 1\n").find("must be a number"),
            std::string::npos);
  EXPECT_NE(parse_error_of(base + "[[objective]]\nname = \"y\"\ndirection = \"up\"\n").find("unknown direction"),
            std::string::npos);
  EXPECT_NE(parse_error_of(base + "[campaign]\nname = \"c\"\n").find("unknown key 'campaign'"), std::string::npos);
  EXPECT_EQ(parse_error_of(base + "[campaign]\nname = \"c\"\n", {"campaign"}), "");
  EXPECT_NE(parse_error_of("[[parameter]\n").find("TOML syntax error"), std::string::npos);
  EXPECT_NE(parse_error_of("").find("no [[parameter]]"), std::string::npos);
  EXPECT_NE(parse_error_of(base + "[[constraint]]\ncoefficients = { z = 1 }\nupper = 1\n").find("no parameter 'z'"),
            std::string::npos);
  EXPECT_NE(parse_error_of(base + base).find("duplicate parameter"), std::string::npos);
  EXPECT_NE(parse_error_of(base + "[[objective]]\nname = \"x\"\n").find("name of a parameter"), std::string::npos);
  const std::string msg = parse_error_of(base + "colour = 3\n");
  EXPECT_NE(msg.find("bad.toml:5"), std::string::npos) << msg;
}
