// Bindings of tsunagu::magnetic. The basis crosses the boundary as the basis JSON text (the same document
// `tsunagu magnetic generate -o` writes), so the CLI and Python cannot drift apart; options for pw.x and the
// workflow come as dicts whose keys are the C++ field names (unknown keys are refused, never ignored).
#include <pybind11/eigen.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <cmath>
#include <set>

#include "bindings.hpp"
#include "tsunagu/core/error.hpp"
#include "tsunagu/magnetic/basis.hpp"
#include "tsunagu/magnetic/multipole.hpp"
#include "tsunagu/magnetic/outputs.hpp"
#include "tsunagu/magnetic/workflow.hpp"

namespace py = pybind11;
namespace mg = tsunagu::magnetic;

namespace tsunagu::python {
namespace {

using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Reads dict entries into a struct; every key must be consumed.
class Fields {
 public:
  Fields(const py::dict& d, std::string what) : what_(std::move(what)) {
    for (auto item : d) left_.insert(py::cast<std::string>(item.first));
    dict_ = d;
  }
  template <class T>
  void get(const char* key, T& out) {
    if (!dict_.contains(key)) return;
    left_.erase(key);
    try {
      out = py::cast<T>(dict_[key]);
    } catch (const py::cast_error&) {
      throw InvalidArgument(what_ + ": '" + key + "' has the wrong type (" +
                            py::str(py::type::of(dict_[key]).attr("__name__")).cast<std::string>() + ")");
    }
  }
  void done() const {
    if (left_.empty()) return;
    std::string names;
    for (const auto& k : left_) names += (names.empty() ? "" : ", ") + k;
    throw InvalidArgument(what_ + ": unknown option(s) " + names);
  }

 private:
  py::dict dict_;
  std::string what_;
  std::set<std::string> left_;
};

mg::QeOptions qe_from(const py::dict& d) {
  mg::QeOptions o;
  Fields f(d, "pw.x options");
  std::string pseudo_dir;
  f.get("pseudo_dir", pseudo_dir);
  o.pseudo_dir = pseudo_dir;
  f.get("pseudopotentials", o.pseudopotentials);
  f.get("ecutwfc", o.ecutwfc);
  f.get("ecutrho", o.ecutrho);
  f.get("k_spacing", o.k_spacing);
  f.get("k_mesh", o.k_mesh);
  f.get("k_shift", o.k_shift);
  f.get("smearing", o.smearing);
  f.get("degauss", o.degauss);
  f.get("conv_thr", o.conv_thr);
  f.get("mixing_beta", o.mixing_beta);
  f.get("electron_maxstep", o.electron_maxstep);
  f.get("starting_magnetization", o.starting_magnetization);
  f.get("lspinorb", o.lspinorb);
  f.get("constrained_magnetization", o.constrained_magnetization);
  f.get("lambda", o.lambda);
  f.get("prefix", o.prefix);
  f.get("outdir", o.outdir);
  f.get("report", o.report);
  f.done();
  return o;
}

mg::WorkflowOptions workflow_from(const py::dict& d) {
  mg::WorkflowOptions o;
  Fields f(d, "workflow options");
  std::string work_dir, database;
  f.get("work_dir", work_dir);
  f.get("database", database);
  o.work_dir = work_dir;
  o.database = database;
  f.get("pw_command", o.pw_command);
  f.get("mpi_prefix", o.mpi_prefix);
  f.get("timeout_s", o.timeout_s);
  f.get("force", o.force);
  f.get("retry_failed", o.retry_failed);
  f.get("dry_run", o.dry_run);
  f.get("omp_threads", o.omp_threads);
  f.done();
  return o;
}

mg::SlurmOptions slurm_from(const py::dict& d) {
  mg::SlurmOptions o;
  Fields f(d, "slurm options");
  f.get("job_name", o.job_name);
  f.get("partition", o.partition);
  f.get("account", o.account);
  f.get("time_limit", o.time_limit);
  f.get("nodes", o.nodes);
  f.get("ntasks", o.ntasks);
  f.get("cpus_per_task", o.cpus_per_task);
  f.get("max_parallel", o.max_parallel);
  f.get("extra_directives", o.extra_directives);
  f.get("setup", o.setup);
  f.get("script_name", o.script_name);
  f.done();
  return o;
}

py::dict summary_dict(const mg::RunSummary& s) {
  py::dict d;
  d["candidates"] = s.candidates;
  d["ran"] = s.ran;
  d["skipped"] = s.skipped;
  d["done"] = s.done;
  d["failed"] = s.failed;
  d["written"] = s.written;
  return d;
}

}  // namespace

void bind_magnetic(py::module_& m) {
  m.def(
      "generate",
      [](const Eigen::Matrix3d& lattice, const Eigen::MatrixXd& frac, const std::vector<int>& numbers,
         const std::vector<std::string>& labels, const Eigen::VectorXd& occupancies, bool periodic,
         const std::string& source, const std::vector<std::string>& magnetic_atoms, int max_rank,
         const std::string& order, double moment, double symprec, double mag_symprec, double tolerance,
         bool directions, const std::string& json_path, const std::string& vasp, const std::string& qe,
         const std::string& mcif, const std::string& svg, const py::dict& qe_options) {
        const structure::Crystal c = make_crystal(lattice, frac, numbers, labels, occupancies, periodic, source);
        mg::BasisOptions o;
        o.magnetic_atoms = magnetic_atoms;
        o.max_rank = max_rank;
        o.order = mg::parse_multipole_order(order);
        o.symprec = symprec;
        o.mag_symprec = mag_symprec;
        o.tolerance = tolerance;
        o.directions = directions;
        mg::OutputOptions out;
        out.json = json_path;
        out.vasp_dir = vasp;
        out.qe_dir = qe;
        out.mcif_dir = mcif;
        out.svg = svg;
        out.moment = moment;
        out.symprec = symprec;
        out.mag_symprec = mag_symprec;
        out.qe = qe_from(qe_options);
        out.validate();
        std::string text;
        {
          py::gil_scoped_release release;
          const mg::MagneticBasis b = mg::generate_basis(c, o);
          mg::write_outputs(b, out);
          text = mg::basis_to_json(b, moment);
        }
        return text;
      },
      py::arg("lattice"), py::arg("frac"), py::arg("numbers"), py::arg("labels"), py::arg("occupancies"),
      py::arg("periodic"), py::arg("source"), py::arg("magnetic_atoms"), py::arg("max_rank"), py::arg("order"),
      py::arg("moment"), py::arg("symprec"), py::arg("mag_symprec"), py::arg("tolerance"), py::arg("directions"),
      py::arg("json_path"), py::arg("vasp"), py::arg("qe"), py::arg("mcif"), py::arg("svg"), py::arg("qe_options"),
      "Cluster-multipole basis as the basis JSON text; also writes the requested files.");

  m.def(
      "multipole_pattern",
      [](const std::string& kind, int l, int mm, const Eigen::MatrixXd& points) {
        mg::MultipoleType t;
        if (kind == "M")
          t = mg::MultipoleType::Magnetic;
        else if (kind == "T")
          t = mg::MultipoleType::Toroidal;
        else
          throw InvalidArgument("multipole_pattern: kind must be 'M' or 'T', got '" + kind + "'");
        return RowMatrix(mg::multipole_pattern(t, l, mm, points));
      },
      py::arg("kind"), py::arg("l"), py::arg("m"), py::arg("points"));

  m.def(
      "run",
      [](const std::string& basis_path, const py::dict& qe, const py::dict& workflow, const std::string& name,
         const std::vector<std::string>& only, const py::object& slurm) {
        const std::vector<mg::Candidate> cands =
            mg::select_candidates(mg::read_candidates_json(basis_path), only, basis_path);
        const mg::QeOptions q = qe_from(qe);
        const mg::WorkflowOptions w = workflow_from(workflow);
        py::dict out;
        if (!slurm.is_none()) {
          if (!py::isinstance<py::dict>(slurm)) throw InvalidArgument("slurm: expected a dict of Slurm settings");
          const mg::SlurmOptions s = slurm_from(slurm.cast<py::dict>());
          std::filesystem::path script;
          {
            py::gil_scoped_release release;
            script = mg::write_slurm_array(cands, q, w, s, name);
          }
          out["script"] = script.string();
        } else {
          mg::RunSummary s;
          {
            py::gil_scoped_release release;
            s = mg::run_candidates(cands, q, w, name);
          }
          out = summary_dict(s);
        }
        out["database"] = w.database_path().string();
        return out;
      },
      py::arg("basis_path"), py::arg("qe"), py::arg("workflow"), py::arg("name"), py::arg("only"),
      py::arg("slurm"));

  m.def(
      "collect",
      [](const py::dict& workflow) {
        const mg::WorkflowOptions w = workflow_from(workflow);
        mg::RunSummary s;
        {
          py::gil_scoped_release release;
          s = mg::collect_results(w);
        }
        py::dict d = summary_dict(s);
        d["database"] = w.database_path().string();
        return d;
      },
      py::arg("workflow"));

  m.def(
      "results",
      [](const std::string& db_path, const std::string& structure) {
        return mg::ranking_json(mg::ResultsDatabase(db_path), structure);
      },
      py::arg("database"), py::arg("structure") = "", "ranking_json: the ranked results as JSON text");
}

}  // namespace tsunagu::python
