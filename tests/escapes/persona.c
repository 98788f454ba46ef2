// Class 9: personality() flags such as READ_IMPLIES_EXEC (also with junk in the high 32 bits, which
// the kernel drops: personality takes an unsigned int), and installing a seccomp filter with its
// own user-notification listener.
//
// personality is made for real and checked by reading the persona back. The seccomp call gets a
// bad program pointer: the kernel answers EFAULT, a filter EPERM.
#define _GNU_SOURCE
#include <errno.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/syscall.h>
#include <unistd.h>

static int Persona(const char* name, unsigned long request, unsigned long flag) {
  long ret = syscall(SYS_personality, request);
  int err = errno;
  long now = syscall(SYS_personality, 0xffffffffUL);
  if (ret >= 0 && now >= 0 && (now & flag)) {
    printf("RESULT %s allowed errno=NONE persona now 0x%lx\n", name, now);
    return 0;
  }
  printf("RESULT %s blocked errno=%s persona 0x%lx\n", name,
         ret < 0 ? strerrorname_np(err) : "NONE", now);
  return 1;
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s read-implies-exec|read-implies-exec-high|seccomp-listener\n",
            argv[0]);
    return 2;
  }
  const char* what = argv[1];
  if (strcmp(what, "read-implies-exec") == 0) {
    return Persona(what, READ_IMPLIES_EXEC, READ_IMPLIES_EXEC);
  }
  if (strcmp(what, "read-implies-exec-high") == 0) {
    return Persona(what, READ_IMPLIES_EXEC | 0xdead00000000UL, READ_IMPLIES_EXEC);
  }
  if (strcmp(what, "seccomp-listener") == 0) {
    long ret =
        syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, (void*)1);
    int err = errno;
    if (ret >= 0 || err == EFAULT) {
      printf("RESULT %s allowed errno=%s the call reached the kernel\n", what,
             ret >= 0 ? "NONE" : strerrorname_np(err));
      return 0;
    }
    printf("RESULT %s blocked errno=%s\n", what, strerrorname_np(err));
    return 1;
  }
  fprintf(stderr, "unknown sub-command %s\n", what);
  return 2;
}
