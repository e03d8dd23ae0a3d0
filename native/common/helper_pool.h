// Chunked data-parallel loops on a process-wide pool of persistent helper threads (tokenizing a
// batch of texts). Pure C++.
//
// The three pools of common/ and what each is for:
//   TaskPool (task_pool.h)      one thread per hardware thread, shared by every environment:
//                               short latency-sensitive tasks (index searches and lookups).
//   ThreadPool (thread_pool.h)  a fixed-size pool owned by its user: a model's image
//                               preprocessing, a preprocessImages() call.
//   ParallelChunks (here)       helper threads grown on demand and kept forever, so their
//                               per-thread state (the BPE word cache, scratch buffers) stays warm
//                               between calls; the calling thread works too.
#pragma once

#include <cstddef>
#include <functional>

namespace crossmodal {

// Runs body(begin, end) over [0, n) in chunks of `chunk` on up to `threads` threads: the caller
// and threads - 1 helpers from a persistent process-wide pool (grown on demand, at most 256
// threads, never shrunk; helpers are detached, so process exit does not wait for them). The caller
// takes chunks too, so a busy pool only slows a call down. The first exception thrown by any
// chunk is rethrown after all participating threads stop.
void ParallelChunks(size_t n, size_t threads, size_t chunk, const std::function<void(size_t begin, size_t end)>& body);

}  // namespace crossmodal
