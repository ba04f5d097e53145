#include "tsunagu/core/thread_pool.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

namespace {

using namespace tsunagu::core;

/// Sets TSUNAGU_NUM_THREADS for the lifetime of the object and restores the previous state.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value)
      ::setenv(name, value, 1);
    else
      ::unsetenv(name);
  }
  ~ScopedEnv() {
    if (old_)
      ::setenv(name_, old_->c_str(), 1);
    else
      ::unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

unsigned hardware() {
  const unsigned hw = std::thread::hardware_concurrency();
  return hw ? hw : 1;
}

TEST(ParallelFor, CoversEachIndexExactlyOnce) {
  const std::vector<std::pair<std::size_t, unsigned>> cases = {{1, 1},    {1, 4},     {3, 8}, {7, 7},   {10, 3},
                                                               {1000, 7}, {1001, 16}, {5, 1}, {100, 0}, {64, 64}};
  for (const auto& [n, threads] : cases) {
    std::vector<std::atomic<int>> hits(n);
    parallel_for(n, threads, [&](std::size_t begin, std::size_t end, unsigned) {
      for (std::size_t i = begin; i < end; ++i) hits[i].fetch_add(1);
    });
    for (std::size_t i = 0; i < n; ++i)
      ASSERT_EQ(hits[i].load(), 1) << "n=" << n << " threads=" << threads << " i=" << i;
  }
}

TEST(ParallelFor, ZeroItemsNeverCallsTheFunction) {
  bool called = false;
  parallel_for(0, 4, [&](std::size_t, std::size_t, unsigned) { called = true; });
  parallel_for(0, 0, [&](std::size_t, std::size_t, unsigned) { called = true; });
  EXPECT_FALSE(called);
}

TEST(ParallelFor, ChunksAreContiguousDeterministicAndClampedToN) {
  for (const auto& [n, threads] : std::vector<std::pair<std::size_t, unsigned>>{{10, 3}, {3, 8}, {1001, 16}, {2, 2}}) {
    const unsigned expected_chunks = static_cast<unsigned>(std::min<std::size_t>(n, threads));
    std::mutex m;
    std::vector<std::tuple<unsigned, std::size_t, std::size_t>> seen;
    parallel_for(n, threads, [&](std::size_t begin, std::size_t end, unsigned chunk) {
      std::lock_guard<std::mutex> lock(m);
      seen.emplace_back(chunk, begin, end);
    });
    std::sort(seen.begin(), seen.end());
    ASSERT_EQ(seen.size(), expected_chunks) << "n=" << n;
    for (unsigned c = 0; c < expected_chunks; ++c) {
      EXPECT_EQ(std::get<0>(seen[c]), c);
      EXPECT_EQ(std::get<1>(seen[c]), n * c / expected_chunks);
      EXPECT_EQ(std::get<2>(seen[c]), n * (c + 1) / expected_chunks);
      EXPECT_LT(std::get<1>(seen[c]), std::get<2>(seen[c]));  // no empty chunk
    }
  }
}

TEST(ParallelFor, ChunkZeroRunsOnTheCallingThread) {
  const auto caller = std::this_thread::get_id();
  std::thread::id chunk0;
  std::atomic<int> others_on_caller{0};
  parallel_for(8, 4, [&](std::size_t, std::size_t, unsigned chunk) {
    if (chunk == 0)
      chunk0 = std::this_thread::get_id();
    else if (std::this_thread::get_id() == caller)
      others_on_caller.fetch_add(1);
  });
  EXPECT_EQ(chunk0, caller);
  EXPECT_EQ(others_on_caller.load(), 0);
}

TEST(ParallelFor, ChunksRunConcurrently) {
  // Every chunk waits until all four have started: only completes if they run at the same time.
  std::atomic<int> started{0};
  parallel_for(4, 4, [&](std::size_t, std::size_t, unsigned) {
    started.fetch_add(1);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (started.load() < 4 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  });
  EXPECT_EQ(started.load(), 4);
}

TEST(ParallelFor, ExceptionPropagatesAfterAllChunksFinished) {
  std::atomic<int> finished{0};
  try {
    parallel_for(8, 4, [&](std::size_t, std::size_t, unsigned chunk) {
      if (chunk == 2) throw std::runtime_error("chunk 2 failed");
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      finished.fetch_add(1);
    });
    FAIL() << "expected the exception to propagate";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "chunk 2 failed");
  }
  EXPECT_EQ(finished.load(), 3);
}

TEST(ParallelFor, ExceptionFromCallerChunkPropagates) {
  EXPECT_THROW(parallel_for(4, 2,
                            [](std::size_t, std::size_t, unsigned chunk) {
                              if (chunk == 0) throw std::logic_error("caller chunk");
                            }),
               std::logic_error);
  EXPECT_THROW(parallel_for(4, 1, [](std::size_t, std::size_t, unsigned) { throw std::logic_error("single"); }),
               std::logic_error);
}

TEST(ParallelFor, OnlyOneExceptionWhenEveryChunkThrows) {
  try {
    parallel_for(16, 8, [](std::size_t begin, std::size_t, unsigned) {
      throw std::runtime_error("chunk starting at " + std::to_string(begin));
    });
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("chunk starting at ", 0), 0u);
  }
}

TEST(DefaultThreads, HonoursTsunaguNumThreads) {
  ScopedEnv env("TSUNAGU_NUM_THREADS", "3");
  EXPECT_EQ(default_threads(), 3u);
  std::atomic<unsigned> chunks{0};
  parallel_for(100, 0, [&](std::size_t, std::size_t, unsigned) { chunks.fetch_add(1); });
  EXPECT_EQ(chunks.load(), 3u);
}

TEST(DefaultThreads, IgnoresInvalidValues) {
  for (const char* value : {"", "0", "-2", "abc", "3x", "1.5", "99999999999999999999"}) {
    ScopedEnv env("TSUNAGU_NUM_THREADS", value);
    EXPECT_EQ(default_threads(), hardware()) << "value '" << value << "'";
  }
}

TEST(DefaultThreads, UnsetMeansHardwareConcurrency) {
  ScopedEnv env("TSUNAGU_NUM_THREADS", nullptr);
  EXPECT_EQ(default_threads(), hardware());
  EXPECT_GE(default_threads(), 1u);
}

}  // namespace
