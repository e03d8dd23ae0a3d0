// Locating and reading a model bundle on disk.
//
// Two layouts are recognised:
//  - Hugging Face Optimum / Transformers.js exports: config.json, preprocessor_config.json,
//    tokenizer files, onnx/vision_model{,_fp16,_quantized,_int8,_uint8,_q4}.onnx and
//    onnx/text_model{...}.onnx, or a combined onnx/model{...}.onnx taking both inputs;
//  - open_clip exports as self-hosted photo libraries publish them: visual/model.onnx,
//    textual/model.onnx, an open_clip config.json (embed_dim, vision_cfg, text_cfg), optional
//    preprocess_cfg.json, tokenizer files.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "image/preprocess_config.h"

namespace crossmodal::model {

enum class BundleLayout { kHuggingFace, kOpenClip };
enum class Precision { kAuto, kFp32, kFp16, kInt8, kQ4 };

Precision ParsePrecision(const std::string& name);  // throws ERR_INVALID_ARGUMENT
const char* PrecisionName(Precision precision);

struct ModelBundle {
  std::string root;
  BundleLayout layout = BundleLayout::kHuggingFace;
  std::string model_type;  // config.json "model_type" ("clip", ...), "open_clip" for that layout
  // Separate towers, or (both empty) one combined model taking pixels and token ids.
  std::string vision_model_path;
  std::string text_model_path;
  std::string combined_model_path;
  Precision precision = Precision::kFp32;         // the variant actually chosen
  std::vector<std::string> available_precisions;  // variants present for the chosen layout
  size_t context_length = 77;
  double logit_scale = 100.0;  // exp(logit_scale_init_value) when the config has it
  image::PreprocessConfig preprocess;
  // The text tower is causal and pools at the end-of-text token, so padding after it cannot
  // change the result and batches may run at their longest text's length.
  bool text_padding_trimmable = false;
  // Identity of the model: XXH64 over the ONNX files' bytes, the preprocessing and the
  // tokenizer files. Indexes and collections refuse vectors from a different fingerprint.
  std::string fingerprint;
};

// Reads the bundle in `dir`; throws ERR_MODEL_LOAD naming the missing or malformed file, or
// listing the precisions present when the requested one is missing. `prefer_gpu_precision`
// makes `auto` prefer fp16 (GPU providers) over fp32.
ModelBundle ReadModelBundle(const std::string& dir, Precision precision, bool prefer_gpu_precision);

}  // namespace crossmodal::model
