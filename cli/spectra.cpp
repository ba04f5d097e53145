// tsunagu spectra info|fit|select|batch — argument parsing and formatting only; every computation is a call into
// tsunagu::spectra.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common.hpp"
#include "tsunagu/core/error.hpp"
#include "tsunagu/core/io.hpp"
#include "tsunagu/core/table.hpp"
#include "tsunagu/spectra/batch.hpp"
#include "tsunagu/spectra/cube.hpp"
#include "tsunagu/spectra/fit.hpp"
#include "tsunagu/spectra/plots.hpp"
#include "tsunagu/spectra/readers.hpp"

namespace tsunagu::cli {
namespace {

namespace sp = tsunagu::spectra;
using core::format_double;

std::string fixed(double v, int digits) {
  if (!std::isfinite(v)) return "nan";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

// ------------------------------------------------------------------------------------------------ shared options
struct FileArgs {
  std::string file;
  int block = 0;
  std::string scale_in;  // override of the file's energy scale (CSV without a header hint)
  double photon_energy = NAN;
};

struct FitArgs {
  std::string method = "lsq", shape = "gauss", background = "shirley", weighting = "poisson";
  std::string energy = "binding", region;
  std::size_t peaks = 0;
  std::string peaks_at;
  std::vector<std::string> doublets;
  sp::FitOptions o;
};

void add_file_args(CLI::App* c, FileArgs& f) {
  c->add_option("file", f.file, "VAMAS (.vms) or two-column CSV/TXT spectrum file")->required()->check(CLI::ExistingFile);
  c->add_option("--block", f.block, "block (region) index as listed by 'spectra info', from 0")->capture_default_str();
  c->add_option("--input-scale", f.scale_in, "energy scale of a CSV/TXT file when its header does not say: binding | kinetic");
  c->add_option("--photon-energy", f.photon_energy, "photon energy in eV (overrides the file; needed for kinetic <-> binding)");
}

void add_fit_args(CLI::App* c, FitArgs& a, bool with_peaks, bool batch) {
  if (with_peaks) {
    c->add_option("--peaks", a.peaks, "number of peaks K (starting centres found by EM)")->check(non_negative());
    c->add_option("--peaks-at", a.peaks_at, "comma-separated starting centres in eV (K = their number)");
  }
  c->add_option("--method", a.method, batch ? "em | lsq" : "em | lsq | bayes")->capture_default_str();
  c->add_option("--shape", a.shape, "gauss | lorentz | voigt | pvoigt | ds | ds_gauss (em: gauss, lorentz, pvoigt)")
      ->capture_default_str();
  c->add_option("--background", a.background,
                "none | constant | linear | polynomial | shirley | active-shirley | tougaard")->capture_default_str();
  c->add_option("--poly-degree", a.o.poly_degree, "degree of the polynomial background")->capture_default_str();
  c->add_option("--weighting", a.weighting, "poisson (counting noise) | gaussian (constant noise)")->capture_default_str();
  c->add_option(batch ? "--energy-scale" : "--energy", a.energy, "fit and report on binding | kinetic energy")
      ->capture_default_str();
  c->add_option("--region", a.region, "fit window LO:HI in eV on that scale");
  c->add_option("--doublet", a.doublets,
                "spin-orbit tie I:J:SPLIT:RATIO[:free] (1-based peaks; e.g. 1:2:13.6:0.5); repeatable (lsq)");
  c->add_option("--seed", a.o.seed, "random seed (EM restarts, Bayesian sampling)")->check(non_negative())->capture_default_str();
  c->add_option("--max-iter", a.o.max_iter, "iteration limit (0 = method default)")->capture_default_str();
  c->add_option("--restarts", a.o.restarts, "EM random restarts (0 = default)")->capture_default_str();
  c->add_option("--min-fwhm", a.o.min_fwhm, "smallest FWHM in eV (0 = from the channel spacing)");
  c->add_option("--max-fwhm", a.o.max_fwhm, "largest FWHM in eV (0 = from the window width)");
  c->add_option("--tougaard-b", a.o.tougaard.B, "Tougaard B in eV^2 (rescaled to the data unless --tougaard-fixed-b)")
      ->capture_default_str();
  c->add_option("--tougaard-c", a.o.tougaard.C, "Tougaard C in eV^2")->capture_default_str();
  c->add_option("--tougaard-d", a.o.tougaard.D, "Tougaard D in eV^2 (three-parameter form when > 0)")->capture_default_str();
  c->add_flag("--tougaard-fixed-b", [&a](std::int64_t) { a.o.tougaard.fit_B = false; }, "keep B as given");
  if (!batch) {
    c->add_option("--replicas", a.o.replicas, "Bayesian: replicas in the temperature ladder (0 = default)");
    c->add_option("--sweeps", a.o.sweeps, "Bayesian: Monte-Carlo sweeps after burn-in (0 = default)");
    c->add_option("--burn-in", a.o.burn_in, "Bayesian: burn-in sweeps (0 = default)");
  }
}

sp::FitOptions fit_options(FitArgs& a, bool need_peaks) {
  sp::FitOptions o = a.o;
  o.method = sp::method_from_string(a.method);
  o.shape = sp::shape_from_string(a.shape);
  o.background = sp::background_from_string(a.background);
  o.weighting = sp::weighting_from_string(a.weighting);
  o.energy = sp::energy_scale_from_string(a.energy);
  if (!a.region.empty()) o.region = sp::parse_region(a.region);
  o.n_peaks = a.peaks;
  for (const auto& t : split_list(a.peaks_at)) {
    try {
      std::size_t pos = 0;
      const double v = std::stod(t, &pos);
      if (pos != t.size() || !std::isfinite(v)) throw std::invalid_argument(t);
      o.centers.push_back(v);
    } catch (const std::exception&) {
      throw InvalidArgument("--peaks-at: '" + t + "' is not an energy in eV");
    }
  }
  if (need_peaks) {
    if (o.n_peaks == 0 && o.centers.empty()) throw InvalidArgument("give --peaks K or --peaks-at c1,c2,...");
    if (o.n_peaks && !o.centers.empty() && o.n_peaks != o.centers.size())
      throw InvalidArgument("--peaks " + std::to_string(o.n_peaks) + " disagrees with the " +
                            std::to_string(o.centers.size()) + " centres of --peaks-at");
  }
  for (const auto& d : a.doublets) o.doublets.push_back(sp::parse_doublet(d));
  o.validate();
  return o;
}

sp::Spectrum load_spectrum(const FileArgs& f) {
  sp::XyOptions xo;
  if (!f.scale_in.empty()) xo.scale = sp::energy_scale_from_string(f.scale_in);
  const auto all = sp::read_spectra(f.file, xo);
  if (f.block < 0 || static_cast<std::size_t>(f.block) >= all.size())
    throw InvalidArgument("--block " + std::to_string(f.block) + ": " + f.file + " has " + std::to_string(all.size()) +
                          " block(s), numbered 0.." + std::to_string(all.size() - 1));
  sp::Spectrum s = all[static_cast<std::size_t>(f.block)];
  if (std::isfinite(f.photon_energy)) s.photon_energy = f.photon_energy;
  return s;
}

std::string sig(double v, int digits = 6) {
  if (!std::isfinite(v)) return "nan";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g", digits, v);
  return buf;
}

std::string peak_table(const sp::FitResult& r) {
  std::ostringstream os;
  double total = 0;
  for (const auto& p : r.peaks) total += p.area;
  os << "peak  center/eV   fwhm/eV     area        %    shape\n";
  for (std::size_t k = 0; k < r.peaks.size(); ++k) {
    const auto& p = r.peaks[k];
    char line[256];
    std::snprintf(line, sizeof line, "%-4zu  %-10s  %-10s  %-10s  %-5s  %s", k + 1, fixed(p.center, 3).c_str(),
                  fixed(p.fwhm, 3).c_str(), sig(p.area).c_str(),
                  fixed(total > 0 ? 100 * p.area / total : NAN, 1).c_str(), sp::to_string(p.shape).c_str());
    os << line;
    if (!p.std_error.empty())
      os << "   (+-" << fixed(p.std_error[sp::kCenter], 3) << ", +-" << fixed(p.std_error[sp::kFwhm], 3) << ", +-"
         << sig(p.std_error[sp::kArea], 3) << ")";
    if (!p.credible.empty())
      os << "   95% CI center [" << fixed(p.credible[sp::kCenter][0], 3) << ", " << fixed(p.credible[sp::kCenter][1], 3)
         << "]";
    os << "\n";
  }
  return os.str();
}

// ------------------------------------------------------------------------------------------------ info
struct InfoArgs {
  FileArgs f;
  bool json = false;
};

void run_info_cube(const InfoArgs& a) {
  const auto d = sp::describe_cube(a.f.file);
  auto shape = [](const std::vector<std::size_t>& v) {
    std::string s = "(";
    for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
    return s + ")";
  };
  if (a.json) {
    nlohmann::json j;
    for (const auto& [n, s] : d.datasets) j["datasets"][n] = s;
    j["cubes"] = nlohmann::json::array();
    for (const auto& c : d.candidates)
      j["cubes"].push_back({{"spectra", c.spectra}, {"energy", c.energy}, {"shape", c.shape},
                            {"energy_min", c.energy_min}, {"energy_max", c.energy_max}});
    std::cout << j.dump(2) << "\n";
    return;
  }
  std::cout << a.f.file << ": HDF5, " << d.datasets.size() << " numeric dataset(s)\n";
  for (const auto& [n, s] : d.datasets) std::cout << "  /" << n << "  " << shape(s) << "\n";
  for (const auto& c : d.candidates) {
    std::size_t n = 1;
    for (std::size_t i = 0; i + 1 < c.shape.size(); ++i) n *= c.shape[i];
    std::cout << "cube: --spectra /" << c.spectra << " --energy /" << c.energy << "  " << n << " spectra x "
              << c.shape.back() << " points, " << fixed(c.energy_min, 2) << ".." << fixed(c.energy_max, 2) << " eV\n";
  }
  if (d.candidates.empty())
    std::cout << "no cube found: spectra need an N-D dataset whose last axis matches a 1-D energy dataset\n";
}

void run_info(const InfoArgs& a) {
  if (sp::is_hdf5(a.f.file)) return run_info_cube(a);
  sp::XyOptions xo;
  if (!a.f.scale_in.empty()) xo.scale = sp::energy_scale_from_string(a.f.scale_in);
  const auto all = sp::read_spectra(a.f.file, xo);
  const auto j = sp::describe(all);
  if (a.json) {
    std::cout << j.dump(2) << "\n";
    return;
  }
  std::cout << a.f.file << ": " << all.size() << " block(s)\n";
  for (std::size_t i = 0; i < all.size(); ++i) {
    const auto& s = all[i];
    double lo = s.energy.front(), hi = s.energy.back();
    if (lo > hi) std::swap(lo, hi);
    std::cout << "  " << i << "  " << (s.name.empty() ? std::string("(unnamed)") : s.name) << "  " << s.size()
              << " points  " << fixed(lo, 2) << ".." << fixed(hi, 2) << " eV " << sp::to_string(s.scale);
    if (s.size() > 1) std::cout << "  step " << fixed(std::abs(s.energy[1] - s.energy[0]), 4) << " eV";
    if (std::isfinite(s.photon_energy)) std::cout << "  hv " << fixed(s.photon_energy, 2) << " eV";
    if (auto it = s.metadata.find("source_label"); it != s.metadata.end()) std::cout << " (" << it->second << ")";
    std::cout << "\n";
  }
}

// ------------------------------------------------------------------------------------------------ fit
struct FitCmd {
  FileArgs f;
  FitArgs fa;
  std::string output, plot;
};

void run_fit(FitCmd& a) {
  const auto o = fit_options(a.fa, true);
  const auto s = load_spectrum(a.f);
  const auto r = sp::fit(s, o);
  std::vector<std::pair<std::filesystem::path, std::string>> outputs;
  auto j = sp::to_json(r, o.energy);
  j["source"] = {{"file", a.f.file}, {"block", a.f.block}, {"name", s.name}};
  outputs.emplace_back(a.output, j.dump(2) + "\n");
  if (!a.plot.empty())
    outputs.emplace_back(a.plot, sp::fit_plot_svg(r, s.name.empty() ? a.f.file : s.name + " — " + a.f.file));
  core::write_files_atomic(outputs);
  std::cout << sp::to_string(r.method) << " fit of " << s.label() << ": " << r.peaks.size() << " " << a.fa.shape
            << " peak(s), " << sp::to_string(r.background.kind) << " background, " << r.counts.size()
            << " points, reduced chi2 " << sig(r.reduced_chi2, 4) << ", "
            << (r.converged ? "converged" : "NOT converged") << " (" << r.n_iter << " iterations)\n"
            << peak_table(r);
  if (!r.converged) note("warning: " + r.message);
  note("wrote " + a.output + (a.plot.empty() ? "" : " and " + a.plot));
}

// ------------------------------------------------------------------------------------------------ select
struct SelectCmd {
  FileArgs f;
  FitArgs fa;
  std::size_t max_peaks = 0;
  std::string criterion = "bic", output, plot;
  unsigned threads = 0;
};

void run_select(SelectCmd& a) {
  // --method here names the criterion (bayes | bic | aic) as in the CLI contract; fits use lsq (bic/aic)
  // or replica-exchange sampling (bayes).
  const auto crit = sp::criterion_from_string(a.criterion);
  a.fa.method = crit == sp::Criterion::Bayes ? "bayes" : "lsq";
  auto o = fit_options(a.fa, false);
  o.threads = a.threads;
  if (a.max_peaks < 1) throw InvalidArgument("--max-peaks must be >= 1");
  const auto s = load_spectrum(a.f);
  const auto sel = sp::select_peaks(s, a.max_peaks, crit, o);
  std::vector<std::pair<std::filesystem::path, std::string>> outputs;
  auto j = sp::to_json(sel, o.energy);
  j["source"] = {{"file", a.f.file}, {"block", a.f.block}, {"name", s.name}};
  outputs.emplace_back(a.output, j.dump(2) + "\n");
  if (!a.plot.empty()) outputs.emplace_back(a.plot, sp::selection_plot_svg(sel, s.name));
  core::write_files_atomic(outputs);
  const char* what = crit == sp::Criterion::Bayes ? "F(K)" : crit == sp::Criterion::Bic ? "BIC" : "AIC";
  std::cout << "K  " << what << "\n";
  for (std::size_t i = 0; i < sel.k.size(); ++i) {
    std::cout << sel.k[i] << "  " << fixed(sel.score[i], 2);
    if (crit == sp::Criterion::Bayes) std::cout << " +- " << fixed(sel.score_se[i], 2);
    std::cout << (sel.k[i] == sel.chosen ? "   <- chosen" : "") << "\n";
  }
  std::cout << "n_peaks = " << sel.chosen << "\n";
  note("wrote " + a.output + (a.plot.empty() ? "" : " and " + a.plot));
}

// ------------------------------------------------------------------------------------------------ batch
struct BatchCmd {
  std::string cube, spectra = "spectra", energy = "energy", output;
  FitArgs fa;
  sp::BatchOptions bo;
  bool no_warm = false;
  std::vector<std::string> maps;
};

void run_batch(BatchCmd& a) {
  auto bo = a.bo;
  bo.fit = fit_options(a.fa, true);
  bo.warm_start = !a.no_warm;
  bo.progress = !quiet();
  std::vector<std::pair<std::string, std::string>> images;
  const auto names = sp::map_names(bo.fit);
  for (const auto& m : a.maps) {
    const auto c = m.rfind(':');
    if (c == std::string::npos || c == 0 || c + 1 == m.size())
      throw InvalidArgument("--map '" + m + "': expected NAME:FILE.png or NAME:FILE.svg");
    const std::string name = m.substr(0, c), file = m.substr(c + 1);
    try {
      sp::check_map_image(name, file, names);
    } catch (const InvalidArgument& e) {
      throw InvalidArgument(std::string("--map: ") + e.what());
    }
    images.emplace_back(name, file);
  }
  bo.validate();
  auto comm = sp::world_communicator();
  const auto sum = sp::fit_batch(a.cube, a.spectra, a.energy, a.output, bo, *comm);
  if (comm->rank() != 0) return;
  for (const auto& [name, file] : images) sp::save_map_image(a.output, name, file);
  std::string shape;
  for (auto d : sum.pixel_shape) shape += (shape.empty() ? "" : "x") + std::to_string(d);
  std::cout << "batch: " << sum.n_pixels << " spectra (" << shape << ") in " << fixed(sum.seconds, 2) << " s, "
            << sig(sum.spectra_per_second, 4) << " spectra/s on " << sum.ranks << " rank(s)";
  if (sum.chunks_resumed) std::cout << "; resumed " << sum.chunks_resumed << "/" << sum.chunks << " chunks";
  std::cout << "\nstatus: " << sum.n_ok << " ok, " << sum.n_not_converged << " not converged, " << sum.n_bad
            << " bad spectra, " << sum.n_failed << " failed\n";
  for (const auto& m : sum.messages) note("  " + m);
  note("wrote " + a.output);
}

}  // namespace

void register_spectra(CLI::App& app) {
  auto* sc = app.add_subcommand("spectra", "photoelectron spectra: read, fit peaks (EM / least squares / Bayesian), "
                                           "choose the peak count, map datacubes");
  sc->require_subcommand(1);

  static InfoArgs ia;
  auto* info = sc->add_subcommand("info", "blocks/regions, points, energy range and photon energy of a file");
  add_file_args(info, ia.f);
  info->add_flag("--json", ia.json, "print the description as JSON");
  info->callback([] { run_info(ia); });

  static FitCmd fc;
  auto* fit = sc->add_subcommand("fit", "fit peaks + background to one spectrum and write result.json");
  add_file_args(fit, fc.f);
  add_fit_args(fit, fc.fa, true, false);
  fit->add_option("-o,--output", fc.output, "result JSON to write")->required();
  fit->add_option("--plot", fc.plot, "SVG of data, components, background and residuals");
  fit->callback([] { run_fit(fc); });

  static SelectCmd scmd;
  auto* sel = sc->add_subcommand("select", "choose the number of peaks by Bayes free energy or BIC/AIC");
  add_file_args(sel, scmd.f);
  sel->add_option("--max-peaks", scmd.max_peaks, "largest K tried (K = 1..max)")->required()->check(non_negative(true));
  // the fit options except --peaks and --method (the criterion decides the fitting method)
  add_fit_args(sel, scmd.fa, false, false);
  sel->remove_option(sel->get_option("--method"));
  sel->add_option("--method", scmd.criterion, "bayes | bic | aic")->capture_default_str();
  sel->add_option("--threads", scmd.threads, "threads over K (0 = all cores)")->check(non_negative())->capture_default_str();
  sel->add_option("-o,--output", scmd.output, "selection JSON to write")->required();
  sel->add_option("--plot", scmd.plot, "SVG of the score vs K");
  sel->callback([] { run_select(scmd); });

  static BatchCmd bc;
  auto* bat = sc->add_subcommand("batch", "fit every spectrum of an HDF5 datacube; maps to HDF5 (+ PNG/SVG images)");
  bat->add_option("cube", bc.cube, "HDF5 file with the spectra and energy datasets")->required()->check(CLI::ExistingFile);
  bat->add_option("--spectra", bc.spectra, "dataset of spectra, shape (..., n_energy)")->capture_default_str();
  bat->add_option("--energy", bc.energy, "dataset of the energy axis, shape (n_energy)")->capture_default_str();
  add_fit_args(bat, bc.fa, true, true);
  bat->add_option("--chunk-size", bc.bo.chunk_size, "spectra per checkpointed chunk")->check(non_negative(true))->capture_default_str();
  bat->add_option("--threads", bc.bo.threads, "threads per process (0 = all cores or $TSUNAGU_NUM_THREADS)")
      ->check(non_negative())
      ->capture_default_str();
  bat->add_flag("--restart", bc.bo.restart, "discard an unfinished earlier run instead of resuming it");
  bat->add_flag("--no-warm-start", bc.no_warm, "start every fit from scratch (default: from the previous pixel)");
  bat->add_option("--map", bc.maps, "NAME:FILE.png|svg image of one map (e.g. peak1/center:c.png); repeatable");
  bat->add_option("-o,--output", bc.output, "maps HDF5 file to write")->required();
  bat->callback([] { run_batch(bc); });
}

}  // namespace tsunagu::cli
