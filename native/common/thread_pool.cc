#include "common/thread_pool.h"

#include "common/thread_priority.h"

#include <sched.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "common/error.h"

namespace crossmodal {

void CheckThreadCount(size_t threads, const char* what) {
  if (threads > kMaxThreads) {
    throw Error(codes::kInvalidArgument, std::string(what) + " must be at most " + std::to_string(kMaxThreads) +
                                             " (got " + std::to_string(threads) + ")");
  }
}

namespace {

// ceil(quota / period) from a cgroup file pair, or 0 when there is no limit or no such file.
size_t CgroupCpuLimit() {
  // cgroup v2: "<quota|max> <period>" in the process's own cgroup (its path from /proc/self/cgroup
  // "0::<path>"; inside a container's namespace that is usually "/").
  std::string relative = "/";
  if (std::FILE* f = std::fopen("/proc/self/cgroup", "re")) {
    char line[4096];
    while (std::fgets(line, sizeof line, f) != nullptr) {
      if (std::strncmp(line, "0::", 3) == 0) {
        relative = line + 3;
        while (!relative.empty() && (relative.back() == '\n' || relative.back() == '\r')) relative.pop_back();
      }
    }
    std::fclose(f);
  }
  // `first` holds at least 32 bytes.
  auto read_two = [](const std::string& path, char* first, long long* second) {
    std::FILE* f = std::fopen(path.c_str(), "re");
    if (f == nullptr) return false;
    const bool ok = std::fscanf(f, "%31s %lld", first, second) == 2;
    std::fclose(f);
    return ok;
  };
  char quota[32] = {0};
  long long period = 0;
  for (const std::string& dir : {"/sys/fs/cgroup" + relative, std::string("/sys/fs/cgroup")}) {
    if (read_two(dir + "/cpu.max", quota, &period)) {
      if (std::strcmp(quota, "max") == 0 || period <= 0) return 0;
      const long long q = std::atoll(quota);
      return q > 0 ? static_cast<size_t>((q + period - 1) / period) : 0;
    }
  }
  // cgroup v1.
  long long q = -1, p = 0;
  if (std::FILE* f = std::fopen("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", "re")) {
    if (std::fscanf(f, "%lld", &q) != 1) q = -1;
    std::fclose(f);
  }
  if (std::FILE* f = std::fopen("/sys/fs/cgroup/cpu/cpu.cfs_period_us", "re")) {
    if (std::fscanf(f, "%lld", &p) != 1) p = 0;
    std::fclose(f);
  }
  return q > 0 && p > 0 ? static_cast<size_t>((q + p - 1) / p) : 0;
}

}  // namespace

size_t UsableCpuCount() {
  static const size_t count = [] {
    size_t cpus = std::max(1u, std::thread::hardware_concurrency());
    cpu_set_t set;
    CPU_ZERO(&set);
    if (::sched_getaffinity(0, sizeof set, &set) == 0) cpus = std::max(1, CPU_COUNT(&set));
    const size_t limit = CgroupCpuLimit();
    if (limit > 0) cpus = std::min(cpus, limit);
    return cpus;
  }();
  return count;
}

size_t DefaultThreadCount() { return std::clamp<size_t>(UsableCpuCount(), 1, kMaxThreads); }

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

ThreadPool::ThreadPool(size_t threads, int worker_niceness) {
  CheckThreadCount(threads, "threads");
  if (threads == 0) threads = DefaultThreadCount();
  // The caller of ParallelFor works too, so the pool holds one thread fewer.
  for (size_t i = 1; i < threads; ++i) {
    workers_.emplace_back([this, worker_niceness] {
      LowerCurrentThreadPriority(worker_niceness);
      WorkerLoop();
    });
  }
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
