#include "tsunagu/campaign/store.hpp"

#include <sqlite3.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include <gtest/gtest.h>

#include "tsunagu/core/error.hpp"

using namespace tsunagu;
using namespace tsunagu::campaign;
namespace fs = std::filesystem;

namespace {

const char* kSpec = R"(
[[parameter]]
name = "o2_pressure"
low = 0.01
high = 1.0
log = true

[[parameter]]
name = "power"
low = 50.0
high = 300.0

[[objective]]
name = "resistivity"

[campaign]
name = "store test"
batch = 2
initial = 2

[stop]
budget = 10

[retry]
max_attempts = 3
)";

const char* kSpecTwoObjectives = R"(
[[parameter]]
name = "power"
low = 50.0
high = 300.0

[[objective]]
name = "resistivity"

[[objective]]
name = "transmittance"
direction = "maximize"

[campaign]
name = "two objectives"
)";

// Runs SQL on a file through a separate raw connection, as another program (or a tampering user) would.
void raw_sql(const fs::path& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  const std::string msg = err ? err : "";
  sqlite3_free(err);
  sqlite3_close(db);
  ASSERT_EQ(rc, SQLITE_OK) << msg;
}

// The SQLite result code of `sql` (used to show that the schema itself refuses an illegal row).
int raw_sql_rc(const fs::path& path, const std::string& sql) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
  sqlite3_close(db);
  return rc;
}

std::string raw_scalar(const fs::path& path, const std::string& sql) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_stmt* s = nullptr;
  std::string out = "<error>";
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW) {
    const auto* t = sqlite3_column_text(s, 0);
    out = t ? reinterpret_cast<const char*>(t) : "";
  }
  sqlite3_finalize(s);
  sqlite3_close(db);
  return out;
}

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("tsunagu_store_" + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    db_ = dir_ / "lab.sqlite";
  }
  void TearDown() override { fs::remove_all(dir_); }

  Store make(const char* text = kSpec) { return Store::create(db_, parse_campaign_spec(text, "spec.toml")); }

  // The ParseError message of opening `path`; fails the test on any other outcome.
  static std::string open_error(const fs::path& path) {
    try {
      Store::open(path);
    } catch (const ParseError& e) {
      EXPECT_EQ(e.file(), path.string());
      const std::string m = e.what();
      EXPECT_EQ(m.find('\n'), std::string::npos) << "one line: " << m;
      return m;
    } catch (const std::exception& e) {
      ADD_FAILURE() << "expected ParseError, got " << e.what();
      return "";
    }
    ADD_FAILURE() << "expected ParseError opening " << path;
    return "";
  }

  static Eigen::MatrixXd points(std::initializer_list<std::pair<double, double>> rows) {
    Eigen::MatrixXd m(static_cast<Eigen::Index>(rows.size()), 2);
    Eigen::Index i = 0;
    for (const auto& [a, b] : rows) {
      m(i, 0) = a;
      m(i, 1) = b;
      ++i;
    }
    return m;
  }

  fs::path dir_, db_;
};

}  // namespace

TEST_F(StoreTest, CreateStampsTheFileAndOpenReadsTheSpecBack) {
  { auto s = make(); }
  EXPECT_EQ(raw_scalar(db_, "PRAGMA application_id"), std::to_string(0x54534E47));
  EXPECT_EQ(raw_scalar(db_, "PRAGMA user_version"), "1");
  EXPECT_EQ(raw_scalar(db_, "PRAGMA journal_mode"), "wal");
  const auto s = Store::open(db_);
  EXPECT_EQ(s.spec().name, "store test");
  EXPECT_EQ(s.spec().toml, kSpec);
  EXPECT_EQ(s.spec().stop.budget, 10);
  EXPECT_EQ(s.control(), "running");
  EXPECT_EQ(s.path(), db_);
}

TEST_F(StoreTest, CreateRefusesAnExistingFileAndOpenAMissingOne) {
  { auto s = make(); }
  EXPECT_THROW(make(), IoError);
  EXPECT_THROW(Store::open(dir_ / "missing.sqlite"), IoError);
  EXPECT_THROW(Store::open(dir_), IoError);  // a directory
}

TEST_F(StoreTest, ProposalsStartAsProposedFirstAttemptsWithExactPoints) {
  auto s = make();
  // Values that do not survive a short decimal representation must round-trip bit for bit.
  const Eigen::MatrixXd p = points({{0.1 + 0.2, 100.0 / 3.0}, {std::nextafter(0.5, 1.0), 299.99999999999994}});
  const auto ids = s.add_proposals(p, "random (initial design)");
  ASSERT_EQ(ids.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    const auto e = s.experiment(ids[i]);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->state, State::Proposed);
    EXPECT_EQ(e->attempt, 1);
    EXPECT_GT(e->created, 1.6e9);  // unix seconds
    EXPECT_EQ(e->started, 0.0);
    ASSERT_EQ(e->point.size(), 2);
    EXPECT_EQ(e->point(0), p(static_cast<Eigen::Index>(i), 0));
    EXPECT_EQ(e->point(1), p(static_cast<Eigen::Index>(i), 1));
  }
  const auto c = s.counts();
  EXPECT_EQ(c.proposals, 2);
  EXPECT_EQ(c.queued, 2);
  EXPECT_EQ(c.done + c.failed + c.running + c.attempts_failed, 0);
  EXPECT_THROW(s.add_proposals(Eigen::MatrixXd::Zero(1, 3), "x"), InvalidArgument);  // wrong width
  EXPECT_THROW(s.add_proposals(points({{NAN, 1.0}}), "x"), InvalidArgument);
}

TEST_F(StoreTest, LegalTransitionsAreCommittedAndVisibleToAnotherConnection) {
  auto s = make();
  const auto id = s.add_proposals(points({{0.1, 100}}), "random").at(0);
  s.mark_running(id, "http");
  s.set_ref(id, "job-7");
  {
    const auto other = Store::open(db_);  // a second connection: the dashboard, or the process after a crash
    const auto e = other.experiment(id);
    EXPECT_EQ(e->state, State::Running);
    EXPECT_EQ(e->adapter, "http");
    EXPECT_EQ(e->ref, "job-7");
    EXPECT_GT(e->started, 0.0);
  }
  s.record_result(id, {{"resistivity", 2.5e-3}}, R"({"status": "done"})");
  const auto other = Store::open(db_);
  const auto e = other.experiment(id);
  EXPECT_EQ(e->state, State::Done);
  EXPECT_EQ(e->values.at("resistivity"), 2.5e-3);
  EXPECT_EQ(e->raw, R"({"status": "done"})");
  EXPECT_GE(e->finished, e->started);
  const auto c = other.counts();
  EXPECT_EQ(c.done, 1);
  EXPECT_EQ(c.running, 0);
}

TEST_F(StoreTest, IllegalTransitionsAreRefusedWithTheState) {
  auto s = make();
  const auto ids = s.add_proposals(points({{0.1, 100}, {0.2, 200}}), "random");
  auto refused = [](auto&& f, const std::string& expect) {
    try {
      f();
      ADD_FAILURE() << "not refused (" << expect << ")";
    } catch (const InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find(expect), std::string::npos) << e.what();
    }
  };
  refused([&] { s.set_ref(ids[0], "x"); }, "is proposed, not running");
  refused([&] { s.requeue(ids[0], "x"); }, "is proposed, not running");
  refused([&] { s.mark_running(999, "command"); }, "no experiment 999");
  s.mark_running(ids[0], "command");
  refused([&] { s.mark_running(ids[0], "command"); }, "is running, not proposed");
  s.record_result(ids[0], {{"resistivity", 1.0}});
  refused([&] { s.record_result(ids[0], {{"resistivity", 2.0}}); }, "already has a result");
  refused([&] { s.record_failure(ids[0], "late"); }, "already has a result");
  refused([&] { s.mark_running(ids[0], "command"); }, "is done, not proposed");
  refused([&] { s.requeue(ids[0], "x"); }, "is done, not running");
  // bad values never reach the database
  refused([&] { s.record_result(ids[1], {}); }, "missing a value for objective 'resistivity'");
  refused([&] { s.record_result(ids[1], {{"resistivity", NAN}}); }, "must be finite");
  refused([&] { s.record_result(ids[1], {{"resistivity", 1.0}, {"colour", 2.0}}); }, "unknown objective 'colour'");
  EXPECT_EQ(s.experiment(ids[1])->state, State::Proposed);
  s.record_failure(ids[1], "arcing", false);
  refused([&] { s.record_result(ids[1], {{"resistivity", 1.0}}); }, "has already failed");
  refused([&] { s.record_failure(ids[1], "again"); }, "has already failed");
  refused([&] { s.set_control("sleeping"); }, "running, paused or stopped");
}

TEST_F(StoreTest, SchemaItselfRefusesASecondDoneExperimentOrAttemptInFlightForAProposal) {
  auto s = make();
  const auto id = s.add_proposals(points({{0.1, 100}}), "random").at(0);
  // a second attempt in flight while the first is queued
  EXPECT_NE(raw_sql_rc(db_, "INSERT INTO experiments(proposal_id, attempt, state, created) VALUES (1, 2, 'proposed', 0)"),
            SQLITE_OK);
  s.record_result(id, {{"resistivity", 1.0}});
  // a second done experiment written behind the store's back
  EXPECT_NE(raw_sql_rc(db_, "INSERT INTO experiments(proposal_id, attempt, state, created) VALUES (1, 2, 'done', 0)"),
            SQLITE_OK);
  EXPECT_NE(raw_sql_rc(db_, "UPDATE experiments SET state = 'finished'"), SQLITE_OK);  // CHECK on the state
  EXPECT_EQ(s.counts().done, 1);
}

TEST_F(StoreTest, FailureRetriesAsNextAttemptUntilMaxAttemptsThenTheProposalIsFinalFailed) {
  auto s = make();  // max_attempts = 3
  const auto first = s.add_proposals(points({{0.1, 100}}), "random").at(0);
  s.mark_running(first, "command");
  const auto second = s.record_failure(first, "target arcing");
  ASSERT_NE(second, 0);
  auto e2 = s.experiment(second);
  EXPECT_EQ(e2->attempt, 2);
  EXPECT_EQ(e2->state, State::Proposed);
  EXPECT_EQ(e2->proposal_id, s.experiment(first)->proposal_id);
  EXPECT_EQ(s.experiment(first)->error, "target arcing");
  EXPECT_EQ(s.counts().failed, 0);  // not final while an attempt remains
  const auto third = s.record_failure(second, "timeout");
  ASSERT_NE(third, 0);
  EXPECT_EQ(s.experiment(third)->attempt, 3);
  EXPECT_EQ(s.record_failure(third, "arcing again"), 0);  // no attempts left
  const auto c = s.counts();
  EXPECT_EQ(c.proposals, 1);
  EXPECT_EQ(c.failed, 1);
  EXPECT_EQ(c.attempts_failed, 3);
  EXPECT_EQ(c.queued + c.running + c.done, 0);
  const auto obs = s.observations();
  ASSERT_EQ(obs.X.rows(), 1);
  EXPECT_TRUE(std::isnan(obs.Y(0, 0)));  // the model sees an infeasible point
  EXPECT_EQ(obs.pending.rows(), 0);
}

TEST_F(StoreTest, FailureWithoutRetryIsFinalAtOnce) {
  auto s = make();
  const auto id = s.add_proposals(points({{0.1, 100}}), "random").at(0);
  EXPECT_EQ(s.record_failure(id, "infeasible: film peeled off", false), 0);
  EXPECT_EQ(s.counts().failed, 1);
  EXPECT_EQ(s.experiments().size(), 1u);
}

TEST_F(StoreTest, ObservationsHoldFinalProposalsInOrderAndPendingPoints) {
  auto s = make(kSpecTwoObjectives);
  Eigen::MatrixXd p(4, 1);
  p << 60, 70, 80, 90;
  const auto ids = s.add_proposals(p, "random");
  s.record_result(ids[2], {{"resistivity", 3.0}, {"transmittance", 0.8}});  // done before the earlier ones
  s.record_failure(ids[0], "peeled", false);                                   // final failure
  s.mark_running(ids[1], "command");                                          // pending (running)
  // ids[3] pending (proposed)
  const auto obs = s.observations();
  ASSERT_EQ(obs.X.rows(), 2);
  ASSERT_EQ(obs.Y.cols(), 2);
  EXPECT_EQ(obs.X(0, 0), 60);  // proposal order, not completion order
  EXPECT_TRUE(std::isnan(obs.Y(0, 0)) && std::isnan(obs.Y(0, 1)));
  EXPECT_EQ(obs.X(1, 0), 80);
  EXPECT_EQ(obs.Y(1, 0), 3.0);
  EXPECT_EQ(obs.Y(1, 1), 0.8);  // columns in the spec's objective order
  ASSERT_EQ(obs.pending.rows(), 2);
  EXPECT_EQ(obs.pending(0, 0), 70);
  EXPECT_EQ(obs.pending(1, 0), 90);
}

TEST_F(StoreTest, RequeueReturnsARunningExperimentToTheQueueWithoutANewAttempt) {
  auto s = make();
  const auto id = s.add_proposals(points({{0.1, 100}}), "random").at(0);
  s.mark_running(id, "command");
  s.set_ref(id, "pid-1");
  s.requeue(id, "orchestrator restarted");
  const auto e = s.experiment(id);
  EXPECT_EQ(e->state, State::Proposed);
  EXPECT_EQ(e->attempt, 1);
  EXPECT_EQ(e->ref, "");
  EXPECT_EQ(e->started, 0.0);
  EXPECT_EQ(s.experiments().size(), 1u);
  s.mark_running(id, "command");  // can be started again
  EXPECT_EQ(s.experiments(State::Running).size(), 1u);
  const auto ev = s.events(1);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_NE(ev[0].message.find("started"), std::string::npos);
}

TEST_F(StoreTest, ControlStateIsSharedBetweenConnections) {
  auto runner = make();
  auto dashboard = Store::open(db_);
  dashboard.set_control("paused");
  EXPECT_EQ(runner.control(), "paused");
  dashboard.set_control("stopped");
  EXPECT_EQ(runner.control(), "stopped");
  runner.set_control("running");
  EXPECT_EQ(dashboard.control(), "running");
}

TEST_F(StoreTest, SuggestionAndSnapshotAreStoredWithTheProposals) {
  auto s = make();
  EXPECT_TRUE(s.latest_snapshot().is_null());
  bayesopt::Suggestion sug;
  sug.points = points({{0.1, 100}, {0.2, 200}});
  sug.acquisition = Eigen::Vector2d(-1.5, -2.5);
  sug.mean = Eigen::MatrixXd::Constant(2, 1, 0.01);
  sug.sd = Eigen::MatrixXd::Constant(2, 1, 0.002);
  nlohmann::json snap = {{"method", "logei + kriging believer"}, {"models", nlohmann::json::array()}};
  const auto ids = s.add_proposals(sug.points, "logei + kriging believer", &sug, snap);
  ASSERT_EQ(ids.size(), 2u);
  EXPECT_EQ(s.latest_snapshot(), snap);
  EXPECT_EQ(raw_scalar(db_, "SELECT acquisition FROM proposals WHERE id = 2"), "-2.5");
  EXPECT_EQ(raw_scalar(db_, "SELECT mean_json FROM proposals WHERE id = 1"), "[0.01]");
  EXPECT_EQ(raw_scalar(db_, "SELECT count(*) FROM proposals WHERE snapshot_id = 1"), "2");
  EXPECT_EQ(raw_scalar(db_, "SELECT method FROM proposals WHERE id = 1"), "logei + kriging believer");
  bayesopt::Suggestion bad = sug;
  bad.acquisition = Eigen::VectorXd::Zero(3);
  EXPECT_THROW(s.add_proposals(sug.points, "x", &bad), InvalidArgument);
}

TEST_F(StoreTest, EventsKeepTheLastMessagesInOrder) {
  auto s = make();
  s.log("first");
  s.log("second", 42);
  const auto ev = s.events(2);
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].message, "first");
  EXPECT_EQ(ev[1].message, "second");
  EXPECT_EQ(ev[1].experiment, 42);
  EXPECT_GT(ev[1].time, 1.6e9);
  EXPECT_EQ(s.events(100).front().message, "campaign 'store test' created");
}

TEST_F(StoreTest, MovedStoreKeepsWorking) {
  auto a = make();
  Store b = std::move(a);
  b.add_proposals(points({{0.1, 100}}), "random");
  EXPECT_EQ(b.counts().proposals, 1);
}

// ---- files that are not (intact) campaign databases ------------------------------------------------------------

TEST_F(StoreTest, SqliteDatabaseOfAnotherProgramIsRefused) {
  raw_sql(db_, "CREATE TABLE customers(id INTEGER PRIMARY KEY, name TEXT); INSERT INTO customers VALUES (1, 'a');");
  const auto m = open_error(db_);
  EXPECT_NE(m.find("not a tsunagu campaign database"), std::string::npos) << m;
  EXPECT_NE(m.find("another program"), std::string::npos) << m;
  EXPECT_EQ(raw_scalar(db_, "SELECT name FROM customers"), "a");  // and left untouched
}

TEST_F(StoreTest, RandomBytesAreRefusedAsNotADatabase) {
  std::mt19937 rng(7);
  {
    std::ofstream f(db_, std::ios::binary);
    for (int i = 0; i < 8192; ++i) f.put(static_cast<char>(rng() & 0xff));
  }
  const auto m = open_error(db_);
  EXPECT_NE(m.find("not a SQLite database or is corrupt"), std::string::npos) << m;
}

TEST_F(StoreTest, TextFileAndEmptyFileAreRefused) {
  std::ofstream(db_) << "o2_pressure,power,resistivity\n0.1,100,0.002\n";
  EXPECT_NE(open_error(db_).find("not a tsunagu campaign database"), std::string::npos);
  std::ofstream(db_, std::ios::trunc).close();
  EXPECT_NE(open_error(db_).find("empty SQLite file"), std::string::npos);
}

TEST_F(StoreTest, TruncatedCampaignDatabaseIsRefusedAsCorrupt) {
  {
    auto s = make();
    for (int i = 0; i < 200; ++i) s.add_proposals(points({{0.1, 100.0 + i}}), "random with a longer method text");
  }  // the last connection checkpoints the WAL into the main file
  ASSERT_FALSE(fs::exists(db_.string() + "-wal"));
  const auto size = fs::file_size(db_);
  ASSERT_GT(size, 8u * 4096u);
  fs::resize_file(db_, size / 2);
  const auto m = open_error(db_);
  EXPECT_NE(m.find("corrupt"), std::string::npos) << m;
}

TEST_F(StoreTest, OverwrittenPageInACampaignDatabaseIsRefusedAsCorrupt) {
  {
    auto s = make();
    for (int i = 0; i < 200; ++i) s.add_proposals(points({{0.1, 100.0 + i}}), "random");
  }
  const auto size = fs::file_size(db_);
  {
    std::fstream f(db_, std::ios::in | std::ios::out | std::ios::binary);
    std::mt19937 rng(3);
    for (std::uint64_t page = 1; page * 4096 < size; page += 2) {  // every other page after the header page
      f.seekp(static_cast<std::streamoff>(page * 4096));
      for (int i = 0; i < 64; ++i) f.put(static_cast<char>(rng() & 0xff));
    }
  }
  const auto m = open_error(db_);
  EXPECT_TRUE(m.find("corrupt") != std::string::npos || m.find("not a") != std::string::npos) << m;
}

TEST_F(StoreTest, NewerSchemaVersionIsRefused) {
  { auto s = make(); }
  raw_sql(db_, "PRAGMA user_version = 99");
  const auto m = open_error(db_);
  EXPECT_NE(m.find("schema version 99 is newer"), std::string::npos) << m;
}

TEST_F(StoreTest, StampedFileWithoutTheCampaignTablesIsRefused) {
  raw_sql(db_, "PRAGMA application_id = 1414745671; PRAGMA user_version = 1; CREATE TABLE campaign(id INTEGER);");
  const auto m = open_error(db_);
  EXPECT_NE(m.find("missing"), std::string::npos) << m;
}

TEST_F(StoreTest, StateNamesAreTheSchemaStrings) {
  EXPECT_EQ(state_name(State::Proposed), "proposed");
  EXPECT_EQ(state_name(State::Running), "running");
  EXPECT_EQ(state_name(State::Done), "done");
  EXPECT_EQ(state_name(State::Failed), "failed");
}
