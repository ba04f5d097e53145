// EFP2 electrostatics: nuclei and distributed multipoles (charge … octupole, Buckingham convention) of two fragments,
// with the SCREEN2 charge-penetration damping of the electronic charge–charge terms (libefp 1.5 model: nuclei are
// separate point charges, the MONOPOLES column holds electronic charges).
//
// Energy and analytic gradient share one kernel per site pair. With dr = r_j − r_i (j on fragment b) the pair energy
// is a polynomial in dr and the moments times powers of 1/r (the Cartesian derivatives of 1/r written out for the
// EFP truncation), differentiated here by hand:
//   * ∂e/∂dr = ∂e/∂r_j = −∂e/∂r_i gives the site forces;
//   * rotating j's moments by δθ about lab axis k changes e by δθ·τ_j with τ_j = μ × ∂e/∂μ + 2 ε:(Θ ∂e/∂Θ) +
//     3 ε:(Ω·∂e/∂Ω) (∂e/∂moment = the potential derivatives of a at j, i.e. field, field gradient, …).
// b's (dE/dc, dE/dθ) is Σ_j (∂e/∂r_j, (r_j − c_b) × ∂e/∂r_j + τ_j); a's follows from translation and rotation
// invariance of the pair energy (as rigid.hpp's complete_pair), so a's torques are never formed. This replaced a
// Dual<6> forward-mode evaluation of the same energy (about ten times slower), which survives as the tests' oracle
// in electrostatics_dual.hpp.
#include <array>
#include <cmath>
#include <string>

#include <Eigen/Geometry>

#include "tsunagu/core/error.hpp"
#include "tsunagu/fragmd/terms.hpp"

namespace tsunagu::fragmd {
namespace {

struct Vec {
  double x, y, z;
};
inline Vec vec(const Eigen::Vector3d& v) { return {v.x(), v.y(), v.z()}; }
inline Vec operator+(const Vec& a, const Vec& b) { return {a.x + b.x, a.y + b.y, a.z + b.z}; }
inline Vec operator-(const Vec& a, const Vec& b) { return {a.x - b.x, a.y - b.y, a.z - b.z}; }
inline Vec operator*(double s, const Vec& a) { return {s * a.x, s * a.y, s * a.z}; }
inline Vec& operator+=(Vec& a, const Vec& b) { return a = a + b; }
inline Vec& operator-=(Vec& a, const Vec& b) { return a = a - b; }
inline double dot(const Vec& a, const Vec& b) { return a.x * b.x + a.y * b.y + a.z * b.z; }
inline Vec cross(const Vec& a, const Vec& b) {
  return {a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x};
}

using Quad = std::array<double, 6>;   // xx yy zz xy xz yz
using Oct = std::array<double, 10>;   // xxx yyy zzz xxy xxz xyy yyz xzz yzz xyz

/// Θ v for the packed symmetric quadrupole.
inline Vec quad_vec(const Quad& Q, const Vec& r) {
  return {Q[0] * r.x + Q[3] * r.y + Q[4] * r.z, Q[3] * r.x + Q[1] * r.y + Q[5] * r.z,
          Q[4] * r.x + Q[5] * r.y + Q[2] * r.z};
}

/// V_a = Σ_bc Ω_abc r_b r_c; Σ_abc Ω_abc r_a r_b r_c = r·V and its gradient is 3V.
inline Vec oct_vec(const Oct& o, const Vec& r) {
  const double xx = r.x * r.x, yy = r.y * r.y, zz = r.z * r.z, xy = r.x * r.y, xz = r.x * r.z, yz = r.y * r.z;
  return {o[0] * xx + o[5] * yy + o[7] * zz + 2.0 * (o[3] * xy + o[4] * xz + o[9] * yz),
          o[3] * xx + o[1] * yy + o[8] * zz + 2.0 * (o[5] * xy + o[9] * xz + o[6] * yz),
          o[4] * xx + o[6] * yy + o[2] * zz + 2.0 * (o[9] * xy + o[7] * xz + o[8] * yz)};
}

/// ε:(A B) for packed symmetric A, B: the vector (M_yz − M_zy, M_zx − M_xz, M_xy − M_yx) of M = A B, which is the
/// torque contraction of a quadrupole A with ∂e/∂Θ = B.
inline Vec quad_torque(const Quad& A, const Quad& B) {
  // rows of A: (xx xy xz), (xy yy yz), (xz yz zz); columns of B likewise.
  const double myz = A[3] * B[4] + A[1] * B[5] + A[5] * B[2], mzy = A[4] * B[3] + A[5] * B[1] + A[2] * B[5];
  const double mzx = A[4] * B[0] + A[5] * B[3] + A[2] * B[4], mxz = A[0] * B[4] + A[3] * B[5] + A[4] * B[2];
  const double mxy = A[0] * B[3] + A[3] * B[1] + A[4] * B[5], myx = A[3] * B[0] + A[1] * B[3] + A[5] * B[4];
  return {myz - mzy, mzx - mxz, mxy - myx};
}

/// Charge-penetration damping S(r) of an electronic charge pair with SCREEN2 exponents a, b (bohr⁻¹), and dS/dr.
inline double screen_pair(double r, double a, double b, double& dS) {
  if (std::fabs(a - b) < 1e-5) {
    const double ea = std::exp(-a * r);
    dS = 0.5 * a * (1.0 + a * r) * ea;
    return 1.0 - (1.0 + 0.5 * a * r) * ea;
  }
  const double ea = std::exp(-a * r), eb = std::exp(-b * r);
  const double ca = b * b / (b * b - a * a), cb = a * a / (a * a - b * b);
  dS = a * ca * ea + b * cb * eb;
  return 1.0 - ea * ca - eb * cb;
}

/// Derivatives of one multipole point j of fragment b accumulated over the sites of fragment a. Two parts of j's
/// moment torque are summed over a first and contracted with j's moments once (cheaper than per site pair).
struct SiteGrad {
  Vec g{0, 0, 0};       // ∂E/∂r_j
  Vec tau{0, 0, 0};     // moment torque, all but the two parts below
  Vec dfield{0, 0, 0};  // the part of ∂E/∂μ_j not along dr: torque μ_j × dfield
  Quad qfield{};        // Σ Θ_i / r⁵: the Θ_i:Θ_j part of ∂E/∂Θ_j is (2/3) qfield, torque (4/3) ε:(Θ_j qfield)
};

/// Point charge z at the origin of dr with multipole point p at +dr; the electronic charge term is multiplied by
/// 1 − exp(−a r) when `damped` (libefp's nucleus–electronic-charge damping). With kGrad adds ∂e/∂dr to `g` and the
/// torque of p's moments to `tau` (when kTorque).
template <bool kGrad, bool kTorque>
[[gnu::always_inline]] inline double charge_point(double z, const MultipolePoint& p, const Vec& dr, bool damped,
                                                  double a, Vec* g, Vec* tau) {
  const double r2 = dot(dr, dr), r = std::sqrt(r2);
  const double ir = 1.0 / r, ir2 = ir * ir, ir3 = ir2 * ir, ir5 = ir3 * ir2, ir7 = ir5 * ir2;
  double damp = 1.0, ddamp = 0.0;
  if (damped) {
    const double ea = std::exp(-a * r);
    damp = 1.0 - ea;
    ddamp = a * ea;
  }
  const Vec d = vec(p.dipole);
  const Vec Qr = quad_vec(p.quadrupole, dr), V = oct_vec(p.octupole, dr);
  const double d_r = dot(d, dr), qs = dot(dr, Qr), os = dot(dr, V);
  const double e = z * (damp * p.monopole * ir - d_r * ir3 + qs * ir5 - os * ir7);
  if constexpr (kGrad) {
    // ∂e/∂dr = c dr + W: c from the radial factors (and the damping), W from the moment contractions.
    const Vec W = z * (2.0 * ir5 * Qr - ir3 * d - 3.0 * ir7 * V);
    const double c =
        z * (p.monopole * (ddamp - damp * ir) * ir2 + (3.0 * d_r - 5.0 * qs * ir2 + 7.0 * os * ir2 * ir2) * ir5);
    *g += c * dr + W;
    // ∂e/∂μ = −z dr/r³, ∂e/∂Θ = z r r/r⁵, ∂e/∂Ω = −z r³/r⁷ give the torque W × dr.
    if constexpr (kTorque) *tau += cross(W, dr);
  }
  return e;
}

/// Multipole point i (fragment a) with multipole point j (fragment b), dr = r_j − r_i, EFP truncation (total rank
/// ≤ 4 except dipole–octupole). With kGrad accumulates ∂e/∂r_j and j's moment torque into sj.
template <bool kGrad>
[[gnu::always_inline]] inline double point_point(const MultipolePoint& i, const MultipolePoint& j, const Vec& dr,
                                                 bool screen, SiteGrad& sj) {
  const double r2 = dot(dr, dr), r = std::sqrt(r2);
  const double ir = 1.0 / r, ir2 = ir * ir, ir3 = ir2 * ir, ir5 = ir3 * ir2, ir7 = ir5 * ir2, ir9 = ir7 * ir2;
  const double qi = i.monopole, qj = j.monopole;
  const Vec di = vec(i.dipole), dj = vec(j.dipole);
  const Quad &Qi = i.quadrupole, &Qj = j.quadrupole;
  const Vec Qi_r = quad_vec(Qi, dr), Qj_r = quad_vec(Qj, dr);
  const Vec Vi = oct_vec(i.octupole, dr), Vj = oct_vec(j.octupole, dr);
  const double di_r = dot(di, dr), dj_r = dot(dj, dr);
  const double qsi = dot(dr, Qi_r), qsj = dot(dr, Qj_r);
  const double qq =
      Qi[0] * Qj[0] + Qi[1] * Qj[1] + Qi[2] * Qj[2] + 2.0 * (Qi[3] * Qj[3] + Qi[4] * Qj[4] + Qi[5] * Qj[5]);
  double S = 1.0, dS = 0.0;
  if (screen) S = screen_pair(r, i.screen2, j.screen2, dS);
  // e = A0 S/r + A3/r³ + A5/r⁵ + A7/r⁷ + A9/r⁹, the terms of the previous point_point grouped by power of 1/r:
  // A3 charge–dipole, dipole–dipole; A5 charge–quadrupole, dipole–dipole, dipole–quadrupole, quadrupole–quadrupole;
  // A7 charge–octupole, dipole–quadrupole, quadrupole–quadrupole; A9 quadrupole–quadrupole.
  const double A0 = qi * qj;
  const double A3 = qj * di_r - qi * dj_r + dot(di, dj);
  const double A5 = qi * qsj + qj * qsi - 3.0 * di_r * dj_r - 2.0 * (dot(di, Qj_r) - dot(dj, Qi_r)) + (2.0 / 3.0) * qq;
  const double A7 = qj * dot(dr, Vi) - qi * dot(dr, Vj) + 5.0 * (qsj * di_r - qsi * dj_r) -
                    (20.0 / 3.0) * dot(Qi_r, Qj_r);
  const double A9 = (35.0 / 3.0) * qsi * qsj;
  const double e = A0 * S * ir + A3 * ir3 + A5 * ir5 + A7 * ir7 + A9 * ir9;
  if constexpr (kGrad) {
    // ∂e/∂dr = c dr + W_j + W_i: radial part of the 1/rⁿ factors plus the dr-dependence of the moment contractions,
    // split by which fragment's moments multiply each vector. W_j × dr is also the torque of j's moments from all
    // terms except the two handled by the accumulators (μ_j × dfield, Θ_j:Θ_i).
    const double c = A0 * (dS - S * ir) * ir2 - (3.0 * A3 + (5.0 * A5 + (7.0 * A7 + 9.0 * A9 * ir2) * ir2) * ir2) * ir5;
    const double cj_d = qi * ir3 + 3.0 * di_r * ir5 + 5.0 * qsi * ir7;   // ∂e/∂μ_j = dfield − cj_d dr
    const double ci_d = qj * ir3 - 3.0 * dj_r * ir5 + 5.0 * qsj * ir7;
    const double s_j = qi * ir5 + 5.0 * di_r * ir7 + (35.0 / 3.0) * qsi * ir9;  // ∂e/∂Θ_j ∋ s_j r r
    const double s_i = qj * ir5 - 5.0 * dj_r * ir7 + (35.0 / 3.0) * qsj * ir9;
    const Vec u_i = ir5 * di + (10.0 / 3.0) * ir7 * Qi_r;                 // ∂e/∂Θ_j ∋ −(u_i r + r u_i)
    const Vec u_j = (10.0 / 3.0) * ir7 * Qj_r - ir5 * dj;
    const Vec Qj_ui = quad_vec(Qj, u_i), Qi_uj = quad_vec(Qi, u_j);
    const Vec Wj = 2.0 * s_j * Qj_r - cj_d * dj - 2.0 * Qj_ui - 3.0 * qi * ir7 * Vj;
    const Vec Wi = ci_d * di + 2.0 * s_i * Qi_r - 2.0 * Qi_uj + 3.0 * qj * ir7 * Vi;
    sj.g += c * dr + Wj + Wi;
    sj.tau += cross(Wj, dr) - 2.0 * cross(Qj_r, u_i);
    sj.dfield += ir3 * di + 2.0 * ir5 * Qi_r;
    for (int k = 0; k < 6; ++k) sj.qfield[k] += ir5 * Qi[k];
  }
  return e;
}

/// Whole-pair energy; with kGrad also fragment b's (∂E/∂c_b, ∂E/∂θ_b) in gt, gr.
template <bool kGrad>
double pair_energy(const Fragment& a, const Fragment& b, const Eigen::Vector3d& shift_b, ElecDamp damp, Vec& gt,
                   Vec& gr) {
  const bool screen = damp == ElecDamp::Screen;
  const Vec com_b = vec(b.com), shift = vec(shift_b);
  double e = 0.0;
  // nuclei of b with nuclei and points of a (dr from b's nucleus to a's point, as the energy model is written)
  for (const auto& bj : b.atoms) {
    const Vec rj = vec(bj.r) + shift;
    const double zj = bj.znuc;
    Vec g{0, 0, 0};
    for (const auto& ai : a.atoms) {
      const Vec dr = rj - vec(ai.r);
      const double r2 = dot(dr, dr), ir = 1.0 / std::sqrt(r2), ezz = ai.znuc * zj * ir;
      e += ezz;
      if constexpr (kGrad) g -= (ezz * ir * ir) * dr;
    }
    for (const auto& pi : a.multipoles) {
      Vec gi{0, 0, 0};
      e += charge_point<kGrad, false>(zj, pi, vec(pi.r) - rj, screen, pi.screen2, &gi, nullptr);
      if constexpr (kGrad) g -= gi;
    }
    if constexpr (kGrad) {
      gt += g;
      gr += cross(vec(bj.r) - com_b, g);
    }
  }
  // points of b with nuclei and points of a
  for (const auto& pj : b.multipoles) {
    const Vec rj = vec(pj.r) + shift;
    SiteGrad s;
    for (const auto& ai : a.atoms)
      e += charge_point<kGrad, true>(ai.znuc, pj, rj - vec(ai.r), screen, pj.screen2, &s.g, &s.tau);
    for (const auto& pi : a.multipoles) e += point_point<kGrad>(pi, pj, rj - vec(pi.r), screen, s);
    if constexpr (kGrad) {
      const Vec tau = s.tau + cross(vec(pj.dipole), s.dfield) + (4.0 / 3.0) * quad_torque(pj.quadrupole, s.qfield);
      gt += s.g;
      gr += cross(vec(pj.r) - com_b, s.g) + tau;
    }
  }
  return e;
}

void check_screen(const Fragment& f, ElecDamp damp) {
  if (damp == ElecDamp::Screen && !f.type->has_screen2)
    throw InvalidArgument("fragment '" + f.type->name + "' has no SCREEN2 parameters; use elec_damp off or overlap");
}

}  // namespace

double elec_pair(const Fragment& a, const Fragment& b, const Eigen::Vector3d& shift_b, ElecDamp damp) {
  check_screen(a, damp);
  check_screen(b, damp);
  Vec gt{0, 0, 0}, gr{0, 0, 0};
  return pair_energy<false>(a, b, shift_b, damp, gt, gr);
}

double elec_pair_gradient(const Fragment& a, const Fragment& b, const Eigen::Vector3d& shift_b, ElecDamp damp,
                          FragmentGradient& ga, FragmentGradient& gb) {
  check_screen(a, damp);
  check_screen(b, damp);
  Vec gt{0, 0, 0}, gr{0, 0, 0};
  const double e = pair_energy<true>(a, b, shift_b, damp, gt, gr);
  // Translation and rotation invariance: g_a(t) = −g_b(t), g_a(θ) = −g_b(θ) − (c_b − c_a) × g_b(t).
  const Eigen::Vector3d t(gt.x, gt.y, gt.z), rot(gr.x, gr.y, gr.z);
  gb.head<3>() += t;
  gb.tail<3>() += rot;
  ga.head<3>() -= t;
  ga.tail<3>() -= rot + (b.com + shift_b - a.com).cross(t);
  return e;
}

namespace {
/// Fragment f with fixed external charges (undamped); with kGrad adds f's gradient to g.
template <bool kGrad>
double charges_energy(const Fragment& f, const std::vector<PointCharge>& charges, FragmentGradient* g) {
  const Vec com = vec(f.com);
  double e = 0.0;
  Vec gt{0, 0, 0}, gr{0, 0, 0};
  for (const auto& at : f.atoms) {
    const Vec rk = vec(at.r);
    Vec gk{0, 0, 0};
    for (const auto& c : charges) {
      const Vec dr = rk - vec(c.r);
      const double ir = 1.0 / std::sqrt(dot(dr, dr)), ezz = c.q * at.znuc * ir;
      e += ezz;
      if constexpr (kGrad) gk -= (ezz * ir * ir) * dr;
    }
    if constexpr (kGrad) {
      gt += gk;
      gr += cross(rk - com, gk);
    }
  }
  for (const auto& p : f.multipoles) {
    const Vec rp = vec(p.r);
    Vec gp{0, 0, 0}, tau{0, 0, 0};
    for (const auto& c : charges) e += charge_point<kGrad, true>(c.q, p, rp - vec(c.r), false, 0.0, &gp, &tau);
    if constexpr (kGrad) {
      gt += gp;
      gr += cross(rp - com, gp) + tau;
    }
  }
  if constexpr (kGrad) *g += (FragmentGradient() << gt.x, gt.y, gt.z, gr.x, gr.y, gr.z).finished();
  return e;
}
}  // namespace

double elec_point_charges(const Fragment& f, const std::vector<PointCharge>& charges) {
  return charges_energy<false>(f, charges, nullptr);
}

double elec_point_charges_gradient(const Fragment& f, const std::vector<PointCharge>& charges, FragmentGradient& g) {
  return charges_energy<true>(f, charges, &g);
}

}  // namespace tsunagu::fragmd
