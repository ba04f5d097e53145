// Tests of read_xy, read_spectra and describe (src/spectra/readers.cpp).
//
// Truth: the CSV files in ../shared/data/xps were read independently with numpy.loadtxt by
// tests/spectra/data/vamas_check.py (row count, first/last rows, sum of counts); the small inline files below
// state their own values.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <string>
#include <unistd.h>
#include <vector>

#include "tsunagu/core/error.hpp"
#include "tsunagu/spectra/readers.hpp"

namespace fs = std::filesystem;
using tsunagu::IoError;
using tsunagu::ParseError;
using tsunagu::spectra::describe;
using tsunagu::spectra::EnergyScale;
using tsunagu::spectra::read_spectra;
using tsunagu::spectra::read_xy;
using tsunagu::spectra::Spectrum;
using tsunagu::spectra::XyOptions;

namespace {

const fs::path kData = fs::path(TSUNAGU_SOURCE_DIR) / "tests/spectra/data";
const fs::path kShared = fs::path(TSUNAGU_SHARED_DIR) / "data/xps";

class ReadersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tsunagu_readers_test_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  fs::path write(const std::string& name, const std::string& text) const {
    const fs::path p = dir_ / name;
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
  // Expects read_xy(text) to fail on `line` (and `column`, when given) with `needle` in a one-line message.
  void expect_error(const std::string& text, std::size_t line, const std::string& column, const std::string& needle) {
    const fs::path f = write("bad.csv", text);
    try {
      read_xy(f);
      ADD_FAILURE() << "no ParseError for:\n" << text;
    } catch (const ParseError& e) {
      const std::string what = e.what();
      EXPECT_EQ(e.file(), f.string()) << what;
      EXPECT_EQ(e.line(), line) << what;
      EXPECT_EQ(e.column(), column) << what;
      EXPECT_NE(what.find(needle), std::string::npos) << "'" << needle << "' not in: " << what;
      EXPECT_EQ(what.find('\n'), std::string::npos) << what;
      EXPECT_EQ(what.rfind(f.string(), 0), 0u) << what;
    }
  }
  fs::path dir_;
};

std::string md(const Spectrum& s, const std::string& key) {
  const auto it = s.metadata.find(key);
  return it == s.metadata.end() ? std::string("<absent>") : it->second;
}

double sum(const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0); }

#define SKIP_WITHOUT(path) \
  if (!fs::exists(path)) GTEST_SKIP() << (path).string() << " is absent (shared reference data not installed)"

}  // namespace

// ---------------------------------------------------------------------------------------------- real files

struct CsvTruth {
  const char* file;
  const char* name;
  std::size_t n;
  double e0, e1, c0, c1, csum;
};

class SharedCsv : public ::testing::TestWithParam<CsvTruth> {};

TEST_P(SharedCsv, LoadsAsOneDescendingBindingSpectrumMatchingNumpyLoadtxt) {
  const CsvTruth t = GetParam();
  const fs::path f = kShared / t.file;
  SKIP_WITHOUT(f);
  const auto all = read_spectra(f);
  ASSERT_EQ(all.size(), 1u);
  const Spectrum& s = all[0];
  EXPECT_EQ(s.name, t.name);
  ASSERT_EQ(s.size(), t.n);
  EXPECT_EQ(s.scale, EnergyScale::Binding);  // header "BE/eV"
  EXPECT_EQ(md(s, "scale_from"), "header 'BE/eV'");
  EXPECT_DOUBLE_EQ(s.energy.front(), t.e0);
  EXPECT_DOUBLE_EQ(s.energy.back(), t.e1);
  EXPECT_DOUBLE_EQ(s.counts.front(), t.c0);
  EXPECT_DOUBLE_EQ(s.counts.back(), t.c1);
  EXPECT_NEAR(sum(s.counts), t.csum, 1e-9 * t.csum);
  EXPECT_TRUE(std::isnan(s.photon_energy));
  EXPECT_EQ(md(s, "format"), "text");
  EXPECT_EQ(s.source, f.string());
}

INSTANTIATE_TEST_SUITE_P(
    Xps, SharedCsv,
    ::testing::Values(CsvTruth{"C1s_sample.csv", "InC1s_sample", 351, 301.5, 266.5, 1709, 393, 570935.0},
                      CsvTruth{"O1s_sample.csv", "In111216_0459", 126, 546, 521, 8.30239, 5.485799, 866.006008},
                      CsvTruth{"PET_C1s.csv", "InPET_C1s", 401, 299.300817131996, 279.300817131996, 324.2826,
                               117.8262, 226242.9118}),
    [](const ::testing::TestParamInfo<CsvTruth>& i) {
      std::string n = i.param.file;
      return n.substr(0, n.find('.'));
    });

TEST(SharedXps, EveryCompleteFileLoadsThroughReadSpectraAndTheFragmentsFailWithALine) {
  SKIP_WITHOUT(kShared);
  // Complete files: VAMAS FeO_analyzed/regular/irregular (1 block each), CSVs (1 spectrum each). The other .vms
  // files are vendor comment-block fragments (casa_header is the truncated one) -> ParseError on line 1.
  std::size_t seen = 0;
  for (const auto& entry : fs::directory_iterator(kShared)) {
    const std::string name = entry.path().filename().string();
    const bool fragment = name == "casa_header.vms" || name == "kratos.vms" || name == "phi.vms" ||
                          name == "specs_block.vms";
    if (fragment) {
      try {
        read_spectra(entry.path());
        ADD_FAILURE() << name << " was accepted";
      } catch (const ParseError& e) {
        EXPECT_EQ(e.line(), 1u) << e.what();
      }
      continue;
    }
    const auto all = read_spectra(entry.path());
    EXPECT_EQ(all.size(), 1u) << name;
    ++seen;
  }
  EXPECT_EQ(seen, 6u);
}

TEST(SharedXps, DescribeFeOAnalyzedGivesRangeStepAndPhotonEnergy) {
  const fs::path f = kShared / "FeO_analyzed.vms";
  SKIP_WITHOUT(f);
  const auto j = describe(read_spectra(f));
  ASSERT_EQ(j["blocks"].size(), 1u);
  const auto& b = j["blocks"][0];
  EXPECT_EQ(b["name"], "Fe 2p");
  EXPECT_EQ(b["points"], 1121);
  EXPECT_DOUBLE_EQ(b["energy_min"].get<double>(), 736.61);
  EXPECT_DOUBLE_EQ(b["energy_max"].get<double>(), 792.61);
  EXPECT_NEAR(b["step"].get<double>(), 0.05, 1e-9);  // an IRREGULAR file whose points are evenly spaced
  EXPECT_EQ(b["scale"], "kinetic");
  EXPECT_DOUBLE_EQ(b["photon_energy"].get<double>(), 1486.61);
  EXPECT_EQ(b["metadata"]["source_label"], "Al");
  EXPECT_EQ(b["metadata"]["casa.components"], "4");
}

// ---------------------------------------------------------------------------------------------- layouts

TEST_F(ReadersTest, ThreeColumnsWithCommentsGiveTwoSpectraNamedByTheHeader) {
  const auto f = write("three.csv",
                       "# exported by hand\n# second comment\nBinding Energy (eV),C 1s raw,C 1s fit\n"
                       "290.0,10,11\n289.5,20,19\n289.0,15,16\n");
  const auto all = read_xy(f);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].name, "C 1s raw");
  EXPECT_EQ(all[1].name, "C 1s fit");
  for (const auto& s : all) {
    EXPECT_EQ(s.energy, (std::vector<double>{290.0, 289.5, 289.0}));
    EXPECT_EQ(s.scale, EnergyScale::Binding);
    EXPECT_EQ(md(s, "energy_label"), "Binding Energy (eV)");
  }
  EXPECT_EQ(all[0].counts, (std::vector<double>{10, 20, 15}));
  EXPECT_EQ(all[1].counts, (std::vector<double>{11, 19, 16}));
  EXPECT_EQ(md(all[1], "first_data_line"), "4");
}

TEST_F(ReadersTest, SemicolonWithDecimalCommaAndKeHeaderIsKinetic) {
  const auto all = read_xy(write("semi.csv", "KE;Counts\n1200,5;100\n1201,0;120\n1201,5;90\n"));
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].energy, (std::vector<double>{1200.5, 1201.0, 1201.5}));
  EXPECT_EQ(all[0].counts, (std::vector<double>{100, 120, 90}));
  EXPECT_EQ(all[0].scale, EnergyScale::Kinetic);
  EXPECT_EQ(all[0].name, "Counts");
}

TEST_F(ReadersTest, WhitespaceColumnsWithoutHeaderTakeTheFileStemAndTheScaleFromAComment) {
  const auto all = read_xy(write("ws.txt", "# kinetic energy scan, counts per second\n  1000.0   12\n"
                                            "  1000.5\t15\n\n  1001.0   11  \n"));
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].name, "ws");
  EXPECT_EQ(all[0].energy, (std::vector<double>{1000.0, 1000.5, 1001.0}));
  EXPECT_EQ(all[0].counts, (std::vector<double>{12, 15, 11}));
  EXPECT_EQ(all[0].scale, EnergyScale::Kinetic);
}

TEST_F(ReadersTest, TabSeparatedQuotedHeaderCrlfAndBom) {
  const auto all = read_xy(write("tab.tsv", "\xEF\xBB\xBF\"BE\"\t\"Intensity\"\r\n284.0\t5\r\n285.0\t7\r\n"));
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].name, "Intensity");
  EXPECT_EQ(all[0].energy, (std::vector<double>{284.0, 285.0}));
  EXPECT_EQ(all[0].counts, (std::vector<double>{5, 7}));
  EXPECT_EQ(all[0].scale, EnergyScale::Binding);
}

TEST_F(ReadersTest, NoHeaderNoHintIsBindingByDefaultAndExtraColumnsAreNumbered) {
  const auto all = read_xy(write("plain.dat", "1,2,3\n2,3,4\n"));
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].scale, EnergyScale::Binding);
  EXPECT_EQ(md(all[0], "scale_from"), "default (binding)");
  EXPECT_EQ(all[0].name, "plain column 2");
  EXPECT_EQ(all[1].name, "plain column 3");
}

TEST_F(ReadersTest, OptionsOverrideTheHeaderScaleAndSetThePhotonEnergy) {
  XyOptions o;
  o.scale = EnergyScale::Kinetic;
  o.photon_energy = 1486.6;
  const auto all = read_spectra(write("be.csv", "BE/eV,I\n1,2\n2,3\n"), o);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].scale, EnergyScale::Kinetic);
  EXPECT_DOUBLE_EQ(all[0].photon_energy, 1486.6);
  EXPECT_EQ(md(all[0], "scale_from"), "option");
}

// ---------------------------------------------------------------------------------------------- errors

TEST_F(ReadersTest, NonNumericValueNamesLineAndColumn) {
  expect_error("BE,counts\n285.0,10\n284.9,1O\n", 3, "counts", "non-numeric value '1O'");
}

TEST_F(ReadersTest, WithoutHeaderTheColumnIsNamedByItsNumber) {
  expect_error("285,10\n284,abc\n", 2, "2", "non-numeric value 'abc'");
}

TEST_F(ReadersTest, BadFirstValueRightAfterTheHeaderIsNotTakenForAHeader) {
  expect_error("BE,c\n28S.0,10\n284,11\n", 2, "1", "non-numeric value '28S.0'");
}

TEST_F(ReadersTest, NanCountIsANonFiniteValue) { expect_error("BE,c\n285,10\n284,nan\n", 3, "c", "non-finite value 'nan'"); }

TEST_F(ReadersTest, NegativeCountIsRejected) { expect_error("BE,c\n285,10\n284,-1\n", 3, "c", "negative count -1"); }

TEST_F(ReadersTest, RaggedRowNamesBothLines) {
  expect_error("BE,c\n285,10\n284,1,2\n", 3, "", "row has 3 fields, expected 2 as in the first data row (line 2)");
}

TEST_F(ReadersTest, NonMonotonicEnergyNamesThePreviousLine) {
  expect_error("BE,c\n285,1\n284,1\n284.5,1\n", 4, "BE",
               "energy 284.5 breaks the descending energy axis (previous 284 on line 3)");
}

TEST_F(ReadersTest, DuplicatedEnergyIsRejected) { expect_error("BE,c\n285,1\n285,1\n", 3, "BE", "energy 285 repeats line 2"); }

TEST_F(ReadersTest, EmptyFieldIsAMissingValue) { expect_error("BE,c\n285,\n284,1\n", 2, "c", "missing value"); }

TEST_F(ReadersTest, OneRowIsTooFew) { expect_error("BE,c\n285,1\n", 2, "", "only 1 data row"); }

TEST_F(ReadersTest, HeaderOnlyHasNoDataRows) { expect_error("BE,c\n# nothing\n", 0, "", "no data rows"); }

TEST_F(ReadersTest, OneColumnIsNotASpectrum) { expect_error("BE\n285\n284\n", 2, "", "at least 2 columns"); }

TEST_F(ReadersTest, MissingFileAndDirectoryAreIoErrorsNamingThePath) {
  for (const fs::path& p : {dir_ / "absent.csv", dir_}) {
    try {
      read_spectra(p);
      ADD_FAILURE() << "no IoError for " << p;
    } catch (const IoError& e) {
      EXPECT_NE(std::string(e.what()).find(p.string()), std::string::npos) << e.what();
    }
  }
}

// ---------------------------------------------------------------------------------------------- describe

TEST(Describe, TinyVamasBlocksGiveRangesStepsScalesAndPhotonEnergies) {
  const auto j = describe(read_spectra(kData / "tiny_regular.vms"));
  ASSERT_EQ(j["blocks"].size(), 2u);
  const auto& a = j["blocks"][0];
  EXPECT_EQ(a["index"], 0);
  EXPECT_EQ(a["name"], "C 1s");
  EXPECT_EQ(a["points"], 5);
  EXPECT_DOUBLE_EQ(a["energy_min"].get<double>(), 1196.1);
  EXPECT_DOUBLE_EQ(a["energy_max"].get<double>(), 1198.1);
  EXPECT_NEAR(a["step"].get<double>(), 0.5, 1e-12);
  EXPECT_EQ(a["ascending"], true);
  EXPECT_EQ(a["scale"], "kinetic");
  EXPECT_DOUBLE_EQ(a["photon_energy"].get<double>(), 1486.6);
  EXPECT_DOUBLE_EQ(a["work_function"].get<double>(), 4.5);
  EXPECT_EQ(a["metadata"]["source_label"], "Al");
  EXPECT_EQ(a["metadata"]["technique"], "XPS");
  const auto& b = j["blocks"][1];
  EXPECT_EQ(b["scale"], "binding");
  EXPECT_EQ(b["ascending"], false);
  EXPECT_NEAR(b["step"].get<double>(), 1.0, 1e-12);
}

TEST(Describe, UnevenAxisHasNullStepAndUnknownPhotonEnergyIsNull) {
  auto all = read_spectra(kData / "tiny_irregular.vms");  // 775, 776.5, 777, 780
  EXPECT_TRUE(describe(all)["blocks"][0]["step"].is_null());
  all[0].photon_energy = std::nan("");
  EXPECT_TRUE(describe(all)["blocks"][0]["photon_energy"].is_null());
}
