// The process-wide pool for short, latency-sensitive tasks (index searches and lookups). Pure C++.
//
// Why not libuv's pool: it has four threads by default and also serves fs, dns, zlib and crypto.
// Searches queued there would make a server's file reads wait behind them (and vice versa), and
// four threads oversubscribe a small machine whose FAISS calls already use OpenMP. This pool has
// one thread per hardware thread and nothing else runs on it.
//
// It is shared by every environment (main thread and Workers) so they do not oversubscribe the
// machine together, and it is never destroyed: the addon stays loaded for the life of the
// process, and a static destructor joining threads at exit could wait for a running search.
// (Spinning briefly before parking was tried to save a wake-up per call; on a 2-vCPU VM under
// load it doubled the per-call time, so threads park at once.)
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace crossmodal {

class TaskPool {
 public:
  // A unit of work. Run() must not throw (tasks capture their own errors).
  class Task {
   public:
    virtual ~Task() = default;
    virtual void Run() = 0;
  };

  // The shared pool: one thread per hardware thread.
  static TaskPool& Shared();

  explicit TaskPool(size_t threads);
  TaskPool(const TaskPool&) = delete;
  TaskPool& operator=(const TaskPool&) = delete;
  // Joins the threads after the queued tasks have run. Only for pools that are not Shared().
  ~TaskPool();

  // Runs `task` on a pool thread, then destroys it there. Tasks start in submission order.
  void Submit(std::unique_ptr<Task> task);

  size_t size() const { return threads_.size(); }

 private:
  void WorkerLoop();

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::unique_ptr<Task>> queue_;  // guarded by mutex_
  bool stopping_ = false;                    // guarded by mutex_
  std::vector<std::thread> threads_;
};

}  // namespace crossmodal
