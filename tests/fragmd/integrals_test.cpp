// Overlap / kinetic integrals over Cartesian Gaussians (src/fragmd/integrals.cpp): closed forms, normalisation
// conventions of MAKEFP files, an independent numerical quadrature, and the centre derivatives.
#include "fragmd/integrals.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <functional>
#include <numbers>
#include <vector>

#include "tsunagu/core/error.hpp"

namespace tf = tsunagu::fragmd;
namespace td = tsunagu::fragmd::detail;

namespace {

int shell_l(char type) { return type == 'S' ? 0 : type == 'P' ? 1 : type == 'D' ? 2 : 3; }

// One-primitive shell with the file convention (coefficient = axial normalisation).
tf::Shell primitive(char type, double alpha, const Eigen::Vector3d& r) {
  tf::Shell s;
  s.type = type;
  s.r = r;
  s.exponents = {alpha};
  if (type == 'L') {
    s.coef = {td::axial_primitive_norm(alpha, 0)};
    s.coef_p = {td::axial_primitive_norm(alpha, 1)};
  } else {
    s.coef = {td::axial_primitive_norm(alpha, shell_l(type))};
  }
  return s;
}

// Trapezoid rule on a wide grid: exponentially accurate for Gaussians.
double integrate(const std::function<double(double)>& f, double lo, double hi, int n = 40000) {
  const double h = (hi - lo) / n;
  double sum = 0.5 * (f(lo) + f(hi));
  for (int i = 1; i < n; ++i) sum += f(lo + i * h);
  return sum * h;
}

}  // namespace

TEST(FragmdIntegrals, SSOverlapAndKineticClosedForm) {
  const double a = 1.3, b = 0.45;
  const Eigen::Vector3d A(0.1, -0.2, 0.3), B(1.0, 0.7, -0.4);
  Eigen::MatrixXd S, T;
  td::overlap_kinetic({primitive('S', a, A)}, {primitive('S', b, B)}, Eigen::Vector3d::Zero(), S, T);
  const double mu = a * b / (a + b), R2 = (A - B).squaredNorm();
  const double s_ref = std::pow(4.0 * a * b / ((a + b) * (a + b)), 0.75) * std::exp(-mu * R2);
  const double t_ref = mu * (3.0 - 2.0 * mu * R2) * s_ref;
  EXPECT_NEAR(S(0, 0), s_ref, 1e-14);
  EXPECT_NEAR(T(0, 0), t_ref, 1e-14);
}

TEST(FragmdIntegrals, EveryComponentIsNormalised) {
  // Self overlap 1 for every Cartesian component of every shell type, and the closed-form kinetic energy of a
  // normalised x^n y^m z^k Gaussian: sum over axes of alpha (2n+1)/2 - 2 alpha n(n-1)/(2n-1).
  const double alpha = 0.83;
  const Eigen::Vector3d r(0.4, -1.1, 2.0);
  for (char type : {'S', 'L', 'P', 'D', 'F'}) {
    const tf::Shell sh = primitive(type, alpha, r);
    Eigen::MatrixXd S, T;
    td::overlap_kinetic({sh}, {sh}, Eigen::Vector3d::Zero(), S, T);
    ASSERT_EQ(S.rows(), td::shell_size(type));
    for (int k = 0; k < S.rows(); ++k) {
      const int l = type == 'L' ? (k == 0 ? 0 : 1) : shell_l(type);
      const auto p = td::cartesian_powers(l, type == 'L' && k > 0 ? k - 1 : k);
      double t_ref = 0.0;
      for (int n : p) t_ref += alpha * (2 * n + 1) / 2.0 - (n >= 2 ? 2.0 * alpha * n * (n - 1) / (2 * n - 1) : 0.0);
      EXPECT_NEAR(S(k, k), 1.0, 1e-13) << type << " component " << k;
      EXPECT_NEAR(T(k, k), t_ref, 1e-12) << type << " component " << k;
    }
    EXPECT_NEAR((S - S.transpose()).norm(), 0.0, 1e-14);
    EXPECT_NEAR((T - T.transpose()).norm(), 0.0, 1e-13);
  }
}

TEST(FragmdIntegrals, FileCoefficientConventionMatchesMakefp) {
  // h2o.efp: D exponent 5.168 with contraction coefficient 1.0 is written as 29.15572464.
  EXPECT_NEAR(td::axial_primitive_norm(5.168, 2), 29.15572464, 1e-7);
  EXPECT_NEAR(td::cartesian_component_factor(2, 3), std::sqrt(3.0), 1e-15);   // xy
  EXPECT_NEAR(td::cartesian_component_factor(3, 3), std::sqrt(5.0), 1e-15);   // xxy
  EXPECT_NEAR(td::cartesian_component_factor(3, 9), std::sqrt(15.0), 1e-15);  // xyz
}

TEST(FragmdIntegrals, PDBlockMatchesNumericalQuadrature) {
  // Every p (at A) – d (at B) pair, overlap and kinetic, against products of 1D quadratures of the same
  // (unnormalised) primitives scaled by the MAKEFP normalisation.
  const double a = 0.9, b = 0.55;
  const Eigen::Vector3d A(0.3, -0.5, 0.2), B(-0.6, 0.4, 1.1);
  Eigen::MatrixXd S, T;
  td::overlap_kinetic({primitive('P', a, A)}, {primitive('D', b, B)}, Eigen::Vector3d::Zero(), S, T);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 6; ++j) {
      const auto pi = td::cartesian_powers(1, i), pj = td::cartesian_powers(2, j);
      double s1[3], t1[3];
      for (int d = 0; d < 3; ++d) {
        const int m = pi[d], n = pj[d];
        const double Ad = A[d], Bd = B[d];
        auto bra = [&](double x) { return std::pow(x - Ad, m) * std::exp(-a * (x - Ad) * (x - Ad)); };
        auto ket = [&](double x) { return std::pow(x - Bd, n) * std::exp(-b * (x - Bd) * (x - Bd)); };
        auto ket2 = [&](double x) {  // d^2/dx^2 of the ket, by hand
          const double u = x - Bd, g = std::exp(-b * u * u);
          double v = (4 * b * b * std::pow(u, n + 2) - 2 * b * (2 * n + 1) * std::pow(u, n)) * g;
          if (n >= 2) v += n * (n - 1) * std::pow(u, n - 2) * g;
          return v;
        };
        s1[d] = integrate([&](double x) { return bra(x) * ket(x); }, -15, 15);
        t1[d] = integrate([&](double x) { return -0.5 * bra(x) * ket2(x); }, -15, 15);
      }
      const double norm = td::axial_primitive_norm(a, 1) * td::axial_primitive_norm(b, 2) *
                          td::cartesian_component_factor(1, i) * td::cartesian_component_factor(2, j);
      EXPECT_NEAR(S(i, j), norm * s1[0] * s1[1] * s1[2], 1e-12) << i << "," << j;
      EXPECT_NEAR(T(i, j), norm * (t1[0] * s1[1] * s1[2] + s1[0] * t1[1] * s1[2] + s1[0] * s1[1] * t1[2]), 1e-12)
          << i << "," << j;
    }
}

TEST(FragmdIntegrals, FBraMatchesNumericalQuadrature) {
  // Every F component on the bra side against S, P, D and F kets, overlap and kinetic, from 1D quadratures. This is
  // where libefp's efp_st_int is wrong: its shift tables integrate the bra's xxx component as x (see xr_test.cpp,
  // LibefpFxxxBug); the exact values here are what MAKEFP's LMOs are orthonormal with.
  const double a = 0.8, b = 0.45;
  const Eigen::Vector3d A(0.25, -0.4, 0.3), B(-0.5, 0.35, 1.0);
  // 1D tables for powers m (bra) and n (ket) up to 3 along each axis.
  double s1[3][4][4], t1[3][4][4];
  for (int d = 0; d < 3; ++d)
    for (int m = 0; m <= 3; ++m)
      for (int n = 0; n <= 3; ++n) {
        const double Ad = A[d], Bd = B[d];
        auto bra = [&](double x) { return std::pow(x - Ad, m) * std::exp(-a * (x - Ad) * (x - Ad)); };
        auto ket = [&](double x) { return std::pow(x - Bd, n) * std::exp(-b * (x - Bd) * (x - Bd)); };
        auto ket2 = [&](double x) {
          const double u = x - Bd, g = std::exp(-b * u * u);
          double v = (4 * b * b * std::pow(u, n + 2) - 2 * b * (2 * n + 1) * std::pow(u, n)) * g;
          if (n >= 2) v += n * (n - 1) * std::pow(u, n - 2) * g;
          return v;
        };
        s1[d][m][n] = integrate([&](double x) { return bra(x) * ket(x); }, -16, 16);
        t1[d][m][n] = integrate([&](double x) { return -0.5 * bra(x) * ket2(x); }, -16, 16);
      }
  for (char kt : {'S', 'P', 'D', 'F'}) {
    const int lb = shell_l(kt);
    Eigen::MatrixXd S, T;
    td::overlap_kinetic({primitive('F', a, A)}, {primitive(kt, b, B)}, Eigen::Vector3d::Zero(), S, T);
    ASSERT_EQ(S.rows(), 10);
    ASSERT_EQ(S.cols(), (lb + 1) * (lb + 2) / 2);
    for (int i = 0; i < 10; ++i)
      for (int j = 0; j < S.cols(); ++j) {
        const auto pi = td::cartesian_powers(3, i), pj = td::cartesian_powers(lb, j);
        const double norm = td::axial_primitive_norm(a, 3) * td::axial_primitive_norm(b, lb) *
                            td::cartesian_component_factor(3, i) * td::cartesian_component_factor(lb, j);
        double s = 1.0, t = 0.0;
        for (int d = 0; d < 3; ++d) s *= s1[d][pi[d]][pj[d]];
        for (int d = 0; d < 3; ++d) {
          double term = t1[d][pi[d]][pj[d]];
          for (int e = 0; e < 3; ++e)
            if (e != d) term *= s1[e][pi[e]][pj[e]];
          t += term;
        }
        EXPECT_NEAR(S(i, j), norm * s, 1e-12) << "f" << i << " / " << kt << j;
        EXPECT_NEAR(T(i, j), norm * t, 1e-12) << "f" << i << " / " << kt << j;
      }
  }
}

TEST(FragmdIntegrals, ContractionShiftAndLShell) {
  // A two-primitive L shell against an F shell: linear in the coefficients, and shift_b == moving B.
  tf::Shell l;
  l.type = 'L';
  l.r = Eigen::Vector3d(0.2, 0.1, -0.3);
  l.exponents = {3.0, 0.7};
  l.coef = {0.4, 0.9};
  l.coef_p = {1.2, 0.5};
  tf::Shell f = primitive('F', 0.6, Eigen::Vector3d(1.0, -0.8, 0.5));
  const Eigen::Vector3d shift(0.3, 0.2, -0.4);
  Eigen::MatrixXd S, T, S2, T2;
  td::overlap_kinetic({l}, {f}, shift, S, T);
  tf::Shell f_moved = f;
  f_moved.r += shift;
  td::overlap_kinetic({l}, {f_moved}, Eigen::Vector3d::Zero(), S2, T2);
  EXPECT_NEAR((S - S2).norm(), 0.0, 1e-15);
  EXPECT_NEAR((T - T2).norm(), 0.0, 1e-15);
  // sum of one-primitive pieces
  Eigen::MatrixXd Ssum = Eigen::MatrixXd::Zero(4, 10), Tsum = Eigen::MatrixXd::Zero(4, 10);
  for (int p = 0; p < 2; ++p) {
    tf::Shell s1 = l;
    s1.exponents = {l.exponents[p]};
    s1.coef = {l.coef[p]};
    s1.coef_p = {l.coef_p[p]};
    Eigen::MatrixXd Sp, Tp;
    td::overlap_kinetic({s1}, {f_moved}, Eigen::Vector3d::Zero(), Sp, Tp);
    Ssum += Sp;
    Tsum += Tp;
  }
  EXPECT_NEAR((S - Ssum).norm(), 0.0, 1e-15);
  EXPECT_NEAR((T - Tsum).norm(), 0.0, 1e-15);
  // hermiticity of the kinetic operator across different shells
  Eigen::MatrixXd Sr, Tr;
  td::overlap_kinetic({f_moved}, {l}, Eigen::Vector3d::Zero(), Sr, Tr);
  EXPECT_NEAR((S - Sr.transpose()).norm(), 0.0, 1e-14);
  EXPECT_NEAR((T - Tr.transpose()).norm(), 0.0, 1e-14);
}

TEST(FragmdIntegrals, BraDerivativeMatchesFiniteDifference) {
  std::vector<tf::Shell> a = {primitive('D', 0.8, Eigen::Vector3d(0.1, 0.2, 0.3)),
                              primitive('L', 1.5, Eigen::Vector3d(-0.4, 0.0, 0.6))};
  std::vector<tf::Shell> b = {primitive('F', 0.5, Eigen::Vector3d(1.0, -0.5, 0.2)),
                              primitive('P', 0.9, Eigen::Vector3d(0.3, 0.9, -0.7))};
  std::array<Eigen::MatrixXd, 3> dS, dT;
  td::overlap_kinetic_bra_deriv(a, b, Eigen::Vector3d::Zero(), dS, dT);
  const double h = 1e-5;
  for (int k = 0; k < 3; ++k) {
    auto ap = a, am = a;
    for (auto& s : ap) s.r[k] += h;
    for (auto& s : am) s.r[k] -= h;
    Eigen::MatrixXd Sp, Tp, Sm, Tm;
    td::overlap_kinetic(ap, b, Eigen::Vector3d::Zero(), Sp, Tp);
    td::overlap_kinetic(am, b, Eigen::Vector3d::Zero(), Sm, Tm);
    EXPECT_LT(((Sp - Sm) / (2 * h) - dS[k]).cwiseAbs().maxCoeff(), 1e-8) << k;
    EXPECT_LT(((Tp - Tm) / (2 * h) - dT[k]).cwiseAbs().maxCoeff(), 1e-8) << k;
  }
  // the one-pass variant gives the same values and derivatives
  Eigen::MatrixXd S, T, S1, T1;
  std::array<Eigen::MatrixXd, 3> dS1, dT1;
  td::overlap_kinetic(a, b, Eigen::Vector3d::Zero(), S, T);
  td::overlap_kinetic_with_bra_deriv(a, b, Eigen::Vector3d::Zero(), S1, T1, dS1, dT1);
  EXPECT_LT((S - S1).cwiseAbs().maxCoeff(), 1e-15);
  EXPECT_LT((T - T1).cwiseAbs().maxCoeff(), 1e-14);
  for (int k = 0; k < 3; ++k) {
    EXPECT_LT((dS[k] - dS1[k]).cwiseAbs().maxCoeff(), 1e-15);
    EXPECT_LT((dT[k] - dT1[k]).cwiseAbs().maxCoeff(), 1e-14);
  }
}

TEST(FragmdIntegrals, ContractedBlocksMatchSumOverPrimitivesAndReuseWorkspace) {
  // Contracted shells (the first primitive pair of a block assigns, the others accumulate) against the sum of the
  // single-primitive integrals, with an L shell, with screened-out shell pairs, and with one PairIntegrals reused
  // for bases of different sizes.
  auto shell = [](char type, std::vector<double> exps, std::vector<double> coef, const Eigen::Vector3d& r) {
    tf::Shell s;
    s.type = type;
    s.r = r;
    s.exponents = std::move(exps);
    s.coef = coef;
    if (type == 'L')
      for (double c : coef) s.coef_p.push_back(0.7 * c + 0.1);
    return s;
  };
  const std::vector<tf::Shell> a = {shell('S', {30.0, 5.0, 1.1}, {0.3, 0.5, 0.6}, Eigen::Vector3d(0.1, 0.2, 0.3)),
                                    shell('L', {4.0, 0.9}, {0.4, 0.8}, Eigen::Vector3d(-0.4, 0.0, 0.6)),
                                    shell('D', {2.0, 0.4}, {1.3, 0.5}, Eigen::Vector3d(0.2, -0.3, 0.1)),
                                    shell('S', {900.0}, {1.0}, Eigen::Vector3d(-9.0, 0.0, 0.0))};
  const std::vector<tf::Shell> b = {shell('F', {1.2, 0.3}, {2.0, 0.7}, Eigen::Vector3d(1.0, -0.5, 0.2)),
                                    shell('L', {3.0, 0.5, 0.2}, {0.2, 0.5, 0.4}, Eigen::Vector3d(0.3, 0.9, -0.7)),
                                    shell('P', {800.0}, {1.0}, Eigen::Vector3d(9.0, 0.0, 0.0))};
  // split into single-primitive shells, keeping the L pairing
  auto split = [](const std::vector<tf::Shell>& basis, std::vector<std::vector<tf::Shell>>& out) {
    for (const auto& sh : basis) {
      std::vector<tf::Shell> prims;
      for (std::size_t p = 0; p < sh.exponents.size(); ++p) {
        tf::Shell q = sh;
        q.exponents = {sh.exponents[p]};
        q.coef = {sh.coef[p]};
        if (sh.type == 'L') q.coef_p = {sh.coef_p[p]};
        prims.push_back(q);
      }
      out.push_back(prims);
    }
  };
  std::vector<std::vector<tf::Shell>> pa, pb;
  split(a, pa);
  split(b, pb);
  const Eigen::Vector3d shift(0.2, 0.1, -0.3);
  const int na = td::basis_size(a), nb = td::basis_size(b);
  Eigen::MatrixXd Sref = Eigen::MatrixXd::Zero(na, nb), Tref = Sref;
  std::array<Eigen::MatrixXd, 3> dSref, dTref;
  for (int k = 0; k < 3; ++k) dSref[k] = dTref[k] = Sref;
  int off_a = 0;
  for (const auto& sa : pa) {
    int off_b = 0;
    const int size_a = td::shell_size(sa[0].type);
    for (const auto& sb : pb) {
      const int size_b = td::shell_size(sb[0].type);
      for (const auto& p : sa)
        for (const auto& q : sb) {
          Eigen::MatrixXd S, T;
          std::array<Eigen::MatrixXd, 3> dS, dT;
          td::overlap_kinetic_with_bra_deriv({p}, {q}, shift, S, T, dS, dT);
          Sref.block(off_a, off_b, size_a, size_b) += S;
          Tref.block(off_a, off_b, size_a, size_b) += T;
          for (int k = 0; k < 3; ++k) {
            dSref[k].block(off_a, off_b, size_a, size_b) += dS[k];
            dTref[k].block(off_a, off_b, size_a, size_b) += dT[k];
          }
        }
      off_b += size_b;
    }
    off_a += size_a;
  }
  td::PairIntegrals ints;
  // fill the workspace with a larger problem first so that stale data would show
  td::overlap_kinetic_blocks(b, b, Eigen::Vector3d::Zero(), true, ints);
  td::overlap_kinetic_blocks(a, a, Eigen::Vector3d::Zero(), true, ints);
  for (bool deriv : {true, false}) {
    td::overlap_kinetic_blocks(a, b, shift, deriv, ints);
    ASSERT_EQ(ints.n_ao_a, na);
    ASSERT_EQ(ints.n_ao_b, nb);
    Eigen::MatrixXd S = Eigen::MatrixXd::Zero(na, nb), T = S;
    std::array<Eigen::MatrixXd, 3> dS, dT;
    for (int k = 0; k < 3; ++k) dS[k] = dT[k] = S;
    bool far_pair_present = false;
    for (const auto& blk : ints.blocks) {
      if (blk.shell_a == 3 && blk.shell_b == 2) far_pair_present = true;
      for (int i = 0; i < blk.na; ++i)
        for (int j = 0; j < blk.nb; ++j) {
          const int e = i * blk.nb + j;
          S(blk.off_a + i, blk.off_b + j) = ints.quantity(blk, 0)[e];
          T(blk.off_a + i, blk.off_b + j) = ints.quantity(blk, 1)[e];
          for (int k = 0; deriv && k < 3; ++k) {
            dS[k](blk.off_a + i, blk.off_b + j) = ints.quantity(blk, 2 + k)[e];
            dT[k](blk.off_a + i, blk.off_b + j) = ints.quantity(blk, 5 + k)[e];
          }
        }
    }
    EXPECT_FALSE(far_pair_present);  // exp(-mu R^2) ~ exp(-170000): screened out
    EXPECT_LT((S - Sref).cwiseAbs().maxCoeff(), 1e-14) << deriv;
    EXPECT_LT((T - Tref).cwiseAbs().maxCoeff(), 1e-13) << deriv;
    EXPECT_GT(Sref.cwiseAbs().maxCoeff(), 1e-2);
    for (int k = 0; deriv && k < 3; ++k) {
      EXPECT_LT((dS[k] - dSref[k]).cwiseAbs().maxCoeff(), 1e-13) << k;
      EXPECT_LT((dT[k] - dTref[k]).cwiseAbs().maxCoeff(), 1e-12) << k;
    }
  }
}

TEST(FragmdIntegrals, BadShellsAreInvalidArgument) {
  tf::Shell g = primitive('S', 1.0, Eigen::Vector3d::Zero());
  g.type = 'G';
  Eigen::MatrixXd S, T;
  EXPECT_THROW(td::overlap_kinetic({g}, {g}, Eigen::Vector3d::Zero(), S, T), tsunagu::InvalidArgument);
  tf::Shell bad = primitive('P', 1.0, Eigen::Vector3d::Zero());
  bad.coef.push_back(1.0);
  EXPECT_THROW(td::overlap_kinetic({bad}, {bad}, Eigen::Vector3d::Zero(), S, T), tsunagu::InvalidArgument);
}
