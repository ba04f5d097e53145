// Per-fragment descriptors against experimental molecular properties (published values, see comments).
#include "tsunagu/fragmd/descriptors.hpp"

#include <filesystem>

#include <gtest/gtest.h>

namespace fs = std::filesystem;
using namespace tsunagu::fragmd;

namespace {
fs::path fraglib() { return fs::path(TSUNAGU_SHARED_DIR) / "data/efp/fraglib"; }
FragmentDescriptors of(const std::string& stem) {
  return describe(read_fragment_file((fraglib() / (stem + ".efp")).string())[0]);
}
}  // namespace

TEST(Descriptors, MatchExperimentalMolecularProperties) {
  if (!fs::exists(fraglib() / "h2o.efp")) GTEST_SKIP() << "../shared/data/efp/fraglib absent";
  // Gas-phase dipoles (debye): water 1.855, ammonia 1.47, methanol 1.70 (CRC Handbook); methane, benzene, CCl4
  // are non-polar by symmetry. Hartree–Fock multipoles overestimate dipoles (water: 2.18 D here, HF limit ≈ 2.0 D
  // at this geometry), so the band is 20%; the symmetric molecules test the distributed-multipole fit (≤ 0.01 D).
  EXPECT_NEAR(of("h2o").dipole, 1.855, 0.37);
  EXPECT_NEAR(of("nh3").dipole, 1.47, 0.29);
  EXPECT_NEAR(of("ch3oh").dipole, 1.70, 0.34);
  EXPECT_NEAR(of("ch4").dipole, 0.0, 0.01);
  EXPECT_NEAR(of("c6h6").dipole, 0.0, 0.01);
  EXPECT_NEAR(of("ccl4").dipole, 0.0, 0.01);
  // Static polarisabilities (Å³): water 1.45, ammonia 2.26, methane 2.59, benzene 10.0 (CRC). Coupled-perturbed HF
  // LMO polarisabilities lack electron correlation and are 15–25% low for small molecules (water 1.11 here).
  EXPECT_NEAR(of("h2o").polarizability, 1.45, 0.36);
  EXPECT_NEAR(of("nh3").polarizability, 2.26, 0.57);
  EXPECT_NEAR(of("ch4").polarizability, 2.59, 0.65);
  EXPECT_NEAR(of("c6h6").polarizability, 10.0, 2.5);
  // The lowest imaginary frequency (0.0028i au) is essentially static: the dynamic set must agree with the static.
  for (const char* s : {"h2o", "c6h6", "dmso"}) {
    auto t = read_fragment_file((fraglib() / (std::string(s) + ".efp")).string())[0];
    double a0 = 0, as = 0;
    for (const auto& p : t.dynamic_polarizable) a0 += p.alpha[0].trace() / 3;
    for (const auto& p : t.polarizable) as += p.alpha.trace() / 3;
    EXPECT_NEAR(a0, as, 0.01 * as) << s;
  }
  for (const char* s : {"h2o", "nh3", "ch4", "c6h6", "acetone", "dmso"}) {
    auto d = of(s);
    EXPECT_NEAR(d.total_charge, 0.0, 1e-4) << s;
    EXPECT_GT(d.c6, 0.0) << s;
    EXPECT_DOUBLE_EQ(d.c6_scaled, 4.0 / 3.0 * d.c6);
    EXPECT_EQ(descriptor_values(d).size(), descriptor_names().size());
  }
  // Larger, softer molecules disperse more.
  EXPECT_LT(of("h2o").c6, of("ch4").c6);
  EXPECT_LT(of("ch4").c6, of("c6h6").c6);
}
