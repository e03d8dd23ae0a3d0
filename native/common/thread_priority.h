// Scheduling priority of the library's compute threads. Pure C++.
//
// Why: the event loop of the Node process that calls the library shares the CPUs with the
// threads that decode, preprocess, tokenize and run the encoders. When those saturate every core
// (a busy server), a waking event loop waits for the kernel to give it a slice: on 2 vCPUs with
// two busy threads at the same priority its delay p99 is 3–4 ms before it does any work of its own,
// and the service's loop p99 reached 9–28 ms at 16–128 concurrent requests. Compute threads with
// a higher nice value (lower priority) leave the loop its slice at once (p99 0.3 ms beside the
// same busy threads at nice 10) and still get every cycle the loop does not use.
#pragma once

namespace crossmodal {

// The default niceness of compute threads (the `workerNice` load option).
inline constexpr int kDefaultWorkerNiceness = 10;
inline constexpr int kMaxWorkerNiceness = 19;

// Raises the calling thread's nice value to `niceness` (0..19) if it is lower; never lowers it
// (that would need privileges, and a thread started by a niced thread keeps its nice value).
// Linux keeps nice values per thread; elsewhere this does nothing. A hint: failures are ignored.
void LowerCurrentThreadPriority(int niceness);

// The calling thread's nice value (Linux), 0 elsewhere; for tests.
int CurrentThreadNiceness();

}  // namespace crossmodal
