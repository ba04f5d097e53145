// Reports of a campaign: best-so-far trace (single and multi-objective), status JSON/text, SVG plots, CSV export.
#include "tsunagu/campaign/report.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "../core/temp_dir.hpp"
#include "../core/xml_check.hpp"
#include "report_fixture.hpp"
#include "tsunagu/core/error.hpp"
#include "tsunagu/core/table.hpp"

namespace tsunagu::campaign {
namespace {

using test::kXssError;
using test::kXssName;
using test::TempDir;

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// --- best_so_far ------------------------------------------------------------------------------------------------

TEST(BestSoFar, MinimiseFollowsCompletionOrderAndSkipsTheFailedExperiment) {
  TempDir dir;
  auto c = test::make_single(dir / "c.sqlite", /*maximize=*/false);
  // results in completion order 2, 3, (failed), 1, 4 -> running minimum 2, 2, 1, 1 (not id order 3, 2, 1, 4)
  EXPECT_EQ(best_so_far(c.store), (std::vector<double>{2, 2, 1, 1}));
}

TEST(BestSoFar, MaximiseIsTheRunningMaximum) {
  TempDir dir;
  auto c = test::make_single(dir / "c.sqlite", /*maximize=*/true);
  EXPECT_EQ(best_so_far(c.store), (std::vector<double>{2, 3, 3, 4}));
}

TEST(BestSoFar, NoResultsIsEmpty) {
  TempDir dir;
  auto store = Store::create(dir / "c.sqlite", test::make_spec("empty", {{"resistivity", false}}));
  EXPECT_TRUE(best_so_far(store).empty());
  Eigen::MatrixXd p(1, 2);
  p << 50, 1;
  const auto ids = store.add_proposals(p, "random");
  store.record_failure(ids[0], "no film", false);
  EXPECT_TRUE(best_so_far(store).empty());  // a failure is not a result
}

// Golden values: tests/campaign/data/report_hypervolume.py (exact union of boxes, fractions) -> report_hypervolume.txt
TEST(BestSoFar, MultiObjectiveIsTheHypervolumeWithTheAutomaticReference) {
  TempDir dir;
  auto c = test::make_multi(dir / "c.sqlite");
  const auto trace = best_so_far(c.store);
  const std::vector<double> expected = {8.51, 9.71, 9.71, 10.41};  // reference (-3.3, 1.3) in maximisation form
  ASSERT_EQ(trace.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) EXPECT_NEAR(trace[i], expected[i], 1e-12) << "result " << i + 1;
}

TEST(BestSoFar, MultiObjectiveUsesTheSpecReferencePointWhenGiven) {
  TempDir dir;
  auto c = test::make_multi(dir / "c.sqlite", {4.0, 0.0});
  const auto trace = best_so_far(c.store);
  const std::vector<double> expected = {15, 19, 19, 21};
  ASSERT_EQ(trace.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) EXPECT_NEAR(trace[i], expected[i], 1e-12) << "result " << i + 1;
}

// --- status_json ------------------------------------------------------------------------------------------------

TEST(StatusJson, HasNameControlCountsBestTraceExperimentsAndEvents) {
  TempDir dir;
  auto c = test::make_single(dir / "c.sqlite");
  const auto j = status_json(c.store);
  EXPECT_EQ(j["name"], kXssName);
  EXPECT_EQ(j["control"], "running");

  const auto counts = c.store.counts();
  EXPECT_EQ(j["counts"]["proposals"], counts.proposals);
  EXPECT_EQ(j["counts"]["done"], 4);
  EXPECT_EQ(j["counts"]["failed"], counts.failed);
  EXPECT_EQ(j["counts"]["queued"], counts.queued);
  EXPECT_EQ(j["counts"]["running"], counts.running);
  EXPECT_EQ(j["counts"]["attempts_failed"], 1);
  EXPECT_EQ(j["counts"]["budget"], 10);

  ASSERT_EQ(j["objectives"].size(), 1u);
  EXPECT_EQ(j["objectives"][0]["name"], "resistivity");
  EXPECT_EQ(j["objectives"][0]["direction"], "minimize");
  EXPECT_EQ(j["objectives"][0]["unit"], "ohm cm");
  ASSERT_EQ(j["parameters"].size(), 2u);
  EXPECT_EQ(j["parameters"][1]["kind"], "categorical");
  EXPECT_EQ(j["parameters"][1]["choices"], (nlohmann::json{"Ti", "Nb"}));

  // best: e4 (80 W, Nb) with 1 ohm cm
  EXPECT_EQ(j["best"]["experiment"], c.ids[3]);
  EXPECT_EQ(j["best"]["values"]["resistivity"], 1.0);
  EXPECT_EQ(j["best"]["parameters"]["power"], 80.0);
  EXPECT_EQ(j["best"]["parameters"]["target"], "Nb");
  EXPECT_EQ(j["best_so_far"], (nlohmann::json{2.0, 2.0, 1.0, 1.0}));
  EXPECT_EQ(j["completion_order"], (nlohmann::json{c.ids[1], c.ids[0], c.ids[3], c.ids[4]}));

  ASSERT_EQ(j["experiments"].size(), 6u);
  for (const auto& e : j["experiments"])
    for (const char* key : {"id", "proposal", "attempt", "state", "parameters", "values", "error", "started", "finished"})
      EXPECT_TRUE(e.contains(key)) << key;
  const auto& failed = j["experiments"][2];
  EXPECT_EQ(failed["id"], c.ids[2]);
  EXPECT_EQ(failed["state"], "failed");
  EXPECT_EQ(failed["error"], kXssError);
  EXPECT_TRUE(failed["values"].empty());
  const auto& retry = j["experiments"][5];
  EXPECT_EQ(retry["id"], c.ids[5]);
  EXPECT_EQ(retry["proposal"], failed["proposal"]);
  EXPECT_EQ(retry["attempt"], 2);
  EXPECT_EQ(retry["state"], "proposed");
  EXPECT_TRUE(retry["started"].is_null());
  EXPECT_TRUE(retry["finished"].is_null());
  EXPECT_EQ(retry["parameters"]["power"], 60.0);
  EXPECT_EQ(retry["parameters"]["target"], "Ti");

  ASSERT_FALSE(j["events"].empty());
  EXPECT_TRUE(j["events"][0].contains("message"));
  EXPECT_TRUE(j["events"][0].contains("time"));
}

TEST(StatusJson, MultiObjectiveListsTheParetoFrontInsteadOfOneBest) {
  TempDir dir;
  auto c = test::make_multi(dir / "c.sqlite");
  const auto j = status_json(c.store);
  EXPECT_TRUE(j["best"].is_null());
  std::vector<std::int64_t> front;
  for (const auto& r : j["pareto"]) front.push_back(r["experiment"].get<std::int64_t>());
  std::sort(front.begin(), front.end());
  EXPECT_EQ(front, (std::vector<std::int64_t>{c.ids[0], c.ids[1], c.ids[4]}));  // C (2, 4) is dominated by A (1, 5)
  EXPECT_EQ(j["best_so_far_label"], "hypervolume");
}

TEST(StatusJson, SerialisesAndParsesBackUnchanged) {
  TempDir dir;
  auto c = test::make_single(dir / "c.sqlite");
  const auto j = status_json(c.store);
  EXPECT_EQ(nlohmann::json::parse(j.dump()), j);  // no NaN (JSON would turn it into null)
}

// --- status_text ------------------------------------------------------------------------------------------------

TEST(StatusText, TableHasEveryExperimentAndTheSummaryNamesTheBest) {
  TempDir dir;
  auto c = test::make_single(dir / "c.sqlite");
  const auto text = status_text(c.store);
  EXPECT_TRUE(contains(text, kXssName));
  EXPECT_TRUE(contains(text, "id  attempt  state"));
  EXPECT_TRUE(contains(text, "power"));
  EXPECT_TRUE(contains(text, "resistivity"));
  EXPECT_TRUE(contains(text, "film peeled"));
  EXPECT_TRUE(contains(text, "4/10 final (4 done, 0 failed)"));
  EXPECT_TRUE(contains(text, "best resistivity = 1 ohm cm (experiment " + std::to_string(c.ids[3]) + ")"));
  // header + 6 experiments + campaign line + summary
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 9);
}

TEST(StatusText, MultiObjectiveSummaryGivesHypervolumeAndFrontSize) {
  TempDir dir;
  auto c = test::make_multi(dir / "c.sqlite");
  EXPECT_TRUE(contains(status_text(c.store), "hypervolume 10.41, 3 Pareto-optimal"));
}

// --- SVG ----------------------------------------------------------------------------------------------------------

TEST(BestSoFarSvg, IsWellFormedAndShowsTheEscapedName) {
  TempDir dir;
  auto c = test::make_single(dir / "c.sqlite");
  const auto svg = best_so_far_svg(c.store);
  EXPECT_EQ(test::xml_problem(svg), "");
  EXPECT_TRUE(contains(svg, "&lt;img src=x"));
  EXPECT_FALSE(contains(svg, "<img"));
  EXPECT_TRUE(contains(svg, "best so far"));
}

TEST(BestSoFarSvg, WithoutResultsIsAWellFormedMessage) {
  TempDir dir;
  auto store = Store::create(dir / "c.sqlite", test::make_spec(kXssName, {{"resistivity", false}}));
  const auto svg = best_so_far_svg(store);
  EXPECT_EQ(test::xml_problem(svg), "");
  EXPECT_TRUE(contains(svg, "no results yet"));
  EXPECT_EQ(test::xml_problem(parameter_svg(store, "power")), "");
}

TEST(BestSoFarSvg, MultiObjectivePlotsTheHypervolume) {
  TempDir dir;
  auto c = test::make_multi(dir / "c.sqlite");
  const auto svg = best_so_far_svg(c.store);
  EXPECT_EQ(test::xml_problem(svg), "");
  EXPECT_TRUE(contains(svg, "hypervolume"));
}

TEST(ParameterSvg, IsWellFormedAndMarksFailures) {
  TempDir dir;
  auto c = test::make_single(dir / "c.sqlite");
  const auto svg = parameter_svg(c.store, "power");
  EXPECT_EQ(test::xml_problem(svg), "");
  EXPECT_TRUE(contains(svg, "failed"));
  EXPECT_TRUE(contains(svg, "power [W]"));
  const auto cat = parameter_svg(c.store, "target");
  EXPECT_EQ(test::xml_problem(cat), "");
  EXPECT_TRUE(contains(cat, "0 = Ti, 1 = Nb"));
}

TEST(ParameterSvg, MultiObjectiveStacksOnePanelPerObjective) {
  TempDir dir;
  auto c = test::make_multi(dir / "c.sqlite");
  const auto svg = parameter_svg(c.store, "power");
  EXPECT_EQ(test::xml_problem(svg), "");
  EXPECT_TRUE(contains(svg, "resistivity vs power"));
  EXPECT_TRUE(contains(svg, "transmittance vs power"));
}

TEST(ParameterSvg, UnknownParameterIsInvalidArgument) {
  TempDir dir;
  auto c = test::make_single(dir / "c.sqlite");
  EXPECT_THROW(parameter_svg(c.store, "temperature"), InvalidArgument);
}

// --- export_csv ---------------------------------------------------------------------------------------------------

TEST(ExportCsv, RoundTripsThroughReadCsv) {
  TempDir dir;
  auto c = test::make_single(dir / "c.sqlite");
  const auto out = dir / "results.csv";
  export_csv(c.store, out);
  const auto table = core::read_csv(out);
  EXPECT_EQ(table.columns, (std::vector<std::string>{"id", "proposal", "attempt", "state", "power", "target",
                                                     "resistivity", "error", "started", "finished"}));
  const auto experiments = c.store.experiments();
  ASSERT_EQ(table.n_rows(), experiments.size());
  for (std::size_t i = 0; i < experiments.size(); ++i) {
    const auto& e = experiments[i];
    const auto& row = table.rows[i];
    EXPECT_EQ(row[0], std::to_string(e.id));
    EXPECT_EQ(row[1], std::to_string(e.proposal_id));
    EXPECT_EQ(row[2], std::to_string(e.attempt));
    EXPECT_EQ(row[3], state_name(e.state));
    EXPECT_EQ(std::stod(row[4]), e.point(0));
    EXPECT_EQ(row[5], e.point(1) == 0 ? "Ti" : "Nb");
    if (e.state == State::Done) {
      EXPECT_EQ(std::stod(row[6]), e.values.at("resistivity"));
      EXPECT_EQ(std::stod(row[9]), e.finished);  // shortest round-trip text: exact
    } else {
      EXPECT_EQ(row[6], "");
    }
    EXPECT_EQ(row[7], e.error);  // quotes and commas survive
    EXPECT_EQ(row[8], e.started > 0 ? core::format_double(e.started) : "");
  }
  EXPECT_EQ(table.rows[2][7], kXssError);
  // written atomically: nothing but the database (and its WAL files) and the CSV in the folder
  for (const auto& f : std::filesystem::directory_iterator(dir.path()))
    EXPECT_EQ(f.path().filename().string().find(".tmp"), std::string::npos) << f.path();
}

TEST(ExportCsv, UnwritableFolderIsIoError) {
  TempDir dir;
  auto c = test::make_single(dir / "c.sqlite");
  EXPECT_THROW(export_csv(c.store, dir / "missing" / "results.csv"), IoError);
}

TEST(ExportCsv, ParameterNamedLikeABookkeepingColumnIsInvalidArgument) {
  TempDir dir;
  auto spec = test::make_spec("clash", {{"resistivity", false}});
  spec.space.parameters[0].name = "state";
  auto store = Store::create(dir / "c.sqlite", spec);
  try {
    export_csv(store, dir / "out.csv");
    FAIL() << "no exception";
  } catch (const InvalidArgument& e) {
    EXPECT_TRUE(contains(e.what(), "'state'")) << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "out.csv"));
}

}  // namespace
}  // namespace tsunagu::campaign
