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
//
// GPU (builds with CROSSMODAL_WITH_FAISS_GPU only; see gpu_replica.h). With device 'gpu' or
// 'auto', a flat, IVF-Flat or IVF-PQ index keeps a GPU replica of its FAISS structure (for refined
// IVF-PQ: of the IVF-PQ part; re-ranking stays on the CPU) and answers unfiltered searches there.
// The CPU index remains the source of truth; `version_` counts its mutations and the replica is
// rebuilt lazily when it is older. Filtered searches, range searches, k or nprobe beyond the GPU's
// selection limit, and a replica FAISS cannot build fall back to the CPU index; Info().gpu says
// which device is used and why not, and counts both outcomes. HNSW and factory indexes stay on the
// CPU. In the CPU build all of this compiles down to the device option checks.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "search/index_spec.h"

namespace faiss {
struct Index;
}

namespace crossmodal::search {

namespace gpu {
class Replica;
}

// queries × k hits, best first, where k is the caller's k clamped to the index's size (Search).
// Missing results (fewer than k candidates, e.g. filtered out) have id -1 and score NaN. Ids and scores share one
// allocation, ids first (8-byte aligned, scores 4-byte aligned right after them), so the binding hands a search's
// answer to JS as a single external buffer: one backing store and one finalizer per call instead of two, and no result
// object to build.
class SearchResult {
 public:
  SearchResult(size_t queries, size_t k);

  size_t hits() const { return queries_ * k_; }
  size_t k() const { return k_; }
  int64_t* ids() { return reinterpret_cast<int64_t*>(storage_.get()); }
  const int64_t* ids() const { return reinterpret_cast<const int64_t*>(storage_.get()); }
  float* scores() { return reinterpret_cast<float*>(storage_.get() + hits() * sizeof(int64_t)); }
  const float* scores() const { return reinterpret_cast<const float*>(storage_.get() + hits() * sizeof(int64_t)); }
  // The whole block: hits() ids, then hits() scores.
  void* data() { return storage_.get(); }
  size_t byte_size() const { return hits() * (sizeof(int64_t) + sizeof(float)); }

 private:
  size_t queries_;
  size_t k_;
  std::unique_ptr<std::byte[]> storage_;
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
  // Where searches run (see IndexSpec::device; placement is not stored in the file).
  SearchDevice device = SearchDevice::kCpu;
  int device_id = 0;
  // Expectations checked against the file's header; empty / 0 means "accept any".
  std::string fingerprint;
  size_t dim = 0;
  std::string metric;
  std::string type;
};

// Where searches run and why (IndexInfo::gpu).
struct GpuInfo {
  SearchDevice requested = SearchDevice::kCpu;
  int device = -1;             // CUDA device of the replica; -1 when searches stay on the CPU
  bool active = false;         // unfiltered searches go to the GPU
  std::string reason;          // why not ('' when active)
  uint64_t gpu_searches = 0;   // searches answered on the GPU
  uint64_t cpu_fallbacks = 0;  // searches of a GPU-placed index answered on the CPU ...
  std::string last_fallback;   // ... and the reason for the latest one
};

struct IndexInfo {
  IndexSpec spec;
  GpuInfo gpu;
  size_t size = 0;   // live vectors
  size_t slots = 0;  // FAISS ntotal (live + tombstoned)
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
  // The result has min(k, size()) hits per query (0 for an empty or untrained index): k is clamped
  // before anything is allocated, so a huge k costs no more than k = size().
  SearchResult Search(const float* queries, size_t count, size_t k, const SearchOptions& options) const;
  // Hits scoring at least `threshold` (cosine/ip) or within squared distance `threshold` (l2).
  RangeResult RangeSearch(const float* queries, size_t count, float threshold, const SearchOptions& options) const;
  // Rebuilds the FAISS structure from the live vectors: drops tombstones, re-trains IVF.
  void Rebuild();

 private:
  AnnIndex(const IndexSpec& spec, std::unique_ptr<faiss::Index> index);
  // Decides where searches run (constructors and Load call it once, before the index is shared).
  // An explicit SearchDevice::kGpu that cannot be honoured throws: ERR_INVALID_ARGUMENT when the index
  // type cannot run on a GPU (HNSW, factory, an IVF-PQ shape FAISS's GPU kernels lack),
  // ERR_GPU_UNAVAILABLE when this build has no GPU support or there is no such CUDA device.
  // SearchDevice::kAuto records the reason instead and stays on the CPU.
  void ConfigureDevice(SearchDevice device, int device_id);
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
  // Answers an unfiltered search on the GPU replica when there is one and it can; false otherwise
  // (always false in the CPU build). Results are slots of the structure the replica mirrors.
  bool TryGpuSearch(int64_t n, const float* x, int64_t k, int nprobe, bool filtered, float* distances,
                    int64_t* labels) const;
  void NoteCpuFallback(const std::string& why) const;

  IndexSpec spec_;
  std::unique_ptr<faiss::Index> index_;
  std::vector<int64_t> labels_;                 // slot → external id (-1: removed slot)
  std::unordered_map<int64_t, int64_t> slots_;  // external id → slot
  std::vector<uint8_t> dead_;                   // tombstone bitmap over slots
  size_t dead_count_ = 0;
  std::atomic<size_t> live_{0};
  // Generation of the FAISS structure: bumped by every mutation (under the exclusive lock); a GPU
  // replica records the generation it copied.
  uint64_t version_ = 0;
  int64_t next_id_ = 0;
  bool mmapped_ = false;
  std::string fingerprint_;  // of the file this was loaded from
  mutable std::shared_mutex mutex_;
  // FAISS 1.7.3 sizes HNSW's candidate queue from the index's own efSearch and ignores the one in
  // SearchParametersHNSW, so a per-query efSearch means setting the member: searches wanting the
  // current value share this lock, a search wanting another value changes it exclusively.
  mutable std::shared_mutex ef_mutex_;

  // Placement (ConfigureDevice). replica_ exists only in GPU builds, when a device was chosen.
  SearchDevice device_ = SearchDevice::kCpu;
  int device_id_ = 0;
  std::string cpu_reason_;  // why searches stay on the CPU when there is no replica
#ifdef CROSSMODAL_WITH_FAISS_GPU
  std::unique_ptr<gpu::Replica> replica_;
#endif
  mutable std::atomic<uint64_t> gpu_searches_{0};
  mutable std::atomic<uint64_t> cpu_fallbacks_{0};
  mutable std::mutex fallback_mutex_;
  mutable std::string last_fallback_;

  friend struct IndexFileAccess;
};

}  // namespace crossmodal::search
