#include "binding/convert/encoder_options.h"

#include <chrono>
#include <cstdint>

#include "binding/convert/image_inputs.h"
#include "binding/napi_util.h"
#include "common/error.h"
#include "common/thread_pool.h"
#include "common/thread_priority.h"
#include "runtime/execution_providers.h"

namespace crossmodal::binding {

model::EncoderOptions ParseEncoderOptions(const Napi::Object& options, std::string* ort_library) {
  model::EncoderOptions parsed;
  if (options.Has("ortLibrary") && options.Get("ortLibrary").IsString()) {
    *ort_library = options.Get("ortLibrary").As<Napi::String>().Utf8Value();
  }
  if (options.Has("device") && !options.Get("device").IsUndefined()) {
    parsed.session.device = runtime::ParseInferenceDevice(RequireString(options.Get("device"), "options.device"));
  }
  if (options.Has("deviceId") && !options.Get("deviceId").IsUndefined()) {
    parsed.session.device_id = static_cast<int>(RequireUint32(options.Get("deviceId"), "options.deviceId"));
  }
  if (options.Has("intraOpThreads") && !options.Get("intraOpThreads").IsUndefined()) {
    const uint32_t threads = RequireUint32(options.Get("intraOpThreads"), "options.intraOpThreads");
    CheckThreadCount(threads, "options.intraOpThreads");
    parsed.session.intra_op_threads = static_cast<int>(threads);
  }
  ParseImageLoadOptions(options, &parsed.image_options);  // maxPixels, maxFileBytes, exifOrientation, dctScaling
  auto number = [&](const char* key, double min, double max) -> double {
    Napi::Value v = options.Get(key);
    if (!v.IsNumber()) throw Error(codes::kInvalidArgument, std::string("options.") + key + " must be a number");
    double d = v.As<Napi::Number>().DoubleValue();
    if (!(d >= min && d <= max)) {
      throw Error(codes::kInvalidArgument, std::string("options.") + key + " is out of range");
    }
    return d;
  };
  auto has = [&](const char* key) { return options.Has(key) && !options.Get(key).IsUndefined(); };
  if (has("precision"))
    parsed.precision = model::ParsePrecision(RequireString(options.Get("precision"), "options.precision"));
  if (has("maxBatchSize")) {
    const size_t n = static_cast<size_t>(number("maxBatchSize", 1, 4096));
    parsed.max_image_batch = n;
    parsed.max_text_batch = n;
  }
  if (has("maxImageBatchSize")) parsed.max_image_batch = static_cast<size_t>(number("maxImageBatchSize", 1, 4096));
  if (has("maxTextBatchSize")) parsed.max_text_batch = static_cast<size_t>(number("maxTextBatchSize", 1, 4096));
  if (has("maxQueueDelayMs")) {
    parsed.max_queue_delay =
        std::chrono::microseconds(static_cast<int64_t>(number("maxQueueDelayMs", 0, 60000) * 1000));
  }
  if (has("batchWhenIdle")) parsed.batch_when_idle = options.Get("batchWhenIdle").ToBoolean().Value();
  if (has("maxQueueSize")) parsed.max_queued_rows = static_cast<size_t>(number("maxQueueSize", 1, 1e9));
  if (has("preprocessThreads"))
    parsed.preprocess_threads = static_cast<size_t>(number("preprocessThreads", 0, kMaxThreads));
  if (has("workerNice")) parsed.session.worker_niceness = static_cast<int>(number("workerNice", 0, kMaxWorkerNiceness));
  if (has("allowSpinning")) parsed.session.allow_spinning = options.Get("allowSpinning").ToBoolean().Value();
  if (has("cpuMemoryArena")) parsed.session.cpu_memory_arena = options.Get("cpuMemoryArena").ToBoolean().Value();
  if (has("graphOptimizationLevel")) {
    std::string level = RequireString(options.Get("graphOptimizationLevel"), "options.graphOptimizationLevel");
    if (level == "disabled") parsed.session.optimization = ORT_DISABLE_ALL;
    else if (level == "basic") parsed.session.optimization = ORT_ENABLE_BASIC;
    else if (level == "extended") parsed.session.optimization = ORT_ENABLE_EXTENDED;
    else if (level == "all") parsed.session.optimization = ORT_ENABLE_ALL;
    else
      throw Error(codes::kInvalidArgument,
                  "options.graphOptimizationLevel must be 'disabled', 'basic', 'extended' or 'all'");
  }
  if (has("optimizedModelPath")) {
    parsed.session.optimized_model_path =
        RequireString(options.Get("optimizedModelPath"), "options.optimizedModelPath");
  }
  if (has("trtCacheDir"))
    parsed.session.trt_cache_dir = RequireString(options.Get("trtCacheDir"), "options.trtCacheDir");
  if (has("trimTextPadding")) parsed.trim_text_padding = options.Get("trimTextPadding").ToBoolean().Value();
  if (has("trtFp16")) parsed.session.trt_fp16 = options.Get("trtFp16").ToBoolean().Value();
  return parsed;
}

}  // namespace crossmodal::binding
