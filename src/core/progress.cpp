#include "tsunagu/core/progress.hpp"

#include <unistd.h>

#include <cstdio>
#include <string>
#include <utility>

namespace tsunagu::core {

namespace {

std::atomic<bool> g_progress_enabled{true};
std::atomic<double> g_progress_delay{1.0};

using Clock = std::chrono::steady_clock;
constexpr auto kTtyInterval = std::chrono::milliseconds(200);
constexpr auto kLogInterval = std::chrono::seconds(10);  // unknown total, not a terminal

__extension__ typedef unsigned __int128 u128;

int decile_of(std::size_t done, std::size_t total) noexcept {
  if (total == 0) return -1;
  if (done >= total) return 10;
  return static_cast<int>(static_cast<u128>(done) * 10 / total);
}

/// "3.2 s", "42 s", "3 min 05 s", "2 h 07 min".
std::string format_duration(double seconds, bool tenths) {
  char buf[64];
  if (seconds < 0) seconds = 0;
  if (seconds < 10 && tenths) {
    std::snprintf(buf, sizeof buf, "%.1f s", seconds);
  } else if (seconds < 59.5) {
    std::snprintf(buf, sizeof buf, "%.0f s", seconds);
  } else if (seconds < 3600) {
    const long s = static_cast<long>(seconds + 0.5);
    std::snprintf(buf, sizeof buf, "%ld min %02ld s", s / 60, s % 60);
  } else {
    const long m = static_cast<long>(seconds / 60 + 0.5);
    std::snprintf(buf, sizeof buf, "%ld h %02ld min", m / 60, m % 60);
  }
  return buf;
}

}  // namespace

void set_progress_enabled(bool enabled) noexcept { g_progress_enabled.store(enabled, std::memory_order_relaxed); }

bool progress_enabled() noexcept { return g_progress_enabled.load(std::memory_order_relaxed); }

void set_progress_delay(double seconds) noexcept { g_progress_delay.store(seconds, std::memory_order_relaxed); }

Progress::Progress(std::string label, std::size_t total)
    : label_(std::move(label)), total_(total), start_(Clock::now()), last_draw_(start_) {
  enabled_ = progress_enabled();
  if (enabled_) tty_ = ::isatty(::fileno(stderr)) == 1;
}

Progress::~Progress() { finish(); }

void Progress::tick(std::size_t n) noexcept {
  if (!enabled_) return;
  const std::size_t before = done_.fetch_add(n, std::memory_order_relaxed);
  const std::size_t now = before + n;

  if (!tty_ && total_ > 0) {
    // One line per 10% crossed: only the tick that crosses a boundary takes the lock.
    const int d = decile_of(now, total_);
    if (d == decile_of(before, total_) || d >= 10) return;  // 100% is reported by finish()
    std::lock_guard<std::mutex> lock(mutex_);
    if (finished_ || d <= last_decile_) return;
    if (std::chrono::duration<double>(Clock::now() - start_).count() < g_progress_delay.load()) return;
    last_decile_ = d;
    draw(now, false);
    return;
  }

  // Terminal (redraw at most every 200 ms) or a log with unknown total (a line at most every 10 s).
  // try_lock keeps tick() wait-free for the threads that lose the race.
  if (!mutex_.try_lock()) return;
  std::lock_guard<std::mutex> lock(mutex_, std::adopt_lock);
  if (finished_) return;
  const auto t = Clock::now();
  if (std::chrono::duration<double>(t - start_).count() < g_progress_delay.load()) return;
  if (t - last_draw_ < (tty_ ? std::chrono::duration_cast<Clock::duration>(kTtyInterval)
                             : std::chrono::duration_cast<Clock::duration>(kLogInterval)))
    return;
  last_draw_ = t;
  draw(done_.load(std::memory_order_relaxed), false);
}

void Progress::finish() noexcept {
  if (!enabled_) return;
  std::lock_guard<std::mutex> lock(mutex_);
  if (finished_) return;
  finished_ = true;
  // A job that finished within the delay stays silent, unless a progress line was already shown.
  if (drawn_ || std::chrono::duration<double>(Clock::now() - start_).count() >= g_progress_delay.load())
    draw(done_.load(std::memory_order_relaxed), true);
}

// Called with mutex_ held.
void Progress::draw(std::size_t done, bool final) noexcept {
  try {
    const double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
    std::string line = label_;
    line += ": ";
    if (final) {
      line += "done " + std::to_string(done) + " in " + format_duration(elapsed, true);
    } else if (total_ > 0) {
      const std::size_t shown = done < total_ ? done : total_;
      const int percent = static_cast<int>(static_cast<u128>(shown) * 100 / total_);
      line += std::to_string(percent) + "% (" + std::to_string(done) + "/" + std::to_string(total_) + "), " +
              format_duration(elapsed, true) + " elapsed";
      if (done > 0 && done < total_) {
        const double left = elapsed * static_cast<double>(total_ - done) / static_cast<double>(done);
        line += left < 0.5 ? std::string(", <1 s left") : ", ~" + format_duration(left, false) + " left";
      }
    } else {
      line += std::to_string(done) + " done, " + format_duration(elapsed, true) + " elapsed";
    }
    std::string out;
    out.reserve(line.size() + 8);
    if (tty_) out += '\r';
    out += line;
    if (tty_) out += "\033[K";  // clear the rest of a longer previous line
    if (final || !tty_) out += '\n';
    std::fputs(out.c_str(), stderr);
    std::fflush(stderr);
    drawn_ = true;
  } catch (...) {
    // Progress output must never take the computation down (e.g. bad_alloc).
  }
}

}  // namespace tsunagu::core
