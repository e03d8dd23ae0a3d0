// loadRuntime(path) and runtimeInfo(): the ONNX Runtime library the models use.
#include "binding/async/async_work.h"
#include "binding/functions/register.h"
#include "binding/napi_util.h"
#include "runtime/ort_library.h"

namespace crossmodal::binding {
namespace {

Napi::Object RuntimeInfoToJs(Napi::Env env, const runtime::OrtLibraryInfo& info) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("path", info.path);
  out.Set("version", info.version);
  out.Set("apiVersion", Napi::Number::New(env, info.api_version));
  Napi::Array providers = Napi::Array::New(env, info.available_providers.size());
  for (size_t i = 0; i < info.available_providers.size(); ++i) {
    providers.Set(static_cast<uint32_t>(i), info.available_providers[i]);
  }
  out.Set("availableProviders", providers);
  return out;
}

// loadRuntime(path) -> Promise<RuntimeInfo>: dlopen()s ONNX Runtime off the event loop.
Napi::Value LoadRuntime(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    std::string path = info.Length() > 0 && info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
    auto loaded = std::make_shared<const runtime::OrtLibraryInfo*>(nullptr);
    return QueueWork(
        env, WorkQueue::kBackground, "crossmodal.loadRuntime",
        [loaded, path = std::move(path)] { *loaded = &runtime::LoadOrtLibrary(path); },
        [loaded](Napi::Env env) -> Napi::Value { return RuntimeInfoToJs(env, **loaded); });
  });
}

// runtimeInfo() -> RuntimeInfo | null, without loading anything.
Napi::Value RuntimeInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    if (!runtime::IsOrtLoaded()) return env.Null();
    return RuntimeInfoToJs(env, runtime::LoadOrtLibrary(""));
  });
}

}  // namespace

void RegisterRuntimeFunctions(Napi::Env env, Napi::Object exports) {
  exports.Set("loadRuntime", Napi::Function::New(env, LoadRuntime, "loadRuntime"));
  exports.Set("runtimeInfo", Napi::Function::New(env, RuntimeInfo, "runtimeInfo"));
}

}  // namespace crossmodal::binding
