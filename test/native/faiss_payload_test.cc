// The FAISS payload checker (search/faiss_payload.h): every kind of index FAISS's own writer
// produces for the components crossmodal supports passes, and crafted payloads that FAISS 1.7.3's
// reader would trust (zero PQ sub-quantizers: SIGFPE; sizes far beyond the data: huge
// allocations; an HNSW-PQ whose storage is not PQ: null dereference) are refused with a reason.
#include <gtest/gtest.h>

#include <faiss/Index.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIDMap.h>
#include <faiss/IndexPQ.h>
#include <faiss/impl/io.h>
#include <faiss/index_factory.h>
#include <faiss/index_io.h>

#include <omp.h>

#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "search/ann_index.h"
#include "search/faiss_payload.h"
#include "test_support.h"

namespace crossmodal::search {
namespace {

using crossmodal::testing::ErrorCodeOf;

constexpr int kDim = 8;

std::vector<float> Vectors(size_t count, uint32_t seed) {
  return crossmodal::testing::NormalVectors(count, kDim, seed);
}

std::vector<uint8_t> Serialise(const faiss::Index* index) {
  faiss::VectorIOWriter writer;
  faiss::write_index(index, &writer);
  return writer.data;
}

// A trained factory index holding 300 vectors, serialised by FAISS. One OpenMP thread: k-means
// on a handful of points is instant, but spinning OpenMP workers crawl on a busy 2-core machine.
std::vector<uint8_t> FactoryPayload(const std::string& factory, faiss::MetricType metric = faiss::METRIC_L2) {
  omp_set_num_threads(1);
  std::unique_ptr<faiss::Index> index(faiss::index_factory(kDim, factory.c_str(), metric));
  // Polysemous training (FAISS's default for 8-bit PQ; "np" turns it off) takes ~25 s here and
  // does not change the layout.
  if (auto* hnsw = dynamic_cast<faiss::IndexHNSW*>(index.get())) {
    if (auto* pq = dynamic_cast<faiss::IndexPQ*>(hnsw->storage)) pq->do_polysemous_training = false;
  }
  const std::vector<float> data = Vectors(300, 11);
  if (!index->is_trained) index->train(300, data.data());
  if (auto* map = dynamic_cast<faiss::IndexIDMap*>(index.get())) {
    std::vector<faiss::Index::idx_t> ids(300);
    for (size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<faiss::Index::idx_t>(1000 + 7 * i);
    map->add_with_ids(300, data.data(), ids.data());
  } else {
    index->add(300, data.data());
  }
  return Serialise(index.get());
}

std::string Problem(const std::vector<uint8_t>& bytes) { return FaissPayloadProblem(bytes.data(), bytes.size()); }

template <typename T>
void Put(std::vector<uint8_t>& bytes, size_t offset, T value) {
  std::memcpy(bytes.data() + offset, &value, sizeof(T));
}

TEST(FaissPayload, EverySupportedComponentPassesAsFaissWritesIt) {
  for (const char* factory :
       {"Flat",        "IVF4,Flat",   "IVF4,PQ4x4",       "IVF4,PQ4np",        "IVF4,SQ8", "IVF4,SQ4",
        "IVF4,SQfp16", "HNSW16,Flat", "HNSW16,PQ4",       "HNSW16,SQ8",        "PQ4np",    "SQ8",
        "SQ6",         "PCA4,Flat",   "PCAR4,Flat",       "OPQ4_8,IVF4,PQ4x4", "RR8,Flat", "L2norm,Flat",
        "IDMap,Flat",  "IDMap2,Flat", "IVF4,PQ4np,RFlat", "IVF4_HNSW8,Flat"}) {
    for (faiss::MetricType metric : {faiss::METRIC_L2, faiss::METRIC_INNER_PRODUCT}) {
      const std::vector<uint8_t> bytes = FactoryPayload(factory, metric);
      EXPECT_EQ(Problem(bytes), "") << factory << " metric " << metric;
    }
  }
}

TEST(FaissPayload, EmptyAndUntrainedIndexesPass) {
  for (const char* factory : {"Flat", "IVF4,Flat", "IVF4,PQ4", "HNSW16,Flat", "PCA4,Flat", "OPQ4_8,IVF4,PQ4x4"}) {
    std::unique_ptr<faiss::Index> index(faiss::index_factory(kDim, factory, faiss::METRIC_L2));
    EXPECT_EQ(Problem(Serialise(index.get())), "") << factory;
  }
}

TEST(FaissPayload, EveryTruncationIsRefused) {
  const std::vector<uint8_t> bytes = FactoryPayload("OPQ4_8,IVF4,PQ4x4");
  for (size_t size = 0; size < bytes.size(); ++size) {
    EXPECT_NE(FaissPayloadProblem(bytes.data(), size), "") << "prefix of " << size << " bytes";
  }
  std::vector<uint8_t> longer = bytes;
  longer.push_back(0);
  EXPECT_NE(Problem(longer).find("after the index"), std::string::npos);
}

// IndexPQ's layout: "IxPq", the index header (d int32, ntotal int64, two int64, is_trained byte,
// metric int32: 33 bytes), then the quantizer's d, M, nbits as size_t.
constexpr size_t kPqD = 4 + 33, kPqM = kPqD + 8, kPqBits = kPqM + 8;

TEST(FaissPayload, ProductQuantizerParametersAreChecked) {
  const std::vector<uint8_t> valid = FactoryPayload("PQ4np");
  ASSERT_EQ(Problem(valid), "");
  uint64_t d = 0, m = 0, bits = 0;
  std::memcpy(&d, valid.data() + kPqD, 8);
  std::memcpy(&m, valid.data() + kPqM, 8);
  std::memcpy(&bits, valid.data() + kPqBits, 8);
  ASSERT_EQ(d, static_cast<uint64_t>(kDim));
  ASSERT_EQ(m, 4u);
  ASSERT_EQ(bits, 8u);

  struct Case {
    size_t offset;
    uint64_t value;
    const char* reason;
  };
  for (const Case& c : {Case{kPqM, 0, "sub-quantizer count 0"},  // FAISS divides d by M: SIGFPE
                        Case{kPqM, 3, "does not divide"}, Case{kPqBits, 0, "bits per code 0"},
                        Case{kPqBits, 40, "bits per code 40"},             // 2^40 centroids per sub-quantizer
                        Case{kPqD, uint64_t{1} << 40, "PQ dimension"}}) {  // d × ksub floats allocated
    std::vector<uint8_t> bytes = valid;
    Put<uint64_t>(bytes, c.offset, c.value);
    EXPECT_NE(Problem(bytes).find(c.reason), std::string::npos) << Problem(bytes);
  }
}

TEST(FaissPayload, HeaderFieldsAreChecked) {
  const std::vector<uint8_t> valid = FactoryPayload("Flat");
  struct Case {
    size_t offset;
    std::vector<uint8_t> value;
    const char* reason;
  };
  auto int32 = [](int32_t v) {
    std::vector<uint8_t> b(4);
    std::memcpy(b.data(), &v, 4);
    return b;
  };
  auto int64 = [](int64_t v) {
    std::vector<uint8_t> b(8);
    std::memcpy(b.data(), &v, 8);
    return b;
  };
  for (const Case& c : {Case{4, int32(0), "dimension 0"}, Case{4, int32(-5), "dimension -5"},
                        Case{8, int64(-1), "vector count -1"}, Case{8, int64(301), "holds 2400 values"},
                        Case{32, {2}, "neither true nor false"}, Case{33, int32(23), "metric 23"}}) {
    std::vector<uint8_t> bytes = valid;
    std::memcpy(bytes.data() + c.offset, c.value.data(), c.value.size());
    EXPECT_NE(Problem(bytes).find(c.reason), std::string::npos) << c.reason << ": " << Problem(bytes);
  }
}

TEST(FaissPayload, ArraySizesBeyondTheDataAreRefusedBeforeAnyAllocation) {
  // A flat index claiming 2^39 vectors of its dimension: FAISS would resize its code array first.
  std::vector<uint8_t> bytes = FactoryPayload("Flat");
  Put<int64_t>(bytes, 8, int64_t{1} << 39);
  Put<uint64_t>(bytes, 37, (uint64_t{1} << 39) * kDim);
  EXPECT_NE(Problem(bytes).find("remain"), std::string::npos) << Problem(bytes);
}

TEST(FaissPayload, HnswStorageMustBeTheKindItsFourccNames) {
  // "IHNp" over a flat storage: FAISS would dynamic_cast it to IndexPQ and dereference null.
  std::vector<uint8_t> bytes = FactoryPayload("HNSW16,Flat");
  ASSERT_EQ(std::memcmp(bytes.data(), "IHNf", 4), 0);
  std::memcpy(bytes.data(), "IHNp", 4);
  EXPECT_NE(Problem(bytes).find("storage"), std::string::npos) << Problem(bytes);
}

TEST(FaissPayload, UnsupportedComponentsAreRefusedByName) {
  for (const char* factory : {"LSH", "NSG16,Flat", "RQ2x4", "IVF4,PQ4x4fs"}) {
    std::unique_ptr<faiss::Index> index(faiss::index_factory(kDim, factory, faiss::METRIC_L2));
    const std::string problem = Problem(Serialise(index.get()));
    EXPECT_NE(problem.find("which crossmodal does not load"), std::string::npos) << factory << ": " << problem;
  }
}

TEST(FaissPayload, AnnIndexBuildsOnlyWhatItCanLoad) {
  IndexSpec spec;
  spec.type = IndexType::kFactory;
  spec.dim = kDim;
  spec.factory = "LSH";
  EXPECT_EQ(ErrorCodeOf([&] { AnnIndex index(spec); }), "ERR_INVALID_ARGUMENT");
  spec.factory = "HNSW16,SQ8";
  EXPECT_EQ(ErrorCodeOf([&] { AnnIndex index(spec); }), "");
}

}  // namespace
}  // namespace crossmodal::search
