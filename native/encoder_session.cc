#include "encoder_session.h"

#include <cstring>
#include <thread>

#include "binding/addon_data.h"
#include "binding/image_inputs.h"
#include "binding/napi_util.h"
#include "binding/token_util.h"
#include "binding/preprocess_functions.h"
#include "runtime/ort_library.h"

namespace crossmodal {
namespace {

using binding::Guard;
using binding::MakeError;
using binding::PromiseWorker;

// Result of an embedding call handed to JS: { buffer: ArrayBuffer (external), count, dim }.
Napi::Object EmbeddingsToJs(Napi::Env env, std::unique_ptr<EmbeddingMatrix> matrix) {
  Napi::Object out = Napi::Object::New(env);
  const size_t count = matrix->count, dim = matrix->dim;
  float* data = matrix->values.data();
  const size_t bytes = matrix->values.size() * sizeof(float);
  out.Set("buffer", binding::AdoptAsArrayBuffer(env, std::move(matrix), data, bytes));
  out.Set("count", Napi::Number::New(env, static_cast<double>(count)));
  out.Set("dim", Napi::Number::New(env, static_cast<double>(dim)));
  return out;
}

Napi::Object ProviderToJs(Napi::Env env, const runtime::ProviderReport& report) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("provider", report.provider);
  Napi::Array skipped = Napi::Array::New(env, report.skipped.size());
  for (size_t i = 0; i < report.skipped.size(); ++i) skipped.Set(static_cast<uint32_t>(i), report.skipped[i]);
  out.Set("skipped", skipped);
  return out;
}

model::EncoderOptions ParseEncoderOptions(const Napi::Object& options, std::string* ort_library) {
  model::EncoderOptions parsed;
  if (options.Has("ortLibrary") && options.Get("ortLibrary").IsString()) {
    *ort_library = options.Get("ortLibrary").As<Napi::String>().Utf8Value();
  }
  if (options.Has("device") && !options.Get("device").IsUndefined()) {
    parsed.session.device = runtime::ParseDevice(binding::RequireString(options.Get("device"), "options.device"));
  }
  if (options.Has("deviceId") && !options.Get("deviceId").IsUndefined()) {
    parsed.session.device_id = static_cast<int>(binding::RequireUint32(options.Get("deviceId"), "options.deviceId"));
  }
  if (options.Has("intraOpThreads") && !options.Get("intraOpThreads").IsUndefined()) {
    parsed.session.intra_op_threads =
        static_cast<int>(binding::RequireUint32(options.Get("intraOpThreads"), "options.intraOpThreads"));
  }
  binding::ParseImageLoadOptions(options, &parsed.image_options);  // maxPixels, maxFileBytes, exifOrientation, dctScaling
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
  if (has("precision")) parsed.precision = model::ParsePrecision(binding::RequireString(options.Get("precision"), "options.precision"));
  if (has("maxBatchSize")) {
    const size_t n = static_cast<size_t>(number("maxBatchSize", 1, 4096));
    parsed.max_image_batch = n;
    parsed.max_text_batch = n;
  }
  if (has("maxImageBatchSize")) parsed.max_image_batch = static_cast<size_t>(number("maxImageBatchSize", 1, 4096));
  if (has("maxTextBatchSize")) parsed.max_text_batch = static_cast<size_t>(number("maxTextBatchSize", 1, 4096));
  if (has("maxQueueDelayMs")) {
    parsed.max_queue_delay = std::chrono::microseconds(static_cast<int64_t>(number("maxQueueDelayMs", 0, 60000) * 1000));
  }
  if (has("maxQueueSize")) parsed.max_queued_rows = static_cast<size_t>(number("maxQueueSize", 1, 1e9));
  if (has("preprocessThreads")) parsed.preprocess_threads = static_cast<size_t>(number("preprocessThreads", 0, 1024));
  if (has("allowSpinning")) parsed.session.allow_spinning = options.Get("allowSpinning").ToBoolean().Value();
  if (has("cpuMemoryArena")) parsed.session.cpu_memory_arena = options.Get("cpuMemoryArena").ToBoolean().Value();
  if (has("graphOptimizationLevel")) {
    std::string level = binding::RequireString(options.Get("graphOptimizationLevel"), "options.graphOptimizationLevel");
    if (level == "disabled") parsed.session.optimization = ORT_DISABLE_ALL;
    else if (level == "basic") parsed.session.optimization = ORT_ENABLE_BASIC;
    else if (level == "extended") parsed.session.optimization = ORT_ENABLE_EXTENDED;
    else if (level == "all") parsed.session.optimization = ORT_ENABLE_ALL;
    else throw Error(codes::kInvalidArgument, "options.graphOptimizationLevel must be 'disabled', 'basic', 'extended' or 'all'");
  }
  if (has("optimizedModelPath")) {
    parsed.session.optimized_model_path = binding::RequireString(options.Get("optimizedModelPath"), "options.optimizedModelPath");
  }
  if (has("trtCacheDir")) parsed.session.trt_cache_dir = binding::RequireString(options.Get("trtCacheDir"), "options.trtCacheDir");
  if (has("trimTextPadding")) parsed.trim_text_padding = options.Get("trimTextPadding").ToBoolean().Value();
  if (has("trtFp16")) parsed.session.trt_fp16 = options.Get("trtFp16").ToBoolean().Value();
  return parsed;
}

class LoadWorker : public PromiseWorker {
 public:
  LoadWorker(Napi::Env env, std::string dir, std::string ort_library, model::EncoderOptions options)
      : PromiseWorker(env, "crossmodal.load"), dir_(std::move(dir)), ort_library_(std::move(ort_library)),
        options_(std::move(options)) {}

 protected:
  void Run() override {
    runtime::LoadOrtLibrary(ort_library_);
    encoder_ = model::ClipEncoder::Load(dir_, options_);
  }
  Napi::Value Result(Napi::Env env) override { return EncoderSession::Wrap(env, std::move(encoder_)); }

 private:
  std::string dir_;
  std::string ort_library_;
  model::EncoderOptions options_;
  std::shared_ptr<model::ClipEncoder> encoder_;
};

class TokenizeWorker : public PromiseWorker {
 public:
  TokenizeWorker(Napi::Env env, std::shared_ptr<model::ClipEncoder> encoder, std::vector<std::string> texts)
      : PromiseWorker(env, "crossmodal.tokenize"), encoder_(std::move(encoder)), texts_(std::move(texts)) {}

 protected:
  void Run() override {
    batch_ = std::make_unique<binding::TokenBatch>();
    batch_->Fill(encoder_->tokenizer(), texts_, 0, 1, false);
  }
  Napi::Value Result(Napi::Env env) override { return binding::TokenBatchToJs(env, std::move(batch_)); }
 private:
  std::shared_ptr<model::ClipEncoder> encoder_;
  std::vector<std::string> texts_;
  std::unique_ptr<binding::TokenBatch> batch_;
};


}  // namespace

// --- completion of batched calls -------------------------------------------------------------

namespace {

class EmbedCompletion : public binding::Completion {
 public:
  EmbedCompletion(napi_deferred deferred, std::shared_ptr<model::EmbedRequest> request, EncoderSession* session)
      : deferred_(deferred), request_(std::move(request)), session_(session) {}

  void Deliver(Napi::Env env) override {
    model::EmbedRequest& request = *request_;
    napi_value value = nullptr;
    bool ok = request.error_code.empty();
    try {
      if (ok) {
        value = EmbeddingsToJs(env, std::move(request.result));
      } else {
        value = MakeError(env, request.error_code, request.error_message).Value();
      }
    } catch (const Napi::Error& e) {
      ok = false;
      value = e.Value();
    } catch (const std::exception& e) {
      ok = false;
      value = MakeError(env, codes::kInternal, e.what()).Value();
    }
    if (ok) napi_resolve_deferred(env, deferred_, value);
    else napi_reject_deferred(env, deferred_, value);
    session_->CallFinished();
  }

 private:
  napi_deferred deferred_;
  std::shared_ptr<model::EmbedRequest> request_;
  EncoderSession* session_;  // alive: it holds a strong reference to itself while calls are in flight
};

}  // namespace

// Wraps a request handle for JS: cancel() needs to find the request while it may still run.
using RequestHandle = std::weak_ptr<model::EmbedRequest>;

void EncoderSession::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = DefineClass(env, "EncoderSession",
                                    {
                                        StaticMethod<&EncoderSession::Load>("load"),
                                        InstanceMethod<&EncoderSession::EmbedTexts>("embedTexts"),
                                        InstanceMethod<&EncoderSession::EmbedImages>("embedImages"),
                                        InstanceMethod<&EncoderSession::Cancel>("cancel"),
                                        InstanceMethod<&EncoderSession::Preprocess>("preprocess"),
                                        InstanceMethod<&EncoderSession::Tokenize>("tokenize"),
                                        InstanceMethod<&EncoderSession::Decode>("decode"),
                                        InstanceMethod<&EncoderSession::TokenizerInfo>("tokenizerInfo"),
                                        InstanceMethod<&EncoderSession::Info>("info"),
                                        InstanceMethod<&EncoderSession::Dispose>("dispose"),
                                    });
  binding::GetAddonData(env).encoder_session_constructor = Napi::Persistent(ctor);
  exports.Set("EncoderSession", ctor);
}

// JS cannot construct a session directly: the only argument accepted is the External that
// Wrap() passes, which carries the loaded encoder.
EncoderSession::EncoderSession(const Napi::CallbackInfo& info) : Napi::ObjectWrap<EncoderSession>(info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsExternal()) {
    throw MakeError(env, codes::kInvalidArgument, "use EncoderSession.load(dir, options) to create a session");
  }
  encoder_ = *info[0].As<Napi::External<std::shared_ptr<model::ClipEncoder>>>().Data();
  channel_ = std::make_shared<binding::CompletionChannel>(env, "crossmodal.embed");
  self_ = Napi::Weak(info.This().As<Napi::Object>());
}

EncoderSession::~EncoderSession() { ReleaseEncoder(); }

Napi::Object EncoderSession::Wrap(Napi::Env env, std::shared_ptr<model::ClipEncoder> encoder) {
  // The External only lives for the duration of the constructor call.
  Napi::External<std::shared_ptr<model::ClipEncoder>> external =
      Napi::External<std::shared_ptr<model::ClipEncoder>>::New(env, &encoder);
  return binding::GetAddonData(env).encoder_session_constructor.New({external});
}

void EncoderSession::ReleaseEncoder() {
  if (!encoder_) return;
  encoder_->Shutdown();
  std::thread([encoder = std::move(encoder_)]() mutable { encoder.reset(); }).detach();
}

std::shared_ptr<model::ClipEncoder> EncoderSession::Acquire() {
  if (!encoder_) throw Error(codes::kDisposed, "the model has been disposed");
  return encoder_;
}

void EncoderSession::CallStarted() {
  if (in_flight_++ == 0) {
    self_.Ref();
    channel_->Ref(Env());
  }
}

void EncoderSession::CallFinished() {
  if (--in_flight_ == 0) {
    channel_->Unref(Env());
    self_.Unref();
  }
}

Napi::Value EncoderSession::Load(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    std::string dir = binding::RequireString(info[0], "dir");
    std::string ort_library;
    model::EncoderOptions options;
    if (info.Length() > 1 && info[1].IsObject()) options = ParseEncoderOptions(info[1].As<Napi::Object>(), &ort_library);
    auto* worker = new LoadWorker(env, std::move(dir), std::move(ort_library), std::move(options));
    Napi::Value promise = worker->Promise();
    worker->Queue();
    return promise;
  });
}

Napi::Value EncoderSession::Submit(Napi::Env env, std::shared_ptr<model::EmbedRequest> request) {
  auto encoder = Acquire();
  napi_deferred deferred;
  napi_value promise;
  NAPI_THROW_IF_FAILED(env, napi_create_promise(env, &deferred, &promise), Napi::Value());
  std::shared_ptr<binding::CompletionChannel> channel = channel_;
  EncoderSession* self = this;
  request->on_complete = [channel, deferred, self](std::shared_ptr<model::EmbedRequest> done) {
    channel->Post(std::make_unique<EmbedCompletion>(deferred, std::move(done), self));
  };
  try {
    encoder->Submit(request);
  } catch (const Error& e) {
    request->on_complete = nullptr;
    napi_reject_deferred(env, deferred, MakeError(env, e).Value());
    Napi::Array rejected = Napi::Array::New(env, 2);
    rejected.Set(0u, Napi::Value(env, promise));
    rejected.Set(1u, env.Null());
    return rejected;
  }
  CallStarted();
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(0u, Napi::Value(env, promise));
  out.Set(1u, Napi::External<RequestHandle>::New(env, new RequestHandle(request),
                                                 [](Napi::Env, RequestHandle* handle) { delete handle; }));
  return out;
}

namespace {

std::chrono::steady_clock::time_point DeadlineFrom(const Napi::CallbackInfo& info, size_t index) {
  if (info.Length() <= index || !info[index].IsNumber()) return std::chrono::steady_clock::time_point::max();
  const double ms = info[index].As<Napi::Number>().DoubleValue();
  if (!(ms > 0)) throw Error(codes::kInvalidArgument, "timeout must be a positive number of milliseconds");
  return std::chrono::steady_clock::now() + std::chrono::microseconds(static_cast<int64_t>(ms * 1000));
}

}  // namespace

Napi::Value EncoderSession::EmbedTexts(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    Acquire();
    auto request = std::make_shared<model::EmbedRequest>();
    request->kind = model::EmbedRequest::Kind::kText;
    request->texts = binding::RequireStringArray(info[0], "texts");
    request->normalize = info.Length() < 2 || !info[1].IsBoolean() || info[1].As<Napi::Boolean>().Value();
    request->deadline = DeadlineFrom(info, 2);
    return Submit(env, std::move(request));
  });
}

Napi::Value EncoderSession::EmbedImages(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    Acquire();
    if (!info[0].IsArray()) throw Error(codes::kInvalidArgument, "images must be an array");
    auto request = std::make_shared<model::EmbedRequest>();
    request->kind = model::EmbedRequest::Kind::kImage;
    request->normalize = info.Length() < 2 || !info[1].IsBoolean() || info[1].As<Napi::Boolean>().Value();
    request->deadline = DeadlineFrom(info, 2);
    binding::ParseImageInputs(info[0], &request->images, &request->owned_bytes);
    if (info.Length() > 3 && info[3].IsObject()) {
      request->image_options = Acquire()->options().image_options;
      binding::ParseImageLoadOptions(info[3].As<Napi::Object>(), &*request->image_options);
    }
    return Submit(env, std::move(request));
  });
}

Napi::Value EncoderSession::Cancel(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    if (info.Length() < 1 || !info[0].IsExternal()) return env.Undefined();
    std::string code = info.Length() > 1 && info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : codes::kAborted;
    if (code != codes::kAborted && code != codes::kDeadlineExceeded) code = codes::kAborted;
    if (auto request = info[0].As<Napi::External<RequestHandle>>().Data()->lock()) {
      if (!request->cancelled.load()) {
        request->cancel_code = code;
        request->cancelled.store(true);
      }
    }
    return env.Undefined();
  });
}

// preprocess(images, options): the model's image pipeline without inference, on its pool.
Napi::Value EncoderSession::Preprocess(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    auto encoder = Acquire();
    std::vector<model::ImageSource> sources;
    std::vector<std::vector<uint8_t>> owned;
    binding::ParseImageInputs(info[0], &sources, &owned);
    model::ImageLoadOptions options = encoder->options().image_options;
    if (info.Length() > 1 && info[1].IsObject()) binding::ParseImageLoadOptions(info[1].As<Napi::Object>(), &options);
    ThreadPool* pool = encoder->preprocess_pool();
    auto* worker = new binding::PreprocessWorker(env, encoder->bundle().preprocess, options, std::move(sources),
                                                 std::move(owned), pool, 0, encoder);
    Napi::Value promise = worker->Promise();
    worker->Queue();
    return promise;
  });
}

Napi::Value EncoderSession::Tokenize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    auto encoder = Acquire();
    std::vector<std::string> texts = binding::RequireStringArray(info[0], "texts");
    auto* worker = new TokenizeWorker(env, std::move(encoder), std::move(texts));
    Napi::Value promise = worker->Promise();
    worker->Queue();
    return promise;
  });
}

Napi::Value EncoderSession::Decode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    auto encoder = Acquire();
    std::vector<int32_t> ids = binding::RequireTokenIds(info[0], "ids");
    const bool skip = info.Length() < 2 || !info[1].IsBoolean() || info[1].As<Napi::Boolean>().Value();
    return Napi::String::New(env, encoder->tokenizer().Decode(ids.data(), ids.size(), skip));
  });
}

Napi::Value EncoderSession::TokenizerInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value { return binding::TokenizerInfoToJs(env, Acquire()->tokenizer()); });
}

Napi::Value EncoderSession::Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    auto encoder = Acquire();
    const model::ModelBundle& bundle = encoder->bundle();
    Napi::Object out = Napi::Object::New(env);
    out.Set("root", bundle.root);
    out.Set("layout", bundle.layout == model::BundleLayout::kOpenClip ? "open_clip" : "huggingface");
    out.Set("combined", Napi::Boolean::New(env, !bundle.combined_model_path.empty()));
    out.Set("modelType", bundle.model_type);
    out.Set("fingerprint", bundle.fingerprint);
    out.Set("precision", model::PrecisionName(bundle.precision));
    Napi::Array precisions = Napi::Array::New(env, bundle.available_precisions.size());
    for (size_t i = 0; i < bundle.available_precisions.size(); ++i) precisions.Set(static_cast<uint32_t>(i), bundle.available_precisions[i]);
    out.Set("availablePrecisions", precisions);
    out.Set("dim", Napi::Number::New(env, static_cast<double>(encoder->embedding_dim())));
    out.Set("contextLength", Napi::Number::New(env, static_cast<double>(encoder->tokenizer().context_length())));
    out.Set("imageHeight", Napi::Number::New(env, bundle.preprocess.OutputHeight()));
    out.Set("imageWidth", Napi::Number::New(env, bundle.preprocess.OutputWidth()));
    out.Set("logitScale", Napi::Number::New(env, bundle.logit_scale));
    out.Set("visionModel", encoder->vision().path());
    out.Set("textModel", encoder->text().path());
    out.Set("visionProvider", ProviderToJs(env, encoder->vision().provider()));
    out.Set("textProvider", ProviderToJs(env, encoder->text().provider()));
    const auto& o = encoder->options();
    Napi::Object batching = Napi::Object::New(env);
    batching.Set("maxImageBatchSize", Napi::Number::New(env, static_cast<double>(o.max_image_batch)));
    batching.Set("maxTextBatchSize", Napi::Number::New(env, static_cast<double>(o.max_text_batch)));
    batching.Set("maxQueueDelayMs", Napi::Number::New(env, o.max_queue_delay.count() / 1000.0));
    batching.Set("maxQueueSize", Napi::Number::New(env, static_cast<double>(o.max_queued_rows)));
    batching.Set("trimTextPadding", Napi::Boolean::New(env, encoder->trims_text_padding()));
    out.Set("batching", batching);
    return out;
  });
}

Napi::Value EncoderSession::Dispose(const Napi::CallbackInfo& info) {
  ReleaseEncoder();
  return info.Env().Undefined();
}

}  // namespace crossmodal
