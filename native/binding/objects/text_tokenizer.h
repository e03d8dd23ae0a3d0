// TextTokenizer: the JS handle on a text::Tokenizer loaded on its own (loadTokenizer(dir)), so
// callers can tokenize and decode without loading the ONNX towers.
#pragma once

#include <napi.h>

#include <memory>

#include "text/tokenizer.h"

namespace crossmodal::binding {

class TextTokenizer : public Napi::ObjectWrap<TextTokenizer> {
 public:
  static void Init(Napi::Env env, Napi::Object exports);
  static Napi::Object Wrap(Napi::Env env, std::shared_ptr<const text::Tokenizer> tokenizer, size_t threads);

  explicit TextTokenizer(const Napi::CallbackInfo& info);

 private:
  static Napi::Value Load(const Napi::CallbackInfo& info);  // load(dir, { threads, contextLength })
  Napi::Value Tokenize(const Napi::CallbackInfo& info);     // tokenize(texts, { threads, contextLength, int64 })
  Napi::Value Decode(const Napi::CallbackInfo& info);       // decode(ids, skipSpecialTokens)
  Napi::Value TokenToId(const Napi::CallbackInfo& info);
  Napi::Value IdToToken(const Napi::CallbackInfo& info);
  Napi::Value BpeWordBytes(const Napi::CallbackInfo& info);  // test hook: BPE of raw bytes (CLIP only)
  Napi::Value Info(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);

  std::shared_ptr<const text::Tokenizer> Acquire() const;

  std::shared_ptr<const text::Tokenizer> tokenizer_;
  size_t threads_ = 1;
};

}  // namespace crossmodal::binding
