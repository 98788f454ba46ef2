// Resource limits: which kernel mechanism enforces each planned limit on this machine, and the
// code that applies them.
//
// Preferred: a delegated cgroup v2 (memory.max, pids.max) when the supervisor sits in one that
// it may write and whose parent hands it the memory and pids controllers. Otherwise rlimits:
//   memory     -> RLIMIT_DATA, per process. Not RLIMIT_AS: V8, the JVM and Go reserve large
//                 address ranges they never touch, and would fail to start under RLIMIT_AS.
//   processes  -> RLIMIT_NPROC. Since Linux 5.14 the count is kept per user namespace, so it
//                 counts only the sandbox's processes; it is set to N+1 because the sandbox
//                 init (ours) is one of them.
//   cpu        -> RLIMIT_CPU soft N (SIGXCPU), hard N+1 (SIGKILL).
//   file size  -> RLIMIT_FSIZE (SIGXFSZ).   open files -> RLIMIT_NOFILE.
//   core dumps -> RLIMIT_CORE 0, always.
//   wall       -> the supervisor's timer.   tmpfs -> the size= of the plan's tmpfs mounts.
// Which limits a run *reached* is observed (signals, samples, cgroup event counters), never
// guessed from a program's output; see pidns_init.h.
#pragma once

#include <sys/resource.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "policy/plans.h"
#include "supervisor/kernel/status.h"

namespace tollgate::kernel {

struct RlimitSetting {
  int resource = 0;
  rlim_t soft = 0;
  rlim_t hard = 0;
};

// Fixed capacity so the command process applies them without allocating.
struct RlimitSettings {
  std::array<RlimitSetting, 8> items{};
  std::size_t count = 0;
  void Add(int resource, rlim_t soft, rlim_t hard) { items[count++] = {resource, soft, hard}; }
};

// Lowers each limit; a value above the current hard limit is clamped to it (stricter stays
// stricter, and raising a hard limit needs a capability the command does not have).
Status ApplyRlimits(const RlimitSettings& settings);

struct CgroupV2Probe {
  bool available = false;
  std::string directory;  // the supervisor's own cgroup, e.g. /sys/fs/cgroup/user.slice/...
  std::string why;        // when not available: why not
};

// One read of /proc/self/cgroup and /proc/self/mountinfo, then the cgroup's own files.
CgroupV2Probe ProbeCgroupV2();

struct LimitMechanism {
  policy::LimitKind kind;
  std::uint64_t value = 0;
  std::string mechanism;  // "rlimit RLIMIT_NPROC", "cgroup pids.max", "not enforced: …"
  bool enforced = true;
};

struct LimitSetup {
  RlimitSettings rlimits;
  std::vector<LimitMechanism> mechanisms;  // one per planned limit, in plan order
  bool use_cgroup = false;
};

// Decides the mechanism for every planned limit. Pure: takes the cgroup probe as input.
LimitSetup PlanLimits(const policy::LimitsPlan& limits, const policy::MountPlan& mounts,
                      const CgroupV2Probe& cgroup);

// A cgroup created for one sandbox under the supervisor's delegated cgroup.
struct SandboxCgroup {
  std::string directory;
  int dir_fd = -1;  // for clone3 CLONE_INTO_CGROUP
};

Status CreateSandboxCgroup(const CgroupV2Probe& probe, const policy::LimitsPlan& limits,
                           SandboxCgroup* cgroup);
// Reads memory.events / pids.events: which limits the sandbox ran into.
void ReadCgroupLimitEvents(const SandboxCgroup& cgroup, bool* memory_hit, bool* processes_hit);
void RemoveSandboxCgroup(SandboxCgroup* cgroup);

}  // namespace tollgate::kernel
