#include "tsunagu/spectra/batch.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <set>

#include <nlohmann/json.hpp>

#include "../core/h5_detail.hpp"
#include "tsunagu/core/error.hpp"
#include "tsunagu/core/hdf5.hpp"
#include "tsunagu/core/io.hpp"
#include "tsunagu/core/progress.hpp"
#include "tsunagu/core/thread_pool.hpp"
#include "tsunagu/spectra/cube.hpp"
#include "tsunagu/spectra/plots.hpp"

namespace tsunagu::spectra {

namespace fs = std::filesystem;

void BatchOptions::validate() const {
  fit.validate();
  if (chunk_size < 1) throw InvalidArgument("chunk_size must be >= 1");
  if (fit.method == Method::Bayes)
    throw InvalidArgument("method 'bayes' is not available in batch mode (seconds per spectrum); use em or lsq, "
                          "and `spectra select` on representative pixels");
}

namespace {

std::size_t peak_count(const FitOptions& o) { return o.n_peaks ? o.n_peaks : o.centers.size(); }

constexpr std::size_t kMaxMessages = 8;

}  // namespace

std::vector<std::string> map_names(const FitOptions& o) {
  std::vector<std::string> names;
  for (std::size_t k = 1; k <= peak_count(o); ++k) {
    const std::string p = "peak" + std::to_string(k) + "/";
    for (const char* n : {"center", "fwhm", "area", "height", "fraction"}) names.push_back(p + n);
    for (const auto& s : shape_param_names(o.shape)) names.push_back(p + s);
    if (o.method == Method::Lsq)
      for (const char* n : {"center_err", "fwhm_err", "area_err"}) names.push_back(p + n);
  }
  // Background level at both ends of the window: comparable across background kinds.
  names.push_back("background/low_end");
  names.push_back("background/high_end");
  // bic: compare runs with different K pixel by pixel (the fast alternative to Bayesian selection for big cubes)
  for (const char* n : {"chi2", "reduced_chi2", "bic", "n_iter", "status"}) names.push_back(n);
  return names;
}

namespace {

/// Fill column `pixel` of the maps from one fit result.
void store(const FitResult& r, const FitOptions& o, MapChunk& out, std::size_t pixel) {
  std::size_t c = 0;
  auto put = [&](double v) { out.values[c++][pixel] = v; };
  double total = 0;
  for (const auto& pk : r.peaks) total += pk.area;
  const std::size_t K = peak_count(o);
  for (std::size_t k = 0; k < K; ++k) {
    if (k >= r.peaks.size()) {
      c += 5 + n_shape_params(o.shape) + (o.method == Method::Lsq ? 3 : 0);
      continue;
    }
    const Peak& pk = r.peaks[k];
    put(pk.center);
    put(pk.fwhm);
    put(pk.area);
    put(pk.height());
    put(total > 0 ? pk.area / total : NAN);
    for (double s : pk.shape_params) put(s);
    if (o.method == Method::Lsq)
      for (std::size_t j = 0; j < 3; ++j) put(pk.std_error.size() > j ? pk.std_error[j] : NAN);
  }
  const auto& bg = r.background.values;
  if (bg.empty()) {
    put(0);
    put(0);
  } else {
    // Values are stored in input order; "low"/"high" refer to the reported energy.
    const bool asc = r.energy.front() < r.energy.back();
    put(asc ? bg.front() : bg.back());
    put(asc ? bg.back() : bg.front());
  }
  put(r.chi2);
  put(r.reduced_chi2);
  put(r.bic);
  put(r.n_iter);
  put(static_cast<double>(r.converged ? PixelStatus::Ok : PixelStatus::NotConverged));
}

void init_chunk(MapChunk& out, const std::vector<std::string>& names, std::size_t n) {
  out.names = names;
  out.values.assign(names.size(), std::vector<double>(n, NAN));
  out.n_ok = out.n_not_converged = out.n_bad = out.n_failed = 0;
  out.messages.clear();
}

class CpuBackend final : public Backend {
 public:
  CpuBackend(const BatchOptions& o, std::span<const double> energy, EnergyScale scale, double hv)
      : options_(o), names_(map_names(o.fit)), n_energy_(energy.size()) {
    threads_ = o.threads ? o.threads : core::default_threads();
    for (unsigned t = 0; t < threads_; ++t) fitters_.emplace_back(o.fit, energy, scale, hv);
  }
  std::string name() const override { return "cpu"; }

  void fit_chunk(const double* spectra, std::size_t n, std::size_t first_pixel, MapChunk& out) override {
    init_chunk(out, names_, n);
    const std::size_t status_col = names_.size() - 1;
    std::vector<MapChunk> local(threads_);
    const unsigned nt = static_cast<unsigned>(std::min<std::size_t>(threads_, std::max<std::size_t>(n, 1)));
    core::parallel_for(n, nt, [&](std::size_t b, std::size_t e, unsigned t) {
      SpectrumFitter& fitter = fitters_[t];
      MapChunk& stats = local[t];
      FitResult prev;
      bool have_prev = false;
      for (std::size_t i = b; i < e; ++i) {
        std::span<const double> counts(spectra + i * n_energy_, n_energy_);
        try {
          FitResult r = fitter.fit(counts, options_.warm_start && have_prev ? &prev : nullptr);
          store(r, options_.fit, out, i);
          (r.converged ? stats.n_ok : stats.n_not_converged)++;
          have_prev = r.converged;
          if (have_prev) prev = std::move(r);
        } catch (const InvalidArgument& ex) {
          out.values[status_col][i] = static_cast<double>(PixelStatus::BadSpectrum);
          stats.n_bad++;
          have_prev = false;
          if (stats.messages.size() < kMaxMessages)
            stats.messages.push_back("pixel " + std::to_string(first_pixel + i) + ": " + ex.what());
        } catch (const Error& ex) {
          out.values[status_col][i] = static_cast<double>(PixelStatus::Failed);
          stats.n_failed++;
          have_prev = false;
          if (stats.messages.size() < kMaxMessages)
            stats.messages.push_back("pixel " + std::to_string(first_pixel + i) + ": " + ex.what());
        }
        if (progress_) progress_->tick();
      }
    });
    for (const auto& s : local) {
      out.n_ok += s.n_ok;
      out.n_not_converged += s.n_not_converged;
      out.n_bad += s.n_bad;
      out.n_failed += s.n_failed;
      for (const auto& m : s.messages)
        if (out.messages.size() < kMaxMessages) out.messages.push_back(m);
    }
  }
  void set_progress(core::Progress* p) { progress_ = p; }

 private:
  BatchOptions options_;
  std::vector<std::string> names_;
  std::size_t n_energy_;
  unsigned threads_ = 1;
  std::vector<SpectrumFitter> fitters_;
  core::Progress* progress_ = nullptr;
};

class SerialCommunicator final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  void barrier() override {}
  std::vector<double> sum(const std::vector<double>& local) override { return local; }
};

std::string part_name(std::size_t chunk) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "chunk_%08zu.h5", chunk);
  return buf;
}

/// Assemble the part files into `out` (atomic), one chunk at a time.
void assemble(const fs::path& parts, const fs::path& out, const std::vector<std::size_t>& pixel_shape,
              std::size_t n_pixels, std::size_t chunk_size, const std::vector<std::string>& names,
              const std::map<std::string, std::string>& attrs, BatchSummary& summary) {
  using namespace core::detail;
  const std::size_t n_chunks = (n_pixels + chunk_size - 1) / chunk_size;
  // Read every part first (outside the HDF5 lock taken below: h5_read locks by itself) one at a time.
  fs::path tmp = out;
  tmp += ".assembling." + std::to_string(::getpid());
  std::vector<hsize_t> dims(pixel_shape.begin(), pixel_shape.end());
  try {
    {
      std::lock_guard<std::mutex> lock(h5_mutex());
      silence_hdf5();
      Handle f = file_handle(H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
      if (!f) throw IoError("cannot create " + tmp.string());
      Handle lcpl = plist_handle(H5Pcreate(H5P_LINK_CREATE));
      H5Pset_create_intermediate_group(lcpl.get(), 1);
      Handle dcpl = plist_handle(H5Pcreate(H5P_DATASET_CREATE));
      const double nan = NAN;
      H5Pset_fill_value(dcpl.get(), H5T_NATIVE_DOUBLE, &nan);
      Handle space = space_handle(dims.empty() ? H5Screate(H5S_SCALAR)
                                               : H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr));
      for (const auto& name : names) {
        Handle d = dataset_handle(H5Dcreate2(f.get(), name.c_str(), H5T_IEEE_F64LE, space.get(), lcpl.get(),
                                             dcpl.get(), H5P_DEFAULT));
        if (!d) throw IoError("cannot create dataset " + name + " in " + tmp.string());
      }
      Handle scalar = space_handle(H5Screate(H5S_SCALAR));
      for (const auto& [k, v] : attrs) {
        Handle t = type_handle(H5Tcopy(H5T_C_S1));
        H5Tset_size(t.get(), std::max<std::size_t>(v.size(), 1));
        Handle a = attr_handle(H5Acreate2(f.get(), k.c_str(), t.get(), scalar.get(), H5P_DEFAULT, H5P_DEFAULT));
        if (!a || H5Awrite(a.get(), t.get(), v.c_str()) < 0) throw IoError("cannot write attribute " + k);
      }
      if (!f.close()) throw IoError("cannot write " + tmp.string());
    }
    std::vector<std::size_t> status_counts(4, 0);
    for (std::size_t c = 0; c < n_chunks; ++c) {
      const fs::path part = parts / part_name(c);
      const std::size_t b = c * chunk_size, e = std::min(n_pixels, b + chunk_size);
      std::vector<core::NdArray> cols;
      cols.reserve(names.size());
      for (const auto& name : names) {
        cols.push_back(core::h5_read(part, name));
        if (cols.back().data.size() != e - b)
          throw IoError(part.string() + ": dataset " + name + " has " + std::to_string(cols.back().data.size()) +
                        " values, expected " + std::to_string(e - b) + " (delete the parts directory and rerun)");
      }
      for (double s : cols.back().data)
        if (s >= 0 && s <= 3) status_counts[static_cast<std::size_t>(s)]++;
      std::lock_guard<std::mutex> lock(h5_mutex());
      Handle f = file_handle(H5Fopen(tmp.c_str(), H5F_ACC_RDWR, H5P_DEFAULT));
      if (!f) throw IoError("cannot reopen " + tmp.string());
      const auto blocks = flat_blocks(pixel_shape, b, e);
      for (std::size_t n = 0; n < names.size(); ++n) {
        Handle d = dataset_handle(H5Dopen2(f.get(), names[n].c_str(), H5P_DEFAULT));
        Handle fs_ = space_handle(H5Dget_space(d.get()));
        for (const auto& blk : blocks) {
          if (!dims.empty()) {
            std::vector<hsize_t> st(blk.start.begin(), blk.start.end()), ct(blk.count.begin(), blk.count.end());
            H5Sselect_hyperslab(fs_.get(), H5S_SELECT_SET, st.data(), nullptr, ct.data(), nullptr);
          }
          const hsize_t nm = blk.size;
          Handle ms = space_handle(H5Screate_simple(1, &nm, nullptr));
          if (H5Dwrite(d.get(), H5T_NATIVE_DOUBLE, ms.get(), fs_.get(), H5P_DEFAULT,
                       cols[n].data.data() + (blk.flat_begin - b)) < 0)
            throw IoError("cannot write " + names[n] + " to " + tmp.string());
        }
      }
      if (!f.close()) throw IoError("cannot write " + tmp.string());
    }
    summary.n_ok = status_counts[0];
    summary.n_not_converged = status_counts[1];
    summary.n_bad = status_counts[2];
    summary.n_failed = status_counts[3];
    fs::rename(tmp, out);
  } catch (...) {
    std::error_code ec;
    fs::remove(tmp, ec);
    throw;
  }
}

}  // namespace

std::unique_ptr<Backend> make_cpu_backend(const BatchOptions& options, std::span<const double> energy,
                                          EnergyScale scale, double photon_energy) {
  return std::make_unique<CpuBackend>(options, energy, scale, photon_energy);
}

std::unique_ptr<Communicator> serial_communicator() { return std::make_unique<SerialCommunicator>(); }

MapChunk fit_arrays(std::span<const double> energy, std::span<const double> spectra, EnergyScale scale,
                    double photon_energy, const BatchOptions& options) {
  options.validate();
  if (energy.empty()) throw InvalidArgument("fit_batch: energy axis is empty");
  if (spectra.size() % energy.size() != 0)
    throw InvalidArgument("fit_batch: spectra hold " + std::to_string(spectra.size()) +
                          " values, not a multiple of the " + std::to_string(energy.size()) + " energies");
  const std::size_t n = spectra.size() / energy.size();
  CpuBackend backend(options, energy, scale, photon_energy);
  core::Progress progress("spectra batch", options.progress ? n : 0);
  if (options.progress) backend.set_progress(&progress);
  MapChunk out;
  backend.fit_chunk(spectra.data(), n, 0, out);
  progress.finish();
  return out;
}

BatchSummary fit_batch(const fs::path& cube, const std::string& spectra_dataset, const std::string& energy_dataset,
                       const fs::path& out, const BatchOptions& options, Communicator& comm) {
  options.validate();
  const auto t0 = std::chrono::steady_clock::now();
  CubeReader reader(cube, spectra_dataset, energy_dataset);
  BatchSummary summary;
  summary.pixel_shape = reader.pixel_shape();
  summary.n_pixels = reader.n_pixels();
  summary.map_names = map_names(options.fit);
  summary.ranks = comm.size();
  const std::size_t n = reader.n_pixels(), cs = options.chunk_size;
  const std::size_t n_chunks = (n + cs - 1) / cs;
  summary.chunks = n_chunks;
  if (n == 0) throw InvalidArgument(cube.string() + ": dataset '" + spectra_dataset + "' holds no spectra");

  // Fingerprint of the run: resuming with other settings would mix incompatible chunks.
  nlohmann::json fp;
  fp["cube"] = fs::absolute(cube).lexically_normal().string();
  fp["spectra"] = spectra_dataset;
  fp["energy"] = energy_dataset;
  fp["pixel_shape"] = reader.pixel_shape();
  fp["n_energy"] = reader.n_energy();
  fp["chunk_size"] = cs;
  fp["fit"] = to_json(options.fit);
  fp["maps"] = summary.map_names;
  const std::string fp_text = fp.dump(1);
  fs::path parts = out;
  parts += ".parts";
  const fs::path fp_file = parts / "fingerprint.json";
  if (comm.rank() == 0) {
    std::error_code ec;
    if (options.restart) fs::remove_all(parts, ec);
    if (fs::exists(fp_file)) {
      if (core::read_file(fp_file) != fp_text)
        throw InvalidArgument("an unfinished run in " + parts.string() +
                              " used different data or options; delete that directory or pass --restart");
    } else {
      fs::create_directories(parts, ec);
      if (ec) throw IoError("cannot create " + parts.string() + ": " + ec.message());
      core::write_file_atomic(fp_file, fp_text);
    }
  }
  comm.barrier();

  // Chunks already done (by an earlier run) are skipped; ranks take the rest round-robin.
  std::vector<std::size_t> todo;
  std::size_t resumed = 0;
  for (std::size_t c = 0; c < n_chunks; ++c) {
    if (fs::exists(parts / part_name(c))) {
      ++resumed;
      continue;
    }
    todo.push_back(c);
  }
  summary.chunks_resumed = resumed;
  std::size_t my_pixels = 0;
  for (std::size_t i = static_cast<std::size_t>(comm.rank()); i < todo.size(); i += comm.size())
    my_pixels += std::min(n, (todo[i] + 1) * cs) - todo[i] * cs;

  CpuBackend backend(options, reader.energy(), reader.scale(), reader.photon_energy());
  core::Progress progress(comm.size() > 1 ? "spectra batch (rank 0)" : "spectra batch",
                          options.progress && comm.rank() == 0 ? my_pixels : 0);
  if (options.progress && comm.rank() == 0) backend.set_progress(&progress);
  std::vector<double> buffer;
  MapChunk chunk;
  std::size_t fitted = 0;
  const auto tf0 = std::chrono::steady_clock::now();
  for (std::size_t i = static_cast<std::size_t>(comm.rank()); i < todo.size(); i += comm.size()) {
    const std::size_t c = todo[i], b = c * cs, e = std::min(n, b + cs);
    reader.read(b, e, buffer);
    backend.fit_chunk(buffer.data(), e - b, b, chunk);
    std::map<std::string, core::NdArray> arrays;
    for (std::size_t k = 0; k < chunk.names.size(); ++k) {
      core::NdArray a;
      a.shape = {e - b};
      a.data = std::move(chunk.values[k]);
      arrays.emplace(chunk.names[k], std::move(a));
    }
    core::h5_write(parts / part_name(c), arrays);  // atomic: a chunk file is complete or absent
    fitted += e - b;
    for (const auto& m : chunk.messages)
      if (summary.messages.size() < kMaxMessages) summary.messages.push_back(m);
  }
  progress.finish();
  const double fit_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - tf0).count();
  const auto totals = comm.sum({static_cast<double>(fitted), fit_seconds});
  // All ranks fit concurrently, so the aggregate rate is the total fitted over this rank's wall time.
  summary.spectra_per_second = totals[0] / std::max(fit_seconds, 1e-9);
  comm.barrier();

  if (comm.rank() == 0) {
    std::map<std::string, std::string> attrs{{"tsunagu_fit", to_json(options.fit).dump()},
                                             {"cube", fp["cube"].get<std::string>()},
                                             {"spectra_dataset", spectra_dataset},
                                             {"energy_scale", to_string(options.fit.energy)}};
    assemble(parts, out, reader.pixel_shape(), n, cs, summary.map_names, attrs, summary);
    std::error_code ec;
    fs::remove_all(parts, ec);
  }
  comm.barrier();
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return summary;
}

}  // namespace tsunagu::spectra

namespace tsunagu::spectra {

void check_map_image(const std::string& name, const fs::path& image, const std::vector<std::string>& names) {
  const std::string ext = image.extension().string();
  if (ext != ".png" && ext != ".svg")
    throw InvalidArgument("map image '" + image.string() + "': the file name must end in .png or .svg");
  if (!names.empty() && std::find(names.begin(), names.end(), name) == names.end()) {
    std::string list;
    for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
    throw InvalidArgument("no map named '" + name + "'; available: " + list);
  }
}

void save_map_image(const fs::path& maps_file, const std::string& name, const fs::path& image) {
  check_map_image(name, image, {});
  const std::string ext = image.extension().string();
  const core::NdArray a = core::h5_read(maps_file, name);
  std::size_t rows = 1, cols = a.data.size();
  std::string title = name;
  if (a.shape.size() >= 2) {
    rows = a.shape[a.shape.size() - 2];
    cols = a.shape.back();
    if (a.shape.size() > 2) title += " (first slice of the leading axes)";
  }
  if (rows * cols == 0) throw InvalidArgument(maps_file.string() + ": map '" + name + "' is empty");
  // h5 data are row-major; Eigen's default is column-major, so copy element by element.
  Eigen::MatrixXd m(static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(cols));
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t c = 0; c < cols; ++c) m(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(c)) = a.data[r * cols + c];
  std::string unit = name;
  const auto slash = name.rfind('/');
  const std::string leaf = slash == std::string::npos ? name : name.substr(slash + 1);
  if (leaf == "center" || leaf == "fwhm" || leaf.ends_with("_err") || leaf == "low_end" || leaf == "high_end")
    unit = name + (leaf == "low_end" || leaf == "high_end" ? " (counts)" : " (eV)");
  else if (leaf == "area")
    unit = name + " (counts·eV)";
  if (ext == ".png")
    save_map_png(image, m, title, unit);
  else
    core::write_file_atomic(image, map_svg(m, title, unit));
}

}  // namespace tsunagu::spectra
