#include "common/task_pool.h"

#include <algorithm>
#include <cstdlib>
#include <string>

namespace crossmodal {
namespace {

std::chrono::microseconds SpinFromEnvironment() {
  const char* value = std::getenv("CROSSMODAL_SPIN_US");
  if (value == nullptr || *value == '\0') return std::chrono::microseconds(0);
  char* end = nullptr;
  const long us = std::strtol(value, &end, 10);
  if (end == value || us < 0) return std::chrono::microseconds(0);
  return std::chrono::microseconds(std::min<long>(us, 100000));
}

}  // namespace

TaskPool& TaskPool::Shared() {
  // Leaked on purpose: see the header.
  static TaskPool* pool = new TaskPool(std::max(1u, std::thread::hardware_concurrency()), SpinFromEnvironment());
  return *pool;
}

TaskPool::TaskPool(size_t threads, std::chrono::microseconds spin) : spin_(spin) {
  threads_.reserve(threads);
  for (size_t i = 0; i < std::max<size_t>(1, threads); ++i) threads_.emplace_back([this] { WorkerLoop(); });
}

TaskPool::~TaskPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& thread : threads_) thread.join();
}

void TaskPool::Submit(std::unique_ptr<Task> task) {
  std::lock_guard<std::mutex> lock(mutex_);
  queue_.push_back(std::move(task));
  queued_.store(queue_.size(), std::memory_order_release);
  // A spinner takes one task without being woken; wake a parked thread for any beyond that. The
  // spinner leaves the spinning state under this mutex and re-checks the queue before parking,
  // so a task it was counted on cannot be missed.
  if (parked_ > 0 && queue_.size() > spinners_) wake_.notify_one();
}

void TaskPool::WorkerLoop() {
  bool may_spin = false;  // only right after a task: an idle pool must not burn a core
  for (;;) {
    std::unique_ptr<Task> task;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      while (queue_.empty()) {
        if (stopping_) return;
        if (may_spin && spinners_ == 0 && spin_.count() > 0) {
          may_spin = false;
          ++spinners_;
          lock.unlock();
          const auto deadline = std::chrono::steady_clock::now() + spin_;
          // No PAUSE: under KVM, pause loops trigger pause-loop exiting and the hypervisor
          // deschedules the spinning vCPU, which costs more than parking. try_lock: the submitter
          // still holds the mutex when the count changes, and blocking on it here would cost the
          // very futex round trip the spinning is meant to save.
          for (;;) {
            if (queued_.load(std::memory_order_acquire) > 0 && lock.try_lock()) break;
            if (std::chrono::steady_clock::now() >= deadline) {
              lock.lock();
              break;
            }
          }
          --spinners_;
          continue;
        }
        ++parked_;
        wake_.wait(lock);
        --parked_;
      }
      task = std::move(queue_.front());
      queue_.pop_front();
      queued_.store(queue_.size(), std::memory_order_release);
      // More tasks than spinners can take, and a parked thread could run one now: pass it on.
      if (!queue_.empty() && parked_ > 0 && queue_.size() > spinners_) wake_.notify_one();
    }
    task->Run();
    task.reset();
    may_spin = true;
  }
}

}  // namespace crossmodal
