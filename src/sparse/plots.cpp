#include "tsunagu/sparse/plots.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "tsunagu/core/plot.hpp"

namespace tsunagu::sparse {

using Eigen::Index;
namespace plot = tsunagu::core::plot;

namespace {
std::string sig(double v, int d = 3) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g", d, v);
  return buf;
}
}  // namespace

std::string cv_plot_svg(const CvResult& cv, const std::string& title) {
  plot::LinePlot p;
  p.title = title + " (" + std::to_string(cv.folds) + "-fold" +
            (cv.repeats > 1 ? ", " + std::to_string(cv.repeats) + " repeats" : std::string()) + ")";
  p.xlabel = "lambda";
  p.ylabel = "CV error";
  p.log_x = true;
  plot::Series s;
  s.label = "mean ± SE";
  for (Index k = 0; k < cv.lambda.size(); ++k) {
    s.x.push_back(cv.lambda(k));
    s.y.push_back(cv.mean(k));
    s.yerr.push_back(cv.se(k));
  }
  s.markers = true;
  p.series.push_back(s);
  p.vlines.push_back({cv.lambda_min, "lambda_min = " + sig(cv.lambda_min), "#d62728", true});
  p.vlines.push_back({cv.lambda_1se, "lambda_1se = " + sig(cv.lambda_1se), "#2ca02c", true});
  return plot::render_svg(p);
}

std::string path_plot_svg(const Path& path, const std::vector<std::string>& features, const std::string& title) {
  plot::LinePlot p;
  p.title = title + " (" + to_string(path.penalty) + ")";
  p.xlabel = "lambda";
  p.ylabel = "standardised coefficient";
  p.log_x = true;
  for (Index j = 0; j < path.beta_std.rows(); ++j) {
    if (path.beta_std.row(j).cwiseAbs().maxCoeff() == 0) continue;  // never selected: keep the legend short
    plot::Series s;
    s.label = static_cast<std::size_t>(j) < features.size() ? features[static_cast<std::size_t>(j)] : "x" + std::to_string(j);
    for (Index k = 0; k < path.lambda.size(); ++k) {
      s.x.push_back(path.lambda(k));
      s.y.push_back(path.beta_std(j, k));
    }
    p.series.push_back(std::move(s));
  }
  if (p.series.empty()) {
    plot::Series s;
    s.label = "(all zero)";
    for (Index k = 0; k < path.lambda.size(); ++k) {
      s.x.push_back(path.lambda(k));
      s.y.push_back(0);
    }
    p.series.push_back(std::move(s));
  }
  return plot::render_svg(p);
}

std::string weight_diagram_svg(const ExhaustiveResult& r, const std::vector<std::string>& features, int top) {
  const std::size_t rows = std::min<std::size_t>(r.models.size(), static_cast<std::size_t>(std::max(top, 1)));
  plot::Heatmap h;
  h.title = "weight diagram: top " + std::to_string(rows) + " of " + std::to_string(r.n_subsets) +
            " subsets (" + std::to_string(r.folds) + "-fold CV)";
  h.colorbar_label = "coefficient per SD of feature";
  h.values = Eigen::MatrixXd::Constant(static_cast<Index>(rows), static_cast<Index>(features.size()), std::nan(""));
  for (std::size_t i = 0; i < rows; ++i) {
    const auto& m = r.models[i];
    h.row_labels.push_back("#" + std::to_string(i + 1) + "  RMSE " + sig(m.cv_error, 4));
    for (std::size_t q = 0; q < m.features.size(); ++q)
      h.values(static_cast<Index>(i), m.features[q]) = m.coef_std(static_cast<Index>(q));
  }
  h.col_labels = features;
  return plot::render_svg(h);
}

std::string dos_svg(const ExhaustiveResult& r) {
  plot::Histogram h;
  h.title = "density of states of CV error (" + std::to_string(r.all_cv_errors.size()) + " subsets, k <= " +
            std::to_string(r.max_k) + ")";
  h.xlabel = "CV RMSE";
  h.ylabel = "number of subsets";
  h.edges = r.dos_edges;
  h.counts = r.dos_counts;
  if (!r.models.empty()) h.vlines.push_back({r.models.front().cv_error, "best", "#d62728", true});
  return plot::render_svg(h);
}

}  // namespace tsunagu::sparse
