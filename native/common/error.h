// Errors raised by crossmodal's C++ core.
//
// Every failure that can reach a caller is a crossmodal::Error carrying a stable code
// (ERR_...). Pure C++ code (image/, text/, search/, model/) throws these and never touches
// Napi values; the binding layer converts them into JS Errors whose `code` property is the
// same string, so JS callers can branch on it.
#pragma once

#include <new>
#include <stdexcept>
#include <string>
#include <utility>

namespace crossmodal {

// Stable error codes. Adding one is an API change: document it in lib/errors.ts too.
namespace codes {
inline constexpr const char* kInvalidArgument = "ERR_INVALID_ARGUMENT";
inline constexpr const char* kIo = "ERR_IO";
inline constexpr const char* kImageFormat = "ERR_IMAGE_FORMAT";
inline constexpr const char* kImageDecode = "ERR_IMAGE_DECODE";
inline constexpr const char* kImageTooLarge = "ERR_IMAGE_TOO_LARGE";
inline constexpr const char* kTokenizer = "ERR_TOKENIZER";
inline constexpr const char* kModelLoad = "ERR_MODEL_LOAD";
inline constexpr const char* kRuntime = "ERR_RUNTIME";
inline constexpr const char* kRuntimeUnavailable = "ERR_RUNTIME_UNAVAILABLE";
inline constexpr const char* kGpuUnavailable = "ERR_GPU_UNAVAILABLE";
inline constexpr const char* kIndex = "ERR_INDEX";
inline constexpr const char* kIndexCorrupt = "ERR_INDEX_CORRUPT";
inline constexpr const char* kIndexMismatch = "ERR_INDEX_MISMATCH";
inline constexpr const char* kModelMismatch = "ERR_MODEL_MISMATCH";
inline constexpr const char* kDimensionMismatch = "ERR_DIMENSION_MISMATCH";
inline constexpr const char* kDisposed = "ERR_DISPOSED";
inline constexpr const char* kQueueFull = "ERR_QUEUE_FULL";
inline constexpr const char* kAborted = "ERR_ABORTED";
inline constexpr const char* kDeadlineExceeded = "ERR_DEADLINE_EXCEEDED";
inline constexpr const char* kLocked = "ERR_LOCKED";
// Out of memory (std::bad_alloc) or another exhausted resource. The message says what was being
// allocated where the allocation site is known (AllocationOf), else only that one failed.
inline constexpr const char* kResource = "ERR_RESOURCE";
inline constexpr const char* kInternal = "ERR_INTERNAL";
}  // namespace codes

class Error : public std::runtime_error {
 public:
  Error(std::string code, const std::string& message) : std::runtime_error(message), code_(std::move(code)) {}

  const std::string& code() const noexcept { return code_; }

 private:
  std::string code_;
};

// Runs `fn`, turning std::bad_alloc into ERR_RESOURCE naming `what` (e.g. "the search result
// buffer (10 queries x 1000 hits)"), so a caller learns which request was too big. Wrap the large,
// caller-sized allocations; small ones reach the generic handlers below.
template <typename Fn>
auto AllocationOf(const std::string& what, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const std::bad_alloc&) {
    throw Error(codes::kResource, "out of memory allocating " + what);
  } catch (const std::length_error&) {
    throw Error(codes::kResource, "out of memory allocating " + what + " (larger than the address space)");
  }
}

// What the generic handlers say about a std::bad_alloc whose allocation site is unknown.
inline constexpr const char* kOutOfMemoryMessage = "out of memory (an allocation failed: std::bad_alloc)";

// The code for a std::exception that is not a crossmodal::Error: ERR_RESOURCE for an exhausted
// allocation, ERR_INTERNAL (a bug) for anything else.
inline const char* CodeOf(const std::exception& e) {
  return dynamic_cast<const std::bad_alloc*>(&e) != nullptr ? codes::kResource : codes::kInternal;
}

// An exception caught on a worker thread, carried to the JS thread. Empty code: no error.
struct CapturedError {
  std::string code;
  std::string message;
  explicit operator bool() const { return !code.empty(); }
};

// Runs `fn` and captures whatever it throws: nothing may escape a worker thread.
template <typename Fn>
CapturedError CaptureErrors(Fn&& fn) {
  try {
    fn();
    return {};
  } catch (const Error& e) {
    return {e.code(), e.what()};
  } catch (const std::bad_alloc&) {
    return {codes::kResource, kOutOfMemoryMessage};
  } catch (const std::exception& e) {
    return {codes::kInternal, e.what()};
  } catch (...) {
    return {codes::kInternal, "unknown native exception"};
  }
}

}  // namespace crossmodal
