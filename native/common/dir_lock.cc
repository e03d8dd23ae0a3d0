#include "common/dir_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "common/error.h"

namespace crossmodal {
namespace {

std::string ErrnoText(int err) { return std::strerror(err); }

// The pid the holder wrote, or 0 when the file is empty or not a pid (a holder between its
// flock and its write, or one that released it).
long ReadHolderPid(int fd) {
  char buf[32] = {};
  ssize_t n;
  do n = ::pread(fd, buf, sizeof(buf) - 1, 0);
  while (n < 0 && errno == EINTR);
  if (n <= 0) return 0;
  char* end = nullptr;
  long pid = std::strtol(buf, &end, 10);
  return end != buf && pid > 0 ? pid : 0;
}

}  // namespace

DirLock::DirLock(const std::string& dir, const std::string& what) {
  const std::string path = dir + "/LOCK";
  // O_CLOEXEC: a child the holder spawns must not inherit the description, or the lock would
  // outlive Release() for as long as that child runs.
  int fd;
  do fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    const int err = errno;
    throw Error(codes::kIo, "cannot open lock file " + path + ": " + ErrnoText(err));
  }
  int rc;
  do rc = ::flock(fd, LOCK_EX | LOCK_NB);
  while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    const int err = errno;
    const long holder = err == EWOULDBLOCK ? ReadHolderPid(fd) : 0;
    ::close(fd);
    if (err != EWOULDBLOCK) throw Error(codes::kIo, "cannot lock " + path + ": " + ErrnoText(err));
    const std::string pid = holder > 0 ? " (pid " + std::to_string(holder) + ")" : "";
    throw Error(codes::kLocked,
                what + " " + dir + " is open in another process" + pid + " or already open in this one");
  }
  fd_ = fd;
  // The pid is only for the message a refused opener shows; failing to write it is harmless.
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd_, 0) == 0) {
    [[maybe_unused]] const ssize_t written = ::pwrite(fd_, pid.data(), pid.size(), 0);
  }
}

DirLock::~DirLock() { Release(); }

void DirLock::Release() noexcept {
  if (fd_ < 0) return;
  // Empty the file while still holding the lock, so after a clean release it names no holder.
  // (A killed holder leaves its pid; the next holder overwrites it.)
  [[maybe_unused]] const int truncated = ::ftruncate(fd_, 0);
  ::close(fd_);
  fd_ = -1;
}

}  // namespace crossmodal
