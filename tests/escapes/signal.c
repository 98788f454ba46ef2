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
#include <unistd.h>

// The number of pid namespace levels this process lives in (the fields of NSpid).
static int PidNamespaceDepth(void) {
  FILE* f = fopen("/proc/self/status", "r");
  if (f == NULL) return 0;
  char line[512];
  int depth = 0;
  while (fgets(line, sizeof line, f) != NULL) {
    if (strncmp(line, "NSpid:", 6) != 0) continue;
    for (char* tok = strtok(line + 6, " \t\n"); tok != NULL; tok = strtok(NULL, " \t\n")) depth++;
  }
  fclose(f);
  return depth;
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
    if (PidNamespaceDepth() < 2 || getpid() > 1000) {
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
