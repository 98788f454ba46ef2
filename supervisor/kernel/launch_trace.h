// Phase timestamps of one launch, for measuring where the launch time goes (docs/BENCHMARKS.md).
// Compiled in only with -DTOLLGATE_LAUNCH_TRACE=ON; otherwise every call is an empty inline.
// Each call writes one line "trace <CLOCK_MONOTONIC seconds> <pid> <label>" to stderr with a
// single write(2), so it is safe between fork and exec and in the sandbox init.
#pragma once

#ifdef TOLLGATE_LAUNCH_TRACE
#include <time.h>
#include <unistd.h>

#include <cstdio>
#endif

namespace tollgate::kernel {

#ifdef TOLLGATE_LAUNCH_TRACE
inline void LaunchTrace(const char* label) {
  struct timespec now {};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  char line[128];
  int n = std::snprintf(line, sizeof line, "trace %ld.%06ld %d %s\n", static_cast<long>(now.tv_sec),
                        now.tv_nsec / 1000, static_cast<int>(::getpid()), label);
  if (n > 0) (void)!::write(2, line, static_cast<std::size_t>(n));
}
#else
inline void LaunchTrace(const char*) {}
#endif

}  // namespace tollgate::kernel
