#include "text/token_batch.h"

namespace crossmodal::text {

void TokenBatch::Fill(const Tokenizer& tokenizer, const std::vector<std::string>& texts, size_t context_length,
                      size_t threads, bool want_int64) {
  context = context_length ? context_length : tokenizer.context_length();
  count = texts.size();
  int64 = want_int64;
  ids.assign(count * context, 0);
  lengths.assign(count, 0);
  tokenizer.EncodeBatch(texts, ids.data(), lengths.data(), context, threads);
  if (want_int64) {
    ids64.assign(ids.begin(), ids.end());
    std::vector<int32_t>().swap(ids);
  }
}

}  // namespace crossmodal::text
