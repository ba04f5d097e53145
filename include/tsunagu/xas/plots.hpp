#pragma once
/// Pictures of predicted spectra: one panel per spectrum, the prediction over the reference when there is one.
#include <string>
#include <vector>

#include <Eigen/Core>

namespace tsunagu::xas {

/// Stacked SVG panels for the first `max_panels` rows of `predicted` (n, mesh.size()), titled by `names`; when
/// `reference` is given (same shape) it is drawn under the prediction with the spectrum's Pearson r in the title.
std::string plot_spectra(const Eigen::VectorXd& mesh, const std::vector<std::string>& names,
                         const Eigen::MatrixXd& predicted, const Eigen::MatrixXd* reference = nullptr,
                         int max_panels = 12);

}  // namespace tsunagu::xas
