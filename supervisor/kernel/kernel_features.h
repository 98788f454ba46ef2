// What the running kernel offers a sandbox, as facts: used by `tollgate explain` and to turn a
// failed clone3 into a message that says what to change. Probing reads a few /proc/sys files, so
// it is done on failure or on request, not on every launch.
#pragma once

#include <optional>
#include <string>

namespace tollgate::kernel {

struct KernelFeatures {
  std::string kernel_release;                                 // uname -r
  std::optional<long> max_user_namespaces;                    // user.max_user_namespaces
  std::optional<long> unprivileged_userns_clone;              // Debian/Ubuntu sysctl, if present
  std::optional<long> apparmor_restrict_unprivileged_userns;  // Ubuntu 24.04+, if present
  bool running_as_root = false;
  int landlock_abi = 0;                    // 0: none
  bool seccomp_user_notification = false;  // SECCOMP_GET_NOTIF_SIZES answers
};

KernelFeatures ProbeKernelFeatures();

// Why creating the sandbox's namespaces failed with `error`, and what to do about it, given the
// facts. Always returns a sentence; names the sysctl to change when one is the cause.
std::string ExplainNamespaceFailure(int error, const KernelFeatures& features);

}  // namespace tollgate::kernel
