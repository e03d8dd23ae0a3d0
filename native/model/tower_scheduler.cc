#include "model/tower_scheduler.h"

#include <algorithm>

#include "common/error.h"
#include "common/thread_priority.h"

namespace crossmodal::model {
namespace {

uint64_t NanosecondsSince(EmbedRequest::Clock::time_point start, EmbedRequest::Clock::time_point end) {
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(end - start).count();
  return ns > 0 ? static_cast<uint64_t>(ns) : 0;
}

}  // namespace

TowerScheduler::TowerScheduler(std::string name, Limits limits, Hooks hooks, TowerStats* stats)
    : name_(std::move(name)), limits_(limits), hooks_(std::move(hooks)), stats_(stats) {
  if (limits_.max_batch == 0) limits_.max_batch = 1;
  prepare_thread_ = std::thread([this] {
    LowerCurrentThreadPriority(limits_.worker_niceness);
    PrepareLoop();
  });
  infer_thread_ = std::thread([this] {
    LowerCurrentThreadPriority(limits_.worker_niceness);
    InferLoop();
  });
}

TowerScheduler::~TowerScheduler() {
  Shutdown();
  prepare_thread_.join();
  infer_thread_.join();
}

size_t TowerScheduler::queued_rows() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return queued_rows_;
}

void TowerScheduler::Submit(std::shared_ptr<EmbedRequest> request) {
  request->enqueued = EmbedRequest::Clock::now();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) throw Error(codes::kDisposed, "the model has been disposed");
    const size_t rows = request->rows();
    if (!queue_.empty() && queued_rows_ + rows > limits_.max_queued_rows) {
      throw Error(codes::kQueueFull, name_ + " queue is full (" + std::to_string(queued_rows_) +
                                         " rows waiting, limit " + std::to_string(limits_.max_queued_rows) +
                                         "); retry later");
    }
    queued_rows_ += rows;
    queue_.push_back(std::move(request));
  }
  if (stats_) stats_->requests.fetch_add(1, std::memory_order_relaxed);
  queue_changed_.notify_all();
}

void TowerScheduler::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return;
    // Calls already accepted still run (the prepare loop drains the queue before it exits);
    // only new ones are refused.
    stopping_ = true;
  }
  queue_changed_.notify_all();
}

void TowerScheduler::FinishWithError(const std::shared_ptr<EmbedRequest>& request, const std::string& code,
                                     const std::string& message) {
  request->Fail(code, message);
  Finish(request);
}

void TowerScheduler::Finish(const std::shared_ptr<EmbedRequest>& request) {
  if (request->completed.exchange(true)) return;
  if (request->cancelled.load()) {
    // An abort or deadline that raced with the last batch still wins: the caller has been told.
    std::lock_guard<std::mutex> lock(request->mutex);
    request->error_code = request->cancel_code;
    request->error_message =
        request->cancel_code == codes::kDeadlineExceeded ? "the call's deadline passed" : "the call was aborted";
  }
  if (!request->failed() && request->normalize && request->result) {
    NormalizeRows(request->result->values.data(), request->result->count, request->result->dim);
  }
  if (stats_ && (request->failed() || request->cancelled.load())) {
    stats_->failed_requests.fetch_add(1, std::memory_order_relaxed);
  }
  if (request->on_complete) request->on_complete(request);
}

namespace {

// A call of one text not yet batched: the calls that length grouping may reorder.
bool IsSingleText(const EmbedRequest& request) {
  return request.kind == EmbedRequest::Kind::kText && request.rows() == 1 && request.next_row == 0;
}

}  // namespace

// Under a backlog of single-text calls (the typical server: one caption per HTTP request), FIFO
// batches mix short and long captions and every row is padded to its batch's longest, which
// doubled inference time against one call of the same texts (a call sorts its own rows by
// length). So when more than a batch is queued and the oldest calls are single texts, the
// longest run of single texts at the front of the queue (at most kLengthWindowBatches batches'
// worth, whole batches only) is planned at once: sorted by UTF-8 byte length (standing in for token count, which is
// only known after prepare), cut into full batches, and the batches run in the order of their
// oldest call. Every planned call runs within the plan's batches, as it would within as many
// FIFO batches, and calls behind the run wait for the plan as they would for those batches: only
// the order within that bound changes. Caller holds mutex_.
void TowerScheduler::PlanSingleTexts() {
  struct Entry {
    size_t length, position;
    std::shared_ptr<EmbedRequest> request;
  };
  std::vector<Entry> run;
  const size_t limit = kLengthWindowBatches * limits_.max_batch;
  while (!queue_.empty() && run.size() < limit && IsSingleText(*queue_.front())) {
    run.push_back({queue_.front()->texts[0].size(), run.size(), queue_.front()});
    queue_.pop_front();
  }
  // Only whole batches are planned; the newest calls that would make a partial one go back to
  // the front of the queue, to share a FIFO batch with whatever follows them as before.
  const size_t planned = run.size() / limits_.max_batch * limits_.max_batch;
  for (size_t i = run.size(); i > planned; --i) queue_.push_front(std::move(run[i - 1].request));
  run.resize(planned);
  std::sort(run.begin(), run.end(), [](const Entry& a, const Entry& b) {
    return a.length != b.length ? a.length < b.length : a.position < b.position;
  });
  std::vector<std::pair<size_t, std::vector<std::shared_ptr<EmbedRequest>>>> batches;  // (oldest, calls)
  for (size_t begin = 0; begin < run.size(); begin += limits_.max_batch) {
    const size_t end = std::min(run.size(), begin + limits_.max_batch);
    size_t oldest = run[begin].position;
    std::vector<std::shared_ptr<EmbedRequest>> calls;
    for (size_t i = begin; i < end; ++i) {
      oldest = std::min(oldest, run[i].position);
      calls.push_back(std::move(run[i].request));
    }
    batches.emplace_back(oldest, std::move(calls));
  }
  std::sort(batches.begin(), batches.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& planned : batches) plan_.push_back(std::move(planned.second));
}

// Moves the next planned batch into `batch`; planned calls cancelled or past their deadline go to
// `dropped`, as the FIFO pass does. Caller holds mutex_.
void TowerScheduler::TakePlanned(Batch& batch, EmbedRequest::Clock::time_point now,
                                 std::vector<std::shared_ptr<EmbedRequest>>& dropped) {
  for (std::shared_ptr<EmbedRequest>& request : plan_.front()) {
    queued_rows_ -= 1;
    if (request->cancelled.load() || now > request->deadline) {
      dropped.push_back(std::move(request));
      continue;
    }
    if (stats_) stats_->queue_wait.Record(NanosecondsSince(request->enqueued, now));
    request->next_row = 1;
    batch.slices.push_back({request, 0, 1});
    batch.rows += 1;
  }
  plan_.pop_front();
}

void TowerScheduler::PrepareLoop() {
  for (;;) {
    auto batch = std::make_unique<Batch>();
    std::vector<std::shared_ptr<EmbedRequest>> dropped;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      queue_changed_.wait(lock, [this] { return stopping_ || !queue_.empty() || !plan_.empty(); });
      if (stopping_ && queue_.empty() && plan_.empty()) break;
      // Coalescing window: wait for more rows until the batch is full or the oldest call has
      // waited max_delay (planned batches are full already). An idle tower does not wait (unless
      // batch_when_idle): the infer thread would only sit idle meanwhile. A batch completing
      // during the window makes the tower idle and ends the wait (InferLoop notifies).
      if (plan_.empty()) {
        const auto window_end = queue_.front()->enqueued + limits_.max_delay;
        while (!stopping_ && queued_rows_ < limits_.max_batch && EmbedRequest::Clock::now() < window_end &&
               (limits_.batch_when_idle || batches_in_flight_ > 0)) {
          queue_changed_.wait_until(lock, window_end);
          if (queue_.empty()) break;
        }
      }
      const auto now = EmbedRequest::Clock::now();
      if (plan_.empty() && queued_rows_ > limits_.max_batch && !queue_.empty() && IsSingleText(*queue_.front())) {
        PlanSingleTexts();
      }
      if (!plan_.empty()) TakePlanned(*batch, now, dropped);
      while (plan_.empty() && !queue_.empty() && batch->rows < limits_.max_batch) {
        std::shared_ptr<EmbedRequest> request = queue_.front();
        const size_t remaining = request->rows() - request->next_row;
        if (request->cancelled.load() || now > request->deadline || remaining == 0) {
          queue_.pop_front();
          queued_rows_ -= remaining;
          dropped.push_back(std::move(request));
          continue;
        }
        const size_t take = std::min(remaining, limits_.max_batch - batch->rows);
        if (stats_ && request->next_row == 0) stats_->queue_wait.Record(NanosecondsSince(request->enqueued, now));
        batch->slices.push_back({request, request->next_row, request->next_row + take});
        request->next_row += take;
        batch->rows += take;
        queued_rows_ -= take;
        if (request->next_row == request->rows()) queue_.pop_front();
      }
      if (batch->rows > 0) ++batches_in_flight_;  // until InferLoop has completed it
    }
    for (auto& request : dropped) {
      if (request->cancelled.load()) {
        Finish(request);
      } else if (request->rows() == 0) {
        if (!request->result) request->result = std::make_unique<EmbeddingMatrix>(0, hooks_.dim);
        Finish(request);
      } else {
        request->cancel_code = codes::kDeadlineExceeded;
        request->cancelled.store(true);
        Finish(request);
      }
    }
    if (batch->rows == 0) continue;

    for (auto& slice : batch->slices) {
      EmbedRequest& request = *slice.request;
      if (request.prepared) continue;
      request.prepared = true;
      try {
        hooks_.prepare(request);
      } catch (const Error& e) {
        request.Fail(e.code(), e.what());
      } catch (const std::exception& e) {
        request.Fail(CodeOf(e), e.what());
      }
      if (!request.result) request.result = std::make_unique<EmbeddingMatrix>(request.rows(), hooks_.dim);
    }
    const auto fill_start = EmbedRequest::Clock::now();
    try {
      hooks_.fill(*batch);
    } catch (const Error& e) {
      for (auto& slice : batch->slices) slice.request->Fail(e.code(), e.what());
    } catch (const std::exception& e) {
      for (auto& slice : batch->slices) slice.request->Fail(CodeOf(e), e.what());
    }
    if (stats_) {
      stats_->fill.Record(NanosecondsSince(fill_start, EmbedRequest::Clock::now()));
      stats_->batch_rows.Record(batch->rows);
    }

    std::unique_lock<std::mutex> lock(handoff_mutex_);
    // Pipeline depth one: prepare batch N+1 while N runs, but never run ahead further (that
    // would only hold memory and delay coalescing).
    handoff_changed_.wait(lock, [this] { return prepared_.empty(); });
    prepared_.push_back(std::move(batch));
    handoff_changed_.notify_all();
  }
  std::lock_guard<std::mutex> lock(handoff_mutex_);
  prepare_done_ = true;
  handoff_changed_.notify_all();
}

// A batch run failed (ONNX Runtime refused some input). Calls that only shared the batch with the
// culprit must not pay for it: when the batch holds several calls, each one's rows run again on
// their own (refilled: the batch tensor is not split), so every call gets its own rows or its own
// error. A batch of one call just fails it. Runs on the infer thread; rare by construction.
void TowerScheduler::IsolateFailure(Batch& batch, const std::string& code, const std::string& message) {
  size_t live = 0;
  for (auto& slice : batch.slices) {
    if (!slice.request->failed() && !slice.request->cancelled.load()) ++live;
  }
  if (live <= 1) {
    for (auto& slice : batch.slices) slice.request->Fail(code, message);
    return;
  }
  size_t offset = 0;
  for (auto& slice : batch.slices) {
    const size_t n = slice.end - slice.begin;
    EmbedRequest& request = *slice.request;
    if (!request.failed() && !request.cancelled.load()) {
      Batch alone;
      alone.slices.push_back(slice);
      alone.rows = n;
      try {
        hooks_.fill(alone);
        if (!request.failed()) {
          alone.output.assign(n * hooks_.dim, 0.0f);
          hooks_.run(alone);
          std::copy(alone.output.begin(), alone.output.end(), batch.output.begin() + offset * hooks_.dim);
        }
      } catch (const Error& e) {
        request.Fail(e.code(), e.what());
      } catch (const std::exception& e) {
        request.Fail(CodeOf(e) == codes::kResource ? codes::kResource : codes::kRuntime, e.what());
      }
    }
    offset += n;
  }
}

void TowerScheduler::InferLoop() {
  for (;;) {
    std::unique_ptr<Batch> batch;
    {
      std::unique_lock<std::mutex> lock(handoff_mutex_);
      handoff_changed_.wait(lock, [this] { return prepare_done_ || !prepared_.empty(); });
      if (prepared_.empty()) return;  // prepare thread finished and nothing is left
      batch = std::move(prepared_.front());
      prepared_.pop_front();
      handoff_changed_.notify_all();
    }
    bool all_failed_or_cancelled = true;
    for (auto& slice : batch->slices) {
      if (!slice.request->failed() && !slice.request->cancelled.load()) all_failed_or_cancelled = false;
    }
    if (!all_failed_or_cancelled) {
      batch->output.assign(batch->rows * hooks_.dim, 0.0f);
      const auto run_start = EmbedRequest::Clock::now();
      bool run_failed = false;
      std::string failure_code, failure_message;
      try {
        hooks_.run(*batch);
      } catch (const Error& e) {
        run_failed = true, failure_code = e.code(), failure_message = e.what();
      } catch (const std::exception& e) {
        run_failed = true, failure_code = CodeOf(e) == codes::kResource ? codes::kResource : codes::kRuntime;
        failure_message = e.what();
      }
      if (stats_) stats_->inference.Record(NanosecondsSince(run_start, EmbedRequest::Clock::now()));
      if (run_failed) IsolateFailure(*batch, failure_code, failure_message);
    }
    size_t offset = 0;
    for (auto& slice : batch->slices) {
      EmbedRequest& request = *slice.request;
      const size_t n = slice.end - slice.begin;
      if (!batch->output.empty() && !request.failed()) {
        for (size_t r = 0; r < n; ++r) {
          const size_t processing_row = slice.begin + r;
          const size_t original = request.order.empty() ? processing_row : request.order[processing_row];
          std::copy_n(batch->output.data() + (offset + r) * hooks_.dim, hooks_.dim, request.result->row(original));
        }
      }
      offset += n;
      if (request.rows_done.fetch_add(n) + n == request.rows()) Finish(slice.request);
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      --batches_in_flight_;
    }
    queue_changed_.notify_all();  // a prepare thread in its coalescing window re-checks idleness
  }
}

}  // namespace crossmodal::model
