#pragma once
/// Minimal fork-join parallel_for with static, deterministic chunking: work item i always lands in the same
/// chunk for a given (n, threads), so reductions done per chunk then merged in order are reproducible.
#include <cstddef>
#include <functional>

namespace tsunagu::core {

/// Threads to use when the caller passes 0: $TSUNAGU_NUM_THREADS if set (>0), else hardware concurrency.
unsigned default_threads() noexcept;

/// Run fn(begin, end, chunk) over [0, n) split into `threads` contiguous chunks (chunk = 0..threads-1), on
/// threads-1 extra std::threads plus the caller. threads == 0 means default_threads(). The first exception
/// thrown by any chunk is rethrown in the caller after all chunks finished.
void parallel_for(std::size_t n, unsigned threads,
                  const std::function<void(std::size_t begin, std::size_t end, unsigned chunk)>& fn);

}  // namespace tsunagu::core
