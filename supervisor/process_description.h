// How audit records name a process of the sandbox.
#pragma once

#include <sys/types.h>

#include <optional>

#include "supervisor/audit/record.h"

namespace tollgate {

// The process as the sandbox numbers it; its parent too, unless that is outside (the init's).
// Adds `host_pid` to `details`. nullopt when the process is gone.
std::optional<audit::ProcessInfo> DescribeProcess(pid_t host_pid, audit::Json* details);

}  // namespace tollgate
