// Tests of read_vamas (src/spectra/vamas.cpp).
//
// Truth: the real files in ../shared/data/xps were read independently by tests/spectra/data/vamas_check.py (a
// hand-walk of the ISO 14976 items in Python/numpy); the numbers below are its output. The hand-made files
// tests/spectra/data/tiny_*.vms were written line by line for these tests (their values are stated where used);
// the malformed bad_*.vms are generated from them by tests/spectra/data/make_bad_vamas.py, one changed line each,
// so the line number every error must name is known.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

#include "tsunagu/core/error.hpp"
#include "tsunagu/spectra/readers.hpp"

namespace fs = std::filesystem;
using tsunagu::IoError;
using tsunagu::ParseError;
using tsunagu::spectra::EnergyScale;
using tsunagu::spectra::read_spectra;
using tsunagu::spectra::read_vamas;
using tsunagu::spectra::Spectrum;

namespace {

const fs::path kData = fs::path(TSUNAGU_SOURCE_DIR) / "tests/spectra/data";
const fs::path kShared = fs::path(TSUNAGU_SHARED_DIR) / "data/xps";

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string l;
  while (std::getline(in, l)) {
    if (!l.empty() && l.back() == '\r') l.pop_back();
    out.push_back(l);
  }
  return out;
}

class TempDir {
 public:
  TempDir() {
    path_ = fs::temp_directory_path() / ("tsunagu_vamas_test_" + std::to_string(::getpid()));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  fs::path write(const std::string& name, const std::string& text) const {
    const fs::path p = path_ / name;
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }

 private:
  fs::path path_;
};

std::string md(const Spectrum& s, const std::string& key) {
  const auto it = s.metadata.find(key);
  return it == s.metadata.end() ? std::string("<absent>") : it->second;
}

double sum(const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0); }

// Runs `f`, expects a ParseError on `line` whose one-line message contains `needle` and names the file.
template <class F>
void expect_parse_error(F&& f, const fs::path& file, std::size_t line, const std::string& needle) {
  try {
    f();
    ADD_FAILURE() << "no ParseError for " << file;
  } catch (const ParseError& e) {
    const std::string what = e.what();
    EXPECT_EQ(e.line(), line) << what;
    EXPECT_EQ(e.file(), file.string()) << what;
    EXPECT_EQ(what.rfind(file.string() + ":" + std::to_string(line) + ": ", 0), 0u) << what;
    EXPECT_NE(what.find(needle), std::string::npos) << "'" << needle << "' not in: " << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
  }
}

#define SKIP_WITHOUT(path) \
  if (!fs::exists(path)) GTEST_SKIP() << (path).string() << " is absent (shared reference data not installed)"

}  // namespace

// ---------------------------------------------------------------------------------------------- real files

TEST(VamasReal, FeOAnalyzedIsOneIrregularKineticFe2pBlockOf1121PointsWithAlKa1486_61) {
  const fs::path f = kShared / "FeO_analyzed.vms";
  SKIP_WITHOUT(f);
  const auto blocks = read_vamas(f);
  ASSERT_EQ(blocks.size(), 1u);
  const Spectrum& s = blocks[0];
  EXPECT_EQ(s.name, "Fe 2p");
  ASSERT_EQ(s.size(), 1121u);
  EXPECT_EQ(s.scale, EnergyScale::Kinetic);
  EXPECT_DOUBLE_EQ(s.photon_energy, 1486.61);
  EXPECT_DOUBLE_EQ(s.work_function, 0.0);  // the file writes 1e+037 = unknown
  EXPECT_DOUBLE_EQ(s.energy.front(), 736.61);
  EXPECT_DOUBLE_EQ(s.energy.back(), 792.61);
  EXPECT_DOUBLE_EQ(s.counts.front(), 12516.9);
  EXPECT_DOUBLE_EQ(s.counts.back(), 2884.3);
  EXPECT_NEAR(sum(s.counts), 13991176.77, 1e-6);
  EXPECT_EQ(md(s, "scan_mode"), "IRREGULAR");
  EXPECT_EQ(md(s, "technique"), "XPS");
  EXPECT_EQ(md(s, "source_label"), "Al");
  EXPECT_EQ(md(s, "abscissa_label"), "Kinetic Energy");
  EXPECT_EQ(md(s, "ordinate_label"), "Intensity");
  EXPECT_EQ(md(s, "ordinate_unit"), "d");
  EXPECT_EQ(md(s, "variable.3"), "transmission [d]");
  EXPECT_EQ(md(s, "scans"), "1");
  EXPECT_EQ(md(s, "param.PROPAGATION_CONVERGED"), "1");
  EXPECT_NE(md(s, "software").find("CasaXPS Version 2.3.25PR1.0"), std::string::npos);
  EXPECT_NE(md(s, "software").find("SpecsLab Prodigy, Version 4.54.1"), std::string::npos);
  EXPECT_NE(md(s, "block_comment").find("Sum of 2 spectra"), std::string::npos);
}

TEST(VamasReal, FeOAnalyzedCasaFitIsTougaardRegionWithFourComponentsAsWrittenInTheBlockComment) {
  const fs::path f = kShared / "FeO_analyzed.vms";
  SKIP_WITHOUT(f);
  const Spectrum s = read_vamas(f).at(0);
  // Values copied from the file's "CASA region" / "CASA comp" lines (kinetic energies, as CasaXPS stores them).
  EXPECT_EQ(md(s, "casa.regions"), "1");
  EXPECT_EQ(md(s, "casa.region.1.name"), "Fe 2p");
  EXPECT_EQ(md(s, "casa.region.1.background"), "U 3 Tougaard");
  EXPECT_EQ(md(s, "casa.region.1.start"), "737.52081");
  EXPECT_EQ(md(s, "casa.region.1.end"), "786.7632");
  EXPECT_EQ(md(s, "casa.region.1.background_params"), "335.44588 551 436 3");
  EXPECT_EQ(md(s, "casa.components"), "4");
  const char* shape[] = {"LF(0.54,10,80,100,6)", "SGL(30)", "LF(0.54,10,80,100,6)", "SGL(30)"};
  const char* area[] = {"63507.374", "35837.064", "49042.126", "17705.155"};
  const char* fwhm[] = {"3.8576238", "8", "4.8730051", "7.8295407"};
  const char* pos[] = {"777.56313", "770.61", "764.48234", "756.72212"};
  for (int i = 0; i < 4; ++i) {
    const std::string k = "casa.component." + std::to_string(i + 1);
    EXPECT_EQ(md(s, k + ".name"), "Fe 2p");
    EXPECT_EQ(md(s, k + ".lineshape"), shape[i]);
    EXPECT_EQ(md(s, k + ".area"), area[i]);
    EXPECT_EQ(md(s, k + ".fwhm"), fwhm[i]);
    EXPECT_EQ(md(s, k + ".position"), pos[i]);
    EXPECT_EQ(md(s, k).rfind("CASA comp (*Fe 2p*)", 0), 0u);
  }
}

TEST(VamasReal, RegularSurveyIs1351PointsFrom136_61To1486_61WithWorkFunction4_1082) {
  const fs::path f = kShared / "regular.vms";
  SKIP_WITHOUT(f);
  const auto blocks = read_vamas(f);
  ASSERT_EQ(blocks.size(), 1u);
  const Spectrum& s = blocks[0];
  EXPECT_EQ(s.name, "Survey");
  ASSERT_EQ(s.size(), 1351u);
  EXPECT_EQ(s.scale, EnergyScale::Kinetic);  // label "kinetic energy" (lower case in this file)
  EXPECT_DOUBLE_EQ(s.photon_energy, 1486.61);
  EXPECT_DOUBLE_EQ(s.work_function, 4.1082);
  EXPECT_DOUBLE_EQ(s.energy.front(), 136.61);
  EXPECT_NEAR(s.energy.back(), 1486.61, 1e-9);
  EXPECT_DOUBLE_EQ(s.counts.front(), 1559.87);
  EXPECT_DOUBLE_EQ(s.counts.back(), 18.1529);
  EXPECT_NEAR(sum(s.counts), 3188302.0896, 1e-6);
  EXPECT_EQ(md(s, "scan_mode"), "REGULAR");
  EXPECT_EQ(md(s, "date"), "2023-08-24 14:19:47");
  EXPECT_EQ(md(s, "dwell_time"), "0.1");
  EXPECT_EQ(md(s, "pass_energy"), "100");
  EXPECT_EQ(md(s, "analyser_mode"), "FAT");
  EXPECT_EQ(md(s, "ordinate_label"), "counts");
  EXPECT_EQ(md(s, "variable.2"), "Transmission [d]");
  EXPECT_EQ(md(s, "sample_id"), "1 as-loaded");
  // SPECS Prodigy "key = value" lines of the block comment.
  EXPECT_EQ(md(s, "comment.Analyzer lens"), "LargeArea:1.5kV");
  EXPECT_EQ(md(s, "comment.Scan mode"), "FixedAnalyzerTransmission");
  EXPECT_EQ(md(s, "comment.Kinetic energy start"), "136.61");
}

TEST(VamasReal, IrregularSurveyIsTheRegularOneInCountsPerSecond) {
  const fs::path f = kShared / "irregular.vms";
  const fs::path g = kShared / "regular.vms";
  SKIP_WITHOUT(f);
  SKIP_WITHOUT(g);
  const auto blocks = read_vamas(f);
  ASSERT_EQ(blocks.size(), 1u);
  const Spectrum& s = blocks[0];
  EXPECT_EQ(s.name, "Survey");
  EXPECT_EQ(md(s, "block_id"), "Counts per Second");
  ASSERT_EQ(s.size(), 1351u);
  EXPECT_EQ(s.scale, EnergyScale::Kinetic);
  EXPECT_DOUBLE_EQ(s.photon_energy, 1486.61);
  EXPECT_DOUBLE_EQ(s.energy.front(), 136.61);
  EXPECT_DOUBLE_EQ(s.energy.back(), 1486.61);
  EXPECT_DOUBLE_EQ(s.counts.front(), 15598.7);
  EXPECT_DOUBLE_EQ(s.counts.back(), 181.529);
  EXPECT_NEAR(sum(s.counts), 31883020.896, 1e-5);
  // Same acquisition exported twice: counts (regular.vms, 0.1 s dwell) x 10 = counts/s here, to the 6 digits
  // both files print; the axes agree point by point.
  const Spectrum r = read_vamas(g).at(0);
  ASSERT_EQ(r.size(), s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    EXPECT_NEAR(s.energy[i], r.energy[i], 1e-9);
    EXPECT_NEAR(s.counts[i], 10 * r.counts[i], 1e-5 * s.counts[i] + 1e-3) << i;
  }
}

TEST(VamasReal, CasaHeaderFragmentIsTruncatedAndAParseErrorOnLine1) {
  const fs::path f = kShared / "casa_header.vms";
  SKIP_WITHOUT(f);
  expect_parse_error([&] { read_vamas(f); }, f, 1, "expected the VAMAS format identifier");
  // read_spectra sends .vms files to the VAMAS reader, so the message is the VAMAS one, not a CSV complaint.
  expect_parse_error([&] { read_spectra(f); }, f, 1, "first lines are missing");
}

TEST(VamasReal, VendorCommentFragmentsAloneAreNotVamasFiles) {
  for (const char* name : {"kratos.vms", "phi.vms", "specs_block.vms"}) {
    const fs::path f = kShared / name;
    SKIP_WITHOUT(f);
    expect_parse_error([&] { read_vamas(f); }, f, 1, "not a VAMAS file");
  }
}

// The Kratos / PHI / SPECS / CasaXPS fragments are comment blocks ("N" then N lines) as those programs write them.
// Spliced into the hand-made file in place of its comments, they must parse and give their key/value pairs.
namespace {
std::string splice(const std::vector<std::string>& base, std::size_t first, std::size_t last,
                   const std::string& fragment) {
  std::string out;
  for (std::size_t i = 0; i + 1 < first; ++i) out += base[i] + "\n";
  for (const auto& l : lines_of(fragment)) out += l + "\n";
  for (std::size_t i = last; i < base.size(); ++i) out += base[i] + "\n";
  return out;
}
}  // namespace

TEST(VamasReal, VendorCommentBlocksGiveTheirKeyValuePairs) {
  for (const char* name : {"kratos.vms", "phi.vms", "specs_block.vms", "casa_header.vms"})
    SKIP_WITHOUT(kShared / name);
  const auto base = lines_of(slurp(kData / "tiny_regular.vms"));
  TempDir tmp;
  // Header comment = lines 6..8 of tiny_regular.vms, block-1 comment = lines 30..32.
  {
    const auto f = tmp.write("phi_header.vms", splice(base, 6, 8, slurp(kShared / "phi.vms")));
    const auto b = read_vamas(f);
    ASSERT_EQ(b.size(), 2u);
    EXPECT_EQ(md(b[0], "comment.AnalyserWorkFcn"), "4.506 eV");
    EXPECT_EQ(md(b[0], "comment.InstrumentModel"), "VersaProbe 4");
    EXPECT_NE(md(b[0], "software").find("SS 3.3.3.2"), std::string::npos);
    EXPECT_DOUBLE_EQ(b[0].work_function, 4.5);  // the block's own value wins
    EXPECT_DOUBLE_EQ(b[1].work_function, 4.506);  // block 2 writes 1e37 (unknown): PHI's header value is used
    EXPECT_EQ(md(b[1], "work_function_from"), "comment AnalyserWorkFcn");
  }
  {
    const auto f = tmp.write("casa_header.vms", splice(base, 6, 8, slurp(kShared / "casa_header.vms")));
    const auto b = read_vamas(f);
    EXPECT_EQ(md(b[0], "software"), "CasaXPS Version 2.3.25PR1.0");
  }
  {
    const auto f = tmp.write("kratos_block.vms", splice(base, 30, 32, slurp(kShared / "kratos.vms")));
    const auto b = read_vamas(f);
    EXPECT_EQ(md(b[0], "comment.Dwell time"), "260ms");
    EXPECT_EQ(md(b[0], "comment.Anode library"), "Al");
    EXPECT_EQ(md(b[0], "comment.Step size"), "0.100eV");
    EXPECT_EQ(md(b[0], "comment.Mode"), "XPS - monochromatic");
    EXPECT_EQ(b[0].size(), 5u);
  }
  {
    const auto f = tmp.write("specs_block.vms", splice(base, 30, 32, slurp(kShared / "specs_block.vms")));
    const auto b = read_vamas(f);
    EXPECT_EQ(md(b[0], "comment.Spectrum ID"), "20");
    EXPECT_EQ(md(b[0], "comment.Analyzer slit"), "4:7x20c\\C:mesh");
  }
}

// ---------------------------------------------------------------------------------------------- hand-made files

TEST(VamasTiny, TwoRegularBlocksKineticC1sAndDescendingBindingO1s) {
  const auto b = read_vamas(kData / "tiny_regular.vms");
  ASSERT_EQ(b.size(), 2u);
  // Block 1: start 1196.1, increment 0.5, 10 ordinates = 5 points x (counts, transmission).
  EXPECT_EQ(b[0].name, "C 1s");
  EXPECT_EQ(b[0].scale, EnergyScale::Kinetic);
  ASSERT_EQ(b[0].size(), 5u);
  for (std::size_t i = 0; i < 5; ++i) EXPECT_DOUBLE_EQ(b[0].energy[i], 1196.1 + 0.5 * static_cast<double>(i));
  EXPECT_EQ(b[0].counts, (std::vector<double>{100, 250, 300, 220, 150}));
  EXPECT_DOUBLE_EQ(b[0].photon_energy, 1486.6);
  EXPECT_DOUBLE_EQ(b[0].work_function, 4.5);
  EXPECT_EQ(b[0].source, (kData / "tiny_regular.vms").string());
  EXPECT_EQ(md(b[0], "ordinate_unit"), "c/s");
  EXPECT_EQ(md(b[0], "variable.2"), "Transmission [d]");
  EXPECT_EQ(md(b[0], "exp_variable.Etch time"), "30");
  EXPECT_EQ(md(b[0], "param.Work function offset"), "0.1 eV");
  EXPECT_EQ(md(b[0], "date"), "2024-01-22 13:45:07");
  EXPECT_EQ(md(b[0], "dwell_time"), "0.05");
  EXPECT_EQ(md(b[0], "scans"), "3");
  EXPECT_EQ(md(b[0], "comment.Dwell Time"), "0.05");
  EXPECT_EQ(md(b[0], "comment.Pass Energy"), "20");
  EXPECT_EQ(md(b[0], "comment.Operator"), "test");  // from the file comment
  EXPECT_EQ(md(b[0], "institution"), "tsunagu tests");
  EXPECT_EQ(md(b[0], "block_id"), "C1s-block");
  // Block 2: binding energy from 534 down by 1 eV, Mg Kα, work function unknown (1e37) -> 0.
  EXPECT_EQ(b[1].name, "O 1s");
  EXPECT_EQ(b[1].scale, EnergyScale::Binding);
  EXPECT_EQ(b[1].energy, (std::vector<double>{534, 533, 532, 531}));
  EXPECT_EQ(b[1].counts, (std::vector<double>{10, 40, 25, 12}));
  EXPECT_DOUBLE_EQ(b[1].photon_energy, 1253.6);
  EXPECT_DOUBLE_EQ(b[1].work_function, 0.0);
  EXPECT_EQ(md(b[1], "source_label"), "Mg");
  EXPECT_EQ(md(b[1], "block_comment"), "<absent>");
}

TEST(VamasTiny, IrregularSdpBlockTakesTheAbscissaFromTheFirstCorrespondingVariable) {
  const auto b = read_vamas(kData / "tiny_irregular.vms");
  ASSERT_EQ(b.size(), 1u);
  // Triples (KE, intensity, transmission) as written in the file; the sputter items of SDP mode are skipped.
  EXPECT_EQ(b[0].energy, (std::vector<double>{775.0, 776.5, 777.0, 780.0}));
  EXPECT_EQ(b[0].counts, (std::vector<double>{500, 800, 1200, 600}));
  EXPECT_EQ(b[0].name, "Fe 2p3/2");
  EXPECT_EQ(b[0].scale, EnergyScale::Kinetic);
  EXPECT_DOUBLE_EQ(b[0].photon_energy, 1486.6);
  EXPECT_EQ(md(b[0], "experiment_mode"), "SDP");
  EXPECT_EQ(md(b[0], "variable.3"), "transmission [d]");
  EXPECT_EQ(md(b[0], "date"), "<absent>");  // year 0 = not given
}

TEST(VamasTiny, InclusionListLetsBlock2InheritEverythingButSpeciesTransitionAndAxis) {
  const auto b = read_vamas(kData / "tiny_inclusion.vms");
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b[0].name, "Si 2p");
  EXPECT_EQ(b[0].energy, (std::vector<double>{1380.0, 1380.25, 1380.5}));
  EXPECT_EQ(b[0].counts, (std::vector<double>{1, 5, 9}));
  EXPECT_EQ(b[1].name, "O 1s");
  EXPECT_EQ(b[1].energy, (std::vector<double>{950.0, 950.5, 951.0, 951.5}));
  EXPECT_EQ(b[1].counts, (std::vector<double>{2, 4, 8, 6}));
  // Inherited from block 1 (items 1..28 and 32..40 are not in the inclusion list 29, 30, 31).
  EXPECT_DOUBLE_EQ(b[1].photon_energy, 1486.6);
  EXPECT_DOUBLE_EQ(b[1].work_function, 4.0);
  EXPECT_EQ(md(b[1], "pass_energy"), "50");
  EXPECT_EQ(md(b[1], "dwell_time"), "0.2");
  EXPECT_EQ(md(b[1], "scans"), "2");
  EXPECT_EQ(md(b[1], "block_comment"), "block one comment");
  EXPECT_EQ(md(b[1], "date"), "2020-05-06 07:08:09");
  EXPECT_EQ(md(b[1], "block_id"), "b2");
}

TEST(VamasTiny, ContentWithoutVmsExtensionIsStillRecognisedAsVamas) {
  TempDir tmp;
  const auto f = tmp.write("spectrum.txt", slurp(kData / "tiny_regular.vms"));
  const auto b = read_spectra(f);
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(md(b[0], "format"), "VAMAS");
}

TEST(VamasTiny, CrlfLineEndsAndUtf8BomAreAccepted) {
  TempDir tmp;
  std::string text = "\xEF\xBB\xBF";
  for (const auto& l : lines_of(slurp(kData / "tiny_irregular.vms"))) text += l + "\r\n";
  const auto b = read_vamas(tmp.write("crlf.vms", text));
  EXPECT_EQ(b.at(0).counts, (std::vector<double>{500, 800, 1200, 600}));
}

// ---------------------------------------------------------------------------------------------- malformed files

struct BadCase {
  const char* file;
  std::size_t line;
  const char* needle;
};

class VamasBad : public ::testing::TestWithParam<BadCase> {};

TEST_P(VamasBad, IsOneParseErrorLineNamingFileLineAndWhatWasExpected) {
  const BadCase c = GetParam();
  const fs::path f = kData / c.file;
  expect_parse_error([&] { read_vamas(f); }, f, c.line, c.needle);
}

INSTANTIATE_TEST_SUITE_P(
    HandMade, VamasBad,
    ::testing::Values(
        BadCase{"bad_number.vms", 83, "expected ordinate value 3 of 10 ('counts', point 2 of block 1), got '2x50'"},
        BadCase{"bad_nan.vms", 83, "count 'nan' is not finite"},
        BadCase{"bad_negative.vms", 83, "negative count -250"},
        BadCase{"bad_missing_block.vms", 146, "declares more blocks than it holds"},
        BadCase{"bad_point_count.vms", 91, "expected ordinate value 11 of 12"},
        BadCase{"bad_odd_count.vms", 76, "not a multiple of its 2 corresponding variables"},
        BadCase{"bad_increment.vms", 57, "abscissa increment must be finite and non-zero"},
        BadCase{"bad_mode.vms", 9, "experiment mode 'NORMAL' is not one of"},
        BadCase{"bad_unit.vms", 54, "is in 's', not an energy in eV"},
        BadCase{"bad_truncated.vms", 76, "ordinate values of block 1 is 10 but only 9 lines follow (truncated file?)"},
        BadCase{"bad_nonmonotonic.vms", 84, "breaks the ascending energy axis (previous 776.5 on line 81)"},
        BadCase{"bad_duplicate.vms", 84, "repeats the previous point (line 81)"}),
    [](const ::testing::TestParamInfo<BadCase>& i) {
      std::string n = i.param.file;
      n = n.substr(0, n.find('.'));
      return n;
    });

TEST(VamasBad, EveryLinePrefixOfAValidFileIsAParseErrorUntilTheDataAreComplete) {
  const auto lines = lines_of(slurp(kData / "tiny_regular.vms"));
  TempDir tmp;
  // 145 of its 146 lines hold all data ("end of experiment" may be missing); any shorter prefix must fail cleanly
  // with a line number inside the prefix.
  for (std::size_t k = 0; k < lines.size(); ++k) {
    std::string text;
    for (std::size_t i = 0; i < k; ++i) text += lines[i] + "\n";
    const auto f = tmp.write("prefix.vms", text);
    if (k >= 145) {
      EXPECT_EQ(read_vamas(f).size(), 2u) << k;
      continue;
    }
    try {
      read_vamas(f);
      ADD_FAILURE() << "prefix of " << k << " lines was accepted";
    } catch (const ParseError& e) {
      EXPECT_LE(e.line(), k) << e.what();
      EXPECT_NE(std::string(e.what()).find("tsunagu_vamas_test"), std::string::npos) << e.what();
    }
  }
}

TEST(VamasBad, EveryBytePrefixEitherParsesOrIsAParseErrorNeverAnotherFailure) {
  const std::string text = slurp(kData / "tiny_irregular.vms");
  TempDir tmp;
  // Every 7th cut (7 is prime to the line lengths, so cuts land at varied places within numbers and labels).
  for (std::size_t k = 0; k <= text.size(); k += 7) {
    const auto f = tmp.write("bytes.vms", text.substr(0, k));
    try {
      const auto b = read_vamas(f);
      EXPECT_EQ(b.size(), 1u);
    } catch (const ParseError&) {
    } catch (const std::exception& e) {
      ADD_FAILURE() << "prefix of " << k << " bytes: " << e.what();
    }
  }
}

TEST(VamasBad, HugeDeclaredCountIsAParseErrorNotAnAllocation) {
  auto lines = lines_of(slurp(kData / "tiny_regular.vms"));
  lines[75] = "999999999999";  // number of ordinate values of block 1 (line 76)
  std::string text;
  for (const auto& l : lines) text += l + "\n";
  TempDir tmp;
  const auto f = tmp.write("huge.vms", text);
  expect_parse_error([&] { read_vamas(f); }, f, 76, "truncated file?");
}

TEST(VamasBad, MissingFileIsAnIoErrorNamingIt) {
  const fs::path f = kData / "no_such_file.vms";
  try {
    read_vamas(f);
    ADD_FAILURE() << "no IoError";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("no_such_file.vms"), std::string::npos) << e.what();
  }
}
