// Structural validation of a FAISS index payload before faiss::read_index parses it.
//
// FAISS 1.7.3's reader trusts its own format: it sizes arrays from counts in the stream before
// reading them (a 3 KB file can make it allocate gigabytes), divides by parameters it has just
// read (a product quantizer with zero sub-quantizers is a SIGFPE) and casts sub-indexes to the
// type their parent expects without checking (an HNSW-PQ whose storage is not a PQ index is a
// null dereference). A CRC only proves a file was not damaged, not that it was not crafted, so
// AnnIndex::Load walks the payload with this checker first (docs/search.md, "Index files").
//
// The checker knows the serialised layout of the FAISS components crossmodal can build and load
// (flat, HNSW over flat/PQ/SQ storage, IVF-flat/PQ/SQ, PQ, SQ, pre-transforms, refine, ID maps)
// and refuses every other fourcc. For each component it checks the parameters FAISS divides or
// indexes by, that every array fits in the bytes that remain and that sizes agree between
// parents and children. AnnIndex also runs it on a freshly built factory index, so an index that
// can be created can always be saved and loaded again.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace crossmodal::search {

// What FAISS will derive from the payload that the checker bounds but does not refuse.
struct FaissPayloadInfo {
  // Bytes of the IVF-PQ precomputed tables FAISS would build while loading (0 if none).
  uint64_t precomputed_table_bytes = 0;
  // The fourccs met, in stream order (for messages and tests).
  std::vector<std::string> components;
};

// Checks `size` bytes of FAISS payload read from `file` at its current position (the position
// after the call is unspecified). Throws Error(ERR_INDEX_CORRUPT) naming the first problem.
FaissPayloadInfo CheckFaissPayload(std::FILE* file, uint64_t size, const std::string& path);

// The first problem of `size` bytes of FAISS payload in memory, or "" if it passes (AnnIndex
// uses it on freshly built factory indexes).
std::string FaissPayloadProblem(const uint8_t* data, size_t size);

// Derived allocations FAISS makes while loading (precomputed tables, SDC tables) are allowed up
// to max(kDerivedFloorBytes, kDerivedFactor × payload bytes): enough for any index FAISS itself
// would build from such data, and a bound on what a small crafted file can make a process commit.
inline constexpr uint64_t kDerivedFloorBytes = uint64_t{256} << 20;
inline constexpr uint64_t kDerivedFactor = 16;

}  // namespace crossmodal::search
