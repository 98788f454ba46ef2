// Passing file descriptors over a unix socket (SCM_RIGHTS): the seccomp listener goes from the
// sandboxed command to the supervisor this way. And whole messages over a socket or pipe.
#pragma once

#include <sys/un.h>

#include <cstddef>
#include <string>

#include "supervisor/kernel/status.h"

namespace tollgate::kernel {

// Writes all `size` bytes (send, MSG_NOSIGNAL: a closed peer is an error, not a SIGPIPE) or
// reads all of them, through EINTR and short transfers. False on an error or end of file. No
// allocation: safe between fork and execve.
bool SendAll(int socket, const void* data, std::size_t size);
bool ReceiveAll(int fd, void* data, std::size_t size);

// The address of the unix socket at `path`; false (errno ENAMETOOLONG) when it does not fit.
bool UnixSocketAddress(const std::string& path, sockaddr_un* address);

// Sends `fd` with a one-byte message. No allocation: safe between fork and execve.
Status SendFd(int socket, int fd);

// Receives one descriptor (O_CLOEXEC) into *fd; *fd is -1 and the Status ok when the peer
// closed the socket without sending one.
Status ReceiveFd(int socket, int* fd);

// Sends `size` bytes (at least 1) with `count` fds attached to their first byte. Sends the
// whole buffer or fails (EAGAIN on a full non-blocking socket).
inline constexpr int kMaxPassedFds = 8;
Status SendWithFds(int socket, const void* data, std::size_t size, const int* fds, int count);

// One recvmsg of at most `size` bytes into `data`; the fds that came with them (O_CLOEXEC) go
// to fds[0..*fd_count). *received is 0 at end of file. Fds beyond `max_fds`, or a truncated
// control message, are closed and reported as EMSGSIZE.
Status ReceiveWithFds(int socket, void* data, std::size_t size, std::size_t* received, int* fds,
                      int max_fds, int* fd_count);

}  // namespace tollgate::kernel
