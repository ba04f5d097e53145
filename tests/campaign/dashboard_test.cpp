// The dashboard server, queried over real HTTP with httplib::Client on an ephemeral port.
#include "tsunagu/campaign/dashboard.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "../core/temp_dir.hpp"
#include "../core/xml_check.hpp"
#include "report_fixture.hpp"
#include "tsunagu/campaign/report.hpp"
#include "tsunagu/campaign/store.hpp"
#include "tsunagu/core/error.hpp"

// After the Eigen-using headers (httplib.h pulls in <resolv.h>, whose `_res` macro breaks Eigen); the library's
// CPPHTTPLIB_* options come with tsunagu::campaign (pkg-config, PUBLIC).
#include <httplib.h>

namespace tsunagu::campaign {
namespace {

using test::TempDir;

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

/// A dashboard over the hand-made single-objective campaign, serving on an ephemeral port in a thread.
class DashboardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = dir_ / "c.sqlite";
    ids_ = test::make_single(db_).ids;  // the Store closes again: the dashboard opens the file itself
    start({});
  }
  void TearDown() override { finish(); }

  void start(ServeOptions options) {
    options.port = 0;
    dash_ = std::make_unique<Dashboard>(db_, options);
    port_ = dash_->bind();
    server_ = std::thread([this] { dash_->run(); });
    client_ = std::make_unique<httplib::Client>("127.0.0.1", port_);
    client_->set_connection_timeout(5);
    client_->set_read_timeout(10);
  }
  void finish() {
    if (!dash_) return;
    client_.reset();
    dash_->stop();
    server_.join();
    dash_.reset();
  }
  httplib::Result post_control(const std::string& body, const std::string& type = "application/json") {
    return client_->Post("/api/control", body, type.c_str());
  }

  TempDir dir_;
  std::filesystem::path db_;
  std::vector<std::int64_t> ids_;
  std::unique_ptr<Dashboard> dash_;
  int port_ = 0;
  std::thread server_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(DashboardTest, BindToPortZeroGivesAnEphemeralPort) {
  EXPECT_GT(port_, 0);
  EXPECT_EQ(dash_->port(), port_);
  EXPECT_EQ(dash_->bind(), port_);  // binding again is a no-op
}

TEST_F(DashboardTest, RootServesTheSelfContainedPage) {
  auto res = client_->Get("/");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
  EXPECT_TRUE(contains(res->get_header_value("Content-Type"), "text/html"));
  const auto& page = res->body;
  EXPECT_TRUE(contains(page, "<!DOCTYPE html>"));
  EXPECT_TRUE(contains(page, "<style>"));             // inline CSS
  EXPECT_TRUE(contains(page, "/api/status"));          // polls the status
  EXPECT_TRUE(contains(page, "/api/control"));         // pause/resume/stop
  EXPECT_TRUE(contains(page, "<script src=\"/chart.js\"></script>"));
  EXPECT_TRUE(contains(page, "/plot/best.svg"));      // SVG fallback
  EXPECT_TRUE(contains(page, "textContent"));
  // Database text is never parsed as HTML.
  EXPECT_FALSE(contains(page, "innerHTML"));
  EXPECT_FALSE(contains(page, "outerHTML"));
  EXPECT_FALSE(contains(page, "insertAdjacentHTML"));
  EXPECT_FALSE(contains(page, "document.write"));
  // The page itself is static: the campaign name only arrives through the JSON API.
  EXPECT_FALSE(contains(page, "Nb:TiO2"));
}

TEST_F(DashboardTest, ApiStatusEqualsStatusJson) {
  auto res = client_->Get("/api/status");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
  EXPECT_TRUE(contains(res->get_header_value("Content-Type"), "application/json"));
  EXPECT_EQ(nlohmann::json::parse(res->body), status_json(Store::open(db_)));
}

TEST_F(DashboardTest, StatusSeesResultsRecordedWhileServing) {
  {
    auto store = Store::open(db_);
    store.record_result(ids_[5], {{"resistivity", 0.5}});  // e6, the retry of the failed e3
  }
  auto res = client_->Get("/api/status");
  ASSERT_TRUE(res);
  const auto j = nlohmann::json::parse(res->body);
  EXPECT_EQ(j["counts"]["done"], 5);
  EXPECT_EQ(j["best"]["values"]["resistivity"], 0.5);
}

TEST_F(DashboardTest, PlotsAreWellFormedSvg) {
  auto best = client_->Get("/plot/best.svg");
  ASSERT_TRUE(best);
  EXPECT_EQ(best->status, 200);
  EXPECT_EQ(best->get_header_value("Content-Type"), "image/svg+xml");
  EXPECT_EQ(best->body, best_so_far_svg(Store::open(db_)));
  EXPECT_EQ(test::xml_problem(best->body), "");

  auto param = client_->Get("/plot/param/power.svg");
  ASSERT_TRUE(param);
  EXPECT_EQ(param->status, 200);
  EXPECT_EQ(test::xml_problem(param->body), "");
  EXPECT_EQ(param->body, parameter_svg(Store::open(db_), "power"));

  auto unknown = client_->Get("/plot/param/temperature.svg");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);
  EXPECT_TRUE(contains(nlohmann::json::parse(unknown->body)["error"].get<std::string>(), "temperature"));
}

TEST_F(DashboardTest, ControlPauseResumeStopChangesTheStore) {
  auto res = post_control(R"({"action": "pause"})");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(nlohmann::json::parse(res->body), (nlohmann::json{{"control", "paused"}}));
  EXPECT_EQ(Store::open(db_).control(), "paused");

  res = post_control(R"({"action": "resume"})");
  ASSERT_TRUE(res);
  EXPECT_EQ(nlohmann::json::parse(res->body)["control"], "running");
  EXPECT_EQ(Store::open(db_).control(), "running");

  res = post_control(R"({"action": "stop"})");
  ASSERT_TRUE(res);
  EXPECT_EQ(Store::open(db_).control(), "stopped");
  // the change is logged for the event list
  const auto events = Store::open(db_).events(1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_TRUE(contains(events[0].message, "stopped"));
}

TEST_F(DashboardTest, BadControlBodyIs400WithAJsonError) {
  for (const std::string body : {"pause", "", "[]", R"({"action": "explode"})", R"({"action": 1})", R"({"verb": "pause"})"}) {
    auto res = post_control(body);
    ASSERT_TRUE(res) << body;
    EXPECT_EQ(res->status, 400) << body;
    const auto j = nlohmann::json::parse(res->body);
    EXPECT_TRUE(j["error"].is_string()) << body;
  }
  EXPECT_EQ(Store::open(db_).control(), "running");  // unchanged
}

TEST_F(DashboardTest, ControlWithoutJsonContentTypeIsRefused) {
  // a cross-site HTML form can only send form/text bodies; refusing them keeps other sites from pressing Stop
  auto res = post_control(R"({"action": "stop"})", "text/plain");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 415);
  EXPECT_EQ(Store::open(db_).control(), "running");
}

TEST_F(DashboardTest, UnknownRouteIs404) {
  auto res = client_->Get("/nope");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  EXPECT_TRUE(contains(nlohmann::json::parse(res->body)["error"].get<std::string>(), "/nope"));
  res = client_->Get("/api/control");  // exists only as POST
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
}

TEST_F(DashboardTest, ChartJsIsServedWhenInstalled) {
  auto res = client_->Get("/chart.js");
  ASSERT_TRUE(res);
  bool installed = false;
  for (const char* f : {"/usr/share/javascript/chart.js/chart.umd.js", "/usr/share/javascript/chart.js/chart.umd.min.js",
                        "/usr/share/javascript/chart.js/chart.min.js", "/usr/share/javascript/chart.js/chart.js"})
    installed = installed || std::filesystem::is_regular_file(f);
  if (installed) {
    EXPECT_EQ(res->status, 200);
    EXPECT_TRUE(contains(res->body, "Chart"));
  } else {
    EXPECT_EQ(res->status, 404);
  }
}

TEST_F(DashboardTest, ExplicitChartJsPathIsServedVerbatim) {
  finish();
  const auto js = dir_ / "chart.js";
  std::ofstream(js) << "window.Chart = function () {};\n";
  ServeOptions o;
  o.chart_js = js.string();
  start(o);
  auto res = client_->Get("/chart.js");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "window.Chart = function () {};\n");
}

TEST_F(DashboardTest, StopReturnsFromRun) {
  finish();  // joins the server thread: run() returned
  EXPECT_FALSE(dash_);
}

TEST(Dashboard, StopBeforeRunMakesRunReturnAtOnce) {
  TempDir dir;
  test::make_single(dir / "c.sqlite");
  Dashboard d(dir / "c.sqlite", ServeOptions{"127.0.0.1", 0, ""});
  d.bind();
  d.stop();
  d.run();  // returns immediately
  SUCCEED();
}

TEST(Dashboard, StopRacingWithRunIsNeverLost) {
  TempDir dir;
  test::make_single(dir / "c.sqlite");
  for (int i = 0; i < 20; ++i) {
    Dashboard d(dir / "c.sqlite", ServeOptions{"127.0.0.1", 0, ""});
    std::thread t([&] { d.run(); });
    d.stop();
    t.join();
  }
  SUCCEED();
}

TEST(Dashboard, BusyPortIsIoErrorNamingHostAndPort) {
  TempDir dir;
  test::make_single(dir / "c.sqlite");
  int port = 0;
  {
    Dashboard first(dir / "c.sqlite", ServeOptions{"127.0.0.1", 0, ""});
    port = first.bind();
    Dashboard second(dir / "c.sqlite", ServeOptions{"127.0.0.1", port, ""});
    try {
      second.bind();
      FAIL() << "bound a busy port";
    } catch (const IoError& e) {
      EXPECT_TRUE(contains(e.what(), "127.0.0.1:" + std::to_string(port))) << e.what();
    }
  }
  // destroying a bound dashboard that never ran releases its port
  Dashboard again(dir / "c.sqlite", ServeOptions{"127.0.0.1", port, ""});
  EXPECT_EQ(again.bind(), port);
}

TEST(Dashboard, UnresolvableHostIsIoError) {
  TempDir dir;
  test::make_single(dir / "c.sqlite");
  Dashboard d(dir / "c.sqlite", ServeOptions{"256.1.1.1", 0, ""});
  try {
    d.bind();
    FAIL() << "bound 256.1.1.1";
  } catch (const IoError& e) {
    EXPECT_TRUE(contains(e.what(), "256.1.1.1:0")) << e.what();
  }
}

TEST(Dashboard, MissingDatabaseIsIoErrorAtConstruction) {
  TempDir dir;
  EXPECT_THROW(Dashboard(dir / "missing.sqlite"), IoError);
}

TEST(Dashboard, MissingExplicitChartJsIsIoError) {
  TempDir dir;
  test::make_single(dir / "c.sqlite");
  EXPECT_THROW(Dashboard(dir / "c.sqlite", ServeOptions{"127.0.0.1", 0, (dir / "none.js").string()}), IoError);
}

TEST(ServeOptions, PortOutOfRangeOrEmptyHostIsInvalidArgument) {
  EXPECT_THROW((ServeOptions{"127.0.0.1", 65536, ""}.validate()), InvalidArgument);
  EXPECT_THROW((ServeOptions{"127.0.0.1", -1, ""}.validate()), InvalidArgument);
  EXPECT_THROW((ServeOptions{"", 8080, ""}.validate()), InvalidArgument);
  EXPECT_NO_THROW((ServeOptions{"0.0.0.0", 0, ""}.validate()));
}

}  // namespace
}  // namespace tsunagu::campaign
