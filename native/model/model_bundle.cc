#include "model/model_bundle.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/error.h"

namespace fs = std::filesystem;

namespace crossmodal::model {
namespace {

std::string RequireFile(const fs::path& root, const std::string& relative) {
  fs::path path = root / relative;
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    throw Error(codes::kModelLoad, "model bundle " + root.string() + " has no " + relative);
  }
  return path.string();
}

// A token in tokenizer_config.json is either a string or an AddedToken object {"content": ...}.
std::string TokenString(const nlohmann::json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_object() && value.contains("content") && value["content"].is_string()) {
    return value["content"].get<std::string>();
  }
  return {};
}

}  // namespace

nlohmann::json ReadJsonFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(codes::kModelLoad, "cannot read " + path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  try {
    return nlohmann::json::parse(buffer.str());
  } catch (const nlohmann::json::exception& e) {
    throw Error(codes::kModelLoad, path + " is not valid JSON: " + e.what());
  }
}

ModelBundle ReadModelBundle(const std::string& dir) {
  std::error_code ec;
  fs::path root = fs::absolute(dir, ec);
  if (ec || !fs::is_directory(root, ec)) {
    throw Error(codes::kModelLoad, "model bundle directory not found: " + dir);
  }
  ModelBundle bundle;
  bundle.root = root.string();

  nlohmann::json config = ReadJsonFile(RequireFile(root, "config.json"));
  bundle.model_type = config.value("model_type", "");
  try {
    if (config.contains("logit_scale_init_value") && config["logit_scale_init_value"].is_number()) {
      bundle.logit_scale = std::exp(config["logit_scale_init_value"].get<double>());
    }
    if (config.contains("text_config") && config["text_config"].is_object()) {
      const auto& text = config["text_config"];
      if (text.contains("max_position_embeddings") && text["max_position_embeddings"].is_number_unsigned()) {
        bundle.context_length = text["max_position_embeddings"].get<size_t>();
      }
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error(codes::kModelLoad, bundle.root + "/config.json: " + e.what());
  }

  bundle.preprocess = image::ParsePreprocessConfig(ReadJsonFile(RequireFile(root, "preprocessor_config.json")));
  bundle.vision_model_path = RequireFile(root, "onnx/vision_model.onnx");
  bundle.text_model_path = RequireFile(root, "onnx/text_model.onnx");

  if (fs::is_regular_file(root / "tokenizer_config.json", ec)) {
    nlohmann::json tokenizer_config = ReadJsonFile((root / "tokenizer_config.json").string());
    if (tokenizer_config.contains("pad_token")) bundle.pad_token = TokenString(tokenizer_config["pad_token"]);
    if (tokenizer_config.contains("model_max_length") && tokenizer_config["model_max_length"].is_number_unsigned()) {
      size_t max_length = tokenizer_config["model_max_length"].get<size_t>();
      // Some exports write a huge sentinel (1e30) meaning "no limit": keep the model's own length.
      if (max_length > 0 && max_length < bundle.context_length) bundle.context_length = max_length;
    }
  }
  if (bundle.context_length < 2) {
    throw Error(codes::kModelLoad, bundle.root + ": context length must leave room for start and end tokens");
  }
  bundle.text_padding_trimmable = bundle.model_type == "clip";
  return bundle;
}

}  // namespace crossmodal::model
