// HNSW search over a FAISS graph whose storage is a FastFlatIndex.
//
// The same algorithm as faiss::HNSW::search in 1.7.3 (greedy descent through the upper levels,
// then a bounded best-first search at level 0 with the relative-distance stop), so results are
// identical, with four differences that matter for speed:
//  - the neighbours of an expanded node are filtered against the visited set first and their
//    vectors are prefetched before any distance is computed: at 1M × 512-d every vector is a
//    cache miss, and FAISS 1.7.3 takes them one after another;
//  - the visited set is a per-thread tag array reused across calls (FAISS allocates and clears
//    ntotal bytes per call);
//  - efSearch comes from the call, not from the shared index (FAISS 1.7.3 reads hnsw.efSearch,
//    which forced concurrent searches with different ef to take turns);
//  - the candidate heap's linear scans (pop_min, count_below) use AVX2 when the CPU has it.
#pragma once

#include <faiss/IndexHNSW.h>
#include <faiss/impl/IDSelector.h>

#include <cstddef>
#include <string>

namespace crossmodal::search {

// Why the graph of `index` cannot be searched safely ('' when it can): FAISS's reader restores the
// graph's arrays as stored and its search follows them unchecked, so a file whose checksums are
// right but whose graph is not (neighbour ids or the entry point out of range, offsets or levels
// inconsistent) would read out of bounds. Loading calls this on every HNSW graph in the index.
// O(ntotal + edges): a sequential pass, cheap beside reading the file.
std::string HnswGraphProblem(const faiss::IndexHNSW& index);

// True when `index` can be searched by HnswSearch (flat float storage, single-entry upper beam,
// bounded queue) and the diagnostic switch CROSSMODAL_HNSW_SEARCH=faiss is not set.
bool CanUseHnswSearch(const faiss::IndexHNSW& index);

// Searches n queries (row-major, index.d floats each). Writes k results per query in FAISS's
// convention for the index metric: best first, scores as similarities for inner product and
// squared distances for L2, label -1 where fewer than k were found. `sel` filters results (not
// the traversal), like FAISS's IDSelector in SearchParametersHNSW.
void HnswSearch(const faiss::IndexHNSW& index, size_t n, const float* queries, size_t k, int ef_search,
                const faiss::IDSelector* sel, float* distances, faiss::Index::idx_t* labels);

}  // namespace crossmodal::search
