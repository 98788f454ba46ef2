// Classes 13 and 15: write a protected path inside a writable workspace (git hooks and config,
// agent settings, direnv), whether or not it exists at launch, and by the detours: create the
// missing parent directories, rename the protected directory away and recreate it, rename a file
// over the protected one. The attempt counts as allowed only when the payload was written.
//
//   write PATH                 open(O_WRONLY|O_CREAT|O_APPEND) and write the payload
//   mkdirs-write PATH          mkdir -p the parents of PATH, then write PATH
//   rename-recreate DIR FILE   rename DIR to DIR.moved, mkdir DIR (and FILE's parents), write
//   DIR/FILE rename-over PATH TMP       write TMP, then rename(TMP, PATH)
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char kPayload[] = "#!/bin/sh\n# TOLLGATE-PWNED\n";

static int WritePayload(const char* path) {
  int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0755);
  if (fd < 0) return errno;
  ssize_t n = write(fd, kPayload, sizeof kPayload - 1);
  int err = errno;
  close(fd);
  return n == (ssize_t)(sizeof kPayload - 1) ? 0 : (n < 0 ? err : EIO);
}

// mkdir -p of every parent of path; returns the first errno other than EEXIST, else 0.
static int MakeParents(const char* path) {
  char buf[4096];
  snprintf(buf, sizeof buf, "%s", path);
  int first = 0;
  for (char* p = buf + 1; *p; ++p) {
    if (*p != '/') continue;
    *p = 0;
    if (mkdir(buf, 0755) != 0 && errno != EEXIST && first == 0) first = errno;
    *p = '/';
  }
  return first;
}

static int Report(const char* name, int err, const char* step, const char* path) {
  if (err == 0) {
    printf("RESULT %s allowed errno=NONE wrote %s\n", name, path);
    return 0;
  }
  printf("RESULT %s blocked errno=%s at %s %s\n", name, strerrorname_np(err), step, path);
  return 1;
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s write|mkdirs-write|rename-recreate|rename-over PATH [ARG]\n",
            argv[0]);
    return 2;
  }
  const char* what = argv[1];
  const char* path = argv[2];
  if (strcmp(what, "write") == 0) return Report(what, WritePayload(path), "write", path);
  if (strcmp(what, "mkdirs-write") == 0) {
    int mk = MakeParents(path);
    int err = WritePayload(path);
    if (err != 0 && mk != 0) fprintf(stderr, "mkdir -p failed: %s\n", strerrorname_np(mk));
    return Report(what, err, "write", path);
  }
  if (argc < 4) return 2;
  if (strcmp(what, "rename-recreate") == 0) {
    char moved[4096];
    char target[4096];
    snprintf(moved, sizeof moved, "%s.moved", path);
    snprintf(target, sizeof target, "%s/%s", path, argv[3]);
    if (rename(path, moved) != 0) return Report(what, errno, "rename", path);
    MakeParents(target);
    return Report(what, WritePayload(target), "write", target);
  }
  if (strcmp(what, "rename-over") == 0) {
    int err = WritePayload(argv[3]);
    if (err != 0) return Report(what, err, "write", argv[3]);
    if (rename(argv[3], path) != 0) return Report(what, errno, "rename", path);
    return Report(what, 0, "rename", path);
  }
  fprintf(stderr, "unknown sub-command %s\n", what);
  return 2;
}
