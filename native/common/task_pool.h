// The process-wide pool for short, latency-sensitive tasks (index searches). Pure C++.
//
// Why not the libuv pool: a search over a small or approximate index takes tens to hundreds of
// microseconds, and on a VM each futex wake-up of a parked libuv thread costs about as much. A
// thread that has just finished a task therefore spins for a short window (CROSSMODAL_SPIN_US,
// default 100 µs; 0 disables) before parking, so the next task of a client awaiting results one
// after another is picked up without a wake-up, on the core whose caches already hold the index.
// At most one idle thread spins at a time, so the JS thread and FAISS's OpenMP threads always keep
// a core.
//
// The pool is shared by every environment (main thread and Workers) so they do not oversubscribe
// the machine, and it is never destroyed: the addon stays loaded for the life of the process, and
// a static destructor joining threads at exit could wait for a running search.
#pragma once

#include <atomic>
#include <chrono>
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

  // The shared pool: one thread per hardware thread, started on first use.
  static TaskPool& Shared();

  TaskPool(size_t threads, std::chrono::microseconds spin);
  TaskPool(const TaskPool&) = delete;
  TaskPool& operator=(const TaskPool&) = delete;
  // Joins the threads after the queued tasks have run. Only for pools that are not Shared().
  ~TaskPool();

  // Runs `task` on a pool thread, then destroys it there.
  void Submit(std::unique_ptr<Task> task);

  size_t size() const { return threads_.size(); }

 private:
  void WorkerLoop();

  const std::chrono::microseconds spin_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::unique_ptr<Task>> queue_;         // guarded by mutex_
  std::atomic<size_t> queued_{0};   // queue_.size(), readable without the lock by the spinner
  size_t spinners_ = 0;             // guarded by mutex_; idle threads polling queued_ (0 or 1)
  size_t parked_ = 0;               // guarded by mutex_; threads waiting on wake_
  bool stopping_ = false;           // guarded by mutex_
  std::vector<std::thread> threads_;
};

}  // namespace crossmodal
