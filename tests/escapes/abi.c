// Class 8: other syscall ABIs from a 64-bit process: `int 0x80` (i386 numbers) and x32 numbers
// (nr | 0x40000000). A filter written for the native ABI alone would let these through.
//
// i386 getpid (20) returns the pid; i386 ptrace (26) and x32 ptrace (521) attach to pid -1 and
// get ESRCH from the kernel; i386 mount (21) gets bad pointers and EFAULT. The sandbox answers
// ENOSYS (or EPERM). A kernel without IA32/x32 support answers ENOSYS outside the sandbox too:
// the driver skips then. x86_64 only.
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
static long Int80(long nr, long a, long b, long c) {
  long ret;
  __asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
  return ret;  // -errno on failure
}

#define X32 0x40000000L

static int Report(const char* name, long ret, int kernel) {
  if (ret >= 0 || -ret == kernel) {
    printf("RESULT %s allowed errno=%s ret=%ld the call reached the kernel\n", name,
           ret >= 0 ? "NONE" : strerrorname_np((int)-ret), ret);
    return 0;
  }
  printf("RESULT %s blocked errno=%s\n", name, strerrorname_np((int)-ret));
  return 1;
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s int80-getpid|int80-ptrace|int80-mount|x32-getpid|x32-ptrace\n",
            argv[0]);
    return 2;
  }
  const char* what = argv[1];
  if (strcmp(what, "int80-getpid") == 0) return Report(what, Int80(20, 0, 0, 0), 0);
  if (strcmp(what, "int80-ptrace") == 0) return Report(what, Int80(26, 16, -1, 0), ESRCH);
  if (strcmp(what, "int80-mount") == 0) return Report(what, Int80(21, 1, 1, 1), EFAULT);
  if (strcmp(what, "x32-getpid") == 0) {
    long ret = syscall(X32 | SYS_getpid);
    return Report(what, ret < 0 ? -errno : ret, 0);
  }
  if (strcmp(what, "x32-ptrace") == 0) {
    long ret = syscall(X32 | 521, 16 /* PTRACE_ATTACH */, -1, 0, 0);
    return Report(what, ret < 0 ? -errno : ret, ESRCH);
  }
  fprintf(stderr, "unknown sub-command %s\n", what);
  return 2;
}
#else
int main(int argc, char** argv) {
  printf("RESULT %s skip errno=NONE only x86_64 has int 0x80 and x32\n",
         argc > 1 ? argv[1] : "abi");
  return 77;
}
#endif
