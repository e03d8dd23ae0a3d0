// Free functions exported by the addon (not tied to a wrapped object), one Register function per
// file of this folder; addon.cc calls them all.
#pragma once

#include <napi.h>

namespace crossmodal::binding {

// loadRuntime(path), runtimeInfo() (runtime_functions.cc).
void RegisterRuntimeFunctions(Napi::Env env, Napi::Object exports);
// similarity(a, b, dim, options), groupMeans(rows, dim, group) (similarity_functions.cc).
void RegisterSimilarityFunctions(Napi::Env env, Napi::Object exports);
// preprocessImages(inputs, preprocessorConfigJson, options) (preprocess_functions.cc).
void RegisterPreprocessFunctions(Napi::Env env, Napi::Object exports);
// probeImage(bytes) (image_probe.cc).
void RegisterImageProbe(Napi::Env env, Napi::Object exports);

}  // namespace crossmodal::binding
