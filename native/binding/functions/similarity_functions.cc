// similarity(a, b, dim, options) and groupMeans(rows, dim, group): embedding arithmetic off the
// event loop (search/similarity.h).
#include "binding/async/async_work.h"
#include "binding/functions/register.h"
#include "binding/napi_util.h"
#include "search/similarity.h"

namespace crossmodal::binding {
namespace {

// Resolves with the floats as an external ArrayBuffer.
Napi::Value FloatsToJs(Napi::Env env, std::unique_ptr<std::vector<float>> floats) {
  float* data = floats->data();
  const size_t bytes = floats->size() * sizeof(float);
  return AdoptAsArrayBuffer(env, std::move(floats), data, bytes);
}

// similarity(a, b, dim, { scale, softmax }) -> Promise<ArrayBuffer of rows(a) × rows(b) floats>.
Napi::Value Similarity(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    uint32_t dim = RequireUint32(info[2], "dim");
    if (dim == 0) throw Error(codes::kInvalidArgument, "dim must be positive");
    auto a = std::make_shared<std::vector<float>>(CopyFloat32Rows(info[0], dim, "a"));
    auto b = std::make_shared<std::vector<float>>(CopyFloat32Rows(info[1], dim, "b"));
    search::SimilarityOptions options;
    if (info.Length() > 3 && info[3].IsObject()) {
      Napi::Object o = info[3].As<Napi::Object>();
      if (o.Get("scale").IsNumber()) options.scale = o.Get("scale").As<Napi::Number>().DoubleValue();
      if (o.Get("softmax").IsBoolean()) options.softmax = o.Get("softmax").As<Napi::Boolean>().Value();
    }
    auto result = std::make_shared<std::unique_ptr<std::vector<float>>>();
    return QueueWork(
        env, WorkQueue::kBackground, "crossmodal.similarity",
        [a, b, dim, options, result] {
          *result = std::make_unique<std::vector<float>>(
              search::SimilarityMatrix(a->data(), a->size() / dim, b->data(), b->size() / dim, dim, options));
        },
        [result](Napi::Env env) { return FloatsToJs(env, std::move(*result)); });
  });
}

// groupMeans(rows, dim, group) -> Promise<ArrayBuffer>: normalised means of consecutive groups.
Napi::Value GroupMeans(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    uint32_t dim = RequireUint32(info[1], "dim");
    uint32_t group = RequireUint32(info[2], "group");
    if (dim == 0 || group == 0) throw Error(codes::kInvalidArgument, "dim and group must be positive");
    auto rows = std::make_shared<std::vector<float>>(CopyFloat32Rows(info[0], dim, "rows"));
    if ((rows->size() / dim) % group != 0)
      throw Error(codes::kInvalidArgument, "row count is not a multiple of the group size");
    auto result = std::make_shared<std::unique_ptr<std::vector<float>>>();
    return QueueWork(
        env, WorkQueue::kBackground, "crossmodal.groupMeans",
        [rows, dim, group, result] {
          *result = std::make_unique<std::vector<float>>(
              search::NormalizedGroupMeans(rows->data(), rows->size() / dim, dim, group));
        },
        [result](Napi::Env env) { return FloatsToJs(env, std::move(*result)); });
  });
}

}  // namespace

void RegisterSimilarityFunctions(Napi::Env env, Napi::Object exports) {
  exports.Set("similarity", Napi::Function::New(env, Similarity, "similarity"));
  exports.Set("groupMeans", Napi::Function::New(env, GroupMeans, "groupMeans"));
}

}  // namespace crossmodal::binding
