// Reliability of the core's small building blocks (issue #16): out-of-memory is ERR_RESOURCE
// naming what was allocated; files are opened non-blocking and must be regular; paths with NUL
// are refused; thread counts are bounded; factory strings are checked before FAISS sees them.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <new>
#include <set>
#include <string>
#include <thread>

#include "common/error.h"
#include "common/file_util.h"
#include "common/thread_pool.h"
#include "common/thread_priority.h"
#include "search/index_spec.h"
#include "test_support.h"

namespace crossmodal {
namespace {

using crossmodal::testing::ErrorCodeOf;
namespace fs = std::filesystem;

TEST(Resource, BadAllocIsErrResourceEverywhere) {
  const CapturedError generic = CaptureErrors([] { throw std::bad_alloc(); });
  EXPECT_EQ(generic.code, codes::kResource);
  EXPECT_NE(generic.message.find("out of memory"), std::string::npos);
  try {
    AllocationOf("the search result buffer (3 queries x 7 hits)", []() -> int { throw std::bad_alloc(); });
    FAIL() << "expected a throw";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), codes::kResource);
    EXPECT_NE(std::string(e.what()).find("the search result buffer (3 queries x 7 hits)"), std::string::npos);
  }
  // A size beyond the address space (std::vector's length_error) is the same condition.
  EXPECT_EQ(ErrorCodeOf([] {
              AllocationOf("a huge vector", [] { return std::vector<double>(std::vector<double>().max_size() + 1); });
            }),
            codes::kResource);
  EXPECT_EQ(std::string(CodeOf(std::bad_alloc())), codes::kResource);
  EXPECT_EQ(std::string(CodeOf(std::runtime_error("x"))), codes::kInternal);
  // Other failures keep their codes.
  EXPECT_EQ(CaptureErrors([] { throw std::logic_error("bug"); }).code, codes::kInternal);
}

class SpecialFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("crossmodal-reliability-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(SpecialFiles, OnlyRegularFilesOpenAndNothingBlocks) {
  const std::string fifo = (dir_ / "pipe").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  uint64_t size = 0;
  // Would block forever in open() without O_NONBLOCK (no writer).
  EXPECT_EQ(ErrorCodeOf([&] { OpenRegularFile(fifo, codes::kModelLoad, &size); }), codes::kIo);
  EXPECT_EQ(ErrorCodeOf([&] { OpenRegularFile(dir_.string(), codes::kModelLoad, &size); }), codes::kIo);
  EXPECT_EQ(ErrorCodeOf([&] { OpenRegularFile("/dev/zero", codes::kModelLoad, &size); }), codes::kIo);
  EXPECT_EQ(ErrorCodeOf([&] { ReadFileToString(fifo); }), codes::kIo);
  // Missing files and empty paths keep the caller's code.
  EXPECT_EQ(ErrorCodeOf([&] { OpenRegularFile((dir_ / "missing").string(), codes::kModelLoad, &size); }),
            codes::kModelLoad);
  EXPECT_EQ(ErrorCodeOf([&] { OpenRegularFile("", codes::kIo, &size); }), codes::kIo);

  const std::string regular = (dir_ / "config.json").string();
  std::ofstream(regular) << "{\"a\": 1}";
  FileHandle file = OpenRegularFile(regular, codes::kModelLoad, &size);
  EXPECT_EQ(size, 8u);
  EXPECT_EQ(::fcntl(file.get(), F_GETFL) & O_NONBLOCK, 0);  // cleared for the reads
  EXPECT_NE(::fcntl(file.get(), F_GETFD) & FD_CLOEXEC, 0);
  EXPECT_EQ(ReadJsonFile(regular)["a"], 1);
  // A symlink to a regular file is followed.
  fs::create_symlink(regular, dir_ / "link.json");
  EXPECT_EQ(ReadJsonFile((dir_ / "link.json").string())["a"], 1);
  // A NUL would cut the path at "config.json": refused.
  EXPECT_EQ(ErrorCodeOf([&] { ReadFileToString(regular + std::string(1, '\0') + ".bak"); }), codes::kInvalidArgument);
  // Bundle files have a size limit.
  EXPECT_EQ(ErrorCodeOf([&] { ReadFileToString(regular, 4); }), codes::kModelLoad);
}

TEST(Threads, CountsAreBounded) {
  EXPECT_EQ(ErrorCodeOf([] { ThreadPool pool(kMaxThreads + 1); }), codes::kInvalidArgument);
  EXPECT_EQ(ErrorCodeOf([] { CheckThreadCount(1u << 31, "intraOpThreads"); }), codes::kInvalidArgument);
  EXPECT_EQ(ErrorCodeOf([] { CheckThreadCount(kMaxThreads, "intraOpThreads"); }), "");
  EXPECT_GE(DefaultThreadCount(), 1u);
  EXPECT_LE(DefaultThreadCount(), kMaxThreads);
}

// Compute threads run niced so a saturated machine still schedules the caller's event loop at
// once (common/thread_priority.h). Nice values are per thread on Linux.
TEST(Threads, PoolWorkersRunAtTheirNiceValueAndTheCallerKeepsItsOwn) {
#ifdef __linux__
  const int caller = CurrentThreadNiceness();
  const int target = std::min(kMaxWorkerNiceness, caller + 5);
  ThreadPool pool(3, target);
  std::mutex mutex;
  std::set<int> worker_nice;
  const std::thread::id caller_id = std::this_thread::get_id();
  // Enough slow items that the two workers take some: each records its own nice value.
  pool.ParallelFor(64, [&](size_t) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    if (std::this_thread::get_id() == caller_id) return;
    std::lock_guard<std::mutex> lock(mutex);
    worker_nice.insert(CurrentThreadNiceness());
  });
  EXPECT_EQ(worker_nice, std::set<int>{target});
  EXPECT_EQ(CurrentThreadNiceness(), caller);
  // Never lowered: a thread already nicer than asked stays as it is.
  std::thread([target] {
    LowerCurrentThreadPriority(target);
    LowerCurrentThreadPriority(0);
    EXPECT_EQ(CurrentThreadNiceness(), target);
  }).join();
#else
  GTEST_SKIP() << "per-thread nice values are Linux-only";
#endif
}

TEST(FactoryStrings, ParametersAreBoundedBeforeFaiss) {
  for (const char* bad :
       {"HNSW0", "HNSW1", "HNSW3,Flat", "HNSW257", "IVF0,Flat", "IVF99999999999,Flat", "IVF2000000,Flat",
        "IVF16,PQ4x17", "PCA70000,Flat", "NSG2", "IMI2x11,Flat", "IVF16_HNSW1,Flat", "Flat;", "HNSW32 ,Flat", ""}) {
    EXPECT_EQ(ErrorCodeOf([&] { search::ValidateFactoryString(bad, 64); }), codes::kInvalidArgument) << bad;
  }
  EXPECT_EQ(ErrorCodeOf([] { search::ValidateFactoryString(std::string(300, 'F'), 64); }), codes::kInvalidArgument);
  for (const char* good :
       {"HNSW32,Flat", "HNSW", "Flat", "IVF1024,Flat", "OPQ16_64,IVF1024,PQ16x8", "IVF4096,SQ8", "PCA32,IVF64,Flat",
        "IVF64_HNSW32,Flat", "IVF256,PQ8x4fs,RFlat", "IVF64,SQfp16", "LSH", "IDMap,Flat"}) {
    EXPECT_EQ(ErrorCodeOf([&] { search::ValidateFactoryString(good, 64); }), "") << good;
  }
}

}  // namespace
}  // namespace crossmodal
