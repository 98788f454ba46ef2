#include "supervisor/kernel/fd_passing.h"

#include <errno.h>
#include <sys/socket.h>

#include <cstring>

namespace tollgate::kernel {

Status SendFd(int socket, int fd) {
  char byte = 'f';
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr message{};
  message.msg_iov = &iov;
  message.msg_iovlen = 1;
  message.msg_control = control;
  message.msg_controllen = sizeof control;
  cmsghdr* header = CMSG_FIRSTHDR(&message);
  header->cmsg_level = SOL_SOCKET;
  header->cmsg_type = SCM_RIGHTS;
  header->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(header), &fd, sizeof fd);
  for (;;) {
    if (::sendmsg(socket, &message, MSG_NOSIGNAL) == 1) return Status::Ok();
    if (errno != EINTR) return Status::Fail("send fd", {}, errno);
  }
}

Status ReceiveFd(int socket, int* fd) {
  *fd = -1;
  char byte = 0;
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr message{};
  message.msg_iov = &iov;
  message.msg_iovlen = 1;
  message.msg_control = control;
  message.msg_controllen = sizeof control;
  ssize_t n;
  do {
    n = ::recvmsg(socket, &message, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return Status::Fail("receive fd", {}, errno);
  if (n == 0) return Status::Ok();
  if (message.msg_flags & MSG_CTRUNC) return Status::Fail("receive fd", {}, EMSGSIZE);
  for (cmsghdr* header = CMSG_FIRSTHDR(&message); header != nullptr;
       header = CMSG_NXTHDR(&message, header)) {
    if (header->cmsg_level == SOL_SOCKET && header->cmsg_type == SCM_RIGHTS &&
        header->cmsg_len == CMSG_LEN(sizeof(int))) {
      std::memcpy(fd, CMSG_DATA(header), sizeof *fd);
      return Status::Ok();
    }
  }
  return Status::Fail("receive fd", {}, EBADMSG);
}

}  // namespace tollgate::kernel
