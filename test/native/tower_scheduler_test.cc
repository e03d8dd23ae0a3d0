// The dynamic batcher's length grouping (model/tower_scheduler.cc, PlanSingleTexts): under a
// backlog of single-text calls, batches group similar lengths (padding close to one sorted call,
// far below FIFO), every call still gets its own row, no call waits more batches than FIFO would
// make it wait for its run, and calls that are not single texts keep their FIFO place.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "model/tower_scheduler.h"

namespace crossmodal::model {
namespace {

constexpr size_t kMaxBatch = 128;

// Runs a scheduler whose first batch's fill waits until the test has submitted everything, so the
// rest is one backlog; records each batch's calls (by submission number) and text lengths. Row
// output = the call's number, so a call receiving another's row is visible.
class Recorder {
 public:
  explicit Recorder(size_t max_batch = kMaxBatch) {
    TowerScheduler::Limits limits;
    limits.max_batch = max_batch;
    limits.max_delay = std::chrono::milliseconds(1);
    limits.max_queued_rows = 1 << 20;
    TowerScheduler::Hooks hooks;
    hooks.dim = 1;
    hooks.prepare = [](EmbedRequest&) {};
    hooks.fill = [this](Batch&) {
      std::unique_lock<std::mutex> lock(mutex_);
      released_.wait(lock, [this] { return open_; });
    };
    hooks.run = [this](Batch& batch) {
      std::vector<size_t> calls, lengths;
      size_t row = 0;
      for (const BatchSlice& slice : batch.slices) {
        for (size_t r = slice.begin; r < slice.end; ++r, ++row) {
          const size_t number = numbers_.at(slice.request.get());
          calls.push_back(number);
          lengths.push_back(slice.request->texts[r].size());
          batch.output[row] = static_cast<float>(number);
        }
      }
      std::lock_guard<std::mutex> lock(mutex_);
      batches_.push_back(calls);
      lengths_.push_back(lengths);
    };
    scheduler_ = std::make_unique<TowerScheduler>("text", limits, hooks);
  }

  // Submits a call of `texts`; returns a future of its result rows.
  std::future<std::vector<float>> Submit(std::vector<std::string> texts) {
    auto request = std::make_shared<EmbedRequest>();
    request->kind = EmbedRequest::Kind::kText;
    request->texts = std::move(texts);
    request->normalize = false;
    auto promise = std::make_shared<std::promise<std::vector<float>>>();
    request->on_complete = [promise](std::shared_ptr<EmbedRequest> done) {
      promise->set_value(done->failed() ? std::vector<float>{} : done->result->values);
    };
    numbers_[request.get()] = numbers_.size();
    scheduler_->Submit(request);
    return promise->get_future();
  }

  void Release() {
    std::lock_guard<std::mutex> lock(mutex_);
    open_ = true;
    released_.notify_all();
  }

  std::vector<std::vector<size_t>> batches_, lengths_;

 private:
  std::mutex mutex_;
  std::condition_variable released_;
  bool open_ = false;
  std::unordered_map<const EmbedRequest*, size_t> numbers_;  // written before each Submit only
  std::unique_ptr<TowerScheduler> scheduler_;
};

// Padded rows × length of cutting `lengths` into consecutive batches of kMaxBatch.
size_t PaddedCost(const std::vector<size_t>& lengths) {
  size_t cost = 0;
  for (size_t begin = 0; begin < lengths.size(); begin += kMaxBatch) {
    const size_t end = std::min(lengths.size(), begin + kMaxBatch);
    cost += (end - begin) * *std::max_element(lengths.begin() + begin, lengths.begin() + end);
  }
  return cost;
}

TEST(TowerScheduler, GroupsABacklogOfSingleTextsByLength) {
  Recorder recorder;
  std::mt19937 rng(5);
  std::uniform_int_distribution<size_t> length(1, 200);
  std::vector<size_t> submitted;
  std::vector<std::future<std::vector<float>>> results;
  for (size_t i = 0; i < 1000; ++i) {
    submitted.push_back(length(rng));
    results.push_back(recorder.Submit({std::string(submitted.back(), 'a')}));
  }
  recorder.Release();
  for (size_t i = 0; i < results.size(); ++i) {
    const std::vector<float> rows = results[i].get();
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0], static_cast<float>(i)) << "call " << i << " got another call's row";
  }

  size_t cost = 0, rows = 0;
  for (const auto& lengths : recorder.lengths_) {
    cost += lengths.size() * *std::max_element(lengths.begin(), lengths.end());
    rows += lengths.size();
  }
  EXPECT_EQ(rows, 1000u);
  std::vector<size_t> sorted = submitted;
  std::sort(sorted.begin(), sorted.end());
  const size_t fifo = PaddedCost(submitted), best = PaddedCost(sorted);
  // Uniform lengths: FIFO pads nearly every row to ~200, sorted batches to ~their own length.
  EXPECT_LT(cost, fifo * 3 / 4) << "cost " << cost << ", FIFO " << fifo << ", one sorted call " << best;
  // Within 25% of one sorted call: the first batch (formed before the backlog) and the partial
  // remainder are FIFO batches; the six planned ones pad like the sorted call.
  EXPECT_LT(cost, best * 5 / 4) << "cost " << cost << ", one sorted call " << best;

  // No call waits more batches than FIFO would need for everything submitted before it and its
  // plan window (8 batches).
  for (size_t b = 0; b < recorder.batches_.size(); ++b) {
    for (size_t call : recorder.batches_[b]) {
      EXPECT_LE(b, call / kMaxBatch + TowerScheduler::kLengthWindowBatches) << "call " << call;
    }
  }
}

TEST(TowerScheduler, CallsOfSeveralRowsKeepTheirFifoPlace) {
  Recorder recorder(/*max_batch=*/16);
  std::vector<std::future<std::vector<float>>> results;
  for (size_t i = 0; i < 40; ++i) results.push_back(recorder.Submit({std::string(1 + i % 7 * 20, 'b')}));
  std::vector<std::string> many(10, "a call of ten rows");
  const size_t multi = results.size();
  results.push_back(recorder.Submit(many));
  for (size_t i = 0; i < 200; ++i) results.push_back(recorder.Submit({std::string(1 + i % 11 * 9, 'c')}));
  recorder.Release();
  for (auto& result : results) result.get();
  // FIFO would start the 10-row call in batch 2 or 3 (40 single rows ahead of it in batches of
  // 16, the first batch formed before the backlog); grouping may reorder the 40 before it but
  // never moves anything behind it ahead of it.
  size_t first_batch = recorder.batches_.size();
  for (size_t b = 0; b < recorder.batches_.size() && first_batch == recorder.batches_.size(); ++b) {
    for (size_t call : recorder.batches_[b]) {
      if (call == multi) first_batch = b;
    }
  }
  EXPECT_LE(first_batch, 3u);
  for (size_t b = 0; b < first_batch; ++b) {
    for (size_t call : recorder.batches_[b]) EXPECT_LT(call, multi) << "call " << call << " jumped the queue";
  }
}

}  // namespace
}  // namespace crossmodal::model
