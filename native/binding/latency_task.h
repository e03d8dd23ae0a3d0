// Promise-returning operations that run on the shared low-latency TaskPool instead of libuv's
// pool: short operations whose per-call overhead matters (index searches, lookups). Long ones
// (building, training, saving) stay on PromiseWorker so they cannot occupy the spinning threads.
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
