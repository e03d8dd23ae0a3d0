// One encoder tower (image or text) as an ONNX Runtime session whose input and output names,
// element types and shapes are discovered from the model rather than assumed.
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

class OnnxTower {
 public:
  // `role` ("vision" / "text") only feeds error messages. `main_input` and `output` list the
  // names to prefer, in order; otherwise the first input and the first 2-D output are used.
  OnnxTower(const std::string& path, const char* role, const runtime::SessionSettings& settings,
            const std::vector<std::string>& main_input, const std::vector<std::string>& output);

  const TensorSlot& main_input() const { return main_input_; }
  // The text tower's attention mask, when the model declares one (empty name otherwise).
  const TensorSlot& attention_mask() const { return attention_mask_; }
  const TensorSlot& output() const { return output_; }
  int64_t embedding_dim() const { return embedding_dim_; }
  const runtime::ProviderReport& provider() const { return provider_; }
  const std::string& path() const { return path_; }

  // Runs one batch. `inputs` are in the order of the model's declared inputs that we feed
  // (main input, then attention mask if present). Embeddings are written straight into `out`
  // (rows × embedding_dim floats) through a pre-allocated output tensor. Thread-safe.
  void Run(std::vector<Ort::Value>& inputs, float* out, int64_t rows) const;

 private:
  std::string path_;
  std::string role_;
  std::unique_ptr<Ort::Session> session_;
  runtime::ProviderReport provider_;
  TensorSlot main_input_;
  TensorSlot attention_mask_;
  TensorSlot output_;
  int64_t embedding_dim_ = 0;
  std::vector<const char*> input_names_;
  const char* output_name_ = nullptr;
};

const char* ElementTypeName(ONNXTensorElementDataType type);

}  // namespace crossmodal::model
