#include "tsunagu/campaign/store.hpp"

#include <chrono>
#include <cmath>
#include <limits>
#include <set>
#include <unordered_map>
#include <utility>

#include <sqlite3.h>

#include "tsunagu/core/error.hpp"

namespace tsunagu::campaign {
namespace {

constexpr int kApplicationId = 0x54534E47;  // 'TSNG'
constexpr int kSchemaVersion = 1;
constexpr int kBusyTimeoutMs = 10000;       // a dashboard or `campaign record` may hold the write lock briefly

// Every transition goes through these statements. The CHECK constraints and the two unique partial indexes make an
// illegal state impossible even for a program that writes the file directly: a proposal has at most one done
// experiment and at most one attempt in flight (proposed or running).
const char* kSchema = R"sql(
CREATE TABLE campaign(
  id INTEGER PRIMARY KEY CHECK (id = 1),
  name TEXT NOT NULL,
  spec_toml TEXT NOT NULL,
  created REAL NOT NULL,
  control TEXT NOT NULL DEFAULT 'running' CHECK (control IN ('running', 'paused', 'stopped')));
CREATE TABLE model_snapshots(
  id INTEGER PRIMARY KEY,
  created REAL NOT NULL,
  n_observations INTEGER NOT NULL,
  json TEXT NOT NULL);
CREATE TABLE proposals(
  id INTEGER PRIMARY KEY,
  created REAL NOT NULL,
  point_json TEXT NOT NULL,
  method TEXT NOT NULL,
  acquisition REAL,
  mean_json TEXT,
  sd_json TEXT,
  snapshot_id INTEGER REFERENCES model_snapshots(id));
CREATE TABLE experiments(
  id INTEGER PRIMARY KEY,
  proposal_id INTEGER NOT NULL REFERENCES proposals(id),
  attempt INTEGER NOT NULL CHECK (attempt >= 1),
  state TEXT NOT NULL CHECK (state IN ('proposed', 'running', 'done', 'failed')),
  adapter TEXT NOT NULL DEFAULT '',
  ref TEXT NOT NULL DEFAULT '',
  created REAL NOT NULL,
  started REAL NOT NULL DEFAULT 0,
  finished REAL NOT NULL DEFAULT 0,
  error TEXT NOT NULL DEFAULT '',
  raw TEXT NOT NULL DEFAULT '',
  UNIQUE (proposal_id, attempt));
CREATE UNIQUE INDEX experiments_one_done ON experiments(proposal_id) WHERE state = 'done';
CREATE UNIQUE INDEX experiments_one_active ON experiments(proposal_id) WHERE state IN ('proposed', 'running');
CREATE INDEX experiments_state ON experiments(state);
CREATE TABLE observations(
  experiment_id INTEGER NOT NULL REFERENCES experiments(id),
  objective TEXT NOT NULL,
  value REAL NOT NULL,
  PRIMARY KEY (experiment_id, objective));
CREATE TABLE events(
  id INTEGER PRIMARY KEY,
  time REAL NOT NULL,
  experiment_id INTEGER NOT NULL DEFAULT 0,
  message TEXT NOT NULL);
)sql";

// Tables (and a few columns each) that must exist in a campaign database; checked on open so that a file whose
// header was stamped but whose schema is not ours is refused up front rather than failing mid-campaign.
const std::vector<std::pair<std::string, std::vector<std::string>>> kRequired = {
    {"campaign", {"id", "name", "spec_toml", "created", "control"}},
    {"proposals", {"id", "created", "point_json", "method", "acquisition", "mean_json", "sd_json", "snapshot_id"}},
    {"experiments",
     {"id", "proposal_id", "attempt", "state", "adapter", "ref", "created", "started", "finished", "error", "raw"}},
    {"observations", {"experiment_id", "objective", "value"}},
    {"model_snapshots", {"id", "created", "n_observations", "json"}},
    {"events", {"id", "time", "experiment_id", "message"}},
};

double now_s() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

State parse_state(const std::string& s) {
  if (s == "proposed") return State::Proposed;
  if (s == "running") return State::Running;
  if (s == "done") return State::Done;
  if (s == "failed") return State::Failed;
  throw NumericalError("campaign database: unknown experiment state '" + s + "'");
}

struct DbCloser {
  void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
struct StmtFinalizer {
  void operator()(sqlite3_stmt* s) const noexcept { sqlite3_finalize(s); }
};
using DbPtr = std::unique_ptr<sqlite3, DbCloser>;
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

}  // namespace

std::string state_name(State s) {
  switch (s) {
    case State::Proposed: return "proposed";
    case State::Running: return "running";
    case State::Done: return "done";
    case State::Failed: return "failed";
  }
  return "?";
}

struct Store::Impl {
  std::filesystem::path path;
  CampaignSpec spec;
  DbPtr db;
  // Prepared statements, one per SQL text, kept for the life of the connection.
  mutable std::unordered_map<const char*, StmtPtr> cache;
  mutable int last_code = SQLITE_OK;  // primary result code of the last failure (tells corrupt from busy)
  mutable std::string last_message;

  [[noreturn]] void fail(const std::string& what) const {
    const int code = sqlite3_extended_errcode(db.get());
    last_code = code & 0xff;
    last_message = sqlite3_errmsg(db.get());
    std::string msg = path.string() + ": " + what + ": " + last_message;
    if ((code & 0xff) == SQLITE_BUSY) msg += " (another process holds the database lock)";
    throw IoError(msg);
  }

  void exec(const char* sql) const {
    char* err = nullptr;
    if (const int rc = sqlite3_exec(db.get(), sql, nullptr, nullptr, &err); rc != SQLITE_OK) {
      last_code = rc & 0xff;
      std::string m = err ? err : "unknown error";
      last_message = m;
      sqlite3_free(err);
      throw IoError(path.string() + ": SQLite: " + m);
    }
  }

  // A prepared statement reset on scope exit; bind/step/column with checked results.
  class Query {
   public:
    Query(const Impl& impl, const char* sql) : impl_(impl) {
      auto& slot = impl.cache[sql];
      if (!slot) {
        sqlite3_stmt* s = nullptr;
        if (sqlite3_prepare_v3(impl.db.get(), sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr) != SQLITE_OK)
          impl.fail("preparing a query");
        slot.reset(s);
      }
      s_ = slot.get();
    }
    ~Query() {
      sqlite3_reset(s_);
      sqlite3_clear_bindings(s_);
    }
    Query(const Query&) = delete;
    Query& operator=(const Query&) = delete;

    Query& bind(int i, std::int64_t v) { return check(sqlite3_bind_int64(s_, i, v)); }
    Query& bind(int i, int v) { return check(sqlite3_bind_int64(s_, i, v)); }
    Query& bind(int i, double v) {
      return std::isfinite(v) ? check(sqlite3_bind_double(s_, i, v)) : check(sqlite3_bind_null(s_, i));
    }
    Query& bind(int i, const std::string& v) {
      return check(sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
    }
    Query& bind(int i, const char* v) { return bind(i, std::string(v)); }
    Query& bind_null(int i) { return check(sqlite3_bind_null(s_, i)); }

    /// true = a row is available.
    bool step() {
      const int rc = sqlite3_step(s_);
      if (rc == SQLITE_ROW) return true;
      if (rc == SQLITE_DONE) return false;
      impl_.fail("query failed");
    }
    void run() {
      while (step()) {
      }
    }
    std::int64_t i64(int c) const { return sqlite3_column_int64(s_, c); }
    double real(int c) const {
      return sqlite3_column_type(s_, c) == SQLITE_NULL ? std::numeric_limits<double>::quiet_NaN()
                                                       : sqlite3_column_double(s_, c);
    }
    bool is_null(int c) const { return sqlite3_column_type(s_, c) == SQLITE_NULL; }
    std::string text(int c) const {
      const auto* p = sqlite3_column_text(s_, c);
      return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(s_, c)))
               : std::string();
    }

   private:
    Query& check(int rc) {
      if (rc != SQLITE_OK) impl_.fail("binding a query parameter");
      return *this;
    }
    const Impl& impl_;
    sqlite3_stmt* s_ = nullptr;
  };

  // BEGIN IMMEDIATE takes the write lock up front (waiting up to the busy timeout), so the checks made inside the
  // transaction still hold at COMMIT. Rolled back on scope exit unless committed.
  class Transaction {
   public:
    explicit Transaction(const Impl& impl) : impl_(impl) { impl_.exec("BEGIN IMMEDIATE"); }
    void commit() {
      impl_.exec("COMMIT");
      done_ = true;
    }
    ~Transaction() {
      if (!done_) sqlite3_exec(impl_.db.get(), "ROLLBACK", nullptr, nullptr, nullptr);
    }
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;

   private:
    const Impl& impl_;
    bool done_ = false;
  };

  void configure() const {
    sqlite3_busy_timeout(db.get(), kBusyTimeoutMs);
    sqlite3_extended_result_codes(db.get(), 1);
    exec("PRAGMA foreign_keys = ON");
    exec("PRAGMA synchronous = FULL");  // a committed transition survives a power failure, not only a crash
  }

  void insert_event(double t, std::int64_t experiment, const std::string& message) const {
    Query q(*this, "INSERT INTO events(time, experiment_id, message) VALUES (?1, ?2, ?3)");
    q.bind(1, t).bind(2, experiment).bind(3, message).run();
  }

  struct Row {
    std::int64_t proposal = 0;
    int attempt = 0;
    State state = State::Proposed;
    std::string error;
  };
  std::optional<Row> row(std::int64_t experiment) const {
    Query q(*this, "SELECT proposal_id, attempt, state, error FROM experiments WHERE id = ?1");
    q.bind(1, experiment);
    if (!q.step()) return std::nullopt;
    return Row{q.i64(0), static_cast<int>(q.i64(1)), parse_state(q.text(2)), q.text(3)};
  }
  Row require(std::int64_t experiment) const {
    auto r = row(experiment);
    if (!r) throw InvalidArgument("no experiment " + std::to_string(experiment) + " in " + path.string());
    return *r;
  }

  std::vector<Experiment> select_experiments(const char* where_sql, const std::optional<State>& state) const;
  // One row of kSelectOne/kSelectAll/kSelectState (columns 0..11) as an Experiment without its values.
  Experiment read_experiment(const Query& q) const;
};

namespace {

std::string point_to_json(const Eigen::VectorXd& x) {
  nlohmann::json a = nlohmann::json::array();
  for (Eigen::Index i = 0; i < x.size(); ++i) a.push_back(x(i));
  return a.dump();
}

Eigen::VectorXd point_from_json(const std::string& text, std::size_t n, const std::filesystem::path& path) {
  nlohmann::json a;
  try {
    a = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception&) {
    a = nullptr;
  }
  if (!a.is_array() || a.size() != n)
    throw ParseError(path.string(), 0, "proposals.point_json",
                     "malformed point '" + text.substr(0, 80) + "' (expected " + std::to_string(n) + " numbers)");
  Eigen::VectorXd x(static_cast<Eigen::Index>(n));
  for (std::size_t i = 0; i < n; ++i) {
    if (!a[i].is_number())
      throw ParseError(path.string(), 0, "proposals.point_json", "malformed point '" + text.substr(0, 80) + "'");
    x(static_cast<Eigen::Index>(i)) = a[i].get<double>();
  }
  return x;
}

nlohmann::json row_json(const Eigen::MatrixXd& m, Eigen::Index row) {
  nlohmann::json a = nlohmann::json::array();
  for (Eigen::Index j = 0; j < m.cols(); ++j) {
    const double v = m(row, j);
    a.push_back(std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr));
  }
  return a;
}

}  // namespace

Experiment Store::Impl::read_experiment(const Query& q) const {
  Experiment e;
  e.id = q.i64(0);
  e.proposal_id = q.i64(1);
  e.attempt = static_cast<int>(q.i64(2));
  e.state = parse_state(q.text(3));
  e.adapter = q.text(4);
  e.ref = q.text(5);
  e.created = q.real(6);
  e.started = q.real(7);
  e.finished = q.real(8);
  e.error = q.text(9);
  e.raw = q.text(10);
  e.point = point_from_json(q.text(11), spec.space.n_parameters(), path);
  return e;
}

std::vector<Experiment> Store::Impl::select_experiments(const char* sql, const std::optional<State>& state) const {
  std::vector<Experiment> out;
  std::unordered_map<std::int64_t, std::size_t> index;
  {
    Query q(*this, sql);
    if (state) q.bind(1, state_name(*state));
    while (q.step()) {
      Experiment e = read_experiment(q);
      index[e.id] = out.size();
      out.push_back(std::move(e));
    }
  }
  if (!out.empty()) {
    Query q(*this, "SELECT experiment_id, objective, value FROM observations ORDER BY experiment_id");
    while (q.step()) {
      auto it = index.find(q.i64(0));
      if (it != index.end()) out[it->second].values[q.text(1)] = q.real(2);
    }
  }
  return out;
}

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Store::Store(Store&&) noexcept = default;
Store& Store::operator=(Store&&) noexcept = default;
Store::~Store() {
  if (impl_) impl_->cache.clear();  // statements are finalized before the connection closes
}

const std::filesystem::path& Store::path() const noexcept { return impl_->path; }
const CampaignSpec& Store::spec() const noexcept { return impl_->spec; }

Store Store::create(const std::filesystem::path& path, const CampaignSpec& spec) {
  spec.validate();
  std::error_code ec;
  if (std::filesystem::exists(path, ec))
    throw IoError(path.string() + ": already exists; a campaign database is created once (use `campaign run` to "
                  "continue it, or choose another file)");
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->spec = spec;
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_EXCLUSIVE,
                                 nullptr);
  impl->db.reset(raw);
  if (rc != SQLITE_OK) {
    const std::string m = raw ? sqlite3_errmsg(raw) : "out of memory";
    throw IoError(path.string() + ": cannot create the campaign database: " + m);
  }
  try {
    impl->configure();
    impl->exec("PRAGMA journal_mode = WAL");  // persistent: readers (dashboard) never block the runner
    // Header stamps and schema in one transaction: a crash during creation leaves an empty file, refused on open.
    Impl::Transaction tx(*impl);
    impl->exec(("PRAGMA application_id = " + std::to_string(kApplicationId)).c_str());
    impl->exec(("PRAGMA user_version = " + std::to_string(kSchemaVersion)).c_str());
    impl->exec(kSchema);
    const double t = now_s();
    {
      Impl::Query q(*impl, "INSERT INTO campaign(id, name, spec_toml, created, control) VALUES (1, ?1, ?2, ?3, 'running')");
      q.bind(1, spec.name).bind(2, spec.toml).bind(3, t).run();
    }
    impl->insert_event(t, 0, "campaign '" + spec.name + "' created");
    tx.commit();
  } catch (...) {
    impl->cache.clear();
    impl->db.reset();
    std::filesystem::remove(path, ec);
    std::filesystem::remove(path.string() + "-wal", ec);
    std::filesystem::remove(path.string() + "-shm", ec);
    throw;
  }
  return Store(std::move(impl));
}

Store Store::open(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw IoError(path.string() + ": no such campaign database");
  if (std::filesystem::is_directory(path, ec)) throw IoError(path.string() + ": is a directory, not a database");
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE, nullptr);
  impl->db.reset(raw);
  if (rc != SQLITE_OK) {
    const std::string m = raw ? sqlite3_errmsg(raw) : "out of memory";
    throw IoError(path.string() + ": cannot open: " + m);
  }
  const std::string file = path.string();
  // Statements in flight are reset before `impl` (and its connection) is destroyed during unwinding.
  auto refuse = [&](const std::string& what) -> void { throw ParseError(file, 0, "", what); };
  // The first read of the header tells a SQLite file from anything else.
  int app_id = 0, version = 0;
  try {
    sqlite3_busy_timeout(impl->db.get(), kBusyTimeoutMs);
    {
      Impl::Query q(*impl, "PRAGMA application_id");
      if (q.step()) app_id = static_cast<int>(q.i64(0));
    }
    {
      Impl::Query q(*impl, "PRAGMA user_version");
      if (q.step()) version = static_cast<int>(q.i64(0));
    }
  } catch (const IoError&) {
    if (impl->last_code == SQLITE_NOTADB || impl->last_code == SQLITE_CORRUPT)
      refuse("not a tsunagu campaign database: the file is not a SQLite database or is corrupt (" +
             impl->last_message + ")");
    throw;
  }
  if (app_id != kApplicationId) {
    int n_tables = 0;
    try {
      Impl::Query q(*impl, "SELECT count(*) FROM sqlite_schema");
      if (q.step()) n_tables = static_cast<int>(q.i64(0));
    } catch (const IoError&) {
    }
    refuse(n_tables == 0 ? "not a tsunagu campaign database: an empty SQLite file (create one with `campaign init`)"
                         : "not a tsunagu campaign database: a SQLite database of another program (application_id " +
                               std::to_string(app_id) + ", expected " + std::to_string(kApplicationId) + " 'TSNG')");
  }
  if (version > kSchemaVersion)
    refuse("campaign database schema version " + std::to_string(version) + " is newer than this tsunagu supports (" +
           std::to_string(kSchemaVersion) + "); upgrade tsunagu");
  if (version < 1) refuse("campaign database has no schema version: creation was interrupted; create it again");
  try {
    impl->configure();
    // Page-level check: a truncated or overwritten file is refused here rather than failing mid-campaign.
    std::string check;
    {
      Impl::Query q(*impl, "PRAGMA quick_check");
      while (q.step()) check += (check.empty() ? "" : "; ") + q.text(0);
    }
    if (check != "ok") refuse("corrupt campaign database (SQLite quick_check: " + check.substr(0, 200) + ")");
    for (const auto& [table, columns] : kRequired) {
      std::set<std::string> have;
      {
        Impl::Query q(*impl, "SELECT name FROM pragma_table_info(?1)");
        q.bind(1, table);
        while (q.step()) have.insert(q.text(0));
      }
      for (const auto& c : columns)
        if (!have.count(c))
          refuse("not a valid campaign database: " +
                 (have.empty() ? "table '" + table + "' is missing" : "column '" + table + "." + c + "' is missing"));
    }
    std::string toml;
    {
      Impl::Query q(*impl, "SELECT spec_toml FROM campaign WHERE id = 1");
      if (!q.step()) refuse("not a valid campaign database: the campaign row is missing");
      toml = q.text(0);
    }
    impl->spec = parse_campaign_spec(toml, file + " (stored spec)");
  } catch (const IoError&) {
    if (impl->last_code == SQLITE_NOTADB || impl->last_code == SQLITE_CORRUPT)
      refuse("corrupt campaign database (" + impl->last_message + ")");
    throw;
  }
  return Store(std::move(impl));
}

std::string Store::control() const {
  Impl::Query q(*impl_, "SELECT control FROM campaign WHERE id = 1");
  if (!q.step()) throw IoError(impl_->path.string() + ": the campaign row is missing");
  return q.text(0);
}

void Store::set_control(const std::string& control) {
  if (control != "running" && control != "paused" && control != "stopped")
    throw InvalidArgument("control: expected running, paused or stopped, got '" + control + "'");
  Impl::Transaction tx(*impl_);
  {
    Impl::Query q(*impl_, "UPDATE campaign SET control = ?1 WHERE id = 1");
    q.bind(1, control).run();
  }
  impl_->insert_event(now_s(), 0, "control: " + control);
  tx.commit();
}

std::vector<std::int64_t> Store::add_proposals(const Eigen::MatrixXd& points, const std::string& method,
                                               const bayesopt::Suggestion* suggestion,
                                               const nlohmann::json& snapshot) {
  const auto& space = impl_->spec.space;
  if (static_cast<std::size_t>(points.cols()) != space.n_parameters())
    throw InvalidArgument("add_proposals: points have " + std::to_string(points.cols()) + " columns, the space has " +
                          std::to_string(space.n_parameters()) + " parameters");
  if (!points.allFinite()) throw InvalidArgument("add_proposals: points contain NaN or infinite values");
  if (suggestion) {
    const auto q = points.rows();
    if ((suggestion->acquisition.size() != 0 && suggestion->acquisition.size() != q) ||
        (suggestion->mean.size() != 0 && suggestion->mean.rows() != q) ||
        (suggestion->sd.size() != 0 && suggestion->sd.rows() != q))
      throw InvalidArgument("add_proposals: the suggestion's acquisition/mean/sd rows do not match the " +
                            std::to_string(q) + " points");
  }
  const double t = now_s();
  std::vector<std::int64_t> ids;
  Impl::Transaction tx(*impl_);
  std::int64_t snapshot_id = 0;
  if (!snapshot.is_null()) {
    int n_obs = 0;
    {
      // Final proposals = the observations the model was fitted on.
      Impl::Query q(*impl_,
                    "SELECT count(*) FROM proposals p WHERE NOT EXISTS (SELECT 1 FROM experiments e "
                    "WHERE e.proposal_id = p.id AND e.state IN ('proposed', 'running'))");
      if (q.step()) n_obs = static_cast<int>(q.i64(0));
    }
    Impl::Query q(*impl_, "INSERT INTO model_snapshots(created, n_observations, json) VALUES (?1, ?2, ?3)");
    q.bind(1, t).bind(2, n_obs).bind(3, snapshot.dump()).run();
    snapshot_id = sqlite3_last_insert_rowid(impl_->db.get());
  }
  for (Eigen::Index i = 0; i < points.rows(); ++i) {
    std::int64_t proposal = 0;
    {
      Impl::Query q(*impl_,
                    "INSERT INTO proposals(created, point_json, method, acquisition, mean_json, sd_json, snapshot_id) "
                    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
      q.bind(1, t).bind(2, point_to_json(points.row(i).transpose())).bind(3, method);
      if (suggestion && suggestion->acquisition.size() == points.rows()) q.bind(4, suggestion->acquisition(i));
      else q.bind_null(4);
      if (suggestion && suggestion->mean.rows() == points.rows()) q.bind(5, row_json(suggestion->mean, i).dump());
      else q.bind_null(5);
      if (suggestion && suggestion->sd.rows() == points.rows()) q.bind(6, row_json(suggestion->sd, i).dump());
      else q.bind_null(6);
      if (snapshot_id) q.bind(7, snapshot_id);
      else q.bind_null(7);
      q.run();
      proposal = sqlite3_last_insert_rowid(impl_->db.get());
    }
    Impl::Query q(*impl_, "INSERT INTO experiments(proposal_id, attempt, state, created) VALUES (?1, 1, 'proposed', ?2)");
    q.bind(1, proposal).bind(2, t).run();
    ids.push_back(sqlite3_last_insert_rowid(impl_->db.get()));
  }
  impl_->insert_event(t, ids.empty() ? 0 : ids.front(),
                      std::to_string(points.rows()) + " proposal" + (points.rows() == 1 ? "" : "s") + " (" + method +
                          ")");
  tx.commit();
  return ids;
}

void Store::mark_running(std::int64_t experiment, const std::string& adapter) {
  Impl::Transaction tx(*impl_);
  const auto r = impl_->require(experiment);
  if (r.state != State::Proposed)
    throw InvalidArgument("experiment " + std::to_string(experiment) + " is " + state_name(r.state) +
                          ", not proposed: it cannot be started");
  const double t = now_s();
  {
    Impl::Query q(*impl_, "UPDATE experiments SET state = 'running', adapter = ?2, started = ?3, ref = '' WHERE id = ?1");
    q.bind(1, experiment).bind(2, adapter).bind(3, t).run();
  }
  impl_->insert_event(t, experiment, "experiment " + std::to_string(experiment) + " (attempt " +
                                         std::to_string(r.attempt) + ") started on " + adapter);
  tx.commit();
}

void Store::set_ref(std::int64_t experiment, const std::string& ref) {
  Impl::Transaction tx(*impl_);
  const auto r = impl_->require(experiment);
  if (r.state != State::Running)
    throw InvalidArgument("experiment " + std::to_string(experiment) + " is " + state_name(r.state) +
                          ", not running: no job reference can be set");
  Impl::Query q(*impl_, "UPDATE experiments SET ref = ?2 WHERE id = ?1");
  q.bind(1, experiment).bind(2, ref).run();
  tx.commit();
}

void Store::record_result(std::int64_t experiment, const std::map<std::string, double>& values,
                          const std::string& raw) {
  const auto& objectives = impl_->spec.space.objectives;
  for (const auto& [name, v] : values) {
    bool known = false;
    for (const auto& o : objectives) known = known || o.name == name;
    if (!known) {
      std::string list;
      for (const auto& o : objectives) list += (list.empty() ? "" : ", ") + o.name;
      throw InvalidArgument("experiment " + std::to_string(experiment) + ": unknown objective '" + name +
                            "' (objectives: " + list + ")");
    }
    if (!std::isfinite(v))
      throw InvalidArgument("experiment " + std::to_string(experiment) + ": objective '" + name +
                            "' must be finite");
  }
  for (const auto& o : objectives)
    if (!values.count(o.name))
      throw InvalidArgument("experiment " + std::to_string(experiment) + ": missing a value for objective '" +
                            o.name + "'");

  Impl::Transaction tx(*impl_);
  const auto r = impl_->require(experiment);
  if (r.state == State::Done)
    throw InvalidArgument("experiment " + std::to_string(experiment) + " already has a result");
  if (r.state == State::Failed)
    throw InvalidArgument("experiment " + std::to_string(experiment) + " has already failed (" + r.error +
                          "); a result can only be recorded for a proposed or running experiment");
  {
    Impl::Query q(*impl_, "SELECT id FROM experiments WHERE proposal_id = ?1 AND state = 'done'");
    q.bind(1, r.proposal);
    if (q.step())
      throw InvalidArgument("experiment " + std::to_string(experiment) + ": its proposal " +
                            std::to_string(r.proposal) + " already has a result (experiment " +
                            std::to_string(q.i64(0)) + ")");
  }
  const double t = now_s();
  {
    Impl::Query q(*impl_, "UPDATE experiments SET state = 'done', finished = ?2, raw = ?3, error = '' WHERE id = ?1");
    q.bind(1, experiment).bind(2, t).bind(3, raw).run();
  }
  std::string msg = "experiment " + std::to_string(experiment) + " done:";
  for (const auto& o : objectives) {
    const double v = values.at(o.name);
    Impl::Query q(*impl_, "INSERT INTO observations(experiment_id, objective, value) VALUES (?1, ?2, ?3)");
    q.bind(1, experiment).bind(2, o.name).bind(3, v).run();
    char buf[64];
    std::snprintf(buf, sizeof buf, " %s = %.6g", o.name.c_str(), v);
    msg += buf;
  }
  impl_->insert_event(t, experiment, msg);
  tx.commit();
}

std::int64_t Store::record_failure(std::int64_t experiment, const std::string& error, bool retry) {
  Impl::Transaction tx(*impl_);
  const auto r = impl_->require(experiment);
  if (r.state == State::Done)
    throw InvalidArgument("experiment " + std::to_string(experiment) + " already has a result");
  if (r.state == State::Failed)
    throw InvalidArgument("experiment " + std::to_string(experiment) + " has already failed");
  const double t = now_s();
  const std::string why = error.empty() ? "failed (no reason given)" : error;
  {
    Impl::Query q(*impl_, "UPDATE experiments SET state = 'failed', finished = ?2, error = ?3 WHERE id = ?1");
    q.bind(1, experiment).bind(2, t).bind(3, why).run();
  }
  std::int64_t next = 0;
  const int max_attempts = impl_->spec.retry.max_attempts;
  if (retry && r.attempt < max_attempts) {
    Impl::Query q(*impl_,
                  "INSERT INTO experiments(proposal_id, attempt, state, created) VALUES (?1, ?2, 'proposed', ?3)");
    q.bind(1, r.proposal).bind(2, r.attempt + 1).bind(3, t).run();
    next = sqlite3_last_insert_rowid(impl_->db.get());
  }
  impl_->insert_event(t, experiment,
                      "experiment " + std::to_string(experiment) + " (attempt " + std::to_string(r.attempt) + "/" +
                          std::to_string(max_attempts) + ") failed: " + why +
                          (next ? "; retry as experiment " + std::to_string(next)
                                : "; proposal " + std::to_string(r.proposal) + " given up"));
  tx.commit();
  return next;
}

void Store::requeue(std::int64_t experiment, const std::string& why) {
  Impl::Transaction tx(*impl_);
  const auto r = impl_->require(experiment);
  if (r.state != State::Running)
    throw InvalidArgument("experiment " + std::to_string(experiment) + " is " + state_name(r.state) +
                          ", not running: it cannot be re-queued");
  {
    Impl::Query q(*impl_, "UPDATE experiments SET state = 'proposed', started = 0, ref = '' WHERE id = ?1");
    q.bind(1, experiment).run();
  }
  impl_->insert_event(now_s(), experiment, "experiment " + std::to_string(experiment) + " re-queued: " + why);
  tx.commit();
}

namespace {
constexpr const char* kSelectAll =
    "SELECT e.id, e.proposal_id, e.attempt, e.state, e.adapter, e.ref, e.created, e.started, e.finished, e.error, "
    "e.raw, p.point_json FROM experiments e JOIN proposals p ON p.id = e.proposal_id ORDER BY e.id";
constexpr const char* kSelectState =
    "SELECT e.id, e.proposal_id, e.attempt, e.state, e.adapter, e.ref, e.created, e.started, e.finished, e.error, "
    "e.raw, p.point_json FROM experiments e JOIN proposals p ON p.id = e.proposal_id WHERE e.state = ?1 ORDER BY e.id";
constexpr const char* kSelectOne =
    "SELECT e.id, e.proposal_id, e.attempt, e.state, e.adapter, e.ref, e.created, e.started, e.finished, e.error, "
    "e.raw, p.point_json FROM experiments e JOIN proposals p ON p.id = e.proposal_id WHERE e.id = ?1";
}  // namespace

std::optional<Experiment> Store::experiment(std::int64_t id) const {
  std::optional<Experiment> e;
  {
    Impl::Query q(*impl_, kSelectOne);
    q.bind(1, id);
    if (!q.step()) return std::nullopt;
    e = impl_->read_experiment(q);
  }
  Impl::Query q(*impl_, "SELECT objective, value FROM observations WHERE experiment_id = ?1");
  q.bind(1, id);
  while (q.step()) e->values[q.text(0)] = q.real(1);
  return e;
}

std::vector<Experiment> Store::experiments() const { return impl_->select_experiments(kSelectAll, std::nullopt); }

std::vector<Experiment> Store::experiments(State state) const {
  return impl_->select_experiments(kSelectState, state);
}

Counts Store::counts() const {
  Counts c;
  // One read transaction so that the numbers are mutually consistent while another process writes.
  impl_->exec("BEGIN");
  try {
    {
      Impl::Query q(*impl_, "SELECT count(*) FROM proposals");
      if (q.step()) c.proposals = static_cast<int>(q.i64(0));
    }
    {
      Impl::Query q(*impl_, "SELECT state, count(*) FROM experiments GROUP BY state");
      while (q.step()) {
        const auto s = parse_state(q.text(0));
        const int n = static_cast<int>(q.i64(1));
        if (s == State::Done) c.done = n;  // one done experiment per proposal (unique index)
        else if (s == State::Running) c.running = n;
        else if (s == State::Proposed) c.queued = n;
        else c.attempts_failed = n;
      }
    }
    {
      Impl::Query q(*impl_,
                    "SELECT count(*) FROM proposals p WHERE NOT EXISTS (SELECT 1 FROM experiments e WHERE "
                    "e.proposal_id = p.id AND e.state <> 'failed') AND EXISTS (SELECT 1 FROM experiments e WHERE e.proposal_id = p.id)");
      if (q.step()) c.failed = static_cast<int>(q.i64(0));
    }
  } catch (...) {
    sqlite3_exec(impl_->db.get(), "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
  impl_->exec("COMMIT");
  return c;
}

bayesopt::Observations Store::observations() const {
  const auto& space = impl_->spec.space;
  const auto np = static_cast<Eigen::Index>(space.n_parameters());
  const auto objectives = space.objective_names();
  const auto no = static_cast<Eigen::Index>(objectives.size());
  struct P {
    Eigen::VectorXd x;
    bool pending = false, done = false;
    std::int64_t done_experiment = 0;
  };
  std::vector<P> props;
  std::unordered_map<std::int64_t, std::size_t> index;
  std::map<std::int64_t, std::map<std::string, double>> values;
  impl_->exec("BEGIN");
  try {
    {
      // Per proposal: in flight (proposed/running attempt) and its done experiment, if any.
      Impl::Query q(*impl_,
                    "SELECT p.id, p.point_json, "
                    "EXISTS (SELECT 1 FROM experiments e WHERE e.proposal_id = p.id AND e.state IN ('proposed', "
                    "'running')), "
                    "(SELECT e.id FROM experiments e WHERE e.proposal_id = p.id AND e.state = 'done') "
                    "FROM proposals p ORDER BY p.id");
      while (q.step()) {
        P p;
        p.x = point_from_json(q.text(1), space.n_parameters(), impl_->path);
        p.pending = q.i64(2) != 0;
        p.done = !q.is_null(3);
        p.done_experiment = p.done ? q.i64(3) : 0;
        index[q.i64(0)] = props.size();
        props.push_back(std::move(p));
      }
    }
    {
      Impl::Query q(*impl_,
                    "SELECT o.experiment_id, o.objective, o.value FROM observations o JOIN experiments e ON "
                    "e.id = o.experiment_id WHERE e.state = 'done'");
      while (q.step()) values[q.i64(0)][q.text(1)] = q.real(2);
    }
  } catch (...) {
    sqlite3_exec(impl_->db.get(), "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
  impl_->exec("COMMIT");

  Eigen::Index n_final = 0, n_pending = 0;
  for (const auto& p : props) {
    // A done proposal is final even in the (impossible by construction) case of a stray queued attempt.
    if (p.done || !p.pending) ++n_final;
    else ++n_pending;
  }
  bayesopt::Observations obs;
  obs.X.resize(n_final, np);
  obs.Y.resize(n_final, no);
  obs.pending.resize(n_pending, np);
  Eigen::Index i = 0, k = 0;
  for (const auto& p : props) {
    if (p.done || !p.pending) {
      obs.X.row(i) = p.x.transpose();
      for (Eigen::Index j = 0; j < no; ++j) {
        double v = std::numeric_limits<double>::quiet_NaN();
        if (p.done) {
          const auto& m = values[p.done_experiment];
          auto it = m.find(objectives[static_cast<std::size_t>(j)]);
          if (it == m.end())
            throw ParseError(impl_->path.string(), 0, "observations",
                             "experiment " + std::to_string(p.done_experiment) + " is done but has no value for '" +
                                 objectives[static_cast<std::size_t>(j)] + "'");
          v = it->second;
        }
        obs.Y(i, j) = v;
      }
      ++i;
    } else {
      obs.pending.row(k++) = p.x.transpose();
    }
  }
  return obs;
}

void Store::log(const std::string& message, std::int64_t experiment) {
  impl_->insert_event(now_s(), experiment, message);  // a single statement is its own transaction
}

std::vector<Store::Event> Store::events(int last) const {
  std::vector<Event> out;
  Impl::Query q(*impl_,
                "SELECT time, experiment_id, message FROM (SELECT id, time, experiment_id, message FROM events ORDER "
                "BY id DESC LIMIT ?1) ORDER BY id");
  q.bind(1, last < 0 ? std::int64_t{-1} : std::int64_t{last});
  while (q.step()) out.push_back(Event{q.real(0), q.i64(1), q.text(2)});
  return out;
}

nlohmann::json Store::latest_snapshot() const {
  Impl::Query q(*impl_, "SELECT json FROM model_snapshots ORDER BY id DESC LIMIT 1");
  if (!q.step()) return nullptr;
  try {
    return nlohmann::json::parse(q.text(0));
  } catch (const nlohmann::json::exception&) {
    throw ParseError(impl_->path.string(), 0, "model_snapshots.json", "malformed model snapshot JSON");
  }
}

}  // namespace tsunagu::campaign
