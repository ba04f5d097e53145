#include "tsunagu/magnetic/qe.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <string>

#include "../core/temp_dir.hpp"
#include "tsunagu/core/error.hpp"

namespace tsunagu::magnetic {
namespace {

void touch(const std::filesystem::path& p) { std::ofstream(p) << "<UPF version=\"2.0.1\"></UPF>\n"; }

// Fe4O in a 4 Å cubic cell: Fe moments +z, +z, -z, 0 (three Fe species), O non-magnetic.
Candidate fe_candidate() {
  Candidate c;
  c.name = "fe_test";
  c.crystal.lattice = Eigen::Matrix3d::Identity() * 4.0;
  c.crystal.frac.resize(5, 3);
  c.crystal.frac << 0, 0, 0, 0.5, 0.5, 0, 0.5, 0, 0.5, 0, 0.5, 0.5, 0.5, 0.5, 0.5;
  c.crystal.numbers = {26, 26, 26, 26, 8};
  c.crystal.labels = {"Fe1", "Fe2", "Fe3", "Fe4", "O1"};
  c.moments.resize(5, 3);
  c.moments << 0, 0, 2, 0, 0, 2, 0, 0, -2, 0, 0, 0, 0, 0, 0;
  c.irrep = "A1g";
  return c;
}

class QeInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    touch(dir.path() / "Fe.pbe-spn-rrkjus.UPF");
    touch(dir.path() / "o_pbe_v1.2.uspp.upf");
    touch(dir.path() / "Fe2O3.notes.txt");
    opts.pseudo_dir = dir.path();
  }
  test::TempDir dir{"qe"};
  QeOptions opts;
};

TEST_F(QeInputTest, GroupsSpeciesByElementAndMoment) {
  std::vector<std::size_t> site;
  const auto species = qe_species(fe_candidate(), opts, &site);
  ASSERT_EQ(species.size(), 4u);
  EXPECT_EQ(species[0].label, "Fe1");
  EXPECT_EQ(species[1].label, "Fe2");
  EXPECT_EQ(species[2].label, "Fe3");
  EXPECT_EQ(species[3].label, "O1");
  EXPECT_EQ(site, (std::vector<std::size_t>{0, 0, 1, 2, 3}));
  EXPECT_DOUBLE_EQ(species[0].starting_magnetization, 0.5);
  EXPECT_DOUBLE_EQ(species[1].starting_magnetization, 0.5);
  EXPECT_DOUBLE_EQ(species[1].angle1, 180.0);
  EXPECT_DOUBLE_EQ(species[2].starting_magnetization, 0.0);
  EXPECT_DOUBLE_EQ(species[3].starting_magnetization, 0.0);
  EXPECT_NEAR(species[0].mass, 55.845, 1e-3);
}

TEST_F(QeInputTest, StartingMagnetizationProportionalToMoment) {
  auto c = fe_candidate();
  c.moments.row(2) << 0, 0, -1;  // half of the largest
  opts.starting_magnetization = 0.8;
  const auto species = qe_species(c, opts);
  EXPECT_DOUBLE_EQ(species[0].starting_magnetization, 0.8);
  EXPECT_DOUBLE_EQ(species[1].starting_magnetization, 0.4);
}

TEST_F(QeInputTest, AnglesForAxesAndBodyDiagonal) {
  struct Case {
    Eigen::Vector3d m;
    double theta, phi;
  };
  const double t111 = std::acos(1 / std::sqrt(3.0)) * 180 / M_PI;
  const std::vector<Case> cases = {{{1, 0, 0}, 90, 0},      {{0, 1, 0}, 90, 90},   {{0, 0, 1}, 0, 0},
                                   {{0, 0, -1}, 180, 0},    {{1, 1, 1}, t111, 45}, {{0, -1, 0}, 90, 270},
                                   {{-1, 0, 0}, 90, 180}};
  for (const auto& cs : cases) {
    Candidate c;
    c.name = "one";
    c.crystal.lattice = Eigen::Matrix3d::Identity() * 3.0;
    c.crystal.frac = Eigen::MatrixXd::Zero(1, 3);
    c.crystal.numbers = {26};
    c.crystal.labels = {"Fe"};
    c.moments = cs.m.transpose() * 2.0;
    const auto sp = qe_species(c, opts);
    ASSERT_EQ(sp.size(), 1u);
    EXPECT_NEAR(sp[0].angle1, cs.theta, 1e-9) << cs.m.transpose();
    EXPECT_NEAR(sp[0].angle2, cs.phi, 1e-9) << cs.m.transpose();
    EXPECT_DOUBLE_EQ(sp[0].starting_magnetization, 0.5);
  }
}

TEST_F(QeInputTest, WritesNoncollinearInput) {
  const std::string in = write_pw_input(fe_candidate(), opts);
  for (const char* s : {"noncolin = .true.", "ntyp = 4", "nat = 5", "ibrav = 0", "CELL_PARAMETERS angstrom",
                        "ATOMIC_POSITIONS crystal", "K_POINTS automatic", "starting_magnetization(1) = 0.500000",
                        "angle1(2) = 180.000000", "starting_magnetization(3) = 0.000000", "report = -1",
                        "Fe.pbe-spn-rrkjus.UPF", "o_pbe_v1.2.uspp.upf", "smearing = 'mv'", "ecutwfc = 40",
                        "conv_thr = 1e-08", "mixing_beta = 0.3", "  7 7 7 0 0 0"})
    EXPECT_NE(in.find(s), std::string::npos) << s << "\n" << in;
  EXPECT_EQ(in.find("ecutrho"), std::string::npos);
  EXPECT_EQ(in.find("constrained_magnetization"), std::string::npos);
  // Sites reference their species labels.
  EXPECT_NE(in.find("Fe2  0.5000000000  0.0000000000  0.5000000000"), std::string::npos) << in;
  EXPECT_NE(in.find("O1   0.5000000000  0.5000000000  0.5000000000"), std::string::npos) << in;

  opts.constrained_magnetization = "atomic direction";
  opts.lambda = 0.5;
  opts.ecutrho = 320;
  opts.k_mesh = {2, 3, 4};
  const std::string in2 = write_pw_input(fe_candidate(), opts);
  EXPECT_NE(in2.find("constrained_magnetization = 'atomic direction'"), std::string::npos);
  EXPECT_NE(in2.find("lambda = 0.5"), std::string::npos);
  EXPECT_NE(in2.find("ecutrho = 320"), std::string::npos);
  EXPECT_NE(in2.find("  2 3 4 0 0 0"), std::string::npos);

  const auto path = write_pw_input_file(dir.path() / "run" / "fe", fe_candidate(), opts);
  EXPECT_TRUE(std::filesystem::exists(path));
  EXPECT_EQ(path.filename(), "pw.in");
}

TEST(QeKMesh, FromSpacing) {
  // |b| = 1/4 Å^-1, 2π/4 = 1.5708; / 0.25 = 6.28 -> 7
  EXPECT_EQ(k_mesh_from_spacing(Eigen::Matrix3d::Identity() * 4.0, 0.25), (std::array<int, 3>{7, 7, 7}));
  Eigen::Matrix3d l = Eigen::Matrix3d::Identity();
  l.diagonal() << 3.0, 6.0, 30.0;
  EXPECT_EQ(k_mesh_from_spacing(l, 0.5), (std::array<int, 3>{5, 3, 1}));
  // exactly on a boundary: 2π/(2π) = 1 -> 1, not 2
  EXPECT_EQ(k_mesh_from_spacing(Eigen::Matrix3d::Identity(), 2 * M_PI), (std::array<int, 3>{1, 1, 1}));
  // hexagonal: |b1| = 2/(a√3)
  Eigen::Matrix3d h;
  h << 3, 0, 0, -1.5, 1.5 * std::sqrt(3.0), 0, 0, 0, 5;
  const auto k = k_mesh_from_spacing(h, 0.3);
  EXPECT_EQ(k[0], static_cast<int>(std::ceil(2 * M_PI * 2 / (3 * std::sqrt(3.0)) / 0.3)));
  EXPECT_EQ(k[0], k[1]);
  EXPECT_EQ(k[2], 5);
}

TEST_F(QeInputTest, PseudopotentialLookup) {
  EXPECT_EQ(resolve_pseudopotential(opts, "Fe"), "Fe.pbe-spn-rrkjus.UPF");
  EXPECT_EQ(resolve_pseudopotential(opts, "O"), "o_pbe_v1.2.uspp.upf");
  // "F" must not pick Fe's file, and a missing element names element and directory.
  try {
    resolve_pseudopotential(opts, "F");
    FAIL() << "no exception";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("for F:"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(dir.path().string()), std::string::npos) << e.what();
  }
  touch(dir.path() / "Fe-sp.upf");
  try {
    resolve_pseudopotential(opts, "Fe");
    FAIL() << "no exception";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("several"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("Fe-sp.upf"), std::string::npos) << e.what();
  }
  opts.pseudopotentials["Fe"] = "Fe-sp.upf";
  EXPECT_EQ(resolve_pseudopotential(opts, "Fe"), "Fe-sp.upf");
  opts.pseudopotentials["Fe"] = "missing.UPF";
  EXPECT_THROW(resolve_pseudopotential(opts, "Fe"), InvalidArgument);
  EXPECT_THROW(write_pw_input(fe_candidate(), opts), InvalidArgument);
}

TEST_F(QeInputTest, ValidateNamesTheField) {
  auto expect_field = [](QeOptions o, const std::string& field) {
    try {
      o.validate();
      FAIL() << "no exception for " << field;
    } catch (const InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find("QeOptions." + field), std::string::npos) << e.what();
    }
  };
  EXPECT_NO_THROW(opts.validate());
  QeOptions o = opts;
  o.pseudo_dir.clear();
  expect_field(o, "pseudo_dir");
  o = opts;
  o.ecutwfc = 0;
  expect_field(o, "ecutwfc");
  o = opts;
  o.ecutrho = 10;
  expect_field(o, "ecutrho");
  o = opts;
  o.k_spacing = -1;
  expect_field(o, "k_spacing");
  o = opts;
  o.k_mesh = {2, 0, 2};
  expect_field(o, "k_mesh");
  o = opts;
  o.smearing = "magic";
  expect_field(o, "smearing");
  o = opts;
  o.degauss = 0;
  expect_field(o, "degauss");
  o = opts;
  o.mixing_beta = 1.5;
  expect_field(o, "mixing_beta");
  o = opts;
  o.starting_magnetization = 1.5;
  expect_field(o, "starting_magnetization");
  o = opts;
  o.constrained_magnetization = "total";
  expect_field(o, "constrained_magnetization");
  o = opts;
  o.constrained_magnetization = "atomic direction";
  expect_field(o, "lambda");
  o = opts;
  o.calculation = "relax";
  expect_field(o, "calculation");
  o = opts;
  o.pseudopotentials["Xx"] = "a.UPF";
  expect_field(o, "pseudopotentials");
}

TEST_F(QeInputTest, BadCandidatesAndLabelLimits) {
  auto c = fe_candidate();
  c.moments.resize(4, 3);
  EXPECT_THROW(write_pw_input(c, opts), InvalidArgument);
  c = fe_candidate();
  c.moments(0, 0) = std::nan("");
  EXPECT_THROW(write_pw_input(c, opts), InvalidArgument);

  // 70 Fe sites with distinct moments: 61 labels per element at most.
  Candidate many;
  many.name = "many";
  many.crystal.lattice = Eigen::Matrix3d::Identity() * 100.0;
  const int n = 70;
  many.crystal.frac.resize(n, 3);
  many.moments.resize(n, 3);
  for (int i = 0; i < n; ++i) {
    many.crystal.frac.row(i) << i / 100.0, 0, 0;
    many.crystal.numbers.push_back(26);
    many.crystal.labels.push_back("Fe");
    many.moments.row(i) << std::cos(i * 0.05), std::sin(i * 0.05), 0;
  }
  opts.max_species = 1000;
  try {
    qe_species(many, opts);
    FAIL() << "no exception";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("exhausted"), std::string::npos) << e.what();
  }
  // pw.x's ntypx: more than max_species species is refused.
  opts.max_species = 2;
  try {
    write_pw_input(fe_candidate(), opts);
    FAIL() << "no exception";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("max_species"), std::string::npos) << e.what();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Parser on hand-made text (the real pw.x output is parsed in workflow_test).

const char* kHeader =
    "\n     Program PWSCF v.6.7MaX starts on 24Nov2026 at 15:31:37 \n"
    "     number of atoms/cell      =            2\n"
    "     number of atomic types    =            2\n";

std::string site_block(double m1, double m2) {
  std::string s;
  int k = 1;
  for (double m : {m1, m2}) {
    s += " ==============================================================================\n";
    s += "     atom number    " + std::to_string(k++) + " relative position :    0.0000   0.0000   0.0000\n";
    s += "     charge :     0.906494\n";
    s += "     magnetization :          0.100000    -0.000000    " + std::to_string(m) + "\n";
    s += "     magnetization/charge:   -0.000000   -0.000000    0.992353\n";
    s += "     polar coord.: r, theta, phi [deg] :     0.899562    0.000000  360.000000\n";
    s += " ==============================================================================\n";
  }
  return s;
}

std::string iteration(int n, double e) {
  return "     iteration #" + std::string(n < 10 ? "  " : " ") + std::to_string(n) +
         "     ecut=    25.00 Ry     beta= 0.30\n     total energy              =      " + std::to_string(e) +
         " Ry\n     total magnetization       =     0.00    -0.00    1.50 Bohr mag/cell\n"
         "     absolute magnetization    =     1.82 Bohr mag/cell\n";
}

TEST(PwParser, CompleteRun) {
  std::string text = std::string(kHeader) + site_block(0.45, -0.45) + iteration(1, -1.95) + iteration(2, -1.97) +
                     site_block(0.9, -0.8) +
                     "     the Fermi energy is    -4.9461 ev\n\n!    total energy              =      -1.98984492 Ry\n"
                     "     total magnetization       =    -0.01    0.02    1.90 Bohr mag/cell\n"
                     "     absolute magnetization    =     1.95 Bohr mag/cell\n\n"
                     "     convergence has been achieved in   2 iterations\n\n"
                     "     PWSCF        :   1m 2.96s CPU   1m 3.50s WALL\n\n"
                     "=------------------------------------------------------------------------------=\n"
                     "   JOB DONE.\n"
                     "=------------------------------------------------------------------------------=\n";
  const PwResult r = parse_pw_output(text, "test.out");
  EXPECT_EQ(r.status, PwResult::Status::Done);
  EXPECT_TRUE(r.ok());
  EXPECT_TRUE(r.job_done);
  EXPECT_TRUE(r.converged);
  EXPECT_DOUBLE_EQ(r.total_energy_ry, -1.98984492);
  EXPECT_NEAR(r.total_energy_ev, -1.98984492 * 13.605693122994, 1e-9);
  ASSERT_TRUE(r.fermi_energy_ev.has_value());
  EXPECT_DOUBLE_EQ(*r.fermi_energy_ev, -4.9461);
  EXPECT_DOUBLE_EQ(r.total_magnetization.z(), 1.90);
  EXPECT_DOUBLE_EQ(r.total_magnetization.x(), -0.01);
  EXPECT_DOUBLE_EQ(r.absolute_magnetization, 1.95);
  EXPECT_EQ(r.n_atoms, 2);
  ASSERT_EQ(r.site_moments.rows(), 2);
  EXPECT_DOUBLE_EQ(r.site_moments(0, 2), 0.9);  // last block, not the starting one
  EXPECT_DOUBLE_EQ(r.site_moments(1, 2), -0.8);
  EXPECT_DOUBLE_EQ(r.site_moments(0, 0), 0.1);
  EXPECT_DOUBLE_EQ(r.site_charges(1), 0.906494);
  EXPECT_EQ(r.n_iterations, 2);
  EXPECT_DOUBLE_EQ(r.wall_time_s, 63.5);
  EXPECT_TRUE(r.message.empty());
  EXPECT_TRUE(r.error.empty());
}

TEST(PwParser, CrashedMidScfIsAFailedResult) {
  // Killed during iteration 3: the last complete per-site block is the starting one; a half-written block is ignored.
  std::string text = std::string(kHeader) + site_block(0.45, -0.45) + iteration(1, -1.95) + iteration(2, -1.97) +
                     iteration(3, -1.98) + " ====\n     atom number    1 relative position :    0.0000\n"
                     "     charge :     0.9\n     magnetization :     0.0  0.0";
  const PwResult r = parse_pw_output(text, "crash.out");
  EXPECT_EQ(r.status, PwResult::Status::Failed);
  EXPECT_FALSE(r.job_done);
  EXPECT_FALSE(r.converged);
  EXPECT_EQ(r.n_iterations, 3);
  EXPECT_DOUBLE_EQ(r.total_energy_ry, -1.98);
  ASSERT_EQ(r.site_moments.rows(), 2);
  EXPECT_DOUBLE_EQ(r.site_moments(0, 2), 0.45);
  EXPECT_NE(r.message.find("iteration 3"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("JOB DONE"), std::string::npos) << r.message;
}

TEST(PwParser, UnconvergedRunIsDoneButNotConverged) {
  std::string text = std::string(kHeader) + iteration(1, -1.95) + iteration(2, -1.97) +
                     "     convergence NOT achieved after   2 iterations: stopping\n"
                     "     PWSCF        :      0.42s CPU      0.44s WALL\n   JOB DONE.\n";
  const PwResult r = parse_pw_output(text, "nc.out");
  EXPECT_EQ(r.status, PwResult::Status::Done);
  EXPECT_FALSE(r.converged);
  EXPECT_FALSE(r.ok());
  EXPECT_DOUBLE_EQ(r.total_energy_ry, -1.97);
  EXPECT_EQ(r.site_moments.rows(), 0);
  EXPECT_NE(r.message.find("not converged after 2"), std::string::npos) << r.message;
  EXPECT_DOUBLE_EQ(r.wall_time_s, 0.44);
}

TEST(PwParser, ErrorBlock) {
  const std::string text =
      "     Program PWSCF v.6.7MaX starts on 24Nov2026 at 15:31:59 \n"
      "     Reading input from err.in\n\n"
      " %%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%\n"
      "     Error in routine readpp (1):\n"
      "     file /usr/share/espresso/pseudo/missing.UPF not found\n"
      " %%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%\n\n"
      "     stopping ...\n";
  const PwResult r = parse_pw_output(text, "err.out");
  EXPECT_EQ(r.status, PwResult::Status::Failed);
  EXPECT_EQ(r.error, "Error in routine readpp (1): file /usr/share/espresso/pseudo/missing.UPF not found");
  EXPECT_NE(r.message.find("missing.UPF not found"), std::string::npos);
}

TEST(PwParser, GarbageAndTruncatedTextThrow) {
  try {
    parse_pw_output("hello world\n1 2 3\n", "garbage.txt");
    FAIL() << "no exception";
  } catch (const ParseError& e) {
    EXPECT_NE(std::string(e.what()).find("garbage.txt"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("Program PWSCF"), std::string::npos) << e.what();
  }
  EXPECT_THROW(parse_pw_output("", "empty.out"), ParseError);
  try {
    parse_pw_output("     Program PWSCF v.6.7MaX starts on 24Nov2026\n     Parallel version (MPI)\n", "short.out");
    FAIL() << "no exception";
  } catch (const ParseError& e) {
    EXPECT_NE(std::string(e.what()).find("short.out"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("number of atoms/cell"), std::string::npos) << e.what();
  }
  EXPECT_THROW(parse_pw_output_file("/nonexistent/dir/pw.out"), IoError);
}

TEST(PwParser, CollinearSiteMoments) {
  const std::string text = std::string(kHeader) +
                           "     Magnetic moment per site:\n"
                           "     atom:    1    charge:   0.9058    magn:   0.4502    constr:   0.0000\n"
                           "     atom:    2    charge:   0.9057    magn:  -0.4501    constr:   0.0000\n"
                           "!    total energy              =      -1.5 Ry\n"
                           "     total magnetization       =     0.00 Bohr mag/cell\n"
                           "     convergence has been achieved in   5 iterations\n   JOB DONE.\n";
  const PwResult r = parse_pw_output(text);
  EXPECT_TRUE(r.ok());
  ASSERT_EQ(r.site_moments.rows(), 2);
  EXPECT_DOUBLE_EQ(r.site_moments(1, 2), -0.4501);
  EXPECT_DOUBLE_EQ(r.total_magnetization.z(), 0.0);
}

TEST(AtomicMass, Range) {
  EXPECT_NEAR(atomic_mass(1), 1.008, 1e-9);
  EXPECT_NEAR(atomic_mass(26), 55.845, 1e-9);
  EXPECT_NEAR(atomic_mass(92), 238.03, 1e-9);
  EXPECT_THROW(atomic_mass(0), InvalidArgument);
  EXPECT_THROW(atomic_mass(119), InvalidArgument);
}

}  // namespace
}  // namespace tsunagu::magnetic
