#include "search/hnsw_search.h"

#include <faiss/utils/Heap.h>
#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <limits>
#include <string>
#include <vector>

#include "search/fast_flat.h"

namespace crossmodal::search {
namespace {

using idx_t = faiss::Index::idx_t;
using storage_idx_t = faiss::HNSW::storage_idx_t;

// Visited marks for one thread, reused across searches and indexes: a node is visited when its
// tag equals the current generation, so starting a search costs one increment, not a clear.
class VisitedTags {
 public:
  void Begin(size_t ntotal) {
    if (tags_.size() < ntotal) tags_.resize(ntotal, 0);
    if (++generation_ == 0) {  // wrapped: old tags could collide with the new generation
      std::fill(tags_.begin(), tags_.end(), 0);
      generation_ = 1;
    }
  }
  // Marks `i` visited; returns false when it already was.
  bool Visit(storage_idx_t i) {
    uint8_t& tag = tags_[static_cast<size_t>(i)];
    if (tag == generation_) return false;
    tag = generation_;
    return true;
  }

 private:
  std::vector<uint8_t> tags_;
  uint8_t generation_ = 0;
};

VisitedTags& ThreadVisitedTags() {
  thread_local VisitedTags tags;
  return tags;
}

inline void PrefetchBytes(const void* data, size_t bytes) {
  const char* p = static_cast<const char*>(data);
  for (size_t line = 0; line < bytes; line += 64) __builtin_prefetch(p + line, 0, 3);
}

// Distances are "smaller is better" inside the search (inner products negated), as in FAISS.
struct QueryDistance {
  const float* base;
  size_t dim;
  DistanceFn fn;
  bool negate;
  const float* query;
  float operator()(storage_idx_t i) const {
    const float d = fn(query, base + static_cast<size_t>(i) * dim, dim);
    return negate ? -d : d;
  }
  const float* Vector(storage_idx_t i) const { return base + static_cast<size_t>(i) * dim; }
};

// FAISS's MinimaxHeap keeps popped entries in place (ids -1, distance kept) until evicted, and
// the stop test counts them. pop_min and count_below are linear scans over ef entries per
// expanded node, which dominate at large ef; these AVX2 versions give the same answers (the
// same entry on ties: the highest index among the minima, as FAISS's backward scan picks).
__attribute__((target("avx2"))) int PopMinAvx2(faiss::HNSW::MinimaxHeap& heap, float* vmin_out) {
  const int k = heap.k;
  float* dis = heap.dis.data();
  storage_idx_t* ids = heap.ids.data();
  const __m256 inf = _mm256_set1_ps(std::numeric_limits<float>::infinity());
  const __m256i invalid = _mm256_set1_epi32(-1);
  __m256 best = inf;
  int i = 0;
  for (; i + 8 <= k; i += 8) {
    const __m256i id = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ids + i));
    const __m256 popped = _mm256_castsi256_ps(_mm256_cmpeq_epi32(id, invalid));
    best = _mm256_min_ps(best, _mm256_blendv_ps(_mm256_loadu_ps(dis + i), inf, popped));
  }
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, best);
  float vmin = std::numeric_limits<float>::infinity();
  for (float v : lanes) vmin = std::min(vmin, v);
  for (; i < k; ++i) {
    if (ids[i] != -1 && dis[i] < vmin) vmin = dis[i];
  }
  // Highest index holding the minimum; also finds an entry whose distance is +inf.
  for (int j = k - 1; j >= 0; --j) {
    if (ids[j] != -1 && !(dis[j] > vmin)) {
      if (vmin_out != nullptr) *vmin_out = dis[j];
      const int ret = ids[j];
      ids[j] = -1;
      --heap.nvalid;
      return ret;
    }
  }
  return -1;
}

__attribute__((target("avx2"))) int CountBelowAvx2(const faiss::HNSW::MinimaxHeap& heap, float thresh) {
  const int k = heap.k;
  const float* dis = heap.dis.data();
  const __m256 t = _mm256_set1_ps(thresh);
  int count = 0;
  int i = 0;
  for (; i + 8 <= k; i += 8) {
    count += __builtin_popcount(
        static_cast<unsigned>(_mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(dis + i), t, _CMP_LT_OQ))));
  }
  for (; i < k; ++i) count += dis[i] < thresh ? 1 : 0;
  return count;
}

void GreedyUpdateNearest(const faiss::HNSW& hnsw, const QueryDistance& dis, int level, storage_idx_t& nearest,
                         float& d_nearest) {
  for (;;) {
    const storage_idx_t previous = nearest;
    size_t begin, end;
    hnsw.neighbor_range(nearest, level, &begin, &end);
    for (size_t j = begin; j < end; ++j) {
      const storage_idx_t v = hnsw.neighbors[j];
      if (v < 0) break;
      const float d = dis(v);
      if (d < d_nearest) {
        nearest = v;
        d_nearest = d;
      }
    }
    if (nearest == previous) return;
  }
}

// One query. D/I is a max-heap of k (distance, label) pairs, initialised by the caller.
void SearchOne(const faiss::HNSW& hnsw, const QueryDistance& dis, size_t k, int ef, const faiss::IDSelector* sel,
               float* D, idx_t* I, VisitedTags& visited, faiss::HNSW::MinimaxHeap& candidates,
               std::vector<storage_idx_t>& fresh, bool avx2) {
  storage_idx_t nearest = hnsw.entry_point;
  float d_nearest = dis(nearest);
  for (int level = hnsw.max_level; level >= 1; --level) GreedyUpdateNearest(hnsw, dis, level, nearest, d_nearest);

  const size_t vector_bytes = dis.dim * sizeof(float);
  const size_t neighbor_bytes = static_cast<size_t>(hnsw.nb_neighbors(0)) * sizeof(storage_idx_t);
  size_t nres = 0;
  auto offer = [&](storage_idx_t v, float d) {
    if (sel != nullptr && !sel->is_member(v)) return;
    if (nres < k) {
      faiss::maxheap_push(++nres, D, I, d, static_cast<idx_t>(v));
    } else if (d < D[0]) {
      faiss::maxheap_replace_top(nres, D, I, d, static_cast<idx_t>(v));
    }
  };

  candidates.clear();
  candidates.push(nearest, d_nearest);
  offer(nearest, d_nearest);
  visited.Visit(nearest);
  const bool relative_stop = hnsw.check_relative_distance;
  int steps = 0;
  while (candidates.size() > 0) {
    float d0 = 0;
    const storage_idx_t v0 = avx2 ? PopMinAvx2(candidates, &d0) : candidates.pop_min(&d0);
    if (relative_stop && (avx2 ? CountBelowAvx2(candidates, d0) : candidates.count_below(d0)) >= ef) break;
    size_t begin, end;
    hnsw.neighbor_range(v0, 0, &begin, &end);
    // Filter first and prefetch every new neighbour: their loads then overlap instead of
    // serialising behind each distance computation.
    fresh.clear();
    for (size_t j = begin; j < end; ++j) {
      const storage_idx_t v = hnsw.neighbors[j];
      if (v < 0) break;
      if (!visited.Visit(v)) continue;
      fresh.push_back(v);
      __builtin_prefetch(dis.Vector(v), 0, 3);
      __builtin_prefetch(&hnsw.offsets[static_cast<size_t>(v)], 0, 3);
    }
    if (!fresh.empty()) PrefetchBytes(dis.Vector(fresh[0]), vector_bytes);
    if (fresh.size() > 1) PrefetchBytes(dis.Vector(fresh[1]), vector_bytes);
    storage_idx_t closest_fresh = -1;
    float closest_fresh_d = std::numeric_limits<float>::infinity();
    for (size_t j = 0; j < fresh.size(); ++j) {
      if (j + 2 < fresh.size()) PrefetchBytes(dis.Vector(fresh[j + 2]), vector_bytes);
      const float d = dis(fresh[j]);
      offer(fresh[j], d);
      candidates.push(fresh[j], d);
      if (d < closest_fresh_d) {
        closest_fresh_d = d;
        closest_fresh = fresh[j];
      }
    }
    // FAISS reaches a node's neighbour list through offsets[] (hnswlib stores it beside the
    // vector), so expanding a node costs two dependent misses before any vector is read. The
    // closest new neighbour is the likeliest next expansion: its offsets entry was prefetched
    // above, so fetching its list now hides most of that chain.
    if (closest_fresh >= 0) {
      PrefetchBytes(hnsw.neighbors.data() + hnsw.offsets[static_cast<size_t>(closest_fresh)], neighbor_bytes);
    }
    ++steps;
    if (!relative_stop && steps > ef) break;
  }
}

}  // namespace

std::string HnswGraphProblem(const faiss::IndexHNSW& index) {
  const faiss::HNSW& h = index.hnsw;
  if (index.ntotal < 0) return "negative vector count";
  const size_t n = static_cast<size_t>(index.ntotal);
  if (index.storage == nullptr) return "no vector storage";
  if (index.storage->ntotal != index.ntotal) return "graph and vector storage differ in size";
  if (index.storage->d != index.d) return "graph and vector storage differ in dimension";
  // cum_nneighbor_per_level[l] = neighbour slots of levels below l: starts at 0, never shrinks,
  // and no level holds more than 2 × 256 (level 0 has 2M slots, M ≤ 256 for the hnsw type; FAISS
  // files from elsewhere may use more, but not a corrupted count that sizes the walk).
  const auto& cum = h.cum_nneighbor_per_level;
  if (cum.size() < 2 || cum.size() > 64 || cum[0] != 0) return "bad neighbours-per-level table";
  for (size_t l = 1; l < cum.size(); ++l) {
    if (cum[l] < cum[l - 1] || cum[l] - cum[l - 1] > 4096) return "bad neighbours-per-level table";
  }
  if (h.levels.size() != n)
    return "level table size " + std::to_string(h.levels.size()) + " for " + std::to_string(n) + " vectors";
  if (h.offsets.size() != n + 1 || h.offsets[0] != 0) return "bad neighbour offsets table";
  if (h.efSearch < 1 || h.efConstruction < 1) return "efSearch / efConstruction below 1";
  int top = -1;
  for (size_t i = 0; i < n; ++i) {
    const int levels = h.levels[i];  // a node on levels 0..levels-1
    if (levels < 1 || static_cast<size_t>(levels) >= cum.size())
      return "node " + std::to_string(i) + " has level count " + std::to_string(levels);
    top = std::max(top, levels - 1);
    if (h.offsets[i + 1] < h.offsets[i] ||
        h.offsets[i + 1] - h.offsets[i] != static_cast<size_t>(cum[static_cast<size_t>(levels)])) {
      return "neighbour offsets of node " + std::to_string(i) + " disagree with its levels";
    }
  }
  if (h.offsets[n] != h.neighbors.size()) return "neighbour table size disagrees with the offsets";
  for (size_t j = 0; j < h.neighbors.size(); ++j) {
    const storage_idx_t v = h.neighbors[j];
    if (v < -1 || (v >= 0 && static_cast<size_t>(v) >= n)) {
      return "neighbour id " + std::to_string(v) + " out of range (" + std::to_string(n) + " vectors)";
    }
  }
  // Searches start at the entry point on max_level and descend: it must exist on that level,
  // and that level must be the highest any node reaches.
  if (n == 0) {
    if (h.entry_point != -1 || h.max_level != -1) return "empty graph with an entry point";
    return "";
  }
  if (h.max_level != top) return "max level " + std::to_string(h.max_level) + ", nodes reach " + std::to_string(top);
  if (h.entry_point < 0 || static_cast<size_t>(h.entry_point) >= n)
    return "entry point " + std::to_string(h.entry_point) + " out of range";
  if (h.levels[static_cast<size_t>(h.entry_point)] - 1 != h.max_level) return "entry point is not on the top level";
  return "";
}

bool CanUseHnswSearch(const faiss::IndexHNSW& index) {
  static const bool disabled = [] {
    const char* v = std::getenv("CROSSMODAL_HNSW_SEARCH");
    return v != nullptr && std::strcmp(v, "faiss") == 0;
  }();
  return !disabled && dynamic_cast<const FastFlatIndex*>(index.storage) != nullptr && index.hnsw.upper_beam == 1 &&
         index.hnsw.search_bounded_queue;
}

void HnswSearch(const faiss::IndexHNSW& index, size_t n, const float* queries, size_t k, int ef_search,
                const faiss::IDSelector* sel, float* distances, idx_t* labels) {
  const auto& storage = static_cast<const FastFlatIndex&>(*index.storage);
  const bool similarity = index.metric_type == faiss::METRIC_INNER_PRODUCT;
  const size_t dim = static_cast<size_t>(index.d);
  const size_t ntotal = static_cast<size_t>(index.ntotal);
  const int ef = std::max<int>(ef_search, static_cast<int>(k));
  const DistanceFn fn = similarity ? InnerProductKernel() : L2SquaredKernel();
  const bool avx2 = HasAvx2();
  // An exception must not leave an OpenMP region (std::terminate): the first one is kept and
  // rethrown after it; the other threads skip their remaining queries.
  std::exception_ptr failure;
  std::atomic<bool> failed{false};
#pragma omp parallel if (n > 1)
  {
    try {
      VisitedTags& visited = ThreadVisitedTags();
      faiss::HNSW::MinimaxHeap candidates(ef);
      std::vector<storage_idx_t> fresh;
      fresh.reserve(static_cast<size_t>(index.hnsw.nb_neighbors(0)));
#pragma omp for schedule(dynamic)
      for (size_t q = 0; q < n; ++q) {
        if (failed.load(std::memory_order_relaxed)) continue;
        float* D = distances + q * k;
        idx_t* I = labels + q * k;
        faiss::maxheap_heapify(k, D, I);
        if (index.hnsw.entry_point < 0 || ntotal == 0) continue;
        visited.Begin(ntotal);
        const QueryDistance dis{storage.get_xb(), dim, fn, similarity, queries + q * dim};
        SearchOne(index.hnsw, dis, k, ef, sel, D, I, visited, candidates, fresh, avx2);
        faiss::maxheap_reorder(k, D, I);
        if (similarity) {
          for (size_t j = 0; j < k; ++j) D[j] = -D[j];
        }
      }
    } catch (...) {
#pragma omp critical(crossmodal_hnsw_search_failure)
      if (!failure) failure = std::current_exception();
      failed.store(true, std::memory_order_relaxed);
    }
  }
  if (failure) std::rethrow_exception(failure);
}

}  // namespace crossmodal::search
