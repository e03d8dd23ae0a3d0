// Histogram: the fixed-bucket counters behind model.stats(). Bucket placement follows
// Prometheus' `le` (a value equal to a bound counts in that bucket), and concurrent recording
// from many threads loses nothing.
#include "common/histogram.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace crossmodal {
namespace {

TEST(Histogram, PlacesValuesByUpperBoundInclusive) {
  Histogram h({10, 100, 1000});
  for (uint64_t v : {0, 10, 11, 100, 101, 1000, 1001, 5000}) h.Record(v);
  const Histogram::Snapshot s = h.Read();
  ASSERT_EQ(s.bounds, (std::vector<uint64_t>{10, 100, 1000}));
  EXPECT_EQ(s.counts, (std::vector<uint64_t>{2, 2, 2, 2}));  // last bucket: above every bound
  EXPECT_EQ(s.count, 8u);
  EXPECT_EQ(s.sum, 0u + 10 + 11 + 100 + 101 + 1000 + 1001 + 5000);
}

TEST(Histogram, SortsItsBounds) {
  Histogram h({1000, 10, 100});
  h.Record(50);
  EXPECT_EQ(h.Read().counts, (std::vector<uint64_t>{0, 1, 0, 0}));
}

TEST(Histogram, ConcurrentRecordsAreAllCounted) {
  Histogram h(Histogram::SizeBounds());
  constexpr int kThreads = 8, kPerThread = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&h, t] {
      for (int i = 0; i < kPerThread; ++i) h.Record(static_cast<uint64_t>((i + t) % 64 + 1));
    });
  }
  for (auto& thread : threads) thread.join();
  const Histogram::Snapshot s = h.Read();
  EXPECT_EQ(s.count, static_cast<uint64_t>(kThreads) * kPerThread);
  uint64_t expected_sum = 0;
  for (int t = 0; t < kThreads; ++t)
    for (int i = 0; i < kPerThread; ++i) expected_sum += static_cast<uint64_t>((i + t) % 64 + 1);
  EXPECT_EQ(s.sum, expected_sum);
}

TEST(Histogram, StandardLadders) {
  const auto durations = Histogram::DurationBoundsNs();
  EXPECT_EQ(durations.front(), 50'000u);           // 50 us
  EXPECT_EQ(durations.back(), 30'000'000'000ull);  // 30 s
  const auto sizes = Histogram::SizeBounds();
  EXPECT_EQ(sizes.front(), 1u);
  EXPECT_EQ(sizes.back(), 4096u);  // the encoder's largest batch
}

}  // namespace
}  // namespace crossmodal
