#pragma once
// Forward-mode (Dual<6>) EFP2 electrostatic pair and point-charge gradients: the implementation electrostatics.cpp
// used before its direct analytic gradient. Kept, unchanged in behaviour, only as the correctness oracle of the
// tests (tests/fragmd/electrostatics_test.cpp); the library does not use it.
#include <array>
#include <cmath>
#include <string>
#include <vector>

#include "rigid.hpp"
#include "tsunagu/core/error.hpp"
#include "tsunagu/fragmd/terms.hpp"

namespace tsunagu::fragmd::detail {
namespace elec_dual {

constexpr int kQ[3][3] = {{0, 3, 4}, {3, 1, 5}, {4, 5, 2}};
constexpr int kO[3][3][3] = {{{0, 3, 4}, {3, 5, 9}, {4, 9, 7}},
                             {{3, 5, 9}, {5, 1, 6}, {9, 6, 8}},
                             {{4, 9, 7}, {9, 6, 8}, {7, 8, 2}}};

/// A multipole point in a scalar type T (double, or Dual when its fragment is being differentiated).
template <typename T>
struct Point {
  V3<T> r;
  T q;  // electronic charge
  V3<T> d;
  std::array<T, 6> Q;
  std::array<T, 10> O;
  double screen = 0.0;
};

template <typename T>
Point<T> make_point(const MultipolePoint& m, const Eigen::Vector3d& shift) {
  Point<T> p;
  p.r = V3<T>{T(m.r.x() + shift.x()), T(m.r.y() + shift.y()), T(m.r.z() + shift.z())};
  p.q = T(m.monopole);
  p.d = V3<T>{T(m.dipole.x()), T(m.dipole.y()), T(m.dipole.z())};
  for (int i = 0; i < 6; ++i) p.Q[i] = T(m.quadrupole[i]);
  for (int i = 0; i < 10; ++i) p.O[i] = T(m.octupole[i]);
  p.screen = m.screen2;
  return p;
}

inline Point<D6> lift(const MultipolePoint& m, const Eigen::Vector3d& com, const Eigen::Vector3d& shift) {
  Point<D6> p = make_point<D6>(m, Eigen::Vector3d::Zero());
  p.r = lift_point(m.r, com, shift);
  p.d = lift_vector(m.dipole);
  for (int k = 0; k < 3; ++k) {
    for (int a = 0; a < 3; ++a)
      for (int b = a; b < 3; ++b) {
        double s = 0;
        for (int i = 0; i < 3; ++i)
          s += omega(k, a, i) * m.quadrupole[kQ[i][b]] + omega(k, b, i) * m.quadrupole[kQ[a][i]];
        p.Q[kQ[a][b]].g[3 + k] = s;
      }
    for (int a = 0; a < 3; ++a)
      for (int b = a; b < 3; ++b)
        for (int c = b; c < 3; ++c) {
          double s = 0;
          for (int i = 0; i < 3; ++i)
            s += omega(k, a, i) * m.octupole[kO[i][b][c]] + omega(k, b, i) * m.octupole[kO[a][i][c]] +
                 omega(k, c, i) * m.octupole[kO[a][b][i]];
          p.O[kO[a][b][c]].g[3 + k] = s;
        }
  }
  return p;
}

template <typename TQ, typename T>
T quad_sum(const std::array<TQ, 6>& Q, const V3<T>& r) {
  return Q[0] * r.x * r.x + Q[1] * r.y * r.y + Q[2] * r.z * r.z +
         2.0 * (Q[3] * r.x * r.y + Q[4] * r.x * r.z + Q[5] * r.y * r.z);
}

template <typename TQ, typename T>
V3<T> quad_vec(const std::array<TQ, 6>& Q, const V3<T>& r) {
  return V3<T>{Q[0] * r.x + Q[3] * r.y + Q[4] * r.z, Q[3] * r.x + Q[1] * r.y + Q[5] * r.z,
               Q[4] * r.x + Q[5] * r.y + Q[2] * r.z};
}

template <typename TO, typename T>
T oct_sum(const std::array<TO, 10>& O, const V3<T>& r) {
  return O[0] * r.x * r.x * r.x + O[1] * r.y * r.y * r.y + O[2] * r.z * r.z * r.z +
         3.0 * (O[3] * r.x * r.x * r.y + O[4] * r.x * r.x * r.z + O[5] * r.x * r.y * r.y + O[6] * r.y * r.y * r.z +
                O[7] * r.x * r.z * r.z + O[8] * r.y * r.z * r.z) +
         6.0 * O[9] * r.x * r.y * r.z;
}

/// Charge-penetration damping of an electronic charge pair with SCREEN2 exponents a, b (bohr⁻¹).
template <typename T>
T screen_pair(const T& r, double a, double b) {
  using std::exp;
  if (std::fabs(a - b) < 1e-5) return 1.0 - (1.0 + 0.5 * a * r) * exp(-a * r);
  return 1.0 - exp(-a * r) * (b * b / (b * b - a * a)) - exp(-b * r) * (a * a / (a * a - b * b));
}

/// Energy of a point charge q at the origin of dr with a multipole point at +dr (charge part optionally damped).
template <typename TP, typename T>
[[gnu::flatten]] T charge_point(double q, const Point<TP>& p, const V3<T>& dr, const T& r, const T& qq_damp) {
  // Reciprocal powers once: one division instead of four (they dominate with dual numbers).
  const T ir = 1.0 / r, ir2 = ir * ir, ir3 = ir2 * ir, ir5 = ir3 * ir2, ir7 = ir5 * ir2;
  return q * (qq_damp * p.q * ir - dot(p.d, dr) * ir3 + quad_sum(p.Q, dr) * ir5 - oct_sum(p.O, dr) * ir7);
}

/// Multipole point i with multipole point j, dr = r_j − r_i. Point i may be plain double while j carries the
/// derivative directions (flattened: the Dual arithmetic must inline to be fast).
template <typename TI, typename T>
[[gnu::flatten]] T point_point(const Point<TI>& i, const Point<T>& j, ElecDamp damp) {
  using std::sqrt;
  const V3<T> dr = j.r - i.r;
  const T r = sqrt(dot(dr, dr));
  const T ir = 1.0 / r, ir2 = ir * ir, ir3 = ir2 * ir, ir5 = ir3 * ir2, ir7 = ir5 * ir2, ir9 = ir7 * ir2;
  T cc = i.q * j.q * ir;
  if (damp == ElecDamp::Screen) cc = cc * screen_pair(r, i.screen, j.screen);
  const T di_r = dot(i.d, dr), dj_r = dot(j.d, dr);
  const T qsi = quad_sum(i.Q, dr), qsj = quad_sum(j.Q, dr);
  const V3<T> Qi_r = quad_vec(i.Q, dr), Qj_r = quad_vec(j.Q, dr);
  T e = cc;
  e += (j.q * di_r - i.q * dj_r) * ir3;                                 // charge–dipole, dipole–charge
  e += (i.q * qsj + j.q * qsi) * ir5;                                   // charge–quadrupole both ways
  e += (j.q * oct_sum(i.O, dr) - i.q * oct_sum(j.O, dr)) * ir7;         // charge–octupole both ways
  e += dot(i.d, j.d) * ir3 - 3.0 * di_r * dj_r * ir5;                  // dipole–dipole
  e += 5.0 * (qsj * di_r - qsi * dj_r) * ir7 - 2.0 * (dot(i.d, Qj_r) - dot(j.d, Qi_r)) * ir5;  // dipole–quadrupole
  T qq = i.Q[0] * j.Q[0] + i.Q[1] * j.Q[1] + i.Q[2] * j.Q[2] +
         2.0 * (i.Q[3] * j.Q[3] + i.Q[4] * j.Q[4] + i.Q[5] * j.Q[5]);
  e += (2.0 * qq * ir5 - 20.0 * dot(Qi_r, Qj_r) * ir7 + 35.0 * qsi * qsj * ir9) * (1.0 / 3.0);  // quadrupole–quadrupole
  return e;
}

/// Whole-pair energy; fragment b's data supplied in type T (lifted for gradients).
template <typename T>
T pair_energy(const Fragment& a, const std::vector<V3<T>>& b_atoms, const std::vector<Point<T>>& b_pts,
              const Fragment& b, ElecDamp damp) {
  using std::exp;
  using std::sqrt;
  T e = 0.0;
  std::vector<Point<double>> a_pts;
  a_pts.reserve(a.multipoles.size());
  for (const auto& m : a.multipoles) a_pts.push_back(make_point<double>(m, Eigen::Vector3d::Zero()));
  // nuclei – nuclei
  for (const auto& ai : a.atoms)
    for (std::size_t j = 0; j < b.atoms.size(); ++j) {
      const V3<T> dr = b_atoms[j] - plain(ai.r);
      e += ai.znuc * b.atoms[j].znuc / sqrt(dot(dr, dr));
    }
  // nuclei of a – points of b (dr from nucleus to point)
  for (const auto& ai : a.atoms) {
    const double z = ai.znuc;
    for (const auto& pj : b_pts) {
      const V3<T> dr = pj.r - plain(ai.r);
      const T r = sqrt(dot(dr, dr));
      const T damp_q = damp == ElecDamp::Screen ? T(1.0 - exp(-pj.screen * r)) : T(1.0);
      e += charge_point(z, pj, dr, r, damp_q);
    }
  }
  // nuclei of b – points of a
  for (std::size_t j = 0; j < b.atoms.size(); ++j) {
    const double z = b.atoms[j].znuc;
    for (const auto& pi : a_pts) {
      const V3<T> dr = pi.r - b_atoms[j];
      const T r = sqrt(dot(dr, dr));
      const T damp_q = damp == ElecDamp::Screen ? T(1.0 - exp(-pi.screen * r)) : T(1.0);
      e += charge_point(z, pi, dr, r, damp_q);
    }
  }
  for (const auto& pi : a_pts)
    for (const auto& pj : b_pts) e += point_point(pi, pj, damp);
  return e;
}

/// Fragment (atoms, points in type T) with fixed external charges.
template <typename T>
T charges_energy(const std::vector<V3<T>>& atoms, const std::vector<Point<T>>& pts, const Fragment& f,
                 const std::vector<PointCharge>& charges) {
  using std::sqrt;
  T e = 0.0;
  for (const auto& c : charges) {
    const V3<double> rc = plain(c.r);
    for (std::size_t k = 0; k < atoms.size(); ++k) {
      const V3<T> dr = atoms[k] - rc;
      e += c.q * f.atoms[k].znuc / sqrt(dot(dr, dr));
    }
    for (const auto& p : pts) {
      const V3<T> dr = p.r - rc;
      const T r = sqrt(dot(dr, dr));
      e += charge_point(c.q, p, dr, r, T(1.0));
    }
  }
  return e;
}

inline void check_screen(const Fragment& f, ElecDamp damp) {
  if (damp == ElecDamp::Screen && !f.type->has_screen2)
    throw InvalidArgument("fragment '" + f.type->name + "' has no SCREEN2 parameters; use elec_damp off or overlap");
}

}  // namespace elec_dual

/// Oracle for elec_pair_gradient (same signature and conventions).
inline double elec_pair_gradient_dual(const Fragment& a, const Fragment& b, const Eigen::Vector3d& shift_b,
                                      ElecDamp damp, FragmentGradient& ga, FragmentGradient& gb) {
  using namespace elec_dual;
  check_screen(a, damp);
  check_screen(b, damp);
  std::vector<V3<D6>> atoms;
  for (const auto& at : b.atoms) atoms.push_back(lift_point(at.r, b.com, shift_b));
  std::vector<Point<D6>> pts;
  for (const auto& m : b.multipoles) pts.push_back(lift(m, b.com, shift_b));
  D6 e = pair_energy<D6>(a, atoms, pts, b, damp);
  complete_pair(e, a.com, b.com + shift_b, ga, gb);
  return e.v;
}

/// Oracle for elec_point_charges_gradient.
inline double elec_point_charges_gradient_dual(const Fragment& f, const std::vector<PointCharge>& charges,
                                               FragmentGradient& g) {
  using namespace elec_dual;
  std::vector<V3<D6>> atoms;
  for (const auto& at : f.atoms) atoms.push_back(lift_point(at.r, f.com, Eigen::Vector3d::Zero()));
  std::vector<Point<D6>> pts;
  for (const auto& m : f.multipoles) pts.push_back(lift(m, f.com, Eigen::Vector3d::Zero()));
  const D6 e = charges_energy<D6>(atoms, pts, f, charges);
  for (int k = 0; k < 6; ++k) g[k] += e.g[k];
  return e.v;
}

}  // namespace tsunagu::fragmd::detail
