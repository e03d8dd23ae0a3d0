#include "binding/preprocess_functions.h"

#include <string>
#include <thread>

#include <nlohmann/json.hpp>

namespace crossmodal::binding {

PreprocessWorker::PreprocessWorker(Napi::Env env, image::PreprocessConfig config, model::ImageLoadOptions options,
                                   std::vector<model::ImageSource> sources, std::vector<std::vector<uint8_t>> owned,
                                   ThreadPool* pool, size_t owned_threads, std::shared_ptr<void> keep_alive)
    : PromiseWorker(env, "crossmodal.preprocess"),
      config_(config),
      options_(options),
      sources_(std::move(sources)),
      owned_(std::move(owned)),
      pool_(pool),
      owned_threads_(owned_threads),
      keep_alive_(std::move(keep_alive)) {}

void PreprocessWorker::Run() {
  std::unique_ptr<ThreadPool> own;
  ThreadPool* pool = pool_;
  if (pool == nullptr && owned_threads_ > 1 && sources_.size() > 1) {
    own = std::make_unique<ThreadPool>(std::min(owned_threads_, sources_.size()) - 1);
    pool = own.get();
  }
  result_ = std::make_unique<PreprocessResult>();
  result_->count = sources_.size();
  result_->height = config_.OutputHeight();
  result_->width = config_.OutputWidth();
  result_->tensor.resize(sources_.size() * 3 * static_cast<size_t>(result_->height) * static_cast<size_t>(result_->width));
  result_->failures = model::PreprocessImageBatch(sources_, config_, options_, pool, result_->tensor.data());
  owned_.clear();
  pool = nullptr;
  keep_alive_.reset();  // a disposed model is then destroyed here, off the event loop
}

Napi::Value PreprocessWorker::Result(Napi::Env env) { return PreprocessResultToJs(env, std::move(result_)); }

namespace {

// preprocessImages(inputs, configJson, options) -> Promise<{ buffer, count, height, width, failures }>
Napi::Value PreprocessImages(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    std::vector<model::ImageSource> sources;
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
    model::ImageLoadOptions options;
    size_t threads = std::max(1u, std::thread::hardware_concurrency());
    if (info.Length() > 2 && info[2].IsObject()) {
      Napi::Object o = info[2].As<Napi::Object>();
      ParseImageLoadOptions(o, &options);
      if (o.Has("threads") && !o.Get("threads").IsUndefined()) {
        threads = RequireUint32(o.Get("threads"), "options.threads");
        if (threads == 0 || threads > 1024) throw Error(codes::kInvalidArgument, "options.threads must be in 1..1024");
      }
    }
    auto* worker = new PreprocessWorker(env, config, options, std::move(sources), std::move(owned), nullptr, threads, nullptr);
    Napi::Value promise = worker->Promise();
    worker->Queue();
    return promise;
  });
}

}  // namespace

void RegisterPreprocessFunctions(Napi::Env env, Napi::Object exports) {
  exports.Set("preprocessImages", Napi::Function::New(env, PreprocessImages, "preprocessImages"));
}

}  // namespace crossmodal::binding
