#include "binding/objects/text_tokenizer.h"

#include <thread>

#include "binding/addon_data.h"
#include "binding/async/async_work.h"
#include "binding/convert/tokens.h"
#include "binding/napi_util.h"
#include "common/thread_pool.h"
#include "text/clip_tokenizer.h"
#include "text/token_batch.h"
#include "text/tokenizer_factory.h"

namespace crossmodal::binding {
namespace {

constexpr size_t kMaxContext = size_t{1} << 20;

struct Handle {
  std::shared_ptr<const text::Tokenizer> tokenizer;
  size_t threads;
};

size_t OptionalCount(const Napi::Object& options, const char* key, size_t max, const char* what) {
  if (!options.Has(key) || options.Get(key).IsUndefined()) return 0;
  const uint32_t v = RequireUint32(options.Get(key), what);
  if (v == 0 || v > max) {
    throw Error(codes::kInvalidArgument, std::string(what) + " must be between 1 and " + std::to_string(max));
  }
  return v;
}

}  // namespace

void TextTokenizer::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = DefineClass(env, "TextTokenizer",
                                    {
                                        StaticMethod<&TextTokenizer::Load>("load"),
                                        InstanceMethod<&TextTokenizer::Tokenize>("tokenize"),
                                        InstanceMethod<&TextTokenizer::Decode>("decode"),
                                        InstanceMethod<&TextTokenizer::TokenToId>("tokenToId"),
                                        InstanceMethod<&TextTokenizer::IdToToken>("idToToken"),
                                        InstanceMethod<&TextTokenizer::BpeWordBytes>("bpeWordBytes"),
                                        InstanceMethod<&TextTokenizer::Info>("info"),
                                        InstanceMethod<&TextTokenizer::Dispose>("dispose"),
                                    });
  GetAddonData(env).text_tokenizer_constructor = Napi::Persistent(ctor);
  exports.Set("TextTokenizer", ctor);
}

TextTokenizer::TextTokenizer(const Napi::CallbackInfo& info) : Napi::ObjectWrap<TextTokenizer>(info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsExternal()) {
    throw MakeError(env, codes::kInvalidArgument, "use TextTokenizer.load(dir, options) to create a tokenizer");
  }
  Handle* handle = info[0].As<Napi::External<Handle>>().Data();
  tokenizer_ = handle->tokenizer;
  threads_ = handle->threads;
}

Napi::Object TextTokenizer::Wrap(Napi::Env env, std::shared_ptr<const text::Tokenizer> tokenizer, size_t threads) {
  Handle handle{std::move(tokenizer), threads};
  return GetAddonData(env).text_tokenizer_constructor.New({Napi::External<Handle>::New(env, &handle)});
}

std::shared_ptr<const text::Tokenizer> TextTokenizer::Acquire() const {
  if (!tokenizer_) throw Error(codes::kDisposed, "the tokenizer has been disposed");
  return tokenizer_;
}

Napi::Value TextTokenizer::Load(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    std::string dir = RequireString(info[0], "dir");
    text::TokenizerLoadOptions options;
    size_t threads = 1;
    if (info.Length() > 1 && info[1].IsObject()) {
      Napi::Object o = info[1].As<Napi::Object>();
      threads = OptionalCount(o, "threads", kMaxThreads, "options.threads");
      if (threads == 0) threads = 1;
      options.context_length = OptionalCount(o, "contextLength", kMaxContext, "options.contextLength");
    }
    auto tokenizer = std::make_shared<std::shared_ptr<const text::Tokenizer>>();
    return QueueWork(
        env, WorkQueue::kBackground, "crossmodal.loadTokenizer",
        [tokenizer, dir = std::move(dir), options] { *tokenizer = text::LoadTokenizer(dir, options); },
        [tokenizer, threads](Napi::Env env) -> Napi::Value {
          return TextTokenizer::Wrap(env, std::move(*tokenizer), threads);
        });
  });
}

Napi::Value TextTokenizer::Tokenize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    auto tokenizer = Acquire();
    std::vector<std::string> texts = RequireStringArray(info[0], "texts");
    size_t threads = threads_, context = 0;
    bool int64 = false;
    if (info.Length() > 1 && info[1].IsObject()) {
      Napi::Object o = info[1].As<Napi::Object>();
      if (size_t t = OptionalCount(o, "threads", kMaxThreads, "options.threads")) threads = t;
      context = OptionalCount(o, "contextLength", kMaxContext, "options.contextLength");
      if (o.Has("int64") && o.Get("int64").IsBoolean()) int64 = o.Get("int64").As<Napi::Boolean>().Value();
    }
    const size_t effective = context ? context : tokenizer->context_length();
    if (effective < tokenizer->num_specials() + 1) {
      throw Error(codes::kInvalidArgument, "contextLength " + std::to_string(effective) + " leaves no room for text");
    }
    auto batch = std::make_shared<std::unique_ptr<text::TokenBatch>>(std::make_unique<text::TokenBatch>());
    return QueueWork(
        env, WorkQueue::kBackground, "crossmodal.tokenize",
        [tokenizer = std::move(tokenizer), texts = std::move(texts), batch, context, threads, int64] {
          (*batch)->Fill(*tokenizer, texts, context, threads, int64);
        },
        [batch](Napi::Env env) -> Napi::Value { return TokenBatchToJs(env, std::move(*batch)); });
  });
}

Napi::Value TextTokenizer::Decode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    auto tokenizer = Acquire();
    std::vector<int32_t> ids = RequireTokenIds(info[0], "ids");
    const bool skip = info.Length() < 2 || !info[1].IsBoolean() || info[1].As<Napi::Boolean>().Value();
    return Napi::String::New(env, tokenizer->Decode(ids.data(), ids.size(), skip));
  });
}

Napi::Value TextTokenizer::TokenToId(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    auto tokenizer = Acquire();
    return Napi::Number::New(env, tokenizer->TokenToId(RequireString(info[0], "token")));
  });
}

Napi::Value TextTokenizer::IdToToken(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    auto tokenizer = Acquire();
    if (!info[0].IsNumber()) throw Error(codes::kInvalidArgument, "id must be an integer");
    const double d = info[0].As<Napi::Number>().DoubleValue();
    if (d != static_cast<double>(static_cast<int32_t>(d)))
      throw Error(codes::kInvalidArgument, "id must be a 32-bit integer");
    return Napi::String::New(env, tokenizer->IdToToken(static_cast<int32_t>(d)));
  });
}

Napi::Value TextTokenizer::BpeWordBytes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    auto tokenizer = Acquire();
    const auto* clip = dynamic_cast<const text::ClipTokenizer*>(tokenizer.get());
    if (!clip)
      throw Error(codes::kTokenizer,
                  "bpeWordBytes needs a CLIP BPE tokenizer (this is " + tokenizer->spec().kind + ")");
    if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
      throw Error(codes::kInvalidArgument, "bytes must be a Uint8Array");
    }
    Napi::Uint8Array bytes = info[0].As<Napi::Uint8Array>();
    std::string word(reinterpret_cast<const char*>(bytes.Data()), bytes.ByteLength());
    std::vector<int32_t> ids = clip->bpe().BpeWordForTesting(word, word.size() > 64);
    Napi::Int32Array out = Napi::Int32Array::New(env, ids.size());
    std::copy(ids.begin(), ids.end(), out.Data());
    return out;
  });
}

Napi::Value TextTokenizer::Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    auto tokenizer = Acquire();
    Napi::Object out = TokenizerInfoToJs(env, *tokenizer);
    out.Set("threads", Napi::Number::New(env, static_cast<double>(threads_)));
    return out;
  });
}

Napi::Value TextTokenizer::Dispose(const Napi::CallbackInfo& info) {
  tokenizer_.reset();
  return info.Env().Undefined();
}

}  // namespace crossmodal::binding
