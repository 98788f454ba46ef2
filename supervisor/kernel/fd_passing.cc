#include "supervisor/kernel/fd_passing.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace tollgate::kernel {

Status SendFd(int socket, int fd) {
  char byte = 'f';
  return SendWithFds(socket, &byte, 1, &fd, 1);
}

Status ReceiveFd(int socket, int* fd) {
  *fd = -1;
  char byte = 0;
  std::size_t received = 0;
  int count = 0;
  Status status = ReceiveWithFds(socket, &byte, 1, &received, fd, 1, &count);
  if (!status.ok || received == 0) return status;
  if (count != 1) return Status::Fail("receive fd", {}, EBADMSG);
  return Status::Ok();
}

Status SendWithFds(int socket, const void* data, std::size_t size, const int* fds, int count) {
  if (size == 0 || count < 0 || count > kMaxPassedFds)
    return Status::Fail("send with fds", {}, EINVAL);
  const char* p = static_cast<const char*>(data);
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxPassedFds)] = {};
  bool first = true;
  while (size > 0) {
    iovec iov{const_cast<char*>(p), size};
    msghdr message{};
    message.msg_iov = &iov;
    message.msg_iovlen = 1;
    if (first && count > 0) {
      message.msg_control = control;
      message.msg_controllen = CMSG_SPACE(sizeof(int) * static_cast<std::size_t>(count));
      cmsghdr* header = CMSG_FIRSTHDR(&message);
      header->cmsg_level = SOL_SOCKET;
      header->cmsg_type = SCM_RIGHTS;
      header->cmsg_len = CMSG_LEN(sizeof(int) * static_cast<std::size_t>(count));
      std::memcpy(CMSG_DATA(header), fds, sizeof(int) * static_cast<std::size_t>(count));
    }
    ssize_t n = ::sendmsg(socket, &message, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::Fail("send with fds", {}, errno);
    }
    first = false;
    p += n;
    size -= static_cast<std::size_t>(n);
  }
  return Status::Ok();
}

Status ReceiveWithFds(int socket, void* data, std::size_t size, std::size_t* received, int* fds,
                      int max_fds, int* fd_count) {
  *received = 0;
  *fd_count = 0;
  iovec iov{data, size};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxPassedFds)] = {};
  msghdr message{};
  message.msg_iov = &iov;
  message.msg_iovlen = 1;
  message.msg_control = control;
  message.msg_controllen = sizeof control;
  ssize_t n;
  do {
    n = ::recvmsg(socket, &message, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return Status::Fail("receive", {}, errno);
  *received = static_cast<std::size_t>(n);
  bool too_many = (message.msg_flags & MSG_CTRUNC) != 0;
  for (cmsghdr* header = CMSG_FIRSTHDR(&message); header != nullptr;
       header = CMSG_NXTHDR(&message, header)) {
    if (header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS) continue;
    std::size_t bytes = header->cmsg_len - CMSG_LEN(0);
    for (std::size_t i = 0; i < bytes / sizeof(int); ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(header) + i * sizeof(int), sizeof fd);
      if (*fd_count < max_fds) {
        fds[(*fd_count)++] = fd;
      } else {
        ::close(fd);
        too_many = true;
      }
    }
  }
  if (too_many) {
    for (int i = 0; i < *fd_count; ++i) ::close(fds[i]);
    *fd_count = 0;
    return Status::Fail("receive", {}, EMSGSIZE, "more descriptors than expected");
  }
  return Status::Ok();
}

bool SendAll(int socket, const void* data, std::size_t size) {
  const char* bytes = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = ::send(socket, bytes, size, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

bool ReceiveAll(int fd, void* data, std::size_t size) {
  char* bytes = static_cast<char*>(data);
  while (size > 0) {
    ssize_t n = ::read(fd, bytes, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

bool UnixSocketAddress(const std::string& path, sockaddr_un* address) {
  *address = sockaddr_un{};
  address->sun_family = AF_UNIX;
  if (path.size() >= sizeof address->sun_path) {
    errno = ENAMETOOLONG;
    return false;
  }
  std::memcpy(address->sun_path, path.c_str(), path.size() + 1);
  return true;
}

}  // namespace tollgate::kernel
