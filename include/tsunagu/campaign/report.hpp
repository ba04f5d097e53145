#pragma once
/// Human views of a campaign: status table, best-so-far trace and plots, CSV export. Used by `campaign status`,
/// `campaign export`, the dashboard and Python alike.
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tsunagu/campaign/store.hpp"

namespace tsunagu::campaign {

/// Best value after each result, in order of completion (single objective: best value in its direction; several
/// objectives: dominated hypervolume w.r.t. the automatic reference point). (n_done) entries.
std::vector<double> best_so_far(const Store& store);

/// {"name", "control", "counts": {...}, "objectives": [...], "best": {"experiment", "values", "parameters"},
///  "best_so_far": [...], "experiments": [{"id", "proposal", "attempt", "state", "parameters", "values", "error",
///  "started", "finished"}], "events": [...]} — the document the dashboard polls.
nlohmann::json status_json(const Store& store);
/// Plain-text table of the experiments plus a summary line (campaign status).
std::string status_text(const Store& store);
/// SVG of best-so-far vs result number (core::plot).
std::string best_so_far_svg(const Store& store);
/// SVG of objective vs one parameter (done experiments), failed ones marked on the axis.
std::string parameter_svg(const Store& store, const std::string& parameter);
/// One row per experiment: id, proposal, attempt, state, parameters..., objectives..., error, started, finished.
void export_csv(const Store& store, const std::filesystem::path& path);

}  // namespace tsunagu::campaign
