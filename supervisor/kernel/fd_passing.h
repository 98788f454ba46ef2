// Passing one file descriptor over a unix socket (SCM_RIGHTS): the seccomp listener goes from
// the sandboxed command to the supervisor this way.
#pragma once

#include "supervisor/kernel/status.h"

namespace tollgate::kernel {

// Sends `fd` with a one-byte message. No allocation: safe between fork and execve.
Status SendFd(int socket, int fd);

// Receives one descriptor (O_CLOEXEC) into *fd; *fd is -1 and the Status ok when the peer
// closed the socket without sending one.
Status ReceiveFd(int socket, int* fd);

}  // namespace tollgate::kernel
