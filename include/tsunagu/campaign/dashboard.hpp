#pragma once
/// `campaign serve`: a small web dashboard (cpp-httplib) over a campaign database. Read-mostly: every request opens
/// the database afresh (WAL lets the runner write meanwhile); the only write is the control state.
///   GET  /                  HTML page (progress, best-so-far chart, parameter-vs-objective charts, experiment table,
///                           pause/resume/stop buttons); charts by Chart.js when Debian's libjs-chart.js is
///                           installed, inline SVG otherwise
///   GET  /chart.js          the Chart.js file (404 when absent)
///   GET  /api/status        status_json()
///   GET  /plot/best.svg     best_so_far_svg(); /plot/param/<name>.svg parameter_svg()
///   POST /api/control       body {"action": "pause" | "resume" | "stop"} -> {"control": ...}; 400 otherwise
#include <atomic>
#include <filesystem>
#include <memory>
#include <string>

namespace tsunagu::campaign {

struct ServeOptions {
  std::string host = "127.0.0.1";
  int port = 8080;          ///< 0 = any free port (see Dashboard::port())
  std::string chart_js;     ///< path of chart.js; empty = search /usr/share/javascript/chart.js
  void validate() const;
};

class Dashboard {
 public:
  /// Opens the database once to check it (ParseError/IoError as Store::open).
  Dashboard(std::filesystem::path db, ServeOptions options = {});
  ~Dashboard();
  /// Bind (IoError naming host:port when impossible) and serve until stop() is called. Blocks.
  void run();
  /// Bind now and return the bound port; run() then serves on it.
  int bind();
  int port() const noexcept;
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tsunagu::campaign
