// Run-time loading of the ONNX Runtime shared library.
//
// The addon is compiled against ONNX Runtime's headers only (ORT_API_MANUAL_INIT) and dlopen()s
// libonnxruntime.so.1 on first use. By default the JS layer passes the library shipped by the
// `onnxruntime-node` dependency; CROSSMODAL_ORT_LIBRARY (or the `ortLibrary` option) points it at
// another build, e.g. a CUDA/TensorRT-enabled one on GPU servers. The C API is versioned, so a
// library newer than the headers works; an older one is refused with a clear error.
#pragma once

#include <onnxruntime_cxx_api.h>

#include <string>
#include <vector>

namespace crossmodal::runtime {

struct OrtLibraryInfo {
  std::string path;                              // the file that was loaded
  std::string version;                           // ONNX Runtime's own version string, e.g. "1.30.0"
  int api_version = 0;                           // the OrtApi version requested (the headers')
  std::vector<std::string> available_providers;  // as reported by the library
};

// Loads the library at `path` once per process. Later calls with the same or an empty path
// return the loaded library's info; a different path after loading throws
// ERR_RUNTIME_UNAVAILABLE (one ONNX Runtime per process). Thread-safe.
const OrtLibraryInfo& LoadOrtLibrary(const std::string& path);

// Keeps ONNX Runtime from leaving an empty /tmp/mat-debug-<pid>.log behind. ORT's bundled 1DS
// telemetry SDK (Linux builds of 1.2x-1.30, as shipped by onnxruntime-node) opens that debug log
// in $TMPDIR (default /tmp/) when the first OrtEnv is created, and never removes it; every process
// that loaded a model left one. OrtApi::DisableTelemetryEvents cannot help (it needs the env, so
// it runs after the file exists); the environment variable ORT_DISABLE_TELEMETRY=1, read when
// the env is created, keeps the SDK from starting at all (verified against ORT 1.30: no log, no
// events). So this sets it, unless the application set ORT_DISABLE_TELEMETRY itself (an explicit
// value, including 0, is respected). Called on the main thread when the addon loads (setenv is not
// safe against concurrent getenv on other threads), and again, as a no-op there, before the env.
void PrepareOrtProcessEnvironment();

// True once LoadOrtLibrary() has succeeded.
bool IsOrtLoaded();

// The process-wide Ort::Env. ONNX Runtime wants one per process; it is created on first use and
// intentionally never destroyed, because tearing it down during static destruction races with
// ONNX Runtime's own thread pools. Throws ERR_RUNTIME_UNAVAILABLE before the library is loaded.
Ort::Env& SharedEnv();

}  // namespace crossmodal::runtime
