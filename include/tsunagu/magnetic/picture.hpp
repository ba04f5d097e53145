#pragma once
/// A picture of a magnetic basis: one panel per basis vector and per direction, each showing the magnetic atoms of
/// the cell (oblique view, cell edges drawn) with their moments as arrows, titled with irrep, multipole, direction
/// and magnetic space group. Red arrows point towards the viewer, blue ones away; a dot marks a zero moment.
#include <string>

#include <Eigen/Core>

#include "tsunagu/magnetic/basis.hpp"

namespace tsunagu::magnetic {

struct PictureOptions {
  int columns = 4;               ///< panels per row (>= 1)
  double panel_size = 230;       ///< px, width of a panel (its height adds two title lines)
  double azimuth_deg = 20;       ///< viewing direction: azimuth from Cartesian x towards y, degrees
  double elevation_deg = 18;     ///< and elevation above the xy plane, degrees
  bool directions = true;        ///< also draw the [001]/[110]/[111]-type combinations
  void validate() const;         ///< throws InvalidArgument naming the field
};

/// 2-D screen coordinates (right, up) of Cartesian points (n, 3) for the view of `options`: (n, 2).
Eigen::MatrixXd project_view(const Eigen::MatrixXd& cartesian, const PictureOptions& options);

/// The SVG document (width = columns × panel_size).
std::string render_basis_svg(const MagneticBasis& basis, const PictureOptions& options = {});

}  // namespace tsunagu::magnetic
