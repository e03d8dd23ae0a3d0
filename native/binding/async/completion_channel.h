// Delivers work finished on native threads back to the JS thread of one environment.
#pragma once

#include <napi.h>

#include <memory>
#include <mutex>

namespace crossmodal::binding {

// Something to do on the JS thread once native work is done (settle a promise). Deliver runs at
// most once; when the environment is already gone the completion is destroyed undelivered, so
// destructors must not touch JS values.
class Completion {
 public:
  virtual ~Completion() = default;
  virtual void Deliver(Napi::Env env) = 0;
};

// Owns a thread-safe function. Shared (shared_ptr) by its owner and every in-flight task, so the
// function is released only when none of them can post to it any more. Idle channels are unref'd:
// they never keep the process alive by themselves; owners Ref() while calls are in flight.
class CompletionChannel {
 public:
  CompletionChannel(Napi::Env env, const char* name);
  ~CompletionChannel();
  CompletionChannel(const CompletionChannel&) = delete;
  CompletionChannel& operator=(const CompletionChannel&) = delete;

  // Any thread. After the environment is gone nobody awaits the result: the completion is dropped.
  void Post(std::unique_ptr<Completion> completion);
  // JS thread only.
  void Ref(Napi::Env env);
  void Unref(Napi::Env env);

 private:
  // Node frees a thread-safe function when its environment is torn down (a Worker exiting) even
  // if threads still hold it, so its finalizer flips `closed` and every poster checks it under
  // the same mutex.
  struct State {
    std::mutex mutex;
    bool closed = false;
  };
  static void CallJs(Napi::Env env, Napi::Function, std::nullptr_t*, Completion* completion);
  using Tsfn = Napi::TypedThreadSafeFunction<std::nullptr_t, Completion, CallJs>;

  std::shared_ptr<State> state_;
  Tsfn tsfn_;
};

}  // namespace crossmodal::binding
