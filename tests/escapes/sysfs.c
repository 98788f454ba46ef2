// Class 17: write /proc/sys, core_pattern, /proc/sysrq-trigger and /sys.
//
// The attempt is a write-open without O_TRUNC; nothing is ever written. The detail says whether
// the file system is mounted read-only where the probe runs.
//
//   core-pattern | sysrq-trigger | proc-sys | sys | open-write PATH
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s core-pattern|sysrq-trigger|proc-sys|sys|open-write PATH\n", argv[0]);
    return 2;
  }
  const char* what = argv[1];
  const char* path;
  if (strcmp(what, "core-pattern") == 0) {
    path = "/proc/sys/kernel/core_pattern";
  } else if (strcmp(what, "sysrq-trigger") == 0) {
    path = "/proc/sysrq-trigger";
  } else if (strcmp(what, "proc-sys") == 0) {
    path = "/proc/sys/vm/drop_caches";
  } else if (strcmp(what, "sys") == 0) {
    path = "/sys/kernel/mm/transparent_hugepage/enabled";
  } else if (strcmp(what, "open-write") == 0 && argc == 3) {
    path = argv[2];
  } else {
    fprintf(stderr, "unknown sub-command %s\n", what);
    return 2;
  }
  struct statvfs st;
  const char* ro = statvfs(path, &st) != 0 ? "unknown" : (st.f_flag & ST_RDONLY) ? "yes" : "no";
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd >= 0) {
    close(fd);
    printf("RESULT %s allowed errno=NONE opened %s for writing read-only-mount=%s\n", what, path,
           ro);
    return 0;
  }
  printf("RESULT %s blocked errno=%s %s read-only-mount=%s\n", what, strerrorname_np(errno), path,
         ro);
  return 1;
}
