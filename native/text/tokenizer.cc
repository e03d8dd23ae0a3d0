#include "text/tokenizer.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>

#include "common/error.h"

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
  ParallelFor(texts.size(), threads, 32, [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      lengths[i] = static_cast<int32_t>(EncodeForModel(texts[i], ids + i * context, context));
    }
  });
}

void ParallelFor(size_t n, size_t threads, size_t chunk, const std::function<void(size_t, size_t)>& body) {
  if (n == 0) return;
  chunk = std::max<size_t>(1, chunk);
  const size_t chunks = (n + chunk - 1) / chunk;
  threads = std::max<size_t>(1, std::min(threads, chunks));
  if (threads == 1) {
    body(0, n);
    return;
  }
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;
  std::mutex error_mu;
  auto work = [&]() {
    while (!failed.load(std::memory_order_relaxed)) {
      const size_t c = next.fetch_add(1, std::memory_order_relaxed);
      if (c >= chunks) return;
      try {
        body(c * chunk, std::min(n, (c + 1) * chunk));
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mu);
        if (!error) error = std::current_exception();
        failed.store(true);
      }
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(threads - 1);
  for (size_t t = 0; t + 1 < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& th : pool) th.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace crossmodal::text
