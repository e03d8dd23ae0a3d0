// crossmodal's HNSW search routine (search/hnsw_search.h) against FAISS's own IndexHNSW::search
// on the same graph: the same ids and the same scores, for both metrics, several efSearch and k,
// with and without an id selector.
#include <gtest/gtest.h>

#include <faiss/IndexHNSW.h>
#include <faiss/impl/IDSelector.h>

#include <memory>
#include <random>

#include "search/fast_flat.h"
#include "search/hnsw_search.h"
#include "test_support.h"

namespace crossmodal::search {
namespace {

using idx_t = faiss::Index::idx_t;

constexpr int kDim = 24;
constexpr size_t kCount = 3000;
constexpr size_t kQueries = 40;

std::vector<float> Gaussian(size_t count, uint32_t seed) {
  return crossmodal::testing::NormalVectors(count, kDim, seed);
}

// An HNSW graph with FastFlatIndex storage, built the way AnnIndex builds one.
std::unique_ptr<faiss::IndexHNSW> Build(faiss::MetricType metric) {
  auto hnsw = std::make_unique<faiss::IndexHNSWFlat>(kDim, 16, metric);
  hnsw->hnsw.efConstruction = 80;
  std::unique_ptr<faiss::IndexHNSW> index(dynamic_cast<faiss::IndexHNSW*>(Accelerate(hnsw.release())));
  const std::vector<float> data = Gaussian(kCount, 1);
  index->add(kCount, data.data());
  return index;
}

struct Case {
  int ef;
  size_t k;
  bool filtered;
};

void ExpectSameAsFaiss(faiss::IndexHNSW& index, const Case& c) {
  SCOPED_TRACE("ef " + std::to_string(c.ef) + " k " + std::to_string(c.k) + (c.filtered ? " filtered" : ""));
  ASSERT_TRUE(CanUseHnswSearch(index));
  const std::vector<float> queries = Gaussian(kQueries, 2);
  faiss::IDSelectorRange odd_half(kCount / 2, kCount);  // only the second half of the ids
  const faiss::IDSelector* sel = c.filtered ? &odd_half : nullptr;

  std::vector<float> ours_d(kQueries * c.k), faiss_d(kQueries * c.k);
  std::vector<idx_t> ours_i(kQueries * c.k), faiss_i(kQueries * c.k);
  HnswSearch(index, kQueries, queries.data(), c.k, c.ef, sel, ours_d.data(), ours_i.data());

  // FAISS 1.7.3 reads efSearch from the index itself.
  index.hnsw.efSearch = c.ef;
  faiss::SearchParametersHNSW params;
  params.sel = const_cast<faiss::IDSelector*>(sel);
  params.efSearch = c.ef;
  index.search(kQueries, queries.data(), static_cast<idx_t>(c.k), faiss_d.data(), faiss_i.data(),
               c.filtered ? &params : nullptr);

  EXPECT_EQ(ours_i, faiss_i);
  for (size_t i = 0; i < ours_d.size(); ++i) {
    ASSERT_FLOAT_EQ(ours_d[i], faiss_d[i]) << "result " << i;
  }
  if (c.filtered) {
    for (idx_t id : ours_i) {
      if (id >= 0) {
        ASSERT_GE(id, static_cast<idx_t>(kCount / 2));
      }
    }
  }
}

TEST(HnswSearch, InnerProductMatchesFaiss) {
  auto index = Build(faiss::METRIC_INNER_PRODUCT);
  for (const Case& c : {Case{16, 10, false}, Case{64, 10, false}, Case{200, 50, false}, Case{32, 10, true}}) {
    ExpectSameAsFaiss(*index, c);
  }
}

TEST(HnswSearch, L2MatchesFaiss) {
  auto index = Build(faiss::METRIC_L2);
  for (const Case& c : {Case{16, 10, false}, Case{100, 20, false}, Case{40, 5, true}}) {
    ExpectSameAsFaiss(*index, c);
  }
}

TEST(HnswSearch, EmptyGraphReturnsNoResults) {
  auto hnsw = std::make_unique<faiss::IndexHNSWFlat>(kDim, 16, faiss::METRIC_L2);
  std::unique_ptr<faiss::IndexHNSW> index(dynamic_cast<faiss::IndexHNSW*>(Accelerate(hnsw.release())));
  const std::vector<float> q = Gaussian(1, 3);
  std::vector<float> d(5);
  std::vector<idx_t> i(5);
  HnswSearch(*index, 1, q.data(), 5, 16, nullptr, d.data(), i.data());
  for (idx_t id : i) EXPECT_EQ(id, -1);
}

}  // namespace
}  // namespace crossmodal::search
