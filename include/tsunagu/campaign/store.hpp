#pragma once
/// Campaign state in one SQLite file (WAL journal, synchronous=FULL, busy timeout 10 s so a dashboard process and
/// the runner share it). Every state transition is one committed transaction *before* the caller acts on it, so a
/// crash at any instant leaves a consistent database that `resume` continues from.
///
/// Schema (PRAGMA application_id = 0x54534E47 'TSNG', user_version = schema version):
///   campaign(id = 1, name, spec_toml, created, control)            control: running | paused | stopped
///   proposals(id, created, point_json, method, acquisition, mean_json, sd_json, snapshot_id)
///   experiments(id, proposal_id, attempt, state, adapter, ref, created, started, finished, error, raw)
///   observations(experiment_id, objective, value)                   one row per objective of a done experiment
///   model_snapshots(id, created, n_observations, json)             fitted hyperparameters at each suggestion
///   events(id, time, experiment_id, message)                        human-readable log for status/dashboard
/// A proposal has at most one done experiment (enforced by a unique partial index), which is what "measured exactly
/// once" means.
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <Eigen/Core>
#include <nlohmann/json.hpp>

#include "tsunagu/bayesopt/optimizer.hpp"
#include "tsunagu/campaign/spec.hpp"

namespace tsunagu::campaign {

enum class State { Proposed, Running, Done, Failed };
std::string state_name(State s);  ///< "proposed" | "running" | "done" | "failed"

struct Experiment {
  std::int64_t id = 0;
  std::int64_t proposal_id = 0;
  int attempt = 1;                         ///< 1-based attempt of its proposal
  State state = State::Proposed;
  Eigen::VectorXd point;                   ///< (n_parameters) natural units
  std::map<std::string, double> values;    ///< objective -> value (done only)
  std::string adapter, ref, error, raw;    ///< adapter name, adapter job reference, failure message, raw reply
  double created = 0, started = 0, finished = 0;  ///< unix time, seconds (0 = not yet)
};

struct Counts {
  int proposals = 0;     ///< all proposals
  int done = 0;          ///< proposals with a result
  int failed = 0;        ///< proposals failed after all attempts (infeasible for the model)
  int running = 0;       ///< experiments running
  int queued = 0;        ///< experiments proposed, not started
  int attempts_failed = 0;  ///< failed attempts including retried ones
};

class Store {
 public:
  /// New database at `path` (must not exist: IoError otherwise) holding the spec.
  static Store create(const std::filesystem::path& path, const CampaignSpec& spec);
  /// Open an existing campaign. A missing file -> IoError; a corrupt file, a SQLite database of another program or
  /// a newer schema -> ParseError naming the file and what is wrong.
  static Store open(const std::filesystem::path& path);

  Store(Store&&) noexcept;
  Store& operator=(Store&&) noexcept;
  ~Store();

  const std::filesystem::path& path() const noexcept;
  const CampaignSpec& spec() const noexcept;

  std::string control() const;                  ///< running | paused | stopped
  void set_control(const std::string& control);  ///< InvalidArgument for anything else

  /// Insert proposals (one per row of `points`, natural units) each with a first experiment in state proposed, and
  /// the model snapshot, in one transaction. `suggestion` (optional) supplies acquisition/mean/sd per row. Returns
  /// the new experiment ids in row order.
  std::vector<std::int64_t> add_proposals(const Eigen::MatrixXd& points, const std::string& method,
                                          const bayesopt::Suggestion* suggestion = nullptr,
                                          const nlohmann::json& snapshot = nullptr);

  /// proposed -> running (records adapter name, start time). InvalidArgument if not proposed.
  void mark_running(std::int64_t experiment, const std::string& adapter);
  /// Store the adapter's job reference of a running experiment (HTTP job id) for re-polling after a crash.
  void set_ref(std::int64_t experiment, const std::string& ref);
  /// proposed|running -> done with one value per objective (all objectives required, finite). A second result for
  /// the same experiment or proposal -> InvalidArgument "experiment N already has a result".
  void record_result(std::int64_t experiment, const std::map<std::string, double>& values,
                     const std::string& raw = "");
  /// proposed|running -> failed. When `retry` and attempts remain (RetryPolicy::max_attempts), a new experiment
  /// (attempt + 1, proposed) is created for the same proposal in the same transaction; returns its id, else 0.
  std::int64_t record_failure(std::int64_t experiment, const std::string& error, bool retry = true);
  /// running -> proposed (the orchestrator died while it ran and the adapter cannot re-poll).
  void requeue(std::int64_t experiment, const std::string& why);

  std::optional<Experiment> experiment(std::int64_t id) const;
  std::vector<Experiment> experiments() const;              ///< all, by id
  std::vector<Experiment> experiments(State state) const;   ///< by id
  Counts counts() const;

  /// Model input: X/Y of every final proposal (done: values; failed after all attempts: NaN row) in proposal
  /// order, plus pending = points of proposals not final yet.
  bayesopt::Observations observations() const;

  void log(const std::string& message, std::int64_t experiment = 0);
  struct Event { double time; std::int64_t experiment; std::string message; };
  std::vector<Event> events(int last = 100) const;
  /// Latest model snapshot JSON (null when none).
  nlohmann::json latest_snapshot() const;

 private:
  struct Impl;
  explicit Store(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tsunagu::campaign
