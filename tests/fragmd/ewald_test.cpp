// Ewald summation of the charge–charge electrostatics (System::ewald): published lattice constants (rock salt,
// caesium chloride, the Wigner lattice in a neutralising background), independence of the splitting parameter,
// gradients against finite differences, the virial against the strain derivative, and the refusals.
#include "tsunagu/fragmd/energy.hpp"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>

#include <Eigen/Geometry>
#include <gtest/gtest.h>

#include "tsunagu/core/error.hpp"
#include "tsunagu/fragmd/energy.hpp"
#include "tsunagu/fragmd/input.hpp"

namespace fs = std::filesystem;
using namespace tsunagu;
using namespace tsunagu::fragmd;

namespace {

fs::path fraglib() { return fs::path(TSUNAGU_SHARED_DIR) / "data/efp/fraglib"; }

/// Monatomic ions as EFP fragments: one nucleus and an electronic monopole on it, net charge ±1 (a hand-written
/// MAKEFP-format file: the reader and placement are the ones users go through).
std::vector<std::shared_ptr<const FragmentType>> ion_types() {
  const fs::path p = fs::temp_directory_path() / "tsunagu_ewald_ions.efp";
  {
    std::ofstream f(p);
    f << " $NA\nsodium cation\n COORDINATES (BOHR)\nA01NA  0.0 0.0 0.0  22.98977  11.0\n STOP\n"
         " MONOPOLES\nA01NA  -10.0  11.0\n STOP\n $END\n"
         " $CL\nchloride anion\n COORDINATES (BOHR)\nA01CL  0.0 0.0 0.0  34.96885  17.0\n STOP\n"
         " MONOPOLES\nA01CL  -18.0  17.0\n STOP\n $END\n";
  }
  std::vector<std::shared_ptr<const FragmentType>> out;
  for (auto& t : read_fragment_file(p.string())) out.push_back(std::make_shared<const FragmentType>(std::move(t)));
  fs::remove(p);
  return out;
}

System periodic_system(double box, double cutoff) {
  System s;
  s.terms = Terms{true, false, false, false};
  s.elec_damp = ElecDamp::Off;
  s.periodic = true;
  s.box = Eigen::Vector3d::Constant(box);
  s.cutoff_enabled = true;
  s.cutoff = cutoff;
  s.ewald = true;
  s.ewald_tolerance = 1e-12;
  return s;
}

void add(System& s, const std::shared_ptr<const FragmentType>& t, const Eigen::Vector3d& com,
         const Eigen::Matrix3d& R = Eigen::Matrix3d::Identity()) {
  if (std::find(s.types.begin(), s.types.end(), t) == s.types.end()) s.types.push_back(t);
  s.fragments.push_back(place(*t, com, R));
}

// Madelung constants referred to the nearest-neighbour distance (e.g. Kittel, Introduction to Solid State Physics;
// digits from the rapidly convergent sums of Borwein et al., J. Math. Phys. 26, 2999 (1985)).
constexpr double kMadelungNaCl = 1.747564594633182;
constexpr double kMadelungCsCl = 1.762674773070988;
// Simple-cubic Wigner lattice in a neutralising background: E = −ξ q² / (2L) (Nijboer & De Wette 1957; the
// Makov–Payne constant).
constexpr double kWignerSC = 2.837297479480620;

}  // namespace

TEST(Ewald, RockSaltGivesTheMadelungConstant) {
  auto ions = ion_types();
  const double d = 5.0;  // nearest-neighbour distance, bohr
  System s = periodic_system(4 * d, 2 * d);
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j)
      for (int k = 0; k < 4; ++k) add(s, ions[(i + j + k) % 2], Eigen::Vector3d(i, j, k) * d);
  ComputeOptions o;
  o.gradient = true;
  const ComputeResult r = compute(s, o);
  EXPECT_NEAR(r.energy.electrostatic / 32.0, -kMadelungNaCl / d, 1e-10);
  for (const auto& g : r.gradient) EXPECT_LT(g.norm(), 1e-9);  // every ion sits at an inversion centre
  EXPECT_GT(r.ewald_alpha, 0.0);
  EXPECT_GT(r.ewald_kvectors, 0);
  // Without Ewald the switched cutoff sum is far off: this is what the summation is for.
  s.ewald = false;
  EXPECT_GT(std::abs(compute(s).energy.electrostatic / 32.0 + kMadelungNaCl / d), 1e-3);
}

TEST(Ewald, CaesiumChlorideGivesTheMadelungConstant) {
  auto ions = ion_types();
  const double a = 6.0;
  System s = periodic_system(3 * a, 1.5 * a);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 3; ++k) {
        add(s, ions[0], Eigen::Vector3d(i, j, k) * a);
        add(s, ions[1], (Eigen::Vector3d(i, j, k) + Eigen::Vector3d::Constant(0.5)) * a);
      }
  const double d = a * std::sqrt(3.0) / 2.0;
  EXPECT_NEAR(compute(s).energy.electrostatic / 27.0, -kMadelungCsCl / d, 1e-10);
}

TEST(Ewald, ChargedBoxGivesTheWignerConstant) {
  auto ions = ion_types();
  for (double L : {15.0, 24.0}) {
    System s = periodic_system(L, L / 2);
    add(s, ions[0], Eigen::Vector3d(1.0, 2.0, 3.0));
    EXPECT_NEAR(compute(s).energy.electrostatic, -kWignerSC / (2 * L), 1e-11) << "L = " << L;
  }
}

namespace {

/// Eight waters (random orientations) and a Na⁺/Cl⁻ pair in a 22-bohr box, 10-bohr cutoff.
System brine(bool all_terms) {
  auto ions = ion_types();
  auto water = std::make_shared<const FragmentType>(read_fragment_file((fraglib() / "h2o.efp").string()).at(0));
  System s = periodic_system(22.0, 10.0);
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j)
      for (int k = 0; k < 2; ++k) {
        const Eigen::Vector3d c = Eigen::Vector3d(i, j, k) * 11.0 + Eigen::Vector3d(u(rng), u(rng), u(rng));
        const Eigen::Matrix3d R =
            Eigen::Quaterniond(Eigen::Vector4d(u(rng), u(rng), u(rng), u(rng)).normalized()).toRotationMatrix();
        add(s, water, c, R);
      }
  if (all_terms) {
    s.terms = Terms{true, true, true, true};
    s.elec_damp = ElecDamp::Screen;
    s.disp_damp = DispDamp::TangToennies;
  } else {
    add(s, ions[0], Eigen::Vector3d(5.5, 5.0, 6.0));
    add(s, ions[1], Eigen::Vector3d(16.0, 15.5, 5.0));
    s.terms = Terms{true, true, false, false};  // the ions polarise the waters; they carry no other EFP data
  }
  return s;
}

double fd_component(const System& sys, std::size_t k, int c, double h) {
  auto energy_at = [&](double step) {
    System s = sys;
    const Fragment& f = sys.fragments[k];
    Eigen::Vector3d dt = Eigen::Vector3d::Zero();
    Eigen::Matrix3d Q = Eigen::Matrix3d::Identity();
    if (c < 3) dt[c] = step;
    else Q = Eigen::AngleAxisd(step, Eigen::Vector3d::Unit(c - 3)).toRotationMatrix();
    set_pose(s, k, f.com + dt, Q * f.R);
    return compute(s).energy.total();
  };
  return (energy_at(h) - energy_at(-h)) / (2 * h);
}

/// Gradient and virial at tolerance 1e-10; afterwards α is held fixed in `s` so finite differences (of positions or
/// of the box) see one smooth function rather than α re-chosen per box.
ComputeResult gradient_at_fixed_alpha(System& s) {
  s.ewald_tolerance = 1e-10;
  ComputeOptions o;
  o.gradient = true;
  const ComputeResult r = compute(s, o);
  s.ewald_alpha = r.ewald_alpha;
  return r;
}

}  // namespace

TEST(Ewald, EnergyDoesNotDependOnTheSplittingParameter) {
  if (!fs::exists(fraglib() / "h2o.efp")) GTEST_SKIP() << "../shared/data/efp/fraglib absent";
  for (bool all : {false, true}) {
    System s = brine(all);
    s.ewald_tolerance = 1e-11;
    const ComputeResult r0 = compute(s);
    s.ewald_alpha = 1.3 * r0.ewald_alpha;
    const ComputeResult r1 = compute(s);
    EXPECT_GT(r1.ewald_kvectors, r0.ewald_kvectors);
    EXPECT_NEAR(r0.energy.electrostatic, r1.energy.electrostatic, 1e-9) << (all ? "water" : "brine");
    // The Ewald sum changes the energy of this small box noticeably against the switched cutoff.
    s.ewald = false;
    EXPECT_GT(std::abs(compute(s).energy.electrostatic - r0.energy.electrostatic), 1e-4);
  }
}

TEST(Ewald, GradientMatchesFiniteDifferences) {
  if (!fs::exists(fraglib() / "h2o.efp")) GTEST_SKIP() << "../shared/data/efp/fraglib absent";
  for (bool all : {false, true}) {
    System s = brine(all);
    const ComputeResult r = gradient_at_fixed_alpha(s);
    EXPECT_NEAR(r.energy.total(), compute(s).energy.total(), 1e-12);
    for (std::size_t k = 0; k < s.fragments.size(); ++k)
      for (int c = 0; c < 6; ++c) {
        const double fd = fd_component(s, k, c, 1e-4);
        EXPECT_NEAR(r.gradient[k][c], fd, 2e-8 + 1e-5 * std::abs(fd))
            << (all ? "water" : "brine") << " fragment " << k << " coordinate " << c;
      }
  }
}

TEST(Ewald, VirialIsTheStrainDerivative) {
  if (!fs::exists(fraglib() / "h2o.efp")) GTEST_SKIP() << "../shared/data/efp/fraglib absent";
  for (bool all : {false, true}) {
    System s = brine(all);
    const ComputeResult r = gradient_at_fixed_alpha(s);
    ASSERT_TRUE(r.virial_complete);
    const double h = 1e-4;
    for (int a = 0; a < 3; ++a) {  // orthorhombic box: the diagonal strains
      auto strained = [&](double e) {
        System t = s;
        t.box[a] *= 1 + e;
        for (std::size_t k = 0; k < t.fragments.size(); ++k) {
          Eigen::Vector3d c = s.fragments[k].com;
          c[a] *= 1 + e;
          set_pose(t, k, c, s.fragments[k].R);
        }
        return compute(t).energy.total();
      };
      const double w_fd = -(8 * (strained(h) - strained(-h)) - (strained(2 * h) - strained(-2 * h))) / (12 * h);
      EXPECT_NEAR(r.virial(a, a), w_fd, 1e-8 + 1e-5 * std::abs(w_fd)) << (all ? "water" : "brine") << " W" << a << a;
    }
  }
}

TEST(Ewald, ChargedBoxVirialIncludesTheBackground) {
  auto ions = ion_types();
  System s = periodic_system(16.0, 8.0);
  add(s, ions[0], Eigen::Vector3d(1.0, 2.0, 3.0));
  add(s, ions[0], Eigen::Vector3d(9.0, 5.0, 12.0));
  add(s, ions[1], Eigen::Vector3d(4.0, 11.0, 6.0));
  ComputeOptions o;
  o.gradient = true;
  const ComputeResult r = compute(s, o);
  s.ewald_alpha = r.ewald_alpha;
  const double h = 1e-4;
  auto scaled = [&](double e) {
    System t = s;
    t.box *= 1 + e;
    for (std::size_t k = 0; k < t.fragments.size(); ++k) set_pose(t, k, s.fragments[k].com * (1 + e), s.fragments[k].R);
    return compute(t).energy.total();
  };
  const double w_fd = -(8 * (scaled(h) - scaled(-h)) - (scaled(2 * h) - scaled(-2 * h))) / (12 * h);
  EXPECT_NEAR(r.virial.trace(), w_fd, 1e-9 + 1e-6 * std::abs(w_fd));
}

TEST(Ewald, RefusesWhatItCannotSum) {
  auto ions = ion_types();
  System s = periodic_system(20.0, 10.0);
  add(s, ions[0], Eigen::Vector3d::Zero());
  s.periodic = false;
  EXPECT_THROW(compute(s), InvalidArgument);
  s.periodic = true;
  s.ewald_alpha = 0.05;  // erfc(0.05 · 10) ≈ 0.48: the minimum image would lose real-space terms
  EXPECT_THROW(compute(s), InvalidArgument);
  s.ewald_alpha = 0.0;
  s.ewald_tolerance = 0.5;
  EXPECT_THROW(compute(s), InvalidArgument);
  s.ewald_tolerance = 1e-6;
  EXPECT_NO_THROW(compute(s));
  s.terms.elec = false;  // an Ewald request without electrostatics is refused, not silently dropped
  EXPECT_THROW(compute(s), InvalidArgument);
}

TEST(Ewald, InputKeysAreReadAndChecked) {
  if (!fs::exists(fraglib() / "h2o.efp")) GTEST_SKIP() << "../shared/data/efp/fraglib absent";
  const fs::path dir = fs::temp_directory_path() / "tsunagu_ewald_input";
  fs::create_directories(dir);
  auto write = [&](const std::string& body) {
    std::ofstream f(dir / "in.in");
    f << "fraglib_path " << fraglib().string() << "\n" << body << "fragment h2o_l\n 0 0 0 0 0 0\n";
    return (dir / "in.in").string();
  };
  InputFile in = read_input(write("enable_pbc true\nperiodic_box 12 12 12\nenable_cutoff true\nswf_cutoff 6\n"
                                  "ewald true\newald_tolerance 1e-8\newald_alpha 0.5\n"));
  EXPECT_TRUE(in.system.ewald);
  EXPECT_DOUBLE_EQ(in.system.ewald_tolerance, 1e-8);
  EXPECT_NEAR(in.system.ewald_alpha, 0.5 * 0.52917721092, 1e-9);  // Å⁻¹ → bohr⁻¹
  EXPECT_THROW(read_input(write("ewald true\n")), ParseError);      // not periodic
  EXPECT_THROW(read_input(write("ewald maybe\n")), ParseError);
  EXPECT_THROW(read_input(write("ewald_tolerance 2\n")), ParseError);
  EXPECT_THROW(read_input(write("ewald_alpha -1\n")), ParseError);
  EXPECT_THROW(read_input(write("enable_pbc true\nperiodic_box 12 12 12\nenable_cutoff true\nswf_cutoff 6\n"
                                "terms disp\newald true\n")), ParseError);
  fs::remove_all(dir);
}
