#include "tsunagu/campaign/spec.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <toml++/toml.h>

#include "tsunagu/bayesopt/acquisition.hpp"
#include "tsunagu/bayesopt/gp.hpp"
#include "tsunagu/core/error.hpp"
#include "tsunagu/core/io.hpp"

namespace tsunagu::campaign {
namespace {

// Tables of the campaign spec besides the space tables that parse_space_toml reads.
const std::vector<std::string> kTables = {"campaign", "optimizer", "stop", "retry"};

// Reads one [table] of the spec with every error a ParseError naming the source, line and "table.key".
class TableReader {
 public:
  TableReader(const std::string& source, const toml::table& root, const std::string& name, bool required,
              std::vector<std::string> allowed)
      : source_(source), name_(name) {
    const toml::node* n = root.get(name);
    if (!n) {
      if (required) throw ParseError(source, 0, name, "missing required table [" + name + "]");
      return;
    }
    if (!n->is_table()) fail(*n, name, "'" + name + "' must be a table: write a [" + name + "] section");
    table_ = n->as_table();
    for (auto&& [k, v] : *table_) {
      const std::string key(k.str());
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        std::string list;
        for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
        fail(v, name + "." + key, "unknown key '" + key + "' in [" + name + "] (allowed: " + list + ")");
      }
    }
  }

  [[noreturn]] void fail(const toml::node& node, const std::string& key, const std::string& msg) const {
    throw ParseError(source_, static_cast<std::size_t>(node.source().begin.line), key, msg);
  }
  [[noreturn]] void fail(const std::string& key, const std::string& msg) const {
    const toml::node* n = table_ ? table_->get(key) : nullptr;
    const std::size_t line = n ? static_cast<std::size_t>(n->source().begin.line) : 0;
    throw ParseError(source_, line, name_ + "." + key, msg);
  }

  const toml::node* get(const std::string& key) const { return table_ ? table_->get(key) : nullptr; }

  std::optional<std::string> string(const std::string& key, bool required = false) const {
    const toml::node* n = get(key);
    if (!n) {
      if (required) missing(key);
      return std::nullopt;
    }
    if (!n->is_string()) fail(key, "'" + key + "' must be a string");
    return std::string(*n->value<std::string_view>());
  }

  // TOML integer in [lo, hi]; a float (even 2.0) is refused because counts are whole numbers.
  std::optional<std::int64_t> integer(const std::string& key, std::int64_t lo, std::int64_t hi) const {
    const toml::node* n = get(key);
    if (!n) return std::nullopt;
    if (!n->is_integer()) fail(key, "'" + key + "' must be an integer");
    const std::int64_t v = *n->value<std::int64_t>();
    if (v < lo || v > hi)
      fail(key, "'" + key + "' must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " +
                    std::to_string(v));
    return v;
  }

  // Finite number (integer or float) > lower (strict) or >= lower.
  std::optional<double> number(const std::string& key, double lower, bool strict) const {
    const toml::node* n = get(key);
    if (!n) return std::nullopt;
    if (!n->is_number()) fail(key, "'" + key + "' must be a number");
    const double v = *n->value<double>();
    if (!std::isfinite(v)) fail(key, "'" + key + "' must be finite");
    if (strict ? !(v > lower) : !(v >= lower))
      fail(key, "'" + key + "' must be " + (strict ? "> " : ">= ") + core_format(lower) + ", got " + core_format(v));
    return v;
  }

  std::optional<double> any_number(const std::string& key) const {
    const toml::node* n = get(key);
    if (!n) return std::nullopt;
    if (!n->is_number()) fail(key, "'" + key + "' must be a number");
    const double v = *n->value<double>();
    if (!std::isfinite(v)) fail(key, "'" + key + "' must be finite");
    return v;
  }

  [[noreturn]] void missing(const std::string& key) const {
    const std::size_t line = table_ ? static_cast<std::size_t>(table_->source().begin.line) : 0;
    throw ParseError(source_, line, name_ + "." + key, "missing required key '" + key + "' in [" + name_ + "]");
  }

 private:
  static std::string core_format(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
  }
  const std::string& source_;
  std::string name_;
  const toml::table* table_ = nullptr;
};

}  // namespace

void CampaignSpec::validate() const {
  if (name.empty()) throw InvalidArgument("campaign.name: must not be empty");
  space.validate();
  if (space.objectives.empty()) throw InvalidArgument("objective: a campaign needs at least one [[objective]]");
  if (batch < 1) throw InvalidArgument("campaign.batch: must be >= 1, got " + std::to_string(batch));
  if (initial < 1) throw InvalidArgument("campaign.initial: must be >= 1, got " + std::to_string(initial));
  if (stop.budget < 1) throw InvalidArgument("stop.budget: must be >= 1, got " + std::to_string(stop.budget));
  if (stop.patience < 0) throw InvalidArgument("stop.patience: must be >= 0, got " + std::to_string(stop.patience));
  if (stop.target) {
    if (!std::isfinite(*stop.target)) throw InvalidArgument("stop.target: must be finite");
    if (space.objectives.size() != 1)
      throw InvalidArgument("stop.target: only for a single objective (the spec has " +
                            std::to_string(space.objectives.size()) + ")");
  }
  if (retry.max_attempts < 1)
    throw InvalidArgument("retry.max_attempts: must be >= 1, got " + std::to_string(retry.max_attempts));
  if (!(retry.timeout_s > 0) || !std::isfinite(retry.timeout_s))
    throw InvalidArgument("retry.timeout: must be > 0 seconds");
  if (!(retry.poll_interval_s > 0) || !std::isfinite(retry.poll_interval_s))
    throw InvalidArgument("retry.poll_interval: must be > 0 seconds");
  optimizer.validate();
}

CampaignSpec parse_campaign_spec(std::string_view text, const std::string& source) {
  CampaignSpec spec;
  // The space tables, TOML syntax and unknown top-level tables are checked here.
  spec.space = bayesopt::parse_space_toml(text, source, kTables);
  spec.toml = std::string(text);
  const toml::table root = toml::parse(text, source);  // already known to parse

  if (spec.space.objectives.empty())
    throw ParseError(source, 0, "objective", "no [[objective]] tables: a campaign needs at least one objective");

  constexpr std::int64_t kMaxCount = 1000000;  // budgets/batches beyond this are typos, not campaigns
  {
    TableReader t(source, root, "campaign", true, {"name", "batch", "initial", "seed"});
    spec.name = *t.string("name", true);
    if (spec.name.empty()) t.fail("name", "'name' must not be empty");
    if (auto v = t.integer("batch", 1, kMaxCount)) spec.batch = static_cast<int>(*v);
    if (auto v = t.integer("initial", 1, kMaxCount)) spec.initial = static_cast<int>(*v);
    if (auto v = t.integer("seed", 0, std::numeric_limits<std::int64_t>::max()))
      spec.seed = static_cast<std::uint64_t>(*v);
  }
  {
    TableReader t(source, root, "optimizer", false, {"acquisition", "kernel", "batch_method", "spread", "y_transform",
                                                          "input_warp", "kappa", "xi", "prior", "lengthscale_min"});
    // The library parsers throw InvalidArgument listing the valid names; re-thrown with the file and key.
    auto named = [&](const std::string& key, auto parse) {
      if (auto s = t.string(key)) {
        try {
          parse(*s);
        } catch (const InvalidArgument& e) {
          t.fail(key, e.what());
        }
      }
    };
    named("acquisition", [&](const std::string& s) { spec.optimizer.acquisition = bayesopt::parse_acquisition(s); });
    named("kernel", [&](const std::string& s) { spec.optimizer.gp.kernel = bayesopt::parse_kernel(s); });
    named("spread", [&](const std::string& s) { spec.optimizer.spread = bayesopt::parse_spread(s); });
    named("y_transform", [&](const std::string& s) { spec.optimizer.y_transform = bayesopt::parse_y_transform(s); });
    named("input_warp", [&](const std::string& s) {
      const auto w = bayesopt::parse_input_warp(s);
      // Campaigns propose continuous points: the rank encodings need a pool and are refused, not ignored.
      if (bayesopt::needs_pool(w))
        throw InvalidArgument("'" + s + "' needs a candidate pool; a campaign takes none or learned");
      spec.optimizer.input_warp = w;
    });
    named("batch_method",
          [&](const std::string& s) { spec.optimizer.batch_method = bayesopt::parse_batch_method(s); });
    if (auto v = t.number("kappa", 0, false)) spec.optimizer.kappa = *v;
    if (auto v = t.number("xi", 0, false)) spec.optimizer.xi = *v;
    named("prior", [&](const std::string& s) { spec.optimizer.gp.prior = bayesopt::parse_prior(s); });
    if (auto v = t.number("lengthscale_min", 0, true)) {
      spec.optimizer.gp.lengthscale_min = *v;
      try {  // the library's own check (below lengthscale_max), re-thrown with the file and key
        spec.optimizer.gp.validate();
      } catch (const InvalidArgument& e) {
        t.fail("lengthscale_min", e.what());
      }
    }
  }
  {
    TableReader t(source, root, "stop", false, {"budget", "target", "patience"});
    if (auto v = t.integer("budget", 1, kMaxCount)) spec.stop.budget = static_cast<int>(*v);
    if (auto v = t.any_number("target")) {
      if (spec.space.objectives.size() != 1)
        t.fail("target", "'target' needs a single objective (the spec has " +
                             std::to_string(spec.space.objectives.size()) + ")");
      spec.stop.target = *v;
    }
    if (auto v = t.integer("patience", 0, kMaxCount)) spec.stop.patience = static_cast<int>(*v);
  }
  {
    TableReader t(source, root, "retry", false, {"max_attempts", "timeout", "poll_interval"});
    if (auto v = t.integer("max_attempts", 1, 1000)) spec.retry.max_attempts = static_cast<int>(*v);
    if (auto v = t.number("timeout", 0, true)) spec.retry.timeout_s = *v;
    if (auto v = t.number("poll_interval", 0, true)) spec.retry.poll_interval_s = *v;
  }
  spec.optimizer.seed = spec.seed;
  spec.optimizer.gp.seed = spec.seed;
  try {
    spec.validate();
  } catch (const InvalidArgument& e) {
    throw ParseError(source, 0, "", e.what());
  }
  return spec;
}

CampaignSpec read_campaign_spec(const std::filesystem::path& path) {
  return parse_campaign_spec(core::read_file(path), path.string());
}

}  // namespace tsunagu::campaign
