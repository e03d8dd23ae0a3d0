#include "text/tokenizer.h"

#include <algorithm>

#include "common/error.h"
#include "common/helper_pool.h"

namespace crossmodal::text {

size_t Tokenizer::EncodeForModel(std::string_view text, int32_t* out, size_t context_length) const {
  const size_t context = context_length ? context_length : spec_.context_length;
  const size_t specials = num_specials();
  if (context < specials + 1) {
    throw Error(codes::kInvalidArgument, "context length " + std::to_string(context) + " leaves no room for text (" +
                                             std::to_string(specials) + " special tokens)");
  }
  if (out == nullptr) throw Error(codes::kInvalidArgument, "output buffer is null");
  thread_local std::vector<int32_t> tokens;
  tokens.clear();
  EncodeTokens(text, tokens);
  const size_t n = std::min(tokens.size(), context - specials);
  size_t pos = 0;
  if (spec_.bos_id >= 0) out[pos++] = spec_.bos_id;
  std::copy(tokens.begin(), tokens.begin() + static_cast<std::ptrdiff_t>(n), out + pos);
  pos += n;
  if (spec_.eos_id >= 0) out[pos++] = spec_.eos_id;
  std::fill(out + pos, out + context, spec_.pad_id);
  if (tokens.capacity() > (size_t{1} << 16)) std::vector<int32_t>().swap(tokens);  // don't pin huge buffers
  return pos;
}

void Tokenizer::EncodeBatch(const std::vector<std::string>& texts, int32_t* ids, int32_t* lengths,
                            size_t context_length, size_t threads) const {
  const size_t context = context_length ? context_length : spec_.context_length;
  // Small chunks keep the threads balanced when text lengths vary; 32 captions take ~10 us.
  ParallelChunks(texts.size(), threads, 32, [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      lengths[i] = static_cast<int32_t>(EncodeForModel(texts[i], ids + i * context, context));
    }
  });
}

}  // namespace crossmodal::text
