// Class 16: overwrite the supervisor or a system binary (CVE-2019-5736): open /proc/self/exe,
// /proc/<parent>/exe or a given binary for writing, and create something under /usr.
//
// Nothing is ever written: a write-open without O_TRUNC is the whole attempt, and the directory
// made under /usr is removed at once. ETXTBSY (the binary is running) is counted as allowed: it
// means only the busy-text check stood between the probe and the file, and the runc exploit waits
// that out; the sandbox must refuse earlier (EROFS from a read-only mount, EACCES from Landlock).
//
//   open-write PATH | self-exe | parent-exe | usr-mkdir
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int OpenWrite(const char* name, const char* path) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd >= 0) {
    close(fd);
    printf("RESULT %s allowed errno=NONE opened %s for writing\n", name, path);
    return 0;
  }
  int err = errno;
  if (err == ETXTBSY) {
    printf("RESULT %s allowed errno=ETXTBSY %s is writable but running\n", name, path);
    return 0;
  }
  printf("RESULT %s blocked errno=%s %s\n", name, strerrorname_np(err), path);
  return 1;
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s open-write PATH | self-exe | parent-exe | usr-mkdir\n", argv[0]);
    return 2;
  }
  const char* what = argv[1];
  if (strcmp(what, "open-write") == 0 && argc == 3) return OpenWrite(what, argv[2]);
  if (strcmp(what, "self-exe") == 0) return OpenWrite(what, "/proc/self/exe");
  if (strcmp(what, "parent-exe") == 0) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/exe", (int)getppid());
    return OpenWrite(what, path);
  }
  if (strcmp(what, "usr-mkdir") == 0) {
    char path[64];
    snprintf(path, sizeof path, "/usr/.tollgate-probe-%d", (int)getpid());
    if (mkdir(path, 0700) == 0) {
      rmdir(path);
      printf("RESULT %s allowed errno=NONE created (and removed) %s\n", what, path);
      return 0;
    }
    printf("RESULT %s blocked errno=%s %s\n", what, strerrorname_np(errno), path);
    return 1;
  }
  fprintf(stderr, "unknown sub-command %s\n", what);
  return 2;
}
