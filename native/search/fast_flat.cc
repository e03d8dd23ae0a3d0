#include "search/fast_flat.h"

#include <faiss/IndexHNSW.h>
#include <faiss/IndexIVF.h>
#include <faiss/IndexPreTransform.h>
#include <faiss/IndexRefine.h>
#include <faiss/impl/AuxIndexStructures.h>
#include <faiss/impl/DistanceComputer.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/utils/Heap.h>
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace crossmodal::search {
namespace {

using idx_t = faiss::Index::idx_t;

float DotGeneric(const float* a, const float* b, size_t d) {
  // Eight independent accumulators: without -ffast-math the compiler may not reassociate one.
  float s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  size_t i = 0;
  for (; i + 8 <= d; i += 8) {
    for (int j = 0; j < 8; ++j) s[j] += a[i + j] * b[i + j];
  }
  float total = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
  for (; i < d; ++i) total += a[i] * b[i];
  return total;
}

float L2Generic(const float* a, const float* b, size_t d) {
  float s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  size_t i = 0;
  for (; i + 8 <= d; i += 8) {
    for (int j = 0; j < 8; ++j) {
      const float t = a[i + j] - b[i + j];
      s[j] += t * t;
    }
  }
  float total = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
  for (; i < d; ++i) total += (a[i] - b[i]) * (a[i] - b[i]);
  return total;
}

__attribute__((target("avx2,fma"))) inline float HorizontalSum(__m256 v) {
  const __m128 lo = _mm256_castps256_ps128(v);
  const __m128 hi = _mm256_extractf128_ps(v, 1);
  __m128 s = _mm_add_ps(lo, hi);
  s = _mm_hadd_ps(s, s);
  s = _mm_hadd_ps(s, s);
  return _mm_cvtss_f32(s);
}

__attribute__((target("avx2,fma"))) float DotAvx2(const float* a, const float* b, size_t d) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps(), acc2 = _mm256_setzero_ps(), acc3 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 32 <= d; i += 32) {
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), acc1);
    acc2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16), acc2);
    acc3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24), acc3);
  }
  for (; i + 8 <= d; i += 8) acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
  float total = HorizontalSum(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3)));
  for (; i < d; ++i) total += a[i] * b[i];
  return total;
}

__attribute__((target("avx2,fma"))) float L2Avx2(const float* a, const float* b, size_t d) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= d; i += 16) {
    const __m256 t0 = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
    const __m256 t1 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8));
    acc0 = _mm256_fmadd_ps(t0, t0, acc0);
    acc1 = _mm256_fmadd_ps(t1, t1, acc1);
  }
  for (; i + 8 <= d; i += 8) {
    const __m256 t = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
    acc0 = _mm256_fmadd_ps(t, t, acc0);
  }
  float total = HorizontalSum(_mm256_add_ps(acc0, acc1));
  for (; i < d; ++i) total += (a[i] - b[i]) * (a[i] - b[i]);
  return total;
}

struct FastDistanceComputer : faiss::FlatCodesDistanceComputer {
  const float* base;
  size_t dim;
  DistanceFn fn;
  const float* query = nullptr;
  FastDistanceComputer(const FastFlatIndex& index, DistanceFn f)
      : faiss::FlatCodesDistanceComputer(index.codes.data(), index.code_size),
        base(index.get_xb()),
        dim(static_cast<size_t>(index.d)),
        fn(f) {}
  void set_query(const float* x) override { query = x; }
  float distance_to_code(const uint8_t* code) override { return fn(query, reinterpret_cast<const float*>(code), dim); }
  float symmetric_dis(idx_t i, idx_t j) override { return fn(base + i * dim, base + j * dim, dim); }
};

template <class C>
void ScanOne(const float* query, const float* base, size_t ntotal, size_t dim, DistanceFn fn,
             const faiss::IDSelector* sel, size_t begin, size_t end, size_t k, float* dist, idx_t* labels) {
  faiss::heap_heapify<C>(k, dist, labels);
  for (size_t i = begin; i < end; ++i) {
    if (sel != nullptr && !sel->is_member(static_cast<idx_t>(i))) continue;
    const float d = fn(query, base + i * dim, dim);
    if (C::cmp(dist[0], d)) faiss::heap_replace_top<C>(k, dist, labels, d, static_cast<idx_t>(i));
  }
  (void)ntotal;
}

template <class C>
void Scan(const FastFlatIndex& index, idx_t n, const float* x, idx_t k, float* distances, idx_t* labels,
          const faiss::IDSelector* sel, DistanceFn fn) {
  const size_t dim = static_cast<size_t>(index.d);
  const size_t ntotal = static_cast<size_t>(index.ntotal);
  const float* base = index.get_xb();
  const size_t kk = static_cast<size_t>(k);
  if (n == 1 && ntotal >= 65536 && omp_get_max_threads() > 1 && !omp_in_parallel()) {
    // One query over many vectors: split the rows between threads, then merge their heaps.
    const int threads = omp_get_max_threads();
    std::vector<float> part_d(static_cast<size_t>(threads) * kk);
    std::vector<idx_t> part_i(static_cast<size_t>(threads) * kk);
#pragma omp parallel num_threads(threads)
    {
      const size_t t = static_cast<size_t>(omp_get_thread_num());
      const size_t nt = static_cast<size_t>(omp_get_num_threads());
      ScanOne<C>(x, base, ntotal, dim, fn, sel, ntotal * t / nt, ntotal * (t + 1) / nt, kk, part_d.data() + t * kk,
                 part_i.data() + t * kk);
    }
    faiss::heap_heapify<C>(kk, distances, labels);
    for (size_t j = 0; j < part_d.size(); ++j) {
      if (part_i[j] >= 0 && C::cmp(distances[0], part_d[j])) {
        faiss::heap_replace_top<C>(kk, distances, labels, part_d[j], part_i[j]);
      }
    }
    faiss::heap_reorder<C>(kk, distances, labels);
    return;
  }
#pragma omp parallel for if (n > 1)
  for (idx_t q = 0; q < n; ++q) {
    ScanOne<C>(x + q * dim, base, ntotal, dim, fn, sel, 0, ntotal, kk, distances + q * k, labels + q * k);
    faiss::heap_reorder<C>(kk, distances + q * k, labels + q * k);
  }
}

}  // namespace

bool HasAvx2() {
  static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return has;
}

DistanceFn InnerProductKernel() { return HasAvx2() ? &DotAvx2 : &DotGeneric; }
DistanceFn L2SquaredKernel() { return HasAvx2() ? &L2Avx2 : &L2Generic; }
const char* KernelName() { return HasAvx2() ? "avx2" : "generic"; }

FastFlatIndex::FastFlatIndex(idx_t d, faiss::MetricType metric) : faiss::IndexFlat(d, metric) {}

faiss::FlatCodesDistanceComputer* FastFlatIndex::get_FlatCodesDistanceComputer() const {
  return new FastDistanceComputer(*this, metric_type == faiss::METRIC_L2 ? L2SquaredKernel() : InnerProductKernel());
}

void FastFlatIndex::search(idx_t n, const float* x, idx_t k, float* distances, idx_t* labels,
                           const faiss::SearchParameters* params) const {
  const faiss::IDSelector* sel = params != nullptr ? params->sel : nullptr;
  // FAISS switches to BLAS from 20 queries; below that (and with a selector, which FAISS 1.7.3
  // only supports on its scalar path) our kernels are faster.
  if (n >= 20 && sel == nullptr) {
    faiss::IndexFlat::search(n, x, k, distances, labels, params);
    return;
  }
  if (metric_type == faiss::METRIC_L2) {
    Scan<faiss::CMax<float, idx_t>>(*this, n, x, k, distances, labels, sel, L2SquaredKernel());
  } else {
    Scan<faiss::CMin<float, idx_t>>(*this, n, x, k, distances, labels, sel, InnerProductKernel());
  }
}

namespace {

faiss::Index* AccelerateFlat(faiss::Index* index) {
  auto* flat = dynamic_cast<faiss::IndexFlat*>(index);
  if (flat == nullptr || dynamic_cast<FastFlatIndex*>(index) != nullptr) return index;
  if (flat->metric_type != faiss::METRIC_L2 && flat->metric_type != faiss::METRIC_INNER_PRODUCT) return index;
  auto* fast = new FastFlatIndex(flat->d, flat->metric_type);
  fast->codes.swap(flat->codes);
  fast->ntotal = flat->ntotal;
  // FAISS reads is_trained as a raw byte: a crafted file can hold any value, and loading a bool
  // that is neither 0 nor 1 is undefined (issue #16, found by the index_file fuzzer).
  unsigned char trained = 0;
  std::memcpy(&trained, &flat->is_trained, 1);
  fast->is_trained = trained != 0;
  delete flat;
  return fast;
}

}  // namespace

faiss::Index* Accelerate(faiss::Index* index) {
  if (index == nullptr) return index;
  if (auto* hnsw = dynamic_cast<faiss::IndexHNSW*>(index)) {
    hnsw->storage = AccelerateFlat(hnsw->storage);
    return index;
  }
  if (auto* refine = dynamic_cast<faiss::IndexRefine*>(index)) {
    refine->refine_index = AccelerateFlat(refine->refine_index);
    refine->base_index = Accelerate(refine->base_index);
    return index;
  }
  if (auto* ivf = dynamic_cast<faiss::IndexIVF*>(index)) {
    ivf->quantizer = AccelerateFlat(ivf->quantizer);
    return index;
  }
  if (auto* pre = dynamic_cast<faiss::IndexPreTransform*>(index)) {
    pre->index = Accelerate(pre->index);
    return index;
  }
  return AccelerateFlat(index);
}

}  // namespace crossmodal::search
