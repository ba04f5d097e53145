#pragma once
/// Campaign specification (TOML): the search space and objectives (bayesopt::parse_space_toml format) plus
///
///     [campaign]
///     name = "Nb:TiO2 resistivity"   # required
///     batch = 2                      # experiments proposed together (>= 1)
///     initial = 6                    # random experiments before the model takes over (>= 1)
///     seed = 1
///
///     [optimizer]                    # all optional
///     acquisition = "logei"          # ei | logei | pi | ucb | ts | nei
///     kernel = "matern52"            # rbf | matern32 | matern52
///     batch_method = "kb"            # kb (kriging believer) | lp (local penalisation) | ts (Thompson)
///     kappa = 2.0                    # UCB
///     xi = 0.0                       # EI/PI margin
///
///     [stop]
///     budget = 40                    # proposals brought to a final state (done, or failed after all attempts)
///     target = 2.0e-4                # optional: stop once the best value reaches it (single objective)
///     patience = 15                  # optional: stop after this many results without improvement (0 = off)
///
///     [retry]
///     max_attempts = 3               # attempts per proposal before it counts as failed (>= 1)
///     timeout = 600                  # seconds per attempt (command/HTTP adapters)
///     poll_interval = 1.0            # seconds between HTTP polls
///
/// Unknown tables or keys are rejected with a ParseError naming the file and key.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "tsunagu/bayesopt/optimizer.hpp"
#include "tsunagu/bayesopt/space.hpp"

namespace tsunagu::campaign {

struct StopRule {
  int budget = 50;                ///< >= 1
  std::optional<double> target;   ///< natural units of the (single) objective
  int patience = 0;               ///< >= 0
};

struct RetryPolicy {
  int max_attempts = 3;           ///< >= 1
  double timeout_s = 600;         ///< > 0, seconds
  double poll_interval_s = 1.0;   ///< > 0, seconds
};

struct CampaignSpec {
  std::string name;
  bayesopt::Space space;
  int batch = 1;
  int initial = 5;
  std::uint64_t seed = 0;
  bayesopt::OptimizerOptions optimizer;
  StopRule stop;
  RetryPolicy retry;
  std::string toml;  ///< the original text, stored verbatim in the database
  void validate() const;  ///< InvalidArgument naming the field
};

CampaignSpec parse_campaign_spec(std::string_view toml, const std::string& source = "<string>");
CampaignSpec read_campaign_spec(const std::filesystem::path& path);

}  // namespace tsunagu::campaign
