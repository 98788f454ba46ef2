// The sandbox's private network namespace (network "none"): only loopback, brought up so that
// tools talking to 127.0.0.1 inside the sandbox keep working.
#pragma once

#include "supervisor/kernel/status.h"

namespace tollgate::kernel {

Status BringUpLoopback();

}  // namespace tollgate::kernel
