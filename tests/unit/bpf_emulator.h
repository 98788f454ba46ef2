// A classic-BPF interpreter for seccomp programs, so tests can ask "what would the kernel decide
// for this call?" without installing a filter. It implements the instructions a seccomp filter may
// contain and reports anything else as an error instead of guessing.
#pragma once

#include <linux/filter.h>
#include <linux/seccomp.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "policy/plans.h"

namespace tollgate::emulator {

struct BpfVerdict {
  std::uint32_t value = 0;  // SECCOMP_RET_* | data; meaningful only when error is empty
  std::string error;        // "unknown opcode 0x.. at 12", "jump past the end at 3", …
  bool ok() const { return error.empty(); }
};

// Runs `program` over `data` as the kernel's seccomp filter would.
BpfVerdict RunSeccompBpf(const std::vector<sock_filter>& program, const seccomp_data& data);

// A seccomp_data for one call: the native (or given) architecture, arguments as 64-bit values.
seccomp_data MakeSeccompData(std::uint32_t arch, int nr, std::vector<std::uint64_t> args = {});

// The verdict a SeccompPlan means for one call, read straight from the plan (no libseccomp, no
// BPF): the reference the compiled program is checked against. Low-32-bit conditions compare the
// lower halves. Sets *conflict when rules with different actions match the same call.
std::uint32_t EvaluateSeccompPlan(const policy::SeccompPlan& plan, std::string_view syscall,
                                  const std::array<std::uint64_t, 6>& args, std::string* conflict);

// SECCOMP_RET_* for a plan action.
std::uint32_t SeccompReturnValue(const policy::SeccompAction& action);

}  // namespace tollgate::emulator
