#include "tsunagu/core/io.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>

#include "temp_dir.hpp"
#include "tsunagu/core/error.hpp"

namespace {

namespace fs = std::filesystem;
using namespace tsunagu::core;

using TempDir = tsunagu::test::TempDir;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::size_t count_entries(const fs::path& dir) {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++n;
  return n;
}

TEST(WriteFileAtomic, WritesContentAndLeavesNoTempFile) {
  TempDir dir;
  write_file_atomic(dir / "out.txt", std::string_view("hello\nworld\n"));
  EXPECT_EQ(slurp(dir / "out.txt"), "hello\nworld\n");
  EXPECT_EQ(count_entries(dir.path()), 1u);
}

TEST(WriteFileAtomic, ReplacesExistingFile) {
  TempDir dir;
  write_file_atomic(dir / "f", std::string_view("old content that is longer"));
  write_file_atomic(dir / "f", std::string_view("new"));
  EXPECT_EQ(slurp(dir / "f"), "new");
  EXPECT_EQ(count_entries(dir.path()), 1u);
}

TEST(WriteFileAtomic, ProducerExceptionKeepsPreviousContentAndRemovesTemp) {
  TempDir dir;
  write_file_atomic(dir / "f", std::string_view("previous"));
  EXPECT_THROW(write_file_atomic(dir / "f",
                                 [](std::ostream& out) {
                                   out << std::string(200000, 'x');  // more than one buffer: data reached the disk
                                   throw std::runtime_error("producer failed");
                                 }),
               std::runtime_error);
  EXPECT_EQ(slurp(dir / "f"), "previous");
  EXPECT_EQ(count_entries(dir.path()), 1u);
  EXPECT_FALSE(fs::exists(dir.path() / ("f.tmp." + std::to_string(::getpid()))));
}

TEST(WriteFileAtomic, ProducerExceptionWithoutPreviousFileLeavesNothing) {
  TempDir dir;
  EXPECT_THROW(write_file_atomic(dir / "new", [](std::ostream&) { throw std::logic_error("x"); }), std::logic_error);
  EXPECT_EQ(count_entries(dir.path()), 0u);
}

TEST(WriteFileAtomic, NonexistentDirectoryThrowsIoErrorNamingPath) {
  TempDir dir;
  const fs::path target = dir.path() / "no" / "such" / "dir" / "out.txt";
  try {
    write_file_atomic(target, std::string_view("x"));
    FAIL() << "expected IoError";
  } catch (const tsunagu::IoError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("cannot write '" + target.string() + "'"), std::string::npos) << what;
    EXPECT_NE(what.find("No such file or directory"), std::string::npos) << what;
  }
}

TEST(WriteFileAtomic, StreamVariantWritesLargeBinaryContentExactly) {
  TempDir dir;
  std::mt19937 gen(7);
  std::string data(3'000'000, '\0');
  for (auto& c : data) c = static_cast<char>(gen() & 0xff);
  write_file_atomic(dir / "big.bin", [&](std::ostream& out) {
    // mixed small and large writes exercise both buffer paths
    out.write(data.data(), 10);
    out << data[10];
    out.write(data.data() + 11, static_cast<std::streamsize>(data.size() - 11));
  });
  EXPECT_EQ(slurp(dir / "big.bin"), data);
  write_file_atomic(dir / "big2.bin", std::string_view(data));
  EXPECT_EQ(slurp(dir / "big2.bin"), data);
}

TEST(WriteFileAtomic, KeepsPermissionsOfReplacedFile) {
  TempDir dir;
  write_file_atomic(dir / "f", std::string_view("a"));
  fs::permissions(dir / "f", fs::perms::owner_read | fs::perms::owner_write);
  write_file_atomic(dir / "f", std::string_view("b"));
  EXPECT_EQ(fs::status(dir / "f").permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write);
}

TEST(WriteFileAtomic, EmptyContentCreatesEmptyFile) {
  TempDir dir;
  write_file_atomic(dir / "empty", std::string_view());
  EXPECT_TRUE(fs::exists(dir / "empty"));
  EXPECT_EQ(fs::file_size(dir / "empty"), 0u);
}

TEST(ReadFile, ReturnsExactBytes) {
  TempDir dir;
  const std::string content("a\0b\r\nc", 6);
  write_file_atomic(dir / "f", std::string_view(content));
  EXPECT_EQ(read_file(dir / "f"), content);
}

TEST(ReadFile, MissingFileThrowsIoErrorNamingPath) {
  TempDir dir;
  const fs::path p = dir / "missing.txt";
  try {
    (void)read_file(p);
    FAIL() << "expected IoError";
  } catch (const tsunagu::IoError& e) {
    EXPECT_NE(std::string(e.what()).find(p.string()), std::string::npos) << e.what();
  }
}

TEST(ReadFile, DirectoryThrowsIoError) {
  TempDir dir;
  EXPECT_THROW((void)read_file(dir.path()), tsunagu::IoError);
}

TEST(Json, RoundTripPreservesValues) {
  TempDir dir;
  const nlohmann::json value = {{"name", "Fe2O3 \"hematite\""},
                                {"gap", 2.1},
                                {"tiny", 1e-300},
                                {"list", {1, 2, 3}},
                                {"nested", {{"ok", true}, {"none", nullptr}}}};
  write_json(dir / "v.json", value);
  EXPECT_EQ(read_json(dir / "v.json"), value);
}

TEST(Json, TwoSpaceIndentAndTrailingNewline) {
  TempDir dir;
  write_json(dir / "v.json", nlohmann::json{{"a", 1}});
  EXPECT_EQ(slurp(dir / "v.json"), "{\n  \"a\": 1\n}\n");
}

TEST(Json, NonFiniteNumbersAreWrittenAsNull) {
  TempDir dir;
  write_json(dir / "v.json", nlohmann::json{{"nan", std::nan("")}, {"inf", std::numeric_limits<double>::infinity()}});
  const auto back = read_json(dir / "v.json");
  EXPECT_TRUE(back["nan"].is_null());
  EXPECT_TRUE(back["inf"].is_null());
}

TEST(Json, SyntaxErrorIsParseErrorWithFileAndBytePosition) {
  TempDir dir;
  const fs::path p = dir / "bad.json";
  write_file_atomic(p, std::string_view("{\n  \"a\": 1,\n  \"b\": }\n"));
  try {
    (void)read_json(p);
    FAIL() << "expected ParseError";
  } catch (const tsunagu::ParseError& e) {
    const std::string what = e.what();
    EXPECT_EQ(e.file(), p.string());
    EXPECT_EQ(e.line(), 0u);
    EXPECT_EQ(what.rfind(p.string() + ": invalid JSON", 0), 0u) << what;
    EXPECT_NE(what.find("byte 20"), std::string::npos) << what;
    EXPECT_NE(what.find("line 3"), std::string::npos) << what;
  }
}

TEST(Json, EmptyFileIsParseError) {
  TempDir dir;
  write_file_atomic(dir / "empty.json", std::string_view(""));
  EXPECT_THROW((void)read_json(dir / "empty.json"), tsunagu::ParseError);
}

TEST(Json, MissingFileIsIoError) {
  TempDir dir;
  EXPECT_THROW((void)read_json(dir / "nope.json"), tsunagu::IoError);
}

TEST(Json, InvalidUtf8StringThrowsInvalidArgumentAndWritesNothing) {
  TempDir dir;
  EXPECT_THROW(write_json(dir / "v.json", nlohmann::json{{"s", std::string("\xff\xfe")}}), tsunagu::InvalidArgument);
  EXPECT_FALSE(fs::exists(dir / "v.json"));
}

}  // namespace
