#include "common/histogram.h"

#include <algorithm>

namespace crossmodal {

Histogram::Histogram(std::vector<uint64_t> bounds)
    : bounds_(std::move(bounds)), counts_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  std::sort(bounds_.begin(), bounds_.end());
  for (size_t i = 0; i <= bounds_.size(); ++i) counts_[i].store(0, std::memory_order_relaxed);
}

void Histogram::Record(uint64_t value) {
  // lower_bound: the first bound >= value, so a value equal to a bound lands in that bucket
  // (Prometheus' `le`).
  const size_t bucket = std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
  counts_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::Read() const {
  Snapshot s;
  s.bounds = bounds_;
  s.counts.resize(bounds_.size() + 1);
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    s.counts[i] = counts_[i].load(std::memory_order_relaxed);
    s.count += s.counts[i];
  }
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

std::vector<uint64_t> Histogram::DurationBoundsNs() {
  std::vector<uint64_t> out;
  for (double seconds : {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
                         2.5, 5.0, 10.0, 30.0}) {
    out.push_back(static_cast<uint64_t>(seconds * 1e9 + 0.5));
  }
  return out;
}

std::vector<uint64_t> Histogram::SizeBounds() {
  std::vector<uint64_t> out;
  for (uint64_t n = 1; n <= 4096; n *= 2) out.push_back(n);
  return out;
}

}  // namespace crossmodal
