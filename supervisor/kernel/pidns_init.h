// The sandbox's pid 1: forks the command, reaps every process, forwards the supervisor's
// signals, observes limit evidence, and reports the outcome on the status pipe.
//
// Limits reached are *observed*, never guessed from output:
//   processes  - /proc (the sandbox's own) is sampled; the count reached the limit;
//   memory     - a process's data size (/proc/<pid>/statm, what RLIMIT_DATA counts) reached 95%
//                of the limit, or a process that failed had a peak RSS (wait4 rusage) of at least
//                90% of it;
//   cpu        - a process was ended by SIGXCPU, or by SIGKILL after using the CPU limit;
//   file size  - a process was ended by SIGXFSZ;
//   tmpfs      - a sized tmpfs (statfs) had no free blocks, while sampling or at the end.
// Only processes the init reaps itself (the command and orphans) are seen by wait4; processes
// reaped by another parent count through that parent's rusage. Sampling runs on a 50 ms timer,
// only while the command runs and only when a sampled limit is set.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "supervisor/kernel/status.h"

namespace tollgate::kernel {

// ---------------------------------------------------------------- status pipe protocol

enum class StatusMessageType : std::uint32_t {
  kSetupError = 1,   // step, path, error: the sandbox could not be built; the command never ran
  kSkippedOps = 2,   // index: how many; path: that many uint32 indices of skipped mount ops
  kPlaceholder = 3,  // path, device, inode: a kProtect placeholder that was created
  kFinal = 4,        // wait_status, limits_hit: the command's end
};

// Fixed size and smaller than PIPE_BUF, so every message is one atomic write.
struct StatusMessage {
  StatusMessageType type = StatusMessageType::kSetupError;
  std::int32_t error = 0;
  std::uint64_t index = 0;
  std::uint64_t device = 0;
  std::uint64_t inode = 0;
  std::int32_t wait_status = 0;
  std::uint32_t limits_hit = 0;  // bit (1u << LimitKind)
  // kFinal: getrusage(RUSAGE_CHILDREN) of the init once everything was reaped: the command and
  // all its descendants.
  std::uint64_t user_usec = 0;
  std::uint64_t system_usec = 0;
  std::uint64_t max_rss_kib = 0;
  char step[96] = {};
  char path[3072] = {};
};
static_assert(sizeof(StatusMessage) <= 4096, "status messages must fit in PIPE_BUF");

void SendStatusMessage(int fd, const StatusMessage& message);
StatusMessage SetupErrorMessage(const Status& status);
void CopyTruncated(char* destination, std::size_t size, const std::string& source);

// ---------------------------------------------------------------- the init

struct InitSampling {
  std::uint64_t processes = 0;           // limit; 0: not observed
  std::uint64_t memory_bytes = 0;        // limit; 0: not observed
  std::uint64_t cpu_seconds = 0;         // limit; 0: not observed
  bool file_size = false;                // a file size limit is set
  std::vector<std::string> tmpfs_paths;  // sized tmpfs mounts to statfs
};

struct InitConfig {
  int status_fd = -1;
  InitSampling sampling;
  // Signals the init passes on to the command when they come from outside the sandbox.
  std::vector<int> forwarded_signals;
  // Runs in the command process with the init's signal mask still blocked; must not return
  // (exec or _exit). That process shares the init's memory until it execs (vfork-style, see
  // pidns_init.cc): it may read anything and allocate, but must not change what the init uses.
  // Start the command with fork (memory of its own) instead of vfork-style (pidns_init.cc):
  // for a command_main that changes a property of its memory, such as dumpable.
  bool fork_command = false;
  void (*command_main)(void* arg) = nullptr;
  void* command_arg = nullptr;
  // Fds the init holds only for the command process: closed once it is started.
  std::vector<int> close_after_command_start;
};

// Never returns. The caller has dropped capabilities and set no_new_privs.
[[noreturn]] void RunSandboxInit(const InitConfig& config);

}  // namespace tollgate::kernel
