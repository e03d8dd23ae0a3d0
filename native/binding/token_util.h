// N-API helpers shared by the wrappers that expose a text::Tokenizer (TextTokenizer and
// EncoderSession). JS thread only.
#pragma once

#include <napi.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "text/tokenizer.h"

namespace crossmodal::binding {

// Token ids produced on a worker thread; handed to JS as { ids, lengths, contextLength, count }.
struct TokenBatch {
  std::vector<int32_t> ids;    // count x context (int32 results)
  std::vector<int64_t> ids64;  // same, when 64-bit ids were asked for
  std::vector<int32_t> lengths;
  size_t context = 0;
  size_t count = 0;
  bool int64 = false;

  // Runs the tokenizer (worker thread).
  void Fill(const text::Tokenizer& tokenizer, const std::vector<std::string>& texts, size_t context_length,
            size_t threads, bool want_int64);
};

// { ids: ArrayBuffer (external, int32 or int64), lengths: ArrayBuffer (int32), contextLength, count, int64 }.
Napi::Object TokenBatchToJs(Napi::Env env, std::unique_ptr<TokenBatch> batch);

// Accepts an Int32Array, a BigInt64Array or an array of integers; throws ERR_INVALID_ARGUMENT.
std::vector<int32_t> RequireTokenIds(const Napi::Value& value, const char* what);

// tokenizer.info(): kind, source, contextLength, vocabSize, bosId, eosId, padId, padding.
Napi::Object TokenizerInfoToJs(Napi::Env env, const text::Tokenizer& tokenizer);

}  // namespace crossmodal::binding
