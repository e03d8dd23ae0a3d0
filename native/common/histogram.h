// Fixed-bucket histograms that worker threads update with relaxed atomics and a reader copies
// without taking a lock: the encoder's per-stage timings and batch sizes (DualEncoder::Stats,
// Model.stats() in JS, Prometheus histograms in examples/server). Pure C++, thread-safe.
//
// Invariants: bucket i counts values <= bounds[i] and > bounds[i-1]; the last bucket (one past
// the bounds) counts everything larger. A snapshot taken while threads record may see a count
// whose value has not reached `sum` yet (relaxed ordering): monitoring tolerates that, and no
// worker ever waits to be observed.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

namespace crossmodal {

class Histogram {
 public:
  struct Snapshot {
    std::vector<uint64_t> bounds;  // upper bounds, ascending, in the histogram's unit
    std::vector<uint64_t> counts;  // bounds.size() + 1 buckets, not cumulative
    uint64_t count = 0;
    uint64_t sum = 0;
  };

  // `bounds`: ascending upper bounds (the unit is the caller's: nanoseconds, rows, ...).
  explicit Histogram(std::vector<uint64_t> bounds);
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  void Record(uint64_t value);
  Snapshot Read() const;

  // Durations from 50 us to 30 s, in nanoseconds (a Prometheus-style latency ladder).
  static std::vector<uint64_t> DurationBoundsNs();
  // Powers of two from 1 to 4096 (the largest batch the encoder accepts).
  static std::vector<uint64_t> SizeBounds();

 private:
  std::vector<uint64_t> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;
  std::atomic<uint64_t> sum_{0};
};

}  // namespace crossmodal
