#include "tsunagu/core/hdf5.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

// The test writes "foreign" files with the HDF5 C API. tsunagu::core links HDF5 privately, so its include
// directory is not propagated; fall back to Debian/Ubuntu's serial layout when <hdf5.h> is not on the path.
#if __has_include(<hdf5.h>)
#include <hdf5.h>
#elif __has_include(<hdf5/serial/hdf5.h>)
#include <hdf5/serial/hdf5.h>
#else
#error "hdf5.h not found"
#endif

#include <cmath>
#include <filesystem>
#include <limits>
#include <numeric>
#include <string>

#include "temp_dir.hpp"
#include "tsunagu/core/error.hpp"
#include "tsunagu/core/io.hpp"

namespace {

namespace fs = std::filesystem;
using namespace tsunagu::core;

using TempDir = tsunagu::test::TempDir;

NdArray iota_array(std::vector<std::size_t> shape) {
  NdArray a;
  a.shape = std::move(shape);
  a.data.resize(a.size());
  std::iota(a.data.begin(), a.data.end(), 0.5);
  return a;
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

TEST(NdArray, FromMatrixIsRowMajor) {
  Eigen::MatrixXd m(2, 2);
  m << 1, 2, 3, 4;
  const NdArray a = NdArray::from_matrix(m);
  EXPECT_EQ(a.shape, (std::vector<std::size_t>{2, 2}));
  EXPECT_EQ(a.data, (std::vector<double>{1, 2, 3, 4}));
}

TEST(NdArray, NonSquareMatrixRoundTripsThroughToMatrix) {
  Eigen::MatrixXd m(2, 3);
  m << 1, 2, 3, 4, 5, 6;
  const NdArray a = NdArray::from_matrix(m);
  EXPECT_EQ(a.shape, (std::vector<std::size_t>{2, 3}));
  EXPECT_EQ(a.data, (std::vector<double>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(a.to_matrix(), m);
}

TEST(NdArray, VectorBecomesColumnMatrix) {
  Eigen::VectorXd v(3);
  v << 7, 8, 9;
  const NdArray a = NdArray::from_vector(v);
  EXPECT_EQ(a.shape, (std::vector<std::size_t>{3}));
  const Eigen::MatrixXd m = a.to_matrix();
  EXPECT_EQ(m.rows(), 3);
  EXPECT_EQ(m.cols(), 1);
  EXPECT_EQ(m(2, 0), 9);
}

TEST(NdArray, SizeAndValidate) {
  NdArray scalar{{}, {3.0}};
  EXPECT_EQ(scalar.size(), 1u);
  EXPECT_NO_THROW(scalar.validate());
  NdArray bad{{2, 3}, {1, 2, 3}};
  EXPECT_EQ(bad.size(), 6u);
  EXPECT_THROW(bad.validate(), tsunagu::InvalidArgument);
  EXPECT_THROW((void)bad.to_matrix(), tsunagu::InvalidArgument);
  EXPECT_THROW((void)iota_array({2, 2, 2}).to_matrix(), tsunagu::InvalidArgument);
  EXPECT_THROW((void)scalar.to_matrix(), tsunagu::InvalidArgument);
}

TEST(H5, RoundTripScalarAnd1DTo3DArrays) {
  TempDir dir;
  const fs::path p = dir / "arrays.h5";
  const std::map<std::string, NdArray> arrays = {
      {"scalar", NdArray{{}, {42.25}}}, {"vec", iota_array({5})},    {"mat", iota_array({3, 4})},
      {"cube", iota_array({2, 3, 4})},  {"empty", NdArray{{0}, {}}},
  };
  h5_write(p, arrays);
  for (const auto& [name, expected] : arrays) {
    const NdArray got = h5_read(p, name);
    EXPECT_EQ(got.shape, expected.shape) << name;
    EXPECT_EQ(got.data, expected.data) << name;
  }
  EXPECT_EQ(h5_list(p), (std::vector<std::string>{"cube", "empty", "mat", "scalar", "vec"}));
}

TEST(H5, NonFiniteValuesSurvive) {
  TempDir dir;
  const fs::path p = dir / "nan.h5";
  h5_write(p, {{"x", NdArray{{3}, {std::nan(""), std::numeric_limits<double>::infinity(), -0.0}}}});
  const NdArray got = h5_read(p, "x");
  EXPECT_TRUE(std::isnan(got.data[0]));
  EXPECT_TRUE(std::isinf(got.data[1]));
  EXPECT_TRUE(std::signbit(got.data[2]));
}

TEST(H5, MatrixKeepsRowMajorLayoutOnDisk) {
  TempDir dir;
  const fs::path p = dir / "m.h5";
  Eigen::MatrixXd m(2, 3);
  m << 1, 2, 3, 4, 5, 6;
  h5_write(p, {{"m", NdArray::from_matrix(m)}});
  // read raw with the C API: C-order (row-major) data
  hid_t f = H5Fopen(p.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  ASSERT_GE(f, 0);
  hid_t d = H5Dopen2(f, "m", H5P_DEFAULT);
  double raw[6];
  ASSERT_GE(H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw), 0);
  H5Dclose(d);
  H5Fclose(f);
  EXPECT_EQ(std::vector<double>(raw, raw + 6), (std::vector<double>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(h5_read(p, "m").to_matrix(), m);
}

TEST(H5, NestedNamesCreateGroupsAndAreListedWithFullPaths) {
  TempDir dir;
  const fs::path p = dir / "nested.h5";
  h5_write(p, {{"results/cv/errors", iota_array({4})},
               {"results/coef", iota_array({2, 2})},
               {"/top", NdArray{{}, {1.0}}},
               {"a/b/c/d", iota_array({1})}});
  EXPECT_EQ(h5_list(p), (std::vector<std::string>{"a/b/c/d", "results/coef", "results/cv/errors", "top"}));
  EXPECT_EQ(h5_read(p, "results/cv/errors").data, iota_array({4}).data);
  EXPECT_EQ(h5_read(p, "/results/coef").shape, (std::vector<std::size_t>{2, 2}));
  EXPECT_EQ(h5_read(p, "top").data, (std::vector<double>{1.0}));
}

TEST(H5, StringAttributesRoundTrip) {
  TempDir dir;
  const fs::path p = dir / "attrs.h5";
  const std::map<std::string, std::string> attrs = {{"tsunagu_version", "0.1.0"},
                                                    {"command", "tsunagu sparse --target \"gap\""},
                                                    {"unicode", "Å → β"},
                                                    {"empty", ""}};
  h5_write(p, {{"x", iota_array({2})}}, attrs);
  EXPECT_EQ(h5_attributes(p), attrs);
}

TEST(H5, NoAttributesGivesEmptyMap) {
  TempDir dir;
  h5_write(dir / "a.h5", {{"x", iota_array({2})}});
  EXPECT_TRUE(h5_attributes(dir / "a.h5").empty());
}

/// Writes a file with the C API directly: an int32 dataset, a fixed-length string attribute and a numeric
/// attribute (which h5_attributes skips).
void write_foreign_file(const fs::path& p) {
  hid_t f = H5Fcreate(p.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(f, 0);
  const hsize_t dims[2] = {2, 3};
  hid_t space = H5Screate_simple(2, dims, nullptr);
  hid_t ds = H5Dcreate2(f, "counts", H5T_STD_I32LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  const int values[6] = {1, -2, 3, 40000, 5, 6};
  ASSERT_GE(H5Dwrite(ds, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values), 0);
  H5Dclose(ds);
  hid_t ds8 = H5Dcreate2(f, "bytes", H5T_STD_U8LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  const unsigned char small[6] = {0, 1, 2, 253, 254, 255};
  ASSERT_GE(H5Dwrite(ds8, H5T_NATIVE_UCHAR, H5S_ALL, H5S_ALL, H5P_DEFAULT, small), 0);
  H5Dclose(ds8);
  H5Sclose(space);

  hid_t scalar = H5Screate(H5S_SCALAR);
  hid_t str = H5Tcopy(H5T_C_S1);
  H5Tset_size(str, 16);
  H5Tset_strpad(str, H5T_STR_NULLPAD);
  hid_t attr = H5Acreate2(f, "origin", str, scalar, H5P_DEFAULT, H5P_DEFAULT);
  char buf[16] = "fixed-len";
  ASSERT_GE(H5Awrite(attr, str, buf), 0);
  H5Aclose(attr);
  H5Tclose(str);
  hid_t num = H5Acreate2(f, "number", H5T_NATIVE_DOUBLE, scalar, H5P_DEFAULT, H5P_DEFAULT);
  const double one = 1.0;
  H5Awrite(num, H5T_NATIVE_DOUBLE, &one);
  H5Aclose(num);
  H5Sclose(scalar);
  H5Fclose(f);
}

TEST(H5, IntegerDatasetWrittenWithCApiIsReadAsDouble) {
  TempDir dir;
  const fs::path p = dir / "foreign.h5";
  write_foreign_file(p);
  const NdArray a = h5_read(p, "counts");
  EXPECT_EQ(a.shape, (std::vector<std::size_t>{2, 3}));
  EXPECT_EQ(a.data, (std::vector<double>{1, -2, 3, 40000, 5, 6}));
  EXPECT_EQ(h5_read(p, "bytes").data, (std::vector<double>{0, 1, 2, 253, 254, 255}));
}

TEST(H5, FixedLengthStringAttributeIsReadNumericAttributeSkipped) {
  TempDir dir;
  const fs::path p = dir / "foreign.h5";
  write_foreign_file(p);
  const auto attrs = h5_attributes(p);
  ASSERT_EQ(attrs.size(), 1u);
  EXPECT_EQ(attrs.at("origin"), "fixed-len");
}

TEST(H5, MissingDatasetNamesFileDatasetAndListsDatasets) {
  TempDir dir;
  const fs::path p = dir / "d.h5";
  h5_write(p, {{"a", iota_array({1})}, {"g/b", iota_array({1})}});
  for (const std::string name : {"nope", "g/nope", "nope/deeper", "g"}) {
    try {
      (void)h5_read(p, name);
      FAIL() << "expected InvalidArgument for " << name;
    } catch (const tsunagu::InvalidArgument& e) {
      EXPECT_EQ(std::string(e.what()), p.string() + ": no dataset '" + name + "' (datasets: a, g/b)");
    }
  }
}

TEST(H5, MissingFileThrowsIoErrorNamingPath) {
  TempDir dir;
  const fs::path p = dir / "missing.h5";
  for (int which = 0; which < 3; ++which) {
    try {
      if (which == 0) (void)h5_read(p, "x");
      if (which == 1) (void)h5_list(p);
      if (which == 2) (void)h5_attributes(p);
      FAIL() << "expected IoError";
    } catch (const tsunagu::IoError& e) {
      EXPECT_TRUE(contains(e.what(), "cannot open HDF5 file '" + p.string() + "'")) << e.what();
    }
  }
}

TEST(H5, NonHdf5FileThrowsIoError) {
  TempDir dir;
  const fs::path p = dir / "text.h5";
  write_file_atomic(p, std::string_view("this is not HDF5\n"));
  EXPECT_THROW((void)h5_read(p, "x"), tsunagu::IoError);
  EXPECT_THROW((void)h5_list(p), tsunagu::IoError);
}

TEST(H5, WriteIsAtomicAndReplacesExistingFile) {
  TempDir dir;
  const fs::path p = dir / "r.h5";
  h5_write(p, {{"old", iota_array({3})}});
  h5_write(p, {{"new", iota_array({2})}});
  EXPECT_EQ(h5_list(p), (std::vector<std::string>{"new"}));
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir.path())) ++entries;
  EXPECT_EQ(entries, 1u);
}

TEST(H5, InvalidInputThrowsBeforeTouchingExistingFile) {
  TempDir dir;
  const fs::path p = dir / "keep.h5";
  h5_write(p, {{"keep", iota_array({3})}});
  EXPECT_THROW(h5_write(p, {{"bad", NdArray{{2, 2}, {1, 2, 3}}}}), tsunagu::InvalidArgument);
  EXPECT_THROW(h5_write(p, {{"a//b", iota_array({1})}}), tsunagu::InvalidArgument);
  EXPECT_THROW(h5_write(p, {{"", iota_array({1})}}), tsunagu::InvalidArgument);
  // a dataset and a group of the same name cannot coexist: HDF5 fails mid-write, the old file survives
  EXPECT_THROW(h5_write(p, {{"x", iota_array({1})}, {"x/y", iota_array({1})}}), tsunagu::IoError);
  EXPECT_EQ(h5_list(p), (std::vector<std::string>{"keep"}));
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir.path())) ++entries;
  EXPECT_EQ(entries, 1u);
}

TEST(H5, WriteIntoMissingDirectoryThrowsIoError) {
  TempDir dir;
  try {
    h5_write(dir / "no/such/dir/x.h5", {{"x", iota_array({1})}});
    FAIL() << "expected IoError";
  } catch (const tsunagu::IoError& e) {
    EXPECT_TRUE(contains(e.what(), "x.h5")) << e.what();
  }
}

TEST(H5, RepeatedCallsStaySilentOnStderr) {
  TempDir dir;
  testing::internal::CaptureStderr();
  for (int i = 0; i < 3; ++i) {
    EXPECT_THROW((void)h5_read(dir / "missing.h5", "x"), tsunagu::IoError);
    h5_write(dir / "ok.h5", {{"x", iota_array({1})}});
    EXPECT_THROW((void)h5_read(dir / "ok.h5", "y"), tsunagu::InvalidArgument);
  }
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
}

}  // namespace
