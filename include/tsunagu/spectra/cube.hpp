#pragma once
/// HDF5 spectral datacubes: a dataset of spectra with shape (d_0, ..., d_{m-1}, n_energy) — any numeric type, the
/// LAST axis is energy — and a 1-D energy dataset (n_energy, eV). Pixels are addressed by their flat C-order index
/// over (d_0..d_{m-1}); a contiguous flat range is read with a handful of hyperslabs, so memory stays bounded by the
/// chunk whatever the cube size.
#include <cstddef>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tsunagu/spectra/spectrum.hpp"

namespace tsunagu::spectra {

/// One rectangular hyperslab of a flat pixel range: start/count over the pixel dimensions (size m).
struct PixelBlock {
  std::vector<std::size_t> start, count;
  std::size_t flat_begin = 0, size = 0;  ///< flat index of the first pixel, number of pixels
};
/// Decompose the flat range [begin, end) of a C-order array of `shape` into at most 2m contiguous blocks.
std::vector<PixelBlock> flat_blocks(const std::vector<std::size_t>& shape, std::size_t begin, std::size_t end);

class CubeReader {
 public:
  /// Opens `path` read-only. `spectra` and `energy` are dataset paths ("/cube/spectra"). Throws IoError for an
  /// unreadable file, InvalidArgument naming the dataset when missing, not numeric, or when the energy length does
  /// not match the last axis (the message says so if it matches the first axis instead).
  CubeReader(const std::filesystem::path& path, const std::string& spectra, const std::string& energy);
  ~CubeReader();
  CubeReader(const CubeReader&) = delete;
  CubeReader& operator=(const CubeReader&) = delete;

  const std::vector<std::size_t>& pixel_shape() const noexcept { return pixel_shape_; }  ///< (d_0..d_{m-1})
  std::size_t n_pixels() const noexcept { return n_pixels_; }
  std::size_t n_energy() const noexcept { return energy_.size(); }
  const std::vector<double>& energy() const noexcept { return energy_; }  ///< (n_energy) eV
  /// Energy scale / photon energy from attributes "energy_scale" ("binding"|"kinetic") and "photon_energy" (eV)
  /// on the energy dataset or the root group; binding / NaN when absent.
  EnergyScale scale() const noexcept { return scale_; }
  double photon_energy() const noexcept { return photon_energy_; }
  const std::filesystem::path& path() const noexcept { return path_; }
  const std::string& spectra_name() const noexcept { return spectra_name_; }

  /// Read pixels [begin, end) into `out`, resized to (end − begin) × n_energy, row-major (one spectrum per row).
  /// Thread-safe (HDF5 calls are serialised).
  void read(std::size_t begin, std::size_t end, std::vector<double>& out) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::filesystem::path path_;
  std::string spectra_name_;
  std::vector<std::size_t> pixel_shape_;
  std::size_t n_pixels_ = 0;
  std::vector<double> energy_;
  EnergyScale scale_ = EnergyScale::Binding;
  double photon_energy_ = std::numeric_limits<double>::quiet_NaN();
};

/// True when the file starts with the HDF5 signature.
bool is_hdf5(const std::filesystem::path& path);

/// For `spectra info` on a cube: every numeric dataset with its shape, and the (spectra, energy) pairs that fit
/// together (an N-D dataset whose last axis has the length of a 1-D dataset), with the energy range of each pair.
struct CubeCandidate {
  std::string spectra, energy;
  std::vector<std::size_t> shape;  ///< of the spectra dataset
  double energy_min = 0, energy_max = 0;
};
struct CubeDescription {
  std::vector<std::pair<std::string, std::vector<std::size_t>>> datasets;
  std::vector<CubeCandidate> candidates;
};
CubeDescription describe_cube(const std::filesystem::path& path);

/// Write a cube file (for examples and tests): spectra (d_0..d_{m-1}, n_energy) row-major, energy (n_energy), with
/// the energy_scale / photon_energy attributes. Atomic.
void write_cube(const std::filesystem::path& path, const std::vector<std::size_t>& pixel_shape,
                const std::vector<double>& spectra, const std::vector<double>& energy, EnergyScale scale,
                double photon_energy = std::numeric_limits<double>::quiet_NaN(),
                const std::string& spectra_name = "spectra", const std::string& energy_name = "energy");

}  // namespace tsunagu::spectra
