#include "tsunagu/magnetic/point_group.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <numbers>
#include <string>
#include <utility>

#include <Eigen/LU>
#include <Eigen/SVD>

#include "tsunagu/core/error.hpp"

namespace tsunagu::magnetic {

namespace {

// Element types. Proper rotations by their angle; improper ones as rotoreflections S_n = σ_h C_n (σ = S_1, i = S_2),
// the convention of the Schoenflies class labels.
enum class Kind { E, C2, C3, C4, C6, I, M, S3, S4, S6 };
constexpr int kNumKinds = 10;

// How a class is told apart from other classes of the same Kind (and sense).
enum class Rule {
  Any,
  ParallelTo4,     // axis (mirror normal) ∥ the axis of some C4 or S4 element of the group (intrinsic)
  NotParallelTo4,  // the complement of ParallelTo4
  ParallelTo3,     // axis (mirror normal) ∥ the axis of some C3 element (intrinsic)
  NotParallelTo3,  // the complement of ParallelTo3
  Conventional,    // axis (mirror normal) ∥ one of the listed directions, fractional in the conventional cell
};

// Where the sense (C3 vs C3², S4 vs S4³, ...) is measured: about +c, or for the cubic groups T/Th about the body
// diagonal oriented so that the product of its conventional components is positive ([111], [1-1-1], [-11-1],
// [-1-11]: the axes of one class of C3 in T).
enum class SenseRef { C, Cubic };

using Dir = std::array<int, 3>;

struct ClassDef {
  std::string label;
  int size = 1;
  Kind kind = Kind::E;
  int sense = 0;  // +1/-1: positive/negative rotation (rotoreflection) angle about the reference; 0: either
  Rule rule = Rule::Any;
  std::vector<Dir> dirs;  // for Rule::Conventional
};

struct GroupDef {
  std::vector<ClassDef> classes;
  SenseRef sense_ref = SenseRef::C;
  std::array<int, kNumKinds> kind_count{};  // identifies the group among the 32
};

struct Tables {
  std::vector<PointGroup> groups;
  std::vector<GroupDef> defs;  // parallel to groups
};

ClassDef cls(std::string label, int size, Kind kind, int sense = 0, Rule rule = Rule::Any, std::vector<Dir> dirs = {}) {
  return ClassDef{std::move(label), size, kind, sense, rule, std::move(dirs)};
}
ClassDef conv(std::string label, int size, Kind kind, std::vector<Dir> dirs) {
  return ClassDef{std::move(label), size, kind, 0, Rule::Conventional, std::move(dirs)};
}

Irrep ir(std::string label, std::vector<double> chars, bool pair = false) {
  Irrep r;
  r.label = std::move(label);
  r.dimension = static_cast<int>(std::lround(chars.front()));
  r.complex_pair = pair;
  r.characters = std::move(chars);
  return r;
}
Irrep pair(std::string label, std::vector<double> chars) { return ir(std::move(label), std::move(chars), true); }

constexpr Dir kA{1, 0, 0}, kB{0, 1, 0}, kC{0, 0, 1};
constexpr Dir kApB{1, 1, 0}, kAmB{1, -1, 0}, kAp2B{1, 2, 0}, k2ApB{2, 1, 0};

void add(Tables& t, std::string intl, std::string schoen, std::vector<ClassDef> classes, std::vector<Irrep> irreps,
         SenseRef ref = SenseRef::C) {
  PointGroup g;
  g.international = std::move(intl);
  g.schoenflies = std::move(schoen);
  GroupDef d;
  for (const ClassDef& c : classes) {
    g.class_labels.push_back(c.label);
    g.class_sizes.push_back(c.size);
    g.order += c.size;
    d.kind_count[static_cast<std::size_t>(c.kind)] += c.size;
  }
  g.irreps = std::move(irreps);
  d.classes = std::move(classes);
  d.sense_ref = ref;
  t.groups.push_back(std::move(g));
  t.defs.push_back(std::move(d));
}

// The 32 tables. Class order and labels as in Cotton's tables (O: E 8C3 6C2 6C4 3C2, the order of Oh's proper part);
// a complex-conjugate pair {ε, ε*} enters as one row ε + ε* = 2cos(2π k/n).
Tables build_tables() {
  using K = Kind;
  Tables t;
  add(t, "1", "C1", {cls("E", 1, K::E)}, {ir("A", {1})});
  add(t, "-1", "Ci", {cls("E", 1, K::E), cls("i", 1, K::I)}, {ir("Ag", {1, 1}), ir("Au", {1, -1})});
  add(t, "2", "C2", {cls("E", 1, K::E), cls("C2", 1, K::C2)}, {ir("A", {1, 1}), ir("B", {1, -1})});
  add(t, "m", "Cs", {cls("E", 1, K::E), cls("σh", 1, K::M)}, {ir("A'", {1, 1}), ir("A''", {1, -1})});
  add(t, "2/m", "C2h", {cls("E", 1, K::E), cls("C2", 1, K::C2), cls("i", 1, K::I), cls("σh", 1, K::M)},
      {ir("Ag", {1, 1, 1, 1}), ir("Bg", {1, -1, 1, -1}), ir("Au", {1, 1, -1, -1}), ir("Bu", {1, -1, -1, 1})});
  add(t, "222", "D2",
      {cls("E", 1, K::E), conv("C2(z)", 1, K::C2, {kC}), conv("C2(y)", 1, K::C2, {kB}),
       conv("C2(x)", 1, K::C2, {kA})},
      {ir("A", {1, 1, 1, 1}), ir("B1", {1, 1, -1, -1}), ir("B2", {1, -1, 1, -1}), ir("B3", {1, -1, -1, 1})});
  add(t, "mm2", "C2v",
      {cls("E", 1, K::E), cls("C2", 1, K::C2), conv("σv(xz)", 1, K::M, {kB}), conv("σv'(yz)", 1, K::M, {kA})},
      {ir("A1", {1, 1, 1, 1}), ir("A2", {1, 1, -1, -1}), ir("B1", {1, -1, 1, -1}), ir("B2", {1, -1, -1, 1})});
  add(t, "mmm", "D2h",
      {cls("E", 1, K::E), conv("C2(z)", 1, K::C2, {kC}), conv("C2(y)", 1, K::C2, {kB}),
       conv("C2(x)", 1, K::C2, {kA}), cls("i", 1, K::I), conv("σ(xy)", 1, K::M, {kC}), conv("σ(xz)", 1, K::M, {kB}),
       conv("σ(yz)", 1, K::M, {kA})},
      {ir("Ag", {1, 1, 1, 1, 1, 1, 1, 1}), ir("B1g", {1, 1, -1, -1, 1, 1, -1, -1}),
       ir("B2g", {1, -1, 1, -1, 1, -1, 1, -1}), ir("B3g", {1, -1, -1, 1, 1, -1, -1, 1}),
       ir("Au", {1, 1, 1, 1, -1, -1, -1, -1}), ir("B1u", {1, 1, -1, -1, -1, -1, 1, 1}),
       ir("B2u", {1, -1, 1, -1, -1, 1, -1, 1}), ir("B3u", {1, -1, -1, 1, -1, 1, 1, -1})});
  add(t, "4", "C4",
      {cls("E", 1, K::E), cls("C4", 1, K::C4, +1), cls("C2", 1, K::C2), cls("C4³", 1, K::C4, -1)},
      {ir("A", {1, 1, 1, 1}), ir("B", {1, -1, 1, -1}), pair("E", {2, 0, -2, 0})});
  add(t, "-4", "S4",
      {cls("E", 1, K::E), cls("S4", 1, K::S4, +1), cls("C2", 1, K::C2), cls("S4³", 1, K::S4, -1)},
      {ir("A", {1, 1, 1, 1}), ir("B", {1, -1, 1, -1}), pair("E", {2, 0, -2, 0})});
  add(t, "4/m", "C4h",
      {cls("E", 1, K::E), cls("C4", 1, K::C4, +1), cls("C2", 1, K::C2), cls("C4³", 1, K::C4, -1),
       cls("i", 1, K::I), cls("S4³", 1, K::S4, -1), cls("σh", 1, K::M), cls("S4", 1, K::S4, +1)},
      {ir("Ag", {1, 1, 1, 1, 1, 1, 1, 1}), ir("Bg", {1, -1, 1, -1, 1, -1, 1, -1}),
       pair("Eg", {2, 0, -2, 0, 2, 0, -2, 0}), ir("Au", {1, 1, 1, 1, -1, -1, -1, -1}),
       ir("Bu", {1, -1, 1, -1, -1, 1, -1, 1}), pair("Eu", {2, 0, -2, 0, -2, 0, 2, 0})});
  const std::vector<Irrep> d4_like{ir("A1", {1, 1, 1, 1, 1}), ir("A2", {1, 1, 1, -1, -1}),
                                   ir("B1", {1, -1, 1, 1, -1}), ir("B2", {1, -1, 1, -1, 1}),
                                   ir("E", {2, 0, -2, 0, 0})};
  add(t, "422", "D4",
      {cls("E", 1, K::E), cls("2C4", 2, K::C4), conv("C2", 1, K::C2, {kC}), conv("2C2'", 2, K::C2, {kA, kB}),
       conv("2C2''", 2, K::C2, {kApB, kAmB})},
      d4_like);
  add(t, "4mm", "C4v",
      {cls("E", 1, K::E), cls("2C4", 2, K::C4), cls("C2", 1, K::C2), conv("2σv", 2, K::M, {kA, kB}),
       conv("2σd", 2, K::M, {kApB, kAmB})},
      d4_like);
  add(t, "-42m", "D2d",
      {cls("E", 1, K::E), cls("2S4", 2, K::S4), cls("C2", 1, K::C2, 0, Rule::ParallelTo4),
       cls("2C2'", 2, K::C2, 0, Rule::NotParallelTo4), cls("2σd", 2, K::M)},
      d4_like);
  add(t, "4/mmm", "D4h",
      {cls("E", 1, K::E), cls("2C4", 2, K::C4), conv("C2", 1, K::C2, {kC}), conv("2C2'", 2, K::C2, {kA, kB}),
       conv("2C2''", 2, K::C2, {kApB, kAmB}), cls("i", 1, K::I), cls("2S4", 2, K::S4), conv("σh", 1, K::M, {kC}),
       conv("2σv", 2, K::M, {kA, kB}), conv("2σd", 2, K::M, {kApB, kAmB})},
      {ir("A1g", {1, 1, 1, 1, 1, 1, 1, 1, 1, 1}), ir("A2g", {1, 1, 1, -1, -1, 1, 1, 1, -1, -1}),
       ir("B1g", {1, -1, 1, 1, -1, 1, -1, 1, 1, -1}), ir("B2g", {1, -1, 1, -1, 1, 1, -1, 1, -1, 1}),
       ir("Eg", {2, 0, -2, 0, 0, 2, 0, -2, 0, 0}), ir("A1u", {1, 1, 1, 1, 1, -1, -1, -1, -1, -1}),
       ir("A2u", {1, 1, 1, -1, -1, -1, -1, -1, 1, 1}), ir("B1u", {1, -1, 1, 1, -1, -1, 1, -1, -1, 1}),
       ir("B2u", {1, -1, 1, -1, 1, -1, 1, -1, 1, -1}), ir("Eu", {2, 0, -2, 0, 0, -2, 0, 2, 0, 0})});
  add(t, "3", "C3", {cls("E", 1, K::E), cls("C3", 1, K::C3, +1), cls("C3²", 1, K::C3, -1)},
      {ir("A", {1, 1, 1}), pair("E", {2, -1, -1})});
  // i·C3 = S6⁵ (rotoreflection angle −60°), i·C3² = S6.
  add(t, "-3", "C3i",
      {cls("E", 1, K::E), cls("C3", 1, K::C3, +1), cls("C3²", 1, K::C3, -1), cls("i", 1, K::I),
       cls("S6⁵", 1, K::S6, -1), cls("S6", 1, K::S6, +1)},
      {ir("Ag", {1, 1, 1, 1, 1, 1}), pair("Eg", {2, -1, -1, 2, -1, -1}), ir("Au", {1, 1, 1, -1, -1, -1}),
       pair("Eu", {2, -1, -1, -2, 1, 1})});
  const std::vector<Irrep> d3_like{ir("A1", {1, 1, 1}), ir("A2", {1, 1, -1}), ir("E", {2, -1, 0})};
  add(t, "32", "D3", {cls("E", 1, K::E), cls("2C3", 2, K::C3), cls("3C2", 3, K::C2)}, d3_like);
  add(t, "3m", "C3v", {cls("E", 1, K::E), cls("2C3", 2, K::C3), cls("3σv", 3, K::M)}, d3_like);
  add(t, "-3m", "D3d",
      {cls("E", 1, K::E), cls("2C3", 2, K::C3), cls("3C2", 3, K::C2), cls("i", 1, K::I), cls("2S6", 2, K::S6),
       cls("3σd", 3, K::M)},
      {ir("A1g", {1, 1, 1, 1, 1, 1}), ir("A2g", {1, 1, -1, 1, 1, -1}), ir("Eg", {2, -1, 0, 2, -1, 0}),
       ir("A1u", {1, 1, 1, -1, -1, -1}), ir("A2u", {1, 1, -1, -1, -1, 1}), ir("Eu", {2, -1, 0, -2, 1, 0})});
  add(t, "6", "C6",
      {cls("E", 1, K::E), cls("C6", 1, K::C6, +1), cls("C3", 1, K::C3, +1), cls("C2", 1, K::C2),
       cls("C3²", 1, K::C3, -1), cls("C6⁵", 1, K::C6, -1)},
      {ir("A", {1, 1, 1, 1, 1, 1}), ir("B", {1, -1, 1, -1, 1, -1}), pair("E1", {2, 1, -1, -2, -1, 1}),
       pair("E2", {2, -1, -1, 2, -1, -1})});
  add(t, "-6", "C3h",
      {cls("E", 1, K::E), cls("C3", 1, K::C3, +1), cls("C3²", 1, K::C3, -1), cls("σh", 1, K::M),
       cls("S3", 1, K::S3, +1), cls("S3⁵", 1, K::S3, -1)},
      {ir("A'", {1, 1, 1, 1, 1, 1}), pair("E'", {2, -1, -1, 2, -1, -1}), ir("A''", {1, 1, 1, -1, -1, -1}),
       pair("E''", {2, -1, -1, -2, 1, 1})});
  // i·C6 = S3⁵, i·C3 = S6⁵, i·C2 = σh, i·C3² = S6, i·C6⁵ = S3: the improper classes in the order i × proper.
  add(t, "6/m", "C6h",
      {cls("E", 1, K::E), cls("C6", 1, K::C6, +1), cls("C3", 1, K::C3, +1), cls("C2", 1, K::C2),
       cls("C3²", 1, K::C3, -1), cls("C6⁵", 1, K::C6, -1), cls("i", 1, K::I), cls("S3⁵", 1, K::S3, -1),
       cls("S6⁵", 1, K::S6, -1), cls("σh", 1, K::M), cls("S6", 1, K::S6, +1), cls("S3", 1, K::S3, +1)},
      {ir("Ag", {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}), ir("Bg", {1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1}),
       pair("E1g", {2, 1, -1, -2, -1, 1, 2, 1, -1, -2, -1, 1}),
       pair("E2g", {2, -1, -1, 2, -1, -1, 2, -1, -1, 2, -1, -1}),
       ir("Au", {1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1, -1}), ir("Bu", {1, -1, 1, -1, 1, -1, -1, 1, -1, 1, -1, 1}),
       pair("E1u", {2, 1, -1, -2, -1, 1, -2, -1, 1, 2, 1, -1}),
       pair("E2u", {2, -1, -1, 2, -1, -1, -2, 1, 1, -2, 1, 1})});
  const std::vector<Irrep> d6_like{ir("A1", {1, 1, 1, 1, 1, 1}),   ir("A2", {1, 1, 1, 1, -1, -1}),
                                   ir("B1", {1, -1, 1, -1, 1, -1}), ir("B2", {1, -1, 1, -1, -1, 1}),
                                   ir("E1", {2, 1, -1, -2, 0, 0}),  ir("E2", {2, -1, -1, 2, 0, 0})};
  add(t, "622", "D6",
      {cls("E", 1, K::E), cls("2C6", 2, K::C6), cls("2C3", 2, K::C3), conv("C2", 1, K::C2, {kC}),
       conv("3C2'", 3, K::C2, {kA, kB, kApB}), conv("3C2''", 3, K::C2, {kAmB, kAp2B, k2ApB})},
      d6_like);
  // σv = i·C2'' (normals ∥ a−b, a+2b, 2a+b: the planes contain a, b, a+b), σd = i·C2', as in D6h.
  add(t, "6mm", "C6v",
      {cls("E", 1, K::E), cls("2C6", 2, K::C6), cls("2C3", 2, K::C3), cls("C2", 1, K::C2),
       conv("3σv", 3, K::M, {kAmB, kAp2B, k2ApB}), conv("3σd", 3, K::M, {kA, kB, kApB})},
      d6_like);
  add(t, "-6m2", "D3h",
      {cls("E", 1, K::E), cls("2C3", 2, K::C3), cls("3C2", 3, K::C2), cls("σh", 1, K::M, 0, Rule::ParallelTo3),
       cls("2S3", 2, K::S3), cls("3σv", 3, K::M, 0, Rule::NotParallelTo3)},
      {ir("A1'", {1, 1, 1, 1, 1, 1}), ir("A2'", {1, 1, -1, 1, 1, -1}), ir("E'", {2, -1, 0, 2, -1, 0}),
       ir("A1''", {1, 1, 1, -1, -1, -1}), ir("A2''", {1, 1, -1, -1, -1, 1}), ir("E''", {2, -1, 0, -2, 1, 0})});
  add(t, "6/mmm", "D6h",
      {cls("E", 1, K::E), cls("2C6", 2, K::C6), cls("2C3", 2, K::C3), conv("C2", 1, K::C2, {kC}),
       conv("3C2'", 3, K::C2, {kA, kB, kApB}), conv("3C2''", 3, K::C2, {kAmB, kAp2B, k2ApB}), cls("i", 1, K::I),
       cls("2S3", 2, K::S3), cls("2S6", 2, K::S6), conv("σh", 1, K::M, {kC}),
       conv("3σd", 3, K::M, {kA, kB, kApB}), conv("3σv", 3, K::M, {kAmB, kAp2B, k2ApB})},
      {ir("A1g", {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}), ir("A2g", {1, 1, 1, 1, -1, -1, 1, 1, 1, 1, -1, -1}),
       ir("B1g", {1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1}), ir("B2g", {1, -1, 1, -1, -1, 1, 1, -1, 1, -1, -1, 1}),
       ir("E1g", {2, 1, -1, -2, 0, 0, 2, 1, -1, -2, 0, 0}), ir("E2g", {2, -1, -1, 2, 0, 0, 2, -1, -1, 2, 0, 0}),
       ir("A1u", {1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1, -1}), ir("A2u", {1, 1, 1, 1, -1, -1, -1, -1, -1, -1, 1, 1}),
       ir("B1u", {1, -1, 1, -1, 1, -1, -1, 1, -1, 1, -1, 1}), ir("B2u", {1, -1, 1, -1, -1, 1, -1, 1, -1, 1, 1, -1}),
       ir("E1u", {2, 1, -1, -2, 0, 0, -2, -1, 1, 2, 0, 0}), ir("E2u", {2, -1, -1, 2, 0, 0, -2, 1, 1, -2, 0, 0})});
  add(t, "23", "T", {cls("E", 1, K::E), cls("4C3", 4, K::C3, +1), cls("4C3²", 4, K::C3, -1), cls("3C2", 3, K::C2)},
      {ir("A", {1, 1, 1, 1}), pair("E", {2, -1, -1, 2}), ir("T", {3, 0, 0, -1})}, SenseRef::Cubic);
  // 4S6 = i·4C3 and 4S6⁵ = i·4C3², as in Cotton's column order.
  add(t, "m-3", "Th",
      {cls("E", 1, K::E), cls("4C3", 4, K::C3, +1), cls("4C3²", 4, K::C3, -1), cls("3C2", 3, K::C2),
       cls("i", 1, K::I), cls("4S6", 4, K::S6, -1), cls("4S6⁵", 4, K::S6, +1), cls("3σh", 3, K::M)},
      {ir("Ag", {1, 1, 1, 1, 1, 1, 1, 1}), pair("Eg", {2, -1, -1, 2, 2, -1, -1, 2}),
       ir("Tg", {3, 0, 0, -1, 3, 0, 0, -1}), ir("Au", {1, 1, 1, 1, -1, -1, -1, -1}),
       pair("Eu", {2, -1, -1, 2, -2, 1, 1, -2}), ir("Tu", {3, 0, 0, -1, -3, 0, 0, 1})},
      SenseRef::Cubic);
  add(t, "432", "O",
      {cls("E", 1, K::E), cls("8C3", 8, K::C3), cls("6C2", 6, K::C2, 0, Rule::NotParallelTo4), cls("6C4", 6, K::C4),
       cls("3C2", 3, K::C2, 0, Rule::ParallelTo4)},
      {ir("A1", {1, 1, 1, 1, 1}), ir("A2", {1, 1, -1, -1, 1}), ir("E", {2, -1, 0, 0, 2}),
       ir("T1", {3, 0, -1, 1, -1}), ir("T2", {3, 0, 1, -1, -1})});
  add(t, "-43m", "Td",
      {cls("E", 1, K::E), cls("8C3", 8, K::C3), cls("3C2", 3, K::C2), cls("6S4", 6, K::S4), cls("6σd", 6, K::M)},
      {ir("A1", {1, 1, 1, 1, 1}), ir("A2", {1, 1, 1, -1, -1}), ir("E", {2, -1, 2, 0, 0}),
       ir("T1", {3, 0, -1, 1, -1}), ir("T2", {3, 0, -1, -1, 1})});
  add(t, "m-3m", "Oh",
      {cls("E", 1, K::E), cls("8C3", 8, K::C3), cls("6C2", 6, K::C2, 0, Rule::NotParallelTo4), cls("6C4", 6, K::C4),
       cls("3C2", 3, K::C2, 0, Rule::ParallelTo4), cls("i", 1, K::I), cls("6S4", 6, K::S4), cls("8S6", 8, K::S6),
       cls("3σh", 3, K::M, 0, Rule::ParallelTo4), cls("6σd", 6, K::M, 0, Rule::NotParallelTo4)},
      {ir("A1g", {1, 1, 1, 1, 1, 1, 1, 1, 1, 1}), ir("A2g", {1, 1, -1, -1, 1, 1, -1, 1, 1, -1}),
       ir("Eg", {2, -1, 0, 0, 2, 2, 0, -1, 2, 0}), ir("T1g", {3, 0, -1, 1, -1, 3, 1, 0, -1, -1}),
       ir("T2g", {3, 0, 1, -1, -1, 3, -1, 0, -1, 1}), ir("A1u", {1, 1, 1, 1, 1, -1, -1, -1, -1, -1}),
       ir("A2u", {1, 1, -1, -1, 1, -1, 1, -1, -1, 1}), ir("Eu", {2, -1, 0, 0, 2, -2, 0, 1, -2, 0}),
       ir("T1u", {3, 0, -1, 1, -1, -3, -1, 0, 1, 1}), ir("T2u", {3, 0, 1, -1, -1, -3, 1, 0, 1, -1})});
  return t;
}

const Tables& tables() {
  static const Tables t = build_tables();
  return t;
}

// ---- element analysis -------------------------------------------------------------------------------------------

constexpr double kParallel = 0.98;  // |cos| for "parallel": crystallographic directions told apart are >= 30° apart
constexpr double kSameElement = 0.2;  // Frobenius distance; distinct group elements differ by >= sqrt(2)

struct Element {
  Eigen::Matrix3d r;
  int det = 1;
  Kind kind = Kind::E;
  Eigen::Vector3d axis = Eigen::Vector3d::UnitZ();  // rotation axis, or the normal of σ / rotoreflection axis
  double angle = 0;  // degrees about `axis`: rotation angle (proper) or rotoreflection angle φ, R = σ_axis·Rot(φ)
};

std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

Element describe(const Eigen::Matrix3d& r, std::size_t index) {
  Element e;
  e.r = r;
  e.det = r.determinant() > 0 ? 1 : -1;
  const Eigen::Matrix3d p = e.det * r;  // proper part
  const double c = std::clamp((p.trace() - 1) / 2, -1.0, 1.0);
  const double theta = std::acos(c) * 180 / std::numbers::pi;  // [0, 180]
  const int allowed[] = {0, 60, 90, 120, 180};
  int t = -1;
  for (int a : allowed)
    if (std::abs(theta - a) < 5) t = a;
  if (t < 0)
    throw InvalidArgument("rotation " + std::to_string(index) + " turns by " + fmt(theta) +
                          "°, not a crystallographic angle (0, 60, 90, 120 or 180)");
  if (t == 180) {
    // p = 2nnᵀ − I: n from the largest column of (p + I)/2.
    const Eigen::Matrix3d b = (p + Eigen::Matrix3d::Identity()) / 2;
    Eigen::Index k = 0;
    b.diagonal().maxCoeff(&k);
    e.axis = b.col(k).normalized();
  } else if (t != 0) {
    const Eigen::Vector3d w(p(2, 1) - p(1, 2), p(0, 2) - p(2, 0), p(1, 0) - p(0, 1));  // 2 sinθ n, θ > 0 about n
    e.axis = w.normalized();
  }
  if (e.det > 0) {
    e.angle = t;
    e.kind = t == 0 ? Kind::E : t == 60 ? Kind::C6 : t == 90 ? Kind::C4 : t == 120 ? Kind::C3 : Kind::C2;
  } else {
    // −Rot(ψ, n) = σ_n·Rot(ψ − 180°, n) (−I = σ_n C2(n)), so φ = ψ − 180° ∈ [−180°, 0°].
    e.angle = t - 180;
    e.kind = t == 0 ? Kind::I : t == 60 ? Kind::S3 : t == 90 ? Kind::S4 : t == 120 ? Kind::S6 : Kind::M;
  }
  return e;
}

bool parallel(const Eigen::Vector3d& u, const Eigen::Vector3d& v) {
  return std::abs(u.normalized().dot(v.normalized())) > kParallel;
}

// +1/−1: the element turns positively/negatively about the reference direction, measured in the conventional frame
// (the Cartesian sense times the handedness of a, b, c), so that the labels follow the fractional matrices.
int sense_of(const Element& e, SenseRef ref, const Eigen::Matrix3d& axes, const Eigen::Matrix3d& axes_inv,
             const PointGroup& g) {
  const double hand = axes.determinant() > 0 ? 1 : -1;
  double orient = 0;
  if (ref == SenseRef::C) {
    const Eigen::Vector3d c = axes.col(2);
    if (!parallel(e.axis, c))
      throw InvalidArgument("point group " + g.international +
                            ": the principal axis is not along the conventional c axis, so C_n and its inverse "
                            "cannot be told apart");
    orient = e.axis.dot(c);
  } else {
    const Eigen::Vector3d u = axes_inv * e.axis;  // conventional components
    const double m = u.cwiseAbs().maxCoeff();
    if (u.cwiseAbs().minCoeff() < 0.9 * m)
      throw InvalidArgument("point group " + g.international +
                            ": a 3-fold axis is not along a body diagonal of the conventional cubic cell");
    orient = u(0) * u(1) * u(2);
  }
  const double s = (orient > 0 ? 1 : -1) * hand * e.angle;
  return s > 0 ? 1 : -1;
}

std::size_t find_element(const std::vector<Element>& els, const Eigen::Matrix3d& r) {
  for (std::size_t k = 0; k < els.size(); ++k)
    if ((els[k].r - r).norm() < kSameElement) return k;
  return els.size();
}

const char* kind_name(Kind k) {
  static const char* names[] = {"E", "C2", "C3", "C4", "C6", "i", "m", "S3", "S4", "S6"};
  return names[static_cast<std::size_t>(k)];
}

}  // namespace

const std::vector<PointGroup>& point_groups() { return tables().groups; }

const PointGroup& point_group(std::string_view symbol) {
  static const std::pair<std::string_view, std::string_view> aliases[] = {
      {"S6", "C3i"},   {"-62m", "-6m2"}, {"-4m2", "-42m"}, {"321", "32"},   {"312", "32"},
      {"3m1", "3m"},   {"31m", "3m"},    {"-3m1", "-3m"},  {"-31m", "-3m"}, {"m3m", "m-3m"},
      {"m3", "m-3"}};
  std::string_view s = symbol;
  for (const auto& [from, to] : aliases)
    if (s == from) s = to;
  for (const PointGroup& g : point_groups())
    if (g.international == s || g.schoenflies == s) return g;
  throw InvalidArgument("unknown point group '" + std::string(symbol) + "'");
}

PointGroupMatch classify_rotations(const std::vector<Eigen::Matrix3d>& rotations,
                                   const Eigen::Matrix3d& conventional_axes, std::string_view point_group_symbol) {
  if (rotations.empty()) throw InvalidArgument("classify_rotations: no rotations given");
  if (!conventional_axes.allFinite())
    throw InvalidArgument("classify_rotations: conventional axes contain non-finite numbers");
  {
    const double scale = conventional_axes.col(0).norm() * conventional_axes.col(1).norm() *
                         conventional_axes.col(2).norm();
    if (!(scale > 0) || std::abs(conventional_axes.determinant()) < 1e-6 * scale)
      throw InvalidArgument("classify_rotations: conventional axes are singular");
  }
  // Identify the distinct elements (the input repeats them for centring/supercell translations). Each is replaced by
  // its nearest orthogonal matrix so that slightly strained cells give clean angles.
  std::vector<Element> els;
  std::vector<std::size_t> elem_of(rotations.size());
  for (std::size_t k = 0; k < rotations.size(); ++k) {
    const Eigen::Matrix3d& r = rotations[k];
    if (!r.allFinite()) throw InvalidArgument("rotation " + std::to_string(k) + " contains non-finite numbers");
    const double dev = (r.transpose() * r - Eigen::Matrix3d::Identity()).cwiseAbs().maxCoeff();
    if (dev > 1e-2)
      throw InvalidArgument("rotation " + std::to_string(k) + " is not orthogonal (max |RᵀR − I| = " + fmt(dev) +
                            " > 0.01)");
    const Eigen::JacobiSVD<Eigen::Matrix3d> svd(r, Eigen::ComputeFullU | Eigen::ComputeFullV);
    const Eigen::Matrix3d q = svd.matrixU() * svd.matrixV().transpose();
    std::size_t j = find_element(els, q);
    if (j == els.size()) els.push_back(describe(q, k));
    elem_of[k] = j;
  }
  const std::size_t n = els.size();
  if (n > 48)
    throw InvalidArgument("classify_rotations: " + std::to_string(n) +
                          " distinct rotations, more than any crystallographic point group has (48)");
  // Closure makes a finite set of invertible matrices a group.
  std::vector<std::vector<std::size_t>> product(n, std::vector<std::size_t>(n));
  for (std::size_t a = 0; a < n; ++a)
    for (std::size_t b = 0; b < n; ++b) {
      product[a][b] = find_element(els, els[a].r * els[b].r);
      if (product[a][b] == n)
        throw InvalidArgument("classify_rotations: the " + std::to_string(n) +
                              " distinct rotations are not closed under multiplication (not a group)");
    }

  // The group: the numbers of elements of each kind identify each of the 32.
  std::array<int, kNumKinds> count{};
  for (const Element& e : els) ++count[static_cast<std::size_t>(e.kind)];
  const Tables& t = tables();
  std::size_t gi = t.groups.size();
  for (std::size_t k = 0; k < t.groups.size(); ++k)
    if (t.defs[k].kind_count == count) gi = k;
  if (gi == t.groups.size()) {
    std::string c;
    for (int k = 0; k < kNumKinds; ++k) {
      const int nk = count[static_cast<std::size_t>(k)];
      if (nk) c += " " + std::to_string(nk) + "×" + kind_name(static_cast<Kind>(k));
    }
    throw InvalidArgument("classify_rotations: rotations (" + c.substr(1) + ") are not a crystallographic point group");
  }
  const PointGroup& g = t.groups[gi];
  const GroupDef& def = t.defs[gi];
  if (!point_group_symbol.empty()) {
    const PointGroup& expected = point_group(point_group_symbol);
    if (&expected != &g)
      throw InvalidArgument("classify_rotations: the rotations form point group " + g.international + " (" +
                            g.schoenflies + "), not '" + std::string(point_group_symbol) + "'");
  }

  // Classes from each element's kind, sense and axis (see Rule); then checked to be the conjugacy classes.
  const Eigen::Matrix3d axes_inv = conventional_axes.inverse();
  auto parallel_to_kind = [&](const Element& e, Kind k1, Kind k2) {
    for (const Element& o : els)
      if ((o.kind == k1 || o.kind == k2) && parallel(e.axis, o.axis)) return true;
    return false;
  };
  std::vector<int> class_of_elem(n, -1);
  for (std::size_t k = 0; k < n; ++k) {
    const Element& e = els[k];
    int sense = 0;
    bool sense_known = false;
    int found = -1;
    for (std::size_t c = 0; c < def.classes.size(); ++c) {
      const ClassDef& cd = def.classes[c];
      if (cd.kind != e.kind) continue;
      if (cd.sense != 0) {
        if (!sense_known) sense = sense_of(e, def.sense_ref, conventional_axes, axes_inv, g);
        sense_known = true;
        if (cd.sense != sense) continue;
      }
      bool ok = true;
      switch (cd.rule) {
        case Rule::Any: break;
        case Rule::ParallelTo4: ok = parallel_to_kind(e, Kind::C4, Kind::S4); break;
        case Rule::NotParallelTo4: ok = !parallel_to_kind(e, Kind::C4, Kind::S4); break;
        case Rule::ParallelTo3: ok = parallel_to_kind(e, Kind::C3, Kind::C3); break;
        case Rule::NotParallelTo3: ok = !parallel_to_kind(e, Kind::C3, Kind::C3); break;
        case Rule::Conventional:
          ok = std::any_of(cd.dirs.begin(), cd.dirs.end(), [&](const Dir& d) {
            return parallel(e.axis, conventional_axes * Eigen::Vector3d(d[0], d[1], d[2]));
          });
          break;
      }
      if (!ok) continue;
      if (found >= 0)
        throw InvalidArgument("point group " + g.international + ": an element fits classes " +
                              def.classes[static_cast<std::size_t>(found)].label + " and " + cd.label);
      found = static_cast<int>(c);
    }
    if (found < 0)
      throw InvalidArgument("point group " + g.international + ": a " + kind_name(e.kind) +
                            " element fits no class with these conventional axes (its axis is not along a "
                            "conventional direction the table expects)");
    class_of_elem[k] = found;
  }
  std::vector<int> sizes(def.classes.size(), 0);
  for (int c : class_of_elem) ++sizes[static_cast<std::size_t>(c)];
  for (std::size_t c = 0; c < sizes.size(); ++c)
    if (sizes[c] != def.classes[c].size)
      throw InvalidArgument("point group " + g.international + ": class " + def.classes[c].label + " got " +
                            std::to_string(sizes[c]) + " elements instead of " +
                            std::to_string(def.classes[c].size) + " with these conventional axes");
  // h g h⁻¹ must stay in g's class; h⁻¹ = hᵀ for orthogonal h.
  for (std::size_t a = 0; a < n; ++a)
    for (std::size_t h = 0; h < n; ++h) {
      const std::size_t conj = find_element(els, els[h].r * els[a].r * els[h].r.transpose());
      if (conj == n || class_of_elem[conj] != class_of_elem[a])
        throw InvalidArgument("point group " + g.international +
                              ": the assigned classes are not conjugacy classes with these conventional axes");
    }

  PointGroupMatch m;
  m.group = &g;
  m.class_of.resize(rotations.size());
  for (std::size_t k = 0; k < rotations.size(); ++k) m.class_of[k] = class_of_elem[elem_of[k]];
  return m;
}

PointGroupMatch classify_operations(const structure::SymmetryDataset& dataset, const structure::Crystal& crystal) {
  if (dataset.operations.empty()) throw InvalidArgument("classify_operations: the dataset has no operations");
  const Eigen::Matrix3d& p = dataset.transformation_matrix;
  if (!p.allFinite() || std::abs(p.determinant()) < 1e-8)
    throw InvalidArgument("classify_operations: the dataset's transformation matrix is singular");
  std::vector<Eigen::Matrix3d> rots;
  rots.reserve(dataset.operations.size());
  for (const structure::SymOp& op : dataset.operations)
    rots.push_back(structure::cartesian_rotation(op.rotation, crystal.lattice));
  // Columns a, b, c of the input cell are the rows of `lattice`; (a_s b_s c_s) = (a b c) P⁻¹.
  const Eigen::Matrix3d axes = crystal.lattice.transpose() * p.inverse();
  return classify_rotations(rots, axes, dataset.point_group);
}

double axial_vector_character(const Eigen::Matrix3d& rotation) { return rotation.determinant() * rotation.trace(); }

std::vector<double> irrep_multiplicities(const PointGroup& group, const std::vector<double>& class_characters) {
  const std::size_t nc = group.class_sizes.size();
  if (class_characters.size() != nc)
    throw InvalidArgument("irrep_multiplicities: " + std::to_string(class_characters.size()) +
                          " characters for point group " + group.international + " with " + std::to_string(nc) +
                          " classes");
  for (double v : class_characters)
    if (!std::isfinite(v)) throw InvalidArgument("irrep_multiplicities: non-finite character");
  std::vector<double> out;
  out.reserve(group.irreps.size());
  for (const Irrep& ir : group.irreps) {
    double s = 0;
    for (std::size_t c = 0; c < nc; ++c) s += group.class_sizes[c] * ir.characters[c] * class_characters[c];
    out.push_back(s / (group.order * (ir.complex_pair ? 2.0 : 1.0)));
  }
  return out;
}

}  // namespace tsunagu::magnetic
