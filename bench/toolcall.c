// The cost of a mediated tool call, measured inside one sandbox (docs/BENCHMARKS.md §6).
//
//   bench_toolcall serial N MEDIATED DIRECT [ARG...]
//       Runs `MEDIATED ARG...` and `DIRECT ARG...` N times each, interleaved (so drift of the
//       machine hits both alike), and prints the median, p90 and p99 of each and the median added
//       by mediation. MEDIATED is a path the shim covers; DIRECT is the same program at a path
//       the profile does not mediate.
//   bench_toolcall concurrent N PROGRAM [ARG...]
//       Starts N calls at once and prints the wall time of the whole burst, the calls per second
//       and the slowest call.
// Output of the programs goes to /dev/null; a call that does not exit 0 is counted as failed.
#define _GNU_SOURCE
#include <fcntl.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char** environ;

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static pid_t start(char** argv) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid;
  int rc = posix_spawn(&pid, argv[0], &actions, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  return rc == 0 ? pid : -1;
}

static int64_t run_once(char** argv, int* failed) {
  int64_t t0 = now_ns();
  pid_t pid = start(argv);
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
    ++*failed;
  return now_ns() - t0;
}

static int compare(const void* a, const void* b) {
  int64_t x = *(const int64_t*)a, y = *(const int64_t*)b;
  return (x > y) - (x < y);
}

static int64_t pct(int64_t* sorted, int n, int p) {
  int i = (int)((int64_t)(n - 1) * p / 100);
  return sorted[i];
}

int main(int argc, char** argv) {
  if (argc >= 5 && strcmp(argv[1], "serial") == 0) {
    int n = atoi(argv[2]);
    int extra = argc - 5;
    char** mediated = calloc((size_t)extra + 2, sizeof(char*));
    char** direct = calloc((size_t)extra + 2, sizeof(char*));
    mediated[0] = argv[3];
    direct[0] = argv[4];
    for (int i = 0; i < extra; ++i) mediated[i + 1] = direct[i + 1] = argv[5 + i];
    int64_t* m = calloc((size_t)n, sizeof(int64_t));
    int64_t* d = calloc((size_t)n, sizeof(int64_t));
    int failed_m = 0, failed_d = 0;
    for (int i = 0; i < 20; ++i) {  // warm the page cache and the supervisor
      run_once(mediated, &failed_m);
      run_once(direct, &failed_d);
    }
    failed_m = failed_d = 0;
    for (int i = 0; i < n; ++i) {
      m[i] = run_once(mediated, &failed_m);
      d[i] = run_once(direct, &failed_d);
    }
    qsort(m, (size_t)n, sizeof(int64_t), compare);
    qsort(d, (size_t)n, sizeof(int64_t), compare);
    printf("calls: %d each, interleaved; failed: mediated %d, direct %d\n", n, failed_m, failed_d);
    printf("mediated  median %.3f ms  p90 %.3f ms  p99 %.3f ms\n", pct(m, n, 50) / 1e6,
           pct(m, n, 90) / 1e6, pct(m, n, 99) / 1e6);
    printf("direct    median %.3f ms  p90 %.3f ms  p99 %.3f ms\n", pct(d, n, 50) / 1e6,
           pct(d, n, 90) / 1e6, pct(d, n, 99) / 1e6);
    printf("added by mediation: median %.3f ms (ratio %.2f)\n",
           (pct(m, n, 50) - pct(d, n, 50)) / 1e6, (double)pct(m, n, 50) / (double)pct(d, n, 50));
    return failed_m + failed_d == 0 ? 0 : 1;
  }
  if (argc >= 4 && strcmp(argv[1], "concurrent") == 0) {
    int n = atoi(argv[2]);
    int pipes[2];
    if (pipe(pipes) != 0) return 1;
    int64_t t0 = now_ns();
    for (int i = 0; i < n; ++i) {
      pid_t pid = fork();
      if (pid == 0) {
        close(pipes[0]);
        int failed = 0;
        int64_t took = run_once(argv + 3, &failed);
        int64_t report[2] = {took, failed};
        if (write(pipes[1], report, sizeof report) != sizeof report) _exit(1);
        _exit(0);
      }
    }
    close(pipes[1]);
    int64_t slowest = 0;
    int failed = 0, answered = 0;
    int64_t report[2];
    while (read(pipes[0], report, sizeof report) == sizeof report) {
      ++answered;
      if (report[0] > slowest) slowest = report[0];
      failed += (int)report[1];
    }
    while (wait(NULL) > 0) {
    }
    int64_t wall = now_ns() - t0;
    printf("concurrent calls: %d, answered %d, failed %d\n", n, answered, failed);
    printf("burst wall time %.1f ms, %.0f calls/s, slowest call %.1f ms\n", wall / 1e6,
           n / (wall / 1e9), slowest / 1e6);
    return failed == 0 && answered == n ? 0 : 1;
  }
  fprintf(stderr,
          "usage: %s serial N MEDIATED DIRECT [ARG...]\n"
          "       %s concurrent N PROGRAM [ARG...]\n",
          argv[0], argv[0]);
  return 2;
}
