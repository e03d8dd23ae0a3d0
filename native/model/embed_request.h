// One embedding call as the dynamic batcher sees it. Pure C++.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/embedding_matrix.h"
#include "image/load_options.h"
#include "image/pipeline.h"

namespace crossmodal::model {

struct EmbedRequest {
  using Clock = std::chrono::steady_clock;
  enum class Kind { kText, kImage };

  Kind kind = Kind::kText;
  std::vector<std::string> texts;
  std::vector<image::ImageSource> images;                // bytes/pixels point into owned_bytes
  std::vector<std::vector<uint8_t>> owned_bytes;         // copies of the caller's buffers
  std::optional<image::ImageLoadOptions> image_options;  // per-call override of the model's
  bool normalize = true;
  Clock::time_point enqueued{};
  Clock::time_point deadline = Clock::time_point::max();
  // Set from the JS thread (AbortSignal, deadline timer, dispose); checked by the scheduler
  // before a request's rows are batched and when its last row completes.
  std::atomic<bool> cancelled{false};
  std::string cancel_code =
      "ERR_ABORTED";  // or ERR_DEADLINE_EXCEEDED / ERR_DISPOSED;  // written before `cancelled` is set

  // Called exactly once, on a scheduler thread, when the request is finished (successfully or
  // not). The binding turns it into a promise settlement on the JS thread.
  std::function<void(std::shared_ptr<EmbedRequest>)> on_complete;

  // --- filled by the scheduler ---
  std::unique_ptr<EmbeddingMatrix> result;
  // Text only: token ids (count × context), true lengths, and the processing order (sorted by
  // length so coalesced batches carry little padding).
  std::vector<int32_t> token_ids;
  std::vector<int32_t> token_lengths;
  std::vector<uint32_t> order;
  bool prepared = false;  // tokenised / result allocated (scheduler thread only)
  size_t next_row = 0;    // rows (in processing order) already handed to batches; scheduler lock

  size_t rows() const { return kind == Kind::kText ? texts.size() : images.size(); }

  // First failure wins; later rows keep running so the batch they share with other requests is
  // not disturbed, but this request will reject.
  void Fail(const std::string& code, const std::string& message) {
    std::lock_guard<std::mutex> lock(mutex);
    if (error_code.empty()) {
      error_code = code;
      error_message = message;
    }
  }
  bool failed() const {
    std::lock_guard<std::mutex> lock(mutex);
    return !error_code.empty();
  }

  mutable std::mutex mutex;
  std::string error_code;  // empty on success
  std::string error_message;
  std::atomic<size_t> rows_done{0};
  std::atomic<bool> completed{false};
};

}  // namespace crossmodal::model
