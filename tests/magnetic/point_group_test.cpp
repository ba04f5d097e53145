#include "tsunagu/magnetic/point_group.hpp"

#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <numbers>
#include <set>
#include <string>
#include <vector>

#include <Eigen/Geometry>
#include <Eigen/LU>
#include <gtest/gtest.h>

#include "tsunagu/core/error.hpp"
#include "tsunagu/structure/crystal.hpp"
#include "tsunagu/structure/symmetry.hpp"

using namespace tsunagu;
using namespace tsunagu::magnetic;
namespace st = tsunagu::structure;

namespace {

using Mat = Eigen::Matrix3d;
using CharFn = std::function<double(const Mat&)>;

// Point group of each space-group type, from the ranges of International Tables A (independent of the code).
std::string expected_point_group(int number) {
  struct Range {
    int last;
    const char* symbol;
  };
  static const Range ranges[] = {{1, "1"},      {2, "-1"},     {5, "2"},     {9, "m"},     {15, "2/m"},
                                 {24, "222"},   {46, "mm2"},   {74, "mmm"},  {80, "4"},    {82, "-4"},
                                 {88, "4/m"},   {98, "422"},   {110, "4mm"}, {122, "-42m"}, {142, "4/mmm"},
                                 {146, "3"},    {148, "-3"},   {155, "32"},  {161, "3m"},  {167, "-3m"},
                                 {173, "6"},    {174, "-6"},   {176, "6/m"}, {182, "622"}, {186, "6mm"},
                                 {190, "-6m2"}, {194, "6/mmm"}, {199, "23"}, {206, "m-3"}, {214, "432"},
                                 {220, "-43m"}, {230, "m-3m"}};
  for (const Range& r : ranges)
    if (number <= r.last) return r.symbol;
  return "";
}

// Conventional cell (rows a, b, c in Å) of the crystal system of a space-group type in its first spglib setting
// (monoclinic: unique axis b; trigonal R: hexagonal axes). Generic lengths so that no accidental symmetry helps.
Mat conventional_lattice(int number) {
  if (number <= 2) return st::lattice_from_parameters(5, 6, 7, 80, 85, 95);
  if (number <= 15) return st::lattice_from_parameters(5, 6, 7, 90, 100, 90);
  if (number <= 74) return st::lattice_from_parameters(5, 6, 7, 90, 90, 90);
  if (number <= 142) return st::lattice_from_parameters(5, 5, 7, 90, 90, 90);
  if (number <= 194) return st::lattice_from_parameters(5, 5, 7, 90, 90, 120);
  return st::lattice_from_parameters(5, 5, 5, 90, 90, 90);
}

struct Ops {
  Mat lattice;                  // rows a, b, c
  std::vector<Mat> cartesian;   // one per space-group operation (repeats for centring translations)
  std::vector<Eigen::Matrix3i> fractional;
  Mat axes() const { return lattice.transpose(); }  // columns a, b, c
};

Ops space_group(int number, const Mat& lattice) {
  Ops o;
  o.lattice = lattice;
  const int hall = st::hall_number_from_it_number(number);
  for (const st::SymOp& op : st::space_group_operations(hall)) {
    o.fractional.push_back(op.rotation);
    o.cartesian.push_back(st::cartesian_rotation(op.rotation, lattice));
  }
  return o;
}
Ops space_group(int number) { return space_group(number, conventional_lattice(number)); }

// Characters per class of a function of the Cartesian matrix; checks that it is a class function.
std::vector<double> class_characters(const PointGroupMatch& m, const std::vector<Mat>& rots, const CharFn& f) {
  std::vector<double> chi(m.group->class_labels.size(), std::numeric_limits<double>::quiet_NaN());
  for (std::size_t k = 0; k < rots.size(); ++k) {
    const auto c = static_cast<std::size_t>(m.class_of[k]);
    const double v = f(rots[k]);
    if (std::isnan(chi[c]))
      chi[c] = v;
    else
      EXPECT_NEAR(chi[c], v, 1e-9) << "not a class function on class " << m.group->class_labels[c];
  }
  for (std::size_t c = 0; c < chi.size(); ++c) EXPECT_FALSE(std::isnan(chi[c])) << m.group->class_labels[c];
  return chi;
}

// "A2u", "Au+2Bu", ...: the decomposition, irreps in table order; checks integrality and non-negativity.
std::string decompose(const PointGroup& g, const std::vector<double>& chi) {
  const std::vector<double> n = irrep_multiplicities(g, chi);
  std::string out;
  for (std::size_t i = 0; i < n.size(); ++i) {
    const long k = std::lround(n[i]);
    EXPECT_NEAR(n[i], static_cast<double>(k), 1e-9) << g.international << " " << g.irreps[i].label;
    EXPECT_GE(k, 0) << g.international << " " << g.irreps[i].label;
    if (k <= 0) continue;
    if (!out.empty()) out += "+";
    if (k > 1) out += std::to_string(k);
    out += g.irreps[i].label;
  }
  return out;
}

double polar(const Mat& r) { return r.trace(); }
double axial(const Mat& r) { return axial_vector_character(r); }

// Character of a scalar function f spanning a 1-D representation: (R f)(r) = f(R⁻¹ r) = ±f(r).
CharFn scalar(std::function<double(const Eigen::Vector3d&)> f) {
  return [f](const Mat& r) {
    const Eigen::Vector3d p(0.31, 0.77, 1.13);
    const double v = f(r.transpose() * p) / f(p);
    EXPECT_NEAR(std::abs(v), 1.0, 1e-9) << "function does not span a 1-D representation";
    return v;
  };
}

const std::map<std::string, CharFn>& functions() {
  static const std::map<std::string, CharFn> fns = {
      {"xyz", polar},
      {"R", axial},
      {"x", [](const Mat& r) { return r(0, 0); }},
      {"y", [](const Mat& r) { return r(1, 1); }},
      {"z", [](const Mat& r) { return r(2, 2); }},
      {"(x,y)", [](const Mat& r) { return r(0, 0) + r(1, 1); }},
      {"Rx", [](const Mat& r) { return r.determinant() * r(0, 0); }},
      {"Ry", [](const Mat& r) { return r.determinant() * r(1, 1); }},
      {"Rz", [](const Mat& r) { return r.determinant() * r(2, 2); }},
      {"(Rx,Ry)", [](const Mat& r) { return r.determinant() * (r(0, 0) + r(1, 1)); }},
      {"x2-y2", scalar([](const Eigen::Vector3d& v) { return v.x() * v.x() - v.y() * v.y(); })},
      {"xy", scalar([](const Eigen::Vector3d& v) { return v.x() * v.y(); })},
      {"x(x2-3y2)", scalar([](const Eigen::Vector3d& v) { return v.x() * (v.x() * v.x() - 3 * v.y() * v.y()); })},
      {"y(3x2-y2)", scalar([](const Eigen::Vector3d& v) { return v.y() * (3 * v.x() * v.x() - v.y() * v.y()); })},
  };
  return fns;
}

Mat rotation_about(const Eigen::Vector3d& axis, double degrees) {
  return Eigen::AngleAxisd(degrees * std::numbers::pi / 180, axis.normalized()).toRotationMatrix();
}

}  // namespace

// ---- the tables ------------------------------------------------------------------------------------------------

TEST(PointGroupTables, thirty_two_groups_in_international_tables_order_with_spglib_symbols) {
  const std::vector<std::string> intl = {"1",    "-1",  "2",     "m",   "2/m", "222",  "mm2", "mmm",
                                         "4",    "-4",  "4/m",   "422", "4mm", "-42m", "4/mmm", "3",
                                         "-3",   "32",  "3m",    "-3m", "6",   "-6",   "6/m", "622",
                                         "6mm",  "-6m2", "6/mmm", "23", "m-3", "432",  "-43m", "m-3m"};
  const std::vector<std::string> schoen = {"C1", "Ci",  "C2",  "Cs",  "C2h", "D2",  "C2v", "D2h", "C4",  "S4", "C4h",
                                           "D4", "C4v", "D2d", "D4h", "C3",  "C3i", "D3",  "C3v", "D3d", "C6", "C3h",
                                           "C6h", "D6", "C6v", "D3h", "D6h", "T",   "Th",  "O",   "Td",  "Oh"};
  const std::vector<int> order = {1, 2, 2, 2, 4, 4, 4, 8, 4, 4, 8, 8, 8, 8, 16, 3,
                                  6, 6, 6, 12, 6, 6, 12, 12, 12, 12, 24, 12, 24, 24, 24, 48};
  const auto& gs = point_groups();
  ASSERT_EQ(gs.size(), 32u);
  for (std::size_t i = 0; i < gs.size(); ++i) {
    EXPECT_EQ(gs[i].international, intl[i]);
    EXPECT_EQ(gs[i].schoenflies, schoen[i]);
    EXPECT_EQ(gs[i].order, order[i]) << intl[i];
  }
}

TEST(PointGroupTables, class_sizes_sum_to_order_and_squared_dimensions_too) {
  for (const PointGroup& g : point_groups()) {
    SCOPED_TRACE(g.international);
    ASSERT_EQ(g.class_labels.size(), g.class_sizes.size());
    int sum = 0, sq = 0, complex_count = 0;
    for (int s : g.class_sizes) sum += s;
    EXPECT_EQ(sum, g.order);
    EXPECT_EQ(g.class_labels.front(), "E");
    for (const Irrep& ir : g.irreps) {
      ASSERT_EQ(ir.characters.size(), g.class_sizes.size()) << ir.label;
      EXPECT_DOUBLE_EQ(ir.characters.front(), ir.dimension) << ir.label;  // χ(E) = dimension
      if (ir.complex_pair) {
        EXPECT_EQ(ir.dimension, 2) << ir.label;
        EXPECT_EQ(ir.label.front(), 'E') << ir.label;
        sq += 2;  // two complex 1-D irreps
        complex_count += 2;
      } else {
        sq += ir.dimension * ir.dimension;
        complex_count += 1;
      }
    }
    EXPECT_EQ(sq, g.order);
    // As many (complex) irreps as classes.
    EXPECT_EQ(complex_count, static_cast<int>(g.class_sizes.size()));
    std::set<std::string> labels;
    for (const Irrep& ir : g.irreps) EXPECT_TRUE(labels.insert(ir.label).second) << "duplicate " << ir.label;
  }
}

TEST(PointGroupTables, great_orthogonality_with_pair_weighting) {
  for (const PointGroup& g : point_groups()) {
    SCOPED_TRACE(g.international);
    for (std::size_t a = 0; a < g.irreps.size(); ++a)
      for (std::size_t b = 0; b < g.irreps.size(); ++b) {
        double s = 0;
        for (std::size_t c = 0; c < g.class_sizes.size(); ++c)
          s += g.class_sizes[c] * g.irreps[a].characters[c] * g.irreps[b].characters[c];
        const double kappa = g.irreps[a].complex_pair ? 2 : 1;
        EXPECT_NEAR(s, a == b ? g.order * kappa : 0.0, 1e-12) << g.irreps[a].label << " " << g.irreps[b].label;
      }
  }
}

TEST(PointGroupTables, products_of_irreps_decompose_into_whole_numbers) {
  // A wrong entry anywhere in a table breaks the integrality of some product's multiplicities.
  for (const PointGroup& g : point_groups()) {
    SCOPED_TRACE(g.international);
    for (const Irrep& a : g.irreps)
      for (const Irrep& b : g.irreps) {
        std::vector<double> chi(g.class_sizes.size());
        for (std::size_t c = 0; c < chi.size(); ++c) chi[c] = a.characters[c] * b.characters[c];
        const std::vector<double> n = irrep_multiplicities(g, chi);
        double dim = 0;
        for (std::size_t i = 0; i < n.size(); ++i) {
          EXPECT_NEAR(n[i], std::round(n[i]), 1e-12) << a.label << "×" << b.label;
          EXPECT_GE(n[i], -1e-12);
          dim += std::round(n[i]) * g.irreps[i].dimension;
        }
        EXPECT_EQ(dim, static_cast<double>(a.dimension * b.dimension)) << a.label << "×" << b.label;
      }
  }
}

TEST(PointGroupTables, lookup_by_symbol_schoenflies_and_aliases) {
  EXPECT_EQ(point_group("m-3m").schoenflies, "Oh");
  EXPECT_EQ(point_group("Oh").international, "m-3m");
  EXPECT_EQ(point_group("S6").international, "-3");
  EXPECT_EQ(point_group("-62m").schoenflies, "D3h");
  EXPECT_EQ(point_group("-4m2").schoenflies, "D2d");
  EXPECT_EQ(point_group("312").schoenflies, "D3");
  EXPECT_EQ(point_group("31m").schoenflies, "C3v");
  EXPECT_EQ(point_group("-31m").schoenflies, "D3d");
  EXPECT_EQ(point_group("m3").schoenflies, "Th");
  EXPECT_THROW(point_group("5m"), InvalidArgument);
  EXPECT_THROW(point_group(""), InvalidArgument);
}

TEST(PointGroupTables, multiplicities_check_their_input) {
  const PointGroup& g = point_group("mmm");
  EXPECT_THROW(irrep_multiplicities(g, {3, -1, -1}), InvalidArgument);
  EXPECT_THROW(irrep_multiplicities(g, std::vector<double>(8, std::nan(""))), InvalidArgument);
  // The regular representation holds each irrep dimension times (a pair counts once with dimension 2 -> 1 each).
  const PointGroup& c3 = point_group("3");
  const std::vector<double> n = irrep_multiplicities(c3, {3, 0, 0});
  ASSERT_EQ(n.size(), 2u);
  EXPECT_NEAR(n[0], 1, 1e-12);  // A
  EXPECT_NEAR(n[1], 1, 1e-12);  // the E pair: both complex members once
  EXPECT_DOUBLE_EQ(axial_vector_character(-Mat::Identity()), 3);
  EXPECT_DOUBLE_EQ(axial_vector_character(Eigen::Vector3d(1, 1, -1).asDiagonal()), -1);  // mirror ⊥ z
}

// ---- classification on the operations of all 230 space-group types ----------------------------------------------

TEST(ClassifyRotations, every_space_group_type_gives_its_point_group_and_valid_classes) {
  for (int number = 1; number <= 230; ++number) {
    SCOPED_TRACE("space group " + std::to_string(number));
    const Ops ops = space_group(number);
    PointGroupMatch m;
    ASSERT_NO_THROW(m = classify_rotations(ops.cartesian, ops.axes()));
    const PointGroup& g = *m.group;
    EXPECT_EQ(g.international, expected_point_group(number));
    // With the symbol as a cross-check the same answer.
    const PointGroupMatch m2 = classify_rotations(ops.cartesian, ops.axes(), expected_point_group(number));
    EXPECT_EQ(m2.class_of, m.class_of);
    ASSERT_EQ(m.class_of.size(), ops.cartesian.size());

    // Distinct fractional rotations per class = class sizes.
    std::vector<std::set<std::vector<int>>> members(g.class_sizes.size());
    for (std::size_t k = 0; k < ops.fractional.size(); ++k) {
      const Eigen::Matrix3i& w = ops.fractional[k];
      members[static_cast<std::size_t>(m.class_of[k])].insert(std::vector<int>(w.data(), w.data() + 9));
    }
    for (std::size_t c = 0; c < members.size(); ++c)
      EXPECT_EQ(static_cast<int>(members[c].size()), g.class_sizes[c]) << g.class_labels[c];

    // Polar and axial vectors: non-negative whole multiplicities, total dimension 3.
    for (const CharFn& f : {CharFn(polar), CharFn(axial)}) {
      const std::vector<double> n = irrep_multiplicities(g, class_characters(m, ops.cartesian, f));
      double dim = 0;
      for (std::size_t i = 0; i < n.size(); ++i) {
        EXPECT_NEAR(n[i], std::round(n[i]), 1e-9) << g.irreps[i].label;
        EXPECT_GE(n[i], -1e-9) << g.irreps[i].label;
        dim += std::round(n[i]) * g.irreps[i].dimension;
      }
      EXPECT_EQ(dim, 3.0);
    }

    // The tables against the actual group multiplication: 1-D irreps are homomorphisms, and the Frobenius–Schur
    // indicator (1/|G|) Σ_g χ(g²) is 1 for a real irrep and 0 for a combined pair (both members complex).
    std::vector<std::size_t> one_op;  // one operation per distinct rotation
    {
      std::set<std::vector<int>> seen;
      for (std::size_t k = 0; k < ops.fractional.size(); ++k)
        if (seen.insert(std::vector<int>(ops.fractional[k].data(), ops.fractional[k].data() + 9)).second)
          one_op.push_back(k);
    }
    ASSERT_EQ(static_cast<int>(one_op.size()), g.order);
    auto class_of_matrix = [&](const Mat& r) {
      for (std::size_t k : one_op)
        if ((ops.cartesian[k] - r).norm() < 1e-6) return m.class_of[k];
      ADD_FAILURE() << "product not in the group";
      return 0;
    };
    for (const Irrep& ir : g.irreps) {
      double fs = 0;
      for (std::size_t a : one_op) {
        const auto ca = static_cast<std::size_t>(m.class_of[a]);
        fs += ir.characters[static_cast<std::size_t>(class_of_matrix(ops.cartesian[a] * ops.cartesian[a]))];
        if (ir.dimension != 1) continue;
        for (std::size_t b : one_op) {
          const auto cb = static_cast<std::size_t>(m.class_of[b]);
          const auto cab = static_cast<std::size_t>(class_of_matrix(ops.cartesian[a] * ops.cartesian[b]));
          EXPECT_EQ(ir.characters[cab], ir.characters[ca] * ir.characters[cb]) << ir.label;
        }
      }
      EXPECT_NEAR(fs / g.order, ir.complex_pair ? 0.0 : 1.0, 1e-12) << ir.label;
    }
  }
}

TEST(ClassifyRotations, a_subgroup_given_alone_is_identified_as_itself) {
  // Every group is reached from some space group above; here a group given as a subset of another's elements is
  // identified as itself (C4v's elements inside D4h's classify as 4mm, not 4/mmm).
  const Ops d4h = space_group(123);
  std::vector<Mat> c4v;
  for (const Mat& r : d4h.cartesian)
    if (std::abs(r(2, 2) - 1) < 1e-9) c4v.push_back(r);  // the elements that keep z: 4mm
  ASSERT_EQ(c4v.size(), 8u);
  EXPECT_EQ(classify_rotations(c4v, d4h.axes()).group->international, "4mm");
}

// ---- published columns (Cotton, Chemical Applications of Group Theory, App. IIA) ---------------------------------

TEST(ClassifyRotations, linear_functions_and_rotations_fall_into_the_published_irreps) {
  struct Case {
    int number;
    const char* function;
    const char* expected;
  };
  const Case cases[] = {
      {221, "xyz", "T1u"},      {221, "R", "T1g"},         {229, "xyz", "T1u"},     {207, "xyz", "T1"},
      {207, "R", "T1"},         {215, "xyz", "T2"},        {215, "R", "T1"},        {200, "xyz", "Tu"},
      {200, "R", "Tg"},         {195, "xyz", "T"},         {123, "z", "A2u"},       {123, "(x,y)", "Eu"},
      {123, "Rz", "A2g"},       {123, "(Rx,Ry)", "Eg"},    {123, "x2-y2", "B1g"},   {123, "xy", "B2g"},
      {139, "x2-y2", "B1g"},    {136, "xy", "B2g"},        {89, "z", "A2"},         {89, "x2-y2", "B1"},
      {89, "xy", "B2"},         {99, "z", "A1"},           {99, "Rz", "A2"},        {99, "x2-y2", "B1"},
      {99, "xy", "B2"},         {111, "z", "B2"},          {111, "(x,y)", "E"},     {111, "Rz", "A2"},
      {111, "x2-y2", "B1"},     {115, "z", "B2"},          {115, "(x,y)", "E"},     {115, "Rz", "A2"},
      {83, "z", "Au"},          {83, "(x,y)", "Eu"},       {83, "Rz", "Ag"},        {83, "(Rx,Ry)", "Eg"},
      {75, "z", "A"},           {75, "(x,y)", "E"},        {81, "z", "B"},          {81, "(x,y)", "E"},
      {81, "Rz", "A"},          {47, "z", "B1u"},          {47, "y", "B2u"},        {47, "x", "B3u"},
      {47, "Rz", "B1g"},        {47, "Ry", "B2g"},         {47, "Rx", "B3g"},       {74, "z", "B1u"},
      {16, "z", "B1"},          {16, "y", "B2"},           {16, "x", "B3"},         {25, "z", "A1"},
      {25, "x", "B1"},          {25, "y", "B2"},           {25, "Rz", "A2"},        {25, "Ry", "B1"},
      {25, "Rx", "B2"},         {43, "x", "B1"},           {10, "y", "Au"},         {10, "xyz", "Au+2Bu"},
      {10, "R", "Ag+2Bg"},      {3, "xyz", "A+2B"},        {6, "xyz", "2A'+A''"},   {2, "xyz", "3Au"},
      {2, "R", "3Ag"},          {1, "xyz", "3A"},          {191, "z", "A2u"},       {191, "(x,y)", "E1u"},
      {191, "Rz", "A2g"},       {191, "(Rx,Ry)", "E1g"},   {191, "x(x2-3y2)", "B1u"}, {191, "y(3x2-y2)", "B2u"},
      {194, "x(x2-3y2)", "B1u"}, {177, "z", "A2"},         {177, "(x,y)", "E1"},    {177, "x(x2-3y2)", "B1"},
      {183, "z", "A1"},         {183, "(x,y)", "E1"},      {183, "x(x2-3y2)", "B1"}, {183, "y(3x2-y2)", "B2"},
      {175, "z", "Au"},         {175, "(x,y)", "E1u"},     {175, "Rz", "Ag"},       {175, "(Rx,Ry)", "E1g"},
      {168, "z", "A"},          {168, "(x,y)", "E1"},      {174, "z", "A''"},       {174, "(x,y)", "E'"},
      {174, "Rz", "A'"},        {174, "(Rx,Ry)", "E''"},   {187, "z", "A2''"},      {187, "(x,y)", "E'"},
      {187, "Rz", "A2'"},       {187, "(Rx,Ry)", "E''"},   {189, "z", "A2''"},      {189, "(x,y)", "E'"},
      {164, "z", "A2u"},        {164, "(x,y)", "Eu"},      {164, "Rz", "A2g"},      {164, "(Rx,Ry)", "Eg"},
      {166, "z", "A2u"},        {166, "(x,y)", "Eu"},      {162, "z", "A2u"},       {162, "(x,y)", "Eu"},
      {149, "z", "A2"},         {149, "(x,y)", "E"},       {150, "z", "A2"},        {156, "z", "A1"},
      {156, "Rz", "A2"},        {157, "z", "A1"},          {157, "(x,y)", "E"},     {147, "z", "Au"},
      {147, "(x,y)", "Eu"},     {147, "Rz", "Ag"},         {147, "(Rx,Ry)", "Eg"},  {148, "z", "Au"},
      {143, "z", "A"},          {143, "(x,y)", "E"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::to_string(c.number) + " " + c.function);
    const Ops ops = space_group(c.number);
    const PointGroupMatch m = classify_rotations(ops.cartesian, ops.axes());
    EXPECT_EQ(decompose(*m.group, class_characters(m, ops.cartesian, functions().at(c.function))), c.expected);
  }
}

TEST(ClassifyRotations, same_group_in_both_orientations_is_classified_intrinsically) {
  // -42m vs -4m2: with x ∥ a, x²−y² is B1 in P-42m (C2' ∥ a) and B2 in P-4m2 (C2' ∥ a ± b).
  const Ops p42m = space_group(111), p4m2 = space_group(115);
  const PointGroupMatch a = classify_rotations(p42m.cartesian, p42m.axes(), "-42m");
  const PointGroupMatch b = classify_rotations(p4m2.cartesian, p4m2.axes(), "-4m2");
  const CharFn& f = functions().at("x2-y2");
  EXPECT_EQ(decompose(*a.group, class_characters(a, p42m.cartesian, f)), "B1");
  EXPECT_EQ(decompose(*b.group, class_characters(b, p4m2.cartesian, f)), "B2");
}

// ---- the sense of rotations that name their class ------------------------------------------------------------------

namespace {
int class_of_fractional(const Ops& ops, const PointGroupMatch& m, const Eigen::Matrix3i& w) {
  for (std::size_t k = 0; k < ops.fractional.size(); ++k)
    if (ops.fractional[k] == w) return m.class_of[k];
  ADD_FAILURE() << "no such operation";
  return -1;
}
std::string label_of_fractional(const Ops& ops, const PointGroupMatch& m, const Eigen::Matrix3i& w) {
  const int c = class_of_fractional(ops, m, w);
  return c < 0 ? "" : m.group->class_labels[static_cast<std::size_t>(c)];
}
Eigen::Matrix3i mat3i(std::initializer_list<int> v) {
  Eigen::Matrix3i w;
  auto it = v.begin();
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) w(i, j) = *it++;
  return w;
}
}  // namespace

TEST(ClassifyRotations, sense_follows_the_international_tables_matrices) {
  // 3⁺ along c: (x,y,z) -> (−y, x−y, z); 4⁺: (−y, x, z); −4⁺ = S4³: (y, −x, −z); −3⁺ = i·3⁺ = S6⁵.
  const Eigen::Matrix3i three = mat3i({0, -1, 0, 1, -1, 0, 0, 0, 1});
  const Eigen::Matrix3i four = mat3i({0, -1, 0, 1, 0, 0, 0, 0, 1});
  const Eigen::Matrix3i minus_four = mat3i({0, 1, 0, -1, 0, 0, 0, 0, -1});
  const Ops p3 = space_group(143);
  EXPECT_EQ(label_of_fractional(p3, classify_rotations(p3.cartesian, p3.axes()), three), "C3");
  EXPECT_EQ(label_of_fractional(p3, classify_rotations(p3.cartesian, p3.axes()), Eigen::Matrix3i(three * three)),
            "C3²");
  const Ops p6 = space_group(175);
  const PointGroupMatch m6 = classify_rotations(p6.cartesian, p6.axes());
  EXPECT_EQ(label_of_fractional(p6, m6, three), "C3");
  EXPECT_EQ(label_of_fractional(p6, m6, Eigen::Matrix3i(-three)), "S6⁵");
  EXPECT_EQ(label_of_fractional(p6, m6, Eigen::Matrix3i(-three * three)), "S6");
  const Ops p4 = space_group(83);
  const PointGroupMatch m4 = classify_rotations(p4.cartesian, p4.axes());
  EXPECT_EQ(label_of_fractional(p4, m4, four), "C4");
  EXPECT_EQ(label_of_fractional(p4, m4, Eigen::Matrix3i(-four)), "S4³");
  EXPECT_EQ(label_of_fractional(p4, m4, minus_four), "S4³");
  const Ops pm4 = space_group(81);
  EXPECT_EQ(label_of_fractional(pm4, classify_rotations(pm4.cartesian, pm4.axes()), minus_four), "S4³");
  // 3⁺ along [111]: (z, x, y); in Th, i·3⁺ is in 4S6 (Cotton's column order i × proper).
  const Eigen::Matrix3i three_111 = mat3i({0, 0, 1, 1, 0, 0, 0, 1, 0});
  const Ops p23 = space_group(195);
  EXPECT_EQ(label_of_fractional(p23, classify_rotations(p23.cartesian, p23.axes()), three_111), "4C3");
  const Ops pm3 = space_group(200);
  const PointGroupMatch mth = classify_rotations(pm3.cartesian, pm3.axes());
  EXPECT_EQ(label_of_fractional(pm3, mth, three_111), "4C3");
  EXPECT_EQ(label_of_fractional(pm3, mth, Eigen::Matrix3i(three_111 * three_111)), "4C3²");
  EXPECT_EQ(label_of_fractional(pm3, mth, Eigen::Matrix3i(-three_111)), "4S6");

  // The labels follow the frame: the same fractional matrices on a left-handed cell (c reversed) and on a rotated
  // cell keep their classes.
  Mat left = conventional_lattice(143);
  left.row(2) *= -1;
  const Ops p3_left = space_group(143, left);
  EXPECT_EQ(label_of_fractional(p3_left, classify_rotations(p3_left.cartesian, p3_left.axes()), three), "C3");
  const Mat q = rotation_about(Eigen::Vector3d(1, -2, 0.5), 73);
  const Ops p23_rot = space_group(195, conventional_lattice(195) * q.transpose());
  EXPECT_EQ(label_of_fractional(p23_rot, classify_rotations(p23_rot.cartesian, p23_rot.axes()), three_111), "4C3");
}

// ---- input checks -----------------------------------------------------------------------------------------------

TEST(ClassifyRotations, refuses_bad_input_with_one_line_messages) {
  const Ops d2h = space_group(47);
  auto expect_one_line_throw = [](const std::function<void()>& f) {
    try {
      f();
      ADD_FAILURE() << "no exception";
    } catch (const InvalidArgument& e) {
      EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
      EXPECT_FALSE(std::string(e.what()).empty());
    }
  };
  // Empty, not orthogonal, not closed, non-crystallographic, wrong symbol.
  expect_one_line_throw([&] { classify_rotations({}, d2h.axes()); });
  std::vector<Mat> strained = d2h.cartesian;
  strained[1](0, 1) += 0.05;
  expect_one_line_throw([&] { classify_rotations(strained, d2h.axes()); });
  const std::vector<Mat> open_set = {Mat::Identity(), rotation_about(Eigen::Vector3d::UnitZ(), 90)};
  expect_one_line_throw([&] { classify_rotations(open_set, Mat::Identity()); });
  std::vector<Mat> c5;
  for (int k = 0; k < 5; ++k) c5.push_back(rotation_about(Eigen::Vector3d::UnitZ(), 72.0 * k));
  expect_one_line_throw([&] { classify_rotations(c5, Mat::Identity()); });
  std::vector<Mat> c8;  // closed, but 8-fold
  for (int k = 0; k < 8; ++k) c8.push_back(rotation_about(Eigen::Vector3d::UnitZ(), 45.0 * k));
  expect_one_line_throw([&] { classify_rotations(c8, Mat::Identity()); });
  expect_one_line_throw([&] { classify_rotations(d2h.cartesian, d2h.axes(), "4/mmm"); });
  expect_one_line_throw([&] { classify_rotations(d2h.cartesian, d2h.axes(), "no such group"); });
  // Orientation-dependent classes with axes that do not fit: D2h with the conventional a, b turned by 45° about c.
  const Mat turned = rotation_about(Eigen::Vector3d::UnitZ(), 45) * d2h.axes();
  expect_one_line_throw([&] { classify_rotations(d2h.cartesian, turned); });
  // The sense of C4 needs c along the 4-fold axis.
  const Ops p4 = space_group(75);
  Mat sideways = p4.axes();
  sideways.col(2).swap(sideways.col(0));
  expect_one_line_throw([&] { classify_rotations(p4.cartesian, sideways); });
  expect_one_line_throw([&] { classify_rotations(p4.cartesian, Mat::Zero()); });
  Mat nan_axes = p4.axes();
  nan_axes(0, 0) = std::nan("");
  expect_one_line_throw([&] { classify_rotations(p4.cartesian, nan_axes); });
  // Groups classified intrinsically do not need matching axes.
  const Ops p3m1 = space_group(164);
  EXPECT_EQ(classify_rotations(p3m1.cartesian, Mat::Identity()).group->schoenflies, "D3d");
}

TEST(ClassifyRotations, slightly_strained_rotations_still_classify) {
  const Ops oh = space_group(221);
  std::vector<Mat> noisy = oh.cartesian;
  for (std::size_t k = 0; k < noisy.size(); ++k) noisy[k](k % 3, (k + 1) % 3) += 2e-3;
  const PointGroupMatch a = classify_rotations(oh.cartesian, oh.axes());
  const PointGroupMatch b = classify_rotations(noisy, oh.axes());
  EXPECT_EQ(a.class_of, b.class_of);
}

// ---- classify_operations on real crystals in non-conventional cells ----------------------------------------------

namespace {

st::Crystal make_crystal(const Mat& lattice, const std::vector<Eigen::Vector3d>& frac, const std::vector<int>& z) {
  st::Crystal c;
  c.lattice = lattice;
  c.frac.resize(static_cast<Eigen::Index>(frac.size()), 3);
  for (std::size_t i = 0; i < frac.size(); ++i) {
    c.frac.row(static_cast<Eigen::Index>(i)) = frac[i].transpose();
    c.numbers.push_back(z[i]);
    c.labels.push_back(st::element_symbol(z[i]) + std::to_string(i + 1));
  }
  return c;
}

// Rutile TiO2 (P4_2/mnm) with the cell axes cycled (a' = c, b' = a, c' = b) and the whole crystal rotated by q, and
// optionally doubled along a'. Returns the crystal; `c_dir`, `a_dir` receive the Cartesian tetragonal c and a.
st::Crystal rutile(const Mat& q, int repeat, Eigen::Vector3d& c_dir, Eigen::Vector3d& a_dir) {
  const double a = 4.594, c = 2.959, x = 0.305;
  const Mat conv = st::lattice_from_parameters(a, a, c, 90, 90, 90);
  Mat cycled;
  cycled.row(0) = conv.row(2) * repeat;
  cycled.row(1) = conv.row(0);
  cycled.row(2) = conv.row(1);
  const Mat lattice = cycled * q.transpose();
  c_dir = lattice.row(0).transpose().normalized();
  a_dir = lattice.row(1).transpose().normalized();
  const std::vector<Eigen::Vector3d> std_sites = {{0, 0, 0},     {0.5, 0.5, 0.5},         {x, x, 0},
                                                  {-x, -x, 0},   {0.5 + x, 0.5 - x, 0.5}, {0.5 - x, 0.5 + x, 0.5}};
  const std::vector<int> std_z = {22, 22, 8, 8, 8, 8};
  std::vector<Eigen::Vector3d> frac;
  std::vector<int> z;
  for (int r = 0; r < repeat; ++r)
    for (std::size_t i = 0; i < std_sites.size(); ++i) {
      const Eigen::Vector3d& s = std_sites[i];
      frac.emplace_back((s.z() + r) / repeat, s.x(), s.y());
      z.push_back(std_z[i]);
    }
  return make_crystal(lattice, frac, z);
}

// Characters of a function evaluated in a local frame (ex, ey, ez Cartesian, orthonormal columns of `frame`).
CharFn in_frame(const Mat& frame, const CharFn& f) {
  return [frame, f](const Mat& r) { return f(frame.transpose() * r * frame); };
}

}  // namespace

TEST(ClassifyOperations, rotated_cycled_rutile_and_its_supercell_match_the_conventional_cell) {
  const Ops conv = space_group(136);
  const PointGroupMatch mc = classify_rotations(conv.cartesian, conv.axes());
  const std::string polar_conv = decompose(*mc.group, class_characters(mc, conv.cartesian, polar));
  const std::string axial_conv = decompose(*mc.group, class_characters(mc, conv.cartesian, axial));
  EXPECT_EQ(polar_conv, "A2u+Eu");
  EXPECT_EQ(axial_conv, "A2g+Eg");

  const Mat q = rotation_about(Eigen::Vector3d(0.3, 1, -0.4), 37);
  for (int repeat : {1, 2}) {
    SCOPED_TRACE("repeat " + std::to_string(repeat));
    Eigen::Vector3d c_dir, a_dir;
    const st::Crystal cr = rutile(q, repeat, c_dir, a_dir);
    const st::SymmetryDataset ds = st::analyze(cr);
    ASSERT_EQ(ds.number, 136);
    EXPECT_EQ(ds.operations.size(), 16u * static_cast<std::size_t>(repeat));
    const PointGroupMatch m = classify_operations(ds, cr);
    ASSERT_EQ(m.class_of.size(), ds.operations.size());
    EXPECT_EQ(m.group->schoenflies, "D4h");
    std::vector<Mat> rots;
    for (const st::SymOp& op : ds.operations) rots.push_back(st::cartesian_rotation(op.rotation, cr.lattice));
    EXPECT_EQ(decompose(*m.group, class_characters(m, rots, polar)), polar_conv);
    EXPECT_EQ(decompose(*m.group, class_characters(m, rots, axial)), axial_conv);
    // Orientation-dependent labels follow the tetragonal axes, not the input cell's.
    Mat frame;
    frame.col(0) = a_dir;
    frame.col(2) = c_dir;
    frame.col(1) = c_dir.cross(a_dir);
    EXPECT_EQ(decompose(*m.group, class_characters(m, rots, in_frame(frame, functions().at("z")))), "A2u");
    EXPECT_EQ(decompose(*m.group, class_characters(m, rots, in_frame(frame, functions().at("x2-y2")))), "B1g");
    EXPECT_EQ(decompose(*m.group, class_characters(m, rots, in_frame(frame, functions().at("xy")))), "B2g");
    // The class sizes hold over the distinct rotations.
    std::vector<int> count(m.group->class_sizes.size(), 0);
    std::set<std::vector<int>> seen;
    for (std::size_t k = 0; k < ds.operations.size(); ++k) {
      const Eigen::Matrix3i& w = ds.operations[k].rotation;
      if (seen.insert(std::vector<int>(w.data(), w.data() + 9)).second)
        ++count[static_cast<std::size_t>(m.class_of[k])];
    }
    EXPECT_EQ(count, m.group->class_sizes);
  }
}

TEST(ClassifyOperations, primitive_rhombohedral_cell_matches_the_hexagonal_setting) {
  // One atom at the origin of a rhombohedral lattice (α = 70°): R-3m. The 3-fold axis is a + b + c.
  const Mat q = rotation_about(Eigen::Vector3d(2, 1, 1), 51);
  const Mat lattice = st::lattice_from_parameters(4, 4, 4, 70, 70, 70) * q.transpose();
  const st::Crystal cr = make_crystal(lattice, {{0, 0, 0}}, {26});
  const st::SymmetryDataset ds = st::analyze(cr);
  ASSERT_EQ(ds.number, 166);
  ASSERT_EQ(ds.point_group, "-3m");
  const PointGroupMatch m = classify_operations(ds, cr);
  EXPECT_EQ(m.group->schoenflies, "D3d");
  std::vector<Mat> rots;
  for (const st::SymOp& op : ds.operations) rots.push_back(st::cartesian_rotation(op.rotation, cr.lattice));

  const Ops hex = space_group(166);
  const PointGroupMatch mh = classify_rotations(hex.cartesian, hex.axes());
  for (const CharFn& f : {CharFn(polar), CharFn(axial)})
    EXPECT_EQ(decompose(*m.group, class_characters(m, rots, f)),
              decompose(*mh.group, class_characters(mh, hex.cartesian, f)));
  const Eigen::Vector3d axis = lattice.colwise().sum().transpose().normalized();
  const CharFn along = [axis](const Mat& r) { return axis.dot(r * axis); };
  EXPECT_EQ(decompose(*m.group, class_characters(m, rots, along)), "A2u");
  EXPECT_EQ(decompose(*m.group, class_characters(m, rots, [along](const Mat& r) { return r.trace() - along(r); })),
            "Eu");
}

TEST(ClassifyOperations, primitive_rhombohedral_r_3_cell_keeps_the_sense_labels) {
  // One atom at the origin plus a general-position orbit of six makes R-3 (C3i); the labels C3 / C3² must follow the
  // 3⁺ of the conventional hexagonal cell, whose c is the rhombohedral [111].
  const Mat lattice = st::lattice_from_parameters(4, 4, 4, 70, 70, 70);
  std::vector<Eigen::Vector3d> frac = {{0, 0, 0}};
  const Eigen::Vector3d g(0.21, 0.07, 0.43);
  // The orbit of g under -3 along [111] in rhombohedral axes: cyclic permutations and their negatives.
  for (const Eigen::Vector3d& s : {g, Eigen::Vector3d(g.z(), g.x(), g.y()), Eigen::Vector3d(g.y(), g.z(), g.x())}) {
    frac.push_back(s);
    frac.push_back(-s);
  }
  std::vector<int> z = {26, 8, 8, 8, 8, 8, 8};
  st::Crystal cr = make_crystal(lattice, frac, z);
  cr.frac = st::wrap_fractional(cr.frac);
  const st::SymmetryDataset ds = st::analyze(cr);
  ASSERT_EQ(ds.number, 148);
  const PointGroupMatch m = classify_operations(ds, cr);
  ASSERT_EQ(m.group->schoenflies, "C3i");
  // In rhombohedral axes 3⁺ along [111] maps a -> b -> c: (x,y,z) -> (z,x,y).
  const Eigen::Matrix3i three = mat3i({0, 0, 1, 1, 0, 0, 0, 1, 0});
  bool found = false;
  for (std::size_t k = 0; k < ds.operations.size(); ++k) {
    if (ds.operations[k].rotation == three) {
      EXPECT_EQ(m.group->class_labels[static_cast<std::size_t>(m.class_of[k])], "C3");
      found = true;
    }
    if (ds.operations[k].rotation == Eigen::Matrix3i(three * three)) {
      EXPECT_EQ(m.group->class_labels[static_cast<std::size_t>(m.class_of[k])], "C3²");
    }
  }
  EXPECT_TRUE(found);
}

TEST(ClassifyOperations, refuses_an_empty_dataset) {
  st::SymmetryDataset ds;
  st::Crystal cr;
  EXPECT_THROW(classify_operations(ds, cr), InvalidArgument);
}
