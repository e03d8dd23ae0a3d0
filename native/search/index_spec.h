// What kind of FAISS index to build and with which parameters, plus the defaults and the
// recommendation logic. Pure C++.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace crossmodal::search {

enum class Metric { kCosine, kInnerProduct, kL2 };

Metric ParseMetric(const std::string& name);  // throws ERR_INVALID_ARGUMENT
const char* MetricName(Metric metric);

enum class IndexType { kFlat, kHnsw, kIvfFlat, kIvfPq, kFactory };

IndexType ParseIndexType(const std::string& name);  // throws ERR_INVALID_ARGUMENT
const char* IndexTypeName(IndexType type);

// Where an index's searches run (index option `device`: 'cpu', 'gpu', 'auto'; not to be confused
// with runtime::InferenceDevice, a model's execution provider). kCpu (the default) never touches a GPU; kGpu keeps a
// GPU replica of a flat or IVF index (builds with CROSSMODAL_WITH_FAISS_GPU only) and fails when that is impossible;
// kAuto uses a GPU when it can and otherwise stays on the CPU, saying why (see ann_index.h).
enum class SearchDevice { kCpu, kGpu, kAuto };

SearchDevice ParseSearchDevice(const std::string& name);  // throws ERR_INVALID_ARGUMENT
const char* SearchDeviceName(SearchDevice device);

// Defaults were measured on 20k random normalised 512-d vectors, the hardest common case (no
// cluster structure for IVF to exploit, concentrated distances for HNSW): they reach recall@10 ≥
// 0.95 there. Real CLIP embeddings are clustered, so the same settings give higher recall, and
// users after speed can lower efSearch / nprobe per query.
struct IndexSpec {
  IndexType type = IndexType::kFlat;
  size_t dim = 0;
  Metric metric = Metric::kCosine;

  // HNSW. efSearch on 20k random 512-d vectors (M 32, efConstruction 200): 128 → recall@10 0.70,
  // 256 → 0.90, 512 → 0.986, 1024 → 0.998; search time grows about linearly with it.
  int hnsw_m = 32;
  int ef_construction = 200;
  int ef_search = 512;

  // IVF. nlist 0: chosen at training time from the sample size (see AutoNlist). nprobe 0:
  // 7/8 of nlist at search time (see DefaultNprobe in ann_index.cc for the trade-off).
  int nlist = 0;
  bool nlist_auto = false;  // nlist was chosen by AutoNlist, so a rebuild may choose again
  int nprobe = 0;
  // Training uses at most this many vectors per list (FAISS wants ≥ 39, k-means gains little
  // beyond 256).
  int train_per_list = 256;

  // IVF-PQ: pq_m sub-quantizers (0: dim / 4, rounded down to a divisor of dim) of pq_bits each.
  // refine_factor > 0 keeps the exact vectors too and re-ranks k × refine_factor PQ candidates
  // exactly: PQ alone cannot reach high recall on unclustered data (on 20k random 512-d vectors,
  // PQ64 with 160 candidates re-ranked reaches only 0.65). 0 gives pure PQ (smallest).
  int pq_m = 0;
  int pq_bits = 8;
  int refine_factor = 32;

  // kFactory: a FAISS index_factory string, e.g. "OPQ16_64,IVF1024,PQ16".
  std::string factory;

  // Placement, not structure: read by FromJson ("device", "deviceId") but never written by
  // ToJson, so saved files stay device-neutral and loadIndex() chooses its own placement.
  SearchDevice device = SearchDevice::kCpu;
  int device_id = 0;  // CUDA device ordinal for kGpu / kAuto

  std::string ToJson() const;
  static IndexSpec FromJson(const std::string& json);  // validates; throws ERR_INVALID_ARGUMENT
  void Validate() const;
};

// Checks a FAISS index_factory string before FAISS sees it: known components' parameters within the
// bounds of the named types (HNSW M 4..256, IVF nlist 1..2^20, ...), every number bounded, only
// the factory grammar's characters. Throws ERR_INVALID_ARGUMENT naming the offending part.
void ValidateFactoryString(const std::string& factory, size_t dim);

// nlist for a training sample of n vectors: about 4·√n, but never fewer than 39 training points
// per list, and a power of two at most 65536.
int AutoNlist(size_t n);
int EffectivePqM(const IndexSpec& spec);

// The index type recommended for n vectors of dimension dim, with the reason, as JSON:
// {"type": ..., "params": {...}, "reason": "..."}.
std::string RecommendIndex(size_t n, size_t dim);

}  // namespace crossmodal::search
