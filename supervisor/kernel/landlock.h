// Landlock: a second, path-based fence inside the mount view. It still holds if a mount is
// wrong, and it is applied by the command process itself (it restricts the caller).
#pragma once

#include <cstdint>

#include "policy/plans.h"
#include "supervisor/kernel/status.h"

namespace tollgate::kernel {

// The highest Landlock ABI the running kernel offers; 0 when Landlock is missing or disabled.
int LandlockAbiVersion();

// The kernel rights a profile access maps onto under `abi` (for rules on a directory).
std::uint64_t LandlockFsRights(std::uint32_t access, int abi);
// Every filesystem right `abi` knows: what the ruleset handles (and so denies by default).
std::uint64_t LandlockHandledFsRights(int abi);

// Restricts the calling process (no_new_privs must already be set). `abi` is the version found
// by the supervisor. kOff and (kBestEffort with abi 0) do nothing and set *applied_abi = 0;
// kRequire with abi 0 fails. Rule paths that do not exist in the sandbox are skipped.
Status ApplyLandlock(const policy::LandlockPlan& plan, int abi, int* applied_abi);

// Nests the caller one Landlock domain deeper without taking any right it uses (the layer
// handles only making block devices, which nodev mounts refuse anyway). Landlock lets a process
// ptrace — and so open /proc/PID/exe, fd, mem, environ of — only processes in its own domain or
// beneath it: after this, the caller and its descendants cannot reach into processes of the
// domain above. The tool spawner's tools live there. Nothing when `abi` is 0.
Status NestLandlockDomain(int abi);

}  // namespace tollgate::kernel
