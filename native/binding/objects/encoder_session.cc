#include "binding/objects/encoder_session.h"

#include <cstring>
#include <thread>

#include "binding/addon_data.h"
#include "binding/async/async_work.h"
#include "binding/convert/encoder_options.h"
#include "binding/convert/image_inputs.h"
#include "binding/convert/tokens.h"
#include "binding/functions/preprocess_functions.h"
#include "binding/napi_util.h"
#include "runtime/ort_library.h"

namespace crossmodal::binding {
namespace {

// Result of an embedding call handed to JS: { buffer: ArrayBuffer (external), count, dim }.
Napi::Object EmbeddingsToJs(Napi::Env env, std::unique_ptr<EmbeddingMatrix> matrix) {
  Napi::Object out = Napi::Object::New(env);
  const size_t count = matrix->count, dim = matrix->dim;
  float* data = matrix->values.data();
  const size_t bytes = matrix->values.size() * sizeof(float);
  out.Set("buffer", AdoptAsArrayBuffer(env, std::move(matrix), data, bytes));
  out.Set("count", Napi::Number::New(env, static_cast<double>(count)));
  out.Set("dim", Napi::Number::New(env, static_cast<double>(dim)));
  return out;
}

// { bounds, counts (bounds.length + 1, not cumulative), count, sum }, bounds and sum divided by
// `unit` (1e9: nanoseconds to seconds).
Napi::Object HistogramToJs(Napi::Env env, const Histogram& histogram, double unit) {
  const Histogram::Snapshot snap = histogram.Read();
  Napi::Array bounds = Napi::Array::New(env, snap.bounds.size());
  for (size_t i = 0; i < snap.bounds.size(); ++i)
    bounds.Set(static_cast<uint32_t>(i), Napi::Number::New(env, static_cast<double>(snap.bounds[i]) / unit));
  Napi::Array counts = Napi::Array::New(env, snap.counts.size());
  for (size_t i = 0; i < snap.counts.size(); ++i)
    counts.Set(static_cast<uint32_t>(i), Napi::Number::New(env, static_cast<double>(snap.counts[i])));
  Napi::Object out = Napi::Object::New(env);
  out.Set("bounds", bounds);
  out.Set("counts", counts);
  out.Set("count", Napi::Number::New(env, static_cast<double>(snap.count)));
  out.Set("sum", Napi::Number::New(env, static_cast<double>(snap.sum) / unit));
  return out;
}

Napi::Object TowerStatsToJs(Napi::Env env, const model::TowerStats& stats, size_t queued_rows) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("requests", Napi::Number::New(env, static_cast<double>(stats.requests.load(std::memory_order_relaxed))));
  out.Set("failedRequests",
          Napi::Number::New(env, static_cast<double>(stats.failed_requests.load(std::memory_order_relaxed))));
  out.Set("queuedRows", Napi::Number::New(env, static_cast<double>(queued_rows)));
  out.Set("runs", Napi::Number::New(env, static_cast<double>(stats.runs.load(std::memory_order_relaxed))));
  out.Set("batchRows", HistogramToJs(env, stats.batch_rows, 1.0));
  out.Set("queueWaitSeconds", HistogramToJs(env, stats.queue_wait, 1e9));
  out.Set("fillSeconds", HistogramToJs(env, stats.fill, 1e9));
  out.Set("inferenceSeconds", HistogramToJs(env, stats.inference, 1e9));
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

// Settles one embedding call on the JS thread (posted through the session's CompletionChannel).
class EmbedCompletion : public Completion {
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
      value = MakeError(env, CodeOf(e), e.what()).Value();
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
                                        InstanceMethod<&EncoderSession::Stats>("stats"),
                                        InstanceMethod<&EncoderSession::Dispose>("dispose"),
                                    });
  GetAddonData(env).encoder_session_constructor = Napi::Persistent(ctor);
  exports.Set("EncoderSession", ctor);
}

// JS cannot construct a session directly: the only argument accepted is the External that
// Wrap() passes, which carries the loaded encoder.
EncoderSession::EncoderSession(const Napi::CallbackInfo& info) : Napi::ObjectWrap<EncoderSession>(info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsExternal()) {
    throw MakeError(env, codes::kInvalidArgument, "use EncoderSession.load(dir, options) to create a session");
  }
  encoder_ = *info[0].As<Napi::External<std::shared_ptr<model::DualEncoder>>>().Data();
  channel_ = std::make_shared<CompletionChannel>(env, "crossmodal.embed");
  self_ = Napi::Weak(info.This().As<Napi::Object>());
}

EncoderSession::~EncoderSession() { ReleaseEncoder(); }

Napi::Object EncoderSession::Wrap(Napi::Env env, std::shared_ptr<model::DualEncoder> encoder) {
  // The External only lives for the duration of the constructor call.
  Napi::External<std::shared_ptr<model::DualEncoder>> external =
      Napi::External<std::shared_ptr<model::DualEncoder>>::New(env, &encoder);
  return GetAddonData(env).encoder_session_constructor.New({external});
}

void EncoderSession::ReleaseEncoder() {
  if (!encoder_) return;
  encoder_->Shutdown();
  std::thread([encoder = std::move(encoder_)]() mutable { encoder.reset(); }).detach();
}

std::shared_ptr<model::DualEncoder> EncoderSession::Acquire() {
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
    std::string dir = RequireString(info[0], "dir");
    std::string ort_library;
    model::EncoderOptions options;
    if (info.Length() > 1 && info[1].IsObject())
      options = ParseEncoderOptions(info[1].As<Napi::Object>(), &ort_library);
    auto encoder = std::make_shared<std::shared_ptr<model::DualEncoder>>();
    return QueueWork(
        env, WorkQueue::kBackground, "crossmodal.load",
        [encoder, dir = std::move(dir), ort_library = std::move(ort_library), options = std::move(options)] {
          runtime::LoadOrtLibrary(ort_library);
          *encoder = model::DualEncoder::Load(dir, options);
        },
        [encoder](Napi::Env env) -> Napi::Value { return EncoderSession::Wrap(env, std::move(*encoder)); });
  });
}

Napi::Value EncoderSession::Submit(Napi::Env env, std::shared_ptr<model::EmbedRequest> request) {
  auto encoder = Acquire();
  napi_deferred deferred;
  napi_value promise;
  NAPI_THROW_IF_FAILED(env, napi_create_promise(env, &deferred, &promise), Napi::Value());
  std::shared_ptr<CompletionChannel> channel = channel_;
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
    request->texts = RequireStringArray(info[0], "texts");
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
    ParseImageInputs(info[0], &request->images, &request->owned_bytes);
    if (info.Length() > 3 && info[3].IsObject()) {
      request->image_options = Acquire()->options().image_options;
      ParseImageLoadOptions(info[3].As<Napi::Object>(), &*request->image_options);
    }
    return Submit(env, std::move(request));
  });
}

Napi::Value EncoderSession::Cancel(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    if (info.Length() < 1 || !info[0].IsExternal()) return env.Undefined();
    std::string code =
        info.Length() > 1 && info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : codes::kAborted;
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
    std::vector<image::ImageSource> sources;
    std::vector<std::vector<uint8_t>> owned;
    ParseImageInputs(info[0], &sources, &owned);
    image::ImageLoadOptions options = encoder->options().image_options;
    if (info.Length() > 1 && info[1].IsObject()) ParseImageLoadOptions(info[1].As<Napi::Object>(), &options);
    return QueuePreprocess(env, encoder->bundle().preprocess, options, std::move(sources), std::move(owned),
                           encoder->preprocess_pool(), 0, encoder);
  });
}

Napi::Value EncoderSession::Tokenize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    auto encoder = Acquire();
    std::vector<std::string> texts = RequireStringArray(info[0], "texts");
    auto batch = std::make_shared<std::unique_ptr<text::TokenBatch>>(std::make_unique<text::TokenBatch>());
    return QueueWork(
        env, WorkQueue::kBackground, "crossmodal.tokenize",
        [encoder, batch, texts = std::move(texts)] { (*batch)->Fill(encoder->tokenizer(), texts, 0, 1, false); },
        [batch](Napi::Env env) -> Napi::Value { return TokenBatchToJs(env, std::move(*batch)); });
  });
}

Napi::Value EncoderSession::Decode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    auto encoder = Acquire();
    std::vector<int32_t> ids = RequireTokenIds(info[0], "ids");
    const bool skip = info.Length() < 2 || !info[1].IsBoolean() || info[1].As<Napi::Boolean>().Value();
    return Napi::String::New(env, encoder->tokenizer().Decode(ids.data(), ids.size(), skip));
  });
}

Napi::Value EncoderSession::TokenizerInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value { return TokenizerInfoToJs(env, Acquire()->tokenizer()); });
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
    for (size_t i = 0; i < bundle.available_precisions.size(); ++i)
      precisions.Set(static_cast<uint32_t>(i), bundle.available_precisions[i]);
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

// Synchronous and cheap: relaxed atomic loads plus each queue's depth (one short lock each).
Napi::Value EncoderSession::Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    auto encoder = Acquire();
    const model::EncoderStats& stats = encoder->stats();
    Napi::Object image = TowerStatsToJs(env, stats.image, encoder->queued_image_rows());
    image.Set("decodeSeconds", HistogramToJs(env, stats.decode, 1e9));
    image.Set("preprocessSeconds", HistogramToJs(env, stats.preprocess, 1e9));
    Napi::Object text = TowerStatsToJs(env, stats.text, encoder->queued_text_rows());
    text.Set("tokenizeSeconds", HistogramToJs(env, stats.tokenize, 1e9));
    Napi::Object out = Napi::Object::New(env);
    out.Set("image", image);
    out.Set("text", text);
    return out;
  });
}

Napi::Value EncoderSession::Dispose(const Napi::CallbackInfo& info) {
  ReleaseEncoder();
  return info.Env().Undefined();
}

}  // namespace crossmodal::binding
