#include "supervisor/kernel/netns.h"

#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace tollgate::kernel {

Status BringUpLoopback() {
  // An ioctl on any socket of the namespace is one round trip; netlink would be three.
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::Fail("socket for loopback", "lo", errno);
  struct ifreq request {};
  std::strncpy(request.ifr_name, "lo", IFNAMSIZ - 1);
  Status status = Status::Ok();
  if (::ioctl(fd, SIOCGIFFLAGS, &request) != 0) {
    status = Status::Fail("SIOCGIFFLAGS", "lo", errno);
  } else {
    request.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (::ioctl(fd, SIOCSIFFLAGS, &request) != 0)
      status = Status::Fail("SIOCSIFFLAGS", "lo", errno);
  }
  ::close(fd);
  return status;
}

}  // namespace tollgate::kernel
