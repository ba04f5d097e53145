// Site-centred descriptors (DescriptorKind::Site): element-resolved local RDF, weighted ACSFs (Gastegger et al.,
// J. Chem. Phys. 148, 241709 (2018)) and the local Coulomb matrix around the absorbing site. Formulas in
// docs/features.md.
#include <algorithm>
#include <array>
#include <cmath>
#include <string>
#include <vector>

#include "descriptor_detail.hpp"
#include "neighbor_detail.hpp"
#include "tsunagu/core/error.hpp"
#include "tsunagu/features/descriptors.hpp"

namespace tsunagu::features {

namespace {

struct Neighbor {
  double d;
  std::size_t j;
  std::array<int, 3> image;
  std::array<double, 3> v;  // Å, from the absorber
};

}  // namespace

namespace {

struct Environment {
  std::vector<Neighbor> nb;  // sorted by (distance, j, image)
  std::vector<double> fc;    // cosine cutoff of each neighbour distance
  std::vector<double> zj;    // atomic number of each neighbour
};

// Shared checks and the neighbours of `site` within spec.site_cutoff; `what` names the descriptor in messages.
Environment environment(const DescriptorSpec& spec, const structure::Crystal& structure, std::size_t site,
                        const char* what) {
  spec.validate();
  detail::check_geometry(structure, what);
  if (site >= structure.n_sites())
    throw InvalidArgument(detail::where(structure) + ": " + what + ": site " + std::to_string(site) +
                          " is out of range (" + std::to_string(structure.n_sites()) + " sites, 0-based)");
  for (std::size_t i = 0; i < structure.n_sites(); ++i)
    if (structure.occupancy(i) < 1.0 - 1e-6)
      throw InvalidArgument(detail::where(structure) + ": " + what + ": site " + std::to_string(i + 1) +
                            " is partially occupied; this descriptor needs an ordered structure");
  const double rc = spec.site_cutoff;
  const detail::PairFinder finder(structure, rc);
  Environment env;
  auto& nb = env.nb;
  finder.for_each(site, [&](std::size_t j, const std::array<int, 3>& image, const double* v, double d) {
    nb.push_back({d, j, image, {v[0], v[1], v[2]}});
  });
  // Same order as neighbor_list (distance, j, image): fixes the summation order.
  std::sort(nb.begin(), nb.end(), [](const Neighbor& a, const Neighbor& b) {
    if (a.d != b.d) return a.d < b.d;
    if (a.j != b.j) return a.j < b.j;
    return a.image < b.image;
  });
  env.fc.resize(nb.size());
  env.zj.resize(nb.size());
  for (std::size_t a = 0; a < nb.size(); ++a) {
    env.fc[a] = detail::cosine_cutoff(nb[a].d, rc);
    env.zj[a] = structure.numbers[nb[a].j];
  }
  return env;
}

std::size_t n_acsf(const DescriptorSpec& spec) {
  return spec.acsf_eta.size() * spec.acsf_rs.size() + 2 * spec.acsf_angular_eta.size() * spec.acsf_zeta.size();
}

// Writes the n_acsf(spec) weighted ACSFs to o.
void write_acsf(const DescriptorSpec& spec, const Environment& env, double* o) {
  const auto& nb = env.nb;
  const auto& fc = env.fc;
  const auto& zj = env.zj;
  const std::size_t m = nb.size();
  const double rc = spec.site_cutoff;
  const std::size_t n_g4 = 2 * spec.acsf_angular_eta.size() * spec.acsf_zeta.size();
  // 2. Radial wACSF: G2(eta, rs) = sum_j Z_j exp(-eta (r_j - rs)^2) fc(r_j).
  for (double eta : spec.acsf_eta)
    for (double rs : spec.acsf_rs) {
      double g = 0;
      for (std::size_t a = 0; a < m; ++a) {
        const double x = nb[a].d - rs;
        g += zj[a] * std::exp(-eta * x * x) * fc[a];
      }
      *o++ = g;
    }

  // 3. Angular wACSF: G4(eta, zeta, lambda) = 2^(1 - zeta) sum_{j<k} Z_j Z_k (1 + lambda cos t_jk)^zeta
  //    exp(-eta (r_j^2 + r_k^2 + r_jk^2)) fc(r_j) fc(r_k) fc(r_jk); order eta, zeta, lambda = +1, -1.
  if (n_g4 > 0) {
    const std::size_t n_eta = spec.acsf_angular_eta.size(), n_zeta = spec.acsf_zeta.size();
    std::vector<double> acc(n_g4, 0.0);
    std::vector<double> pref(n_zeta);
    for (std::size_t z = 0; z < n_zeta; ++z) pref[z] = std::pow(2.0, 1.0 - spec.acsf_zeta[z]);
    for (std::size_t a = 0; a < m; ++a) {
      if (fc[a] == 0) continue;
      for (std::size_t b = a + 1; b < m; ++b) {
        if (fc[b] == 0) continue;
        const auto& va = nb[a].v;
        const auto& vb = nb[b].v;
        const double dx = vb[0] - va[0], dy = vb[1] - va[1], dz = vb[2] - va[2];
        const double rjk = std::sqrt(dx * dx + dy * dy + dz * dz);
        const double fjk = detail::cosine_cutoff(rjk, rc);
        if (fjk == 0) continue;
        const double w = zj[a] * zj[b] * fc[a] * fc[b] * fjk;
        const double cos_t =
            std::clamp((va[0] * vb[0] + va[1] * vb[1] + va[2] * vb[2]) / (nb[a].d * nb[b].d), -1.0, 1.0);
        const double r2 = nb[a].d * nb[a].d + nb[b].d * nb[b].d + rjk * rjk;
        for (std::size_t e = 0; e < n_eta; ++e) {
          const double radial = w * std::exp(-spec.acsf_angular_eta[e] * r2);
          for (std::size_t z = 0; z < n_zeta; ++z) {
            const double zeta = spec.acsf_zeta[z];
            const std::size_t k = (e * n_zeta + z) * 2;
            acc[k] += radial * std::pow(1.0 + cos_t, zeta);
            acc[k + 1] += radial * std::pow(1.0 - cos_t, zeta);
          }
        }
      }
    }
    for (std::size_t e = 0; e < n_eta; ++e)
      for (std::size_t z = 0; z < n_zeta; ++z)
        for (int l = 0; l < 2; ++l) {
          const std::size_t k = (e * n_zeta + z) * 2 + static_cast<std::size_t>(l);
          o[k] = pref[z] * acc[k];
        }
  }
}

}  // namespace

Eigen::VectorXd acsf_features(const DescriptorSpec& spec, const structure::Crystal& structure, std::size_t site) {
  const Environment env = environment(spec, structure, site, "acsf descriptor");
  Eigen::VectorXd out = Eigen::VectorXd::Zero(static_cast<Eigen::Index>(n_acsf(spec)));
  write_acsf(spec, env, out.data());
  return out;
}

Eigen::VectorXd site_features(const DescriptorSpec& spec, const structure::Crystal& structure, std::size_t site) {
  detail::check_elements(structure, spec.elements);
  const Environment env = environment(spec, structure, site, "site descriptor");
  const auto& nb = env.nb;
  const auto& zj = env.zj;
  const std::size_t m = nb.size();
  const std::size_t n_el = spec.elements.size(), nk = detail::grid_size(spec.site_cutoff, spec.site_step);
  const auto n_cm = static_cast<std::size_t>(spec.site_coulomb_size);
  Eigen::VectorXd out = Eigen::VectorXd::Zero(static_cast<Eigen::Index>(n_el * nk + n_acsf(spec) + n_cm));
  double* o = out.data();

  // 1. Element-resolved local RDF: rho_e(r_k) = sum_{j in e} fc(r_j) N(r_k; r_j, sigma).
  const std::vector<int> idx = detail::element_index(spec.elements);
  for (std::size_t a = 0; a < m; ++a) {
    const auto e = static_cast<std::size_t>(idx[static_cast<std::size_t>(structure.numbers[nb[a].j])]);
    detail::add_gaussian(o + e * nk, nk, spec.site_step, spec.site_sigma, nb[a].d, env.fc[a]);
  }
  o += n_el * nk;

  // 2.-3. weighted ACSFs
  write_acsf(spec, env, o);
  o += n_acsf(spec);

  // 4. Local Coulomb matrix of the absorber (first, at the origin) and every neighbour image within the cutoff, in
  //    bohr; eigenvalues sorted by |lambda| descending, truncated or zero-padded.
  if (n_cm > 0) {
    const auto n = static_cast<Eigen::Index>(m + 1);
    Eigen::MatrixXd cm(n, n);
    std::vector<std::array<double, 3>> pos(m + 1, {0.0, 0.0, 0.0});
    std::vector<double> z(m + 1, static_cast<double>(structure.numbers[site]));
    for (std::size_t a = 0; a < m; ++a) {
      pos[a + 1] = nb[a].v;
      z[a + 1] = zj[a];
    }
    for (Eigen::Index i = 0; i < n; ++i) {
      cm(i, i) = 0.5 * std::pow(z[static_cast<std::size_t>(i)], 2.4);
      for (Eigen::Index j = 0; j < i; ++j) {
        const auto& p = pos[static_cast<std::size_t>(i)];
        const auto& q = pos[static_cast<std::size_t>(j)];
        const double d = std::sqrt((p[0] - q[0]) * (p[0] - q[0]) + (p[1] - q[1]) * (p[1] - q[1]) +
                                   (p[2] - q[2]) * (p[2] - q[2]));
        if (!(d > 1e-8))
          throw InvalidArgument(detail::where(structure) + ": site descriptor: two atoms of the cluster around site " +
                                std::to_string(site) + " coincide");
        cm(i, j) = cm(j, i) = z[static_cast<std::size_t>(i)] * z[static_cast<std::size_t>(j)] /
                              (d / detail::kBohrAngstrom);
      }
    }
    const Eigen::VectorXd ev = detail::sorted_eigenvalues(cm, spec.site_coulomb_size);
    std::copy(ev.data(), ev.data() + ev.size(), o);
  }
  return out;
}

}  // namespace tsunagu::features
