// tsunagu._tsunagu.fragmd: EFP2 energies and gradients, fragment descriptors. Atomic units at this layer (bohr,
// hartree, radian); the Python wrapper (tsunagu/fragmd.py) documents and converts.
#include <pybind11/eigen.h>
#include <pybind11/stl.h>

#include "bindings.hpp"
#include "tsunagu/core/error.hpp"
#include <set>

#include <nlohmann/json.hpp>

#include "tsunagu/fragmd/analysis.hpp"
#include "tsunagu/fragmd/descriptors.hpp"
#include "tsunagu/fragmd/md.hpp"
#include "tsunagu/fragmd/energy.hpp"
#include "tsunagu/fragmd/input.hpp"

namespace py = pybind11;

namespace tsunagu::python {
namespace {

py::dict energy_dict(const fragmd::ComputeResult& r) {
  py::dict d;
  py::dict terms;
  for (const auto& [name, value] : fragmd::named_terms(r.energy)) terms[py::str(name)] = value;
  d["terms"] = terms;
  d["total"] = r.energy.total();
  d["pol_iterations"] = r.pol_iterations;
  if (!r.gradient.empty()) {
    Eigen::MatrixXd g(static_cast<Eigen::Index>(r.gradient.size()), 6);
    for (std::size_t i = 0; i < r.gradient.size(); ++i) g.row(static_cast<Eigen::Index>(i)) = r.gradient[i].transpose();
    d["gradient"] = g;
  }
  return d;
}

fragmd::MdOptions md_options(const std::string& text, fragmd::MdOptions o = {}) {
  const nlohmann::json j = nlohmann::json::parse(text);
  static const std::set<std::string> known = {
      "ensemble", "time_step_fs", "steps", "temperature_K", "pressure_bar", "thermostat_tau_fs", "barostat_tau_fs",
      "chain_length", "seed", "init_velocities", "print_every", "frame_every", "write_every", "write_atoms",
      "trajectory_path", "restart_path", "resume_path", "threads", "quiet"};
  for (const auto& [k, v] : j.items())
    if (!known.count(k)) throw InvalidArgument("md options: unknown option '" + k + "'");
  if (j.contains("ensemble")) o.ensemble = fragmd::parse_ensemble(j["ensemble"].get<std::string>());
  if (j.contains("time_step_fs")) o.time_step_fs = j["time_step_fs"].get<double>();
  if (j.contains("steps")) o.steps = j["steps"].get<std::size_t>();
  if (j.contains("temperature_K")) o.temperature_K = j["temperature_K"].get<double>();
  if (j.contains("pressure_bar")) o.pressure_bar = j["pressure_bar"].get<double>();
  if (j.contains("thermostat_tau_fs")) o.thermostat_tau_fs = j["thermostat_tau_fs"].get<double>();
  if (j.contains("barostat_tau_fs")) o.barostat_tau_fs = j["barostat_tau_fs"].get<double>();
  if (j.contains("chain_length")) o.chain_length = j["chain_length"].get<int>();
  if (j.contains("seed")) o.seed = j["seed"].get<std::uint64_t>();
  if (j.contains("init_velocities")) o.init_velocities = j["init_velocities"].get<bool>();
  if (j.contains("print_every")) o.print_every = j["print_every"].get<std::size_t>();
  if (j.contains("frame_every")) o.frame_every = j["frame_every"].get<std::size_t>();
  if (j.contains("write_every")) o.write_every = j["write_every"].get<std::size_t>();
  if (j.contains("write_atoms")) o.write_atoms = j["write_atoms"].get<bool>();
  if (j.contains("trajectory_path")) o.trajectory_path = j["trajectory_path"].get<std::string>();
  if (j.contains("restart_path")) o.restart_path = j["restart_path"].get<std::string>();
  if (j.contains("resume_path")) o.resume_path = j["resume_path"].get<std::string>();
  if (j.contains("threads")) o.threads = j["threads"].get<unsigned>();
  if (j.contains("quiet")) o.quiet = j["quiet"].get<bool>();
  o.validate();
  return o;
}

py::dict thermo_dict(const fragmd::Thermo& t) {
  py::dict d;
  d["step"] = t.step;
  d["time_fs"] = t.time_fs;
  d["potential"] = t.potential.total();
  d["kinetic"] = t.kinetic();
  d["temperature_K"] = t.temperature;
  d["pressure_bar"] = t.pressure;
  d["volume_A3"] = t.volume;
  d["density_g_cm3"] = t.density;
  d["conserved"] = t.conserved;
  return d;
}

}  // namespace

void bind_fragmd(py::module_& m) {
  py::class_<fragmd::System, std::shared_ptr<fragmd::System>>(m, "System", py::dynamic_attr())
      .def_property_readonly("n_fragments", [](const fragmd::System& s) { return s.fragments.size(); })
      .def_property_readonly("names",
                             [](const fragmd::System& s) {
                               std::vector<std::string> n;
                               for (const auto& f : s.fragments) n.push_back(f.type->name);
                               return n;
                             })
      .def_property_readonly("com",
                             [](const fragmd::System& s) {
                               Eigen::MatrixXd c(static_cast<Eigen::Index>(s.fragments.size()), 3);
                               for (std::size_t i = 0; i < s.fragments.size(); ++i)
                                 c.row(static_cast<Eigen::Index>(i)) = s.fragments[i].com.transpose();
                               return c;
                             })
      .def_property_readonly("rotations",
                             [](const fragmd::System& s) {
                               std::vector<Eigen::Matrix3d> r;
                               for (const auto& f : s.fragments) r.push_back(f.R);
                               return r;
                             })
      .def_property_readonly("atoms",
                             [](const fragmd::System& s) {
                               std::vector<std::tuple<std::size_t, std::string, double, double, Eigen::Vector3d>> out;
                               for (std::size_t i = 0; i < s.fragments.size(); ++i)
                                 for (const auto& a : s.fragments[i].atoms) out.emplace_back(i, a.label, a.znuc, a.mass, a.r);
                               return out;
                             })
      .def_property_readonly("periodic", [](const fragmd::System& s) { return s.periodic; })
      .def_property_readonly("box", [](const fragmd::System& s) { return Eigen::Vector3d(s.box); })
      .def_property_readonly("cutoff", [](const fragmd::System& s) { return s.cutoff_enabled ? s.cutoff : 0.0; })
      .def_property_readonly("ewald", [](const fragmd::System& s) { return s.ewald; })
      .def_property_readonly("terms",
                             [](const fragmd::System& s) {
                               std::vector<std::string> t;
                               if (s.terms.elec) t.push_back("elec");
                               if (s.terms.pol) t.push_back("pol");
                               if (s.terms.disp) t.push_back("disp");
                               if (s.terms.xr) t.push_back("xr");
                               return t;
                             })
      .def("set_pose",
           [](fragmd::System& s, std::size_t i, const Eigen::Vector3d& com, const Eigen::Matrix3d& R) {
             fragmd::set_pose(s, i, com, R);
           },
           py::arg("index"), py::arg("com"), py::arg("rotation"));

  m.def(
      "read_input",
      [](const std::string& path, const std::string& fraglib) {
        fragmd::InputOptions o;
        o.fraglib = fraglib;
        fragmd::InputFile in = fragmd::read_input(path, o);
        py::dict info;
        info["path"] = in.path;
        info["run_type"] = in.run_type;
        if (in.ref_energy) info["ref_energy"] = *in.ref_energy;
        auto sys = std::make_shared<fragmd::System>(std::move(in.system));
        return py::make_tuple(sys, info);
      },
      py::arg("path"), py::arg("fraglib") = "");

  m.def(
      "compute",
      [](const fragmd::System& s, bool gradient, unsigned threads) {
        fragmd::ComputeOptions o;
        o.gradient = gradient;
        o.threads = threads;
        fragmd::ComputeResult r;
        {
          py::gil_scoped_release release;
          r = fragmd::compute(s, o);
        }
        return energy_dict(r);
      },
      py::arg("system"), py::arg("gradient") = false, py::arg("threads") = 0);

  m.def(
      "run_md",
      [](const fragmd::System& s, const std::string& options, const std::string& input, const std::string& fraglib) {
        // With the input file, its MD keys and velocity blocks are the defaults (as `tsunagu fragmd run`).
        fragmd::MdOptions base;
        if (!input.empty()) {
          fragmd::InputOptions io;
          io.fraglib = fraglib;
          base = fragmd::md_options_from_input(fragmd::read_input(input, io));
        }
        fragmd::MdOptions o = md_options(options, base);
        fragmd::MdResult r;
        {
          py::gil_scoped_release release;
          r = fragmd::run_md(s, o, nullptr);
        }
        py::list log;
        for (const auto& t : r.log) log.append(thermo_dict(t));
        return py::make_tuple(log, r.ns_per_day, r.final_state.step);
      },
      py::arg("system"), py::arg("options"), py::arg("input") = "", py::arg("fraglib") = "");

  m.def(
      "read_trajectory",
      [](const std::string& path) {
        fragmd::Trajectory t = fragmd::read_trajectory(path);
        py::dict d;
        const auto nf = static_cast<Eigen::Index>(t.frames());
        Eigen::MatrixXd com(nf, 3 * static_cast<Eigen::Index>(t.fragments())), box(nf, 3);
        Eigen::VectorXd epot(nf), ekin(nf), temp(nf), pres(nf), cons(nf);
        for (Eigen::Index f = 0; f < nf; ++f) {
          const auto& c = t.com[static_cast<std::size_t>(f)];
          for (Eigen::Index i = 0; i < c.rows(); ++i)
            for (int k = 0; k < 3; ++k) com(f, 3 * i + k) = c(i, k);
          box.row(f) = t.box[static_cast<std::size_t>(f)].transpose();
          epot[f] = t.energy[static_cast<std::size_t>(f)].total();
          ekin[f] = t.kinetic[static_cast<std::size_t>(f)];
          temp[f] = t.temperature[static_cast<std::size_t>(f)];
          pres[f] = t.pressure[static_cast<std::size_t>(f)];
          cons[f] = t.conserved[static_cast<std::size_t>(f)];
        }
        d["time_fs"] = t.time_fs;
        d["com_A"] = com;
        d["box_A"] = box;
        d["potential"] = epot;
        d["kinetic"] = ekin;
        d["temperature_K"] = temp;
        d["pressure_bar"] = pres;
        d["conserved"] = cons;
        d["fragment_types"] = t.fragment_types;
        d["time_step_fs"] = t.time_step_fs;
        d["ensemble"] = t.ensemble;
        return d;
      },
      py::arg("path"));

  m.def(
      "analyze",
      [](const std::string& path, const std::string& options) {
        const nlohmann::json j = nlohmann::json::parse(options);
        static const std::set<std::string> known = {"density", "rdf", "msd", "hvap", "viscosity", "rdf_pairs",
                                                    "rdf_max", "rdf_bin", "first_frame", "temperature_K",
                                                    "max_lag_fs", "fit_start_fs", "fit_end_fs"};
        for (const auto& [k, v] : j.items())
          if (!known.count(k)) throw InvalidArgument("analyze: unknown option '" + k + "'");
        fragmd::AnalyzeOptions o;
        if (j.contains("density")) o.density = j["density"].get<bool>();
        if (j.contains("rdf")) o.rdf = j["rdf"].get<bool>();
        if (j.contains("msd")) o.msd = j["msd"].get<bool>();
        if (j.contains("hvap")) o.hvap = j["hvap"].get<bool>();
        if (j.contains("viscosity")) o.viscosity = j["viscosity"].get<bool>();
        if (j.contains("rdf_pairs")) o.rdf_pairs = j["rdf_pairs"].get<std::vector<std::string>>();
        if (j.contains("rdf_max")) o.rdf_max = j["rdf_max"].get<double>();
        if (j.contains("rdf_bin")) o.rdf_bin = j["rdf_bin"].get<double>();
        if (j.contains("first_frame")) o.first_frame = j["first_frame"].get<std::size_t>();
        if (j.contains("temperature_K")) o.temperature_K = j["temperature_K"].get<double>();
        if (j.contains("max_lag_fs")) o.max_lag_fs = j["max_lag_fs"].get<double>();
        if (j.contains("fit_start_fs")) o.fit_start_fs = j["fit_start_fs"].get<double>();
        if (j.contains("fit_end_fs")) o.fit_end_fs = j["fit_end_fs"].get<double>();
        fragmd::AnalysisReport r = fragmd::analyze(fragmd::read_trajectory(path), o);
        return py::make_tuple(r.summary.dump(), r.plots);
      },
      py::arg("path"), py::arg("options") = "{}");

  m.def(
      "mixing",
      [](const std::string& mixture, const std::string& pure_a, const std::string& pure_b, std::size_t first_frame,
         double pressure_bar) {
        fragmd::MixingOptions o;
        o.first_frame = first_frame;
        o.pressure_bar = pressure_bar;
        const fragmd::Trajectory m = fragmd::read_trajectory(mixture), a = fragmd::read_trajectory(pure_a),
                                 b = fragmd::read_trajectory(pure_b);
        return fragmd::mixing_report(fragmd::excess_mixing(m, a, b, o), a, b).dump();
      },
      py::arg("mixture"), py::arg("pure_a"), py::arg("pure_b"), py::arg("first_frame") = 0,
      py::arg("pressure_bar") = 1.0);

  m.def("descriptor_names", &fragmd::descriptor_names);
  m.def(
      "descriptors",
      [](const std::vector<std::string>& files) {
        std::vector<std::string> names;
        std::vector<std::vector<double>> rows;
        for (const auto& f : files)
          for (const auto& t : fragmd::read_fragment_file(f)) {
            auto d = fragmd::describe(t);
            names.push_back(d.name);
            rows.push_back(fragmd::descriptor_values(d));
          }
        Eigen::MatrixXd X(static_cast<Eigen::Index>(rows.size()), static_cast<Eigen::Index>(fragmd::descriptor_names().size()));
        for (std::size_t i = 0; i < rows.size(); ++i)
          for (std::size_t j = 0; j < rows[i].size(); ++j) X(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) = rows[i][j];
        return py::make_tuple(names, X);
      },
      py::arg("files"));
}

}  // namespace tsunagu::python
