// Promise-returning operations that run on the shared TaskPool (common/task_pool.h) instead of
// libuv's pool: searches and lookups, so they neither wait behind nor hold up a server's file and
// network work. Long index operations (building, training, saving) stay on PromiseWorker so they
// cannot hold up searches of other indexes either.
#pragma once

#include <napi.h>

#include <functional>

namespace crossmodal::binding {

// JS thread only. `run` executes on a pool thread and must not touch Napi values; whatever it
// throws rejects the promise with its code. `result` runs on the JS thread after a successful
// `run` and builds the resolution value. Both lambdas own what they need (shared_ptr captures):
// the caller's objects may be collected while the task runs.
Napi::Value QueueLatencyTask(Napi::Env env, std::function<void()> run,
                             std::function<Napi::Value(Napi::Env)> result);

}  // namespace crossmodal::binding
