// One encoder tower (image or text) over an ONNX Runtime session. Input and output names,
// element types and shapes are discovered from the model rather than assumed. With a combined
// model (one graph taking pixels and token ids) both towers share the session and each feeds
// the other tower's input a minimal placeholder.
#pragma once

#include <onnxruntime_cxx_api.h>

#include <memory>
#include <string>
#include <vector>

#include "runtime/execution_providers.h"

namespace crossmodal::model {

struct TensorSlot {
  std::string name;
  ONNXTensorElementDataType type = ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED;
  std::vector<int64_t> shape;  // -1 for dynamic dimensions
};

struct TowerSpec {
  const char* role;                     // "vision" / "text", for messages
  std::vector<std::string> main_input;  // names to prefer, in order
  std::vector<std::string> output;      // names to prefer, in order
  bool main_input_is_pixels;            // decides which placeholder other inputs get
};

// A session plus what it reports about itself.
struct LoadedSession {
  std::shared_ptr<Ort::Session> session;
  runtime::ProviderReport provider;
  std::string path;
};

LoadedSession LoadSession(const std::string& path, const runtime::SessionSettings& settings);

class OnnxTower {
 public:
  // `pixels_hw`: the image size, for a pixel placeholder; `placeholder_ids`: token ids for a
  // token placeholder (start and end token).
  OnnxTower(LoadedSession session, const TowerSpec& spec, int pixels_h, int pixels_w,
            std::vector<int64_t> placeholder_ids);

  const TensorSlot& main_input() const { return main_input_; }
  // The attention mask the model declares for the token input (empty name otherwise).
  const TensorSlot& attention_mask() const { return attention_mask_; }
  const TensorSlot& output() const { return output_; }
  int64_t embedding_dim() const { return embedding_dim_; }
  const runtime::ProviderReport& provider() const { return session_.provider; }
  const std::string& path() const { return session_.path; }
  bool shares_session() const { return !placeholders_.empty(); }

  // Runs a pixel batch (rows × 3 × H × W float32; converted when the model takes float16).
  void RunPixels(const float* pixels, int64_t rows, int64_t height, int64_t width, float* out) const;
  // Runs a token batch (rows × sequence, int64 ids) with an optional attention mask.
  void RunTokens(const int64_t* ids, const int64_t* mask, int64_t rows, int64_t sequence, float* out) const;

 private:
  struct Placeholder {
    std::string name;
    ONNXTensorElementDataType type;
    std::vector<int64_t> shape;
    std::vector<uint8_t> bytes;  // the constant tensor's data
  };
  void Run(Ort::Value main, const int64_t* mask, int64_t rows, int64_t sequence, float* out) const;

  LoadedSession session_;
  std::string role_;
  TensorSlot main_input_;
  TensorSlot attention_mask_;
  TensorSlot output_;
  int64_t embedding_dim_ = 0;
  std::vector<Placeholder> placeholders_;
};

const char* ElementTypeName(ONNXTensorElementDataType type);

}  // namespace crossmodal::model
