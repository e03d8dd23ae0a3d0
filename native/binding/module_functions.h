// Free functions exported by the addon (not tied to a wrapped object).
#pragma once

#include <napi.h>

namespace crossmodal::binding {

// loadRuntime(path), runtimeInfo(), similarity(a, b, dim, options), groupMeans(rows, dim, group),
// and the DirectoryLock class (binding/directory_lock.h).
void RegisterModuleFunctions(Napi::Env env, Napi::Object exports);

}  // namespace crossmodal::binding
