// Helpers shared by the C++ unit tests of crossmodal_core.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "common/error.h"

namespace crossmodal::testing {

// `count` × `dim` floats drawn from a standard normal distribution with a fixed seed.
inline std::vector<float> NormalVectors(size_t count, size_t dim, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::vector<float> v(count * dim);
  for (float& x : v) x = normal(rng);
  return v;
}

// The repository's test/fixtures, from CROSSMODAL_FIXTURES (set by CTest; see CMakeLists.txt).
inline std::string FixturePath(const std::string& relative) {
  const char* root = std::getenv("CROSSMODAL_FIXTURES");
  return std::string(root ? root : "test/fixtures") + "/" + relative;
}

inline std::vector<uint8_t> ReadFixture(const std::string& relative) {
  const std::string path = FixturePath(relative);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("missing fixture " + path);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The code of the crossmodal::Error `fn` throws, or "" when it throws none.
template <typename Fn>
std::string ErrorCodeOf(Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.code();
  }
  return "";
}

}  // namespace crossmodal::testing
