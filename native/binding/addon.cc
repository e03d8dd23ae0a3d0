// Module entry point: registers the wrapped classes (objects/, one class per file pair) and the
// free functions (functions/). Nothing else belongs here; see README.md for the layout.
#include <dlfcn.h>
#include <napi.h>

#include "binding/addon_data.h"
#include "binding/functions/register.h"
#include "binding/objects/directory_lock.h"
#include "binding/objects/encoder_session.h"
#include "binding/objects/text_tokenizer.h"
#include "binding/objects/vector_index.h"
#include "runtime/ort_library.h"

namespace crossmodal::binding {
namespace {

// Node unloads an addon when the last environment that loaded it goes away (a Worker exiting
// in a process whose main thread never required it). Our batcher threads and the detached
// threads that finish disposing a model may still be running then, so pin the library in
// memory for the life of the process.
void PinAddonInMemory() {
  Dl_info info;
  if (dladdr(reinterpret_cast<void*>(&PinAddonInMemory), &info) != 0 && info.dli_fname != nullptr) {
    // RTLD_NOLOAD: take one more reference to the already-loaded library, never released.
    dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
  }
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  PinAddonInMemory();
  runtime::PrepareOrtProcessEnvironment();  // no /tmp/mat-debug-<pid>.log (see ort_library.h)
  auto* data = new AddonData();
  env.SetInstanceData(data);
  // Worker threads load the addon into their own environment. When one ends, drop its
  // constructor references first; Node then deletes the instance data itself.
  env.AddCleanupHook([data]() {
    data->encoder_session_constructor.Reset();
    data->vector_index_constructor.Reset();
    data->text_tokenizer_constructor.Reset();
  });
  EncoderSession::Init(env, exports);
  VectorIndex::Init(env, exports);
  TextTokenizer::Init(env, exports);
  exports.Set("DirectoryLock", DirectoryLock::Define(env));
  RegisterRuntimeFunctions(env, exports);
  RegisterSimilarityFunctions(env, exports);
  RegisterPreprocessFunctions(env, exports);
  RegisterImageProbe(env, exports);
  exports.Set("napiVersion", Napi::Number::New(env, NAPI_VERSION));
  return exports;
}

}  // namespace
}  // namespace crossmodal::binding

// NODE_API_MODULE pastes its second argument into an identifier, so it needs an unqualified name.
static Napi::Object InitCrossmodal(Napi::Env env, Napi::Object exports) {
  return crossmodal::binding::Init(env, exports);
}
NODE_API_MODULE(crossmodal, InitCrossmodal)
