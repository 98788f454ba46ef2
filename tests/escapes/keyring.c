// Class 6: the kernel keyring (keyctl, add_key, request_key), bpf, perf_event_open, userfaultfd.
//
// Each call gets an argument the kernel rejects before any privilege check: an unknown keyctl
// operation (EOPNOTSUPP), a bad pointer (EFAULT), an unknown bpf command (EINVAL), undefined
// userfaultfd flags (EINVAL). A filter answers EPERM instead.
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define BAD ((void*)1)
#define UFFD_USER_MODE_ONLY_FLAG 1

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s keyctl|add_key|request_key|bpf|perf_event_open|userfaultfd\n",
            argv[0]);
    return 2;
  }
  const char* what = argv[1];
  long ret;
  int kernel;
  if (strcmp(what, "keyctl") == 0) {
    ret = syscall(SYS_keyctl, 0x7fff, 0, 0, 0, 0);
    kernel = EOPNOTSUPP;
  } else if (strcmp(what, "add_key") == 0) {
    ret = syscall(SYS_add_key, BAD, BAD, NULL, 0, 0);
    kernel = EFAULT;
  } else if (strcmp(what, "request_key") == 0) {
    ret = syscall(SYS_request_key, BAD, BAD, NULL, 0);
    kernel = EFAULT;
  } else if (strcmp(what, "bpf") == 0) {
    ret = syscall(SYS_bpf, 0x7fff, NULL, 0);
    kernel = EINVAL;
  } else if (strcmp(what, "perf_event_open") == 0) {
    ret = syscall(SYS_perf_event_open, BAD, 0, -1, -1, 0);
    kernel = EFAULT;
  } else if (strcmp(what, "userfaultfd") == 0) {
    // UFFD_USER_MODE_ONLY passes the vm.unprivileged_userfaultfd check; bit 30 is undefined.
    ret = syscall(SYS_userfaultfd, UFFD_USER_MODE_ONLY_FLAG | (1 << 30));
    kernel = EINVAL;
  } else {
    fprintf(stderr, "unknown sub-command %s\n", what);
    return 2;
  }
  int err = errno;
  if (ret >= 0 || err == kernel) {
    printf("RESULT %s allowed errno=%s the call reached the kernel\n", what,
           ret >= 0 ? "NONE" : strerrorname_np(err));
    return 0;
  }
  printf("RESULT %s blocked errno=%s\n", what, strerrorname_np(err));
  return 1;
}
