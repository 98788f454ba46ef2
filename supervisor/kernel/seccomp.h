// The seccomp filter: a policy::SeccompPlan compiled to classic BPF with libseccomp, and installed.
//
// Compiling happens once in the supervisor, before fork, where allocating and failing loudly are
// fine. Installing happens in the child right before execve, where the only safe work is one
// syscall: the program is already built and the child only points the kernel at it.
#pragma once

#include <linux/filter.h>

#include <string>
#include <vector>

#include "policy/plans.h"
#include "supervisor/kernel/status.h"

namespace tollgate::kernel {

// Builds the BPF program for the native architecture. Calls through any other ABI (i386 via
// int 0x80, x32 syscall numbers) get plan.foreign_abi_action. Syscall names this libseccomp does
// not know, or that do not exist on this architecture, are skipped and listed in `skipped`
// (sorted, without duplicates; may be null): a profile is validated against both supported
// architectures, so a name missing here is one the process cannot call anyway.
//
// An ArgCondition with low32 compares only the lower half of the argument, as the kernel does for
// an int parameter. libseccomp 2.5 always compares all 64 bits (its SCMP_CMP32 only truncates the
// datum), so: kEq and kMaskedEq become a masked comparison on the low 32 bits, which is exact;
// kNe, kGt and kGe stay 64-bit comparisons, which match a superset (any high bit makes them true),
// so a denial can only widen; kLt and kLe would narrow a denial and are refused.
Status CompileSeccompFilter(const policy::SeccompPlan& plan, std::vector<sock_filter>* program,
                            std::vector<std::string>* skipped = nullptr);

// seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, program). The caller has set
// no_new_privs. With `listener_socket` (>= 0) the filter also gets a user-notification listener,
// which is sent over that unix socket (SCM_RIGHTS) and closed here: notifications (kNotify
// rules) wait for whoever receives it. Makes no allocation on success; on failure the Status
// holds only short strings (within std::string's inline buffer), so it is safe between fork and
// execve.
Status InstallSeccompFilter(const std::vector<sock_filter>& program, int listener_socket = -1);

}  // namespace tollgate::kernel
