// SIMD distance kernels and a faiss::IndexFlat that uses them.
//
// Debian's FAISS 1.7.3 is compiled for baseline x86-64, so its fvec_inner_product/fvec_L2sqr are
// the scalar reference loops: single-query flat scans, HNSW graph walks and IVF coarse
// assignment all run at ~1 float per cycle. FastFlatIndex is an IndexFlat (so FAISS serialises it
// as one, and HNSW/IVF accept it as storage or quantizer) whose distance computer and small-batch
// search use AVX2/FMA kernels chosen at run time. Large batches keep FAISS's BLAS path.
#pragma once

#include <faiss/IndexFlat.h>

#include <cstddef>
#include <memory>

namespace crossmodal::search {

using DistanceFn = float (*)(const float* a, const float* b, size_t dim);

DistanceFn InnerProductKernel();  // AVX2+FMA when the CPU has it, else a portable loop
DistanceFn L2SquaredKernel();
const char* KernelName();  // "avx2" or "generic"
bool HasAvx2();            // the CPU has AVX2 and FMA: the kernels above use them

struct FastFlatIndex : faiss::IndexFlat {
  FastFlatIndex(idx_t d, faiss::MetricType metric);

  faiss::FlatCodesDistanceComputer* get_FlatCodesDistanceComputer() const override;
  void search(idx_t n, const float* x, idx_t k, float* distances, idx_t* labels,
              const faiss::SearchParameters* params = nullptr) const override;
};

// Replaces every plain IndexFlat inside `index` (itself, HNSW storage, IVF quantizer, refine
// store) by a FastFlatIndex holding the same data, e.g. after read_index. Returns the index to
// use (a new object when the top level itself was flat; the old one is then deleted).
faiss::Index* Accelerate(faiss::Index* index);

}  // namespace crossmodal::search
