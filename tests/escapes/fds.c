// Class 14: use a file descriptor leaked from the supervisor (CVE-2024-21626): any fd >= 3 in
// /proc/self/fd, and openat(fd, "..") from it. The driver leaks a directory fd of the host into
// both runs; outside the sandbox the probe finds it, inside the supervisor must have closed it.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(void) {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == NULL) {
    printf("RESULT leaked-fd error errno=%s opendir /proc/self/fd\n", strerrorname_np(errno));
    return 2;
  }
  char detail[8192] = "";
  size_t used = 0;
  int found = 0;
  struct dirent* entry;
  while ((entry = readdir(dir)) != NULL) {
    if (entry->d_name[0] == '.') continue;
    int fd = atoi(entry->d_name);
    if (fd < 3 || fd == dirfd(dir)) continue;
    found++;
    char link[64];
    char target[1024] = "?";
    char up[1024] = "-";
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, target, sizeof target - 1);
    if (n >= 0) target[n] = 0;
    int parent = openat(fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (parent >= 0) {
      snprintf(link, sizeof link, "/proc/self/fd/%d", parent);
      n = readlink(link, up, sizeof up - 1);
      if (n >= 0) up[n] = 0;
      close(parent);
    } else {
      snprintf(up, sizeof up, "%s", strerrorname_np(errno));
    }
    if (used < sizeof detail) {
      used += snprintf(detail + used, sizeof detail - used, " fd%d=%s(..=%s)", fd, target, up);
    }
  }
  closedir(dir);
  if (found > 0) {
    printf("RESULT leaked-fd allowed errno=NONE%s\n", detail);
    return 0;
  }
  printf("RESULT leaked-fd blocked errno=NONE no fd above 2\n");
  return 1;
}
