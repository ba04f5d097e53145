#include "tsunagu/magnetic/workflow.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "tsunagu/core/error.hpp"
#include "tsunagu/core/io.hpp"
#include "tsunagu/core/process.hpp"
#include "tsunagu/core/progress.hpp"

namespace tsunagu::magnetic {
namespace {

using json = nlohmann::json;

constexpr std::int64_t kApplicationId = 0x54534d47;  // "TSMG"
constexpr int kSchemaVersion = 1;
constexpr double kMagneticTolerance = 1e-4;  // μB

const char* kSchema = R"SQL(
CREATE TABLE IF NOT EXISTS structures (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  formula TEXT NOT NULL,
  source TEXT NOT NULL DEFAULT '',
  structure_json TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS candidates (
  id INTEGER PRIMARY KEY,
  structure_id INTEGER NOT NULL REFERENCES structures(id),
  name TEXT NOT NULL,
  irrep TEXT NOT NULL DEFAULT '',
  multipole TEXT NOT NULL DEFAULT '',
  direction TEXT NOT NULL DEFAULT '',
  uni INTEGER NOT NULL DEFAULT 0,
  bns_number TEXT NOT NULL DEFAULT '',
  bns_symbol TEXT NOT NULL DEFAULT '',
  msg_type INTEGER NOT NULL DEFAULT 0,
  ahe_allowed INTEGER NOT NULL DEFAULT 0,
  n_magnetic INTEGER NOT NULL DEFAULT 0,
  initial_moments_json TEXT NOT NULL,
  created_at TEXT NOT NULL,
  UNIQUE (structure_id, name)
);
CREATE TABLE IF NOT EXISTS results (
  candidate_id INTEGER PRIMARY KEY REFERENCES candidates(id),
  status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'done', 'failed')),
  energy_ry REAL,
  energy_ev REAL,
  fermi_energy_ev REAL,
  total_magnetization_json TEXT,
  absolute_magnetization REAL,
  site_moments_json TEXT,
  converged INTEGER NOT NULL DEFAULT 0,
  n_iterations INTEGER NOT NULL DEFAULT 0,
  wall_time_s REAL,
  message TEXT NOT NULL DEFAULT '',
  output_path TEXT NOT NULL DEFAULT '',
  attempts INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  started_at TEXT,
  finished_at TEXT,
  updated_at TEXT NOT NULL
);
)SQL";

std::string now_iso() {
  const std::time_t t = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&t, &utc);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buf;
}

json matrix_json(const Eigen::MatrixXd& m) {
  json rows = json::array();
  for (Eigen::Index i = 0; i < m.rows(); ++i) {
    json row = json::array();
    for (Eigen::Index j = 0; j < m.cols(); ++j) row.push_back(std::isfinite(m(i, j)) ? json(m(i, j)) : json(nullptr));
    rows.push_back(row);
  }
  return rows;
}

Eigen::MatrixXd matrix_from_json(const std::string& text) {
  Eigen::MatrixXd m(0, 3);
  if (text.empty()) return m;
  const json j = json::parse(text, nullptr, false);
  if (!j.is_array()) return m;
  m.resize(static_cast<Eigen::Index>(j.size()), 3);
  for (std::size_t i = 0; i < j.size(); ++i)
    for (std::size_t c = 0; c < 3; ++c) {
      const auto& v = j[i].is_array() && c < j[i].size() ? j[i][c] : json(nullptr);
      m(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(c)) =
          v.is_number() ? v.get<double>() : std::numeric_limits<double>::quiet_NaN();
    }
  return m;
}

json crystal_json(const structure::Crystal& c) {
  json j;
  j["lattice"] = matrix_json(c.lattice);
  j["frac"] = matrix_json(c.frac);
  j["numbers"] = c.numbers;
  j["labels"] = c.labels;
  j["species"] = c.symbols();
  j["periodic"] = c.periodic;
  if (c.occupancies.size() > 0) j["occupancies"] = std::vector<double>(c.occupancies.data(), c.occupancies.data() + c.occupancies.size());
  return j;
}

std::string structure_label(const std::vector<Candidate>& candidates, const std::string& name) {
  if (!name.empty()) return name;
  if (candidates.empty()) return "";
  return candidates.front().crystal.formula();
}

}  // namespace

int count_magnetic_sites(const Eigen::MatrixXd& moments) {
  int n = 0;
  for (Eigen::Index i = 0; i < moments.rows(); ++i)
    if (moments.row(i).norm() > kMagneticTolerance) ++n;
  return n;
}

// ---------------------------------------------------------------------------------------------------------------

void WorkflowOptions::validate() const {
  auto bad = [](const std::string& field, const std::string& value, const std::string& why) {
    throw InvalidArgument("WorkflowOptions." + field + " = " + value + ": " + why);
  };
  if (work_dir.empty()) bad("work_dir", "''", "must name a directory");
  if (pw_command.find_first_not_of(" \t") == std::string::npos) bad("pw_command", "'" + pw_command + "'", "must not be empty");
  if (pw_command.find('\n') != std::string::npos || mpi_prefix.find('\n') != std::string::npos)
    bad(pw_command.find('\n') != std::string::npos ? "pw_command" : "mpi_prefix", "(multi-line)", "must be one line");
  if (!(timeout_s >= 0) || !std::isfinite(timeout_s)) {
    std::ostringstream os;
    os << timeout_s;
    bad("timeout_s", os.str(), "must be >= 0 seconds (0: no limit)");
  }
  if (omp_threads < 0) bad("omp_threads", std::to_string(omp_threads), "must be >= 0 (0: inherit)");
}

std::filesystem::path WorkflowOptions::database_path() const {
  return database.empty() ? work_dir / "results.sqlite" : database;
}

std::string WorkflowOptions::command() const {
  std::string cmd = mpi_prefix.find_first_not_of(" \t") == std::string::npos ? "" : mpi_prefix + " ";
  return cmd + pw_command + " -in pw.in";
}

// ---------------------------------------------------------------------------------------------------------------
// Database.

struct ResultsDatabase::Impl {
  sqlite3* db = nullptr;
  std::filesystem::path path;

  ~Impl() {
    if (db) sqlite3_close_v2(db);
  }
  [[noreturn]] void fail(const std::string& what) const {
    throw IoError("results database " + path.string() + ": " + what + ": " + (db ? sqlite3_errmsg(db) : "?"));
  }
  void exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      const std::string msg = err ? err : "unknown error";
      sqlite3_free(err);
      throw IoError("results database " + path.string() + ": " + msg);
    }
  }

  struct Stmt {
    Impl& impl;
    sqlite3_stmt* st = nullptr;
    Stmt(Impl& i, const char* sql) : impl(i) {
      if (sqlite3_prepare_v2(impl.db, sql, -1, &st, nullptr) != SQLITE_OK) impl.fail("prepare");
    }
    ~Stmt() { sqlite3_finalize(st); }
    Stmt& bind(int k, const std::string& s) {
      sqlite3_bind_text(st, k, s.c_str(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
      return *this;
    }
    Stmt& bind(int k, std::int64_t v) {
      sqlite3_bind_int64(st, k, v);
      return *this;
    }
    Stmt& bind(int k, int v) { return bind(k, static_cast<std::int64_t>(v)); }
    Stmt& bind_real(int k, double v) {
      if (std::isfinite(v)) sqlite3_bind_double(st, k, v);
      else sqlite3_bind_null(st, k);
      return *this;
    }
    bool step() {
      const int rc = sqlite3_step(st);
      if (rc == SQLITE_ROW) return true;
      if (rc == SQLITE_DONE) return false;
      impl.fail("step");
    }
    std::string text(int c) const {
      const auto* p = sqlite3_column_text(st, c);
      return p ? reinterpret_cast<const char*>(p) : "";
    }
    std::int64_t integer(int c) const { return sqlite3_column_int64(st, c); }
    double real(int c) const {
      return sqlite3_column_type(st, c) == SQLITE_NULL ? std::numeric_limits<double>::quiet_NaN()
                                                       : sqlite3_column_double(st, c);
    }
  };

  // BEGIN IMMEDIATE ... COMMIT around f; rolled back on exception.
  template <class F>
  auto transaction(F&& f) {
    exec("BEGIN IMMEDIATE");
    try {
      if constexpr (std::is_void_v<decltype(f())>) {
        f();
        exec("COMMIT");
      } else {
        auto r = f();
        exec("COMMIT");
        return r;
      }
    } catch (...) {
      sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
  }
};

ResultsDatabase::ResultsDatabase(const std::filesystem::path& path) : impl_(std::make_unique<Impl>()) {
  impl_->path = path;
  if (path.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    if (ec) throw IoError("results database " + path.string() + ": cannot create its directory: " + ec.message());
  }
  const int rc = sqlite3_open_v2(path.c_str(), &impl_->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  if (rc != SQLITE_OK) impl_->fail("cannot open");
  sqlite3_busy_timeout(impl_->db, 10000);
  {
    Impl::Stmt q(*impl_, "PRAGMA application_id");
    const std::int64_t app = q.step() ? q.integer(0) : 0;
    Impl::Stmt t(*impl_, "SELECT count(*) FROM sqlite_master");
    const std::int64_t tables = t.step() ? t.integer(0) : 0;
    if (app != 0 && app != kApplicationId)
      throw IoError("results database " + path.string() + ": not a tsunagu magnetic results database");
    if (app == 0 && tables > 0)
      throw IoError("results database " + path.string() + ": existing SQLite file of another kind (" +
                    std::to_string(tables) + " tables), not a tsunagu magnetic results database");
  }
  impl_->exec("PRAGMA journal_mode = WAL");
  impl_->exec("PRAGMA synchronous = FULL");
  impl_->exec("PRAGMA foreign_keys = ON");
  impl_->transaction([&] {
    impl_->exec(kSchema);
    impl_->exec(("PRAGMA application_id = " + std::to_string(kApplicationId)).c_str());
    impl_->exec(("PRAGMA user_version = " + std::to_string(kSchemaVersion)).c_str());
  });
}

ResultsDatabase::~ResultsDatabase() = default;
ResultsDatabase::ResultsDatabase(ResultsDatabase&&) noexcept = default;
ResultsDatabase& ResultsDatabase::operator=(ResultsDatabase&&) noexcept = default;

const std::filesystem::path& ResultsDatabase::path() const noexcept { return impl_->path; }

std::int64_t ResultsDatabase::add_structure(const std::string& name, const structure::Crystal& crystal,
                                            const std::string& source) {
  if (name.empty()) throw InvalidArgument("results database: structure name is empty");
  return impl_->transaction([&]() -> std::int64_t {
    {
      Impl::Stmt q(*impl_, "SELECT id FROM structures WHERE name = ?");
      q.bind(1, name);
      if (q.step()) return q.integer(0);
    }
    Impl::Stmt ins(*impl_,
                   "INSERT INTO structures (name, formula, source, structure_json, created_at) VALUES (?, ?, ?, ?, ?)");
    ins.bind(1, name).bind(2, crystal.formula()).bind(3, source.empty() ? crystal.source : source)
        .bind(4, crystal_json(crystal).dump()).bind(5, now_iso());
    ins.step();
    return sqlite3_last_insert_rowid(impl_->db);
  });
}

std::int64_t ResultsDatabase::add_candidate(std::int64_t structure_id, const Candidate& c) {
  if (c.name.empty()) throw InvalidArgument("results database: candidate name is empty");
  const std::string moments = matrix_json(c.moments).dump();
  const int n_magnetic = count_magnetic_sites(c.moments);
  return impl_->transaction([&]() -> std::int64_t {
    const std::string now = now_iso();
    std::int64_t id = 0;
    {
      Impl::Stmt q(*impl_, "SELECT id, initial_moments_json FROM candidates WHERE structure_id = ? AND name = ?");
      q.bind(1, structure_id).bind(2, c.name);
      if (q.step()) {
        id = q.integer(0);
        if (q.text(1) == moments) return id;
      }
    }
    if (id == 0) {
      Impl::Stmt ins(*impl_,
                     "INSERT INTO candidates (structure_id, name, irrep, multipole, direction, uni, bns_number, "
                     "bns_symbol, msg_type, ahe_allowed, n_magnetic, initial_moments_json, created_at) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
      ins.bind(1, structure_id).bind(2, c.name).bind(3, c.irrep).bind(4, c.multipole).bind(5, c.direction)
          .bind(6, c.magnetic_space_group.uni).bind(7, c.magnetic_space_group.bns)
          .bind(8, c.magnetic_space_group.bns_symbol).bind(9, c.magnetic_space_group.type)
          .bind(10, c.ahe_allowed ? 1 : 0).bind(11, n_magnetic).bind(12, moments).bind(13, now);
      ins.step();
      id = sqlite3_last_insert_rowid(impl_->db);
      Impl::Stmt res(*impl_,
                     "INSERT INTO results (candidate_id, status, created_at, updated_at) VALUES (?, 'pending', ?, ?)");
      res.bind(1, id).bind(2, now).bind(3, now);
      res.step();
    } else {  // same name, different moments: the old result no longer describes this candidate
      Impl::Stmt up(*impl_,
                    "UPDATE candidates SET irrep = ?, multipole = ?, direction = ?, uni = ?, bns_number = ?, "
                    "bns_symbol = ?, msg_type = ?, ahe_allowed = ?, n_magnetic = ?, initial_moments_json = ? "
                    "WHERE id = ?");
      up.bind(1, c.irrep).bind(2, c.multipole).bind(3, c.direction).bind(4, c.magnetic_space_group.uni)
          .bind(5, c.magnetic_space_group.bns).bind(6, c.magnetic_space_group.bns_symbol)
          .bind(7, c.magnetic_space_group.type).bind(8, c.ahe_allowed ? 1 : 0).bind(9, n_magnetic).bind(10, moments)
          .bind(11, id);
      up.step();
      Impl::Stmt res(*impl_,
                     "UPDATE results SET status = 'pending', energy_ry = NULL, energy_ev = NULL, "
                     "fermi_energy_ev = NULL, total_magnetization_json = NULL, absolute_magnetization = NULL, "
                     "site_moments_json = NULL, converged = 0, n_iterations = 0, wall_time_s = NULL, "
                     "message = 'initial moments changed since the last run', started_at = NULL, "
                     "finished_at = NULL, updated_at = ? WHERE candidate_id = ?");
      res.bind(1, now).bind(2, id);
      res.step();
    }
    return id;
  });
}

void ResultsDatabase::mark_running(std::int64_t candidate_id, const std::string& output_path) {
  impl_->transaction([&] {
    const std::string now = now_iso();
    Impl::Stmt up(*impl_,
                  "UPDATE results SET status = 'running', message = '', output_path = ?, attempts = attempts + 1, "
                  "started_at = ?, finished_at = NULL, updated_at = ? WHERE candidate_id = ?");
    up.bind(1, output_path).bind(2, now).bind(3, now).bind(4, candidate_id);
    up.step();
  });
}

void ResultsDatabase::mark_pending(std::int64_t candidate_id, const std::string& message) {
  impl_->transaction([&] {
    Impl::Stmt up(*impl_, "UPDATE results SET status = 'pending', message = ?, updated_at = ? WHERE candidate_id = ?");
    up.bind(1, message).bind(2, now_iso()).bind(3, candidate_id);
    up.step();
  });
}

void ResultsDatabase::mark_failed(std::int64_t candidate_id, const std::string& message, const std::string& output_path) {
  impl_->transaction([&] {
    const std::string now = now_iso();
    Impl::Stmt up(*impl_,
                  "UPDATE results SET status = 'failed', message = ?, output_path = ?, finished_at = ?, "
                  "updated_at = ? WHERE candidate_id = ?");
    up.bind(1, message).bind(2, output_path).bind(3, now).bind(4, now).bind(5, candidate_id);
    up.step();
  });
}

void ResultsDatabase::store_result(std::int64_t candidate_id, const PwResult& r, const std::string& output_path,
                                   const std::string& extra_message) {
  std::string message = r.message;
  if (!extra_message.empty()) message += (message.empty() ? "" : "; ") + extra_message;
  const bool done = r.status == PwResult::Status::Done;
  impl_->transaction([&] {
    const std::string now = now_iso();
    Impl::Stmt up(*impl_,
                  "UPDATE results SET status = ?, energy_ry = ?, energy_ev = ?, fermi_energy_ev = ?, "
                  "total_magnetization_json = ?, absolute_magnetization = ?, site_moments_json = ?, converged = ?, "
                  "n_iterations = ?, wall_time_s = ?, message = ?, output_path = ?, finished_at = ?, updated_at = ? "
                  "WHERE candidate_id = ?");
    up.bind(1, std::string(done ? "done" : "failed")).bind_real(2, r.total_energy_ry).bind_real(3, r.total_energy_ev);
    up.bind_real(4, r.fermi_energy_ev ? *r.fermi_energy_ev : std::numeric_limits<double>::quiet_NaN());
    up.bind(5, matrix_json(r.total_magnetization.transpose()).at(0).dump()).bind_real(6, r.absolute_magnetization);
    up.bind(7, matrix_json(r.site_moments).dump()).bind(8, r.converged ? 1 : 0).bind(9, r.n_iterations);
    up.bind_real(10, r.wall_time_s).bind(11, message).bind(12, output_path).bind(13, now).bind(14, now);
    up.bind(15, candidate_id);
    up.step();
  });
}

namespace {

const char* kSelectRows =
    "SELECT c.id, s.name, c.name, c.irrep, c.multipole, c.direction, c.uni, c.bns_number, c.bns_symbol, c.msg_type, "
    "c.ahe_allowed, c.n_magnetic, c.initial_moments_json, r.status, r.energy_ry, r.energy_ev, r.fermi_energy_ev, "
    "r.total_magnetization_json, r.absolute_magnetization, r.site_moments_json, r.converged, r.n_iterations, "
    "r.wall_time_s, r.message, r.output_path, r.created_at, r.started_at, r.finished_at, r.attempts "
    "FROM candidates c JOIN structures s ON s.id = c.structure_id JOIN results r ON r.candidate_id = c.id ";

template <class Stmt>
ResultRow read_row(const Stmt& q) {
  ResultRow row;
  row.candidate_id = q.integer(0);
  row.structure = q.text(1);
  row.candidate = q.text(2);
  row.irrep = q.text(3);
  row.multipole = q.text(4);
  row.direction = q.text(5);
  row.magnetic_space_group.uni = static_cast<int>(q.integer(6));
  row.magnetic_space_group.bns = q.text(7);
  row.magnetic_space_group.bns_symbol = q.text(8);
  row.magnetic_space_group.type = static_cast<int>(q.integer(9));
  row.ahe_allowed = q.integer(10) != 0;
  row.n_magnetic = static_cast<int>(q.integer(11));
  row.initial_moments = matrix_from_json(q.text(12));
  row.status = q.text(13);
  row.energy_ry = q.real(14);
  row.energy_ev = q.real(15);
  if (const double f = q.real(16); std::isfinite(f)) row.fermi_energy_ev = f;
  const Eigen::MatrixXd tm = matrix_from_json("[" + q.text(17) + "]");
  if (tm.rows() == 1) row.total_magnetization = tm.row(0).transpose();
  row.absolute_magnetization = q.real(18);
  row.site_moments = matrix_from_json(q.text(19));
  row.converged = q.integer(20) != 0;
  row.n_iterations = static_cast<int>(q.integer(21));
  row.wall_time_s = q.real(22);
  row.message = q.text(23);
  row.output_path = q.text(24);
  row.created_at = q.text(25);
  row.started_at = q.text(26);
  row.finished_at = q.text(27);
  row.attempts = static_cast<int>(q.integer(28));
  return row;
}

}  // namespace

std::vector<ResultRow> ResultsDatabase::results(const std::string& structure) const {
  const std::string sql = std::string(kSelectRows) + (structure.empty() ? "" : "WHERE s.name = ? ") + "ORDER BY c.id";
  Impl::Stmt q(*impl_, sql.c_str());
  if (!structure.empty()) q.bind(1, structure);
  std::vector<ResultRow> rows;
  while (q.step()) rows.push_back(read_row(q));
  return rows;
}

std::optional<ResultRow> ResultsDatabase::result(const std::string& structure, const std::string& candidate) const {
  const std::string sql = std::string(kSelectRows) + "WHERE s.name = ? AND c.name = ?";
  Impl::Stmt q(*impl_, sql.c_str());
  q.bind(1, structure).bind(2, candidate);
  if (q.step()) return read_row(q);
  return std::nullopt;
}

std::vector<std::string> ResultsDatabase::structures() const {
  Impl::Stmt q(*impl_, "SELECT name FROM structures ORDER BY id");
  std::vector<std::string> out;
  while (q.step()) out.push_back(q.text(0));
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Running.

namespace {

void check_candidates(const std::vector<Candidate>& candidates) {
  std::map<std::string, int> seen;
  for (const auto& c : candidates) {
    if (c.name.empty() || c.name == "." || c.name == ".." || c.name.find_first_of("/\\\n\t ") != std::string::npos)
      throw InvalidArgument("candidate name '" + c.name + "' is not a valid directory name");
    if (seen[c.name]++) throw InvalidArgument("candidate name '" + c.name + "' appears twice");
  }
}

bool needs_run(const ResultRow& row, const WorkflowOptions& options) {
  if (options.force) return true;
  if (row.status == "done") return false;
  if (row.status == "failed" && !options.retry_failed) return false;
  return true;
}

// Parse dir/pw.out into the database; returns true when the stored status is done.
bool store_output(ResultsDatabase& db, std::int64_t id, const std::filesystem::path& out_path,
                  const std::string& extra) {
  try {
    const PwResult r = parse_pw_output_file(out_path);
    db.store_result(id, r, out_path.string(), extra);
    return r.status == PwResult::Status::Done;
  } catch (const Error& e) {
    db.mark_failed(id, std::string(e.what()) + (extra.empty() ? "" : "; " + extra), out_path.string());
    return false;
  }
}

struct Registered {
  std::vector<std::int64_t> ids;
  std::string structure;
};

Registered register_all(ResultsDatabase& db, const std::vector<Candidate>& candidates, const std::string& name) {
  Registered reg;
  reg.structure = structure_label(candidates, name);
  if (candidates.empty()) return reg;
  const std::int64_t sid = db.add_structure(reg.structure, candidates.front().crystal);
  for (const auto& c : candidates) reg.ids.push_back(db.add_candidate(sid, c));
  return reg;
}

}  // namespace

RunSummary run_candidates(const std::vector<Candidate>& candidates, const QeOptions& qe, const WorkflowOptions& options,
                          const std::string& structure_name) {
  options.validate();
  qe.validate();
  check_candidates(candidates);
  // Every input is built before anything runs: a bad candidate or a missing pseudopotential fails fast.
  std::vector<std::string> inputs;
  inputs.reserve(candidates.size());
  for (const auto& c : candidates) inputs.push_back(write_pw_input(c, qe));

  ResultsDatabase db(options.database_path());
  const Registered reg = register_all(db, candidates, structure_name);
  RunSummary summary;
  summary.candidates = candidates.size();

  std::vector<std::size_t> todo;
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    const auto row = db.result(reg.structure, candidates[i].name);
    if (row && !needs_run(*row, options)) {
      ++summary.skipped;
      continue;
    }
    todo.push_back(i);
  }

  core::Progress progress(options.dry_run ? "pw.x inputs" : "pw.x", todo.size());
  for (const std::size_t i : todo) {
    const Candidate& c = candidates[i];
    const std::int64_t id = reg.ids[i];
    const auto dir = options.work_dir / c.name;
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) throw IoError("cannot create directory " + dir.string() + ": " + ec.message());
    core::write_file_atomic(dir / "pw.in", inputs[i]);
    ++summary.written;
    if (options.dry_run) {
      progress.tick();
      continue;
    }
    const auto out_path = dir / "pw.out";
    const auto partial = dir / "pw.out.partial";
    std::filesystem::remove(out_path, ec);  // an old output must not be taken for this run's
    db.mark_running(id, out_path.string());
    ++summary.ran;

    core::ProcessOptions po;
    po.timeout_s = options.timeout_s;
    po.working_dir = dir;
    po.stdout_path = partial;
    po.stderr_limit = 4096;
    if (options.omp_threads > 0) po.environment.emplace_back("OMP_NUM_THREADS", std::to_string(options.omp_threads));
    bool ok = false;
    try {
      const core::ProcessResult pr = core::run_process(options.command(), po);
      if (!pr.err.empty()) core::write_file_atomic(dir / "pw.err", pr.err);
      std::filesystem::rename(partial, out_path, ec);
      if (ec) throw IoError("cannot rename " + partial.string() + " to pw.out: " + ec.message());
      std::string extra;
      if (!pr.ok()) {
        extra = "'" + options.command() + "' " + pr.describe(options.timeout_s);
        std::string tail = pr.err;
        while (!tail.empty() && (tail.back() == '\n' || tail.back() == ' ')) tail.pop_back();
        if (const auto nl = tail.rfind('\n'); nl != std::string::npos) tail = tail.substr(nl + 1);
        if (!tail.empty()) extra += "; stderr: " + tail;
      }
      if (pr.timed_out) {
        // Whatever the output says, the run did not finish.
        db.mark_failed(id, extra, out_path.string());
      } else {
        ok = store_output(db, id, out_path, extra);
      }
    } catch (const Error& e) {
      db.mark_failed(id, e.what(), out_path.string());
    }
    ok ? ++summary.done : ++summary.failed;
    progress.tick();
  }
  progress.finish();
  return summary;
}

std::filesystem::path write_slurm_array(const std::vector<Candidate>& candidates, const QeOptions& qe,
                                        const WorkflowOptions& options, const SlurmOptions& slurm,
                                        const std::string& structure_name) {
  options.validate();
  qe.validate();
  check_candidates(candidates);
  if (slurm.ntasks < 1 || slurm.cpus_per_task < 1 || slurm.nodes < 1 || slurm.max_parallel < 0)
    throw InvalidArgument("SlurmOptions: nodes, ntasks and cpus_per_task must be >= 1, max_parallel >= 0");
  if (slurm.script_name.empty() || slurm.script_name.find('/') != std::string::npos)
    throw InvalidArgument("SlurmOptions.script_name = '" + slurm.script_name + "': must be a file name");
  std::vector<std::string> inputs;
  for (const auto& c : candidates) inputs.push_back(write_pw_input(c, qe));

  ResultsDatabase db(options.database_path());
  const Registered reg = register_all(db, candidates, structure_name);
  std::vector<std::string> dirs;
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    const auto row = db.result(reg.structure, candidates[i].name);
    if (row && !needs_run(*row, options)) continue;
    const auto dir = options.work_dir / candidates[i].name;
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) throw IoError("cannot create directory " + dir.string() + ": " + ec.message());
    core::write_file_atomic(dir / "pw.in", inputs[i]);
    std::filesystem::remove(dir / "pw.out", ec);
    db.mark_pending(reg.ids[i], "submitted as a Slurm array task");
    dirs.push_back(candidates[i].name);
  }
  if (dirs.empty()) return {};

  const auto abs_dir = std::filesystem::absolute(options.work_dir).lexically_normal();
  auto sq = [](const std::string& s) {  // single-quoted shell word
    std::string out = "'";
    for (char ch : s) out += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
    return out + "'";
  };
  std::ostringstream os;
  os << "#!/bin/bash\n"
     << "#SBATCH --job-name=" << slurm.job_name << "\n"
     << "#SBATCH --array=0-" << dirs.size() - 1;
  if (slurm.max_parallel > 0) os << "%" << slurm.max_parallel;
  os << "\n"
     << "#SBATCH --nodes=" << slurm.nodes << "\n"
     << "#SBATCH --ntasks=" << slurm.ntasks << "\n"
     << "#SBATCH --cpus-per-task=" << slurm.cpus_per_task << "\n"
     << "#SBATCH --time=" << slurm.time_limit << "\n"
     << "#SBATCH --output=" << (abs_dir / "slurm-%A_%a.log").string() << "\n";
  if (!slurm.partition.empty()) os << "#SBATCH --partition=" << slurm.partition << "\n";
  if (!slurm.account.empty()) os << "#SBATCH --account=" << slurm.account << "\n";
  for (const auto& d : slurm.extra_directives) os << "#SBATCH " << d << "\n";
  os << "# Written by tsunagu: one array task per candidate directory; collect the results with `tsunagu magnetic collect`\n"
     << "# (tsunagu reads each pw.out into " << options.database_path().string() << ").\n"
     << "set -u\n";
  for (const auto& line : slurm.setup) os << line << "\n";
  os << "dirs=(\n";
  for (const auto& d : dirs) os << "  " << sq(d) << "\n";
  os << ")\n"
     << "cd " << sq(abs_dir.string()) << "/\"${dirs[$SLURM_ARRAY_TASK_ID]}\" || exit 1\n"
     << "export OMP_NUM_THREADS=" << slurm.cpus_per_task << "\n"
     << "rm -f pw.out\n"
     << "rc=0\n"
     << options.command() << " > pw.out.partial 2> pw.err || rc=$?\n"
     << "mv -f pw.out.partial pw.out\n"
     << "exit $rc\n";
  const auto script = options.work_dir / slurm.script_name;
  core::write_file_atomic(script, os.str());
  std::error_code ec;
  std::filesystem::permissions(script, std::filesystem::perms::owner_exec | std::filesystem::perms::group_exec,
                               std::filesystem::perm_options::add, ec);
  return script;
}

RunSummary collect_results(const WorkflowOptions& options) {
  options.validate();
  ResultsDatabase db(options.database_path());
  RunSummary summary;
  for (const auto& row : db.results()) {
    ++summary.candidates;
    if (!options.force && row.status == "done") {
      ++summary.skipped;
      continue;
    }
    const auto dir = options.work_dir / row.candidate;
    std::error_code ec;
    if (std::filesystem::is_regular_file(dir / "pw.out", ec)) {
      ++summary.ran;
      store_output(db, row.candidate_id, dir / "pw.out", "") ? ++summary.done : ++summary.failed;
    } else if (std::filesystem::is_regular_file(dir / "pw.out.partial", ec)) {
      if (row.status != "running") db.mark_running(row.candidate_id, (dir / "pw.out").string());
    }
  }
  return summary;
}

std::vector<RankedResult> rank_results(const ResultsDatabase& db, const std::string& structure) {
  const auto rows = db.results(structure);
  std::map<std::string, double> reference;  // lowest converged energy per structure (Ry)
  for (const auto& r : rows)
    if (r.status == "done" && r.converged && std::isfinite(r.energy_ry)) {
      auto [it, inserted] = reference.emplace(r.structure, r.energy_ry);
      if (!inserted) it->second = std::min(it->second, r.energy_ry);
    }
  std::vector<std::pair<const ResultRow*, int>> order;
  for (const auto& r : rows) {
    int group = 3;
    if (r.status == "done" && r.converged && std::isfinite(r.energy_ry)) group = 0;
    else if (r.status == "done" && std::isfinite(r.energy_ry)) group = 1;
    else if (r.status == "failed") group = 2;
    order.emplace_back(&r, group);
  }
  // Structures keep the order of first registration.
  std::map<std::string, std::size_t> structure_rank;
  for (const auto& r : rows) structure_rank.emplace(r.structure, structure_rank.size());
  std::stable_sort(order.begin(), order.end(), [&](const auto& a, const auto& b) {
    const auto sa = structure_rank[a.first->structure], sb = structure_rank[b.first->structure];
    if (sa != sb) return sa < sb;
    if (a.second != b.second) return a.second < b.second;
    if (a.second <= 1) return a.first->energy_ry < b.first->energy_ry;
    return a.first->candidate < b.first->candidate;
  });
  std::vector<RankedResult> out;
  for (const auto& [r, group] : order) {
    RankedResult x;
    x.structure = r->structure;
    x.candidate = r->candidate;
    x.irrep = r->irrep;
    x.multipole = r->multipole;
    x.direction = r->direction;
    x.bns_symbol = r->magnetic_space_group.bns_symbol;
    x.status = r->status;
    x.converged = r->converged;
    x.energy_ry = r->energy_ry;
    x.energy_ev = r->energy_ev;
    x.n_magnetic = r->n_magnetic;
    x.total_magnetization = r->total_magnetization;
    x.message = r->message;
    const auto ref = reference.find(r->structure);
    if (group <= 1 && ref != reference.end()) {
      const double de_mev = (r->energy_ry - ref->second) * kRydbergEv * 1000.0;
      x.delta_mev_per_magnetic_atom = de_mev / std::max(1, r->n_magnetic);
    }
    out.push_back(std::move(x));
  }
  return out;
}

std::string ranking_json(const ResultsDatabase& db, const std::string& structure) {
  std::map<std::pair<std::string, std::string>, ResultRow> rows;
  for (auto& r : db.results(structure)) rows.emplace(std::make_pair(r.structure, r.candidate), std::move(r));
  auto num = [](double v) { return std::isfinite(v) ? json(v) : json(nullptr); };
  json out = json::array();
  for (const RankedResult& r : rank_results(db, structure)) {
    const ResultRow& row = rows.at({r.structure, r.candidate});
    out.push_back({{"structure", r.structure},
                   {"candidate", r.candidate},
                   {"irrep", r.irrep},
                   {"multipole", r.multipole},
                   {"direction", r.direction},
                   {"bns_symbol", r.bns_symbol},
                   {"status", r.status},
                   {"converged", r.converged},
                   {"energy_ry", num(r.energy_ry)},
                   {"energy_ev", num(r.energy_ev)},
                   {"delta_mev_per_magnetic_atom", num(r.delta_mev_per_magnetic_atom)},
                   {"n_magnetic", r.n_magnetic},
                   {"total_magnetization", matrix_json(r.total_magnetization.transpose()).at(0)},
                   {"site_moments", matrix_json(row.site_moments)},
                   {"initial_moments", matrix_json(row.initial_moments)},
                   {"n_iterations", row.n_iterations},
                   {"wall_time_s", num(row.wall_time_s)},
                   {"output_path", row.output_path},
                   {"attempts", row.attempts},
                   {"message", r.message}});
  }
  return out.dump(2);
}

std::vector<Candidate> select_candidates(const std::vector<Candidate>& all, const std::vector<std::string>& names,
                                         const std::string& source) {
  if (names.empty()) return all;
  std::vector<Candidate> out;
  for (const auto& name : names) {
    const auto it = std::find_if(all.begin(), all.end(), [&](const Candidate& c) { return c.name == name; });
    if (it == all.end()) throw InvalidArgument("no candidate '" + name + "' in " + source);
    out.push_back(*it);
  }
  return out;
}

}  // namespace tsunagu::magnetic
