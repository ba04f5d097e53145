// Overlap and kinetic integrals over contracted Cartesian Gaussians (Obara–Saika recursion per Cartesian axis).
#include "integrals.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>
#include <type_traits>

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
// j <= jmax (fill_1d_t<imax, jmax>). The three axes' (0,0) values multiply to (pi/p)^{3/2} exp(-mu R^2), applied
// once by the caller.
struct Table1D {
  double S[kMaxI + 1][kMaxJ + 3];
  double T[kMaxI + 1][kMaxJ + 1];
};

// PA = P - A, PB = P - B, oo2p = 1/(2p), b the ket exponent; jmax + 2 columns of S for the kinetic operator.
template <int IMAX, int JMAX>
inline void fill_1d_t(double b, double PA, double PB, double oo2p, Table1D& t) {
  constexpr int jtop = JMAX + 2;
  t.S[0][0] = 1.0;
#pragma GCC unroll 8
  for (int i = 0; i < IMAX; ++i) t.S[i + 1][0] = PA * t.S[i][0] + (i > 0 ? oo2p * i * t.S[i - 1][0] : 0.0);
#pragma GCC unroll 8
  for (int j = 0; j < jtop; ++j)
#pragma GCC unroll 8
    for (int i = 0; i <= IMAX; ++i)
      t.S[i][j + 1] = PB * t.S[i][j] + oo2p * ((i > 0 ? i * t.S[i - 1][j] : 0.0) + (j > 0 ? j * t.S[i][j - 1] : 0.0));
  // -1/2 d^2/dx^2 x^j e^{-b x^2} = [b(2j+1) x^j - 2b^2 x^{j+2} - j(j-1)/2 x^{j-2}] e^{-b x^2}
#pragma GCC unroll 8
  for (int i = 0; i <= IMAX; ++i)
#pragma GCC unroll 8
    for (int j = 0; j <= JMAX; ++j)
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

// Per-shell data gathered once per call.
struct ShellInfo {
  Piece piece[2];
  int npieces, lmax, size, offset;
  double min_exp, inv_min_exp;
};

void gather(const std::vector<Shell>& basis, std::vector<ShellInfo>& info) {
  info.resize(basis.size());
  int off = 0;
  for (std::size_t k = 0; k < basis.size(); ++k) {
    const Shell& sh = basis[k];
    check_shell(sh);
    ShellInfo& s = info[k];
    s.npieces = pieces_of(sh, s.piece);
    s.lmax = s.piece[s.npieces - 1].l;
    s.size = shell_size(sh.type);
    s.offset = off;
    s.min_exp = min_exponent(sh);
    s.inv_min_exp = 1.0 / s.min_exp;
    off += s.size;
  }
}

using DTable = double[3][kMaxL + 1][kMaxJ + 1];

// Accumulate one primitive pair of an (LA, LB) piece pair into a block (quantity stride nn, row stride nb), all
// Cartesian powers known at compile time.
// SET: the first primitive pair of the block assigns instead of accumulating (saves zeroing the block).
template <int LA, int LB, bool D, bool SET>
void piece_kernel(const Table1D* tab, const DTable& DS, const DTable& DT, double c, double* out, int nn, int nb) {
  constexpr int NA = (LA + 1) * (LA + 2) / 2, NB = (LB + 1) * (LB + 2) / 2;
  auto put = [](double& o, double v) {
    if constexpr (SET)
      o = v;
    else
      o += v;
  };
#pragma GCC unroll 10
  for (int fa = 0; fa < NA; ++fa) {
    const int ax = kPowers[LA][fa][0], ay = kPowers[LA][fa][1], az = kPowers[LA][fa][2];
#pragma GCC unroll 10
    for (int fb = 0; fb < NB; ++fb) {
      const int bx = kPowers[LB][fb][0], by = kPowers[LB][fb][1], bz = kPowers[LB][fb][2];
      const int idx = fa * nb + fb;
      const double sx = tab[0].S[ax][bx], sy = tab[1].S[ay][by], sz = tab[2].S[az][bz];
      const double tx = tab[0].T[ax][bx], ty = tab[1].T[ay][by], tz = tab[2].T[az][bz];
      const double syz = sy * sz, sxz = sx * sz, sxy = sx * sy;
      put(out[idx], c * sx * syz);
      put(out[nn + idx], c * (tx * syz + sx * (ty * sz + sy * tz)));
      if constexpr (D) {
        const double dsx = DS[0][ax][bx], dsy = DS[1][ay][by], dsz = DS[2][az][bz];
        const double dtx = DT[0][ax][bx], dty = DT[1][ay][by], dtz = DT[2][az][bz];
        put(out[2 * nn + idx], c * dsx * syz);
        put(out[3 * nn + idx], c * dsy * sxz);
        put(out[4 * nn + idx], c * dsz * sxy);
        put(out[5 * nn + idx], c * (dtx * syz + dsx * (ty * sz + sy * tz)));
        put(out[6 * nn + idx], c * (dty * sxz + dsy * (tx * sz + sx * tz)));
        put(out[7 * nn + idx], c * (dtz * sxy + dsz * (tx * sy + sx * ty)));
      }
    }
  }
}

// One shell pair: accumulate the nq = 2 (S, T) or 8 (+ dS_xyz, dT_xyz) quantities of the block, each na x nb
// row-major, into blk (zeroed here).
template <int LA, int LB, bool deriv>
void shell_pair_t(const Shell& sa, const ShellInfo& ia, const Shell& sb, const ShellInfo& ib, const double B[3],
                  double r2, double* blk) {
  const int na = ia.size, nb = ib.size, nn = na * nb;
  constexpr int nq = deriv ? 8 : 2;
  bool first = true;  // the pieces of the first surviving primitive pair cover the whole block: they assign
  const double A[3] = {sa.r[0], sa.r[1], sa.r[2]};
  Table1D tab[3];
  DTable DS, DT;
  const std::size_t npa = sa.exponents.size(), npb = sb.exponents.size();
  for (std::size_t p = 0; p < npa; ++p) {
    const double alpha = sa.exponents[p];
    for (std::size_t q = 0; q < npb; ++q) {
      const double beta = sb.exponents[q];
      const double inv_p = 1.0 / (alpha + beta);
      const double mu_r2 = alpha * beta * inv_p * r2;
      if (mu_r2 > kScreenExponent) continue;
      const double pi_p = std::numbers::pi * inv_p;
      const double prefactor = pi_p * std::sqrt(pi_p) * std::exp(-mu_r2);
      for (int d = 0; d < 3; ++d) {
        const double AB = B[d] - A[d];  // P - A = beta/p (B - A), P - B = -alpha/p (B - A)
        fill_1d_t<LA + (deriv ? 1 : 0), LB>(beta, beta * inv_p * AB, -alpha * inv_p * AB, 0.5 * inv_p, tab[d]);
      }
      if constexpr (deriv) {
        // d/dA of (x-A)^i e^{-alpha (x-A)^2} = 2 alpha (x-A)^{i+1} - i (x-A)^{i-1}
        const double a2 = 2.0 * alpha;
        for (int d = 0; d < 3; ++d)
#pragma GCC unroll 4
          for (int i = 0; i <= LA; ++i)
#pragma GCC unroll 4
            for (int j = 0; j <= LB; ++j) {
              DS[d][i][j] = a2 * tab[d].S[i + 1][j] - (i > 0 ? i * tab[d].S[i - 1][j] : 0.0);
              DT[d][i][j] = a2 * tab[d].T[i + 1][j] - (i > 0 ? i * tab[d].T[i - 1][j] : 0.0);
            }
      }
      for (int pa = 0; pa < ia.npieces; ++pa)
        for (int pb = 0; pb < ib.npieces; ++pb) {
          const int la = ia.piece[pa].l, lb = ib.piece[pb].l;
          const double c = prefactor * (*ia.piece[pa].coef)[p] * (*ib.piece[pb].coef)[q];
          const int start = ia.piece[pa].offset * nb + ib.piece[pb].offset;
          // a piece has l = the shell's lmax, or 0 (the s part of an L shell): dispatch at compile time
          auto run = [&](auto la_c, auto lb_c) {
            constexpr int kla = decltype(la_c)::value, klb = decltype(lb_c)::value;
            if (first)
              piece_kernel<kla, klb, deriv, true>(tab, DS, DT, c, blk + start, nn, nb);
            else
              piece_kernel<kla, klb, deriv, false>(tab, DS, DT, c, blk + start, nn, nb);
          };
          using LA_c = std::integral_constant<int, LA>;
          using LB_c = std::integral_constant<int, LB>;
          using Z_c = std::integral_constant<int, 0>;
          if (la == LA) {
            if (lb == LB)
              run(LA_c{}, LB_c{});
            else
              run(LA_c{}, Z_c{});
          } else {
            if (lb == LB)
              run(Z_c{}, LB_c{});
            else
              run(Z_c{}, Z_c{});
          }
        }
      first = false;
    }
  }
  if (first) std::fill(blk, blk + nq * nn, 0.0);  // every primitive pair screened out (not reached in practice)
  // component factors (1 for s and p; sqrt 3, sqrt 5, sqrt 15 for the mixed d/f components)
  const auto& fac = factors().f;
  if constexpr (LA < 2 && LB < 2) return;
  double fa_[10], fb_[10];
  for (int pa = 0; pa < ia.npieces; ++pa) {
    const int l = ia.piece[pa].l;
    for (int k = 0; k < (l + 1) * (l + 2) / 2; ++k) fa_[ia.piece[pa].offset + k] = fac[l][k];
  }
  for (int pb = 0; pb < ib.npieces; ++pb) {
    const int l = ib.piece[pb].l;
    for (int k = 0; k < (l + 1) * (l + 2) / 2; ++k) fb_[ib.piece[pb].offset + k] = fac[l][k];
  }
  for (int q = 0; q < nq; ++q)
    for (int i = 0; i < na; ++i)
      for (int j = 0; j < nb; ++j) blk[q * nn + i * nb + j] *= fa_[i] * fb_[j];
}

using ShellPairFn = void (*)(const Shell&, const ShellInfo&, const Shell&, const ShellInfo&, const double*, double,
                             double*);
template <bool D>
constexpr ShellPairFn kShellPair[16] = {
    shell_pair_t<0, 0, D>, shell_pair_t<0, 1, D>, shell_pair_t<0, 2, D>, shell_pair_t<0, 3, D>,
    shell_pair_t<1, 0, D>, shell_pair_t<1, 1, D>, shell_pair_t<1, 2, D>, shell_pair_t<1, 3, D>,
    shell_pair_t<2, 0, D>, shell_pair_t<2, 1, D>, shell_pair_t<2, 2, D>, shell_pair_t<2, 3, D>,
    shell_pair_t<3, 0, D>, shell_pair_t<3, 1, D>, shell_pair_t<3, 2, D>, shell_pair_t<3, 3, D>,
};

void shell_pair(const Shell& sa, const ShellInfo& ia, const Shell& sb, const ShellInfo& ib, const double B[3],
                double r2, bool deriv, double* blk) {
  const int k = ia.lmax * 4 + ib.lmax;
  if (deriv)
    kShellPair<true>[k](sa, ia, sb, ib, B, r2, blk);
  else
    kShellPair<false>[k](sa, ia, sb, ib, B, r2, blk);
}

// Shared driver: integrals (S, T non-null) and/or bra-centre derivatives (deriv == true), scattered into matrices.
void compute(const std::vector<Shell>& a, const std::vector<Shell>& b, const Eigen::Vector3d& shift_b, bool deriv,
             Eigen::MatrixXd* S, Eigen::MatrixXd* T, std::array<Eigen::MatrixXd, 3>* dS,
             std::array<Eigen::MatrixXd, 3>* dT) {
  PairIntegrals ints;
  overlap_kinetic_blocks(a, b, shift_b, deriv, ints);
  const int na = ints.n_ao_a, nb = ints.n_ao_b;
  if (deriv)
    for (int k = 0; k < 3; ++k) {
      (*dS)[k].setZero(na, nb);
      (*dT)[k].setZero(na, nb);
    }
  if (S != nullptr) {
    S->setZero(na, nb);
    T->setZero(na, nb);
  }
  for (const ShellPairBlock& blk : ints.blocks) {
    for (int i = 0; i < blk.na; ++i)
      for (int j = 0; j < blk.nb; ++j) {
        const int e = i * blk.nb + j, r = blk.off_a + i, c = blk.off_b + j;
        if (S != nullptr) {
          (*S)(r, c) = ints.quantity(blk, 0)[e];
          (*T)(r, c) = ints.quantity(blk, 1)[e];
        }
        if (deriv)
          for (int k = 0; k < 3; ++k) {
            (*dS)[k](r, c) = ints.quantity(blk, 2 + k)[e];
            (*dT)[k](r, c) = ints.quantity(blk, 5 + k)[e];
          }
      }
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

void overlap_kinetic_blocks(const std::vector<Shell>& a, const std::vector<Shell>& b, const Eigen::Vector3d& shift_b,
                            bool deriv, PairIntegrals& out) {
  thread_local std::vector<ShellInfo> info_a, info_b;
  gather(a, info_a);
  gather(b, info_b);
  out.n_ao_a = info_a.empty() ? 0 : info_a.back().offset + info_a.back().size;
  out.n_ao_b = info_b.empty() ? 0 : info_b.back().offset + info_b.back().size;
  out.deriv = deriv;
  out.blocks.clear();
  const int nq = deriv ? 8 : 2;
  const std::size_t need = static_cast<std::size_t>(nq) * out.n_ao_a * out.n_ao_b;
  if (out.data.size() < need) out.data.resize(need);
  std::size_t pos = 0;
  for (std::size_t ka = 0; ka < a.size(); ++ka) {
    const Shell& sa = a[ka];
    const ShellInfo& ia = info_a[ka];
    for (std::size_t kb = 0; kb < b.size(); ++kb) {
      const Shell& sb = b[kb];
      const ShellInfo& ib = info_b[kb];
      const double B[3] = {sb.r[0] + shift_b[0], sb.r[1] + shift_b[1], sb.r[2] + shift_b[2]};
      const double dx = sa.r[0] - B[0], dy = sa.r[1] - B[1], dz = sa.r[2] - B[2];
      const double r2 = dx * dx + dy * dy + dz * dz;
      // mu = ab/(a+b) grows with either exponent, so the most diffuse pair decides whether any primitive pair
      // survives the primitive screening; skipping here is exact.
      // (mu_min = 1 / (1/a_min + 1/b_min), so mu_min r2 > k  <=>  r2 > k (1/a_min + 1/b_min))
      if (r2 > kScreenExponent * (ia.inv_min_exp + ib.inv_min_exp)) continue;
      shell_pair(sa, ia, sb, ib, B, r2, deriv, out.data.data() + pos);
      out.blocks.push_back({static_cast<int>(ka), static_cast<int>(kb), ia.offset, ib.offset, ia.size, ib.size, pos});
      pos += static_cast<std::size_t>(nq) * ia.size * ib.size;
    }
  }
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
