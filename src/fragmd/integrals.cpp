// Overlap and kinetic integrals over contracted Cartesian Gaussians (Obara–Saika recursion per Cartesian axis).
#include "integrals.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>

#include "tsunagu/core/error.hpp"

namespace tsunagu::fragmd::detail {

namespace {

constexpr int kMaxL = 3;                    // F shells
constexpr int kMaxI = kMaxL + 1;            // bra powers, +1 for the centre derivative
constexpr int kMaxJ = kMaxL;                // ket powers (the overlap table holds +2 for the kinetic operator)
// Primitive pairs whose Gaussian product prefactor exp(-mu R^2) is below e^-46 (1e-20) are skipped, as libefp does;
// the contribution is far below double precision of the LMO overlaps.
constexpr double kScreenExponent = 46.051701859881;

// GAMESS Cartesian order, see integrals.hpp.
constexpr int kPowers[4][10][3] = {
    {{0, 0, 0}},
    {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}},
    {{2, 0, 0}, {0, 2, 0}, {0, 0, 2}, {1, 1, 0}, {1, 0, 1}, {0, 1, 1}},
    {{3, 0, 0}, {0, 3, 0}, {0, 0, 3}, {2, 1, 0}, {2, 0, 1}, {1, 2, 0}, {0, 2, 1}, {1, 0, 2}, {0, 1, 2}, {1, 1, 1}},
};

double double_factorial_odd(int l) {  // (2l-1)!!, with (-1)!! = 1
  double r = 1.0;
  for (int k = 2 * l - 1; k > 1; k -= 2) r *= k;
  return r;
}

// Extra factor of component k relative to the axial one (file coefficients normalise x^l only).
double component_factor(int l, int k) {
  const int* p = kPowers[l][k];
  return std::sqrt(double_factorial_odd(l) /
                   (double_factorial_odd(p[0]) * double_factorial_odd(p[1]) * double_factorial_odd(p[2])));
}

// A shell split into pure-l pieces: an L shell is an s piece and a p piece sharing exponents.
struct Piece {
  int l;
  const std::vector<double>* coef;
  int offset;  // first function of this piece within the shell
};

int shell_l(char type) {
  switch (type) {
    case 'S': return 0;
    case 'P': return 1;
    case 'D': return 2;
    case 'F': return 3;
    default: break;
  }
  throw InvalidArgument("fragmd: unsupported projection-basis shell type '" + std::string(1, type) + "'");
}

int pieces_of(const Shell& sh, Piece out[2]) {
  if (sh.type == 'L') {
    if (sh.coef_p.size() != sh.exponents.size())
      throw InvalidArgument("fragmd: L shell needs one p coefficient per exponent");
    out[0] = {0, &sh.coef, 0};
    out[1] = {1, &sh.coef_p, 1};
    return 2;
  }
  out[0] = {shell_l(sh.type), &sh.coef, 0};
  return 1;
}

void check_shell(const Shell& sh) {
  if (sh.exponents.empty()) throw InvalidArgument("fragmd: projection-basis shell without primitives");
  if (sh.coef.size() != sh.exponents.size())
    throw InvalidArgument("fragmd: projection-basis shell has " + std::to_string(sh.exponents.size()) +
                          " exponents but " + std::to_string(sh.coef.size()) + " coefficients");
}

// 1D tables for one Cartesian axis: S[i][j] = int (x-A)^i (x-B)^j exp(-a(x-A)^2 - b(x-B)^2) dx divided by its
// (i,j) = (0,0) value, and the kinetic T[i][j] (-1/2 d^2/dx^2 acting on the ket) with the same scaling, for i <= imax,
// j <= jmax. The three axes' (0,0) values multiply to (pi/p)^{3/2} exp(-mu R^2), applied once by the caller.
struct Table1D {
  double S[kMaxI + 1][kMaxJ + 3];
  double T[kMaxI + 1][kMaxJ + 1];
};

void fill_1d(double a, double b, double A, double B, int imax, int jmax, Table1D& t) {
  const double p = a + b;
  const double P = (a * A + b * B) / p;
  const double PA = P - A, PB = P - B, oo2p = 0.5 / p;
  const int jtop = jmax + 2;  // kinetic needs j+2
  t.S[0][0] = 1.0;
  for (int i = 0; i < imax; ++i) t.S[i + 1][0] = PA * t.S[i][0] + (i > 0 ? oo2p * i * t.S[i - 1][0] : 0.0);
  for (int j = 0; j < jtop; ++j)
    for (int i = 0; i <= imax; ++i)
      t.S[i][j + 1] = PB * t.S[i][j] + oo2p * ((i > 0 ? i * t.S[i - 1][j] : 0.0) + (j > 0 ? j * t.S[i][j - 1] : 0.0));
  // -1/2 d^2/dx^2 x^j e^{-b x^2} = [b(2j+1) x^j - 2b^2 x^{j+2} - j(j-1)/2 x^{j-2}] e^{-b x^2}
  for (int i = 0; i <= imax; ++i)
    for (int j = 0; j <= jmax; ++j)
      t.T[i][j] = b * (2 * j + 1) * t.S[i][j] - 2.0 * b * b * t.S[i][j + 2] -
                  (j >= 2 ? 0.5 * j * (j - 1) * t.S[i][j - 2] : 0.0);
}

// Component factors for every (l, k), computed once.
struct FactorTable {
  double f[kMaxL + 1][10];
  FactorTable() {
    for (int l = 0; l <= kMaxL; ++l)
      for (int k = 0; k < (l + 1) * (l + 2) / 2; ++k) f[l][k] = component_factor(l, k);
  }
};
const FactorTable& factors() {
  static const FactorTable table;
  return table;
}

double min_exponent(const Shell& sh) {
  double m = sh.exponents.empty() ? 0.0 : sh.exponents[0];
  for (double e : sh.exponents) m = std::min(m, e);
  return m;
}

// Shared driver: integrals (S, T non-null) and/or bra-centre derivatives (deriv == true).
void compute(const std::vector<Shell>& a, const std::vector<Shell>& b, const Eigen::Vector3d& shift_b, bool deriv,
             Eigen::MatrixXd* S, Eigen::MatrixXd* T, std::array<Eigen::MatrixXd, 3>* dS,
             std::array<Eigen::MatrixXd, 3>* dT) {
  const int na = basis_size(a), nb = basis_size(b);
  const bool values = S != nullptr;
  if (deriv) {
    for (int k = 0; k < 3; ++k) {
      (*dS)[k].setZero(na, nb);
      (*dT)[k].setZero(na, nb);
    }
  }
  if (values) {
    S->setZero(na, nb);
    T->setZero(na, nb);
  }
  for (const Shell& sh : a) check_shell(sh);
  for (const Shell& sh : b) check_shell(sh);
  const auto& fac = factors().f;
  std::vector<double> min_b(b.size());
  for (std::size_t k = 0; k < b.size(); ++k) min_b[k] = min_exponent(b[k]);

  Table1D tab[3];
  int off_a = 0;
  for (const Shell& sa : a) {
    Piece pa[2];
    const int npa = pieces_of(sa, pa);
    const int la_max = pa[npa - 1].l;
    const double min_a = min_exponent(sa);
    int off_b = 0;
    for (std::size_t kb = 0; kb < b.size(); ++kb) {
      const Shell& sb = b[kb];
      const int size_b = shell_size(sb.type);
      const Eigen::Vector3d B = sb.r + shift_b;
      const double r2 = (sa.r - B).squaredNorm();
      // mu = ab/(a+b) grows with either exponent, so the most diffuse pair decides whether any primitive pair
      // survives the screening below; skipping here is exact.
      if (min_a * min_b[kb] / (min_a + min_b[kb]) * r2 > kScreenExponent) {
        off_b += size_b;
        continue;
      }
      Piece pb[2];
      const int npb = pieces_of(sb, pb);
      const int lb_max = pb[npb - 1].l;
      for (std::size_t p = 0; p < sa.exponents.size(); ++p) {
        const double alpha = sa.exponents[p];
        for (std::size_t q = 0; q < sb.exponents.size(); ++q) {
          const double beta = sb.exponents[q];
          const double mu_r2 = alpha * beta / (alpha + beta) * r2;
          if (mu_r2 > kScreenExponent) continue;
          const double pi_p = std::numbers::pi / (alpha + beta);
          const double prefactor = pi_p * std::sqrt(pi_p) * std::exp(-mu_r2);
          // one set of 1D tables serves every piece pair (L shells share exponents)
          for (int d = 0; d < 3; ++d) fill_1d(alpha, beta, sa.r[d], B[d], la_max + (deriv ? 1 : 0), lb_max, tab[d]);
          for (int ia = 0; ia < npa; ++ia)
            for (int ib = 0; ib < npb; ++ib) {
              const int la = pa[ia].l, lb = pb[ib].l;
              const int na_f = (la + 1) * (la + 2) / 2, nb_f = (lb + 1) * (lb + 2) / 2;
              const double cab = prefactor * (*pa[ia].coef)[p] * (*pb[ib].coef)[q];
              for (int fa = 0; fa < na_f; ++fa) {
                const int* ea = kPowers[la][fa];
                const double cfa = cab * fac[la][fa];
                const int row = off_a + pa[ia].offset + fa;
                for (int fb = 0; fb < nb_f; ++fb) {
                  const int* eb = kPowers[lb][fb];
                  const double c = cfa * fac[lb][fb];
                  const int col = off_b + pb[ib].offset + fb;
                  double s1[3], t1[3];
                  for (int d = 0; d < 3; ++d) {
                    s1[d] = tab[d].S[ea[d]][eb[d]];
                    t1[d] = tab[d].T[ea[d]][eb[d]];
                  }
                  if (values) {
                    (*S)(row, col) += c * s1[0] * s1[1] * s1[2];
                    (*T)(row, col) += c * (t1[0] * s1[1] * s1[2] + s1[0] * t1[1] * s1[2] + s1[0] * s1[1] * t1[2]);
                  }
                  if (!deriv) continue;
                  // d/dA of (x-A)^i e^{-alpha (x-A)^2} = 2 alpha (x-A)^{i+1} - i (x-A)^{i-1}
                  for (int d = 0; d < 3; ++d) {
                    const int i = ea[d], j = eb[d];
                    const double ds = 2.0 * alpha * tab[d].S[i + 1][j] - (i > 0 ? i * tab[d].S[i - 1][j] : 0.0);
                    const double dt = 2.0 * alpha * tab[d].T[i + 1][j] - (i > 0 ? i * tab[d].T[i - 1][j] : 0.0);
                    const int d1 = (d + 1) % 3, d2 = (d + 2) % 3;
                    (*dS)[d](row, col) += c * ds * s1[d1] * s1[d2];
                    (*dT)[d](row, col) += c * (dt * s1[d1] * s1[d2] + ds * (t1[d1] * s1[d2] + s1[d1] * t1[d2]));
                  }
                }
              }
            }
        }
      }
      off_b += size_b;
    }
    off_a += shell_size(sa.type);
  }
}

}  // namespace

int shell_size(char type) {
  if (type == 'L') return 4;
  const int l = shell_l(type);
  return (l + 1) * (l + 2) / 2;
}

int basis_size(const std::vector<Shell>& basis) {
  int n = 0;
  for (const Shell& sh : basis) n += shell_size(sh.type);
  return n;
}

std::array<int, 3> cartesian_powers(int l, int k) {
  if (l < 0 || l > kMaxL || k < 0 || k >= (l + 1) * (l + 2) / 2)
    throw InvalidArgument("fragmd: no Cartesian component " + std::to_string(k) + " for l = " + std::to_string(l));
  return {kPowers[l][k][0], kPowers[l][k][1], kPowers[l][k][2]};
}

double cartesian_component_factor(int l, int k) {
  cartesian_powers(l, k);  // range check
  return component_factor(l, k);
}

double axial_primitive_norm(double alpha, int l) {
  // <x^l e^{-a r^2} | x^l e^{-a r^2}> = (pi/2a)^{3/2} (2l-1)!! / (4a)^l
  return std::pow(2.0 * alpha / std::numbers::pi, 0.75) * std::pow(4.0 * alpha, 0.5 * l) /
         std::sqrt(double_factorial_odd(l));
}

void overlap_kinetic(const std::vector<Shell>& a, const std::vector<Shell>& b, const Eigen::Vector3d& shift_b,
                     Eigen::MatrixXd& S, Eigen::MatrixXd& T) {
  compute(a, b, shift_b, false, &S, &T, nullptr, nullptr);
}

void overlap_kinetic_bra_deriv(const std::vector<Shell>& a, const std::vector<Shell>& b,
                               const Eigen::Vector3d& shift_b, std::array<Eigen::MatrixXd, 3>& dS,
                               std::array<Eigen::MatrixXd, 3>& dT) {
  compute(a, b, shift_b, true, nullptr, nullptr, &dS, &dT);
}

void overlap_kinetic_with_bra_deriv(const std::vector<Shell>& a, const std::vector<Shell>& b,
                                    const Eigen::Vector3d& shift_b, Eigen::MatrixXd& S, Eigen::MatrixXd& T,
                                    std::array<Eigen::MatrixXd, 3>& dS, std::array<Eigen::MatrixXd, 3>& dT) {
  compute(a, b, shift_b, true, &S, &T, &dS, &dT);
}

}  // namespace tsunagu::fragmd::detail
