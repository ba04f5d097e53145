#pragma once
/// Structure descriptors: fixed-length vectors for crystals and molecules, so that a table of them can feed
/// tsunagu::sparse, tsunagu::nn or a k-NN search. Every formula is written out in docs/features.md.
///
/// A DescriptorSpec fixes the length of the vector: the element list (PRDF pairs, element-resolved site
/// descriptors), the number of Coulomb eigenvalues kept, the radial grids. fit_spec() fills the data-dependent
/// parts from a training set; the spec is then stored with any model trained on it (to_json/from_json), and a
/// structure containing an element outside spec.elements is refused with one line naming the element and the file.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <Eigen/Core>
#include <nlohmann/json_fwd.hpp>

#include "tsunagu/core/progress.hpp"
#include "tsunagu/structure/crystal.hpp"

namespace tsunagu::features {

enum class DescriptorKind {
  Composition,  ///< element-fraction-weighted statistics of element properties (mean, std, min, max, range)
  Prdf,         ///< partial radial distribution functions per unordered element pair, per atom, Gaussian-smeared
  Coulomb,      ///< Coulomb-matrix eigenvalues (sine-Coulomb for periodic crystals), sorted by |λ| descending
  Site,         ///< around the absorbing site: element-resolved local RDF, weighted ACSFs, local Coulomb matrix
  /// around the absorbing site: the weighted ACSFs of Site alone (radial + angular). Their length does not grow with
  /// the number of elements, which is what a network trained on ~100 spectra needs (XANESNET's descriptor).
  Acsf,
};
/// "composition" | "prdf" | "coulomb" | "site" | "acsf"; InvalidArgument listing the names otherwise.
DescriptorKind parse_descriptor_kind(std::string_view name);
/// Whether a kind is centred on an absorbing site (Site, Acsf): describe() then needs the site.
bool is_site_centred(DescriptorKind kind);
/// Whether any kind of spec.kinds is site-centred.
bool needs_site(const std::vector<DescriptorKind>& kinds);
const char* descriptor_kind_name(DescriptorKind kind);
/// Comma-separated list ("composition,prdf"); duplicates and empty items are refused.
std::vector<DescriptorKind> parse_descriptor_kinds(std::string_view list);

enum class CoulombVariant { Auto, Plain, Sine };  ///< Auto: sine for periodic crystals, plain for molecules

struct DescriptorSpec {
  std::vector<DescriptorKind> kinds = {DescriptorKind::Composition};
  std::vector<int> elements;               ///< sorted unique atomic numbers; empty until fit_spec (PRDF, Site)
  std::vector<std::string> properties;     ///< element properties for Composition; empty = every column
  double rdf_cutoff = 8.0;                 ///< Å, PRDF range (0, rdf_cutoff]
  double rdf_step = 0.1;                   ///< Å, PRDF grid spacing; grid r_k = (k + 1/2) * step
  double rdf_sigma = 0.1;                  ///< Å, Gaussian smearing width
  CoulombVariant coulomb_variant = CoulombVariant::Auto;
  int coulomb_size = 0;                    ///< eigenvalues kept (zero-padded); 0 until fit_spec (max n_sites)
  double site_cutoff = 6.0;                ///< Å, neighbourhood of the absorbing site (smooth cosine cutoff)
  double site_step = 0.1;                  ///< Å, local RDF grid spacing
  double site_sigma = 0.1;                 ///< Å, local RDF smearing
  std::vector<double> acsf_eta = {0.05, 0.2, 0.5, 1.0, 2.0};  ///< 1/Å², radial wACSF widths
  std::vector<double> acsf_rs = {0.0, 1.0, 2.0, 3.0, 4.0};    ///< Å, radial wACSF centres (with each eta)
  std::vector<double> acsf_zeta = {1.0, 2.0, 4.0};            ///< angular wACSF exponents (lambda = ±1 each)
  std::vector<double> acsf_angular_eta = {0.05, 0.3};         ///< 1/Å², angular wACSF widths
  int site_coulomb_size = 0;               ///< local Coulomb eigenvalues kept; 0 until fit_spec

  /// Throws InvalidArgument naming the field (e.g. "rdf_step: must be > 0, got 0").
  void validate() const;
  /// Whether the data-dependent parts are set (elements when PRDF/Site, sizes when Coulomb/Site).
  bool fitted() const;
  std::size_t size() const;                ///< descriptor length; requires fitted()
  std::vector<std::string> names() const;  ///< (size()) column names, e.g. "prdf_Fe_O_2.35", "coulomb_3"
  nlohmann::json to_json() const;
  static DescriptorSpec from_json(const nlohmann::json& j);  ///< ParseError on missing/mistyped fields
  bool operator==(const DescriptorSpec&) const = default;
};

/// Fill the data-dependent parts from a training set: elements = every element present; coulomb_size = max
/// n_sites; site_coulomb_size = max atoms within site_cutoff of the given sites (+1 for the absorber).
/// sites: (n_structures) absorbing site per structure, or empty when Site is not requested.
/// A part is filled only when a requested kind uses it (elements: PRDF/Site; coulomb_size: Coulomb;
/// site_coulomb_size: Site), and fitting never shrinks a spec: elements becomes the union of spec.elements and the
/// elements present, the sizes the maximum of the spec's value and the data's (so pre-seeded elements survive).
DescriptorSpec fit_spec(DescriptorSpec spec, const std::vector<structure::Crystal>& structures,
                        const std::vector<std::size_t>& sites = {});

/// Descriptor vector (spec.size()) of one structure. site: index of the absorbing atom, required when Site is in
/// spec.kinds (InvalidArgument otherwise or when out of range). InvalidArgument names structure.source and the
/// element when the structure contains an element outside spec.elements.
Eigen::VectorXd describe(const DescriptorSpec& spec, const structure::Crystal& structure,
                         std::optional<std::size_t> site = std::nullopt);

/// (n_structures, spec.size()) descriptors, rows computed in parallel (deterministic). sites: empty, or one per
/// structure. progress: optional progress line on stderr.
Eigen::MatrixXd describe_many(const DescriptorSpec& spec, const std::vector<structure::Crystal>& structures,
                              const std::vector<std::size_t>& sites = {}, unsigned threads = 0,
                              core::Progress* progress = nullptr);

// ---- the individual descriptors (documented formulas; used by describe, exposed for tests and advanced use) ----

/// Composition statistics: for each property p (spec order) the element-fraction-weighted mean, the weighted
/// standard deviation (population), min, max and range over the elements present: (5 * n_properties).
Eigen::VectorXd composition_features(const structure::Crystal& structure,
                                     const std::vector<std::size_t>& property_indices);

/// Coulomb matrix: M_ii = 0.5 Z_i^2.4, M_ij = Z_i Z_j / d_ij with d_ij in bohr for molecules (plain); for periodic
/// crystals the sine matrix of Faber et al. (Int. J. Quantum Chem. 115, 1094 (2015)). Eigenvalues sorted by |λ|
/// descending, truncated or zero-padded to `size`.
/// Both variants measure distances in bohr (the sine "distance" |Σ_k a_k sin²(π Δf_k)| too); DScribe uses Å, so its
/// off-diagonal entries are these divided by 0.529177210903. Plain on a periodic crystal uses the nearest-image
/// distance (Crystal::distance); Sine on a molecule, coincident sites and partial occupancies are InvalidArgument.
Eigen::MatrixXd coulomb_matrix(const structure::Crystal& structure, CoulombVariant variant = CoulombVariant::Auto);
Eigen::VectorXd coulomb_eigenvalues(const structure::Crystal& structure, int size,
                                    CoulombVariant variant = CoulombVariant::Auto);

/// Partial RDFs per unordered element pair (a <= b in `elements` order), flattened pair-major:
/// g_ab(r_k) = (1/N) Σ_{i∈a} Σ_{j∈b, images, (j,T)≠(i,0)} w_ab exp(-(r_k - r_ij)²/2σ²)/(√(2π) σ), with w_ab = 1
/// (a == b counts ordered pairs once per direction). Units 1/Å; invariant under the choice of periodic cell.
/// Each Gaussian is summed out to 6σ, so pairs up to the last grid point + 6σ contribute (their tails); with
/// partial occupancies a pair is weighted by occ_i occ_j and N = Σ_i occ_i. An element of the structure that is not
/// in `elements` is InvalidArgument.
Eigen::VectorXd partial_rdf(const structure::Crystal& structure, const std::vector<int>& elements, double cutoff,
                            double step, double sigma);

/// Site-centred descriptors around `site` (see docs/features.md): element-resolved local RDF (per element of
/// `spec.elements`, with the cosine cutoff), weighted radial and angular ACSFs (Gastegger et al., J. Chem. Phys.
/// 148, 241709 (2018)), and the eigenvalues of the Coulomb matrix of the atoms within site_cutoff (absorber first).
Eigen::VectorXd site_features(const DescriptorSpec& spec, const structure::Crystal& structure, std::size_t site);
/// The weighted-ACSF part of site_features alone (kind Acsf): (acsf_eta.size() * acsf_rs.size() +
/// 2 * acsf_angular_eta.size() * acsf_zeta.size()), the same values as in site_features.
Eigen::VectorXd acsf_features(const DescriptorSpec& spec, const structure::Crystal& structure, std::size_t site);

}  // namespace tsunagu::features
