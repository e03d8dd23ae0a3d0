#include "common/helper_pool.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>

namespace crossmodal {

namespace {

// A process-wide pool of helper threads, grown on demand and never shrunk. Threads persist so
// their per-thread state (the BPE front cache, scratch buffers) stays warm across calls; they are
// detached and the pool is never destroyed, so process exit does not wait for them.
class HelperPool {
 public:
  static HelperPool& Instance() {
    static HelperPool* pool = new HelperPool();  // intentionally leaked
    return *pool;
  }

  void Submit(std::function<void()> task, size_t want_threads) {
    std::lock_guard<std::mutex> lock(mu_);
    while (threads_ < want_threads && threads_ < kMaxThreads) {
      std::thread([this] { Loop(); }).detach();
      ++threads_;
    }
    queue_.push_back(std::move(task));
    cv_.notify_one();
  }

 private:
  static constexpr size_t kMaxThreads = 256;
  void Loop() {
    for (;;) {
      std::function<void()> task;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [this] { return !queue_.empty(); });
        task = std::move(queue_.front());
        queue_.pop_front();
      }
      task();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  size_t threads_ = 0;
};

}  // namespace

void ParallelChunks(size_t n, size_t threads, size_t chunk, const std::function<void(size_t, size_t)>& body) {
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
  // Helpers that start after the caller has finished (the pool was busy) must not touch this
  // frame: the caller closes the state, and waits only for helpers that had already started.
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    size_t running = 0;
    bool closed = false;
  };
  auto state = std::make_shared<State>();
  for (size_t t = 0; t + 1 < threads; ++t) {
    HelperPool::Instance().Submit(
        [state, &work] {
          {
            std::lock_guard<std::mutex> lock(state->mu);
            if (state->closed) return;
            ++state->running;
          }
          work();
          std::lock_guard<std::mutex> lock(state->mu);
          if (--state->running == 0) state->cv.notify_all();
        },
        threads - 1);
  }
  work();
  {
    std::unique_lock<std::mutex> lock(state->mu);
    state->closed = true;
    state->cv.wait(lock, [&] { return state->running == 0; });
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace crossmodal
