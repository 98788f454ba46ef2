// The supervisor's end of seccomp user notification: receiving a notification, reading what the
// stopped process passed (bounded), and answering. Observations only: the process is stopped in
// the kernel while we read, but another thread of it may change its memory, so anything read here
// is a record of what was asked, never the reason to allow something (DESIGN.md principle 1).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "supervisor/kernel/status.h"

namespace tollgate::kernel {

struct SeccompNotification {
  std::uint64_t id = 0;
  pid_t pid = 0;  // in the supervisor's pid namespace
  int nr = -1;
  std::uint32_t arch = 0;  // AUDIT_ARCH_*
  std::uint64_t args[6] = {};
};

// SECCOMP_IOCTL_NOTIF_RECV. ENOENT: the process went away before it could be received (not an
// error for the caller: nothing to answer).
Status ReceiveNotification(int listener, SeccompNotification* out);
// SECCOMP_IOCTL_NOTIF_ID_VALID: the process is still stopped in that very call, so what was read
// from its memory belongs to it (its pid was not reused in between).
bool NotificationValid(int listener, std::uint64_t id);
// Let the call run (SECCOMP_USER_NOTIF_FLAG_CONTINUE) or fail it with `error`.
Status AnswerContinue(int listener, std::uint64_t id);
Status AnswerError(int listener, std::uint64_t id, int error);

// libseccomp's name for syscall `nr` of `arch`, or "syscall_<nr>".
std::string SyscallName(std::uint32_t arch, int nr);

// Up to `size` bytes at `address` of process `pid`, stopping at the first unreadable page;
// returns how many were read.
std::size_t ReadProcessMemory(pid_t pid, std::uint64_t address, char* out, std::size_t size);

// A NUL-terminated string at `address` of process `pid`, at most `max` bytes (*cut set when it
// was longer). False when the memory cannot be read.
bool ReadProcessString(pid_t pid, std::uint64_t address, std::size_t max, std::string* out,
                       bool* cut);
// A NULL-terminated array of string pointers (argv, envp): at most `max_items` items and
// `max_bytes` bytes in all; *cut set when something was left out.
bool ReadProcessStringArray(pid_t pid, std::uint64_t address, std::size_t max_items,
                            std::size_t max_bytes, std::vector<std::string>* out, bool* cut);

// What /proc/<pid>/status says about a process, and its links.
struct ProcessFacts {
  std::string comm;
  pid_t host_ppid = 0;
  pid_t sandbox_pid = 0;  // the innermost NSpid: as the sandbox numbers it
};
bool ReadProcessFacts(pid_t pid, ProcessFacts* out);
// Whether `path` (absolute, or relative to the process's working directory) names an existing
// file in the process's view (through /proc/<pid>/root and /proc/<pid>/cwd).
bool ProcessPathExists(pid_t pid, const std::string& path);
// readlink("/proc/<pid>/<link>"), e.g. "cwd" or "exe"; empty when it cannot be read.
std::string ReadProcessLink(pid_t pid, const char* link);

}  // namespace tollgate::kernel
