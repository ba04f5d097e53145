#pragma once
/// Progress line on stderr for long computations. Thread-safe tick(); silent during the first second (short jobs
/// print nothing), then redraws at most ~5 times a second ("\r" updates on a terminal, a line per 10% otherwise)
/// and prints a final line on finish() if anything was shown. Globally
/// silenced by set_progress_enabled(false) (the CLI's --quiet; the Python package's default).
#include <atomic>
#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>

namespace tsunagu::core {

void set_progress_enabled(bool enabled) noexcept;
bool progress_enabled() noexcept;
/// Work that finishes within this many seconds prints nothing at all (default 1 s; tests set 0).
void set_progress_delay(double seconds) noexcept;

class Progress {
 public:
  /// `label` names the task ("sparse cv"); `total` units of work (0 = unknown).
  Progress(std::string label, std::size_t total);
  ~Progress();  ///< calls finish() if not done yet
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void tick(std::size_t n = 1) noexcept;  ///< add n completed units
  void finish() noexcept;                 ///< print the final line (elapsed time)

 private:
  void draw(std::size_t done, bool final) noexcept;
  std::string label_;
  std::size_t total_;
  std::atomic<std::size_t> done_{0};
  std::chrono::steady_clock::time_point start_, last_draw_;
  int last_decile_ = -1;
  bool tty_ = false, enabled_ = false, finished_ = false, drawn_ = false;
  std::mutex mutex_;
};

}  // namespace tsunagu::core
