// libFuzzer target "bundle_config": the entry function in fuzz_entries.h (shared with the replay test
// test/native/fuzz_regression_test.cc); docs/fuzzing.md. Run through tools/fuzz.sh.
#include <cstddef>
#include <cstdint>

#include "fuzz_entries.h"

// Loads the fixtures once, before the first input.
extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  crossmodal::fuzz::WarmUp("bundle_config");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  crossmodal::fuzz::EntryFor("bundle_config")(data, size);
  return 0;
}
