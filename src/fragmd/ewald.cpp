// Ewald summation of the fragments' charge–charge interactions (see ewald.hpp for the decomposition).
#include "ewald.hpp"

#include <algorithm>
#include <cmath>
#include <complex>
#include <string>

#include <Eigen/Geometry>

#include "switching.hpp"
#include "tsunagu/core/error.hpp"
#include "tsunagu/core/thread_pool.hpp"

namespace tsunagu::fragmd::detail {
namespace {

constexpr double kPi = 3.14159265358979323846;

/// All charges of the system: nuclei (Fragment::atoms) and electronic monopoles (Fragment::multipoles), exactly the
/// charges the pair loop's bare 1/r terms use.
struct Sites {
  std::vector<Eigen::Vector3d> r;     // lab frame, bohr
  std::vector<double> q;              // e
  std::vector<std::size_t> frag;      // owning fragment
  std::vector<std::size_t> begin;     // sites of fragment f: [begin[f], begin[f+1])
};

Sites gather(const System& sys) {
  Sites s;
  for (std::size_t f = 0; f < sys.fragments.size(); ++f) {
    s.begin.push_back(s.r.size());
    const Fragment& fr = sys.fragments[f];
    auto add = [&](const Eigen::Vector3d& r, double q) {
      if (q == 0.0) return;
      s.r.push_back(r);
      s.q.push_back(q);
      s.frag.push_back(f);
    };
    for (const auto& a : fr.atoms) add(a.r, a.znuc);
    for (const auto& m : fr.multipoles) add(m.r, m.monopole);
  }
  s.begin.push_back(s.r.size());
  return s;
}

/// erfc(αr)/r and its r-derivative.
inline void erfc_over_r(double alpha, double r, double& f, double& df) {
  const double ar = alpha * r;
  f = std::erfc(ar) / r;
  df = -(f + 2.0 * alpha / std::sqrt(kPi) * std::exp(-ar * ar)) / r;
}

}  // namespace

double ewald_correction(const System& sys, unsigned threads, std::vector<FragmentGradient>* gradient,
                        Eigen::Matrix3d* virial, EwaldInfo* info) {
  if (!sys.periodic || !sys.cutoff_enabled)
    throw InvalidArgument("Ewald summation needs a periodic box with a cutoff (enable_pbc true, enable_cutoff true)");
  if (!(sys.ewald_tolerance > 0 && sys.ewald_tolerance < 0.1))
    throw InvalidArgument("ewald_tolerance must be between 0 and 0.1, got " + std::to_string(sys.ewald_tolerance));
  if (!(sys.ewald_alpha >= 0) || !std::isfinite(sys.ewald_alpha))
    throw InvalidArgument("ewald_alpha must be a non-negative number");
  const Eigen::Vector3d L = sys.box;
  if (!(L.minCoeff() > 0)) throw InvalidArgument("Ewald summation needs a positive periodic box");
  const std::size_t nf = sys.fragments.size();
  const Sites s = gather(sys);
  const std::size_t ns = s.r.size();
  double radius = 0.0;  // largest distance of a charge from its fragment's centre
  for (std::size_t i = 0; i < ns; ++i) radius = std::max(radius, (s.r[i] - sys.fragments[s.frag[i]].com).norm());

  // Real-space terms are taken over fragment pairs at their minimum image; another image of a pair is at least
  // L_min/2 − 2·radius away, so erfc must be negligible there.
  const double log_eps = -std::log(sys.ewald_tolerance);
  const double image_gap = 0.5 * L.minCoeff() - 2.0 * radius;
  double alpha = sys.ewald_alpha;
  if (alpha == 0.0) {
    const double r_real = std::min(sys.cutoff, image_gap);
    if (!(r_real > 0.25 * sys.cutoff))
      throw InvalidArgument("periodic box too small for Ewald summation: half the shortest box edge (" +
                            std::to_string(0.5 * L.minCoeff()) + " bohr) leaves too little room beyond two fragment radii (" +
                            std::to_string(2.0 * radius) + " bohr)");
    alpha = std::sqrt(log_eps) / r_real;
  } else if (!(image_gap > 0) || std::erfc(alpha * image_gap) > 10.0 * sys.ewald_tolerance) {
    throw InvalidArgument("ewald_alpha " + std::to_string(alpha) +
                          " bohr⁻¹ is too small for this box: real-space terms beyond the minimum image would be lost");
  }
  const double r_real = std::sqrt(log_eps) / alpha;
  const double kmax = 2.0 * alpha * std::sqrt(log_eps);
  const double V = L.prod();

  const bool want_grad = gradient != nullptr;
  std::vector<Eigen::Vector3d> site_grad;  // dE/dr_i of the reciprocal part
  if (want_grad) site_grad.assign(ns, Eigen::Vector3d::Zero());
  threads = std::max(1u, threads);

  // --- real space: fragment pairs at the minimum image, within the cutoff or close enough for erfc to matter.
  const double pair_reach = std::max(sys.cutoff, r_real) + 2.0 * radius;
  struct Part {
    double e = 0.0;
    std::vector<FragmentGradient> g;
    Eigen::Matrix3d w = Eigen::Matrix3d::Zero();
  };
  std::vector<Part> parts(threads);
  // First fragments dealt round-robin to threads (the pairs within reach cluster by index), no pair list: for
  // thousands of fragments it would be millions of entries.
  core::parallel_for(threads, threads, [&](std::size_t, std::size_t, unsigned chunk) {
    Part& P = parts[chunk];
    if (want_grad) P.g.assign(nf, FragmentGradient::Zero());
    for (std::size_t a = chunk; a < nf; a += threads)
    for (std::size_t b = a + 1; b < nf; ++b) {
      const Fragment& fa = sys.fragments[a];
      const Fragment& fb = sys.fragments[b];
      Eigen::Vector3d d = fb.com - fa.com;
      Eigen::Vector3d shift;
      for (int k = 0; k < 3; ++k) shift[k] = -L[k] * std::round(d[k] / L[k]);
      d += shift;
      const double R = d.norm();
      if (R > pair_reach) continue;
      const double sw = switching(R, sys.cutoff);
      const double dsw = switching_dr_over_r(R, sys.cutoff) * R;
      double bare = 0.0;                                    // Σ q_i q_j / r_ij (multiplies −s)
      Eigen::Vector3d gt = Eigen::Vector3d::Zero(), gr = Eigen::Vector3d::Zero();  // dE/d(b) translation, rotation
      for (std::size_t i = s.begin[a]; i < s.begin[a + 1]; ++i)
        for (std::size_t j = s.begin[b]; j < s.begin[b + 1]; ++j) {
          const Eigen::Vector3d rij = s.r[j] + shift - s.r[i];
          const double r = rij.norm();
          const double qq = s.q[i] * s.q[j];
          double f, df;
          erfc_over_r(alpha, r, f, df);
          const double inv = 1.0 / r;
          P.e += qq * (f - sw * inv);
          if (!want_grad) continue;
          bare += qq * inv;
          // d/dr_j of qq[erfc(αr)/r − s/r] at fixed s
          const Eigen::Vector3d g = qq * (df + sw * inv * inv) * inv * rij;
          gt += g;
          gr += (s.r[j] - fb.com).cross(g);
        }
      if (!want_grad) continue;
      if (dsw != 0.0) gt -= bare * dsw * (d / R);  // −s(R)·bare: the switching moves with b's centre
      // Rotation of a about its centre: g_a(θ) = −g_b(θ) − d × g_b(t) (the pair energy is invariant under a rigid
      // motion of both fragments).
      P.g[b].head<3>() += gt;
      P.g[b].tail<3>() += gr;
      P.g[a].head<3>() -= gt;
      P.g[a].tail<3>() -= gr + d.cross(gt);
      P.w -= d * gt.transpose();
    }
  });
  double e_real = 0.0;
  Eigen::Matrix3d w = Eigen::Matrix3d::Zero();
  for (auto& P : parts) {
    e_real += P.e;
    w += P.w;
    if (want_grad)
      for (std::size_t f = 0; f < nf; ++f) (*gradient)[f] += P.g[f];
  }

  // --- self, intramolecular exclusion, background: constant for rigid fragments at fixed α (no force); the
  // background depends on the volume.
  double e_self = 0.0, qtot = 0.0;
  for (std::size_t i = 0; i < ns; ++i) {
    e_self -= alpha / std::sqrt(kPi) * s.q[i] * s.q[i];
    qtot += s.q[i];
  }
  double e_intra = 0.0;
  for (std::size_t f = 0; f < nf; ++f)
    for (std::size_t i = s.begin[f]; i < s.begin[f + 1]; ++i)
      for (std::size_t j = i + 1; j < s.begin[f + 1]; ++j) {
        const double r = (s.r[j] - s.r[i]).norm();
        // Nuclei and electronic monopoles share positions: erf(αr)/r → 2α/√π.
        const double k = r < 1e-8 ? 2.0 * alpha / std::sqrt(kPi) : std::erf(alpha * r) / r;
        e_intra -= s.q[i] * s.q[j] * k;
      }
  const double e_background = -kPi * qtot * qtot / (2.0 * V * alpha * alpha);
  w += e_background * Eigen::Matrix3d::Identity();  // E ∝ 1/V: −dE/dε_aa = E

  // --- reciprocal space. Phase factors e^{i 2π n x/L} per site and axis by recurrence; columns (nx, ny) of the
  // half space are split over threads, each column running over nz with one pass for S(k) and one for forces.
  int nmax[3];
  for (int k = 0; k < 3; ++k) nmax[k] = static_cast<int>(std::floor(kmax * L[k] / (2.0 * kPi)));
  using C = std::complex<double>;
  std::vector<std::vector<C>> ph(3);  // ph[axis][i * (nmax+1) + n]
  for (int ax = 0; ax < 3; ++ax) {
    ph[ax].resize(ns * static_cast<std::size_t>(nmax[ax] + 1));
    for (std::size_t i = 0; i < ns; ++i) {
      const C step = std::polar(1.0, 2.0 * kPi * s.r[i][ax] / L[ax]);
      C* row = &ph[ax][i * static_cast<std::size_t>(nmax[ax] + 1)];
      row[0] = 1.0;
      for (int n = 1; n <= nmax[ax]; ++n) row[n] = row[n - 1] * step;
    }
  }
  auto phase = [&](int ax, std::size_t i, int n) {
    const C c = ph[ax][i * static_cast<std::size_t>(nmax[ax] + 1) + static_cast<std::size_t>(std::abs(n))];
    return n < 0 ? std::conj(c) : c;
  };
  std::vector<std::pair<int, int>> columns;
  for (int nx = 0; nx <= nmax[0]; ++nx)
    for (int ny = (nx == 0 ? 0 : -nmax[1]); ny <= nmax[1]; ++ny) columns.emplace_back(nx, ny);
  const double kmax2 = kmax * kmax;
  const double pref = 4.0 * kPi / V;
  struct RPart {
    double e = 0.0;
    Eigen::Matrix3d w = Eigen::Matrix3d::Zero();
    std::vector<Eigen::Vector3d> g;
    int kv = 0;
  };
  std::vector<RPart> rparts(threads);
  core::parallel_for(columns.size(), threads, [&](std::size_t begin, std::size_t end, unsigned chunk) {
    RPart& P = rparts[chunk];
    if (want_grad) P.g.assign(ns, Eigen::Vector3d::Zero());
    std::vector<C> exy(ns), e(ns);
    for (std::size_t c = begin; c < end; ++c) {
      const auto [nx, ny] = columns[c];
      const double kx = 2.0 * kPi * nx / L[0], ky = 2.0 * kPi * ny / L[1];
      if (kx * kx + ky * ky > kmax2) continue;
      for (std::size_t i = 0; i < ns; ++i) exy[i] = s.q[i] * phase(0, i, nx) * phase(1, i, ny);
      const int nz0 = (nx == 0 && ny == 0) ? 1 : -nmax[2];  // half space: k and −k give the same term
      for (int nz = nz0; nz <= nmax[2]; ++nz) {
        const double kz = 2.0 * kPi * nz / L[2];
        const double k2 = kx * kx + ky * ky + kz * kz;
        if (k2 > kmax2) continue;
        ++P.kv;
        C S = 0.0;
        for (std::size_t i = 0; i < ns; ++i) {
          e[i] = exy[i] * phase(2, i, nz);
          S += e[i];
        }
        const double fk = pref * std::exp(-k2 / (4.0 * alpha * alpha)) / k2;
        const double s2 = std::norm(S);
        P.e += fk * s2;
        if (!want_grad) continue;
        const Eigen::Vector3d kv(kx, ky, kz);
        const double b = 2.0 * (1.0 / k2 + 1.0 / (4.0 * alpha * alpha));
        P.w += fk * s2 * (Eigen::Matrix3d::Identity() - b * kv * kv.transpose());
        // d|S|²/dr_i = −2 k Im(q_i e_i S*)
        for (std::size_t i = 0; i < ns; ++i) {
          const double im = e[i].imag() * S.real() - e[i].real() * S.imag();
          P.g[i] -= (2.0 * fk * im) * kv;
        }
      }
    }
  });
  double e_recip = 0.0;
  int kvectors = 0;
  for (auto& P : rparts) {
    e_recip += P.e;
    w += P.w;
    kvectors += P.kv;
    if (want_grad)
      for (std::size_t i = 0; i < ns; ++i) site_grad[i] += P.g[i];
  }
  if (want_grad) {
    for (std::size_t i = 0; i < ns; ++i) {
      const Fragment& f = sys.fragments[s.frag[i]];
      const Eigen::Vector3d rho = s.r[i] - f.com;
      (*gradient)[s.frag[i]].head<3>() += site_grad[i];
      (*gradient)[s.frag[i]].tail<3>() += rho.cross(site_grad[i]);
      // Atomic → molecular virial: rigid fragments do not stretch, W_mol = Π − Σ ρ_i ⊗ f_i with f_i = −dE/dr_i.
      w += rho * site_grad[i].transpose();
    }
  }
  if (virial && want_grad) *virial += w;
  if (info) *info = EwaldInfo{alpha, r_real, kvectors};
  return e_real + e_recip + e_self + e_intra + e_background;
}

}  // namespace tsunagu::fragmd::detail
