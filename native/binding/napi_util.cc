#include "binding/napi_util.h"

#include <cmath>
#include <cstring>

namespace crossmodal::binding {

Napi::Error MakeError(Napi::Env env, const std::string& code, const std::string& message) {
  Napi::Error error = Napi::Error::New(env, message);
  error.Value().Set("code", Napi::String::New(env, code));
  return error;
}

void SettleDeferred(Napi::Env env, napi_deferred deferred, const CapturedError& error,
                    const std::function<Napi::Value()>& result) {
  // Settling fails only while the environment shuts down (a Worker being terminated); nobody can
  // observe the promise then, and throwing would terminate the process, so failures are ignored.
  auto reject = [&](napi_value value) { napi_reject_deferred(env, deferred, value); };
  try {
    if (error) {
      reject(MakeError(env, error.code, error.message).Value());
      return;
    }
    napi_value value = result();
    napi_resolve_deferred(env, deferred, value);
  } catch (const Napi::Error& e) {
    reject(e.Value());
  } catch (const Error& e) {
    try {
      reject(MakeError(env, e).Value());
    } catch (...) {
    }
  } catch (const std::exception& e) {
    try {
      reject(MakeError(env, CodeOf(e), e.what()).Value());
    } catch (...) {
    }
  } catch (...) {
    // Cannot even create an Error: the environment is going away.
  }
}

namespace {

// Napi::String::Utf8Value() asks V8 for the UTF-8 length (a full scan) and then copies. Texts
// are usually short, so copy into a stack buffer first and only fall back to the two-call form
// when the string may not have fit (V8 writes whole characters only, up to 4 bytes each).
std::string Utf8FromString(napi_env env, napi_value value) {
  char buffer[1024];
  size_t written = 0;
  napi_status status = napi_get_value_string_utf8(env, value, buffer, sizeof buffer, &written);
  if (status != napi_ok) throw Error(codes::kInvalidArgument, "expected a string");
  if (written + 4 < sizeof buffer - 1) return std::string(buffer, written);
  size_t length = 0;
  if (napi_get_value_string_utf8(env, value, nullptr, 0, &length) != napi_ok) {
    throw Error(codes::kInvalidArgument, "expected a string");
  }
  std::string out(length, '\0');
  if (napi_get_value_string_utf8(env, value, out.data(), length + 1, &written) != napi_ok) {
    throw Error(codes::kInvalidArgument, "expected a string");
  }
  out.resize(written);
  return out;
}

}  // namespace

std::string RequireString(const Napi::Value& value, const char* what) {
  if (!value.IsString()) {
    throw Error(codes::kInvalidArgument, std::string(what) + " must be a string");
  }
  return value.As<Napi::String>().Utf8Value();
}

std::vector<std::string> RequireStringArray(const Napi::Value& value, const char* what) {
  if (!value.IsArray()) throw Error(codes::kInvalidArgument, std::string(what) + " must be an array of strings");
  Napi::Array array = value.As<Napi::Array>();
  std::vector<std::string> out;
  out.reserve(array.Length());
  for (uint32_t i = 0; i < array.Length(); ++i) {
    Napi::Value item = array.Get(i);
    if (!item.IsString()) {
      throw Error(codes::kInvalidArgument, std::string(what) + "[" + std::to_string(i) + "] must be a string");
    }
    out.push_back(Utf8FromString(value.Env(), item));
  }
  return out;
}

uint32_t RequireUint32(const Napi::Value& value, const char* what) {
  if (!value.IsNumber()) throw Error(codes::kInvalidArgument, std::string(what) + " must be a number");
  double d = value.As<Napi::Number>().DoubleValue();
  if (!(d >= 0) || d > 4294967295.0 || std::floor(d) != d) {
    throw Error(codes::kInvalidArgument, std::string(what) + " must be a non-negative integer");
  }
  return static_cast<uint32_t>(d);
}

std::vector<float> CopyFloat32Rows(const Napi::Value& value, size_t dim, const char* what) {
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw Error(codes::kInvalidArgument, std::string(what) + " must be a Float32Array");
  }
  Napi::Float32Array array = value.As<Napi::Float32Array>();
  if (array.ElementLength() % dim != 0) {
    throw Error(codes::kDimensionMismatch, std::string(what) + " has " + std::to_string(array.ElementLength()) +
                                               " values, not a multiple of the dimension " + std::to_string(dim));
  }
  return std::vector<float>(array.Data(), array.Data() + array.ElementLength());
}

}  // namespace crossmodal::binding
