#include "binding/async/completion_channel.h"

namespace crossmodal::binding {

CompletionChannel::CompletionChannel(Napi::Env env, const char* name) : state_(std::make_shared<State>()) {
  tsfn_ = Tsfn::New(
      env, name, 0, 1, nullptr,
      [](Napi::Env, std::shared_ptr<State>* state, std::nullptr_t*) {
        {
          std::lock_guard<std::mutex> lock((*state)->mutex);
          (*state)->closed = true;
        }
        delete state;
      },
      new std::shared_ptr<State>(state_));
  tsfn_.Unref(env);
}

CompletionChannel::~CompletionChannel() {
  std::lock_guard<std::mutex> lock(state_->mutex);
  if (!state_->closed) tsfn_.Release();
}

void CompletionChannel::Post(std::unique_ptr<Completion> completion) {
  std::lock_guard<std::mutex> lock(state_->mutex);
  if (state_->closed) return;
  if (tsfn_.NonBlockingCall(completion.get()) == napi_ok) completion.release();  // CallJs owns it now
}

void CompletionChannel::Ref(Napi::Env env) { tsfn_.Ref(env); }
void CompletionChannel::Unref(Napi::Env env) { tsfn_.Unref(env); }

void CompletionChannel::CallJs(Napi::Env env, Napi::Function, std::nullptr_t*, Completion* completion) {
  std::unique_ptr<Completion> owned(completion);
  if (env == nullptr) return;  // the environment is going away
  Napi::HandleScope scope(env);
  try {
    owned->Deliver(env);
  } catch (...) {
    // Deliver settles its promise itself, errors included; nothing may escape into Node here.
  }
}

}  // namespace crossmodal::binding
