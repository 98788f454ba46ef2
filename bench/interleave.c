// Interleaved wall-clock runs: one run of each command in turn, so that a change of machine load
// during the measurement hits every command alike (hyperfine runs one command after the other).
//
//   bench_interleave [--gap MS] ROUNDS :: CMD1 ARG… :: CMD2 ARG… [:: …]
//
// --gap pauses MS milliseconds before each run, so that work a command leaves running in the
// background (a `tollgate serve` preparing the next sandbox) is not measured as part of the
// next command's time.
// Prints the median, quartiles and the ratio of each median to the first command's. Commands are
// run with execv (give full paths), stdout and stderr to /dev/null, after 10 warm-up rounds.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { kMaxCommands = 16, kWarmupRounds = 10 };

static double Now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int Compare(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return (x > y) - (x < y);
}

// Runs `argv` once; returns its wall time, or -1 when it did not exit 0.
static double RunOnce(char** argv, int devnull) {
  double start = Now();
  pid_t pid = fork();
  if (pid == 0) {
    dup2(devnull, 1);
    dup2(devnull, 2);
    execv(argv[0], argv);
    _exit(127);
  }
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) < 0) return -1;
  double elapsed = Now() - start;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? elapsed : -1;
}

static void Pause(int ms) {
  if (ms <= 0) return;
  struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&t, NULL);
}

int main(int argc, char** argv) {
  int gap_ms = 0;
  if (argc > 2 && strcmp(argv[1], "--gap") == 0) {
    gap_ms = atoi(argv[2]);
    argv[2] = argv[0];
    argv += 2;
    argc -= 2;
  }
  if (argc < 4 || strcmp(argv[2], "::") != 0) {
    fprintf(stderr, "usage: %s [--gap MS] ROUNDS :: CMD ARG... [:: CMD ARG...]\n", argv[0]);
    return 2;
  }
  int rounds = atoi(argv[1]);
  char** commands[kMaxCommands];
  int count = 0;
  for (int i = 2; i < argc; ++i) {
    if (strcmp(argv[i], "::") != 0) continue;
    argv[i] = NULL;  // ends the previous command's argv
    if (count == kMaxCommands || i + 1 >= argc) return 2;
    commands[count++] = &argv[i + 1];
  }
  if (rounds < 1) return 2;
  int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
  double* times = calloc((size_t)rounds * (size_t)count, sizeof(double));
  if (devnull < 0 || times == NULL) return 1;
  for (int r = 0; r < kWarmupRounds; ++r) {
    for (int c = 0; c < count; ++c) {
      Pause(gap_ms);
      RunOnce(commands[c], devnull);
    }
  }
  for (int r = 0; r < rounds; ++r) {
    for (int c = 0; c < count; ++c) {
      Pause(gap_ms);
      double t = RunOnce(commands[c], devnull);
      if (t < 0) {
        fprintf(stderr, "%s failed\n", commands[c][0]);
        return 1;
      }
      times[c * rounds + r] = t;
    }
  }
  double first = 0;
  for (int c = 0; c < count; ++c) {
    double* t = times + c * rounds;
    qsort(t, (size_t)rounds, sizeof(double), Compare);
    double median = t[rounds / 2];
    if (c == 0) first = median;
    printf("%-40s median %.3f ms  p25 %.3f  p75 %.3f  ratio %.3f\n", commands[c][0], median * 1e3,
           t[rounds / 4] * 1e3, t[3 * rounds / 4] * 1e3, median / first);
  }
  return 0;
}
