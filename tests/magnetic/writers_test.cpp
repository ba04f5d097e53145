#include "tsunagu/magnetic/writers.hpp"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <unistd.h>

#include <Eigen/Geometry>
#include <Eigen/LU>
#include <gtest/gtest.h>

#include "tsunagu/core/error.hpp"
#include "tsunagu/core/io.hpp"
#include "tsunagu/magnetic/msg_symbols.hpp"
#include "tsunagu/structure/crystal.hpp"
#include "tsunagu/structure/symmetry.hpp"

namespace tsunagu::magnetic {
namespace {

using structure::Crystal;

// ---- fixtures ---------------------------------------------------------------------------------------------------

// Mn3GaN antiperovskite, Mn at 3c with the all-in triangular pattern (2,-1,-1),... (Gamma_4g, R-3m').
Candidate mn3gan() {
  Candidate c;
  c.name = "003_T1g_M3_111";
  c.irrep = "T1g";
  c.multipole = "M3";
  c.direction = "[111]";
  c.crystal.lattice = 3.9 * Eigen::Matrix3d::Identity();
  c.crystal.frac = Eigen::MatrixXd(5, 3);
  c.crystal.frac << 0, 0.5, 0.5, 0.5, 0, 0.5, 0.5, 0.5, 0, 0, 0, 0, 0.5, 0.5, 0.5;
  c.crystal.numbers = {25, 25, 25, 31, 7};
  c.crystal.labels = {"Mn1", "Mn2", "Mn3", "Ga1", "N1"};
  c.moments = Eigen::MatrixXd::Zero(5, 3);
  c.moments.row(0) << 2, -1, -1;
  c.moments.row(1) << -1, 2, -1;
  c.moments.row(2) << -1, -1, 2;
  c.moments *= 3.0 / std::sqrt(6.0);  // 3 μB per Mn
  return c;
}

// Mn3Sn-like P6_3/mmc: Mn at 6h (x, 2x, 1/4), Sn at 2c, a 120° in-plane pattern (moments radial from the triangle
// centre on the c axis) plus a uniform canting along c, in a lattice rotated away from the standard orientation so
// that Cartesian and crystal axes share nothing.
Candidate mn3sn() {
  Candidate c;
  c.name = "mn3sn_radial";
  const Eigen::Matrix3d std_lattice = structure::lattice_from_parameters(5.665, 5.665, 4.531, 90, 90, 120);
  const Eigen::Matrix3d q =
      (Eigen::AngleAxisd(0.7, Eigen::Vector3d(1, 2, 3).normalized()) * Eigen::AngleAxisd(0.3, Eigen::Vector3d::UnitX()))
          .toRotationMatrix();
  c.crystal.lattice = std_lattice * q.transpose();  // rows rotated by q
  const double x = 0.8388;
  c.crystal.frac = Eigen::MatrixXd(8, 3);
  c.crystal.frac << x, 2 * x, 0.25, -2 * x, -x, 0.25, x, -x, 0.25, -x, -2 * x, 0.75, 2 * x, x, 0.75, -x, x, 0.75,
      1.0 / 3, 2.0 / 3, 0.25, 2.0 / 3, 1.0 / 3, 0.75;
  c.crystal.frac = structure::wrap_fractional(c.crystal.frac);
  c.crystal.numbers = {25, 25, 25, 25, 25, 25, 50, 50};
  c.crystal.labels = {"Mn1", "Mn1", "Mn1", "Mn1", "Mn1", "Mn1", "Sn1", "Sn1"};  // repeated labels, as CIF gives
  c.moments = Eigen::MatrixXd::Zero(8, 3);
  for (int i = 0; i < 6; ++i) {
    Eigen::RowVector3d d = c.crystal.frac.row(i);
    d(2) = 0;  // offset from the triangle centre (0, 0, z)
    for (int k = 0; k < 2; ++k) d(k) -= std::round(d(k));
    const Eigen::RowVector3d radial = (d * c.crystal.lattice).normalized();
    const Eigen::RowVector3d axis_c = c.crystal.lattice.row(2).normalized();
    c.moments.row(i) = 3.0 * radial + 0.3 * axis_c;
  }
  return c;
}

// CsCl-type antiferromagnet in the conventional cubic cell: the body centring is an anti-translation, so magCIF
// needs the centring loop with a "-1" entry.
Candidate cscl_afm() {
  Candidate c;
  c.name = "afm_bcc";
  c.crystal.lattice = 2.87 * Eigen::Matrix3d::Identity();
  c.crystal.frac = Eigen::MatrixXd(2, 3);
  c.crystal.frac << 0, 0, 0, 0.5, 0.5, 0.5;
  c.crystal.numbers = {26, 26};
  c.crystal.labels = {"Fe1", "Fe2"};
  c.moments = Eigen::MatrixXd(2, 3);
  c.moments << 0, 0, 2.2, 0, 0, -2.2;
  return c;
}

// ---- a small CIF reader: items and loops, quoted strings, # comments --------------------------------------------

struct Cif {
  std::map<std::string, std::string> items;
  std::vector<std::map<std::string, std::vector<std::string>>> loops;  // tag -> column

  const std::vector<std::string>& column(const std::string& tag) const {
    for (const auto& loop : loops) {
      auto it = loop.find(tag);
      if (it != loop.end()) return it->second;
    }
    throw std::runtime_error("no loop column " + tag);
  }
  bool has_column(const std::string& tag) const {
    for (const auto& loop : loops) {
      if (loop.count(tag)) return true;
    }
    return false;
  }
};

std::vector<std::string> tokenize(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    std::size_t i = 0;
    while (i < line.size()) {
      if (std::isspace(static_cast<unsigned char>(line[i]))) {
        ++i;
      } else if (line[i] == '#') {
        break;
      } else if (line[i] == '"' || line[i] == '\'') {
        // A quote closes only when followed by whitespace or the end of the line (so "R-3m'" works).
        const char q = line[i];
        std::size_t j = i + 1;
        while (j < line.size() && !(line[j] == q && (j + 1 == line.size() || std::isspace(static_cast<unsigned char>(line[j + 1]))))) ++j;
        out.push_back(line.substr(i + 1, j - i - 1));
        i = j + 1;
      } else {
        std::size_t j = i;
        while (j < line.size() && !std::isspace(static_cast<unsigned char>(line[j]))) ++j;
        out.push_back(line.substr(i, j - i));
        i = j;
      }
    }
  }
  return out;
}

Cif parse_cif(const std::string& text) {
  Cif cif;
  const std::vector<std::string> t = tokenize(text);
  std::size_t i = 0;
  while (i < t.size()) {
    if (t[i].rfind("data_", 0) == 0) {
      ++i;
    } else if (t[i] == "loop_") {
      ++i;
      std::vector<std::string> tags;
      while (i < t.size() && t[i][0] == '_') tags.push_back(t[i++]);
      std::map<std::string, std::vector<std::string>> loop;
      std::size_t k = 0;
      while (i < t.size() && t[i][0] != '_' && t[i] != "loop_" && t[i].rfind("data_", 0) != 0) {
        loop[tags[k % tags.size()]].push_back(t[i++]);
        ++k;
      }
      EXPECT_EQ(k % tags.size(), 0u) << "ragged loop starting with " << tags[0];
      cif.loops.push_back(loop);
    } else {
      EXPECT_EQ(t[i][0], '_') << "unexpected token " << t[i];
      EXPECT_LT(i + 1, t.size());
      cif.items[t[i]] = t[i + 1];
      i += 2;
    }
  }
  return cif;
}

double parse_number(const std::string& s) {
  const auto slash = s.find('/');
  if (slash != std::string::npos) return std::stod(s.substr(0, slash)) / std::stod(s.substr(slash + 1));
  return std::stod(s);
}

struct MagOp {
  Eigen::Matrix3d r = Eigen::Matrix3d::Zero();
  Eigen::Vector3d t = Eigen::Vector3d::Zero();
  int theta = 1;  // +1, or -1 with time reversal
};

// "x-y+1/3,-x,z+1/2,-1"
MagOp parse_xyz(const std::string& s) {
  std::vector<std::string> parts;
  std::stringstream ss(s);
  std::string part;
  while (std::getline(ss, part, ',')) parts.push_back(part);
  EXPECT_EQ(parts.size(), 4u) << s;
  MagOp op;
  for (int row = 0; row < 3; ++row) {
    const std::string& e = parts[static_cast<std::size_t>(row)];
    std::size_t i = 0;
    while (i < e.size()) {
      double sign = 1;
      if (e[i] == '+' || e[i] == '-') sign = e[i++] == '-' ? -1 : 1;
      std::size_t j = i;
      while (j < e.size() && e[j] != '+' && e[j] != '-') ++j;
      const std::string term = e.substr(i, j - i);
      const char last = term.empty() ? '\0' : term.back();
      if (last == 'x' || last == 'y' || last == 'z') {
        const double coef = term.size() > 1 ? std::stod(term.substr(0, term.size() - 1)) : 1.0;
        op.r(row, last - 'x') += sign * coef;
      } else {
        op.t(row) += sign * parse_number(term);
      }
      i = j;
    }
  }
  op.theta = std::stoi(parts[3]);
  EXPECT_TRUE(op.theta == 1 || op.theta == -1) << s;
  return op;
}

bool same_position(const Eigen::Vector3d& a, const Eigen::Vector3d& b, double tol = 1e-4) {
  for (int k = 0; k < 3; ++k) {
    const double d = a(k) - b(k);
    if (std::abs(d - std::round(d)) > tol) return false;
  }
  return true;
}

// Parse the magCIF, rebuild every site and moment from the representatives with the written operations, and
// compare with the candidate. Moments are compared as coefficients u of m = sum_i u_i a_i, which do not depend on
// the lattice's orientation (the CIF keeps only cell parameters).
//
// Transformation of those coefficients: an operation with fractional rotation R has Cartesian matrix
// R_c = L^T R L^{-T} (L rows a_i) and maps an axial moment to m' = theta det(R) R_c m. With m = L^T u,
// u' = L^{-T} m' = theta det(R) L^{-T} L^T R L^{-T} L^T u = theta det(R) R u. magCIF's components are
// M_i = |a_i| u_i (along the unit vectors a_i/|a_i|), so u_i = M_i / |a_i| with the written cell lengths.
void expect_mcif_regenerates(const Candidate& cand, const std::string& text, std::size_t n_operations) {
  SCOPED_TRACE(cand.name);
  const Cif cif = parse_cif(text);
  const Crystal& crystal = cand.crystal;

  // Cell parameters as written vs the input lattice.
  const Eigen::Matrix<double, 6, 1> par = crystal.parameters();
  const char* cell_tags[6] = {"_cell_length_a", "_cell_length_b", "_cell_length_c",
                              "_cell_angle_alpha", "_cell_angle_beta", "_cell_angle_gamma"};
  Eigen::Vector3d lengths;
  for (int k = 0; k < 6; ++k) {
    ASSERT_TRUE(cif.items.count(cell_tags[k])) << cell_tags[k];
    const double v = std::stod(cif.items.at(cell_tags[k]));
    EXPECT_NEAR(v, par(k), 1e-5) << cell_tags[k];
    if (k < 3) lengths(k) = v;
  }

  // Full group = coset representatives x centrings.
  std::vector<MagOp> reps, centrings, group;
  for (const auto& s : cif.column("_space_group_symop_magn_operation.xyz")) reps.push_back(parse_xyz(s));
  for (const auto& s : cif.column("_space_group_symop_magn_centering.xyz")) centrings.push_back(parse_xyz(s));
  for (const MagOp& g : reps) {
    for (const MagOp& c : centrings) {
      MagOp p;
      p.r = g.r;
      p.t = g.t + c.t;  // c * g: the centrings are pure translations
      p.theta = g.theta * c.theta;
      group.push_back(p);
    }
  }
  EXPECT_EQ(group.size(), n_operations);
  EXPECT_EQ(reps.size(), cif.column("_space_group_symop_magn_operation.id").size());

  // Representatives and their moments.
  const auto& labels = cif.column("_atom_site_label");
  const auto& types = cif.column("_atom_site_type_symbol");
  const auto& fx = cif.column("_atom_site_fract_x");
  const auto& fy = cif.column("_atom_site_fract_y");
  const auto& fz = cif.column("_atom_site_fract_z");
  std::map<std::string, Eigen::Vector3d> moment_u;
  if (cif.has_column("_atom_site_moment.label")) {
    const auto& ml = cif.column("_atom_site_moment.label");
    const auto& mx = cif.column("_atom_site_moment.crystalaxis_x");
    const auto& my = cif.column("_atom_site_moment.crystalaxis_y");
    const auto& mz = cif.column("_atom_site_moment.crystalaxis_z");
    for (std::size_t k = 0; k < ml.size(); ++k) {
      const Eigen::Vector3d axis(std::stod(mx[k]), std::stod(my[k]), std::stod(mz[k]));
      moment_u[ml[k]] = axis.cwiseQuotient(lengths);
    }
  }

  struct Image {
    std::string type;
    Eigen::Vector3d x, u;
  };
  std::vector<Image> images;
  for (std::size_t k = 0; k < labels.size(); ++k) {
    const Eigen::Vector3d x0(std::stod(fx[k]), std::stod(fy[k]), std::stod(fz[k]));
    const Eigen::Vector3d u0 = moment_u.count(labels[k]) ? moment_u.at(labels[k]) : Eigen::Vector3d::Zero();
    for (const MagOp& g : group) {
      images.push_back({types[k], g.r * x0 + g.t, g.theta * g.r.determinant() * g.r * u0});
    }
  }

  // Every input site is generated, with its own moment, by every image that lands on it; and every image lands on
  // an input site.
  const Eigen::Matrix3d inv_lt = crystal.lattice.transpose().inverse();
  std::vector<int> hits(crystal.n_sites(), 0);
  for (const Image& im : images) {
    bool found = false;
    for (std::size_t i = 0; i < crystal.n_sites(); ++i) {
      if (!same_position(im.x, crystal.frac.row(static_cast<Eigen::Index>(i)).transpose())) continue;
      found = true;
      ++hits[i];
      EXPECT_EQ(im.type, structure::element_symbol(crystal.numbers[i])) << "site " << i;
      const Eigen::Vector3d u_in = inv_lt * cand.moments.row(static_cast<Eigen::Index>(i)).transpose();
      EXPECT_LT((im.u - u_in).norm(), 1e-5) << "site " << i << ": regenerated u " << im.u.transpose()
                                             << " vs input " << u_in.transpose();
    }
    EXPECT_TRUE(found) << "image at " << im.x.transpose() << " is no input site";
  }
  for (std::size_t i = 0; i < crystal.n_sites(); ++i) EXPECT_GT(hits[i], 0) << "site " << i << " not regenerated";
}

// ---- VASP ------------------------------------------------------------------------------------------------------

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

std::vector<std::string> words(const std::string& line) {
  std::vector<std::string> out;
  std::istringstream in(line);
  std::string w;
  while (in >> w) out.push_back(w);
  return out;
}

std::vector<double> expand_magmom(const std::string& incar) {
  for (const std::string& line : lines_of(incar)) {
    if (line.rfind("MAGMOM", 0) != 0) continue;
    std::vector<double> out;
    const auto w = words(line.substr(line.find('=') + 1));
    for (const std::string& v : w) {
      const auto star = v.find('*');
      if (star == std::string::npos) {
        out.push_back(std::stod(v));
      } else {
        const int n = std::stoi(v.substr(0, star));
        for (int k = 0; k < n; ++k) out.push_back(std::stod(v.substr(star + 1)));
      }
    }
    return out;
  }
  ADD_FAILURE() << "no MAGMOM line";
  return {};
}

std::string incar_value(const std::string& incar, const std::string& tag) {
  for (const std::string& line : lines_of(incar)) {
    const auto w = words(line);
    if (w.size() >= 3 && w[0] == tag && w[1] == "=") return w[2];
  }
  return "";
}

TEST(VaspWriter, GroupsAtomsByElementAndOrdersMagmom) {
  // Interleaved elements: Mn, N, Mn, Ga, Mn -> species Mn N Ga, counts 3 1 1.
  Candidate c = mn3gan();
  const std::vector<int> perm = {0, 4, 1, 3, 2};
  Candidate shuffled = c;
  for (int k = 0; k < 5; ++k) {
    shuffled.crystal.frac.row(k) = c.crystal.frac.row(perm[k]);
    shuffled.crystal.numbers[k] = c.crystal.numbers[perm[k]];
    shuffled.crystal.labels[k] = c.crystal.labels[perm[k]];
    shuffled.moments.row(k) = c.moments.row(perm[k]);
  }
  shuffled.magnetic_space_group = {1331, "166.101", "R-3m'", 3};
  const VaspFiles files = write_vasp(shuffled);
  EXPECT_EQ(files.order, (std::vector<std::size_t>{0, 2, 4, 1, 3}));

  const auto p = lines_of(files.poscar);
  ASSERT_GE(p.size(), 13u);
  EXPECT_NE(p[0].find("003_T1g_M3_111"), std::string::npos);
  EXPECT_EQ(std::stod(p[1]), 1.0);
  for (int r = 0; r < 3; ++r) {
    const auto w = words(p[static_cast<std::size_t>(2 + r)]);
    ASSERT_EQ(w.size(), 3u);
    for (int k = 0; k < 3; ++k) EXPECT_NEAR(std::stod(w[static_cast<std::size_t>(k)]), r == k ? 3.9 : 0.0, 1e-12);
  }
  EXPECT_EQ(words(p[5]), (std::vector<std::string>{"Mn", "N", "Ga"}));
  EXPECT_EQ(words(p[6]), (std::vector<std::string>{"3", "1", "1"}));
  EXPECT_EQ(p[7], "Direct");
  for (std::size_t k = 0; k < 5; ++k) {
    const auto w = words(p[8 + k]);
    ASSERT_GE(w.size(), 3u);
    const auto site = static_cast<Eigen::Index>(files.order[k]);
    for (int d = 0; d < 3; ++d) {
      EXPECT_NEAR(std::stod(w[static_cast<std::size_t>(d)]), shuffled.crystal.frac(site, d), 1e-12);
    }
  }

  const std::vector<double> magmom = expand_magmom(files.incar);
  ASSERT_EQ(magmom.size(), 15u);
  for (std::size_t k = 0; k < 5; ++k) {
    for (int d = 0; d < 3; ++d) {
      EXPECT_NEAR(magmom[3 * k + static_cast<std::size_t>(d)],
                  shuffled.moments(static_cast<Eigen::Index>(files.order[k]), d), 1e-4)
          << "atom " << k << " component " << d;
    }
  }
  // Non-magnetic N and Ga at the end are compressed into one run of zeros.
  EXPECT_NE(files.incar.find(" 6*0\n"), std::string::npos) << files.incar;

  EXPECT_EQ(incar_value(files.incar, "ISPIN"), "2");
  EXPECT_EQ(incar_value(files.incar, "LNONCOLLINEAR"), ".TRUE.");
  EXPECT_EQ(incar_value(files.incar, "LORBIT"), "11");
  EXPECT_EQ(incar_value(files.incar, "ISYM"), "-1");
  EXPECT_NE(files.incar.find("R-3m'"), std::string::npos);
  EXPECT_NE(files.incar.find("166.101"), std::string::npos);
  EXPECT_NE(files.incar.find("T1g"), std::string::npos);
  EXPECT_NE(files.incar.find("M3"), std::string::npos);
  EXPECT_NE(files.incar.find("[111]"), std::string::npos);
  EXPECT_NE(files.incar.find("POTCAR"), std::string::npos);
  EXPECT_NE(files.incar.find("ENCUT"), std::string::npos);
  EXPECT_NE(files.incar.find("KPOINTS"), std::string::npos);
}

TEST(VaspWriter, WritesDirectory) {
  const Candidate c = mn3sn();
  const auto dir = std::filesystem::temp_directory_path() /
                   ("tsunagu_writers_test_" + std::to_string(::getpid())) / "nested" / c.name;
  write_vasp_dir(c, dir);
  const VaspFiles files = write_vasp(c);
  EXPECT_EQ(core::read_file(dir / "POSCAR"), files.poscar);
  EXPECT_EQ(core::read_file(dir / "INCAR"), files.incar);
  EXPECT_EQ(words(lines_of(files.poscar)[6]), (std::vector<std::string>{"6", "2"}));
  EXPECT_EQ(expand_magmom(files.incar).size(), 24u);
  EXPECT_NE(files.incar.find("not determined"), std::string::npos);  // no group label on this candidate
  std::filesystem::remove_all(dir.parent_path().parent_path());
}

TEST(VaspWriter, RejectsBadInput) {
  Candidate c = mn3gan();
  c.moments = Eigen::MatrixXd::Zero(4, 3);
  EXPECT_THROW(write_vasp(c), InvalidArgument);
  c = mn3gan();
  c.moments(0, 0) = std::nan("");
  EXPECT_THROW(write_vasp(c), InvalidArgument);
  c = mn3gan();
  c.crystal.occupancies = Eigen::VectorXd::Ones(5);
  c.crystal.occupancies(3) = 0.5;
  EXPECT_THROW(write_vasp(c), InvalidArgument);
}

// ---- magCIF ----------------------------------------------------------------------------------------------------

TEST(McifWriter, Mn3GaNRegeneratesAllSitesAndMoments) {
  const Candidate c = mn3gan();
  const auto msg = structure::analyze_magnetic(c.crystal, c.moments);
  ASSERT_EQ(msg.uni_number, 1331);
  const std::string text = write_mcif(c, msg);
  const Cif cif = parse_cif(text);
  EXPECT_EQ(cif.items.at("_space_group_magn.number_BNS"), "166.101");
  EXPECT_EQ(cif.items.at("_space_group_magn.name_BNS"), "R-3m'");
  EXPECT_EQ(cif.items.at("_space_group_magn.number_OG"), "166.5.1331");
  // One orbit each for Mn, Ga, N; the moment loop lists only Mn.
  EXPECT_EQ(cif.column("_atom_site_label").size(), 3u);
  EXPECT_EQ(cif.column("_atom_site_moment.label"), (std::vector<std::string>{"Mn1"}));
  expect_mcif_regenerates(c, text, msg.operations.size());
}

TEST(McifWriter, HexagonalRotatedLatticeRegenerates) {
  const Candidate c = mn3sn();
  const auto msg = structure::analyze_magnetic(c.crystal, c.moments);
  ASSERT_GE(msg.uni_number, 1);
  ASSERT_GE(msg.operations.size(), 6u) << "the 120-degree pattern should keep a 3-fold axis";
  const std::string text = write_mcif(c, msg);
  expect_mcif_regenerates(c, text, msg.operations.size());
  // The canting along c is 0.3 μB along the unit vector c/|c| (c is perpendicular to a and b).
  const Cif cif = parse_cif(text);
  for (const auto& v : cif.column("_atom_site_moment.crystalaxis_z")) EXPECT_NEAR(std::stod(v), 0.3, 1e-6);
  // Labels stay unique although the input repeats them.
  const auto& labels = cif.column("_atom_site_label");
  EXPECT_EQ(std::set<std::string>(labels.begin(), labels.end()).size(), labels.size());
}

TEST(McifWriter, AntiCentringGoesToCentringLoop) {
  const Candidate c = cscl_afm();
  const auto msg = structure::analyze_magnetic(c.crystal, c.moments);
  const std::string text = write_mcif(c, msg);
  const Cif cif = parse_cif(text);
  EXPECT_EQ(cif.items.at("_space_group_magn.name_BNS"), "P_I4/mnc");
  const auto& centring = cif.column("_space_group_symop_magn_centering.xyz");
  EXPECT_EQ(centring, (std::vector<std::string>{"x,y,z,+1", "x+1/2,y+1/2,z+1/2,-1"}));
  EXPECT_EQ(cif.column("_atom_site_label").size(), 1u);  // one magnetic orbit
  expect_mcif_regenerates(c, text, msg.operations.size());
}

TEST(McifWriter, CrystalAxisComponentsInHexagonalCell) {
  // a = (a, 0, 0), b = (-a/2, a sqrt3/2, 0): a moment along Cartesian y is (1/sqrt3) a/|a| + (2/sqrt3) b/|b|.
  Candidate c;
  c.name = "hex_y";
  c.crystal.lattice = structure::lattice_from_parameters(3.0, 3.0, 5.0, 90, 90, 120);
  c.crystal.frac = Eigen::MatrixXd::Zero(1, 3);
  c.crystal.numbers = {26};
  c.crystal.labels = {"Fe1"};
  c.moments = Eigen::MatrixXd(1, 3);
  c.moments << 0, 2.0, 0;
  const auto msg = structure::analyze_magnetic(c.crystal, c.moments);
  const Cif cif = parse_cif(write_mcif(c, msg));
  EXPECT_NEAR(std::stod(cif.column("_atom_site_moment.crystalaxis_x")[0]), 2.0 / std::sqrt(3.0), 1e-6);
  EXPECT_NEAR(std::stod(cif.column("_atom_site_moment.crystalaxis_y")[0]), 4.0 / std::sqrt(3.0), 1e-6);
  EXPECT_NEAR(std::stod(cif.column("_atom_site_moment.crystalaxis_z")[0]), 0.0, 1e-6);
}

TEST(McifWriter, WritesFileAndRejectsMismatchedSymmetry) {
  const Candidate c = mn3gan();
  const auto msg = structure::analyze_magnetic(c.crystal, c.moments);
  const auto path = std::filesystem::temp_directory_path() /
                    ("tsunagu_writers_test_" + std::to_string(::getpid()) + ".mcif");
  write_mcif_file(c, msg, path);
  EXPECT_EQ(core::read_file(path), write_mcif(c, msg));
  std::filesystem::remove(path);

  const auto other = structure::analyze_magnetic(cscl_afm().crystal, cscl_afm().moments);
  EXPECT_THROW(write_mcif(c, other), InvalidArgument);
  structure::MagneticSymmetry empty = msg;
  empty.operations.clear();
  empty.time_reversals.clear();
  EXPECT_THROW(write_mcif(c, empty), InvalidArgument);
}

}  // namespace
}  // namespace tsunagu::magnetic
