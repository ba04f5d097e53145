// EFP2 exchange–repulsion and overlap charge penetration (src/fragmd/xr.cpp): libefp reference energies,
// orthonormality of the file LMOs under our integral conventions, rotation invariance, analytic gradients, and
// the libefp integral bug (F_xxx on a pair's first fragment) that the deviating reference energies carry.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <Eigen/Geometry>

#include "fragmd/integrals.hpp"
#include "fragmd/switching.hpp"
#include "fragmd/xr_grad.hpp"
#include "tsunagu/core/error.hpp"
#include "tsunagu/fragmd/energy.hpp"
#include "tsunagu/fragmd/fragment.hpp"
#include "tsunagu/fragmd/input.hpp"
#include "tsunagu/fragmd/terms.hpp"

namespace fs = std::filesystem;
namespace tf = tsunagu::fragmd;

namespace {

fs::path shared_dir() {
  if (const char* env = std::getenv("TSUNAGU_SHARED")) return env;
  return TSUNAGU_SHARED_DIR;
}
fs::path efp_dir() { return shared_dir() / "data" / "efp"; }

#define REQUIRE_EFP_DATA()                                                                       \
  do {                                                                                           \
    if (!fs::exists(efp_dir() / "fraglib" / "h2o.efp"))                                          \
      GTEST_SKIP() << "EFP data not found under " << efp_dir() << " (set TSUNAGU_SHARED)";     \
  } while (0)

std::shared_ptr<tf::FragmentType> load_type(const std::string& file) {
  auto types = tf::read_fragment_file((efp_dir() / "fraglib" / file).string());
  return std::make_shared<tf::FragmentType>(types.at(0));
}

double xr_total(const tf::System& sys) {
  double e = 0.0;
  for (std::size_t i = 0; i < sys.fragments.size(); ++i)
    for (std::size_t j = i + 1; j < sys.fragments.size(); ++j)
      e += tf::xr_pair(sys.fragments[i], sys.fragments[j], Eigen::Vector3d::Zero()).exchange_repulsion;
  return e;
}

Eigen::Matrix3d axis_rotation(int axis, double angle) {
  return Eigen::AngleAxisd(angle, Eigen::Vector3d::Unit(axis)).toRotationMatrix();
}

// ---- reference (the straightforward full-matrix implementation xr.cpp had before it was optimised) ------------
//
// Full AO matrices S, T, dS/dA, dT/dA; LMO quantities by plain matrix products; dE/dS, dE/dT contracted with the
// LMO-basis derivative matrices of every rigid-body coordinate. Used as an oracle for the blocked, contracted code.
struct RefGradient {
  double exr = 0.0, ecp = 0.0;
  Eigen::MatrixXd S;
  tf::FragmentGradient xr_a, xr_b, cp_a, cp_b;
  std::array<Eigen::MatrixXd, 6> dS_a, dS_b;
};

double ref_valence(double z) {
  static constexpr double kCore[][2] = {{2, 0}, {10, 2}, {18, 10}, {30, 18}, {36, 28}};
  for (const auto& c : kCore)
    if (z <= c[0] + 0.5) return z - c[1];
  return z - 36;
}

RefGradient reference_xr_gradient(const tf::Fragment& a, const tf::Fragment& b, const Eigen::Vector3d& shift) {
  const double pi = 3.14159265358979323846, thr = 1e-7;
  Eigen::MatrixXd Sao, Tao;
  std::array<Eigen::MatrixXd, 3> dSao, dTao;
  tf::detail::overlap_kinetic_with_bra_deriv(a.basis, b.basis, shift, Sao, Tao, dSao, dTao);
  const Eigen::MatrixXd& Ca = a.wavefunction;
  const Eigen::MatrixXd CbT = b.wavefunction.transpose();
  const Eigen::MatrixXd S = Ca * Sao * CbT, T = Ca * Tao * CbT;
  const Eigen::Index na = S.rows(), nb = S.cols();
  std::vector<Eigen::Vector3d> ct_a = a.lmo_centroids, ct_b;
  for (const auto& c : b.lmo_centroids) ct_b.push_back(c + shift);
  struct Q { Eigen::Vector3d r; double q; };
  std::vector<Q> nuc_a, nuc_b;
  for (const auto& at : a.atoms) nuc_a.push_back({at.r, ref_valence(at.znuc)});
  for (const auto& at : b.atoms) nuc_b.push_back({at.r + shift, ref_valence(at.znuc)});
  const Eigen::Vector3d com_a = a.com, com_b = b.com + shift;

  auto fexp = [&](double s) {
    return std::abs(s) <= thr ? 0.0 : -2.0 * std::sqrt(-2.0 * std::log(std::abs(s)) / pi) * s * s;
  };
  auto dfexp = [&](double s) {
    if (std::abs(s) <= thr) return 0.0;
    const double L = -std::log(std::abs(s));
    return -2.0 * std::sqrt(2.0 / pi) * (2.0 * s * std::sqrt(L) - s / (2.0 * std::sqrt(L)));
  };
  auto fcp = [&](double s) { return std::abs(s) < thr ? 0.0 : -s * s / std::sqrt(-2.0 * std::log(std::abs(s))); };
  auto dfcp = [&](double s) {
    if (std::abs(s) < thr) return 0.0;
    const double L2 = -2.0 * std::log(std::abs(s));
    return -(2.0 * s / std::sqrt(L2) + s / (L2 * std::sqrt(L2)));
  };
  const Eigen::MatrixXd& Fa = a.type->fock;
  const Eigen::MatrixXd& Fb = b.type->fock;
  RefGradient out;
  out.S = S;
  // u_i, w_j and the energies
  Eigen::VectorXd u = Eigen::VectorXd::Zero(na), w = Eigen::VectorXd::Zero(nb);
  for (Eigen::Index i = 0; i < na; ++i) {
    for (const auto& n : nuc_b) u(i) -= n.q / (n.r - ct_a[i]).norm();
    for (Eigen::Index l = 0; l < nb; ++l) u(i) += 2.0 / (ct_b[l] - ct_a[i]).norm();
  }
  for (Eigen::Index j = 0; j < nb; ++j) {
    for (const auto& n : nuc_a) w(j) -= n.q / (ct_b[j] - n.r).norm();
    for (Eigen::Index k = 0; k < na; ++k) w(j) += 2.0 / (ct_b[j] - ct_a[k]).norm();
  }
  Eigen::MatrixXd G = 2.0 * (-2.0 * (Fa * S) - 2.0 * (S * Fb) + 2.0 * T), Gcp(na, nb);
  for (Eigen::Index i = 0; i < na; ++i)
    for (Eigen::Index j = 0; j < nb; ++j) {
      const double s = S(i, j), R = (ct_b[j] - ct_a[i]).norm();
      out.exr += 2.0 * (fexp(s) / R - s * (Fa * S)(i, j) - s * (S * Fb)(i, j) + 2.0 * s * T(i, j) +
                        s * s * (u(i) + w(j) - 1.0 / R));
      out.ecp += fcp(s) / R;
      G(i, j) += 2.0 * (dfexp(s) / R + 2.0 * s * (u(i) + w(j) - 1.0 / R));
      Gcp(i, j) = dfcp(s) / R;
    }
  const Eigen::MatrixXd H = 4.0 * S;
  // geometric part (S fixed): Coulomb derivatives of the point-pair form sum c_pq / r_pq, with
  // c = 2 (f_exp - S^2) + 2 rho_i + 2 sigma_j for centroid pairs, -rho_i Z_J and -Z_I sigma_j for centroid-nucleus
  // pairs.
  const Eigen::MatrixXd S2 = S.cwiseProduct(S);
  const Eigen::VectorXd rho = 2.0 * S2.rowwise().sum(), sigma = 2.0 * S2.colwise().sum().transpose();
  auto cg = [](double c, const Eigen::Vector3d& p, const Eigen::Vector3d& q) -> Eigen::Vector3d {
    const Eigen::Vector3d d = p - q;
    const double r = d.norm();
    return -c / (r * r * r) * d;
  };
  Eigen::Vector3d gx = Eigen::Vector3d::Zero(), gr = Eigen::Vector3d::Zero();
  Eigen::Vector3d cx = Eigen::Vector3d::Zero(), cr = Eigen::Vector3d::Zero();
  for (Eigen::Index i = 0; i < na; ++i) {
    Eigen::Vector3d gi = Eigen::Vector3d::Zero(), ci = Eigen::Vector3d::Zero();
    for (Eigen::Index j = 0; j < nb; ++j) {
      const double s = S(i, j);
      gi += cg(2.0 * (fexp(s) - s * s) + 2.0 * rho[i] + 2.0 * sigma[j], ct_a[i], ct_b[j]);
      ci += cg(fcp(s), ct_a[i], ct_b[j]);
    }
    for (const auto& n : nuc_b) gi += cg(-rho[i] * n.q, ct_a[i], n.r);
    gx += gi;
    gr += (ct_a[i] - com_a).cross(gi);
    cx += ci;
    cr += (ct_a[i] - com_a).cross(ci);
  }
  for (const auto& n : nuc_a) {
    Eigen::Vector3d gI = Eigen::Vector3d::Zero();
    for (Eigen::Index j = 0; j < nb; ++j) gI += cg(-n.q * sigma[j], n.r, ct_b[j]);
    gx += gI;
    gr += (n.r - com_a).cross(gI);
  }
  const int n_ao_a = static_cast<int>(Ca.cols());
  std::vector<Eigen::Vector3d> centre;
  for (const auto& sh : a.basis)
    for (int k = 0; k < tf::detail::shell_size(sh.type); ++k) centre.push_back(sh.r - com_a);
  for (int k = 0; k < 3; ++k) {
    const Eigen::MatrixXd dS_t = Ca * dSao[k] * CbT, dT_t = Ca * dTao[k] * CbT;
    out.dS_a[k] = dS_t;
    out.xr_a[k] = G.cwiseProduct(dS_t).sum() + H.cwiseProduct(dT_t).sum() + gx[k];
    out.cp_a[k] = Gcp.cwiseProduct(dS_t).sum() + cx[k];
    Eigen::MatrixXd dS_rot = Eigen::MatrixXd::Zero(n_ao_a, Sao.cols()), dT_rot = dS_rot;
    for (int mu = 0; mu < n_ao_a; ++mu) {
      const Eigen::Vector3d v = Eigen::Vector3d::Unit(k).cross(centre[mu]);
      for (int x = 0; x < 3; ++x) {
        dS_rot.row(mu) += v[x] * dSao[x].row(mu);
        dT_rot.row(mu) += v[x] * dTao[x].row(mu);
      }
    }
    const Eigen::MatrixXd dCa = tf::wavefunction_rotation_derivative(a, k);
    const Eigen::MatrixXd dS_r = Ca * dS_rot * CbT + dCa * Sao * CbT, dT_r = Ca * dT_rot * CbT + dCa * Tao * CbT;
    out.dS_a[3 + k] = dS_r;
    out.xr_a[3 + k] = G.cwiseProduct(dS_r).sum() + H.cwiseProduct(dT_r).sum() + gr[k];
    out.cp_a[3 + k] = Gcp.cwiseProduct(dS_r).sum() + cr[k];
  }
  const Eigen::Vector3d dAB = com_a - com_b;
  auto mirror = [&](const tf::FragmentGradient& ga) {
    tf::FragmentGradient gb;
    const Eigen::Vector3d t = ga.head<3>();
    gb.head<3>() = -t;
    gb.tail<3>() = -ga.tail<3>() - dAB.cross(t);
    return gb;
  };
  out.xr_b = mirror(out.xr_a);
  out.cp_b = mirror(out.cp_a);
  for (int k = 0; k < 3; ++k) {
    out.dS_b[k] = -out.dS_a[k];
    const int y = (k + 1) % 3, z = (k + 2) % 3;
    out.dS_b[3 + k] = -out.dS_a[3 + k] - (dAB[y] * out.dS_a[z] - dAB[z] * out.dS_a[y]);
  }
  return out;
}


}  // namespace

// libefp `terms xr` cases: the total is the sum of pair exchange–repulsion energies.
//
// xr_1 and xr_2 agree with their references to < 1e-6 relative. xr_3 differs by 1.1e-5 relative (3.4e-7 hartree,
// within the case's gtest_tol of 5e-6): its reference was computed with libefp's F_xxx overlap-integral bug (see
// LibefpFxxxBug below), which the xr_1/xr_2 references do not contain.
struct XrCase {
  const char* file;
  double rel_tol;
};

class FragmdXrCase : public ::testing::TestWithParam<XrCase> {};

TEST_P(FragmdXrCase, MatchesLibefpReference) {
  REQUIRE_EFP_DATA();
  const XrCase c = GetParam();
  const auto in = tf::read_input((efp_dir() / "cases" / c.file).string());
  ASSERT_TRUE(in.ref_energy.has_value());
  const double e = xr_total(in.system);
  const double ref = *in.ref_energy;
  // The references are printed with 10 decimals; allow that rounding on top of the relative tolerance.
  EXPECT_NEAR(e, ref, c.rel_tol * std::abs(ref) + 5e-11) << c.file << ": computed " << e << ", reference " << ref;
  EXPECT_NEAR(e, ref, in.gtest_tol) << c.file << ": outside the case's gtest_tol";
}

INSTANTIATE_TEST_SUITE_P(Cases, FragmdXrCase,
                         ::testing::Values(XrCase{"xr_1.in", 1e-6}, XrCase{"xr_2.in", 1e-6},
                                           XrCase{"xr_3.in", 2e-5}),
                         [](const auto& info) {
                           std::string n = info.param.file;
                           return n.substr(0, n.find('.'));
                         });

TEST(FragmdXr, FileLmosAreOrthonormalUnderOurNormalisation) {
  // The LMOs were orthonormal in GAMESS; with the projection basis (same basis) and our reading of the file's
  // normalisation convention (incl. sqrt3 / sqrt5 / sqrt15 for d and f), C S C^T must be the identity. Checked for
  // every library fragment, on a rotated placement so the p/d/f coefficient rotation is exercised too.
  REQUIRE_EFP_DATA();
  int checked = 0;
  for (const auto& entry : fs::directory_iterator(efp_dir() / "fraglib")) {
    if (entry.path().extension() != ".efp") continue;
    for (const auto& type : tf::read_fragment_file(entry.path().string())) {
      if (type.n_lmo == 0) continue;
      const tf::Fragment f = tf::place(type, Eigen::Vector3d(0.3, -1.0, 2.0), tf::euler_to_matrix(0.7, 1.9, -2.4));
      Eigen::MatrixXd S, T;
      tf::detail::overlap_kinetic(f.basis, f.basis, Eigen::Vector3d::Zero(), S, T);
      const Eigen::MatrixXd O = f.wavefunction * S * f.wavefunction.transpose();
      EXPECT_LT((O - Eigen::MatrixXd::Identity(O.rows(), O.cols())).cwiseAbs().maxCoeff(), 1e-7) << type.name;
      ++checked;
    }
  }
  EXPECT_GE(checked, 3);
}

TEST(FragmdXr, EnergiesMatchTermByTermFormula) {
  // xr.cpp regroups the point-charge terms for the gradient; check it against the plain per-LMO-pair formula of
  // libefp's xr.c (lmo_lmo_xr_energy, charge_penetration_energy), evaluated here from the LMO integrals.
  REQUIRE_EFP_DATA();
  auto h2o = load_type("h2o.efp");
  auto meoh = load_type("ch3oh.efp");
  const tf::Fragment a = tf::place(*h2o, Eigen::Vector3d(0.2, -0.1, 0.3), tf::euler_to_matrix(0.4, 1.1, -2.0));
  const tf::Fragment b = tf::place(*meoh, Eigen::Vector3d(3.9, 1.4, -0.9), tf::euler_to_matrix(2.5, 0.6, 1.3));
  Eigen::MatrixXd Sao, Tao;
  tf::detail::overlap_kinetic(a.basis, b.basis, Eigen::Vector3d::Zero(), Sao, Tao);
  const Eigen::MatrixXd S = a.wavefunction * Sao * b.wavefunction.transpose();
  const Eigen::MatrixXd T = a.wavefunction * Tao * b.wavefunction.transpose();
  auto valence = [](double z) { return z <= 2 ? z : z <= 10 ? z - 2 : z - 10; };
  const double pi = 3.14159265358979323846;
  double exr = 0.0, ecp = 0.0;
  for (Eigen::Index i = 0; i < S.rows(); ++i)
    for (Eigen::Index j = 0; j < S.cols(); ++j) {
      const double s = S(i, j), r = (b.lmo_centroids[j] - a.lmo_centroids[i]).norm();
      double e = 0.0;
      if (std::abs(s) > 1e-7) {
        e += -2.0 * std::sqrt(-2.0 * std::log(std::abs(s)) / pi) * s * s / r;
        ecp += -s * s / r / std::sqrt(-2.0 * std::log(std::abs(s)));
      }
      for (Eigen::Index k = 0; k < S.rows(); ++k) e -= s * S(k, j) * h2o->fock(i, k);
      for (Eigen::Index l = 0; l < S.cols(); ++l) e -= s * S(i, l) * meoh->fock(j, l);
      e += 2.0 * s * T(i, j);
      for (const auto& at : b.atoms) e -= s * s * valence(at.znuc) / (at.r - a.lmo_centroids[i]).norm();
      for (const auto& c : b.lmo_centroids) e += 2.0 * s * s / (c - a.lmo_centroids[i]).norm();
      for (const auto& at : a.atoms) e -= s * s * valence(at.znuc) / (b.lmo_centroids[j] - at.r).norm();
      for (const auto& c : a.lmo_centroids) e += 2.0 * s * s / (b.lmo_centroids[j] - c).norm();
      e -= s * s / r;
      exr += 2.0 * e;
    }
  const tf::XrPair p = tf::xr_pair(a, b, Eigen::Vector3d::Zero());
  EXPECT_NEAR(p.exchange_repulsion, exr, 1e-12 * std::abs(exr));
  EXPECT_NEAR(p.charge_penetration, ecp, 1e-12 * std::abs(ecp));
  EXPECT_LT((p.lmo_overlap - S).cwiseAbs().maxCoeff(), 1e-15);
}

TEST(FragmdXr, RotateWavefunctionIsARepresentation) {
  REQUIRE_EFP_DATA();
  auto type = load_type("h2o.efp");  // S, L, P, D and F shells
  const Eigen::Matrix3d R1 = tf::euler_to_matrix(0.3, 1.2, -0.8), R2 = tf::euler_to_matrix(-1.4, 0.5, 2.2);
  EXPECT_LT((tf::rotate_wavefunction(*type, Eigen::Matrix3d::Identity()) - type->wavefunction).norm(), 1e-13);
  tf::FragmentType rotated = *type;
  rotated.wavefunction = tf::rotate_wavefunction(*type, R1);
  EXPECT_LT((tf::rotate_wavefunction(rotated, R2) - tf::rotate_wavefunction(*type, R2 * R1)).norm(), 1e-12);
}

TEST(FragmdXr, LmoOverlapAndEnergiesAreRotationInvariant) {
  // Rotating and translating the whole pair must leave S_ij (and so every energy) unchanged.
  REQUIRE_EFP_DATA();
  auto h2o = load_type("h2o.efp");
  auto nh3 = load_type("nh3.efp");
  const Eigen::Vector3d ca(0.0, 0.0, 0.0), cb(4.8, 1.1, -0.7);
  const Eigen::Matrix3d Ra = tf::euler_to_matrix(1.0, 2.0, 3.0), Rb = tf::euler_to_matrix(5.0, 2.0, 8.0);
  const tf::XrPair p0 = tf::xr_pair(tf::place(*h2o, ca, Ra), tf::place(*nh3, cb, Rb), Eigen::Vector3d::Zero());

  const Eigen::Matrix3d Q = tf::euler_to_matrix(-0.6, 2.3, 1.7);
  const Eigen::Vector3d t(1.5, -3.0, 0.25);
  const tf::XrPair p1 =
      tf::xr_pair(tf::place(*h2o, Q * ca + t, Q * Ra), tf::place(*nh3, Q * cb + t, Q * Rb), Eigen::Vector3d::Zero());
  ASSERT_EQ(p0.lmo_overlap.rows(), h2o->n_lmo);
  ASSERT_EQ(p0.lmo_overlap.cols(), nh3->n_lmo);
  EXPECT_LT((p0.lmo_overlap - p1.lmo_overlap).cwiseAbs().maxCoeff(), 1e-12);
  EXPECT_NEAR(p0.exchange_repulsion, p1.exchange_repulsion, 1e-12 * std::abs(p0.exchange_repulsion) + 1e-15);
  EXPECT_NEAR(p0.charge_penetration, p1.charge_penetration, 1e-12 * std::abs(p0.charge_penetration) + 1e-15);
  EXPECT_GT(p0.exchange_repulsion, 0.0);
  EXPECT_LT(p0.charge_penetration, 0.0);

  // Pair symmetry: swapping the fragments transposes S and keeps the energies.
  const tf::XrPair ps = tf::xr_pair(tf::place(*nh3, cb, Rb), tf::place(*h2o, ca, Ra), Eigen::Vector3d::Zero());
  EXPECT_LT((ps.lmo_overlap - p0.lmo_overlap.transpose()).cwiseAbs().maxCoeff(), 1e-13);
  EXPECT_NEAR(ps.exchange_repulsion, p0.exchange_repulsion, 1e-13);
  EXPECT_NEAR(ps.charge_penetration, p0.charge_penetration, 1e-13);

  // shift_b is a rigid translation of b.
  const Eigen::Vector3d shift(0.4, -0.3, 0.2);
  const tf::XrPair pshift = tf::xr_pair(tf::place(*h2o, ca, Ra), tf::place(*nh3, cb - shift, Rb), shift);
  EXPECT_LT((pshift.lmo_overlap - p0.lmo_overlap).cwiseAbs().maxCoeff(), 1e-13);
  EXPECT_NEAR(pshift.exchange_repulsion, p0.exchange_repulsion, 1e-13);
}

TEST(FragmdXr, GradientMatchesFiniteDifferences) {
  REQUIRE_EFP_DATA();
  auto h2o = load_type("h2o.efp");
  auto meoh = load_type("ch3oh.efp");
  const Eigen::Vector3d ca(0.2, -0.1, 0.3), cb(3.9, 1.4, -0.9), shift(0.05, -0.02, 0.1);
  const Eigen::Matrix3d Ra = tf::euler_to_matrix(0.4, 1.1, -2.0), Rb = tf::euler_to_matrix(2.5, 0.6, 1.3);
  const tf::Fragment a = tf::place(*h2o, ca, Ra), b = tf::place(*meoh, cb, Rb);
  const tf::XrPairGradient g = tf::xr_pair_gradient(a, b, shift);
  const tf::XrPair e0 = tf::xr_pair(a, b, shift);
  EXPECT_DOUBLE_EQ(g.energy.exchange_repulsion, e0.exchange_repulsion);
  EXPECT_DOUBLE_EQ(g.energy.charge_penetration, e0.charge_penetration);

  const double h = 1e-4;
  // Displace fragment `which` along rigid-body coordinate k (0-2 translation, 3-5 rotation about the COM).
  auto displaced = [&](int which, int k, double step) {
    Eigen::Vector3d c = which == 0 ? ca : cb;
    Eigen::Matrix3d R = which == 0 ? Ra : Rb;
    if (k < 3)
      c[k] += step;
    else
      R = axis_rotation(k - 3, step) * R;
    const tf::Fragment moved = tf::place(which == 0 ? *h2o : *meoh, c, R);
    return which == 0 ? tf::xr_pair(moved, b, shift) : tf::xr_pair(a, moved, shift);
  };
  for (int which = 0; which < 2; ++which)
    for (int k = 0; k < 6; ++k) {
      const tf::XrPair p = displaced(which, k, h), m = displaced(which, k, -h);
      const double fd_xr = (p.exchange_repulsion - m.exchange_repulsion) / (2 * h);
      const double fd_cp = (p.charge_penetration - m.charge_penetration) / (2 * h);
      const Eigen::MatrixXd fd_s = (p.lmo_overlap - m.lmo_overlap) / (2 * h);
      const tf::FragmentGradient& gxr = which == 0 ? g.xr_a : g.xr_b;
      const tf::FragmentGradient& gcp = which == 0 ? g.cp_a : g.cp_b;
      const Eigen::MatrixXd& gs = which == 0 ? g.lmo_overlap_deriv_a[k] : g.lmo_overlap_deriv_b[k];
      EXPECT_NEAR(gxr[k], fd_xr, 1e-7 + 1e-5 * std::abs(fd_xr)) << "fragment " << which << " coord " << k;
      EXPECT_NEAR(gcp[k], fd_cp, 1e-7 + 1e-5 * std::abs(fd_cp)) << "fragment " << which << " coord " << k;
      EXPECT_LT((gs - fd_s).cwiseAbs().maxCoeff(), 1e-7) << "fragment " << which << " coord " << k;
    }
}

TEST(FragmdXr, GradientMatchesFullMatrixReference) {
  // The blocked, early-contracted gradient against the plain full-matrix implementation (reference_xr_gradient
  // above), for pairs of water, ammonia, methanol and benzene at several separations, with and without the LMO
  // overlap derivatives.
  REQUIRE_EFP_DATA();
  const char* files[] = {"h2o.efp", "nh3.efp", "ch3oh.efp", "c6h6.efp"};
  std::vector<std::shared_ptr<tf::FragmentType>> types;
  for (const char* f : files) types.push_back(load_type(f));
  const Eigen::Vector3d shift(0.3, -0.2, 0.1);
  int checked = 0;
  for (std::size_t ia = 0; ia < types.size(); ++ia)
    for (std::size_t ib = 0; ib < types.size(); ++ib)
      for (double dist : {5.0, 7.5, 11.0}) {
        const Eigen::Vector3d ca(0.1 * ia, -0.2, 0.3 * ib);
        const Eigen::Vector3d cb = ca + dist * Eigen::Vector3d(0.6, 0.48, -0.64);
        const tf::Fragment a = tf::place(*types[ia], ca, tf::euler_to_matrix(0.4 + ia, 1.1, -2.0 + 0.3 * ib));
        const tf::Fragment b = tf::place(*types[ib], cb - shift, tf::euler_to_matrix(2.5, 0.6 + 0.2 * ia, 1.3 + ib));
        const RefGradient ref = reference_xr_gradient(a, b, shift);
        const tf::XrPairGradient g = tf::xr_pair_gradient(a, b, shift);
        const tf::XrPairGradient g0 = tf::xr_pair_gradient(a, b, shift, false);
        const tf::XrPair e = tf::xr_pair(a, b, shift);
        const std::string what = std::string(files[ia]) + " / " + files[ib] + " at " + std::to_string(dist);
        EXPECT_NEAR(g.energy.exchange_repulsion, ref.exr, 1e-10 * std::abs(ref.exr) + 1e-16) << what;
        EXPECT_NEAR(g.energy.charge_penetration, ref.ecp, 1e-10 * std::abs(ref.ecp) + 1e-16) << what;
        // (the value-only and value+derivative integral kernels may round differently in the last bits)
        EXPECT_NEAR(e.exchange_repulsion, g.energy.exchange_repulsion, 1e-13 * std::abs(ref.exr) + 1e-18) << what;
        EXPECT_NEAR(e.charge_penetration, g.energy.charge_penetration, 1e-13 * std::abs(ref.ecp) + 1e-18) << what;
        EXPECT_LT((g.energy.lmo_overlap - ref.S).cwiseAbs().maxCoeff(), 1e-10 * ref.S.cwiseAbs().maxCoeff()) << what;
        auto close = [&](const tf::FragmentGradient& x, const tf::FragmentGradient& r, const char* name) {
          const double scale = r.cwiseAbs().maxCoeff();
          EXPECT_LT((x - r).cwiseAbs().maxCoeff(), 1e-10 * scale + 1e-18) << what << " " << name;
        };
        close(g.xr_a, ref.xr_a, "xr_a");
        close(g.xr_b, ref.xr_b, "xr_b");
        close(g.cp_a, ref.cp_a, "cp_a");
        close(g.cp_b, ref.cp_b, "cp_b");
        EXPECT_EQ(g0.xr_a, g.xr_a) << what;
        EXPECT_EQ(g0.xr_b, g.xr_b) << what;
        EXPECT_EQ(g0.cp_a, g.cp_a) << what;
        EXPECT_EQ(g0.cp_b, g.cp_b) << what;
        EXPECT_EQ(g0.lmo_overlap_deriv_a[0].size(), 0) << what;
        for (int k = 0; k < 6; ++k) {
          const double sa = ref.dS_a[k].cwiseAbs().maxCoeff(), sb = ref.dS_b[k].cwiseAbs().maxCoeff();
          ASSERT_EQ(g.lmo_overlap_deriv_a[k].rows(), ref.dS_a[k].rows());
          ASSERT_EQ(g.lmo_overlap_deriv_b[k].cols(), ref.dS_b[k].cols());
          EXPECT_LT((g.lmo_overlap_deriv_a[k] - ref.dS_a[k]).cwiseAbs().maxCoeff(), 1e-10 * sa + 1e-18) << what << k;
          EXPECT_LT((g.lmo_overlap_deriv_b[k] - ref.dS_b[k]).cwiseAbs().maxCoeff(), 1e-10 * sb + 1e-18) << what << k;
        }
        ++checked;
      }
  EXPECT_EQ(checked, 48);
}

TEST(FragmdXr, MissingParametersAreInvalidArgument) {
  REQUIRE_EFP_DATA();
  auto h2o = load_type("h2o.efp");
  tf::Fragment a = tf::place(*h2o, Eigen::Vector3d::Zero(), Eigen::Matrix3d::Identity());
  tf::Fragment b = tf::place(*h2o, Eigen::Vector3d(5, 0, 0), Eigen::Matrix3d::Identity());
  tf::Fragment broken = b;
  broken.wavefunction.conservativeResize(Eigen::NoChange, broken.wavefunction.cols() - 1);
  EXPECT_THROW(tf::xr_pair(a, broken, Eigen::Vector3d::Zero()), tsunagu::InvalidArgument);
  broken = b;
  broken.lmo_centroids.pop_back();
  EXPECT_THROW(tf::xr_pair(a, broken, Eigen::Vector3d::Zero()), tsunagu::InvalidArgument);
}

// ---- libefp's F_xxx overlap-integral bug ---------------------------------------------------------------------------
//
// libefp's overlap/kinetic routine efp_st_int (int.c) looks up the Cartesian powers of each function pair in the
// tables of int_shift.h. In every table with an F shell on the bra side (shift_fs_x, shift_fl_x, shift_fp_x,
// shift_fd_x, shift_ff_x) the entries of the first F component, xxx, use the x power 1 (index 5 = i·5 + j with i = 1)
// instead of 3 (index 15); y and z of yyy/zzz, and F shells on the ket side, are right. So for the pair (i, j) that
// libefp evaluates, the xxx function x³e^{-ar²} of every F shell of fragment i is integrated as x·e^{-ar²} (same
// contraction coefficients, int_norm 1), in S and in T, while fragment j's F shells are exact. The LMO overlaps —
// and with them exchange–repulsion, overlap charge penetration and overlap-damped dispersion — then depend on which
// fragment of a pair comes first. libefp 2.0 still has the tables (its efpmd 2.0 printouts in libefp2/libefp
// tests/*.out.x are reproduced below to the last printed digit), and most recorded ref_energy values were made with
// it. Our integrals are exact (integrals_test: F bra against quadrature; swapping the pair transposes S above).
//
// The bug is emulated without touching the library: each F shell of the first fragment gets its xxx coefficient
// moved to an added P shell (same centre, exponents and file coefficients), whose p_x function is exactly libefp's
// c·x·e^{-ar²}; py and pz of that shell are zero and the F shell's xxx coefficient is cleared.
namespace {

tf::Fragment with_libefp_fxxx_bug(const tf::Fragment& f) {
  tf::Fragment g = f;
  g.basis.clear();
  std::vector<Eigen::VectorXd> cols;
  Eigen::Index col = 0;
  const Eigen::VectorXd zero = Eigen::VectorXd::Zero(f.wavefunction.rows());
  for (const tf::Shell& sh : f.basis) {
    const int n = tf::detail::shell_size(sh.type);
    g.basis.push_back(sh);
    for (int k = 0; k < n; ++k) cols.push_back(f.wavefunction.col(col + k));
    if (sh.type == 'F') {
      cols[cols.size() - n] = zero;  // the F shell's xxx column
      tf::Shell p = sh;
      p.type = 'P';
      p.coef_p.clear();
      g.basis.push_back(p);
      cols.push_back(f.wavefunction.col(col));  // x^1 with the xxx coefficient
      cols.push_back(zero);
      cols.push_back(zero);
    }
    col += n;
  }
  g.wavefunction.resize(f.wavefunction.rows(), static_cast<Eigen::Index>(cols.size()));
  for (std::size_t k = 0; k < cols.size(); ++k) g.wavefunction.col(static_cast<Eigen::Index>(k)) = cols[k];
  return g;
}

enum class PairOrder {
  Ascending,  // (i, j), i < j: the order of the libefp that recorded most references
  Ring        // libefp 2.0's balanced order: i with (i+1 .. i+cnt) mod n
};

std::vector<std::pair<std::size_t, std::size_t>> libefp_pairs(std::size_t n, PairOrder order) {
  std::vector<std::pair<std::size_t, std::size_t>> out;
  for (std::size_t i = 0; i < n; ++i) {
    if (order == PairOrder::Ascending) {
      for (std::size_t j = i + 1; j < n; ++j) out.emplace_back(i, j);
    } else {
      const std::size_t cnt = n % 2 ? (n - 1) / 2 : (i < n / 2 ? n / 2 : n / 2 - 1);
      for (std::size_t j = i + 1; j < i + 1 + cnt; ++j) out.emplace_back(i, j % n);
    }
  }
  return out;
}

// Total energy of an input as libefp computes it: ours, with every overlap-based pair term (exchange–repulsion,
// overlap charge penetration, overlap-damped dispersion) replaced by its value with the bug on the pair's first
// fragment. Minimum image and switching as in energy.cpp.
double energy_with_libefp_fxxx_bug(const tf::InputFile& in, PairOrder order) {
  const tf::System& s = in.system;
  double e = tf::compute(s).energy.total();
  const bool cp = s.terms.elec && s.elec_damp == tf::ElecDamp::Overlap;
  const bool sd = s.terms.disp && s.disp_damp == tf::DispDamp::Overlap;
  if (!s.terms.xr && !cp && !sd) return e;
  for (const auto& [i, j] : libefp_pairs(s.fragments.size(), order)) {
    const tf::Fragment& a = s.fragments[i];
    const tf::Fragment& b = s.fragments[j];
    Eigen::Vector3d shift = Eigen::Vector3d::Zero();
    double sw = 1.0;
    if (s.cutoff_enabled) {
      const Eigen::Vector3d dr = b.com - a.com;
      if (s.periodic)
        for (int k = 0; k < 3; ++k) shift[k] = -s.box[k] * std::round(dr[k] / s.box[k]);
      sw = tf::detail::switching((dr + shift).norm(), s.cutoff);
      if (sw == 0.0) continue;
    }
    const tf::XrPair bug = tf::xr_pair(with_libefp_fxxx_bug(a), b, shift);
    const tf::XrPair ok = tf::xr_pair(a, b, shift);
    if (s.terms.xr) e += sw * (bug.exchange_repulsion - ok.exchange_repulsion);
    if (cp) e += sw * (bug.charge_penetration - ok.charge_penetration);
    if (sd)
      e += sw * (tf::disp_pair(a, b, shift, tf::DispDamp::Overlap, &bug.lmo_overlap) -
                 tf::disp_pair(a, b, shift, tf::DispDamp::Overlap, &ok.lmo_overlap));
  }
  return e;
}

}  // namespace

TEST(LibefpFxxxBug, EmulationChangesOnlyTheFirstFragmentsFxxxFunction) {
  REQUIRE_EFP_DATA();
  auto h2o = load_type("h2o.efp");  // F shell on O
  auto nh3 = load_type("nh3.efp");
  const tf::Fragment a = tf::place(*h2o, Eigen::Vector3d(0.1, 0.2, -0.3), tf::euler_to_matrix(0.4, 1.1, -2.0));
  const tf::Fragment b = tf::place(*nh3, Eigen::Vector3d(4.4, 1.9, 0.8), tf::euler_to_matrix(2.5, 0.6, 1.3));
  const tf::Fragment ab = with_libefp_fxxx_bug(a);
  ASSERT_EQ(ab.wavefunction.cols(), tf::detail::basis_size(ab.basis));
  // Within a fragment the change is exactly the xxx → x substitution: <x e^{-ar²}| and <x³ e^{-ar²}| differ.
  Eigen::MatrixXd S0, T0, S1, T1;
  tf::detail::overlap_kinetic(a.basis, b.basis, Eigen::Vector3d::Zero(), S0, T0);
  tf::detail::overlap_kinetic(ab.basis, b.basis, Eigen::Vector3d::Zero(), S1, T1);
  const Eigen::MatrixXd lmo0 = a.wavefunction * S0 * b.wavefunction.transpose();
  const Eigen::MatrixXd lmo1 = ab.wavefunction * S1 * b.wavefunction.transpose();
  const double change = (lmo1 - lmo0).cwiseAbs().maxCoeff();
  EXPECT_GT(change, 1e-9 * lmo0.cwiseAbs().maxCoeff());
  EXPECT_LT(change, 1e-2 * lmo0.cwiseAbs().maxCoeff());
  // The bug makes the pair energy depend on the order; the exact integrals do not.
  const tf::XrPair ba = tf::xr_pair(with_libefp_fxxx_bug(b), a, Eigen::Vector3d::Zero());
  const tf::XrPair abp = tf::xr_pair(ab, b, Eigen::Vector3d::Zero());
  EXPECT_GT(std::abs(ba.exchange_repulsion - abp.exchange_repulsion), 1e-6 * std::abs(abp.exchange_repulsion));
}

// Recorded reference energies that carry the bug, pairs in ascending order (the libefp of the single-term
// references): with the bug emulated each agrees to the strict criterion of energy_test (1e-6 relative, or 5e-11),
// where our exact energies deviate by 1.9e-9 .. 6.1e-7 hartree. Not in the list: xr_1, xr_2, disp_2b (references
// made with exact integrals — we match them, the emulation does not), total_2a (bug plus the 1.2e-9 polarisation
// residual of pol_2a), total_3a (plus a stale polarisation reference), total_6b/6d (1.2e-8 from libefp 2.0's value
// too), constraint_3 (recorded with libefp 2.0's pair order, checked below).
TEST(LibefpFxxxBug, ReproducesTheRecordedReferences) {
  REQUIRE_EFP_DATA();
  const char* cases[] = {"xr_3",     "elec_2b",  "elec_3b",  "disp_3b",  "total_1a", "constraint_1", "total_4a",
                         "total_4b", "total_4c", "total_4d", "total_6a", "total_6c"};
  for (const char* name : cases) {
    const auto in = tf::read_input((efp_dir() / "cases" / (std::string(name) + ".in")).string());
    ASSERT_TRUE(in.ref_energy.has_value()) << name;
    const double ref = *in.ref_energy, tol = std::max(1e-6 * std::abs(ref), 5e-11);
    EXPECT_NEAR(energy_with_libefp_fxxx_bug(in, PairOrder::Ascending), ref, tol) << name;
    EXPECT_GT(std::abs(tf::compute(in.system).energy.total() - ref), tol) << name << ": now agrees without the bug";
  }
}

// efpmd 2.0 (libefp 2.0, pair order Ring) printouts of libefp2/libefp tests/<case>.out.x, TOTAL ENERGY with 10
// decimals, and constraint_3's recorded reference (made with libefp 2.0): reproduced to the printed digit.
TEST(LibefpFxxxBug, ReproducesLibefp2Printouts) {
  REQUIRE_EFP_DATA();
  const std::pair<const char*, double> printed[] = {
      {"xr_1", 0.0000134697},     {"xr_2", 0.0008442709},     {"xr_3", 0.0301401951},
      {"elec_2b", 0.0017049276},  {"elec_3b", 0.0023592831},  {"disp_2b", -0.0015801773},
      {"disp_3b", -0.0220107872}, {"total_3a", 0.0061420197}, {"total_6b", -0.0051253467},
      {"constraint_3", 0.1448936577}};
  for (const auto& [name, value] : printed) {
    const auto in = tf::read_input((efp_dir() / "cases" / (std::string(name) + ".in")).string());
    EXPECT_NEAR(energy_with_libefp_fxxx_bug(in, PairOrder::Ring), value, 6e-11) << name;
  }
}
