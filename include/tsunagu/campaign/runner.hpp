#pragma once
/// The closed loop: propose -> commit -> run on the instrument -> commit the result -> repeat until the stopping rule
/// holds. Resume is the same call on an existing database: experiments left running by a crash are re-polled (HTTP,
/// manual) or re-queued (command), queued proposals are started, and no proposal is made twice because proposals
/// are committed before they are sent.
#include <cstdint>
#include <functional>
#include <string>

#include "tsunagu/campaign/adapter.hpp"
#include "tsunagu/campaign/store.hpp"

namespace tsunagu::campaign {

struct RunOptions {
  int max_experiments = -1;  ///< stop after this many experiments reached a final state in this call (-1 = no limit)
  bool wait_for_manual = false;  ///< manual adapter: keep polling the database for recorded results instead of
                                 ///< returning once the batch is handed out
};

struct RunSummary {
  int started = 0;     ///< attempts started in this call
  int done = 0;        ///< results recorded in this call
  int failed = 0;      ///< failed attempts in this call
  int requeued = 0;    ///< running experiments found after a crash and re-queued
  int repolled = 0;    ///< running experiments found after a crash and polled again
  std::string stop_reason;  ///< "budget reached", "target reached", "no improvement for N results", "stopped",
                            ///< "paused", "max-experiments reached", "waiting for manual results"
};

/// The stopping rule of the spec on the current database; reason set when met.
bool stop_rule_met(const Store& store, std::string* reason = nullptr);

/// Next batch of points for the campaign: random feasible points (seeded by the campaign seed and the proposal
/// count, so a resumed campaign proposes what the uninterrupted one would) until `initial` proposals exist, then the
/// optimiser with pending points. Commits the proposals and returns their experiment ids.
std::vector<std::int64_t> propose(Store& store);

/// Run the loop (progress/status lines on stderr unless core::progress is disabled). Honours the control state
/// (paused/stopped, set by the dashboard or campaign serve) between experiments.
RunSummary run(Store& store, Adapter& adapter, const RunOptions& options = {});

}  // namespace tsunagu::campaign
