#include "supervisor/kernel/netns.h"

#include <fcntl.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>

#include "supervisor/kernel/fds.h"
#include "supervisor/kernel/launch_trace.h"

namespace tollgate::kernel {
namespace {

// What the helper sends: errno 0 with the namespace's fd attached, or the failing step.
struct NetnsReply {
  int error = 0;
  char step[64] = {};
};

// The message both sides exchange: the reply, with room for one fd in SCM_RIGHTS.
struct NetnsMessage {
  NetnsReply reply;
  struct iovec iov {};
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  struct msghdr header {};

  NetnsMessage() {
    iov = {&reply, sizeof reply};
    header.msg_iov = &iov;
    header.msg_iovlen = 1;
    header.msg_control = control;
    header.msg_controllen = sizeof control;
  }
  NetnsMessage(const NetnsMessage&) = delete;
  NetnsMessage& operator=(const NetnsMessage&) = delete;
};

[[noreturn]] void Reply(int socket, int error, const char* step, int fd) {
  NetnsMessage message;
  message.reply.error = error;
  std::snprintf(message.reply.step, sizeof message.reply.step, "%s", step);
  if (fd >= 0) {
    struct cmsghdr* header = CMSG_FIRSTHDR(&message.header);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(header), &fd, sizeof fd);
  } else {
    message.header.msg_control = nullptr;
    message.header.msg_controllen = 0;
  }
  ::sendmsg(socket, &message.header, MSG_NOSIGNAL);
  ::_exit(error == 0 ? 0 : 1);
}

}  // namespace

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

void CreateNetworkNamespaceFor(int user_ns, int socket) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  // Nothing of the supervisor's stays open here: its end of the sync socket, in particular, must
  // reach EOF in the init when the supervisor closes it.
  (void)CloseFdsExcept({user_ns, socket});
  // Start when the init says so (AllowNetworkNamespace): on two CPUs the namespace would
  // otherwise take the CPU from the init's own first steps, which the launch waits for.
  char go = 0;
  ssize_t n;
  do {
    n = ::recv(socket, &go, 1, 0);
  } while (n < 0 && errno == EINTR);
  if (n != 1) ::_exit(1);  // the init is gone
  LaunchTrace("netns helper start");
  if (user_ns < 0) Reply(socket, EBADF, "open the sandbox's user namespace", -1);
  // The supervisor's user owns that namespace, so this helper holds every capability in it.
  if (::setns(user_ns, CLONE_NEWUSER) != 0) Reply(socket, errno, "setns(user namespace)", -1);
  if (::unshare(CLONE_NEWNET) != 0) Reply(socket, errno, "unshare(CLONE_NEWNET)", -1);
  Status loopback = BringUpLoopback();
  if (!loopback.ok) Reply(socket, loopback.error, "bring loopback up", -1);
  int net_ns = ::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  if (net_ns < 0) Reply(socket, errno, "open the new network namespace", -1);
  LaunchTrace("netns helper done");
  Reply(socket, 0, "", net_ns);
}

void AllowNetworkNamespace(int socket) {
  const char go = 'g';
  // A helper that is gone is seen in JoinNetworkNamespace, which fails closed.
  (void)::send(socket, &go, 1, MSG_NOSIGNAL);
}

Status JoinNetworkNamespace(int socket) {
  NetnsMessage message;
  NetnsReply& reply = message.reply;
  ssize_t n;
  do {
    n = ::recvmsg(socket, &message.header, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n != static_cast<ssize_t>(sizeof reply))
    return Status::Fail("receive the network namespace", {}, n < 0 ? errno : EPIPE);
  reply.step[sizeof reply.step - 1] = '\0';
  if (reply.error != 0) return Status::Fail(reply.step, {}, reply.error);
  struct cmsghdr* header = CMSG_FIRSTHDR(&message.header);
  if (header == nullptr || header->cmsg_type != SCM_RIGHTS)
    return Status::Fail("receive the network namespace", {}, EPROTO);
  int fd;
  std::memcpy(&fd, CMSG_DATA(header), sizeof fd);
  int rc = ::setns(fd, CLONE_NEWNET);
  int error = errno;
  ::close(fd);
  if (rc != 0) return Status::Fail("setns(network namespace)", {}, error);
  return Status::Ok();
}

Status ListenOnLoopback(std::uint16_t port, int* fd) {
  *fd = -1;
  int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (s < 0) return Status::Fail("socket(AF_INET)", {}, errno);
  struct sockaddr_in address {};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const std::string where = "127.0.0.1:" + std::to_string(port);
  // The backlog holds clients while the proxy is at its connection limit.
  if (::bind(s, reinterpret_cast<struct sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(s, 1024) != 0) {
    int error = errno;
    ::close(s);
    return Status::Fail("listen", where, error);
  }
  *fd = s;
  return Status::Ok();
}

}  // namespace tollgate::kernel
