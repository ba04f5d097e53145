// EFP2 polarisation as libefp computes it (energies and gradients checked against efpmd 2.0.0 output).
//
// Every static polarisable point p (fragment f, tensor α_p) feels the static field E0_p of all other fragments:
// their nuclei, electronic charges, dipoles and quadrupoles (libefp ignores octupole–polarisability terms), and
// the field of the external point charges. Fragment–fragment fields are multiplied by the pair's switching
// factor (cutoff runs) and, with PolDamp::TangToennies, by 1 − e^{−c r²}(1 + c r²), c = sqrt(pol_damp_f·pol_damp_g)
// for each source point at distance r; point-charge fields are neither damped nor switched (as libefp).
// Induced dipoles solve, by Jacobi iteration from zero,
//   μ_p = α_p (E0_p + Σ_q T_pq μ_q),   μ̄_p = α_pᵀ (E0_p + Σ_q T_pq μ̄_q),
// T_pq the (equally damped and switched) dipole field tensor between points of different fragments; converged
// when Σ_p (|Δμ_p| + |Δμ̄_p|) / (2 N) < tolerance (libefp's criterion). The energy is
//   E_pol = −½ Σ_p μ_p · E0_p   (hartree).
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <sstream>
#include <string>

#include <Eigen/Geometry>

#include "field.hpp"
#include "pol_disp_grad.hpp"
#include "switching.hpp"
#include "tsunagu/core/error.hpp"
#include "tsunagu/core/thread_pool.hpp"
#include "tsunagu/fragmd/terms.hpp"

namespace tsunagu::fragmd {

namespace detail {

namespace {

constexpr double kDefaultPolDamp = 0.6;  // bohr⁻², libefp's default when a fragment has no POLAB group

double pol_damp_of(const Fragment& f) { return f.type ? f.type->pol_damp : kDefaultPolDamp; }

// 1 − e^{−x}(1 + x) is exactly 1 in double precision once x > ~40; skipping the exp there is most of the work
// saved in large systems.
constexpr double kDampSaturated = 45.0;

void validate(const std::vector<Fragment>& fragments, const PolOptions& o) {
  if (o.periodic && !(o.box.x() > 0.0 && o.box.y() > 0.0 && o.box.z() > 0.0))
    throw InvalidArgument("polarization: periodic box must have three positive edges (bohr)");
  if (o.cutoff < 0.0) throw InvalidArgument("polarization: cutoff must be >= 0 (bohr)");
  if (!(o.tolerance > 0.0)) throw InvalidArgument("polarization: tolerance must be > 0");
  if (o.max_iterations < 1) throw InvalidArgument("polarization: max_iterations must be >= 1");
  for (const auto& f : fragments)
    if (f.type && !(f.type->pol_damp > 0.0) && o.damp == PolDamp::TangToennies)
      throw InvalidArgument("polarization: fragment type '" + f.type->name + "' has a non-positive POLAB value");
}

// Damping factor for a source–target distance squared r2 and pair constant c = sqrt(pa·pb).
inline double damp_factor(bool damped, double c, double r2) {
  if (!damped) return 1.0;
  const double x = c * r2;
  if (x > kDampSaturated) return 1.0;
  return 1.0 - std::exp(-x) * (1.0 + x);
}

// A static field source in compact form: nuclei are charge-only sources, multipole points carry their electronic
// charge, dipole and Buckingham quadrupole (octupoles do not polarise in libefp).
struct Source {
  Eigen::Vector3d r;
  double q = 0.0;
  Eigen::Vector3d mu = Eigen::Vector3d::Zero();
  Eigen::Matrix3d theta = Eigen::Matrix3d::Zero();
  bool charge_only = true;
};

std::vector<Source> compact_sources(const Fragment& f) {
  std::vector<Source> out;
  out.reserve(f.atoms.size() + f.multipoles.size());
  for (const Atom& a : f.atoms) out.push_back({a.r, a.znuc, Eigen::Vector3d::Zero(), Eigen::Matrix3d::Zero(), true});
  for (const MultipolePoint& m : f.multipoles)
    out.push_back({m.r, m.monopole, m.dipole, quadrupole_matrix(m.quadrupole), false});
  return out;
}

// charge_field + dipole_field + quadrupole_field of one source with a single square root.
inline Eigen::Vector3d source_field(const Source& s, const Eigen::Vector3d& r, double r2) {
  const double ir2 = 1.0 / r2;
  const double ir3 = std::sqrt(ir2) * ir2;
  if (s.charge_only) return s.q * ir3 * r;
  const double ir5 = ir3 * ir2;
  const Eigen::Vector3d v = s.theta * r;
  const double radial = s.q * ir3 + 3.0 * s.mu.dot(r) * ir5 + 5.0 * r.dot(v) * ir5 * ir2;
  return radial * r - ir3 * s.mu - 2.0 * ir5 * v;
}

}  // namespace

DampValue pol_damp_tt(double r, double pa, double pb) {
  const double c = std::sqrt(pa * pb);
  const double x = c * r * r;
  const double e = std::exp(-x);
  // d/dr [1 − e^{−x}(1 + x)] = 2 c r · x e^{−x}.
  return {1.0 - e * (1.0 + x), 2.0 * c * r * x * e};
}

PairGeometry pair_geometry(const Fragment& f, const Fragment& g, const PolOptions& o) {
  PairGeometry pg;
  Eigen::Vector3d dr = g.com - f.com;
  if (o.periodic) {
    const Eigen::Vector3d cell = o.box.cwiseProduct((dr.array() / o.box.array()).round().matrix());
    pg.shift = -cell;
    dr -= cell;
  }
  if (o.cutoff > 0.0) {
    const double r = dr.norm();
    if (r > o.cutoff) {
      pg.skip = true;
      pg.swf = 0.0;
      return pg;
    }
    pg.swf = switching(r, o.cutoff);
    pg.dswf = switching_dr_over_r(r, o.cutoff) * dr;
    if (pg.swf == 0.0) pg.skip = true;
  }
  return pg;
}

// Field of the induced dipoles `mu` (and of the conjugate dipoles `mu_conj`) at every polarisable point, from
// points of other fragments: damped like the static field and scaled by the pair's switching factor. T_pq is
// symmetric, so each fragment pair is visited once; fragments are dealt round-robin to per-thread accumulators
// (balanced over the triangle of pairs) that are summed in a fixed order.
//
// The Jacobi iterations apply the same tensors every time, so solve_polarization lists them once (dipole_pairs) and
// replays the list per iteration; the gradient's single evaluation, and systems whose list would exceed
// kMaxCachedPairs entries (memory), visit the pairs on the fly. Both go through visit_dipole_pairs and add_pair, so
// the fields are bit-identical either way.
struct DipolePair {
  std::uint32_t p, q;           // global polarisable-point indices
  double rx, ry, rz, s, s3;     // r = x_p − x_q (image), s = swf·damp/r³, s3 = 3 s / r²
};
constexpr std::size_t kMaxCachedPairs = std::size_t{1} << 22;  // 4.2 M entries of 48 bytes, 200 MB

static unsigned pol_threads(const PolOptions& o) { return std::max(1u, o.threads ? o.threads : core::default_threads()); }

/// Calls fn(pair) for every point pair whose first fragment f ≡ t (mod threads); stops early when stop() is true.
template <typename Fn, typename Stop>
static void visit_dipole_pairs(const std::vector<Fragment>& fragments, const std::vector<std::size_t>& offset,
                               const PolOptions& o, unsigned t, unsigned threads, Fn&& fn, Stop&& stop) {
  const std::size_t nf = fragments.size();
  const bool damped = o.damp == PolDamp::TangToennies;
  for (std::size_t f = t; f < nf && !stop(); f += threads) {
    const Fragment& ff = fragments[f];
    for (std::size_t g = f + 1; g < nf; ++g) {
      const Fragment& fg = fragments[g];
      const PairGeometry pg = pair_geometry(ff, fg, o);
      if (pg.skip) continue;
      const double c = std::sqrt(pol_damp_of(ff) * pol_damp_of(fg));
      for (std::size_t p = 0; p < ff.polarizable.size(); ++p) {
        const Eigen::Vector3d x = ff.polarizable[p].r - pg.shift;
        for (std::size_t q = 0; q < fg.polarizable.size(); ++q) {
          const Eigen::Vector3d r = x - fg.polarizable[q].r;
          const double r2 = r.squaredNorm(), ir2 = 1.0 / r2;
          const double sv = pg.swf * damp_factor(damped, c, r2) * std::sqrt(ir2) * ir2;  // swf·p1 / r³
          fn(DipolePair{static_cast<std::uint32_t>(offset[f] + p), static_cast<std::uint32_t>(offset[g] + q), r.x(),
                        r.y(), r.z(), sv, 3.0 * sv * ir2});
        }
      }
    }
  }
}

/// E_p += s(3(μ_q·r) r/r² − μ_q) and symmetrically for q (the field is even in r), for μ and the conjugate μ̄.
static inline void add_pair(const DipolePair& d, const std::vector<Eigen::Vector3d>& mu,
                            const std::vector<Eigen::Vector3d>& mu_conj, std::vector<Eigen::Vector3d>& a,
                            std::vector<Eigen::Vector3d>& ac) {
  const Eigen::Vector3d r(d.rx, d.ry, d.rz);
  a[d.p] += d.s3 * mu[d.q].dot(r) * r - d.s * mu[d.q];
  a[d.q] += d.s3 * mu[d.p].dot(r) * r - d.s * mu[d.p];
  ac[d.p] += d.s3 * mu_conj[d.q].dot(r) * r - d.s * mu_conj[d.q];
  ac[d.q] += d.s3 * mu_conj[d.p].dot(r) * r - d.s * mu_conj[d.p];
}

/// Runs per_thread(t, a, ac) on `threads` private accumulators and sums them in thread order into out, out_conj.
template <typename PerThread>
static void accumulate_fields(std::size_t n, unsigned threads, PerThread&& per_thread, std::vector<Eigen::Vector3d>& out,
                              std::vector<Eigen::Vector3d>& out_conj) {
  std::vector<std::vector<Eigen::Vector3d>> acc(threads), acc_conj(threads);
  core::parallel_for(threads, threads, [&](std::size_t, std::size_t, unsigned t) {
    acc[t].assign(n, Eigen::Vector3d::Zero());
    acc_conj[t].assign(n, Eigen::Vector3d::Zero());
    per_thread(t, acc[t], acc_conj[t]);
  });
  out.assign(n, Eigen::Vector3d::Zero());
  out_conj.assign(n, Eigen::Vector3d::Zero());
  for (unsigned t = 0; t < threads; ++t)
    for (std::size_t k = 0; k < n; ++k) {
      out[k] += acc[t][k];
      out_conj[k] += acc_conj[t][k];
    }
}

static void induced_fields(const std::vector<Fragment>& fragments, const std::vector<std::size_t>& offset,
                           const PolOptions& o, const std::vector<Eigen::Vector3d>& mu,
                           const std::vector<Eigen::Vector3d>& mu_conj, std::vector<Eigen::Vector3d>& out,
                           std::vector<Eigen::Vector3d>& out_conj) {
  const unsigned threads = pol_threads(o);
  accumulate_fields(
      mu.size(), threads,
      [&](unsigned t, std::vector<Eigen::Vector3d>& a, std::vector<Eigen::Vector3d>& ac) {
        visit_dipole_pairs(
            fragments, offset, o, t, threads, [&](const DipolePair& d) { add_pair(d, mu, mu_conj, a, ac); },
            [] { return false; });
      },
      out, out_conj);
}

/// Per-thread lists of every point pair (the split induced_fields uses); empty when they would exceed
/// kMaxCachedPairs entries.
static std::vector<std::vector<DipolePair>> dipole_pairs(const std::vector<Fragment>& fragments,
                                                         const std::vector<std::size_t>& offset, const PolOptions& o) {
  const unsigned threads = pol_threads(o);
  std::vector<std::vector<DipolePair>> out(threads);
  std::atomic<bool> too_many{false};
  core::parallel_for(threads, threads, [&](std::size_t, std::size_t, unsigned t) {
    auto& list = out[t];
    visit_dipole_pairs(
        fragments, offset, o, t, threads, [&](const DipolePair& d) { list.push_back(d); },
        [&] {
          if (list.size() > kMaxCachedPairs / threads) too_many = true;
          return too_many.load();
        });
  });
  if (too_many) out.clear();  // the caller recomputes the tensors per iteration instead
  return out;
}

static void induced_fields_cached(const std::vector<std::vector<DipolePair>>& pairs, const std::vector<Eigen::Vector3d>& mu,
                                  const std::vector<Eigen::Vector3d>& mu_conj, std::vector<Eigen::Vector3d>& out,
                                  std::vector<Eigen::Vector3d>& out_conj) {
  accumulate_fields(
      mu.size(), static_cast<unsigned>(pairs.size()),
      [&](unsigned t, std::vector<Eigen::Vector3d>& a, std::vector<Eigen::Vector3d>& ac) {
        for (const DipolePair& d : pairs[t]) add_pair(d, mu, mu_conj, a, ac);
      },
      out, out_conj);
}

PolState solve_polarization(const std::vector<Fragment>& fragments, const std::vector<PointCharge>& charges,
                            const PolOptions& o) {
  validate(fragments, o);
  const std::size_t nf = fragments.size();
  std::vector<std::size_t> offset(nf + 1, 0);
  for (std::size_t f = 0; f < nf; ++f) offset[f + 1] = offset[f] + fragments[f].polarizable.size();
  const std::size_t n = offset[nf];

  PolState st;
  st.static_field.assign(n, Eigen::Vector3d::Zero());
  st.induced.assign(n, Eigen::Vector3d::Zero());
  st.induced_conj.assign(n, Eigen::Vector3d::Zero());
  if (n == 0) return st;
  const bool damped = o.damp == PolDamp::TangToennies;

  // Compact copies of the sources (the static field is the dominant cost for large systems).
  std::vector<std::vector<Source>> sources(nf);
  for (std::size_t g = 0; g < nf; ++g) sources[g] = compact_sources(fragments[g]);

  // Static field, parallel over target fragments (each chunk writes only its own points).
  core::parallel_for(nf, o.threads, [&](std::size_t begin, std::size_t end, unsigned) {
    for (std::size_t f = begin; f < end; ++f) {
      const Fragment& ff = fragments[f];
      for (std::size_t g = 0; g < nf; ++g) {
        if (g == f) continue;
        const PairGeometry pg = pair_geometry(ff, fragments[g], o);
        if (pg.skip) continue;
        const double c = std::sqrt(pol_damp_of(ff) * pol_damp_of(fragments[g]));
        for (std::size_t p = 0; p < ff.polarizable.size(); ++p) {
          const Eigen::Vector3d x = ff.polarizable[p].r - pg.shift;
          Eigen::Vector3d e = Eigen::Vector3d::Zero();
          for (const Source& src : sources[g]) {
            const Eigen::Vector3d r = x - src.r;
            const double r2 = r.squaredNorm();
            e += damp_factor(damped, c, r2) * source_field(src, r, r2);
          }
          st.static_field[offset[f] + p] += pg.swf * e;
        }
      }
      for (std::size_t p = 0; p < ff.polarizable.size(); ++p)
        for (const PointCharge& q : charges)
          st.static_field[offset[f] + p] += charge_field(q.q, ff.polarizable[p].r - q.r);
    }
  });

  std::vector<std::vector<DipolePair>> pairs;
  if (n < (std::size_t{1} << 32)) pairs = dipole_pairs(fragments, offset, o);
  std::vector<Eigen::Vector3d> ind, ind_conj, next(n), next_conj(n);
  for (int it = 1;; ++it) {
    if (pairs.empty()) induced_fields(fragments, offset, o, st.induced, st.induced_conj, ind, ind_conj);
    else induced_fields_cached(pairs, st.induced, st.induced_conj, ind, ind_conj);
    double conv = 0.0;
    for (std::size_t f = 0; f < nf; ++f)
      for (std::size_t p = 0; p < fragments[f].polarizable.size(); ++p) {
        const std::size_t k = offset[f] + p;
        const Eigen::Matrix3d& alpha = fragments[f].polarizable[p].alpha;
        next[k] = alpha * (st.static_field[k] + ind[k]);
        next_conj[k] = alpha.transpose() * (st.static_field[k] + ind_conj[k]);
        conv += (next[k] - st.induced[k]).norm() + (next_conj[k] - st.induced_conj[k]).norm();
      }
    conv /= 2.0 * static_cast<double>(n);
    st.induced.swap(next);
    st.induced_conj.swap(next_conj);
    st.iterations = it;
    if (!std::isfinite(conv))
      throw NumericalError("polarization: induced dipoles became non-finite (overlapping polarisable points?)");
    if (conv < o.tolerance) break;
    if (it >= o.max_iterations) {
      std::ostringstream msg;
      msg << "polarization: induced dipoles did not converge in " << o.max_iterations
          << " iterations (last change " << conv << ", tolerance " << o.tolerance
          << "); fragments may be too close or the polarisation catastrophe is not damped";
      throw NumericalError(msg.str());
    }
  }

  double e = 0.0;
  for (std::size_t k = 0; k < n; ++k) e += st.induced[k].dot(st.static_field[k]);
  st.energy = -0.5 * e;
  return st;
}


// Analytic gradient. With M = A⁻¹ − T (A = blocks α_p, T the damped/switched dipole tensor, symmetric),
// μ = M⁻¹E0, μ̄ = M⁻ᵀE0 and E = −½ E0ᵀμ:
//   dE = −½ (μ + μ̄)·dE0 − ½ μ̄ᵀ (dT) μ + ½ μ̄ᵀ d(A⁻¹) μ.
// Term 1 is the interaction of the frozen lab-frame dipoles d_p = ½(μ_p + μ̄_p) with the static sources, term 2
// the interaction −½ μ̄_p·T_pq μ_q of frozen induced dipoles; both depend on the positions (and, for term 1, on the
// orientation of the source multipoles). Term 3 comes from α rotating with its fragment: d(A⁻¹) = ΩA⁻¹ − A⁻¹Ω gives
// dE/dθ_f += ½ Σ_p (E_p × μ̄_p + Ē_p × μ_p), E_p = A_p⁻¹μ_p = E0_p + (Tμ)_p and Ē_p = E0_p + (Tμ̄)_p.
// The rotational derivative of a source multipole's moments follows from rotational invariance of each pair term
// u(r, d, moments): τ_moments = −r × ∂u/∂r − d × ∂u/∂d, so no multipole torque formulas are needed.
double polarization_gradient(const std::vector<Fragment>& fragments, const std::vector<PointCharge>& charges,
                             const PolOptions& o, std::vector<FragmentGradient>& grad, Eigen::Matrix3d* virial) {
  const std::size_t nf = fragments.size();
  if (grad.size() != nf)
    throw InvalidArgument("polarization_gradient: gradient has " + std::to_string(grad.size()) + " entries for " +
                          std::to_string(nf) + " fragments");
  const PolState st = solve_polarization(fragments, charges, o);
  std::vector<std::size_t> offset(nf + 1, 0);
  for (std::size_t f = 0; f < nf; ++f) offset[f + 1] = offset[f] + fragments[f].polarizable.size();
  if (offset[nf] == 0) return st.energy;
  std::vector<Eigen::Vector3d> ind, ind_conj;
  induced_fields(fragments, offset, o, st.induced, st.induced_conj, ind, ind_conj);
  const bool damped = o.damp == PolDamp::TangToennies;

  // Each target fragment f accumulates its own terms and those of its sources g in a private array (per chunk),
  // merged in chunk order afterwards.
  const unsigned threads = std::max(1u, o.threads ? o.threads : core::default_threads());
  std::vector<std::vector<FragmentGradient>> part(threads);
  std::vector<Eigen::Matrix3d> vpart(threads, Eigen::Matrix3d::Zero());
  core::parallel_for(nf, threads, [&](std::size_t begin, std::size_t end, unsigned chunk) {
    auto& gp = part[chunk];
    auto& vp = vpart[chunk];
    gp.assign(nf, FragmentGradient::Zero());
    for (std::size_t f = begin; f < end; ++f) {
      const Fragment& ff = fragments[f];
      for (std::size_t g = 0; g < nf; ++g) {
        if (g == f) continue;
        const Fragment& fg = fragments[g];
        const PairGeometry pg = pair_geometry(ff, fg, o);
        if (pg.skip) continue;
        const double pa = pol_damp_of(ff), pb = pol_damp_of(fg);
        const Eigen::Vector3d dcom = fg.com + pg.shift - ff.com;  // image COM separation f → g, for the virial
        double e_pair = 0.0;  // unswitched energy of this ordered pair, for the switching-function derivative
        // ∂u/∂r of one source term acting on point x_p of f, source at y (already shifted) of g.
        auto add = [&](const Eigen::Vector3d& x, const Eigen::Vector3d& y, const Eigen::Vector3d& gu,
                       const Eigen::Vector3d& tau_moments) {
          gp[f].head<3>() += pg.swf * gu;
          gp[f].tail<3>() += pg.swf * (x - ff.com).cross(gu);
          gp[g].head<3>() -= pg.swf * gu;
          gp[g].tail<3>() += pg.swf * ((y - pg.shift - fg.com).cross(-gu) + tau_moments);
          vp += dcom * (pg.swf * gu).transpose();  // molecular virial: separation ⊗ force on g (= swf·gu)
        };
        for (std::size_t p = 0; p < ff.polarizable.size(); ++p) {
          const std::size_t k = offset[f] + p;
          const Eigen::Vector3d& x = ff.polarizable[p].r;
          const Eigen::Vector3d d = 0.5 * (st.induced[k] + st.induced_conj[k]);
          // Term 1: u = −d·(p1 E_source).
          auto static_source = [&](const Eigen::Vector3d& y, const Eigen::Vector3d& e_src,
                                   const Eigen::Matrix3d& g_src) {
            const Eigen::Vector3d r = x - y;
            const double rr = r.norm();
            const DampValue p1 = damped ? pol_damp_tt(rr, pa, pb) : DampValue{};
            const double de = d.dot(e_src);
            e_pair += -p1.f * de;
            const Eigen::Vector3d gu = -(p1.f * (g_src * d) + de * p1.df / rr * r);
            const Eigen::Vector3d tau_d = d.cross(-p1.f * e_src);
            add(x, y, gu, -r.cross(gu) - tau_d);
          };
          for (const Atom& at : fg.atoms) {
            const Eigen::Vector3d y = at.r + pg.shift;
            static_source(y, charge_field(at.znuc, x - y), charge_field_gradient(at.znuc, x - y));
          }
          for (const MultipolePoint& m : fg.multipoles) {
            const Eigen::Vector3d y = m.r + pg.shift, r = x - y;
            static_source(y,
                          charge_field(m.monopole, r) + dipole_field(m.dipole, r) +
                              quadrupole_field(m.quadrupole, r),
                          charge_field_gradient(m.monopole, r) + dipole_field_gradient(m.dipole, r) +
                              quadrupole_field_gradient(m.quadrupole, r));
          }
          // Term 2: u = −½ p1 μ̄_p · E_dip(μ_q); the (q, p) ordering is visited from fragment g's side.
          for (std::size_t q = 0; q < fg.polarizable.size(); ++q) {
            const Eigen::Vector3d y = fg.polarizable[q].r + pg.shift, r = x - y;
            const double rr = r.norm();
            const DampValue p1 = damped ? pol_damp_tt(rr, pa, pb) : DampValue{};
            const Eigen::Vector3d& mq = st.induced[offset[g] + q];
            const Eigen::Vector3d& mcp = st.induced_conj[k];
            const double de = mcp.dot(dipole_field(mq, r));
            e_pair += -0.5 * p1.f * de;
            const Eigen::Vector3d gu = -0.5 * (p1.f * (dipole_field_gradient(mq, r) * mcp) + de * p1.df / rr * r);
            add(x, y, gu, Eigen::Vector3d::Zero());
          }
        }
        // Switching factor of the (f, g) pair: dswf is ∂s/∂(COM of g).
        gp[g].head<3>() += e_pair * pg.dswf;
        gp[f].head<3>() -= e_pair * pg.dswf;
        vp -= dcom * (e_pair * pg.dswf).transpose();
      }
      for (std::size_t p = 0; p < ff.polarizable.size(); ++p) {
        const std::size_t k = offset[f] + p;
        const Eigen::Vector3d& x = ff.polarizable[p].r;
        const Eigen::Vector3d d = 0.5 * (st.induced[k] + st.induced_conj[k]);
        // Point charges are fixed in space: only the polarisable point moves.
        for (const PointCharge& c : charges) {
          const Eigen::Vector3d gu = -(charge_field_gradient(c.q, x - c.r) * d);
          gp[f].head<3>() += gu;
          gp[f].tail<3>() += (x - ff.com).cross(gu);
        }
        // Term 3: α rotates with the fragment.
        const Eigen::Vector3d e_tot = st.static_field[k] + ind[k], e_tot_conj = st.static_field[k] + ind_conj[k];
        gp[f].tail<3>() += 0.5 * (e_tot.cross(st.induced_conj[k]) + e_tot_conj.cross(st.induced[k]));
      }
    }
  });
  for (const auto& gp : part)
    if (!gp.empty())
      for (std::size_t f = 0; f < nf; ++f) grad[f] += gp[f];
  if (virial)
    for (const auto& v : vpart) *virial += v;
  return st.energy;
}

}  // namespace detail

PolResult polarization(const std::vector<Fragment>& fragments, const std::vector<PointCharge>& charges,
                       const PolOptions& options) {
  detail::PolState st = detail::solve_polarization(fragments, charges, options);
  PolResult res;
  res.energy = st.energy;
  res.iterations = st.iterations;
  res.induced = std::move(st.induced);
  return res;
}

}  // namespace tsunagu::fragmd
