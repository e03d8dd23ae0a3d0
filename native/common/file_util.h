// Reading the small files a model bundle consists of (configs, vocabularies, tokenizer models).
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace crossmodal {

// The whole file; throws ERR_MODEL_LOAD naming the path when it cannot be read.
std::string ReadFileToString(const std::string& path);

// The file parsed as JSON; throws ERR_MODEL_LOAD naming the path when it cannot be read or parsed.
nlohmann::json ReadJsonFile(const std::string& path);

}  // namespace crossmodal
