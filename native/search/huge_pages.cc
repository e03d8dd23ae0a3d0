#include "search/huge_pages.h"

#include <faiss/IndexFlatCodes.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIDMap.h>
#include <faiss/IndexIVF.h>
#include <faiss/IndexPreTransform.h>
#include <faiss/IndexRefine.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#if defined(__linux__)
#include <sys/mman.h>
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25  // Linux 6.1; glibc 2.36's headers predate it
#endif
#endif

namespace crossmodal::search {
namespace {

constexpr uintptr_t kHugePage = uintptr_t{2} << 20;
// Below this a region fits a handful of huge pages at best and the TLB covers it anyway.
constexpr size_t kMinBytes = size_t{8} << 20;

bool Enabled() {
  static const bool enabled = [] {
    const char* v = std::getenv("CROSSMODAL_HUGE_PAGES");
    return v == nullptr || std::strcmp(v, "0") != 0;
  }();
  return enabled;
}

template <typename T>
void AdviseVector(const std::vector<T>& v) {
  AdviseHugePages(v.data(), v.size() * sizeof(T), v.capacity() * sizeof(T));
}

}  // namespace

void AdviseHugePages(const void* data, size_t used_bytes, size_t capacity_bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  if (!Enabled() || data == nullptr || capacity_bytes < kMinBytes) return;
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(data) + kHugePage - 1) & ~(kHugePage - 1);
  const uintptr_t capacity_end = (reinterpret_cast<uintptr_t>(data) + capacity_bytes) & ~(kHugePage - 1);
  const uintptr_t used_end = (reinterpret_cast<uintptr_t>(data) + used_bytes) & ~(kHugePage - 1);
  if (capacity_end <= begin) return;
  // Both calls are hints: their failures (no THP, no MADV_COLLAPSE, no free huge pages) leave the
  // memory exactly as it was. The range never leaves the allocation: begin and ends are rounded
  // inwards.
  if (::madvise(reinterpret_cast<void*>(begin), capacity_end - begin, MADV_HUGEPAGE) != 0) return;
  // Already-collapsed 2 MiB ranges are skipped by the kernel, so repeating this after every add
  // costs a walk over the page-table entries, not a copy.
  if (used_end > begin) ::madvise(reinterpret_cast<void*>(begin), used_end - begin, MADV_COLLAPSE);
#else
  (void)data;
  (void)used_bytes;
  (void)capacity_bytes;
#endif
}

void AdviseIndexHugePages(const faiss::Index* index) {
  if (index == nullptr || !Enabled()) return;
  if (const auto* flat = dynamic_cast<const faiss::IndexFlatCodes*>(index)) {
    AdviseVector(flat->codes);
  } else if (const auto* hnsw = dynamic_cast<const faiss::IndexHNSW*>(index)) {
    AdviseIndexHugePages(hnsw->storage);
    AdviseVector(hnsw->hnsw.neighbors);
    AdviseVector(hnsw->hnsw.offsets);
  } else if (const auto* ivf = dynamic_cast<const faiss::IndexIVF*>(index)) {
    AdviseIndexHugePages(ivf->quantizer);
  } else if (const auto* refine = dynamic_cast<const faiss::IndexRefine*>(index)) {
    AdviseIndexHugePages(refine->base_index);
    AdviseIndexHugePages(refine->refine_index);
  } else if (const auto* pre = dynamic_cast<const faiss::IndexPreTransform*>(index)) {
    AdviseIndexHugePages(pre->index);
  } else if (const auto* id_map = dynamic_cast<const faiss::IndexIDMap*>(index)) {
    AdviseIndexHugePages(id_map->index);
  }
}

}  // namespace crossmodal::search
