#include "tsunagu/campaign/spec.hpp"

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "tsunagu/core/error.hpp"

using namespace tsunagu;
using namespace tsunagu::campaign;

namespace {

const std::string kSpace = R"(
[[parameter]]
name = "o2_pressure"
low = 0.01
high = 1.0
log = true
unit = "Pa"

[[parameter]]
name = "power"
low = 50.0
high = 300.0
unit = "W"

[[objective]]
name = "resistivity"
direction = "minimize"
unit = "ohm cm"
)";

const std::string kCampaign = R"(
[campaign]
name = "test"
)";

// Full spec text with `extra` appended (later tables may only be added, TOML forbids repeating one).
std::string spec(const std::string& extra, const std::string& campaign = kCampaign) {
  return kSpace + campaign + extra;
}

// The ParseError message for `text`; fails the test when no ParseError (or another exception) is thrown.
std::string parse_error(const std::string& text) {
  try {
    parse_campaign_spec(text, "bad.toml");
  } catch (const ParseError& e) {
    EXPECT_EQ(e.file(), "bad.toml");
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected ParseError, got: " << e.what();
    return "";
  }
  ADD_FAILURE() << "expected ParseError for:\n" << text;
  return "";
}

}  // namespace

TEST(CampaignSpec, ExampleSputterSpecParsesWithItsStatedSettings) {
  const auto s = read_campaign_spec(std::filesystem::path(TSUNAGU_SOURCE_DIR) / "examples/campaign/sputter.toml");
  EXPECT_EQ(s.name, "Nb:TiO2 resistivity");
  EXPECT_EQ(s.batch, 2);
  EXPECT_EQ(s.initial, 6);
  EXPECT_EQ(s.seed, 1u);
  ASSERT_EQ(s.space.n_parameters(), 4u);
  EXPECT_EQ(s.space.parameter_names(), (std::vector<std::string>{"o2_pressure", "power", "temperature", "nb_fraction"}));
  EXPECT_TRUE(s.space.parameters[0].log_scale);
  EXPECT_EQ(s.space.parameters[0].unit, "Pa");
  EXPECT_DOUBLE_EQ(s.space.parameters[3].lower, 0.0);
  EXPECT_DOUBLE_EQ(s.space.parameters[3].upper, 0.2);
  ASSERT_EQ(s.space.objectives.size(), 1u);
  EXPECT_EQ(s.space.objectives[0].name, "resistivity");
  EXPECT_EQ(s.space.objectives[0].direction, bayesopt::Direction::Minimize);
  EXPECT_EQ(s.stop.budget, 30);
  EXPECT_EQ(s.retry.max_attempts, 3);
  EXPECT_EQ(s.optimizer.acquisition, bayesopt::Acquisition::LogEI);
  EXPECT_EQ(s.optimizer.gp.kernel, bayesopt::KernelType::Matern52);
  EXPECT_NE(s.toml.find("[campaign]"), std::string::npos);  // stored verbatim for the database
}

TEST(CampaignSpec, AllTablesParsedIntoTheirFields) {
  const auto s = parse_campaign_spec(spec(R"(
[optimizer]
acquisition = "ucb"
kernel = "rbf"
batch_method = "lp"
spread = "measurement"
input_warp = "learned"
kappa = 3.5
xi = 0.01
prior = "dimscaled"
lengthscale_min = 0.05

[stop]
budget = 12
target = 2.0e-4
patience = 4

[retry]
max_attempts = 5
timeout = 30
poll_interval = 0.25
)",
                                         R"(
[campaign]
name = "full"
batch = 3
initial = 4
seed = 99
)"));
  EXPECT_EQ(s.name, "full");
  EXPECT_EQ(s.batch, 3);
  EXPECT_EQ(s.initial, 4);
  EXPECT_EQ(s.seed, 99u);
  EXPECT_EQ(s.optimizer.acquisition, bayesopt::Acquisition::UCB);
  EXPECT_EQ(s.optimizer.gp.kernel, bayesopt::KernelType::RBF);
  EXPECT_EQ(s.optimizer.batch_method, bayesopt::BatchMethod::LocalPenalization);
  EXPECT_EQ(s.optimizer.spread, bayesopt::Spread::Measurement);
  EXPECT_EQ(s.optimizer.input_warp, bayesopt::InputWarp::Learned);
  EXPECT_DOUBLE_EQ(s.optimizer.kappa, 3.5);
  EXPECT_DOUBLE_EQ(s.optimizer.xi, 0.01);
  EXPECT_EQ(s.optimizer.gp.prior, bayesopt::Prior::DimScaled);
  EXPECT_DOUBLE_EQ(s.optimizer.gp.lengthscale_min, 0.05);
  EXPECT_EQ(s.stop.budget, 12);
  ASSERT_TRUE(s.stop.target.has_value());
  EXPECT_DOUBLE_EQ(*s.stop.target, 2.0e-4);
  EXPECT_EQ(s.stop.patience, 4);
  EXPECT_EQ(s.retry.max_attempts, 5);
  EXPECT_DOUBLE_EQ(s.retry.timeout_s, 30.0);  // a TOML integer is accepted where seconds are expected
  EXPECT_DOUBLE_EQ(s.retry.poll_interval_s, 0.25);
}

TEST(CampaignSpec, OptionalTablesAbsentGiveTheHeaderDefaults) {
  const auto s = parse_campaign_spec(spec(""));
  EXPECT_EQ(s.batch, 1);
  EXPECT_EQ(s.initial, 5);
  EXPECT_EQ(s.seed, 0u);
  EXPECT_EQ(s.stop.budget, 50);
  EXPECT_FALSE(s.stop.target.has_value());
  EXPECT_EQ(s.stop.patience, 0);
  EXPECT_EQ(s.retry.max_attempts, 3);
  EXPECT_DOUBLE_EQ(s.retry.timeout_s, 600.0);
  EXPECT_DOUBLE_EQ(s.retry.poll_interval_s, 1.0);
  EXPECT_EQ(s.optimizer.acquisition, bayesopt::OptimizerOptions{}.acquisition);
}

TEST(CampaignSpec, UnknownTopLevelTableIsRefusedNamingIt) {
  const auto m = parse_error(spec("\n[robot]\nspeed = 1\n"));
  EXPECT_NE(m.find("bad.toml"), std::string::npos) << m;
  EXPECT_NE(m.find("robot"), std::string::npos) << m;
}

TEST(CampaignSpec, UnknownKeyInEachTableIsRefusedNamingTableAndKey) {
  EXPECT_NE(parse_error(spec("", "[campaign]\nname = \"x\"\nbatchsize = 2\n")).find("campaign.batchsize"),
            std::string::npos);
  EXPECT_NE(parse_error(spec("[optimizer]\nacq = \"ei\"\n")).find("optimizer.acq"), std::string::npos);
  EXPECT_NE(parse_error(spec("[stop]\nbudjet = 3\n")).find("stop.budjet"), std::string::npos);
  EXPECT_NE(parse_error(spec("[retry]\nattempts = 3\n")).find("retry.attempts"), std::string::npos);
  // and inside the space tables (checked by parse_space_toml)
  EXPECT_NE(parse_error(kSpace + "\n[[parameter]]\nname = \"t\"\nlow = 0\nhigh = 1\nstep = 2\n" + kCampaign)
                .find("step"),
            std::string::npos);
}

TEST(CampaignSpec, UnknownKeyErrorCarriesTheLineOfTheKey) {
  const std::string text = spec("", "[campaign]\nname = \"x\"\nbogus = 1\n");
  try {
    parse_campaign_spec(text, "bad.toml");
    FAIL() << "no error";
  } catch (const ParseError& e) {
    // kSpace has 17 lines after its leading newline; "[campaign]" follows on line 18, bogus on line 20.
    std::size_t line = 1;
    const auto pos = text.find("bogus");
    for (std::size_t i = 0; i < pos; ++i) line += text[i] == '\n';
    EXPECT_EQ(e.line(), line);
    EXPECT_EQ(e.column(), "campaign.bogus");
  }
}

TEST(CampaignSpec, WrongValueTypesAreRefusedNamingTheKey) {
  struct Case {
    std::string campaign, extra, key;
  };
  const std::vector<Case> cases = {
      {"[campaign]\nname = 3\n", "", "campaign.name"},
      {"[campaign]\nname = \"x\"\nbatch = \"2\"\n", "", "campaign.batch"},
      {"[campaign]\nname = \"x\"\nbatch = 2.0\n", "", "campaign.batch"},  // counts are integers
      {"[campaign]\nname = \"x\"\ninitial = true\n", "", "campaign.initial"},
      {"[campaign]\nname = \"x\"\nseed = 1.5\n", "", "campaign.seed"},
      {kCampaign, "[stop]\nbudget = \"ten\"\n", "stop.budget"},
      {kCampaign, "[stop]\ntarget = \"low\"\n", "stop.target"},
      {kCampaign, "[retry]\ntimeout = \"10 s\"\n", "retry.timeout"},
      {kCampaign, "[retry]\nmax_attempts = 2.5\n", "retry.max_attempts"},
      {kCampaign, "[optimizer]\nkappa = \"2\"\n", "optimizer.kappa"},
      {kCampaign, "[optimizer]\nacquisition = 1\n", "optimizer.acquisition"},
      {kCampaign, "stop = 3\n", "stop"},  // a table expected
  };
  for (const auto& c : cases) {
    // `stop = 3` must precede any table header to be a top-level key.
    const std::string text = c.key == "stop" ? c.extra + kSpace + c.campaign : spec(c.extra, c.campaign);
    const auto m = parse_error(text);
    EXPECT_NE(m.find(c.key), std::string::npos) << c.key << ": " << m;
    EXPECT_NE(m.find("bad.toml"), std::string::npos) << m;
  }
}

TEST(CampaignSpec, OutOfRangeValuesAreRefusedNamingTheKey) {
  struct Case {
    std::string campaign, extra, key;
  };
  const std::vector<Case> cases = {
      {"[campaign]\nname = \"x\"\nbatch = 0\n", "", "campaign.batch"},
      {"[campaign]\nname = \"x\"\ninitial = -1\n", "", "campaign.initial"},
      {"[campaign]\nname = \"x\"\nseed = -3\n", "", "campaign.seed"},
      {"[campaign]\nname = \"\"\n", "", "campaign.name"},
      {kCampaign, "[stop]\nbudget = 0\n", "stop.budget"},
      {kCampaign, "[stop]\npatience = -1\n", "stop.patience"},
      {kCampaign, "[stop]\ntarget = nan\n", "stop.target"},
      {kCampaign, "[retry]\nmax_attempts = 0\n", "retry.max_attempts"},
      {kCampaign, "[retry]\ntimeout = 0\n", "retry.timeout"},
      {kCampaign, "[retry]\npoll_interval = -0.5\n", "retry.poll_interval"},
      {kCampaign, "[optimizer]\nkappa = -1\n", "optimizer.kappa"},
      {kCampaign, "[optimizer]\nxi = inf\n", "optimizer.xi"},
      {kCampaign, "[optimizer]\ninput_warp = \"rank\"\n", "optimizer.input_warp"},
      {kCampaign, "[optimizer]\ninput_warp = \"quantile\"\n", "optimizer.input_warp"},
      {kCampaign, "[optimizer]\nlengthscale_min = 0\n", "optimizer.lengthscale_min"},
      {kCampaign, "[optimizer]\nlengthscale_min = 1e4\n", "optimizer.lengthscale_min"},
  };
  for (const auto& c : cases) {
    const auto m = parse_error(spec(c.extra, c.campaign));
    EXPECT_NE(m.find(c.key), std::string::npos) << c.key << ": " << m;
  }
}

TEST(CampaignSpec, UnknownOptimizerNamesAreRefusedNamingTheKeyAndValue) {
  for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{
           {"acquisition", "best"}, {"kernel", "matern12"}, {"batch_method", "greedy"}, {"spread", "noisy"}, {"prior", "lognormal"}}) {
    const auto m = parse_error(spec("[optimizer]\n" + key + " = \"" + value + "\"\n"));
    EXPECT_NE(m.find("optimizer." + key), std::string::npos) << m;
    EXPECT_NE(m.find(value), std::string::npos) << m;
  }
}

TEST(CampaignSpec, MissingCampaignTableOrNameIsRefused) {
  EXPECT_NE(parse_error(kSpace).find("[campaign]"), std::string::npos);
  const auto m = parse_error(spec("", "[campaign]\nbatch = 2\n"));
  EXPECT_NE(m.find("campaign.name"), std::string::npos) << m;
  EXPECT_NE(m.find("missing"), std::string::npos) << m;
}

TEST(CampaignSpec, BadObjectiveDirectionIsRefusedNamingIt) {
  const std::string text = R"(
[[parameter]]
name = "power"
low = 50.0
high = 300.0

[[objective]]
name = "resistivity"
direction = "smallest"
)" + kCampaign;
  const auto m = parse_error(text);
  EXPECT_NE(m.find("direction"), std::string::npos) << m;
  EXPECT_NE(m.find("smallest"), std::string::npos) << m;
}

TEST(CampaignSpec, CampaignWithoutObjectiveIsRefused) {
  const std::string text = "[[parameter]]\nname = \"power\"\nlow = 1.0\nhigh = 2.0\n" + kCampaign;
  EXPECT_NE(parse_error(text).find("objective"), std::string::npos);
}

TEST(CampaignSpec, TargetWithTwoObjectivesIsRefused) {
  const std::string text = kSpace + "\n[[objective]]\nname = \"transmittance\"\ndirection = \"maximize\"\n" +
                           kCampaign + "[stop]\ntarget = 1e-3\n";
  EXPECT_NE(parse_error(text).find("stop.target"), std::string::npos);
}

TEST(CampaignSpec, TomlSyntaxErrorIsAParseErrorWithTheLine) {
  try {
    parse_campaign_spec(spec("[stop\nbudget = 3\n"), "bad.toml");
    FAIL() << "no error";
  } catch (const ParseError& e) {
    EXPECT_EQ(e.file(), "bad.toml");
    EXPECT_GT(e.line(), 0u);
  }
}

TEST(CampaignSpec, MissingFileIsAnIoError) {
  EXPECT_THROW(read_campaign_spec("/nonexistent/campaign.toml"), IoError);
}

TEST(CampaignSpec, ValidateNamesTheFieldOfAProgrammaticSpec) {
  auto s = parse_campaign_spec(spec(""));
  s.validate();
  auto expect_field = [](CampaignSpec x, const std::string& field) {
    try {
      x.validate();
      ADD_FAILURE() << field << ": no error";
    } catch (const InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
    }
  };
  auto b = s;
  b.batch = 0;
  expect_field(b, "campaign.batch");
  b = s;
  b.stop.budget = 0;
  expect_field(b, "stop.budget");
  b = s;
  b.retry.max_attempts = 0;
  expect_field(b, "retry.max_attempts");
  b = s;
  b.retry.timeout_s = std::nan("");
  expect_field(b, "retry.timeout");
  b = s;
  b.name.clear();
  expect_field(b, "campaign.name");
}
