// Replays the fuzzers' inputs in the ordinary C++ test run (issue #16, docs/fuzzing.md): every
// committed regression input in test/fuzz/regressions/<target>/ (each a crash a fuzzer once found)
// and every seed derived from the fixtures (fuzz_entries.h) goes through the same entry
// function as the libFuzzer target (test/fuzz/fuzz_entries.h). Under tools/test-sanitized.sh this
// runs with ASan + UBSan, so a regression of a memory bug fails here even without fuzzing.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "fuzz_entries.h"

namespace crossmodal::fuzz {
namespace {

std::vector<std::string> FilesUnder(const fs::path& dir) {
  std::vector<std::string> files;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return files;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file() && entry.path().filename().string()[0] != '.') files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

void Replay(const std::string& target, const std::vector<std::string>& files) {
  const EntryFn entry = EntryFor(target);
  ASSERT_NE(entry, nullptr) << target;
  for (const std::string& file : files) {
    SCOPED_TRACE(file);
    const std::string bytes = ReadWholeFile(file);
    // Exactly what libFuzzer passes: a buffer of the input's size (a heap copy, so ASan sees its end).
    std::vector<uint8_t> input(bytes.begin(), bytes.end());
    EXPECT_NO_THROW(entry(input.empty() ? nullptr : input.data(), input.size()));
  }
}

class FuzzReplay : public ::testing::TestWithParam<std::string> {};

TEST_P(FuzzReplay, RegressionInputs) {
  const fs::path dir = fs::path(CROSSMODAL_FUZZ_REGRESSIONS) / GetParam();
  const auto files = FilesUnder(dir);
  Replay(GetParam(), files);
  RecordProperty("inputs", static_cast<int>(files.size()));
}

TEST_P(FuzzReplay, SeedInputs) {
  const std::string root = ScratchDirPath() + "/seeds-" + GetParam();
  // Only this target's seeds (index seeds are built by saving small indexes).
  const std::string dir = root + "/" + GetParam();
  if (GetParam() == "image") WriteImageSeeds(dir);
  if (GetParam() == "clip_bpe" || GetParam() == "sentencepiece") WriteTextSeeds(dir);
  if (GetParam() == "bundle_config") WriteBundleSeeds(dir);
  if (GetParam() == "index_file") WriteIndexSeeds(dir);
  const auto files = FilesUnder(dir);
  EXPECT_FALSE(files.empty());
  Replay(GetParam(), files);
}

INSTANTIATE_TEST_SUITE_P(Targets, FuzzReplay,
                         ::testing::ValuesIn(std::vector<std::string>(std::begin(kTargets), std::end(kTargets))),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace crossmodal::fuzz
