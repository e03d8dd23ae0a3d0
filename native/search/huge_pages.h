// Transparent huge pages for the large arrays of an index.
//
// An HNSW search (and a flat scan of a batch) reads vectors scattered over the whole storage. With
// 4 KiB pages a 1M × 512-d index spans 500k pages, far beyond the TLB, so nearly every vector read
// pays a page walk; with 2 MiB pages the same 2 GB needs 1,000 TLB entries. Linux distributions
// commonly run THP in "madvise" mode (Debian's default), where only regions that ask get huge
// pages, and FAISS keeps its arrays in std::vector, so crossmodal asks after every change that may
// have moved them (add, load, rebuild).
//
// Best effort by design: on kernels without THP or MADV_COLLAPSE (Linux < 6.1), or when huge pages
// are not available, the calls fail quietly and the index keeps its 4 KiB pages. Results never
// depend on it. CROSSMODAL_HUGE_PAGES=0 turns it off for a process.
#pragma once

#include <faiss/Index.h>

#include <cstddef>

namespace crossmodal::search {

// Marks [data, data + capacity_bytes) for huge pages (later page faults in it get 2 MiB pages) and
// collapses the populated prefix [data, data + used_bytes) into huge pages now. Only the 2 MiB-
// aligned interior is affected; regions under a few huge pages are left alone.
void AdviseHugePages(const void* data, size_t used_bytes, size_t capacity_bytes);

// Applies AdviseHugePages to the arrays searches read at random: flat codes (also as HNSW storage,
// IVF quantizer or refine store) and the HNSW graph. IVF inverted lists are scanned sequentially
// (one TLB miss per 4 KiB serves 64 cache lines) and many are small, so they are left as they are.
void AdviseIndexHugePages(const faiss::Index* index);

}  // namespace crossmodal::search
