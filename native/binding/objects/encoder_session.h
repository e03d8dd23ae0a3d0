// EncoderSession: the JS handle on a loaded model::DualEncoder (lib/ wraps it as the public Model).
//
// Embedding calls are handed to the encoder's native dynamic batchers; completions come back to
// the JS thread through one thread-safe function per session. While calls are in flight the
// session holds a strong reference to its own JS object and keeps the event loop alive.
#pragma once

#include <napi.h>

#include <memory>

#include "binding/async/completion_channel.h"
#include "model/dual_encoder.h"

namespace crossmodal::binding {

class EncoderSession : public Napi::ObjectWrap<EncoderSession> {
 public:
  static void Init(Napi::Env env, Napi::Object exports);
  // Wraps an already-loaded encoder into a new JS object (used by the load() worker).
  static Napi::Object Wrap(Napi::Env env, std::shared_ptr<model::DualEncoder> encoder);

  explicit EncoderSession(const Napi::CallbackInfo& info);
  ~EncoderSession() override;

  // JS-thread bookkeeping of in-flight calls (called by the completion channel).
  void CallStarted();
  void CallFinished();

 private:
  static Napi::Value Load(const Napi::CallbackInfo& info);
  Napi::Value EmbedTexts(const Napi::CallbackInfo& info);  // (texts, normalize, timeoutMs) -> [promise, handle]
  Napi::Value EmbedImages(
      const Napi::CallbackInfo& info);  // (images, normalize, timeoutMs, imageOptions?) -> [promise, handle]
  Napi::Value Cancel(const Napi::CallbackInfo& info);      // (handle, code)
  Napi::Value Preprocess(const Napi::CallbackInfo& info);  // (images, options) -> promise
  Napi::Value Tokenize(const Napi::CallbackInfo& info);
  Napi::Value Decode(const Napi::CallbackInfo& info);  // decode(ids, skipSpecialTokens) -> string
  Napi::Value TokenizerInfo(const Napi::CallbackInfo& info);
  Napi::Value Info(const Napi::CallbackInfo& info);
  Napi::Value Stats(const Napi::CallbackInfo& info);  // () -> per-tower counters and histograms
  Napi::Value Dispose(const Napi::CallbackInfo& info);

  Napi::Value Submit(Napi::Env env, std::shared_ptr<model::EmbedRequest> request);
  std::shared_ptr<model::DualEncoder> Acquire();
  // Shuts the encoder down and destroys it on a helper thread: joining its batcher threads
  // waits for a running batch, which must not block the event loop.
  void ReleaseEncoder();

  std::shared_ptr<model::DualEncoder> encoder_;
  std::shared_ptr<CompletionChannel> channel_;
  Napi::ObjectReference self_;  // strong while calls are in flight
  size_t in_flight_ = 0;
};

}  // namespace crossmodal::binding
