#include "supervisor/kernel/kernel_features.h"

#include <fcntl.h>
#include <linux/seccomp.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "supervisor/kernel/landlock.h"

namespace tollgate::kernel {

namespace {

std::optional<long> ReadSysctl(const char* path) {
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  char buf[32] = {};
  ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return std::nullopt;
  return std::strtol(buf, nullptr, 10);
}

}  // namespace

KernelFeatures ProbeKernelFeatures() {
  KernelFeatures features;
  struct utsname name {};
  if (::uname(&name) == 0) features.kernel_release = name.release;
  features.max_user_namespaces = ReadSysctl("/proc/sys/user/max_user_namespaces");
  features.unprivileged_userns_clone = ReadSysctl("/proc/sys/kernel/unprivileged_userns_clone");
  features.apparmor_restrict_unprivileged_userns =
      ReadSysctl("/proc/sys/kernel/apparmor_restrict_unprivileged_userns");
  features.running_as_root = ::geteuid() == 0;
  features.landlock_abi = LandlockAbiVersion();
  struct seccomp_notif_sizes sizes {};
  features.seccomp_user_notification =
      ::syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) == 0;
  return features;
}

std::string ExplainNamespaceFailure(int error, const KernelFeatures& f) {
  std::string what =
      std::string("creating the sandbox namespaces failed (") + std::strerror(error) + "): ";
  if (f.max_user_namespaces && *f.max_user_namespaces == 0) {
    return what +
           "user namespaces are disabled (user.max_user_namespaces = 0); enable them with "
           "`sysctl -w user.max_user_namespaces=15000` (as root)";
  }
  if (error == ENOSPC) {
    return what + "the user namespace limit is reached (user.max_user_namespaces = " +
           std::to_string(f.max_user_namespaces.value_or(-1)) +
           "); raise it with sysctl or end other sandboxes/containers of this user";
  }
  if (!f.running_as_root && f.unprivileged_userns_clone && *f.unprivileged_userns_clone == 0) {
    return what +
           "unprivileged user namespaces are disabled (kernel.unprivileged_userns_clone = 0); "
           "enable them with `sysctl -w kernel.unprivileged_userns_clone=1` (as root)";
  }
  if (!f.running_as_root && f.apparmor_restrict_unprivileged_userns &&
      *f.apparmor_restrict_unprivileged_userns == 1) {
    return what +
           "AppArmor restricts unprivileged user namespaces "
           "(kernel.apparmor_restrict_unprivileged_userns = 1, Ubuntu 23.10+); install an "
           "AppArmor profile for tollgate that grants `userns,` (see the README), or set the "
           "sysctl to 0 (as root)";
  }
  if (error == EPERM || error == EACCES) {
    return what +
           "the kernel or a security module refused to create a user namespace; if tollgate "
           "runs inside a container, the container's seccomp profile must allow clone3 with "
           "CLONE_NEWUSER (e.g. docker --security-opt seccomp=unconfined)";
  }
  if (error == EINVAL || error == ENOSYS) {
    return what + "this kernel (" + f.kernel_release +
           ") lacks clone3 or one of the namespaces tollgate needs (Linux 5.12 or newer is "
           "required)";
  }
  return what + "unexpected error";
}

}  // namespace tollgate::kernel
