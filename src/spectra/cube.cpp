#include "tsunagu/spectra/cube.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numeric>

#include "../core/h5_detail.hpp"
#include "tsunagu/core/error.hpp"
#include "tsunagu/core/hdf5.hpp"
#include "tsunagu/core/table.hpp"

namespace tsunagu::spectra {

namespace fs = std::filesystem;
using core::detail::Handle;

std::vector<PixelBlock> flat_blocks(const std::vector<std::size_t>& shape, std::size_t begin, std::size_t end) {
  const std::size_t m = shape.size();
  std::vector<std::size_t> stride(m, 1);  // stride[j] = prod_{l>j} shape[l]
  for (std::size_t j = m; j-- > 1;) stride[j - 1] = stride[j] * shape[j];
  const std::size_t total = m ? stride[0] * shape[0] : 1;
  if (begin > end || end > total)
    throw InvalidArgument("pixel range " + std::to_string(begin) + ".." + std::to_string(end) + " outside 0.." +
                          std::to_string(total));
  std::vector<PixelBlock> out;
  if (m == 0) {
    if (end > begin) out.push_back({{}, {}, begin, end - begin});
    return out;
  }
  std::size_t a = begin;
  while (a < end) {
    // The coarsest dimension j at which `a` is aligned and a whole slice of it still fits gives the biggest block.
    std::size_t j = 0;
    while (j < m && !(a % stride[j] == 0 && a + stride[j] <= end)) ++j;
    // j < m always: stride[m-1] = 1 divides a and a + 1 <= end.
    std::vector<std::size_t> idx(m);
    std::size_t rem = a;
    for (std::size_t l = 0; l < m; ++l) {
      idx[l] = rem / stride[l];
      rem %= stride[l];
    }
    const std::size_t c = std::min((end - a) / stride[j], shape[j] - idx[j]);
    PixelBlock b;
    b.start = idx;
    b.count.assign(m, 1);
    b.count[j] = c;
    for (std::size_t l = j + 1; l < m; ++l) b.count[l] = shape[l];
    b.flat_begin = a;
    b.size = c * stride[j];
    out.push_back(std::move(b));
    a += c * stride[j];
  }
  return out;
}

struct CubeReader::Impl {
  Handle file, dataset;
};

namespace {

std::vector<std::size_t> dataset_dims(hid_t dset) {
  Handle space = core::detail::space_handle(H5Dget_space(dset));
  const int rank = H5Sget_simple_extent_ndims(space.get());
  std::vector<hsize_t> d(static_cast<std::size_t>(std::max(rank, 0)));
  if (rank > 0) H5Sget_simple_extent_dims(space.get(), d.data(), nullptr);
  return {d.begin(), d.end()};
}

std::string shape_text(const std::vector<std::size_t>& s) {
  std::string out = "(";
  for (std::size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + ")";
}

bool numeric_dataset(hid_t dset) {
  Handle t = core::detail::type_handle(H5Dget_type(dset));
  const H5T_class_t c = H5Tget_class(t.get());
  return c == H5T_INTEGER || c == H5T_FLOAT;
}

}  // namespace

CubeReader::CubeReader(const fs::path& path, const std::string& spectra, const std::string& energy)
    : impl_(std::make_unique<Impl>()), path_(path), spectra_name_(spectra) {
  std::map<std::string, std::string> root_attrs;
  if (!fs::exists(path)) throw IoError("cannot open " + path.string() + ": no such file");
  root_attrs = core::h5_attributes(path);  // takes the HDF5 lock itself; throws IoError when not HDF5
  std::lock_guard<std::mutex> lock(core::detail::h5_mutex());
  core::detail::silence_hdf5();
  impl_->file = core::detail::file_handle(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
  if (!impl_->file) throw IoError("cannot open " + path.string() + " as HDF5");
  auto open = [&](const std::string& name, const char* role) {
    if (name.empty()) throw InvalidArgument(std::string("--") + role + ": dataset path is empty");
    if (H5Lexists(impl_->file.get(), name.c_str(), H5P_DEFAULT) <= 0)
      throw InvalidArgument(path.string() + ": no dataset '" + name + "' (given as the " + role + " dataset)");
    Handle d = core::detail::dataset_handle(H5Dopen2(impl_->file.get(), name.c_str(), H5P_DEFAULT));
    if (!d) throw InvalidArgument(path.string() + ": '" + name + "' is not a dataset");
    if (!numeric_dataset(d.get()))
      throw InvalidArgument(path.string() + ": dataset '" + name + "' is not numeric");
    return d;
  };
  impl_->dataset = open(spectra, "spectra");
  Handle edset = open(energy, "energy");
  const auto sdims = dataset_dims(impl_->dataset.get());
  const auto edims = dataset_dims(edset.get());
  if (edims.size() != 1)
    throw InvalidArgument(path.string() + ": energy dataset '" + energy + "' must be 1-D, has shape " +
                          shape_text(edims));
  if (sdims.empty())
    throw InvalidArgument(path.string() + ": spectra dataset '" + spectra + "' is a scalar");
  if (sdims.back() != edims[0]) {
    std::string hint;
    if (sdims.front() == edims[0]) hint = " (energy must be the LAST axis; transpose the cube)";
    throw InvalidArgument(path.string() + ": spectra dataset '" + spectra + "' has shape " + shape_text(sdims) +
                          " but the energy axis '" + energy + "' has " + std::to_string(edims[0]) + " points" + hint);
  }
  pixel_shape_.assign(sdims.begin(), sdims.end() - 1);
  n_pixels_ = std::accumulate(pixel_shape_.begin(), pixel_shape_.end(), std::size_t{1}, std::multiplies<>());
  energy_.resize(edims[0]);
  if (H5Dread(edset.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, energy_.data()) < 0)
    throw IoError(path.string() + ": cannot read energy dataset '" + energy + "'");
  // Photon energy as a numeric attribute of the energy dataset (the natural place for it).
  if (H5Aexists(edset.get(), "photon_energy") > 0) {
    Handle a = core::detail::attr_handle(H5Aopen(edset.get(), "photon_energy", H5P_DEFAULT));
    double v = NAN;
    if (a && H5Aread(a.get(), H5T_NATIVE_DOUBLE, &v) >= 0) photon_energy_ = v;
  }
  if (auto it = root_attrs.find("photon_energy"); it != root_attrs.end()) {
    try {
      photon_energy_ = std::stod(it->second);
    } catch (const std::exception&) {
      throw InvalidArgument(path.string() + ": attribute photon_energy='" + it->second + "' is not a number");
    }
  }
  if (auto it = root_attrs.find("energy_scale"); it != root_attrs.end()) scale_ = energy_scale_from_string(it->second);
  for (std::size_t i = 0; i < energy_.size(); ++i)
    if (!std::isfinite(energy_[i]))
      throw InvalidArgument(path.string() + ": energy '" + energy + "' is not finite at index " + std::to_string(i));
}

CubeReader::~CubeReader() {
  std::lock_guard<std::mutex> lock(core::detail::h5_mutex());
  impl_.reset();
}

void CubeReader::read(std::size_t begin, std::size_t end, std::vector<double>& out) const {
  const std::size_t ne = energy_.size();
  out.resize((end - begin) * ne);
  const auto blocks = flat_blocks(pixel_shape_, begin, end);
  std::lock_guard<std::mutex> lock(core::detail::h5_mutex());
  Handle fspace = core::detail::space_handle(H5Dget_space(impl_->dataset.get()));
  const std::size_t m = pixel_shape_.size();
  for (const auto& b : blocks) {
    std::vector<hsize_t> start(m + 1), count(m + 1);
    for (std::size_t l = 0; l < m; ++l) {
      start[l] = b.start[l];
      count[l] = b.count[l];
    }
    start[m] = 0;
    count[m] = ne;
    if (H5Sselect_hyperslab(fspace.get(), H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr) < 0)
      throw IoError(path_.string() + ": cannot select pixels of '" + spectra_name_ + "'");
    const hsize_t nmem = static_cast<hsize_t>(b.size * ne);
    Handle mspace = core::detail::space_handle(H5Screate_simple(1, &nmem, nullptr));
    if (H5Dread(impl_->dataset.get(), H5T_NATIVE_DOUBLE, mspace.get(), fspace.get(), H5P_DEFAULT,
                out.data() + (b.flat_begin - begin) * ne) < 0)
      throw IoError(path_.string() + ": cannot read pixels " + std::to_string(b.flat_begin) + ".." +
                    std::to_string(b.flat_begin + b.size) + " of '" + spectra_name_ + "'");
  }
}

bool is_hdf5(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  char sig[8] = {};
  in.read(sig, 8);
  return in.gcount() == 8 && std::string(sig, 8) == std::string("\x89HDF\r\n\x1a\n", 8);
}

CubeDescription describe_cube(const fs::path& path) {
  CubeDescription d;
  const auto names = core::h5_list(path);  // IoError when unreadable
  {
    std::lock_guard<std::mutex> lock(core::detail::h5_mutex());
    core::detail::silence_hdf5();
    Handle f = core::detail::file_handle(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
    if (!f) throw IoError("cannot open " + path.string() + " as HDF5");
    for (const auto& n : names) {
      Handle ds = core::detail::dataset_handle(H5Dopen2(f.get(), n.c_str(), H5P_DEFAULT));
      if (!ds || !numeric_dataset(ds.get())) continue;
      d.datasets.emplace_back(n, dataset_dims(ds.get()));
    }
  }
  for (const auto& [sname, sshape] : d.datasets) {
    if (sshape.size() < 2) continue;
    for (const auto& [ename, eshape] : d.datasets)
      if (eshape.size() == 1 && eshape[0] == sshape.back()) {
        CubeCandidate c{sname, ename, sshape, 0, 0};
        const auto e = core::h5_read(path, ename);
        c.energy_min = *std::min_element(e.data.begin(), e.data.end());
        c.energy_max = *std::max_element(e.data.begin(), e.data.end());
        d.candidates.push_back(std::move(c));
      }
  }
  return d;
}

void write_cube(const fs::path& path, const std::vector<std::size_t>& pixel_shape, const std::vector<double>& spectra,
                const std::vector<double>& energy, EnergyScale scale, double photon_energy,
                const std::string& spectra_name, const std::string& energy_name) {
  core::NdArray s;
  s.shape = pixel_shape;
  s.shape.push_back(energy.size());
  s.data = spectra;
  s.validate();
  core::NdArray e;
  e.shape = {energy.size()};
  e.data = energy;
  std::map<std::string, std::string> attrs{{"energy_scale", to_string(scale)}};
  if (std::isfinite(photon_energy)) attrs["photon_energy"] = core::format_double(photon_energy);
  core::h5_write(path, {{spectra_name, s}, {energy_name, e}}, attrs);
}

}  // namespace tsunagu::spectra
