#include "tsunagu/core/table.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <random>
#include <string>

#include "temp_dir.hpp"
#include "tsunagu/core/error.hpp"
#include "tsunagu/core/io.hpp"

namespace {

namespace fs = std::filesystem;
using namespace tsunagu::core;
using tsunagu::InvalidArgument;
using tsunagu::ParseError;

using TempDir = tsunagu::test::TempDir;

/// Runs `f`, expects a ParseError and returns it (so that tests can check every part of it).
template <class F>
ParseError expect_parse_error(F&& f) {
  try {
    f();
  } catch (const ParseError& e) {
    return e;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected ParseError, got: " << e.what();
    return ParseError("", 0, "", "");
  }
  ADD_FAILURE() << "expected ParseError, nothing thrown";
  return ParseError("", 0, "", "");
}

template <class F>
std::string expect_invalid_argument(F&& f) {
  try {
    f();
  } catch (const InvalidArgument& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected InvalidArgument, got: " << e.what();
    return {};
  }
  ADD_FAILURE() << "expected InvalidArgument, nothing thrown";
  return {};
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// ------------------------------------------------------------------------------------------------ parsing

TEST(ParseCsv, HeaderRowsAndPhysicalLineNumbers) {
  const Table t = parse_csv("a,b\n1,2\n3,4\n", "f.csv");
  EXPECT_EQ(t.source, "f.csv");
  ASSERT_EQ(t.columns, (std::vector<std::string>{"a", "b"}));
  ASSERT_EQ(t.n_rows(), 2u);
  EXPECT_EQ(t.n_cols(), 2u);
  EXPECT_EQ(t.rows[1], (std::vector<std::string>{"3", "4"}));
  EXPECT_EQ(t.line_numbers, (std::vector<std::size_t>{2, 3}));
}

TEST(ParseCsv, DefaultSourceIsStringPlaceholder) { EXPECT_EQ(parse_csv("a\n1\n").source, "<string>"); }

TEST(ParseCsv, QuotedFieldsWithEscapedQuotesDelimitersAndNewlines) {
  const Table t = parse_csv("name,note\n\"Fe, alpha\",\"he said \"\"hi\"\"\"\n\"multi\nline\",x\nlast,\"\"\n", "q.csv");
  ASSERT_EQ(t.n_rows(), 3u);
  EXPECT_EQ(t.rows[0][0], "Fe, alpha");
  EXPECT_EQ(t.rows[0][1], "he said \"hi\"");
  EXPECT_EQ(t.rows[1][0], "multi\nline");
  EXPECT_EQ(t.rows[2][1], "");
  // the record with an embedded newline starts on line 3; the next one on line 5
  EXPECT_EQ(t.line_numbers, (std::vector<std::size_t>{2, 3, 5}));
}

TEST(ParseCsv, CrlfLineEndingsIncludingInsideQuotes) {
  const Table t = parse_csv("a,b\r\n1,2\r\n\"x\r\ny\",3\r\n", "crlf.csv");
  ASSERT_EQ(t.n_rows(), 2u);
  EXPECT_EQ(t.rows[0][1], "2");
  EXPECT_EQ(t.rows[1][0], "x\ny");
  EXPECT_EQ(t.rows[1][1], "3");
  EXPECT_EQ(t.line_numbers, (std::vector<std::size_t>{2, 3}));
}

TEST(ParseCsv, Utf8BomIsStripped) {
  const Table t = parse_csv("\xEF\xBB\xBFid,value\n1,2\n");
  EXPECT_EQ(t.columns[0], "id");
  EXPECT_TRUE(t.has_column("id"));
}

TEST(ParseCsv, CommentAndBlankLinesAreSkippedButCounted) {
  const Table t = parse_csv("# produced by a script\n\n  # indented comment\na,b\n1,2\n   \n\t\n3,4\n", "c.csv");
  ASSERT_EQ(t.columns, (std::vector<std::string>{"a", "b"}));
  ASSERT_EQ(t.n_rows(), 2u);
  EXPECT_EQ(t.line_numbers, (std::vector<std::size_t>{5, 8}));
}

TEST(ParseCsv, HashRowAfterTheHeaderIsDataNotAComment) {
  // A sample called "#12" must not vanish: comments are recognised only before the header.
  const Table t = parse_csv("id,y\n#12,3\nA7,4\n", "h.csv");
  ASSERT_EQ(t.n_rows(), 2u);
  EXPECT_EQ(t.rows[0][0], "#12");
}

TEST(ParseCsv, HashInsideARowIsData) {
  const Table t = parse_csv("a,b\nx,#1\n");
  EXPECT_EQ(t.rows[0][1], "#1");
}

TEST(ParseCsv, CommentDisabledKeepsHashRows) {
  CsvOptions opt;
  opt.comment = '\0';
  const Table t = parse_csv("a\n#1\n", "<string>", opt);
  ASSERT_EQ(t.n_rows(), 1u);
  EXPECT_EQ(t.rows[0][0], "#1");
}

TEST(ParseCsv, CellsTrimmedOutsideQuotesOnly) {
  const Table t = parse_csv("  a \t,\tb\n  1 , \" padded \" \n");
  EXPECT_EQ(t.columns, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(t.rows[0][0], "1");
  EXPECT_EQ(t.rows[0][1], " padded ");
}

TEST(ParseCsv, TabDelimiterKeepsEmptyFields) {
  CsvOptions opt;
  opt.delimiter = '\t';
  const Table t = parse_csv("a\tb\tc\n1\t\t3\n", "t.tsv", opt);
  EXPECT_EQ(t.rows[0], (std::vector<std::string>{"1", "", "3"}));
}

TEST(ParseCsv, LastLineWithoutNewline) {
  const Table t = parse_csv("a,b\n1,2");
  ASSERT_EQ(t.n_rows(), 1u);
  EXPECT_EQ(t.rows[0][1], "2");
}

TEST(ParseCsv, TrailingEmptyFieldCounts) {
  const Table t = parse_csv("a,b\n1,\n");
  EXPECT_EQ(t.rows[0], (std::vector<std::string>{"1", ""}));
}

TEST(ParseCsv, EmptyInputSaysEmptyFileAndNamesSource) {
  for (const char* text : {"", "\n\n", "# only a comment\n", "\xEF\xBB\xBF"}) {
    const ParseError e = expect_parse_error([&] { parse_csv(text, "empty.csv"); });
    EXPECT_EQ(e.file(), "empty.csv");
    EXPECT_STREQ(e.what(), "empty.csv: empty file: no header") << "input: " << text;
  }
}

TEST(ParseCsv, EmptyHeaderNameNamesItsPosition) {
  const ParseError e = expect_parse_error([] { parse_csv("# c\na,,c\n1,2,3\n", "h.csv"); });
  EXPECT_EQ(e.line(), 2u);
  EXPECT_TRUE(contains(e.what(), "h.csv:2: ")) << e.what();
  EXPECT_TRUE(contains(e.what(), "empty column name")) << e.what();
  EXPECT_TRUE(contains(e.what(), "column 2 of 3")) << e.what();
}

TEST(ParseCsv, DuplicateHeaderNameNamesIt) {
  const ParseError e = expect_parse_error([] { parse_csv("x,y,x\n1,2,3\n", "d.csv"); });
  EXPECT_EQ(e.line(), 1u);
  EXPECT_TRUE(contains(e.what(), "d.csv:1: ")) << e.what();
  EXPECT_TRUE(contains(e.what(), "duplicate column name 'x'")) << e.what();
  EXPECT_TRUE(contains(e.what(), "columns 1 and 3")) << e.what();
}

TEST(ParseCsv, DuplicateAfterTrimmingIsDetected) { EXPECT_THROW(parse_csv("a, a\n1,2\n"), ParseError); }

TEST(ParseCsv, RaggedRowNamesFileAndLine) {
  const ParseError e = expect_parse_error([] { parse_csv("a,b,c,d\n1,2,3,4\n\n1,2,3\n", "r.csv"); });
  EXPECT_EQ(e.file(), "r.csv");
  EXPECT_EQ(e.line(), 4u);
  EXPECT_STREQ(e.what(), "r.csv:4: row has 3 fields, header has 4");
}

TEST(ParseCsv, RowWithTooManyFieldsIsRagged) {
  const ParseError e = expect_parse_error([] { parse_csv("a,b\n1,2,3\n", "r.csv"); });
  EXPECT_STREQ(e.what(), "r.csv:2: row has 3 fields, header has 2");
}

TEST(ParseCsv, UnterminatedQuoteNamesLineAndColumnWhereItOpened) {
  const ParseError e = expect_parse_error([] { parse_csv("a,b\n1,2\n3,\"open\n4,5\n", "u.csv"); });
  EXPECT_EQ(e.line(), 3u);
  EXPECT_EQ(e.column(), "b");
  EXPECT_TRUE(contains(e.what(), "u.csv:3: column 'b': unterminated quote")) << e.what();
}

TEST(ParseCsv, TextAfterClosingQuoteIsRejected) {
  const ParseError e = expect_parse_error([] { parse_csv("a,b\n\"x\"y,1\n", "t.csv"); });
  EXPECT_EQ(e.line(), 2u);
  EXPECT_EQ(e.column(), "a");
  EXPECT_TRUE(contains(e.what(), "after closing quote")) << e.what();
}

TEST(ParseCsv, HeaderOnlyHasNoDataRows) {
  for (const char* text : {"a,b\n", "# comment\na,b\n\n  \n"}) {
    const ParseError e = expect_parse_error([&] { parse_csv(text, "n.csv"); });
    const std::size_t header_line = text[0] == '#' ? 2u : 1u;
    EXPECT_EQ(e.line(), header_line);
    EXPECT_EQ(std::string(e.what()), "n.csv:" + std::to_string(header_line) + ": no data rows");
  }
}

TEST(CsvOptions, ValidateRejectsUnusableDelimiters) {
  for (char d : {'"', '\n', '\r'}) {
    CsvOptions o;
    o.delimiter = d;
    EXPECT_THROW(o.validate(), InvalidArgument) << int(d);
    EXPECT_THROW(parse_csv("a\n1\n", "x", o), InvalidArgument);
  }
  CsvOptions same;
  same.delimiter = ';';
  same.comment = ';';
  EXPECT_THROW(same.validate(), InvalidArgument);
  CsvOptions ok;
  ok.delimiter = ';';
  EXPECT_NO_THROW(ok.validate());
  EXPECT_EQ(parse_csv("a;b\n1;2\n", "s", ok).rows[0][1], "2");
}

// ------------------------------------------------------------------------------------------------ columns

TEST(Table, ColumnIndexOfMissingColumnListsAvailableColumns) {
  const Table t = parse_csv("a,b,c\n1,2,3\n", "f.csv");
  EXPECT_EQ(t.column_index("c"), 2u);
  EXPECT_TRUE(t.has_column("b"));
  EXPECT_FALSE(t.has_column("x"));
  const std::string msg = expect_invalid_argument([&] { (void)t.column_index("x"); });
  EXPECT_EQ(msg, "f.csv: no column 'x' (columns: a, b, c)");
}

TEST(Table, TextColumnReturnsCellsInRowOrder) {
  const Table t = parse_csv("id,v\nA,1\nB,2\n");
  EXPECT_EQ(t.text_column("id"), (std::vector<std::string>{"A", "B"}));
  EXPECT_THROW((void)t.text_column("nope"), InvalidArgument);
}

// ------------------------------------------------------------------------------------------------ numeric

TEST(TableNumeric, ParsesSignsExponentsAndLeadingPlus) {
  const Table t = parse_csv("v\n+1e3\n-2.5\n.5\n1E-3\n0\n+0.25\n-0\n");
  const NumericData d = t.numeric({"v"});
  ASSERT_EQ(d.values.rows(), 7);
  EXPECT_EQ(d.values(0, 0), 1000.0);
  EXPECT_EQ(d.values(1, 0), -2.5);
  EXPECT_EQ(d.values(2, 0), 0.5);
  EXPECT_EQ(d.values(3, 0), 1e-3);
  EXPECT_EQ(d.values(4, 0), 0.0);
  EXPECT_EQ(d.values(5, 0), 0.25);
  EXPECT_TRUE(std::signbit(d.values(6, 0)));
  EXPECT_EQ(d.kept_rows.size(), 7u);
  EXPECT_EQ(d.dropped, 0u);
  EXPECT_EQ(d.columns, (std::vector<std::string>{"v"}));
}

TEST(TableNumeric, TrailingJunkIsRejectedWithFileLineAndColumn) {
  const Table t = parse_csv("a,b\n1,2\n3,1.2abc\n", "j.csv");
  const ParseError e = expect_parse_error([&] { (void)t.numeric({"a", "b"}); });
  EXPECT_EQ(e.line(), 3u);
  EXPECT_EQ(e.column(), "b");
  EXPECT_STREQ(e.what(), "j.csv:3: column 'b': non-numeric value '1.2abc'");
}

TEST(TableNumeric, NonNumericTextIsRejected) {
  for (const char* cell : {"abc", "1,5", "0x10", "++1", "+-1", "+", "-", "1e", "e5", "1 2"}) {
    CsvOptions opt;
    opt.delimiter = ';';
    const Table t = parse_csv(std::string("x\n\"") + cell + "\"\n", "n.csv", opt);
    const ParseError e = expect_parse_error([&] { (void)t.numeric({"x"}); });
    EXPECT_TRUE(contains(e.what(), std::string("non-numeric value '") + cell + "'")) << e.what();
    EXPECT_EQ(e.line(), 2u);
  }
}

TEST(TableNumeric, InfinityLiteralsAreRejectedAsNonFinite) {
  for (const char* cell : {"inf", "-inf", "Infinity", "+INF", "-infinity"}) {
    const Table t = parse_csv(std::string("x\n") + cell + "\n", "i.csv");
    const ParseError e = expect_parse_error([&] { (void)t.numeric({"x"}); });
    EXPECT_EQ(std::string(e.what()), std::string("i.csv:2: column 'x': non-finite value '") + cell + "'");
  }
}

TEST(TableNumeric, OverflowIsRejectedUnderflowBecomesTiny) {
  const Table big = parse_csv("x\n1e999\n", "o.csv");
  const ParseError e = expect_parse_error([&] { (void)big.numeric({"x"}); });
  EXPECT_TRUE(contains(e.what(), "1e999")) << e.what();
  EXPECT_EQ(e.column(), "x");
  const Table tiny = parse_csv("x\n1e-400\n4.9e-324\n");
  const NumericData d = tiny.numeric({"x"});
  EXPECT_EQ(d.values(0, 0), 0.0);
  EXPECT_EQ(d.values(1, 0), std::numeric_limits<double>::denorm_min());
}

TEST(TableNumeric, MissingValueUnderErrorPolicyNamesFileLineAndColumn) {
  for (const char* cell : {"", "NA", "na", "NaN", "nan", "NAN", "null", "NULL", "N/A", "n/a"}) {
    const Table t = parse_csv(std::string("id,y\nA,1\nB,") + cell + "\n", "m.csv");
    const ParseError e = expect_parse_error([&] { (void)t.numeric({"y"}); });
    EXPECT_STREQ(e.what(), "m.csv:3: column 'y': missing value") << "cell: '" << cell << "'";
  }
}

TEST(TableNumeric, DropPolicyDropsRowsAndRecordsKeptRows) {
  const Table t = parse_csv("a,b,c\n1,2,x\nNA,3,y\n4,,z\n5,6,w\n", "d.csv");
  const NumericData d = t.numeric({"b", "a"}, MissingPolicy::Drop);
  ASSERT_EQ(d.values.rows(), 2);
  ASSERT_EQ(d.values.cols(), 2);
  EXPECT_EQ(d.values(0, 0), 2.0);  // column order as requested
  EXPECT_EQ(d.values(0, 1), 1.0);
  EXPECT_EQ(d.values(1, 0), 6.0);
  EXPECT_EQ(d.values(1, 1), 5.0);
  EXPECT_EQ(d.kept_rows, (std::vector<std::size_t>{0, 3}));
  EXPECT_EQ(d.dropped, 2u);
  EXPECT_EQ(d.columns, (std::vector<std::string>{"b", "a"}));
}

TEST(TableNumeric, DropPolicyStillRejectsJunk) {
  const Table t = parse_csv("a,b\nNA,abc\n", "d.csv");
  EXPECT_THROW((void)t.numeric({"a", "b"}, MissingPolicy::Drop), ParseError);
}

TEST(TableNumeric, DropPolicyCanDropEverything) {
  const Table t = parse_csv("a\nNA\n\"\"\n", "d.csv");
  const NumericData d = t.numeric({"a"}, MissingPolicy::Drop);
  EXPECT_EQ(d.values.rows(), 0);
  EXPECT_EQ(d.values.cols(), 1);
  EXPECT_EQ(d.dropped, 2u);
  EXPECT_TRUE(d.kept_rows.empty());
}

TEST(TableNumeric, NonexistentColumnThrowsInvalidArgumentListingColumns) {
  const Table t = parse_csv("a,b\n1,2\n", "f.csv");
  const std::string msg = expect_invalid_argument([&] { (void)t.numeric({"a", "zz"}); });
  EXPECT_EQ(msg, "f.csv: no column 'zz' (columns: a, b)");
}

TEST(TableNumeric, IgnoresNonNumericColumnsThatWereNotRequested) {
  const Table t = parse_csv("name,x\nfoo,1.5\nbar,2.5\n");
  const NumericData d = t.numeric({"x"});
  EXPECT_EQ(d.values(1, 0), 2.5);
}

// ------------------------------------------------------------------------------------------------ format_double

TEST(FormatDouble, ShortestRepresentations) {
  EXPECT_EQ(format_double(0.1), "0.1");
  EXPECT_EQ(format_double(100), "100");
  EXPECT_EQ(format_double(-2.5), "-2.5");
  EXPECT_EQ(format_double(1e300), "1e+300");
  EXPECT_EQ(format_double(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(format_double(0.0), "0");
}

TEST(FormatDouble, NonFiniteValues) {
  EXPECT_EQ(format_double(std::numeric_limits<double>::quiet_NaN()), "nan");
  EXPECT_EQ(format_double(-std::numeric_limits<double>::quiet_NaN()), "nan");
  EXPECT_EQ(format_double(std::numeric_limits<double>::infinity()), "inf");
  EXPECT_EQ(format_double(-std::numeric_limits<double>::infinity()), "-inf");
}

TEST(FormatDouble, RandomDoublesRoundTripBitwise) {
  std::mt19937_64 gen(12345);
  std::normal_distribution<double> normal(0.0, 1e3);
  for (int i = 0; i < 200000; ++i) {
    double v;
    if (i % 2 == 0) {
      v = std::bit_cast<double>(gen());  // any bit pattern: subnormals, huge and tiny exponents
      if (!std::isfinite(v)) continue;
    } else {
      v = normal(gen);
    }
    const std::string s = format_double(v);
    ASSERT_LE(s.size(), 24u) << s;
    double back = 0;
    const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), back);
    ASSERT_EQ(ec, std::errc()) << s;
    ASSERT_EQ(ptr, s.data() + s.size()) << s;
    ASSERT_EQ(std::bit_cast<std::uint64_t>(back), std::bit_cast<std::uint64_t>(v)) << s;
  }
}

TEST(FormatDouble, OutputIsAcceptedByTheNumericParser) {
  std::mt19937_64 gen(99);
  std::string csv = "v\n";
  std::vector<double> values;
  for (int i = 0; i < 2000; ++i) {
    const double v = std::bit_cast<double>(gen());
    if (!std::isfinite(v)) continue;
    values.push_back(v);
    csv += format_double(v) + "\n";
  }
  const NumericData d = parse_csv(csv).numeric({"v"});
  ASSERT_EQ(static_cast<std::size_t>(d.values.rows()), values.size());
  for (std::size_t i = 0; i < values.size(); ++i)
    ASSERT_EQ(std::bit_cast<std::uint64_t>(d.values(static_cast<Eigen::Index>(i), 0)),
              std::bit_cast<std::uint64_t>(values[i]));
}

// ------------------------------------------------------------------------------------------------ write_csv

TEST(WriteCsv, TextRoundTripQuotesWhatNeedsQuoting) {
  TempDir dir;
  const std::vector<std::string> cols = {"name", "note, with comma", "q"};
  const std::vector<std::vector<std::string>> rows = {
      {"plain", "a,b", "say \"hi\""},
      {"#not a comment", "line1\nline2", "  padded  "},
      {"", "cr\r\nlf", "\ttab"},
  };
  write_csv(dir / "t.csv", cols, rows);
  const Table t = read_csv(dir / "t.csv");
  EXPECT_EQ(t.columns, cols);
  ASSERT_EQ(t.n_rows(), 3u);
  EXPECT_EQ(t.rows[0], rows[0]);
  EXPECT_EQ(t.rows[1], rows[1]);
  EXPECT_EQ(t.rows[2][0], "");
  EXPECT_EQ(t.rows[2][1], "cr\nlf");  // line breaks inside quotes are normalised to LF
  EXPECT_EQ(t.rows[2][2], "\ttab");
  EXPECT_EQ(read_file(dir / "t.csv").substr(0, 31), "name,\"note, with comma\",q\nplain");
}

TEST(WriteCsv, SingleColumnEmptyCellSurvivesRoundTrip) {
  TempDir dir;
  write_csv(dir / "s.csv", {"x"}, {{"a"}, {""}, {"b"}});
  const Table t = read_csv(dir / "s.csv");
  ASSERT_EQ(t.n_rows(), 3u);
  EXPECT_EQ(t.rows[1][0], "");
}

TEST(WriteCsv, NumericRoundTripIsBitwiseExact) {
  TempDir dir;
  std::mt19937_64 gen(3);
  std::normal_distribution<double> normal;
  Eigen::MatrixXd m(50, 3);
  for (Eigen::Index i = 0; i < m.rows(); ++i)
    for (Eigen::Index j = 0; j < m.cols(); ++j)
      m(i, j) = normal(gen) * std::pow(10.0, static_cast<double>(i % 40) - 20);
  m(0, 0) = 0.1;
  m(1, 1) = -0.0;
  write_csv(dir / "m.csv", {"a", "b", "c"}, m);
  const NumericData d = read_csv(dir / "m.csv").numeric({"a", "b", "c"});
  ASSERT_EQ(d.values.rows(), m.rows());
  for (Eigen::Index i = 0; i < m.rows(); ++i)
    for (Eigen::Index j = 0; j < m.cols(); ++j)
      ASSERT_EQ(std::bit_cast<std::uint64_t>(d.values(i, j)), std::bit_cast<std::uint64_t>(m(i, j)));
  EXPECT_EQ(read_file(dir / "m.csv").substr(0, 10), "a,b,c\n0.1,");
}

TEST(WriteCsv, NumericNanIsWrittenAsMissing) {
  TempDir dir;
  Eigen::MatrixXd m(2, 1);
  m << 1.0, std::nan("");
  write_csv(dir / "n.csv", {"x"}, m);
  EXPECT_EQ(read_file(dir / "n.csv"), "x\n1\nnan\n");
  const NumericData d = read_csv(dir / "n.csv").numeric({"x"}, MissingPolicy::Drop);
  EXPECT_EQ(d.dropped, 1u);
}

TEST(WriteCsv, NumericShapeMismatchThrowsAndWritesNothing) {
  TempDir dir;
  const std::string msg = expect_invalid_argument([&] {
    write_csv(dir / "bad.csv", {"a", "b"}, Eigen::MatrixXd(2, 3));
  });
  EXPECT_TRUE(contains(msg, "bad.csv")) << msg;
  EXPECT_TRUE(contains(msg, "2 column names")) << msg;
  EXPECT_TRUE(contains(msg, "3 columns")) << msg;
  EXPECT_FALSE(fs::exists(dir / "bad.csv"));
}

TEST(WriteCsv, TextRowLengthMismatchThrows) {
  TempDir dir;
  const std::string msg = expect_invalid_argument([&] { write_csv(dir / "bad.csv", {"a", "b"}, {{"1", "2"}, {"3"}}); });
  EXPECT_TRUE(contains(msg, "row 2 has 1 cells, header has 2")) << msg;
  EXPECT_FALSE(fs::exists(dir / "bad.csv"));
}

TEST(WriteCsv, RejectsHeadersThatCouldNotBeReadBack) {
  TempDir dir;
  EXPECT_THROW(write_csv(dir / "x.csv", {"a", "a"}, {{"1", "2"}}), InvalidArgument);
  EXPECT_THROW(write_csv(dir / "x.csv", {"a", ""}, {{"1", "2"}}), InvalidArgument);
  EXPECT_THROW(write_csv(dir / "x.csv", std::vector<std::string>{}, std::vector<std::vector<std::string>>{}),
               InvalidArgument);
}

TEST(WriteCsv, IntoMissingDirectoryThrowsIoError) {
  TempDir dir;
  EXPECT_THROW(write_csv(dir / "missing/x.csv", {"a"}, {{"1"}}), tsunagu::IoError);
}

TEST(ReadCsv, MissingFileThrowsIoError) {
  TempDir dir;
  EXPECT_THROW((void)read_csv(dir / "none.csv"), tsunagu::IoError);
}

TEST(ReadCsv, ErrorsNameThePath) {
  TempDir dir;
  const fs::path p = dir / "bad.csv";
  write_file_atomic(p, std::string_view("a,b\n1\n"));
  const ParseError e = expect_parse_error([&] { (void)read_csv(p); });
  EXPECT_EQ(e.file(), p.string());
  EXPECT_EQ(std::string(e.what()), p.string() + ":2: row has 1 field, header has 2");
}

}  // namespace
