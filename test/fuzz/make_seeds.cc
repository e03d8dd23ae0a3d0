// crossmodal_fuzz_seeds <dir>: writes the seed corpora of every fuzz target into <dir>/<target>/
// (fuzz_entries.h), derived from test/fixtures. tools/fuzz.sh runs it before fuzzing.
#include <cstdio>
#include <exception>

#include "fuzz_entries.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <output directory>\n", argv[0]);
    return 2;
  }
  try {
    crossmodal::fuzz::WriteSeeds(argv[1]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "crossmodal_fuzz_seeds: %s\n", e.what());
    return 1;
  }
  return 0;
}
