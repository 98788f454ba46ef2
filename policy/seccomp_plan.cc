// The seccomp plan: a deny list over the native ABI.
//
// Three layers, in this order:
//   1. name-level denials from @default-deny, each tagged with the innermost group that lists it;
//   2. argument-level rules for calls a sandbox needs but whose dangerous forms must not pass
//      (ioctl, clone, clone3, socket, personality, seccomp, memfd_create);
//   3. the profile: `deny` adds names, `allow` removes names, `log` marks names for the audit.
// When `deny` and `allow` name the same syscall, the denial wins: a profile that extends another
// cannot quietly undo a denial it inherited, and the strictest reading of a profile is the one
// that runs.
//
// No syscalls and no libseccomp here: supervisor/kernel/seccomp.cc turns the plan into BPF.
#include "policy/seccomp_plan.h"

#include <errno.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "policy/syscall_groups.h"

namespace tollgate::policy {
namespace {

// Values from the kernel's UAPI headers, spelled out so policy/ compiles without them and the
// plan is the same whatever machine compiles it.
constexpr std::uint64_t kTiocsti = 0x5412;
constexpr std::uint64_t kTioclinux = 0x541C;
constexpr std::uint64_t kSeccompFilterFlagNewListener = 1u << 3;
constexpr std::uint64_t kMfdNoexecSeal = 0x0008;
// PER_LINUX32 (0x0008) | UNAME26 (0x0020000): the largest harmless personality value.
constexpr std::uint64_t kLargestHarmlessPersonality = 0x0020008;
// AF_INET6: every family above it is refused.
constexpr std::uint64_t kAfInet6 = 10;

// CLONE_NEWTIME shares its bit with CSIGNAL (the exit-signal byte) in clone(); the kernel takes a
// time namespace only from unshare and clone3, both denied. Checking the bit anyway costs nothing:
// an exit signal of 128 or more is invalid and the kernel refuses it too.
struct CloneNamespaceFlag {
  std::uint64_t bit;
  std::string_view name;
};

constexpr CloneNamespaceFlag kCloneNamespaceFlags[] = {
    {0x00000080, "CLONE_NEWTIME"}, {0x00020000, "CLONE_NEWNS"},  {0x02000000, "CLONE_NEWCGROUP"},
    {0x04000000, "CLONE_NEWUTS"},  {0x08000000, "CLONE_NEWIPC"}, {0x10000000, "CLONE_NEWUSER"},
    {0x20000000, "CLONE_NEWPID"},  {0x40000000, "CLONE_NEWNET"},
};

// Families 3..9, between AF_INET (2) and AF_INET6 (10): old protocol stacks nobody needs.
constexpr std::string_view kLegacySocketFamilies[] = {
    "AF_AX25", "AF_IPX", "AF_APPLETALK", "AF_NETROM", "AF_BRIDGE", "AF_ATMPVC", "AF_X25",
};
constexpr std::uint64_t kFirstLegacySocketFamily = 3;

ArgCondition Low32(unsigned index, ArgCompare op, std::uint64_t value, std::uint64_t mask = 0) {
  return ArgCondition{index, op, value, mask, /*low32=*/true};
}

SeccompAction Errno(int value) {
  return SeccompAction{SeccompActionKind::kErrno, value};
}

// The argument-level rules every sandbox gets. `deny` is the profile's errno action; rules whose
// errno is chosen for compatibility (ENOSYS, EAFNOSUPPORT) keep their own.
std::vector<SeccompRule> ArgumentRules(const SeccompAction& deny) {
  const std::string group(kDefaultDenyGroup);
  std::vector<SeccompRule> rules;

  // ioctl(fd, request): the kernel reads request as an unsigned int, so junk in the upper half of
  // the register must not make the comparison miss (CVE-2019-10063).
  rules.push_back({"ioctl",
                   deny,
                   {Low32(1, ArgCompare::kEq, kTiocsti)},
                   group,
                   "ioctl(TIOCSTI) pushes keystrokes into the user's terminal (CVE-2017-5226); "
                   "compared on the low 32 bits, as the kernel reads it (CVE-2019-10063)"});
  rules.push_back(
      {"ioctl",
       deny,
       {Low32(1, ArgCompare::kEq, kTioclinux)},
       group,
       "ioctl(TIOCLINUX) can paste the console selection as keyboard input and read the "
       "screen; compared on the low 32 bits, as the kernel reads it"});

  // clone(flags, …): flags is argument 0 on x86_64 and aarch64. One rule per bit because a rule
  // holds at most one comparison per argument and the conditions of a rule are ANDed.
  for (const CloneNamespaceFlag& flag : kCloneNamespaceFlags) {
    rules.push_back({"clone",
                     deny,
                     {Low32(0, ArgCompare::kMaskedEq, flag.bit, flag.bit)},
                     group,
                     "clone with " + std::string(flag.name) +
                         " creates a namespace: a nested user namespace regains capabilities "
                         "and can detach the read-only mounts"});
  }

  rules.push_back({"clone3",
                   Errno(ENOSYS),
                   {},
                   group,
                   "clone3 passes its flags in memory seccomp cannot read; ENOSYS makes libc fall "
                   "back to clone, whose flags are checked",
                   /*recorded=*/false});

  // socket(family, …): only AF_UNSPEC (0), AF_UNIX (1), AF_INET (2) and AF_INET6 (10) pass.
  rules.push_back({"socket",
                   Errno(EAFNOSUPPORT),
                   {Low32(0, ArgCompare::kGt, kAfInet6)},
                   group,
                   "address families above AF_INET6 (AF_NETLINK, AF_PACKET, AF_ALG, AF_VSOCK, …) "
                   "reach the host kernel or host services"});
  for (std::size_t i = 0; i < std::size(kLegacySocketFamilies); ++i) {
    rules.push_back({"socket",
                     Errno(EAFNOSUPPORT),
                     {Low32(0, ArgCompare::kEq, kFirstLegacySocketFamily + i)},
                     group,
                     std::string(kLegacySocketFamilies[i]) +
                         " is a legacy protocol family: kernel attack surface with no use here"});
  }

  rules.push_back(
      {"personality",
       deny,
       {Low32(0, ArgCompare::kGt, kLargestHarmlessPersonality)},
       group,
       "personality flags beyond PER_LINUX32|UNAME26 (READ_IMPLIES_EXEC, ADDR_NO_RANDOMIZE, "
       "MMAP_PAGE_ZERO, …) switch off exploit mitigations; the query personality(0xffffffff) is "
       "refused too, because libseccomp takes one comparison per argument in a rule and refuses "
       "an allow rule (the default action) that would carve it out"});

  rules.push_back({"seccomp",
                   deny,
                   {Low32(1, ArgCompare::kMaskedEq, kSeccompFilterFlagNewListener,
                          kSeccompFilterFlagNewListener)},
                   group,
                   "SECCOMP_FILTER_FLAG_NEW_LISTENER would let the sandbox answer its own "
                   "children's syscalls with a listener the supervisor does not see"});

  // memfd_create(name, flags): a memfd lives on the kernel's internal tmpfs, which no mount of
  // the sandbox governs, so noexec cannot stop fexecve() of one and Landlock does not check it.
  // Only sealed non-executable memfds are allowed; ENOSYS makes libraries fall back to a file in
  // /tmp or /dev/shm, which are noexec.
  rules.push_back({"memfd_create",
                   Errno(ENOSYS),
                   {Low32(1, ArgCompare::kMaskedEq, 0, kMfdNoexecSeal)},
                   group,
                   "an executable memfd would run code written at run time outside every noexec "
                   "mount; only MFD_NOEXEC_SEAL memfds are allowed"});
  return rules;
}

struct NameDenial {
  std::string group;
  std::string why;
};

// Adds every syscall of `group_name` (recursively) to `denied`, tagged with the innermost group
// that lists it, so `tollgate explain` says "@debug" rather than "@default-deny".
void AddGroupDenials(std::string_view group_name, std::set<std::string_view>* visiting,
                     std::map<std::string, NameDenial>* denied) {
  const SyscallGroup* group = FindSyscallGroup(group_name);
  if (group == nullptr || !visiting->insert(group_name).second) return;
  for (std::string_view member : group->members) {
    if (member.starts_with('@')) {
      AddGroupDenials(member, visiting, denied);
    } else {
      denied->try_emplace(std::string(member),
                          NameDenial{std::string(group->name), std::string(group->help)});
    }
  }
  visiting->erase(group_name);
}

// A profile entry is a name or an "@group"; either way, the syscalls it stands for.
std::vector<std::string> NamesOf(const std::string& entry) {
  if (entry.starts_with('@')) return ExpandSyscallGroup(entry);
  return {entry};
}

auto ConditionKey(const ArgCondition& c) {
  return std::make_tuple(c.index, c.op, c.value, c.mask, c.low32);
}

bool ConditionsLess(const std::vector<ArgCondition>& a, const std::vector<ArgCondition>& b) {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(),
                                      [](const ArgCondition& x, const ArgCondition& y) {
                                        return ConditionKey(x) < ConditionKey(y);
                                      });
}

}  // namespace

SeccompPlan CompileSeccompPlan(const SyscallSpec& spec) {
  const SeccompAction deny = Errno(spec.errno_value.value_or(EPERM));

  std::map<std::string, NameDenial> denied;
  std::set<std::string_view> visiting;
  AddGroupDenials(kDefaultDenyGroup, &visiting, &denied);

  std::set<std::string> denied_by_profile;
  for (const std::string& entry : spec.deny) {
    for (std::string& name : NamesOf(entry)) {
      denied.try_emplace(name, NameDenial{entry.starts_with('@') ? entry : std::string(),
                                          "denied by the profile (syscalls.deny: " + entry + ")"});
      denied_by_profile.insert(std::move(name));
    }
  }

  std::set<std::string> allowed_by_name;  // written as a name, not reached through a group
  for (const std::string& entry : spec.allow) {
    for (const std::string& name : NamesOf(entry)) {
      if (!denied_by_profile.contains(name)) denied.erase(name);
    }
    if (!entry.starts_with('@') && !denied_by_profile.contains(entry)) {
      allowed_by_name.insert(entry);
    }
  }

  SeccompPlan plan;
  std::set<std::string> unconditional_argument_rules;  // syscalls with a rule that has no condition
  for (SeccompRule& rule : ArgumentRules(deny)) {
    if (allowed_by_name.contains(rule.syscall)) continue;
    if (rule.conditions.empty()) {
      // clone3 keeps ENOSYS even when a profile denies it by name: EPERM would stop libc from
      // falling back to clone and break thread creation.
      unconditional_argument_rules.insert(rule.syscall);
    } else if (denied.contains(rule.syscall)) {
      continue;  // the whole call is denied; a narrower rule would only compete with it
    }
    plan.rules.push_back(std::move(rule));
  }
  for (auto& [name, denial] : denied) {
    if (unconditional_argument_rules.contains(name)) continue;
    plan.rules.push_back({name, deny, {}, std::move(denial.group), std::move(denial.why)});
  }
  std::stable_sort(plan.rules.begin(), plan.rules.end(),
                   [](const SeccompRule& a, const SeccompRule& b) {
                     if (a.syscall != b.syscall) return a.syscall < b.syscall;
                     return ConditionsLess(a.conditions, b.conditions);
                   });

  std::set<std::string> logged;
  for (const std::string& entry : spec.log) {
    for (std::string& name : NamesOf(entry)) logged.insert(std::move(name));
  }
  plan.logged.assign(logged.begin(), logged.end());

  plan.foreign_abi_action = Errno(ENOSYS);
  return plan;
}

SeccompPlan ObserveSeccompPlan(SeccompPlan plan, bool observe_files, bool observe_connects) {
  std::set<std::string> with_rules;
  for (SeccompRule& rule : plan.rules) {
    with_rules.insert(rule.syscall);
    // Same errno, but answered by the supervisor after it has recorded the denial.
    if (rule.recorded && rule.action.kind == SeccompActionKind::kErrno)
      rule.action.kind = SeccompActionKind::kNotify;
  }
  // Calls through another ABI (i386 int 0x80, x32) are attempts to get around the filter: worth a
  // record as much as any denial.
  if (plan.foreign_abi_action.kind == SeccompActionKind::kErrno)
    plan.foreign_abi_action.kind = SeccompActionKind::kNotify;
  for (const char* exec : {"execve", "execveat"}) {
    if (with_rules.contains(exec)) continue;  // denied: already notified
    plan.rules.push_back({exec,
                          {SeccompActionKind::kNotify, 0},
                          {},
                          {},
                          "every program started in the sandbox is recorded"});
  }
  if (observe_connects) {
    if (!with_rules.contains("connect")) {
      plan.rules.push_back({"connect",
                            {SeccompActionKind::kNotify, 0},
                            {},
                            {},
                            "network host: every connection is recorded"});
    }
    // TCP Fast Open connects from a send with MSG_FASTOPEN and an address, without connect().
    constexpr std::uint64_t kMsgFastOpen = 0x20000000;
    for (auto [name, flags_arg] :
         {std::pair{"sendto", 3u}, std::pair{"sendmsg", 2u}, std::pair{"sendmmsg", 3u}}) {
      if (with_rules.contains(name)) continue;
      plan.rules.push_back({name,
                            {SeccompActionKind::kNotify, 0},
                            {Low32(flags_arg, ArgCompare::kMaskedEq, kMsgFastOpen, kMsgFastOpen)},
                            {},
                            "network host: a TCP Fast Open connection is recorded"});
    }
  }
  if (observe_files) {
    for (std::string_view name : kObservedFileSyscalls) {
      if (with_rules.contains(std::string(name))) continue;  // a denial of its own already
      plan.rules.push_back({std::string(name),
                            {SeccompActionKind::kNotify, 0},
                            {},
                            {},
                            "audit level files: every file access is recorded"});
    }
  }
  std::stable_sort(plan.rules.begin(), plan.rules.end(),
                   [](const SeccompRule& a, const SeccompRule& b) {
                     if (a.syscall != b.syscall) return a.syscall < b.syscall;
                     return ConditionsLess(a.conditions, b.conditions);
                   });
  return plan;
}

namespace {

bool ConditionHolds(const ArgCondition& condition, const std::uint64_t (&args)[6]) {
  std::uint64_t arg = args[condition.index % 6];
  std::uint64_t value = condition.value;
  if (condition.low32) arg &= 0xffffffffu;
  switch (condition.op) {
    case ArgCompare::kEq:
      return arg == value;
    case ArgCompare::kNe:
      return arg != value;
    case ArgCompare::kLt:
      return arg < value;
    case ArgCompare::kLe:
      return arg <= value;
    case ArgCompare::kGt:
      return arg > value;
    case ArgCompare::kGe:
      return arg >= value;
    case ArgCompare::kMaskedEq:
      return (arg & condition.mask) == value;
  }
  return false;
}

}  // namespace

const SeccompRule* MatchSeccompRule(const SeccompPlan& plan, std::string_view syscall,
                                    const std::uint64_t (&args)[6]) {
  for (const SeccompRule& rule : plan.rules) {
    if (rule.syscall != syscall) continue;
    if (std::all_of(rule.conditions.begin(), rule.conditions.end(),
                    [&](const ArgCondition& c) { return ConditionHolds(c, args); }))
      return &rule;
  }
  return nullptr;
}

}  // namespace tollgate::policy
