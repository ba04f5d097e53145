// EFP2 exchange–repulsion (Jensen & Gordon 1996, spherical-Gaussian overlap approximation), the overlap-based
// charge-penetration energy, their rigid-body gradients, and rotation of the LMO coefficients.
//
// Pair energy, with S, T the LMO overlap and kinetic integrals between LMO i of A and j of B, F the fragments'
// Fock matrices in the LMO basis, R_ij the centroid distance (all atomic units):
//   E_xr = 2 sum_ij [ -2 sqrt(-2 ln|S_ij| / pi) S_ij^2 / R_ij                 (only if |S_ij| > 1e-7)
//                     - S_ij (F^A S)_ij - S_ij (S F^B)_ij + 2 S_ij T_ij
//                     + S_ij^2 (u_i + w_j - 1/R_ij) ]
//   u_i = sum_{J in B} -Z_J / r_iJ + sum_{l in B} 2 / r_il   (potential of B's valence nuclei and LMOs at centroid i)
//   w_j = sum_{I in A} -Z_I / r_Ij + sum_{k in A} 2 / r_kj
//   E_cp = sum_ij -S_ij^2 / (R_ij sqrt(-2 ln|S_ij|))                         (only if |S_ij| >= 1e-7)
// This is the formula of libefp (xr.c). Z_I are valence charges of the projection-basis atoms; the contract's
// FragmentType does not keep those, so they are derived from Fragment::atoms' nuclear charges (valence_charge), which
// reproduces the files' PROJECTION BASIS charges for every library fragment.
//
// For the gradient the point-charge-like terms are regrouped as sum over (point of A, point of B) of c_pq / r_pq
// with coefficients fixed by S, which makes dE/dS and the geometric derivatives separate and simple.
#include <array>
#include <cmath>
#include <numbers>
#include <string>
#include <type_traits>
#include <vector>

#include <Eigen/Dense>

#include "integrals.hpp"
#include "tsunagu/core/error.hpp"
#include "tsunagu/fragmd/terms.hpp"
#include "xr_grad.hpp"

namespace tsunagu::fragmd {

namespace {

// |S_ij| below this contributes no exponential term and no charge penetration (libefp's INTEGRAL_THRESHOLD).
constexpr double kOverlapThreshold = 1.0e-7;

// Valence charge of an atom with nuclear charge z: what MAKEFP writes in the PROJECTION BASIS atom lines (core
// orbitals are projected out). Exact for H–Ar (all fragments of the shipped library); the core counts beyond Ar
// follow GAMESS's usual frozen-core shells.
double valence_charge(double z) {
  static constexpr double kCore[][2] = {{2, 0}, {10, 2}, {18, 10}, {30, 18}, {36, 28}, {48, 36}, {54, 46},
                                        {80, 54}, {86, 78}};
  for (const auto& c : kCore)
    if (z <= c[0] + 0.5) return z - c[1];
  return z - 78;
}

void check_fragment(const Fragment& f, const char* which) {
  const std::string name = std::string("fragment ") + which;
  if (f.type == nullptr) throw InvalidArgument("xr_pair: " + name + " has no fragment type");
  const int n_lmo = static_cast<int>(f.wavefunction.rows());
  if (n_lmo == 0 || f.basis.empty())
    throw InvalidArgument("xr_pair: " + name + " (" + f.type->name +
                          ") has no projection basis / wavefunction (exchange-repulsion parameters)");
  if (f.wavefunction.cols() != detail::basis_size(f.basis))
    throw InvalidArgument("xr_pair: " + name + " (" + f.type->name + ") wavefunction has " +
                          std::to_string(f.wavefunction.cols()) + " coefficients per LMO but the basis has " +
                          std::to_string(detail::basis_size(f.basis)) + " functions");
  if (static_cast<int>(f.lmo_centroids.size()) != n_lmo)
    throw InvalidArgument("xr_pair: " + name + " (" + f.type->name + ") has " +
                          std::to_string(f.lmo_centroids.size()) + " LMO centroids for " + std::to_string(n_lmo) +
                          " LMOs");
  if (f.type->fock.rows() != n_lmo || f.type->fock.cols() != n_lmo)
    throw InvalidArgument("xr_pair: " + name + " (" + f.type->name + ") Fock matrix is not " +
                          std::to_string(n_lmo) + " x " + std::to_string(n_lmo));
}

// ---- Cartesian blocks of the LMO coefficients -------------------------------------------------------------------
//
// A shell's part of an orbital, sum_k c_k g_k N x^{p_k} (g_k = cartesian_component_factor), equals the symmetric
// tensor contraction M_{a1..al} x_a1 .. x_al with M at any index ordering of component k equal to
// c_k g_k / multinomial(p_k). Rotating the orbital rotates M in every slot.

int ipow3(int l) { return l == 0 ? 1 : 3 * ipow3(l - 1); }

// Component (GAMESS order) of a flat tensor index t over l slots.
int component_of(int l, int t) {
  int p[3] = {0, 0, 0};
  for (int m = 0; m < l; ++m, t /= 3) ++p[t % 3];
  const int n = (l + 1) * (l + 2) / 2;
  for (int k = 0; k < n; ++k) {
    const auto q = detail::cartesian_powers(l, k);
    if (q[0] == p[0] && q[1] == p[1] && q[2] == p[2]) return k;
  }
  return -1;  // unreachable
}

double multinomial(int l, int k) {
  static constexpr double fact[] = {1, 1, 2, 6};
  const auto p = detail::cartesian_powers(l, k);
  return fact[l] / (fact[p[0]] * fact[p[1]] * fact[p[2]]);
}

// out = block of coefficients transformed by R in every slot (generator == false) or the derivative
// sum_m (G in slot m) (generator == true, G an infinitesimal rotation generator).
void transform_block(int l, const Eigen::Matrix3d& A, bool generator, const double* in, double* out) {
  const int n = (l + 1) * (l + 2) / 2, size = ipow3(l);
  double M[27], Mp[27];
  for (int t = 0; t < size; ++t) {
    const int k = component_of(l, t);
    M[t] = in[k] * detail::cartesian_component_factor(l, k) / multinomial(l, k);
  }
  for (int t = 0; t < size; ++t) {
    int dig[3] = {t % 3, (t / 3) % 3, (t / 9) % 3};
    double sum = 0.0;
    if (!generator) {
      for (int s = 0; s < size; ++s) {
        double w = 1.0;
        for (int m = 0, ss = s; m < l; ++m, ss /= 3) w *= A(dig[m], ss % 3);
        sum += w * M[s];
      }
    } else {
      int pw = 1;
      for (int m = 0; m < l; ++m, pw *= 3)
        for (int c = 0; c < 3; ++c) sum += A(dig[m], c) * M[t + (c - dig[m]) * pw];
    }
    Mp[t] = sum;
  }
  for (int k = 0; k < n; ++k) {
    // index with powers p_k: px slots of 0, then py of 1, then pz of 2
    const auto p = detail::cartesian_powers(l, k);
    int t = 0, pw = 1;
    for (int d = 0; d < 3; ++d)
      for (int r = 0; r < p[d]; ++r, pw *= 3) t += d * pw;
    out[k] = Mp[t] * multinomial(l, k) / detail::cartesian_component_factor(l, k);
  }
}

// Matrix of transform_block on the (l+1)(l+2)/2 coefficients of one shell (columns = images of unit vectors).
Eigen::MatrixXd block_matrix(int l, const Eigen::Matrix3d& A, bool generator) {
  const int n = (l + 1) * (l + 2) / 2;
  Eigen::MatrixXd W(n, n);
  Eigen::VectorXd e(n), img(n);
  for (int k = 0; k < n; ++k) {
    e.setZero();
    e[k] = 1.0;
    transform_block(l, A, generator, e.data(), img.data());
    W.col(k) = img;
  }
  return W;
}

using BlockMatrices = std::array<Eigen::MatrixXd, 4>;  // l = 0..3

BlockMatrices block_matrices(const Eigen::Matrix3d& A, bool generator) {
  return {block_matrix(0, A, generator), block_matrix(1, A, generator), block_matrix(2, A, generator),
          block_matrix(3, A, generator)};
}

// Apply block matrices shell by shell to every LMO (rows of C): the s part of S and L shells is invariant (zero for
// a generator), p/d/f blocks go through W[l].
Eigen::MatrixXd transform_wavefunction(const std::vector<Shell>& basis, const Eigen::MatrixXd& C,
                                       const BlockMatrices& W) {
  Eigen::MatrixXd out(C.rows(), C.cols());
  Eigen::Index f = 0;
  for (const Shell& sh : basis) {
    int l = 0;
    switch (sh.type) {
      case 'S': l = 0; break;
      case 'L':  // s part, then a p block
        out.col(f) = W[0](0, 0) * C.col(f);
        ++f;
        l = 1;
        break;
      case 'P': l = 1; break;
      case 'D': l = 2; break;
      case 'F': l = 3; break;
      default: throw InvalidArgument(std::string("fragmd: unsupported shell type '") + sh.type + "'");
    }
    const Eigen::Index n = (l + 1) * (l + 2) / 2;
    out.middleCols(f, n) = C.middleCols(f, n) * W[l].transpose();
    f += n;
  }
  return out;
}

Eigen::Matrix3d generator(int axis) {  // G v = e_axis x v
  Eigen::Matrix3d G = Eigen::Matrix3d::Zero();
  const int i = (axis + 1) % 3, j = (axis + 2) % 3;
  G(j, i) = 1.0;
  G(i, j) = -1.0;
  return G;
}

// The generator blocks do not depend on the fragment: build them once (thread-safe static initialisation).
const BlockMatrices& generator_blocks(int axis) {
  static const std::array<BlockMatrices, 3> table = {block_matrices(generator(0), true),
                                                     block_matrices(generator(1), true),
                                                     block_matrices(generator(2), true)};
  return table[axis];
}

// ---- pair energy ------------------------------------------------------------------------------------------------

struct Charge {
  Eigen::Vector3d r;
  double q;
};

// The first (exponential) term per LMO pair without 1/R, and its S-derivative.
double f_exp(double s) {
  if (std::abs(s) <= kOverlapThreshold) return 0.0;
  return -2.0 * std::sqrt(-2.0 * std::log(std::abs(s)) / std::numbers::pi) * s * s;
}
double df_exp(double s) {
  if (std::abs(s) <= kOverlapThreshold) return 0.0;
  const double L = -std::log(std::abs(s));
  return -2.0 * std::sqrt(2.0 / std::numbers::pi) * (2.0 * s * std::sqrt(L) - s / (2.0 * std::sqrt(L)));
}
// Charge penetration per LMO pair without 1/R, and its S-derivative.
double f_cp(double s) {
  if (std::abs(s) < kOverlapThreshold) return 0.0;
  return -s * s / std::sqrt(-2.0 * std::log(std::abs(s)));
}
double df_cp(double s) {
  if (std::abs(s) < kOverlapThreshold) return 0.0;
  const double L2 = -2.0 * std::log(std::abs(s));
  return -(2.0 * s / std::sqrt(L2) + s / (L2 * std::sqrt(L2)));
}

// Everything the energy and the gradient share.
struct PairData {
  Eigen::MatrixXd S, T;
  std::vector<Eigen::Vector3d> ct_a, ct_b;  // centroids (b shifted)
  std::vector<Charge> nuc_a, nuc_b;         // valence nuclei (b shifted)
  Eigen::MatrixXd R;                        // centroid distances
  // Point-pair coefficients (E_geo = sum c / r): centroid-centroid, A-centroid/B-nucleus, A-nucleus/B-centroid.
  Eigen::MatrixXd c_cc, c_cn, c_nc, cp_cc;
  double e_xr = 0.0, e_cp = 0.0;
};

// Energies from the LMO integrals already in d.S, d.T (fragments checked by the caller).
void compute_pair(const Fragment& a, const Fragment& b, const Eigen::Vector3d& shift_b, PairData& d) {
  const Eigen::Index na = d.S.rows(), nb = d.S.cols();

  d.ct_a = a.lmo_centroids;
  for (const auto& c : b.lmo_centroids) d.ct_b.push_back(c + shift_b);
  for (const auto& at : a.atoms) d.nuc_a.push_back({at.r, valence_charge(at.znuc)});
  for (const auto& at : b.atoms) d.nuc_b.push_back({at.r + shift_b, valence_charge(at.znuc)});

  d.R.resize(na, nb);
  for (Eigen::Index i = 0; i < na; ++i)
    for (Eigen::Index j = 0; j < nb; ++j) d.R(i, j) = (d.ct_b[j] - d.ct_a[i]).norm();

  const Eigen::MatrixXd S2 = d.S.cwiseProduct(d.S);
  const Eigen::VectorXd rho = 2.0 * S2.rowwise().sum();     // 2 sum_j S_ij^2
  const Eigen::VectorXd sigma = 2.0 * S2.colwise().sum().transpose();  // 2 sum_i S_ij^2

  d.c_cc.resize(na, nb);
  d.cp_cc.resize(na, nb);
  for (Eigen::Index i = 0; i < na; ++i)
    for (Eigen::Index j = 0; j < nb; ++j) {
      const double s = d.S(i, j);
      d.c_cc(i, j) = 2.0 * (f_exp(s) - s * s) + 2.0 * rho[i] + 2.0 * sigma[j];
      d.cp_cc(i, j) = f_cp(s);
    }
  d.c_cn.resize(na, static_cast<Eigen::Index>(d.nuc_b.size()));
  for (Eigen::Index i = 0; i < na; ++i)
    for (std::size_t J = 0; J < d.nuc_b.size(); ++J) d.c_cn(i, J) = -rho[i] * d.nuc_b[J].q;
  d.c_nc.resize(static_cast<Eigen::Index>(d.nuc_a.size()), nb);
  for (std::size_t I = 0; I < d.nuc_a.size(); ++I)
    for (Eigen::Index j = 0; j < nb; ++j) d.c_nc(I, j) = -d.nuc_a[I].q * sigma[j];

  // Fock and kinetic part
  const Eigen::MatrixXd& Fa = a.type->fock;
  const Eigen::MatrixXd& Fb = b.type->fock;
  double e = 2.0 * (-d.S.cwiseProduct(Fa * d.S).sum() - d.S.cwiseProduct(d.S * Fb).sum() +
                    2.0 * d.S.cwiseProduct(d.T).sum());
  // point-pair part
  double ecp = 0.0;
  for (Eigen::Index i = 0; i < na; ++i)
    for (Eigen::Index j = 0; j < nb; ++j) {
      e += d.c_cc(i, j) / d.R(i, j);
      ecp += d.cp_cc(i, j) / d.R(i, j);
    }
  for (Eigen::Index i = 0; i < na; ++i)
    for (std::size_t J = 0; J < d.nuc_b.size(); ++J) e += d.c_cn(i, J) / (d.nuc_b[J].r - d.ct_a[i]).norm();
  for (std::size_t I = 0; I < d.nuc_a.size(); ++I)
    for (Eigen::Index j = 0; j < nb; ++j) e += d.c_nc(I, j) / (d.ct_b[j] - d.nuc_a[I].r).norm();
  d.e_xr = e;
  d.e_cp = ecp;
}

using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Per-thread scratch reused from pair to pair (the driver calls xr_pair / xr_pair_gradient from several threads).
struct XrWork {
  detail::PairIntegrals ints;
  // X[q] = Q_q Cb^T (n_ao_a x n_lmo_b) for the AO quantities Q_0 = S, Q_1 = T and, for the gradient,
  // Q_2..4 = dS/dA_xyz, Q_5..7 = dT/dA_xyz: the ket side of every LMO-basis quantity (Ca X[q]).
  std::array<RowMatrix, 8> X;
  RowMatrix CaG, CaH, CaC;  // Ca^T (dE/dS), Ca^T (dE/dT), Ca^T (dEcp/dS)   (n_ao_a x n_lmo_b)
  RowMatrix D;  // one LMO-overlap derivative's ket side (n_ao_a x n_lmo_b)
  std::vector<double> acc;
};
XrWork& work() {
  thread_local XrWork w;
  return w;
}

// X[q](off_a + fa, :) += sum_fb Q_q(fa, fb) Cb(:, off_b + fb) for one block; NLB = n_lmo(b) when known at compile
// time (0: runtime nlb).
template <int NQ, int NLB>
void contract_block(const detail::PairIntegrals& ints, const detail::ShellPairBlock& blk, const double* Cb, int nlbrt,
                    std::array<RowMatrix, 8>& X, double* acc_heap) {
  const int nn = blk.na * blk.nb;
  const double* Q = ints.quantity(blk, 0);
  if constexpr (NLB > 0) {
    using Vec = Eigen::Matrix<double, NLB, 1>;
    for (int fa = 0; fa < blk.na; ++fa) {
      Vec acc[NQ];
      for (int q = 0; q < NQ; ++q) acc[q].setZero();
      for (int fb = 0; fb < blk.nb; ++fb) {
        const Vec c = Eigen::Map<const Vec>(Cb + static_cast<std::ptrdiff_t>(blk.off_b + fb) * NLB);
        const int e = fa * blk.nb + fb;
#pragma GCC unroll 8
        for (int q = 0; q < NQ; ++q) acc[q] += Q[q * nn + e] * c;
      }
      for (int q = 0; q < NQ; ++q)
        Eigen::Map<Vec>(X[q].data() + static_cast<std::ptrdiff_t>(blk.off_a + fa) * NLB) += acc[q];
    }
  } else {
    const int nlb = nlbrt;
    double* acc = acc_heap;
    for (int fa = 0; fa < blk.na; ++fa) {
      for (int j = 0; j < NQ * nlb; ++j) acc[j] = 0.0;
      for (int fb = 0; fb < blk.nb; ++fb) {
        const double* c = Cb + static_cast<std::ptrdiff_t>(blk.off_b + fb) * nlb;
        const int e = fa * blk.nb + fb;
        for (int q = 0; q < NQ; ++q) {
          const double v = Q[q * nn + e];
          for (int j = 0; j < nlb; ++j) acc[q * nlb + j] += v * c[j];
        }
      }
      for (int q = 0; q < NQ; ++q) {
        double* xq = X[q].data() + static_cast<std::ptrdiff_t>(blk.off_a + fa) * nlb;
        for (int j = 0; j < nlb; ++j) xq[j] += acc[q * nlb + j];
      }
    }
  }
}

template <int NQ>
void contract_blocks(const detail::PairIntegrals& ints, const double* Cb, int nlb, std::array<RowMatrix, 8>& X,
                     double* acc) {
  auto run = [&](auto nlbc) {
    for (const detail::ShellPairBlock& blk : ints.blocks)
      contract_block<NQ, decltype(nlbc)::value>(ints, blk, Cb, nlb, X, acc);
  };
  switch (nlb) {
    case 1: run(std::integral_constant<int, 1>{}); break;
    case 2: run(std::integral_constant<int, 2>{}); break;
    case 3: run(std::integral_constant<int, 3>{}); break;
    case 4: run(std::integral_constant<int, 4>{}); break;
    case 5: run(std::integral_constant<int, 5>{}); break;
    case 6: run(std::integral_constant<int, 6>{}); break;
    case 7: run(std::integral_constant<int, 7>{}); break;
    case 8: run(std::integral_constant<int, 8>{}); break;
    default: run(std::integral_constant<int, 0>{}); break;
  }
}

// Contract every shell-pair block of w.ints with Cb on the ket side (w.X), then S = Ca X[0], T = Ca X[1].
void lmo_integrals(const Fragment& a, const Fragment& b, XrWork& w, PairData& d) {
  const int nlb = static_cast<int>(b.wavefunction.rows());
  const int n_ao_a = w.ints.n_ao_a;
  const int nq = w.ints.deriv ? 8 : 2;
  for (int q = 0; q < nq; ++q) w.X[q].setZero(n_ao_a, nlb);
  w.acc.resize(8 * static_cast<std::size_t>(nlb));
  if (w.ints.deriv)
    contract_blocks<8>(w.ints, b.wavefunction.data(), nlb, w.X, w.acc.data());
  else
    contract_blocks<2>(w.ints, b.wavefunction.data(), nlb, w.X, w.acc.data());
  d.S.noalias() = a.wavefunction.lazyProduct(w.X[0]);
  d.T.noalias() = a.wavefunction.lazyProduct(w.X[1]);
}

// d(c / |p - q|)/dp
Eigen::Vector3d coulomb_grad(double c, const Eigen::Vector3d& p, const Eigen::Vector3d& q) {
  const Eigen::Vector3d d = p - q;
  const double r = d.norm();
  return -c / (r * r * r) * d;
}

}  // namespace

Eigen::MatrixXd rotate_wavefunction(const FragmentType& type, const Eigen::Matrix3d& R) {
  if (type.wavefunction.size() == 0) return type.wavefunction;
  if (type.wavefunction.cols() != detail::basis_size(type.basis))
    throw InvalidArgument("rotate_wavefunction: " + type.name + " wavefunction has " +
                          std::to_string(type.wavefunction.cols()) + " coefficients per LMO but the basis has " +
                          std::to_string(detail::basis_size(type.basis)) + " functions");
  return transform_wavefunction(type.basis, type.wavefunction, block_matrices(R, false));
}

Eigen::MatrixXd wavefunction_rotation_derivative(const Fragment& f, int axis) {
  if (axis < 0 || axis > 2) throw InvalidArgument("wavefunction_rotation_derivative: axis must be 0, 1 or 2");
  return transform_wavefunction(f.basis, f.wavefunction, generator_blocks(axis));
}

XrPair xr_pair(const Fragment& a, const Fragment& b, const Eigen::Vector3d& shift_b) {
  check_fragment(a, "a");
  check_fragment(b, "b");
  XrWork& w = work();
  PairData d;
  detail::overlap_kinetic_blocks(a.basis, b.basis, shift_b, false, w.ints);
  lmo_integrals(a, b, w, d);
  compute_pair(a, b, shift_b, d);
  XrPair out;
  out.exchange_repulsion = d.e_xr;
  out.charge_penetration = d.e_cp;
  out.lmo_overlap = std::move(d.S);
  return out;
}

XrPairGradient xr_pair_gradient(const Fragment& a, const Fragment& b, const Eigen::Vector3d& shift_b) {
  return xr_pair_gradient(a, b, shift_b, true);
}

XrPairGradient xr_pair_gradient(const Fragment& a, const Fragment& b, const Eigen::Vector3d& shift_b,
                                bool overlap_derivatives) {
  check_fragment(a, "a");
  check_fragment(b, "b");
  XrWork& work_ = work();
  PairData d;
  detail::overlap_kinetic_blocks(a.basis, b.basis, shift_b, true, work_.ints);
  lmo_integrals(a, b, work_, d);
  compute_pair(a, b, shift_b, d);
  const Eigen::Index na = d.S.rows(), nb = d.S.cols();
  const Eigen::Vector3d com_a = a.com, com_b = b.com + shift_b;

  // dE/dS and dE/dT (with the point-pair coefficients' own S-dependence)
  const Eigen::MatrixXd& Fa = a.type->fock;
  const Eigen::MatrixXd& Fb = b.type->fock;
  Eigen::VectorXd u = Eigen::VectorXd::Zero(na), w = Eigen::VectorXd::Zero(nb);  // u_i, w_j
  for (Eigen::Index i = 0; i < na; ++i) {
    for (const auto& n : d.nuc_b) u(i) -= n.q / (n.r - d.ct_a[i]).norm();
    for (Eigen::Index l = 0; l < nb; ++l) u(i) += 2.0 / d.R(i, l);
  }
  for (Eigen::Index j = 0; j < nb; ++j) {
    for (const auto& n : d.nuc_a) w(j) -= n.q / (d.ct_b[j] - n.r).norm();
    for (Eigen::Index k = 0; k < na; ++k) w(j) += 2.0 / d.R(k, j);
  }
  Eigen::MatrixXd G(na, nb);
  G.noalias() = -4.0 * Fa.lazyProduct(d.S);
  G.noalias() -= 4.0 * d.S.lazyProduct(Fb);
  G += 4.0 * d.T;
  Eigen::MatrixXd Gcp(na, nb);
  for (Eigen::Index i = 0; i < na; ++i)
    for (Eigen::Index j = 0; j < nb; ++j) {
      const double s = d.S(i, j), R = d.R(i, j);
      G(i, j) += 2.0 * (df_exp(s) / R + 2.0 * s * (u(i) + w(j) - 1.0 / R));
      Gcp(i, j) = df_cp(s) / R;
    }
  const Eigen::MatrixXd H = 4.0 * d.S;  // dE/dT

  // Geometric gradient (S fixed) on A's points; collect force-like sums for translation and torque about com_a.
  Eigen::Vector3d gx = Eigen::Vector3d::Zero(), gr = Eigen::Vector3d::Zero();
  Eigen::Vector3d cx = Eigen::Vector3d::Zero(), cr = Eigen::Vector3d::Zero();
  for (Eigen::Index i = 0; i < na; ++i) {
    Eigen::Vector3d gi = Eigen::Vector3d::Zero(), ci = Eigen::Vector3d::Zero();
    for (Eigen::Index j = 0; j < nb; ++j) {
      gi += coulomb_grad(d.c_cc(i, j), d.ct_a[i], d.ct_b[j]);
      ci += coulomb_grad(d.cp_cc(i, j), d.ct_a[i], d.ct_b[j]);
    }
    for (std::size_t J = 0; J < d.nuc_b.size(); ++J) gi += coulomb_grad(d.c_cn(i, J), d.ct_a[i], d.nuc_b[J].r);
    gx += gi;
    gr += (d.ct_a[i] - com_a).cross(gi);
    cx += ci;
    cr += (d.ct_a[i] - com_a).cross(ci);
  }
  for (std::size_t I = 0; I < d.nuc_a.size(); ++I) {
    Eigen::Vector3d gI = Eigen::Vector3d::Zero();
    for (Eigen::Index j = 0; j < nb; ++j) gI += coulomb_grad(d.c_nc(I, j), d.nuc_a[I].r, d.ct_b[j]);
    gx += gI;
    gr += (d.nuc_a[I].r - com_a).cross(gI);
  }

  // Integral part. The energy depends on A's shell centres through S = Ca S_ao Cb^T and T; for a displacement of
  // A's shell centre along x, dE = sum_ij G_ij (Ca dS_x Cb^T)_ij + H_ij (Ca dT_x Cb^T)_ij
  //                              = sum_mu [(Ca^T G)(mu, :) . X_dSx(mu, :) + (Ca^T H)(mu, :) . X_dTx(mu, :)].
  // Summed over a shell's functions this is a force f_sh on the shell centre: translation sum f_sh, torque
  // sum (r_sh - com_a) x f_sh.
  const Eigen::MatrixXd& Ca = a.wavefunction;
  XrWork& ws = work_;
  ws.CaG.resize(Ca.cols(), nb);
  ws.CaH.resize(Ca.cols(), nb);
  ws.CaC.resize(Ca.cols(), nb);
  for (Eigen::Index mu = 0; mu < Ca.cols(); ++mu)
    for (Eigen::Index j = 0; j < nb; ++j) {
      double g = 0.0, h = 0.0, c = 0.0;
      for (Eigen::Index i = 0; i < na; ++i) {
        const double cim = Ca(i, mu);
        g += cim * G(i, j);
        h += cim * H(i, j);
        c += cim * Gcp(i, j);
      }
      ws.CaG(mu, j) = g;
      ws.CaH(mu, j) = h;
      ws.CaC(mu, j) = c;
    }
  const int nlb = static_cast<int>(nb), n_ao_a = ws.ints.n_ao_a;
  Eigen::Vector3d fx_int = Eigen::Vector3d::Zero(), fr_int = Eigen::Vector3d::Zero();
  Eigen::Vector3d cx_int = Eigen::Vector3d::Zero(), cr_int = Eigen::Vector3d::Zero();
  {
    int mu = 0;
    for (const Shell& sh : a.basis) {
      const int n = detail::shell_size(sh.type);
      double F[3] = {0, 0, 0}, Fc[3] = {0, 0, 0};
      for (int m = mu; m < mu + n; ++m) {
        const double* g = ws.CaG.data() + static_cast<std::ptrdiff_t>(m) * nlb;
        const double* h = ws.CaH.data() + static_cast<std::ptrdiff_t>(m) * nlb;
        const double* c = ws.CaC.data() + static_cast<std::ptrdiff_t>(m) * nlb;
        for (int x = 0; x < 3; ++x) {
          const double* ds = ws.X[2 + x].data() + static_cast<std::ptrdiff_t>(m) * nlb;
          const double* dt = ws.X[5 + x].data() + static_cast<std::ptrdiff_t>(m) * nlb;
          double f = 0.0, fc = 0.0;
          for (int j = 0; j < nlb; ++j) {
            f += g[j] * ds[j] + h[j] * dt[j];
            fc += c[j] * ds[j];
          }
          F[x] += f;
          Fc[x] += fc;
        }
      }
      const Eigen::Vector3d Fv(F[0], F[1], F[2]), Fcv(Fc[0], Fc[1], Fc[2]);
      const Eigen::Vector3d arm = sh.r - com_a;
      fx_int += Fv;
      fr_int += arm.cross(Fv);
      cx_int += Fcv;
      cr_int += arm.cross(Fcv);
      mu += n;
    }
  }
  // rotation of A's coefficients: dS = dCa S_ao Cb^T = dCa X[0], dT = dCa X[1], so the energy changes by
  // sum_{i mu} dCa(i, mu) Z(i, mu) with Z(i, mu) = sum_j G(i, j) X[0](mu, j) + H(i, j) X[1](mu, j). dCa acts shell by
  // shell, dCa(:, r) = sum_c C(:, c) Wk(r, c) within a shell (generator blocks Wk), so the change is
  // sum_shells sum_{r c} Wk(r, c) M(c, r) with M(c, r) = sum_i C(i, c) Z(i, r) = (C^T G X[0]^T + C^T H X[1]^T)(c, r)
  //   = sum_j CaG(c, j) X[0](r, j) + CaH(c, j) X[1](r, j).
  double rot[3] = {0, 0, 0}, rot_cp[3] = {0, 0, 0};
  {
    int col = 0;
    for (const Shell& sh : a.basis) {
      int l = 0, s0 = 0;
      switch (sh.type) {
        case 'S': l = 0; break;
        case 'L': l = 1; s0 = 1; break;
        case 'P': l = 1; break;
        case 'D': l = 2; break;
        case 'F': l = 3; break;
        default: break;
      }
      const int n = (l + 1) * (l + 2) / 2;
      const int c0 = col + s0;  // first function of the rotating block
      if (l > 0) {
        double M[10][10], Mc[10][10];
        for (int c = 0; c < n; ++c)
          for (int r = 0; r < n; ++r) {
            const double* g = ws.CaG.data() + static_cast<std::ptrdiff_t>(c0 + c) * nlb;
            const double* h = ws.CaH.data() + static_cast<std::ptrdiff_t>(c0 + c) * nlb;
            const double* gc = ws.CaC.data() + static_cast<std::ptrdiff_t>(c0 + c) * nlb;
            const double* x0 = ws.X[0].data() + static_cast<std::ptrdiff_t>(c0 + r) * nlb;
            const double* x1 = ws.X[1].data() + static_cast<std::ptrdiff_t>(c0 + r) * nlb;
            double m = 0.0, mc = 0.0;
            for (int j = 0; j < nlb; ++j) {
              m += g[j] * x0[j] + h[j] * x1[j];
              mc += gc[j] * x0[j];
            }
            M[c][r] = m;
            Mc[c][r] = mc;
          }
        for (int k = 0; k < 3; ++k) {
          const Eigen::MatrixXd& Wk = generator_blocks(k)[l];
          for (int r = 0; r < n; ++r)
            for (int c = 0; c < n; ++c) {
              const double wv = Wk(r, c);
              rot[k] += wv * M[c][r];
              rot_cp[k] += wv * Mc[c][r];
            }
        }
      }
      col += s0 + n;
    }
  }

  XrPairGradient out;
  for (int k = 0; k < 3; ++k) {
    out.xr_a[k] = fx_int[k] + gx[k];
    out.cp_a[k] = cx_int[k] + cx[k];
    out.xr_a[3 + k] = fr_int[k] + rot[k] + gr[k];
    out.cp_a[3 + k] = cr_int[k] + rot_cp[k] + cr[k];
  }
  if (overlap_derivatives) {
    // d(Ca S_ao Cb^T)/dq = Ca D_q with D_q (n_ao_a x n_lmo_b):
    //   translation x:  D = X[2 + x] (= dS_ao/dA_x Cb^T);
    //   rotation k:     D(mu, :) = sum_x v_x(mu) X[2 + x](mu, :) with v = e_k x (r_sh(mu) - com_a) (shell centre
    //                   motion), plus, for the coefficient rotation dCa = Ca-blocks times generator blocks Wk,
    //                   D(c, :) += sum_r Wk(r, c) X[0](r, :) within each rotating shell block.
    RowMatrix& D = ws.D;
    D.resize(n_ao_a, nlb);
    auto apply_ca = [&](const RowMatrix& Dm, Eigen::MatrixXd& o) {
      o.setZero(na, nb);
      for (int mu = 0; mu < n_ao_a; ++mu) {
        const double* drow = Dm.data() + static_cast<std::ptrdiff_t>(mu) * nlb;
        for (Eigen::Index i = 0; i < na; ++i) {
          const double c = Ca(i, mu);
          for (int j = 0; j < nlb; ++j) o(i, j) += c * drow[j];
        }
      }
    };
    for (int k = 0; k < 3; ++k) apply_ca(ws.X[2 + k], out.lmo_overlap_deriv_a[k]);
    for (int k = 0; k < 3; ++k) {
      const int y = (k + 1) % 3, z = (k + 2) % 3;  // v_y = -c_z, v_z = c_y
      int col = 0;
      for (const Shell& sh : a.basis) {
        const Eigen::Vector3d arm = sh.r - com_a;
        int l = 0, s0 = 0;
        switch (sh.type) {
          case 'L': l = 1; s0 = 1; break;
          case 'P': l = 1; break;
          case 'D': l = 2; break;
          case 'F': l = 3; break;
          default: break;
        }
        const int n = s0 + (l + 1) * (l + 2) / 2;
        for (int m = col; m < col + n; ++m)
          D.row(m) = arm[y] * ws.X[2 + z].row(m) - arm[z] * ws.X[2 + y].row(m);
        if (l > 0) {
          const Eigen::MatrixXd& Wk = generator_blocks(k)[l];
          const int c0 = col + s0, nl = n - s0;
          for (int c = 0; c < nl; ++c)
            for (int r = 0; r < nl; ++r) {
              const double wv = Wk(r, c);
              if (wv != 0.0) D.row(c0 + c) += wv * ws.X[0].row(c0 + r);
            }
        }
        col += n;
      }
      apply_ca(D, out.lmo_overlap_deriv_a[3 + k]);
    }
  }

  // Fragment B from translational and rotational invariance of the pair:
  // g_B = -g_A, tau_B = -tau_A - (com_A - com_B) x g_A.
  const Eigen::Vector3d dAB = com_a - com_b;
  auto mirror = [&](const FragmentGradient& ga) {
    FragmentGradient gb;
    const Eigen::Vector3d t = ga.head<3>();
    gb.head<3>() = -t;
    gb.tail<3>() = -ga.tail<3>() - dAB.cross(t);
    return gb;
  };
  out.xr_b = mirror(out.xr_a);
  out.cp_b = mirror(out.cp_a);
  for (int k = 0; overlap_derivatives && k < 3; ++k) {
    out.lmo_overlap_deriv_b[k] = -out.lmo_overlap_deriv_a[k];
    out.lmo_overlap_deriv_b[3 + k] = -out.lmo_overlap_deriv_a[3 + k];
    // - (dAB x dS/dx_A)_k
    const int y = (k + 1) % 3, z = (k + 2) % 3;
    out.lmo_overlap_deriv_b[3 + k] -= dAB[y] * out.lmo_overlap_deriv_a[z] - dAB[z] * out.lmo_overlap_deriv_a[y];
  }
  out.energy.exchange_repulsion = d.e_xr;
  out.energy.charge_penetration = d.e_cp;
  out.energy.lmo_overlap = std::move(d.S);
  return out;
}

}  // namespace tsunagu::fragmd
