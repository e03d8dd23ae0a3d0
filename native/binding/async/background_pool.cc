// QueueWork(..., WorkQueue::kBackground, ...): one Napi::AsyncWorker per call on libuv's pool.
#include <utility>

#include "binding/async/async_work.h"
#include "binding/napi_util.h"
#include "common/error.h"

namespace crossmodal::binding {
namespace {

class BackgroundWork : public Napi::AsyncWorker {
 public:
  BackgroundWork(Napi::Env env, const char* name, WorkFn run, ResultFn result)
      : Napi::AsyncWorker(env, name), run_(std::move(run)), result_(std::move(result)) {
    NAPI_THROW_IF_FAILED_VOID(env, napi_create_promise(env, &deferred_, &promise_));
  }

  Napi::Value Promise() const { return Napi::Value(Env(), promise_); }

 private:
  // Worker thread: errors are captured here and never reach Napi::AsyncWorker's own error path.
  void Execute() override { error_ = CaptureErrors(run_); }

  void OnOK() override {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    Settle([&] { SettleDeferred(env, deferred_, error_, [&] { return result_(env); }); });
  }

  void OnError(const Napi::Error& error) override {
    Settle([&] { napi_reject_deferred(Env(), deferred_, error.Value()); });
  }

  template <typename Fn>
  void Settle(Fn&& settle) {
    if (deferred_ == nullptr) return;  // a deferred may be settled once
    settle();
    deferred_ = nullptr;
  }

  WorkFn run_;
  ResultFn result_;
  napi_deferred deferred_ = nullptr;
  napi_value promise_ = nullptr;
  CapturedError error_;
};

}  // namespace

Napi::Value QueueBackgroundWork(Napi::Env env, const char* name, WorkFn run, ResultFn result) {
  auto* work = new BackgroundWork(env, name, std::move(run), std::move(result));  // deletes itself
  Napi::Value promise = work->Promise();
  work->Queue();
  return promise;
}

}  // namespace crossmodal::binding
