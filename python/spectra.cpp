// Bindings of tsunagu::spectra. Options travel as JSON text (parsed and validated by the library's
// fit_options_from_json, which rejects unknown keys), results come back as the same JSON documents the CLI writes,
// plus numpy arrays for the batch maps — so the CLI and Python share one implementation of both.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <nlohmann/json.hpp>

#include "bindings.hpp"
#include "tsunagu/core/error.hpp"
#include "tsunagu/spectra/batch.hpp"
#include "tsunagu/spectra/fit.hpp"
#include "tsunagu/spectra/plots.hpp"
#include "tsunagu/spectra/readers.hpp"

namespace py = pybind11;
using namespace tsunagu::spectra;

namespace tsunagu::python {

namespace {

/// Options arrive as JSON text from tsunagu/spectra.py; a malformed document is a bad argument, not a crash.
FitOptions parse_options(const std::string& text) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw InvalidArgument(std::string("fit options are not valid JSON: ") + e.what());
  }
  return fit_options_from_json(j);
}

using Array = py::array_t<double, py::array::c_style | py::array::forcecast>;

Spectrum make_spectrum(const Array& energy, const Array& counts, const std::string& scale, double photon_energy) {
  if (energy.ndim() != 1 || counts.ndim() != 1)
    throw InvalidArgument("energy and counts must be 1-D arrays, got shapes with " + std::to_string(energy.ndim()) +
                          " and " + std::to_string(counts.ndim()) + " dimensions");
  Spectrum s;
  s.energy.assign(energy.data(), energy.data() + energy.size());
  s.counts.assign(counts.data(), counts.data() + counts.size());
  s.scale = energy_scale_from_string(scale);
  s.photon_energy = photon_energy;
  s.source = "array";
  return s;
}

py::dict spectrum_dict(const Spectrum& s) {
  py::dict d;
  d["energy"] = py::array_t<double>(static_cast<py::ssize_t>(s.energy.size()), s.energy.data());
  d["counts"] = py::array_t<double>(static_cast<py::ssize_t>(s.counts.size()), s.counts.data());
  d["scale"] = to_string(s.scale);
  d["photon_energy"] = s.photon_energy;
  d["work_function"] = s.work_function;
  d["name"] = s.name;
  d["source"] = s.source;
  d["metadata"] = s.metadata;
  return d;
}

}  // namespace

void bind_spectra(py::module_& m) {
  m.def(
      "read",
      [](const std::filesystem::path& path, const std::string& scale) {
        XyOptions o;
        if (!scale.empty()) o.scale = energy_scale_from_string(scale);
        const auto all = read_spectra(path, o);
        py::list out;
        for (const auto& s : all) out.append(spectrum_dict(s));
        return out;
      },
      py::arg("path"), py::arg("scale") = "");
  m.def("describe", [](const std::filesystem::path& path) { return describe(read_spectra(path, {})).dump(); },
        py::arg("path"));

  m.def(
      "fit",
      [](const Array& energy, const Array& counts, const std::string& scale, double hv, const std::string& options,
         bool want_svg, const std::string& title) {
        const Spectrum s = make_spectrum(energy, counts, scale, hv);
        const FitOptions o = parse_options(options);
        FitResult r;
        {
          py::gil_scoped_release release;
          r = fit(s, o);
        }
        std::string svg = want_svg ? fit_plot_svg(r, title) : std::string();
        return py::make_tuple(to_json(r, o.energy).dump(), svg);
      },
      py::arg("energy"), py::arg("counts"), py::arg("scale"), py::arg("photon_energy"), py::arg("options"),
      py::arg("want_svg") = false, py::arg("title") = "");

  m.def(
      "select_peaks",
      [](const Array& energy, const Array& counts, const std::string& scale, double hv, std::size_t max_peaks,
         const std::string& criterion, const std::string& options, bool want_svg, const std::string& title) {
        const Spectrum s = make_spectrum(energy, counts, scale, hv);
        const FitOptions o = parse_options(options);
        const Criterion c = criterion_from_string(criterion);
        Selection sel;
        {
          py::gil_scoped_release release;
          sel = select_peaks(s, max_peaks, c, o);
        }
        std::string svg = want_svg ? selection_plot_svg(sel, title) : std::string();
        return py::make_tuple(to_json(sel, o.energy).dump(), svg);
      },
      py::arg("energy"), py::arg("counts"), py::arg("scale"), py::arg("photon_energy"), py::arg("max_peaks"),
      py::arg("criterion"), py::arg("options"), py::arg("want_svg") = false, py::arg("title") = "");

  m.def(
      "fit_batch",
      [](const Array& energy, const Array& spectra, const std::string& scale, double hv, const std::string& options,
         unsigned threads, bool warm_start, std::size_t chunk_size) {
        if (energy.ndim() != 1) throw InvalidArgument("energy must be a 1-D array");
        if (spectra.ndim() < 1 || spectra.shape(spectra.ndim() - 1) != energy.shape(0))
          throw InvalidArgument("spectra must have shape (..., " + std::to_string(energy.shape(0)) +
                                ") with energy along the last axis");
        BatchOptions bo;
        bo.fit = parse_options(options);
        bo.threads = threads;
        bo.warm_start = warm_start;
        bo.chunk_size = chunk_size;
        MapChunk out;
        {
          py::gil_scoped_release release;
          out = fit_arrays(std::span<const double>(energy.data(), static_cast<std::size_t>(energy.size())),
                           std::span<const double>(spectra.data(), static_cast<std::size_t>(spectra.size())),
                           energy_scale_from_string(scale), hv, bo);
        }
        py::dict maps;
        for (std::size_t k = 0; k < out.names.size(); ++k)
          maps[py::str(out.names[k])] =
              py::array_t<double>(static_cast<py::ssize_t>(out.values[k].size()), out.values[k].data());
        return py::make_tuple(maps, out.messages);
      },
      py::arg("energy"), py::arg("spectra"), py::arg("scale"), py::arg("photon_energy"), py::arg("options"),
      py::arg("threads") = 0, py::arg("warm_start") = true, py::arg("chunk_size") = 4096);

  m.def(
      "fit_batch_file",
      [](const std::filesystem::path& cube, const std::string& spectra, const std::string& energy,
         const std::filesystem::path& out, const std::string& options, unsigned threads, bool warm_start,
         std::size_t chunk_size, bool restart) {
        BatchOptions bo;
        bo.fit = parse_options(options);
        bo.threads = threads;
        bo.warm_start = warm_start;
        bo.chunk_size = chunk_size;
        bo.restart = restart;
        BatchSummary s;
        {
          py::gil_scoped_release release;
          auto comm = serial_communicator();
          s = fit_batch(cube, spectra, energy, out, bo, *comm);
        }
        py::dict d;
        d["n_pixels"] = s.n_pixels;
        d["n_ok"] = s.n_ok;
        d["n_not_converged"] = s.n_not_converged;
        d["n_bad"] = s.n_bad;
        d["n_failed"] = s.n_failed;
        d["chunks"] = s.chunks;
        d["chunks_resumed"] = s.chunks_resumed;
        d["seconds"] = s.seconds;
        d["spectra_per_second"] = s.spectra_per_second;
        d["pixel_shape"] = s.pixel_shape;
        d["map_names"] = s.map_names;
        d["messages"] = s.messages;
        return d;
      },
      py::arg("cube"), py::arg("spectra"), py::arg("energy"), py::arg("out"), py::arg("options"),
      py::arg("threads") = 0, py::arg("warm_start") = true, py::arg("chunk_size") = 4096, py::arg("restart") = false);

  m.def("map_names", [](const std::string& options) { return map_names(parse_options(options)); },
        py::arg("options"));
  m.def("save_map_image", &save_map_image, py::arg("maps_file"), py::arg("name"), py::arg("image"));
}

}  // namespace tsunagu::python
