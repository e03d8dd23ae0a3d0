// Exact inner-product / L2 search over FAISS with 64-bit external ids.
// Pure C++; concurrent searches share a reader lock, additions take the writer lock.
#pragma once

#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <string>
#include <vector>

namespace faiss {
struct Index;
}

namespace crossmodal::search {

enum class Metric { kCosine, kInnerProduct, kL2 };

Metric ParseMetric(const std::string& name);  // throws ERR_INVALID_ARGUMENT
const char* MetricName(Metric metric);

struct SearchResult {
  size_t queries = 0;
  size_t k = 0;
  // queries × k, best first. Missing results (fewer than k vectors) have id -1 and score NaN.
  std::vector<int64_t> ids;
  std::vector<float> scores;
};

class FlatIndex {
 public:
  FlatIndex(size_t dim, Metric metric);
  ~FlatIndex();

  size_t dim() const { return dim_; }
  Metric metric() const { return metric_; }
  size_t size() const;

  // Adds `count` vectors (count × dim floats). `ids` may be null: ids then continue from the
  // largest id seen so far + 1. Duplicate ids are refused (ERR_INDEX) and nothing is added.
  void Add(const float* vectors, size_t count, const int64_t* ids);
  SearchResult Search(const float* queries, size_t count, size_t k) const;

 private:
  size_t dim_;
  Metric metric_;
  std::unique_ptr<faiss::Index> index_;
  std::vector<int64_t> known_ids_sorted_;  // for duplicate detection; kept sorted
  int64_t next_id_ = 0;
  mutable std::shared_mutex mutex_;
};

}  // namespace crossmodal::search
