// The index file format's trailer: a saved index loads back identically, and any damage (a
// flipped byte in the data or in the trailer, truncation, a foreign file) is reported as
// ERR_INDEX_CORRUPT before FAISS parses anything.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "search/ann_index.h"
#include "test_support.h"

namespace crossmodal::search {
namespace {

using crossmodal::testing::ErrorCodeOf;
namespace fs = std::filesystem;

constexpr size_t kDim = 16;
constexpr size_t kCount = 200;
constexpr size_t kTrailerBytes = 256;

std::vector<float> RandomVectors(size_t count, uint32_t seed) {
  return crossmodal::testing::NormalVectors(count, kDim, seed);
}

class IndexFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("crossmodal-index-file-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    path_ = (dir_ / "index.cmx").string();
    IndexSpec spec;
    spec.type = IndexType::kFlat;
    spec.dim = kDim;
    spec.metric = Metric::kCosine;
    index_ = std::make_unique<AnnIndex>(spec);
    vectors_ = RandomVectors(kCount, 7);
    index_->Add(vectors_.data(), kCount, nullptr, false);
    index_->Save(path_, "fingerprint-1");
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::vector<uint8_t> Bytes() const {
    std::ifstream in(path_, std::ios::binary);
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  void Write(const std::vector<uint8_t>& bytes) const {
    std::ofstream out(path_, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  }
  std::string LoadError(const LoadOptions& options = {}) const {
    return ErrorCodeOf([&] { AnnIndex::Load(path_, options); });
  }

  fs::path dir_;
  std::string path_;
  std::unique_ptr<AnnIndex> index_;
  std::vector<float> vectors_;
};

TEST_F(IndexFileTest, RoundTrips) {
  for (bool mmap : {false, true}) {
    LoadOptions options;
    options.mmap = mmap;
    options.fingerprint = "fingerprint-1";
    std::unique_ptr<AnnIndex> loaded = AnnIndex::Load(path_, options);
    ASSERT_EQ(loaded->size(), kCount);
    EXPECT_EQ(loaded->Info().fingerprint, "fingerprint-1");
    const std::vector<float> queries = RandomVectors(5, 99);
    SearchResult a = index_->Search(queries.data(), 5, 10, {});
    SearchResult b = loaded->Search(queries.data(), 5, 10, {});
    ASSERT_EQ(a.byte_size(), b.byte_size());
    EXPECT_EQ(std::memcmp(a.data(), b.data(), a.byte_size()), 0) << "mmap " << mmap;
  }
}

TEST_F(IndexFileTest, EveryFlippedDataByteIsDetected) {
  const std::vector<uint8_t> good = Bytes();
  ASSERT_GT(good.size(), kTrailerBytes);
  // A spread of positions over the FAISS payload and the id metadata.
  const size_t data_bytes = good.size() - kTrailerBytes;
  for (size_t i = 0; i < 16; ++i) {
    const size_t at = i * (data_bytes - 1) / 15;
    std::vector<uint8_t> bad = good;
    bad[at] ^= 0x01;
    Write(bad);
    EXPECT_EQ(LoadError(), "ERR_INDEX_CORRUPT") << "byte " << at;
  }
  Write(good);
  EXPECT_EQ(LoadError(), "");
}

TEST_F(IndexFileTest, DamagedTrailerIsDetected) {
  const std::vector<uint8_t> good = Bytes();
  for (size_t back : {size_t{1}, size_t{8}, size_t{100}, kTrailerBytes}) {
    std::vector<uint8_t> bad = good;
    bad[good.size() - back] ^= 0x80;
    Write(bad);
    EXPECT_EQ(LoadError(), "ERR_INDEX_CORRUPT") << "trailer byte -" << back;
  }
}

TEST_F(IndexFileTest, TruncatedOrForeignFilesAreCorrupt) {
  const std::vector<uint8_t> good = Bytes();
  Write(std::vector<uint8_t>(good.begin(), good.end() - 1));
  EXPECT_EQ(LoadError(), "ERR_INDEX_CORRUPT");
  Write(std::vector<uint8_t>(good.begin(), good.begin() + 100));
  EXPECT_EQ(LoadError(), "ERR_INDEX_CORRUPT");
  Write(std::vector<uint8_t>(4096, 0x5A));
  EXPECT_EQ(LoadError(), "ERR_INDEX_CORRUPT");
  Write({});
  EXPECT_EQ(LoadError(), "ERR_INDEX_CORRUPT");
}

TEST_F(IndexFileTest, HeaderExpectationsAreChecked) {
  LoadOptions wrong_fingerprint;
  wrong_fingerprint.fingerprint = "another-model";
  EXPECT_EQ(LoadError(wrong_fingerprint), "ERR_INDEX_MISMATCH");
  LoadOptions wrong_dim;
  wrong_dim.dim = kDim + 1;
  EXPECT_EQ(LoadError(wrong_dim), "ERR_INDEX_MISMATCH");
}

}  // namespace
}  // namespace crossmodal::search
