#pragma once
/// Named n-dimensional float64 arrays in HDF5 files (one dataset per name, "/" paths create groups).
#include <cstddef>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <Eigen/Core>

namespace tsunagu::core {

/// Row-major (C order) n-dimensional array of doubles.
struct NdArray {
  std::vector<std::size_t> shape;  ///< dimensions, outermost first; {} is a scalar
  std::vector<double> data;        ///< product(shape) values in C order
  std::size_t size() const noexcept;
  void validate() const;  ///< throws InvalidArgument if data.size() != product(shape)

  static NdArray from_matrix(const Eigen::MatrixXd& m);  ///< shape {rows, cols}
  static NdArray from_vector(const Eigen::VectorXd& v);  ///< shape {n}
  Eigen::MatrixXd to_matrix() const;  ///< 1-D -> (n,1); 2-D as is; otherwise InvalidArgument
};

/// Write all arrays into a new file (replacing `path` atomically). String attributes go to the root group.
void h5_write(const std::filesystem::path& path, const std::map<std::string, NdArray>& arrays,
              const std::map<std::string, std::string>& attributes = {});

/// Read one dataset (converted to double). Throws IoError for an unreadable file, InvalidArgument naming the
/// file and dataset when it does not exist.
NdArray h5_read(const std::filesystem::path& path, const std::string& name);

/// Names (full paths without the leading '/') of all datasets in the file, sorted.
std::vector<std::string> h5_list(const std::filesystem::path& path);

/// Root-group string attributes.
std::map<std::string, std::string> h5_attributes(const std::filesystem::path& path);

}  // namespace tsunagu::core
