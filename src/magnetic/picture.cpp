#include "tsunagu/magnetic/picture.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <sstream>
#include <vector>

#include <Eigen/Geometry>

#include "tsunagu/core/error.hpp"
#include "tsunagu/core/plot.hpp"

namespace tsunagu::magnetic {

namespace {

using core::plot::svg_px;
using core::plot::xml_escape;

struct View {
  Eigen::Vector3d right, up, toward;  // unit vectors: screen right, screen up, towards the viewer
};

View make_view(const PictureOptions& o) {
  const double a = o.azimuth_deg * std::numbers::pi / 180, e = o.elevation_deg * std::numbers::pi / 180;
  View v;
  v.toward = Eigen::Vector3d(std::cos(e) * std::cos(a), std::cos(e) * std::sin(a), std::sin(e));
  v.right = Eigen::Vector3d(-std::sin(a), std::cos(a), 0);
  v.up = v.toward.cross(v.right);
  return v;
}

std::string msg_line(const MagneticGroupLabel& g, bool ahe) {
  std::string s = g.uni ? g.bns + " " + g.bns_symbol : std::string("group not determined");
  return s + (ahe ? "  AHE allowed" : "");
}

// Red towards the viewer, blue away, grey in the picture plane; saturation by the out-of-plane fraction.
std::string arrow_colour(double toward_fraction) {
  const double t = std::clamp(toward_fraction, -1.0, 1.0);
  const int base = 90;
  int r = base, g = base, b = base;
  if (t > 0) r = base + static_cast<int>(t * 150), g = b = base - static_cast<int>(t * 50);
  if (t < 0) b = base + static_cast<int>(-t * 150), r = g = base - static_cast<int>(-t * 50);
  char buf[16];
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x", r, g, b);
  return buf;
}

struct Panel {
  std::string title, subtitle;
  const Eigen::MatrixXd* moments;  // (n_magnetic, 3)
};

}  // namespace

void PictureOptions::validate() const {
  if (columns < 1 || columns > 64) throw InvalidArgument("picture: columns must be in 1..64");
  if (!(std::isfinite(panel_size) && panel_size >= 80 && panel_size <= 2000))
    throw InvalidArgument("picture: panel_size must be in [80, 2000] px");
  if (!std::isfinite(azimuth_deg) || !std::isfinite(elevation_deg) || std::abs(elevation_deg) >= 90)
    throw InvalidArgument("picture: azimuth_deg must be finite and |elevation_deg| < 90");
}

Eigen::MatrixXd project_view(const Eigen::MatrixXd& p, const PictureOptions& o) {
  if (p.cols() != 3) throw InvalidArgument("picture: points must have 3 columns");
  const View v = make_view(o);
  Eigen::MatrixXd out(p.rows(), 2);
  for (Eigen::Index i = 0; i < p.rows(); ++i) {
    const Eigen::Vector3d x = p.row(i).transpose();
    out(i, 0) = x.dot(v.right);
    out(i, 1) = x.dot(v.up);
  }
  return out;
}

std::string render_basis_svg(const MagneticBasis& b, const PictureOptions& o) {
  o.validate();
  const View view = make_view(o);
  const auto& c = b.crystal;
  const Eigen::Index n = static_cast<Eigen::Index>(b.magnetic_sites.size());
  // Positions wrapped into the cell so that an orbit is drawn where a reader of the CIF expects it.
  Eigen::MatrixXd pos(n, 3);
  for (Eigen::Index i = 0; i < n; ++i) {
    Eigen::Vector3d f = c.frac.row(static_cast<Eigen::Index>(b.magnetic_sites[static_cast<std::size_t>(i)])).transpose();
    for (int k = 0; k < 3; ++k) f(k) -= std::floor(f(k) + 1e-9);
    pos.row(i) = (c.lattice.transpose() * f).transpose();
  }
  // Cell corners and edges.
  Eigen::MatrixXd corners(8, 3);
  for (int k = 0; k < 8; ++k)
    corners.row(k) = ((k & 1) * c.lattice.row(0) + ((k >> 1) & 1) * c.lattice.row(1) + ((k >> 2) & 1) * c.lattice.row(2));
  const Eigen::MatrixXd sc = project_view(corners, o), sp = project_view(pos, o);
  // Arrow length: 0.4 of the closest distance between magnetic atoms (periodic), so arrows rarely overlap.
  double nearest = std::numeric_limits<double>::infinity();
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index j = 0; j < n; ++j)
      for (int a = -1; a <= 1; ++a)
        for (int bb = -1; bb <= 1; ++bb)
          for (int cc = -1; cc <= 1; ++cc) {
            if (i == j && a == 0 && bb == 0 && cc == 0) continue;
            const Eigen::Vector3d d = pos.row(j).transpose() - pos.row(i).transpose() +
                                      c.lattice.transpose() * Eigen::Vector3d(a, bb, cc);
            nearest = std::min(nearest, d.norm());
          }
  if (!std::isfinite(nearest)) nearest = c.lattice.rowwise().norm().minCoeff();
  const double arrow = 0.8 * nearest;  // full length for the largest moment (centred on the atom)

  double xmin = sc.col(0).minCoeff(), xmax = sc.col(0).maxCoeff(), ymin = sc.col(1).minCoeff(),
         ymax = sc.col(1).maxCoeff();
  xmin -= arrow / 2, xmax += arrow / 2, ymin -= arrow / 2, ymax += arrow / 2;

  std::vector<Panel> panels;
  for (const auto& v : b.vectors)
    panels.push_back({"#" + std::to_string(v.index) + " " + v.irrep + " " + v.multipole +
                          (v.component ? " (" + std::to_string(v.component + 1) + ")" : ""),
                      msg_line(v.magnetic_space_group, v.ahe_allowed), &v.moments});
  if (o.directions)
    for (const auto& d : b.directions)
      panels.push_back({d.irrep + " " + d.multipole + " " + d.label, msg_line(d.magnetic_space_group, d.ahe_allowed),
                        &d.moments});

  const double W = o.panel_size, title_h = 34, H = W + title_h;
  const int cols = std::min<int>(o.columns, std::max<int>(1, static_cast<int>(panels.size())));
  const int rows = static_cast<int>((panels.size() + static_cast<std::size_t>(cols) - 1) / static_cast<std::size_t>(cols));
  const double header = 26;
  const double total_w = cols * W, total_h = header + std::max(1, rows) * H;
  const double scale = (W - 16) / std::max(xmax - xmin, ymax - ymin);

  std::ostringstream s;
  s << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << svg_px(total_w) << "\" height=\"" << svg_px(total_h)
    << "\" viewBox=\"0 0 " << svg_px(total_w) << " " << svg_px(total_h) << "\" font-family=\"sans-serif\">\n"
    << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    << "<text x=\"8\" y=\"18\" font-size=\"14\">" << xml_escape(c.formula() + "  " + b.space_group + "  point group " +
                                                                b.point_group + "  " + b.decomposition)
    << "</text>\n";
  for (std::size_t k = 0; k < panels.size(); ++k) {
    const double ox = static_cast<double>(k % static_cast<std::size_t>(cols)) * W;
    const double oy = header + static_cast<double>(k / static_cast<std::size_t>(cols)) * H;
    auto X = [&](double x) { return ox + 8 + (x - xmin) * scale + (W - 16 - (xmax - xmin) * scale) / 2; };
    auto Y = [&](double y) { return oy + title_h + 8 + (ymax - y) * scale + (W - 16 - (ymax - ymin) * scale) / 2; };
    s << "<g class=\"panel\" data-title=\"" << xml_escape(panels[k].title) << "\">\n"
      << "<rect x=\"" << svg_px(ox + 1) << "\" y=\"" << svg_px(oy + 1) << "\" width=\"" << svg_px(W - 2)
      << "\" height=\"" << svg_px(H - 2) << "\" fill=\"none\" stroke=\"#ddd\"/>\n"
      << "<text x=\"" << svg_px(ox + 8) << "\" y=\"" << svg_px(oy + 15) << "\" font-size=\"13\">"
      << xml_escape(panels[k].title) << "</text>\n"
      << "<text x=\"" << svg_px(ox + 8) << "\" y=\"" << svg_px(oy + 29) << "\" font-size=\"10\" fill=\"#555\">"
      << xml_escape(panels[k].subtitle) << "</text>\n";
    // Cell edges: corners differing in one bit.
    for (int p = 0; p < 8; ++p)
      for (int bit = 0; bit < 3; ++bit)
        if (!(p & (1 << bit))) {
          const int q = p | (1 << bit);
          s << "<line class=\"cell\" x1=\"" << svg_px(X(sc(p, 0))) << "\" y1=\"" << svg_px(Y(sc(p, 1))) << "\" x2=\""
            << svg_px(X(sc(q, 0))) << "\" y2=\"" << svg_px(Y(sc(q, 1))) << "\" stroke=\"#bbb\" stroke-width=\"1\"/>\n";
        }
    const Eigen::MatrixXd& m = *panels[k].moments;
    const double mmax = m.rows() ? m.rowwise().norm().maxCoeff() : 0.0;
    for (Eigen::Index i = 0; i < n; ++i) {
      const double cx = X(sp(i, 0)), cy = Y(sp(i, 1));
      s << "<circle class=\"atom\" cx=\"" << svg_px(cx) << "\" cy=\"" << svg_px(cy) << "\" r=\"2.5\" fill=\"#444\"/>\n";
      const Eigen::Vector3d mi = m.row(i).transpose();
      if (mmax <= 0 || mi.norm() < 1e-6 * mmax) continue;
      const Eigen::Vector3d half = mi / mmax * arrow / 2;
      const double dx = half.dot(view.right) * scale, dy = -half.dot(view.up) * scale;
      const std::string colour = arrow_colour(mi.normalized().dot(view.toward));
      s << "<line class=\"moment\" x1=\"" << svg_px(cx - dx) << "\" y1=\"" << svg_px(cy - dy) << "\" x2=\""
        << svg_px(cx + dx) << "\" y2=\"" << svg_px(cy + dy) << "\" stroke=\"" << colour << "\" stroke-width=\"2\"/>\n";
      // Arrowhead as a polygon (SVG 1.1 markers cannot take the line's colour); shrinks with a foreshortened arrow.
      const double len = std::hypot(dx, dy);
      if (len > 1e-9) {
        const double ux = dx / len, uy = dy / len, h = std::min(7.0, 0.8 * len), w = h * 0.45;
        const double tx = cx + dx, ty = cy + dy, bx = tx - ux * h, by = ty - uy * h;
        s << "<polygon class=\"head\" points=\"" << svg_px(tx) << "," << svg_px(ty) << " " << svg_px(bx - uy * w) << ","
          << svg_px(by + ux * w) << " " << svg_px(bx + uy * w) << "," << svg_px(by - ux * w) << "\" fill=\"" << colour
          << "\"/>\n";
      }
    }
    s << "</g>\n";
  }
  s << "</svg>\n";
  return s.str();
}

}  // namespace tsunagu::magnetic
