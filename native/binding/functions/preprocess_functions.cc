#include "binding/functions/preprocess_functions.h"

#include <string>
#include <thread>

#include "binding/async/async_work.h"
#include "binding/convert/image_inputs.h"
#include "binding/functions/register.h"
#include "binding/napi_util.h"
#include "common/thread_pool.h"

#include <nlohmann/json.hpp>

namespace crossmodal::binding {

Napi::Value QueuePreprocess(Napi::Env env, image::PreprocessConfig config, image::ImageLoadOptions options,
                            std::vector<image::ImageSource> sources, std::vector<std::vector<uint8_t>> owned,
                            ThreadPool* pool, size_t own_threads, std::shared_ptr<void> keep_alive) {
  struct State {
    image::PreprocessConfig config;
    image::ImageLoadOptions options;
    std::vector<image::ImageSource> sources;
    std::vector<std::vector<uint8_t>> owned;  // the bytes `sources` point into
    ThreadPool* pool;
    size_t own_threads;
    std::shared_ptr<void> keep_alive;  // owner of `pool` (a model), if any
    std::unique_ptr<image::PreprocessedBatch> batch;
  };
  auto state = std::make_shared<State>(State{std::move(config), std::move(options), std::move(sources),
                                             std::move(owned), pool, own_threads, std::move(keep_alive), nullptr});
  return QueueWork(
      env, WorkQueue::kBackground, "crossmodal.preprocess",
      [state] {
        state->batch = std::make_unique<image::PreprocessedBatch>(
            image::PreprocessImages(state->sources, state->config, state->options, state->pool, state->own_threads));
        state->owned.clear();
        state->pool = nullptr;
        state->keep_alive.reset();  // a disposed model is then destroyed here, off the event loop
      },
      [state](Napi::Env env) -> Napi::Value { return PreprocessedBatchToJs(env, std::move(state->batch)); });
}

namespace {

// preprocessImages(inputs, configJson, options) -> Promise<{ buffer, count, height, width, failures }>
Napi::Value PreprocessImages(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    std::vector<image::ImageSource> sources;
    std::vector<std::vector<uint8_t>> owned;
    ParseImageInputs(info[0], &sources, &owned);
    const std::string text = RequireString(info[1], "preprocessorConfig");
    image::PreprocessConfig config;
    try {
      config = image::ParsePreprocessConfig(nlohmann::json::parse(text));
    } catch (const nlohmann::json::exception& e) {
      throw Error(codes::kInvalidArgument, std::string("preprocessorConfig is not valid JSON: ") + e.what());
    } catch (const Error& e) {
      throw Error(codes::kInvalidArgument, e.what());
    }
    if (!config.HasFixedOutputSize()) {
      throw Error(codes::kInvalidArgument,
                  "preprocessorConfig must produce a fixed size (a center crop, or a fixed height/width resize)");
    }
    image::ImageLoadOptions options;
    size_t threads = DefaultThreadCount();
    if (info.Length() > 2 && info[2].IsObject()) {
      Napi::Object o = info[2].As<Napi::Object>();
      ParseImageLoadOptions(o, &options);
      if (o.Has("threads") && !o.Get("threads").IsUndefined()) {
        threads = RequireUint32(o.Get("threads"), "options.threads");
        if (threads == 0 || threads > kMaxThreads) {
          throw Error(codes::kInvalidArgument, "options.threads must be in 1.." + std::to_string(kMaxThreads));
        }
      }
    }
    return QueuePreprocess(env, config, options, std::move(sources), std::move(owned), nullptr, threads, nullptr);
  });
}

}  // namespace

void RegisterPreprocessFunctions(Napi::Env env, Napi::Object exports) {
  exports.Set("preprocessImages", Napi::Function::New(env, PreprocessImages, "preprocessImages"));
}

}  // namespace crossmodal::binding
