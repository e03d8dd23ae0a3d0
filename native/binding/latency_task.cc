#include "binding/latency_task.h"

#include <memory>
#include <utility>

#include "binding/addon_data.h"
#include "binding/completion_channel.h"
#include "binding/napi_util.h"
#include "common/task_pool.h"

namespace crossmodal::binding {
namespace {

class LatencyCompletion : public Completion {
 public:
  LatencyCompletion(napi_deferred deferred, std::function<Napi::Value(Napi::Env)> result)
      : deferred_(deferred), result_(std::move(result)) {}

  void SetError(CapturedError error) { error_ = std::move(error); }

  void Deliver(Napi::Env env) override {
    SettleDeferred(env, deferred_, error_, [&] { return result_(env); });
    AddonData& data = GetAddonData(env);
    if (--data.latency_in_flight == 0) data.latency_channel->Unref(env);
  }

 private:
  napi_deferred deferred_;
  CapturedError error_;
  std::function<Napi::Value(Napi::Env)> result_;
};

class LatencyJob : public TaskPool::Task {
 public:
  LatencyJob(std::function<void()> run, std::unique_ptr<LatencyCompletion> completion,
             std::shared_ptr<CompletionChannel> channel)
      : run_(std::move(run)), completion_(std::move(completion)), channel_(std::move(channel)) {}

  void Run() override {
    completion_->SetError(CaptureErrors(run_));
    channel_->Post(std::move(completion_));
  }

 private:
  std::function<void()> run_;
  std::unique_ptr<LatencyCompletion> completion_;
  std::shared_ptr<CompletionChannel> channel_;
};

}  // namespace

Napi::Value QueueLatencyTask(Napi::Env env, std::function<void()> run,
                             std::function<Napi::Value(Napi::Env)> result) {
  AddonData& data = GetAddonData(env);
  if (!data.latency_channel) data.latency_channel = std::make_shared<CompletionChannel>(env, "crossmodal.search");
  napi_deferred deferred = nullptr;
  napi_value promise = nullptr;
  NAPI_THROW_IF_FAILED(env, napi_create_promise(env, &deferred, &promise), Napi::Value());
  auto completion = std::make_unique<LatencyCompletion>(deferred, std::move(result));
  TaskPool::Shared().Submit(std::make_unique<LatencyJob>(std::move(run), std::move(completion), data.latency_channel));
  if (data.latency_in_flight++ == 0) data.latency_channel->Ref(env);
  return Napi::Value(env, promise);
}

}  // namespace crossmodal::binding
