// Class 3: ptrace, process_vm_readv/writev, pidfd_getfd and kcmp.
//
// Every call targets a pid or fd that does not exist: the kernel answers ESRCH or EBADF, a filter
// answers EPERM. No real process is ever attached to.
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

static int Report(const char* name, long ret, int kernel) {
  int err = errno;  // the caller passes the call itself as `ret`, so errno is read after it
  const char* e = ret >= 0 ? "NONE" : strerrorname_np(err);
  if (ret >= 0 || err == kernel) {
    printf("RESULT %s allowed errno=%s the call reached the kernel\n", name, e);
    return 0;
  }
  printf("RESULT %s blocked errno=%s\n", name, e);
  return 1;
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s attach|seize|vm_readv|vm_writev|pidfd_getfd|kcmp\n", argv[0]);
    return 2;
  }
  const char* what = argv[1];
  char buf[8] = {0};
  struct iovec local = {buf, sizeof buf};
  struct iovec remote = {(void*)0x10000, sizeof buf};
  if (strcmp(what, "attach") == 0) {
    return Report(what, syscall(SYS_ptrace, PTRACE_ATTACH, -1, 0, 0), ESRCH);
  }
  if (strcmp(what, "seize") == 0) {
    return Report(what, syscall(SYS_ptrace, PTRACE_SEIZE, -1, 0, 0), ESRCH);
  }
  if (strcmp(what, "vm_readv") == 0) {
    return Report(what, syscall(SYS_process_vm_readv, -1, &local, 1, &remote, 1, 0), ESRCH);
  }
  if (strcmp(what, "vm_writev") == 0) {
    return Report(what, syscall(SYS_process_vm_writev, -1, &local, 1, &remote, 1, 0), ESRCH);
  }
  if (strcmp(what, "pidfd_getfd") == 0) {
    return Report(what, syscall(SYS_pidfd_getfd, 987, 0, 0), EBADF);
  }
  if (strcmp(what, "kcmp") == 0) {
    return Report(what, syscall(SYS_kcmp, -1, -1, 0, 0, 0), ESRCH);
  }
  fprintf(stderr, "unknown sub-command %s\n", what);
  return 2;
}
