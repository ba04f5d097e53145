// run_process: exit codes, stdin/stdout/stderr, environment, working directory, timeouts killing the whole group.
#include "tsunagu/core/process.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include <gtest/gtest.h>

namespace tc = tsunagu::core;

TEST(Process, ExitCodeAndCapturedStreams) {
  const auto r = tc::run_process("printf 'out'; printf 'err' >&2; exit 3");
  EXPECT_TRUE(r.exited());
  EXPECT_EQ(r.exit_code(), 3);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.out, "out");
  EXPECT_EQ(r.err, "err");
  EXPECT_EQ(r.describe(), "exited with code 3");
}

TEST(Process, StdinEnvironmentAndWorkingDirectory) {
  const auto dir = std::filesystem::temp_directory_path() / ("tsunagu_process_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  tc::ProcessOptions o;
  o.input = "hello\n";
  o.environment = {{"TSUNAGU_X", "42"}};
  o.working_dir = dir;
  const auto r = tc::run_process("read line; echo \"$line $TSUNAGU_X $(basename \"$PWD\")\"", o);
  EXPECT_TRUE(r.ok()) << r.describe() << r.err;
  EXPECT_EQ(r.out, "hello 42 " + dir.filename().string() + "\n");

  o.input.clear();
  o.stdout_path = dir / "out.txt";
  EXPECT_TRUE(tc::run_process("echo to-file", o).ok());
  std::ifstream f(o.stdout_path);
  std::stringstream ss;
  ss << f.rdbuf();
  EXPECT_EQ(ss.str(), "to-file\n");
  std::filesystem::remove_all(dir);
}

TEST(Process, TimeoutKillsTheProcessGroupPromptly) {
  tc::ProcessOptions o;
  o.timeout_s = 0.3;
  o.kill_grace_s = 0.2;
  const auto t0 = std::chrono::steady_clock::now();
  // The grandchild (sleep) must die too, or the pipe would keep us waiting for 30 s.
  const auto r = tc::run_process("sleep 30 & sleep 30; wait", o);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_TRUE(r.timed_out);
  EXPECT_FALSE(r.ok());
  EXPECT_LT(s, 10.0);
  EXPECT_NE(r.describe(0.3).find("timed out"), std::string::npos) << r.describe(0.3);
}

TEST(Process, OutputLimitStopsTheProgramAndUtf8SuffixKeepsWholeCharacters) {
  tc::ProcessOptions o;
  o.stdout_limit = 1000;
  const auto r = tc::run_process("yes", o);
  EXPECT_TRUE(r.output_overflow);
  EXPECT_FALSE(r.ok());
  // "é" is two bytes; a 3-byte suffix of "aéé" must not start inside the first "é".
  EXPECT_EQ(tc::utf8_suffix("a\xc3\xa9\xc3\xa9", 3), "\xc3\xa9");
  EXPECT_EQ(tc::utf8_suffix("abc", 10), "abc");
}
