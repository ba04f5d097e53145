#include "tsunagu/core/hdf5.hpp"

#include <hdf5.h>
#include <unistd.h>

#include <algorithm>
#include <mutex>
#include <string_view>
#include <system_error>

#include "tsunagu/core/error.hpp"
#include "h5_detail.hpp"

namespace tsunagu::core {

namespace fs = std::filesystem;

namespace detail {
std::mutex& h5_mutex() {
  static std::mutex m;
  return m;
}
}  // namespace detail

namespace {

using detail::Handle;
using detail::h5_mutex;
using detail::silence_hdf5;
using detail::file_handle;
using detail::space_handle;
using detail::type_handle;
using detail::dataset_handle;
using detail::attr_handle;
using detail::plist_handle;


std::string join(const std::vector<std::string>& items) {
  std::string out;
  constexpr std::size_t kMaxListed = 30;
  for (std::size_t i = 0; i < items.size() && i < kMaxListed; ++i) {
    if (i) out += ", ";
    out += items[i];
  }
  if (items.size() > kMaxListed) out += ", ... " + std::to_string(items.size() - kMaxListed) + " more";
  return out;
}

/// "a//b/" style names are rejected; a leading '/' is accepted and dropped.
std::string normalise_name(const std::string& name) {
  std::string_view s = name;
  if (!s.empty() && s.front() == '/') s.remove_prefix(1);
  if (s.empty()) throw InvalidArgument("h5_write: empty dataset name");
  if (s.back() == '/' || s.find("//") != std::string_view::npos)
    throw InvalidArgument("h5_write: invalid dataset name '" + name + "' (empty path component)");
  return std::string(s);
}

Handle open_for_reading(const fs::path& path) {
  silence_hdf5();
  std::error_code ec;
  if (!fs::exists(path, ec)) throw IoError("cannot open HDF5 file '" + path.string() + "': no such file");
  hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0) throw IoError("cannot open HDF5 file '" + path.string() + "': not a readable HDF5 file");
  return file_handle(f);
}

#if H5_VERSION_GE(1, 12, 0)
herr_t collect_datasets(hid_t, const char* name, const H5O_info2_t* info, void* data) {
#else
herr_t collect_datasets(hid_t, const char* name, const H5O_info_t* info, void* data) {
#endif
  if (info->type == H5O_TYPE_DATASET && name && std::string_view(name) != ".")
    static_cast<std::vector<std::string>*>(data)->emplace_back(name);
  return 0;
}

std::vector<std::string> list_datasets(hid_t file, const fs::path& path) {
  std::vector<std::string> names;
#if H5_VERSION_GE(1, 12, 0)
  const herr_t rc = H5Ovisit3(file, H5_INDEX_NAME, H5_ITER_INC, collect_datasets, &names, H5O_INFO_BASIC);
#else
  const herr_t rc = H5Ovisit2(file, H5_INDEX_NAME, H5_ITER_INC, collect_datasets, &names, H5O_INFO_BASIC);
#endif
  if (rc < 0) throw IoError("cannot list datasets of HDF5 file '" + path.string() + "'");
  std::sort(names.begin(), names.end());
  return names;
}

/// True if every component of `name` exists as a link and the final object is a dataset.
bool dataset_exists(hid_t file, const std::string& name) {
  std::size_t pos = 0;
  for (;;) {
    const std::size_t slash = name.find('/', pos);
    const std::string prefix = name.substr(0, slash);
    if (prefix.empty() || H5Lexists(file, prefix.c_str(), H5P_DEFAULT) <= 0) return false;
    if (slash == std::string::npos) break;
    pos = slash + 1;
  }
#if H5_VERSION_GE(1, 12, 0)
  H5O_info2_t info;
  if (H5Oget_info_by_name3(file, name.c_str(), &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0) return false;
#else
  H5O_info_t info;
  if (H5Oget_info_by_name2(file, name.c_str(), &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0) return false;
#endif
  return info.type == H5O_TYPE_DATASET;
}

/// Read a string attribute (variable- or fixed-length, any number of elements joined by ", ").
bool read_string_attribute(hid_t attr, std::string& value) {
  Handle ftype = type_handle(H5Aget_type(attr));
  if (!ftype || H5Tget_class(ftype.get()) != H5T_STRING) return false;
  Handle space = space_handle(H5Aget_space(attr));
  if (!space) return false;
  const hssize_t npoints = H5Sget_simple_extent_npoints(space.get());
  if (npoints < 0) return false;
  const auto n = static_cast<std::size_t>(npoints);
  std::vector<std::string> items;
  const htri_t is_variable = H5Tis_variable_str(ftype.get());
  if (is_variable < 0) return false;
  if (is_variable > 0) {
    Handle mtype = type_handle(H5Tcopy(H5T_C_S1));
    H5Tset_size(mtype.get(), H5T_VARIABLE);
    H5Tset_cset(mtype.get(), H5Tget_cset(ftype.get()));
    std::vector<char*> buf(std::max<std::size_t>(n, 1), nullptr);
    if (H5Aread(attr, mtype.get(), buf.data()) < 0) return false;
    for (std::size_t i = 0; i < n; ++i) items.emplace_back(buf[i] ? buf[i] : "");
#if H5_VERSION_GE(1, 12, 0)
    H5Treclaim(mtype.get(), space.get(), H5P_DEFAULT, buf.data());
#else
    H5Dvlen_reclaim(mtype.get(), space.get(), H5P_DEFAULT, buf.data());
#endif
  } else {
    const std::size_t size = H5Tget_size(ftype.get());
    if (size == 0) return false;
    Handle mtype = type_handle(H5Tcopy(H5T_C_S1));
    H5Tset_size(mtype.get(), size);
    H5Tset_cset(mtype.get(), H5Tget_cset(ftype.get()));
    H5Tset_strpad(mtype.get(), H5Tget_strpad(ftype.get()));
    std::vector<char> buf(size * std::max<std::size_t>(n, 1), '\0');
    if (H5Aread(attr, mtype.get(), buf.data()) < 0) return false;
    const bool space_padded = H5Tget_strpad(ftype.get()) == H5T_STR_SPACEPAD;
    for (std::size_t i = 0; i < n; ++i) {
      std::string s(buf.data() + i * size, size);
      const auto nul = s.find('\0');
      if (nul != std::string::npos) s.resize(nul);
      if (space_padded)
        while (!s.empty() && s.back() == ' ') s.pop_back();
      items.push_back(std::move(s));
    }
  }
  value.clear();
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) value += ", ";
    value += items[i];
  }
  return true;
}

herr_t collect_attribute(hid_t location, const char* name, const H5A_info_t*, void* data) {
  auto* out = static_cast<std::map<std::string, std::string>*>(data);
  Handle attr = attr_handle(H5Aopen(location, name, H5P_DEFAULT));
  if (!attr) return 0;
  std::string value;
  try {
    if (read_string_attribute(attr.get(), value)) (*out)[name] = std::move(value);
  } catch (...) {
    return -1;  // e.g. bad_alloc; never let an exception cross the C library
  }
  return 0;
}

}  // namespace

std::size_t NdArray::size() const noexcept {
  std::size_t n = 1;
  for (std::size_t d : shape) n *= d;
  return n;
}

void NdArray::validate() const {
  if (data.size() != size()) {
    std::string dims;
    for (std::size_t i = 0; i < shape.size(); ++i) dims += (i ? ", " : "") + std::to_string(shape[i]);
    throw InvalidArgument("array of shape (" + dims + ") needs " + std::to_string(size()) + " values but has " +
                          std::to_string(data.size()));
  }
}

NdArray NdArray::from_matrix(const Eigen::MatrixXd& m) {
  NdArray a;
  a.shape = {static_cast<std::size_t>(m.rows()), static_cast<std::size_t>(m.cols())};
  a.data.resize(static_cast<std::size_t>(m.size()));
  std::size_t k = 0;
  for (Eigen::Index i = 0; i < m.rows(); ++i)
    for (Eigen::Index j = 0; j < m.cols(); ++j) a.data[k++] = m(i, j);
  return a;
}

NdArray NdArray::from_vector(const Eigen::VectorXd& v) {
  NdArray a;
  a.shape = {static_cast<std::size_t>(v.size())};
  a.data.assign(v.data(), v.data() + v.size());
  return a;
}

Eigen::MatrixXd NdArray::to_matrix() const {
  validate();
  if (shape.size() == 1) {
    Eigen::MatrixXd m(static_cast<Eigen::Index>(shape[0]), 1);
    for (std::size_t i = 0; i < shape[0]; ++i) m(static_cast<Eigen::Index>(i), 0) = data[i];
    return m;
  }
  if (shape.size() == 2) {
    const auto rows = static_cast<Eigen::Index>(shape[0]), cols = static_cast<Eigen::Index>(shape[1]);
    Eigen::MatrixXd m(rows, cols);
    std::size_t k = 0;
    for (Eigen::Index i = 0; i < rows; ++i)
      for (Eigen::Index j = 0; j < cols; ++j) m(i, j) = data[k++];
    return m;
  }
  throw InvalidArgument("to_matrix: array has " + std::to_string(shape.size()) + " dimensions, need 1 or 2");
}

void h5_write(const fs::path& path, const std::map<std::string, NdArray>& arrays,
              const std::map<std::string, std::string>& attributes) {
  // Validate everything before touching the file system.
  std::vector<std::pair<std::string, const NdArray*>> items;
  for (const auto& [name, array] : arrays) {
    try {
      array.validate();
    } catch (const InvalidArgument& e) {
      throw InvalidArgument("h5_write: dataset '" + name + "': " + e.what());
    }
    items.emplace_back(normalise_name(name), &array);
  }
  for (const auto& [name, value] : attributes)
    if (name.empty()) throw InvalidArgument("h5_write: empty attribute name");

  const std::string what = "cannot write HDF5 file '" + path.string() + "'";
  fs::path tmp = path;
  tmp += ".tmp." + std::to_string(static_cast<long>(::getpid()));

  std::lock_guard<std::mutex> lock(h5_mutex());
  silence_hdf5();
  struct RemoveTemp {
    const fs::path& p;
    bool keep = false;
    ~RemoveTemp() {
      if (!keep) {
        std::error_code ec;
        fs::remove(p, ec);
      }
    }
  } remove_temp{tmp};

  {
    Handle file = file_handle(H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
    if (!file) {
      std::error_code ec;
      const auto dir = path.parent_path().empty() ? fs::path(".") : path.parent_path();
      if (!fs::is_directory(dir, ec)) throw IoError(what + ": no such directory '" + dir.string() + "'");
      throw IoError(what + ": cannot create '" + tmp.string() + "'");
    }
    Handle lcpl = plist_handle(H5Pcreate(H5P_LINK_CREATE));
    if (!lcpl || H5Pset_create_intermediate_group(lcpl.get(), 1) < 0) throw IoError(what + ": HDF5 property error");

    for (const auto& [name, array] : items) {
      std::vector<hsize_t> dims(array->shape.begin(), array->shape.end());
      Handle space = space_handle(dims.empty() ? H5Screate(H5S_SCALAR)
                                               : H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr));
      if (!space) throw IoError(what + ": cannot create dataspace for '" + name + "'");
      Handle ds = dataset_handle(
          H5Dcreate2(file.get(), name.c_str(), H5T_IEEE_F64LE, space.get(), lcpl.get(), H5P_DEFAULT, H5P_DEFAULT));
      if (!ds)
        throw IoError(what + ": cannot create dataset '" + name + "' (does a group or dataset of that name clash?)");
      if (!array->data.empty() &&
          H5Dwrite(ds.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, array->data.data()) < 0)
        throw IoError(what + ": cannot write dataset '" + name + "'");
    }

    if (!attributes.empty()) {
      Handle str_type = type_handle(H5Tcopy(H5T_C_S1));
      if (!str_type || H5Tset_size(str_type.get(), H5T_VARIABLE) < 0 || H5Tset_cset(str_type.get(), H5T_CSET_UTF8) < 0)
        throw IoError(what + ": HDF5 string type error");
      Handle scalar = space_handle(H5Screate(H5S_SCALAR));
      for (const auto& [name, value] : attributes) {
        Handle attr =
            attr_handle(H5Acreate2(file.get(), name.c_str(), str_type.get(), scalar.get(), H5P_DEFAULT, H5P_DEFAULT));
        if (!attr) throw IoError(what + ": cannot create attribute '" + name + "'");
        const char* cstr = value.c_str();
        if (H5Awrite(attr.get(), str_type.get(), &cstr) < 0)
          throw IoError(what + ": cannot write attribute '" + name + "'");
      }
    }
    if (H5Fflush(file.get(), H5F_SCOPE_GLOBAL) < 0) throw IoError(what + ": flush failed");
    if (!file.close()) throw IoError(what + ": close failed");
  }

  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) throw IoError(what + ": " + ec.message());
  remove_temp.keep = true;
}

NdArray h5_read(const fs::path& path, const std::string& name) {
  std::lock_guard<std::mutex> lock(h5_mutex());
  Handle file = open_for_reading(path);
  std::string_view key = name;
  if (!key.empty() && key.front() == '/') key.remove_prefix(1);
  const std::string dataset(key);
  if (dataset.empty() || !dataset_exists(file.get(), dataset))
    throw InvalidArgument(path.string() + ": no dataset '" + name +
                          "' (datasets: " + join(list_datasets(file.get(), path)) + ")");

  Handle ds = dataset_handle(H5Dopen2(file.get(), dataset.c_str(), H5P_DEFAULT));
  if (!ds) throw IoError(path.string() + ": cannot open dataset '" + name + "'");
  Handle ftype = type_handle(H5Dget_type(ds.get()));
  const H5T_class_t cls = ftype ? H5Tget_class(ftype.get()) : H5T_NO_CLASS;
  if (cls != H5T_INTEGER && cls != H5T_FLOAT)
    throw InvalidArgument(path.string() + ": dataset '" + name + "' is not numeric");
  Handle space = space_handle(H5Dget_space(ds.get()));
  if (!space) throw IoError(path.string() + ": cannot read the shape of dataset '" + name + "'");

  NdArray out;
  switch (H5Sget_simple_extent_type(space.get())) {
    case H5S_SCALAR:
      break;
    case H5S_SIMPLE: {
      const int rank = H5Sget_simple_extent_ndims(space.get());
      if (rank < 0) throw IoError(path.string() + ": cannot read the shape of dataset '" + name + "'");
      std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
      H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
      out.shape.assign(dims.begin(), dims.end());
      break;
    }
    case H5S_NULL:
      out.shape = {0};
      break;
    default:
      throw IoError(path.string() + ": cannot read the shape of dataset '" + name + "'");
  }
  out.data.resize(out.size());
  if (!out.data.empty() && H5Dread(ds.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data.data()) < 0)
    throw IoError(path.string() + ": cannot read dataset '" + name + "'");
  return out;
}

std::vector<std::string> h5_list(const fs::path& path) {
  std::lock_guard<std::mutex> lock(h5_mutex());
  Handle file = open_for_reading(path);
  return list_datasets(file.get(), path);
}

std::map<std::string, std::string> h5_attributes(const fs::path& path) {
  std::lock_guard<std::mutex> lock(h5_mutex());
  Handle file = open_for_reading(path);
  std::map<std::string, std::string> out;
  hsize_t idx = 0;
  if (H5Aiterate2(file.get(), H5_INDEX_NAME, H5_ITER_INC, &idx, collect_attribute, &out) < 0)
    throw IoError("cannot read attributes of HDF5 file '" + path.string() + "'");
  return out;
}

}  // namespace tsunagu::core
