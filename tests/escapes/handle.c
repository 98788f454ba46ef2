// Class 2: open_by_handle_at / name_to_handle_at (the "shocker" breakout).
//
// open_by_handle_at gets a closed mount fd: the kernel answers EBADF before any capability check,
// a filter answers EPERM. name_to_handle_at is made for real on "/" (harmless on its own).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int Report(const char* name, long ret, int err, int kernel1, int kernel2) {
  const char* e = ret >= 0 ? "NONE" : strerrorname_np(err);
  if (ret >= 0 || err == kernel1 || err == kernel2) {
    printf("RESULT %s allowed errno=%s the call reached the kernel\n", name, e);
    return 0;
  }
  printf("RESULT %s blocked errno=%s\n", name, e);
  return 1;
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s open_by_handle_at|name_to_handle_at\n", argv[0]);
    return 2;
  }
  struct file_handle* fh = calloc(1, sizeof(*fh) + MAX_HANDLE_SZ);
  if (fh == NULL) return 2;
  fh->handle_bytes = MAX_HANDLE_SZ;
  int mount_id = 0;
  if (strcmp(argv[1], "open_by_handle_at") == 0) {
    long ret = syscall(SYS_open_by_handle_at, 987, fh, O_RDONLY);
    return Report(argv[1], ret, errno, EBADF, EBADF);
  }
  if (strcmp(argv[1], "name_to_handle_at") == 0) {
    long ret = syscall(SYS_name_to_handle_at, AT_FDCWD, "/", fh, &mount_id, 0);
    return Report(argv[1], ret, errno, EOVERFLOW, EOPNOTSUPP);
  }
  fprintf(stderr, "unknown sub-command %s\n", argv[1]);
  return 2;
}
