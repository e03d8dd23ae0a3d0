// VectorIndex: the JS handle on a search::AnnIndex (flat, HNSW, IVF-Flat, IVF-PQ or a FAISS
// factory string). Every method that takes the index lock runs off the event loop (async/
// async_work.h: building, training, saving and loading on the background queue, lookups and
// searches on the latency queue), so the loop never waits behind a long add(); size() and dim()
// read fields that need no lock.
#pragma once

#include <napi.h>

#include <memory>

#include "search/ann_index.h"

namespace crossmodal::binding {

class VectorIndex : public Napi::ObjectWrap<VectorIndex> {
 public:
  static void Init(Napi::Env env, Napi::Object exports);
  // new VectorIndex(specJson: string) or, from load(), new VectorIndex(External<shared_ptr<AnnIndex>>)
  explicit VectorIndex(const Napi::CallbackInfo& info);

 private:
  // Static: load(path, { mmap, fingerprint, metric, type, dim, device, deviceId }) → Promise<VectorIndex>.
  static Napi::Value Load(const Napi::CallbackInfo& info);
  // Static: recommend(n, dim) → the recommended IndexSpec as a JSON string (synchronous).
  static Napi::Value Recommend(const Napi::CallbackInfo& info);
  Napi::Value Train(const Napi::CallbackInfo& info);   // train(vectors: Float32Array) → Promise<void>
  Napi::Value Add(const Napi::CallbackInfo& info);     // add(vectors, ids?: BigInt64Array, upsert?) → Promise<size>
  Napi::Value Remove(const Napi::CallbackInfo& info);  // remove(ids: BigInt64Array) → Promise<removed count>
  Napi::Value Has(const Napi::CallbackInfo& info);     // has(ids) → Promise<ArrayBuffer of one byte per id>
  Napi::Value Reconstruct(const Napi::CallbackInfo& info);  // reconstruct(id: bigint) → Promise<ArrayBuffer | null>
  // search(queries, k, efSearch?, nprobe?, allow?: BigInt64Array, deny?: BigInt64Array)
  //   → Promise<ArrayBuffer>: queries × k int64 ids, then queries × k float scores
  //   (search::SearchResult). Positional, not an options object: see ParseSearchArguments.
  Napi::Value Search(const Napi::CallbackInfo& info);
  // rangeSearch(queries, threshold, efSearch?, nprobe?, allow?, deny?)
  //   → Promise<{ queries, offsets, ids, scores }> (ArrayBuffers; search::RangeResult).
  Napi::Value RangeSearch(const Napi::CallbackInfo& info);
  Napi::Value Save(const Napi::CallbackInfo& info);     // save(path, fingerprint?) → Promise<void>
  Napi::Value Rebuild(const Napi::CallbackInfo& info);  // rebuild() → Promise<size>: drops tombstones
  // info() → Promise<{ spec: JSON string, size, slots, tombstones, trained, mmapped,
  //   canReconstruct, fingerprint, description, gpu: { requested, device, active, reason, ... } }>
  Napi::Value Info(const Napi::CallbackInfo& info);
  Napi::Value Size(const Napi::CallbackInfo& info);     // size() → number (synchronous, lock-free)
  Napi::Value Dim(const Napi::CallbackInfo& info);      // dim() → number (synchronous)
  Napi::Value Dispose(const Napi::CallbackInfo& info);  // dispose(): later calls throw ERR_DISPOSED

  std::shared_ptr<search::AnnIndex> Acquire();

  std::shared_ptr<search::AnnIndex> index_;
  size_t dim_ = 0;
};

}  // namespace crossmodal::binding
