// The basis picture: one panel per vector and direction, one arrow per non-zero moment, arrows drawn along the
// projected moment (checked against project_view, itself checked against hand-computed screen axes).
#include "tsunagu/magnetic/picture.hpp"

#include <cmath>
#include <regex>
#include <string>

#include <gtest/gtest.h>

#include "tsunagu/core/error.hpp"
#include "tsunagu/structure/cif.hpp"

namespace mg = tsunagu::magnetic;
namespace ts = tsunagu::structure;

namespace {

mg::MagneticBasis mn3gan_basis() {
  const auto c = ts::read_cif(std::string(TSUNAGU_SOURCE_DIR) + "/examples/magnetic/Mn3GaN.cif");
  mg::BasisOptions o;
  o.magnetic_atoms = {"Mn"};
  return mg::generate_basis(c, o);
}

int count(const std::string& s, const std::string& what) {
  int n = 0;
  for (std::size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

}  // namespace

TEST(Picture, ViewAxesAreTheHandComputedOnes) {
  mg::PictureOptions o;
  o.azimuth_deg = 0;
  o.elevation_deg = 0;  // looking from +x: y to the right, z up
  Eigen::MatrixXd p(3, 3);
  p << 1, 0, 0, 0, 1, 0, 0, 0, 1;
  const Eigen::MatrixXd s = mg::project_view(p, o);
  EXPECT_NEAR(s(0, 0), 0, 1e-12);
  EXPECT_NEAR(s(0, 1), 0, 1e-12);
  EXPECT_NEAR(s(1, 0), 1, 1e-12);
  EXPECT_NEAR(s(2, 1), 1, 1e-12);
  o.azimuth_deg = 90;  // from +y: -x to the right
  EXPECT_NEAR(mg::project_view(p, o)(0, 0), -1, 1e-12);
}

TEST(Picture, OnePanelPerVectorAndDirectionAndOneArrowPerMoment) {
  const auto b = mn3gan_basis();
  const std::string svg = mg::render_basis_svg(b);
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_EQ(count(svg, "<g class=\"panel\""), static_cast<int>(b.vectors.size() + b.directions.size()));
  int arrows = 0;
  auto add = [&](const Eigen::MatrixXd& m) {
    for (Eigen::Index i = 0; i < m.rows(); ++i) arrows += m.row(i).norm() > 1e-6 * m.rowwise().norm().maxCoeff();
  };
  for (const auto& v : b.vectors) add(v.moments);
  for (const auto& d : b.directions) add(d.moments);
  EXPECT_EQ(count(svg, "class=\"moment\""), arrows);
  EXPECT_EQ(count(svg, "class=\"atom\""), 3 * static_cast<int>(b.vectors.size() + b.directions.size()));
  EXPECT_NE(svg.find("166.101 R-3m&apos;"), std::string::npos);  // XML-escaped prime
  mg::PictureOptions no_dirs;
  no_dirs.directions = false;
  EXPECT_EQ(count(mg::render_basis_svg(b, no_dirs), "<g class=\"panel\""), static_cast<int>(b.vectors.size()));
}

TEST(Picture, FerromagnetAlongZPointsStraightUp) {
  const auto b = mn3gan_basis();
  mg::PictureOptions o;
  o.directions = false;
  const std::string svg = mg::render_basis_svg(b, o);
  // Vector 2 is the T1g dipole along z: in SVG coordinates x1 == x2 and y2 < y1 (up), for all three atoms.
  ASSERT_EQ(b.vectors[2].multipole, "M1");
  ASSERT_NEAR(std::abs(b.vectors[2].moments(0, 2)), b.vectors[2].moments.row(0).norm(), 1e-12);
  const double sign = b.vectors[2].moments(0, 2) > 0 ? 1 : -1;
  const std::size_t start = svg.find("data-title=\"#2 ");
  ASSERT_NE(start, std::string::npos);
  const std::string panel = svg.substr(start, svg.find("</g>", start) - start);
  const std::regex line("class=\"moment\" x1=\"([-0-9.]+)\" y1=\"([-0-9.]+)\" x2=\"([-0-9.]+)\" y2=\"([-0-9.]+)\"");
  int n = 0;
  for (std::sregex_iterator it(panel.begin(), panel.end(), line), end; it != end; ++it, ++n) {
    const double x1 = std::stod((*it)[1]), y1 = std::stod((*it)[2]), x2 = std::stod((*it)[3]),
                 y2 = std::stod((*it)[4]);
    EXPECT_NEAR(x1, x2, 0.02);
    EXPECT_LT(sign * (y2 - y1), -5.0);
  }
  EXPECT_EQ(n, 3);
}

TEST(Picture, BadOptionsNameTheField) {
  const auto b = mn3gan_basis();
  mg::PictureOptions o;
  o.columns = 0;
  EXPECT_THROW(mg::render_basis_svg(b, o), tsunagu::InvalidArgument);
  o = {};
  o.elevation_deg = 90;
  try {
    mg::render_basis_svg(b, o);
    FAIL();
  } catch (const tsunagu::InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("elevation_deg"), std::string::npos);
  }
}
