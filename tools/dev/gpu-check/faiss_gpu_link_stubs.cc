// TEST-ONLY link stubs, used by `tools/dev/check-gpu-build.sh --run-without-device` and never by the
// real build (CMake compiles native/ only). They stand in for the faiss::gpu symbols that
// native/search/gpu_replica.cc references, so a GPU-mode addon (CROSSMODAL_WITH_FAISS_GPU=1) can
// be linked against Debian's CPU-only libfaiss plus a real CUDA runtime and run on a machine with
// no usable CUDA device. There crossmodal must never create a replica, so none of these may run:
// each aborts loudly if reached.
#include <faiss/gpu/GpuCloner.h>
#include <faiss/gpu/StandardGpuResources.h>
#include <faiss/gpu/impl/IndexUtils.h>

#include <cstdio>
#include <cstdlib>

namespace {
[[noreturn]] void Reached(const char* what) {
  std::fprintf(stderr, "faiss_gpu_link_stubs: %s called without a CUDA device\n", what);
  std::abort();
}
}  // namespace

namespace faiss::gpu {
GpuResourcesProvider::~GpuResourcesProvider() {}
StandardGpuResources::StandardGpuResources() { Reached("StandardGpuResources()"); }
StandardGpuResources::~StandardGpuResources() {}
std::shared_ptr<GpuResources> StandardGpuResources::getResources() { Reached("getResources()"); }
GpuClonerOptions::GpuClonerOptions() { Reached("GpuClonerOptions()"); }
faiss::Index* index_cpu_to_gpu(GpuResourcesProvider*, int, const faiss::Index*, const GpuClonerOptions*) {
  Reached("index_cpu_to_gpu()");
}
int getMaxKSelection() { Reached("getMaxKSelection()"); }
}  // namespace faiss::gpu
