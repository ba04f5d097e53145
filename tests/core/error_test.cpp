#include "tsunagu/core/error.hpp"

#include <gtest/gtest.h>

#include <string>
#include <type_traits>

namespace {

using tsunagu::ParseError;

TEST(ParseError, WhatReadsFileLineColumnMessage) {
  const ParseError e("data.csv", 12, "band_gap", "non-numeric value 'abc'");
  EXPECT_STREQ(e.what(), "data.csv:12: column 'band_gap': non-numeric value 'abc'");
}

TEST(ParseError, LineZeroIsOmitted) {
  const ParseError e("data.csv", 0, "x", "missing value");
  EXPECT_STREQ(e.what(), "data.csv: column 'x': missing value");
}

TEST(ParseError, EmptyColumnIsOmitted) {
  const ParseError e("data.csv", 3, "", "row has 3 fields, header has 4");
  EXPECT_STREQ(e.what(), "data.csv:3: row has 3 fields, header has 4");
}

TEST(ParseError, LineZeroAndEmptyColumnGiveFileAndMessageOnly) {
  const ParseError e("cfg.json", 0, "", "invalid JSON");
  EXPECT_STREQ(e.what(), "cfg.json: invalid JSON");
}

TEST(ParseError, AccessorsReturnTheParts) {
  const ParseError e("f.csv", 7, "y", "missing value");
  EXPECT_EQ(e.file(), "f.csv");
  EXPECT_EQ(e.line(), 7u);
  EXPECT_EQ(e.column(), "y");
  EXPECT_EQ(e.message(), "missing value");
}

TEST(ErrorHierarchy, EverySubclassIsCaughtAsTsunaguError) {
  auto caught = [](auto&& thrower) {
    try {
      thrower();
    } catch (const tsunagu::Error&) {
      return true;
    } catch (...) {
      return false;
    }
    return false;
  };
  EXPECT_TRUE(caught([] { throw tsunagu::InvalidArgument("a"); }));
  EXPECT_TRUE(caught([] { throw tsunagu::ParseError("f", 1, "c", "m"); }));
  EXPECT_TRUE(caught([] { throw tsunagu::IoError("io"); }));
  EXPECT_TRUE(caught([] { throw tsunagu::NumericalError("num"); }));
  EXPECT_TRUE((std::is_base_of_v<std::runtime_error, tsunagu::Error>));
}

}  // namespace
