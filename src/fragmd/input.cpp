// efpmd-style input files (../shared/data/efp/cases/*.in).
#include "tsunagu/fragmd/input.hpp"

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "tsunagu/core/error.hpp"
#include "tsunagu/fragmd/units.hpp"

namespace tsunagu::fragmd {
namespace {

namespace fs = std::filesystem;

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

struct Cursor {
  std::string path;
  std::vector<std::string> lines;
  std::size_t pos = 0;
  [[noreturn]] void fail(const std::string& key, const std::string& msg) const {
    throw ParseError(path, pos + 1, key, msg);
  }
};

std::vector<double> doubles(const Cursor& c, const std::string& key, std::istringstream& is, std::size_t n) {
  std::vector<double> v;
  std::string tok;
  while (is >> tok) {
    if (!tok.empty() && tok[0] == '#') break;
    char* end = nullptr;
    double x = std::strtod(tok.c_str(), &end);
    if (end == tok.c_str() || *end != '\0' || !std::isfinite(x)) c.fail(key, "'" + tok + "' is not a finite number");
    v.push_back(x);
  }
  if (v.size() != n) c.fail(key, "expected " + std::to_string(n) + " numbers, got " + std::to_string(v.size()));
  return v;
}

bool parse_bool(const Cursor& c, const std::string& key, const std::string& v) {
  std::string s = lower(v);
  if (s == "true" || s == "yes" || s == "1") return true;
  if (s == "false" || s == "no" || s == "0") return false;
  c.fail(key, "expected true or false, got '" + v + "'");
}

struct PendingFragment {
  std::string name;
  std::size_t line = 0;
  std::vector<double> coords;  // 6 (xyzabc), 9 (points) or 12 (rotmat)
};

}  // namespace

void set_pose(System& system, std::size_t i, const Eigen::Vector3d& com, const Eigen::Matrix3d& R) {
  if (i >= system.fragments.size())
    throw InvalidArgument("set_pose: fragment index " + std::to_string(i) + " out of range (" +
                          std::to_string(system.fragments.size()) + " fragments)");
  system.fragments[i] = place(*system.fragments[i].type, com, R);
}

InputFile read_input(const std::string& path, const InputOptions& options) {
  std::ifstream in(path);
  if (!in) throw IoError("cannot open input file '" + path + "'");
  Cursor c;
  c.path = path;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    c.lines.push_back(line);
  }

  InputFile out;
  out.path = path;
  std::string coord = "xyzabc", units = "angs";
  std::string fraglib, userlib = ".";
  std::vector<PendingFragment> frags;
  std::vector<std::array<double, 4>> charges;
  std::vector<Restraint> restraints;
  std::vector<std::array<double, 6>> velocities;
  std::vector<std::size_t> velocities_seen;
  std::set<std::string> seen;

  auto next_numbers_line = [&](std::size_t n, const std::string& what) {
    ++c.pos;
    while (c.pos < c.lines.size()) {
      std::string t = c.lines[c.pos];
      auto h = t.find('#');
      if (h != std::string::npos) t = t.substr(0, h);
      std::istringstream is(t);
      std::string probe;
      if (!(is >> probe)) {
        ++c.pos;
        continue;
      }
      std::istringstream is2(t);
      return doubles(c, what, is2, n);
    }
    c.fail(what, "unexpected end of file");
  };

  for (; c.pos < c.lines.size(); ++c.pos) {
    std::string t = c.lines[c.pos];
    auto h = t.find('#');
    if (h != std::string::npos) t = t.substr(0, h);
    std::istringstream is(t);
    std::string key;
    if (!(is >> key)) continue;
    key = lower(key);
    std::string rest;
    std::getline(is, rest);
    std::istringstream rs(rest);
    std::string val;
    rs >> val;
    auto once = [&] {
      if (key != "fragment" && key != "charge" && key != "constraint" && key != "velocity" && !seen.insert(key).second)
        c.fail(key, "given twice");
    };
    once();
    if (key == "run_type") {
      static const std::set<std::string> ok = {"sp", "grad", "gtest", "md", "nve", "nvt", "npt", "opt", "hess", "efield"};
      if (!ok.count(val)) c.fail(key, "unknown run type '" + val + "'");
      out.run_type = val;
    } else if (key == "coord") {
      if (val != "xyzabc" && val != "points" && val != "rotmat") c.fail(key, "expected xyzabc, points or rotmat");
      coord = val;
    } else if (key == "units") {
      if (val != "angs" && val != "bohr") c.fail(key, "expected angs or bohr");
      units = val;
    } else if (key == "terms") {
      Terms tm{false, false, false, false};
      std::istringstream ts(rest);
      for (std::string w; ts >> w;) {
        if (w == "elec") tm.elec = true;
        else if (w == "pol") tm.pol = true;
        else if (w == "disp") tm.disp = true;
        else if (w == "xr") tm.xr = true;
        else c.fail(key, "unknown term '" + w + "' (elec, pol, disp, xr)");
      }
      out.system.terms = tm;
    } else if (key == "elec_damp") {
      if (val == "screen") out.system.elec_damp = ElecDamp::Screen;
      else if (val == "overlap") out.system.elec_damp = ElecDamp::Overlap;
      else if (val == "off") out.system.elec_damp = ElecDamp::Off;
      else c.fail(key, "expected screen, overlap or off");
    } else if (key == "disp_damp") {
      if (val == "tt") out.system.disp_damp = DispDamp::TangToennies;
      else if (val == "overlap") out.system.disp_damp = DispDamp::Overlap;
      else if (val == "off") out.system.disp_damp = DispDamp::Off;
      else c.fail(key, "expected tt, overlap or off");
    } else if (key == "pol_damp") {
      if (val == "tt") out.system.pol_damp = PolDamp::TangToennies;
      else if (val == "off") out.system.pol_damp = PolDamp::Off;
      else c.fail(key, "expected tt or off");
    } else if (key == "pol_driver") {
      // Both drivers solve the same linear equations; ours iterates to a tight tolerance either way.
      if (val != "iterative" && val != "direct") c.fail(key, "expected iterative or direct");
      out.extra[key] = val;
    } else if (key == "fraglib_path") {
      fraglib = val;
    } else if (key == "userlib_path") {
      userlib = val;
    } else if (key == "enable_pbc") {
      out.system.periodic = parse_bool(c, key, val);
    } else if (key == "enable_cutoff") {
      out.system.cutoff_enabled = parse_bool(c, key, val);
    } else if (key == "periodic_box") {
      std::istringstream bs(rest);
      auto v = doubles(c, key, bs, 3);
      for (double x : v)
        if (!(x > 0)) c.fail(key, "box lengths must be positive");
      out.system.box = Eigen::Vector3d(v[0], v[1], v[2]);
    } else if (key == "swf_cutoff") {
      std::istringstream bs(rest);
      auto v = doubles(c, key, bs, 1);
      if (!(v[0] > 0)) c.fail(key, "must be positive");
      out.system.cutoff = v[0];
    } else if (key == "ewald") {
      out.system.ewald = parse_bool(c, key, val);
    } else if (key == "ewald_tolerance") {
      std::istringstream bs(rest);
      auto v = doubles(c, key, bs, 1);
      if (!(v[0] > 0 && v[0] < 0.1)) c.fail(key, "must be between 0 and 0.1");
      out.system.ewald_tolerance = v[0];
    } else if (key == "ewald_alpha") {
      std::istringstream bs(rest);
      auto v = doubles(c, key, bs, 1);
      if (!(v[0] >= 0)) c.fail(key, "must be non-negative (inverse length unit of the input; 0 = automatic)");
      out.system.ewald_alpha = v[0];
    } else if (key == "ref_energy") {
      std::istringstream bs(rest);
      out.ref_energy = doubles(c, key, bs, 1)[0];
    } else if (key == "gtest_tol") {
      std::istringstream bs(rest);
      out.gtest_tol = doubles(c, key, bs, 1)[0];
    } else if (key == "charge") {
      std::istringstream bs(rest);
      auto v = doubles(c, key, bs, 4);
      charges.push_back({v[0], v[1], v[2], v[3]});
    } else if (key == "fragment") {
      if (val.empty()) c.fail(key, "missing fragment name");
      PendingFragment p;
      p.name = lower(val);
      p.line = c.pos + 1;
      std::size_t rows = coord == "xyzabc" ? 1 : coord == "points" ? 3 : 4;
      std::size_t cols = coord == "xyzabc" ? 6 : 3;
      for (std::size_t r = 0; r < rows; ++r) {
        auto v = next_numbers_line(cols, "fragment " + val);
        p.coords.insert(p.coords.end(), v.begin(), v.end());
      }
      frags.push_back(std::move(p));
    } else if (key == "velocity") {
      if (frags.empty()) c.fail(key, "velocity before any fragment");
      auto v = next_numbers_line(6, key);
      velocities.resize(frags.size(), {0, 0, 0, 0, 0, 0});
      std::copy(v.begin(), v.end(), velocities.back().begin());
      velocities_seen.push_back(frags.size() - 1);
    } else if (key == "constraint") {
      if (frags.empty()) c.fail(key, "constraint before any fragment");
      // efpmd: "constraint" then a line "K X Y Z" (K in hartree/bohr², centre in the input's length unit).
      auto v = next_numbers_line(4, key);
      if (!(v[0] >= 0)) c.fail(key, "force constant must be non-negative");
      restraints.push_back({frags.size() - 1, v[0], Eigen::Vector3d(v[1], v[2], v[3])});
    } else if (key == "max_steps" || key == "time_step" || key == "ensemble" || key == "temperature" ||
               key == "pressure" || key == "print_step" || key == "velocitize" ||
               key == "thermostat_tau" || key == "barostat_tau" || key == "opt_tol" || key == "hess_central" ||
               key == "enable_multistep" || key == "multistep_steps" || key == "enable_ff" || key == "ff_geometry" ||
               key == "ff_parameters" || key == "single_params_file" || key == "efp_params_file" ||
               key == "hess_step_dist" || key == "hess_step_angle" || key == "xr_cutoff") {
      out.extra[key] = rest;
    } else {
      c.fail(key, "unknown keyword '" + key + "'");
    }
  }

  if (frags.empty()) throw ParseError(path, 0, "fragment", "no fragments");
  const double to_bohr = units == "angs" ? 1.0 / kBohrAngstrom : 1.0;
  System& sys = out.system;
  sys.box *= to_bohr;
  sys.cutoff *= to_bohr;
  sys.ewald_alpha /= to_bohr;  // an inverse length
  if (sys.periodic && sys.box.isZero()) sys.box = Eigen::Vector3d::Constant(30.0 * to_bohr);  // efpmd default
  if (sys.cutoff_enabled && sys.cutoff == 0.0) sys.cutoff = 10.0 * to_bohr;                      // efpmd default
  if (sys.periodic && !sys.cutoff_enabled)
    throw ParseError(path, 0, "enable_pbc", "periodic boundaries need enable_cutoff true (minimum image)");
  if (sys.ewald && !sys.periodic)
    throw ParseError(path, 0, "ewald", "Ewald summation needs enable_pbc true (and enable_cutoff true)");
  if (sys.ewald && !sys.terms.elec) throw ParseError(path, 0, "ewald", "Ewald summation needs the elec term");
  if (sys.periodic && 2.0 * sys.cutoff > sys.box.minCoeff())
    throw ParseError(path, 0, "swf_cutoff", "cutoff larger than half the periodic box");
  if (sys.terms.pol && !sys.terms.elec) throw ParseError(path, 0, "terms", "pol needs elec");
  // Overlap damping needs the LMO overlap integrals; they are computed even when the xr energy is not requested.

  if (fraglib.empty()) fraglib = options.fraglib;
  if (fraglib.empty())
    if (const char* env = std::getenv("TSUNAGU_FRAGLIB")) fraglib = env;
  // Load fragment types: NAME_l from fraglib (file NAME.efp), others from userlib (file NAME.efp).
  const fs::path base = fs::path(path).parent_path();
  auto resolve = [&](const std::string& dir) { return fs::path(dir).is_absolute() ? fs::path(dir) : base / dir; };
  std::map<std::string, const FragmentType*> by_name;
  for (const auto& p : frags) {
    if (by_name.count(p.name)) continue;
    bool lib = p.name.size() > 2 && p.name.compare(p.name.size() - 2, 2, "_l") == 0;
    std::string stem = lib ? p.name.substr(0, p.name.size() - 2) : p.name;
    if (lib && fraglib.empty())
      throw ParseError(path, p.line, "fraglib_path",
                       "library fragment '" + p.name + "' but no fraglib_path in the input; pass --fraglib DIR or set "
                       "TSUNAGU_FRAGLIB");
    fs::path file = resolve(lib ? fraglib : userlib) / (stem + ".efp");
    if (!fs::exists(file))
      throw ParseError(path, p.line, "fragment", "no parameter file '" + file.string() + "' for '" + p.name + "'");
    for (auto& t : read_fragment_file(file.string())) {
      auto sp = std::make_shared<const FragmentType>(std::move(t));
      if (!by_name.count(sp->name)) by_name[sp->name] = sp.get();
      sys.types.push_back(sp);
    }
    if (!by_name.count(p.name))
      throw ParseError(path, p.line, "fragment", "'" + file.string() + "' has no $" + p.name + " block");
  }
  for (const auto& p : frags) {
    const FragmentType& ty = *by_name.at(p.name);
    if (coord == "xyzabc") {
      Eigen::Vector3d com(p.coords[0], p.coords[1], p.coords[2]);
      sys.fragments.push_back(place(ty, com * to_bohr, euler_to_matrix(p.coords[3], p.coords[4], p.coords[5])));
    } else if (coord == "points") {
      std::vector<Eigen::Vector3d> pts;
      for (int i = 0; i < 3; ++i)
        pts.emplace_back(Eigen::Vector3d(p.coords[3 * i], p.coords[3 * i + 1], p.coords[3 * i + 2]) * to_bohr);
      sys.fragments.push_back(place_by_points(ty, pts));
    } else {
      Eigen::Vector3d com(p.coords[0], p.coords[1], p.coords[2]);
      Eigen::Matrix3d R;
      for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j) R(i, j) = p.coords[3 + 3 * i + j];
      sys.fragments.push_back(place(ty, com * to_bohr, R));
    }
  }
  for (std::size_t k = 1; k < velocities_seen.size(); ++k)
    if (velocities_seen[k] == velocities_seen[k - 1])
      throw ParseError(path, 0, "velocity", "two velocity blocks for fragment " + std::to_string(velocities_seen[k]));
  if (!velocities.empty()) {
    velocities.resize(frags.size(), {0, 0, 0, 0, 0, 0});
    out.velocities = velocities;
  }
  for (auto r : restraints) {
    r.r0 *= to_bohr;
    sys.restraints.push_back(r);
  }
  for (const auto& q : charges)
    sys.charges.push_back(PointCharge{Eigen::Vector3d(q[1], q[2], q[3]) * to_bohr, q[0]});
  return out;
}

}  // namespace tsunagu::fragmd
