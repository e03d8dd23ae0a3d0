#include "search/flat_index.h"

#include <faiss/IndexFlat.h>
#include <faiss/IndexIDMap.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <mutex>

#include "common/error.h"
#include "common/native_buffer.h"

namespace crossmodal::search {

Metric ParseMetric(const std::string& name) {
  if (name == "cosine" || name.empty()) return Metric::kCosine;
  if (name == "ip") return Metric::kInnerProduct;
  if (name == "l2") return Metric::kL2;
  throw Error(codes::kInvalidArgument, "metric must be 'cosine', 'ip' or 'l2', got '" + name + "'");
}

const char* MetricName(Metric metric) {
  switch (metric) {
    case Metric::kCosine: return "cosine";
    case Metric::kInnerProduct: return "ip";
    case Metric::kL2: return "l2";
  }
  return "unknown";
}

FlatIndex::FlatIndex(size_t dim, Metric metric) : dim_(dim), metric_(metric) {
  if (dim == 0 || dim > 65536) throw Error(codes::kInvalidArgument, "dim must be between 1 and 65536");
  faiss::Index* flat = metric == Metric::kL2 ? static_cast<faiss::Index*>(new faiss::IndexFlatL2(dim))
                                             : static_cast<faiss::Index*>(new faiss::IndexFlatIP(dim));
  auto map = std::make_unique<faiss::IndexIDMap2>(flat);
  map->own_fields = true;
  index_ = std::move(map);
}

FlatIndex::~FlatIndex() = default;

size_t FlatIndex::size() const {
  std::shared_lock lock(mutex_);
  return static_cast<size_t>(index_->ntotal);
}

void FlatIndex::Add(const float* vectors, size_t count, const int64_t* ids) {
  if (count == 0) return;
  for (size_t i = 0; i < count * dim_; ++i) {
    if (!std::isfinite(vectors[i])) {
      throw Error(codes::kInvalidArgument, "vector " + std::to_string(i / dim_) + " contains NaN or Infinity");
    }
  }
  std::vector<float> normalized;
  const float* data = vectors;
  if (metric_ == Metric::kCosine) {
    normalized.assign(vectors, vectors + count * dim_);
    NormalizeRows(normalized.data(), count, dim_);
    data = normalized.data();
  }

  std::unique_lock lock(mutex_);
  std::vector<int64_t> new_ids(count);
  if (ids != nullptr) {
    std::copy(ids, ids + count, new_ids.begin());
  } else {
    for (size_t i = 0; i < count; ++i) new_ids[i] = next_id_ + static_cast<int64_t>(i);
  }
  std::vector<int64_t> sorted = new_ids;
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 0; i < count; ++i) {
    if (sorted[i] < 0) throw Error(codes::kInvalidArgument, "ids must be non-negative");
    if (i > 0 && sorted[i] == sorted[i - 1]) {
      throw Error(codes::kIndex, "id " + std::to_string(sorted[i]) + " appears twice in one add()");
    }
    if (std::binary_search(known_ids_sorted_.begin(), known_ids_sorted_.end(), sorted[i])) {
      throw Error(codes::kIndex, "id " + std::to_string(sorted[i]) + " is already in the index");
    }
  }
  index_->add_with_ids(static_cast<faiss::Index::idx_t>(count), data,
                       reinterpret_cast<const faiss::Index::idx_t*>(new_ids.data()));
  std::vector<int64_t> merged;
  merged.reserve(known_ids_sorted_.size() + count);
  std::merge(known_ids_sorted_.begin(), known_ids_sorted_.end(), sorted.begin(), sorted.end(),
             std::back_inserter(merged));
  known_ids_sorted_.swap(merged);
  next_id_ = std::max(next_id_, sorted.back() + 1);
}

SearchResult FlatIndex::Search(const float* queries, size_t count, size_t k) const {
  if (k == 0) throw Error(codes::kInvalidArgument, "k must be at least 1");
  SearchResult result;
  result.queries = count;
  result.k = k;
  result.ids.assign(count * k, -1);
  result.scores.assign(count * k, std::numeric_limits<float>::quiet_NaN());
  if (count == 0) return result;

  std::vector<float> normalized;
  const float* data = queries;
  if (metric_ == Metric::kCosine) {
    normalized.assign(queries, queries + count * dim_);
    NormalizeRows(normalized.data(), count, dim_);
    data = normalized.data();
  }
  std::shared_lock lock(mutex_);
  index_->search(static_cast<faiss::Index::idx_t>(count), data, static_cast<faiss::Index::idx_t>(k),
                 result.scores.data(), reinterpret_cast<faiss::Index::idx_t*>(result.ids.data()));
  // FAISS pads missing results with id -1 and a sentinel distance; report NaN instead so callers
  // cannot mistake the sentinel for a real score.
  for (size_t i = 0; i < result.ids.size(); ++i) {
    if (result.ids[i] < 0) result.scores[i] = std::numeric_limits<float>::quiet_NaN();
  }
  return result;
}

}  // namespace crossmodal::search
