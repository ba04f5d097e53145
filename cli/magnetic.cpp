// tsunagu magnetic generate | run | results — argument parsing and printing only; the work is tsunagu::magnetic.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common.hpp"
#include "structure_input.hpp"
#include "tsunagu/core/error.hpp"
#include "tsunagu/core/io.hpp"
#include "tsunagu/magnetic/basis.hpp"
#include "tsunagu/magnetic/outputs.hpp"
#include "tsunagu/magnetic/workflow.hpp"

namespace tsunagu::cli {
namespace {

namespace mg = tsunagu::magnetic;

std::string msg_text(const mg::MagneticGroupLabel& g) {
  if (g.uni == 0) return "-";
  std::string s = g.bns + (g.bns_symbol.empty() ? "" : " " + g.bns_symbol);
  return s + " (type " + std::to_string(g.type) + ")";
}

// "(0.577,-0.289,-0.289)" for the first magnetic atoms of a pattern, so a reader sees its shape at a glance.
std::string pattern_text(const Eigen::MatrixXd& m, int show = 3) {
  const double scale = m.rowwise().norm().maxCoeff();
  std::string out;
  char buf[96];
  for (Eigen::Index i = 0; i < m.rows() && i < show; ++i) {
    const Eigen::RowVector3d v = scale > 0 ? Eigen::RowVector3d(m.row(i) / scale) : Eigen::RowVector3d(m.row(i));
    std::snprintf(buf, sizeof buf, "%s(%.2f,%.2f,%.2f)", out.empty() ? "" : " ", v(0) + 0.0, v(1) + 0.0, v(2) + 0.0);
    out += buf;
  }
  if (m.rows() > show) out += " ...";
  return out;
}

// pw.x settings shared by `magnetic generate --qe` and `magnetic run`.
struct QeArgs {
  std::string pseudo_dir, smearing = "mv", constrained = "none";
  std::vector<std::string> pseudos;  // El=file
  double ecutwfc = 40, ecutrho = 0, k_spacing = 0.25, degauss = 0.02, conv_thr = 1e-8, mixing_beta = 0.3,
         starting_magnetization = 0.5, lambda = 0;
  std::vector<int> k_mesh;
  int electron_maxstep = 100, max_species = 10;
  bool lspinorb = false;
};

void add_qe_options(CLI::App* c, QeArgs& q, bool required = true) {
  c->add_option("--pseudo-dir", q.pseudo_dir,
                required ? "directory with the pseudopotentials (UPF)" : "with --qe: directory with the pseudopotentials")
      ->required(required);
  c->add_option("--pseudo", q.pseudos, "element=file inside --pseudo-dir (repeatable; default: the one file "
                                       "starting with the element symbol)");
  c->add_option("--ecutwfc", q.ecutwfc, "wave-function cutoff (Ry)")->capture_default_str();
  c->add_option("--ecutrho", q.ecutrho, "density cutoff (Ry; 0: pw.x default 4*ecutwfc)")->capture_default_str();
  c->add_option("--k-spacing", q.k_spacing, "k-point spacing (1/A incl. 2pi, as VASP KSPACING)")
      ->capture_default_str();
  c->add_option("--k-mesh", q.k_mesh, "explicit Monkhorst-Pack mesh, 3 integers (overrides --k-spacing)")
      ->expected(3);
  c->add_option("--smearing", q.smearing, "pw.x smearing")->capture_default_str();
  c->add_option("--degauss", q.degauss, "smearing width (Ry)")->capture_default_str();
  c->add_option("--conv-thr", q.conv_thr, "SCF convergence threshold (Ry)")->capture_default_str();
  c->add_option("--mixing-beta", q.mixing_beta, "SCF mixing factor")->capture_default_str();
  c->add_option("--electron-maxstep", q.electron_maxstep, "maximum SCF iterations")->capture_default_str();
  c->add_option("--starting-magnetization", q.starting_magnetization,
                "starting_magnetization of the largest moment (others proportional)")
      ->capture_default_str();
  c->add_flag("--lspinorb", q.lspinorb, "spin-orbit coupling (needs fully relativistic pseudopotentials)");
  c->add_option("--constrained-magnetization", q.constrained, "none | 'atomic direction'")->capture_default_str();
  c->add_option("--lambda", q.lambda, "penalty of the direction constraint (Ry)")->capture_default_str();
  c->add_option("--max-species", q.max_species, "pw.x's species limit (ntypx: 10 in QE 6.7; raise for a pw.x built "
                                                "with more)")
      ->capture_default_str();
}

mg::QeOptions qe_options(const QeArgs& q) {
  mg::QeOptions o;
  o.pseudo_dir = q.pseudo_dir;
  for (const auto& p : q.pseudos) {
    const auto eq = p.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == p.size())
      throw InvalidArgument("--pseudo '" + p + "': expected element=file, e.g. Mn=Mn.pbe-spn-rrkjus_psl.1.0.0.UPF");
    o.pseudopotentials[p.substr(0, eq)] = p.substr(eq + 1);
  }
  o.ecutwfc = q.ecutwfc;
  o.ecutrho = q.ecutrho;
  o.k_spacing = q.k_spacing;
  if (!q.k_mesh.empty()) o.k_mesh = {q.k_mesh[0], q.k_mesh[1], q.k_mesh[2]};
  o.smearing = q.smearing;
  o.degauss = q.degauss;
  o.conv_thr = q.conv_thr;
  o.mixing_beta = q.mixing_beta;
  o.electron_maxstep = q.electron_maxstep;
  o.starting_magnetization = q.starting_magnetization;
  o.lspinorb = q.lspinorb;
  o.constrained_magnetization = q.constrained;
  o.lambda = q.lambda;
  o.max_species = q.max_species;
  if (o.pseudo_dir.empty())
    throw InvalidArgument("Quantum ESPRESSO inputs need --pseudo-dir (the directory with the UPF files)");
  o.validate();
  return o;
}

struct GenerateArgs {
  StructureInput in;
  std::string magnetic_atoms, order = "rank", output, vasp, qe, mcif, svg;
  QeArgs qe_args;
  int max_rank = 0;
  double moment = 3.0, symprec = 1e-3, mag_symprec = -1, tolerance = 1e-6;
  bool no_directions = false;
};

void run_generate(const GenerateArgs& a) {
  const structure::Crystal crystal = load_structure(a.in);
  mg::BasisOptions o;
  o.magnetic_atoms = split_list(a.magnetic_atoms);
  o.max_rank = a.max_rank;
  o.order = mg::parse_multipole_order(a.order);
  o.symprec = a.symprec;
  o.mag_symprec = a.mag_symprec;
  o.tolerance = a.tolerance;
  o.directions = !a.no_directions;
  mg::OutputOptions out;
  out.json = a.output;
  out.vasp_dir = a.vasp;
  out.qe_dir = a.qe;
  out.mcif_dir = a.mcif;
  out.svg = a.svg;
  out.moment = a.moment;
  out.symprec = a.symprec;
  out.mag_symprec = a.mag_symprec;
  if (!a.qe.empty()) out.qe = qe_options(a.qe_args);
  out.validate();  // before the work: a bad option must not cost the user the computation

  const mg::MagneticBasis b = mg::generate_basis(crystal, o);
  const mg::OutputSummary written = mg::write_outputs(b, out);

  std::printf("%s: %s, %s (%d), point group %s (%s)\n", a.in.file.c_str(), crystal.formula().c_str(),
              b.space_group.c_str(), b.space_group_number, b.point_group.c_str(), b.point_group_schoenflies.c_str());
  for (std::size_t k = 0; k < b.orbits.size(); ++k) {
    const auto& orb = b.orbits[k];
    std::printf("orbit %zu: %s %s (site symmetry %s), %zu sites, %d per primitive cell: %s\n", k,
                crystal.labels[orb.sites.front()].c_str(), orb.wyckoff.c_str(), orb.site_symmetry.c_str(),
                orb.sites.size(), orb.primitive_atoms, orb.decomposition.c_str());
  }
  std::printf("q = 0 magnetic structures: %d = %s (%s, ranks up to %d, %s order)\n", b.dimension,
              b.decomposition.c_str(), b.complete ? "complete" : "INCOMPLETE: raise --max-rank", b.max_rank_used,
              a.order.c_str());
  std::printf("%4s %5s %-6s %4s %-9s %-30s %-4s %s\n", "#", "orbit", "irrep", "comp", "multipole",
              "magnetic space group (BNS)", "AHE", "pattern (first atoms, normalised)");
  for (const auto& v : b.vectors)
    std::printf("%4d %5d %-6s %4d %-9s %-30s %-4s %s\n", v.index, v.orbit, v.irrep.c_str(), v.component,
                v.multipole.c_str(), msg_text(v.magnetic_space_group).c_str(), v.ahe_allowed ? "yes" : "no",
                pattern_text(v.moments).c_str());
  if (!b.directions.empty()) {
    std::printf("directions within multi-dimensional irreps:\n");
    for (const auto& d : b.directions)
      std::printf("  orbit %d %-6s %-5s %-7s %-30s AHE %-4s %s\n", d.orbit, d.irrep.c_str(), d.multipole.c_str(),
                  d.label.c_str(), msg_text(d.magnetic_space_group).c_str(), d.ahe_allowed ? "yes" : "no",
                  pattern_text(d.moments).c_str());
  }
  std::fflush(stdout);
  for (const auto& line : written.skipped) note("warning: " + line);
  note(std::to_string(written.candidates) + " DFT candidates; wrote " + std::to_string(written.files.size()) +
       " file(s)" + (a.output.empty() ? "" : ", basis in " + a.output));
}


struct RunArgs {
  std::string basis, db, work_dir, slurm, name, pw_command = "pw.x", mpi_prefix, only;
  QeArgs qe;
  double timeout = 0;
  int omp_threads = 1;
  bool dry_run = false, force = false, no_retry = false;
  // Slurm
  std::string partition, account, time_limit = "24:00:00";
  int ntasks = 1, cpus_per_task = 1, max_parallel = 0;
  std::vector<std::string> sbatch, setup;
};

// --work-dir default: next to the database, or "magnetic_runs"; --slurm DIR/FILE names the work dir too.
mg::WorkflowOptions workflow_options(const std::string& work_dir, const std::string& db, const std::string& slurm) {
  mg::WorkflowOptions w;
  std::filesystem::path dir = work_dir;
  const std::filesystem::path script = slurm;
  if (!slurm.empty() && script.has_parent_path()) {
    if (!dir.empty() && std::filesystem::weakly_canonical(dir) != std::filesystem::weakly_canonical(script.parent_path()))
      throw InvalidArgument("--slurm " + slurm + ": the script is written into the work directory " + dir.string() +
                            "; give a file name or a path inside it");
    dir = script.parent_path();
  }
  if (dir.empty()) dir = db.empty() ? std::filesystem::path("magnetic_runs") : std::filesystem::path(db).parent_path();
  if (dir.empty()) dir = ".";
  w.work_dir = dir;
  w.database = db;
  return w;
}

std::string summary_text(const mg::RunSummary& s) {
  return std::to_string(s.candidates) + " candidates registered, " + std::to_string(s.written) +
         " inputs written, " + std::to_string(s.ran) + " run, " + std::to_string(s.skipped) + " skipped, " +
         std::to_string(s.done) + " done, " + std::to_string(s.failed) + " failed";
}

void print_ranking(const mg::ResultsDatabase& db, const std::string& structure);

void run_run(const RunArgs& a) {
  std::vector<mg::Candidate> cands;
  try {
    cands = mg::select_candidates(mg::read_candidates_json(a.basis), split_list(a.only), a.basis);
  } catch (const InvalidArgument& e) {
    throw InvalidArgument(std::string("--only: ") + e.what());
  }
  if (cands.empty()) throw InvalidArgument(a.basis + ": no DFT candidates to run");
  const mg::QeOptions qe = qe_options(a.qe);
  mg::WorkflowOptions w = workflow_options(a.work_dir, a.db, a.slurm);
  w.pw_command = a.pw_command;
  w.mpi_prefix = a.mpi_prefix;
  w.timeout_s = a.timeout;
  w.force = a.force;
  w.retry_failed = !a.no_retry;
  w.dry_run = a.dry_run;
  w.omp_threads = a.omp_threads;
  w.validate();
  if (!a.slurm.empty()) {
    mg::SlurmOptions s;
    s.script_name = std::filesystem::path(a.slurm).filename().string();
    s.partition = a.partition;
    s.account = a.account;
    s.time_limit = a.time_limit;
    s.ntasks = a.ntasks;
    s.cpus_per_task = a.cpus_per_task;
    s.max_parallel = a.max_parallel;
    s.extra_directives = a.sbatch;
    s.setup = a.setup;
    const auto script = mg::write_slurm_array(cands, qe, w, s, a.name);
    if (script.empty())
      note("nothing to run: every candidate is done (use --force to rerun); database " + w.database_path().string());
    else
      note("wrote " + script.string() + " (submit with: sbatch " + script.string() + "; then: tsunagu magnetic "
           "collect --work-dir " + w.work_dir.string() + " --db " + w.database_path().string() + ")");
    return;
  }
  const mg::RunSummary s = mg::run_candidates(cands, qe, w, a.name);
  note(summary_text(s) + "; database " + w.database_path().string());
  if (!a.dry_run) print_ranking(mg::ResultsDatabase(w.database_path()), "");
  // The others ran to the end; the exit status still tells a script that something needs a look.
  if (s.failed > 0)
    throw Error(std::to_string(s.failed) + " of " + std::to_string(s.ran) + " pw.x runs failed (messages in the "
                "table above; pw.out/pw.err in " + w.work_dir.string() + ")");
}

struct CollectArgs {
  std::string db, work_dir;
  bool force = false;
};

void run_collect(const CollectArgs& a) {
  mg::WorkflowOptions w = workflow_options(a.work_dir, a.db, "");
  w.force = a.force;
  w.validate();
  if (!std::filesystem::exists(w.database_path()))
    throw IoError("no results database " + w.database_path().string() + " (run `tsunagu magnetic run` first)");
  const mg::RunSummary s = mg::collect_results(w);
  note(std::to_string(s.ran) + " outputs parsed: " + std::to_string(s.done) + " done, " + std::to_string(s.failed) +
       " failed");
  print_ranking(mg::ResultsDatabase(w.database_path()), "");
}

std::string num(double v, const char* fmt) {
  if (!std::isfinite(v)) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

void print_ranking(const mg::ResultsDatabase& db, const std::string& structure) {
  const auto rows = mg::rank_results(db, structure);
  std::string current = "\x01";
  for (const auto& r : rows) {
    if (r.structure != current) {
      current = r.structure;
      std::printf("%s\n%-24s %-6s %-5s %-7s %-16s %-8s %16s %12s %10s\n", r.structure.c_str(), "candidate", "irrep",
                  "mult", "dir", "MSG (BNS)", "status", "E (eV)", "dE meV/mag", "|M| muB");
    }
    const double mtot = r.total_magnetization.norm();
    std::printf("%-24s %-6s %-5s %-7s %-16s %-8s %16s %12s %10s%s%s\n", r.candidate.c_str(), r.irrep.c_str(),
                r.multipole.c_str(), r.direction.empty() ? "-" : r.direction.c_str(),
                r.bns_symbol.empty() ? "-" : r.bns_symbol.c_str(),
                (r.status == "done" && !r.converged) ? "unconv" : r.status.c_str(), num(r.energy_ev, "%.6f").c_str(),
                num(r.delta_mev_per_magnetic_atom, "%.3f").c_str(), num(mtot, "%.3f").c_str(),
                r.message.empty() ? "" : "  ", r.message.c_str());
  }
  if (rows.empty()) std::printf("no results\n");
  std::fflush(stdout);
}

struct ResultsArgs {
  std::string db, structure;
  bool json = false;
};

void run_results(const ResultsArgs& a) {
  if (!std::filesystem::exists(a.db)) throw IoError("no results database " + a.db);
  const mg::ResultsDatabase db(a.db);
  if (!a.json) {
    print_ranking(db, a.structure);
    return;
  }
  std::cout << mg::ranking_json(db, a.structure) << "\n";
}

void register_magnetic_dft(CLI::App* s) {
  static RunArgs ra;
  auto* run = s->add_subcommand("run", "pw.x for every DFT candidate of a basis JSON, results in SQLite (resumable)");
  run->add_option("basis", ra.basis, "basis JSON from `magnetic generate -o`")->required()->check(CLI::ExistingFile);
  add_qe_options(run, ra.qe);
  run->add_option("--db", ra.db, "results database (default: WORK_DIR/results.sqlite)");
  run->add_option("--work-dir", ra.work_dir, "one sub-directory per candidate (default: the database's directory, "
                                              "else magnetic_runs)");
  run->add_option("--name", ra.name, "structure name in the database (default: the formula)");
  run->add_option("--only", ra.only, "comma-separated candidate names to run (default: all)");
  auto* dry = run->add_flag("--dry-run", ra.dry_run, "only write the inputs and register the candidates");
  auto* slurm = run->add_option("--slurm", ra.slurm, "write a Slurm array script (FILE, inside the work directory) "
                                                    "instead of running; collect later with `magnetic collect`");
  dry->excludes(slurm);
  run->add_option("--pw-command", ra.pw_command, "pw.x program (and arguments)")->capture_default_str();
  run->add_option("--mpi-prefix", ra.mpi_prefix, "launcher, e.g. 'mpirun -np 4' or 'srun'");
  run->add_option("--omp-threads", ra.omp_threads, "OMP_NUM_THREADS for pw.x (0: inherit)")->capture_default_str();
  run->add_option("--timeout", ra.timeout, "per-candidate wall-clock limit (s; 0: none)")->capture_default_str();
  run->add_flag("--force", ra.force, "rerun candidates that are already done");
  run->add_flag("--no-retry", ra.no_retry, "leave failed candidates failed on resume");
  run->add_option("--partition", ra.partition, "Slurm partition");
  run->add_option("--account", ra.account, "Slurm account");
  run->add_option("--time-limit", ra.time_limit, "Slurm time limit per array task")->capture_default_str();
  run->add_option("--ntasks", ra.ntasks, "Slurm MPI tasks per candidate")->capture_default_str();
  run->add_option("--cpus-per-task", ra.cpus_per_task, "Slurm CPUs per task (also OMP_NUM_THREADS)")
      ->capture_default_str();
  run->add_option("--max-parallel", ra.max_parallel, "Slurm array throttle (%N; 0: none)")->capture_default_str();
  run->add_option("--sbatch", ra.sbatch, "extra #SBATCH directive, e.g. --sbatch=--mem=8G (repeatable)");
  run->add_option("--setup", ra.setup, "shell line before pw.x, e.g. 'module load qe' (repeatable)");
  run->callback([] { run_run(ra); });

  static CollectArgs ca;
  auto* col = s->add_subcommand("collect", "parse finished pw.x outputs (e.g. of a Slurm array) into the database");
  col->add_option("--db", ca.db, "results database (default: WORK_DIR/results.sqlite)");
  col->add_option("--work-dir", ca.work_dir, "the work directory `magnetic run` wrote (default: the database's)");
  col->add_flag("--force", ca.force, "re-parse candidates already done");
  col->callback([] {
    if (ca.db.empty() && ca.work_dir.empty()) throw InvalidArgument("magnetic collect: give --db or --work-dir");
    run_collect(ca);
  });

  static ResultsArgs rs;
  auto* res = s->add_subcommand("results", "candidates ranked by energy (meV per magnetic atom above the lowest)");
  res->add_option("--db", rs.db, "results database")->required();
  res->add_option("--structure", rs.structure, "only this structure");
  res->add_flag("--json", rs.json, "print the ranking as JSON");
  res->callback([] { run_results(rs); });
}

}  // namespace

void register_magnetic(CLI::App& app) {
  auto* s = app.add_subcommand("magnetic", "magnetic structures by cluster multipoles: basis, DFT inputs, pw.x runs");
  s->require_subcommand(1);

  static GenerateArgs ga;
  auto* gen = s->add_subcommand("generate",
                                "all q=0 magnetic structures of a crystal as a cluster-multipole basis, labelled by "
                                "irrep, multipole and magnetic space group");
  add_structure_input(gen, ga.in);
  gen->add_option("--magnetic-atoms", ga.magnetic_atoms, "magnetic sites: elements or site labels, e.g. Mn or Mn1,Fe")
      ->required();
  gen->add_option("--max-rank", ga.max_rank, "highest multipole rank (0: as high as needed for a complete basis)")
      ->check(CLI::Range(0, 40))
      ->capture_default_str();
  gen->add_option("--order", ga.order, "rank (M1,M2,T1,M3,T2,...) | power (M1,T1,M2,T2,...)")->capture_default_str();
  gen->add_option("-o,--output", ga.output, "basis JSON to write (basis, directions, DFT candidates)");
  gen->add_option("--vasp", ga.vasp, "write DIR/<candidate>/{POSCAR,INCAR} (noncollinear MAGMOM)");
  gen->add_option("--qe", ga.qe, "write DIR/<candidate>/pw.in (Quantum ESPRESSO, noncollinear)");
  add_qe_options(gen, ga.qe_args, /*required=*/false);
  gen->add_option("--mcif", ga.mcif, "write DIR/<candidate>.mcif (magCIF with the magnetic space group)");
  gen->add_option("--svg", ga.svg, "picture of every basis vector and direction (moments as arrows in the cell)");
  gen->add_option("--moment", ga.moment, "moment of the largest site in the DFT inputs (muB, > 0)")
      ->capture_default_str();
  gen->add_option("--symprec", ga.symprec, "symmetry tolerance (A, > 0)")->capture_default_str();
  gen->add_option("--mag-symprec", ga.mag_symprec, "moment tolerance for magnetic groups (muB; -1: symprec)")
      ->capture_default_str();
  gen->add_option("--tolerance", ga.tolerance, "relative residual below which a pattern adds nothing new")
      ->capture_default_str();
  gen->add_flag("--no-directions", ga.no_directions, "skip the [110]/[111]-type combinations of multi-dim. irreps");
  gen->callback([] { run_generate(ga); });

  register_magnetic_dft(s);
}

}  // namespace tsunagu::cli
