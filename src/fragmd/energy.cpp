// EFP2 system energy: the pair loop, periodic images, switching function, polarisation and point charges.
#include "tsunagu/fragmd/energy.hpp"

#include <cmath>
#include <mutex>

#include "ewald.hpp"
#include "pol_disp_grad.hpp"
#include "switching.hpp"
#include "xr_grad.hpp"
#include "tsunagu/core/error.hpp"
#include "tsunagu/core/thread_pool.hpp"

namespace tsunagu::fragmd {

std::vector<std::pair<std::string, double>> named_terms(const EnergyTerms& e) {
  return {{"electrostatic", e.electrostatic},
          {"charge_penetration", e.charge_penetration},
          {"electrostatic_point_charges", e.electrostatic_point_charges},
          {"polarization", e.polarization},
          {"dispersion", e.dispersion},
          {"exchange_repulsion", e.exchange_repulsion},
          {"restraint", e.restraint}};
}

void ComputeOptions::validate() const {
  if (!(pol_tolerance > 0) || !std::isfinite(pol_tolerance))
    throw InvalidArgument("ComputeOptions.pol_tolerance must be a positive number");
}

namespace {

struct PairGeom {
  Eigen::Vector3d shift = Eigen::Vector3d::Zero();  // added to fragment b's coordinates
  Eigen::Vector3d u = Eigen::Vector3d::Zero();      // unit COM separation a → b (image)
  double s = 1.0, ds = 0.0;                          // switching value and d s / d r
  bool skip = false;
};

PairGeom geometry(const System& sys, const Fragment& a, const Fragment& b) {
  PairGeom g;
  if (!sys.cutoff_enabled) return g;
  Eigen::Vector3d dr = b.com - a.com;
  if (sys.periodic) {
    for (int k = 0; k < 3; ++k) g.shift[k] = -sys.box[k] * std::round(dr[k] / sys.box[k]);
    dr += g.shift;
  }
  const double r = dr.norm();
  g.s = detail::switching(r, sys.cutoff);
  g.skip = g.s == 0.0;
  g.ds = detail::switching_dr_over_r(r, sys.cutoff) * r;
  g.u = r > 0 ? Eigen::Vector3d(dr / r) : Eigen::Vector3d::Zero();
  return g;
}

}  // namespace

ComputeResult compute(const System& sys, const ComputeOptions& opt) {
  opt.validate();
  if (sys.ewald && !sys.terms.elec)
    throw InvalidArgument("ewald is on but the elec term is off: the Ewald sum completes the electrostatics (add elec "
                          "to terms, or drop ewald)");
  const std::size_t n = sys.fragments.size();
  ComputeResult res;
  if (opt.gradient) res.gradient.assign(n, FragmentGradient::Zero());
  const bool need_xr = sys.terms.xr || (sys.terms.elec && sys.elec_damp == ElecDamp::Overlap) ||
                       (sys.terms.disp && sys.disp_damp == DispDamp::Overlap);
  // Pairs (i < j) in a fixed order; each chunk accumulates privately and the chunks are merged in order, so the
  // result is reproducible for a given thread count and differs between thread counts only by summation order.
  std::vector<std::pair<std::size_t, std::size_t>> pairs;
  pairs.reserve(n * (n - 1) / 2);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = i + 1; j < n; ++j) pairs.emplace_back(i, j);
  unsigned threads = opt.threads ? opt.threads : core::default_threads();
  threads = std::max(1u, std::min<unsigned>(threads, static_cast<unsigned>(std::max<std::size_t>(1, pairs.size()))));
  std::vector<EnergyTerms> part(threads);
  std::vector<std::vector<FragmentGradient>> gpart(threads);
  std::vector<Eigen::Matrix3d> vir(threads, Eigen::Matrix3d::Zero());
  // Pairs are dealt round-robin (pair p to chunk p mod threads), not in contiguous blocks: close pairs, whose
  // exchange-repulsion integrals dominate, cluster by index, and contiguous blocks left one thread with most of them.
  core::parallel_for(threads, threads, [&](std::size_t, std::size_t, unsigned chunk) {
    EnergyTerms& e = part[chunk];
    auto& gp = gpart[chunk];
    if (opt.gradient) gp.assign(n, FragmentGradient::Zero());
    for (std::size_t p = chunk; p < pairs.size(); p += threads) {
      const auto [i, j] = pairs[p];
      const Fragment& a = sys.fragments[i];
      const Fragment& b = sys.fragments[j];
      const PairGeom g = geometry(sys, a, b);
      if (g.skip) continue;
      const Eigen::Vector3d d = b.com + g.shift - a.com;  // image COM separation a → b
      // Adds s·E_pair to `acc`, its gradient (switching included) to both fragments, and the pair's molecular
      // virial d ⊗ F_b (F_b = −dE/dc_b) to the chunk's virial.
      auto add = [&](double& acc, double epair, const FragmentGradient& ga, const FragmentGradient& gb) {
        acc += g.s * epair;
        if (!opt.gradient) return;
        FragmentGradient ta = g.s * ga, tb = g.s * gb;
        ta.head<3>() -= epair * g.ds * g.u;
        tb.head<3>() += epair * g.ds * g.u;
        gp[i] += ta;
        gp[j] += tb;
        vir[chunk] -= d * tb.head<3>().transpose();
      };
      const FragmentGradient zero = FragmentGradient::Zero();
      if (sys.terms.elec) {
        if (opt.gradient) {
          FragmentGradient ga = zero, gb = zero;
          double ep = elec_pair_gradient(a, b, g.shift, sys.elec_damp, ga, gb);
          add(e.electrostatic, ep, ga, gb);
        } else {
          e.electrostatic += g.s * elec_pair(a, b, g.shift, sys.elec_damp);
        }
      }
      const bool want_cp = sys.terms.elec && sys.elec_damp == ElecDamp::Overlap;
      const bool want_sd = sys.terms.disp && sys.disp_damp == DispDamp::Overlap;
      if (need_xr && !opt.gradient) {
        XrPair xr = xr_pair(a, b, g.shift);
        if (sys.terms.xr) e.exchange_repulsion += g.s * xr.exchange_repulsion;
        if (want_cp) e.charge_penetration += g.s * xr.charge_penetration;
        if (sys.terms.disp) e.dispersion += g.s * disp_pair(a, b, g.shift, sys.disp_damp, want_sd ? &xr.lmo_overlap : nullptr);
      } else if (need_xr) {
        XrPairGradient xg = xr_pair_gradient(a, b, g.shift, want_sd);  // dS/dq only for overlap-damped dispersion
        if (sys.terms.xr) add(e.exchange_repulsion, xg.energy.exchange_repulsion, xg.xr_a, xg.xr_b);
        if (want_cp) add(e.charge_penetration, xg.energy.charge_penetration, xg.cp_a, xg.cp_b);
        if (sys.terms.disp) {
          FragmentGradient ga = zero, gb = zero;
          double ep = detail::disp_pair_gradient(a, b, g.shift, sys.disp_damp, want_sd ? &xg.energy.lmo_overlap : nullptr,
                                                 want_sd ? &xg.lmo_overlap_deriv_a : nullptr,
                                                 want_sd ? &xg.lmo_overlap_deriv_b : nullptr, ga, gb);
          add(e.dispersion, ep, ga, gb);
        }
      } else if (sys.terms.disp) {
        if (opt.gradient) {
          FragmentGradient ga = zero, gb = zero;
          double ep = detail::disp_pair_gradient(a, b, g.shift, sys.disp_damp, nullptr, nullptr, nullptr, ga, gb);
          add(e.dispersion, ep, ga, gb);
        } else {
          e.dispersion += g.s * disp_pair(a, b, g.shift, sys.disp_damp, nullptr);
        }
      }
    }
  });
  for (unsigned t = 0; t < threads; ++t) {
    res.energy.electrostatic += part[t].electrostatic;
    res.energy.charge_penetration += part[t].charge_penetration;
    res.energy.dispersion += part[t].dispersion;
    res.energy.exchange_repulsion += part[t].exchange_repulsion;
    if (opt.gradient && !gpart[t].empty())
      for (std::size_t k = 0; k < n; ++k) res.gradient[k] += gpart[t][k];
    res.virial += vir[t];
  }
  if (sys.ewald) {
    // Long-range completion of the bare charge–charge terms the switched pair loop counted (ewald.hpp).
    detail::EwaldInfo info;
    res.energy.electrostatic += detail::ewald_correction(sys, threads, opt.gradient ? &res.gradient : nullptr,
                                                         opt.gradient ? &res.virial : nullptr, &info);
    res.ewald_alpha = info.alpha;
    res.ewald_kvectors = info.kvectors;
  }
  if (sys.terms.elec && !sys.charges.empty()) {
    // External charges: fixed sources, so they add to the fragments' gradients but not to the molecular virial.
    for (std::size_t k = 0; k < n; ++k)
      res.energy.electrostatic_point_charges +=
          opt.gradient ? elec_point_charges_gradient(sys.fragments[k], sys.charges, res.gradient[k])
                       : elec_point_charges(sys.fragments[k], sys.charges);
  }
  for (const auto& rs : sys.restraints) {
    const Eigen::Vector3d d = sys.fragments.at(rs.fragment).com - rs.r0;
    res.energy.restraint += 0.5 * rs.k * d.squaredNorm();
    if (opt.gradient) res.gradient[rs.fragment].head<3>() += rs.k * d;  // external: not in the pair virial
  }
  if (sys.terms.pol) {
    PolOptions po;
    po.damp = sys.pol_damp;
    po.elec_damp = sys.elec_damp;
    po.periodic = sys.periodic;
    po.box = sys.box;
    po.cutoff = sys.cutoff_enabled ? sys.cutoff : 0.0;
    po.tolerance = opt.pol_tolerance;
    po.threads = threads;
    if (opt.gradient) {
      std::vector<FragmentGradient> pg(n, FragmentGradient::Zero());
      res.energy.polarization = detail::polarization_gradient(sys.fragments, sys.charges, po, pg, &res.virial);
      for (std::size_t k = 0; k < n; ++k) res.gradient[k] += pg[k];
    } else {
      PolResult pr = polarization(sys.fragments, sys.charges, po);
      res.energy.polarization = pr.energy;
      res.pol_iterations = pr.iterations;
    }
  }
  return res;
}

}  // namespace tsunagu::fragmd
