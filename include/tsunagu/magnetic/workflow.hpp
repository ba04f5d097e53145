#pragma once
/// pw.x workflow for magnetic candidates with a SQLite results database.
///
/// Layout: work_dir/<candidate name>/{pw.in, pw.out, pw.err}; the database (default work_dir/results.sqlite) holds
/// structures, candidates and one result row per candidate whose status moves pending -> running -> done | failed.
/// Each transition is committed (WAL, synchronous=FULL) before it is acted on, so after a crash the database tells
/// what to redo: run_candidates() skips 'done' rows (unless force) and reruns 'running', 'pending' and 'failed' ones.
/// pw.x writes to pw.out.partial, renamed to pw.out once it has exited, so a pw.out is always a finished run.
/// One runner per database: a row another live process marked 'running' would be run again.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "tsunagu/magnetic/candidate.hpp"
#include "tsunagu/magnetic/qe.hpp"

namespace tsunagu::magnetic {

struct WorkflowOptions {
  std::filesystem::path work_dir;   ///< one sub-directory per candidate (created)
  std::string pw_command = "pw.x";  ///< program (and extra arguments); "-in pw.in" is appended
  std::string mpi_prefix;           ///< e.g. "mpirun -np 4"; empty: run pw.x directly
  double timeout_s = 0;             ///< per candidate wall-clock limit (process group killed); 0: none
  bool force = false;               ///< rerun candidates that are already done
  bool retry_failed = true;         ///< rerun failed candidates on resume (false: leave them failed)
  bool dry_run = false;             ///< only write the inputs and register the candidates (status pending)
  std::filesystem::path database;   ///< empty: work_dir/results.sqlite
  int omp_threads = 1;              ///< OMP_NUM_THREADS for pw.x (0: inherit the caller's environment)

  void validate() const;  ///< throws InvalidArgument naming the field
  std::filesystem::path database_path() const;
  /// The shell command run in a candidate directory: "[mpi_prefix ]pw_command -in pw.in".
  std::string command() const;
};

/// One row of the results table joined with its candidate and structure.
struct ResultRow {
  std::int64_t candidate_id = 0;
  std::string structure;       ///< structure name
  std::string candidate;       ///< candidate name
  std::string irrep, multipole, direction;
  MagneticGroupLabel magnetic_space_group;
  bool ahe_allowed = false;
  int n_magnetic = 0;          ///< sites with a nonzero initial moment
  Eigen::MatrixXd initial_moments = Eigen::MatrixXd(0, 3);
  std::string status;          ///< "pending" | "running" | "done" | "failed"
  double energy_ry = std::numeric_limits<double>::quiet_NaN();
  double energy_ev = std::numeric_limits<double>::quiet_NaN();
  std::optional<double> fermi_energy_ev;
  Eigen::Vector3d total_magnetization = Eigen::Vector3d::Constant(std::numeric_limits<double>::quiet_NaN());
  double absolute_magnetization = std::numeric_limits<double>::quiet_NaN();
  Eigen::MatrixXd site_moments = Eigen::MatrixXd(0, 3);  ///< (n_atoms, 3) μB; 0 rows when unknown
  bool converged = false;
  int n_iterations = 0;
  double wall_time_s = std::numeric_limits<double>::quiet_NaN();
  std::string message;
  std::string output_path;
  std::string created_at, started_at, finished_at;  ///< ISO 8601 UTC; empty when not reached
  int attempts = 0;            ///< how many times pw.x was started for it
};

/// The results database (SQLite, WAL). Opening creates the file and schema when missing; a file that is not a
/// tsunagu magnetic database is refused (IoError).
class ResultsDatabase {
 public:
  explicit ResultsDatabase(const std::filesystem::path& path);
  ~ResultsDatabase();
  ResultsDatabase(ResultsDatabase&&) noexcept;
  ResultsDatabase& operator=(ResultsDatabase&&) noexcept;
  ResultsDatabase(const ResultsDatabase&) = delete;
  ResultsDatabase& operator=(const ResultsDatabase&) = delete;

  const std::filesystem::path& path() const noexcept;

  /// Idempotent by name: returns the existing id (the stored structure is kept) or inserts.
  std::int64_t add_structure(const std::string& name, const structure::Crystal& crystal, const std::string& source = "");
  /// Idempotent by (structure, candidate name); creates the 'pending' result row. Re-registering with different
  /// initial moments updates the candidate and resets its result to pending.
  std::int64_t add_candidate(std::int64_t structure_id, const Candidate& candidate);

  /// Status transitions (each one committed transaction).
  void mark_running(std::int64_t candidate_id, const std::string& output_path);
  void mark_pending(std::int64_t candidate_id, const std::string& message = "");
  void mark_failed(std::int64_t candidate_id, const std::string& message, const std::string& output_path = "");
  /// Stores a parsed run: status done (PwResult Done) or failed, energies, moments, message.
  void store_result(std::int64_t candidate_id, const PwResult& result, const std::string& output_path,
                    const std::string& extra_message = "");

  std::vector<ResultRow> results(const std::string& structure = "") const;  ///< all (or one structure's), by id
  std::optional<ResultRow> result(const std::string& structure, const std::string& candidate) const;
  std::vector<std::string> structures() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// What a run/collect did.
struct RunSummary {
  std::size_t candidates = 0;  ///< registered in this call
  std::size_t ran = 0;         ///< pw.x started
  std::size_t skipped = 0;     ///< already done (or failed with retry_failed = false)
  std::size_t done = 0;        ///< finished with status done in this call
  std::size_t failed = 0;      ///< finished with status failed in this call
  std::size_t written = 0;     ///< inputs written
};

/// Registers `candidates` under `structure_name` (empty: the first candidate's formula; the stored structure is the
/// first candidate's crystal), writes work_dir/<name>/pw.in and runs pw.x there one candidate after another
/// (OMP_NUM_THREADS = omp_threads), parsing pw.out into the database. A failed candidate does not stop the others.
/// Progress on stderr. Throws InvalidArgument for bad options/candidates (before anything runs), IoError when the
/// database or a directory cannot be written.
RunSummary run_candidates(const std::vector<Candidate>& candidates, const QeOptions& qe, const WorkflowOptions& options,
                          const std::string& structure_name = "");

struct SlurmOptions {
  std::string job_name = "tsunagu-pw";
  std::string partition;        ///< #SBATCH --partition (empty: omitted)
  std::string account;          ///< #SBATCH --account (empty: omitted)
  std::string time_limit = "24:00:00";
  int nodes = 1;
  int ntasks = 1;               ///< MPI ranks per candidate (use an mpi_prefix such as "srun" to launch them)
  int cpus_per_task = 1;        ///< also OMP_NUM_THREADS
  int max_parallel = 0;         ///< "%N" throttle on the array; 0: none
  std::vector<std::string> extra_directives;  ///< whole lines after "#SBATCH ", e.g. "--mem=8G"
  std::vector<std::string> setup;             ///< shell lines run before pw.x, e.g. "module load qe/6.7"
  std::string script_name = "submit_pw.sh";
};

/// Writes the inputs of the candidates that still need a run (all with options.force), registers them (pending) and
/// writes work_dir/<script_name>: a Slurm array job (#SBATCH --array=0-(n-1)) whose task i runs
/// options.command() in the i-th directory, stdout to pw.out.partial renamed to pw.out at the end. Returns the script
/// path; with nothing to run no script is written and the returned path is empty. Collect with collect_results.
std::filesystem::path write_slurm_array(const std::vector<Candidate>& candidates, const QeOptions& qe,
                                        const WorkflowOptions& options, const SlurmOptions& slurm = {},
                                        const std::string& structure_name = "");

/// Parses work_dir/<candidate>/pw.out of every candidate in the database that is not done (all with force) into
/// the database; a pw.out.partial alone marks the row running. Returns counts (ran = outputs parsed).
RunSummary collect_results(const WorkflowOptions& options);

struct RankedResult {
  std::string structure, candidate, irrep, multipole, direction, bns_symbol;
  std::string status;     ///< done / failed / pending / running
  bool converged = false;
  double energy_ry = std::numeric_limits<double>::quiet_NaN();
  double energy_ev = std::numeric_limits<double>::quiet_NaN();
  /// (E - E_min) / n_magnetic in meV per magnetic atom, E_min the lowest converged energy of the same structure;
  /// NaN when there is no energy or no converged reference.
  double delta_mev_per_magnetic_atom = std::numeric_limits<double>::quiet_NaN();
  int n_magnetic = 0;
  Eigen::Vector3d total_magnetization = Eigen::Vector3d::Constant(std::numeric_limits<double>::quiet_NaN());
  std::string message;
};

/// Rows per structure: converged results by energy, then unconverged ones with an energy (by energy), then failed,
/// running and pending ones (by name).
std::vector<RankedResult> rank_results(const ResultsDatabase& db, const std::string& structure = "");

/// Sites with |moment| > 1e-4 μB.
int count_magnetic_sites(const Eigen::MatrixXd& moments);

/// rank_results as a JSON array (what `tsunagu magnetic results --json` prints and tsunagu.magnetic.results
/// returns): the RankedResult fields plus site_moments and initial_moments ((n_sites, 3) μB), n_iterations,
/// wall_time_s, output_path and attempts; unknown numbers are null.
std::string ranking_json(const ResultsDatabase& db, const std::string& structure = "");

/// The candidates named in `names`, in that order (all of them when `names` is empty). InvalidArgument naming the
/// first name not found in `source` (e.g. the basis file).
std::vector<Candidate> select_candidates(const std::vector<Candidate>& all, const std::vector<std::string>& names,
                                         const std::string& source);

}  // namespace tsunagu::magnetic
