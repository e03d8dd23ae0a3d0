// JS image inputs -> image::ImageSource, and the image loading options shared by load() and the
// preprocess calls. JS thread only.
#pragma once

#include <napi.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "image/pipeline.h"
#include "model/embed_request.h"

namespace crossmodal::binding {

// Parses an array of inputs: a path string, a Uint8Array/Uint8ClampedArray of encoded bytes,
// { data, width, height, channels } pixels, or { tensor: Float32Array, width?, height? }. Bytes
// are copied into `owned` (one buffer per input; a caller may detach its ArrayBuffer while
// native threads work). Throws ERR_INVALID_ARGUMENT naming the bad element.
void ParseImageInputs(const Napi::Value& value, std::vector<image::ImageSource>* sources,
                      std::vector<std::vector<uint8_t>>* owned);

// Reads maxPixels, maxFileBytes, exifOrientation and dctScaling from `options` when present.
void ParseImageLoadOptions(const Napi::Object& options, image::ImageLoadOptions* out);

// { buffer: ArrayBuffer (external), count, height, width, failures: [{ index, code, message }] }.
Napi::Object PreprocessedBatchToJs(Napi::Env env, std::unique_ptr<image::PreprocessedBatch> result);

}  // namespace crossmodal::binding
