// The seccomp plan: the default deny set, argument-level rules, and the profile's own changes.
#pragma once

#include <cstdint>
#include <string_view>

#include "policy/plans.h"
#include "policy/profile.h"

namespace tollgate::policy {

SeccompPlan CompileSeccompPlan(const SyscallSpec& spec);

// The plan for an observed sandbox (the audit log's observer): every recorded denial is answered
// by the supervisor (kNotify, same errno) once it has written the syscall.denied record, and
// execve/execveat are notified and let through once the exec record is written. Rules that are
// compatibility answers rather than denials (recorded == false: clone3's ENOSYS) stay in the
// kernel.
// With `observe_files` (audit level "files"), the calls of kObservedFileSyscalls are notified
// and let through too, once their file.access record is written.
// With `observe_connects` (network mode host), connect() is notified and let through once its
// net.connect record is written.
SeccompPlan ObserveSeccompPlan(SeccompPlan plan, bool observe_files = false,
                               bool observe_connects = false);

// The calls that open, create, remove, rename or change a file by name.
inline constexpr std::string_view kObservedFileSyscalls[] = {
    "chmod",    "chown",     "creat", "fchmodat", "fchownat",  "lchown",   "link",    "linkat",
    "mkdir",    "mkdirat",   "mknod", "mknodat",  "open",      "openat",   "openat2", "rename",
    "renameat", "renameat2", "rmdir", "symlink",  "symlinkat", "truncate", "unlink",  "unlinkat"};

// The first rule of `plan` that a call of `syscall` with `args` matches, as the kernel's filter
// would match it; nullptr when none does (the call is allowed). The observer uses it to find the
// rule and errno of a notification.
const SeccompRule* MatchSeccompRule(const SeccompPlan& plan, std::string_view syscall,
                                    const std::uint64_t (&args)[6]);

}  // namespace tollgate::policy
