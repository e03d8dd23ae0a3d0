// Dynamic batching for one encoder tower, in the manner of Triton's dynamic batcher.
//
// Calls are queued natively and coalesced into batches of up to `max_batch` rows: a batch is
// dispatched as soon as it is full, or `max_delay` after its oldest call arrived. Rows of one
// call may span several batches and one batch may hold rows of many calls; each call gets
// exactly its own rows back. The queue is bounded (ERR_QUEUE_FULL instead of unbounded growth).
//
// Under a backlog, a run of single-text calls at the front of the queue is batched by length
// (less padding) within the number of batches FIFO would take for it.
//
// Two threads form a pipeline: the prepare thread collects the next batch and fills its input
// tensor (decoding and preprocessing images on the shared ThreadPool, tokenising texts) while
// the infer thread runs the current batch through ONNX Runtime.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/histogram.h"
#include "model/embed_request.h"

namespace crossmodal::model {

// Rows [begin, end) of one request, in the request's processing order.
struct BatchSlice {
  std::shared_ptr<EmbedRequest> request;
  size_t begin = 0;
  size_t end = 0;
};

struct Batch {
  std::vector<BatchSlice> slices;
  size_t rows = 0;
  // Tower-specific input tensors, filled by the prepare hook.
  std::vector<float> pixels;
  std::vector<int64_t> ids64;
  std::vector<int32_t> ids32;
  std::vector<int64_t> mask;
  size_t sequence_length = 0;
  std::vector<uint32_t> row_lengths;  // texts: each row's token count (0: its call failed to prepare)
  std::vector<float> output;          // rows × dim, written by the run hook
};

// What one tower's batcher has done, for monitoring (DualEncoder::Stats, Model.stats() in JS).
// Owned by the DualEncoder and outlives its scheduler. Updated with relaxed atomics only.
struct TowerStats {
  // Per request: from Submit until its first rows are taken into a batch.
  Histogram queue_wait{Histogram::DurationBoundsNs()};
  // Per batch: filling the input tensor (images: reading, decoding and preprocessing on the
  // pool; texts: assembling the token tensor).
  Histogram fill{Histogram::DurationBoundsNs()};
  // Per batch: the ONNX Runtime run.
  Histogram inference{Histogram::DurationBoundsNs()};
  Histogram batch_rows{Histogram::SizeBounds()};
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> failed_requests{0};  // errors, aborts and deadlines
  // ONNX Runtime runs: one per batch, more when a text batch runs as sub-batches of similar length.
  std::atomic<uint64_t> runs{0};
};

class TowerScheduler {
 public:
  struct Limits {
    size_t max_batch = 32;
    std::chrono::microseconds max_delay{2000};
    size_t max_queued_rows = 8192;
    // false: a call that finds the tower idle (no batch being prepared or run) is dispatched at
    // once and the coalescing window applies only while a batch is in flight — rows that arrive
    // meanwhile could not run earlier anyway. true: every batch waits for the window (up to
    // max_delay for max_batch rows), which groups a burst into one batch at the price of
    // max_delay on every lone call.
    bool batch_when_idle = false;
    // Nice value of the prepare and inference threads (the inference thread also works as one of
    // ONNX Runtime's intra-op threads during Run); see common/thread_priority.h.
    int worker_niceness = 0;
  };
  struct Hooks {
    // Once per request before its first rows are batched (tokenise, allocate the result). Runs
    // on the prepare thread; a thrown crossmodal::Error fails just that request.
    std::function<void(EmbedRequest&)> prepare;
    // Fills the batch's input tensors. Per-row failures are recorded with EmbedRequest::Fail.
    std::function<void(Batch&)> fill;
    // Runs the batch and writes batch.output. A thrown Error fails every request in the batch.
    std::function<void(Batch&)> run;
    // Embedding width (rows of batch.output).
    size_t dim = 0;
  };

  // `stats` (may be null) must outlive the scheduler.
  TowerScheduler(std::string name, Limits limits, Hooks hooks, TowerStats* stats = nullptr);
  ~TowerScheduler();  // Shutdown(), then joins the threads
  TowerScheduler(const TowerScheduler&) = delete;
  TowerScheduler& operator=(const TowerScheduler&) = delete;

  // Enqueues a request. Throws ERR_QUEUE_FULL when the queued rows would exceed the limit (a
  // request into an empty queue is always accepted) and ERR_DISPOSED after Shutdown().
  void Submit(std::shared_ptr<EmbedRequest> request);

  // Stops accepting work; requests already queued still run to completion. Does not wait.
  void Shutdown();

  size_t queued_rows() const;

  // At most this many batches' worth of queued single-text calls are grouped by length at once.
  static constexpr size_t kLengthWindowBatches = 8;

 private:
  void PrepareLoop();
  void InferLoop();
  // Length grouping of queued single-text calls (see the .cc). Caller holds mutex_.
  void PlanSingleTexts();
  void TakePlanned(Batch& batch, std::chrono::steady_clock::time_point now,
                   std::vector<std::shared_ptr<EmbedRequest>>& dropped);
  // Completes `request` (cancelled, failed or successful) and calls its on_complete.
  void Finish(const std::shared_ptr<EmbedRequest>& request);
  // Re-runs each call of a failed batch on its own (see the .cc).
  void IsolateFailure(Batch& batch, const std::string& code, const std::string& message);
  void FinishWithError(const std::shared_ptr<EmbedRequest>& request, const std::string& code,
                       const std::string& message);

  std::string name_;
  Limits limits_;
  Hooks hooks_;
  TowerStats* stats_;

  mutable std::mutex mutex_;
  std::condition_variable queue_changed_;
  std::deque<std::shared_ptr<EmbedRequest>> queue_;
  size_t queued_rows_ = 0;  // rows in queue_ and plan_ not yet batched
  // Batches formed by the prepare thread and not yet completed by the infer thread (0: the tower
  // is idle, so a new call need not wait for the coalescing window). Guarded by mutex_.
  size_t batches_in_flight_ = 0;
  // Batches of single-text calls taken out of queue_ by PlanSingleTexts, run before queue_.
  std::deque<std::vector<std::shared_ptr<EmbedRequest>>> plan_;
  bool stopping_ = false;

  std::mutex handoff_mutex_;
  std::condition_variable handoff_changed_;
  std::deque<std::unique_ptr<Batch>> prepared_;  // at most one: the pipeline's depth
  bool prepare_done_ = false;

  std::thread prepare_thread_;
  std::thread infer_thread_;
};

}  // namespace crossmodal::model
