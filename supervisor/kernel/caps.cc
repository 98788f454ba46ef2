#include "supervisor/kernel/caps.h"

#include <linux/capability.h>
#include <linux/securebits.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace tollgate::kernel {

namespace {

int CapGet(__user_cap_data_struct data[2]) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  return static_cast<int>(::syscall(SYS_capget, &header, data));
}

int CapSet(const __user_cap_data_struct data[2]) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  return static_cast<int>(::syscall(SYS_capset, &header, data));
}

}  // namespace

bool HasEffectiveSysAdmin() {
  __user_cap_data_struct data[2] = {};
  if (CapGet(data) != 0) return false;
  return (data[CAP_TO_INDEX(CAP_SYS_ADMIN)].effective & CAP_TO_MASK(CAP_SYS_ADMIN)) != 0;
}

Status RaiseEffectiveToPermitted() {
  __user_cap_data_struct data[2] = {};
  if (CapGet(data) != 0) return Status::Fail("capget", {}, errno);
  data[0].effective = data[0].permitted;
  data[1].effective = data[1].permitted;
  if (CapSet(data) != 0) return Status::Fail("capset (raise effective)", {}, errno);
  return Status::Ok();
}

Status DropAllCapabilities() {
  // Securebits first, while CAP_SETPCAP is still held: a uid 0 inside can never regain
  // capabilities by exec, and nothing can raise ambient capabilities.
  const unsigned long securebits = SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
                                   SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED |
                                   SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED;
  if (::prctl(PR_SET_SECUREBITS, securebits, 0, 0, 0) != 0) {
    return Status::Fail("prctl(PR_SET_SECUREBITS)", {}, errno);
  }
  // The bounding set: drop until the kernel says the capability number does not exist.
  for (int cap = 0; cap < 64; ++cap) {
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
      if (errno == EINVAL) break;
      return Status::Fail("prctl(PR_CAPBSET_DROP)", {}, errno);
    }
  }
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) {
    return Status::Fail("prctl(PR_CAP_AMBIENT_CLEAR_ALL)", {}, errno);
  }
  __user_cap_data_struct none[2] = {};
  if (CapSet(none) != 0) return Status::Fail("capset (drop all)", {}, errno);
  return Status::Ok();
}

}  // namespace tollgate::kernel
