// Class 11: host administration: modules, reboot, kexec, swap, the clock, iopl/ioperm, acct,
// quotactl, syslog.
//
// Every call gets arguments that make it fail harmlessly: a bad pointer, a closed fd, a bad
// reboot magic, an unknown clock, an out-of-range I/O port level. The kernel answers EFAULT,
// EBADF, EINVAL (or ENOSYS where this kernel was built without the call, ENOEXEC); a filter
// answers EPERM. Some of these calls check their
// capability before their arguments (init_module, reboot, swapon, acct, syslog ...): for an
// ordinary user outside the sandbox the kernel's answer is EPERM as well, and the driver only
// treats them as proof when it runs as root.
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define BAD ((void*)1)

struct Call {
  const char* name;
  long nr;
  long a[5];
  int kernel[3];  // errnos that mean the call reached the kernel
};

static const struct Call kCalls[] = {
    {"init_module", SYS_init_module, {0, 0, (long)"", 0, 0}, {ENOEXEC, EFAULT, ENOSYS}},
    {"finit_module", SYS_finit_module, {987, (long)"", 0, 0, 0}, {EBADF, ENOSYS, 0}},
    {"delete_module", SYS_delete_module, {(long)BAD, 0, 0, 0, 0}, {EFAULT, ENOSYS, 0}},
    {"reboot", SYS_reboot, {0, 0, 0, 0, 0}, {EINVAL, 0, 0}},
    {"kexec_load", SYS_kexec_load, {0, 0, 0, 0x7fff0000, 0}, {EINVAL, ENOSYS, 0}},
    {"kexec_file_load", SYS_kexec_file_load, {987, 987, 0, 0, 0x7fff0000}, {EINVAL, EBADF, ENOSYS}},
    {"swapon", SYS_swapon, {(long)BAD, 0, 0, 0, 0}, {EFAULT, 0, 0}},
    {"swapoff", SYS_swapoff, {(long)BAD, 0, 0, 0, 0}, {EFAULT, 0, 0}},
    {"clock_settime", SYS_clock_settime, {0x7fff, (long)BAD, 0, 0, 0}, {EINVAL, 0, 0}},
    {"settimeofday", SYS_settimeofday, {(long)BAD, 0, 0, 0, 0}, {EFAULT, 0, 0}},
    {"adjtimex", SYS_adjtimex, {(long)BAD, 0, 0, 0, 0}, {EFAULT, 0, 0}},
    {"clock_adjtime", SYS_clock_adjtime, {0x7fff, (long)BAD, 0, 0, 0}, {EINVAL, EFAULT, 0}},
#if defined(__x86_64__)
    {"iopl", SYS_iopl, {4, 0, 0, 0, 0}, {EINVAL, ENOSYS, 0}},
    {"ioperm", SYS_ioperm, {0x7fffffff, 16, 1, 0, 0}, {EINVAL, ENOSYS, 0}},
#endif
    {"acct", SYS_acct, {(long)BAD, 0, 0, 0, 0}, {EFAULT, 0, 0}},
    {"quotactl", SYS_quotactl, {(0x800005 << 8) | 0x7f, 0, 0, 0, 0}, {EINVAL, 0, 0}},
    {"syslog", SYS_syslog, {100, 0, 0, 0, 0}, {EINVAL, 0, 0}},
};

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s CALL (init_module, reboot, swapon, iopl, ...)\n", argv[0]);
    return 2;
  }
  for (size_t i = 0; i < sizeof kCalls / sizeof kCalls[0]; ++i) {
    const struct Call* c = &kCalls[i];
    if (strcmp(c->name, argv[1]) != 0) continue;
    long ret = syscall(c->nr, c->a[0], c->a[1], c->a[2], c->a[3], c->a[4]);
    int err = errno;
    int reached = ret >= 0;
    for (int k = 0; k < 3; ++k) reached |= ret < 0 && c->kernel[k] != 0 && err == c->kernel[k];
    if (reached) {
      printf("RESULT %s allowed errno=%s the call reached the kernel\n", c->name,
             ret >= 0 ? "NONE" : strerrorname_np(err));
      return 0;
    }
    printf("RESULT %s blocked errno=%s\n", c->name, strerrorname_np(err));
    return 1;
  }
  fprintf(stderr, "unknown call %s\n", argv[1]);
  return 2;
}
