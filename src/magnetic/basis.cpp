#include "tsunagu/magnetic/basis.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <tuple>

#include <Eigen/Geometry>
#include <Eigen/LU>

#include "tsunagu/core/error.hpp"
#include "tsunagu/magnetic/msg_symbols.hpp"
#include "tsunagu/magnetic/point_group.hpp"
#include "tsunagu/structure/symmetry.hpp"

namespace tsunagu::magnetic {

void BasisOptions::validate() const {
  if (magnetic_atoms.empty())
    throw InvalidArgument("magnetic basis: magnetic_atoms is empty (name an element such as 'Mn' or a site label)");
  for (const auto& s : magnetic_atoms)
    if (s.empty()) throw InvalidArgument("magnetic basis: magnetic_atoms has an empty entry");
  if (max_rank < 0 || max_rank > 40)
    throw InvalidArgument("magnetic basis: max_rank must be in 0..40 (0: as needed), got " + std::to_string(max_rank));
  if (!(std::isfinite(symprec) && symprec > 0))
    throw InvalidArgument("magnetic basis: symprec must be finite and > 0 A");
  if (!std::isfinite(mag_symprec) || (mag_symprec <= 0 && mag_symprec != -1))
    throw InvalidArgument("magnetic basis: mag_symprec must be > 0 or -1");
  if (!(std::isfinite(tolerance) && tolerance > 0 && tolerance < 0.1))
    throw InvalidArgument("magnetic basis: tolerance must be in (0, 0.1)");
}

MultipoleOrder parse_multipole_order(std::string_view name) {
  if (name == "rank") return MultipoleOrder::Rank;
  if (name == "power") return MultipoleOrder::Power;
  throw InvalidArgument("magnetic basis: order must be 'rank' or 'power', got '" + std::string(name) + "'");
}

std::string format_decomposition(const std::vector<std::string>& irreps, const std::vector<int>& multiplicities) {
  std::string out;
  for (std::size_t k = 0; k < irreps.size() && k < multiplicities.size(); ++k) {
    if (multiplicities[k] == 0) continue;
    if (!out.empty()) out += " + ";
    if (multiplicities[k] > 1) out += std::to_string(multiplicities[k]);
    out += irreps[k];
  }
  return out.empty() ? "0" : out;
}

namespace {

using Vec = Eigen::VectorXd;

std::string where(const structure::Crystal& c) { return c.source.empty() ? std::string("crystal") : c.source; }

// One space-group operation acting on the moments of the magnetic atoms: site i goes to perm[i] and its moment
// m to axial * m (axial = det(R) R in Cartesian coordinates).
struct Action {
  std::vector<int> perm;  // over magnetic atoms (0-based within magnetic_sites)
  Eigen::Matrix3d rot;    // Cartesian R
  Eigen::Matrix3d axial;  // det(R) R
  int klass = 0;
  bool translation = false;  // pure translation (centring or supercell vector): rotation part is the identity
};

Vec apply(const Action& g, const Vec& v) {
  Vec out = Vec::Zero(v.size());
  for (std::size_t i = 0; i < g.perm.size(); ++i)
    out.segment<3>(3 * g.perm[i]) = g.axial * v.segment<3>(3 * static_cast<Eigen::Index>(i));
  return out;
}

// Periodic distance in Å between fractional positions.
double frac_distance(const Eigen::Vector3d& a, const Eigen::Vector3d& b, const Eigen::Matrix3d& lattice) {
  Eigen::Vector3d d = a - b;
  for (int k = 0; k < 3; ++k) d(k) -= std::round(d(k));
  return (lattice.transpose() * d).norm();
}

std::vector<std::size_t> select_sites(const structure::Crystal& crystal, const std::vector<std::string>& names) {
  std::set<std::size_t> chosen;
  for (const auto& name : names) {
    std::vector<std::size_t> hit = crystal.select_label(name);
    if (hit.empty()) {
      if (!structure::find_atomic_number(name))
        throw InvalidArgument(where(crystal) + ": magnetic atoms: '" + name +
                              "' is neither a site label nor an element symbol");
      hit = crystal.select_element(name);
    }
    if (hit.empty())
      throw InvalidArgument(where(crystal) + ": magnetic atoms: no site of '" + name + "' in the structure (" +
                            crystal.formula() + ")");
    chosen.insert(hit.begin(), hit.end());
  }
  return {chosen.begin(), chosen.end()};
}

// Orthonormalise w against the columns in `basis` (twice: classical Gram–Schmidt loses orthogonality otherwise).
void orthogonalize(Vec& w, const std::vector<Vec>& basis) {
  for (int pass = 0; pass < 2; ++pass)
    for (const Vec& b : basis) w -= b.dot(w) * b;
}

std::string direction_label(const std::vector<int>& c) {
  std::string s = "[";
  for (int v : c) s += (v < 0 ? "-" : "") + std::to_string(std::abs(v));
  return s + "]";
}

std::vector<std::vector<int>> direction_set(int dim) {
  if (dim == 2) return {{1, 0}, {0, 1}, {1, 1}, {1, -1}};
  // [001] first: when the three axes are equivalent, the representative kept is the one along c, as in the
  // standard settings of the resulting tetragonal groups (P4/mm'm' has its 4-fold along c).
  if (dim == 3)
    return {{0, 0, 1}, {1, 0, 0}, {0, 1, 0}, {1, 1, 0}, {1, -1, 0}, {1, 0, 1}, {1, 0, -1}, {0, 1, 1}, {0, 1, -1},
            {1, 1, 1}, {-1, 1, 1}, {1, -1, 1}, {1, 1, -1}};
  std::vector<std::vector<int>> out;  // higher dimensions do not occur in crystallographic point groups
  for (int k = 0; k < dim; ++k) {
    std::vector<int> c(static_cast<std::size_t>(dim), 0);
    c[static_cast<std::size_t>(k)] = 1;
    out.push_back(c);
  }
  return out;
}

struct MsgCache {
  const structure::Crystal* crystal;
  const std::vector<std::size_t>* sites;
  double symprec, mag_symprec;
  std::map<std::vector<int>, std::pair<MagneticGroupLabel, bool>> cache;
  /// conj[g][h]: index of the operation g^-1 h g. Conjugating a magnetic group by an operation of the crystal gives
  /// a group of the same type (UNI) that admits the same net moment, so a signature conjugate to a cached one needs
  /// no spglib call (the [100]/[010]/[001] components of a T irrep, for instance). Empty: no conjugation.
  std::vector<std::vector<int>> conj;

  std::pair<MagneticGroupLabel, bool> get(const Vec& v, const std::vector<Action>& actions) {
    // Operations that keep v (+1), reverse it (-1, combined with time reversal) or neither (0) decide the
    // magnetic group completely, so equal signatures share one spglib call.
    std::vector<int> sig;
    sig.reserve(actions.size());
    const double tol = 1e-6 * std::max(1.0, v.norm());
    for (const Action& g : actions) {
      const Vec w = apply(g, v);
      sig.push_back((w - v).norm() < tol ? 1 : (w + v).norm() < tol ? -1 : 0);
    }
    if (auto it = cache.find(sig); it != cache.end()) return it->second;
    std::vector<int> image(sig.size());
    for (const auto& cg : conj) {
      for (std::size_t h = 0; h < sig.size(); ++h) image[h] = sig[static_cast<std::size_t>(cg[h])];
      if (auto it = cache.find(image); it != cache.end()) {
        const auto result = it->second;
        cache.emplace(sig, result);
        return result;
      }
    }
    Eigen::MatrixXd m = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(crystal->n_sites()), 3);
    double mx = 0;
    for (std::size_t i = 0; i < sites->size(); ++i) mx = std::max(mx, v.segment<3>(3 * static_cast<Eigen::Index>(i)).norm());
    for (std::size_t i = 0; i < sites->size(); ++i)
      for (int k = 0; k < 3; ++k) {
        double x = v(static_cast<Eigen::Index>(3 * i + k)) / mx;
        if (std::abs(x) < 1e-9) x = 0;  // numerical dust would break spglib's exact comparisons
        m(static_cast<Eigen::Index>((*sites)[i]), k) = x;
      }
    const structure::MagneticSymmetry ms = structure::analyze_magnetic(*crystal, m, symprec, mag_symprec);
    MagneticGroupLabel label;
    label.uni = ms.uni_number;
    label.bns = ms.bns_number;
    label.type = ms.type;
    if (ms.uni_number >= 1 && ms.uni_number <= 1651) label.bns_symbol = magnetic_space_group_type(ms.uni_number).bns_symbol;
    auto result = std::make_pair(label, ms.admits_ferromagnetism);
    cache.emplace(std::move(sig), result);
    return result;
  }
};

}  // namespace

MagneticBasis generate_basis(const structure::Crystal& crystal, const BasisOptions& options) {
  options.validate();
  crystal.validate(0);  // shapes and values; overlaps were the reader's to check (with the user's min_distance)
  MagneticBasis out;
  out.crystal = crystal;
  out.order = options.order;
  out.magnetic_sites = select_sites(crystal, options.magnetic_atoms);
  const auto& msites = out.magnetic_sites;
  const std::size_t nm = msites.size();

  const structure::SymmetryDataset ds = structure::analyze(crystal, options.symprec);
  {
    // A supercell whose lattice breaks the crystal's point symmetry (e.g. 2x1x1 of a cubic crystal) has fewer
    // rotations than its space-group type: q = 0 of the crystal then cannot be classified in this cell.
    std::set<std::vector<int>> rotations;
    for (const auto& op : ds.operations)
      rotations.insert(std::vector<int>(op.rotation.data(), op.rotation.data() + 9));
    const int order = point_group(ds.point_group).order;
    if (static_cast<int>(rotations.size()) != order)
      throw InvalidArgument(where(crystal) + ": the cell is a supercell whose lattice keeps only " +
                            std::to_string(rotations.size()) + " of the " + std::to_string(order) +
                            " rotations of point group " + ds.point_group +
                            "; give the primitive or conventional cell (q = 0 refers to the crystal's primitive cell)");
  }
  const PointGroupMatch match = classify_operations(ds, crystal);
  const PointGroup& pg = *match.group;
  out.space_group_number = ds.number;
  out.space_group = ds.international;
  out.point_group = pg.international;
  out.point_group_schoenflies = pg.schoenflies;
  for (const Irrep& ir : pg.irreps) {
    out.irreps.push_back(ir.label);
    out.irrep_dimensions.push_back(ir.dimension);
  }

  // Orbits of the magnetic atoms; a selection must take whole orbits or it would break the symmetry it is
  // classified by.
  std::map<int, std::vector<int>> by_rep;  // representative site -> indices within magnetic_sites
  for (std::size_t i = 0; i < nm; ++i) by_rep[ds.equivalent_atoms[msites[i]]].push_back(static_cast<int>(i));
  for (const auto& [rep, members] : by_rep) {
    std::size_t total = 0;
    for (int e : ds.equivalent_atoms)
      if (e == rep) ++total;
    if (total != members.size())
      throw InvalidArgument(where(crystal) + ": magnetic atoms: the selection takes " +
                            std::to_string(members.size()) + " of the " + std::to_string(total) +
                            " symmetry-equivalent sites of '" + crystal.labels[static_cast<std::size_t>(rep)] +
                            "'; select whole orbits (e.g. by element)");
  }

  // Operations as actions on the magnetic moments.
  const Eigen::Matrix3d& L = crystal.lattice;
  const double match_tol = std::max(10 * options.symprec, 1e-5);
  std::vector<Action> actions;
  int n_translations = 0;
  for (std::size_t k = 0; k < ds.operations.size(); ++k) {
    const auto& op = ds.operations[k];
    Action g;
    g.rot = structure::cartesian_rotation(op.rotation, L);
    g.axial = (g.rot.determinant() < 0 ? -1.0 : 1.0) * g.rot;
    g.klass = match.class_of[k];
    g.translation = op.rotation == Eigen::Matrix3i::Identity();
    if (g.translation) ++n_translations;
    g.perm.resize(nm);
    for (std::size_t i = 0; i < nm; ++i) {
      const Eigen::Vector3d x = crystal.frac.row(static_cast<Eigen::Index>(msites[i])).transpose();
      const Eigen::Vector3d y = op.rotation.cast<double>() * x + op.translation;
      int best = -1;
      double bd = 1e300;
      for (std::size_t j = 0; j < nm; ++j) {
        const double d =
            frac_distance(y, crystal.frac.row(static_cast<Eigen::Index>(msites[j])).transpose(), L);
        if (d < bd) bd = d, best = static_cast<int>(j);
      }
      if (bd > match_tol)
        throw NumericalError(where(crystal) + ": symmetry operation " + std::to_string(k + 1) + " maps site '" +
                             crystal.labels[msites[i]] + "' onto no magnetic site (off by " + std::to_string(bd) +
                             " A); try a larger symprec");
      g.perm[i] = best;
    }
    actions.push_back(std::move(g));
  }
  const double n_ops = static_cast<double>(actions.size());

  // Conventional Cartesian frame (rows x, y, z): a along x, b in the xy plane. Harmonics are evaluated in it so
  // that their components line up with the crystal axes whatever the orientation of the input lattice.
  const Eigen::Matrix3d Pinv = ds.transformation_matrix.inverse();
  const Eigen::Matrix3d conv = L.transpose() * Pinv;  // columns a_s, b_s, c_s
  Eigen::Matrix3d F;
  {
    const Eigen::Vector3d x = conv.col(0).normalized();
    const Eigen::Vector3d y = (conv.col(1) - conv.col(1).dot(x) * x).normalized();
    F.row(0) = x.transpose();
    F.row(1) = y.transpose();
    F.row(2) = x.cross(y).transpose();
  }
  // Priority of operations when generating the partners of a multi-dimensional irrep component: the cubic
  // three-fold x -> y -> z first, then rotations about z by the smallest angle (x -> y direction), then the rest.
  std::vector<std::size_t> priority(actions.size());
  {
    std::vector<double> key(actions.size());
    Eigen::Matrix3d cyc;
    cyc << 0, 0, 1, 1, 0, 0, 0, 1, 0;
    for (std::size_t k = 0; k < actions.size(); ++k) {
      const Eigen::Matrix3d Rf = F * actions[k].axial * F.transpose();  // proper part in the frame
      key[k] = 100 + static_cast<double>(k);
      if ((Rf - cyc).norm() < 1e-3) key[k] = 0;
      else if (std::abs(Rf(2, 2) - 1) < 1e-3) {
        const double th = std::atan2(Rf(1, 0), Rf(0, 0));
        if (th > 1e-3) key[k] = 1 + th;
      }
    }
    for (std::size_t k = 0; k < priority.size(); ++k) priority[k] = k;
    std::stable_sort(priority.begin(), priority.end(), [&](std::size_t a, std::size_t b) { return key[a] < key[b]; });
  }

  const std::size_t n_irreps = pg.irreps.size();
  auto character = [&](std::size_t irrep, const Action& g) {
    return pg.irreps[irrep].characters[static_cast<std::size_t>(g.klass)];
  };
  auto project = [&](std::size_t irrep, const Vec& u) {
    const Irrep& ir = pg.irreps[irrep];
    // A combined complex pair projects with the sum of the pair's projectors: factor 1, not its real dimension.
    const double factor = ir.complex_pair ? 1.0 : ir.dimension;
    Vec w = Vec::Zero(u.size());
    for (const Action& g : actions) {
      const double chi = character(irrep, g);
      if (chi != 0) w += chi * apply(g, u);
    }
    return Vec(w * (factor / n_ops));
  };

  const Eigen::Vector3d origin = -Pinv * ds.origin_shift;  // standard origin in input fractional coordinates
  out.multiplicities.assign(n_irreps, 0);
  MsgCache msg{&crystal, &msites, options.symprec, options.mag_symprec, {}, {}};
  {
    // Composition table of the input cell's operations (x -> R x + t, translations modulo 1) for the conjugates.
    const auto& ops = ds.operations;
    const std::size_t n = ops.size();
    auto find_op = [&](const Eigen::Matrix3i& R, const Eigen::Vector3d& t) {
      for (std::size_t k = 0; k < n; ++k) {
        if (ops[k].rotation != R) continue;
        Eigen::Vector3d d = ops[k].translation - t;
        for (int q = 0; q < 3; ++q) d(q) -= std::round(d(q));
        if (d.norm() < 1e-5) return static_cast<int>(k);
      }
      return -1;
    };
    std::vector<std::vector<int>> conj(n, std::vector<int>(n, -1));
    bool closed = true;
    for (std::size_t g = 0; g < n && closed; ++g) {
      const Eigen::Matrix3i Ri = ops[g].rotation.cast<double>().inverse().array().round().cast<int>().matrix();
      const Eigen::Vector3d ti = -(Ri.cast<double>() * ops[g].translation);  // g^-1 = (R^-1, -R^-1 t)
      for (std::size_t h = 0; h < n; ++h) {
        // g^-1 h g: x -> Ri (Rh (Rg x + tg) + th) + ti
        const Eigen::Matrix3i R = Ri * ops[h].rotation * ops[g].rotation;
        const Eigen::Vector3d t = Ri.cast<double>() * (ops[h].rotation.cast<double>() * ops[g].translation +
                                                        ops[h].translation) + ti;
        const int k = find_op(R, t);
        if (k < 0) {
          closed = false;  // tolerances left the set not closed: skip the shortcut, spglib decides every group
          break;
        }
        conj[g][h] = k;
      }
    }
    if (closed) msg.conj = std::move(conj);
  }

  for (const auto& [rep, members] : by_rep) {
    Orbit orbit;
    for (int i : members) orbit.sites.push_back(msites[static_cast<std::size_t>(i)]);
    const std::size_t rep_site = orbit.sites.front();
    orbit.wyckoff = std::to_string(orbit.sites.size() * 1) + ds.wyckoffs[rep_site];
    orbit.site_symmetry = ds.site_symmetry_symbols[rep_site];
    if (orbit.sites.size() % static_cast<std::size_t>(n_translations) != 0)
      throw NumericalError(where(crystal) + ": orbit of '" + crystal.labels[rep_site] + "' is not a whole number of "
                           "primitive cells");
    orbit.primitive_atoms = static_cast<int>(orbit.sites.size()) / n_translations;
    orbit.wyckoff = std::to_string(orbit.sites.size()) + std::string(1, ds.wyckoffs[rep_site]);
    const std::size_t no = orbit.sites.size();
    const int dim = 3 * orbit.primitive_atoms;
    std::vector<int> local(nm, -1);  // magnetic index -> index within the orbit
    for (std::size_t j = 0; j < no; ++j) local[static_cast<std::size_t>(members[j])] = static_cast<int>(j);
    // Atoms related by a pure translation (the centring of a conventional cell) are one atom of the primitive cell:
    // q = 0 gives them the same moment, so the virtual cluster is built over these classes (cls[j]: smallest
    // orbit index of atom j's class).
    std::vector<int> cls(no);
    for (std::size_t j = 0; j < no; ++j) {
      cls[j] = static_cast<int>(j);
      for (const Action& g : actions)
        if (g.translation)
          cls[j] = std::min(cls[j], local[static_cast<std::size_t>(g.perm[static_cast<std::size_t>(members[j])])]);
    }

    // Multiplicities from the character formula n_Γ = (1/|G|) Σ_g χ_Γ(g) χ_axial(g) χ_perm(g) (halved for a
    // combined complex pair, whose real character is the sum of both members').
    std::vector<int> mult(n_irreps, 0);
    for (std::size_t r = 0; r < n_irreps; ++r) {
      double s = 0;
      for (const Action& g : actions) {
        int fixed = 0;
        for (int i : members)
          if (g.perm[static_cast<std::size_t>(i)] == i) ++fixed;
        s += character(r, g) * g.axial.trace() * fixed;
      }
      s /= n_ops * (pg.irreps[r].complex_pair ? 2.0 : 1.0);
      mult[r] = static_cast<int>(std::lround(s));
      if (std::abs(s - mult[r]) > 1e-6)
        throw NumericalError("internal: non-integer multiplicity " + std::to_string(s) + " of " +
                             pg.irreps[r].label);
    }
    orbit.multiplicities = mult;
    orbit.decomposition = format_decomposition(out.irreps, mult);
    {
      int check = 0;
      for (std::size_t r = 0; r < n_irreps; ++r) check += mult[r] * pg.irreps[r].dimension;
      if (check != dim)
        throw NumericalError("internal: irreps of the orbit of '" + crystal.labels[rep_site] + "' add up to " +
                             std::to_string(check) + " dimensions, expected " + std::to_string(dim));
    }
    for (std::size_t r = 0; r < n_irreps; ++r) out.multiplicities[r] += mult[r];

    // Virtual cluster. Try the standard origin, then the other half-lattice points of the conventional cell, then
    // the orbit's centroid, until every atom owns points no other atom shares.
    const Eigen::Vector3d xa = crystal.frac.row(static_cast<Eigen::Index>(rep_site)).transpose();
    std::vector<Eigen::Vector3d> centres{origin};
    for (int h = 1; h < 8; ++h)
      centres.push_back(origin + Pinv * Eigen::Vector3d(0.5 * (h & 1), 0.5 * ((h >> 1) & 1), 0.5 * ((h >> 2) & 1)));
    {
      Eigen::Vector3d c = Eigen::Vector3d::Zero();
      for (std::size_t s : orbit.sites) {
        Eigen::Vector3d d = crystal.frac.row(static_cast<Eigen::Index>(s)).transpose() - xa;
        for (int k = 0; k < 3; ++k) d(k) -= std::round(d(k));
        c += xa + d;
      }
      centres.push_back(c / static_cast<double>(no));
    }
    // Last resort (e.g. the 16a sites of Ia-3d sitting on the centre, where every operation of the site's
    // stabilizer maps v = 0 onto itself while the operations mapping to other atoms do too): a centre slightly off
    // every symmetry element, so that no rotation fixes v and each atom owns its own points. The projection keeps
    // the basis exact; only the multipole labels refer to this displaced centre.
    centres.push_back(origin + Pinv * Eigen::Vector3d(0.0123, 0.0371, 0.0517));
    std::vector<Eigen::Vector3d> points;
    std::vector<int> owner;
    bool ok = false;
    for (const Eigen::Vector3d& c : centres) {
      Eigen::Vector3d vf = xa - c;
      for (int k = 0; k < 3; ++k) vf(k) -= std::floor(vf(k) + 0.5);
      const Eigen::Vector3d v = L.transpose() * vf;
      const double rv = v.norm();
      points.clear();
      owner.clear();
      bool clash = false;
      for (const Action& g : actions) {
        const int j = cls[static_cast<std::size_t>(local[static_cast<std::size_t>(g.perm[static_cast<std::size_t>(members[0])])])];
        const Eigen::Vector3d p = g.rot * v;
        bool dup = false;
        for (std::size_t q = 0; q < points.size(); ++q)
          if ((points[q] - p).norm() <= 1e-6 * std::max(rv, 1e-12)) {
            if (owner[q] != j) clash = true;
            dup = true;
            break;
          }
        if (clash) break;
        if (!dup) {
          points.push_back(p);
          owner.push_back(j);
        }
      }
      if (!clash && (rv > 1e-8 || orbit.primitive_atoms == 1)) {
        ok = true;
        break;
      }
    }
    if (!ok)
      throw NumericalError(where(crystal) + ": no virtual cluster separates the " + std::to_string(no) +
                           " atoms of the orbit of '" + crystal.labels[rep_site] + "'");
    orbit.cluster.resize(static_cast<Eigen::Index>(points.size()), 3);
    for (std::size_t q = 0; q < points.size(); ++q) orbit.cluster.row(static_cast<Eigen::Index>(q)) = points[q].transpose();
    orbit.cluster_site = owner;
    // Evaluate in the conventional frame on the unit sphere (values O(1) for every rank).
    const double radius = points.front().norm();
    Eigen::MatrixXd unit(static_cast<Eigen::Index>(points.size()), 3);
    for (std::size_t q = 0; q < points.size(); ++q)
      unit.row(static_cast<Eigen::Index>(q)) = (F * points[q] / (radius > 1e-12 ? radius : 1.0)).transpose();
    std::vector<int> count(no, 0);
    for (int j : owner) ++count[static_cast<std::size_t>(j)];

    // Pattern of one multipole component as a vector over all magnetic atoms (zero off this orbit).
    auto pattern = [&](MultipoleType type, int l, int m) {
      const Eigen::MatrixXd field = multipole_pattern(type, l, m, unit);
      Vec u = Vec::Zero(static_cast<Eigen::Index>(3 * nm));
      for (std::size_t q = 0; q < owner.size(); ++q) {
        const int j = owner[q];
        const Eigen::Vector3d f = F.transpose() * field.row(static_cast<Eigen::Index>(q)).transpose();
        for (std::size_t i = 0; i < no; ++i)  // every atom of the translation class gets the class's moment
          if (cls[i] == j) u.segment<3>(3 * members[i]) += f / count[static_cast<std::size_t>(j)];
      }
      return u;
    };

    // Multipole sequence.
    std::vector<std::pair<MultipoleType, int>> sequence;
    const int lmax = options.max_rank > 0 ? options.max_rank : 40;
    for (int k = 1; k <= lmax; ++k) {
      if (options.order == MultipoleOrder::Rank) {
        sequence.emplace_back(MultipoleType::Magnetic, k);
        if (k >= 2) sequence.emplace_back(MultipoleType::Toroidal, k - 1);
      } else {
        sequence.emplace_back(MultipoleType::Magnetic, k);
        sequence.emplace_back(MultipoleType::Toroidal, k);
      }
    }
    if (options.order == MultipoleOrder::Rank) sequence.emplace_back(MultipoleType::Toroidal, lmax);

    std::vector<std::vector<Vec>> found(n_irreps);  // orthonormal vectors per irrep (this orbit)
    std::vector<int> copies(n_irreps, 0);
    int total = 0;
    for (const auto& [type, l] : sequence) {
      if (total >= dim) break;
      out.max_rank_used = std::max(out.max_rank_used, l);
      std::vector<std::vector<Vec>> fresh(n_irreps);
      for (int m : component_order(l)) {
        Vec u = pattern(type, l, m);
        const double un = u.norm();
        if (un < 1e-10) continue;
        u /= un;
        for (std::size_t r = 0; r < n_irreps; ++r) {
          const int want = mult[r] * pg.irreps[r].dimension;
          if (static_cast<int>(found[r].size() + fresh[r].size()) >= want) continue;
          Vec w = project(r, u);
          orthogonalize(w, found[r]);
          orthogonalize(w, fresh[r]);
          const double wn = w.norm();
          if (wn > options.tolerance) fresh[r].push_back(w / wn);
        }
      }
      // Re-express each new invariant subspace as copies whose components are images of one another.
      for (std::size_t r = 0; r < n_irreps; ++r) {
        std::vector<Vec> pool = fresh[r];
        const int d = pg.irreps[r].dimension;
        while (!pool.empty()) {
          std::vector<Vec> copy{pool.front()};
          for (std::size_t pi : priority) {
            if (static_cast<int>(copy.size()) >= d) break;
            Vec w = apply(actions[pi], copy.front());
            orthogonalize(w, copy);
            if (w.norm() > 1e-6) copy.push_back(w.normalized());
          }
          if (static_cast<int>(copy.size()) != d)
            throw NumericalError("internal: a copy of " + pg.irreps[r].label + " spans " +
                                 std::to_string(copy.size()) + " dimensions, expected " + std::to_string(d));
          std::vector<Vec> rest;
          for (std::size_t q = 1; q < pool.size(); ++q) {
            Vec w = pool[q];
            orthogonalize(w, copy);
            orthogonalize(w, rest);
            if (w.norm() > 1e-6) rest.push_back(w.normalized());
          }
          pool = rest;
          const int copy_index = copies[r]++;
          std::vector<int> indices;
          for (int c = 0; c < d; ++c) {
            BasisVector bv;
            bv.index = static_cast<int>(out.vectors.size());
            bv.orbit = static_cast<int>(out.orbits.size());
            bv.irrep = pg.irreps[r].label;
            bv.copy = copy_index;
            bv.component = c;
            bv.type = type;
            bv.rank = l;
            bv.multipole = multipole_name(type, l);
            Vec v = copy[static_cast<std::size_t>(c)];
            bv.moments = Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, 3, Eigen::RowMajor>>(
                v.data(), static_cast<Eigen::Index>(nm), 3);
            if (options.magnetic_groups) std::tie(bv.magnetic_space_group, bv.ahe_allowed) = msg.get(v, actions);
            found[r].push_back(v);
            indices.push_back(bv.index);
            out.vectors.push_back(std::move(bv));
            ++total;
          }
          if (d > 1 && options.directions) {
            std::set<int> seen_uni;
            for (const auto& c : direction_set(d)) {
              Vec v = Vec::Zero(static_cast<Eigen::Index>(3 * nm));
              std::vector<double> coef;
              for (int k = 0; k < d; ++k) {
                v += c[static_cast<std::size_t>(k)] * copy[static_cast<std::size_t>(k)];
                coef.push_back(c[static_cast<std::size_t>(k)]);
              }
              v.normalize();
              Direction dir;
              dir.orbit = static_cast<int>(out.orbits.size());
              dir.irrep = pg.irreps[r].label;
              dir.copy = copy_index;
              dir.multipole = multipole_name(type, l);
              dir.coefficients = coef;
              dir.label = direction_label(c);
              dir.vectors = indices;
              dir.moments = Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, 3, Eigen::RowMajor>>(
                  v.data(), static_cast<Eigen::Index>(nm), 3);
              if (options.magnetic_groups) {
                std::tie(dir.magnetic_space_group, dir.ahe_allowed) = msg.get(v, actions);
                // Symmetry-distinct directions only: one per magnetic space-group type.
                if (!seen_uni.insert(dir.magnetic_space_group.uni).second) continue;
              }
              out.directions.push_back(std::move(dir));
            }
          }
        }
      }
    }
    if (total < dim && options.max_rank == 0)
      throw NumericalError(where(crystal) + ": multipoles up to rank 40 span only " + std::to_string(total) + " of " +
                           std::to_string(dim) + " dimensions for the orbit of '" + crystal.labels[rep_site] + "'");
    out.dimension += dim;
    out.orbits.push_back(std::move(orbit));
  }
  out.decomposition = format_decomposition(out.irreps, out.multiplicities);
  out.complete = static_cast<int>(out.vectors.size()) == out.dimension;
  return out;
}

Eigen::MatrixXd MagneticBasis::site_moments(const Eigen::MatrixXd& magnetic_moments, double moment) const {
  if (magnetic_moments.rows() != static_cast<Eigen::Index>(magnetic_sites.size()) || magnetic_moments.cols() != 3)
    throw InvalidArgument("site_moments: moments must have shape (" + std::to_string(magnetic_sites.size()) +
                          ", 3)");
  if (!(std::isfinite(moment) && moment > 0)) throw InvalidArgument("site_moments: moment must be > 0 muB");
  double mx = 0;
  for (Eigen::Index i = 0; i < magnetic_moments.rows(); ++i) mx = std::max(mx, magnetic_moments.row(i).norm());
  Eigen::MatrixXd m = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(crystal.n_sites()), 3);
  if (mx == 0) return m;
  for (std::size_t i = 0; i < magnetic_sites.size(); ++i) {
    Eigen::RowVector3d r = magnetic_moments.row(static_cast<Eigen::Index>(i)) * (moment / mx);
    for (int k = 0; k < 3; ++k)
      if (std::abs(r(k)) < 1e-10 * moment) r(k) = 0;
    m.row(static_cast<Eigen::Index>(magnetic_sites[i])) = r;
  }
  return m;
}

std::vector<Candidate> MagneticBasis::candidates(double moment) const {
  std::vector<Candidate> out;
  auto name_of = [&](const std::string& irrep, const std::string& mp, const std::string& dir, int orbit) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%03zu", out.size() + 1);
    std::string n = std::string(buf) + "_" + irrep + "_" + mp;
    if (orbits.size() > 1) n += "_o" + std::to_string(orbit + 1);
    if (!dir.empty()) {
      n += "_";
      for (char ch : dir)
        if (ch == '-') n += 'm';
        else if (ch != '[' && ch != ']') n += ch;
    }
    // Irrep labels may carry primes; keep names file-name safe.
    for (char& ch : n)
      if (ch == '\'') ch = 'p';
      else if (ch == '"') ch = 'q';
    return n;
  };
  // Copies of multi-dimensional irreps covered by directions; without directions (BasisOptions::directions off)
  // their components themselves become candidates, so that no copy is left without one.
  std::set<std::tuple<int, std::string, int>> with_directions;
  for (const Direction& d : directions) with_directions.emplace(d.orbit, d.irrep, d.copy);
  for (const BasisVector& v : vectors) {
    const bool multi = irrep_dimensions[static_cast<std::size_t>(
                           std::find(irreps.begin(), irreps.end(), v.irrep) - irreps.begin())] != 1;
    if (multi && with_directions.count({v.orbit, v.irrep, v.copy})) continue;
    Candidate c;
    c.name = name_of(v.irrep, v.multipole, "", v.orbit);
    if (multi) {
      c.name += "_c" + std::to_string(v.component + 1);
      c.direction = "component " + std::to_string(v.component + 1);
    }
    c.crystal = crystal;
    c.moments = site_moments(v.moments, moment);
    c.irrep = v.irrep;
    c.multipole = v.multipole;
    c.magnetic_space_group = v.magnetic_space_group;
    c.ahe_allowed = v.ahe_allowed;
    out.push_back(std::move(c));
  }
  for (const Direction& d : directions) {
    Candidate c;
    c.name = name_of(d.irrep, d.multipole, d.label, d.orbit);
    c.crystal = crystal;
    c.moments = site_moments(d.moments, moment);
    c.irrep = d.irrep;
    c.multipole = d.multipole;
    c.direction = d.label;
    c.magnetic_space_group = d.magnetic_space_group;
    c.ahe_allowed = d.ahe_allowed;
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace tsunagu::magnetic
