#include "common/thread_priority.h"

#include <algorithm>

#ifdef __linux__
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#endif

namespace crossmodal {

#ifdef __linux__
namespace {
// setpriority(PRIO_PROCESS, tid) applies to that one thread on Linux (not POSIX's per-process
// semantics), which is what makes a per-thread priority possible here.
id_t CurrentTid() { return static_cast<id_t>(::syscall(SYS_gettid)); }
}  // namespace

int CurrentThreadNiceness() {
  errno = 0;
  const int nice = ::getpriority(PRIO_PROCESS, CurrentTid());
  return errno == 0 ? nice : 0;
}

void LowerCurrentThreadPriority(int niceness) {
  niceness = std::clamp(niceness, 0, kMaxWorkerNiceness);
  if (niceness <= CurrentThreadNiceness()) return;
  (void)::setpriority(PRIO_PROCESS, CurrentTid(), niceness);
}
#else
int CurrentThreadNiceness() { return 0; }
void LowerCurrentThreadPriority(int) {}
#endif

}  // namespace crossmodal
