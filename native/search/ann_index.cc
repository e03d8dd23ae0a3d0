#include "search/ann_index.h"

#include <faiss/IVFlib.h>
#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIVF.h>
#include <faiss/IndexIVFFlat.h>
#include <faiss/IndexIVFPQ.h>
#include <faiss/IndexRefine.h>
#include <faiss/impl/AuxIndexStructures.h>
#include <faiss/impl/FaissException.h>
#include <faiss/impl/HNSW.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/impl/io.h>
#include <faiss/index_factory.h>
#include <faiss/index_io.h>
#include <faiss/utils/distances.h>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>
#include <mutex>
#include <numeric>

#include "common/embedding_matrix.h"
#include "common/error.h"
#include "search/faiss_payload.h"
#include "search/fast_flat.h"
#include "search/hnsw_search.h"
#include "search/huge_pages.h"
#ifdef CROSSMODAL_WITH_FAISS_GPU
#include "search/gpu_replica.h"
#endif

namespace crossmodal::search {
namespace {

using idx_t = faiss::Index::idx_t;
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

faiss::MetricType FaissMetric(Metric metric) {
  return metric == Metric::kL2 ? faiss::METRIC_L2 : faiss::METRIC_INNER_PRODUCT;
}

// Measured on 20k random normalised 512-d vectors (no cluster structure, the worst case for IVF):
// nprobe = nlist/4 gives recall@10 0.54, nlist/2 0.79, 3/4 0.93, 7/8 0.97. The default buys the
// ≥ 0.95 recall promised for default parameters at the price of scanning most lists; clustered
// real embeddings reach that recall with nlist/16 or less, so set nprobe for speed.
int DefaultNprobe(size_t nlist) { return std::max<int>(1, static_cast<int>(nlist * 7 / 8)); }

bool HigherIsBetter(Metric metric) { return metric != Metric::kL2; }

inline bool TestBit(const std::vector<uint8_t>& bits, size_t i) {
  return i / 8 < bits.size() && (bits[i / 8] >> (i % 8)) & 1;
}
inline void SetBit(std::vector<uint8_t>& bits, size_t i) { bits[i / 8] |= static_cast<uint8_t>(1u << (i % 8)); }

// Excludes tombstoned slots and applies a filter mask, inside FAISS's scan/graph loops.
struct SlotSelector : faiss::IDSelector {
  const std::vector<uint8_t>* dead = nullptr;
  const std::vector<uint8_t>* mask = nullptr;
  bool allow = true;
  bool is_member(idx_t slot) const override {
    if (dead != nullptr && TestBit(*dead, static_cast<size_t>(slot))) return false;
    if (mask != nullptr) return TestBit(*mask, static_cast<size_t>(slot)) == allow;
    return true;
  }
};

// Why FAISS's GPU code cannot hold an index of this spec ('' when it can). Static facts of FAISS
// 1.7.3's GPU kernels, checked up front so an explicit device 'gpu' fails at creation rather than
// at the first search: no GPU HNSW; IVF-PQ only with 8-bit codes and a code length its list
// scanners are specialised for (GpuIndexIVFPQ::verifyPQSettings_, IVFPQ::isSupportedPQCodeLength).
std::string GpuUnsupportedReason(const IndexSpec& spec) {
  switch (spec.type) {
    case IndexType::kFlat:
    case IndexType::kIvfFlat:
      return "";
    case IndexType::kHnsw:
      return "hnsw indexes search on the CPU only (FAISS has no GPU HNSW)";
    case IndexType::kFactory:
      return "factory indexes search on the CPU only";
    case IndexType::kIvfPq: {
      if (spec.pq_bits != 8) {
        return "ivf-pq on the GPU needs pqBits 8 (got " + std::to_string(spec.pq_bits) + ")";
      }
      static constexpr int kSupported[] = {1, 2, 3, 4, 8, 12, 16, 20, 24, 28, 32, 40, 48, 56, 64, 96};
      const int m = EffectivePqM(spec);
      if (std::find(std::begin(kSupported), std::end(kSupported), m) == std::end(kSupported)) {
        return "ivf-pq on the GPU needs pqM in 1, 2, 3, 4, 8, 12, 16, 20, 24, 28, 32, 40, 48, 56, 64 or 96 (got " +
               std::to_string(m) + (spec.pq_m == 0 ? ", the default dim / 4" : "") + ")";
      }
      return "";
    }
  }
  return "unknown index type";
}

// FAISS reports programming errors and unsupported operations as FaissException; they reach
// callers as ERR_INDEX with FAISS's message rather than ERR_INTERNAL.
template <typename Fn>
auto Faiss(const char* what, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const faiss::FaissException& e) {
    throw Error(codes::kIndex, std::string(what) + ": " + e.what());
  }
}

}  // namespace

AnnIndex::AnnIndex(const IndexSpec& spec) : spec_(spec) {
  spec_.Validate();
  if (spec_.nlist == 0) spec_.nlist_auto = true;
  CreateEmpty();
  ConfigureDevice(spec_.device, spec_.device_id);
}

AnnIndex::AnnIndex(const IndexSpec& spec, std::unique_ptr<faiss::Index> index)
    : spec_(spec), index_(std::move(index)) {}

AnnIndex::~AnnIndex() = default;

void AnnIndex::ConfigureDevice(SearchDevice device, int device_id) {
  if (device_id < 0 || device_id > 1023) throw Error(codes::kInvalidArgument, "deviceId must be between 0 and 1023");
  device_ = device;
  device_id_ = device_id;
  spec_.device = device;
  spec_.device_id = device_id;
  if (device == SearchDevice::kCpu) {
    cpu_reason_ = "device 'cpu' was requested";
    return;
  }
  const std::string unsupported = GpuUnsupportedReason(spec_);
  if (!unsupported.empty()) {
    if (device == SearchDevice::kGpu) {
      throw Error(codes::kInvalidArgument, "device 'gpu': " + unsupported + "; use device 'cpu' or 'auto'");
    }
    cpu_reason_ = unsupported;
    return;
  }
#ifdef CROSSMODAL_WITH_FAISS_GPU
  std::string why;
  const int count = gpu::DeviceCount(&why);
  if (count > 0 && device_id >= count) {
    why = "there is no CUDA device " + std::to_string(device_id) + " (" + std::to_string(count) + " visible)";
  }
  if (count == 0 || device_id >= count) {
    if (device == SearchDevice::kGpu) throw Error(codes::kGpuUnavailable, "device 'gpu' was requested but " + why);
    cpu_reason_ = why;
    return;
  }
  const bool float16_tables = spec_.type == IndexType::kIvfPq && EffectivePqM(spec_) > 48;
  replica_ = std::make_unique<gpu::Replica>(device_id, float16_tables);
  cpu_reason_.clear();
#else
  const std::string why =
      "this build of crossmodal has no GPU support (it was compiled without CROSSMODAL_WITH_FAISS_GPU; "
      "see \"GPU search\" in the README)";
  if (device == SearchDevice::kGpu) throw Error(codes::kGpuUnavailable, "device 'gpu' was requested but " + why);
  cpu_reason_ = why;
#endif
}

void AnnIndex::CreateEmpty() {
  const int d = static_cast<int>(spec_.dim);
  const faiss::MetricType metric = FaissMetric(spec_.metric);
  index_.reset();
  switch (spec_.type) {
    case IndexType::kFlat:
      index_ = std::make_unique<FastFlatIndex>(d, metric);
      break;
    case IndexType::kHnsw: {
      auto hnsw = std::make_unique<faiss::IndexHNSWFlat>(d, spec_.hnsw_m, metric);
      hnsw->hnsw.efConstruction = spec_.ef_construction;
      hnsw->hnsw.efSearch = spec_.ef_search;
      index_.reset(Accelerate(hnsw.release()));
      break;
    }
    case IndexType::kIvfFlat:
    case IndexType::kIvfPq: {
      if (spec_.nlist == 0) break;  // created by TrainLocked once the sample size is known
      auto* quantizer = new FastFlatIndex(d, metric);
      if (spec_.type == IndexType::kIvfFlat) {
        auto ivf = std::make_unique<faiss::IndexIVFFlat>(quantizer, d, spec_.nlist, metric);
        ivf->own_fields = true;
        // A hashtable direct map makes reconstruct(id) and removal by id O(1) with our
        // non-contiguous slot numbers (an array map needs sequential ids).
        ivf->set_direct_map_type(faiss::DirectMap::Hashtable);
        index_ = std::move(ivf);
      } else {
        auto ivf =
            std::make_unique<faiss::IndexIVFPQ>(quantizer, d, spec_.nlist, EffectivePqM(spec_), spec_.pq_bits, metric);
        ivf->own_fields = true;
        if (spec_.refine_factor > 0) {
          auto refine = std::make_unique<faiss::IndexRefineFlat>(ivf.release());
          refine->own_fields = true;
          refine->k_factor = static_cast<float>(spec_.refine_factor);
          index_.reset(Accelerate(refine.release()));
        } else {
          index_ = std::move(ivf);
        }
      }
      break;
    }
    case IndexType::kFactory:
      // The string was checked by IndexSpec::Validate (ValidateFactoryString); what FAISS still
      // refuses (an unknown component, PQ sub-quantizers not dividing dim, ...) is the caller's
      // argument too, so ERR_INVALID_ARGUMENT rather than ERR_INDEX or ERR_INTERNAL.
      try {
        index_.reset(Accelerate(faiss::index_factory(d, spec_.factory.c_str(), metric)));
        // Only components AnnIndex::Load validates may be built (search/faiss_payload.h): an
        // index that can be created can always be saved and loaded again.
        faiss::VectorIOWriter writer;
        faiss::write_index(index_.get(), &writer);
        const std::string problem = FaissPayloadProblem(writer.data.data(), writer.data.size());
        if (!problem.empty()) {
          index_.reset();
          throw Error(codes::kInvalidArgument,
                      "factory '" + spec_.factory + "' builds an index crossmodal cannot save and load: " + problem);
        }
      } catch (const faiss::FaissException& e) {
        throw Error(codes::kInvalidArgument,
                    "factory '" + spec_.factory + "' is not a valid FAISS index_factory string: " + e.what());
      } catch (const std::logic_error& e) {  // std::stoi's invalid_argument / out_of_range
        throw Error(codes::kInvalidArgument,
                    "factory '" + spec_.factory + "' is not a valid FAISS index_factory string: " + e.what());
      }
      break;
  }
  labels_.clear();
  slots_.clear();
  dead_.clear();
  dead_count_ = 0;
  live_.store(slots_.size(), std::memory_order_release);
}

bool AnnIndex::NeedsTraining() const { return !index_ || !index_->is_trained; }

// Flat and plain IVF can delete for real; the others keep tombstones until Rebuild().
bool AnnIndex::PhysicalRemoval() const {
  if (spec_.type == IndexType::kFlat) return true;
  if (spec_.type == IndexType::kIvfFlat) return true;
  if (spec_.type == IndexType::kIvfPq) return spec_.refine_factor == 0;
  return false;
}

bool AnnIndex::CanReconstruct() const {
  switch (spec_.type) {
    case IndexType::kFlat:
    case IndexType::kHnsw:
    case IndexType::kIvfFlat:
      return true;
    case IndexType::kIvfPq:
      return spec_.refine_factor > 0;
    case IndexType::kFactory:
      return false;
  }
  return false;
}

// Plain IVF indexes take our slot numbers as their ids (so removing entries never renumbers the
// others); flat and graph indexes number rows themselves and we mirror that.
static bool UsesExplicitSlots(const IndexSpec& spec) {
  return spec.type == IndexType::kIvfFlat || (spec.type == IndexType::kIvfPq && spec.refine_factor == 0);
}

IndexInfo AnnIndex::Info() const {
  std::shared_lock lock(mutex_);
  IndexInfo info;
  info.spec = spec_;
  info.size = slots_.size();
  info.slots = labels_.size();
  info.tombstones = dead_count_;
  info.trained = !NeedsTraining();
  info.mmapped = mmapped_;
  info.can_reconstruct = CanReconstruct();
  info.fingerprint = fingerprint_;
  info.gpu.requested = device_;
  info.gpu.reason = cpu_reason_;
#ifdef CROSSMODAL_WITH_FAISS_GPU
  if (replica_) {
    info.gpu.device = replica_->device();
    info.gpu.reason = replica_->failure();
    info.gpu.active = info.gpu.reason.empty();
  }
#endif
  info.gpu.gpu_searches = gpu_searches_.load(std::memory_order_relaxed);
  info.gpu.cpu_fallbacks = cpu_fallbacks_.load(std::memory_order_relaxed);
  {
    std::lock_guard fallback_lock(fallback_mutex_);
    info.gpu.last_fallback = last_fallback_;
  }
  switch (spec_.type) {
    case IndexType::kFlat:
      info.description = "Flat";
      break;
    case IndexType::kHnsw:
      info.description = "HNSW" + std::to_string(spec_.hnsw_m) + ",Flat";
      break;
    case IndexType::kIvfFlat:
      info.description = "IVF" + std::to_string(spec_.nlist) + ",Flat";
      break;
    case IndexType::kIvfPq:
      info.description = "IVF" + std::to_string(spec_.nlist) + ",PQ" + std::to_string(EffectivePqM(spec_)) + "x" +
                         std::to_string(spec_.pq_bits) + (spec_.refine_factor > 0 ? ",RFlat" : "");
      break;
    case IndexType::kFactory:
      info.description = spec_.factory;
      break;
  }
  return info;
}

std::vector<float> AnnIndex::Prepare(const float* vectors, size_t count) const {
  const size_t dim = spec_.dim;
  for (size_t i = 0; i < count * dim; ++i) {
    if (!std::isfinite(vectors[i])) {
      throw Error(codes::kInvalidArgument, "vector " + std::to_string(i / dim) + " contains NaN or Infinity");
    }
  }
  std::vector<float> data(vectors, vectors + count * dim);
  if (spec_.metric == Metric::kCosine) NormalizeRows(data.data(), count, dim);
  return data;
}

void AnnIndex::Train(const float* vectors, size_t count) {
  std::vector<float> data = Prepare(vectors, count);
  std::unique_lock lock(mutex_);
  if (mmapped_) throw Error(codes::kIndex, "the index was loaded with mmap and is read-only");
  if (!labels_.empty()) throw Error(codes::kIndex, "the index already holds vectors; use rebuild() to re-train it");
  if (spec_.type != IndexType::kIvfFlat && spec_.type != IndexType::kIvfPq && spec_.type != IndexType::kFactory) return;
  ++version_;
  if (spec_.type != IndexType::kFactory) {
    if (spec_.nlist_auto) spec_.nlist = 0;
    CreateEmpty();  // forget an earlier training
  }
  TrainLocked(data.data(), count);
}

void AnnIndex::TrainLocked(const float* data, size_t count) {
  const bool ivf = spec_.type == IndexType::kIvfFlat || spec_.type == IndexType::kIvfPq;
  if (ivf && spec_.nlist == 0) {
    spec_.nlist = AutoNlist(count);
    CreateEmpty();
  }
  if (!index_) CreateEmpty();
  if (index_->is_trained) return;
  size_t needed = 1;
  if (ivf) needed = static_cast<size_t>(spec_.nlist);
  if (spec_.type == IndexType::kIvfPq) needed = std::max(needed, size_t{1} << spec_.pq_bits);
  if (count < needed) {
    throw Error(codes::kIndex, std::string(IndexTypeName(spec_.type)) + " index needs training on at least " +
                                   std::to_string(needed) + " vectors (got " + std::to_string(count) +
                                   "): call train() with a sample, or add at least that many at once");
  }
  // k-means gains nothing from more than train_per_list points per centroid; a strided sample
  // keeps training time bounded and deterministic.
  size_t limit = ivf ? static_cast<size_t>(spec_.nlist) * static_cast<size_t>(spec_.train_per_list) : count;
  if (spec_.type == IndexType::kIvfPq) limit = std::max(limit, size_t{64} << spec_.pq_bits);
  const float* sample = data;
  std::vector<float> strided;
  size_t n = count;
  if (count > limit) {
    strided.resize(limit * spec_.dim);
    for (size_t i = 0; i < limit; ++i) {
      const size_t src = i * count / limit;
      std::copy(data + src * spec_.dim, data + (src + 1) * spec_.dim, strided.data() + i * spec_.dim);
    }
    sample = strided.data();
    n = limit;
  }
  Faiss("train", [&] { index_->train(static_cast<idx_t>(n), sample); });
}

void AnnIndex::Add(const float* vectors, size_t count, const int64_t* ids, bool upsert) {
  if (count == 0) return;
  std::vector<float> data = Prepare(vectors, count);
  std::unique_lock lock(mutex_);
  const uint64_t before = version_++;  // bumped first: a failed add may have changed the structure
#ifdef CROSSMODAL_WITH_FAISS_GPU
  const faiss::Index* structure = index_.get();
  const bool was_trained = !NeedsTraining();
  const size_t first_slot = labels_.size();
  const size_t live_before = slots_.size();
#endif
  AddLocked(data.data(), count, ids, upsert);
  live_.store(slots_.size(), std::memory_order_release);
#ifdef CROSSMODAL_WITH_FAISS_GPU
  // A pure append (no training, no replaced ids) extends an up-to-date replica in place.
  if (replica_ && was_trained && index_.get() == structure && labels_.size() == first_slot + count &&
      slots_.size() == live_before + count) {
    replica_->Append(before, version_, static_cast<int64_t>(count), data.data(), static_cast<int64_t>(first_slot),
                     spec_.type != IndexType::kFlat);
  }
#else
  (void)before;
#endif
}

void AnnIndex::AddLocked(const float* data, size_t count, const int64_t* ids, bool upsert) {
  if (mmapped_) throw Error(codes::kIndex, "the index was loaded with mmap and is read-only");
  std::vector<int64_t> new_ids(count);
  if (ids != nullptr) {
    std::copy(ids, ids + count, new_ids.begin());
  } else {
    std::iota(new_ids.begin(), new_ids.end(), next_id_);
  }
  std::vector<int64_t> sorted = new_ids;
  std::sort(sorted.begin(), sorted.end());
  std::vector<int64_t> replaced;
  for (size_t i = 0; i < count; ++i) {
    if (sorted[i] < 0) throw Error(codes::kInvalidArgument, "ids must be non-negative");
    if (i > 0 && sorted[i] == sorted[i - 1]) {
      throw Error(codes::kIndex, "id " + std::to_string(sorted[i]) + " appears twice in one add()");
    }
    if (slots_.count(sorted[i]) != 0) {
      if (!upsert) throw Error(codes::kIndex, "id " + std::to_string(sorted[i]) + " is already in the index");
      replaced.push_back(sorted[i]);
    }
  }
  if (NeedsTraining()) TrainLocked(data, count);
  if (!replaced.empty()) RemoveLocked(replaced.data(), replaced.size());

  const size_t first_slot = labels_.size();
  if (first_slot + count > static_cast<size_t>(std::numeric_limits<int32_t>::max()) && spec_.type == IndexType::kHnsw) {
    throw Error(codes::kIndex, "HNSW indexes hold at most 2^31 - 1 vectors");
  }
  if (UsesExplicitSlots(spec_)) {
    std::vector<idx_t> slot_ids(count);
    std::iota(slot_ids.begin(), slot_ids.end(), static_cast<idx_t>(first_slot));
    Faiss("add", [&] { index_->add_with_ids(static_cast<idx_t>(count), data, slot_ids.data()); });
  } else {
    Faiss("add", [&] { index_->add(static_cast<idx_t>(count), data); });
  }
  // The add may have re-allocated the storage and graph arrays (std::vector growth).
  AdviseIndexHugePages(index_.get());
  labels_.insert(labels_.end(), new_ids.begin(), new_ids.end());
  for (size_t i = 0; i < count; ++i) slots_[new_ids[i]] = static_cast<int64_t>(first_slot + i);
  dead_.resize((labels_.size() + 7) / 8, 0);
  next_id_ = std::max(next_id_, sorted.back() + 1);
}

size_t AnnIndex::Remove(const int64_t* ids, size_t count) {
  std::unique_lock lock(mutex_);
  if (mmapped_) throw Error(codes::kIndex, "the index was loaded with mmap and is read-only");
  size_t removed = 0;
  try {
    removed = RemoveLocked(ids, count);
  } catch (...) {
    ++version_;
    throw;
  }
  if (removed > 0) ++version_;
  live_.store(slots_.size(), std::memory_order_release);
  return removed;
}

size_t AnnIndex::RemoveLocked(const int64_t* ids, size_t count) {
  std::vector<idx_t> slots;
  for (size_t i = 0; i < count; ++i) {
    auto it = slots_.find(ids[i]);
    if (it == slots_.end()) continue;
    slots.push_back(it->second);
    slots_.erase(it);
  }
  if (slots.empty()) return 0;
  std::sort(slots.begin(), slots.end());
  if (!PhysicalRemoval()) {
    for (idx_t slot : slots) {
      SetBit(dead_, static_cast<size_t>(slot));
      labels_[static_cast<size_t>(slot)] = -1;
    }
    dead_count_ += slots.size();
    return slots.size();
  }
  if (spec_.type == IndexType::kFlat) {
    faiss::IDSelectorBatch selector(slots.size(), slots.data());
    Faiss("remove", [&] { index_->remove_ids(selector); });
    // IndexFlat closes the gaps keeping order; mirror that in the slot table.
    std::vector<int64_t> kept;
    kept.reserve(labels_.size() - slots.size());
    size_t r = 0;
    for (size_t s = 0; s < labels_.size(); ++s) {
      if (r < slots.size() && static_cast<size_t>(slots[r]) == s) {
        ++r;
        continue;
      }
      kept.push_back(labels_[s]);
    }
    labels_.swap(kept);
    RebuildSlotMap();
    dead_.assign((labels_.size() + 7) / 8, 0);
  } else if (spec_.type == IndexType::kIvfFlat) {
    faiss::IDSelectorArray selector(slots.size(), slots.data());  // the hashtable map needs an array
    Faiss("remove", [&] { index_->remove_ids(selector); });
    for (idx_t slot : slots) labels_[static_cast<size_t>(slot)] = -1;
  } else {
    faiss::IDSelectorBatch selector(slots.size(), slots.data());
    Faiss("remove", [&] { index_->remove_ids(selector); });
    for (idx_t slot : slots) labels_[static_cast<size_t>(slot)] = -1;
  }
  return slots.size();
}

void AnnIndex::RebuildSlotMap() {
  slots_.clear();
  slots_.reserve(labels_.size());
  for (size_t s = 0; s < labels_.size(); ++s) {
    if (labels_[s] >= 0) slots_[labels_[s]] = static_cast<int64_t>(s);
  }
}

std::vector<uint8_t> AnnIndex::Has(const int64_t* ids, size_t count) const {
  std::shared_lock lock(mutex_);
  std::vector<uint8_t> out(count);
  for (size_t i = 0; i < count; ++i) out[i] = slots_.count(ids[i]) != 0 ? 1 : 0;
  return out;
}

bool AnnIndex::Reconstruct(int64_t id, float* out) const {
  std::shared_lock lock(mutex_);
  if (!CanReconstruct()) {
    throw Error(codes::kIndex, std::string(IndexTypeName(spec_.type)) +
                                   " index stores compressed codes only; reconstruct() needs flat, hnsw, ivf-flat "
                                   "or ivf-pq with refineFactor > 0");
  }
  auto it = slots_.find(id);
  if (it == slots_.end()) return false;
  Faiss("reconstruct", [&] {
    if (auto* refine = dynamic_cast<const faiss::IndexRefine*>(index_.get())) {
      refine->refine_index->reconstruct(it->second, out);
    } else {
      index_->reconstruct(it->second, out);
    }
  });
  return true;
}

std::vector<uint8_t> AnnIndex::FilterMask(const IdFilter& filter) const {
  std::vector<uint8_t> mask((labels_.size() + 7) / 8, 0);
  for (int64_t id : filter.ids) {
    auto it = slots_.find(id);
    if (it != slots_.end()) SetBit(mask, static_cast<size_t>(it->second));
  }
  return mask;
}

// Exact scores of one query against the given slots: a restrictive allow-list is answered by a
// direct scan of the stored vectors rather than by a graph or IVF walk that would find few of them.
void AnnIndex::ExactOverSlots(const float* query, const std::vector<int64_t>& slots, size_t k, int64_t* out_ids,
                              float* out_scores) const {
  std::vector<float> vec(spec_.dim);
  std::vector<std::pair<float, int64_t>> scored;
  scored.reserve(slots.size());
  const auto* refine = dynamic_cast<const faiss::IndexRefine*>(index_.get());
  const faiss::Index* store = refine != nullptr ? refine->refine_index : index_.get();
  const DistanceFn distance = spec_.metric == Metric::kL2 ? L2SquaredKernel() : InnerProductKernel();
  for (int64_t slot : slots) {
    store->reconstruct(slot, vec.data());
    const float s = distance(query, vec.data(), spec_.dim);
    scored.emplace_back(s, labels_[static_cast<size_t>(slot)]);
  }
  const size_t take = std::min(k, scored.size());
  const bool higher = HigherIsBetter(spec_.metric);
  std::partial_sort(scored.begin(), scored.begin() + static_cast<std::ptrdiff_t>(take), scored.end(),
                    [higher](const auto& a, const auto& b) {
                      if (a.first != b.first) return higher ? a.first > b.first : a.first < b.first;
                      return a.second < b.second;
                    });
  for (size_t j = 0; j < take; ++j) {
    out_scores[j] = scored[j].first;
    out_ids[j] = scored[j].second;
  }
}

#ifdef CROSSMODAL_WITH_FAISS_GPU
bool AnnIndex::TryGpuSearch(int64_t n, const float* x, int64_t k, int nprobe, bool filtered, float* distances,
                            int64_t* labels) const {
  if (!replica_) return false;
  const int limit = gpu::MaxSelection();
  std::string why;
  if (filtered) {
    why = "a filter was given (FAISS's GPU indexes take no ID selector)";
  } else if (k >= limit) {
    why = "k" + std::string(spec_.refine_factor > 0 && spec_.type == IndexType::kIvfPq ? " × refineFactor" : "") +
          " = " + std::to_string(k) + " is above the GPU's limit of " + std::to_string(limit - 1);
  } else if (nprobe >= limit) {
    why = "nprobe " + std::to_string(nprobe) + " is above the GPU's limit of " + std::to_string(limit - 1);
  } else {
    // The structure the replica mirrors: the IVF-PQ part of a refined index, else the index itself.
    const auto* refine = dynamic_cast<const faiss::IndexRefine*>(index_.get());
    const faiss::Index& source = refine != nullptr ? *refine->base_index : *index_;
    if (replica_->Search(source, version_, dead_count_ > 0 ? &dead_ : nullptr, n, x, k, nprobe, distances, labels,
                         &why)) {
      gpu_searches_.fetch_add(1, std::memory_order_relaxed);
      return true;
    }
  }
  NoteCpuFallback(why);
  return false;
}

void AnnIndex::NoteCpuFallback(const std::string& why) const {
  cpu_fallbacks_.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard fallback_lock(fallback_mutex_);
  last_fallback_ = why;
}
#else
// CPU build: searches never leave the CPU index.
bool AnnIndex::TryGpuSearch(int64_t, const float*, int64_t, int, bool, float*, int64_t*) const { return false; }
void AnnIndex::NoteCpuFallback(const std::string&) const {}
#endif

SearchResult::SearchResult(size_t queries, size_t k) : queries_(queries), k_(k) {
  // k is at most the index's size (AnnIndex::Search clamps it), so this is queries × live vectors
  // at worst; a failure still names the request rather than surfacing as a bare bad_alloc.
  if (k != 0 && queries > std::numeric_limits<size_t>::max() / k / (sizeof(int64_t) + sizeof(float))) {
    throw Error(codes::kResource, "search result of " + std::to_string(queries) + " queries x " + std::to_string(k) +
                                      " hits does not fit in memory");
  }
  storage_ = AllocationOf(
      "the search result buffer (" + std::to_string(queries) + " queries x " + std::to_string(k) + " hits)",
      [&] { return std::make_unique<std::byte[]>(std::max<size_t>(1, byte_size())); });
  std::fill_n(ids(), hits(), int64_t{-1});
  std::fill_n(scores(), hits(), kNaN);
}

SearchResult AnnIndex::Search(const float* queries, size_t count, size_t k, const SearchOptions& options) const {
  if (k == 0) throw Error(codes::kInvalidArgument, "k must be at least 1");
  std::vector<float> data = Prepare(queries, count);

  std::shared_lock lock(mutex_);
  // Clamped before any buffer is sized: there are never more hits than live vectors, and a huge k
  // on a small index would otherwise allocate queries × k result rows (and FAISS's k-sized heaps
  // and HNSW candidate lists) for nothing. The result has min(k, size) columns; an empty or
  // untrained index answers with zero columns.
  k = std::min(k, NeedsTraining() ? size_t{0} : slots_.size());
  SearchResult result(count, k);
  if (count == 0 || k == 0) return result;

  std::vector<uint8_t> mask;
  if (options.filter.active) {
    if (options.filter.allow && CanReconstruct()) {
      std::vector<int64_t> allowed;
      for (int64_t id : options.filter.ids) {
        auto it = slots_.find(id);
        if (it != slots_.end()) allowed.push_back(it->second);
      }
      std::sort(allowed.begin(), allowed.end());
      allowed.erase(std::unique(allowed.begin(), allowed.end()), allowed.end());
      if (allowed.size() <= 2048 || allowed.size() * 20 <= slots_.size()) {
        for (size_t q = 0; q < count; ++q) {
          ExactOverSlots(data.data() + q * spec_.dim, allowed, k, result.ids() + q * k, result.scores() + q * k);
        }
        return result;
      }
    }
    mask = FilterMask(options.filter);
  }

  SlotSelector selector;
  selector.dead = dead_count_ > 0 ? &dead_ : nullptr;
  selector.mask = options.filter.active ? &mask : nullptr;
  selector.allow = options.filter.allow;
  const bool need_selector = selector.dead != nullptr || selector.mask != nullptr;

  const idx_t n = static_cast<idx_t>(count);
  std::vector<idx_t> slots;
  std::vector<float> distances;
  AllocationOf("the search buffers (" + std::to_string(count) + " queries x " + std::to_string(k) + " hits)", [&] {
    slots.assign(count * k, -1);
    distances.assign(count * k, kNaN);
  });
  const auto* refined = dynamic_cast<const faiss::IndexRefine*>(index_.get());
  const faiss::IndexIVF* ivf =
      faiss::ivflib::try_extract_index_ivf(refined != nullptr ? refined->base_index : index_.get());
  const int nprobe = [&] {
    if (ivf == nullptr) return 0;
    int p = options.nprobe > 0 ? options.nprobe : spec_.nprobe > 0 ? spec_.nprobe : DefaultNprobe(ivf->nlist);
    return std::min<int>(p, static_cast<int>(ivf->nlist));
  }();

  Faiss("search", [&] {
    if (auto* refine = dynamic_cast<const faiss::IndexRefine*>(index_.get())) {
      // IndexRefine in FAISS 1.7.3 refuses SearchParameters, so the PQ candidates come from the
      // base index with our parameters and are re-ranked here against the exact vectors.
      const size_t k_base = std::min(k * static_cast<size_t>(std::max(1, spec_.refine_factor)), labels_.size());
      std::vector<idx_t> cand(count * k_base, -1);
      std::vector<float> cand_d(count * k_base);
      if (!TryGpuSearch(n, data.data(), static_cast<idx_t>(k_base), nprobe, options.filter.active, cand_d.data(),
                        cand.data())) {
        faiss::SearchParametersIVF params;
        params.nprobe = static_cast<size_t>(nprobe);
        params.sel = need_selector ? &selector : nullptr;
        refine->base_index->search(n, data.data(), static_cast<idx_t>(k_base), cand_d.data(), cand.data(), &params);
      }
      const auto* exact = static_cast<const faiss::IndexFlat*>(refine->refine_index);
      const bool higher = HigherIsBetter(spec_.metric);
      const DistanceFn distance = higher ? InnerProductKernel() : L2SquaredKernel();
#pragma omp parallel for if (count > 1)
      for (idx_t q = 0; q < n; ++q) {
        std::vector<std::pair<float, idx_t>> scored;
        const float* x = data.data() + q * spec_.dim;
        for (size_t j = 0; j < k_base; ++j) {
          const idx_t slot = cand[q * k_base + j];
          // Load checked every base label against the exact rows (CheckLabelRange); kept as the
          // memory-safety invariant of this pointer arithmetic.
          if (slot < 0 || slot >= exact->ntotal) continue;
          const float* v = exact->get_xb() + slot * spec_.dim;
          const float s = distance(x, v, spec_.dim);
          scored.emplace_back(s, slot);
        }
        const size_t take = std::min(k, scored.size());
        std::partial_sort(
            scored.begin(), scored.begin() + static_cast<std::ptrdiff_t>(take), scored.end(),
            [higher](const auto& a, const auto& b) { return higher ? a.first > b.first : a.first < b.first; });
        for (size_t j = 0; j < take; ++j) {
          distances[q * k + j] = scored[j].first;
          slots[q * k + j] = scored[j].second;
        }
      }
      return;
    }
    if (TryGpuSearch(n, data.data(), static_cast<idx_t>(k), nprobe, options.filter.active, distances.data(),
                     slots.data())) {
      return;
    }
    if (spec_.type == IndexType::kHnsw || dynamic_cast<const faiss::IndexHNSW*>(index_.get()) != nullptr) {
      faiss::SearchParametersHNSW params;
      const int ef = std::max<int>(options.ef_search > 0 ? options.ef_search : spec_.ef_search, static_cast<int>(k));
      params.efSearch = ef;
      params.sel = need_selector ? &selector : nullptr;
      auto* hnsw = dynamic_cast<faiss::IndexHNSW*>(index_.get());
      if (CanUseHnswSearch(*hnsw)) {
        HnswSearch(*hnsw, count, data.data(), k, ef, params.sel, distances.data(), slots.data());
        return;
      }
      for (;;) {
        std::shared_lock ef_lock(ef_mutex_);
        if (hnsw->hnsw.efSearch == ef) {
          index_->search(n, data.data(), static_cast<idx_t>(k), distances.data(), slots.data(), &params);
          break;
        }
        ef_lock.unlock();
        std::unique_lock set_ef(ef_mutex_);
        hnsw->hnsw.efSearch = ef;
      }
    } else if (ivf != nullptr && ivf == index_.get()) {
      faiss::SearchParametersIVF params;
      params.nprobe = static_cast<size_t>(nprobe);
      params.sel = need_selector ? &selector : nullptr;
      index_->search(n, data.data(), static_cast<idx_t>(k), distances.data(), slots.data(), &params);
    } else if (need_selector) {
      faiss::SearchParameters params;
      params.sel = &selector;
      index_->search(n, data.data(), static_cast<idx_t>(k), distances.data(), slots.data(), &params);
    } else {
      // No parameters: flat indexes then take FAISS's BLAS path for batches.
      index_->search(n, data.data(), static_cast<idx_t>(k), distances.data(), slots.data());
    }
  });

  for (size_t q = 0; q < count; ++q) {
    size_t out = 0;
    for (size_t j = 0; j < k; ++j) {
      const idx_t slot = slots[q * k + j];
      if (slot < 0 || static_cast<size_t>(slot) >= labels_.size()) continue;
      const int64_t id = labels_[static_cast<size_t>(slot)];
      if (id < 0) continue;
      result.ids()[q * k + out] = id;
      result.scores()[q * k + out] = distances[q * k + j];
      ++out;
    }
  }
  return result;
}

RangeResult AnnIndex::RangeSearch(const float* queries, size_t count, float threshold,
                                  const SearchOptions& options) const {
  if (!std::isfinite(threshold)) throw Error(codes::kInvalidArgument, "threshold must be a finite number");
  std::vector<float> data = Prepare(queries, count);
  RangeResult result;
  result.queries = count;
  result.offsets.assign(count + 1, 0);
  if (count == 0) return result;

  std::shared_lock lock(mutex_);
  if (slots_.empty() || NeedsTraining()) return result;
  std::vector<uint8_t> mask;
  if (options.filter.active) mask = FilterMask(options.filter);
  SlotSelector selector;
  selector.dead = dead_count_ > 0 ? &dead_ : nullptr;
  selector.mask = options.filter.active ? &mask : nullptr;
  selector.allow = options.filter.allow;
  const bool need_selector = selector.dead != nullptr || selector.mask != nullptr;

#ifdef CROSSMODAL_WITH_FAISS_GPU
  if (replica_) NoteCpuFallback("rangeSearch runs on the CPU (FAISS's GPU indexes have no range search)");
#endif
  const bool higher = HigherIsBetter(spec_.metric);
  // FAISS keeps inner products strictly above the radius; step just below so `threshold` itself counts.
  const float radius = higher ? std::nextafter(threshold, -std::numeric_limits<float>::infinity()) : threshold;
  faiss::RangeSearchResult raw(static_cast<idx_t>(count));
  const idx_t n = static_cast<idx_t>(count);
  Faiss("rangeSearch", [&] {
    // HNSW and refined IVF-PQ keep the exact vectors in a flat store: range search there is exact.
    const faiss::Index* target = index_.get();
    if (auto* hnsw = dynamic_cast<const faiss::IndexHNSW*>(index_.get())) target = hnsw->storage;
    if (auto* refine = dynamic_cast<const faiss::IndexRefine*>(index_.get())) target = refine->refine_index;
    const faiss::IndexIVF* ivf = faiss::ivflib::try_extract_index_ivf(target);
    if (ivf != nullptr && ivf == target) {
      faiss::SearchParametersIVF params;
      params.nprobe = static_cast<size_t>(options.nprobe > 0 ? options.nprobe
                                          : spec_.nprobe > 0 ? spec_.nprobe
                                                             : DefaultNprobe(ivf->nlist));
      params.sel = need_selector ? &selector : nullptr;
      target->range_search(n, data.data(), radius, &raw, &params);
    } else if (need_selector) {
      faiss::SearchParameters params;
      params.sel = &selector;
      target->range_search(n, data.data(), radius, &raw, &params);
    } else {
      target->range_search(n, data.data(), radius, &raw);
    }
  });

  for (size_t q = 0; q < count; ++q) {
    std::vector<std::pair<float, int64_t>> hits;
    for (size_t j = raw.lims[q]; j < raw.lims[q + 1]; ++j) {
      const idx_t slot = raw.labels[j];
      if (slot < 0 || static_cast<size_t>(slot) >= labels_.size()) continue;
      const int64_t id = labels_[static_cast<size_t>(slot)];
      if (id >= 0) hits.emplace_back(raw.distances[j], id);
    }
    std::sort(hits.begin(), hits.end(), [higher](const auto& a, const auto& b) {
      if (a.first != b.first) return higher ? a.first > b.first : a.first < b.first;
      return a.second < b.second;
    });
    for (const auto& [score, id] : hits) {
      result.scores.push_back(score);
      result.ids.push_back(id);
    }
    result.offsets[q + 1] = result.ids.size();
  }
  return result;
}

void AnnIndex::Rebuild() {
  std::unique_lock lock(mutex_);
  if (mmapped_) throw Error(codes::kIndex, "the index was loaded with mmap and is read-only");
  if (!CanReconstruct()) {
    throw Error(codes::kIndex,
                std::string(IndexTypeName(spec_.type)) +
                    " index cannot be rebuilt from its compressed codes; add the vectors to a new index");
  }
  std::vector<int64_t> ids;
  std::vector<float> vectors;
  ids.reserve(slots_.size());
  vectors.reserve(slots_.size() * spec_.dim);
  std::vector<float> vec(spec_.dim);
  const auto* refine = dynamic_cast<const faiss::IndexRefine*>(index_.get());
  const faiss::Index* store = refine != nullptr ? refine->refine_index : index_.get();
  for (size_t s = 0; s < labels_.size(); ++s) {
    if (labels_[s] < 0) continue;
    Faiss("reconstruct", [&] { store->reconstruct(static_cast<idx_t>(s), vec.data()); });
    ids.push_back(labels_[s]);
    vectors.insert(vectors.end(), vec.begin(), vec.end());
  }
  IndexSpec requested = spec_;
  if (requested.nlist_auto) requested.nlist = 0;
  requested.device = SearchDevice::kCpu;  // the placement stays with this object
  // Built aside and swapped in, so a failure (e.g. too few vectors to re-train) leaves the index as it was.
  AnnIndex fresh(requested);
  if (!ids.empty()) fresh.AddLocked(vectors.data(), ids.size(), ids.data(), false);
  ++version_;
#ifdef CROSSMODAL_WITH_FAISS_GPU
  if (replica_) replica_->Release();  // its source is about to be destroyed; rebuilt by the next search
#endif
  spec_ = fresh.spec_;
  spec_.device = device_;
  spec_.device_id = device_id_;
  index_ = std::move(fresh.index_);
  labels_ = std::move(fresh.labels_);
  slots_ = std::move(fresh.slots_);
  dead_ = std::move(fresh.dead_);
  dead_count_ = 0;
  live_.store(slots_.size(), std::memory_order_release);
}

}  // namespace crossmodal::search
