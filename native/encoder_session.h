// EncoderSession: the JS handle on a loaded model bundle (model::ClipEncoder).
#pragma once

#include <napi.h>

#include <memory>
#include <mutex>

#include "model/clip_encoder.h"

namespace crossmodal {

class EncoderSession : public Napi::ObjectWrap<EncoderSession> {
 public:
  static void Init(Napi::Env env, Napi::Object exports);
  // Wraps an already-loaded encoder into a new JS object (used by the load() worker).
  static Napi::Object Wrap(Napi::Env env, std::shared_ptr<model::ClipEncoder> encoder);

  explicit EncoderSession(const Napi::CallbackInfo& info);

 private:
  static Napi::Value Load(const Napi::CallbackInfo& info);
  Napi::Value EmbedTexts(const Napi::CallbackInfo& info);
  Napi::Value EmbedImages(const Napi::CallbackInfo& info);
  Napi::Value Tokenize(const Napi::CallbackInfo& info);
  Napi::Value Decode(const Napi::CallbackInfo& info);         // decode(ids, skipSpecialTokens) -> string
  Napi::Value TokenizerInfo(const Napi::CallbackInfo& info);
  Napi::Value Info(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);

  // The encoder, or null once disposed. Workers hold their own shared_ptr, so dispose() never
  // frees a model that a running call still uses: it is released when the last call finishes.
  std::shared_ptr<model::ClipEncoder> Acquire(Napi::Env env);

  std::shared_ptr<model::ClipEncoder> encoder_;
};

}  // namespace crossmodal
