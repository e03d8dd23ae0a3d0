// Opening and reading the files the native core reads: images, index files, the files of a
// model bundle (configs, vocabularies, tokenizer models, ONNX models).
//
// Every one of them is opened through OpenRegularFile, which refuses what is not a regular file
// before reading a byte. A FIFO with no writer would otherwise block the worker thread in open()
// or read() forever, a character device (/dev/zero, /dev/urandom) never ends, and a directory
// "opens" and reports a nonsense size. Paths holding a NUL byte are refused rather than silently
// cut at it (the OS sees a C string), so "a.jpg\0.txt" cannot name a.jpg.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

#include "common/error.h"

namespace crossmodal {

// Throws ERR_INVALID_ARGUMENT if `path` contains a NUL byte; `what` names the argument.
void CheckPathHasNoNul(const std::string& path, const char* what = "path");

// An open file descriptor, closed on destruction.
class FileHandle {
 public:
  FileHandle() = default;
  explicit FileHandle(int fd) : fd_(fd) {}
  FileHandle(FileHandle&& other) noexcept : fd_(other.release()) {}
  FileHandle& operator=(FileHandle&& other) noexcept;
  FileHandle(const FileHandle&) = delete;
  FileHandle& operator=(const FileHandle&) = delete;
  ~FileHandle();

  int get() const { return fd_; }
  int release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_ = -1;
};

// Opens `path` read-only as a regular file: open(O_RDONLY | O_NONBLOCK | O_CLOEXEC) (O_NONBLOCK
// so that opening a FIFO cannot block), fstat, refuse anything but a regular file, then clear
// O_NONBLOCK for the reads. Symlinks are followed (model caches are made of them). Sets *size.
// Throws ERR_INVALID_ARGUMENT for a NUL in the path, `open_code` (the caller's code for a missing
// or unreadable file: ERR_IO, ERR_MODEL_LOAD) when open() fails, ERR_IO naming the kind of file
// (directory, FIFO, device, socket) when it is not a regular file.
FileHandle OpenRegularFile(const std::string& path, const char* open_code, uint64_t* size);

// Whether a bundle file is present: false when nothing is there, true for a regular file (or a
// symlink to one). Anything else under that name (a FIFO, device, directory, socket) throws ERR_IO
// naming it, rather than being mistaken for a missing file or opened and blocked on.
bool RegularFileExists(const std::string& path);

// Checks that `path` can be opened as a regular file (OpenRegularFile) and closes it again: for
// files a library opens by path itself (ONNX Runtime's models, FAISS's mmap loader).
void CheckRegularFile(const std::string& path, const char* open_code);

// Reads exactly `size` bytes from `fd` into `out` (retrying short reads and EINTR). Throws
// ERR_IO when the file ends early (it shrank since fstat) or read() fails.
void ReadFully(int fd, void* out, size_t size, const std::string& path);

// The whole file; throws ERR_MODEL_LOAD naming the path when it cannot be read, ERR_IO when it is
// not a regular file, ERR_MODEL_LOAD when it is larger than `max_bytes` (bundle files are
// configs, vocabularies and tokenizer models: the default of 1 GiB is far above any real one).
std::string ReadFileToString(const std::string& path, uint64_t max_bytes = uint64_t{1} << 30);

// The file parsed as JSON; throws ERR_MODEL_LOAD naming the path when it cannot be read or parsed.
nlohmann::json ReadJsonFile(const std::string& path);

// Runs `fn`. A nlohmann::json exception escaping it — a value of the wrong type read with
// value()/get(), a missing key read with at() — becomes Error(code, "<what>: …"): JSON read from
// a bundle, an index file or an option is input, and its type errors are the input's fault, not
// an internal error (fuzzing found `"tokenizer_class": true` reaching std::terminate). The
// public entry points that interpret JSON (ReadModelBundle, LoadTokenizer, ParsePreprocessConfig,
// IndexSpec::FromJson) run their bodies through this, so no accessor inside needs its own check.
template <typename Fn>
auto RethrowJsonErrors(const char* code, const std::string& what, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const nlohmann::json::exception& e) {
    throw Error(code, what + ": a value has the wrong type or shape (" + e.what() + ")");
  }
}

}  // namespace crossmodal
