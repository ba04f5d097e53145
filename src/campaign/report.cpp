// Human views of a campaign (status JSON/text, best-so-far trace, SVG plots, CSV export). Everything is computed
// from the Store's public API so that the CLI, the dashboard and Python show the same numbers.
#include "tsunagu/campaign/report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <set>
#include <sstream>

#include "tsunagu/bayesopt/optimizer.hpp"
#include "tsunagu/core/error.hpp"
#include "tsunagu/core/plot.hpp"
#include "tsunagu/core/table.hpp"

namespace tsunagu::campaign {
namespace {

using bayesopt::Direction;
using bayesopt::ParamKind;

/// Done experiments in order of completion (finish time, then id for results recorded in the same instant).
std::vector<Experiment> done_in_completion_order(const Store& store) {
  auto done = store.experiments(State::Done);
  std::stable_sort(done.begin(), done.end(), [](const Experiment& a, const Experiment& b) {
    if (a.finished != b.finished) return a.finished < b.finished;
    return a.id < b.id;
  });
  return done;
}

/// +1 for a maximised objective, -1 for a minimised one: multiplying by it turns every objective into "larger is
/// better", the convention of bayesopt::pareto_front / hypervolume.
double sense(const bayesopt::Objective& o) { return o.direction == Direction::Maximize ? 1.0 : -1.0; }

double value_of(const Experiment& e, const std::string& objective) {
  const auto it = e.values.find(objective);
  return it == e.values.end() ? std::numeric_limits<double>::quiet_NaN() : it->second;
}

/// (n_done, k) objective values in maximisation form, rows in completion order.
Eigen::MatrixXd maximisation_values(const Store& store, const std::vector<Experiment>& done) {
  const auto& objectives = store.spec().space.objectives;
  Eigen::MatrixXd Y(static_cast<Eigen::Index>(done.size()), static_cast<Eigen::Index>(objectives.size()));
  for (std::size_t i = 0; i < done.size(); ++i)
    for (std::size_t j = 0; j < objectives.size(); ++j)
      Y(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) =
          sense(objectives[j]) * value_of(done[i], objectives[j].name);
  return Y;
}

/// Hypervolume reference point (maximisation form): the spec's optimizer.reference_point when given, else the worst
/// value of every objective over all results minus 10 % of its observed range (10 % of |worst|, at least 0.1, when
/// all results agree), so that every result dominates some volume and the trace is fixed for the whole campaign.
Eigen::VectorXd reference_point(const Store& store, const Eigen::MatrixXd& Y) {
  const auto& spec = store.spec();
  const auto& objectives = spec.space.objectives;
  const auto k = static_cast<Eigen::Index>(objectives.size());
  Eigen::VectorXd ref(k);
  const auto& given = spec.optimizer.reference_point;
  if (!given.empty()) {
    if (static_cast<Eigen::Index>(given.size()) != k)
      throw InvalidArgument("optimizer.reference_point has " + std::to_string(given.size()) + " entries for " +
                            std::to_string(k) + " objectives");
    for (Eigen::Index j = 0; j < k; ++j) ref(j) = sense(objectives[static_cast<std::size_t>(j)]) * given[static_cast<std::size_t>(j)];
    return ref;
  }
  for (Eigen::Index j = 0; j < k; ++j) {
    const double lo = Y.col(j).minCoeff(), hi = Y.col(j).maxCoeff();
    const double range = hi > lo ? hi - lo : std::max(std::fabs(lo), 1.0);
    ref(j) = lo - 0.1 * range;
  }
  return ref;
}

/// The best single-objective result: value in its direction, earliest completion on ties. nullptr when none.
const Experiment* best_single(const Store& store, const std::vector<Experiment>& done) {
  const auto& o = store.spec().space.objectives.front();
  const Experiment* best = nullptr;
  for (const auto& e : done) {
    const double v = sense(o) * value_of(e, o.name);
    if (!std::isfinite(v)) continue;
    if (best == nullptr || v > sense(o) * value_of(*best, o.name)) best = &e;
  }
  return best;
}

/// A parameter's value as JSON: the label for categories and text-valued fixed parameters, else the number.
nlohmann::json parameter_json(const bayesopt::Parameter& p, double x) {
  if (p.kind == ParamKind::Categorical && std::isfinite(x) && x >= 0 && x < static_cast<double>(p.choices.size()))
    return p.choices[static_cast<std::size_t>(x)];
  if (p.kind == ParamKind::Fixed && !p.label.empty()) return p.label;
  if (p.kind == ParamKind::Integer && std::isfinite(x)) return std::llround(x);
  if (!std::isfinite(x)) return nullptr;
  return x;
}

nlohmann::json point_json(const bayesopt::Space& space, const Eigen::VectorXd& point) {
  nlohmann::json out = nlohmann::json::object();
  for (std::size_t j = 0; j < space.parameters.size(); ++j) {
    const double x = static_cast<Eigen::Index>(j) < point.size() ? point(static_cast<Eigen::Index>(j))
                                                                 : std::numeric_limits<double>::quiet_NaN();
    out[space.parameters[j].name] = parameter_json(space.parameters[j], x);
  }
  return out;
}

nlohmann::json number_or_null(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }
/// Store times are 0 until the event happened; JSON says so with null.
nlohmann::json time_json(double t) { return t > 0 ? nlohmann::json(t) : nlohmann::json(nullptr); }

std::string kind_name(ParamKind k) {
  switch (k) {
    case ParamKind::Continuous: return "continuous";
    case ParamKind::Integer: return "integer";
    case ParamKind::Categorical: return "categorical";
    case ParamKind::Fixed: return "fixed";
  }
  return "continuous";
}

/// 6 significant digits for people (CSV export keeps the exact shortest form).
std::string short_number(double v) {
  if (!std::isfinite(v)) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

/// One line of text: control characters (newlines of a multi-line error) become spaces; cut to `width` characters.
std::string one_line(const std::string& s, std::size_t width) {
  std::string out;
  for (char c : s) out.push_back(static_cast<unsigned char>(c) < 0x20 ? ' ' : c);
  if (out.size() > width) {
    out.resize(width - 3);
    // do not leave half a UTF-8 sequence behind
    while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0x80) out.pop_back();
    if (!out.empty() && static_cast<unsigned char>(out.back()) >= 0xC0) out.pop_back();
    out += "...";
  }
  return out;
}

/// Display width of UTF-8 text (code points), for column alignment.
std::size_t display_width(const std::string& s) {
  std::size_t n = 0;
  for (char c : s)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  return n;
}

std::string axis_label(const std::string& name, const std::string& unit) {
  return unit.empty() ? name : name + " [" + unit + "]";
}

/// A valid SVG with only a message, for plots that have no data yet (core::plot refuses empty plots).
std::string message_svg(const std::string& title, const std::string& message, int width = 720, int height = 480) {
  using core::plot::xml_escape;
  std::ostringstream s;
  s << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << height << "\" viewBox=\"0 0 "
    << width << ' ' << height << "\" font-family=\"sans-serif\">\n"
    << "<rect width=\"" << width << "\" height=\"" << height << "\" fill=\"white\"/>\n"
    << "<text x=\"" << width / 2 << "\" y=\"28\" text-anchor=\"middle\" font-size=\"16\">" << xml_escape(title)
    << "</text>\n"
    << "<text x=\"" << width / 2 << "\" y=\"" << height / 2 << "\" text-anchor=\"middle\" font-size=\"14\" fill=\"#666\">"
    << xml_escape(message) << "</text>\n</svg>\n";
  return s.str();
}

const char* kBestColor = "#1f77b4";
const char* kObservedColor = "#9ecae1";
const char* kFailedColor = "#d62728";

}  // namespace

std::vector<double> best_so_far(const Store& store) {
  const auto& objectives = store.spec().space.objectives;
  const auto done = done_in_completion_order(store);
  std::vector<double> trace;
  if (done.empty() || objectives.empty()) return trace;
  const Eigen::MatrixXd Y = maximisation_values(store, done);
  trace.reserve(done.size());
  if (objectives.size() == 1) {
    const double s = sense(objectives.front());
    double best = -std::numeric_limits<double>::infinity();
    for (Eigen::Index i = 0; i < Y.rows(); ++i) {
      best = std::max(best, Y(i, 0));
      trace.push_back(s * best);  // back to natural units
    }
    return trace;
  }
  const Eigen::VectorXd ref = reference_point(store, Y);
  for (Eigen::Index i = 0; i < Y.rows(); ++i) trace.push_back(bayesopt::hypervolume(Y.topRows(i + 1), ref));
  return trace;
}

nlohmann::json status_json(const Store& store) {
  const auto& spec = store.spec();
  const auto& space = spec.space;
  const auto counts = store.counts();
  const auto experiments = store.experiments();
  const auto done = done_in_completion_order(store);

  nlohmann::json doc;
  doc["name"] = spec.name;
  doc["control"] = store.control();
  doc["counts"] = {{"proposals", counts.proposals}, {"done", counts.done},
                   {"failed", counts.failed},       {"running", counts.running},
                   {"queued", counts.queued},       {"attempts_failed", counts.attempts_failed},
                   {"budget", spec.stop.budget}};

  nlohmann::json objectives = nlohmann::json::array();
  for (const auto& o : space.objectives)
    objectives.push_back({{"name", o.name},
                          {"direction", o.direction == Direction::Maximize ? "maximize" : "minimize"},
                          {"unit", o.unit},
                          {"log", o.log_scale}});
  doc["objectives"] = objectives;

  // The page needs the parameter list to lay out its charts (kind, bounds, log scale, category labels).
  nlohmann::json parameters = nlohmann::json::array();
  for (const auto& p : space.parameters) {
    nlohmann::json pj = {{"name", p.name}, {"kind", kind_name(p.kind)}, {"unit", p.unit}};
    if (p.kind == ParamKind::Continuous || p.kind == ParamKind::Integer) {
      pj["lower"] = p.lower;
      pj["upper"] = p.upper;
      pj["log"] = p.log_scale;
    }
    if (p.kind == ParamKind::Categorical) pj["choices"] = p.choices;
    parameters.push_back(pj);
  }
  doc["parameters"] = parameters;

  auto result_json = [&](const Experiment& e) {
    nlohmann::json values = nlohmann::json::object();
    for (const auto& o : space.objectives) values[o.name] = number_or_null(value_of(e, o.name));
    return nlohmann::json{{"experiment", e.id}, {"values", values}, {"parameters", point_json(space, e.point)}};
  };
  doc["best"] = nullptr;
  doc["pareto"] = nlohmann::json::array();
  if (!done.empty() && space.objectives.size() == 1) {
    if (const auto* b = best_single(store, done)) doc["best"] = result_json(*b);
  } else if (!done.empty()) {
    // Several objectives have no single best: the non-dominated results are listed instead.
    for (auto i : bayesopt::pareto_front(maximisation_values(store, done))) doc["pareto"].push_back(result_json(done[i]));
  }

  nlohmann::json trace = nlohmann::json::array();
  for (double v : best_so_far(store)) trace.push_back(number_or_null(v));
  doc["best_so_far"] = trace;
  doc["best_so_far_label"] = space.objectives.size() == 1
                                 ? axis_label(space.objectives.front().name, space.objectives.front().unit)
                                 : std::string("hypervolume");
  // Which experiment each trace entry belongs to (the page plots observed values next to the running best).
  nlohmann::json order = nlohmann::json::array();
  for (const auto& e : done) order.push_back(e.id);
  doc["completion_order"] = order;

  nlohmann::json rows = nlohmann::json::array();
  for (const auto& e : experiments) {
    nlohmann::json values = nlohmann::json::object();
    if (e.state == State::Done)
      for (const auto& o : space.objectives) values[o.name] = number_or_null(value_of(e, o.name));
    rows.push_back({{"id", e.id},
                    {"proposal", e.proposal_id},
                    {"attempt", e.attempt},
                    {"state", state_name(e.state)},
                    {"parameters", point_json(space, e.point)},
                    {"values", values},
                    {"error", e.error},
                    {"started", time_json(e.started)},
                    {"finished", time_json(e.finished)}});
  }
  doc["experiments"] = rows;

  nlohmann::json events = nlohmann::json::array();
  for (const auto& ev : store.events())
    events.push_back({{"time", ev.time},
                      {"experiment", ev.experiment == 0 ? nlohmann::json(nullptr) : nlohmann::json(ev.experiment)},
                      {"message", ev.message}});
  doc["events"] = events;
  return doc;
}

std::string status_text(const Store& store) {
  const auto& spec = store.spec();
  const auto& space = spec.space;
  const auto experiments = store.experiments();

  std::vector<std::string> header = {"id", "attempt", "state"};
  for (const auto& p : space.parameters) header.push_back(p.name);
  for (const auto& o : space.objectives) header.push_back(o.name);
  header.push_back("error");

  std::vector<std::vector<std::string>> rows;
  for (const auto& e : experiments) {
    std::vector<std::string> row = {std::to_string(e.id), std::to_string(e.attempt), state_name(e.state)};
    if (static_cast<std::size_t>(e.point.size()) == space.parameters.size()) {
      const auto cells = space.format_point(e.point);
      for (std::size_t j = 0; j < cells.size(); ++j)  // continuous values to 6 digits; the CSV export has them exact
        row.push_back(space.parameters[j].kind == ParamKind::Continuous
                          ? short_number(e.point(static_cast<Eigen::Index>(j)))
                          : one_line(cells[j], 24));
    } else {
      row.insert(row.end(), space.parameters.size(), "?");
    }
    for (const auto& o : space.objectives)
      row.push_back(e.state == State::Done ? short_number(value_of(e, o.name)) : "");
    row.push_back(one_line(e.error, 60));
    rows.push_back(std::move(row));
  }

  std::vector<std::size_t> width(header.size());
  for (std::size_t j = 0; j < header.size(); ++j) {
    width[j] = display_width(header[j]);
    for (const auto& r : rows) width[j] = std::max(width[j], display_width(r[j]));
  }
  std::ostringstream out;
  auto emit = [&](const std::vector<std::string>& r) {
    std::string line;
    for (std::size_t j = 0; j < r.size(); ++j) {
      if (j) line += "  ";
      line += r[j];
      if (j + 1 < r.size()) line.append(width[j] - display_width(r[j]), ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out << line << '\n';
  };

  const auto c = store.counts();
  out << "campaign: " << one_line(spec.name, 200) << "  (control: " << store.control() << ")\n";
  if (!rows.empty()) {
    emit(header);
    for (const auto& r : rows) emit(r);
  } else {
    out << "no experiments yet\n";
  }

  // Summary: progress toward the budget and the best result so far.
  out << (c.done + c.failed) << '/' << spec.stop.budget << " final (" << c.done << " done, " << c.failed
      << " failed), " << c.running << " running, " << c.queued << " queued, " << c.attempts_failed
      << " failed attempts";
  const auto done = done_in_completion_order(store);
  if (space.objectives.size() == 1) {
    if (const auto* b = best_single(store, done)) {
      const auto& o = space.objectives.front();
      out << "; best " << o.name << " = " << short_number(value_of(*b, o.name)) << (o.unit.empty() ? "" : " ")
          << o.unit << " (experiment " << b->id << ")";
    }
  } else if (!done.empty()) {
    const auto trace = best_so_far(store);
    out << "; hypervolume " << short_number(trace.back()) << ", "
        << bayesopt::pareto_front(maximisation_values(store, done)).size() << " Pareto-optimal";
  }
  out << '\n';
  return out.str();
}

std::string best_so_far_svg(const Store& store) {
  const auto& spec = store.spec();
  const auto& objectives = spec.space.objectives;
  const std::string title = "Best so far: " + spec.name;
  const auto trace = best_so_far(store);
  if (trace.empty()) return message_svg(title, "no results yet");

  core::plot::LinePlot plot;
  plot.title = title;
  plot.xlabel = "result number";
  plot.integer_x = true;
  std::vector<double> x(trace.size());
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<double>(i + 1);
  if (objectives.size() == 1) {
    plot.ylabel = axis_label(objectives.front().name, objectives.front().unit);
    // The individual results under the running best show how much the campaign is still exploring.
    const auto done = done_in_completion_order(store);
    core::plot::Series observed{"observed", x, {}, {}, kObservedColor, false, true};
    for (const auto& e : done) observed.y.push_back(value_of(e, objectives.front().name));
    plot.series.push_back(std::move(observed));
  } else {
    plot.ylabel = "dominated hypervolume";
  }
  // A staircase: the best value holds until the result that improves it.
  core::plot::Series steps{"best so far", {}, {}, {}, kBestColor, true, false};
  for (std::size_t i = 0; i < trace.size(); ++i) {
    if (i > 0) {
      steps.x.push_back(x[i]);
      steps.y.push_back(trace[i - 1]);
    }
    steps.x.push_back(x[i]);
    steps.y.push_back(trace[i]);
  }
  plot.series.push_back(std::move(steps));
  return core::plot::render_svg(plot);
}

std::string parameter_svg(const Store& store, const std::string& parameter) {
  const auto& spec = store.spec();
  const auto& space = spec.space;
  const std::size_t j = space.parameter_index(parameter);  // InvalidArgument listing the names
  const auto& p = space.parameters[j];
  const auto done = done_in_completion_order(store);
  const auto failed = store.experiments(State::Failed);

  std::vector<double> x_done, x_failed;
  for (const auto& e : done) x_done.push_back(e.point(static_cast<Eigen::Index>(j)));
  for (const auto& e : failed) x_failed.push_back(e.point(static_cast<Eigen::Index>(j)));
  if (x_done.empty() && x_failed.empty()) return message_svg(parameter + " vs objective", "no results yet");

  std::string xlabel = axis_label(p.name, p.unit);
  if (p.kind == ParamKind::Categorical) {
    xlabel += " (";
    for (std::size_t c = 0; c < p.choices.size(); ++c) xlabel += (c ? ", " : "") + std::to_string(c) + " = " + p.choices[c];
    xlabel += ")";
  }
  bool log_x = p.log_scale;
  for (double v : x_done) log_x = log_x && v > 0;
  for (double v : x_failed) log_x = log_x && v > 0;

  std::vector<core::plot::LinePlot> panels;
  for (const auto& o : space.objectives) {
    core::plot::LinePlot plot;
    plot.title = panels.empty() ? o.name + " vs " + p.name + ": " + spec.name : o.name + " vs " + p.name;
    plot.xlabel = xlabel;
    plot.ylabel = axis_label(o.name, o.unit);
    plot.log_x = log_x;
    plot.integer_x = p.kind == ParamKind::Integer || p.kind == ParamKind::Categorical;
    if (space.objectives.size() > 1) plot.height = 360;
    std::vector<double> y;
    for (const auto& e : done) y.push_back(value_of(e, o.name));
    if (!x_done.empty()) plot.series.push_back({"done", x_done, y, {}, kBestColor, false, true});
    if (!x_failed.empty()) {
      // Failed experiments have no value: mark their parameter value just below the lowest result.
      double floor = 0;
      if (!y.empty()) {
        const auto [lo, hi] = std::minmax_element(y.begin(), y.end());
        const double span = *hi > *lo ? *hi - *lo : std::max(std::fabs(*lo), 1.0);
        floor = *lo - 0.05 * span;
      }
      plot.series.push_back(
          {"failed", x_failed, std::vector<double>(x_failed.size(), floor), {}, kFailedColor, false, true});
    }
    panels.push_back(std::move(plot));
  }
  return panels.size() == 1 ? core::plot::render_svg(panels.front()) : core::plot::render_svg_stacked(panels);
}

void export_csv(const Store& store, const std::filesystem::path& path) {
  const auto& space = store.spec().space;
  const std::vector<std::string> meta_head = {"id", "proposal", "attempt", "state"};
  const std::vector<std::string> meta_tail = {"error", "started", "finished"};
  std::vector<std::string> columns = meta_head;
  for (const auto& p : space.parameters) columns.push_back(p.name);
  for (const auto& o : space.objectives) columns.push_back(o.name);
  columns.insert(columns.end(), meta_tail.begin(), meta_tail.end());
  // A parameter or objective named like a bookkeeping column would make the header ambiguous.
  std::set<std::string> seen;
  for (const auto& c : columns)
    if (!seen.insert(c).second)
      throw InvalidArgument("export_csv: a parameter or objective is named '" + c +
                            "', which is also a bookkeeping column (id, proposal, attempt, state, error, started, "
                            "finished)");

  std::vector<std::vector<std::string>> rows;
  for (const auto& e : store.experiments()) {
    std::vector<std::string> row = {std::to_string(e.id), std::to_string(e.proposal_id), std::to_string(e.attempt),
                                    state_name(e.state)};
    const auto cells = space.format_point(e.point);
    row.insert(row.end(), cells.begin(), cells.end());
    for (const auto& o : space.objectives)
      row.push_back(e.state == State::Done ? core::format_double(value_of(e, o.name)) : "");
    row.push_back(e.error);
    row.push_back(e.started > 0 ? core::format_double(e.started) : "");
    row.push_back(e.finished > 0 ? core::format_double(e.finished) : "");
    rows.push_back(std::move(row));
  }
  core::write_csv(path, columns, rows);  // atomic (temp file + rename)
}

}  // namespace tsunagu::campaign
