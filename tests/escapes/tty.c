// Class 1: push keystrokes into a terminal with TIOCSTI (also with junk in the high 32 bits of the
// request, CVE-2017-5226 / CVE-2019-10063) and TIOCLINUX.
//
// The ioctl is made on a pipe: the kernel answers ENOTTY once the request reaches it, while a
// seccomp rule answers EPERM before that. Nothing is ever pushed into a real terminal.
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static int Report(const char* name, long ret, int err) {
  const char* e = ret == 0 ? "NONE" : strerrorname_np(err);
  if (ret == 0 || err == ENOTTY) {
    printf("RESULT %s allowed errno=%s the ioctl reached the kernel\n", name, e);
    return 0;
  }
  printf("RESULT %s blocked errno=%s\n", name, e);
  return 1;
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s tiocsti|tiocsti-high|tioclinux|tioclinux-high\n", argv[0]);
    return 2;
  }
  int fds[2];
  if (pipe(fds) != 0) {
    printf("RESULT %s error errno=%s pipe\n", argv[1], strerrorname_np(errno));
    return 2;
  }
  char c = 'x';
  char sub = 6;  // TIOCLINUX subcode TIOCL_GETFGCONSOLE: a read, harmless anywhere
  unsigned long high = 0xdead000000000000ul;
  const char* what = argv[1];
  long ret;
  if (strcmp(what, "tiocsti") == 0) {
    ret = syscall(SYS_ioctl, fds[0], (unsigned long)TIOCSTI, &c);
  } else if (strcmp(what, "tiocsti-high") == 0) {
    ret = syscall(SYS_ioctl, fds[0], (unsigned long)TIOCSTI | high, &c);
  } else if (strcmp(what, "tioclinux") == 0) {
    ret = syscall(SYS_ioctl, fds[0], (unsigned long)TIOCLINUX, &sub);
  } else if (strcmp(what, "tioclinux-high") == 0) {
    ret = syscall(SYS_ioctl, fds[0], (unsigned long)TIOCLINUX | high, &sub);
  } else {
    fprintf(stderr, "unknown sub-command %s\n", what);
    return 2;
  }
  return Report(what, ret, errno);
}
