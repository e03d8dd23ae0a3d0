// A fixed-size pool of worker threads for data-parallel loops (image preprocessing). Pure C++.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace crossmodal {

// The most threads any thread-count option may ask for (intraOpThreads, preprocessThreads, a
// tokenizer's or preprocessImages' threads). Creating thousands of threads can take minutes and
// exhaust the process's thread or memory limits, which showed up as a load that never finished;
// no machine this library targets benefits from more than this.
inline constexpr size_t kMaxThreads = 256;

// Throws ERR_INVALID_ARGUMENT naming `what` when threads > kMaxThreads (0, "default", passes).
void CheckThreadCount(size_t threads, const char* what);

// The CPUs this process may actually use: its affinity mask (taskset, cpusets, Kubernetes static
// CPU manager) and its cgroup CPU quota (docker --cpus, Kubernetes limits; v2 cpu.max or v1
// cfs_quota, rounded up), whichever is smaller; at least 1. hardware_concurrency() counts every
// CPU of the host, so a container limited to 2 CPUs on a 64-core host would start 64 threads.
size_t UsableCpuCount();

// The default thread count of every pool (preprocessing, ONNX Runtime's intra-op threads):
// UsableCpuCount(), at most kMaxThreads.
size_t DefaultThreadCount();

class ThreadPool {
 public:
  // threads == 0: DefaultThreadCount(). Throws ERR_INVALID_ARGUMENT above kMaxThreads.
  // worker_niceness > 0: the workers run at that nice value (common/thread_priority.h).
  explicit ThreadPool(size_t threads, int worker_niceness = 0);
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
