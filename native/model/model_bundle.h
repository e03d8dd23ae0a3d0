// Locating and reading a model bundle on disk (Hugging Face / Transformers.js layout).
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "image/preprocess_config.h"

namespace crossmodal::model {

struct ModelBundle {
  std::string root;
  std::string model_type;         // config.json "model_type", e.g. "clip"
  std::string vision_model_path;  // onnx/vision_model.onnx
  std::string text_model_path;    // onnx/text_model.onnx
  std::string pad_token;          // tokenizer_config.json "pad_token" (string form); the tokenizer files are
                                  // read by text::LoadTokenizer
  size_t context_length = 77;     // tokens per text incl. start/end (the encoder uses its tokenizer's, see text::LoadTokenizer)
  double logit_scale = 100.0;     // exp(logit_scale_init_value) when the config has it
  image::PreprocessConfig preprocess;
  // The text tower is causal and pools at the end-of-text token, so padding after it cannot
  // change the result and batches may run at their longest text's length.
  bool text_padding_trimmable = false;
};

// Reads the bundle in `dir`; throws ERR_MODEL_LOAD naming the missing or malformed file.
ModelBundle ReadModelBundle(const std::string& dir);

// Parses a JSON file; throws ERR_MODEL_LOAD with the path on failure.
nlohmann::json ReadJsonFile(const std::string& path);

}  // namespace crossmodal::model
