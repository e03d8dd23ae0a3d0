// Global operator new/delete for the sanitizer builds of the index_file fuzzer and the C++ unit
// tests (docs/fuzzing.md): a single allocation above the cap (default 8 GiB; environment
// CROSSMODAL_FUZZ_ALLOC_CAP_MB) throws std::bad_alloc, as a real system refuses an absurd
// allocation, instead of ASan aborting with allocation-size-too-big / out-of-memory (ASan's own
// operator new never throws). FAISS sizes arrays from counts in an index file before reading
// them, so a crafted file asks for petabytes; crossmodal must turn that into ERR_INDEX_CORRUPT,
// which is what this lets the fuzzer and the replay test check. Everything else is malloc/free,
// which ASan still instruments (only new/delete-mismatch reports are lost).
#include <cstddef>
#include <cstdlib>
#include <new>

namespace {

std::size_t CapBytes() {
  static const std::size_t cap = [] {
    const char* mb = std::getenv("CROSSMODAL_FUZZ_ALLOC_CAP_MB");
    const unsigned long long value = mb != nullptr ? std::strtoull(mb, nullptr, 10) : 0;
    return static_cast<std::size_t>(value > 0 ? value : 8192) << 20;
  }();
  return cap;
}

void* Allocate(std::size_t size) {
  if (size > CapBytes()) throw std::bad_alloc();
  void* p = std::malloc(size == 0 ? 1 : size);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

void* AllocateNoThrow(std::size_t size) noexcept {
  if (size > CapBytes()) return nullptr;
  return std::malloc(size == 0 ? 1 : size);
}

void* AllocateAligned(std::size_t size, std::align_val_t align) {
  if (size > CapBytes()) throw std::bad_alloc();
  const std::size_t a = static_cast<std::size_t>(align);
  void* p = std::aligned_alloc(a, (size + a - 1) / a * a);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

}  // namespace

void* operator new(std::size_t size) { return Allocate(size); }
void* operator new[](std::size_t size) { return Allocate(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept { return AllocateNoThrow(size); }
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept { return AllocateNoThrow(size); }
void* operator new(std::size_t size, std::align_val_t align) { return AllocateAligned(size, align); }
void* operator new[](std::size_t size, std::align_val_t align) { return AllocateAligned(size, align); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
