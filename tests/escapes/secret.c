// Class 12: read a hidden secret directly, through a symlink, through /proc/<pid>/root, or through
// a hard link. The test plants the secret (a file whose content holds MARKER); the attempt counts
// as allowed only when the marker is read back, so an empty cover file is "blocked" too.
//
//   read PATH MARKER              open and read PATH (the driver also passes symlinks it planted)
//   proc-root PATH MARKER         /proc/self/root/PATH, then /proc/<parent>/root/PATH
//   hardlink PATH NEWPATH MARKER  link(PATH, NEWPATH), then read NEWPATH
//   symlink PATH NEWPATH MARKER   symlink(PATH, NEWPATH), then read NEWPATH
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

// 0: marker read; else the errno (or -1: read but no marker).
static int ReadMarker(const char* path, const char* marker) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  char buf[4096];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  int err = errno;
  close(fd);
  if (n < 0) return err;
  buf[n] = 0;
  return strstr(buf, marker) != NULL ? 0 : -1;
}

static int Report(const char* name, int result, const char* detail) {
  if (result == 0) {
    printf("RESULT %s allowed errno=NONE read the secret via %s\n", name, detail);
    return 0;
  }
  printf("RESULT %s blocked errno=%s %s%s\n", name, result < 0 ? "NONE" : strerrorname_np(result),
         result < 0 ? "no secret in the file read via " : "", detail);
  return 1;
}

int main(int argc, char** argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s read|proc-root|hardlink|symlink PATH [NEWPATH] MARKER\n", argv[0]);
    return 2;
  }
  const char* what = argv[1];
  const char* path = argv[2];
  if (strcmp(what, "read") == 0) return Report(what, ReadMarker(path, argv[3]), path);
  if (strcmp(what, "proc-root") == 0) {
    char via[4096];
    snprintf(via, sizeof via, "/proc/self/root%s", path);
    int first = ReadMarker(via, argv[3]);
    if (first == 0) return Report(what, 0, via);
    snprintf(via, sizeof via, "/proc/%d/root%s", (int)getppid(), path);
    return Report(what, ReadMarker(via, argv[3]), via);
  }
  if (argc < 5) return 2;
  if (strcmp(what, "hardlink") == 0 || strcmp(what, "symlink") == 0) {
    int ret = what[0] == 'h' ? link(path, argv[3]) : symlink(path, argv[3]);
    if (ret != 0) {
      char detail[256];
      snprintf(detail, sizeof detail, "%s() failed", what);
      return Report(what, errno, detail);
    }
    return Report(what, ReadMarker(argv[3], argv[4]), argv[3]);
  }
  fprintf(stderr, "unknown sub-command %s\n", what);
  return 2;
}
