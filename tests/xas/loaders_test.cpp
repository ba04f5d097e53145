#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tsunagu/core/error.hpp"
#include "tsunagu/core/io.hpp"
#include "tsunagu/xas/data.hpp"

using namespace tsunagu;
using namespace tsunagu::xas;
namespace fs = std::filesystem;

namespace {

const fs::path kData = fs::path(TSUNAGU_SOURCE_DIR) / "tests/xas/data";
const fs::path kShared = fs::path(TSUNAGU_SHARED_DIR) / "data/xas";

template <class E>
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

std::string read(const fs::path& p) { return core::read_file(p); }

LoadOptions with_format(DataFormat f) {
  LoadOptions o;
  o.format = f;
  return o;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// A scratch directory per test.
class LoaderFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() / ("tsunagu_xas_loaders_" + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  // The XANESNET fixture copied to <dir>/<xyz_name> and <dir>/<xanes_name>.
  fs::path copy_xanesnet(const std::string& xyz_name = "xyz_demo", const std::string& xanes_name = "xanes_demo") {
    fs::copy(kData / "xanesnet/xyz_demo", dir_ / xyz_name);
    fs::copy(kData / "xanesnet/xanes_demo", dir_ / xanes_name);
    return dir_ / xyz_name;
  }
  fs::path dir_;
};

// One MP document on one line (for JSON lines) with a given spectrum / absorbing site (FeO rocksalt, Fe at site 0,
// O at site 1).
std::string mp_doc(const std::string& x, const std::string& y, int absorbing_index = 0,
                   const std::string& element = "Fe") {
  std::string text = R"({"material_id": "mp-18905", "xas_id": "mp-18905-)" + std::to_string(absorbing_index) +
         R"(-XANES-K", "spectrum": {"@module": "pymatgen.analysis.xas.spectrum", "@class": "XAS", "x": )" + x +
         R"(, "y": )" + y + R"(, "structure": {"@module": "pymatgen.core.structure", "@class": "Structure",
         "lattice": {"matrix": [[0.0, 2.165, 2.165], [2.165, 0.0, 2.165], [2.165, 2.165, 0.0]]},
         "sites": [{"species": [{"element": "Fe", "occu": 1}], "abc": [0, 0, 0], "label": "Fe"},
                   {"species": [{"element": "O", "occu": 1}], "abc": [0.5, 0.5, 0.5], "label": "O"}]},
         "absorbing_element": ")" +
         element + R"(", "absorbing_index": )" + std::to_string(absorbing_index) +
         R"(, "edge": "K", "spectrum_type": "XANES"}})";
  text.erase(std::remove(text.begin(), text.end(), '\n'), text.end());
  return text;
}

}  // namespace

// ---------------------------------------------------------------- formats

TEST(DataFormat, names_and_detection) {
  for (auto f : {DataFormat::Auto, DataFormat::Mp, DataFormat::Xanesnet, DataFormat::Table})
    EXPECT_EQ(parse_data_format(data_format_name(f)), f);
  EXPECT_TRUE(contains(error_of<InvalidArgument>([] { parse_data_format("cif"); }), "'cif'"));
  EXPECT_EQ(detect_data_format(kData / "table_small.csv"), DataFormat::Table);
  EXPECT_EQ(detect_data_format(kData / "mp_feo.json"), DataFormat::Mp);
  EXPECT_EQ(detect_data_format(kData / "pymatgen_lines.jsonl"), DataFormat::Mp);
  EXPECT_EQ(detect_data_format(kData / "xanesnet/xyz_demo"), DataFormat::Xanesnet);
  EXPECT_TRUE(contains(error_of<IoError>([] { detect_data_format(kData / "nope.csv"); }), "nope.csv"));
  EXPECT_TRUE(contains(error_of<InvalidArgument>([] { detect_data_format(kData / "xanesnet/xanes_demo"); }),
                       "neither .xyz nor .json"));
}

// ---------------------------------------------------------------- Materials Project

TEST(MpLoader, reads_an_array_of_api_documents) {
  const Dataset d = load_dataset(kData / "mp_feo.json");
  EXPECT_EQ(d.format, DataFormat::Mp);
  ASSERT_EQ(d.records.size(), 2u);
  EXPECT_EQ(d.summary.records, 2u);
  const Record& fe = d.records[0];
  EXPECT_EQ(fe.id, "mp-18905-0-XANES-K");
  EXPECT_EQ(fe.group, "mp-18905");
  EXPECT_EQ(fe.element, "Fe");
  EXPECT_EQ(fe.edge, "K");
  EXPECT_EQ(fe.absorber, 0u);
  ASSERT_TRUE(fe.structure);
  EXPECT_EQ(fe.structure->numbers, (std::vector<int>{26, 8}));
  EXPECT_TRUE(fe.structure->periodic);
  ASSERT_EQ(fe.energy.size(), 31);
  EXPECT_DOUBLE_EQ(fe.energy(0), 7100.0);
  EXPECT_DOUBLE_EQ(fe.energy(30), 7160.0);
  EXPECT_EQ(fe.mu.size(), 31);
  EXPECT_EQ(fe.features.size(), 0);
  EXPECT_TRUE(contains(fe.source, "mp_feo.json[0]"));
  const Record& o = d.records[1];
  EXPECT_EQ(o.element, "O");
  EXPECT_EQ(o.absorber, 1u);
  EXPECT_EQ(o.group, "mp-18905");
}

TEST(MpLoader, other_absorbing_elements_are_skipped_and_counted) {
  LoadOptions opt;
  opt.absorber = "Fe";
  const Dataset d = load_dataset(kData / "mp_feo.json", opt);
  ASSERT_EQ(d.records.size(), 1u);
  EXPECT_EQ(d.records[0].element, "Fe");
  EXPECT_EQ(d.summary.skipped, 1u);
  ASSERT_EQ(d.summary.notes.size(), 1u);
  EXPECT_TRUE(contains(d.summary.notes[0], "O: 1")) << d.summary.notes[0];
  opt.absorber = "Xx";
  EXPECT_TRUE(contains(error_of<InvalidArgument>([&] { load_dataset(kData / "mp_feo.json", opt); }), "'Xx'"));
}

TEST(MpLoader, reads_pymatgen_as_dict_json_lines) {
  const Dataset d = load_dataset(kData / "pymatgen_lines.jsonl");
  ASSERT_EQ(d.records.size(), 3u);
  EXPECT_EQ(d.records[0].element, "Mn");
  EXPECT_EQ(d.records[1].element, "Ni");  // numpy-encoded arrays, Element.as_dict()
  EXPECT_EQ(d.records[1].energy.size(), 26);
  EXPECT_EQ(d.records[2].element, "Fe");  // site-weighted (absorbing_index null): the first Fe atom
  EXPECT_EQ(d.records[2].absorber, 1u);
  // ids from the file and line (no ids in as_dict()); the blank line 2 is skipped
  EXPECT_EQ(d.records[0].id, "pymatgen_lines:1");
  EXPECT_EQ(d.records[1].id, "pymatgen_lines:3");
  EXPECT_EQ(d.records[2].group, d.records[2].id);
  std::set<std::string> ids;
  for (const auto& r : d.records) ids.insert(r.id);
  EXPECT_EQ(ids.size(), 3u);
}

TEST_F(LoaderFiles, single_documents_directories_and_streaming) {
  const std::string x = "[7100, 7110, 7120, 7130]", y = "[0.1, 0.5, 1.2, 1.0]";
  write(dir_ / "one.json", mp_doc(x, y));
  const Dataset one = load_dataset(dir_ / "one.json");
  ASSERT_EQ(one.records.size(), 1u);
  EXPECT_EQ(one.records[0].id, "mp-18905-0-XANES-K");
  EXPECT_EQ(one.records[0].mu(2), 1.2);
  // the MP API's {"data": [...]} answer
  write(dir_ / "api" / "answer.json", "{\"data\": [" + mp_doc(x, y) + ", " + mp_doc(x, y, 1, "O") + "], \"meta\": {}}");
  EXPECT_EQ(load_dataset(dir_ / "api" / "answer.json").records.size(), 2u);
  // a directory of documents, in file-name order
  fs::create_directories(dir_ / "set");
  fs::copy(kData / "pymatgen_lines.jsonl", dir_ / "set" / "b.jsonl");
  fs::copy(kData / "mp_feo.json", dir_ / "set" / "a.json");
  write(dir_ / "set" / "notes.txt", "not data");
  EXPECT_EQ(detect_data_format(dir_ / "set"), DataFormat::Mp);
  const Dataset d = load_dataset(dir_ / "set");
  ASSERT_EQ(d.records.size(), 5u);
  EXPECT_EQ(d.records[0].id, "mp-18905-0-XANES-K");
  EXPECT_EQ(d.records[2].element, "Mn");
  // JSON lines stream: records before a broken line reach the callback before the error
  write(dir_ / "broken.jsonl", mp_doc(x, y) + "\n" + mp_doc(x, y) + "\n{\"spectrum\": \n");
  std::size_t seen = 0;
  const std::string e = error_of<ParseError>(
      [&] { for_each_record(dir_ / "broken.jsonl", {}, [&](Record&&) { ++seen; }); });
  EXPECT_EQ(seen, 2u);
  EXPECT_TRUE(contains(e, "broken.jsonl:3: invalid JSON")) << e;
  // JSON lines in a file named .json are recognised as such
  write(dir_ / "lines.json", mp_doc(x, y) + "\n" + mp_doc(x, y, 1, "O") + "\n");
  EXPECT_EQ(load_dataset(dir_ / "lines.json").records.size(), 2u);
}

TEST_F(LoaderFiles, mp_errors_name_the_file_and_entry) {
  const std::string x = "[7100, 7110, 7120, 7130]", y = "[0.1, 0.5, 1.2, 1.0]";
  const auto parse_error = [&](const std::string& text) {
    write(dir_ / "bad.jsonl", mp_doc(x, y) + "\n" + text + "\n");
    return error_of<ParseError>([&] { load_dataset(dir_ / "bad.jsonl"); });
  };
  EXPECT_TRUE(contains(parse_error(mp_doc("[]", "[]")), "bad.jsonl:2: empty spectrum")) << parse_error(mp_doc("[]", "[]"));
  EXPECT_TRUE(contains(parse_error(mp_doc(x, "[1, 2, 3]")), "bad.jsonl:2: ragged spectrum: 4 energies (x) but 3"));
  EXPECT_TRUE(contains(parse_error(mp_doc(x, "[1, \"a\", 3, 4]")), "bad.jsonl:2: spectrum.y[1]: non-numeric"));
  EXPECT_TRUE(contains(parse_error(mp_doc(x, "[1, null, 3, 4]")), "spectrum.y[1]: non-numeric value null"));
  EXPECT_TRUE(contains(parse_error(mp_doc(x, "[1, NaN, 3, 4]")), "bad.jsonl:2: invalid JSON"));
  EXPECT_TRUE(contains(parse_error(mp_doc("[7100, 7110, 7110, 7130]", y)),
                       "bad.jsonl:2: energies not strictly increasing: 7110 after 7110"));
  EXPECT_TRUE(contains(parse_error("{\"material_id\": \"mp-1\"}"), "bad.jsonl:2: spectrum.x / spectrum.y: missing"));
  // array entries are named by their index
  write(dir_ / "arr.json", "[" + mp_doc(x, y) + ", " + mp_doc(x, "[1]") + "]");
  EXPECT_TRUE(contains(error_of<ParseError>([&] { load_dataset(dir_ / "arr.json"); }), "arr.json: entry 1: ragged"));
  // the absorbing site must hold the absorbing element
  write(dir_ / "site.json", "[" + mp_doc(x, y) + ", " + mp_doc(x, y, 1, "Fe") + "]");
  const std::string wrong = error_of<InvalidArgument>([&] { load_dataset(dir_ / "site.json"); });
  EXPECT_TRUE(contains(wrong, "site.json[1]: absorbing site 1 is O, not the absorbing element Fe")) << wrong;
  write(dir_ / "range.json", mp_doc(x, y, 7));
  EXPECT_TRUE(contains(error_of<InvalidArgument>([&] { load_dataset(dir_ / "range.json"); }), "absorbing_index 7"));
  EXPECT_TRUE(
      contains(error_of<IoError>([&] { load_dataset(dir_ / "missing.json", with_format(DataFormat::Mp)); }),
               "missing.json"));
}

// ---------------------------------------------------------------- XANESNET

TEST(XanesnetLoader, reads_structures_and_fdmnes_spectra) {
  const Dataset d = load_dataset(kData / "xanesnet/xyz_demo");
  EXPECT_EQ(d.format, DataFormat::Xanesnet);
  ASSERT_EQ(d.records.size(), 3u);
  EXPECT_EQ(d.records[0].id, "AAA_FeCl4(2-)");
  EXPECT_EQ(d.records[1].id, "BBB_C2H6FeN2+H2O");
  for (const auto& r : d.records) {
    EXPECT_EQ(r.group, r.id);
    EXPECT_EQ(r.absorber, 0u);
    EXPECT_EQ(r.element, "Fe");
    ASSERT_TRUE(r.structure);
    EXPECT_FALSE(r.structure->periodic);
    EXPECT_EQ(r.structure->numbers[0], 26);
    ASSERT_EQ(r.energy.size(), 41);
    EXPECT_DOUBLE_EQ(r.energy(0), 7097.0);
    EXPECT_DOUBLE_EQ(r.energy(40), 7117.0);
    EXPECT_TRUE(contains(r.source, r.id + ".xyz"));
  }
  EXPECT_EQ(d.records[0].structure->n_sites(), 5u);
  EXPECT_NEAR(d.records[0].mu(0), 3.1725517e-02, 1e-12);
  // absorber option: the first atom of that element, which must be present
  LoadOptions o;
  o.absorber = "Fe";
  EXPECT_EQ(load_dataset(kData / "xanesnet/xyz_demo", o).records[2].absorber, 0u);
  o.absorber = "Cu";
  EXPECT_TRUE(contains(error_of<InvalidArgument>([&] { load_dataset(kData / "xanesnet/xyz_demo", o); }),
                       "AAA_FeCl4(2-).xyz: the structure (FeCl4) has no atom of the absorbing element Cu"));
}

TEST_F(LoaderFiles, xanesnet_partner_files_and_directories) {
  // fallback: <path>/../xanes
  const fs::path geoms = copy_xanesnet("geoms", "xanes");
  EXPECT_EQ(load_dataset(geoms, with_format(DataFormat::Xanesnet)).records.size(), 3u);
  EXPECT_EQ(load_dataset(geoms.string() + "/", with_format(DataFormat::Xanesnet)).records.size(), 3u);
  // structure without spectrum
  const fs::path xyz = copy_xanesnet();
  fs::remove(dir_ / "xanes_demo" / "CCC_FeO6.txt");
  fs::remove(dir_ / "xanes" / "CCC_FeO6.txt");
  EXPECT_TRUE(contains(error_of<ParseError>([&] { load_dataset(xyz); }),
                       "CCC_FeO6.xyz: structure without its spectrum"));
  // spectrum without structure
  fs::copy(kData / "xanesnet/xanes_demo/CCC_FeO6.txt", dir_ / "xanes_demo" / "CCC_FeO6.txt");
  write(dir_ / "xanes_demo" / "DDD.txt", read(kData / "xanesnet/xanes_demo/CCC_FeO6.txt"));
  EXPECT_TRUE(contains(error_of<ParseError>([&] { load_dataset(xyz); }), "DDD.txt: spectrum without its structure"));
  fs::remove(dir_ / "xanes_demo" / "DDD.txt");
  // no spectra directory at all
  fs::create_directories(dir_ / "sub" / "lonely_xyz");
  fs::copy(kData / "xanesnet/xyz_demo/CCC_FeO6.xyz", dir_ / "sub" / "lonely_xyz" / "CCC_FeO6.xyz");
  EXPECT_TRUE(contains(error_of<ParseError>([&] { load_dataset(dir_ / "sub" / "lonely_xyz"); }),
                       "no spectra directory"));
}

TEST_F(LoaderFiles, xanesnet_bad_spectra_name_file_and_line) {
  const fs::path xyz = copy_xanesnet();
  const fs::path txt = dir_ / "xanes_demo" / "BBB_C2H6FeN2+H2O.txt";
  const std::string good = read(txt);
  const auto with = [&](const std::string& text) {
    write(txt, text);
    return error_of<ParseError>([&] { load_dataset(xyz); });
  };
  const std::string head = "    FDMNES\n    energy     <xanes>\n";
  EXPECT_TRUE(contains(with(head), "BBB_C2H6FeN2+H2O.txt: empty spectrum"));
  EXPECT_TRUE(contains(with(head + "7097 0.1\n7098 0.2 5\n"), "BBB_C2H6FeN2+H2O.txt:4: ragged row"));
  EXPECT_TRUE(contains(with(head + "7097 0.1\n7098 abc\n"), "H2O.txt:4: non-numeric mu 'abc'"));
  EXPECT_TRUE(contains(with(head + "7097 0.1\n7098 nan\n"), "H2O.txt:4: non-finite mu 'nan'"));
  EXPECT_TRUE(contains(with(head + "7097 0.1\n7096 0.2\n"), "H2O.txt:4: energies not strictly increasing"));
  write(txt, good);
  // absorber option with the absorbing element not first
  write(xyz / "BBB_C2H6FeN2+H2O.xyz", "3\nO first\n8 0 0 0\nFe 1.9 0 0\n8 3.8 0 0\n");
  LoadOptions o;
  o.absorber = "Fe";
  const Dataset d = load_dataset(xyz, o);
  EXPECT_EQ(d.records[1].absorber, 1u);
  EXPECT_EQ(d.records[1].element, "Fe");
  EXPECT_EQ(load_dataset(xyz).records[1].element, "O");  // XANESNET convention without the option: the first atom
  write(xyz / "BBB_C2H6FeN2+H2O.xyz", "2\nbad\n26 0 0 0\n");
  EXPECT_TRUE(contains(error_of<ParseError>([&] { load_dataset(xyz); }), "BBB_C2H6FeN2+H2O.xyz"));
}

// ---------------------------------------------------------------- tables

TEST(TableLoader, reads_descriptors_and_spectra) {
  const Dataset d = load_dataset(kData / "table_small.csv");
  EXPECT_EQ(d.format, DataFormat::Table);
  ASSERT_EQ(d.records.size(), 6u);
  EXPECT_EQ(d.summary.feature_names, (std::vector<std::string>{"d0", "d1", "d2"}));
  ASSERT_EQ(d.summary.notes.size(), 1u);
  EXPECT_TRUE(contains(d.summary.notes[0], "note")) << d.summary.notes[0];
  const Record& r = d.records[3];
  EXPECT_EQ(r.id, "r3");
  EXPECT_EQ(r.group, "mat1");
  EXPECT_FALSE(r.structure);
  ASSERT_EQ(r.features.size(), 3);
  EXPECT_DOUBLE_EQ(r.features(1), 4.5);
  ASSERT_EQ(r.mu.size(), 10);
  EXPECT_DOUBLE_EQ(r.mu(9), 1.17);
  EXPECT_DOUBLE_EQ(r.energy(9), 9.0);  // no mesh: 0..n-1
  EXPECT_TRUE(contains(r.source, "table_small.csv:5"));
  LoadOptions o;
  o.table_mesh = parse_mesh("7100:7109:10");
  const Dataset m = load_dataset(kData / "table_small.csv", o);
  EXPECT_DOUBLE_EQ(m.records[0].energy(0), 7100.0);
  EXPECT_DOUBLE_EQ(m.records[0].energy(9), 7109.0);
  o.table_mesh = parse_mesh("7100:7109:11");
  const std::string e = error_of<InvalidArgument>([&] { load_dataset(kData / "table_small.csv", o); });
  EXPECT_TRUE(contains(e, "mesh 7100:7109:11 has 11 points") && contains(e, "10 spectrum columns")) << e;
}

TEST_F(LoaderFiles, table_without_ids_and_bad_tables) {
  write(dir_ / "plain.csv", "d0,d1,s0,s1,s2\n1,2,0.1,0.2,0.3\n3,4,0.4,0.5,0.6\n");
  const Dataset d = load_dataset(dir_ / "plain.csv");
  ASSERT_EQ(d.records.size(), 2u);
  EXPECT_EQ(d.records[1].id, "1");
  EXPECT_EQ(d.records[1].group, "1");
  EXPECT_TRUE(d.summary.notes.empty());
  // custom prefixes and columns
  write(dir_ / "named.csv", "name,material,x0,mu0,mu1\na,m1,1,0.1,0.2\nb,m1,2,0.3,0.4\n");
  LoadOptions o;
  o.feature_prefix = "x";
  o.spectrum_prefix = "mu";
  o.id_column = "name";
  o.group_column = "material";
  const Dataset n = load_dataset(dir_ / "named.csv", o);
  EXPECT_EQ(n.records[1].id, "b");
  EXPECT_EQ(n.records[1].group, "m1");
  EXPECT_EQ(n.records[1].features.size(), 1);
  // errors
  EXPECT_TRUE(contains(error_of<ParseError>([&] { load_dataset(kData / "table_ragged.csv"); }),
                       "table_ragged.csv:3"));
  write(dir_ / "text.csv", "d0,s0,s1\n1,0.1,0.2\n2,0.3,abc\n");
  EXPECT_TRUE(contains(error_of<ParseError>([&] { load_dataset(dir_ / "text.csv"); }),
                       "text.csv:3: column 's1': non-numeric value 'abc'"));
  write(dir_ / "nan.csv", "d0,s0,s1\n1,0.1,0.2\n2,0.3,inf\n");
  EXPECT_TRUE(contains(error_of<ParseError>([&] { load_dataset(dir_ / "nan.csv"); }), "nan.csv:3: column 's1'"));
  write(dir_ / "nospec.csv", "d0,d1\n1,2\n");
  EXPECT_TRUE(contains(error_of<ParseError>([&] { load_dataset(dir_ / "nospec.csv"); }), "empty spectrum"));
  write(dir_ / "gap.csv", "d0,s0,s2\n1,0.1,0.2\n");
  EXPECT_TRUE(contains(error_of<ParseError>([&] { load_dataset(dir_ / "gap.csv"); }), "s1 is missing"));
}

// ---------------------------------------------------------------- common mesh

TEST(CommonMesh, spans_what_every_record_covers) {
  std::vector<Record> rs(3);
  rs[0].energy = Eigen::VectorXd::LinSpaced(11, 0.0, 10.0);
  rs[1].energy = Eigen::VectorXd::LinSpaced(21, 2.0, 12.0);
  rs[2].energy = Eigen::VectorXd::LinSpaced(5, 1.0, 9.0);
  EXPECT_EQ(common_mesh(rs), (Mesh{2.0, 9.0, 11}));
  EXPECT_EQ(common_mesh(rs, 50), (Mesh{2.0, 9.0, 50}));
  rs[2].energy = Eigen::VectorXd::LinSpaced(5, 20.0, 29.0);
  rs[2].id = "far";
  EXPECT_TRUE(contains(error_of<InvalidArgument>([&] { common_mesh(rs); }), "far starts at 20 eV"));
  EXPECT_TRUE(contains(error_of<InvalidArgument>([] { common_mesh({}); }), "no records"));
}

// ---------------------------------------------------------------- real data

TEST(RealData, fe_k_edge_xanesnet_folders) {
  const fs::path train = kShared / "fe_k_edge/xyz_train";
  if (!fs::is_directory(train)) GTEST_SKIP() << "shared data absent: " << train;
  [[maybe_unused]] const auto t0 = std::chrono::steady_clock::now();
  const Dataset d = load_dataset(train);
#ifdef NDEBUG
  EXPECT_LT(seconds_since(t0), 0.5);  // optimised builds only
#endif
  EXPECT_EQ(d.format, DataFormat::Xanesnet);
  ASSERT_EQ(d.records.size(), 100u);
  std::set<std::string> groups;
  for (const auto& r : d.records) {
    EXPECT_EQ(r.energy.size(), 226) << r.source;
    EXPECT_EQ(r.mu.size(), 226);
    ASSERT_TRUE(r.structure);
    EXPECT_EQ(r.absorber, 0u);
    EXPECT_EQ(r.structure->numbers[0], 26) << r.source;
    EXPECT_EQ(r.element, "Fe");
    groups.insert(r.group);
  }
  EXPECT_EQ(groups.size(), 100u);
  EXPECT_EQ(d.records[0].id, "ABAXIK_C11H21FeIN3O2(1+)");
  EXPECT_DOUBLE_EQ(d.records[0].energy(0), 7097.0);
  EXPECT_DOUBLE_EQ(d.records[0].mu(0), 4.6876331E-03);
  // every spectrum covers the common mesh and can be prepared on it
  SpectrumOptions o;
  o.mesh = common_mesh(d.records);
  EXPECT_EQ(o.mesh.n, 226);
  o.normalization = Normalization::Edge;
  for (const auto& r : d.records) EXPECT_EQ(prepare_spectrum(r.energy, r.mu, o, r.source).size(), 226);
  const Dataset test = load_dataset(kShared / "fe_k_edge/xyz_test");
  EXPECT_EQ(test.records.size(), 10u);
}

TEST(RealData, v_k_edge_descriptor_table) {
  const fs::path csv = kShared / "v_k_edge_tmqm_descriptors.csv";
  if (!fs::is_regular_file(csv)) GTEST_SKIP() << "shared data absent: " << csv;
  [[maybe_unused]] const auto t0 = std::chrono::steady_clock::now();
  std::size_t n = 0;
  const LoadSummary s = for_each_record(csv, {}, [&](Record&& r) {
    EXPECT_EQ(r.features.size(), 97);
    EXPECT_EQ(r.mu.size(), 226);
    EXPECT_EQ(r.id, std::to_string(n));
    EXPECT_EQ(r.group, r.id);
    ++n;
  });
#ifdef NDEBUG
  EXPECT_LT(seconds_since(t0), 1.0);  // optimised builds only
#endif
  EXPECT_EQ(n, 1439u);
  EXPECT_EQ(s.records, 1439u);
  EXPECT_EQ(s.feature_names.size(), 97u);
  EXPECT_EQ(s.feature_names.back(), "d96");
  LoadOptions o;
  o.table_mesh = Mesh{5460.0, 5550.0, 226};
  const Dataset d = load_dataset(csv, o);
  ASSERT_EQ(d.records.size(), 1439u);
  EXPECT_DOUBLE_EQ(d.records[5].energy(225), 5550.0);
}
