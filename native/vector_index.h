// VectorIndex: the JS handle on a search::AnnIndex (flat, HNSW, IVF-Flat, IVF-PQ or a FAISS
// factory string). Every method that takes the index lock runs on a worker thread, so the event
// loop never waits behind a long add(); size() reads an atomic counter.
#pragma once

#include <napi.h>

#include <memory>

#include "search/ann_index.h"

namespace crossmodal {

class VectorIndex : public Napi::ObjectWrap<VectorIndex> {
 public:
  static void Init(Napi::Env env, Napi::Object exports);
  // new VectorIndex(specJson: string) or, internally, new VectorIndex(External<AnnIndex>)
  explicit VectorIndex(const Napi::CallbackInfo& info);

 private:
  static Napi::Value Load(const Napi::CallbackInfo& info);       // load(path, optionsJson) → Promise<VectorIndex>
  static Napi::Value Recommend(const Napi::CallbackInfo& info);  // recommend(n, dim) → JSON string
  Napi::Value Train(const Napi::CallbackInfo& info);             // train(vectors)
  Napi::Value Add(const Napi::CallbackInfo& info);               // add(vectors, ids?: BigInt64Array, upsert)
  Napi::Value Remove(const Napi::CallbackInfo& info);            // remove(ids: BigInt64Array) → count
  Napi::Value Has(const Napi::CallbackInfo& info);               // has(ids) → Uint8Array buffer
  Napi::Value Reconstruct(const Napi::CallbackInfo& info);       // reconstruct(id: bigint) → buffer | null
  Napi::Value Search(const Napi::CallbackInfo& info);            // search(queries, k, options)
  Napi::Value RangeSearch(const Napi::CallbackInfo& info);       // rangeSearch(queries, threshold, options)
  Napi::Value Save(const Napi::CallbackInfo& info);              // save(path, fingerprint)
  Napi::Value Rebuild(const Napi::CallbackInfo& info);
  Napi::Value Info(const Napi::CallbackInfo& info);              // info() → Promise<JSON string>
  Napi::Value Size(const Napi::CallbackInfo& info);
  Napi::Value Dim(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);

  std::shared_ptr<search::AnnIndex> Acquire();

  std::shared_ptr<search::AnnIndex> index_;
  size_t dim_ = 0;
};

}  // namespace crossmodal
