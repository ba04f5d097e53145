#include "tsunagu/campaign/runner.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <thread>

#include "tsunagu/bayesopt/acquisition.hpp"
#include "tsunagu/bayesopt/gp.hpp"
#include "tsunagu/core/error.hpp"
#include "tsunagu/core/progress.hpp"
#include "tsunagu/core/random.hpp"
#include "tsunagu/core/table.hpp"

namespace tsunagu::campaign {
namespace {

using Clock = std::chrono::steady_clock;

// splitmix64 finaliser: decorrelates the per-proposal seeds derived from (campaign seed, proposal count).
std::uint64_t mix_seed(std::uint64_t seed, std::uint64_t n) {
  std::uint64_t z = seed + 0x9E3779B97F4A7C15ULL * (n + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void say(const std::string& line) {
  if (core::progress_enabled()) std::fprintf(stderr, "%s\n", line.c_str());
}

std::string sig(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

// The conditions as the instrument sees them: numbers in natural units, integers as integers, categories by label.
nlohmann::json parameters_json(const bayesopt::Space& space, const Eigen::VectorXd& x) {
  nlohmann::json p = nlohmann::json::object();
  for (std::size_t j = 0; j < space.parameters.size(); ++j) {
    const auto& par = space.parameters[j];
    const double v = x(static_cast<Eigen::Index>(j));
    switch (par.kind) {
      case bayesopt::ParamKind::Continuous: p[par.name] = v; break;
      case bayesopt::ParamKind::Integer: p[par.name] = static_cast<std::int64_t>(std::llround(v)); break;
      case bayesopt::ParamKind::Categorical: {
        const auto k = static_cast<std::size_t>(std::clamp(v, 0.0, static_cast<double>(par.choices.size() - 1)));
        p[par.name] = par.choices[k];
        break;
      }
      case bayesopt::ParamKind::Fixed:
        if (par.label.empty()) p[par.name] = par.value;
        else p[par.name] = par.label;
        break;
    }
  }
  return p;
}

// Conditions for a progress line: 4 significant digits are enough for a person; the database keeps full precision.
std::string point_text(const bayesopt::Space& space, const Eigen::VectorXd& x) {
  const auto cells = space.format_point(x);
  std::string s;
  for (std::size_t j = 0; j < cells.size(); ++j) {
    const auto& p = space.parameters[j];
    const bool numeric = p.kind == bayesopt::ParamKind::Continuous ||
                         (p.kind == bayesopt::ParamKind::Fixed && p.label.empty());
    s += (j ? ", " : "") + p.name + " = " + (numeric ? sig(x(static_cast<Eigen::Index>(j))) : cells[j]);
    if (!p.unit.empty()) s += " " + p.unit;
  }
  return s;
}

// Whether `a` is at least as good as `b` in every objective (directions applied).
bool weakly_dominates(const std::vector<double>& a, const std::vector<double>& b,
                      const std::vector<bayesopt::Objective>& objectives) {
  for (std::size_t k = 0; k < objectives.size(); ++k) {
    const bool minimize = objectives[k].direction == bayesopt::Direction::Minimize;
    if (minimize ? a[k] > b[k] : a[k] < b[k]) return false;
  }
  return true;
}

}  // namespace

bool stop_rule_met(const Store& store, std::string* reason) {
  const auto& spec = store.spec();
  const Counts c = store.counts();
  auto met = [&](const std::string& why) {
    if (reason) *reason = why;
    return true;
  };
  if (c.done + c.failed >= spec.stop.budget) return met("budget reached");
  if (!spec.stop.target && spec.stop.patience <= 0) return false;

  // Results in order of completion.
  auto done = store.experiments(State::Done);
  std::stable_sort(done.begin(), done.end(),
                   [](const Experiment& a, const Experiment& b) { return a.finished < b.finished; });
  const auto& objectives = spec.space.objectives;
  std::vector<std::vector<double>> seen;
  int since_improvement = 0;
  for (const auto& e : done) {
    std::vector<double> y;
    for (const auto& o : objectives) y.push_back(e.values.at(o.name));
    // An improvement is a result no earlier result weakly dominates (single objective: a strictly better value).
    bool improved = true;
    for (const auto& s : seen)
      if (weakly_dominates(s, y, objectives)) {
        improved = false;
        break;
      }
    since_improvement = improved ? 0 : since_improvement + 1;
    seen.push_back(std::move(y));
    if (spec.stop.target && objectives.size() == 1) {
      const double v = seen.back()[0];
      const bool minimize = objectives[0].direction == bayesopt::Direction::Minimize;
      if (minimize ? v <= *spec.stop.target : v >= *spec.stop.target)
        return met("target reached (" + objectives[0].name + " = " + sig(v) + ", experiment " +
                   std::to_string(e.id) + ")");
    }
  }
  if (spec.stop.patience > 0 && since_improvement >= spec.stop.patience)
    return met("no improvement for " + std::to_string(since_improvement) + " results");
  return false;
}

std::vector<std::int64_t> propose(Store& store) {
  const auto& spec = store.spec();
  const Counts c = store.counts();
  // Failed-for-good proposals count against the budget, so proposals never exceed it.
  const int room = spec.stop.budget - c.proposals;
  int q = std::min(spec.batch, room);
  if (q <= 0) return {};
  const auto n = static_cast<std::uint64_t>(c.proposals);

  if (c.proposals < spec.initial) {
    // The whole initial design is one Latin-hypercube sample drawn from the campaign seed; each batch takes its next
    // rows, so a resumed campaign proposes exactly what the uninterrupted one would have.
    q = std::min(q, spec.initial - c.proposals);
    core::Rng rng = core::make_rng(mix_seed(spec.seed, 0));
    const Eigen::MatrixXd design = spec.space.sample(static_cast<std::size_t>(spec.initial), rng);
    const Eigen::MatrixXd points = design.middleRows(c.proposals, q);
    return store.add_proposals(points, "random (initial design)");
  }

  const bayesopt::Observations obs = store.observations();
  bayesopt::OptimizerOptions opts = spec.optimizer;
  // Seeded by the proposal count: re-running after a crash before the commit gives the same proposals.
  opts.seed = mix_seed(spec.seed, n);
  opts.gp.seed = mix_seed(spec.seed ^ 0x5DEECE66DULL, n);
  bayesopt::Suggestion s;
  try {
    s = bayesopt::Optimizer(spec.space, opts).suggest(obs, q);
  } catch (const NumericalError& e) {
    // A model that cannot be fitted must not stop a lab running overnight: random points, with the reason on record.
    core::Rng rng = core::make_rng(mix_seed(spec.seed, n));
    const Eigen::MatrixXd points = spec.space.sample(static_cast<std::size_t>(q), rng);
    store.log(std::string("model failed, proposing random points: ") + e.what());
    return store.add_proposals(points, std::string("random (model failed: ") + e.what() + ")");
  }
  nlohmann::json snapshot;
  snapshot["method"] = s.method;
  snapshot["acquisition"] = bayesopt::acquisition_name(opts.acquisition);
  snapshot["kernel"] = bayesopt::kernel_name(opts.gp.kernel);
  snapshot["batch_method"] = bayesopt::batch_method_name(opts.batch_method);
  snapshot["spread"] = bayesopt::spread_name(opts.spread);
  snapshot["y_transform"] = bayesopt::y_transform_name(opts.y_transform);
  snapshot["input_warp"] = bayesopt::input_warp_name(opts.input_warp);
  snapshot["prior"] = bayesopt::prior_name(opts.gp.prior);
  snapshot["lengthscale_min"] = opts.gp.lengthscale_min;
  snapshot["n_observations"] = obs.X.rows();
  snapshot["n_pending"] = obs.pending.rows();
  snapshot["seed"] = opts.seed;
  nlohmann::json models = nlohmann::json::array();
  for (std::size_t k = 0; k < s.models.size(); ++k) {
    const auto& h = s.models[k];
    nlohmann::json m;
    m["objective"] = k < spec.space.objectives.size() ? spec.space.objectives[k].name : std::to_string(k);
    m["signal_variance"] = h.signal_variance;
    m["lengthscales"] = std::vector<double>(h.lengthscales.data(), h.lengthscales.data() + h.lengthscales.size());
    m["noise_variance"] = h.noise_variance;
    if (h.warp_a.size() > 0) {  // learned input warp: a, b per parameter column
      m["warp_a"] = std::vector<double>(h.warp_a.data(), h.warp_a.data() + h.warp_a.size());
      m["warp_b"] = std::vector<double>(h.warp_b.data(), h.warp_b.data() + h.warp_b.size());
    }
    const double lml = k < s.log_marginal_likelihood.size() ? s.log_marginal_likelihood[k]
                                                            : std::numeric_limits<double>::quiet_NaN();
    m["log_marginal_likelihood"] = std::isfinite(lml) ? nlohmann::json(lml) : nlohmann::json(nullptr);
    models.push_back(std::move(m));
  }
  snapshot["models"] = std::move(models);
  return store.add_proposals(s.points, s.method, &s, snapshot);
}

RunSummary run(Store& store, Adapter& adapter, const RunOptions& options) {
  const auto& spec = store.spec();
  const auto objectives = spec.space.objective_names();
  const std::string name = adapter.name();
  const bool manual = name == "manual";
  RunSummary summary;
  const Counts start = store.counts();

  // Resume: an experiment left running by a crash is polled again when this adapter can (it started it and kept a
  // job reference, or the researcher will record it), otherwise queued again to be started afresh.
  for (const auto& e : store.experiments(State::Running)) {
    if (adapter.can_poll() && e.adapter == name && (manual || !e.ref.empty())) {
      ++summary.repolled;
      store.log("experiment " + std::to_string(e.id) + " still running after a restart: polling it again", e.id);
    } else {
      store.requeue(e.id, "the orchestrator stopped while it ran and the " + name + " adapter cannot re-poll it");
      ++summary.requeued;
    }
  }
  say("campaign '" + spec.name + "': " + std::to_string(start.done + start.failed) + "/" +
      std::to_string(spec.stop.budget) + " proposals final (" + std::to_string(start.done) + " done, " +
      std::to_string(start.failed) + " failed)" +
      (summary.requeued || summary.repolled
           ? "; resuming: " + std::to_string(summary.requeued) + " re-queued, " + std::to_string(summary.repolled) +
                 " re-polled"
           : ""));

  // Best so far for the progress lines (single objective).
  auto best_text = [&]() -> std::string {
    if (objectives.size() != 1) return "";
    const auto obs = store.observations();
    const bool minimize = spec.space.objectives[0].direction == bayesopt::Direction::Minimize;
    double best = std::numeric_limits<double>::quiet_NaN();
    for (Eigen::Index i = 0; i < obs.Y.rows(); ++i) {
      const double v = obs.Y(i, 0);
      if (std::isnan(v)) continue;
      if (std::isnan(best) || (minimize ? v < best : v > best)) best = v;
    }
    return std::isnan(best) ? "" : " (best " + sig(best) + ")";
  };

  // Applies an instrument outcome to a running experiment; returns true when it reached a final state.
  auto apply = [&](const Experiment& e, const Outcome& o) -> bool {
    const std::string id = std::to_string(e.id);
    try {
      switch (o.kind) {
        case Outcome::Kind::Done:
          try {
            store.record_result(e.id, o.values, o.raw);
          } catch (const InvalidArgument& err) {
            const auto now = store.experiment(e.id);
            if (now && (now->state == State::Done || now->state == State::Failed)) throw;  // settled elsewhere
            const auto next = store.record_failure(e.id, std::string("invalid result: ") + err.what(), true);
            say("  experiment " + id + " failed: invalid result: " + err.what() +
                (next ? "; retry as experiment " + std::to_string(next) : ""));
            return true;
          }
          {
            std::string vals;
            for (const auto& [k, v] : o.values) vals += (vals.empty() ? "" : ", ") + k + " = " + sig(v);
            say("  experiment " + id + " done: " + vals + best_text());
          }
          return true;
        case Outcome::Kind::Failed: {
          const auto next = store.record_failure(e.id, o.error, true);
          say("  experiment " + id + " failed: " + o.error +
              (next ? "; retry as experiment " + std::to_string(next) : "; proposal given up"));
          return true;
        }
        case Outcome::Kind::Infeasible:
          store.record_failure(e.id, "infeasible: " + o.error, false);
          say("  experiment " + id + " infeasible: " + o.error);
          return true;
        case Outcome::Kind::Running:
          if (o.ref.empty() && !manual) {
            const auto next = store.record_failure(e.id, name + " adapter answered 'running' without a job id", true);
            say("  experiment " + id + " failed: no job id to poll" +
                (next ? "; retry as experiment " + std::to_string(next) : ""));
            return true;
          }
          if (o.ref != e.ref) store.set_ref(e.id, o.ref);
          return false;
      }
    } catch (const InvalidArgument& err) {
      // The experiment was settled by someone else meanwhile (e.g. `campaign record`): theirs stands.
      store.log("result of experiment " + id + " from the " + name + " adapter not recorded: " + err.what(), e.id);
      say("  experiment " + id + ": " + err.what());
      return true;
    }
    return false;
  };

  // Polls this adapter's running experiments; true when any reached a final state.
  auto poll_running = [&](const std::vector<Experiment>& running) {
    bool progressed = false;
    if (manual || !adapter.can_poll()) return false;  // manual results arrive through the database
    for (const auto& e : running) {
      if (e.adapter != name) continue;
      if (e.started > 0 && unix_now() - e.started > spec.retry.timeout_s) {
        try {
          const auto next = store.record_failure(
              e.id, "no result after " + sig(spec.retry.timeout_s) + " s (retry.timeout)", true);
          say("  experiment " + std::to_string(e.id) + " timed out" +
              (next ? "; retry as experiment " + std::to_string(next) : ""));
        } catch (const InvalidArgument&) {
        }
        progressed = true;
        continue;
      }
      if (apply(e, adapter.poll(e.ref, objectives))) progressed = true;
    }
    return progressed;
  };

  auto sleep_s = [](double s) { std::this_thread::sleep_for(std::chrono::duration<double>(s)); };
  Clock::time_point last_pause_line{};
  bool was_paused = false;
  for (;;) {
    const std::string control = store.control();
    if (control == "stopped") {
      summary.stop_reason = "stopped";
      break;
    }
    const Counts c = store.counts();
    summary.done = c.done - start.done;
    summary.failed = c.attempts_failed - start.attempts_failed;
    if (options.max_experiments >= 0 && summary.done + summary.failed >= options.max_experiments) {
      summary.stop_reason = "max-experiments reached";
      break;
    }
    const auto running = store.experiments(State::Running);
    // Results of experiments already on the instrument are collected even while paused.
    if (poll_running(running)) continue;

    if (control == "paused") {
      const auto now = Clock::now();
      if (!was_paused || now - last_pause_line > std::chrono::seconds(30)) {
        say("campaign paused (" + std::to_string(c.done + c.failed) + "/" + std::to_string(spec.stop.budget) +
            " final, " + std::to_string(c.running) + " running, " + std::to_string(c.queued) +
            " queued); waiting for resume");
        last_pause_line = now;
      }
      was_paused = true;
      sleep_s(0.5);
      continue;
    }
    if (was_paused) say("campaign resumed");
    was_paused = false;

    std::string why;
    if (stop_rule_met(store, &why)) {
      summary.stop_reason = why;
      break;
    }

    const auto queued = store.experiments(State::Proposed);
    if (!queued.empty()) {
      const Experiment& e = queued.front();
      // Committed before the instrument hears of it: after a crash the row says what may be on the instrument.
      store.mark_running(e.id, name);
      ++summary.started;
      say("[" + std::to_string(c.done + c.failed + 1) + "/" + std::to_string(spec.stop.budget) + "] experiment " +
          std::to_string(e.id) + (e.attempt > 1 ? " (attempt " + std::to_string(e.attempt) + ")" : "") + ": " +
          point_text(spec.space, e.point));
      ExperimentRequest request;
      request.campaign = spec.name;
      request.experiment = e.id;
      request.attempt = e.attempt;
      request.parameters = parameters_json(spec.space, e.point);
      request.objectives = objectives;
      Outcome o;
      try {
        o = adapter.start(request);
      } catch (const std::exception& err) {  // adapters should not throw; a faulty one must not stop the campaign
        o.kind = Outcome::Kind::Failed;
        o.error = std::string("adapter error: ") + err.what();
      }
      Experiment current = e;
      current.state = State::Running;
      apply(current, o);
      continue;
    }

    if (!running.empty()) {
      if (manual && !options.wait_for_manual) {
        summary.stop_reason = "waiting for manual results";
        break;
      }
      sleep_s(manual ? 0.5 : spec.retry.poll_interval_s);
      continue;
    }

    if (propose(store).empty()) {
      summary.stop_reason = "budget reached";
      break;
    }
  }
  const Counts end = store.counts();
  summary.done = end.done - start.done;
  summary.failed = end.attempts_failed - start.attempts_failed;
  say("campaign '" + spec.name + "': " + summary.stop_reason + "; " + std::to_string(end.done + end.failed) + "/" +
      std::to_string(spec.stop.budget) + " final (" + std::to_string(end.done) + " done, " +
      std::to_string(end.failed) + " failed)" + best_text());
  return summary;
}

}  // namespace tsunagu::campaign
