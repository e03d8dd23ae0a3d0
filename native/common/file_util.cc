#include "common/file_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/error.h"

namespace crossmodal {

namespace {

const char* KindOf(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

}  // namespace

void CheckPathHasNoNul(const std::string& path, const char* what) {
  if (path.find('\0') != std::string::npos) {
    throw Error(codes::kInvalidArgument, std::string(what) + " contains a NUL character");
  }
}

FileHandle& FileHandle::operator=(FileHandle&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.release();
  }
  return *this;
}

FileHandle::~FileHandle() {
  if (fd_ >= 0) ::close(fd_);
}

FileHandle OpenRegularFile(const std::string& path, const char* open_code, uint64_t* size) {
  CheckPathHasNoNul(path);
  if (path.empty()) throw Error(open_code, "cannot open an empty path");
  int fd;
  do fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  while (fd < 0 && errno == EINTR);
  if (fd < 0) throw Error(open_code, "cannot open " + path + ": " + std::strerror(errno));
  FileHandle file(fd);
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw Error(codes::kIo, "cannot stat " + path + ": " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) {
    throw Error(codes::kIo, path + " is " + KindOf(st.st_mode) + ", not a regular file");
  }
  // Regular files ignore O_NONBLOCK today, but clearing it keeps reads blocking-correct on any
  // file system that would honour it.
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
    throw Error(codes::kIo, "cannot configure " + path + ": " + std::strerror(errno));
  }
  if (size != nullptr) *size = static_cast<uint64_t>(st.st_size);
  return file;
}

bool RegularFileExists(const std::string& path) {
  CheckPathHasNoNul(path);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return false;  // absent, or a dangling symlink
  if (S_ISREG(st.st_mode)) return true;
  throw Error(codes::kIo, path + " is " + KindOf(st.st_mode) + ", not a regular file");
}

void CheckRegularFile(const std::string& path, const char* open_code) {
  uint64_t size = 0;
  OpenRegularFile(path, open_code, &size);
}

void ReadFully(int fd, void* out, size_t size, const std::string& path) {
  auto* p = static_cast<char*>(out);
  while (size > 0) {
    const ssize_t n = ::read(fd, p, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error(codes::kIo, "cannot read " + path + ": " + std::strerror(errno));
    }
    if (n == 0) throw Error(codes::kIo, "cannot read " + path + ": the file shrank while it was read");
    p += n;
    size -= static_cast<size_t>(n);
  }
}

std::string ReadFileToString(const std::string& path, uint64_t max_bytes) {
  uint64_t size = 0;
  FileHandle file = OpenRegularFile(path, codes::kModelLoad, &size);
  if (size > max_bytes) {
    throw Error(codes::kModelLoad, path + " is " + std::to_string(size) + " bytes, more than the limit of " +
                                       std::to_string(max_bytes) + " for a model bundle file");
  }
  std::string out = AllocationOf(path + " (" + std::to_string(size) + " bytes)",
                                 [&] { return std::string(static_cast<size_t>(size), '\0'); });
  ReadFully(file.get(), out.data(), out.size(), path);
  return out;
}

nlohmann::json ReadJsonFile(const std::string& path) {
  std::string text = ReadFileToString(path);
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw Error(codes::kModelLoad, path + " is not valid JSON: " + e.what());
  }
}

}  // namespace crossmodal
