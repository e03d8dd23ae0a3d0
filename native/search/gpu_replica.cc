// GPU replicas of flat / IVF indexes (see gpu_replica.h). Built only with CROSSMODAL_WITH_FAISS_GPU.
#include "search/gpu_replica.h"

#include <cuda_runtime_api.h>
#include <faiss/IndexIVF.h>
#include <faiss/clone_index.h>
#include <faiss/gpu/GpuCloner.h>
#include <faiss/gpu/GpuClonerOptions.h>
#include <faiss/gpu/GpuIndex.h>
#include <faiss/gpu/StandardGpuResources.h>
#include <faiss/gpu/impl/IndexUtils.h>
#include <faiss/impl/IDSelector.h>

#include <exception>
#include <map>
#include <numeric>
#include <stdexcept>
#include <type_traits>

#ifndef CROSSMODAL_WITH_FAISS_GPU
#error "gpu_replica.cc is only part of builds with CROSSMODAL_WITH_FAISS_GPU (see CMakeLists.txt)"
#endif

namespace crossmodal::search::gpu {
namespace {

using idx_t = faiss::Index::idx_t;
static_assert(std::is_same_v<idx_t, int64_t>, "FAISS ids are expected to be 64-bit");

// One StandardGpuResources (cuBLAS handle, streams, temporary memory) per device for the whole
// process, shared by every index on that device, and the mutex that serialises their GPU work.
struct DeviceContext {
  std::mutex mutex;
  faiss::gpu::StandardGpuResources resources;  // allocates nothing on the device until first used
};

DeviceContext& Context(int device) {
  static std::mutex registry_mutex;
  // Leaked on purpose: destroying CUDA objects from a static destructor can run after the CUDA
  // runtime has shut down at process exit, which crashes; the driver reclaims everything anyway.
  static auto* registry = new std::map<int, std::unique_ptr<DeviceContext>>();
  std::lock_guard lock(registry_mutex);
  std::unique_ptr<DeviceContext>& slot = (*registry)[device];
  if (!slot) slot = std::make_unique<DeviceContext>();
  return *slot;
}

std::vector<idx_t> SetBits(const std::vector<uint8_t>* bits) {
  std::vector<idx_t> out;
  if (bits == nullptr) return out;
  for (size_t byte = 0; byte < bits->size(); ++byte) {
    const uint8_t b = (*bits)[byte];
    if (b == 0) continue;
    for (int bit = 0; bit < 8; ++bit) {
      if ((b >> bit) & 1) out.push_back(static_cast<idx_t>(byte * 8 + static_cast<size_t>(bit)));
    }
  }
  return out;
}

}  // namespace

int DeviceCount(std::string* why) {
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    (void)cudaGetLastError();  // leave no error pending for the next CUDA call
    *why = std::string("CUDA is unavailable: ") + cudaGetErrorName(err) + " (" + cudaGetErrorString(err) + ")";
    return 0;
  }
  if (count <= 0) {
    *why = "no CUDA device is visible";
    return 0;
  }
  return count;
}

int MaxSelection() { return faiss::gpu::getMaxKSelection(); }

Replica::Replica(int device, bool float16_lookup_tables)
    : device_(device), float16_lookup_tables_(float16_lookup_tables) {}

Replica::~Replica() { Release(); }

void Replica::Release() {
  std::lock_guard lock(mutex_);
  if (!index_) return;
  DeviceContext& ctx = Context(device_);
  std::lock_guard device_lock(ctx.mutex);  // freeing goes through the shared resources' allocator
  index_.reset();
}

std::string Replica::failure() const {
  std::lock_guard lock(mutex_);
  return failed_ ? failure_ : std::string();
}

bool Replica::SyncLocked(const faiss::Index& source, uint64_t version, const std::vector<uint8_t>* dead,
                         std::string* why) {
  if (index_ && version_ == version) return true;
  if (!index_ && failed_ && failed_version_ == version) {
    *why = failure_;
    return false;
  }
  DeviceContext& ctx = Context(device_);
  try {
    // Tombstoned entries (refined IVF-PQ) are left out of the copy, so unfiltered GPU searches
    // need no ID selector: prune a CPU clone of the IVF index, then upload that.
    const faiss::Index* from = &source;
    std::unique_ptr<faiss::Index> pruned;
    const std::vector<idx_t> drop = SetBits(dead);
    if (!drop.empty()) {
      pruned.reset(faiss::clone_index(&source));
      faiss::IDSelectorBatch selector(drop.size(), drop.data());
      pruned->remove_ids(selector);
      from = pruned.get();
    }
    faiss::gpu::GpuClonerOptions options;  // float32 vectors and coarse quantizer, 64-bit ids
    // Only IVF-PQ reads this (float16 residual lookup tables); for flat it would mean float16 storage.
    options.useFloat16 = float16_lookup_tables_;
    std::lock_guard device_lock(ctx.mutex);
    index_.reset();  // free the stale copy before allocating the new one
    index_.reset(faiss::gpu::index_cpu_to_gpu(&ctx.resources, device_, from, &options));
    if (index_->ntotal != from->ntotal) {
      throw std::runtime_error("the GPU copy holds " + std::to_string(index_->ntotal) + " vectors instead of " +
                               std::to_string(from->ntotal));
    }
    version_ = version;
    failed_ = false;
    failure_.clear();
    return true;
  } catch (const std::exception& e) {
    {
      std::lock_guard device_lock(ctx.mutex);
      index_.reset();
    }
    failed_ = true;
    failed_version_ = version;
    failure_ = "could not copy the index to GPU " + std::to_string(device_) + ": " + e.what();
    *why = failure_;
    return false;
  }
}

bool Replica::Search(const faiss::Index& source, uint64_t version, const std::vector<uint8_t>* dead, int64_t n,
                     const float* x, int64_t k, int nprobe, float* distances, int64_t* labels, std::string* why) {
  std::lock_guard lock(mutex_);
  if (!SyncLocked(source, version, dead, why)) return false;
  DeviceContext& ctx = Context(device_);
  std::lock_guard device_lock(ctx.mutex);
  try {
    if (nprobe > 0) {
      // GpuIndexIVF takes nprobe per call through SearchParametersIVF (no shared state to set).
      // Never pass an ID selector: FAISS 1.7.3's GPU indexes ignore `sel` silently.
      faiss::SearchParametersIVF params;
      params.nprobe = static_cast<size_t>(nprobe);
      index_->search(n, x, k, distances, labels, &params);
    } else {
      index_->search(n, x, k, distances, labels);
    }
  } catch (const std::exception& e) {
    *why = std::string("GPU search failed: ") + e.what();
    return false;
  }
  return true;
}

void Replica::Append(uint64_t from, uint64_t to, int64_t n, const float* x, int64_t first_slot, bool explicit_ids) {
  std::lock_guard lock(mutex_);
  if (!index_ || version_ != from || n <= 0) return;
  DeviceContext& ctx = Context(device_);
  std::lock_guard device_lock(ctx.mutex);
  try {
    if (explicit_ids) {
      std::vector<idx_t> ids(static_cast<size_t>(n));
      std::iota(ids.begin(), ids.end(), static_cast<idx_t>(first_slot));
      index_->add_with_ids(n, x, ids.data());
    } else {
      // Flat copies number rows themselves: only an exact continuation keeps slots aligned.
      if (index_->ntotal != first_slot) throw std::runtime_error("out of step");
      index_->add(n, x);
    }
    version_ = to;
  } catch (const std::exception&) {
    index_.reset();  // rebuilt from the CPU index by the next search
  }
}

}  // namespace crossmodal::search::gpu
