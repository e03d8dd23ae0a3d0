// QueueWork(..., WorkQueue::kLatency, ...): a task on the shared TaskPool whose completion comes
// back through the environment's latency CompletionChannel (addon_data.h).
#include <memory>
#include <utility>

#include "binding/addon_data.h"
#include "binding/async/async_work.h"
#include "binding/async/completion_channel.h"
#include "binding/napi_util.h"
#include "common/task_pool.h"

namespace crossmodal::binding {
namespace {

class LatencyCompletion : public Completion {
 public:
  LatencyCompletion(napi_deferred deferred, ResultFn result) : deferred_(deferred), result_(std::move(result)) {}

  void SetError(CapturedError error) { error_ = std::move(error); }

  void Deliver(Napi::Env env) override {
    SettleDeferred(env, deferred_, error_, [&] { return result_(env); });
    AddonData& data = GetAddonData(env);
    if (--data.latency_in_flight == 0) data.latency_channel->Unref(env);
  }

 private:
  napi_deferred deferred_;
  CapturedError error_;
  ResultFn result_;
};

class LatencyJob : public TaskPool::Task {
 public:
  LatencyJob(WorkFn run, std::unique_ptr<LatencyCompletion> completion, std::shared_ptr<CompletionChannel> channel)
      : run_(std::move(run)), completion_(std::move(completion)), channel_(std::move(channel)) {}

  void Run() override {
    completion_->SetError(CaptureErrors(run_));
    channel_->Post(std::move(completion_));
  }

 private:
  WorkFn run_;
  std::unique_ptr<LatencyCompletion> completion_;
  std::shared_ptr<CompletionChannel> channel_;
};

}  // namespace

Napi::Value QueueLatencyWork(Napi::Env env, const char* name, WorkFn run, ResultFn result) {
  // One channel per environment (its name labels them all); `name` is kept for symmetry with
  // QueueBackgroundWork and for reading call sites.
  (void)name;
  AddonData& data = GetAddonData(env);
  if (!data.latency_channel) data.latency_channel = std::make_shared<CompletionChannel>(env, "crossmodal.latency");
  napi_deferred deferred = nullptr;
  napi_value promise = nullptr;
  NAPI_THROW_IF_FAILED(env, napi_create_promise(env, &deferred, &promise), Napi::Value());
  auto completion = std::make_unique<LatencyCompletion>(deferred, std::move(result));
  TaskPool::Shared().Submit(std::make_unique<LatencyJob>(std::move(run), std::move(completion), data.latency_channel));
  if (data.latency_in_flight++ == 0) data.latency_channel->Ref(env);
  return Napi::Value(env, promise);
}

}  // namespace crossmodal::binding
