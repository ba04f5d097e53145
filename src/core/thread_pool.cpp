#include "tsunagu/core/thread_pool.hpp"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>

namespace tsunagu::core {

unsigned default_threads() noexcept {
  if (const char* env = std::getenv("TSUNAGU_NUM_THREADS")) {
    std::string_view s(env);
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    unsigned value = 0;
    const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (!s.empty() && ec == std::errc() && ptr == s.data() + s.size() && value > 0) return value;
  }
  const unsigned hw = std::thread::hardware_concurrency();
  return hw > 0 ? hw : 1;
}

void parallel_for(std::size_t n, unsigned threads,
                  const std::function<void(std::size_t begin, std::size_t end, unsigned chunk)>& fn) {
  if (n == 0) return;
  if (threads == 0) threads = default_threads();
  const auto count = static_cast<unsigned>(std::max<std::size_t>(1, std::min<std::size_t>(threads, n)));
  if (count == 1) {
    fn(0, n, 0);
    return;
  }

  __extension__ typedef unsigned __int128 u128;
  auto bound = [n, count](unsigned c) { return static_cast<std::size_t>(static_cast<u128>(n) * c / count); };

  std::exception_ptr first_error;
  std::mutex error_mutex;
  auto run_chunk = [&](unsigned c) noexcept {
    try {
      fn(bound(c), bound(c + 1), c);
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex);
      if (!first_error) first_error = std::current_exception();
    }
  };

  std::vector<std::thread> workers;
  std::vector<unsigned> inline_chunks;  // chunks whose thread could not be started run on the caller
  workers.reserve(count - 1);
  for (unsigned c = 1; c < count; ++c) {
    try {
      workers.emplace_back(run_chunk, c);
    } catch (...) {
      inline_chunks.push_back(c);
    }
  }
  run_chunk(0);
  for (unsigned c : inline_chunks) run_chunk(c);
  for (auto& w : workers) w.join();
  if (first_error) std::rethrow_exception(first_error);
}

}  // namespace tsunagu::core
