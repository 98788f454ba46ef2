// The seccomp plan: the default deny set, argument-level rules, and the profile's own changes.
#pragma once

#include "policy/plans.h"
#include "policy/profile.h"

namespace tollgate::policy {

SeccompPlan CompileSeccompPlan(const SyscallSpec& spec);

}  // namespace tollgate::policy
