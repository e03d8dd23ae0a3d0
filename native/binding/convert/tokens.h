// Token ids and tokenizer facts, JS ⇄ C++, shared by the wrappers that expose a text::Tokenizer
// (TextTokenizer and EncoderSession). JS thread only.
#pragma once

#include <napi.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "text/token_batch.h"
#include "text/tokenizer.h"

namespace crossmodal::binding {

// { ids: ArrayBuffer (external, int32 or int64), lengths: ArrayBuffer (int32), contextLength, count, int64 }.
Napi::Object TokenBatchToJs(Napi::Env env, std::unique_ptr<text::TokenBatch> batch);

// Accepts an Int32Array, a BigInt64Array or an array of integers; throws ERR_INVALID_ARGUMENT.
std::vector<int32_t> RequireTokenIds(const Napi::Value& value, const char* what);

// tokenizer.info(): kind, source, contextLength, vocabSize, bosId, eosId, padId, padding.
Napi::Object TokenizerInfoToJs(Napi::Env env, const text::Tokenizer& tokenizer);

}  // namespace crossmodal::binding
