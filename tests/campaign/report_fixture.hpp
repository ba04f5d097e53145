#pragma once
// Hand-made campaign databases shared by report_test and dashboard_test. The spec is filled field by field (the
// values the tests reason about) and carries an equivalent TOML text only because Store::open re-reads the spec
// from the database.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <Eigen/Core>

#include "tsunagu/campaign/spec.hpp"
#include "tsunagu/campaign/store.hpp"

namespace tsunagu::test {

/// A name full of markup and quotes: every view must show it as text.
inline const std::string kXssName = "Nb:TiO2 <img src=x onerror=\"window.__xss=1\"> & 'co'";
inline const std::string kXssError = "film peeled, \"badly\" <script>window.__xss=2</script>";

/// TOML basic string with quotes and backslashes escaped.
inline std::string toml_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "\"";
}

/// Parameters power (continuous 10..100 W) and target (categorical Ti/Nb); objectives as given (name, maximize).
inline campaign::CampaignSpec make_spec(const std::string& name,
                                        const std::vector<std::pair<std::string, bool>>& objectives, int budget = 10,
                                        const std::vector<double>& reference_point = {}) {
  using namespace tsunagu::bayesopt;
  campaign::CampaignSpec spec;
  spec.name = name;
  Parameter power;
  power.name = "power";
  power.kind = ParamKind::Continuous;
  power.lower = 10;
  power.upper = 100;
  power.unit = "W";
  Parameter target;
  target.name = "target";
  target.kind = ParamKind::Categorical;
  target.choices = {"Ti", "Nb"};
  spec.space.parameters = {power, target};
  for (const auto& [oname, maximize] : objectives)
    spec.space.objectives.push_back({oname, maximize ? Direction::Maximize : Direction::Minimize,
                                     oname == "resistivity" ? "ohm cm" : ""});
  spec.stop.budget = budget;
  spec.retry.max_attempts = 2;
  spec.optimizer.reference_point = reference_point;

  std::string toml = "[campaign]\nname = " + toml_string(name) + "\n\n";
  toml += "[[parameter]]\nname = \"power\"\ntype = \"continuous\"\nlow = 10.0\nhigh = 100.0\nunit = \"W\"\n\n";
  toml += "[[parameter]]\nname = \"target\"\ntype = \"categorical\"\nchoices = [\"Ti\", \"Nb\"]\n\n";
  for (const auto& o : spec.space.objectives)
    toml += "[[objective]]\nname = " + toml_string(o.name) + "\ndirection = \"" +
            (o.direction == Direction::Maximize ? "maximize" : "minimize") + "\"\n" +
            (o.unit.empty() ? "" : "unit = " + toml_string(o.unit) + "\n") + "\n";
  if (!reference_point.empty()) {
    toml += "[optimizer]\nreference_point = [";
    for (std::size_t i = 0; i < reference_point.size(); ++i) toml += (i ? ", " : "") + std::to_string(reference_point[i]);
    toml += "]\n\n";
  }
  toml += "[stop]\nbudget = " + std::to_string(budget) + "\n\n[retry]\nmax_attempts = 2\n";
  spec.toml = toml;
  return spec;
}

/// Results are ordered by finish time; a pause makes consecutive records distinct even on a coarse clock.
inline void tick() { std::this_thread::sleep_for(std::chrono::milliseconds(2)); }

/// Single-objective campaign "resistivity" (minimise, or maximise when `maximize`), five proposals
///   e1 (20 W, Ti)  e2 (40 W, Nb)  e3 (60 W, Ti)  e4 (80 W, Nb)  e5 (90 W, Ti)
/// recorded in the order e2 = 2, e1 = 3, e3 failed (kXssError; retried as e6, left proposed), e4 = 1, e5 = 4.
/// Completion order of results: e2, e1, e4, e5 -> values 2, 3, 1, 4.
struct SingleCampaign {
  campaign::Store store;
  std::vector<std::int64_t> ids;  ///< e1..e5 and the retry e6
};

inline SingleCampaign make_single(const std::filesystem::path& db, bool maximize = false,
                                  const std::string& name = kXssName) {
  auto store = campaign::Store::create(db, make_spec(name, {{"resistivity", maximize}}));
  Eigen::MatrixXd points(5, 2);
  points << 20, 0, 40, 1, 60, 0, 80, 1, 90, 0;
  auto ids = store.add_proposals(points, "random");
  for (auto id : ids) store.mark_running(id, "test");
  store.record_result(ids[1], {{"resistivity", 2.0}});
  tick();
  store.record_result(ids[0], {{"resistivity", 3.0}});
  tick();
  ids.push_back(store.record_failure(ids[2], kXssError, true));
  tick();
  store.record_result(ids[3], {{"resistivity", 1.0}});
  tick();
  store.record_result(ids[4], {{"resistivity", 4.0}});
  return {std::move(store), ids};
}

/// Two objectives, resistivity (minimise) and transmittance (maximise), results in this order:
///   A (1, 5), B (3, 9), a failed experiment, C (2, 4) (dominated by A), D (0, 2).
inline SingleCampaign make_multi(const std::filesystem::path& db, const std::vector<double>& reference_point = {}) {
  auto store = campaign::Store::create(
      db, make_spec("two objectives", {{"resistivity", false}, {"transmittance", true}}, 10, reference_point));
  Eigen::MatrixXd points(5, 2);
  points << 20, 0, 40, 1, 60, 0, 80, 1, 90, 0;
  auto ids = store.add_proposals(points, "random");
  const double values[][2] = {{1, 5}, {3, 9}, {0, 0}, {2, 4}, {0, 2}};
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i == 2) {
      store.record_failure(ids[i], "robot fault", false);
    } else {
      store.record_result(ids[i], {{"resistivity", values[i][0]}, {"transmittance", values[i][1]}});
    }
    tick();
  }
  return {std::move(store), ids};
}

}  // namespace tsunagu::test
