// probeImage(bytes): format, size and EXIF orientation from an image's headers (image::ProbeImage).
// Synchronous: only headers are parsed, no pixels decoded, so it is cheap enough for the JS thread
// and reads the caller's bytes in place (nothing can detach them during the call).
#include "binding/functions/register.h"
#include "binding/napi_util.h"
#include "image/decode.h"

namespace crossmodal::binding {
namespace {

// probeImage(bytes: Uint8Array) -> { format, width, height, orientation } | null.
Napi::Value ProbeImage(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    const Napi::Value value = info[0];
    if (!value.IsTypedArray() || (value.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array &&
                                  value.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_clamped_array)) {
      throw Error(codes::kInvalidArgument, "bytes must be a Uint8Array");
    }
    Napi::TypedArray array = value.As<Napi::TypedArray>();
    const size_t size = array.ByteLength();
    const void* base = array.ArrayBuffer().Data();
    if (size == 0 || base == nullptr) return env.Null();
    image::ImageHeader header;
    if (!image::ProbeImage(static_cast<const uint8_t*>(base) + array.ByteOffset(), size, &header)) return env.Null();
    Napi::Object out = Napi::Object::New(env);
    out.Set("format", image::ImageFormatName(header.format));
    out.Set("width", Napi::Number::New(env, header.width));
    out.Set("height", Napi::Number::New(env, header.height));
    out.Set("orientation", Napi::Number::New(env, header.orientation));
    return out;
  });
}

}  // namespace

void RegisterImageProbe(Napi::Env env, Napi::Object exports) {
  exports.Set("probeImage", Napi::Function::New(env, ProbeImage, "probeImage"));
}

}  // namespace crossmodal::binding
