#include "model/onnx_tower.h"

#include <algorithm>
#include <cstring>

#include "common/error.h"
#include "common/file_util.h"

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

bool IsTokenType(ONNXTensorElementDataType t) {
  return t == ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64 || t == ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32;
}
bool IsFloatType(ONNXTensorElementDataType t) {
  return t == ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT || t == ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16;
}

Ort::MemoryInfo CpuMemory() { return Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault); }

}  // namespace

const char* ElementTypeName(ONNXTensorElementDataType type) {
  switch (type) {
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT:
      return "float32";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16:
      return "float16";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64:
      return "int64";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32:
      return "int32";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8:
      return "uint8";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8:
      return "int8";
    default:
      return "unsupported";
  }
}

LoadedSession LoadSession(const std::string& path, const runtime::SessionSettings& settings) {
  // ONNX Runtime opens the file by path itself: make sure it is a regular file first, so a FIFO
  // there fails with ERR_IO instead of blocking this thread inside ONNX Runtime forever.
  CheckRegularFile(path, codes::kModelLoad);
  LoadedSession loaded;
  loaded.path = path;
  loaded.session = runtime::CreateSessionWithFallback(path, settings, &loaded.provider);
  return loaded;
}

OnnxTower::OnnxTower(LoadedSession session, const TowerSpec& spec, int pixels_h, int pixels_w,
                     std::vector<int64_t> placeholder_ids)
    : session_(std::move(session)), role_(spec.role) {
  Ort::Session& s = *session_.session;
  Ort::AllocatorWithDefaultOptions allocator;
  std::vector<TensorSlot> inputs, outputs;
  for (size_t i = 0; i < s.GetInputCount(); ++i) {
    inputs.push_back(DescribeSlot(s.GetInputNameAllocated(i, allocator).get(), s.GetInputTypeInfo(i)));
  }
  for (size_t i = 0; i < s.GetOutputCount(); ++i) {
    outputs.push_back(DescribeSlot(s.GetOutputNameAllocated(i, allocator).get(), s.GetOutputTypeInfo(i)));
  }
  const std::string& path = session_.path;
  if (inputs.empty() || outputs.empty()) {
    throw Error(codes::kModelLoad, role_ + " model " + path + " declares no inputs or no outputs");
  }
  auto find = [](std::vector<TensorSlot>& slots, const std::string& name) {
    return std::find_if(slots.begin(), slots.end(), [&](const TensorSlot& slot) { return slot.name == name; });
  };

  // Main input: a preferred name, else the only input of the right kind.
  auto main_it = inputs.end();
  for (const auto& name : spec.main_input) {
    main_it = find(inputs, name);
    if (main_it != inputs.end()) break;
  }
  if (main_it == inputs.end()) {
    main_it = std::find_if(inputs.begin(), inputs.end(), [&](const TensorSlot& slot) {
      return spec.main_input_is_pixels ? IsFloatType(slot.type) && slot.shape.size() == 4
                                       : IsTokenType(slot.type) && slot.name != "attention_mask";
    });
  }
  if (main_it == inputs.end()) {
    throw Error(codes::kModelLoad,
                role_ + " model " + path + " has no " +
                    (spec.main_input_is_pixels ? "float pixel input [batch, 3, H, W]" : "token id input"));
  }
  main_input_ = *main_it;
  if (spec.main_input_is_pixels) {
    if (!IsFloatType(main_input_.type) || main_input_.shape.size() != 4) {
      throw Error(codes::kModelLoad, role_ + " input '" + main_input_.name +
                                         "' must be float32/float16 [batch, 3, H, W], got " +
                                         ElementTypeName(main_input_.type) + " " + ShapeString(main_input_.shape));
    }
  } else if (!IsTokenType(main_input_.type) || main_input_.shape.size() != 2) {
    throw Error(codes::kModelLoad, role_ + " input '" + main_input_.name +
                                       "' must be int64/int32 [batch, sequence], got " +
                                       ElementTypeName(main_input_.type) + " " + ShapeString(main_input_.shape));
  }
  auto mask_it = find(inputs, "attention_mask");
  if (mask_it != inputs.end() && !spec.main_input_is_pixels) attention_mask_ = *mask_it;

  // Any other input belongs to the other tower of a combined model: feed a placeholder.
  for (const auto& slot : inputs) {
    if (slot.name == main_input_.name || slot.name == attention_mask_.name) continue;
    Placeholder p;
    p.name = slot.name;
    p.type = slot.type;
    if (IsFloatType(slot.type) && slot.shape.size() == 4) {
      p.shape = {1, 3, pixels_h, pixels_w};
      const size_t elements = static_cast<size_t>(3) * pixels_h * pixels_w;
      p.bytes.assign(elements * (slot.type == ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT ? 4 : 2), 0);
    } else if (IsTokenType(slot.type) && slot.shape.size() == 2) {
      p.shape = {1, static_cast<int64_t>(placeholder_ids.size())};
      if (slot.name == "attention_mask") {
        std::vector<int64_t> ones(placeholder_ids.size(), 1);
        if (slot.type == ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64) {
          p.bytes.assign(reinterpret_cast<const uint8_t*>(ones.data()),
                         reinterpret_cast<const uint8_t*>(ones.data() + ones.size()));
        } else {
          std::vector<int32_t> ones32(placeholder_ids.size(), 1);
          p.bytes.assign(reinterpret_cast<const uint8_t*>(ones32.data()),
                         reinterpret_cast<const uint8_t*>(ones32.data() + ones32.size()));
        }
      } else if (slot.type == ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64) {
        p.bytes.assign(reinterpret_cast<const uint8_t*>(placeholder_ids.data()),
                       reinterpret_cast<const uint8_t*>(placeholder_ids.data() + placeholder_ids.size()));
      } else {
        std::vector<int32_t> ids32(placeholder_ids.begin(), placeholder_ids.end());
        p.bytes.assign(reinterpret_cast<const uint8_t*>(ids32.data()),
                       reinterpret_cast<const uint8_t*>(ids32.data() + ids32.size()));
      }
    } else {
      throw Error(codes::kModelLoad, role_ + " model " + path + " has an unexpected input '" + slot.name + "' (" +
                                         ElementTypeName(slot.type) + " " + ShapeString(slot.shape) + ")");
    }
    placeholders_.push_back(std::move(p));
  }

  auto out_it = outputs.end();
  for (const auto& name : spec.output) {
    out_it = find(outputs, name);
    if (out_it != outputs.end()) break;
  }
  if (out_it == outputs.end() && outputs.size() == 1) out_it = outputs.begin();
  if (out_it == outputs.end()) {
    std::string names;
    for (const auto& o : outputs) names += (names.empty() ? "" : ", ") + o.name;
    throw Error(codes::kModelLoad, role_ + " model " + path + " has no embedding output (looked for " +
                                       spec.output.front() + "; it has " + names + ")");
  }
  output_ = *out_it;
  if (!IsFloatType(output_.type) || output_.shape.size() != 2 || output_.shape[1] <= 0) {
    throw Error(codes::kModelLoad, role_ + " model output '" + output_.name + "' must be float [batch, dim], got " +
                                       ElementTypeName(output_.type) + " " + ShapeString(output_.shape));
  }
  embedding_dim_ = output_.shape[1];
}

void OnnxTower::RunPixels(const float* pixels, int64_t rows, int64_t height, int64_t width, float* out) const {
  const int64_t shape[4] = {rows, 3, height, width};
  const size_t elements = static_cast<size_t>(rows * 3 * height * width);
  Ort::MemoryInfo cpu = CpuMemory();
  if (main_input_.type == ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16) {
    std::vector<Ort::Float16_t> half(elements);
    for (size_t i = 0; i < elements; ++i) half[i] = Ort::Float16_t(pixels[i]);
    Run(Ort::Value::CreateTensor<Ort::Float16_t>(cpu, half.data(), elements, shape, 4), nullptr, rows, 0, out);
    return;
  }
  Run(Ort::Value::CreateTensor<float>(cpu, const_cast<float*>(pixels), elements, shape, 4), nullptr, rows, 0, out);
}

void OnnxTower::RunTokens(const int64_t* ids, const int64_t* mask, int64_t rows, int64_t sequence, float* out) const {
  const int64_t shape[2] = {rows, sequence};
  const size_t elements = static_cast<size_t>(rows * sequence);
  Ort::MemoryInfo cpu = CpuMemory();
  if (main_input_.type == ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32) {
    std::vector<int32_t> ids32(ids, ids + elements);
    Run(Ort::Value::CreateTensor<int32_t>(cpu, ids32.data(), elements, shape, 2), mask, rows, sequence, out);
    return;
  }
  Run(Ort::Value::CreateTensor<int64_t>(cpu, const_cast<int64_t*>(ids), elements, shape, 2), mask, rows, sequence, out);
}

void OnnxTower::Run(Ort::Value main, const int64_t* mask, int64_t rows, int64_t sequence, float* out) const {
  Ort::MemoryInfo cpu = CpuMemory();
  std::vector<const char*> names = {main_input_.name.c_str()};
  std::vector<Ort::Value> values;
  values.push_back(std::move(main));
  // Buffers the input tensors point into; they must outlive session->Run.
  std::vector<int64_t> ones;
  std::vector<int32_t> mask32;
  if (!attention_mask_.name.empty()) {
    const size_t elements = static_cast<size_t>(rows * sequence);
    if (mask == nullptr) {
      ones.assign(elements, 1);
      mask = ones.data();
    }
    const int64_t shape[2] = {rows, sequence};
    names.push_back(attention_mask_.name.c_str());
    if (attention_mask_.type == ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32) {
      mask32.assign(mask, mask + elements);
      values.push_back(Ort::Value::CreateTensor<int32_t>(cpu, mask32.data(), elements, shape, 2));
    } else {
      values.push_back(Ort::Value::CreateTensor<int64_t>(cpu, const_cast<int64_t*>(mask), elements, shape, 2));
    }
  }
  for (const auto& p : placeholders_) {
    names.push_back(p.name.c_str());
    values.push_back(Ort::Value::CreateTensor(cpu, const_cast<uint8_t*>(p.bytes.data()), p.bytes.size(), p.shape.data(),
                                              p.shape.size(), p.type));
  }

  const int64_t out_shape[2] = {rows, embedding_dim_};
  const size_t out_elements = static_cast<size_t>(rows * embedding_dim_);
  const char* output_name = output_.name.c_str();
  try {
    if (output_.type == ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT) {
      // Written straight into the caller's rows through a pre-allocated output tensor.
      Ort::Value output = Ort::Value::CreateTensor<float>(cpu, out, out_elements, out_shape, 2);
      session_.session->Run(Ort::RunOptions{nullptr}, names.data(), values.data(), values.size(), &output_name, &output,
                            1);
    } else {
      std::vector<Ort::Float16_t> half(out_elements);
      Ort::Value output = Ort::Value::CreateTensor<Ort::Float16_t>(cpu, half.data(), out_elements, out_shape, 2);
      session_.session->Run(Ort::RunOptions{nullptr}, names.data(), values.data(), values.size(), &output_name, &output,
                            1);
      for (size_t i = 0; i < out_elements; ++i) out[i] = half[i].ToFloat();
    }
  } catch (const Ort::Exception& e) {
    throw Error(codes::kRuntime, role_ + " model failed: " + e.what());
  }
}

}  // namespace crossmodal::model
