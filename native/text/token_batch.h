// Token ids of a batch of texts, as a tokenizer call hands them to JavaScript. Pure C++.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "text/tokenizer.h"

namespace crossmodal::text {

// count × context ids (int32, or int64 when asked for) and each text's true length.
struct TokenBatch {
  std::vector<int32_t> ids;    // count x context (int32 results)
  std::vector<int64_t> ids64;  // same, when 64-bit ids were asked for
  std::vector<int32_t> lengths;
  size_t context = 0;
  size_t count = 0;
  bool int64 = false;

  // Runs the tokenizer (any thread). context_length 0: the tokenizer's own.
  void Fill(const Tokenizer& tokenizer, const std::vector<std::string>& texts, size_t context_length, size_t threads,
            bool want_int64);
};

}  // namespace crossmodal::text
