// A FAISS index of any supported type with 64-bit external ids, filters, removal, persistence and
// a readers-writer lock. Pure C++: the N-API wrapper (vector_index.cc) only moves data in and out.
//
// Ids. FAISS 1.7.3's IndexIDMap refuses SearchParameters (so no ID selectors, no per-query
// efSearch/nprobe), and HNSW cannot remove. So every inner FAISS index is fed sequential internal
// ids ("slots") and this class keeps the slot → external id table (`labels_`) and its inverse.
// Filters become an IDSelector over slots, evaluated inside FAISS's search loops. Removal is
// physical where FAISS supports it (flat: rows shift and the table is compacted alongside; IVF:
// entries leave their lists, slots are never reused) and a tombstone bitmap elsewhere (HNSW,
// refined IVF-PQ, factory indexes), excluded by the same selector and dropped by Rebuild().
//
// Concurrency: searches, has(), reconstruct() and save() share the lock; add/remove/train/rebuild
// take it exclusively, so a search sees the index either before or after a whole add().
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "search/index_spec.h"

namespace faiss {
struct Index;
}

namespace crossmodal::search {

struct SearchResult {
  size_t queries = 0;
  size_t k = 0;
  // queries × k, best first. Missing results (fewer than k candidates) have id -1 and score NaN.
  std::vector<int64_t> ids;
  std::vector<float> scores;
};

struct RangeResult {
  size_t queries = 0;
  std::vector<uint64_t> offsets;  // queries + 1; hits of query q are [offsets[q], offsets[q+1])
  std::vector<int64_t> ids;
  std::vector<float> scores;
};

struct IdFilter {
  bool active = false;
  bool allow = true;  // allow-list (only these ids) or deny-list (all but these)
  std::vector<int64_t> ids;
};

struct SearchOptions {
  int ef_search = 0;  // 0: the index's default
  int nprobe = 0;
  IdFilter filter;
};

struct LoadOptions {
  bool mmap = false;
  // Expectations checked against the file's header; empty / 0 means "accept any".
  std::string fingerprint;
  size_t dim = 0;
  std::string metric;
  std::string type;
};

struct IndexInfo {
  IndexSpec spec;
  size_t size = 0;       // live vectors
  size_t slots = 0;      // FAISS ntotal (live + tombstoned)
  size_t tombstones = 0;
  bool trained = true;
  bool mmapped = false;
  bool can_reconstruct = false;
  std::string fingerprint;
  std::string description;  // the FAISS structure, e.g. "IVF512,Flat"
};

class AnnIndex {
 public:
  explicit AnnIndex(const IndexSpec& spec);
  ~AnnIndex();

  static std::unique_ptr<AnnIndex> Load(const std::string& path, const LoadOptions& options);
  // Atomic: temp file, fsync, rename, fsync of the directory.
  void Save(const std::string& path, const std::string& fingerprint) const;

  const IndexSpec& spec() const { return spec_; }
  size_t dim() const { return spec_.dim; }
  // Lock-free, so the JS thread can read it while a long add() holds the writer lock.
  size_t size() const { return live_.load(std::memory_order_acquire); }
  IndexInfo Info() const;

  // IVF types need training before the first add: explicitly, or implicitly by the first add()
  // when it brings enough vectors. No-op for types that need none.
  void Train(const float* vectors, size_t count);
  // Adds count vectors. ids may be null: ids then continue from the largest id so far + 1. An id
  // already present is refused (ERR_INDEX, nothing added) unless `upsert`, which replaces it.
  void Add(const float* vectors, size_t count, const int64_t* ids, bool upsert);
  size_t Remove(const int64_t* ids, size_t count);
  std::vector<uint8_t> Has(const int64_t* ids, size_t count) const;
  // Exact vector of `id` (normalised for cosine); false when the id is absent. Throws ERR_INDEX
  // where the index stores only compressed codes.
  bool Reconstruct(int64_t id, float* out) const;
  SearchResult Search(const float* queries, size_t count, size_t k, const SearchOptions& options) const;
  // Hits scoring at least `threshold` (cosine/ip) or within squared distance `threshold` (l2).
  RangeResult RangeSearch(const float* queries, size_t count, float threshold, const SearchOptions& options) const;
  // Rebuilds the FAISS structure from the live vectors: drops tombstones, re-trains IVF.
  void Rebuild();

 private:
  AnnIndex(const IndexSpec& spec, std::unique_ptr<faiss::Index> index);
  void CreateEmpty();
  bool NeedsTraining() const;
  bool PhysicalRemoval() const;
  bool CanReconstruct() const;
  void TrainLocked(const float* vectors, size_t count);
  void AddLocked(const float* vectors, size_t count, const int64_t* ids, bool upsert);
  size_t RemoveLocked(const int64_t* ids, size_t count);
  std::vector<float> Prepare(const float* vectors, size_t count) const;  // checks, normalises
  std::vector<uint8_t> FilterMask(const IdFilter& filter) const;
  void ExactOverSlots(const float* query, const std::vector<int64_t>& slots, size_t k, int64_t* out_ids,
                      float* out_scores) const;
  void RebuildSlotMap();

  IndexSpec spec_;
  std::unique_ptr<faiss::Index> index_;
  std::vector<int64_t> labels_;                 // slot → external id (-1: removed slot)
  std::unordered_map<int64_t, int64_t> slots_;  // external id → slot
  std::vector<uint8_t> dead_;                   // tombstone bitmap over slots
  size_t dead_count_ = 0;
  std::atomic<size_t> live_{0};
  int64_t next_id_ = 0;
  bool mmapped_ = false;
  std::string fingerprint_;  // of the file this was loaded from
  mutable std::shared_mutex mutex_;
  // FAISS 1.7.3 sizes HNSW's candidate queue from the index's own efSearch and ignores the one in
  // SearchParametersHNSW, so a per-query efSearch means setting the member: searches wanting the
  // current value share this lock, a search wanting another value changes it exclusively.
  mutable std::shared_mutex ef_mutex_;

  friend struct IndexFileAccess;
};

}  // namespace crossmodal::search
