#include "model/onnx_tower.h"

#include <algorithm>

#include "common/error.h"

namespace crossmodal::model {
namespace {

TensorSlot DescribeSlot(const std::string& name, const Ort::TypeInfo& info) {
  TensorSlot slot;
  slot.name = name;
  if (info.GetONNXType() == ONNX_TYPE_TENSOR) {
    auto tensor = info.GetTensorTypeAndShapeInfo();
    slot.type = tensor.GetElementType();
    slot.shape = tensor.GetShape();
  }
  return slot;
}

std::string ShapeString(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += shape[i] < 0 ? "?" : std::to_string(shape[i]);
  }
  return s + "]";
}

}  // namespace

const char* ElementTypeName(ONNXTensorElementDataType type) {
  switch (type) {
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT: return "float32";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16: return "float16";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64: return "int64";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32: return "int32";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8: return "uint8";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8: return "int8";
    default: return "unsupported";
  }
}

OnnxTower::OnnxTower(const std::string& path, const char* role, const runtime::SessionSettings& settings,
                     const std::vector<std::string>& main_input, const std::vector<std::string>& output)
    : path_(path), role_(role) {
  session_ = runtime::CreateSessionWithFallback(path, settings, &provider_);
  Ort::AllocatorWithDefaultOptions allocator;

  std::vector<TensorSlot> inputs;
  for (size_t i = 0; i < session_->GetInputCount(); ++i) {
    inputs.push_back(DescribeSlot(session_->GetInputNameAllocated(i, allocator).get(), session_->GetInputTypeInfo(i)));
  }
  std::vector<TensorSlot> outputs;
  for (size_t i = 0; i < session_->GetOutputCount(); ++i) {
    outputs.push_back(DescribeSlot(session_->GetOutputNameAllocated(i, allocator).get(), session_->GetOutputTypeInfo(i)));
  }
  if (inputs.empty() || outputs.empty()) {
    throw Error(codes::kModelLoad, role_ + " model " + path + " declares no inputs or no outputs");
  }

  auto find = [](std::vector<TensorSlot>& slots, const std::string& name) {
    return std::find_if(slots.begin(), slots.end(), [&](const TensorSlot& s) { return s.name == name; });
  };
  auto main_it = inputs.end();
  for (const auto& name : main_input) {
    main_it = find(inputs, name);
    if (main_it != inputs.end()) break;
  }
  if (main_it == inputs.end()) main_it = inputs.begin();
  main_input_ = *main_it;
  auto mask_it = find(inputs, "attention_mask");
  if (mask_it != inputs.end()) attention_mask_ = *mask_it;
  for (const auto& slot : inputs) {
    if (slot.name != main_input_.name && slot.name != attention_mask_.name) {
      throw Error(codes::kModelLoad, role_ + " model " + path + " has an unexpected input '" + slot.name +
                                         "' (crossmodal feeds '" + main_input_.name + "'" +
                                         (attention_mask_.name.empty() ? "" : " and 'attention_mask'") + ")");
    }
  }

  auto out_it = outputs.end();
  for (const auto& name : output) {
    out_it = find(outputs, name);
    if (out_it != outputs.end()) break;
  }
  if (out_it == outputs.end()) {
    out_it = std::find_if(outputs.begin(), outputs.end(), [](const TensorSlot& s) { return s.shape.size() == 2; });
  }
  if (out_it == outputs.end()) {
    throw Error(codes::kModelLoad, role_ + " model " + path + " has no 2-D embedding output");
  }
  output_ = *out_it;
  if (output_.type != ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT || output_.shape.size() != 2 || output_.shape[1] <= 0) {
    throw Error(codes::kModelLoad, role_ + " model output '" + output_.name + "' must be float32 [batch, dim], got " +
                                       ElementTypeName(output_.type) + " " + ShapeString(output_.shape));
  }
  embedding_dim_ = output_.shape[1];

  input_names_.push_back(main_input_.name.c_str());
  if (!attention_mask_.name.empty()) input_names_.push_back(attention_mask_.name.c_str());
  output_name_ = output_.name.c_str();
}

void OnnxTower::Run(std::vector<Ort::Value>& inputs, float* out, int64_t rows) const {
  if (inputs.size() != input_names_.size()) {
    throw Error(codes::kInternal, role_ + " tower fed " + std::to_string(inputs.size()) + " inputs, expects " +
                                      std::to_string(input_names_.size()));
  }
  Ort::MemoryInfo cpu = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
  const int64_t shape[2] = {rows, embedding_dim_};
  Ort::Value output = Ort::Value::CreateTensor<float>(cpu, out, static_cast<size_t>(rows * embedding_dim_), shape, 2);
  try {
    session_->Run(Ort::RunOptions{nullptr}, input_names_.data(), inputs.data(), inputs.size(), &output_name_,
                  &output, 1);
  } catch (const Ort::Exception& e) {
    throw Error(codes::kRuntime, role_ + " model failed: " + e.what());
  }
}

}  // namespace crossmodal::model
