// Choosing ONNX Runtime execution providers: TensorRT, then CUDA, then CPU.
#pragma once

#include <onnxruntime_cxx_api.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/thread_priority.h"

namespace crossmodal::runtime {

// Which ONNX Runtime execution provider a model's towers run on (load option `device`: 'auto',
// 'cpu', 'cuda', 'tensorrt'). Not to be confused with search::SearchDevice, an index's placement.
enum class InferenceDevice { kAuto, kCpu, kCuda, kTensorRt };

InferenceDevice ParseInferenceDevice(const std::string& name);  // throws ERR_INVALID_ARGUMENT
const char* InferenceDeviceName(InferenceDevice device);

struct SessionSettings {
  InferenceDevice device = InferenceDevice::kAuto;
  int device_id = 0;
  int intra_op_threads = 0;     // 0: ONNX Runtime's default (one per physical core)
  bool allow_spinning = false;  // spinning burns CPU between requests; off suits servers
  // Nice value of ONNX Runtime's intra-op threads and of the library's own compute threads
  // (common/thread_priority.h: keeps the caller's event loop responsive when cores are saturated).
  int worker_niceness = kDefaultWorkerNiceness;
  GraphOptimizationLevel optimization = ORT_ENABLE_ALL;
  std::string optimized_model_path;  // non-empty: ORT writes the optimised graph there
  bool cpu_memory_arena = true;      // ORT's CPU arena: faster steady state, memory is not returned
  bool memory_pattern = true;        // pre-plans buffers for repeated input shapes
  std::string trt_cache_dir;         // engine and timing caches for TensorRT
  bool trt_fp16 = true;
};

struct ProviderReport {
  std::string provider;              // the provider the session really uses, e.g. "CPUExecutionProvider"
  std::vector<std::string> skipped;  // "TensorrtExecutionProvider: <why>" for each better one that failed
};

// Creates a session for `model_path`, trying providers in order of preference for `settings.device`
// (auto: TensorRT, CUDA, CPU). An explicit GPU device that cannot be used fails with ONNX Runtime's
// reason (ERR_RUNTIME_UNAVAILABLE); `auto` records why each better provider was skipped.
std::unique_ptr<Ort::Session> CreateSessionWithFallback(const std::string& model_path, const SessionSettings& settings,
                                                        ProviderReport* report);

}  // namespace crossmodal::runtime
