#include "tsunagu/magnetic/qe.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <iomanip>
#include <numbers>
#include <set>
#include <sstream>

#include <Eigen/LU>

#include "tsunagu/core/error.hpp"
#include "tsunagu/core/io.hpp"

namespace tsunagu::magnetic {
namespace {

constexpr double kMomentTolerance = 1e-4;  // μB: moments closer than this share a species

// Standard atomic weights (IUPAC, abridged); mass number of the longest-lived isotope where none exists.
constexpr double kMasses[119] = {
    0.0,      1.008,    4.0026,   6.94,     9.0122,   10.81,    12.011,   14.007,   15.999,   18.998,   20.180,
    22.990,   24.305,   26.982,   28.085,   30.974,   32.06,    35.45,    39.948,   39.098,   40.078,   44.956,
    47.867,   50.942,   51.996,   54.938,   55.845,   58.933,   58.693,   63.546,   65.38,    69.723,   72.630,
    74.922,   78.971,   79.904,   83.798,   85.468,   87.62,    88.906,   91.224,   92.906,   95.95,    97.0,
    101.07,   102.91,   106.42,   107.87,   112.41,   114.82,   118.71,   121.76,   127.60,   126.90,   131.29,
    132.91,   137.33,   138.91,   140.12,   140.91,   144.24,   145.0,    150.36,   151.96,   157.25,   158.93,
    162.50,   164.93,   167.26,   168.93,   173.05,   174.97,   178.49,   180.95,   183.84,   186.21,   190.23,
    192.22,   195.08,   196.97,   200.59,   204.38,   207.2,    208.98,   209.0,    210.0,    222.0,    223.0,
    226.0,    227.0,    232.04,   231.04,   238.03,   237.0,    244.0,    243.0,    247.0,    247.0,    251.0,
    252.0,    257.0,    258.0,    259.0,    262.0,    267.0,    270.0,    269.0,    270.0,    270.0,    278.0,
    281.0,    281.0,    285.0,    286.0,    289.0,    289.0,    293.0,    293.0,    294.0};

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string fmt(double v, int precision = 10) {
  std::ostringstream os;
  os << std::setprecision(precision) << v;
  return os.str();
}

std::string fixed(double v, int decimals) {
  std::ostringstream os;
  os << std::fixed << std::setprecision(decimals) << v;
  std::string s = os.str();
  if (s.find_first_not_of("-0.") == std::string::npos) s = s[0] == '-' ? s.substr(1) : s;  // no "-0.000"
  return s;
}

std::string quote(const std::string& s) {
  if (s.find('\'') != std::string::npos) throw InvalidArgument("QE input: value contains a quote: " + s);
  return "'" + s + "'";
}

// Suffix characters of species labels: 1..9, a..z, A..Z.
const std::string& label_suffixes() {
  static const std::string s = "123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  return s;
}

}  // namespace

double atomic_mass(int z) {
  if (z < 1 || z > 118) throw InvalidArgument("atomic_mass: atomic number " + std::to_string(z) + " outside 1..118");
  return kMasses[z];
}

void QeOptions::validate() const {
  auto bad = [](const std::string& field, const std::string& value, const std::string& why) {
    throw InvalidArgument("QeOptions." + field + " = " + value + ": " + why);
  };
  if (pseudo_dir.empty()) bad("pseudo_dir", "''", "must name the directory with the pseudopotentials");
  for (const auto& [element, file] : pseudopotentials) {
    if (!structure::find_atomic_number(element) || structure::element_symbol(*structure::find_atomic_number(element)) != element)
      bad("pseudopotentials", "'" + element + "'", "keys must be element symbols such as 'Fe'");
    if (file.empty() || file.find('/') != std::string::npos)
      bad("pseudopotentials[" + element + "]", "'" + file + "'", "must be a file name inside pseudo_dir");
  }
  if (!(ecutwfc > 0) || !std::isfinite(ecutwfc)) bad("ecutwfc", fmt(ecutwfc), "must be > 0 Ry");
  if (!(ecutrho >= 0) || !std::isfinite(ecutrho)) bad("ecutrho", fmt(ecutrho), "must be >= 0 Ry (0: pw.x default)");
  if (ecutrho > 0 && ecutrho < ecutwfc) bad("ecutrho", fmt(ecutrho), "must be >= ecutwfc (" + fmt(ecutwfc) + ")");
  const bool explicit_mesh = k_mesh[0] != 0 || k_mesh[1] != 0 || k_mesh[2] != 0;
  if (explicit_mesh) {
    for (int i = 0; i < 3; ++i)
      if (k_mesh[i] < 1)
        bad("k_mesh", std::to_string(k_mesh[0]) + "x" + std::to_string(k_mesh[1]) + "x" + std::to_string(k_mesh[2]),
            "all three must be >= 1 (or all 0 to use k_spacing)");
  } else if (!(k_spacing > 0) || !std::isfinite(k_spacing)) {
    bad("k_spacing", fmt(k_spacing), "must be > 0 1/Å");
  }
  for (int i = 0; i < 3; ++i)
    if (k_shift[i] != 0 && k_shift[i] != 1) bad("k_shift", std::to_string(k_shift[i]), "must be 0 or 1");
  static const std::set<std::string> smearings = {"gaussian", "gauss", "mv", "m-v", "marzari-vanderbilt", "cold",
                                                  "mp", "m-p", "methfessel-paxton", "fd", "f-d", "fermi-dirac"};
  if (!smearings.count(smearing)) bad("smearing", "'" + smearing + "'", "must be one of gaussian, mv, mp, fd");
  if (!(degauss > 0) || !std::isfinite(degauss)) bad("degauss", fmt(degauss), "must be > 0 Ry");
  if (!(conv_thr > 0) || !std::isfinite(conv_thr)) bad("conv_thr", fmt(conv_thr), "must be > 0 Ry");
  if (!(mixing_beta > 0 && mixing_beta <= 1)) bad("mixing_beta", fmt(mixing_beta), "must be in (0, 1]");
  if (electron_maxstep < 1) bad("electron_maxstep", std::to_string(electron_maxstep), "must be >= 1");
  if (!(starting_magnetization > 0 && starting_magnetization <= 1))
    bad("starting_magnetization", fmt(starting_magnetization), "must be in (0, 1]");
  if (constrained_magnetization != "none" && constrained_magnetization != "atomic direction")
    bad("constrained_magnetization", "'" + constrained_magnetization + "'", "must be 'none' or 'atomic direction'");
  if (constrained_magnetization == "atomic direction" && !(lambda > 0 && std::isfinite(lambda)))
    bad("lambda", fmt(lambda), "must be > 0 with constrained_magnetization 'atomic direction'");
  if (!(lambda >= 0) || !std::isfinite(lambda)) bad("lambda", fmt(lambda), "must be >= 0");
  if (calculation != "scf") bad("calculation", "'" + calculation + "'", "only 'scf' is supported");
  if (prefix.empty() || prefix.find_first_of("'/ \t\n") != std::string::npos)
    bad("prefix", "'" + prefix + "'", "must be non-empty without quotes, slashes or spaces");
  if (outdir.empty() || outdir.find('\'') != std::string::npos) bad("outdir", "'" + outdir + "'", "must be non-empty without quotes");
  if (report < -1) bad("report", std::to_string(report), "must be -1, 0 or a positive interval");
  if (max_species < 1) bad("max_species", std::to_string(max_species), "must be >= 1");
}

std::string resolve_pseudopotential(const QeOptions& options, const std::string& element) {
  const std::filesystem::path& dir = options.pseudo_dir;
  if (auto it = options.pseudopotentials.find(element); it != options.pseudopotentials.end()) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(dir / it->second, ec))
      throw InvalidArgument("pseudopotential for " + element + ": '" + it->second + "' not found in " + dir.string());
    return it->second;
  }
  std::error_code ec;
  std::filesystem::directory_iterator iter(dir, ec), end;
  if (ec) throw InvalidArgument("pseudopotential for " + element + ": cannot list pseudo_dir " + dir.string() + ": " + ec.message());
  const std::string sym = lower(element);
  std::vector<std::string> matches;
  for (; iter != end; iter.increment(ec)) {
    if (ec) break;
    if (!iter->is_regular_file(ec)) continue;
    const std::string name = iter->path().filename().string();
    const std::string low = lower(name);
    if (low.size() < sym.size() + 4 || low.compare(0, sym.size(), sym) != 0) continue;  // "Mn.UPF" counts
    const char sep = low[sym.size()];
    if (sep != '.' && sep != '_' && sep != '-') continue;
    if (low.compare(low.size() - 4, 4, ".upf") != 0) continue;
    matches.push_back(name);
  }
  std::sort(matches.begin(), matches.end());
  if (matches.empty())
    throw InvalidArgument("pseudopotential for " + element + ": no " + element + ".*/" + element + "_*/" + element +
                          "-* .UPF file in " + dir.string() + " (name the file: --pseudo " + element + "=FILE, or pseudopotentials={\"" + element + "\": FILE} in Python)");
  if (matches.size() > 1) {
    std::string list;
    for (const auto& m : matches) list += (list.empty() ? "" : ", ") + m;
    throw InvalidArgument("pseudopotential for " + element + ": several files in " + dir.string() + " match (" +
                          list + "); choose one: --pseudo " + element + "=FILE, or pseudopotentials={\"" + element + "\": FILE} in Python");
  }
  return matches.front();
}

std::array<int, 3> k_mesh_from_spacing(const Eigen::Matrix3d& lattice, double k_spacing) {
  if (!(k_spacing > 0)) throw InvalidArgument("k_spacing = " + fmt(k_spacing) + ": must be > 0 1/Å");
  const Eigen::Matrix3d rec = lattice.inverse().transpose();  // rows b_i with a_i . b_j = δ_ij
  std::array<int, 3> n{};
  for (int i = 0; i < 3; ++i) {
    const double len = 2 * std::numbers::pi * rec.row(i).norm();
    n[i] = std::max(1, static_cast<int>(std::ceil(len / k_spacing - 1e-9)));
  }
  return n;
}

std::vector<QeSpecies> qe_species(const Candidate& candidate, const QeOptions& options,
                                  std::vector<std::size_t>* site_species) {
  const auto& crystal = candidate.crystal;
  const std::size_t n = crystal.n_sites();
  if (candidate.moments.rows() != static_cast<Eigen::Index>(n) || candidate.moments.cols() != 3)
    throw InvalidArgument("candidate '" + candidate.name + "': moments are " + std::to_string(candidate.moments.rows()) +
                          "x" + std::to_string(candidate.moments.cols()) + ", expected " + std::to_string(n) + "x3");
  if (!candidate.moments.allFinite()) throw InvalidArgument("candidate '" + candidate.name + "': non-finite moments");
  if (n == 0) throw InvalidArgument("candidate '" + candidate.name + "': no sites");
  const double max_moment = n ? candidate.moments.rowwise().norm().maxCoeff() : 0.0;

  std::vector<QeSpecies> species;
  std::map<std::string, int> per_element;
  std::vector<std::size_t> index(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::string element = structure::element_symbol(crystal.numbers[i]);
    const Eigen::Vector3d m = candidate.moments.row(static_cast<Eigen::Index>(i)).transpose();
    std::size_t found = species.size();
    for (std::size_t s = 0; s < species.size(); ++s)
      if (species[s].element == element && (species[s].moment - m).cwiseAbs().maxCoeff() < kMomentTolerance) {
        found = s;
        break;
      }
    if (found == species.size()) {
      const int k = per_element[element]++;
      if (k >= static_cast<int>(label_suffixes().size()))
        throw InvalidArgument("candidate '" + candidate.name + "': element " + element + " needs more than " +
                              std::to_string(label_suffixes().size()) +
                              " distinct moment species (3-character QE labels exhausted)");
      QeSpecies sp;
      sp.label = element + label_suffixes()[static_cast<std::size_t>(k)];
      sp.element = element;
      sp.mass = atomic_mass(crystal.numbers[i]);
      sp.moment = m;
      const double norm = m.norm();
      if (norm >= kMomentTolerance && max_moment > 0) {
        sp.starting_magnetization = options.starting_magnetization * norm / max_moment;
        sp.angle1 = std::acos(std::clamp(m.z() / norm, -1.0, 1.0)) * 180.0 / std::numbers::pi;
        double phi = std::atan2(m.y(), m.x()) * 180.0 / std::numbers::pi;
        if (std::hypot(m.x(), m.y()) < 1e-12 * norm) phi = 0;
        if (phi < 0) phi += 360;
        if (phi >= 360 - 1e-12) phi = 0;
        sp.angle2 = phi;
      }
      species.push_back(sp);
    }
    index[i] = found;
  }
  if (static_cast<int>(species.size()) > options.max_species)
    throw InvalidArgument("candidate '" + candidate.name + "': needs " + std::to_string(species.size()) +
                          " QE species (distinct element/moment pairs) but pw.x allows " +
                          std::to_string(options.max_species) + " (QeOptions.max_species, ntypx)");
  if (site_species) *site_species = std::move(index);
  return species;
}

std::string write_pw_input(const Candidate& candidate, const QeOptions& options) {
  options.validate();
  std::vector<std::size_t> site_species;
  auto species = qe_species(candidate, options, &site_species);
  for (auto& sp : species) sp.pseudopotential = resolve_pseudopotential(options, sp.element);
  const auto& crystal = candidate.crystal;
  if (!crystal.lattice.allFinite() || !crystal.frac.allFinite())
    throw InvalidArgument("candidate '" + candidate.name + "': non-finite lattice or positions");
  const bool explicit_mesh = options.k_mesh[0] != 0;
  const std::array<int, 3> mesh = explicit_mesh ? options.k_mesh : k_mesh_from_spacing(crystal.lattice, options.k_spacing);
  const std::string pseudo_dir = std::filesystem::absolute(options.pseudo_dir).lexically_normal().string();

  std::ostringstream os;
  os << "! candidate " << candidate.name << " (" << crystal.formula() << ")";
  if (!candidate.irrep.empty()) os << " irrep " << candidate.irrep;
  if (!candidate.multipole.empty()) os << " multipole " << candidate.multipole;
  if (!candidate.direction.empty()) os << " direction " << candidate.direction;
  if (!candidate.magnetic_space_group.bns.empty()) os << " BNS " << candidate.magnetic_space_group.bns;
  os << "\n! written by tsunagu\n";
  os << "&control\n"
     << "  calculation = " << quote(options.calculation) << "\n"
     << "  prefix = " << quote(options.prefix) << "\n"
     << "  outdir = " << quote(options.outdir) << "\n"
     << "  pseudo_dir = " << quote(pseudo_dir) << "\n"
     << "  tprnfor = .false.\n"
     << "/\n";
  os << "&system\n"
     << "  ibrav = 0\n"
     << "  nat = " << crystal.n_sites() << "\n"
     << "  ntyp = " << species.size() << "\n"
     << "  ecutwfc = " << fmt(options.ecutwfc) << "\n";
  if (options.ecutrho > 0) os << "  ecutrho = " << fmt(options.ecutrho) << "\n";
  os << "  occupations = 'smearing'\n"
     << "  smearing = " << quote(options.smearing) << "\n"
     << "  degauss = " << fmt(options.degauss) << "\n"
     << "  noncolin = .true.\n"
     << "  lspinorb = " << (options.lspinorb ? ".true." : ".false.") << "\n"
     << "  report = " << options.report << "\n";
  if (options.constrained_magnetization != "none")
    os << "  constrained_magnetization = " << quote(options.constrained_magnetization) << "\n"
       << "  lambda = " << fmt(options.lambda) << "\n";
  for (std::size_t s = 0; s < species.size(); ++s) {
    const auto& sp = species[s];
    os << "  starting_magnetization(" << s + 1 << ") = " << fixed(sp.starting_magnetization, 6) << "\n"
       << "  angle1(" << s + 1 << ") = " << fixed(sp.angle1, 6) << "\n"
       << "  angle2(" << s + 1 << ") = " << fixed(sp.angle2, 6) << "\n";
  }
  os << "/\n";
  os << "&electrons\n"
     << "  conv_thr = " << fmt(options.conv_thr) << "\n"
     << "  mixing_beta = " << fmt(options.mixing_beta) << "\n"
     << "  electron_maxstep = " << options.electron_maxstep << "\n"
     << "/\n";
  os << "ATOMIC_SPECIES\n";
  for (const auto& sp : species) {
    os << "  " << std::left << std::setw(4) << sp.label << std::right << " " << fixed(sp.mass, 4) << "  "
       << sp.pseudopotential << "   ! m = (" << fixed(sp.moment.x(), 4) << ", " << fixed(sp.moment.y(), 4) << ", "
       << fixed(sp.moment.z(), 4) << ") muB\n";
  }
  os << "CELL_PARAMETERS angstrom\n";
  for (int r = 0; r < 3; ++r)
    os << "  " << fixed(crystal.lattice(r, 0), 10) << "  " << fixed(crystal.lattice(r, 1), 10) << "  "
       << fixed(crystal.lattice(r, 2), 10) << "\n";
  os << "ATOMIC_POSITIONS crystal\n";
  for (std::size_t i = 0; i < crystal.n_sites(); ++i) {
    const auto r = static_cast<Eigen::Index>(i);
    os << "  " << std::left << std::setw(4) << species[site_species[i]].label << std::right << " "
       << fixed(crystal.frac(r, 0), 10) << "  " << fixed(crystal.frac(r, 1), 10) << "  " << fixed(crystal.frac(r, 2), 10)
       << "\n";
  }
  os << "K_POINTS automatic\n"
     << "  " << mesh[0] << " " << mesh[1] << " " << mesh[2] << " " << options.k_shift[0] << " " << options.k_shift[1]
     << " " << options.k_shift[2] << "\n";
  return os.str();
}

std::filesystem::path write_pw_input_file(const std::filesystem::path& dir, const Candidate& candidate,
                                          const QeOptions& options, const std::string& file_name) {
  const std::string text = write_pw_input(candidate, options);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw IoError("cannot create directory " + dir.string() + ": " + ec.message());
  const auto path = dir / file_name;
  core::write_file_atomic(path, text);
  return path;
}

namespace {

std::string_view trim_view(std::string_view s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// Numbers after the first '=' or ':' following `after` (or from the start when `after` is empty).
std::vector<double> numbers_after(std::string_view line, char sep) {
  std::vector<double> out;
  const auto pos = line.find(sep);
  if (pos == std::string_view::npos) return out;
  std::istringstream is(std::string(line.substr(pos + 1)));
  double v;
  while (is >> v) out.push_back(v);
  return out;
}

// "0.96s", "1m 2.34s", "2h14m", "1h 2m 3.0s" -> seconds; NaN when it does not parse.
double parse_duration(std::string_view text) {
  double total = 0;
  bool any = false;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && text[i] == ' ') ++i;
    if (i >= text.size()) break;
    std::size_t j = i;
    while (j < text.size() && (std::isdigit(static_cast<unsigned char>(text[j])) || text[j] == '.')) ++j;
    if (j == i || j >= text.size()) return std::numeric_limits<double>::quiet_NaN();
    const double v = std::stod(std::string(text.substr(i, j - i)));
    const char unit = text[j];
    if (unit == 'h') total += 3600 * v;
    else if (unit == 'm') total += 60 * v;
    else if (unit == 's') total += v;
    else return std::numeric_limits<double>::quiet_NaN();
    any = true;
    i = j + 1;
  }
  return any ? total : std::numeric_limits<double>::quiet_NaN();
}

}  // namespace

PwResult parse_pw_output(std::string_view text, std::string_view source_view) {
  const std::string source(source_view);
  PwResult r;
  bool banner = false;
  double last_energy = std::numeric_limits<double>::quiet_NaN();
  double final_energy = std::numeric_limits<double>::quiet_NaN();
  int not_converged_after = -1;

  // Per-site blocks: a block starts at atom 1; the last complete one wins.
  struct Block {
    std::vector<Eigen::Vector3d> moments;
    std::vector<double> charges;
    std::vector<bool> seen;
  };
  Block current, complete;
  bool have_complete = false;
  int current_atom = -1;
  auto block_done = [&](const Block& b) {
    return r.n_atoms > 0 && static_cast<int>(b.seen.size()) == r.n_atoms &&
           std::all_of(b.seen.begin(), b.seen.end(), [](bool x) { return x; });
  };
  auto start_atom = [&](int atom) {
    if (r.n_atoms <= 0 || atom < 1 || atom > r.n_atoms) {
      current_atom = -1;
      return;
    }
    if (atom == 1) {
      if (block_done(current)) {
        complete = current;
        have_complete = true;
      }
      current = Block{};
      current.moments.assign(static_cast<std::size_t>(r.n_atoms), Eigen::Vector3d::Zero());
      current.charges.assign(static_cast<std::size_t>(r.n_atoms), 0.0);
      current.seen.assign(static_cast<std::size_t>(r.n_atoms), false);
    }
    current_atom = current.seen.empty() ? -1 : atom - 1;
  };

  bool in_error = false;
  std::string error_text;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    auto nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    const std::string_view raw = text.substr(pos, nl - pos);
    pos = nl + 1;
    const std::string_view line = trim_view(raw);
    if (line.empty()) {
      if (nl >= text.size()) break;
      continue;
    }
    if (starts_with(line, "%%%%%")) {
      if (in_error) {
        in_error = false;
        if (r.error.empty()) r.error = error_text;
      } else {
        in_error = true;
        error_text.clear();
      }
      continue;
    }
    if (in_error) {
      error_text += (error_text.empty() ? "" : " ") + std::string(line);
      continue;
    }
    try {
      if (starts_with(line, "Program PWSCF")) {
        banner = true;
      } else if (starts_with(line, "number of atoms/cell")) {
        const auto v = numbers_after(line, '=');
        if (!v.empty()) r.n_atoms = static_cast<int>(v[0]);
      } else if (starts_with(line, "iteration #")) {
        std::istringstream is(std::string(line.substr(11)));
        int it = 0;
        if (is >> it) r.n_iterations = std::max(r.n_iterations, it);
      } else if (starts_with(line, "!") && line.find("total energy") != std::string_view::npos) {
        const auto v = numbers_after(line, '=');
        if (!v.empty()) final_energy = v[0];
      } else if (starts_with(line, "total energy") && line.find('=') != std::string_view::npos) {
        const auto v = numbers_after(line, '=');
        if (!v.empty()) last_energy = v[0];
      } else if (starts_with(line, "the Fermi energy is")) {
        std::istringstream is(std::string(line.substr(19)));
        double v;
        if (is >> v) r.fermi_energy_ev = v;
      } else if (starts_with(line, "total magnetization")) {
        const auto v = numbers_after(line, '=');
        if (v.size() >= 3) r.total_magnetization = Eigen::Vector3d(v[0], v[1], v[2]);
        else if (v.size() == 1) r.total_magnetization = Eigen::Vector3d(0, 0, v[0]);
      } else if (starts_with(line, "absolute magnetization")) {
        const auto v = numbers_after(line, '=');
        if (!v.empty()) r.absolute_magnetization = v[0];
      } else if (starts_with(line, "convergence has been achieved")) {
        r.converged = true;
      } else if (starts_with(line, "convergence NOT achieved")) {
        std::istringstream is(std::string(line.substr(line.find("after") + 5)));
        is >> not_converged_after;
      } else if (starts_with(line, "atom number")) {  // noncollinear per-site block
        std::istringstream is(std::string(line.substr(11)));
        int atom = 0;
        if (is >> atom) start_atom(atom);
      } else if (current_atom >= 0 && starts_with(line, "charge :")) {
        const auto v = numbers_after(line, ':');
        if (!v.empty()) current.charges[static_cast<std::size_t>(current_atom)] = v[0];
      } else if (current_atom >= 0 && starts_with(line, "magnetization :")) {
        const auto v = numbers_after(line, ':');
        if (v.size() >= 3) {
          current.moments[static_cast<std::size_t>(current_atom)] = Eigen::Vector3d(v[0], v[1], v[2]);
          current.seen[static_cast<std::size_t>(current_atom)] = true;
        }
        current_atom = -1;
      } else if (starts_with(line, "atom:") && line.find("magn:") != std::string_view::npos) {  // collinear
        std::istringstream is(std::string(line.substr(5)));
        int atom = 0;
        if (is >> atom) {
          start_atom(atom);
          if (current_atom >= 0) {
            const auto c = line.find("charge:"), m = line.find("magn:");
            double q = 0, mz = 0;
            if (c != std::string_view::npos) std::istringstream(std::string(line.substr(c + 7))) >> q;
            std::istringstream(std::string(line.substr(m + 5))) >> mz;
            current.charges[static_cast<std::size_t>(current_atom)] = q;
            current.moments[static_cast<std::size_t>(current_atom)] = Eigen::Vector3d(0, 0, mz);
            current.seen[static_cast<std::size_t>(current_atom)] = true;
          }
          current_atom = -1;
        }
      } else if (starts_with(line, "PWSCF") && line.find("WALL") != std::string_view::npos) {
        const auto cpu = line.find("CPU");
        const auto wall = line.find("WALL");
        if (cpu != std::string_view::npos && wall > cpu) r.wall_time_s = parse_duration(trim_view(line.substr(cpu + 3, wall - cpu - 3)));
      } else if (starts_with(line, "JOB DONE.")) {
        r.job_done = true;
      }
    } catch (const std::exception&) {
      // a garbled number on a line we recognise: ignore that line (the fields stay unset)
    }
    if (nl >= text.size()) break;
  }
  if (in_error && r.error.empty()) r.error = error_text;  // truncated inside the block

  if (!banner)
    throw ParseError(source, 0, "", "not pw.x output: no 'Program PWSCF' banner");
  if (r.n_atoms <= 0 && r.error.empty())
    throw ParseError(source, 0, "", "truncated pw.x output: ends before 'number of atoms/cell' (no run set up)");

  if (block_done(current)) {
    complete = current;
    have_complete = true;
  }
  if (have_complete) {
    r.site_moments.resize(r.n_atoms, 3);
    r.site_charges.resize(r.n_atoms);
    for (int i = 0; i < r.n_atoms; ++i) {
      r.site_moments.row(i) = complete.moments[static_cast<std::size_t>(i)].transpose();
      r.site_charges(i) = complete.charges[static_cast<std::size_t>(i)];
    }
  }
  r.total_energy_ry = std::isfinite(final_energy) ? final_energy : last_energy;
  if (std::isfinite(r.total_energy_ry)) r.total_energy_ev = r.total_energy_ry * kRydbergEv;

  if (!r.error.empty()) {
    r.status = PwResult::Status::Failed;
    r.message = "pw.x stopped with an error: " + r.error;
  } else if (!r.job_done) {
    r.status = PwResult::Status::Failed;
    r.message = "pw.x output ends after SCF iteration " + std::to_string(r.n_iterations) +
                " without 'JOB DONE.' (crashed, killed or still running)";
  } else if (!std::isfinite(r.total_energy_ry)) {
    r.status = PwResult::Status::Failed;
    r.message = "pw.x finished without printing a total energy";
  } else {
    r.status = PwResult::Status::Done;
    if (!r.converged)
      r.message = "SCF not converged after " +
                  std::to_string(not_converged_after > 0 ? not_converged_after : r.n_iterations) +
                  " iterations (energy of the last iteration)";
  }
  return r;
}

PwResult parse_pw_output_file(const std::filesystem::path& path) {
  const std::string text = core::read_file(path);
  return parse_pw_output(text, path.string());
}

}  // namespace tsunagu::magnetic
