#include "binding/objects/vector_index.h"

#include <cmath>
#include <cstring>

#include "binding/addon_data.h"
#include "binding/async/async_work.h"
#include "binding/napi_util.h"

namespace crossmodal::binding {
namespace {

std::vector<int64_t> CopyIds(const Napi::Value& value, const char* what) {
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_bigint64_array) {
    throw Error(codes::kInvalidArgument, std::string(what) + " must be a BigInt64Array");
  }
  auto array = value.As<Napi::TypedArrayOf<int64_t>>();
  return std::vector<int64_t>(array.Data(), array.Data() + array.ElementLength());
}

// 0 when undefined (the index's default); otherwise a positive integer.
int OptionalPositiveInt(const Napi::Value& v, const char* name) {
  if (v.IsUndefined() || v.IsNull()) return 0;
  if (!v.IsNumber()) throw Error(codes::kInvalidArgument, std::string(name) + " must be a positive integer");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 1) || d > 1e6 || std::floor(d) != d) {
    throw Error(codes::kInvalidArgument, std::string(name) + " must be a positive integer");
  }
  return static_cast<int>(d);
}

// Positional (efSearch?, nprobe?, allow?: BigInt64Array, deny?: BigInt64Array) starting at info[first].
// Not an options object: reading named properties through N-API creates a key string per property
// and call, and a batch-1 search settles in tens of microseconds.
search::SearchOptions ParseSearchArguments(const Napi::CallbackInfo& info, size_t first) {
  search::SearchOptions options;
  options.ef_search = OptionalPositiveInt(info[first], "efSearch");
  options.nprobe = OptionalPositiveInt(info[first + 1], "nprobe");
  const Napi::Value allow = info[first + 2];
  const Napi::Value deny = info[first + 3];
  const bool has_allow = !allow.IsUndefined() && !allow.IsNull();
  const bool has_deny = !deny.IsUndefined() && !deny.IsNull();
  if (has_allow && has_deny) throw Error(codes::kInvalidArgument, "filter takes either allow or deny, not both");
  if (has_allow || has_deny) {
    options.filter.active = true;
    options.filter.allow = has_allow;
    options.filter.ids = CopyIds(has_allow ? allow : deny, has_allow ? "filter.allow" : "filter.deny");
  }
  return options;
}

Napi::Value InfoToJs(Napi::Env env, const search::IndexInfo& info) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("spec", Napi::String::New(env, info.spec.ToJson()));
  out.Set("size", Napi::Number::New(env, static_cast<double>(info.size)));
  out.Set("slots", Napi::Number::New(env, static_cast<double>(info.slots)));
  out.Set("tombstones", Napi::Number::New(env, static_cast<double>(info.tombstones)));
  out.Set("trained", Napi::Boolean::New(env, info.trained));
  out.Set("mmapped", Napi::Boolean::New(env, info.mmapped));
  out.Set("canReconstruct", Napi::Boolean::New(env, info.can_reconstruct));
  out.Set("fingerprint", Napi::String::New(env, info.fingerprint));
  out.Set("description", Napi::String::New(env, info.description));
  // Where searches run (GPU builds; see native/search/ann_index.h).
  Napi::Object gpu = Napi::Object::New(env);
  gpu.Set("requested", Napi::String::New(env, search::SearchDeviceName(info.gpu.requested)));
  gpu.Set("device", Napi::Number::New(env, info.gpu.device));
  gpu.Set("active", Napi::Boolean::New(env, info.gpu.active));
  gpu.Set("reason", Napi::String::New(env, info.gpu.reason));
  gpu.Set("gpuSearches", Napi::Number::New(env, static_cast<double>(info.gpu.gpu_searches)));
  gpu.Set("cpuFallbacks", Napi::Number::New(env, static_cast<double>(info.gpu.cpu_fallbacks)));
  gpu.Set("lastFallback", Napi::String::New(env, info.gpu.last_fallback));
  out.Set("gpu", gpu);
  return out;
}

}  // namespace

void VectorIndex::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = DefineClass(env, "VectorIndex",
                                    {
                                        StaticMethod<&VectorIndex::Load>("load"),
                                        StaticMethod<&VectorIndex::Recommend>("recommend"),
                                        InstanceMethod<&VectorIndex::Train>("train"),
                                        InstanceMethod<&VectorIndex::Add>("add"),
                                        InstanceMethod<&VectorIndex::Remove>("remove"),
                                        InstanceMethod<&VectorIndex::Has>("has"),
                                        InstanceMethod<&VectorIndex::Reconstruct>("reconstruct"),
                                        InstanceMethod<&VectorIndex::Search>("search"),
                                        InstanceMethod<&VectorIndex::RangeSearch>("rangeSearch"),
                                        InstanceMethod<&VectorIndex::Save>("save"),
                                        InstanceMethod<&VectorIndex::Rebuild>("rebuild"),
                                        InstanceMethod<&VectorIndex::Info>("info"),
                                        InstanceMethod<&VectorIndex::Size>("size"),
                                        InstanceMethod<&VectorIndex::Dim>("dim"),
                                        InstanceMethod<&VectorIndex::Dispose>("dispose"),
                                    });
  GetAddonData(env).vector_index_constructor = Napi::Persistent(ctor);
  exports.Set("VectorIndex", ctor);
}

VectorIndex::VectorIndex(const Napi::CallbackInfo& info) : Napi::ObjectWrap<VectorIndex>(info) {
  Napi::Env env = info.Env();
  Guard(env, [&]() -> Napi::Value {
    if (info.Length() == 1 && info[0].IsExternal()) {
      index_ = *info[0].As<Napi::External<std::shared_ptr<search::AnnIndex>>>().Data();
    } else {
      const std::string spec = RequireString(info[0], "index options");
      index_ = std::make_shared<search::AnnIndex>(search::IndexSpec::FromJson(spec));
    }
    dim_ = index_->dim();
    return env.Undefined();
  });
}

std::shared_ptr<search::AnnIndex> VectorIndex::Acquire() {
  if (!index_) throw Error(codes::kDisposed, "the index has been disposed");
  return index_;
}

Napi::Value VectorIndex::Load(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    std::string path = RequireString(info[0], "path");
    search::LoadOptions options;
    if (info.Length() > 1 && info[1].IsObject()) {
      Napi::Object o = info[1].As<Napi::Object>();
      options.mmap = o.Get("mmap").ToBoolean().Value();
      if (o.Get("fingerprint").IsString()) options.fingerprint = o.Get("fingerprint").As<Napi::String>().Utf8Value();
      if (o.Get("metric").IsString()) options.metric = o.Get("metric").As<Napi::String>().Utf8Value();
      if (o.Get("type").IsString()) options.type = o.Get("type").As<Napi::String>().Utf8Value();
      if (o.Get("dim").IsNumber()) options.dim = RequireUint32(o.Get("dim"), "dim");
      // Placement of the loaded index (not stored in the file).
      if (o.Get("device").IsString())
        options.device = search::ParseSearchDevice(o.Get("device").As<Napi::String>().Utf8Value());
      if (o.Get("deviceId").IsNumber())
        options.device_id = static_cast<int>(RequireUint32(o.Get("deviceId"), "deviceId"));
    }
    auto loaded = std::make_shared<std::shared_ptr<search::AnnIndex>>();
    return QueueWork(
        env, WorkQueue::kBackground, "crossmodal.index.load",
        [loaded, path, options] { *loaded = search::AnnIndex::Load(path, options); },
        [loaded](Napi::Env env) -> Napi::Value {
          auto external = Napi::External<std::shared_ptr<search::AnnIndex>>::New(env, loaded.get());
          return GetAddonData(env).vector_index_constructor.New({external});
        });
  });
}

Napi::Value VectorIndex::Recommend(const Napi::CallbackInfo& info) {
  return Guard(info.Env(), [&]() -> Napi::Value {
    if (!info[0].IsNumber()) throw Error(codes::kInvalidArgument, "n must be a number");
    const double n = info[0].As<Napi::Number>().DoubleValue();
    if (!(n >= 0) || n > 9007199254740991.0) throw Error(codes::kInvalidArgument, "n must be a non-negative integer");
    const uint32_t dim = RequireUint32(info[1], "dim");
    return Napi::String::New(info.Env(), search::RecommendIndex(static_cast<size_t>(n), dim));
  });
}

Napi::Value VectorIndex::Train(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    auto index = Acquire();
    auto vectors = std::make_shared<std::vector<float>>(CopyFloat32Rows(info[0], dim_, "vectors"));
    return QueueWork(
        env, WorkQueue::kBackground, "crossmodal.index.train",
        [index, vectors] { index->Train(vectors->data(), vectors->size() / index->dim()); },
        [](Napi::Env env) { return env.Undefined(); });
  });
}

Napi::Value VectorIndex::Add(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    auto index = Acquire();
    auto vectors = std::make_shared<std::vector<float>>(CopyFloat32Rows(info[0], dim_, "vectors"));
    const size_t count = vectors->size() / dim_;
    auto ids = std::make_shared<std::vector<int64_t>>();
    const bool has_ids = info.Length() > 1 && !info[1].IsUndefined() && !info[1].IsNull();
    if (has_ids) {
      *ids = CopyIds(info[1], "ids");
      if (ids->size() != count) {
        throw Error(codes::kInvalidArgument,
                    "ids has " + std::to_string(ids->size()) + " entries for " + std::to_string(count) + " vectors");
      }
    }
    const bool upsert = info.Length() > 2 && info[2].ToBoolean().Value();
    return QueueWork(
        env, WorkQueue::kBackground, "crossmodal.index.add",
        [index, vectors, ids, has_ids, count, upsert] {
          index->Add(vectors->data(), count, has_ids ? ids->data() : nullptr, upsert);
        },
        [index](Napi::Env env) { return Napi::Number::New(env, static_cast<double>(index->size())); });
  });
}

Napi::Value VectorIndex::Remove(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    auto index = Acquire();
    auto ids = std::make_shared<std::vector<int64_t>>(CopyIds(info[0], "ids"));
    auto removed = std::make_shared<size_t>(0);
    return QueueWork(
        env, WorkQueue::kBackground, "crossmodal.index.remove",
        [index, ids, removed] { *removed = index->Remove(ids->data(), ids->size()); },
        [removed](Napi::Env env) { return Napi::Number::New(env, static_cast<double>(*removed)); });
  });
}

Napi::Value VectorIndex::Has(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    auto index = Acquire();
    auto ids = std::make_shared<std::vector<int64_t>>(CopyIds(info[0], "ids"));
    auto found = std::make_shared<std::vector<uint8_t>>();
    return QueueWork(
        env, WorkQueue::kLatency, "crossmodal.index.has",
        [index, ids, found] { *found = index->Has(ids->data(), ids->size()); },
        [found](Napi::Env env) -> Napi::Value {
          auto owner = std::make_unique<std::vector<uint8_t>>(std::move(*found));
          void* data = owner->data();
          const size_t bytes = owner->size();
          return AdoptAsArrayBuffer(env, std::move(owner), data, bytes);
        });
  });
}

Napi::Value VectorIndex::Reconstruct(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    auto index = Acquire();
    if (!info[0].IsBigInt()) throw Error(codes::kInvalidArgument, "id must be a bigint");
    bool lossless = false;
    const int64_t id = info[0].As<Napi::BigInt>().Int64Value(&lossless);
    if (!lossless) throw Error(codes::kInvalidArgument, "id must fit in 64 bits");
    auto out = std::make_shared<std::unique_ptr<std::vector<float>>>(std::make_unique<std::vector<float>>(dim_));
    auto found = std::make_shared<bool>(false);
    return QueueWork(
        env, WorkQueue::kLatency, "crossmodal.index.reconstruct",
        [index, id, out, found] { *found = index->Reconstruct(id, (*out)->data()); },
        [out, found](Napi::Env env) -> Napi::Value {
          if (!*found) return env.Null();
          float* data = (*out)->data();
          const size_t bytes = (*out)->size() * sizeof(float);
          return AdoptAsArrayBuffer(env, std::move(*out), data, bytes);
        });
  });
}

Napi::Value VectorIndex::Search(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    auto index = Acquire();
    auto queries = std::make_shared<std::vector<float>>(CopyFloat32Rows(info[0], dim_, "queries"));
    const uint32_t k = RequireUint32(info[1], "k");
    if (k == 0) throw Error(codes::kInvalidArgument, "k must be at least 1");
    auto options = std::make_shared<search::SearchOptions>(ParseSearchArguments(info, 2));
    auto result = std::make_shared<std::unique_ptr<search::SearchResult>>();
    return QueueWork(
        env, WorkQueue::kLatency, "crossmodal.index.search",
        [index, queries, k, options, result] {
          *result = std::make_unique<search::SearchResult>(
              index->Search(queries->data(), queries->size() / index->dim(), k, *options));
        },
        // One buffer, ids then scores (search::SearchResult); the caller knows queries and k.
        [result](Napi::Env env) -> Napi::Value {
          void* data = (*result)->data();
          const size_t bytes = (*result)->byte_size();
          return AdoptAsArrayBuffer(env, std::move(*result), data, bytes);
        });
  });
}

Napi::Value VectorIndex::RangeSearch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    auto index = Acquire();
    auto queries = std::make_shared<std::vector<float>>(CopyFloat32Rows(info[0], dim_, "queries"));
    if (!info[1].IsNumber()) throw Error(codes::kInvalidArgument, "threshold must be a number");
    const float threshold = static_cast<float>(info[1].As<Napi::Number>().DoubleValue());
    auto options = std::make_shared<search::SearchOptions>(ParseSearchArguments(info, 2));
    auto result = std::make_shared<std::unique_ptr<search::RangeResult>>();
    return QueueWork(
        env, WorkQueue::kLatency, "crossmodal.index.rangeSearch",
        [index, queries, threshold, options, result] {
          *result = std::make_unique<search::RangeResult>(
              index->RangeSearch(queries->data(), queries->size() / index->dim(), threshold, *options));
        },
        [result](Napi::Env env) -> Napi::Value {
          std::shared_ptr<search::RangeResult> shared(std::move(*result));
          Napi::Object out = Napi::Object::New(env);
          out.Set("queries", Napi::Number::New(env, static_cast<double>(shared->queries)));
          auto own = [&shared]() { return std::make_unique<std::shared_ptr<search::RangeResult>>(shared); };
          out.Set("offsets",
                  AdoptAsArrayBuffer(env, own(), shared->offsets.data(), shared->offsets.size() * sizeof(uint64_t)));
          out.Set("ids", AdoptAsArrayBuffer(env, own(), shared->ids.data(), shared->ids.size() * sizeof(int64_t)));
          out.Set("scores",
                  AdoptAsArrayBuffer(env, own(), shared->scores.data(), shared->scores.size() * sizeof(float)));
          return out;
        });
  });
}

Napi::Value VectorIndex::Save(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    auto index = Acquire();
    std::string path = RequireString(info[0], "path");
    std::string fingerprint = info.Length() > 1 && info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "";
    return QueueWork(
        env, WorkQueue::kBackground, "crossmodal.index.save",
        [index, path, fingerprint] { index->Save(path, fingerprint); }, [](Napi::Env env) { return env.Undefined(); });
  });
}

Napi::Value VectorIndex::Rebuild(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    auto index = Acquire();
    return QueueWork(
        env, WorkQueue::kBackground, "crossmodal.index.rebuild", [index] { index->Rebuild(); },
        [index](Napi::Env env) { return Napi::Number::New(env, static_cast<double>(index->size())); });
  });
}

Napi::Value VectorIndex::Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    auto index = Acquire();
    auto result = std::make_shared<search::IndexInfo>();
    return QueueWork(
        env, WorkQueue::kLatency, "crossmodal.index.info", [index, result] { *result = index->Info(); },
        [result](Napi::Env env) { return InfoToJs(env, *result); });
  });
}

Napi::Value VectorIndex::Size(const Napi::CallbackInfo& info) {
  return Guard(info.Env(),
               [&]() -> Napi::Value { return Napi::Number::New(info.Env(), static_cast<double>(Acquire()->size())); });
}

Napi::Value VectorIndex::Dim(const Napi::CallbackInfo& info) {
  return Guard(info.Env(), [&]() -> Napi::Value {
    Acquire();
    return Napi::Number::New(info.Env(), static_cast<double>(dim_));
  });
}

Napi::Value VectorIndex::Dispose(const Napi::CallbackInfo& info) {
  index_.reset();
  return info.Env().Undefined();
}

}  // namespace crossmodal::binding
