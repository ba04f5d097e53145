#include "tsunagu/core/progress.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace tsunagu::core;

/// Restores the global progress flag after each test.
class ProgressTest : public ::testing::Test {
 protected:
  void SetUp() override { saved_ = progress_enabled(); }
  void TearDown() override { set_progress_enabled(saved_); }

 private:
  bool saved_ = true;
};

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

TEST_F(ProgressTest, GlobalFlagDefaultsToEnabledAndCanBeToggled) {
  EXPECT_TRUE(progress_enabled());
  set_progress_enabled(false);
  EXPECT_FALSE(progress_enabled());
  set_progress_enabled(true);
  set_progress_delay(0);
  EXPECT_TRUE(progress_enabled());
}

TEST_F(ProgressTest, DisabledPrintsNothing) {
  set_progress_enabled(false);
  testing::internal::CaptureStderr();
  {
    Progress p("quiet job", 100);
    for (int i = 0; i < 100; ++i) p.tick();
    p.finish();
  }
  {
    Progress p("quiet unknown", 0);
    p.tick(5);
  }  // destructor must not print either
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
}

TEST_F(ProgressTest, DisabledAtConstructionStaysSilentEvenIfEnabledLater) {
  set_progress_enabled(false);
  testing::internal::CaptureStderr();
  {
    Progress p("job", 10);
    set_progress_enabled(true);
    set_progress_delay(0);
    p.tick(10);
    p.finish();
  }
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
}

TEST_F(ProgressTest, NotATtyPrintsOneLinePerDecileAndAFinalDoneLine) {
  set_progress_enabled(true);
  set_progress_delay(0);
  testing::internal::CaptureStderr();  // redirects stderr to a file: not a terminal
  {
    Progress p("sparse cv", 1000);
    for (int i = 0; i < 1000; ++i) p.tick();
    p.finish();
  }
  const std::string out = testing::internal::GetCapturedStderr();
  const auto lines = lines_of(out);
  ASSERT_EQ(lines.size(), 10u) << out;
  EXPECT_EQ(out.find('\r'), std::string::npos);
  for (int d = 1; d <= 9; ++d) {
    const std::regex re("sparse cv: " + std::to_string(d * 10) + "% \\(" + std::to_string(d * 100) +
                        "/1000\\), [0-9.]+ s elapsed, (~[0-9]+|<1) s left");
    EXPECT_TRUE(std::regex_match(lines[static_cast<std::size_t>(d - 1)], re)) << lines[static_cast<std::size_t>(d - 1)];
  }
  EXPECT_TRUE(std::regex_match(lines[9], std::regex("sparse cv: done 1000 in [0-9.]+ s"))) << lines[9];
}

TEST_F(ProgressTest, BigTickCrossingSeveralDecilesPrintsOneLine) {
  set_progress_enabled(true);
  set_progress_delay(0);
  testing::internal::CaptureStderr();
  {
    Progress p("job", 100);
    p.tick(35);
    p.tick(1);   // still in the 30% decile: nothing
    p.tick(64);  // reaches 100%: reported by the final line only
  }
  const auto lines = lines_of(testing::internal::GetCapturedStderr());
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].rfind("job: 35% (35/100), ", 0), 0u) << lines[0];
  EXPECT_EQ(lines[1].rfind("job: done 100 in ", 0), 0u) << lines[1];
}

TEST_F(ProgressTest, DestructorFinishesAndFinishPrintsOnlyOnce) {
  set_progress_enabled(true);
  set_progress_delay(0);
  testing::internal::CaptureStderr();
  {
    Progress p("once", 4);
    p.tick(2);
    p.finish();
    p.finish();
  }
  {
    Progress q("implicit", 3);
    q.tick(3);
  }
  const auto lines = lines_of(testing::internal::GetCapturedStderr());
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].rfind("once: 50% (2/4)", 0), 0u) << lines[0];
  EXPECT_EQ(lines[1].rfind("once: done 2 in ", 0), 0u) << lines[1];
  EXPECT_EQ(lines[2].rfind("implicit: done 3 in ", 0), 0u) << lines[2];
}

TEST_F(ProgressTest, UnknownTotalShowsCountOnly) {
  set_progress_enabled(true);
  set_progress_delay(0);
  testing::internal::CaptureStderr();
  {
    Progress p("scan", 0);
    for (int i = 0; i < 57; ++i) p.tick();
  }
  const auto lines = lines_of(testing::internal::GetCapturedStderr());
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_TRUE(std::regex_match(lines[0], std::regex("scan: done 57 in [0-9.]+ s"))) << lines[0];
}

// Under contention a thread may cross decile 3 after another already reported decile 4; the older decile is then
// skipped, never printed out of order or twice. So: at most one line per decile, strictly increasing, then "done".
TEST_F(ProgressTest, ConcurrentTicksCountEveryUnitAndReportDecilesInOrderAtMostOnce) {
  set_progress_enabled(true);
  set_progress_delay(0);
  testing::internal::CaptureStderr();
  {
    Progress p("parallel", 80000);
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t)
      threads.emplace_back([&p] {
        for (int i = 0; i < 10000; ++i) p.tick();
      });
    for (auto& th : threads) th.join();
  }
  const auto lines = lines_of(testing::internal::GetCapturedStderr());
  ASSERT_GE(lines.size(), 2u);
  ASSERT_LE(lines.size(), 10u);
  int previous_decile = 0;
  for (std::size_t i = 0; i + 1 < lines.size(); ++i) {
    std::smatch m;
    ASSERT_TRUE(std::regex_search(lines[i], m, std::regex("^parallel: ([0-9]+)% "))) << lines[i];
    const int decile = std::stoi(m[1]) / 10;
    EXPECT_GT(decile, previous_decile) << lines[i];
    EXPECT_LE(decile, 9);
    previous_decile = decile;
  }
  EXPECT_EQ(lines.back().rfind("parallel: done 80000 in ", 0), 0u) << lines.back();
}

}  // namespace

TEST(Progress, WorkShorterThanTheDelayPrintsNothing) {
  set_progress_enabled(true);
  set_progress_delay(1.0);
  testing::internal::CaptureStderr();
  {
    Progress p("quick", 10);
    for (int i = 0; i < 10; ++i) p.tick();
  }
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
  set_progress_delay(0);
}
