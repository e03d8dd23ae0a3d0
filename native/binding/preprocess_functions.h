// preprocessImages(inputs, preprocessorConfigJson, options): the image pipeline without a model.
#pragma once

#include <napi.h>

#include <memory>
#include <vector>

#include "binding/image_inputs.h"
#include "binding/napi_util.h"
#include "common/thread_pool.h"
#include "image/preprocess_config.h"
#include "model/image_input.h"

namespace crossmodal::binding {

void RegisterPreprocessFunctions(Napi::Env env, Napi::Object exports);

// Decodes and preprocesses a batch off the event loop; resolves with PreprocessResultToJs.
// `pool` may be shared (a model's) or owned by this worker (created lazily on the worker
// thread with `owned_threads` threads including the worker's own).
class PreprocessWorker : public PromiseWorker {
 public:
  PreprocessWorker(Napi::Env env, image::PreprocessConfig config, model::ImageLoadOptions options,
                   std::vector<model::ImageSource> sources, std::vector<std::vector<uint8_t>> owned,
                   ThreadPool* pool, size_t owned_threads, std::shared_ptr<void> keep_alive);

 protected:
  void Run() override;
  Napi::Value Result(Napi::Env env) override;

 private:
  image::PreprocessConfig config_;
  model::ImageLoadOptions options_;
  std::vector<model::ImageSource> sources_;
  std::vector<std::vector<uint8_t>> owned_;
  ThreadPool* pool_;
  size_t owned_threads_;
  std::shared_ptr<void> keep_alive_;  // owner of pool_ (a model), if any
  std::unique_ptr<PreprocessResult> result_;
};

}  // namespace crossmodal::binding
