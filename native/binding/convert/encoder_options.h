// The load() options of an EncoderSession, JS → model::EncoderOptions: the one place that lists
// every option a model accepts, its type and its range (as onnxruntime-node keeps its session
// options in session_options_helper). JS thread only.
#pragma once

#include <napi.h>

#include <string>

#include "model/dual_encoder.h"

namespace crossmodal::binding {

// Reads `options` (the object passed to EncoderSession.load). `ort_library` receives
// options.ortLibrary (empty when absent). Throws ERR_INVALID_ARGUMENT naming the bad option.
model::EncoderOptions ParseEncoderOptions(const Napi::Object& options, std::string* ort_library);

}  // namespace crossmodal::binding
