// The syscall group table. Members are limited to names that exist on x86_64 or aarch64
// (IsKnownSyscall): calls that only exist on i386 (stime, vm86), powerpc (subpage_prot,
// switch_endian) or alpha/arm (pciconfig_*) are unreachable for us, because the filter refuses
// every foreign ABI outright (see SeccompPlan::foreign_abi_action).
#include "policy/syscall_groups.h"

#include <algorithm>
#include <set>
#include <string>

namespace tollgate::policy {
namespace {

std::vector<SyscallGroup> BuildTable() {
  return {
      {"@bpf",
       "load eBPF programs and maps into the kernel: a large, often exploited kernel attack "
       "surface",
       {"bpf"}},
      {"@clock",
       "set the system clock or tune its frequency",
       {"adjtimex", "clock_adjtime", "clock_settime", "settimeofday"}},
      {"@cpu-emulation",
       "legacy CPU modes: per-process segment tables (modify_ldt), a frequent exploit aid",
       {"modify_ldt"}},
      {"@debug",
       "inspect or change other processes: tracing, cross-process memory, stealing file "
       "descriptors, "
       "performance counters",
       {"kcmp", "lookup_dcookie", "perf_event_open", "pidfd_getfd", "process_vm_readv",
        "process_vm_writev", "ptrace"}},
      {"@default-deny",
       "denied in every sandbox unless a profile allows a member by name or group",
       {"@bpf", "@cpu-emulation", "@debug", "@file-handles", "@io-uring", "@keyring", "@mount",
        "@namespaces", "@obsolete", "@privileged", "@user-page-faults"}},
      {"@file-handles",
       "open files by kernel handle, bypassing the mount view (the \"shocker\" container breakout)",
       {"name_to_handle_at", "open_by_handle_at"}},
      {"@io-uring",
       "io_uring: its operations open, connect and create sockets without passing seccomp rules",
       {"io_uring_enter", "io_uring_register", "io_uring_setup"}},
      {"@keyring",
       "the kernel keyring: shared with the host, not namespaced",
       {"add_key", "keyctl", "request_key"}},
      {"@module",
       "load and unload kernel modules",
       {"create_module", "delete_module", "finit_module", "init_module"}},
      {"@mount",
       "mount, unmount, change root, and the new mount API: would detach the sandbox's read-only "
       "view",
       {"chroot", "fsconfig", "fsmount", "fsopen", "fspick", "mount", "mount_setattr", "move_mount",
        "open_tree", "pivot_root", "umount2"}},
      {"@namespaces",
       "create or join namespaces (clone and clone3 are handled by argument rules)",
       {"setns", "unshare"}},
      {"@obsolete",
       "syscalls no current program needs; kept out as unmaintained attack surface",
       {"_sysctl", "afs_syscall", "get_kernel_syms", "getpmsg", "nfsservctl", "putpmsg",
        "query_module", "security", "sysfs", "tuxcall", "uselib", "ustat", "vserver"}},
      {"@privileged",
       "host administration that needs privilege and has no use in a sandbox",
       {"@clock", "@module", "@raw-io", "@reboot", "@swap", "@system-admin"}},
      {"@raw-io", "direct access to I/O ports", {"ioperm", "iopl"}},
      {"@reboot",
       "reboot the machine or load a new kernel",
       {"kexec_file_load", "kexec_load", "reboot"}},
      {"@swap", "enable or disable swap areas", {"swapoff", "swapon"}},
      {"@system-admin",
       "process accounting, disk quotas, the kernel log buffer, hanging up the terminal",
       {"acct", "quotactl", "quotactl_fd", "syslog", "vhangup"}},
      {"@user-page-faults",
       "userfaultfd: user space stalls kernel page faults, the usual way to win kernel races",
       {"userfaultfd"}},
  };
}

void Expand(std::string_view name, std::set<std::string_view>* visiting,
            std::set<std::string>* out) {
  const SyscallGroup* group = FindSyscallGroup(name);
  // A cycle would be a bug in the table (the unit test rules it out); stop rather than recurse.
  if (group == nullptr || !visiting->insert(name).second) return;
  for (std::string_view member : group->members) {
    if (member.starts_with('@')) {
      Expand(member, visiting, out);
    } else {
      out->emplace(member);
    }
  }
  visiting->erase(name);
}

}  // namespace

const std::vector<SyscallGroup>& SyscallGroups() {
  static const std::vector<SyscallGroup> table = BuildTable();
  return table;
}

const SyscallGroup* FindSyscallGroup(std::string_view name) {
  const std::vector<SyscallGroup>& table = SyscallGroups();
  auto it = std::lower_bound(
      table.begin(), table.end(), name,
      [](const SyscallGroup& group, std::string_view key) { return group.name < key; });
  if (it == table.end() || it->name != name) return nullptr;
  return &*it;
}

std::vector<std::string> ExpandSyscallGroup(std::string_view name) {
  std::set<std::string_view> visiting;
  std::set<std::string> names;
  Expand(name, &visiting, &names);
  return {names.begin(), names.end()};
}

}  // namespace tollgate::policy
