#include "vector_index.h"

#include <cstring>

#include "binding/addon_data.h"
#include "binding/napi_util.h"

namespace crossmodal {
namespace {

using binding::Guard;
using binding::PromiseWorker;

class AddWorker : public PromiseWorker {
 public:
  AddWorker(Napi::Env env, std::shared_ptr<search::FlatIndex> index, std::vector<float> vectors,
            std::vector<int64_t> ids, bool has_ids)
      : PromiseWorker(env, "crossmodal.index.add"), index_(std::move(index)), vectors_(std::move(vectors)),
        ids_(std::move(ids)), has_ids_(has_ids) {}

 protected:
  void Run() override {
    index_->Add(vectors_.data(), vectors_.size() / index_->dim(), has_ids_ ? ids_.data() : nullptr);
  }
  Napi::Value Result(Napi::Env env) override { return Napi::Number::New(env, static_cast<double>(index_->size())); }

 private:
  std::shared_ptr<search::FlatIndex> index_;
  std::vector<float> vectors_;
  std::vector<int64_t> ids_;
  bool has_ids_;
};

class SearchWorker : public PromiseWorker {
 public:
  SearchWorker(Napi::Env env, std::shared_ptr<search::FlatIndex> index, std::vector<float> queries, size_t k)
      : PromiseWorker(env, "crossmodal.index.search"), index_(std::move(index)), queries_(std::move(queries)), k_(k) {}

 protected:
  void Run() override {
    result_ = std::make_unique<search::SearchResult>(
        index_->Search(queries_.data(), queries_.size() / index_->dim(), k_));
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object out = Napi::Object::New(env);
    out.Set("queries", Napi::Number::New(env, static_cast<double>(result_->queries)));
    out.Set("k", Napi::Number::New(env, static_cast<double>(result_->k)));
    // The scores are copied (queries × k floats, small); the ids buffer adopts the result.
    Napi::ArrayBuffer scores = Napi::ArrayBuffer::New(env, result_->scores.size() * sizeof(float));
    if (!result_->scores.empty()) std::memcpy(scores.Data(), result_->scores.data(), scores.ByteLength());
    int64_t* ids = result_->ids.data();
    const size_t id_bytes = result_->ids.size() * sizeof(int64_t);
    out.Set("scores", scores);
    out.Set("ids", binding::AdoptAsArrayBuffer(env, std::move(result_), ids, id_bytes));
    return out;
  }

 private:
  std::shared_ptr<search::FlatIndex> index_;
  std::vector<float> queries_;
  size_t k_;
  std::unique_ptr<search::SearchResult> result_;
};

}  // namespace

void VectorIndex::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = DefineClass(env, "VectorIndex",
                                    {
                                        InstanceMethod<&VectorIndex::Add>("add"),
                                        InstanceMethod<&VectorIndex::Search>("search"),
                                        InstanceMethod<&VectorIndex::Size>("size"),
                                        InstanceMethod<&VectorIndex::Dim>("dim"),
                                        InstanceMethod<&VectorIndex::Metric>("metric"),
                                        InstanceMethod<&VectorIndex::Dispose>("dispose"),
                                    });
  binding::GetAddonData(env).vector_index_constructor = Napi::Persistent(ctor);
  exports.Set("VectorIndex", ctor);
}

VectorIndex::VectorIndex(const Napi::CallbackInfo& info) : Napi::ObjectWrap<VectorIndex>(info) {
  Napi::Env env = info.Env();
  Guard(env, [&]() -> Napi::Value {
    uint32_t dim = binding::RequireUint32(info[0], "dim");
    std::string metric = info.Length() > 1 && info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "cosine";
    index_ = std::make_shared<search::FlatIndex>(dim, search::ParseMetric(metric));
    return env.Undefined();
  });
}

std::shared_ptr<search::FlatIndex> VectorIndex::Acquire() {
  if (!index_) throw Error(codes::kDisposed, "the index has been disposed");
  return index_;
}

Napi::Value VectorIndex::Add(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    auto index = Acquire();
    std::vector<float> vectors = binding::CopyFloat32Rows(info[0], index->dim(), "vectors");
    const size_t count = vectors.size() / index->dim();
    std::vector<int64_t> ids;
    bool has_ids = info.Length() > 1 && !info[1].IsUndefined() && !info[1].IsNull();
    if (has_ids) {
      if (!info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_bigint64_array) {
        throw Error(codes::kInvalidArgument, "ids must be a BigInt64Array");
      }
      Napi::TypedArrayOf<int64_t> id_array = info[1].As<Napi::TypedArrayOf<int64_t>>();
      if (id_array.ElementLength() != count) {
        throw Error(codes::kInvalidArgument, "ids has " + std::to_string(id_array.ElementLength()) +
                                                 " entries for " + std::to_string(count) + " vectors");
      }
      ids.assign(id_array.Data(), id_array.Data() + count);
    }
    auto* worker = new AddWorker(env, std::move(index), std::move(vectors), std::move(ids), has_ids);
    Napi::Value promise = worker->Promise();
    worker->Queue();
    return promise;
  });
}

Napi::Value VectorIndex::Search(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    auto index = Acquire();
    std::vector<float> queries = binding::CopyFloat32Rows(info[0], index->dim(), "queries");
    uint32_t k = binding::RequireUint32(info[1], "k");
    if (k == 0) throw Error(codes::kInvalidArgument, "k must be at least 1");
    auto* worker = new SearchWorker(env, std::move(index), std::move(queries), k);
    Napi::Value promise = worker->Promise();
    worker->Queue();
    return promise;
  });
}

Napi::Value VectorIndex::Size(const Napi::CallbackInfo& info) {
  return Guard(info.Env(), [&]() -> Napi::Value {
    return Napi::Number::New(info.Env(), static_cast<double>(Acquire()->size()));
  });
}

Napi::Value VectorIndex::Dim(const Napi::CallbackInfo& info) {
  return Guard(info.Env(), [&]() -> Napi::Value {
    return Napi::Number::New(info.Env(), static_cast<double>(Acquire()->dim()));
  });
}

Napi::Value VectorIndex::Metric(const Napi::CallbackInfo& info) {
  return Guard(info.Env(), [&]() -> Napi::Value {
    return Napi::String::New(info.Env(), search::MetricName(Acquire()->metric()));
  });
}

Napi::Value VectorIndex::Dispose(const Napi::CallbackInfo& info) {
  index_.reset();
  return info.Env().Undefined();
}

}  // namespace crossmodal
