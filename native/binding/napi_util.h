// Helpers shared by every N-API file: JS errors with codes, the exception guard of synchronous
// entry points, argument checks, and zero-copy hand-off of native buffers. JS thread only.
#pragma once

#include <napi.h>

#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/error.h"

namespace crossmodal::binding {

// A JS Error with a stable `code` property.
Napi::Error MakeError(Napi::Env env, const std::string& code, const std::string& message);
inline Napi::Error MakeError(Napi::Env env, const Error& error) { return MakeError(env, error.code(), error.what()); }

// Hands ownership of `owner`'s storage to JavaScript as an ArrayBuffer without copying. The
// finalizer deletes `owner` when the buffer is garbage-collected. Runtimes that forbid external
// buffers (e.g. Electron with the V8 sandbox) get a copy instead, and `owner` is freed at once.
template <typename Owner>
Napi::ArrayBuffer AdoptAsArrayBuffer(Napi::Env env, std::unique_ptr<Owner> owner, void* data, size_t byte_length) {
  if (byte_length == 0) return Napi::ArrayBuffer::New(env, 0);
  napi_value result;
  Owner* raw = owner.get();
  napi_status status = napi_create_external_arraybuffer(
      env, data, byte_length, [](napi_env, void*, void* hint) { delete static_cast<Owner*>(hint); }, raw, &result);
  if (status == napi_ok) {
    owner.release();  // now owned by the ArrayBuffer's finalizer
    return Napi::ArrayBuffer(env, result);
  }
  // Copy fallback: runtimes with napi_no_external_buffers_allowed.
  Napi::ArrayBuffer copy = Napi::ArrayBuffer::New(env, byte_length);
  std::memcpy(copy.Data(), data, byte_length);
  return copy;
}

// Settles `deferred` on the JS thread: rejects with `error` when set, else resolves with
// `result()`, rejecting instead if building the result throws. Never throws.
void SettleDeferred(Napi::Env env, napi_deferred deferred, const CapturedError& error,
                    const std::function<Napi::Value()>& result);

// Runs `body` and converts any C++ exception into a thrown JS error with a code. Every
// synchronous entry point goes through this so no exception escapes into Node.
template <typename Fn>
Napi::Value Guard(Napi::Env env, Fn&& body) {
  try {
    return body();
  } catch (const Napi::Error&) {
    throw;
  } catch (const Error& e) {
    throw MakeError(env, e);
  } catch (const std::bad_alloc&) {
    throw MakeError(env, codes::kResource, kOutOfMemoryMessage);
  } catch (const std::exception& e) {
    throw MakeError(env, CodeOf(e), e.what());
  }
}

// Argument helpers that throw ERR_INVALID_ARGUMENT with the argument's name.
std::string RequireString(const Napi::Value& value, const char* what);
std::vector<std::string> RequireStringArray(const Napi::Value& value, const char* what);
uint32_t RequireUint32(const Napi::Value& value, const char* what);

// Copies a Float32Array holding whole rows of `dim` floats with one memcpy. Inputs are copied,
// not referenced, because a caller may transfer or detach an ArrayBuffer while a worker runs,
// which would free the memory under it. Throws ERR_DIMENSION_MISMATCH for a partial row.
std::vector<float> CopyFloat32Rows(const Napi::Value& value, size_t dim, const char* what);

}  // namespace crossmodal::binding
