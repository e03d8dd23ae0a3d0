#include "binding/module_functions.h"

#include "binding/directory_lock.h"
#include "binding/napi_util.h"
#include "runtime/ort_library.h"
#include "search/similarity.h"

namespace crossmodal::binding {
namespace {

Napi::Object RuntimeInfoToJs(Napi::Env env, const runtime::OrtLibraryInfo& info) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("path", info.path);
  out.Set("version", info.version);
  out.Set("apiVersion", Napi::Number::New(env, info.api_version));
  Napi::Array providers = Napi::Array::New(env, info.available_providers.size());
  for (size_t i = 0; i < info.available_providers.size(); ++i) {
    providers.Set(static_cast<uint32_t>(i), info.available_providers[i]);
  }
  out.Set("availableProviders", providers);
  return out;
}

class LoadRuntimeWorker : public PromiseWorker {
 public:
  LoadRuntimeWorker(Napi::Env env, std::string path) : PromiseWorker(env, "crossmodal.loadRuntime"), path_(std::move(path)) {}

 protected:
  void Run() override { info_ = &runtime::LoadOrtLibrary(path_); }
  Napi::Value Result(Napi::Env env) override { return RuntimeInfoToJs(env, *info_); }

 private:
  std::string path_;
  const runtime::OrtLibraryInfo* info_ = nullptr;
};

// loadRuntime(path) -> Promise<RuntimeInfo>: dlopen()s ONNX Runtime off the event loop.
Napi::Value LoadRuntime(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    std::string path = info.Length() > 0 && info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
    auto* worker = new LoadRuntimeWorker(env, std::move(path));
    Napi::Value promise = worker->Promise();
    worker->Queue();
    return promise;
  });
}

// runtimeInfo() -> RuntimeInfo | null, without loading anything.
Napi::Value RuntimeInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    if (!runtime::IsOrtLoaded()) return env.Null();
    return RuntimeInfoToJs(env, runtime::LoadOrtLibrary(""));
  });
}

class SimilarityWorker : public PromiseWorker {
 public:
  SimilarityWorker(Napi::Env env, std::vector<float> a, std::vector<float> b, size_t dim,
                   search::SimilarityOptions options)
      : PromiseWorker(env, "crossmodal.similarity"), a_(std::move(a)), b_(std::move(b)), dim_(dim), options_(options) {}

 protected:
  void Run() override {
    result_ = std::make_unique<std::vector<float>>(
        search::SimilarityMatrix(a_.data(), a_.size() / dim_, b_.data(), b_.size() / dim_, dim_, options_));
  }
  Napi::Value Result(Napi::Env env) override {
    float* data = result_->data();
    const size_t bytes = result_->size() * sizeof(float);
    return AdoptAsArrayBuffer(env, std::move(result_), data, bytes);
  }

 private:
  std::vector<float> a_, b_;
  size_t dim_;
  search::SimilarityOptions options_;
  std::unique_ptr<std::vector<float>> result_;
};

// similarity(a, b, dim, { scale, softmax }) -> Promise<ArrayBuffer of rows(a) × rows(b) floats>.
Napi::Value Similarity(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    uint32_t dim = RequireUint32(info[2], "dim");
    if (dim == 0) throw Error(codes::kInvalidArgument, "dim must be positive");
    std::vector<float> a = CopyFloat32Rows(info[0], dim, "a");
    std::vector<float> b = CopyFloat32Rows(info[1], dim, "b");
    search::SimilarityOptions options;
    if (info.Length() > 3 && info[3].IsObject()) {
      Napi::Object o = info[3].As<Napi::Object>();
      if (o.Get("scale").IsNumber()) options.scale = o.Get("scale").As<Napi::Number>().DoubleValue();
      if (o.Get("softmax").IsBoolean()) options.softmax = o.Get("softmax").As<Napi::Boolean>().Value();
    }
    auto* worker = new SimilarityWorker(env, std::move(a), std::move(b), dim, options);
    Napi::Value promise = worker->Promise();
    worker->Queue();
    return promise;
  });
}

class GroupMeanWorker : public PromiseWorker {
 public:
  GroupMeanWorker(Napi::Env env, std::vector<float> rows, size_t dim, size_t group)
      : PromiseWorker(env, "crossmodal.groupMeans"), rows_(std::move(rows)), dim_(dim), group_(group) {}

 protected:
  void Run() override {
    result_ = std::make_unique<std::vector<float>>(
        search::NormalizedGroupMeans(rows_.data(), rows_.size() / dim_, dim_, group_));
  }
  Napi::Value Result(Napi::Env env) override {
    float* data = result_->data();
    const size_t bytes = result_->size() * sizeof(float);
    return AdoptAsArrayBuffer(env, std::move(result_), data, bytes);
  }

 private:
  std::vector<float> rows_;
  size_t dim_, group_;
  std::unique_ptr<std::vector<float>> result_;
};

// groupMeans(rows, dim, group) -> Promise<ArrayBuffer>: normalised means of consecutive groups.
Napi::Value GroupMeans(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    uint32_t dim = RequireUint32(info[1], "dim");
    uint32_t group = RequireUint32(info[2], "group");
    if (dim == 0 || group == 0) throw Error(codes::kInvalidArgument, "dim and group must be positive");
    std::vector<float> rows = CopyFloat32Rows(info[0], dim, "rows");
    if ((rows.size() / dim) % group != 0) throw Error(codes::kInvalidArgument, "row count is not a multiple of the group size");
    auto* worker = new GroupMeanWorker(env, std::move(rows), dim, group);
    Napi::Value promise = worker->Promise();
    worker->Queue();
    return promise;
  });
}

}  // namespace

void RegisterModuleFunctions(Napi::Env env, Napi::Object exports) {
  exports.Set("loadRuntime", Napi::Function::New(env, LoadRuntime, "loadRuntime"));
  exports.Set("runtimeInfo", Napi::Function::New(env, RuntimeInfo, "runtimeInfo"));
  exports.Set("similarity", Napi::Function::New(env, Similarity, "similarity"));
  exports.Set("groupMeans", Napi::Function::New(env, GroupMeans, "groupMeans"));
  exports.Set("DirectoryLock", DirectoryLock::Define(env));
}

}  // namespace crossmodal::binding
