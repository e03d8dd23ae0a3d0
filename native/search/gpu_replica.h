// A GPU copy of a flat or IVF index, used for unfiltered searches. Compiled and included only when
// CROSSMODAL_WITH_FAISS_GPU is on (a CUDA-enabled FAISS; see "GPU search" in the README): the CPU
// build neither compiles nor includes this file.
//
// The CPU index owned by AnnIndex stays the source of truth (training, add, remove, reconstruct,
// persistence, filtered and range searches). A Replica mirrors it on one CUDA device through
// faiss::gpu::index_cpu_to_gpu and is identified by the AnnIndex generation (`version`) it was
// made from: every mutation bumps the generation, and the next search that wants the GPU rebuilds
// the copy (lazily, under the replica's own mutex, while the AnnIndex reader lock keeps the CPU
// index still). Pure appends are applied to an up-to-date copy in place instead (Append), so an
// add-then-search loop does not re-upload the whole index each time.
//
// GPU work is serialised per device: one process-wide faiss::gpu::StandardGpuResources per device,
// created on first use, and a per-device mutex around every call into FAISS's GPU code (neither
// GpuResources nor a GPU index may be used from two CPU threads at once).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace faiss {
struct Index;
}

namespace crossmodal::search::gpu {

// Number of usable CUDA devices. 0 with `why` set when there is none or the CUDA runtime cannot be
// used (no driver, driver too old for the runtime, ...). Never aborts: unlike
// faiss::gpu::getNumDevices(), which treats every CUDA error but cudaErrorNoDevice as fatal.
int DeviceCount(std::string* why);

// Largest k and nprobe the GPU k-selection takes, exclusive (FAISS rejects k >= this).
int MaxSelection();

class Replica {
 public:
  // `float16_lookup_tables`: IVF-PQ with more than 48 sub-quantizers needs them (shared memory).
  Replica(int device, bool float16_lookup_tables);
  ~Replica();
  Replica(const Replica&) = delete;
  Replica& operator=(const Replica&) = delete;

  int device() const { return device_; }

  // Searches a copy of `source` as of generation `version`, building it first when it is missing
  // or older. `dead` (a bitmap over slots, may be null) lists entries to leave out of the copy:
  // the tombstones of a refined IVF-PQ. nprobe 0 for flat indexes. Results are in the source's
  // slot numbering. Returns false, with `why`, when the copy cannot be made (the caller then
  // searches the CPU index); a failed build is not retried until the generation changes.
  bool Search(const faiss::Index& source, uint64_t version, const std::vector<uint8_t>* dead, int64_t n, const float* x,
              int64_t k, int nprobe, float* distances, int64_t* labels, std::string* why);

  // Applies an append (vectors `x` stored at slots first_slot .. first_slot + n - 1) when the copy
  // is exactly at generation `from`, moving it to `to`; otherwise leaves it to be rebuilt lazily.
  // `explicit_ids`: the source is an IVF index keyed by slot (flat copies number rows themselves).
  void Append(uint64_t from, uint64_t to, int64_t n, const float* x, int64_t first_slot, bool explicit_ids);

  // Frees the GPU copy now (e.g. before the CPU index is replaced by a rebuild).
  void Release();

  // The reason the last build failed ('' when the copy is usable or not yet built).
  std::string failure() const;

 private:
  bool SyncLocked(const faiss::Index& source, uint64_t version, const std::vector<uint8_t>* dead, std::string* why);

  const int device_;
  const bool float16_lookup_tables_;
  mutable std::mutex mutex_;
  std::unique_ptr<faiss::Index> index_;  // a faiss::gpu::GpuIndex*
  uint64_t version_ = 0;                 // generation of index_ (meaningful when index_ is set)
  bool failed_ = false;                  // the build for failed_version_ failed
  uint64_t failed_version_ = 0;
  std::string failure_;
};

}  // namespace crossmodal::search::gpu
