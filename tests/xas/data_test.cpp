#include "tsunagu/xas/data.hpp"

#include <cmath>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tsunagu/core/error.hpp"

using namespace tsunagu;
using namespace tsunagu::xas;

namespace {

template <class E>
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

Eigen::VectorXd grid(double lo, double hi, int n) { return Eigen::VectorXd::LinSpaced(n, lo, hi); }

// Edge step with its inflection (maximum slope) at e0.
double step(double e, double e0, double width = 1.5) { return 0.5 + std::atan((e - e0) / width) / M_PI; }

Eigen::VectorXd step_on(const Eigen::VectorXd& e, double e0) {
  Eigen::VectorXd mu(e.size());
  for (Eigen::Index i = 0; i < e.size(); ++i) mu(i) = step(e(i), e0);
  return mu;
}

}  // namespace

// ---------------------------------------------------------------- mesh

TEST(Mesh, points_are_equally_spaced_with_exact_ends) {
  const Mesh m{7100.0, 7180.0, 161};
  const Eigen::VectorXd p = m.points();
  ASSERT_EQ(p.size(), 161);
  EXPECT_EQ(p(0), 7100.0);
  EXPECT_EQ(p(160), 7180.0);
  for (Eigen::Index i = 1; i < p.size(); ++i) EXPECT_NEAR(p(i) - p(i - 1), 0.5, 1e-9);
  EXPECT_EQ(m.str(), "7100:7180:161");
}

TEST(Mesh, parse_and_json_round_trip) {
  const Mesh m = parse_mesh(" 7100.5:7180.25:33 ");
  EXPECT_EQ(m, (Mesh{7100.5, 7180.25, 33}));
  EXPECT_EQ(parse_mesh(m.str()), m);
  EXPECT_EQ(Mesh::from_json(m.to_json()), m);
  EXPECT_EQ(m.to_json()["n"], 33);
}

TEST(Mesh, bad_meshes_are_refused_naming_the_value) {
  EXPECT_TRUE(contains(error_of<InvalidArgument>([] { parse_mesh("7100:7180"); }), "'7100:7180'"));
  EXPECT_TRUE(contains(error_of<InvalidArgument>([] { parse_mesh("a:b:c"); }), "LO:HI:N"));
  EXPECT_TRUE(contains(error_of<InvalidArgument>([] { parse_mesh("7100:7180:2.5"); }), "'7100:7180:2.5'"));
  EXPECT_TRUE(contains(error_of<InvalidArgument>([] { parse_mesh("7180:7100:10"); }), "mesh: lo 7180"));
  EXPECT_TRUE(contains(error_of<InvalidArgument>([] { parse_mesh("7100:7180:1"); }), "n = 1"));
  EXPECT_TRUE(contains(error_of<InvalidArgument>([] { (Mesh{0, 1, 0}).points(); }), "n = 0"));
  EXPECT_TRUE(contains(error_of<InvalidArgument>([] { Mesh::from_json(nlohmann::json{{"lo", 1}}); }), "mesh"));
  EXPECT_TRUE(
      contains(error_of<InvalidArgument>([] { (Mesh{std::nan(""), 1, 5}).validate(); }), "lo nan is not finite"));
}

TEST(Normalization, names_round_trip) {
  for (auto n : {Normalization::None, Normalization::Max, Normalization::Area, Normalization::Edge})
    EXPECT_EQ(parse_normalization(normalization_name(n)), n);
  EXPECT_EQ(parse_normalization("MAX"), Normalization::Max);
  EXPECT_TRUE(contains(error_of<InvalidArgument>([] { parse_normalization("peak"); }), "'peak'"));
}

// ---------------------------------------------------------------- interpolation

TEST(Interpolate, reproduces_a_linear_function_on_an_uneven_grid) {
  Eigen::VectorXd e(6), mu(6);
  e << 7097.0, 7097.4, 7099.0, 7103.5, 7104.0, 7120.0;
  for (int i = 0; i < 6; ++i) mu(i) = 3.0 - 0.25 * (e(i) - 7100.0);
  const Eigen::VectorXd mesh = grid(7097.0, 7120.0, 47);
  const Eigen::VectorXd y = interpolate(e, mu, mesh);
  for (Eigen::Index i = 0; i < mesh.size(); ++i) EXPECT_NEAR(y(i), 3.0 - 0.25 * (mesh(i) - 7100.0), 1e-11);
}

TEST(Interpolate, quadratic_error_obeys_the_linear_interpolation_bound) {
  // f = 2 x^2: the error of linear interpolation is at most h^2/8 * max|f''| = h^2/2 on a grid of spacing h,
  // and it is exact at the nodes.
  const Eigen::VectorXd e = grid(-3.0, 5.0, 33);  // h = 0.25
  const Eigen::VectorXd mu = 2.0 * e.array().square();
  const Eigen::VectorXd mesh = grid(-3.0, 5.0, 257);  // every 8th point is a node
  const Eigen::VectorXd y = interpolate(e, mu, mesh);
  const double h = 0.25;
  double worst = 0;
  for (Eigen::Index i = 0; i < mesh.size(); ++i) {
    const double err = y(i) - 2.0 * mesh(i) * mesh(i);
    EXPECT_GE(err, -1e-12);  // a chord lies above a convex function
    worst = std::max(worst, err);
    if (i % 8 == 0) {
      EXPECT_NEAR(err, 0.0, 1e-12);
    }
  }
  EXPECT_LE(worst, h * h / 2 + 1e-12);
  EXPECT_NEAR(worst, h * h / 2, 1e-9);  // reached in the middle of each interval
}

TEST(Interpolate, mesh_at_the_ends_within_tolerance_is_accepted) {
  const Eigen::VectorXd e = grid(7097.0, 7172.0, 226), mu = e.array() - 7000.0;
  Eigen::VectorXd mesh(2);
  mesh << 7097.0 * (1 - 1e-12), 7172.0 * (1 + 1e-12);
  const Eigen::VectorXd y = interpolate(e, mu, mesh);
  EXPECT_DOUBLE_EQ(y(0), 97.0);
  EXPECT_DOUBLE_EQ(y(1), 172.0);
}

TEST(Interpolate, mismatched_range_names_source_and_values_in_one_line) {
  const Eigen::VectorXd e = grid(7097.0, 7172.0, 226), mu = e;
  const std::string below = error_of<InvalidArgument>([&] { interpolate(e, mu, grid(7090, 7150, 7), "x.txt"); });
  EXPECT_EQ(below, "x.txt: mesh 7090 eV below the spectrum's first energy 7097");
  const std::string above = error_of<InvalidArgument>([&] { interpolate(e, mu, grid(7100, 7180, 9), "x.txt"); });
  EXPECT_EQ(above, "x.txt: mesh 7180 eV above the spectrum's last energy 7172");
  EXPECT_EQ(above.find('\n'), std::string::npos);
}

TEST(Interpolate, bad_samples_are_refused) {
  Eigen::VectorXd e(3), mu(3);
  e << 1, 2, 2;
  mu << 0, 1, 2;
  EXPECT_TRUE(contains(error_of<InvalidArgument>([&] { interpolate(e, mu, grid(1, 2, 3), "s"); }),
                       "s: energies not strictly increasing at point 2"));
  e << 1, 2, 3;
  mu(1) = std::nan("");
  EXPECT_TRUE(contains(error_of<InvalidArgument>([&] { interpolate(e, mu, grid(1, 2, 3), "s"); }), "mu[1]"));
  EXPECT_TRUE(contains(error_of<InvalidArgument>([&] { interpolate(e, Eigen::VectorXd(2), grid(1, 2, 3), "s"); }),
                       "3 energies but 2"));
  EXPECT_TRUE(contains(error_of<InvalidArgument>([&] { interpolate(e.head(1), mu.head(1), grid(1, 2, 3), "s"); }),
                       "at least 2"));
}

// ---------------------------------------------------------------- edge

TEST(EdgeEnergy, finds_the_inflection_of_an_arctan_step_between_grid_points) {
  for (const double e0 : {7112.0, 7112.37, 7113.81, 7110.125}) {
    const Eigen::VectorXd e = grid(7090.0, 7170.0, 161);  // 0.5 eV
    EXPECT_NEAR(edge_energy(e, step_on(e, e0)), e0, 0.1 * 0.5) << e0;
  }
  // uneven grid: denser around the edge
  std::vector<double> pts;
  for (double x = 7090; x < 7105; x += 1.0) pts.push_back(x);
  for (double x = 7105; x < 7125; x += 0.3) pts.push_back(x);
  for (double x = 7125; x <= 7200; x += 2.0) pts.push_back(x);
  const Eigen::VectorXd e = Eigen::Map<Eigen::VectorXd>(pts.data(), static_cast<Eigen::Index>(pts.size()));
  EXPECT_NEAR(edge_energy(e, step_on(e, 7114.42)), 7114.42, 0.1 * 0.3);
}

TEST(EdgeEnergy, looks_only_in_the_first_half_of_the_range) {
  const Eigen::VectorXd e = grid(7090.0, 7190.0, 201);
  Eigen::VectorXd mu = step_on(e, 7110.3);
  for (Eigen::Index i = 0; i < e.size(); ++i) mu(i) += 5.0 * step(e(i), 7170.0, 0.5);  // steeper, second half
  EXPECT_NEAR(edge_energy(e, mu), 7110.3, 0.05);
}

// ---------------------------------------------------------------- prepare_spectrum

TEST(PrepareSpectrum, alignment_moves_the_edge_to_the_requested_energy) {
  const Eigen::VectorXd e = grid(7080.0, 7180.0, 401);  // 0.25 eV
  const Eigen::VectorXd mu = step_on(e, 7112.37);
  SpectrumOptions o;
  o.mesh = Mesh{7095.0, 7150.0, 221};
  o.align_edge_to = 7120.0;
  const Eigen::VectorXd y = prepare_spectrum(e, mu, o, "a");
  const Eigen::VectorXd mesh = o.mesh.points();
  const double shift = 7120.0 - edge_energy(e, mu);
  for (Eigen::Index i = 0; i < mesh.size(); ++i) EXPECT_NEAR(y(i), step(mesh(i), 7112.37 + shift), 2e-3);
  EXPECT_NEAR(edge_energy(mesh, y), 7120.0, 0.05);
  // without alignment the spectrum stays where it was
  o.align_edge_to.reset();
  EXPECT_NEAR(edge_energy(mesh, prepare_spectrum(e, mu, o)), 7112.37, 0.05);
  // aligning far away leaves the mesh uncovered: the message names the source and the energies
  o.align_edge_to = 7150.0;
  EXPECT_TRUE(contains(error_of<InvalidArgument>([&] { prepare_spectrum(e, mu, o, "b.txt"); }),
                       "b.txt: mesh 7095 eV below the spectrum's first energy"));
}

TEST(PrepareSpectrum, normalisations) {
  const Eigen::VectorXd e = grid(0.0, 10.0, 101);
  const Eigen::VectorXd mu = 2.0 + e.array();  // 2..12 on the mesh below
  SpectrumOptions o;
  o.mesh = Mesh{0.0, 10.0, 11};
  o.normalization = Normalization::None;
  EXPECT_NEAR(prepare_spectrum(e, mu, o)(10), 12.0, 1e-12);
  o.normalization = Normalization::Max;
  EXPECT_NEAR(prepare_spectrum(e, mu, o).maxCoeff(), 1.0, 1e-12);
  o.normalization = Normalization::Area;  // integral of 2 + x over [0, 10] = 70 (trapezoid exact for a line)
  EXPECT_NEAR(prepare_spectrum(e, mu, o)(0), 2.0 / 70.0, 1e-12);
  o.normalization = Normalization::Edge;  // last ceil(11 / 10) = 2 points: 11 and 12
  EXPECT_NEAR(prepare_spectrum(e, mu, o)(10), 12.0 / 11.5, 1e-12);
  o.mesh = Mesh{0.0, 10.0, 101};  // last 11 points: 9..10, mean 11.5
  EXPECT_NEAR(prepare_spectrum(e, mu, o)(100), 12.0 / 11.5, 1e-12);
  o.normalization = Normalization::Max;
  EXPECT_TRUE(contains(
      error_of<InvalidArgument>([&] { prepare_spectrum(e, Eigen::VectorXd::Zero(e.size()), o, "z.txt"); }),
      "z.txt: cannot normalise by max"));
}

// ---------------------------------------------------------------- splits

namespace {

// 40 groups of 1..4 records, interleaved.
std::vector<std::string> repeated_groups() {
  std::vector<std::string> g;
  for (int rep = 0; rep < 4; ++rep)
    for (int k = 0; k < 40; ++k)
      if (rep < 1 + k % 4) g.push_back("mat-" + std::to_string(k));
  return g;
}

}  // namespace

TEST(GroupedKfold, keeps_groups_together_balanced_and_seeded) {
  const auto groups = repeated_groups();
  ASSERT_EQ(groups.size(), 100u);
  for (int k : {2, 3, 5, 10}) {
    const auto folds = grouped_kfold(groups, k, 7);
    ASSERT_EQ(folds.size(), groups.size());
    std::map<std::string, int> fold_of;
    std::vector<int> size(static_cast<std::size_t>(k), 0);
    for (std::size_t i = 0; i < groups.size(); ++i) {
      ASSERT_GE(folds[i], 0);
      ASSERT_LT(folds[i], k);
      const auto [it, inserted] = fold_of.emplace(groups[i], folds[i]);
      EXPECT_EQ(it->second, folds[i]) << "group " << groups[i] << " split across folds";
      ++size[static_cast<std::size_t>(folds[i])];
    }
    const auto [lo, hi] = std::minmax_element(size.begin(), size.end());
    EXPECT_GE(*lo, 1);
    EXPECT_LE(*hi - *lo, 4) << "k = " << k;  // greedy: within the largest group size
    EXPECT_EQ(grouped_kfold(groups, k, 7), folds);
  }
  EXPECT_NE(grouped_kfold(groups, 5, 7), grouped_kfold(groups, 5, 8));
}

TEST(GroupedKfold, refuses_fewer_groups_than_folds) {
  const std::vector<std::string> g{"a", "a", "b", "b", "c"};
  EXPECT_TRUE(contains(error_of<InvalidArgument>([&] { grouped_kfold(g, 4, 0); }), "3 groups"));
  EXPECT_TRUE(contains(error_of<InvalidArgument>([&] { grouped_kfold(g, 1, 0); }), "k = 1"));
  EXPECT_EQ(grouped_kfold(g, 3, 0).size(), 5u);
}

TEST(GroupedSplit, holds_out_whole_groups_near_the_fraction) {
  const auto groups = repeated_groups();
  for (double f : {0.1, 0.2, 0.5}) {
    for (std::uint64_t seed : {0u, 1u, 2u}) {
      const auto test = grouped_split(groups, f, seed);
      std::map<std::string, bool> side;
      std::size_t n_test = 0;
      for (std::size_t i = 0; i < groups.size(); ++i) {
        const auto [it, inserted] = side.emplace(groups[i], test[i]);
        EXPECT_EQ(it->second, test[i]);
        n_test += test[i];
      }
      EXPECT_NEAR(static_cast<double>(n_test), f * 100.0, 2.0) << f << " " << seed;
      EXPECT_EQ(grouped_split(groups, f, seed), test);
    }
  }
  // tiny: both sides non-empty
  const auto t = grouped_split({"a", "b"}, 0.01, 3);
  EXPECT_NE(t[0], t[1]);
  EXPECT_TRUE(contains(error_of<InvalidArgument>([] { grouped_split({"a", "a"}, 0.2, 0); }), "at least 2"));
  EXPECT_TRUE(contains(error_of<InvalidArgument>([] { grouped_split({"a", "b"}, 1.0, 0); }), "(0, 1)"));
}
