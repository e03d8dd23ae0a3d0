// The one way N-API code runs work off the event loop and settles a promise with the result.
//
//   QueueWork(env, WorkQueue::kBackground, "crossmodal.index.save", run, result)
//   QueueWork(env, WorkQueue::kLatency, "crossmodal.index.search", run, result)
//
// `run` executes on a worker thread. It must not touch Napi values (no Napi::Value, Env, or
// reference may be created, read or destroyed there); everything it needs is captured by value
// or through shared_ptr, because the JS objects that started the call may be collected while it
// runs. Whatever it throws (crossmodal::Error with its code, std::bad_alloc, any other
// std::exception) is captured on the worker thread and rejects the promise with a JS Error whose
// `code` is the error's code (ERR_INTERNAL for non-crossmodal exceptions).
// `result` runs on the JS thread after a successful `run` and builds the resolution value from
// state shared with `run`; if it throws, the promise rejects instead.
//
// Which queue:
//   kBackground  libuv's thread pool (Napi::AsyncWorker). Operations that may take long: loading
//                models, tokenizers and indexes, building, training, saving, tokenizing and
//                preprocessing batches. They must not delay searches of other indexes.
//   kLatency     the process-wide TaskPool (common/task_pool.h): short, latency-sensitive work
//                (index searches and lookups), which must neither wait behind nor hold up a
//                server's file and network work on libuv's pool. Completions come back through
//                one CompletionChannel per environment.
//
// Work that native threads start on their own (the encoder's dynamic batchers) delivers its
// results through a CompletionChannel (completion_channel.h) owned by the wrapped object instead.
//
// Environment teardown (a worker_threads Worker exiting): libuv work of that environment is
// completed or cancelled by Node; latency work still running finds its CompletionChannel closed
// and drops its completion without touching JS. AddonData (addon_data.h) is deleted by Node
// after the cleanup hook registered in addon.cc has released its references.
#pragma once

#include <napi.h>

#include <functional>

namespace crossmodal::binding {

enum class WorkQueue { kBackground, kLatency };

using WorkFn = std::function<void()>;
using ResultFn = std::function<Napi::Value(Napi::Env)>;

// JS thread only. Returns the promise. `name` labels the async resource (async_hooks).
Napi::Value QueueWork(Napi::Env env, WorkQueue queue, const char* name, WorkFn run, ResultFn result);

// The two queues behind QueueWork (background_pool.cc, latency_pool.cc).
Napi::Value QueueBackgroundWork(Napi::Env env, const char* name, WorkFn run, ResultFn result);
Napi::Value QueueLatencyWork(Napi::Env env, const char* name, WorkFn run, ResultFn result);

inline Napi::Value QueueWork(Napi::Env env, WorkQueue queue, const char* name, WorkFn run, ResultFn result) {
  return queue == WorkQueue::kLatency ? QueueLatencyWork(env, name, std::move(run), std::move(result))
                                      : QueueBackgroundWork(env, name, std::move(run), std::move(result));
}

}  // namespace crossmodal::binding
