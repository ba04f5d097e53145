// tsunagu campaign init | run | status | record | export | serve | control — argument parsing and formatting only;
// the loop, the database and the views are tsunagu::campaign.
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <charconv>
#include <cmath>
#include <ctime>
#include <iostream>
#include <map>
#include <thread>

#include "common.hpp"
#include "tsunagu/campaign/adapter.hpp"
#include "tsunagu/campaign/dashboard.hpp"
#include "tsunagu/campaign/report.hpp"
#include "tsunagu/campaign/runner.hpp"
#include "tsunagu/campaign/spec.hpp"
#include "tsunagu/campaign/store.hpp"
#include "tsunagu/core/error.hpp"
#include "tsunagu/core/io.hpp"
#include "tsunagu/core/table.hpp"

namespace tsunagu::cli {
namespace {

using namespace tsunagu::campaign;

// Strict number: the whole text, finite (std::stod would accept "1e-3abc").
double parse_value(const std::string& text, const std::string& what) {
  std::string s = text;
  const auto b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
  s = b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
  const char* first = s.data();
  if (!s.empty() && s[0] == '+') ++first;
  double v = 0;
  const auto [ptr, ec] = std::from_chars(first, s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size())
    throw InvalidArgument(what + ": '" + text + "' is not a number");
  if (!std::isfinite(v)) throw InvalidArgument(what + ": '" + text + "' is not finite");
  return v;
}

// ---------------------------------------------------------------------------------------------------------------
struct InitArgs {
  std::string spec, db;
};

void run_init(const InitArgs& a) {
  const auto spec = read_campaign_spec(a.spec);
  auto store = Store::create(a.db, spec);
  std::cout << "created campaign '" << spec.name << "' in " << a.db << ": " << spec.space.n_parameters()
            << " parameters, " << spec.space.objectives.size() << " objective"
            << (spec.space.objectives.size() == 1 ? "" : "s") << ", batch " << spec.batch << ", initial "
            << spec.initial << ", budget " << spec.stop.budget << "\n";
}

// ---------------------------------------------------------------------------------------------------------------
struct RunArgs {
  std::string db, adapter;
  int max_experiments = -1;
  bool wait = false;
};

void run_run(const RunArgs& a) {
  auto store = Store::open(a.db);
  AdapterOptions ao;
  ao.timeout_s = store.spec().retry.timeout_s;
  ao.poll_interval_s = store.spec().retry.poll_interval_s;
  ao.database = a.db;
  auto adapter = make_adapter(a.adapter, ao);
  RunOptions ro;
  ro.max_experiments = a.max_experiments;
  ro.wait_for_manual = a.wait;
  const auto s = run(store, *adapter, ro);
  const auto c = store.counts();
  std::cout << "stopped: " << s.stop_reason << " (this run: " << s.started << " started, " << s.done << " done, "
            << s.failed << " failed attempts";
  if (s.requeued) std::cout << ", " << s.requeued << " re-queued";
  if (s.repolled) std::cout << ", " << s.repolled << " re-polled";
  std::cout << "; campaign: " << c.done + c.failed << "/" << store.spec().stop.budget << " final, " << c.done
            << " done, " << c.failed << " failed, " << c.running << " running, " << c.queued << " queued)\n";
}

// ---------------------------------------------------------------------------------------------------------------
struct StatusArgs {
  std::string db, plot;
  bool json = false;
};

void run_status(const StatusArgs& a) {
  const auto store = Store::open(a.db);
  // The plot is written first so that a failure to write it is reported before anything is printed.
  if (!a.plot.empty()) core::write_file_atomic(a.plot, best_so_far_svg(store));
  if (a.json) std::cout << status_json(store).dump(2) << "\n";
  else {
    const auto text = status_text(store);
    std::cout << text << (text.empty() || text.back() != '\n' ? "\n" : "");
  }
  if (!a.plot.empty()) note("wrote " + a.plot);
}

// ---------------------------------------------------------------------------------------------------------------
struct RecordArgs {
  std::string db, failed;
  std::int64_t experiment = 0;
  std::vector<std::string> values;
};

void run_record(const RecordArgs& a, bool failed_given) {
  if (failed_given == !a.values.empty())
    throw InvalidArgument("record: give either --value (the result) or --failed \"why\", not " +
                          std::string(failed_given ? "both" : "neither"));
  auto store = Store::open(a.db);
  if (failed_given) {
    if (a.failed.empty()) throw InvalidArgument("--failed: give the reason, e.g. --failed \"target arcing\"");
    const auto next = store.record_failure(a.experiment, a.failed, true);
    std::cout << "experiment " << a.experiment << " recorded as failed ("
              << (next ? "retry as experiment " + std::to_string(next) : std::string("no attempts left")) << ")\n";
    return;
  }
  const auto objectives = store.spec().space.objective_names();
  std::map<std::string, double> values;
  for (const auto& item : a.values) {
    const auto eq = item.find('=');
    std::string name, text;
    if (eq == std::string::npos) {
      if (objectives.size() != 1 || a.values.size() != 1)
        throw InvalidArgument("--value: the campaign has " + std::to_string(objectives.size()) +
                              " objectives; write --value NAME=V for each");
      name = objectives[0];
      text = item;
    } else {
      name = item.substr(0, eq);
      text = item.substr(eq + 1);
    }
    if (values.count(name)) throw InvalidArgument("--value: objective '" + name + "' given twice");
    values[name] = parse_value(text, "--value " + name);
  }
  store.record_result(a.experiment, values);
  std::cout << "experiment " << a.experiment << " recorded:";
  for (const auto& [k, v] : values) std::cout << " " << k << " = " << core::format_double(v);
  std::cout << "\n";
}

// ---------------------------------------------------------------------------------------------------------------
struct ExportArgs {
  std::string db, output;
};

void run_export(const ExportArgs& a) {
  const auto store = Store::open(a.db);
  export_csv(store, a.output);
  note("wrote " + a.output);
}

// ---------------------------------------------------------------------------------------------------------------
struct ServeArgs {
  std::string db;
  ServeOptions options;
};

void run_serve(const ServeArgs& a) {
  a.options.validate();
  // SIGINT/SIGTERM are blocked in every thread (the server's threads inherit the mask) and taken by sigtimedwait in
  // one watcher thread, which may then call stop() safely — a signal handler could not.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigset_t old;
  pthread_sigmask(SIG_BLOCK, &signals, &old);
  struct Restore {
    sigset_t mask;
    ~Restore() { pthread_sigmask(SIG_SETMASK, &mask, nullptr); }
  } restore{old};

  Dashboard dashboard(a.db, a.options);
  const int port = dashboard.bind();
  std::atomic<bool> finished{false};
  std::thread watcher([&] {
    const timespec tick{0, 200 * 1000 * 1000};
    while (!finished.load()) {
      const int sig = sigtimedwait(&signals, nullptr, &tick);
      if (sig == SIGINT || sig == SIGTERM) {
        note("campaign serve: stopping (" + std::string(sig == SIGINT ? "SIGINT" : "SIGTERM") + ")");
        dashboard.stop();
        return;
      }
    }
  });
  std::cout << "serving " << a.db << " at http://" << a.options.host << ":" << port << "/ (Ctrl-C stops)"
            << std::endl;
  try {
    dashboard.run();
  } catch (...) {
    finished = true;
    watcher.join();
    throw;
  }
  finished = true;
  watcher.join();
}

// ---------------------------------------------------------------------------------------------------------------
struct ControlArgs {
  std::string db, action;
};

void run_control(const ControlArgs& a) {
  auto store = Store::open(a.db);
  const std::string state = a.action == "pause" ? "paused" : a.action == "resume" ? "running" : "stopped";
  store.set_control(state);
  std::cout << "campaign control: " << state << "\n";
}

}  // namespace

void register_campaign(CLI::App& app) {
  auto* cp = app.add_subcommand("campaign", "autonomous experiment campaigns: Bayesian optimisation driving an "
                                            "instrument, state in one SQLite file");
  cp->require_subcommand(1);

  static InitArgs ia;
  auto* init = cp->add_subcommand("init", "create a campaign database from a TOML spec");
  init->add_option("spec", ia.spec, "campaign spec (TOML)")->required()->check(CLI::ExistingFile);
  init->add_option("--db", ia.db, "SQLite file to create (must not exist)")->required();
  init->callback([] { run_init(ia); });

  static RunArgs ra;
  auto* run_cmd = cp->add_subcommand("run", "run (or resume) the loop: propose, measure, record, until the stop rule");
  run_cmd->add_option("--db", ra.db, "campaign database")->required();
  run_cmd->add_option("--adapter", ra.adapter, "command:'CMD' | http:URL | http://HOST:PORT | manual")->required();
  run_cmd->add_option("--max-experiments", ra.max_experiments,
                      "return after this many experiments reached a final state (-1: no limit)")
      ->capture_default_str()
      ->check(CLI::Range(-1, 1000000000));
  run_cmd->add_flag("--wait", ra.wait, "manual adapter: wait for results recorded with `campaign record`");
  run_cmd->callback([] { run_run(ra); });

  static StatusArgs sa;
  auto* status = cp->add_subcommand("status", "experiments table and best-so-far summary");
  status->add_option("--db", sa.db, "campaign database")->required();
  status->add_flag("--json", sa.json, "print the status document as JSON");
  status->add_option("--plot", sa.plot, "write the best-so-far plot (SVG)");
  status->callback([] { run_status(sa); });

  static RecordArgs rec;
  auto* record = cp->add_subcommand("record", "record the result of an experiment (manual adapter)");
  record->add_option("--db", rec.db, "campaign database")->required();
  record->add_option("--experiment", rec.experiment, "experiment id")->required()->check(non_negative(true));
  record->add_option("--value", rec.values, "objective value V (single objective) or NAME=V, repeated")
      ->allow_extra_args(false);
  auto* failed_opt = record->add_option("--failed", rec.failed, "the experiment failed: why");
  record->callback([failed_opt] { run_record(rec, failed_opt->count() > 0); });

  static ExportArgs ea;
  auto* exp = cp->add_subcommand("export", "write every experiment as CSV");
  exp->add_option("--db", ea.db, "campaign database")->required();
  exp->add_option("-o,--output", ea.output, "CSV file to write")->required();
  exp->callback([] { run_export(ea); });

  static ServeArgs va;
  auto* serve = cp->add_subcommand("serve", "web dashboard with pause/resume/stop (blocks; Ctrl-C stops)");
  serve->add_option("--db", va.db, "campaign database")->required();
  serve->add_option("--host", va.options.host, "address to bind")->capture_default_str();
  serve->add_option("--port", va.options.port, "TCP port (0 = any free port)")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  serve->add_option("--chart-js", va.options.chart_js, "path of chart.js (default: Debian's libjs-chart.js)");
  serve->callback([] { run_serve(va); });

  static ControlArgs ca;
  auto* control = cp->add_subcommand("control", "pause, resume or stop a running campaign");
  control->add_option("--db", ca.db, "campaign database")->required();
  control->add_option("action", ca.action, "pause | resume | stop")
      ->required()
      ->check(CLI::IsMember({"pause", "resume", "stop"}));
  control->callback([] { run_control(ca); });
}

}  // namespace tsunagu::cli
