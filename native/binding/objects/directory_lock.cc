#include "binding/objects/directory_lock.h"

#include "binding/napi_util.h"

namespace crossmodal::binding {

Napi::Function DirectoryLock::Define(Napi::Env env) {
  return DefineClass(env, "DirectoryLock",
                     {
                         InstanceMethod<&DirectoryLock::Release>("release"),
                         InstanceMethod<&DirectoryLock::Held>("held"),
                     });
}

DirectoryLock::DirectoryLock(const Napi::CallbackInfo& info) : Napi::ObjectWrap<DirectoryLock>(info) {
  Napi::Env env = info.Env();
  Guard(env, [&]() -> Napi::Value {
    const std::string dir = RequireString(info[0], "dir");
    if (dir.empty()) throw Error(codes::kInvalidArgument, "dir must be a non-empty string");
    const std::string what =
        info.Length() > 1 && info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "directory";
    lock_ = std::make_unique<DirLock>(dir, what);
    return env.Undefined();
  });
}

Napi::Value DirectoryLock::Release(const Napi::CallbackInfo& info) {
  lock_.reset();
  return info.Env().Undefined();
}

Napi::Value DirectoryLock::Held(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), lock_ != nullptr && lock_->held());
}

}  // namespace crossmodal::binding
