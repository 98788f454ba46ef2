// Capabilities inside the sandbox's user namespace.
//
// The sandbox init holds every capability of its *own* user namespace (never of the host's) while
// it builds the mount view; it then drops all of them before the command is forked, so neither the
// init nor the command has any capability afterwards.
#pragma once

#include "supervisor/kernel/status.h"

namespace tollgate::kernel {

// True when the effective set holds CAP_SYS_ADMIN (in the current user namespace).
bool HasEffectiveSysAdmin();

// Makes effective = permitted again (after a uid change the kernel may have cleared the
// effective set). Requires PR_SET_KEEPCAPS to have kept the permitted set.
Status RaiseEffectiveToPermitted();

// Locks the securebits (no root magic, no setuid fixups, no ambient raise), empties the bounding
// and ambient sets, then the permitted/effective/inheritable sets. Allocation-free.
Status DropAllCapabilities();

}  // namespace tollgate::kernel
