// VectorIndex: the JS handle on a FAISS index (search::FlatIndex).
#pragma once

#include <napi.h>

#include <memory>

#include "search/flat_index.h"

namespace crossmodal {

class VectorIndex : public Napi::ObjectWrap<VectorIndex> {
 public:
  static void Init(Napi::Env env, Napi::Object exports);
  explicit VectorIndex(const Napi::CallbackInfo& info);  // new VectorIndex(dim, metric)

 private:
  Napi::Value Add(const Napi::CallbackInfo& info);     // add(vectors: Float32Array, ids?: BigInt64Array)
  Napi::Value Search(const Napi::CallbackInfo& info);  // search(queries: Float32Array, k)
  Napi::Value Size(const Napi::CallbackInfo& info);
  Napi::Value Dim(const Napi::CallbackInfo& info);
  Napi::Value Metric(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);

  std::shared_ptr<search::FlatIndex> Acquire();

  std::shared_ptr<search::FlatIndex> index_;
};

}  // namespace crossmodal
