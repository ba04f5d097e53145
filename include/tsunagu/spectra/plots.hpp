#pragma once
/// Pictures of spectral fits: a fitted spectrum with its components, background and residuals, the peak-count
/// selection score F(K) / BIC / AIC against K, and maps (peak centre, FWHM, area, χ² ... over the sample) as SVG or
/// PNG with a viridis colour bar. SVGs are standalone strings (core/plot.hpp conventions); write them with
/// core::plot::save_svg or core::write_files_atomic.
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "tsunagu/spectra/fit.hpp"
#include "tsunagu/spectra/model.hpp"

namespace tsunagu::spectra {

/// Fitted spectrum as XPS papers draw it: data points, each peak drawn on top of the background (component +
/// background), the background, the total fit, and below it a residual panel (data − fit, counts) sharing the x
/// axis. On a binding-energy scale (r.axis_sign > 0) the x axis runs from high to low energy. Needs r.energy,
/// r.counts, r.model (n each), r.background.values empty or (n); peaks are evaluated with component_values(r).
/// InvalidArgument for a result without channels or with inconsistent lengths.
std::string fit_plot_svg(const FitResult& r, const std::string& title = "");

/// Peak-count selection score against K: `score` (lower is better; F(K) in nats, or BIC/AIC) with ± `se` error bars
/// (empty or zeros = none), the chosen K marked by a dashed line. ks (m) distinct positive K, score (m), se (m or
/// empty); `chosen` must be one of ks. InvalidArgument otherwise (also when no score is finite).
std::string free_energy_plot_svg(const std::vector<std::size_t>& ks, const std::vector<double>& score,
                                 const std::vector<double>& se, std::size_t chosen, const std::string& title = "",
                                 const std::string& ylabel = "Bayes free energy F(K) (nats)");

/// free_energy_plot_svg of a Selection, with the y label of its criterion ("Bayes free energy F(K) (nats)", "BIC",
/// "AIC").
std::string selection_plot_svg(const Selection& s, const std::string& title = "");

/// Heat map of a (rows x cols) map, row 0 at the top, one cell per pixel of the scan, coloured with viridis and a
/// colour bar labelled `colorbar_label` (e.g. "C 1s centre (eV)"). NaN (failed or skipped pixels) stays blank.
/// vmin/vmax in the map's units; unset = robust automatic range (1st / 99th percentiles of the finite values, so that
/// outliers do not wash out the map; values outside are clamped to the end colours). The cells are embedded as one
/// PNG image, so the SVG stays small for large maps. InvalidArgument for an empty map, a map without any finite
/// value, or vmin > vmax.
std::string map_svg(const Eigen::MatrixXd& values, const std::string& title, const std::string& colorbar_label,
                    std::optional<double> vmin = std::nullopt, std::optional<double> vmax = std::nullopt);

/// The same map as a PNG (core::png::render_map: each value a block of pixels, colour bar with numeric labels; NaN
/// light grey). The title and colour-bar label are stored as PNG text chunks ("Title", "Description"). Written
/// atomically; IoError names the path when it cannot be written.
void save_map_png(const std::filesystem::path& path, const Eigen::MatrixXd& values, const std::string& title,
                  const std::string& colorbar_label, std::optional<double> vmin = std::nullopt,
                  std::optional<double> vmax = std::nullopt);

}  // namespace tsunagu::spectra
