#include "common/thread_pool.h"

#include <algorithm>
#include <string>

#include "common/error.h"

namespace crossmodal {

void CheckThreadCount(size_t threads, const char* what) {
  if (threads > kMaxThreads) {
    throw Error(codes::kInvalidArgument, std::string(what) + " must be at most " + std::to_string(kMaxThreads) +
                                             " (got " + std::to_string(threads) + ")");
  }
}

size_t DefaultThreadCount() { return std::clamp<size_t>(std::thread::hardware_concurrency(), 1, kMaxThreads); }

// Items are claimed under the pool mutex and `done` is counted under the job's own mutex, so a
// worker never touches a Job after its last item is counted: the owner may then destroy it.
struct ThreadPool::Job {
  const std::function<void(size_t)>* fn;
  size_t count;
  size_t next = 0;  // guarded by the pool mutex
  size_t done = 0;  // guarded by `mutex`
  std::mutex mutex;
  std::condition_variable finished;
};

ThreadPool::ThreadPool(size_t threads) {
  CheckThreadCount(threads, "threads");
  if (threads == 0) threads = DefaultThreadCount();
  // The caller of ParallelFor works too, so the pool holds one thread fewer.
  for (size_t i = 1; i < threads; ++i) workers_.emplace_back([this] { WorkerLoop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& worker : workers_) worker.join();
}

void ThreadPool::WorkerLoop() {
  for (;;) {
    Job* job = nullptr;
    size_t index = 0;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;  // stopping
      job = jobs_.front();
      index = job->next++;
      if (job->next >= job->count) jobs_.erase(jobs_.begin());  // fully claimed
    }
    (*job->fn)(index);
    std::lock_guard<std::mutex> lock(job->mutex);
    if (++job->done == job->count) job->finished.notify_all();
  }
}

void ThreadPool::ParallelFor(size_t count, const std::function<void(size_t)>& fn) {
  if (count == 0) return;
  if (workers_.empty() || count == 1) {
    for (size_t i = 0; i < count; ++i) fn(i);
    return;
  }
  Job job;
  job.fn = &fn;
  job.count = count;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    jobs_.push_back(&job);
  }
  wake_.notify_all();
  for (;;) {
    size_t index;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (job.next >= job.count) break;
      index = job.next++;
      if (job.next >= job.count) jobs_.erase(std::remove(jobs_.begin(), jobs_.end(), &job), jobs_.end());
    }
    fn(index);
    std::lock_guard<std::mutex> lock(job.mutex);
    ++job.done;
  }
  std::unique_lock<std::mutex> lock(job.mutex);
  job.finished.wait(lock, [&] { return job.done == job.count; });
}

}  // namespace crossmodal
