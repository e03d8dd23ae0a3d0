#include "runtime/ort_library.h"

#include <dlfcn.h>

#include <cstdlib>
#include <memory>
#include <mutex>

#include "common/error.h"

namespace crossmodal::runtime {
namespace {

std::mutex g_mutex;
OrtLibraryInfo* g_info = nullptr;  // set once under g_mutex, then read-only
Ort::Env* g_env = nullptr;

using GetApiBaseFn = const OrtApiBase* (*)();

}  // namespace

const OrtLibraryInfo& LoadOrtLibrary(const std::string& path) {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (g_info != nullptr) {
    if (!path.empty() && path != g_info->path) {
      throw Error(codes::kRuntimeUnavailable, "ONNX Runtime is already loaded from " + g_info->path + "; cannot load " +
                                                  path + " as well (one ONNX Runtime library per process)");
    }
    return *g_info;
  }
  if (path.empty()) {
    throw Error(codes::kRuntimeUnavailable,
                "no ONNX Runtime library path given (install onnxruntime-node or set CROSSMODAL_ORT_LIBRARY)");
  }
  if (path.find('\0') != std::string::npos) {
    throw Error(codes::kInvalidArgument, "the ONNX Runtime library path contains a NUL character");
  }
  // RTLD_LOCAL: ONNX Runtime's symbols stay private to us; provider libraries it loads later
  // resolve against it through its own dlopen calls.
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* reason = dlerror();
    throw Error(codes::kRuntimeUnavailable,
                "cannot load ONNX Runtime from " + path + ": " + (reason ? reason : "unknown dlopen error"));
  }
  auto get_api_base = reinterpret_cast<GetApiBaseFn>(dlsym(handle, "OrtGetApiBase"));
  if (get_api_base == nullptr) {
    dlclose(handle);
    throw Error(codes::kRuntimeUnavailable, path + " does not export OrtGetApiBase: not an ONNX Runtime library");
  }
  const OrtApiBase* base = get_api_base();
  const OrtApi* api = base->GetApi(ORT_API_VERSION);
  if (api == nullptr) {
    std::string version = base->GetVersionString();
    dlclose(handle);
    throw Error(codes::kRuntimeUnavailable, "ONNX Runtime " + version + " at " + path + " is older than API version " +
                                                std::to_string(ORT_API_VERSION) + " that crossmodal needs");
  }
  Ort::InitApi(api);

  auto info = std::make_unique<OrtLibraryInfo>();
  info->path = path;
  info->version = base->GetVersionString();
  info->api_version = ORT_API_VERSION;
  try {
    info->available_providers = Ort::GetAvailableProviders();
  } catch (const Ort::Exception&) {
    // Purely informational; an empty list is fine.
  }
  // The handle is deliberately kept open for the life of the process: sessions, the Env and
  // tensors created from it must never outlive the code that implements them.
  g_info = info.release();
  return *g_info;
}

void PrepareOrtProcessEnvironment() {
  if (std::getenv("ORT_DISABLE_TELEMETRY") == nullptr) ::setenv("ORT_DISABLE_TELEMETRY", "1", /*overwrite=*/0);
}

bool IsOrtLoaded() {
  std::lock_guard<std::mutex> lock(g_mutex);
  return g_info != nullptr;
}

Ort::Env& SharedEnv() {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (g_info == nullptr) {
    throw Error(codes::kRuntimeUnavailable, "ONNX Runtime is not loaded yet");
  }
  if (g_env == nullptr) {
    PrepareOrtProcessEnvironment();  // already done by the addon's init; for other users of the core
    try {
      g_env = new Ort::Env(ORT_LOGGING_LEVEL_WARNING, "crossmodal");
    } catch (const Ort::Exception& e) {
      throw Error(codes::kRuntimeUnavailable, std::string("cannot create the ONNX Runtime environment: ") + e.what());
    }
  }
  return *g_env;
}

}  // namespace crossmodal::runtime
