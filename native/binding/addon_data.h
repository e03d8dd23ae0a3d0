// Per-environment (main thread or worker_threads Worker) state of the addon.
#pragma once

#include <napi.h>

#include <cstddef>
#include <memory>

#include "binding/async/completion_channel.h"

namespace crossmodal::binding {

// Constructors of the wrapped classes for this environment. Stored as instance data, so Node
// deletes it when the environment is torn down (a Worker exiting), never sharing JS handles
// across environments.
struct AddonData {
  Napi::FunctionReference encoder_session_constructor;
  Napi::FunctionReference vector_index_constructor;
  Napi::FunctionReference text_tokenizer_constructor;
  // Completions of WorkQueue::kLatency work (async/async_work.h), created on first use;
  // referenced while `latency_in_flight` > 0 so pending searches keep the event loop alive.
  std::shared_ptr<CompletionChannel> latency_channel;
  size_t latency_in_flight = 0;
};

inline AddonData& GetAddonData(Napi::Env env) { return *env.GetInstanceData<AddonData>(); }

}  // namespace crossmodal::binding
