#pragma once
/// SVG figures for sparse modelling: CV error vs log λ, coefficient paths, weight diagram, density of states.
#include <string>
#include <vector>

#include "tsunagu/sparse/cv.hpp"
#include "tsunagu/sparse/exhaustive.hpp"
#include "tsunagu/sparse/penalized.hpp"

namespace tsunagu::sparse {

/// CV error ± SE against λ (log axis), λ_min and λ_1se marked.
std::string cv_plot_svg(const CvResult& cv, const std::string& title = "cross-validation");
/// Standardised coefficient paths against λ (log axis), one line per feature.
std::string path_plot_svg(const Path& path, const std::vector<std::string>& features,
                          const std::string& title = "coefficient paths");
/// Weight diagram: rows = top-N models (rank, CV error), columns = features, colour = standardised coefficient.
std::string weight_diagram_svg(const ExhaustiveResult& result, const std::vector<std::string>& features,
                               int top = 50);
/// Density of states: histogram of CV-RMSE over all scored subsets, best model marked.
std::string dos_svg(const ExhaustiveResult& result);

}  // namespace tsunagu::sparse
