#include "binding/convert/image_inputs.h"

#include <cstring>
#include <string>

#include "binding/napi_util.h"

namespace crossmodal::binding {

namespace {

void CopyBytes(const Napi::TypedArray& array, std::vector<uint8_t>* out) {
  const uint8_t* data = static_cast<const uint8_t*>(array.ArrayBuffer().Data()) + array.ByteOffset();
  out->assign(data, data + array.ByteLength());
}

bool IsByteArray(const Napi::Value& v) {
  if (!v.IsTypedArray()) return false;
  const napi_typedarray_type t = v.As<Napi::TypedArray>().TypedArrayType();
  return t == napi_uint8_array || t == napi_uint8_clamped_array;
}

}  // namespace

void ParseImageInputs(const Napi::Value& value, std::vector<image::ImageSource>* sources,
                      std::vector<std::vector<uint8_t>>* owned) {
  if (!value.IsArray()) throw Error(codes::kInvalidArgument, "images must be an array");
  Napi::Array array = value.As<Napi::Array>();
  sources->assign(array.Length(), image::ImageSource{});
  owned->assign(array.Length(), std::vector<uint8_t>{});
  for (uint32_t i = 0; i < array.Length(); ++i) {
    Napi::Value item = array.Get(i);
    image::ImageSource& source = (*sources)[i];
    const std::string where = "images[" + std::to_string(i) + "]";
    if (item.IsString()) {
      source.kind = image::ImageSource::Kind::kPath;
      source.path = item.As<Napi::String>().Utf8Value();
      continue;
    }
    if (IsByteArray(item)) {
      source.kind = image::ImageSource::Kind::kEncoded;
      CopyBytes(item.As<Napi::TypedArray>(), &(*owned)[i]);
    } else if (item.IsObject() && !item.IsTypedArray() && item.As<Napi::Object>().Has("tensor")) {
      Napi::Object obj = item.As<Napi::Object>();
      Napi::Value tensor = obj.Get("tensor");
      if (!tensor.IsTypedArray() || tensor.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
        throw Error(codes::kInvalidArgument, where + ".tensor must be a Float32Array");
      }
      source.kind = image::ImageSource::Kind::kTensor;
      if (obj.Has("width") && !obj.Get("width").IsUndefined()) {
        source.width = static_cast<int>(RequireUint32(obj.Get("width"), (where + ".width").c_str()));
      }
      if (obj.Has("height") && !obj.Get("height").IsUndefined()) {
        source.height = static_cast<int>(RequireUint32(obj.Get("height"), (where + ".height").c_str()));
      }
      CopyBytes(tensor.As<Napi::TypedArray>(), &(*owned)[i]);
    } else if (item.IsObject() && !item.IsTypedArray() && item.As<Napi::Object>().Has("data")) {
      Napi::Object pixels = item.As<Napi::Object>();
      source.kind = image::ImageSource::Kind::kPixels;
      source.width = static_cast<int>(RequireUint32(pixels.Get("width"), (where + ".width").c_str()));
      source.height = static_cast<int>(RequireUint32(pixels.Get("height"), (where + ".height").c_str()));
      source.channels = static_cast<int>(RequireUint32(pixels.Get("channels"), (where + ".channels").c_str()));
      Napi::Value data = pixels.Get("data");
      if (!IsByteArray(data))
        throw Error(codes::kInvalidArgument, where + ".data must be a Uint8Array or Uint8ClampedArray");
      CopyBytes(data.As<Napi::TypedArray>(), &(*owned)[i]);
    } else {
      throw Error(codes::kInvalidArgument,
                  where + " must be a file path, a Buffer/Uint8Array, { data, width, height, channels } or { tensor }");
    }
    source.data = (*owned)[i].data();
    source.size = (*owned)[i].size();
  }
}

void ParseImageLoadOptions(const Napi::Object& options, image::ImageLoadOptions* out) {
  auto has = [&](const char* key) { return options.Has(key) && !options.Get(key).IsUndefined(); };
  auto positive = [&](const char* key) -> uint64_t {
    Napi::Value v = options.Get(key);
    const double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1;
    if (!(d >= 1 && d <= 9007199254740991.0)) {
      throw Error(codes::kInvalidArgument, std::string("options.") + key + " must be a positive number");
    }
    return static_cast<uint64_t>(d);
  };
  auto boolean = [&](const char* key) -> bool {
    Napi::Value v = options.Get(key);
    if (!v.IsBoolean()) throw Error(codes::kInvalidArgument, std::string("options.") + key + " must be a boolean");
    return v.As<Napi::Boolean>().Value();
  };
  if (has("maxPixels")) out->limits.max_pixels = positive("maxPixels");
  if (has("maxFileBytes")) out->max_file_bytes = positive("maxFileBytes");
  if (has("exifOrientation")) out->exif_orientation = boolean("exifOrientation");
  if (has("dctScaling")) out->dct_scaling = boolean("dctScaling");
}

Napi::Object PreprocessedBatchToJs(Napi::Env env, std::unique_ptr<image::PreprocessedBatch> result) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("count", Napi::Number::New(env, static_cast<double>(result->count)));
  out.Set("height", Napi::Number::New(env, result->height));
  out.Set("width", Napi::Number::New(env, result->width));
  Napi::Array failures = Napi::Array::New(env, result->failures.size());
  for (size_t i = 0; i < result->failures.size(); ++i) {
    const image::ImageFailure& f = result->failures[i];
    Napi::Object o = Napi::Object::New(env);
    o.Set("index", Napi::Number::New(env, static_cast<double>(f.index)));
    o.Set("code", f.code);
    o.Set("message", f.message);
    failures.Set(static_cast<uint32_t>(i), o);
  }
  out.Set("failures", failures);
  float* data = result->tensor.data();
  const size_t bytes = result->tensor.size() * sizeof(float);
  out.Set("buffer", AdoptAsArrayBuffer(env, std::move(result), data, bytes));
  return out;
}

}  // namespace crossmodal::binding
