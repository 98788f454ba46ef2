// Landlock definitions newer than the system headers (Debian 12 ships ABI 1-2 in
// <linux/landlock.h>; the kernel we run on offers ABI 7), plus raw syscall wrappers because
// glibc has none. Values are the kernel's UAPI; every one is guarded so newer headers win.
#pragma once

#include <linux/landlock.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>

// ABI 1-2 (normally present; guarded in case the header is older still).
#ifndef LANDLOCK_CREATE_RULESET_VERSION
#define LANDLOCK_CREATE_RULESET_VERSION (1U << 0)
#endif
#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13)
#endif
// ABI 3
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
// ABI 4: TCP rules (struct landlock_net_port_attr, rule type 2).
#ifndef LANDLOCK_ACCESS_NET_BIND_TCP
#define LANDLOCK_ACCESS_NET_BIND_TCP (1ULL << 0)
#endif
#ifndef LANDLOCK_ACCESS_NET_CONNECT_TCP
#define LANDLOCK_ACCESS_NET_CONNECT_TCP (1ULL << 1)
#endif
// ABI 5
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif
// ABI 6: scopes.
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#endif
#ifndef LANDLOCK_SCOPE_SIGNAL
#define LANDLOCK_SCOPE_SIGNAL (1ULL << 1)
#endif
// ABI 7: logging flags for landlock_restrict_self (not used yet; named so `explain` can say so).
#ifndef LANDLOCK_RESTRICT_SELF_LOG_SAME_EXEC_OFF
#define LANDLOCK_RESTRICT_SELF_LOG_SAME_EXEC_OFF (1U << 0)
#endif

namespace tollgate::kernel::landlock_abi {

// struct landlock_ruleset_attr as of ABI 6. The kernel accepts a shorter size from older
// callers, so we pass the size matching the ABI we found (see RulesetAttrSize).
struct RulesetAttr {
  std::uint64_t handled_access_fs = 0;
  std::uint64_t handled_access_net = 0;  // ABI 4
  std::uint64_t scoped = 0;              // ABI 6
};

inline std::size_t RulesetAttrSize(int abi) {
  if (abi >= 6) return sizeof(RulesetAttr);
  if (abi >= 4) return 2 * sizeof(std::uint64_t);
  return sizeof(std::uint64_t);
}

// struct landlock_path_beneath_attr is packed in the UAPI.
struct __attribute__((packed)) PathBeneathAttr {
  std::uint64_t allowed_access;
  std::int32_t parent_fd;
};

constexpr int kRulePathBeneath = 1;  // LANDLOCK_RULE_PATH_BENEATH

inline int CreateRuleset(const RulesetAttr* attr, std::size_t size, std::uint32_t flags) {
  return static_cast<int>(::syscall(SYS_landlock_create_ruleset, attr, size, flags));
}
inline int AddRule(int ruleset_fd, int rule_type, const void* rule_attr, std::uint32_t flags) {
  return static_cast<int>(
      ::syscall(SYS_landlock_add_rule, ruleset_fd, rule_type, rule_attr, flags));
}
inline int RestrictSelf(int ruleset_fd, std::uint32_t flags) {
  return static_cast<int>(::syscall(SYS_landlock_restrict_self, ruleset_fd, flags));
}

}  // namespace tollgate::kernel::landlock_abi
