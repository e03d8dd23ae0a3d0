#include "binding/convert/tokens.h"

#include <cmath>
#include <cstring>

#include "binding/napi_util.h"
#include "common/error.h"

namespace crossmodal::binding {

Napi::Object TokenBatchToJs(Napi::Env env, std::unique_ptr<text::TokenBatch> batch) {
  Napi::Object out = Napi::Object::New(env);
  const size_t count = batch->count, context = batch->context;
  const bool int64 = batch->int64;
  // Two external buffers over one owner would need shared ownership; the lengths are tiny, so
  // they are copied and the ids (the bulk) are adopted.
  Napi::ArrayBuffer lengths = Napi::ArrayBuffer::New(env, count * sizeof(int32_t));
  if (count) std::memcpy(lengths.Data(), batch->lengths.data(), count * sizeof(int32_t));
  void* data = int64 ? static_cast<void*>(batch->ids64.data()) : static_cast<void*>(batch->ids.data());
  const size_t bytes = int64 ? batch->ids64.size() * sizeof(int64_t) : batch->ids.size() * sizeof(int32_t);
  out.Set("ids", AdoptAsArrayBuffer(env, std::move(batch), data, bytes));
  out.Set("lengths", lengths);
  out.Set("contextLength", Napi::Number::New(env, static_cast<double>(context)));
  out.Set("count", Napi::Number::New(env, static_cast<double>(count)));
  out.Set("int64", Napi::Boolean::New(env, int64));
  return out;
}

std::vector<int32_t> RequireTokenIds(const Napi::Value& value, const char* what) {
  std::vector<int32_t> ids;
  auto bad = [&](const std::string& why) { return Error(codes::kInvalidArgument, std::string(what) + " " + why); };
  if (value.IsTypedArray()) {
    Napi::TypedArray array = value.As<Napi::TypedArray>();
    if (array.TypedArrayType() == napi_int32_array) {
      Napi::Int32Array a = value.As<Napi::Int32Array>();
      ids.assign(a.Data(), a.Data() + a.ElementLength());
      return ids;
    }
    if (array.TypedArrayType() == napi_bigint64_array) {
      Napi::BigInt64Array a = value.As<Napi::BigInt64Array>();
      ids.reserve(a.ElementLength());
      for (size_t i = 0; i < a.ElementLength(); ++i) {
        const int64_t v = a.Data()[i];
        if (v < INT32_MIN || v > INT32_MAX) throw bad("holds an id out of range: " + std::to_string(v));
        ids.push_back(static_cast<int32_t>(v));
      }
      return ids;
    }
    throw bad("must be an Int32Array, a BigInt64Array or an array of integers");
  }
  if (!value.IsArray()) throw bad("must be an Int32Array, a BigInt64Array or an array of integers");
  Napi::Array array = value.As<Napi::Array>();
  ids.reserve(array.Length());
  for (uint32_t i = 0; i < array.Length(); ++i) {
    Napi::Value item = array.Get(i);
    if (!item.IsNumber()) throw bad("[" + std::to_string(i) + "] is not a number");
    const double d = item.As<Napi::Number>().DoubleValue();
    if (!std::isfinite(d) || d != std::floor(d) || d < INT32_MIN || d > INT32_MAX) {
      throw bad("[" + std::to_string(i) + "] is not a 32-bit integer");
    }
    ids.push_back(static_cast<int32_t>(d));
  }
  return ids;
}

Napi::Object TokenizerInfoToJs(Napi::Env env, const text::Tokenizer& tokenizer) {
  const text::TokenizerSpec& spec = tokenizer.spec();
  Napi::Object out = Napi::Object::New(env);
  out.Set("kind", spec.kind);
  out.Set("source", spec.source);
  out.Set("contextLength", Napi::Number::New(env, static_cast<double>(spec.context_length)));
  out.Set("vocabSize", Napi::Number::New(env, static_cast<double>(tokenizer.vocab_size())));
  out.Set("bosId", Napi::Number::New(env, spec.bos_id));
  out.Set("eosId", Napi::Number::New(env, spec.eos_id));
  out.Set("padId", Napi::Number::New(env, spec.pad_id));
  out.Set("padding", spec.padding == text::Padding::kFixed ? "fixed" : "trimmable");
  return out;
}

}  // namespace crossmodal::binding
