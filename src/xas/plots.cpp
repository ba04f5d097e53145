#include "tsunagu/xas/plots.hpp"

#include <algorithm>
#include <cstdio>

#include "tsunagu/core/error.hpp"
#include "tsunagu/core/plot.hpp"
#include "tsunagu/xas/metrics.hpp"

namespace tsunagu::xas {

std::string plot_spectra(const Eigen::VectorXd& mesh, const std::vector<std::string>& names,
                         const Eigen::MatrixXd& predicted, const Eigen::MatrixXd* reference, int max_panels) {
  if (predicted.cols() != mesh.size())
    throw InvalidArgument("plot_spectra: " + std::to_string(predicted.cols()) + " spectrum points, mesh has " +
                          std::to_string(mesh.size()));
  if (reference && (reference->rows() != predicted.rows() || reference->cols() != predicted.cols()))
    throw InvalidArgument("plot_spectra: reference and prediction differ in shape");
  if (names.size() != static_cast<std::size_t>(predicted.rows()))
    throw InvalidArgument("plot_spectra: " + std::to_string(names.size()) + " names for " +
                          std::to_string(predicted.rows()) + " spectra");
  if (predicted.rows() == 0 || max_panels < 1) throw InvalidArgument("plot_spectra: nothing to plot");
  const std::vector<double> x(mesh.data(), mesh.data() + mesh.size());
  std::vector<core::plot::LinePlot> panels;
  const Eigen::Index n = std::min<Eigen::Index>(predicted.rows(), max_panels);
  for (Eigen::Index i = 0; i < n; ++i) {
    core::plot::LinePlot p;
    p.title = names[static_cast<std::size_t>(i)];
    p.xlabel = i + 1 == n ? "energy (eV)" : "";
    p.ylabel = "mu (arb.)";
    p.height = 220;
    if (reference) {
      const Eigen::VectorXd r = reference->row(i).transpose(), q = predicted.row(i).transpose();
      char buf[64];
      std::snprintf(buf, sizeof buf, "  (Pearson r = %.3f)", pearson(r, q));
      p.title += buf;
      core::plot::Series s;
      s.label = i == 0 ? "reference" : "";
      s.x = x;
      s.y.assign(r.data(), r.data() + r.size());
      s.color = "#444444";
      p.series.push_back(std::move(s));
    }
    core::plot::Series s;
    s.label = i == 0 ? "predicted" : "";
    s.x = x;
    for (Eigen::Index k = 0; k < predicted.cols(); ++k) s.y.push_back(predicted(i, k));
    s.color = "#d62728";
    p.series.push_back(std::move(s));
    panels.push_back(std::move(p));
  }
  return core::plot::render_svg_stacked(panels);
}

}  // namespace tsunagu::xas
