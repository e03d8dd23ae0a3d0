// Per-environment (main thread or worker_threads Worker) state of the addon.
#pragma once

#include <napi.h>

namespace crossmodal::binding {

// Constructors of the wrapped classes for this environment. Stored as instance data, so Node
// deletes it when the environment is torn down (a Worker exiting), never sharing JS handles
// across environments.
struct AddonData {
  Napi::FunctionReference encoder_session_constructor;
  Napi::FunctionReference vector_index_constructor;
  Napi::FunctionReference text_tokenizer_constructor;
};

inline AddonData& GetAddonData(Napi::Env env) { return *env.GetInstanceData<AddonData>(); }

}  // namespace crossmodal::binding
