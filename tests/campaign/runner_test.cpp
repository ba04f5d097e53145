#include "tsunagu/campaign/runner.hpp"

#include <unistd.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "tsunagu/core/error.hpp"
#include "tsunagu/core/progress.hpp"

using namespace tsunagu;
using namespace tsunagu::campaign;
namespace fs = std::filesystem;

namespace {

struct SpecOptions {
  int budget = 8, batch = 2, initial = 4, max_attempts = 3, patience = 0;
  double timeout = 600, poll_interval = 0.01;
  std::string target = "";  // empty = none
  std::uint64_t seed = 5;
  std::string input_warp = "";  // empty = the default
};

std::string spec_text(const SpecOptions& o) {
  std::string s = R"(
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

[campaign]
name = "runner test"
)";
  s += "batch = " + std::to_string(o.batch) + "\ninitial = " + std::to_string(o.initial) +
       "\nseed = " + std::to_string(o.seed) + "\n";
  s += "[stop]\nbudget = " + std::to_string(o.budget) + "\npatience = " + std::to_string(o.patience) + "\n";
  if (!o.target.empty()) s += "target = " + o.target + "\n";
  s += "[retry]\nmax_attempts = " + std::to_string(o.max_attempts) + "\ntimeout = " + std::to_string(o.timeout) +
       "\npoll_interval = " + std::to_string(o.poll_interval) + "\n";
  if (!o.input_warp.empty()) s += "[optimizer]\ninput_warp = \"" + o.input_warp + "\"\n";
  return s;
}

// A smooth synthetic resistivity (ohm cm) with its minimum 1e-3 at o2 = 0.1 Pa, power = 200 W.
double resistivity(const nlohmann::json& p) {
  const double a = std::log10(p.at("o2_pressure").get<double>()) + 1.0;
  const double b = (p.at("power").get<double>() - 200.0) / 100.0;
  return 1e-3 * (1.0 + a * a + b * b);
}

// An in-test instrument that counts every call. By default synchronous and always successful.
class FakeAdapter : public Adapter {
 public:
  explicit FakeAdapter(std::string name = "command", bool can_poll = false)
      : name_(std::move(name)), can_poll_(can_poll) {}
  std::string name() const override { return name_; }
  bool can_poll() const override { return can_poll_; }

  Outcome start(const ExperimentRequest& r) override {
    std::lock_guard<std::mutex> lock(mutex);
    ++starts[r.experiment];
    requests.push_back(r);
    if (on_start) return on_start(r);
    return done(r);
  }
  Outcome poll(const std::string& ref, const std::vector<std::string>&) override {
    std::lock_guard<std::mutex> lock(mutex);
    ++polls[ref];
    if (on_poll) return on_poll(ref);
    Outcome o;
    o.kind = Outcome::Kind::Running;
    o.ref = ref;
    return o;
  }
  static Outcome done(const ExperimentRequest& r) {
    Outcome o;
    o.kind = Outcome::Kind::Done;
    o.values["resistivity"] = resistivity(r.parameters);
    return o;
  }
  static Outcome failed(const std::string& why) {
    Outcome o;
    o.kind = Outcome::Kind::Failed;
    o.error = why;
    return o;
  }

  std::mutex mutex;
  std::map<std::int64_t, int> starts;
  std::map<std::string, int> polls;
  std::vector<ExperimentRequest> requests;
  std::function<Outcome(const ExperimentRequest&)> on_start;
  std::function<Outcome(const std::string&)> on_poll;

 private:
  std::string name_;
  bool can_poll_;
};

class RunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    core::set_progress_enabled(false);
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() / ("tsunagu_runner_" + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  Store make(const SpecOptions& o = {}, const std::string& file = "lab.sqlite") {
    return Store::create(dir_ / file, parse_campaign_spec(spec_text(o), "runner.toml"));
  }

  // Every experiment was started at most once by this adapter.
  static void expect_started_once(const FakeAdapter& a) {
    for (const auto& [id, n] : a.starts) EXPECT_EQ(n, 1) << "experiment " << id << " started " << n << " times";
  }

  // Database invariants that must hold after any run: one done experiment per measured proposal, nothing lost.
  static void expect_consistent(const Store& s) {
    std::map<std::int64_t, int> done_per_proposal, active_per_proposal;
    for (const auto& e : s.experiments()) {
      if (e.state == State::Done) {
        ++done_per_proposal[e.proposal_id];
        EXPECT_EQ(e.values.size(), 1u);
      }
      if (e.state == State::Proposed || e.state == State::Running) ++active_per_proposal[e.proposal_id];
    }
    for (const auto& [p, n] : done_per_proposal) EXPECT_EQ(n, 1) << "proposal " << p;
    for (const auto& [p, n] : active_per_proposal) {
      EXPECT_EQ(n, 1) << "proposal " << p;
      EXPECT_EQ(done_per_proposal.count(p), 0u) << "proposal " << p << " is done and still active";
    }
  }

  fs::path dir_;
};

}  // namespace

TEST_F(RunnerTest, RunReachesTheBudgetStartingEveryExperimentOnce) {
  auto s = make();  // budget 8, batch 2, initial 4
  FakeAdapter a;
  const auto r = run(s, a);
  EXPECT_EQ(r.stop_reason, "budget reached");
  const auto c = s.counts();
  EXPECT_EQ(c.proposals, 8);
  EXPECT_EQ(c.done, 8);
  EXPECT_EQ(c.failed + c.running + c.queued + c.attempts_failed, 0);
  EXPECT_EQ(r.started, 8);
  EXPECT_EQ(r.done, 8);
  EXPECT_EQ(a.starts.size(), 8u);
  expect_started_once(a);
  expect_consistent(s);
  // the last 4 proposals came from the model, with a snapshot of its hyperparameters
  const auto snap = s.latest_snapshot();
  ASSERT_TRUE(snap.is_object());
  EXPECT_EQ(snap.at("n_observations"), 6);
  ASSERT_EQ(snap.at("models").size(), 1u);
  EXPECT_EQ(snap.at("models")[0].at("lengthscales").size(), 2u);
  EXPECT_TRUE(snap.at("models")[0].contains("log_marginal_likelihood"));
  EXPECT_TRUE(std::isfinite(snap.at("models")[0].at("signal_variance").get<double>()));
  EXPECT_EQ(snap.at("input_warp"), "none");
  EXPECT_EQ(snap.at("prior"), "none");
  EXPECT_DOUBLE_EQ(snap.at("lengthscale_min").get<double>(), bayesopt::GpOptions{}.lengthscale_min);
  EXPECT_FALSE(snap.at("models")[0].contains("warp_a"));
}

TEST_F(RunnerTest, LearnedInputWarpIsUsedAndItsParametersAreInTheSnapshot) {
  auto s = make({.input_warp = "learned"});
  FakeAdapter a;
  run(s, a);
  EXPECT_EQ(s.counts().done, 8);
  const auto snap = s.latest_snapshot();
  ASSERT_TRUE(snap.is_object());
  EXPECT_EQ(snap.at("input_warp"), "learned");
  EXPECT_NE(snap.at("method").get<std::string>().find("learned"), std::string::npos) << snap.at("method");
  const auto& m = snap.at("models")[0];
  ASSERT_EQ(m.at("warp_a").size(), 2u);
  ASSERT_EQ(m.at("warp_b").size(), 2u);
  for (const auto& v : m.at("warp_a")) EXPECT_GT(v.get<double>(), 0.0);
}

TEST_F(RunnerTest, RequestCarriesCampaignAttemptAndNamedParametersInNaturalUnits) {
  auto s = make({.budget = 2, .batch = 1, .initial = 2});
  FakeAdapter a;
  run(s, a);
  ASSERT_EQ(a.requests.size(), 2u);
  for (const auto& r : a.requests) {
    EXPECT_EQ(r.campaign, "runner test");
    EXPECT_EQ(r.attempt, 1);
    EXPECT_EQ(r.objectives, std::vector<std::string>{"resistivity"});
    const auto e = s.experiment(r.experiment);
    ASSERT_TRUE(e);
    EXPECT_EQ(r.parameters.at("o2_pressure").get<double>(), e->point(0));
    EXPECT_EQ(r.parameters.at("power").get<double>(), e->point(1));
    EXPECT_GE(e->point(0), 0.01);
    EXPECT_LE(e->point(0), 1.0);
  }
}

TEST_F(RunnerTest, FailedAttemptsAreRetriedAsNewAttemptsOfTheSameProposal) {
  auto s = make({.budget = 4, .batch = 2, .initial = 4});
  FakeAdapter a;
  a.on_start = [](const ExperimentRequest& r) {
    return r.attempt == 1 ? FakeAdapter::failed("target arcing") : FakeAdapter::done(r);
  };
  const auto r = run(s, a);
  EXPECT_EQ(r.stop_reason, "budget reached");
  const auto c = s.counts();
  EXPECT_EQ(c.proposals, 4);
  EXPECT_EQ(c.done, 4);
  EXPECT_EQ(c.attempts_failed, 4);
  EXPECT_EQ(r.failed, 4);
  expect_started_once(a);  // the retry is a new experiment id, never the failed one again
  for (const auto& e : s.experiments(State::Done)) EXPECT_EQ(e.attempt, 2);
  expect_consistent(s);
}

TEST_F(RunnerTest, ProposalFailingEveryAttemptIsGivenUpAndCountsTowardTheBudget) {
  auto s = make({.budget = 3, .batch = 1, .initial = 3, .max_attempts = 2});
  FakeAdapter a;
  a.on_start = [](const ExperimentRequest&) { return FakeAdapter::failed("robot fault"); };
  const auto r = run(s, a);
  EXPECT_EQ(r.stop_reason, "budget reached");
  const auto c = s.counts();
  EXPECT_EQ(c.proposals, 3);
  EXPECT_EQ(c.failed, 3);
  EXPECT_EQ(c.attempts_failed, 6);
  EXPECT_EQ(a.starts.size(), 6u);
  expect_started_once(a);
  const auto obs = s.observations();
  EXPECT_EQ(obs.X.rows(), 3);
  for (Eigen::Index i = 0; i < 3; ++i) EXPECT_TRUE(std::isnan(obs.Y(i, 0)));
}

TEST_F(RunnerTest, InfeasibleIsFinalWithoutRetryAndTheModelStillProposes) {
  auto s = make({.budget = 6, .batch = 1, .initial = 3});
  FakeAdapter a;
  // films at high power peel off
  a.on_start = [](const ExperimentRequest& r) {
    if (r.parameters.at("power").get<double>() > 250) {
      Outcome o;
      o.kind = Outcome::Kind::Infeasible;
      o.error = "film peeled off";
      return o;
    }
    return FakeAdapter::done(r);
  };
  run(s, a);
  const auto c = s.counts();
  EXPECT_EQ(c.done + c.failed, 6);
  EXPECT_EQ(c.attempts_failed, c.failed);  // one attempt each: infeasible is not retried
  for (const auto& e : s.experiments(State::Failed)) EXPECT_NE(e.error.find("infeasible"), std::string::npos);
  expect_started_once(a);
}

TEST_F(RunnerTest, InvalidOrThrowingAdapterOutcomesBecomeFailedAttempts) {
  auto s = make({.budget = 2, .batch = 1, .initial = 2, .max_attempts = 3});
  FakeAdapter a;
  int calls = 0;
  a.on_start = [&](const ExperimentRequest& r) -> Outcome {
    ++calls;
    if (calls == 1) {
      Outcome o;  // "done" without the objective value
      o.kind = Outcome::Kind::Done;
      o.values["conductivity"] = 5.0;
      return o;
    }
    if (calls == 2) throw std::runtime_error("driver crashed");
    return FakeAdapter::done(r);
  };
  run(s, a);
  const auto failed = s.experiments(State::Failed);
  ASSERT_EQ(failed.size(), 2u);
  EXPECT_NE(failed[0].error.find("invalid result"), std::string::npos) << failed[0].error;
  EXPECT_NE(failed[1].error.find("driver crashed"), std::string::npos) << failed[1].error;
  EXPECT_EQ(s.counts().done, 2);
}

TEST_F(RunnerTest, MaxExperimentsStopsTheCallAndTheNextCallContinues) {
  auto s = make({.budget = 6, .batch = 2, .initial = 6});
  FakeAdapter a;
  auto r = run(s, a, {.max_experiments = 3});
  EXPECT_EQ(r.stop_reason, "max-experiments reached");
  EXPECT_EQ(r.done, 3);
  EXPECT_EQ(s.counts().done, 3);
  EXPECT_EQ(s.counts().queued, 1);  // the second of the batch waits for the next call
  r = run(s, a);
  EXPECT_EQ(r.stop_reason, "budget reached");
  EXPECT_EQ(r.started, 3);
  EXPECT_EQ(s.counts().done, 6);
  expect_started_once(a);
}

TEST_F(RunnerTest, StopControlEndsTheRunAndRunningAgainContinues) {
  auto s = make({.budget = 6, .batch = 2, .initial = 6});
  auto other = Store::open(s.path());  // the dashboard's connection
  FakeAdapter a;
  a.on_start = [&](const ExperimentRequest& r) {
    if (a.starts.size() == 3) other.set_control("stopped");
    return FakeAdapter::done(r);
  };
  auto r = run(s, a);
  EXPECT_EQ(r.stop_reason, "stopped");
  EXPECT_EQ(r.started, 3);
  EXPECT_EQ(run(s, a).started, 0);  // still stopped
  other.set_control("running");
  r = run(s, a);
  EXPECT_EQ(r.stop_reason, "budget reached");
  EXPECT_EQ(s.counts().done, 6);
  expect_started_once(a);
}

TEST_F(RunnerTest, PauseHoldsBackNewExperimentsUntilResumed) {
  auto s = make({.budget = 4, .batch = 2, .initial = 4});
  auto other = Store::open(s.path());
  FakeAdapter a;
  std::atomic<bool> resumed{false};
  std::vector<bool> started_while_resumed;
  std::thread resumer;
  a.on_start = [&](const ExperimentRequest& r) {
    started_while_resumed.push_back(resumed.load());
    if (a.starts.size() == 2) {
      other.set_control("paused");
      resumer = std::thread([&] {
        auto conn = Store::open(s.path());
        std::this_thread::sleep_for(std::chrono::milliseconds(1200));  // >= 2 pause polls of 0.5 s
        resumed = true;  // set before the control changes, so every later start must see it
        conn.set_control("running");
      });
    }
    return FakeAdapter::done(r);
  };
  const auto r = run(s, a);
  resumer.join();
  EXPECT_EQ(r.stop_reason, "budget reached");
  ASSERT_EQ(started_while_resumed.size(), 4u);
  EXPECT_FALSE(started_while_resumed[1]);
  EXPECT_TRUE(started_while_resumed[2]);  // nothing started while paused
  EXPECT_TRUE(started_while_resumed[3]);
  expect_started_once(a);
}

TEST_F(RunnerTest, ResumeRequeuesRunningExperimentsWhenTheAdapterCannotPoll) {
  auto s = make({.budget = 4, .batch = 2, .initial = 4});
  // A first run crashed right after marking experiment 1 running (the command was on the instrument).
  auto ids = propose(s);
  ASSERT_EQ(ids.size(), 2u);
  s.mark_running(ids[0], "command");
  FakeAdapter a;  // command-like: cannot poll
  const auto r = run(s, a);
  EXPECT_EQ(r.requeued, 1);
  EXPECT_EQ(r.repolled, 0);
  EXPECT_EQ(a.starts[ids[0]], 1);  // started again, once, under the same attempt
  EXPECT_EQ(s.experiment(ids[0])->attempt, 1);
  EXPECT_EQ(s.counts().done, 4);
  EXPECT_EQ(s.counts().attempts_failed, 0);
  expect_consistent(s);
}

TEST_F(RunnerTest, ResumeRepollsRunningExperimentsWithAJobReference) {
  auto s = make({.budget = 2, .batch = 2, .initial = 2});
  auto ids = propose(s);
  s.mark_running(ids[0], "http");
  s.set_ref(ids[0], "job-1");
  s.mark_running(ids[1], "http");  // crashed before the job id was stored: cannot be polled
  FakeAdapter a("http", true);
  a.on_start = [](const ExperimentRequest& r) {
    Outcome o;
    o.kind = Outcome::Kind::Running;
    o.ref = "job-" + std::to_string(r.experiment);
    return o;
  };
  a.on_poll = [&](const std::string& ref) {
    Outcome o;
    o.kind = Outcome::Kind::Done;
    o.values["resistivity"] = ref == "job-1" ? 0.5 : 0.7;
    return o;
  };
  const auto r = run(s, a);
  EXPECT_EQ(r.repolled, 1);
  EXPECT_EQ(r.requeued, 1);
  EXPECT_EQ(a.starts.count(ids[0]), 0u);  // never sent to the robot again
  EXPECT_EQ(a.starts[ids[1]], 1);
  EXPECT_GE(a.polls["job-1"], 1);
  EXPECT_EQ(s.experiment(ids[0])->values.at("resistivity"), 0.5);
  EXPECT_EQ(s.experiment(ids[1])->values.at("resistivity"), 0.7);
  EXPECT_EQ(s.experiment(ids[1])->ref, "job-" + std::to_string(ids[1]));
}

TEST_F(RunnerTest, ResumeAfterACrashRightAfterProposingStartsThemWithoutProposingAgain) {
  auto s = make({.budget = 4, .batch = 2, .initial = 2});
  const auto ids = propose(s);  // committed, then the process died
  FakeAdapter a;
  run(s, a, {.max_experiments = 2});
  EXPECT_EQ(a.starts[ids[0]], 1);
  EXPECT_EQ(a.starts[ids[1]], 1);
  EXPECT_EQ(s.counts().proposals, 2);
}

TEST_F(RunnerTest, AsyncExperimentWithoutResultFailsAfterTheTimeout) {
  auto s = make({.budget = 1, .batch = 1, .initial = 1, .max_attempts = 2, .timeout = 0.2, .poll_interval = 0.02});
  FakeAdapter a("http", true);
  a.on_start = [](const ExperimentRequest& r) {
    Outcome o;
    o.kind = Outcome::Kind::Running;
    o.ref = "job-" + std::to_string(r.experiment);
    return o;
  };  // polls answer running forever
  const auto r = run(s, a);
  EXPECT_EQ(r.stop_reason, "budget reached");
  const auto c = s.counts();
  EXPECT_EQ(c.failed, 1);
  EXPECT_EQ(c.attempts_failed, 2);
  for (const auto& e : s.experiments()) EXPECT_NE(e.error.find("retry.timeout"), std::string::npos) << e.error;
}

TEST_F(RunnerTest, ManualAdapterHandsOutTheBatchAndContinuesOnceResultsAreRecorded) {
  auto s = make({.budget = 4, .batch = 2, .initial = 4});
  FakeAdapter a("manual", true);
  a.on_start = [](const ExperimentRequest& r) {
    Outcome o;
    o.kind = Outcome::Kind::Running;
    o.ref = std::to_string(r.experiment);
    return o;
  };
  auto r = run(s, a);
  EXPECT_EQ(r.stop_reason, "waiting for manual results");
  EXPECT_EQ(r.started, 2);
  const auto running = s.experiments(State::Running);
  ASSERT_EQ(running.size(), 2u);
  r = run(s, a);  // nothing recorded yet: nothing new handed out
  EXPECT_EQ(r.started, 0);
  EXPECT_EQ(r.repolled, 2);
  // the researcher records both results (campaign record)
  for (const auto& e : running) s.record_result(e.id, {{"resistivity", 1.0 + static_cast<double>(e.id)}});
  r = run(s, a);
  EXPECT_EQ(r.started, 2);
  EXPECT_EQ(s.counts().proposals, 4);
  expect_started_once(a);
}

TEST_F(RunnerTest, ManualAdapterWithWaitPicksUpResultsRecordedByAnotherProcess) {
  auto s = make({.budget = 2, .batch = 2, .initial = 2});
  FakeAdapter a("manual", true);
  std::thread recorder;
  a.on_start = [&](const ExperimentRequest& r) {
    Outcome o;
    o.kind = Outcome::Kind::Running;
    o.ref = std::to_string(r.experiment);
    if (a.starts.size() == 2)
      recorder = std::thread([&] {
        auto conn = Store::open(s.path());
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        for (const auto& e : conn.experiments(State::Running)) conn.record_result(e.id, {{"resistivity", 2.0}});
      });
    return o;
  };
  const auto r = run(s, a, {.wait_for_manual = true});
  recorder.join();
  EXPECT_EQ(r.stop_reason, "budget reached");
  EXPECT_EQ(s.counts().done, 2);
}

TEST_F(RunnerTest, InitialDesignIsOneLatinHypercubeSplitAcrossBatches) {
  auto s = make({.budget = 8, .batch = 2, .initial = 4});
  std::vector<std::int64_t> all;
  for (int b = 0; b < 2; ++b) {
    const auto ids = propose(s);
    ASSERT_EQ(ids.size(), 2u);
    all.insert(all.end(), ids.begin(), ids.end());
  }
  // Each parameter's encoded values fall into 4 distinct quarters of [0, 1].
  for (int j = 0; j < 2; ++j) {
    std::set<int> strata;
    for (auto id : all) {
      const double x = s.experiment(id)->point(j);
      const double u = j == 0 ? (std::log(x) - std::log(0.01)) / (std::log(1.0) - std::log(0.01)) : (x - 50.0) / 250.0;
      strata.insert(static_cast<int>(std::floor(u * 4)));
    }
    EXPECT_EQ(strata.size(), 4u) << "parameter " << j;
  }
}

TEST_F(RunnerTest, ProposalsAreDeterministicInTheSeedAndTheProposalCount) {
  // Two databases in the same state propose the same points, as a resumed campaign must (model proposals too).
  auto s1 = make({}, "a.sqlite");
  auto s2 = make({}, "b.sqlite");
  FakeAdapter a1, a2;
  run(s1, a1, {.max_experiments = 5});
  run(s2, a2, {.max_experiments = 5});
  const auto e1 = s1.experiments(), e2 = s2.experiments();
  ASSERT_EQ(e1.size(), e2.size());
  ASSERT_GE(e1.size(), 6u);  // includes the first model batch
  for (std::size_t i = 0; i < e1.size(); ++i) EXPECT_EQ(e1[i].point, e2[i].point) << "experiment " << e1[i].id;
  auto s3 = make({.seed = 6}, "c.sqlite");
  propose(s3);
  EXPECT_NE(s3.experiments()[0].point, e1[0].point);
}

TEST_F(RunnerTest, ProposeNeverExceedsTheBudget) {
  auto s = make({.budget = 3, .batch = 2, .initial = 3});
  EXPECT_EQ(propose(s).size(), 2u);
  EXPECT_EQ(propose(s).size(), 1u);
  EXPECT_TRUE(propose(s).empty());
}

TEST_F(RunnerTest, StopRuleTargetPatienceAndBudget) {
  {
    auto s = make({.budget = 10, .batch = 1, .initial = 10, .target = "1.5e-3"}, "target.sqlite");
    FakeAdapter a;
    double next = 3e-3;
    a.on_start = [&](const ExperimentRequest&) {
      Outcome o;
      o.kind = Outcome::Kind::Done;
      o.values["resistivity"] = next;
      next -= 1e-3;  // 3e-3, 2e-3, 1e-3 -> reached on the third
      return o;
    };
    const auto r = run(s, a);
    EXPECT_EQ(r.stop_reason.rfind("target reached", 0), 0u) << r.stop_reason;
    EXPECT_EQ(s.counts().done, 3);
  }
  {
    auto s = make({.budget = 10, .batch = 1, .initial = 10, .patience = 3}, "patience.sqlite");
    FakeAdapter a;
    const std::vector<double> values = {5, 4, 4.5, 4, 6};  // best 4 at result 2; 3 results without improvement
    std::size_t k = 0;
    a.on_start = [&](const ExperimentRequest&) {
      Outcome o;
      o.kind = Outcome::Kind::Done;
      o.values["resistivity"] = values[k++];
      return o;
    };
    const auto r = run(s, a);
    EXPECT_EQ(r.stop_reason, "no improvement for 3 results");
    EXPECT_EQ(s.counts().done, 5);
    std::string why;
    EXPECT_TRUE(stop_rule_met(s, &why));
    EXPECT_EQ(why, "no improvement for 3 results");
  }
  {
    auto s = make({.budget = 2, .batch = 2, .initial = 2}, "budget.sqlite");
    std::string why = "unchanged";
    EXPECT_FALSE(stop_rule_met(s, &why));
    EXPECT_EQ(why, "unchanged");
    const auto ids = propose(s);
    s.record_result(ids[0], {{"resistivity", 1.0}});
    EXPECT_FALSE(stop_rule_met(s));
    s.record_failure(ids[1], "peeled", false);
    EXPECT_TRUE(stop_rule_met(s, &why));
    EXPECT_EQ(why, "budget reached");
  }
}
