#pragma once
/// Batch engine: fit every spectrum of a datacube and produce maps (centre, FWHM, area, fraction, χ², status...).
///
/// Design (why): the cube is processed in chunks of `chunk_size` pixels. Each finished chunk is written atomically to
/// its own small HDF5 file in `<out>.parts/`, so an interrupted run (crash, kill, power cut) resumes at the first
/// unfinished chunk and never leaves a half-written maps file; MPI ranks take chunks round-robin and share nothing
/// but the parts directory; the final maps file is assembled chunk by chunk (bounded memory) and renamed into place.
/// Within a chunk, threads take contiguous runs of pixels and warm-start each fit from the previous pixel.
/// Spectra are fitted by a Backend; the CPU reference backend (SpectrumFitter) is the oracle for any future GPU one.
#include <cstddef>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tsunagu/spectra/fit.hpp"

namespace tsunagu::spectra {

/// Per-pixel outcome stored in the `status` map.
enum class PixelStatus : int {
  Ok = 0,            ///< converged
  NotConverged = 1,  ///< stopped at max_iter (parameters still written)
  BadSpectrum = 2,   ///< NaN / negative counts / all zero: skipped, maps NaN
  Failed = 3,        ///< the fit threw a numerical error: maps NaN
};

struct BatchOptions {
  FitOptions fit;                ///< method, peaks, shape, background... (as for a single spectrum)
  std::size_t chunk_size = 4096;  ///< pixels per checkpointed chunk (memory ~ chunk_size × n_energy × 8 B × 2)
  unsigned threads = 0;          ///< 0 = default_threads()
  bool warm_start = true;        ///< start each fit from the previous pixel's result
  bool restart = false;          ///< discard an existing partial run instead of resuming it
  bool progress = true;          ///< progress line with ETA on stderr
  void validate() const;
};

/// Names of the maps produced for a fit configuration, in output order (e.g. "peak1/center", "chi2", "status").
std::vector<std::string> map_names(const FitOptions& options);

/// Maps of one contiguous pixel range: values[name] has one entry per pixel.
struct MapChunk {
  std::vector<std::string> names;
  std::vector<std::vector<double>> values;  ///< (names) × (pixels)
  std::size_t n_ok = 0, n_not_converged = 0, n_bad = 0, n_failed = 0;
  std::vector<std::string> messages;  ///< first few distinct failure messages "pixel i: ..."
};

/// Backend interface: fit `n` spectra stored row-major in `spectra` (n × energy.size()) into `out`.
class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;
  virtual void fit_chunk(const double* spectra, std::size_t n, std::size_t first_pixel, MapChunk& out) = 0;
};
/// The CPU reference backend (threads over SpectrumFitter).
std::unique_ptr<Backend> make_cpu_backend(const BatchOptions& options, std::span<const double> energy,
                                          EnergyScale scale, double photon_energy);

/// In-memory batch (Python fit_batch): spectra (n_pixels × n_energy) row-major → maps (names × n_pixels).
MapChunk fit_arrays(std::span<const double> energy, std::span<const double> spectra, EnergyScale scale,
                    double photon_energy, const BatchOptions& options);

/// Process-group abstraction so MPI stays behind one seam (mpi.cpp); the serial one has rank 0 of 1.
class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual void barrier() = 0;
  virtual std::vector<double> sum(const std::vector<double>& local) = 0;  ///< element-wise all-reduce
};
std::unique_ptr<Communicator> serial_communicator();
/// MPI_COMM_WORLD when tsunagu was built with MPI and MPI is initialised; else the serial communicator.
std::unique_ptr<Communicator> world_communicator();
/// Initialise MPI for the process when launched by mpirun/srun (OMPI_COMM_WORLD_SIZE / PMI_SIZE set) and the build
/// has MPI; finalises in the destructor. A no-op otherwise.
class MpiSession {
 public:
  MpiSession(int* argc, char*** argv);
  ~MpiSession();
  bool active() const noexcept { return active_; }

 private:
  bool active_ = false;
};
bool built_with_mpi() noexcept;

struct BatchSummary {
  std::size_t n_pixels = 0, n_ok = 0, n_not_converged = 0, n_bad = 0, n_failed = 0;
  std::size_t chunks = 0, chunks_resumed = 0;  ///< chunks in total / found already done in the parts directory
  double seconds = 0;                           ///< wall time of this run (fitting + assembly)
  double spectra_per_second = 0;                ///< fitted in this run / fitting time
  std::vector<std::size_t> pixel_shape;
  std::vector<std::string> map_names;
  std::vector<std::string> messages;            ///< a few failure messages (rank 0's)
  int ranks = 1;
};

/// Fit all spectra of `cube` (datasets `spectra_dataset` (d_0..d_{m-1}, n_E) and `energy_dataset` (n_E)) and write
/// the maps to `out` (HDF5: one dataset per map name with shape (d_0..d_{m-1}), plus energy axis and options as
/// attributes). Resumes from `<out>.parts/` unless options.restart. With MPI, all ranks must call it.
BatchSummary fit_batch(const std::filesystem::path& cube, const std::string& spectra_dataset,
                       const std::string& energy_dataset, const std::filesystem::path& out,
                       const BatchOptions& options, Communicator& comm);

/// Render one map of an assembled maps file as PNG or SVG (by extension). `name` is a map name such as
/// "peak1/center"; 2-D pixel shapes are drawn as they are, 1-D as one row, higher ranks as the last two axes of
/// the first slice (the message says so).
void save_map_image(const std::filesystem::path& maps_file, const std::string& name,
                    const std::filesystem::path& image);
/// The checks save_map_image makes before reading anything (name among `names`, .png/.svg extension), so a front
/// end can refuse a bad --map before hours of fitting rather than after.
void check_map_image(const std::string& name, const std::filesystem::path& image, const std::vector<std::string>& names);

}  // namespace tsunagu::spectra
