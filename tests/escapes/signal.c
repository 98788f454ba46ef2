// Class 20 (kill parts): see and signal the supervisor; kill(-1, SIGKILL).
//
//   pid N      kill(N, 0): is process N (the driver passes the supervisor's host pid, or its own
//              pid when run outside the sandbox) visible and signalable?
//   kill-all   kill(-1, SIGKILL). Refuses to run outside a pid namespace (exit 2): it would kill
//              every process of the user. The driver checks that the supervisor survives it.
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

// True when this process is in the host's initial pid namespace, whose inode number is fixed
// (PROC_PID_INIT_INO); kill(-1) there would reach every process of the user.
static int InInitialPidNamespace(void) {
  struct stat st;
  if (stat("/proc/self/ns/pid", &st) != 0) return 1;  // cannot tell: assume the worst
  return st.st_ino == 0xEFFFFFFCu;
}

int main(int argc, char** argv) {
  if (argc >= 3 && strcmp(argv[1], "pid") == 0) {
    pid_t pid = (pid_t)atol(argv[2]);
    if (pid <= 1) return 2;
    if (kill(pid, 0) == 0) {
      printf("RESULT signal-pid allowed errno=NONE pid %d is visible and signalable\n", (int)pid);
      return 0;
    }
    printf("RESULT signal-pid blocked errno=%s pid %d\n", strerrorname_np(errno), (int)pid);
    return 1;
  }
  if (argc == 2 && strcmp(argv[1], "kill-all") == 0) {
    if (InInitialPidNamespace()) {
      printf("RESULT kill-all error errno=NONE refusing: not inside a pid namespace\n");
      return 2;
    }
    int ret = kill(-1, SIGKILL);
    printf("RESULT kill-all blocked errno=%s kill(-1) returned %d; the probe lived on\n",
           ret == 0 ? "NONE" : strerrorname_np(errno), ret);
    return 1;
  }
  fprintf(stderr, "usage: %s pid N | kill-all\n", argv[0]);
  return 2;
}
