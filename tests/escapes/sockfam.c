// Class 10: socket families that reach the host or its kernel: AF_VSOCK, AF_PACKET, AF_NETLINK.
//
// "<family>" asks for socket type 15, which the kernel rejects with EINVAL before it looks at the
// family (so the answer does not depend on loaded modules or CAP_NET_RAW); a filter on the family
// answers EPERM or EAFNOSUPPORT. "netlink-route" opens a real NETLINK_ROUTE socket.
#define _GNU_SOURCE
#include <errno.h>
#include <linux/netlink.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s vsock|packet|netlink|netlink-route\n", argv[0]);
    return 2;
  }
  const char* what = argv[1];
  int family;
  int type = 15;
  int protocol = 0;
  int kernel = EINVAL;
  if (strcmp(what, "vsock") == 0) {
    family = AF_VSOCK;
  } else if (strcmp(what, "packet") == 0) {
    family = AF_PACKET;
  } else if (strcmp(what, "netlink") == 0) {
    family = AF_NETLINK;
  } else if (strcmp(what, "netlink-route") == 0) {
    family = AF_NETLINK;
    type = SOCK_RAW;
    protocol = NETLINK_ROUTE;
    kernel = 0;
  } else {
    fprintf(stderr, "unknown sub-command %s\n", what);
    return 2;
  }
  int fd = socket(family, type, protocol);
  int err = errno;
  if (fd >= 0 || (kernel != 0 && err == kernel)) {
    printf("RESULT %s allowed errno=%s the call reached the kernel\n", what,
           fd >= 0 ? "NONE" : strerrorname_np(err));
    return 0;
  }
  printf("RESULT %s blocked errno=%s\n", what, strerrorname_np(err));
  return 1;
}
