// Exclusive lock on a directory, so two openers (processes, or two handles in one process) never
// share it. Pure C++: the binding wraps it in DirectoryLock.
#pragma once

#include <string>

namespace crossmodal {

// flock(LOCK_EX | LOCK_NB) on <dir>/LOCK. The kernel drops the lock when the descriptor is closed,
// including when the process dies (SIGKILL too), so a crash never leaves a stale lock behind.
// flock belongs to the open file description, not the process: a second DirLock on the same
// directory in this process is refused like one in another process. (On NFS Linux emulates flock
// with per-process POSIX locks, so there only other machines and processes are kept out.)
class DirLock {
 public:
  // Creates <dir>/LOCK if missing (the directory must exist) and takes the lock. Throws
  // ERR_LOCKED when it is held elsewhere, with a message "<what> <dir> is open in another process
  // (pid N) or already open in this one" (the pid when the holder's is readable); ERR_IO when the
  // file cannot be opened or locked.
  DirLock(const std::string& dir, const std::string& what);
  ~DirLock();

  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;

  // Idempotent.
  void Release() noexcept;
  bool held() const noexcept { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

}  // namespace crossmodal
