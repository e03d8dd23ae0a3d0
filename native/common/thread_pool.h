// A fixed-size pool of worker threads for data-parallel loops (image preprocessing). Pure C++.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace crossmodal {

class ThreadPool {
 public:
  // threads == 0: one per hardware thread.
  explicit ThreadPool(size_t threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  size_t size() const { return workers_.size(); }

  // Runs fn(i) for i in [0, count) on the pool and the calling thread, returning when all are
  // done. fn must not throw (callers record per-item errors themselves). Several threads may
  // call ParallelFor at once; their items interleave on the workers.
  void ParallelFor(size_t count, const std::function<void(size_t)>& fn);

 private:
  struct Job;
  void WorkerLoop();

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<Job*> jobs_;  // jobs with items left to claim
  bool stopping_ = false;
};

}  // namespace crossmodal
