#include "runtime/execution_providers.h"

#include <algorithm>
#include <cstdint>
#include <thread>

#include "common/error.h"
#include "common/thread_pool.h"
#include "common/thread_priority.h"
#include "runtime/ort_library.h"

namespace crossmodal::runtime {
namespace {

// ONNX Runtime creates its intra-op threads through these when a session sets them (the
// documented OrtApi::SessionOptionsSetCustomCreateThreadFn contract: run worker_fn(param) on a
// new thread, return a handle the join function accepts). They exist only to lower the new
// thread's priority before it runs ORT's loop. The creation options pointer carries the nice
// value itself, so no object must outlive the session.
OrtCustomThreadHandle CreateLowPriorityThread(void* options, OrtThreadWorkerFn worker_fn, void* param) {
  const int niceness = static_cast<int>(reinterpret_cast<intptr_t>(options));
  auto* thread = new std::thread([niceness, worker_fn, param] {
    LowerCurrentThreadPriority(niceness);
    worker_fn(param);
  });
  return reinterpret_cast<OrtCustomThreadHandle>(thread);
}

void JoinLowPriorityThread(OrtCustomThreadHandle handle) {
  auto* thread = reinterpret_cast<std::thread*>(const_cast<OrtCustomHandleType*>(handle));
  thread->join();
  delete thread;
}

constexpr const char* kCpuProvider = "CPUExecutionProvider";
constexpr const char* kCudaProvider = "CUDAExecutionProvider";
constexpr const char* kTensorRtProvider = "TensorrtExecutionProvider";

Ort::SessionOptions BaseOptions(const SessionSettings& settings) {
  Ort::SessionOptions options;
  options.SetGraphOptimizationLevel(settings.optimization);
  // Bounded here too, for callers that build SessionSettings without the binding's checks.
  CheckThreadCount(static_cast<size_t>(std::max(0, settings.intra_op_threads)), "intraOpThreads");
  // 0 means one thread per usable CPU, not ONNX Runtime's own default: that counts physical cores
  // (1 on many 2-vCPU VMs, which halved throughput) and ignores affinity and cgroup quotas.
  // Spinning stays off by default, so the two towers' pools and the preprocessing pool, all sized
  // to the same CPUs, only compete while each has work rather than burning idle cycles.
  options.SetIntraOpNumThreads(settings.intra_op_threads > 0 ? settings.intra_op_threads
                                                             : static_cast<int>(DefaultThreadCount()));
  // Each Run() is already issued from its own worker thread; inter-op parallelism only adds threads.
  options.SetInterOpNumThreads(1);
  options.SetExecutionMode(ORT_SEQUENTIAL);
  options.AddConfigEntry("session.intra_op.allow_spinning", settings.allow_spinning ? "1" : "0");
  options.AddConfigEntry("session.inter_op.allow_spinning", "0");
  if (settings.worker_niceness > 0) {
    options.SetCustomCreateThreadFn(CreateLowPriorityThread);
    options.SetCustomThreadCreationOptions(
        reinterpret_cast<void*>(static_cast<intptr_t>(std::clamp(settings.worker_niceness, 0, kMaxWorkerNiceness))));
    options.SetCustomJoinThreadFn(JoinLowPriorityThread);
  }
  if (!settings.optimized_model_path.empty()) options.SetOptimizedModelFilePath(settings.optimized_model_path.c_str());
  if (settings.cpu_memory_arena) options.EnableCpuMemArena();
  else options.DisableCpuMemArena();
  if (settings.memory_pattern) options.EnableMemPattern();
  else options.DisableMemPattern();
  return options;
}

void AppendCuda(Ort::SessionOptions& options, const SessionSettings& settings) {
  const OrtApi& api = Ort::GetApi();
  OrtCUDAProviderOptionsV2* cuda = nullptr;
  Ort::ThrowOnError(api.CreateCUDAProviderOptions(&cuda));
  std::unique_ptr<OrtCUDAProviderOptionsV2, decltype(api.ReleaseCUDAProviderOptions)> guard(
      cuda, api.ReleaseCUDAProviderOptions);
  const std::string device_id = std::to_string(settings.device_id);
  // Exhaustive search picks the fastest convolution algorithms once per shape; embedding servers
  // see few distinct shapes, so the one-time cost pays off.
  const char* keys[] = {"device_id", "cudnn_conv_algo_search", "do_copy_in_default_stream"};
  const char* values[] = {device_id.c_str(), "EXHAUSTIVE", "1"};
  Ort::ThrowOnError(api.UpdateCUDAProviderOptions(cuda, keys, values, 3));
  Ort::ThrowOnError(api.SessionOptionsAppendExecutionProvider_CUDA_V2(options, cuda));
}

void AppendTensorRt(Ort::SessionOptions& options, const SessionSettings& settings) {
  const OrtApi& api = Ort::GetApi();
  OrtTensorRTProviderOptionsV2* trt = nullptr;
  Ort::ThrowOnError(api.CreateTensorRTProviderOptions(&trt));
  std::unique_ptr<OrtTensorRTProviderOptionsV2, decltype(api.ReleaseTensorRTProviderOptions)> guard(
      trt, api.ReleaseTensorRTProviderOptions);
  std::vector<std::string> keys = {"device_id", "trt_fp16_enable"};
  std::vector<std::string> values = {std::to_string(settings.device_id), settings.trt_fp16 ? "1" : "0"};
  if (!settings.trt_cache_dir.empty()) {
    // Engines are specific to the GPU, the TensorRT version and the model; ONNX Runtime keys its
    // cache files by the latter two, and the directory is chosen per model fingerprint by the caller.
    keys.insert(keys.end(), {"trt_engine_cache_enable", "trt_engine_cache_path", "trt_timing_cache_enable",
                             "trt_timing_cache_path"});
    values.insert(values.end(), {"1", settings.trt_cache_dir, "1", settings.trt_cache_dir});
  }
  std::vector<const char*> key_ptrs, value_ptrs;
  for (size_t i = 0; i < keys.size(); ++i) {
    key_ptrs.push_back(keys[i].c_str());
    value_ptrs.push_back(values[i].c_str());
  }
  Ort::ThrowOnError(api.UpdateTensorRTProviderOptions(trt, key_ptrs.data(), value_ptrs.data(), keys.size()));
  Ort::ThrowOnError(api.SessionOptionsAppendExecutionProvider_TensorRT_V2(options, trt));
}

}  // namespace

InferenceDevice ParseInferenceDevice(const std::string& name) {
  if (name == "auto" || name.empty()) return InferenceDevice::kAuto;
  if (name == "cpu") return InferenceDevice::kCpu;
  if (name == "cuda") return InferenceDevice::kCuda;
  if (name == "tensorrt") return InferenceDevice::kTensorRt;
  throw Error(codes::kInvalidArgument, "device must be 'auto', 'cpu', 'cuda' or 'tensorrt', got '" + name + "'");
}

const char* InferenceDeviceName(InferenceDevice device) {
  switch (device) {
    case InferenceDevice::kAuto:
      return "auto";
    case InferenceDevice::kCpu:
      return "cpu";
    case InferenceDevice::kCuda:
      return "cuda";
    case InferenceDevice::kTensorRt:
      return "tensorrt";
  }
  return "unknown";
}

std::unique_ptr<Ort::Session> CreateSessionWithFallback(const std::string& model_path, const SessionSettings& settings,
                                                        ProviderReport* report) {
  std::vector<const char*> candidates;
  switch (settings.device) {
    case InferenceDevice::kAuto:
      candidates = {kTensorRtProvider, kCudaProvider, kCpuProvider};
      break;
    case InferenceDevice::kTensorRt:
      candidates = {kTensorRtProvider};
      break;
    case InferenceDevice::kCuda:
      candidates = {kCudaProvider};
      break;
    case InferenceDevice::kCpu:
      candidates = {kCpuProvider};
      break;
  }
  Ort::Env& env = SharedEnv();
  const auto& compiled_in = LoadOrtLibrary("").available_providers;
  std::vector<std::string> skipped;
  for (const char* provider : candidates) {
    const bool explicit_choice = candidates.size() == 1;
    if (provider != std::string(kCpuProvider) &&
        std::find(compiled_in.begin(), compiled_in.end(), provider) == compiled_in.end()) {
      std::string why =
          std::string(provider) + ": not built into the loaded ONNX Runtime library (" + LoadOrtLibrary("").path + ")";
      if (explicit_choice) throw Error(codes::kRuntimeUnavailable, why);
      skipped.push_back(why);
      continue;
    }
    try {
      Ort::SessionOptions options = BaseOptions(settings);
      if (provider == std::string(kTensorRtProvider)) {
        AppendTensorRt(options, settings);
        // TensorRT hands unsupported nodes back to ONNX Runtime; CUDA then runs them on the GPU
        // instead of the CPU (provider order is priority order).
        try {
          AppendCuda(options, settings);
        } catch (const Ort::Exception&) {
        }
      } else if (provider == std::string(kCudaProvider)) {
        AppendCuda(options, settings);
      }
      auto session = std::make_unique<Ort::Session>(env, model_path.c_str(), options);
      if (report != nullptr) {
        report->provider = provider;
        report->skipped = skipped;
      }
      return session;
    } catch (const Ort::Exception& e) {
      std::string why = std::string(provider) + ": " + e.what();
      if (provider == std::string(kCpuProvider)) {
        // The CPU provider failing means the model itself could not be loaded.
        throw Error(codes::kModelLoad, "cannot load " + model_path + ": " + e.what());
      }
      if (explicit_choice) throw Error(codes::kRuntimeUnavailable, why);
      skipped.push_back(why);
    }
  }
  throw Error(codes::kRuntimeUnavailable, "no execution provider could load " + model_path);
}

}  // namespace crossmodal::runtime
