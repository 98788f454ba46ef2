// Syscall groups: one table of named sets ("@debug", "@mount", …) with a help text each.
// Members are syscall names or other groups. The default deny set is a group too.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tollgate::policy {

struct SyscallGroup {
  std::string_view name;                  // "@debug"
  std::string_view help;                  // one line, shown by `tollgate explain`
  std::vector<std::string_view> members;  // syscall names and "@group" names
};

// The whole table, sorted by name.
const std::vector<SyscallGroup>& SyscallGroups();

// nullptr when `name` (with its leading '@') is not a group.
const SyscallGroup* FindSyscallGroup(std::string_view name);

// The syscalls of a group with nested groups expanded: sorted, without duplicates.
// Empty for an unknown group.
std::vector<std::string> ExpandSyscallGroup(std::string_view name);

// True when `name` is a Linux syscall name on x86_64 or aarch64 (a static list, no libseccomp).
bool IsKnownSyscall(std::string_view name);

// Every syscall name IsKnownSyscall accepts, sorted.
const std::vector<std::string_view>& KnownSyscalls();

// The group every sandbox denies unless a profile allows a member explicitly.
inline constexpr std::string_view kDefaultDenyGroup = "@default-deny";

}  // namespace tollgate::policy
