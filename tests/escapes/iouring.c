// Class 7: io_uring, whose operations would bypass seccomp rules on openat, connect and socket.
//
// io_uring_setup gets a bad params pointer (EFAULT from the kernel); io_uring_enter and
// io_uring_register a closed fd (EBADF). A filter answers EPERM (or ENOSYS).
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s setup|enter|register\n", argv[0]);
    return 2;
  }
  const char* what = argv[1];
  long ret;
  int kernel;
  if (strcmp(what, "setup") == 0) {
    ret = syscall(SYS_io_uring_setup, 1, (void*)1);
    kernel = EFAULT;
  } else if (strcmp(what, "enter") == 0) {
    ret = syscall(SYS_io_uring_enter, 987, 0, 0, 0, NULL, 0);
    kernel = EBADF;
  } else if (strcmp(what, "register") == 0) {
    ret = syscall(SYS_io_uring_register, 987, 0, NULL, 0);
    kernel = EBADF;
  } else {
    fprintf(stderr, "unknown sub-command %s\n", what);
    return 2;
  }
  int err = errno;
  if (ret >= 0 || err == kernel) {
    printf("RESULT io_uring_%s allowed errno=%s the call reached the kernel\n", what,
           ret >= 0 ? "NONE" : strerrorname_np(err));
    return 0;
  }
  printf("RESULT io_uring_%s blocked errno=%s\n", what, strerrorname_np(err));
  return 1;
}
