// Whole-system EFP2 energies against libefp's reference energies (../shared/data/efp/cases, `ref_energy`), and the
// system gradient against finite differences.
#include "tsunagu/fragmd/energy.hpp"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>

#include <Eigen/Geometry>
#include <gtest/gtest.h>

#include "tsunagu/core/error.hpp"
#include "tsunagu/fragmd/input.hpp"

namespace fs = std::filesystem;
using namespace tsunagu;
using namespace tsunagu::fragmd;

namespace {

fs::path cases() { return fs::path(TSUNAGU_SHARED_DIR) / "data/efp/cases"; }

/// Every case with a reference energy. The references are printed with 10 decimals (1e-10 hartree), so the
/// achievable agreement is max(1e-6 relative, 5e-11 absolute): half a unit of the last printed digit.
std::vector<std::string> reference_cases() {
  std::vector<std::string> out;
  if (!fs::exists(cases())) return out;
  for (const auto& e : fs::directory_iterator(cases())) {
    if (e.path().extension() != ".in") continue;
    std::ifstream in(e.path());
    std::string line;
    while (std::getline(in, line))
      if (line.rfind("ref_energy", 0) == 0) {
        out.push_back(e.path().stem().string());
        break;
      }
  }
  std::sort(out.begin(), out.end());
  return out;
}

/// Cases whose recorded ref_energy we do not reproduce to 1e-6 relative, with what we know about why (docs/fragmd.md
/// "Reference energies"). They are held to libefp's own acceptance test instead: |E − ref| ≤ gtest_tol (the case's
/// value, 1e-6 hartree when absent), which is what efpmd's gtest run itself checks.
const std::map<std::string, std::string>& known_deviations() {
  static const std::map<std::string, std::string> m = {
      // libefp 2.0's efpmd prints our numbers for these (pol −0.0026556469 for pol_3a): stale references.
      {"pol_3a", "reference predates libefp 2.0 polarisation"},
      {"pol_3b", "reference predates libefp 2.0 polarisation"},
      // libefp's overlap/kinetic integrals (efp_st_int, int_shift.h) integrate the xxx component of every F shell on
      // the first fragment of a pair as x instead of x³. Exchange–repulsion, overlap charge penetration and
      // overlap-damped dispersion of these references carry that bug; with it emulated (xr_test.cpp,
      // LibefpFxxxBug) each agrees to 1e-6 relative, mostly to < 1e-10 hartree. Our integrals are exact.
      {"xr_3", "libefp F_xxx integral bug in the reference (emulated: 1e-11)"},
      {"elec_2b", "libefp F_xxx integral bug in the overlap charge penetration (emulated: 4e-11)"},
      {"elec_3b", "libefp F_xxx integral bug in the overlap charge penetration (emulated: 2e-11)"},
      {"disp_3b", "libefp F_xxx integral bug in the overlap damping (emulated: 3e-11)"},
      {"total_1a", "libefp F_xxx integral bug in exchange-repulsion (1.9e-9; emulated: 3e-12)"},
      {"constraint_1", "same geometry as total_1a plus a restraint (emulated: 5e-11)"},
      {"total_4a", "libefp F_xxx integral bug in exchange-repulsion (emulated: 8e-11)"},
      {"total_4b", "libefp F_xxx integral bug in the overlap terms (emulated: 6e-11)"},
      {"total_4c", "libefp F_xxx integral bug in exchange-repulsion (emulated: 8e-11)"},
      {"total_4d", "libefp F_xxx integral bug in exchange-repulsion (emulated: 8e-11)"},
      {"total_6a", "periodic; libefp F_xxx integral bug in exchange-repulsion (emulated: 2e-11)"},
      {"total_6c", "periodic; libefp F_xxx integral bug in the overlap terms (emulated: 3e-11)"},
      // Recorded with libefp 2.0, whose pair order (i with i+1 .. i+n/2 mod n) puts other fragments first:
      {"constraint_3", "libefp 2.0 value: F_xxx bug with its ring pair order (emulated: 1.5e-11)"},
      // The bug explains part of these:
      {"total_2a", "F_xxx bug (1.85e-8) plus pol_2a's 1.2e-9 polarisation residual"},
      {"total_3a", "F_xxx bug and a stale polarisation reference (libefp 2.0 prints 0.0061420197 = ours with the bug)"},
      {"total_6b", "F_xxx bug; libefp 2.0 prints -0.0051253467 (= ours with the bug), 1.2e-8 from the reference"},
      {"total_6d", "same system as total_6b (direct polarisation driver)"},
      {"qm_1a", "point-charge case; matches with the pre-2010 bohr constant"},
      {"qm_1b", "point-charge case; matches with the pre-2010 bohr constant"},
      {"constraint_2", "periodic restraint: our restraint energy exceeds libefp's by 9.9e-7 hartree"},
  };
  return m;
}

double gtest_tolerance(const fs::path& p) {
  std::ifstream in(p);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("gtest_tol", 0) == 0) return std::stod(line.substr(9));
  return 1e-6;  // efpmd's default
}

class ReferenceEnergy : public ::testing::TestWithParam<std::string> {};

}  // namespace

TEST_P(ReferenceEnergy, MatchesLibefp) {
  const fs::path p = cases() / (GetParam() + ".in");
  InputFile in = read_input(p.string());
  ASSERT_TRUE(in.ref_energy.has_value());
  ComputeResult r = compute(in.system);
  const double ref = *in.ref_energy;
  const bool known = known_deviations().count(GetParam()) > 0;
  const double tol = known ? gtest_tolerance(p) : std::max(1e-6 * std::abs(ref), 5e-11);
  EXPECT_NEAR(r.energy.total(), ref, tol) << GetParam() << ": relative deviation "
                                           << std::abs(r.energy.total() - ref) / std::abs(ref)
                                           << (known ? " (known deviation: " + known_deviations().at(GetParam()) + ")" : "");
  if (known) {
    // A listed case that starts to agree should be moved back to the strict group.
    EXPECT_GT(std::abs(r.energy.total() - ref), std::max(1e-6 * std::abs(ref), 5e-11))
        << GetParam() << " now agrees to 1e-6: remove it from known_deviations()";
  }
}

INSTANTIATE_TEST_SUITE_P(Libefp, ReferenceEnergy, ::testing::ValuesIn(reference_cases()),
                         [](const ::testing::TestParamInfo<std::string>& i) { return i.param; });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(ReferenceEnergy);

TEST(ReferenceEnergy, DataPresentOrSkipped) {
  if (!fs::exists(cases())) GTEST_SKIP() << "../shared/data/efp/cases absent: the 45 libefp reference cases were skipped";
  EXPECT_EQ(reference_cases().size(), 45u);
}

TEST(SystemEnergy, ThreadCountDoesNotChangeTheEnergy) {
  if (!fs::exists(cases())) GTEST_SKIP() << "../shared/data/efp/cases absent";
  InputFile in = read_input((cases() / "total_4a.in").string());
  ComputeOptions o1, o2;
  o1.threads = 1;
  o2.threads = 2;
  EXPECT_NEAR(compute(in.system, o1).energy.total(), compute(in.system, o2).energy.total(), 1e-14);
}

TEST(SystemEnergy, BadOptionsAreRejected) {
  ComputeOptions o;
  o.pol_tolerance = -1;
  EXPECT_THROW(o.validate(), InvalidArgument);
}

namespace {

/// Central finite difference of the system energy along fragment k's rigid-body coordinate c (0-2 translation,
/// 3-5 rotation about lab axes through its centre).
double fd_component(System sys, std::size_t k, int c, double h) {
  auto energy_at = [&](double step) {
    System s = sys;
    const Fragment& f = sys.fragments[k];
    Eigen::Vector3d dt = Eigen::Vector3d::Zero(), dth = Eigen::Vector3d::Zero();
    (c < 3 ? dt : dth)[c % 3] = step;
    Eigen::Matrix3d Q = Eigen::Matrix3d::Identity();
    if (c >= 3) Q = Eigen::AngleAxisd(step, Eigen::Vector3d::Unit(c - 3)).toRotationMatrix();
    set_pose(s, k, f.com + dt, Q * f.R);
    return compute(s).energy.total();
  };
  return (energy_at(h) - energy_at(-h)) / (2 * h);
}

void check_gradient(const std::string& name, double tol) {
  InputFile in = read_input((cases() / (name + ".in")).string());
  ComputeOptions o;
  o.gradient = true;
  ComputeResult r = compute(in.system, o);
  EXPECT_NEAR(r.energy.total(), compute(in.system).energy.total(), 1e-13);
  for (std::size_t k = 0; k < in.system.fragments.size(); ++k)
    for (int c = 0; c < 6; ++c) {
      const double fd = fd_component(in.system, k, c, 1e-4);
      EXPECT_NEAR(r.gradient[k][c], fd, tol + 1e-5 * std::abs(fd)) << name << " fragment " << k << " coordinate " << c;
    }
}

}  // namespace

// All four terms with every damping flavour, non-periodic and periodic with switching.
TEST(SystemGradient, MatchesFiniteDifferencesAllTerms) {
  if (!fs::exists(cases())) GTEST_SKIP() << "../shared/data/efp/cases absent";
  check_gradient("total_1a", 1e-8);   // screen / tt
  check_gradient("total_4b", 1e-8);   // 12 different molecules
  check_gradient("total_5c", 1e-8);   // periodic, cutoff, overlap damping everywhere
  check_gradient("total_6a", 1e-8);   // periodic, cutoff 5 Å, no damping
  check_gradient("constraint_1", 1e-8);
  check_gradient("qm_1a", 1e-8);      // external point charges (fixed sources)
}

// The molecular virial equals minus the strain derivative of the energy (COMs scaled affinely, molecules rigid).
TEST(SystemGradient, VirialIsTheStrainDerivative) {
  if (!fs::exists(cases())) GTEST_SKIP() << "../shared/data/efp/cases absent";
  for (const char* name : {"total_4b", "total_6a"}) {
    InputFile in = read_input((cases() / (std::string(name) + ".in")).string());
    ComputeOptions o;
    o.gradient = true;
    ComputeResult r = compute(in.system, o);
    ASSERT_TRUE(r.virial_complete);
    const double h = 1e-4;  // five-point stencil: O(h⁴) truncation, round-off of the large elec sums stays ~1e-10
    for (int a = 0; a < 3; ++a)
      for (int b = 0; b < 3; ++b) {
        auto strained = [&](double e) {
          System s = in.system;
          Eigen::Matrix3d F = Eigen::Matrix3d::Identity();
          F(a, b) += e;
          s.box = (F * s.box.asDiagonal()).diagonal();  // only used when a == b: orthorhombic boxes
          if (a != b && s.periodic) return std::nan("");
          for (std::size_t k = 0; k < s.fragments.size(); ++k) set_pose(s, k, F * in.system.fragments[k].com, in.system.fragments[k].R);
          return compute(s).energy.total();
        };
        const double ep = strained(h), em = strained(-h);
        if (std::isnan(ep)) continue;  // shear of an orthorhombic periodic box is not representable
        const double ep2 = strained(2 * h), em2 = strained(-2 * h);
        // Strain c_a += ε c_b: −dE/dε = Σ_k F_k,a c_k,b = Σ_pairs F_a d_b = W(b, a) with W = Σ d ⊗ F.
        const double w_fd = -(8 * (ep - em) - (ep2 - em2)) / (12 * h);
        EXPECT_NEAR(r.virial(b, a), w_fd, 1e-8 + 1e-5 * std::abs(w_fd)) << name << " W(" << b << "," << a << ")";
      }
  }
}
