// libFuzzer target "index_file": see FuzzIndexFile in fuzz_entries.h (shared with the replay test
// test/native/fuzz_regression_test.cc) and docs/fuzzing.md. Run through tools/fuzz.sh.
#include <cstddef>
#include <cstdint>

#include "fuzz_entries.h"

using namespace crossmodal::fuzz;

// Loads the fixtures once, before the first input.
extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  (void)ScratchDir::Path();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzIndexFile(data, size);
  return 0;
}
