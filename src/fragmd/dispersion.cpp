// EFP2 dispersion (Adamovic & Gordon, Mol. Phys. 103, 379 (2005)), isotropic distributed C6 as in libefp 1.5.
//
// For dynamic polarisable points i (fragment a) and j (fragment b) at distance r (bohr):
//   C6_ij = Σ_k w_k ᾱ_i(iω_k) ᾱ_j(iω_k),   ᾱ = tr(α)/3,
//   E_ij  = −(4/3) C6_ij f(r) / r⁶       (hartree).
// The 4/3 is libefp's empirical scaling for the missing E7/E8 terms. f is the damping:
//   Tang–Toennies  f = 1 − e^{−br} Σ_{n=0..6} (br)^n/n!,  b = 1.5 bohr⁻¹ (libefp's fixed value)
//   overlap        f = 1 − S²(1 − 2 ln|S| + 2 ln²|S|)   with S the LMO overlap; f = 1 when |S| ≤ 1e-5
//   off            f = 1.
#include <array>
#include <cmath>
#include <string>
#include <vector>

#include <Eigen/Geometry>

#include "pol_disp_grad.hpp"
#include "tsunagu/core/error.hpp"
#include "tsunagu/fragmd/terms.hpp"

namespace tsunagu::fragmd {

namespace {

// Weights of the 12-point quadrature of the Casimir–Polder integral over MAKEFP's imaginary frequencies
// (Gauss–Legendre points mapped to [0, ∞), the 1/(2π) folded in), as in libefp/GAMESS.
constexpr std::array<double, 12> kWeights = {
    0.72086099022968040154E-02, 0.17697067815034886394E-01, 0.30660908596251749739E-01,
    0.48381293256249884995E-01, 0.74878830420650517080E-01, 0.11806515901361630228E+00,
    0.19535413832209084204E+00, 0.35055692324483221824E+00, 0.71577113554429568336E+00,
    0.18140975997632396972E+01, 0.69792344511487082324E+01, 0.83248093882965845391E+02};

constexpr double kTangToenniesB = 1.5;  // bohr⁻¹
constexpr double kOverlapThreshold = 1.0e-5;

// Isotropic dynamic polarisabilities ᾱ(iω_k) of one point.
std::array<double, 12> traces(const DynamicPolarizablePoint& p) {
  std::array<double, 12> t{};
  for (std::size_t k = 0; k < 12; ++k) t[k] = p.alpha[k].trace() / 3.0;
  return t;
}

void check_overlap(const Fragment& a, const Fragment& b, const Eigen::MatrixXd* s) {
  if (s == nullptr)
    throw InvalidArgument("disp_pair: overlap damping needs the LMO overlap matrix (lmo_overlap is null)");
  const auto na = static_cast<Eigen::Index>(a.dynamic_polarizable.size());
  const auto nb = static_cast<Eigen::Index>(b.dynamic_polarizable.size());
  if (s->rows() != na || s->cols() != nb)
    throw InvalidArgument("disp_pair: lmo_overlap is " + std::to_string(s->rows()) + "x" + std::to_string(s->cols()) +
                          " but the fragments have " + std::to_string(na) + " and " + std::to_string(nb) +
                          " dynamic polarisable points (one per LMO expected)");
}

}  // namespace

namespace detail {

double disp_c6(const DynamicPolarizablePoint& i, const DynamicPolarizablePoint& j) {
  const auto ti = traces(i), tj = traces(j);
  double c6 = 0.0;
  for (std::size_t k = 0; k < 12; ++k) c6 += kWeights[k] * ti[k] * tj[k];
  return c6;
}

DampValue disp_damp_tt(double r) {
  const double br = kTangToenniesB * r;
  // Σ_{n=0..6} (br)^n/n!, and the last term (br)^6/6! which is all that survives in the derivative.
  double term = 1.0, sum = 1.0;
  for (int n = 1; n <= 6; ++n) {
    term *= br / n;
    sum += term;
  }
  const double e = std::exp(-br);
  return {1.0 - e * sum, kTangToenniesB * e * term};
}

DampValue disp_damp_overlap(double s) {
  if (std::abs(s) <= kOverlapThreshold) return {1.0, 0.0};
  const double l = std::log(std::abs(s));
  // d/dS [S²(1 − 2 ln|S| + 2 ln²|S|)] = 4 S ln²|S|.
  return {1.0 - s * s * (1.0 - 2.0 * l + 2.0 * l * l), -4.0 * s * l * l};
}


double disp_pair_gradient(const Fragment& a, const Fragment& b, const Eigen::Vector3d& shift_b, DispDamp damp,
                          const Eigen::MatrixXd* lmo_overlap, const std::array<Eigen::MatrixXd, 6>* ds_a,
                          const std::array<Eigen::MatrixXd, 6>* ds_b, FragmentGradient& ga, FragmentGradient& gb) {
  const bool overlap = damp == DispDamp::Overlap;
  if (overlap) {
    check_overlap(a, b, lmo_overlap);
    if (ds_a == nullptr || ds_b == nullptr)
      throw InvalidArgument("disp_pair_gradient: overlap damping needs the LMO overlap derivatives");
    for (const auto* ds : {ds_a, ds_b})
      for (const Eigen::MatrixXd& m : *ds)
        if (m.rows() != lmo_overlap->rows() || m.cols() != lmo_overlap->cols())
          throw InvalidArgument("disp_pair_gradient: LMO overlap derivative has the wrong shape");
  }
  double energy = 0.0;
  for (std::size_t i = 0; i < a.dynamic_polarizable.size(); ++i) {
    const auto& pi = a.dynamic_polarizable[i];
    for (std::size_t j = 0; j < b.dynamic_polarizable.size(); ++j) {
      const auto& pj = b.dynamic_polarizable[j];
      const double k = -4.0 / 3.0 * disp_c6(pi, pj);
      const Eigen::Vector3d r = pj.r + shift_b - pi.r;
      const double rr = r.norm(), r6 = std::pow(rr, 6);
      DampValue f;  // f(r) for Tang–Toennies, f(S_ij) for overlap
      const auto ii = static_cast<Eigen::Index>(i), jj = static_cast<Eigen::Index>(j);
      if (damp == DispDamp::TangToennies) f = disp_damp_tt(rr);
      if (overlap) f = disp_damp_overlap((*lmo_overlap)(ii, jj));
      energy += k * f.f / r6;
      // Through the point positions: d/dr of k f / r⁶ (f' only for Tang–Toennies).
      const double dedr = k * ((damp == DispDamp::TangToennies ? f.df : 0.0) - 6.0 * f.f / rr) / r6;
      const Eigen::Vector3d gj = dedr / rr * r;  // ∂E/∂x_j; ∂E/∂x_i = −gj
      ga.head<3>() -= gj;
      ga.tail<3>() += (pi.r - a.com).cross(-gj);
      gb.head<3>() += gj;
      gb.tail<3>() += (pj.r - b.com).cross(gj);
      // Through S_ij(q_a, q_b).
      if (overlap && f.df != 0.0) {
        const double c = k * f.df / r6;
        for (int q = 0; q < 6; ++q) {
          ga[q] += c * (*ds_a)[static_cast<std::size_t>(q)](ii, jj);
          gb[q] += c * (*ds_b)[static_cast<std::size_t>(q)](ii, jj);
        }
      }
    }
  }
  return energy;
}

}  // namespace detail

double disp_pair(const Fragment& a, const Fragment& b, const Eigen::Vector3d& shift_b, DispDamp damp,
                 const Eigen::MatrixXd* lmo_overlap) {
  if (damp == DispDamp::Overlap) check_overlap(a, b, lmo_overlap);

  std::vector<std::array<double, 12>> tb;
  tb.reserve(b.dynamic_polarizable.size());
  for (const auto& p : b.dynamic_polarizable) tb.push_back(traces(p));

  double energy = 0.0;
  for (std::size_t i = 0; i < a.dynamic_polarizable.size(); ++i) {
    const auto& pi = a.dynamic_polarizable[i];
    const auto ti = traces(pi);
    for (std::size_t j = 0; j < b.dynamic_polarizable.size(); ++j) {
      double c6 = 0.0;
      for (std::size_t k = 0; k < 12; ++k) c6 += kWeights[k] * ti[k] * tb[j][k];
      const double r2 = (b.dynamic_polarizable[j].r + shift_b - pi.r).squaredNorm();
      double f = 1.0;
      if (damp == DispDamp::TangToennies)
        f = detail::disp_damp_tt(std::sqrt(r2)).f;
      else if (damp == DispDamp::Overlap)
        f = detail::disp_damp_overlap((*lmo_overlap)(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j))).f;
      energy += -4.0 / 3.0 * c6 * f / (r2 * r2 * r2);
    }
  }
  return energy;
}

}  // namespace tsunagu::fragmd
