#pragma once
// Lifting a fragment's lab-frame data to Dual<6> numbers whose six derivative directions are the rigid-body motions
// of that fragment: translations along x, y, z and infinitesimal rotations about the lab x, y, z axes through its
// centre of mass. Evaluating a pair energy on lifted data gives dE/dx and dE/dθ (= −force, −torque) directly.
#include <array>

#include <Eigen/Core>
#include <Eigen/Geometry>

#include "dual.hpp"
#include "tsunagu/fragmd/terms.hpp"

namespace tsunagu::fragmd::detail {

using D6 = Dual<6>;

/// Position p of a point of the fragment with centre `com`, shifted by `shift`.
inline V3<D6> lift_point(const Eigen::Vector3d& p, const Eigen::Vector3d& com, const Eigen::Vector3d& shift) {
  const Eigen::Vector3d r = p - com;
  V3<D6> out;
  for (int a = 0; a < 3; ++a) {
    out[a] = D6(p[a] + shift[a]);
    out[a].g[a] = 1.0;
  }
  // d/dθ_k (e_k × r): rotation about x moves (y, z) by (−r_z, r_y), etc.
  out.y.g[3] = -r.z(); out.z.g[3] = r.y();
  out.x.g[4] = r.z();  out.z.g[4] = -r.x();
  out.x.g[5] = -r.y(); out.y.g[5] = r.x();
  return out;
}

/// A lab-frame vector attached to the body (dipole): only rotations move it.
inline V3<D6> lift_vector(const Eigen::Vector3d& d) {
  V3<D6> out{D6(d.x()), D6(d.y()), D6(d.z())};
  out.y.g[3] = -d.z(); out.z.g[3] = d.y();
  out.x.g[4] = d.z();  out.z.g[4] = -d.x();
  out.x.g[5] = -d.y(); out.y.g[5] = d.x();
  return out;
}

inline V3<double> plain(const Eigen::Vector3d& p) { return V3<double>{p.x(), p.y(), p.z()}; }
inline V3<double> plain(const Eigen::Vector3d& p, const Eigen::Vector3d& shift) {
  return V3<double>{p.x() + shift.x(), p.y() + shift.y(), p.z() + shift.z()};
}

/// Derivative of a symmetric rank-n Cartesian tensor under rotation about axis k: δT_{a…} = Σ_slots ε-terms.
/// Generator of rotations about e_k: (Ω_k)_{ij} = −ε_{kij}, i.e. δv = e_k × v = Ω_k v.
inline double omega(int k, int i, int j) {
  // (e_k × v)_i = ε_{i k j} v_j  → Ω_{ij} = ε_{ikj}
  static const int eps[3][3][3] = {{{0, 0, 0}, {0, 0, 1}, {0, -1, 0}},
                                   {{0, 0, -1}, {0, 0, 0}, {1, 0, 0}},
                                   {{0, 1, 0}, {-1, 0, 0}, {0, 0, 0}}};
  return eps[i][k][j];
}

/// Combine the lifted-b result into both fragments' gradients using translation and rotation invariance of a pair
/// energy: g_a(t) = −g_b(t), g_a(θ) = −g_b(θ) − (c_b − c_a) × g_b(t), with c_b the (image-shifted) centre of b.
inline void complete_pair(const D6& e, const Eigen::Vector3d& com_a, const Eigen::Vector3d& com_b_shifted,
                          FragmentGradient& ga, FragmentGradient& gb) {
  Eigen::Vector3d gt(e.g[0], e.g[1], e.g[2]), gr(e.g[3], e.g[4], e.g[5]);
  gb.head<3>() += gt;
  gb.tail<3>() += gr;
  ga.head<3>() -= gt;
  ga.tail<3>() -= gr + (com_b_shifted - com_a).cross(gt);
}

}  // namespace tsunagu::fragmd::detail
