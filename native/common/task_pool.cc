#include "common/task_pool.h"

#include <algorithm>

namespace crossmodal {

TaskPool& TaskPool::Shared() {
  // Leaked on purpose: see the header.
  static TaskPool* pool = new TaskPool(std::max(1u, std::thread::hardware_concurrency()));
  return *pool;
}

TaskPool::TaskPool(size_t threads) {
  threads = std::max<size_t>(1, threads);
  threads_.reserve(threads);
  for (size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { WorkerLoop(); });
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
  {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.push_back(std::move(task));
  }
  wake_.notify_one();
}

void TaskPool::WorkerLoop() {
  for (;;) {
    std::unique_ptr<Task> task;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything queued has run
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    task->Run();
  }
}

}  // namespace crossmodal
