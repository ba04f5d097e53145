// Per-fragment electronic descriptors (charge, dipole, quadrupole, polarisability, C6) from EFP2 parameters.
#include "tsunagu/fragmd/descriptors.hpp"

#include <cmath>

#include <Eigen/Eigenvalues>

#include "pol_disp_grad.hpp"
#include "tsunagu/fragmd/units.hpp"

namespace tsunagu::fragmd {
namespace {
constexpr double kDebyeAu = 0.393430307;  // e·bohr per debye
constexpr int kQ[3][3] = {{0, 3, 4}, {3, 1, 5}, {4, 5, 2}};
}  // namespace

FragmentDescriptors describe(const FragmentType& t) {
  FragmentDescriptors d;
  d.name = t.name;
  d.n_atoms = static_cast<int>(t.atoms.size());
  for (const auto& a : t.atoms) d.mass += a.mass;
  const Eigen::Vector3d c = t.center_of_mass();
  // Moments about the COM from nuclei, electronic charges, point dipoles and (raw, traceful) point quadrupoles.
  Eigen::Vector3d mu = Eigen::Vector3d::Zero();
  Eigen::Matrix3d M = Eigen::Matrix3d::Zero();  // second moment Σ q r rᵀ + …
  for (const auto& a : t.atoms) {
    const Eigen::Vector3d r = a.r - c;
    d.total_charge += a.znuc;
    mu += a.znuc * r;
    M += a.znuc * r * r.transpose();
  }
  for (const auto& m : t.multipoles) {
    const Eigen::Vector3d r = m.r - c;
    d.total_charge += m.monopole;
    mu += m.monopole * r + m.dipole;
    M += m.monopole * r * r.transpose() + m.dipole * r.transpose() + r * m.dipole.transpose();
    for (int a = 0; a < 3; ++a)
      for (int b = 0; b < 3; ++b) M(a, b) += m.quadrupole[kQ[a][b]];
  }
  // A charged fragment's dipole depends on the origin; the COM is the conventional one.
  d.dipole = mu.norm() / kDebyeAu;
  const Eigen::Matrix3d theta = 1.5 * M - 0.5 * M.trace() * Eigen::Matrix3d::Identity();
  d.quadrupole = std::sqrt(2.0 / 3.0 * theta.squaredNorm()) / kDebyeAu * kBohrAngstrom;
  Eigen::Matrix3d alpha = Eigen::Matrix3d::Zero();
  for (const auto& p : t.polarizable) alpha += p.alpha;
  const double b3 = std::pow(kBohrAngstrom, 3);
  d.polarizability = alpha.trace() / 3.0 * b3;
  Eigen::Vector3d ev = Eigen::SelfAdjointEigenSolver<Eigen::Matrix3d>(0.5 * (alpha + alpha.transpose())).eigenvalues();
  d.polarizability_anisotropy =
      std::sqrt(0.5 * ((ev[0] - ev[1]) * (ev[0] - ev[1]) + (ev[1] - ev[2]) * (ev[1] - ev[2]) +
                       (ev[2] - ev[0]) * (ev[2] - ev[0]))) * b3;
  for (const auto& pi : t.dynamic_polarizable)
    for (const auto& pj : t.dynamic_polarizable) d.c6 += detail::disp_c6(pi, pj);
  d.c6_scaled = 4.0 / 3.0 * d.c6;
  d.n_lmo = t.n_lmo;
  if (t.n_lmo > 0) d.homo_lmo_energy = t.fock.diagonal().maxCoeff();
  return d;
}

std::vector<std::string> descriptor_names() {
  return {"n_atoms",        "mass_amu",  "total_charge_e",        "dipole_D",         "quadrupole_DA",
          "polarizability_A3", "polarizability_anisotropy_A3", "c6_au", "c6_efp_au", "n_lmo", "max_lmo_energy_Eh"};
}

std::vector<double> descriptor_values(const FragmentDescriptors& d) {
  return {static_cast<double>(d.n_atoms), d.mass, d.total_charge, d.dipole, d.quadrupole, d.polarizability,
          d.polarizability_anisotropy, d.c6, d.c6_scaled, static_cast<double>(d.n_lmo), d.homo_lmo_energy};
}

}  // namespace tsunagu::fragmd
