#include "common/file_util.h"

#include <fstream>
#include <sstream>

#include "common/error.h"

namespace crossmodal {

std::string ReadFileToString(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(codes::kModelLoad, "cannot read " + path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

nlohmann::json ReadJsonFile(const std::string& path) {
  std::string text = ReadFileToString(path);
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw Error(codes::kModelLoad, path + " is not valid JSON: " + e.what());
  }
}

}  // namespace crossmodal
