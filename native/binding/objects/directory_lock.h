// DirectoryLock: the JS handle on a DirLock (common/dir_lock.h).
#pragma once

#include <napi.h>

#include <memory>

#include "common/dir_lock.h"

namespace crossmodal::binding {

class DirectoryLock : public Napi::ObjectWrap<DirectoryLock> {
 public:
  // The class, for exports.DirectoryLock. JS constructs it with `new`, so no constructor
  // reference is kept.
  static Napi::Function Define(Napi::Env env);
  // new DirectoryLock(dir: string, what?: string): throws ERR_LOCKED / ERR_IO.
  explicit DirectoryLock(const Napi::CallbackInfo& info);

 private:
  Napi::Value Release(const Napi::CallbackInfo& info);  // release(): idempotent
  Napi::Value Held(const Napi::CallbackInfo& info);     // held(): boolean

  // Destroyed (releasing the lock) by release() or, if the handle is collected without it, by
  // the ObjectWrap finalizer. Callers keep the handle reachable for as long as they need the lock.
  std::unique_ptr<DirLock> lock_;
};

}  // namespace crossmodal::binding
