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

// Per-thread scratch reused from pair to pair (the driver calls xr_pair / xr_pair_gradient from several threads).
struct XrWork {
  detail::PairIntegrals ints;
  Eigen::MatrixXd XS, XT;             // S_ao Cb^T, T_ao Cb^T (n_ao_a x n_lmo_b)
  Eigen::MatrixXd GCb, HCb, CCb;      // dE/dS Cb, dE/dT Cb, dEcp/dS Cb (n_lmo_a x n_ao_b)
  std::array<Eigen::MatrixXd, 3> Y;   // dS_ao/dA_x Cb^T (only for the LMO overlap derivatives)
  Eigen::MatrixXd dCa;
};
XrWork& work() {
  thread_local XrWork w;
  return w;
}

// LMO overlap and kinetic integrals S = Ca S_ao Cb^T, T likewise, from the shell-pair blocks in w.ints; keeps
// w.XS = S_ao Cb^T and w.XT = T_ao Cb^T.
void lmo_integrals(const Fragment& a, const Fragment& b, XrWork& w, PairData& d) {
  const int nlb = static_cast<int>(b.wavefunction.rows());
  const int n_ao_a = w.ints.n_ao_a;
  w.XS.setZero(n_ao_a, nlb);
  w.XT.setZero(n_ao_a, nlb);
  const double* Cb = b.wavefunction.data();  // Cb(j, nu) at nu * nlb + j
  double accS[64], accT[64];
  for (const detail::ShellPairBlock& blk : w.ints.blocks) {
    const double* bS = w.ints.quantity(blk, 0);
    const double* bT = w.ints.quantity(blk, 1);
    for (int fa = 0; fa < blk.na; ++fa) {
      for (int j = 0; j < nlb; ++j) accS[j] = accT[j] = 0.0;
      for (int fb = 0; fb < blk.nb; ++fb) {
        const double s = bS[fa * blk.nb + fb], t = bT[fa * blk.nb + fb];
        const double* c = Cb + static_cast<std::ptrdiff_t>(blk.off_b + fb) * nlb;
        for (int j = 0; j < nlb; ++j) {
          accS[j] += s * c[j];
          accT[j] += t * c[j];
        }
      }
      for (int j = 0; j < nlb; ++j) {
        w.XS(blk.off_a + fa, j) += accS[j];
        w.XT(blk.off_a + fa, j) += accT[j];
      }
    }
  }
  d.S.noalias() = a.wavefunction.lazyProduct(w.XS);
  d.T.noalias() = a.wavefunction.lazyProduct(w.XT);
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
  PairData d;
  detail::overlap_kinetic(a.basis, b.basis, shift_b, d.S_ao, d.T_ao);
  compute_pair(a, b, shift_b, d);
  XrPair out;
  out.exchange_repulsion = d.e_xr;
  out.charge_penetration = d.e_cp;
  out.lmo_overlap = std::move(d.S);
  return out;
}

XrPairGradient xr_pair_gradient(const Fragment& a, const Fragment& b, const Eigen::Vector3d& shift_b) {
  check_fragment(a, "a");
  check_fragment(b, "b");
  PairData d;
  std::array<Eigen::MatrixXd, 3> dS_ao, dT_ao;
  detail::overlap_kinetic_with_bra_deriv(a.basis, b.basis, shift_b, d.S_ao, d.T_ao, dS_ao, dT_ao);
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
  Eigen::MatrixXd G = 2.0 * (-2.0 * (Fa * d.S) - 2.0 * (d.S * Fb) + 2.0 * d.T);
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

  // LMO overlap / kinetic derivatives for A's six coordinates.
  const Eigen::MatrixXd& Ca = a.wavefunction;
  const Eigen::MatrixXd Cb = b.wavefunction.transpose();
  // per-AO-row displacement of A's shell centres under rotation about com_a
  const int n_ao_a = static_cast<int>(Ca.cols());
  std::vector<Eigen::Vector3d> centre(n_ao_a);
  {
    int f = 0;
    for (const Shell& sh : a.basis)
      for (int k = 0; k < detail::shell_size(sh.type); ++k) centre[f++] = sh.r - com_a;
  }
  XrPairGradient out;
  for (int k = 0; k < 3; ++k) {
    const Eigen::MatrixXd dS_t = Ca * dS_ao[k] * Cb;
    const Eigen::MatrixXd dT_t = Ca * dT_ao[k] * Cb;
    out.lmo_overlap_deriv_a[k] = dS_t;
    out.xr_a[k] = G.cwiseProduct(dS_t).sum() + H.cwiseProduct(dT_t).sum() + gx[k];
    out.cp_a[k] = Gcp.cwiseProduct(dS_t).sum() + cx[k];

    // rotation about axis k: shell centre velocity e_k x (r - com_a), plus rotation of the coefficients
    Eigen::MatrixXd dS_rot_ao = Eigen::MatrixXd::Zero(n_ao_a, dS_ao[0].cols());
    Eigen::MatrixXd dT_rot_ao = Eigen::MatrixXd::Zero(n_ao_a, dS_ao[0].cols());
    for (int mu = 0; mu < n_ao_a; ++mu) {
      const Eigen::Vector3d v = Eigen::Vector3d::Unit(k).cross(centre[mu]);
      for (int x = 0; x < 3; ++x) {
        dS_rot_ao.row(mu) += v[x] * dS_ao[x].row(mu);
        dT_rot_ao.row(mu) += v[x] * dT_ao[x].row(mu);
      }
    }
    const Eigen::MatrixXd dCa = wavefunction_rotation_derivative(a, k);
    const Eigen::MatrixXd dS_r = Ca * dS_rot_ao * Cb + dCa * d.S_ao * Cb;
    const Eigen::MatrixXd dT_r = Ca * dT_rot_ao * Cb + dCa * d.T_ao * Cb;
    out.lmo_overlap_deriv_a[3 + k] = dS_r;
    out.xr_a[3 + k] = G.cwiseProduct(dS_r).sum() + H.cwiseProduct(dT_r).sum() + gr[k];
    out.cp_a[3 + k] = Gcp.cwiseProduct(dS_r).sum() + cr[k];
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
  for (int k = 0; k < 3; ++k) {
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
