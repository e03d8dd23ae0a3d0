#include "encoder_session.h"

#include <cstring>

#include "binding/addon_data.h"
#include "binding/napi_util.h"
#include "binding/token_util.h"
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
  if (options.Has("maxPixels") && !options.Get("maxPixels").IsUndefined()) {
    Napi::Value v = options.Get("maxPixels");
    if (!v.IsNumber() || v.As<Napi::Number>().DoubleValue() < 1) {
      throw Error(codes::kInvalidArgument, "options.maxPixels must be a positive number");
    }
    parsed.decode_limits.max_pixels = static_cast<uint64_t>(v.As<Napi::Number>().DoubleValue());
  }
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

class EmbedTextsWorker : public PromiseWorker {
 public:
  EmbedTextsWorker(Napi::Env env, std::shared_ptr<model::ClipEncoder> encoder, std::vector<std::string> texts,
                   bool normalize)
      : PromiseWorker(env, "crossmodal.embedTexts"), encoder_(std::move(encoder)), texts_(std::move(texts)),
        normalize_(normalize) {}

 protected:
  void Run() override {
    result_ = std::make_unique<EmbeddingMatrix>(encoder_->EmbedTexts(texts_, normalize_));
  }
  Napi::Value Result(Napi::Env env) override { return EmbeddingsToJs(env, std::move(result_)); }

 private:
  std::shared_ptr<model::ClipEncoder> encoder_;
  std::vector<std::string> texts_;
  bool normalize_;
  std::unique_ptr<EmbeddingMatrix> result_;
};

class EmbedImagesWorker : public PromiseWorker {
 public:
  EmbedImagesWorker(Napi::Env env, std::shared_ptr<model::ClipEncoder> encoder,
                    std::vector<model::ImageSource> sources, std::vector<std::vector<uint8_t>> owned, bool normalize)
      : PromiseWorker(env, "crossmodal.embedImages"), encoder_(std::move(encoder)), sources_(std::move(sources)),
        owned_(std::move(owned)), normalize_(normalize) {}

 protected:
  void Run() override {
    result_ = std::make_unique<EmbeddingMatrix>(encoder_->EmbedImages(sources_, normalize_));
  }
  Napi::Value Result(Napi::Env env) override { return EmbeddingsToJs(env, std::move(result_)); }

 private:
  std::shared_ptr<model::ClipEncoder> encoder_;
  std::vector<model::ImageSource> sources_;
  std::vector<std::vector<uint8_t>> owned_;  // bytes the sources point into
  bool normalize_;
  std::unique_ptr<EmbeddingMatrix> result_;
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

void EncoderSession::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = DefineClass(env, "EncoderSession",
                                    {
                                        StaticMethod<&EncoderSession::Load>("load"),
                                        InstanceMethod<&EncoderSession::EmbedTexts>("embedTexts"),
                                        InstanceMethod<&EncoderSession::EmbedImages>("embedImages"),
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
  auto* encoder = info[0].As<Napi::External<std::shared_ptr<model::ClipEncoder>>>().Data();
  encoder_ = *encoder;
}

Napi::Object EncoderSession::Wrap(Napi::Env env, std::shared_ptr<model::ClipEncoder> encoder) {
  // The External only lives for the duration of the constructor call.
  Napi::External<std::shared_ptr<model::ClipEncoder>> external =
      Napi::External<std::shared_ptr<model::ClipEncoder>>::New(env, &encoder);
  return binding::GetAddonData(env).encoder_session_constructor.New({external});
}

std::shared_ptr<model::ClipEncoder> EncoderSession::Acquire(Napi::Env env) {
  if (!encoder_) throw Error(codes::kDisposed, "the model has been disposed");
  return encoder_;
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

Napi::Value EncoderSession::EmbedTexts(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    auto encoder = Acquire(env);
    std::vector<std::string> texts = binding::RequireStringArray(info[0], "texts");
    bool normalize = info.Length() < 2 || !info[1].IsBoolean() || info[1].As<Napi::Boolean>().Value();
    auto* worker = new EmbedTextsWorker(env, std::move(encoder), std::move(texts), normalize);
    Napi::Value promise = worker->Promise();
    worker->Queue();
    return promise;
  });
}

Napi::Value EncoderSession::EmbedImages(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    auto encoder = Acquire(env);
    if (!info[0].IsArray()) throw Error(codes::kInvalidArgument, "images must be an array");
    bool normalize = info.Length() < 2 || !info[1].IsBoolean() || info[1].As<Napi::Boolean>().Value();
    Napi::Array array = info[0].As<Napi::Array>();
    std::vector<model::ImageSource> sources(array.Length());
    // Input bytes are copied (one memcpy each) rather than referenced: a caller may transfer or
    // detach an ArrayBuffer while the worker runs, which would free memory under it.
    std::vector<std::vector<uint8_t>> owned(array.Length());
    for (uint32_t i = 0; i < array.Length(); ++i) {
      Napi::Value item = array.Get(i);
      model::ImageSource& source = sources[i];
      const std::string where = "images[" + std::to_string(i) + "]";
      if (item.IsString()) {
        source.kind = model::ImageSource::Kind::kPath;
        source.path = item.As<Napi::String>().Utf8Value();
        continue;
      }
      Napi::Value bytes_value = item;
      if (item.IsObject() && !item.IsTypedArray() && item.As<Napi::Object>().Has("data")) {
        Napi::Object pixels = item.As<Napi::Object>();
        source.kind = model::ImageSource::Kind::kPixels;
        source.width = static_cast<int>(binding::RequireUint32(pixels.Get("width"), (where + ".width").c_str()));
        source.height = static_cast<int>(binding::RequireUint32(pixels.Get("height"), (where + ".height").c_str()));
        source.channels = static_cast<int>(binding::RequireUint32(pixels.Get("channels"), (where + ".channels").c_str()));
        bytes_value = pixels.Get("data");
      } else {
        source.kind = model::ImageSource::Kind::kEncoded;
      }
      if (!bytes_value.IsTypedArray() ||
          (bytes_value.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array &&
           bytes_value.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_clamped_array)) {
        throw Error(codes::kInvalidArgument,
                    where + " must be a file path, a Buffer/Uint8Array, or { data, width, height, channels }");
      }
      Napi::Uint8Array bytes = bytes_value.As<Napi::Uint8Array>();
      owned[i].assign(bytes.Data(), bytes.Data() + bytes.ByteLength());
      source.data = owned[i].data();
      source.size = owned[i].size();
    }
    auto* worker = new EmbedImagesWorker(env, std::move(encoder), std::move(sources), std::move(owned), normalize);
    Napi::Value promise = worker->Promise();
    worker->Queue();
    return promise;
  });
}

Napi::Value EncoderSession::Tokenize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    auto encoder = Acquire(env);
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
    auto encoder = Acquire(env);
    std::vector<int32_t> ids = binding::RequireTokenIds(info[0], "ids");
    const bool skip = info.Length() < 2 || !info[1].IsBoolean() || info[1].As<Napi::Boolean>().Value();
    return Napi::String::New(env, encoder->tokenizer().Decode(ids.data(), ids.size(), skip));
  });
}

Napi::Value EncoderSession::TokenizerInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value { return binding::TokenizerInfoToJs(env, Acquire(env)->tokenizer()); });
}

Napi::Value EncoderSession::Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    auto encoder = Acquire(env);
    const model::ModelBundle& bundle = encoder->bundle();
    Napi::Object out = Napi::Object::New(env);
    out.Set("root", bundle.root);
    out.Set("modelType", bundle.model_type);
    out.Set("dim", Napi::Number::New(env, static_cast<double>(encoder->embedding_dim())));
    out.Set("contextLength", Napi::Number::New(env, static_cast<double>(encoder->tokenizer().context_length())));
    out.Set("imageHeight", Napi::Number::New(env, bundle.preprocess.OutputHeight()));
    out.Set("imageWidth", Napi::Number::New(env, bundle.preprocess.OutputWidth()));
    out.Set("logitScale", Napi::Number::New(env, bundle.logit_scale));
    out.Set("visionProvider", ProviderToJs(env, encoder->vision().provider()));
    out.Set("textProvider", ProviderToJs(env, encoder->text().provider()));
    return out;
  });
}

Napi::Value EncoderSession::Dispose(const Napi::CallbackInfo& info) {
  encoder_.reset();
  return info.Env().Undefined();
}

}  // namespace crossmodal
