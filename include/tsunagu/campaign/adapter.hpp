#pragma once
/// Instrument adapters: how an experiment's conditions reach the robot and how its result comes back.
///
/// Request (JSON, stdin of a command / body of an HTTP POST):
///   {"campaign": "...", "experiment": 12, "attempt": 1, "key": "<campaign>/12/1",
///    "parameters": {"o2_pressure": 0.5, "target": "Nb", ...}, "objectives": ["resistivity"]}
/// "key" is unique per attempt so that a controller can make a repeated POST (after an orchestrator crash)
/// idempotent.
/// Reply (stdout of a command, body of an HTTP reply): a JSON object, one of
///   {"status": "done", "values": {"resistivity": 1.2e-3}}   (a bare {"resistivity": 1.2e-3} also means done)
///   {"status": "failed", "error": "target arcing"}          retried per RetryPolicy
///   {"status": "infeasible", "error": "film peeled off"}    not retried: the conditions cannot be measured
///   {"status": "running", "id": "job-17"}                   HTTP only: poll GET <url>/experiments/job-17
/// Timeouts, non-zero exit codes, malformed JSON, missing/non-finite objective values, connection failures and HTTP
/// status >= 400 become Failed outcomes whose error says which (never exceptions: a faulty robot must not stop the
/// campaign).
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tsunagu::campaign {

struct ExperimentRequest {
  std::string campaign;
  std::int64_t experiment = 0;
  int attempt = 1;
  nlohmann::json parameters;            ///< object: name -> number or category label
  std::vector<std::string> objectives;
  nlohmann::json to_json() const;       ///< the request document above
};

struct Outcome {
  enum class Kind { Done, Failed, Infeasible, Running } kind = Kind::Failed;
  std::map<std::string, double> values;  ///< Done: objective -> value
  std::string error;                     ///< Failed/Infeasible: why
  std::string ref;                       ///< Running: job reference to poll
  std::string raw;                       ///< raw reply (truncated to 4 kB) for the record
};

/// Parse a reply document (see above) against the expected objectives. Never throws.
Outcome parse_reply(const std::string& text, const std::vector<std::string>& objectives);

class Adapter {
 public:
  virtual ~Adapter() = default;
  virtual std::string name() const = 0;  ///< "command" | "http" | "manual"
  /// Start an experiment. Synchronous adapters return Done/Failed/Infeasible; asynchronous ones Running + ref.
  virtual Outcome start(const ExperimentRequest& request) = 0;
  /// Poll a running experiment by its ref (asynchronous adapters).
  virtual Outcome poll(const std::string& ref, const std::vector<std::string>& objectives) = 0;
  /// After a crash: true = running experiments with a ref are re-polled; false = they are re-queued.
  virtual bool can_poll() const = 0;
};

struct AdapterOptions {
  double timeout_s = 600;        ///< per attempt (command: kill after; HTTP: request timeout and overall wait)
  double poll_interval_s = 1.0;  ///< HTTP polling period
  std::string database;          ///< manual: the campaign database named in the printed `record` command
};

/// Runs CMD through /bin/sh -c per experiment: request on stdin, reply on stdout; stderr is kept (last 4 kB) for
/// the error message. On timeout the whole process group is killed (SIGTERM, then SIGKILL after 2 s).
class CommandAdapter final : public Adapter {
 public:
  CommandAdapter(std::string command, AdapterOptions options = {});
  std::string name() const override { return "command"; }
  Outcome start(const ExperimentRequest& request) override;
  Outcome poll(const std::string& ref, const std::vector<std::string>& objectives) override;
  bool can_poll() const override { return false; }

 private:
  std::string command_;
  AdapterOptions options_;
};

/// POST <url>/experiments with the request; GET <url>/experiments/<id> to poll (cpp-httplib; http:// only).
class HttpAdapter final : public Adapter {
 public:
  HttpAdapter(std::string url, AdapterOptions options = {});
  std::string name() const override { return "http"; }
  Outcome start(const ExperimentRequest& request) override;
  Outcome poll(const std::string& ref, const std::vector<std::string>& objectives) override;
  bool can_poll() const override { return true; }

 private:
  std::string url_;
  AdapterOptions options_;
};

/// Prints the conditions (stdout) and leaves the experiment running; the researcher records the result with
/// `campaign record` (Store::record_result). poll() always answers Running.
class ManualAdapter final : public Adapter {
 public:
  explicit ManualAdapter(AdapterOptions options = {}) : options_(std::move(options)) {}
  std::string name() const override { return "manual"; }
  Outcome start(const ExperimentRequest& request) override;
  Outcome poll(const std::string& ref, const std::vector<std::string>& objectives) override;
  bool can_poll() const override { return true; }

 private:
  AdapterOptions options_;
};

/// "command:CMD" | "http://host:port[/prefix]" | "http:URL" | "manual" -> adapter. InvalidArgument otherwise.
std::unique_ptr<Adapter> make_adapter(const std::string& spec, const AdapterOptions& options = {});

}  // namespace tsunagu::campaign
