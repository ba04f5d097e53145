// Instrument adapters. The command adapter runs small sh/python3 programs written into a temporary directory; the
// HTTP adapter talks to an httplib::Server on an ephemeral loopback port inside the test. Expected answers follow
// from the documented reply protocol (include/tsunagu/campaign/adapter.hpp) and POSIX process semantics.
#include "tsunagu/campaign/adapter.hpp"

#include <signal.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>
#include <httplib.h>

#include "tsunagu/core/error.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using tsunagu::campaign::AdapterOptions;
using tsunagu::campaign::CommandAdapter;
using tsunagu::campaign::ExperimentRequest;
using tsunagu::campaign::HttpAdapter;
using tsunagu::campaign::ManualAdapter;
using tsunagu::campaign::Outcome;
using tsunagu::campaign::make_adapter;
using tsunagu::campaign::parse_reply;
using Kind = Outcome::Kind;

namespace {

const std::vector<std::string> kObj = {"resistivity"};

ExperimentRequest make_request(std::int64_t id = 12, int attempt = 1) {
  ExperimentRequest r;
  r.campaign = "nbtio2";
  r.experiment = id;
  r.attempt = attempt;
  r.parameters = {{"o2_pressure", 0.5}, {"power", 150.0}, {"target", "Nb"}};
  r.objectives = kObj;
  return r;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// ------------------------------------------------------------------------------------------------------------
// Request document and reply parsing.

TEST(ExperimentRequest, ToJsonHoldsEveryFieldAndAKeyUniquePerAttempt) {
  const json j = make_request(12, 2).to_json();
  EXPECT_EQ(j["campaign"], "nbtio2");
  EXPECT_EQ(j["experiment"], 12);
  EXPECT_EQ(j["attempt"], 2);
  EXPECT_EQ(j["key"], "nbtio2/12/2");
  EXPECT_EQ(j["parameters"]["o2_pressure"], 0.5);
  EXPECT_EQ(j["parameters"]["target"], "Nb");
  EXPECT_EQ(j["objectives"], json::array({"resistivity"}));
  ExperimentRequest empty;
  EXPECT_TRUE(empty.to_json()["parameters"].is_object());  // never null: programs can index it
}

struct ReplyCase {
  const char* name;
  std::string text;
  Kind kind;
  std::string needle;  // substring of error (Failed/Infeasible) or ref (Running); value for Done via `value`
  double value = 0;
};

TEST(ParseReply, TableOfReplyFormsGivesTheDocumentedOutcome) {
  const std::vector<ReplyCase> cases = {
      {"done", R"({"status": "done", "values": {"resistivity": 1.2e-3}})", Kind::Done, "", 1.2e-3},
      {"bare object", R"({"resistivity": 2.5})", Kind::Done, "", 2.5},
      {"done with top-level value", R"({"status": "done", "resistivity": 3})", Kind::Done, "", 3.0},
      {"extra values ignored", R"({"status": "done", "values": {"resistivity": 4, "thickness": 80}})", Kind::Done,
       "", 4.0},
      {"log lines before the reply", "warming up target\nshutter open\n{\"resistivity\": 5e-4}\n", Kind::Done, "",
       5e-4},
      {"failed", R"({"status": "failed", "error": "target arcing"})", Kind::Failed, "target arcing"},
      {"failed without message", R"({"status": "failed"})", Kind::Failed, "without a message"},
      {"bare error", R"({"error": "vacuum lost"})", Kind::Failed, "vacuum lost"},
      {"infeasible", R"({"status": "infeasible", "error": "film peeled off"})", Kind::Infeasible,
       "film peeled off"},
      {"running", R"({"status": "running", "id": "job-17"})", Kind::Running, "job-17"},
      {"running numeric id", R"({"status": "running", "id": 17})", Kind::Running, "17"},
      {"running without id", R"({"status": "running"})", Kind::Failed, "without a job 'id'"},
      {"unknown status", R"({"status": "exploded"})", Kind::Failed, "unknown reply status 'exploded'"},
      {"status not a string", R"({"status": 1})", Kind::Failed, "'status' is not a string"},
      {"not JSON", "Traceback (most recent call last):", Kind::Failed, "malformed JSON reply: "},
      {"empty", "  \n", Kind::Failed, "malformed JSON reply: empty output"},
      {"truncated", R"({"status": "done", "values": {"resistivity": 1)", Kind::Failed, "malformed JSON reply: "},
      {"array", "[1, 2]", Kind::Failed, "expected an object, got array"},
      {"missing objective", R"({"status": "done", "values": {"thickness": 80}})", Kind::Failed,
       "no value for objective 'resistivity'"},
      {"values not an object", R"({"status": "done", "values": [1]})", Kind::Failed, "'values' is not an object"},
      {"NaN as Python writes it", R"({"status": "done", "values": {"resistivity": NaN}})", Kind::Failed,
       "objective 'resistivity' is not finite"},
      {"-Infinity", R"({"resistivity": -Infinity})", Kind::Failed, "objective 'resistivity' is not finite"},
      {"overflowing literal", R"({"resistivity": 1e999})", Kind::Failed, "malformed JSON reply: number overflow"},
      {"null value", R"({"resistivity": null})", Kind::Failed, "objective 'resistivity' is null"},
      {"string value", R"({"resistivity": "low"})", Kind::Failed, "objective 'resistivity' is not a number"},
      {"string NaN is data, not a token", R"({"resistivity": "NaN ohm"})", Kind::Failed, "is not a number"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const Outcome o = parse_reply(c.text, kObj);
    ASSERT_EQ(static_cast<int>(o.kind), static_cast<int>(c.kind)) << o.error;
    EXPECT_EQ(o.raw, c.text);
    switch (c.kind) {
      case Kind::Done:
        ASSERT_EQ(o.values.size(), 1u);
        EXPECT_DOUBLE_EQ(o.values.at("resistivity"), c.value);
        break;
      case Kind::Running:
        EXPECT_EQ(o.ref, c.needle);
        break;
      default:
        EXPECT_TRUE(contains(o.error, c.needle)) << o.error;
    }
  }
}

TEST(ParseReply, SecondOfTwoObjectivesMissingIsNamed) {
  const Outcome o = parse_reply(R"({"resistivity": 1e-3})", {"resistivity", "transmittance"});
  EXPECT_EQ(o.kind, Kind::Failed);
  EXPECT_TRUE(contains(o.error, "'transmittance'")) << o.error;
  const Outcome both = parse_reply(R"({"values": {"resistivity": 1e-3, "transmittance": 0.8}, "status": "done"})",
                                   {"resistivity", "transmittance"});
  ASSERT_EQ(both.kind, Kind::Done);
  EXPECT_EQ(both.values.at("transmittance"), 0.8);
}

TEST(ParseReply, RawIsCutTo4kBOnACharacterBoundary) {
  std::string text = R"({"resistivity": 1, "log": ")";
  for (int i = 0; i < 3000; ++i) text += "\xc3\xa9";  // é: two bytes each
  text += "\"}";
  const Outcome o = parse_reply(text, kObj);
  EXPECT_EQ(o.kind, Kind::Done);
  EXPECT_LE(o.raw.size(), 4096u);
  EXPECT_GE(o.raw.size(), 4095u);
  EXPECT_NO_THROW((void)json(o.raw).dump());  // valid UTF-8: storable as text
}

TEST(ParseReply, GarbageNeverThrows) {
  for (const std::string& s : {std::string("\xff\xfe\x00", 3), std::string("{\"a\":"), std::string("NaN"),
                              std::string("\"NaN"), std::string("{\"resistivity\": tru}"), std::string(100000, '{')}) {
    Outcome o;
    EXPECT_NO_THROW(o = parse_reply(s, kObj));
    EXPECT_EQ(o.kind, Kind::Failed);
  }
}

// ------------------------------------------------------------------------------------------------------------
// Command adapter.

class CommandAdapterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/tsunagu_adapter_test_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  // Writes an executable script and returns a shell command running it.
  std::string script(const std::string& name, const std::string& text) {
    const fs::path p = dir_ / name;
    std::ofstream(p) << text;
    fs::permissions(p, fs::perms::owner_all);
    return "'" + p.string() + "'";
  }
  Outcome run(const std::string& command, double timeout_s = 20, const ExperimentRequest& r = make_request()) {
    AdapterOptions options;
    options.timeout_s = timeout_s;
    CommandAdapter adapter(command, options);
    return adapter.start(r);
  }
  // Still running: exists and is not a zombie. Killed grandchildren are re-parented to init, which reaps them
  // when it gets round to it; until then they are zombies that kill(pid, 0) still finds.
  static bool running(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    if (!in) return false;
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto close = stat.rfind(')');
    return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] != 'Z';
  }
  pid_t read_pid(const std::string& name) {
    std::ifstream in(dir_ / name);
    long pid = 0;
    in >> pid;
    return static_cast<pid_t>(pid);
  }
  fs::path dir_;
};

TEST_F(CommandAdapterTest, DoneReplyComputedFromTheRequestOnStdin) {
  const std::string cmd = script("robot.py", R"(#!/usr/bin/env python3
import json, sys
req = json.load(sys.stdin)
rho = req["parameters"]["o2_pressure"] * 2e-3 + req["attempt"]
print(json.dumps({"status": "done", "values": {"resistivity": rho}, "key": req["key"]}))
)");
  const Outcome o = run(cmd, 20, make_request(3, 2));
  ASSERT_EQ(o.kind, Kind::Done) << o.error;
  EXPECT_DOUBLE_EQ(o.values.at("resistivity"), 0.5 * 2e-3 + 2);
  EXPECT_TRUE(contains(o.raw, "nbtio2/3/2")) << o.raw;
}

TEST_F(CommandAdapterTest, BareObjectReplyIsDone) {
  const Outcome o = run("cat >/dev/null; echo '{\"resistivity\": 0.25}'");
  ASSERT_EQ(o.kind, Kind::Done) << o.error;
  EXPECT_EQ(o.values.at("resistivity"), 0.25);
}

TEST_F(CommandAdapterTest, FailedAndInfeasibleRepliesKeepTheInstrumentsMessage) {
  const Outcome f = run("cat >/dev/null; echo '{\"status\": \"failed\", \"error\": \"target arcing\"}'");
  EXPECT_EQ(f.kind, Kind::Failed);
  EXPECT_EQ(f.error, "target arcing");
  const Outcome i = run("cat >/dev/null; echo '{\"status\": \"infeasible\", \"error\": \"film peeled off\"}'");
  EXPECT_EQ(i.kind, Kind::Infeasible);
  EXPECT_EQ(i.error, "film peeled off");
}

TEST_F(CommandAdapterTest, MalformedJsonIsFailedWithStderrAppended) {
  const Outcome o = run("cat >/dev/null; echo 'resistivity = low'; echo 'calibration file stale' >&2");
  EXPECT_EQ(o.kind, Kind::Failed);
  EXPECT_EQ(o.error.rfind("malformed JSON reply: ", 0), 0u) << o.error;
  EXPECT_TRUE(contains(o.error, "calibration file stale")) << o.error;
  EXPECT_EQ(o.raw, "resistivity = low\n");
}

TEST_F(CommandAdapterTest, MissingObjectiveAndPythonNaNAreFailedNamingTheObjective) {
  const Outcome missing = run("cat >/dev/null; echo '{\"status\": \"done\", \"values\": {\"sheet\": 3}}'");
  EXPECT_EQ(missing.kind, Kind::Failed);
  EXPECT_TRUE(contains(missing.error, "'resistivity'")) << missing.error;
  const std::string cmd = script("nan.py", R"(#!/usr/bin/env python3
import json, sys
sys.stdin.read()
print(json.dumps({"status": "done", "values": {"resistivity": float("nan")}}))
)");
  const Outcome nan = run(cmd);
  EXPECT_EQ(nan.kind, Kind::Failed);
  EXPECT_TRUE(contains(nan.error, "objective 'resistivity' is not finite")) << nan.error;
}

TEST_F(CommandAdapterTest, NonZeroExitIsFailedWithCodeAndStderrTail) {
  const Outcome o = run("cat >/dev/null; echo 'motor stalled at z=3mm' >&2; echo '{\"resistivity\": 1}'; exit 3");
  EXPECT_EQ(o.kind, Kind::Failed);  // a reply on stdout does not count when the program failed
  EXPECT_TRUE(contains(o.error, "exited with code 3")) << o.error;
  EXPECT_TRUE(contains(o.error, "motor stalled at z=3mm")) << o.error;
}

TEST_F(CommandAdapterTest, StderrTailKeepsTheLast4kB) {
  const Outcome o = run("cat >/dev/null; i=0; while [ $i -lt 2000 ]; do echo \"line $i\" >&2; i=$((i+1)); done; "
                        "echo 'the real cause' >&2; exit 1");
  EXPECT_EQ(o.kind, Kind::Failed);
  EXPECT_TRUE(contains(o.error, "the real cause")) << o.error.substr(0, 200);
  EXPECT_FALSE(contains(o.error, "line 0\n"));
  EXPECT_LE(o.error.size(), 4096u + 100u);
}

TEST_F(CommandAdapterTest, CommandNotFoundIsExit127) {
  const Outcome o = run("/nonexistent/robot-driver");
  EXPECT_EQ(o.kind, Kind::Failed);
  EXPECT_TRUE(contains(o.error, "code 127")) << o.error;
}

TEST_F(CommandAdapterTest, ProgramThatIgnoresStdinDoesNotKillTheOrchestratorWithSigpipe) {
  ExperimentRequest big = make_request();
  big.parameters["notes"] = std::string(1 << 20, 'x');  // far beyond a pipe buffer: the write must hit EPIPE
  for (int i = 0; i < 3; ++i) {
    const Outcome o = run("echo '{\"resistivity\": 7}'", 20, big);
    ASSERT_EQ(o.kind, Kind::Done) << o.error;
    EXPECT_EQ(o.values.at("resistivity"), 7.0);
  }
  // Still alive (SIGPIPE's default action would have ended this process) and SIGPIPE is not left blocked/pending.
  sigset_t mask, pending;
  pthread_sigmask(SIG_SETMASK, nullptr, &mask);
  EXPECT_EQ(sigismember(&mask, SIGPIPE), 0);
  sigpending(&pending);
  EXPECT_EQ(sigismember(&pending, SIGPIPE), 0);
}

TEST_F(CommandAdapterTest, LargeStdoutAndStderrTogetherDoNotDeadlock) {
  // 1 MB on stderr *before* the 1 MB reply on stdout: a reader that drains only stdout would block forever.
  const std::string cmd = script("chatty.py", R"(#!/usr/bin/env python3
import json, sys
req = json.load(sys.stdin)
sys.stderr.write("e" * (1 << 20))
sys.stderr.flush()
print(json.dumps({"status": "done", "values": {"resistivity": 0.125}, "log": "o" * (1 << 20)}))
)");
  ExperimentRequest big = make_request();
  big.parameters["notes"] = std::string(1 << 20, 'x');
  const Outcome o = run(cmd, 60, big);
  ASSERT_EQ(o.kind, Kind::Done) << o.error.substr(0, 300);
  EXPECT_EQ(o.values.at("resistivity"), 0.125);
  EXPECT_EQ(o.raw.size(), 4096u);
}

TEST_F(CommandAdapterTest, EndlessOutputIsStoppedAt64MiBWithoutWaitingForTheTimeout) {
  const auto t0 = std::chrono::steady_clock::now();
  const Outcome o = run("yes 0123456789abcdef0123456789abcdef0123456789", 60);
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(o.kind, Kind::Failed);
  EXPECT_TRUE(contains(o.error, "more than 64 MiB")) << o.error;
  EXPECT_LT(elapsed, 50.0);  // stopped for its size, not by the 60 s timeout
}

TEST_F(CommandAdapterTest, TimeoutKillsTheWholeProcessGroupAndReapsIt) {
  const std::string cmd =
      script("slow.sh", "#!/bin/sh\necho $$ > \"$(dirname \"$0\")/sh.pid\"\nsleep 30 &\n"
                        "echo $! > \"$(dirname \"$0\")/sleep.pid\"\nwait\n");
  const auto t0 = std::chrono::steady_clock::now();
  const Outcome o = run(cmd, 0.5);
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(o.kind, Kind::Failed);
  EXPECT_TRUE(contains(o.error, "timed out after 0.5 s")) << o.error;
  EXPECT_LT(elapsed, 25.0);  // killed, not finished: sleep 30 would take 30 s
  const pid_t sh = read_pid("sh.pid"), sleeper = read_pid("sleep.pid");
  ASSERT_GT(sh, 0);
  ASSERT_GT(sleeper, 0);
  EXPECT_FALSE(running(sh));
  EXPECT_FALSE(running(sleeper));  // the background grandchild died with the group
}

TEST_F(CommandAdapterTest, ProgramIgnoringSigtermIsKilledWithSigkill) {
  const std::string cmd = script("stubborn.sh", "#!/bin/sh\ntrap '' TERM\necho $$ > \"$(dirname \"$0\")/sh.pid\"\n"
                                                "while :; do sleep 1; done\n");
  const Outcome o = run(cmd, 0.3);
  EXPECT_EQ(o.kind, Kind::Failed);
  EXPECT_TRUE(contains(o.error, "timed out")) << o.error;
  const pid_t sh = read_pid("sh.pid");
  ASSERT_GT(sh, 0);
  EXPECT_FALSE(running(sh));
}

TEST_F(CommandAdapterTest, KilledBySignalNamesTheSignal) {
  const Outcome o = run("cat >/dev/null; kill -SEGV $$");
  EXPECT_EQ(o.kind, Kind::Failed);
  EXPECT_TRUE(contains(o.error, "killed by signal SIGSEGV")) << o.error;
}

TEST_F(CommandAdapterTest, RunningReplyFromACommandIsFailedAndPollIsNotSupported) {
  const Outcome o = run("cat >/dev/null; echo '{\"status\": \"running\", \"id\": \"j1\"}'");
  EXPECT_EQ(o.kind, Kind::Failed);
  EXPECT_TRUE(contains(o.error, "running")) << o.error;
  CommandAdapter adapter("true");
  EXPECT_FALSE(adapter.can_poll());
  EXPECT_EQ(adapter.name(), "command");
  EXPECT_EQ(adapter.poll("j1", kObj).kind, Kind::Failed);
}

TEST_F(CommandAdapterTest, ChildDoesNotInheritTheOrchestratorsDescriptors) {
  // A descriptor without close-on-exec (like an httplib socket) must not leak into the instrument program.
  const int fd = ::dup(1);
  ASSERT_GE(fd, 3);
  const Outcome o = run("cat >/dev/null; if [ -e /proc/self/fd/" + std::to_string(fd) +
                        " ]; then echo '{\"resistivity\": 1}'; else echo '{\"resistivity\": 0}'; fi");
  ::close(fd);
  ASSERT_EQ(o.kind, Kind::Done) << o.error;
  EXPECT_EQ(o.values.at("resistivity"), 0.0);
}

TEST_F(CommandAdapterTest, DemoSputterRobotAnswersThroughTheCommandAdapter) {
  const std::string robot = std::string(TSUNAGU_SOURCE_DIR) + "/examples/campaign/sputter_robot.py";
  ExperimentRequest r = make_request();
  r.parameters = {{"o2_pressure", 0.25}, {"power", 130.0}, {"temperature", 470.0}, {"nb_fraction", 0.057}};
  const Outcome o = run("python3 '" + robot + "' --seed 1 --failure-rate 0", 30, r);
  ASSERT_EQ(o.kind, Kind::Done) << o.error;
  // Near the documented optimum (3.0e-4 ohm cm) with ~5 % log-normal noise.
  EXPECT_NEAR(std::log(o.values.at("resistivity") / 3.0e-4), 0.0, 0.25);
  r.parameters["power"] = 300.0;
  r.parameters["temperature"] = 600.0;  // 1.8e5 W degC > 1.5e5: the film peels off
  const Outcome peeled = run("python3 '" + robot + "' --seed 1 --failure-rate 0", 30, r);
  EXPECT_EQ(peeled.kind, Kind::Infeasible);
  EXPECT_EQ(peeled.error, "film peeled off");
}

// ------------------------------------------------------------------------------------------------------------
// HTTP adapter against an in-test controller.

class Controller {
 public:
  // mode: "done" (reply at once), "async" (running, then done on the second poll), "error500", "html",
  // "no-id", "slow".
  explicit Controller(std::string mode) : mode_(std::move(mode)) {
    for (const std::string prefix : {"", "/api/v1"}) {
      server_.Post(prefix + "/experiments", [this](const httplib::Request& req, httplib::Response& res) {
        post(req, res);
      });
      server_.Get(prefix + R"(/experiments/(.+))", [this](const httplib::Request& req, httplib::Response& res) {
        get(req.matches[1].str(), res);
      });
    }
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~Controller() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int posts() const { return posts_; }
  std::string last_path() {
    std::lock_guard lock(mutex_);
    return last_path_;
  }

 private:
  void post(const httplib::Request& req, httplib::Response& res) {
    ++posts_;
    {
      std::lock_guard lock(mutex_);
      last_path_ = req.path;
    }
    if (mode_ == "error500") {
      res.status = 500;
      res.set_content("stage controller fault", "text/plain");
      return;
    }
    if (mode_ == "html") {
      res.set_content("<html>maintenance</html>", "text/html");
      return;
    }
    if (mode_ == "slow") {
      std::this_thread::sleep_for(std::chrono::milliseconds(600));
      res.set_content(R"({"resistivity": 1})", "application/json");
      return;
    }
    const json body = json::parse(req.body);
    if (mode_ == "done") {
      const double rho = body["parameters"]["o2_pressure"].get<double>() * 1e-3;
      res.set_content(json{{"status", "done"}, {"values", {{"resistivity", rho}}}}.dump(), "application/json");
      return;
    }
    if (mode_ == "no-id") {
      res.set_content(R"({"status": "running"})", "application/json");
      return;
    }
    // async: one job per key, so a repeated POST (orchestrator crash) returns the same job.
    std::lock_guard lock(mutex_);
    const std::string key = body["key"];
    auto it = jobs_by_key_.find(key);
    if (it == jobs_by_key_.end()) {
      const std::string id = "job " + std::to_string(jobs_by_key_.size() + 1) + "/x";  // needs URL encoding
      it = jobs_by_key_.emplace(key, id).first;
      polls_[id] = 0;
      rho_[id] = body["parameters"]["o2_pressure"].get<double>() * 1e-3;
    }
    res.status = 202;
    res.set_content(json{{"status", "running"}, {"id", it->second}}.dump(), "application/json");
  }
  void get(const std::string& id, httplib::Response& res) {
    std::lock_guard lock(mutex_);
    auto it = polls_.find(id);
    if (it == polls_.end()) {
      res.status = 404;
      res.set_content("no such job " + id, "text/plain");
      return;
    }
    if (++it->second < 2) {
      res.set_content(R"({"status": "running"})", "application/json");
    } else {
      res.set_content(json{{"status", "done"}, {"values", {{"resistivity", rho_[id]}}}}.dump(), "application/json");
    }
  }

  std::string mode_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::atomic<int> posts_{0};
  std::mutex mutex_;
  std::string last_path_;
  std::map<std::string, std::string> jobs_by_key_;
  std::map<std::string, int> polls_;
  std::map<std::string, double> rho_;
};

AdapterOptions quick(double timeout_s = 5) {
  AdapterOptions o;
  o.timeout_s = timeout_s;
  o.poll_interval_s = 0.01;
  return o;
}

TEST(HttpAdapter, ImmediateDoneReply) {
  Controller c("done");
  HttpAdapter adapter(c.url(), quick());
  const Outcome o = adapter.start(make_request());
  ASSERT_EQ(o.kind, Kind::Done) << o.error;
  EXPECT_DOUBLE_EQ(o.values.at("resistivity"), 0.5e-3);
  EXPECT_EQ(c.last_path(), "/experiments");
  EXPECT_TRUE(adapter.can_poll());
  EXPECT_EQ(adapter.name(), "http");
}

TEST(HttpAdapter, UrlPrefixAndTrailingSlashArePartOfThePath) {
  Controller c("done");
  HttpAdapter adapter(c.url() + "/api/v1/", quick());
  const Outcome o = adapter.start(make_request());
  ASSERT_EQ(o.kind, Kind::Done) << o.error;
  EXPECT_EQ(c.last_path(), "/api/v1/experiments");
}

TEST(HttpAdapter, RunningThenDoneOnPollWithAnEncodedJobId) {
  Controller c("async");
  HttpAdapter adapter(c.url(), quick());
  const Outcome started = adapter.start(make_request());
  ASSERT_EQ(started.kind, Kind::Running) << started.error;
  EXPECT_EQ(started.ref, "job 1/x");
  const Outcome first = adapter.poll(started.ref, kObj);
  ASSERT_EQ(first.kind, Kind::Running) << first.error;  // "running" without id: the polled job
  EXPECT_EQ(first.ref, "job 1/x");
  const Outcome second = adapter.poll(started.ref, kObj);
  ASSERT_EQ(second.kind, Kind::Done) << second.error;
  EXPECT_DOUBLE_EQ(second.values.at("resistivity"), 0.5e-3);
}

TEST(HttpAdapter, RepeatedPostOfTheSameAttemptReturnsTheSameJob) {
  Controller c("async");
  HttpAdapter adapter(c.url(), quick());
  const Outcome a = adapter.start(make_request(12, 1));
  const Outcome again = adapter.start(make_request(12, 1));  // e.g. resent after an orchestrator crash
  const Outcome retry = adapter.start(make_request(12, 2));  // a new attempt is a new job
  ASSERT_EQ(a.kind, Kind::Running);
  EXPECT_EQ(again.ref, a.ref);
  EXPECT_NE(retry.ref, a.ref);
  EXPECT_EQ(c.posts(), 3);
}

TEST(HttpAdapter, Status500IsFailedWithStatusAndBody) {
  Controller c("error500");
  HttpAdapter adapter(c.url(), quick());
  const Outcome o = adapter.start(make_request());
  EXPECT_EQ(o.kind, Kind::Failed);
  EXPECT_TRUE(contains(o.error, "HTTP 500")) << o.error;
  EXPECT_TRUE(contains(o.error, "stage controller fault")) << o.error;
}

TEST(HttpAdapter, UnknownJobOnPollIsFailedWith404) {
  Controller c("async");
  HttpAdapter adapter(c.url(), quick());
  const Outcome o = adapter.poll("job-99", kObj);
  EXPECT_EQ(o.kind, Kind::Failed);
  EXPECT_TRUE(contains(o.error, "HTTP 404")) << o.error;
}

TEST(HttpAdapter, MalformedBodyIsFailed) {
  Controller c("html");
  HttpAdapter adapter(c.url(), quick());
  const Outcome o = adapter.start(make_request());
  EXPECT_EQ(o.kind, Kind::Failed);
  EXPECT_EQ(o.error.rfind("malformed JSON reply: ", 0), 0u) << o.error;
  EXPECT_EQ(o.raw, "<html>maintenance</html>");
}

TEST(HttpAdapter, RunningWithoutIdOnStartIsFailed) {
  Controller c("no-id");
  HttpAdapter adapter(c.url(), quick());
  const Outcome o = adapter.start(make_request());
  EXPECT_EQ(o.kind, Kind::Failed);
  EXPECT_TRUE(contains(o.error, "'id'")) << o.error;
}

TEST(HttpAdapter, ConnectionRefusedIsFailed) {
  // A port that was free a moment ago: bind an ephemeral port and release it.
  const int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ::getsockname(s, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(s);
  HttpAdapter adapter("http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)), quick());
  const Outcome o = adapter.start(make_request());
  EXPECT_EQ(o.kind, Kind::Failed);
  EXPECT_TRUE(contains(o.error, "connection failed")) << o.error;
  EXPECT_EQ(adapter.poll("job-1", kObj).kind, Kind::Failed);
}

TEST(HttpAdapter, ReadTimeoutIsFailed) {
  Controller c("slow");
  HttpAdapter adapter(c.url(), quick(0.1));
  const Outcome o = adapter.start(make_request());
  EXPECT_EQ(o.kind, Kind::Failed);
  EXPECT_TRUE(contains(o.error, "HTTP POST")) << o.error;
}

TEST(HttpAdapter, HttpsAndNonHttpUrlsAreRejected) {
  EXPECT_THROW(HttpAdapter("https://robot.lab:8443"), tsunagu::InvalidArgument);
  EXPECT_THROW(HttpAdapter("robot.lab:8000"), tsunagu::InvalidArgument);
  EXPECT_THROW(HttpAdapter("http:///experiments"), tsunagu::InvalidArgument);
}

// ------------------------------------------------------------------------------------------------------------
// Manual adapter and make_adapter.

TEST(ManualAdapter, PrintsConditionsAndTheRecordCommandAndStaysRunning) {
  ManualAdapter adapter;
  ::testing::internal::CaptureStdout();
  const Outcome o = adapter.start(make_request(12));
  const std::string text = ::testing::internal::GetCapturedStdout();
  EXPECT_EQ(o.kind, Kind::Running);
  EXPECT_EQ(o.ref, "12");
  EXPECT_TRUE(contains(text, "EXPERIMENT 12")) << text;
  EXPECT_TRUE(contains(text, "o2_pressure = 0.5")) << text;
  EXPECT_TRUE(contains(text, "power       = 150")) << text;
  EXPECT_TRUE(contains(text, "target      = Nb")) << text;
  EXPECT_TRUE(contains(text, "tsunagu campaign record --db")) << text;
  EXPECT_TRUE(contains(text, "--experiment 12 --value")) << text;
  EXPECT_EQ(adapter.poll("12", kObj).kind, Kind::Running);
  EXPECT_TRUE(adapter.can_poll());
}

TEST(ManualAdapter, RecordCommandNamesTheDatabaseAsOneShellWord) {
  // The printed command is meant to be pasted into a shell: a path with a space and a quote is single-quoted with
  // the POSIX '\'' escape; a plain path is printed as it is.
  AdapterOptions o;
  o.database = "/data/my lab's.sqlite";
  ::testing::internal::CaptureStdout();
  ManualAdapter(o).start(make_request(3));
  std::string text = ::testing::internal::GetCapturedStdout();
  EXPECT_TRUE(contains(text, "record --db '/data/my lab'\\''s.sqlite' --experiment 3")) << text;
  o.database = "runs/lab-1.sqlite";
  ::testing::internal::CaptureStdout();
  make_adapter("manual", o)->start(make_request(4));
  text = ::testing::internal::GetCapturedStdout();
  EXPECT_TRUE(contains(text, "record --db runs/lab-1.sqlite --experiment 4")) << text;
}

TEST(MakeAdapter, EveryDocumentedFormAndTheErrors) {
  EXPECT_EQ(make_adapter("command:python3 robot.py --seed 1")->name(), "command");
  EXPECT_EQ(make_adapter("http://127.0.0.1:8000")->name(), "http");
  EXPECT_EQ(make_adapter("http://127.0.0.1:8000/api")->name(), "http");
  EXPECT_EQ(make_adapter("http:127.0.0.1:8000")->name(), "http");
  EXPECT_EQ(make_adapter("http:http://127.0.0.1:8000")->name(), "http");
  EXPECT_EQ(make_adapter("manual")->name(), "manual");
  for (const std::string bad : {"", "Manual", "ftp://robot", "command:", "command:   ", "http:", "robot.py"}) {
    SCOPED_TRACE(bad);
    try {
      make_adapter(bad);
      ADD_FAILURE() << "no exception";
    } catch (const tsunagu::InvalidArgument& e) {
      EXPECT_TRUE(contains(e.what(), "command:CMD")) << e.what();
      EXPECT_TRUE(contains(e.what(), "manual")) << e.what();
    }
  }
  EXPECT_THROW(make_adapter("https://robot.lab"), tsunagu::InvalidArgument);
  EXPECT_THROW(make_adapter("http:https://robot.lab"), tsunagu::InvalidArgument);
  AdapterOptions bad;
  bad.timeout_s = 0;
  EXPECT_THROW(make_adapter("command:true", bad), tsunagu::InvalidArgument);
}

}  // namespace
